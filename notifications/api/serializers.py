"""Mastodon's Notification entity (content/en/entities/Notification.md), ids as strings."""

from rest_framework import serializers

from accounts.api.serializers import AccountSerializer
from notifications.models import Notification
from notifications.selectors import group_key
from posts.api.serializers import StatusSerializer
from posts.models import Like, Post

# Our types by the name Mastodon's API gives them: a reply is reported as a mention, as
# Mastodon does (it has no separate reply type).
API_TYPES = {Notification.Type.REPLY: "mention"}


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="pk")
    type = serializers.SerializerMethodField()
    group_key = serializers.SerializerMethodField()
    account = AccountSerializer(source="actor")
    status = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "type", "created_at", "group_key", "account", "status"]

    def get_type(self, notification) -> str:
        return API_TYPES.get(notification.type, notification.type)

    def get_group_key(self, notification) -> str:
        return group_key(notification)

    def get_status(self, notification) -> dict | None:
        if notification.post is None:
            return None
        return StatusSerializer(notification.post, context=self.context).data


def with_viewer_statuses(viewer, notifications: list[Notification]) -> list[Notification]:
    """Give the notifications' posts (loaded by notifications.selectors, visibility already
    checked there) the viewer's state the Status entity shows — favourited, reblogged — as
    posts.selectors.with_viewer_state defines it: two small queries for the whole list."""
    posts = [notification.post for notification in notifications if notification.post is not None]
    if posts:
        ids = [post.pk for post in posts]
        liked = set(Like.objects.filter(user=viewer, post_id__in=ids).values_list("post_id", flat=True))
        reposts = Post.objects.filter(author=viewer, is_deleted=False, repost_of_id__in=ids)
        reposted = set(reposts.values_list("repost_of_id", flat=True))
        for post in posts:
            post.viewer_liked, post.viewer_reposted = post.pk in liked, post.pk in reposted
    return notifications
