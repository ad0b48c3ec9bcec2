"""Celery entry points of graph: draining the Neo4j mirror's outbox.

A follow queues a drain after commit (`schedule_mirror_drain`), a Redis flag makes a burst
of follows queue one drain rather than one each, and a beat entry drains every 30 s as a
safety net for anything a lost publish or a crashed worker left behind.
"""

import logging

import redis
from celery import shared_task
from celery.signals import worker_process_shutdown
from kombu.exceptions import KombuError

from . import mirror, neo4j_client, store

logger = logging.getLogger(__name__)

# Publishing runs after commit inside a request: at most one quick retry (a pooled broker
# connection gone stale), then give up and leave it to the beat safety net.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=neo4j_client.NEO4J_ERRORS,
    # About a minute of backing off in all; past that the beat safety net retries anyway,
    # and short-lived retries keep an outage from piling up waiting tasks.
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def drain_graph_outbox() -> None:
    if not neo4j_client.is_configured():
        return
    # Released first, so a follow committed while this drain runs queues the next one.
    _release_drain_slot()
    try:
        result = mirror.drain_outbox()
    except neo4j_client.NEO4J_ERRORS as error:
        logger.warning("Neo4j mirror drain failed, outbox kept for a retry: %s", neo4j_client.short_error(error))
        # While this task backs off, new follows need not queue drains that would fail too.
        _hold_drain_slot()
        raise
    if result.rows_done and result.backlog_left:
        # More than one run's worth was waiting: continue in a fresh task.
        schedule_mirror_drain()


def schedule_mirror_drain() -> None:
    """Queue one drain unless one is already queued. Never raises: it runs after commit,
    inside the request whose follow already succeeded."""
    if not neo4j_client.is_configured():
        return
    try:
        if not store.claim_drain_slot():
            return
    except redis.RedisError as error:
        logger.warning("could not queue a Neo4j mirror drain (Redis: %s); the beat safety net will", error)
        return
    try:
        drain_graph_outbox.apply_async(retry_policy=PUBLISH_RETRY_POLICY)
    except (KombuError, redis.RedisError, OSError) as error:
        logger.warning("could not queue a Neo4j mirror drain (broker: %s); the beat safety net will", error)
        # Free the slot, so the next follow tries again instead of waiting for it to expire.
        _release_drain_slot()


@worker_process_shutdown.connect
def close_neo4j_driver(**_signal_arguments) -> None:
    neo4j_client.close_driver()


def _release_drain_slot() -> None:
    try:
        store.release_drain_slot()
    except redis.RedisError as error:
        logger.warning("could not release the Neo4j drain slot (it expires by itself): %s", error)


def _hold_drain_slot() -> None:
    try:
        store.claim_drain_slot()
    except redis.RedisError as error:
        logger.warning("could not hold the Neo4j drain slot: %s", error)
