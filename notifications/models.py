from django.conf import settings
from django.db import models

from socialnet.ids import NextId

NOTIFICATION_ID_SEQUENCE = "notifications_notification_snowflake_seq"


class Notification(models.Model):
    """Something that happened to `recipient`, stored before it is pushed anywhere.

    Ids come from the same time-sortable generator as posts (socialnet/ids.py), so one
    ordering covers notifications and timeline updates when a client resumes a stream.
    """

    class Type(models.TextChoices):
        # Mastodon's names, except `reply`, which the API reports as `mention` as Mastodon does.
        FOLLOW = "follow", "followed you"
        MENTION = "mention", "mentioned you"
        REPLY = "reply", "replied to you"
        REBLOG = "reblog", "reposted your post"
        FAVOURITE = "favourite", "liked your post"

    id = models.BigIntegerField(primary_key=True, db_default=NextId(NOTIFICATION_ID_SEQUENCE), editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=16, choices=Type.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Never twice for the same (type, actor, post): likes toggled, retries, races.
            models.UniqueConstraint(
                fields=["recipient", "type", "actor", "post"],
                name="notifications_once_per_cause",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notifications_recent"),
            models.Index(fields=["recipient", "type", "-id"], name="notifications_by_type"),
        ]

    def __str__(self):
        return f"{self.actor_id} {self.get_type_display()} ({self.recipient_id})"


class ReadMarker(models.Model):
    """How far a user has read their notifications: everything at or below `last_read_id`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self):
        return f"{self.user_id} read up to {self.last_read_id}"
