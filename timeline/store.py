"""Redis layout of timelines: the only module that knows timeline keys and scripts.

Home timeline of user U: a sorted set of post ids, the id being member and score
(ids are time-sortable and below 2**53, so exact as doubles). Keys are hash-tagged by a
bucket of the user id, `{tl:B}` with B = U mod TIMELINE_BUCKETS, so that one script call
can update every timeline of a bucket and still touch a single Redis Cluster slot.

Each home set holds a sentinel member "0" (score 0) once it has been built: an existing
set means "complete down to its oldest entry"; an absent one means "rebuild from
PostgreSQL" (new user, expired after inactivity, or Redis lost). Fan-out only touches
sets that exist, so it never creates a partial timeline.

Beside each home set, `{tl:B}:rb:U` maps each reposted original to the repost shown for
it (Mastodon's rule: a post appears once, however many followees repost it).

A VIP's recent posts: `{vip:A}:posts`, read and merged by followers at read time.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from socialnet.redis_client import get_redis

TIMELINE_BUCKETS = 256
SENTINEL = "0"
# A repost is not shown if its original is among this many newest entries already.
REPOST_WINDOW = 40

# KEYS: home timelines of one bucket. ARGV: post id, entries to keep, trim slack.
# Adds the post to each timeline that exists. Trimming (keeping the sentinel at rank 0)
# waits until a set is `slack` entries over, so most adds skip it: measured +30 %.
# ZCARD is 0 for a missing set and at least 1 (the sentinel) for a built one, so one call
# answers both "does it exist" and "is it over": two calls per timeline instead of three.
ADD_POST_LUA = """
local added = 0
local keep, slack = tonumber(ARGV[2]), tonumber(ARGV[3] or '0')
for _, key in ipairs(KEYS) do
    local size = redis.call('ZCARD', key)
    if size > 0 then
        local new = redis.call('ZADD', key, ARGV[1], ARGV[1])
        added = added + new
        if size + new > keep + slack + 1 then
            redis.call('ZREMRANGEBYRANK', key, 1, -(keep + 1))
        end
    end
end
return added
"""

# KEYS: pairs (home, reposts-seen) of one bucket. ARGV: repost id, original id, entries
# to keep, repost window. Shows the repost unless its original is already shown.
ADD_REPOST_LUA = """
local added = 0
for i = 1, #KEYS, 2 do
    local home, seen = KEYS[i], KEYS[i + 1]
    if redis.call('EXISTS', home) == 1 and not redis.call('ZSCORE', seen, ARGV[2]) then
        local rank = redis.call('ZREVRANK', home, ARGV[2])
        if not rank or rank >= tonumber(ARGV[4]) then
            added = added + redis.call('ZADD', home, ARGV[1], ARGV[1])
            redis.call('ZADD', seen, ARGV[1], ARGV[2])
            redis.call('ZREMRANGEBYRANK', home, 1, -(tonumber(ARGV[3]) + 1))
            local oldest = redis.call('ZRANGE', home, 1, 1, 'WITHSCORES')
            if oldest[2] then
                redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. oldest[2])
            end
        end
    end
end
return added
"""


@dataclass(frozen=True)
class Window:
    """Which ids of a set a page wants: (lower, upper) exclusive bounds, and the direction."""

    above: int = 0  # ids strictly greater than this (0: everything but the sentinel)
    below: int | None = None  # ids strictly less than this (None: no upper bound)
    oldest_first: bool = False  # min_id pages read upwards from `above`


def bucket(user_id: int) -> int:
    return user_id % TIMELINE_BUCKETS


def home_key(user_id: int) -> str:
    return _timeline_key(settings.REDIS_KEY_PREFIX, HOME, user_id)


def reposts_seen_key(user_id: int) -> str:
    return _timeline_key(settings.REDIS_KEY_PREFIX, REPOSTS_SEEN, user_id)


HOME, REPOSTS_SEEN = "home", "rb"  # the kinds of per-user keys in a timeline bucket


def _timeline_key(prefix: str, kind: str, user_id: int) -> str:
    return f"{prefix}{{tl:{bucket(user_id)}}}:{kind}:{user_id}"


def vip_posts_key(author_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}{{vip:{author_id}}}:posts"


@cache
def _scripts():
    redis = get_redis()
    return redis.register_script(ADD_POST_LUA), redis.register_script(ADD_REPOST_LUA)


def home_ttl_seconds() -> int:
    # A timeline unread for ACTIVE_DAYS expires: its owner no longer gets fan-out, so it
    # would go stale. An hour's margin covers last_active_at's 15-minute resolution.
    return settings.ACTIVE_DAYS * 86_400 - 3_600


# --- writes ------------------------------------------------------------------------------


def add_post(post_id: int, user_ids: Iterable[int]) -> int:
    """Add a post to the existing home timelines of `user_ids`: one round trip, one script call per bucket."""
    return add_posts([post_id], user_ids)


def add_posts(post_ids: list[int], user_ids: Iterable[int]) -> int:
    """Several posts into several timelines, oldest post first, in one round trip."""
    add_post_script, _ = _scripts()
    key_groups = _keys_by_bucket(user_ids, (HOME,))
    pipe = get_redis().pipeline(transaction=False)
    for post_id in post_ids:
        for keys in key_groups:
            add_post_script(keys=keys, args=[post_id, settings.TIMELINE_MAX, settings.TIMELINE_TRIM_SLACK], client=pipe)
    return sum(pipe.execute())


def add_repost(repost_id: int, original_id: int, user_ids: Iterable[int]) -> int:
    _, add_repost_script = _scripts()
    pipe = get_redis().pipeline(transaction=False)
    for keys in _keys_by_bucket(user_ids, (HOME, REPOSTS_SEEN)):
        args = [repost_id, original_id, settings.TIMELINE_MAX, REPOST_WINDOW]
        add_repost_script(keys=keys, args=args, client=pipe)
    return sum(pipe.execute())


def remove_posts(post_ids: list[int], user_ids: Iterable[int]) -> int:
    """Take posts out of some users' home timelines (delete, unfollow, block, mute)."""
    if not post_ids:
        return 0
    pipe = get_redis().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrem(home_key(user_id), *post_ids)
    return sum(pipe.execute())


def replace_home(user_id: int, post_ids: list[int], reposts_seen: dict[int, int]) -> None:
    """Write a whole home timeline (rebuild): sentinel, entries, reposts seen, expiry."""
    home, seen = home_key(user_id), reposts_seen_key(user_id)
    pipe = get_redis().pipeline(transaction=True)  # one slot: both keys share the hash tag
    pipe.delete(home, seen)
    pipe.zadd(home, {SENTINEL: 0, **{str(post_id): post_id for post_id in post_ids}})
    if reposts_seen:
        pipe.zadd(seen, {str(original): repost for original, repost in reposts_seen.items()})
        pipe.expire(seen, home_ttl_seconds())
    pipe.expire(home, home_ttl_seconds())
    pipe.execute()


def add_vip_post(author_id: int, post_id: int) -> None:
    key = vip_posts_key(author_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.zadd(key, {SENTINEL: 0, str(post_id): post_id})
    pipe.zremrangebyrank(key, 1, -(settings.VIP_POSTS_MAX + 1))
    pipe.execute()


def replace_vip_posts(author_id: int, post_ids: list[int]) -> None:
    key = vip_posts_key(author_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(key)
    pipe.zadd(key, {SENTINEL: 0, **{str(post_id): post_id for post_id in post_ids}})
    pipe.execute()


def remove_vip_posts(author_id: int, post_ids: list[int]) -> None:
    if post_ids:
        get_redis().zrem(vip_posts_key(author_id), *post_ids)


# --- reads -------------------------------------------------------------------------------


def read_home_and_vips(user_id: int, vip_ids: list[int], window: Window, count: int):
    """One round trip: up to `count` ids of the window from the home set and each VIP set.

    Returns (home ids or None if the set is missing, {vip id: ids or None}). Reading
    refreshes the home set's expiry: its owner is active.
    """
    pipe = get_redis().pipeline(transaction=False)
    keys = [home_key(user_id), *(vip_posts_key(vip) for vip in vip_ids)]
    for key in keys:
        pipe.exists(key)
        _range(pipe, key, window, count)
    pipe.expire(keys[0], home_ttl_seconds())
    replies = pipe.execute()
    results = [[int(member) for member in replies[i + 1]] if replies[i] else None for i in range(0, len(keys) * 2, 2)]
    return results[0], dict(zip(vip_ids, results[1:], strict=True))


def _range(pipe, key: str, window: Window, count: int) -> None:
    low = f"({window.above}"
    high = f"({window.below}" if window.below is not None else "+inf"
    if window.oldest_first:
        pipe.zrangebyscore(key, low, high, start=0, num=count)
    else:
        pipe.zrevrangebyscore(key, high, low, start=0, num=count)


def home_ids(user_id: int) -> list[int] | None:
    """Every id in a home timeline, newest first (None if it has no set): for checks."""
    redis = get_redis()
    if not redis.exists(home_key(user_id)):
        return None
    return [int(member) for member in redis.zrevrangebyscore(home_key(user_id), "+inf", "(0")]


def memory_of_home(user_id: int) -> int | None:
    return get_redis().memory_usage(home_key(user_id))


def _keys_by_bucket(user_ids: Iterable[int], kinds: tuple[str, ...]) -> list[list[str]]:
    """Each user's keys of these kinds, grouped by bucket (one script call each). The prefix is
    read once per batch, not per key: settings lookups were a third of add_post's Python time."""
    prefix = settings.REDIS_KEY_PREFIX
    grouped: dict[int, list[str]] = defaultdict(list)
    for user_id in user_ids:
        grouped[bucket(user_id)].extend(_timeline_key(prefix, kind, user_id) for kind in kinds)
    return list(grouped.values())
