"""Who is online, and the real-time pushes that only online users get (`update`, `delete`).

Presence lives in the app's Redis (derived data: losing it costs at most a heartbeat of
missed live updates, which the resume path replays). One sorted set per timeline bucket,
`{tl:B}:online` with B = user_id % 256 as for home timelines, so a lookup for a fan-out
batch is one ZMSCORE per bucket and stays Redis-Cluster-safe (each command touches one
key; the set shares its slot with the bucket's timelines). Member: the user id; score: the
time (unix seconds) until which the user counts as online.

Every ASGI process refreshes the deadlines of its connected users every HEARTBEAT_SECONDS
(notifications/api/streaming.py); a process that dies simply stops refreshing, so its
users drop out within ONLINE_SECONDS, and a bucket nobody refreshes expires as a whole:
nothing leaks across server restarts. A process whose last socket of a user closes pulls
that user's deadline in to LEAVE_SECONDS (never later than it was), which is still past
the next heartbeat of any other process holding a socket of theirs.
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from graph.models import Block, Mute
from socialnet.redis_client import get_redis
from timeline import store as timeline_store

from . import realtime

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
ONLINE_SECONDS = 90  # three heartbeats: one lost heartbeat never makes anyone offline
LEAVE_SECONDS = HEARTBEAT_SECONDS + 10
PUBLISH_CONCURRENCY = 64  # group_sends in flight at once from one publishing process


def online_key(bucket: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}{{tl:{bucket}}}:online"


def _by_bucket(user_ids: Iterable[int]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for user_id in user_ids:
        grouped[timeline_store.bucket(user_id)].append(user_id)
    return grouped


# --- writes (ASGI processes) --------------------------------------------------------------


def mark_online(user_ids: Iterable[int], *, now: float | None = None) -> None:
    """Users with a socket here stay online until now + ONLINE_SECONDS; one round trip.

    Also drops members whose deadline passed (a dead process's users) from the buckets it
    touches, and keeps each bucket's key alive only as long as someone refreshes it.
    """
    now = time.time() if now is None else now
    deadline = now + ONLINE_SECONDS
    pipe = get_redis().pipeline(transaction=False)
    for bucket, members in _by_bucket(user_ids).items():
        key = online_key(bucket)
        pipe.zadd(key, dict.fromkeys(map(str, members), deadline), gt=True)
        pipe.zremrangebyscore(key, "-inf", f"({now}")
        pipe.expire(key, ONLINE_SECONDS * 2)
    pipe.execute()


def mark_leaving(user_ids: Iterable[int], *, now: float | None = None) -> None:
    """This process closed its last socket of these users: they leave soon, unless another
    process's heartbeat (due within HEARTBEAT_SECONDS) keeps them online."""
    now = time.time() if now is None else now
    pipe = get_redis().pipeline(transaction=False)
    for bucket, members in _by_bucket(user_ids).items():
        pipe.zadd(online_key(bucket), dict.fromkeys(map(str, members), now + LEAVE_SECONDS), xx=True, lt=True)
    pipe.execute()


# --- reads (publishers) -------------------------------------------------------------------


def online_among(user_ids: Iterable[int], *, now: float | None = None) -> list[int]:
    """The given users who are online, in the given order; one round trip (ZMSCORE per bucket)."""
    now = time.time() if now is None else now
    grouped = _by_bucket(dict.fromkeys(user_ids))
    if not grouped:
        return []
    pipe = get_redis().pipeline(transaction=False)
    for bucket, members in grouped.items():
        pipe.zmscore(online_key(bucket), [str(member) for member in members])
    online = set()
    for members, scores in zip(grouped.values(), pipe.execute(), strict=True):
        online.update(member for member, score in zip(members, scores, strict=True) if score and score > now)
    return [user_id for user_id in dict.fromkeys(user_ids) if user_id in online]


# --- publishing to online users (called by timeline.services) ------------------------------


def publish_post(post, follower_ids: list[int], *, with_author: bool, fanned_out: bool = True) -> list[int]:
    """`update` for a post just fanned out to `follower_ids`: to those online (and the author,
    on the first batch). A repost goes only where no block or mute hides its original and,
    if it was fanned out, where it entered the home timeline (the repost rule may have left
    it out). Returns the users it was published to. Never raises for Redis: live updates
    are best effort, the resume path catches up."""
    try:
        audience = [post.author_id, *follower_ids] if with_author else follower_ids
        online = online_among(audience)
        if post.repost_of_id is not None and online:
            online = _seeing_repost(post, online, check_home_sets=fanned_out)
        _send(online, realtime.UPDATE, post.pk)
        return online
    except (redis.RedisError, OSError):
        logger.warning("could not publish update %s", post.pk, exc_info=True)
        return []


def publish_vip_post(post, active_follower_ids: Callable[..., list[int]]) -> int:
    """`update` for a VIP's post (not fanned out): walk its active followers in batches, as
    fan-out would, and publish to those online. Returns how many it was published to."""
    published = len(publish_post(post, [], with_author=True, fanned_out=False))
    after = 0
    while True:
        batch = active_follower_ids(post.author_id, after=after, limit=settings.FANOUT_BATCH)
        if not batch:
            return published
        published += len(publish_post(post, batch, with_author=False, fanned_out=False))
        if len(batch) < settings.FANOUT_BATCH:
            return published
        after = batch[-1]


def publish_delete(post_id: int, user_ids: list[int]) -> list[int]:
    """`delete` for a post taken out of these users' timelines: to those online."""
    try:
        online = online_among(user_ids)
        _send(online, realtime.DELETE, post_id)
        return online
    except (redis.RedisError, OSError):
        logger.warning("could not publish delete %s", post_id, exc_info=True)
        return []


def _seeing_repost(post, user_ids: list[int], *, check_home_sets: bool) -> list[int]:
    """Of these users, those who may see the repost's original and (if checked) whose home
    timeline took the repost in."""
    shown = user_ids
    if check_home_sets:
        pipe = get_redis().pipeline(transaction=False)
        for user_id in user_ids:
            pipe.zscore(timeline_store.home_key(user_id), str(post.pk))
        shown = [user_id for user_id, score in zip(user_ids, pipe.execute(), strict=True) if score is not None]
    if not shown:
        return []
    original_author = post.repost_of.author_id
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    hidden = set(
        Block.objects.filter(blocker_id__in=shown, blocked_id=original_author).values_list("blocker_id", flat=True)
    )
    hidden |= set(
        Block.objects.filter(blocker_id=original_author, blocked_id__in=shown).values_list("blocked_id", flat=True)
    )
    hidden |= set(
        Mute.objects.filter(unexpired, muter_id__in=shown, muted_id=original_author).values_list("muter_id", flat=True)
    )
    return [user_id for user_id in shown if user_id not in hidden]


def _send(user_ids: list[int], event: str, object_id: int) -> None:
    """One event to many users' groups, from a synchronous caller, in one event loop."""
    layer = get_channel_layer()
    if layer is None or not user_ids:
        return
    async_to_sync(send_to_groups)(layer, [realtime.user_group(user_id) for user_id in user_ids], event, object_id)


# KEYS: process inboxes of one Redis host; ARGV: a message per key, a capacity per key, now,
# expiry. channels-redis's own group_send script, plus its expiry sweep, in one call.
BULK_SEND_LUA = """
local n = #KEYS
local now, expiry = tonumber(ARGV[2 * n + 1]), tonumber(ARGV[2 * n + 2])
local over_capacity = 0
for i = 1, n do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, now - expiry)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], math.ceil(expiry))
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


async def send_to_groups(layer, groups: list[str], event: str, object_id: int) -> None:
    """group_send of one event to many groups, as channels-redis would deliver it, but in
    a few round trips: read every group's members (one pipeline per host), then one message
    per receiving *process* naming all of its sockets there (channels-redis's own
    `__asgi_channel__` list, which its receive loop hands to each of them), written by one
    script call per host. Per-group group_send would cost three round trips per user and
    one inbox message per socket (and channels-redis drops what exceeds an inbox's capacity).
    Falls back to group_send for other layers."""
    message = {"type": "stream.event", "event": event, "id": object_id}
    if not all(hasattr(layer, name) for name in ("_group_key", "_map_channel_keys_to_connection", "connection")):
        limit = asyncio.Semaphore(PUBLISH_CONCURRENCY)

        async def send_one(group: str) -> None:
            async with limit:
                await layer.group_send(group, message)

        await asyncio.gather(*(send_one(group) for group in groups))
        return
    channels = await _members(layer, groups)
    if not channels:
        return
    by_host, messages, capacities = layer._map_channel_keys_to_connection(channels, message)
    now = time.time()
    for index, keys in by_host.items():
        args = [messages[key] for key in keys] + [capacities[key] for key in keys] + [now, layer.expiry]
        over = await layer.connection(index).eval(BULK_SEND_LUA, len(keys), *keys, *args)
        if over:
            logger.warning("%s of %s inboxes full: %s %s not delivered there", over, len(keys), event, object_id)


async def _members(layer, groups: list[str]) -> list[str]:
    """The live channels of these groups (members older than the layer's group_expiry are dead)."""
    by_host: dict[int, list[str]] = defaultdict(list)
    for group in groups:
        by_host[layer.consistent_hash(group)].append(group)
    alive_since = int(time.time()) - layer.group_expiry
    channels: dict[str, None] = {}
    for index, host_groups in by_host.items():
        pipe = layer.connection(index).pipeline(transaction=False)
        for group in host_groups:
            pipe.zrangebyscore(layer._group_key(group), alive_since, "+inf")
        for members in await pipe.execute():
            channels.update(dict.fromkeys(member.decode() for member in members))
    return list(channels)
