"""Reads of the social graph."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from socialnet.keyset import keyset_page

from .models import Block, Follow, Mute

LIST_PAGE_SIZE = 40
LIST_PAGE_MAX = 80  # Mastodon's most accounts per page


@dataclass(frozen=True)
class Relationship:
    """How the viewer stands with one account: Mastodon's Relationship entity's fields."""

    id: int
    following: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    # Fields of Mastodon's entity that socialnet has no feature for keep their neutral values.
    showing_reblogs: bool = True
    notifying: bool = False
    requested: bool = False
    requested_by: bool = False
    domain_blocking: bool = False
    endorsed: bool = False
    note: str = ""


def relationships(viewer: User, other_ids: Iterable[int]) -> dict[int, Relationship]:
    """The viewer's relationship with each account, in four queries whatever the count."""
    ids = list(dict.fromkeys(int(i) for i in other_ids))
    following = set(Follow.objects.filter(follower=viewer, followee_id__in=ids).values_list("followee_id", flat=True))
    followed_by = set(Follow.objects.filter(followee=viewer, follower_id__in=ids).values_list("follower_id", flat=True))
    blocks = Block.objects.filter(
        Q(blocker=viewer, blocked_id__in=ids) | Q(blocked=viewer, blocker_id__in=ids)
    ).values_list("blocker_id", "blocked_id")
    blocking = {blocked for blocker, blocked in blocks if blocker == viewer.pk}
    blocked_by = {blocker for blocker, blocked in blocks if blocked == viewer.pk}
    mutes = dict(active_mutes(viewer).filter(muted_id__in=ids).values_list("muted_id", "hide_notifications"))
    return {
        other: Relationship(
            id=other,
            following=other in following,
            followed_by=other in followed_by,
            blocking=other in blocking,
            blocked_by=other in blocked_by,
            muting=other in mutes,
            muting_notifications=mutes.get(other, False),
        )
        for other in ids
    }


def is_following(follower: User, followee: User) -> bool:
    if not follower.is_authenticated:
        return False
    return Follow.objects.filter(follower=follower, followee=followee).exists()


def is_blocked_either_way(one: User, other: User) -> bool:
    if not one.is_authenticated or not other.is_authenticated:
        return False
    return Block.objects.filter(Q(blocker=one, blocked=other) | Q(blocker=other, blocked=one)).exists()


def blocked_either_way_filter(viewer: User, author_field: str) -> Q:
    """A Q matching rows whose `author_field` blocks the viewer or is blocked by them."""
    return Q(**{f"{author_field}__in": Block.objects.filter(blocker=viewer).values("blocked_id")}) | Q(
        **{f"{author_field}__in": Block.objects.filter(blocked=viewer).values("blocker_id")}
    )


def active_mutes(muter: User) -> QuerySet[Mute]:
    return Mute.objects.filter(muter=muter).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def muted_filter(viewer: User, author_field: str) -> Q:
    return Q(**{f"{author_field}__in": active_mutes(viewer).values("muted_id")})


def followers_of(user: User) -> QuerySet[User]:
    """Visible accounts following `user`, most recent follow first."""
    return User.objects.active().filter(following_edges__followee=user).order_by("-following_edges__id")


def following_of(user: User) -> QuerySet[User]:
    """Visible accounts `user` follows, most recent follow first."""
    return User.objects.active().filter(follower_edges__follower=user).order_by("-follower_edges__id")


def followee_ids(user: User) -> QuerySet:
    return Follow.objects.filter(follower=user).values("followee_id")


def blocks_page(user: User, *, limit=LIST_PAGE_SIZE, **bounds) -> list[User]:
    """Visible accounts `user` blocks, most recent block first, each with its `block_id`.

    Paged by the block's id (`bounds`: max_id / since_id / min_id), as Mastodon pages them.
    """
    blocked = User.objects.active().filter(blocked_by_edges__blocker=user).annotate(block_id=F("blocked_by_edges__id"))
    return keyset_page(blocked, "block_id", limit=_list_limit(limit), **bounds)


def mutes_page(user: User, *, limit=LIST_PAGE_SIZE, **bounds) -> list[User]:
    """Visible accounts `user` mutes (expired mutes are over), most recent mute first, each with
    its `mute_id` (the page key) and `mute_expires_at` (None: until unmuted)."""
    unexpired = Q(muted_by_edges__expires_at__isnull=True) | Q(muted_by_edges__expires_at__gt=timezone.now())
    muted = (
        User.objects.active()
        .filter(Q(muted_by_edges__muter=user) & unexpired)  # one filter(): both on the same mute row
        .annotate(mute_id=F("muted_by_edges__id"), mute_expires_at=F("muted_by_edges__expires_at"))
    )
    return keyset_page(muted, "mute_id", limit=_list_limit(limit), **bounds)


def _list_limit(limit) -> int:
    return max(1, min(int(limit), LIST_PAGE_MAX))
