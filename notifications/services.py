"""Every write to notifications. Rows are written in the transaction of the action that
causes them (so an offline user loses none); the push to connected clients happens
after commit (realtime.py)."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from graph.models import Block, Mute

from . import realtime
from .models import Notification, ReadMarker
from .selectors import GroupKey


def notify(recipient_id: int, kind: str, actor: User, post=None) -> Notification | None:
    """Record (then push) that `actor` did `kind` to `recipient_id`; None when it must not notify.

    Never for yourself, never from an account blocked either way or muted with its
    notifications, never twice for the same (type, actor, post).
    """
    if recipient_id == actor.pk or not _may_notify(recipient_id, actor.pk):
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(recipient_id=recipient_id, type=kind, actor=actor, post=post)
    except IntegrityError:
        return None  # already notified for this very cause
    realtime.publish_after_commit(recipient_id, realtime.NOTIFICATION, notification.pk)
    return notification


def withdraw(recipient_id: int, kind: str, actor: User, post=None) -> None:
    """An undone action (unlike, unfollow) takes its notification back, so redoing it notifies again."""
    Notification.objects.filter(recipient_id=recipient_id, type=kind, actor=actor, post=post).delete()


def mark_read(user: User, up_to_id: int) -> int:
    """Everything at or below `up_to_id` is read; the marker never moves backwards."""
    marker, _ = ReadMarker.objects.get_or_create(user=user)
    ReadMarker.objects.filter(pk=marker.pk, last_read_id__lt=up_to_id).update(
        last_read_id=up_to_id, updated_at=timezone.now()
    )
    marker.refresh_from_db()
    return marker.last_read_id


def dismiss(user: User, notification_id: int) -> bool:
    deleted, _ = Notification.objects.filter(recipient=user, pk=notification_id).delete()
    return bool(deleted)


def dismiss_group(user: User, key: GroupKey) -> int:
    """Dismiss every notification of the user's group `key`, seen or not (as Mastodon does)."""
    deleted, _ = Notification.objects.filter(recipient=user).filter(key.rows()).delete()
    return deleted


def clear_all(user: User) -> int:
    deleted, _ = Notification.objects.filter(recipient=user).delete()
    return deleted


def _may_notify(recipient_id: int, actor_id: int) -> bool:
    blocked = Block.objects.filter(
        Q(blocker_id=recipient_id, blocked_id=actor_id) | Q(blocker_id=actor_id, blocked_id=recipient_id)
    ).exists()
    if blocked:
        return False
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    muted = Mute.objects.filter(unexpired, muter_id=recipient_id, muted_id=actor_id, hide_notifications=True)
    return not muted.exists()
