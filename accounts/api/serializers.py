"""Mastodon's Account entity (content/en/entities/Account.md)."""

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, linebreaks
from rest_framework import serializers

from accounts.models import User

DEFAULT_AVATAR = "/static/avatar-missing.png"


def absolute(path: str) -> str:
    return path if path.startswith("http") else settings.SITE_URL.rstrip("/") + path


class AccountSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="pk")
    acct = serializers.CharField(source="username")
    display_name = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    avatar = serializers.SerializerMethodField()
    statuses_count = serializers.IntegerField(source="posts_count")

    # Entity fields for features socialnet does not have, with the values a server
    # without them sends.
    ABSENT_FEATURES = {
        "locked": False,
        "bot": False,
        "group": False,
        "discoverable": True,
        "header": "",
        "header_static": "",
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }

    class Meta:
        model = User
        fields = [
            "id", "username", "acct", "display_name", "created_at", "note", "url", "avatar",
            "followers_count", "following_count", "statuses_count",
        ]  # fmt: skip

    def to_representation(self, user):
        data = super().to_representation(user)
        return {**data, "avatar_static": data["avatar"], **self.ABSENT_FEATURES}

    def get_display_name(self, user) -> str:
        return user.display_name or user.username

    def get_note(self, user) -> str:
        return linebreaks(escape(user.bio)) if user.bio else ""

    def get_url(self, user) -> str:
        return absolute(reverse("accounts:profile", args=[user.username]))

    def get_avatar(self, user) -> str:
        return absolute(user.avatar.url if user.avatar else DEFAULT_AVATAR)
