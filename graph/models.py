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
