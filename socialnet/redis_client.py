"""The one Redis connection pool of a process, shared by every app's store.py.

Short timeouts: Redis holds only derived data, so a slow or absent Redis must cost a
request milliseconds and a fallback, never a hang.
"""

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
    )


def key(*parts) -> str:
    """A key under this deployment's prefix (settings.REDIS_KEY_PREFIX), e.g. key("recs", 42)."""
    return settings.REDIS_KEY_PREFIX + ":".join(str(part) for part in parts)
