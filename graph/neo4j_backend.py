"""The GraphBackend that answers from the Neo4j mirror (used when NEO4J_URI is set).

Reads run in read transactions with a short server-side timeout and no retries: they are
asked inside web requests, and the caller falls back to PostgresGraph on any of
neo4j_client.NEO4J_ERRORS. After a failure this backend refuses at once for a short
cool-down, so an unreachable Neo4j costs one request a connect timeout, not every request.
"""

import threading
import time
from collections.abc import Collection

from django.conf import settings
from neo4j.exceptions import ServiceUnavailable

from . import cypher, neo4j_client
from .backends import VIA_SAMPLE_SIZE, Candidate

COOL_DOWN_SECONDS = 15.0

_failed_at: dict[str, float] = {}  # NEO4J_URI -> time.monotonic() of its last failed read
_failed_at_lock = threading.Lock()


class Neo4jGraph:
    name = "neo4j"

    def friends_of_friends(self, user_id: int, *, exclude_ids: Collection[int], limit: int) -> list[Candidate]:
        parameters = {
            "user_id": user_id,
            "exclude_ids": list(exclude_ids),
            "max_candidates": limit,
            "via_limit": VIA_SAMPLE_SIZE,
        }
        records = _read(cypher.FRIENDS_OF_FRIENDS, parameters)
        return [Candidate(record["user_id"], record["score"], tuple(record["via_ids"])) for record in records]

    def mutual_follows(self, viewer_id: int, other_id: int, *, limit: int) -> tuple[list[int], int]:
        parameters = {"viewer_id": viewer_id, "other_id": other_id, "max_ids": limit}
        (record,) = _read(cypher.MUTUAL_FOLLOWS, parameters)
        return list(record["mutual_ids"]), record["total"]


def _read(query: str, parameters: dict) -> list:
    _refuse_while_cooling_down()
    try:
        return neo4j_client.read_records(query, parameters, in_request=True)
    except neo4j_client.NEO4J_ERRORS:
        with _failed_at_lock:
            _failed_at[settings.NEO4J_URI] = time.monotonic()
        raise


def _refuse_while_cooling_down() -> None:
    with _failed_at_lock:
        failed_at = _failed_at.get(settings.NEO4J_URI)
    if failed_at is None:
        return
    waited = time.monotonic() - failed_at
    if waited < COOL_DOWN_SECONDS:
        raise ServiceUnavailable(f"Neo4j failed {waited:.1f}s ago; not asking again for {COOL_DOWN_SECONDS:.0f}s")
