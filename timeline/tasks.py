"""Celery entry points for timelines: thin, idempotent, take ids.

All are acks_late (settings): a worker killed mid-task has its task redelivered after
CELERY_VISIBILITY_TIMEOUT, and the fan-out sweep re-enqueues any post still unmarked a
minute after creation, whichever comes first. Re-running any of them changes nothing.
"""

import logging
from datetime import timedelta

import redis
from celery import shared_task

from socialnet.redis_client import get_redis, key

from . import services

logger = logging.getLogger(__name__)

REDIS_RETRY = {"autoretry_for": (redis.RedisError,), "retry_backoff": 1, "retry_backoff_max": 60, "max_retries": 8}
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_HORIZON = timedelta(days=1)  # older unmarked posts are left to rebuilds, not replayed
RESWEEP_PAUSE_SECONDS = 120  # a post the sweep re-enqueued is not re-enqueued again for this long


@shared_task(**REDIS_RETRY)
def fan_out_post(post_id: int, after_follower_id: int = 0) -> None:
    """One batch of a post's fan-out; a large audience continues in a chain of batch tasks."""
    next_after = services.fan_out_batch(post_id, after_follower_id)
    if next_after is not None:
        fan_out_post.delay(post_id, next_after)


@shared_task(**REDIS_RETRY)
def retract_post(post_id: int, after_follower_id: int = 0) -> None:
    next_after = services.retract_batch(post_id, after_follower_id)
    if next_after is not None:
        retract_post.delay(post_id, next_after)


@shared_task(**REDIS_RETRY)
def backfill_timeline(user_id: int, author_id: int) -> None:
    services.backfill(user_id, author_id)


@shared_task(**REDIS_RETRY)
def purge_timeline(user_id: int, author_id: int, with_reposts_of_them: bool = False) -> None:
    services.purge(user_id, author_id, with_reposts_of_them=with_reposts_of_them)


@shared_task(**REDIS_RETRY)
def rebuild_home_timeline(user_id: int) -> None:
    services.rebuild_home(user_id)


@shared_task(**REDIS_RETRY)
def rebuild_vip_posts(author_id: int) -> None:
    services.rebuild_vip_posts(author_id)


@shared_task(**REDIS_RETRY)
def catch_up_demoted_vip(author_id: int, after_follower_id: int = 0) -> None:
    next_after = services.catch_up_batch(author_id, after_follower_id)
    if next_after is not None:
        catch_up_demoted_vip.delay(author_id, next_after)


@shared_task
def refresh_vip_flags() -> None:
    promoted, demoted = services.refresh_vip_flags()
    for author_id in promoted:
        rebuild_vip_posts.delay(author_id)
    for author_id in demoted:
        catch_up_demoted_vip.delay(author_id)


@shared_task
def sweep_unfanned_posts() -> int:
    """Safety net: re-enqueue posts whose fan-out was lost (crash after commit, dead worker)."""
    client = get_redis()
    enqueued = 0
    for post_id in services.posts_awaiting_fan_out(older_than=SWEEP_AFTER, newer_than=SWEEP_HORIZON):
        if client.set(key("fanout-swept", post_id), 1, nx=True, ex=RESWEEP_PAUSE_SECONDS):
            fan_out_post.delay(post_id)
            enqueued += 1
    if enqueued:
        logger.warning("sweep re-enqueued the fan-out of %d posts", enqueued)
    return enqueued


def request_rebuild(user_id: int) -> None:
    """Ask for a home timeline rebuild at most once per half minute per user (readers call this)."""
    if get_redis().set(key("rebuild-requested", user_id), 1, nx=True, ex=30):
        rebuild_home_timeline.delay(user_id)


def request_vip_rebuild(author_id: int) -> None:
    if get_redis().set(key("vip-rebuild-requested", author_id), 1, nx=True, ex=30):
        rebuild_vip_posts.delay(author_id)
