from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Report, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "display_name", "followers_count", "is_suspended", "last_active_at")
    list_filter = ("is_suspended", "is_staff", "is_active")
    search_fields = ("username", "email", "display_name")
    ordering = ("-id",)
    readonly_fields = ("created_at", "last_active_at", "followers_count", "following_count", "posts_count")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("email", "display_name", "bio", "avatar")}),
        ("Moderation", {"fields": ("is_suspended", "suspended_at")}),
        ("Counters", {"fields": ("followers_count", "following_count", "posts_count")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("created_at", "last_active_at", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "target", "reporter", "category", "status", "created_at")
    list_filter = ("status", "category")
    raw_id_fields = ("reporter", "target", "resolved_by", "posts")
    list_select_related = ("reporter", "target")
