"""Redis keys owned by accounts."""

from functools import cache

import redis
from django.conf import settings


@cache
def client() -> redis.Redis:
    # One connection pool per process; redis-py clients are thread-safe.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


def claim_activity_slot(user_id: int) -> bool:
    """True for the first request of a user in each LAST_ACTIVE_RESOLUTION_SECONDS window.

    SET NX is the dedupe: a burst of requests enqueues one `mark_active` task, not one each.
    """
    key = f"{settings.REDIS_KEY_PREFIX}active:{user_id}"
    return bool(client().set(key, 1, nx=True, ex=settings.LAST_ACTIVE_RESOLUTION_SECONDS))
