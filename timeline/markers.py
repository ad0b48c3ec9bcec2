"""Reading positions (Mastodon's markers): home here, notifications in notifications.services."""

from django.db.models import F
from django.utils import timezone

from accounts.models import User
from socialnet.db import insert_if_absent

from .models import HomeMarker


def save_home_marker(user: User, last_read_id: int) -> HomeMarker:
    """Set where the user stopped reading their home timeline (any id: apps may move it back)."""
    insert_if_absent(HomeMarker, user=user)
    HomeMarker.objects.filter(user=user).update(
        last_read_id=last_read_id, version=F("version") + 1, updated_at=timezone.now()
    )
    return HomeMarker.objects.get(user=user)


def home_marker(user: User) -> HomeMarker | None:
    return HomeMarker.objects.filter(user=user).first()
