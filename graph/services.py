"""Every write to the social graph goes through here.

Each change that touches a follow edge also, in the same transaction, queues the edge for
the Neo4j mirror (when one is configured), and after commit drops the cached
recommendations of the people whose graph changed.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.services import change_counter
from notifications.models import Notification
from notifications.services import notify, withdraw
from socialnet.celery import enqueue_after_commit
from socialnet.db import insert_if_absent
from timeline import tasks as timeline_tasks

from . import store
from .models import Block, Follow, GraphOutbox, Mute, SuggestionDismissal


def follow(follower: User, followee: User) -> bool:
    """Make `follower` follow `followee`; returns False if it already did (nothing changes).

    Counters move only when a row was really inserted, so concurrent double-clicks and
    retries keep them exact.
    """
    if follower.pk == followee.pk:
        raise ValidationError("You cannot follow yourself.", code="self_follow")
    if followee.is_suspended or not followee.is_active:
        raise ValidationError("This account is suspended and cannot be followed.", code="followee_suspended")
    if follower.is_suspended or not follower.is_active:
        raise ValidationError("Your account is suspended.", code="follower_suspended")
    _check_not_blocked(follower, followee)
    with transaction.atomic():
        created = insert_if_absent(Follow, follower=follower, followee=followee)
        if created:
            _edge_changed(follower.pk, followee.pk, +1)
            notify(followee.pk, Notification.Type.FOLLOW, follower)
            enqueue_after_commit(timeline_tasks.backfill_timeline, follower.pk, followee.pk)
    return created


def unfollow(follower: User, followee: User) -> bool:
    """Stop following; returns False if there was nothing to undo."""
    with transaction.atomic():
        removed = _remove_follow(follower.pk, followee.pk)
        if removed:
            withdraw(followee.pk, Notification.Type.FOLLOW, follower)
            enqueue_after_commit(timeline_tasks.purge_timeline, follower.pk, followee.pk, False)
    return removed


def block(blocker: User, blocked: User) -> bool:
    """Block an account: follows both ways end, and neither can follow the other again.

    Returns False if it was already blocked (nothing changes).
    """
    if blocker.pk == blocked.pk:
        raise ValidationError("You cannot block yourself.", code="self_block")
    with transaction.atomic():
        created = insert_if_absent(Block, blocker=blocker, blocked=blocked)
        if created:
            _remove_follow(blocker.pk, blocked.pk)
            _remove_follow(blocked.pk, blocker.pk)
            _forget_recommendations_after_commit(blocker.pk, blocked.pk)
            # Neither sees the other any more, nor reposts of the other.
            enqueue_after_commit(timeline_tasks.purge_timeline, blocker.pk, blocked.pk, True)
            enqueue_after_commit(timeline_tasks.purge_timeline, blocked.pk, blocker.pk, True)
    return created


def unblock(blocker: User, blocked: User) -> bool:
    with transaction.atomic():
        deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
        if deleted:
            _forget_recommendations_after_commit(blocker.pk, blocked.pk)
    return bool(deleted)


def mute(muter: User, muted: User, *, hide_notifications: bool = True, duration: timedelta | None = None) -> Mute:
    """Hide an account's posts (and notifications) without unfollowing; muting again updates it."""
    if muter.pk == muted.pk:
        raise ValidationError("You cannot mute yourself.", code="self_mute")
    if duration is not None and duration <= timedelta(0):
        raise ValidationError("A mute's duration must be positive.", code="bad_duration")
    expires_at = timezone.now() + duration if duration is not None else None
    with transaction.atomic():
        muting, _ = Mute.objects.update_or_create(
            muter=muter, muted=muted, defaults={"hide_notifications": hide_notifications, "expires_at": expires_at}
        )
        _forget_recommendations_after_commit(muter.pk)
        enqueue_after_commit(timeline_tasks.purge_timeline, muter.pk, muted.pk, True)
    return muting


def unmute(muter: User, muted: User) -> bool:
    with transaction.atomic():
        deleted, _ = Mute.objects.filter(muter=muter, muted=muted).delete()
        if deleted:
            _forget_recommendations_after_commit(muter.pk)
            # Their posts were left out of fan-out while muted: bring back the recent ones.
            enqueue_after_commit(timeline_tasks.backfill_timeline, muter.pk, muted.pk)
    return bool(deleted)


def dismiss_suggestion(user: User, dismissed: User) -> bool:
    """Never suggest `dismissed` to `user` again; returns False if already dismissed."""
    created = insert_if_absent(SuggestionDismissal, user=user, dismissed=dismissed)
    store.forget_recommendations(user.pk)
    return created


def _remove_follow(follower_id: int, followee_id: int) -> bool:
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).delete()
    if deleted:
        _edge_changed(follower_id, followee_id, -1)
    return bool(deleted)


def _edge_changed(follower_id: int, followee_id: int, delta: int) -> None:
    """Bookkeeping every follow edge change needs, inside the caller's transaction."""
    _move_counters(follower_id, followee_id, delta)
    if settings.NEO4J_URI:
        GraphOutbox.objects.create(follower_id=follower_id, followee_id=followee_id)
        transaction.on_commit(_schedule_mirror_drain)
    _forget_recommendations_after_commit(follower_id)


def _move_counters(follower_id: int, followee_id: int, delta: int) -> None:
    # Lock user rows in id order: two people following each other at the same moment
    # would otherwise each hold one row and wait for the other's (a deadlock).
    updates = [(follower_id, "following_count"), (followee_id, "followers_count")]
    for user_id, field in sorted(updates):
        change_counter(user_id, field, delta)


def _check_not_blocked(follower: User, followee: User) -> None:
    blocks = Block.objects.filter(
        Q(blocker=follower, blocked=followee) | Q(blocker=followee, blocked=follower)
    ).values_list("blocker_id", flat=True)
    blockers = set(blocks)
    if follower.pk in blockers:
        raise ValidationError("You have blocked this account: unblock it to follow.", code="blocking")
    if followee.pk in blockers:
        raise ValidationError("You cannot follow this account.", code="blocked")


def _forget_recommendations_after_commit(*user_ids: int) -> None:
    transaction.on_commit(lambda: store.forget_recommendations(*user_ids))


def _schedule_mirror_drain() -> None:
    from .tasks import schedule_mirror_drain

    schedule_mirror_drain()
