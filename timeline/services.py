"""Every write to timelines: fan-out, retraction, backfill, purge, rebuilds, VIP flags.

PostgreSQL holds the truth; everything here writes derived data in Redis and can be
re-run at any time without harm (ZADD/ZREM of the same ids change nothing twice).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from graph.models import Follow, Mute
from notifications import presence
from posts.models import Post
from posts.selectors import feed_posts

from . import store

logger = logging.getLogger(__name__)

BACKFILL_POSTS = 40  # a newly followed author's recent posts copied into the follower's timeline
VIP_GRACE = timedelta(hours=1)  # readers keep merging a demoted VIP's set while catch-up runs


# --- posting ------------------------------------------------------------------------------


def deliver_to_author(post: Post) -> None:
    """The author sees their own post at once (called after commit, inside the request).

    Redis being down must not fail the post: the reader's pull path shows it anyway.
    """
    try:
        if post.is_repost:
            store.add_repost(post.pk, post.repost_of_id, [post.author_id])
        else:
            store.add_post(post.pk, [post.author_id])
    except Exception:
        logger.warning("could not add post %s to its author's timeline", post.pk, exc_info=True)


def fan_out_batch(post_id: int, after_follower_id: int = 0) -> int | None:
    """Deliver a post to one batch of active followers; returns where the next batch starts.

    None means done: the post is marked fanned out. A VIP's post goes to its recent-posts
    set instead, for readers to pull. Deleted or hidden posts are marked and skipped.
    """
    post = Post.objects.select_related("author").filter(pk=post_id).first()
    if post is None or post.fanned_out_at is not None:
        return None
    if not post.is_visible or post.author.is_suspended:
        return _mark_fanned_out(post_id)
    if post.author.is_vip:
        store.add_vip_post(post.author_id, post.pk)
        presence.publish_vip_post(post, active_follower_ids)  # live `update` to its online followers
        return _mark_fanned_out(post_id)
    followers = active_follower_ids(post.author_id, after=after_follower_id, limit=settings.FANOUT_BATCH)
    if post.is_repost:
        store.add_repost(post.pk, post.repost_of_id, followers)
    else:
        store.add_post(post.pk, followers)
    # Live `update` to those of the batch who are online (and the author, with the first batch).
    presence.publish_post(post, followers, with_author=after_follower_id == 0)
    if len(followers) == settings.FANOUT_BATCH:
        return followers[-1]
    return _mark_fanned_out(post_id)


def retract_batch(post_id: int, after_follower_id: int = 0) -> int | None:
    """Take a deleted or hidden post out of one batch of followers' timelines (and the VIP set)."""
    post = Post.objects.filter(pk=post_id).only("id", "author_id").first()
    if post is None:
        return None
    if after_follower_id == 0:
        store.remove_posts([post_id], [post.author_id])
        store.remove_vip_posts(post.author_id, [post_id])
    followers = active_follower_ids(post.author_id, after=after_follower_id, limit=settings.FANOUT_BATCH)
    store.remove_posts([post_id], followers)
    presence.publish_delete(post_id, [post.author_id, *followers] if after_follower_id == 0 else followers)
    return followers[-1] if len(followers) == settings.FANOUT_BATCH else None


def active_follower_ids(author_id: int, *, after: int, limit: int) -> list[int]:
    """Followers seen within ACTIVE_DAYS who have not muted the author, in follower-id order."""
    cutoff = timezone.now() - timedelta(days=settings.ACTIVE_DAYS)
    muters = Mute.objects.filter(muted_id=author_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return list(
        Follow.objects.filter(
            followee_id=author_id,
            follower_id__gt=after,
            follower__last_active_at__gte=cutoff,
            follower__is_suspended=False,
        )
        .exclude(follower_id__in=muters.values("muter_id"))
        .order_by("follower_id")
        .values_list("follower_id", flat=True)[:limit]
    )


def posts_awaiting_fan_out(*, older_than: timedelta, newer_than: timedelta) -> list[int]:
    """Posts whose fan-out never finished: lost between commit and enqueue, or with a dead worker."""
    now = timezone.now()
    return list(
        Post.objects.filter(
            fanned_out_at__isnull=True, created_at__lt=now - older_than, created_at__gt=now - newer_than
        ).values_list("id", flat=True)[:1000]
    )


def _mark_fanned_out(post_id: int) -> None:
    Post.objects.filter(pk=post_id, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    return None


# --- following ----------------------------------------------------------------------------


def backfill(user_id: int, author_id: int) -> int:
    """After a follow: the author's recent posts join the follower's timeline (if it exists)."""
    author = User.objects.filter(pk=author_id).only("is_vip").first()
    if author is None or author.is_vip:
        return 0  # a VIP's posts are merged at read time
    recent = list(
        Post.objects.filter(author_id=author_id, is_deleted=False, is_hidden=False)
        .order_by("-id")
        .values_list("id", flat=True)[:BACKFILL_POSTS]
    )
    return store.add_posts(list(reversed(recent)), [user_id])


def purge(user_id: int, author_id: int, *, with_reposts_of_them: bool) -> int:
    """After an unfollow, block or mute: the author's entries leave the user's timeline.

    A block or mute also removes other people's reposts of the author.
    """
    entries = store.home_ids(user_id)
    if not entries:
        return 0
    by_author = Q(author_id=author_id) | (Q(repost_of__author_id=author_id) if with_reposts_of_them else Q(pk=None))
    doomed = list(Post.objects.filter(by_author, id__in=entries).values_list("id", flat=True))
    return store.remove_posts(doomed, [user_id])


# --- rebuilding ---------------------------------------------------------------------------


def rebuild_home(user_id: int) -> int:
    """Write a user's home timeline from PostgreSQL; returns its number of entries."""
    entries, reposts_seen = _home_from_postgresql(user_id)
    store.replace_home(user_id, entries, reposts_seen)
    return len(entries)


def expected_home(user_id: int) -> list[int]:
    """The entries a rebuild would write, oldest first (for consistency checks)."""
    return _home_from_postgresql(user_id)[0]


def _home_from_postgresql(user_id: int) -> tuple[list[int], dict[int, int]]:
    """A user's own and non-VIP followees' visible posts, newest TIMELINE_MAX, oldest first.

    VIPs' posts are not copied (readers merge them). Reposts follow the fan-out rule: a
    post appears once, at its first repost, unless the original is already there.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return [], {}
    regular_followees = Follow.objects.filter(follower_id=user_id, followee__is_vip=False).values("followee_id")
    candidates = (
        feed_posts(user)
        .filter(Q(author_id__in=regular_followees) | Q(author_id=user_id))
        .order_by("-id")
        .values_list("id", "repost_of_id")[: settings.TIMELINE_MAX * 2]
    )
    entries, reposts_seen = _apply_repost_rule(list(reversed(candidates)))
    entries = entries[-settings.TIMELINE_MAX :]
    return entries, {original: repost for original, repost in reposts_seen.items() if entries and repost >= entries[0]}


def _apply_repost_rule(oldest_first: list[tuple[int, int | None]]) -> tuple[list[int], dict[int, int]]:
    entries: list[int] = []
    reposts_seen: dict[int, int] = {}
    for post_id, original_id in oldest_first:
        if original_id is None:
            entries.append(post_id)
        elif original_id not in reposts_seen and original_id not in entries[-store.REPOST_WINDOW :]:
            entries.append(post_id)
            reposts_seen[original_id] = post_id
    return entries, reposts_seen


def rebuild_vip_posts(author_id: int) -> int:
    recent = list(
        Post.objects.filter(author_id=author_id, is_deleted=False, is_hidden=False)
        .order_by("-id")
        .values_list("id", flat=True)[: settings.VIP_POSTS_MAX]
    )
    store.replace_vip_posts(author_id, recent)
    return len(recent)


# --- VIPs ---------------------------------------------------------------------------------


def refresh_vip_flags() -> tuple[list[int], list[int]]:
    """Promote authors at VIP_THRESHOLD followers; demote below THRESHOLD * VIP_DEMOTE_RATIO.

    The gap between the two is the hysteresis. Returns (promoted ids, demoted ids); the
    caller seeds a promoted author's recent-posts set and catches up a demoted one's followers.
    """
    promote_at = settings.VIP_THRESHOLD
    demote_below = int(settings.VIP_THRESHOLD * settings.VIP_DEMOTE_RATIO)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET is_vip = true, vip_changed_at = now() "
            "WHERE NOT is_vip AND followers_count >= %s RETURNING id",
            [promote_at],
        )
        promoted = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE accounts_user SET is_vip = false, vip_changed_at = now() "
            "WHERE is_vip AND followers_count < %s RETURNING id",
            [demote_below],
        )
        demoted = [row[0] for row in cursor.fetchall()]
    return promoted, demoted


def catch_up_batch(author_id: int, after_follower_id: int = 0) -> int | None:
    """A demoted VIP's recent posts join one batch of followers' timelines (they were never fanned out)."""
    recent = list(
        Post.objects.filter(author_id=author_id, is_deleted=False, is_hidden=False)
        .order_by("-id")
        .values_list("id", flat=True)[:BACKFILL_POSTS]
    )
    followers = active_follower_ids(author_id, after=after_follower_id, limit=settings.FANOUT_BATCH)
    store.add_posts(list(reversed(recent)), followers)
    return followers[-1] if len(followers) == settings.FANOUT_BATCH else None


def followed_vip_ids(user: User) -> list[int]:
    """VIPs the user follows, plus those demoted so recently that catch-up may still be running."""
    recently = timezone.now() - VIP_GRACE
    # From the few VIPs to the reader's follow rows (index probes), not the other way round:
    # a reader may follow thousands (accounts_user_vips and accounts_user_vip_changed).
    vips = User.objects.filter(Q(is_vip=True) | Q(vip_changed_at__gte=recently)).values("id")
    return list(Follow.objects.filter(follower=user, followee__in=vips).values_list("followee_id", flat=True))
