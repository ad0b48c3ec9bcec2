"""Redis layout of posts: the cache of rendered status bodies (the only module that knows it).

`status:P` holds the viewer-independent part of post P's Status entity as JSON, with the
version it was rendered at (posts.status_refs.StatusRef.version). Entries expire after
STATUS_CACHE_SECONDS; nothing needs to delete them: an edit or a profile change moves the
version, and visibility is decided in PostgreSQL on every read. Losing the cache costs
rendering time, never correctness, so a Redis failure reads as "nothing cached".
"""

import json
import logging

import redis
from django.conf import settings

from socialnet.redis_client import get_redis, key

logger = logging.getLogger(__name__)


def status_key(post_id: int) -> str:
    return key("status", post_id)


def cached_status_bodies(versions: dict[int, str]) -> dict[int, dict]:
    """The cached bodies among `versions` (post id -> wanted version) whose version matches."""
    if not versions:
        return {}
    ids = list(versions)
    try:
        values = get_redis().mget([status_key(post_id) for post_id in ids])
    except redis.RedisError:
        logger.warning("status cache unavailable: rendering %s statuses", len(ids), exc_info=True)
        return {}
    bodies = {}
    for post_id, value in zip(ids, values, strict=True):
        if value is not None:
            entry = json.loads(value)
            if entry["v"] == versions[post_id]:
                bodies[post_id] = entry["b"]
    return bodies


def cache_status_bodies(bodies: dict[int, tuple[str, dict]]) -> None:
    """Store post id -> (version, body), each for STATUS_CACHE_SECONDS."""
    if not bodies:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for post_id, (version, body) in bodies.items():
            pipe.set(status_key(post_id), json.dumps({"v": version, "b": body}), ex=settings.STATUS_CACHE_SECONDS)
        pipe.execute()
    except redis.RedisError:
        logger.warning("status cache unavailable: %s bodies not stored", len(bodies), exc_info=True)
