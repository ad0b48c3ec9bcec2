from django.conf import settings
from django.db import models


class Follow(models.Model):
    """`follower` follows `followee`. PostgreSQL holds the truth; Neo4j only mirrors it."""

    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_edges")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_edges")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="graph_follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")),
                name="graph_follow_not_self",
                violation_error_message="You cannot follow yourself.",
            ),
        ]
        indexes = [
            # Followers of X (fan-out walks this in keyset order), newest first for lists.
            models.Index(fields=["followee", "follower"], name="graph_follow_followee"),
            models.Index(fields=["followee", "-id"], name="graph_follow_followee_recent"),
            models.Index(fields=["follower", "-id"], name="graph_follow_follower_recent"),
        ]

    def __str__(self):
        return f"{self.follower_id} → {self.followee_id}"


class Block(models.Model):
    """`blocker` blocks `blocked`: no follows either way, no replies, mentions or views."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocking_edges")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_by_edges")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="graph_block_unique"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="graph_block_not_self"),
        ]
        # The unique constraint's index serves "whom does X block"; this one "who blocks X".
        indexes = [models.Index(fields=["blocked", "blocker"], name="graph_block_blocked")]

    def __str__(self):
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Mute(models.Model):
    """`muter` no longer sees `muted`'s posts (and, if chosen, notifications), still following."""

    muter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muting_edges")
    muted = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muted_by_edges")
    hide_notifications = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Mastodon's timed mutes; None mutes until undone. Expired rows are ignored by reads.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="graph_mute_unique"),
            models.CheckConstraint(condition=~models.Q(muter=models.F("muted")), name="graph_mute_not_self"),
        ]

    def __str__(self):
        return f"{self.muter_id} mutes {self.muted_id}"


class SuggestionDismissal(models.Model):
    """`user` asked never to be suggested `dismissed` again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dismissed"], name="graph_dismissal_unique")]

    def __str__(self):
        return f"{self.user_id} dismissed {self.dismissed_id}"


class GraphOutbox(models.Model):
    """A follow edge whose Neo4j mirror may be stale, written in the same transaction.

    The row only names the pair; the drainer (graph/mirror.py) looks up the pair's current
    state in the follow table and makes Neo4j match it, so replays, duplicates and
    out-of-order rows all converge on the truth.
    """

    follower_id = models.BigIntegerField()
    followee_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "graph outbox"

    def __str__(self):
        return f"edge {self.follower_id} → {self.followee_id} (queued {self.created_at:%Y-%m-%d %H:%M:%S})"
