"""Every write to the social graph goes through here."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import change_counter

from .models import Follow


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
    with transaction.atomic():
        _, created = Follow.objects.get_or_create(follower=follower, followee=followee)
        if created:
            _move_counters(follower.pk, followee.pk, +1)
    return created


def unfollow(follower: User, followee: User) -> bool:
    """Stop following; returns False if there was nothing to undo."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
        if deleted:
            _move_counters(follower.pk, followee.pk, -1)
    return bool(deleted)


def _move_counters(follower_id: int, followee_id: int, delta: int) -> None:
    # Lock user rows in id order: two people following each other at the same moment
    # would otherwise each hold one row and wait for the other's (a deadlock).
    updates = [(follower_id, "following_count"), (followee_id, "followers_count")]
    for user_id, field in sorted(updates):
        change_counter(user_id, field, delta)
