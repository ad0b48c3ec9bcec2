"""The per-process connection pool (settings.DATABASES, socialnet/db_pool.py)."""

import os

from dj_db_conn_pool.core import pool_container
from django.db import connection


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def session_started_at():
    with connection.cursor() as cursor:
        cursor.execute("SELECT backend_start, clock_timestamp() FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        return cursor.fetchone()


def test_a_closed_connection_goes_back_to_the_pool_and_comes_out_again(transactional_db):
    _started, closed_at = session_started_at()
    connection.close()  # what Django does at the end of every request (CONN_MAX_AGE=0)

    started, _now = session_started_at()
    assert started < closed_at  # a pooled session, not a PostgreSQL backend started for this


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(transactional_db):
    parent = backend_pid()
    child = os.fork()
    if child == 0:  # the child: report through the exit code only
        status = 1
        try:
            inherited = len(pool_container)
            os.close(connection.connection.fileno())  # as Celery's fixup drops an inherited connection
            connection.connection = None
            own = backend_pid()
            status = 0 if inherited == 0 and own != parent else 2
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(wait_status) == 0
    assert backend_pid() == parent  # the parent's session survived the child
