from django.conf import settings
from django.db import models


class HomeMarker(models.Model):
    """How far a user has read their home timeline (Mastodon's `home` marker), kept for
    every app they use. The notifications marker is notifications.ReadMarker."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.BigIntegerField(default=0)
    # Mastodon's lock version: how many times the marker was saved.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self):
        return f"{self.user_id} read home up to {self.last_read_id}"
