"""Mastodon's Status entity (content/en/entities/Status.md), ids as strings."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import AccountSerializer, absolute
from posts import text
from posts.models import Post


class StatusSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="pk")
    account = AccountSerializer(source="author")
    in_reply_to_id = serializers.SerializerMethodField()
    in_reply_to_account_id = serializers.SerializerMethodField()
    reblog = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField()
    uri = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    reblogs_count = serializers.IntegerField(source="reposts_count")
    favourites_count = serializers.IntegerField(source="likes_count")
    favourited = serializers.SerializerMethodField()
    reblogged = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    # Entity fields for features socialnet does not have (yet), with a plain server's values.
    ABSENT_FEATURES = {
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": None,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "media_attachments": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }

    class Meta:
        model = Post
        fields = [
            "id", "created_at", "edited_at", "in_reply_to_id", "in_reply_to_account_id", "uri", "url",
            "replies_count", "reblogs_count", "favourites_count", "favourited", "reblogged", "content",
            "reblog", "account", "mentions", "tags",
        ]  # fmt: skip

    def to_representation(self, post):
        return {**super().to_representation(post), **self.ABSENT_FEATURES}

    def get_in_reply_to_id(self, post) -> str | None:
        return str(post.reply_to_id) if post.reply_to_id else None

    def get_in_reply_to_account_id(self, post) -> str | None:
        return str(post.reply_to.author_id) if post.reply_to_id else None

    @extend_schema_field(serializers.DictField(allow_null=True))  # null unless a reblog
    def get_reblog(self, post) -> dict | None:
        if post.repost_of_id is None:
            return None
        original = post.repost_of
        # The viewer's state for the original was annotated on the repost row.
        original.viewer_liked = getattr(post, "viewer_liked_original", False)
        original.viewer_reposted = getattr(post, "viewer_reposted_original", False)
        return StatusSerializer(original, context=self.context).data

    def get_content(self, post) -> str:
        known = [user.username for user in post.mentioned_users.all()]
        return text.render_html(post.text, known_usernames=known, base_url=settings.SITE_URL.rstrip("/"))

    def get_uri(self, post) -> str:
        return absolute(reverse("posts:detail", args=[post.pk]))

    get_url = get_uri

    def get_favourited(self, post) -> bool:
        return bool(getattr(post, "viewer_liked", False))

    def get_reblogged(self, post) -> bool:
        return bool(getattr(post, "viewer_reposted", False))

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_mentions(self, post) -> list[dict]:
        return [
            {
                "id": str(user.pk),
                "username": user.username,
                "acct": user.username,
                "url": absolute(reverse("accounts:profile", args=[user.username])),
            }
            for user in post.mentioned_users.all()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_tags(self, post) -> list[dict]:
        return [
            {"name": tag.name, "url": absolute(reverse("posts:hashtag", args=[tag.name]))}
            for tag in post.hashtags.all()
        ]
