"""`Idempotency-Key` for POST /api/v1/statuses: one status per key, per user, for an hour.

The first request claims the key with SET NX (atomic: of two concurrent requests exactly
one claims it) and, once the status exists, stores its id under the key. A repeat finds
the id and answers with that status, creating nothing; a repeat that arrives while the
first is still being made waits briefly for it. A failed first attempt releases the key,
so the client's retry is a fresh attempt. Redis down: statuses are still created (a lost
duplicate guard must not become a lost post), with a log line.
"""

import hashlib
import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from socialnet.redis_client import get_redis, key

logger = logging.getLogger(__name__)

PENDING = b"pending"
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Claim:
    redis_key: str | None  # None: no key sent, or Redis unavailable
    existing_status_id: int | None = None  # set when the key was already used
    in_progress: bool = False  # the first request has not finished in time


def claim(user_id: int, idempotency_key: str | None) -> Claim:
    if not idempotency_key:
        return Claim(redis_key=None)
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    redis_key = key("idem", "status", user_id, digest)
    try:
        client = get_redis()
        if client.set(redis_key, PENDING, nx=True, ex=settings.IDEMPOTENCY_KEY_SECONDS):
            return Claim(redis_key=redis_key)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            value = client.get(redis_key)
            if value is None:  # the first attempt failed and released it: try again
                return claim(user_id, idempotency_key)
            if value != PENDING:
                return Claim(redis_key=redis_key, existing_status_id=int(value))
            if time.monotonic() > deadline:
                return Claim(redis_key=redis_key, in_progress=True)
            time.sleep(POLL_SECONDS)
    except (redis.RedisError, OSError):
        logger.warning("Idempotency-Key unavailable (Redis): creating the status unguarded", exc_info=True)
        return Claim(redis_key=None)


def complete(done: Claim, status_id: int) -> None:
    if done.redis_key is None:
        return
    try:
        get_redis().set(done.redis_key, status_id, ex=settings.IDEMPOTENCY_KEY_SECONDS)
    except (redis.RedisError, OSError):
        logger.warning("could not record Idempotency-Key of status %s", status_id, exc_info=True)


def release(done: Claim) -> None:
    if done.redis_key is None:
        return
    try:
        get_redis().delete(done.redis_key)
    except (redis.RedisError, OSError):
        logger.warning("could not release an Idempotency-Key", exc_info=True)
