"""The one Neo4j driver of a process, and the timeouts every use of it shares.

The driver is thread-safe and holds the connection pool, so a process keeps one and opens
a short session per unit of work. It is built lazily from settings (a process that never
touches Neo4j never connects) and rebuilt after a fork: a Celery prefork child inherits
the parent's sockets, and two processes talking over one Bolt connection corrupt it.

Neo4j holds derived data only. Every call is bounded by a few seconds so that a slow or
absent Neo4j costs a web request a fallback to PostgreSQL, never a hang.
"""

import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import neo4j
from django.conf import settings
from neo4j.exceptions import ConfigurationError, DriverError, Neo4jError

from . import cypher

logger = logging.getLogger(__name__)

# Everything the driver raises: errors from the server (Neo4jError) and from the driver
# itself, including ServiceUnavailable and SessionExpired (DriverError).
NEO4J_ERRORS = (Neo4jError, DriverError)

CONNECT_TIMEOUT_SECONDS = 2.0
# Waiting for a pooled connection includes opening one, so it must exceed the connect timeout.
ACQUISITION_TIMEOUT_SECONDS = 3.0
# A connection idle this long is pinged before use: after a Neo4j restart the pool's
# sockets are dead, and a read with no retries would otherwise fail on its first use.
LIVENESS_CHECK_SECONDS = 30.0
# Inside a web request: one attempt and a short server-side timeout, then the caller
# falls back to PostgreSQL.
REQUEST_RETRY_SECONDS = 0.0
REQUEST_TIMEOUT_SECONDS = 2.0
# Workers and commands: managed transactions retry transient errors (a leader switch, a
# deadlock) for a few seconds; the Celery task's own backoff takes over after that.
BACKGROUND_RETRY_SECONDS = 5.0
BACKGROUND_TIMEOUT_SECONDS = 30.0


@dataclass
class _ProcessDriver:
    driver: neo4j.Driver
    pid: int
    uri: str
    user: str
    constraints_ensured: bool = False


_current: _ProcessDriver | None = None
_lock = threading.Lock()


def is_configured() -> bool:
    """Whether this deployment mirrors the graph into Neo4j at all."""
    return bool(settings.NEO4J_URI)


def get_driver() -> neo4j.Driver:
    return _process_driver().driver


@contextmanager
def session(*, in_request: bool):
    """A session for one unit of work, with the retry budget of a request or of a worker."""
    retry_seconds = REQUEST_RETRY_SECONDS if in_request else BACKGROUND_RETRY_SECONDS
    with get_driver().session(max_transaction_retry_time=retry_seconds) as neo4j_session:
        yield neo4j_session


def read_records(query: str, parameters: dict, *, in_request: bool) -> list[neo4j.Record]:
    """Run one read query in a read transaction (routed to a reader in a cluster)."""
    timeout = REQUEST_TIMEOUT_SECONDS if in_request else BACKGROUND_TIMEOUT_SECONDS
    with session(in_request=in_request) as neo4j_session:
        return neo4j_session.execute_read(neo4j.unit_of_work(timeout=timeout)(_all_records), query, parameters)


def write_in_one_transaction(statements: list[tuple[str, dict]]) -> None:
    """Run write statements in one transaction: all of them take effect or none does."""
    ensure_constraints()
    with session(in_request=False) as neo4j_session:
        work = neo4j.unit_of_work(timeout=BACKGROUND_TIMEOUT_SECONDS)(_run_all)
        neo4j_session.execute_write(work, statements)


def ensure_constraints() -> None:
    """Create the :User(id) uniqueness constraint once per process, before the first write."""
    current = _process_driver()
    if current.constraints_ensured:
        return
    query = neo4j.Query(cypher.CREATE_USER_ID_CONSTRAINT, timeout=BACKGROUND_TIMEOUT_SECONDS)
    current.driver.execute_query(query)
    # Two threads may both get here; IF NOT EXISTS makes the second statement a no-op.
    current.constraints_ensured = True


def check_connectivity() -> None:
    """Raise one of NEO4J_ERRORS unless the server answers with these credentials."""
    get_driver().verify_connectivity()


def close_driver() -> None:
    """Close this process's driver (worker shutdown, tests); the next use builds a new one."""
    global _current
    with _lock:
        if _current is not None and _current.pid == os.getpid():
            _current.driver.close()
        _current = None


def short_error(error: Exception) -> str:
    """The driver's multi-line messages folded to one line, for logs and command output."""
    return " ".join(str(error).split()) or type(error).__name__


def _process_driver() -> _ProcessDriver:
    global _current
    with _lock:
        if not _is_current(_current):
            _retire(_current)
            _current = _build()
        return _current


def _is_current(candidate: _ProcessDriver | None) -> bool:
    # Settings are compared too, so tests (and a reconfigured shell) never reuse a driver
    # pointed at another server.
    return (
        candidate is not None
        and candidate.pid == os.getpid()
        and candidate.uri == settings.NEO4J_URI
        and candidate.user == settings.NEO4J_USER
    )


def _retire(previous: _ProcessDriver | None) -> None:
    if previous is None:
        return
    if previous.pid != os.getpid():
        # Inherited across fork: closing would say goodbye on sockets the parent still
        # uses. Dropping the reference leaves the parent's connections alone.
        return
    previous.driver.close()


def _build() -> _ProcessDriver:
    if not is_configured():
        raise ConfigurationError("Neo4j is not configured (NEO4J_URI is empty).")
    auth = (settings.NEO4J_USER, settings.NEO4J_PASSWORD) if settings.NEO4J_PASSWORD else None
    driver = neo4j.GraphDatabase.driver(
        settings.NEO4J_URI,
        auth=auth,
        connection_timeout=CONNECT_TIMEOUT_SECONDS,
        connection_acquisition_timeout=ACQUISITION_TIMEOUT_SECONDS,
        liveness_check_timeout=LIVENESS_CHECK_SECONDS,
        max_transaction_retry_time=BACKGROUND_RETRY_SECONDS,
    )
    logger.debug("Neo4j driver created for %s in process %s", settings.NEO4J_URI, os.getpid())
    return _ProcessDriver(driver=driver, pid=os.getpid(), uri=settings.NEO4J_URI, user=settings.NEO4J_USER)


def _all_records(tx: neo4j.ManagedTransaction, query: str, parameters: dict) -> list[neo4j.Record]:
    # Results must be consumed inside the transaction function; records outlive it.
    return list(tx.run(query, parameters))


def _run_all(tx: neo4j.ManagedTransaction, statements: list[tuple[str, dict]]) -> None:
    for query, parameters in statements:
        tx.run(query, parameters).consume()
