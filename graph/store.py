"""Redis keys owned by graph: cached recommendations and the mirror's drain flag."""

import json
import logging

import redis

from socialnet.redis_client import get_redis, key

logger = logging.getLogger(__name__)

RECOMMENDATIONS_TTL_SECONDS = 300
DRAIN_PENDING_TTL_SECONDS = 60


def cached_recommendations(user_id: int) -> list[dict] | None:
    try:
        raw = get_redis().get(key("recs", user_id))
    except redis.RedisError:
        logger.warning("recommendation cache unavailable", exc_info=True)
        return None
    return json.loads(raw) if raw is not None else None


def cache_recommendations(user_id: int, candidates: list[dict]) -> None:
    try:
        get_redis().set(key("recs", user_id), json.dumps(candidates), ex=RECOMMENDATIONS_TTL_SECONDS)
    except redis.RedisError:
        logger.warning("recommendation cache unavailable", exc_info=True)


def forget_recommendations(*user_ids: int) -> None:
    """Drop cached recommendations; if Redis is unreachable they expire within the TTL anyway."""
    try:
        get_redis().delete(*(key("recs", user_id) for user_id in user_ids))
    except redis.RedisError:
        logger.warning("could not drop cached recommendations of %s", user_ids, exc_info=True)


def claim_drain_slot() -> bool:
    """True if no drain is queued yet: a burst of follows enqueues one drain, not one each."""
    return bool(get_redis().set(key("graph", "drain-pending"), 1, nx=True, ex=DRAIN_PENDING_TTL_SECONDS))


def release_drain_slot() -> None:
    """Called when a drain starts, so a follow made during it queues the next one."""
    get_redis().delete(key("graph", "drain-pending"))
