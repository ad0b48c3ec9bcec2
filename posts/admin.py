from django.contrib import admin

from .models import Hashtag, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "short_text", "created_at", "is_deleted", "is_hidden")
    list_filter = ("is_hidden", "is_deleted")
    list_select_related = ("author",)
    raw_id_fields = ("author", "reply_to", "repost_of")
    readonly_fields = ("id", "created_at", "replies_count", "reposts_count", "likes_count")
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, post):
        return post.text[:80]


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    list_display = ("name", "created_at")
