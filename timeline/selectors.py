"""Timeline reads, used by the browser and the API alike.

The home timeline merges the user's Redis set with the recent-posts sets of the VIPs
they follow, then checks the candidate ids in one PostgreSQL query (posts.status_refs),
dropping whatever the viewer may not see (deleted, hidden, blocked, muted, suspended).
The API renders those refs from the status cache; the browser loads the posts themselves.
Whenever Redis cannot answer completely (no set yet, flushed, or down) the page comes
from the pull path, a PostgreSQL query over the people the user follows, which is
slower but always right; a rebuild is requested meanwhile.
"""

import heapq
import logging
from itertools import islice

import redis
from django.db.models import Q

from accounts.models import User
from graph.selectors import followee_ids
from posts.models import Post
from posts.selectors import PAGE_SIZE, clamp_limit, feed_posts, page, reaching
from posts.status_refs import StatusRef, posts_for_refs, visible_refs

from . import services, store, tasks

logger = logging.getLogger(__name__)

READ_ROUNDS = 3  # how many times to read further when filtering leaves a page short


def home_timeline(user: User, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE) -> list[Post]:
    """A page of the home timeline, newest first, with Mastodon's max_id/since_id/min_id."""
    return posts_for_refs(home_timeline_refs(user, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit))


def home_timeline_refs(user: User, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE) -> list[StatusRef]:
    """The same page as refs: what the API renders from the status cache."""
    limit = clamp_limit(limit)
    window = store.Window(
        above=int(min_id if min_id is not None else since_id or 0),
        below=int(max_id) if max_id is not None else None,
        oldest_first=min_id is not None,
    )
    try:
        refs = _from_redis(user, window, limit)
    except redis.RedisError:
        logger.warning("Redis unavailable: home timeline of %s from PostgreSQL", user.pk, exc_info=True)
        refs = None
    if refs is None:
        refs = _pull_refs(user, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return refs


def pull_home_timeline(user: User, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE) -> list[Post]:
    """The pull path: everything the user follows, from PostgreSQL."""
    return _pull(user, feed_posts(user), max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def _pull_refs(user: User, **bounds) -> list[StatusRef]:
    """The pull path as refs: the posts' mentions and tags are loaded later, only if rendered."""
    return [StatusRef.of(post) for post in _pull(user, feed_posts(user).prefetch_related(None), **bounds)]


def _pull(user: User, visible, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE) -> list[Post]:
    posts = visible.filter(Q(author__in=followee_ids(user)) | Q(author=user))
    # Read a little more than a page: showing each post once may drop some repeats.
    limit = clamp_limit(limit)
    wider = page(posts, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit * 2)
    unique_oldest_first = _one_per_original(wider)
    if min_id is not None:  # the page just above min_id: keep the oldest
        return list(reversed(unique_oldest_first[:limit]))
    return list(reversed(unique_oldest_first))[:limit]


def public_timeline(viewer: User | None, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE) -> list[Post]:
    """Everyone's recent original posts and replies (reposts are left out, as on Mastodon)."""
    posts = reaching(feed_posts(viewer), viewer).filter(repost_of__isnull=True)
    return page(posts, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def _from_redis(user: User, window: store.Window, limit: int) -> list[StatusRef] | None:
    vip_ids = services.followed_vip_ids(user)
    shown: list[StatusRef] = []
    seen_originals: set[int] = set()
    for round_number in range(READ_ROUNDS):
        count = limit * 2 + round_number * limit
        home, vips = store.read_home_and_vips(user.pk, vip_ids, window, count)
        if home is None:
            tasks.request_rebuild(user.pk)
            return None
        missing_vips = [vip for vip, ids in vips.items() if ids is None]
        if missing_vips:
            for vip in missing_vips:
                tasks.request_vip_rebuild(vip)
            return None
        sources = [home, *vips.values()]
        candidates = _merge(sources, oldest_first=window.oldest_first, count=count)
        shown += _visible_in_order(user, candidates, seen_originals, limit - len(shown))
        if len(shown) >= limit:
            break
        if all(len(ids) < count for ids in sources):
            # The sets hold less than the page needs (a short or trimmed timeline): what is
            # older than their oldest entry comes from PostgreSQL.
            if not window.oldest_first:
                older_than = candidates[-1] if candidates else window.below
                more = _pull_refs(user, max_id=older_than, since_id=window.above or None, limit=limit)
                shown += [ref for ref in more if (ref.repost_of_id or ref.pk) not in seen_originals]
            break
        window = _beyond(window, candidates[-1])
    shown.sort(key=lambda ref: ref.pk, reverse=True)
    return shown[:limit]


def _merge(sources: list[list[int]], *, oldest_first: bool, count: int) -> list[int]:
    """Heap-merge sorted id lists into one, without repeats, keeping the first `count`."""
    merged = heapq.merge(*sources, reverse=not oldest_first)
    return list(islice(_without_repeats(merged), count))


def _without_repeats(sorted_ids):
    previous = None
    for post_id in sorted_ids:
        if post_id != previous:
            yield post_id
        previous = post_id


def _visible_in_order(user: User, ids: list[int], seen_originals: set[int], wanted: int) -> list[StatusRef]:
    """The visible ones among ids, in one query, in the given order."""
    if wanted <= 0 or not ids:
        return []
    found = visible_refs(user, ids)
    refs = []
    for post_id in ids:
        ref = found.get(post_id)
        if ref is None:
            continue
        original = ref.repost_of_id or ref.pk
        if original in seen_originals:
            continue  # a post shows once, as itself or as its first repost
        seen_originals.add(original)
        refs.append(ref)
        if len(refs) == wanted:
            break
    return refs


def _one_per_original(posts: list[Post]) -> list[Post]:
    """Each post once, oldest first: the original if present, else its first repost."""
    seen: set[int] = set()
    kept = []
    for post in sorted(posts, key=lambda p: p.pk):  # oldest first: the first repost wins
        original = post.repost_of_id or post.pk
        if original not in seen:
            seen.add(original)
            kept.append(post)
    return kept


def _beyond(window: store.Window, last_id: int) -> store.Window:
    if window.oldest_first:
        return store.Window(above=last_id, below=window.below, oldest_first=True)
    return store.Window(above=window.above, below=last_id, oldest_first=False)
