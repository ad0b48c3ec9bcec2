"""Forked children must not share the parent's pooled database connections.

The pool (django-db-connection-pool, configured in settings) lives in the process. A child
made by fork() (Celery's prefork workers) would inherit it, and two processes talking over
one PostgreSQL socket corrupt each other's sessions. After a fork the child starts with an
empty pool. The inherited connections are kept referenced, never closed or collected: closing
one would send PostgreSQL a Terminate on the parent's socket.
"""

import os

from dj_db_conn_pool.core import pool_container

_inherited_pools: list = []


def _start_child_with_empty_pools() -> None:
    with pool_container.lock:
        _inherited_pools.extend(pool_container.values())
        pool_container.clear()


os.register_at_fork(after_in_child=_start_child_with_empty_pools)
