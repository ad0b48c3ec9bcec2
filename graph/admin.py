from django.contrib import admin

from .models import Follow


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("id", "follower", "followee", "created_at")
    list_select_related = ("follower", "followee")
    raw_id_fields = ("follower", "followee")
    show_full_result_count = False
