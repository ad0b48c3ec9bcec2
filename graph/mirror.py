"""Keeps Neo4j's :FOLLOWS edges equal to PostgreSQL's follow table.

Two ways in:

- `drain_outbox` (the Celery task, after every follow change and on a beat schedule):
  takes the oldest GraphOutbox rows, looks up each named pair's *current* state in the
  follow table and makes Neo4j match it. Because it writes the truth rather than replaying
  events, duplicated, replayed and out-of-order rows all converge.
- `full_sync` (`manage.py graph_sync --full`): compares both stores range by range and
  fixes every difference, for turning Neo4j on later or repairing a damaged mirror.

Both hold one PostgreSQL advisory lock while they write, so they never interleave: a drain
racing a repair could otherwise delete an edge the repair had just read as missing.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from django.db import connection, transaction
from django.db.models import Count, Min

from . import cypher, neo4j_client
from .models import Follow, GraphOutbox

logger = logging.getLogger(__name__)

Edge = tuple[int, int]  # (follower_id, followee_id)

# Any constant shared by every process of the deployment: the ASCII of "graphmir".
MIRROR_LOCK_KEY = 0x67726170686D6972
# Upper bound of the last full-sync range: PostgreSQL bigint's maximum, also Neo4j's.
MAX_USER_ID = 2**63 - 1
# How many batches one drain call takes before handing over to a fresh task, so no task
# runs long enough to meet the broker's visibility timeout.
DEFAULT_MAX_BATCHES = 20

EXISTING_FOLLOWS_SQL = """
    SELECT follow.follower_id, follow.followee_id
    FROM unnest(%(followers)s::bigint[], %(followees)s::bigint[]) AS pair(follower_id, followee_id)
    JOIN graph_follow AS follow USING (follower_id, followee_id)
"""


class MirrorStore(Protocol):
    """What the mirror logic needs from Neo4j. `Neo4jMirror` is the real one."""

    def apply(self, present: Sequence[Edge], absent: Sequence[Edge]) -> None:
        """Make `present` edges exist and `absent` ones not, in one transaction."""
        ...

    def follower_id_at(self, after: int, offset: int) -> int | None:
        """The follower id of the (offset + 1)-th edge above `after` in follower order."""
        ...

    def edges_in_range(self, after: int, until: int) -> set[Edge]:
        """Every edge whose follower id is in (after, until]."""
        ...


class Neo4jMirror:
    def apply(self, present: Sequence[Edge], absent: Sequence[Edge]) -> None:
        statements = []
        if present:
            statements.append((cypher.MERGE_FOLLOWS, {"rows": _as_rows(present)}))
        if absent:
            statements.append((cypher.DELETE_FOLLOWS, {"rows": _as_rows(absent)}))
        if statements:
            neo4j_client.write_in_one_transaction(statements)

    def follower_id_at(self, after: int, offset: int) -> int | None:
        parameters = {"after": after, "offset": offset}
        records = neo4j_client.read_records(cypher.FOLLOWER_ID_AT_OFFSET, parameters, in_request=False)
        return records[0]["follower_id"] if records else None

    def edges_in_range(self, after: int, until: int) -> set[Edge]:
        parameters = {"after": after, "until": until}
        records = neo4j_client.read_records(cypher.FOLLOWS_IN_FOLLOWER_RANGE, parameters, in_request=False)
        return {(record["follower_id"], record["followee_id"]) for record in records}

    def edge_count(self) -> int:
        (record,) = neo4j_client.read_records(cypher.COUNT_FOLLOWS, {}, in_request=False)
        return record["edges"]


@dataclass(frozen=True)
class DrainResult:
    edges_merged: int = 0  # pairs sent to Neo4j as existing (MERGE: new or already there)
    edges_deleted: int = 0  # pairs sent to Neo4j as gone (DELETE: removed or already absent)
    rows_done: int = 0  # outbox rows consumed
    backlog_left: int = 0  # outbox rows still waiting when the drain returned
    other_drainer_running: bool = False  # returned at once: another process holds the lock


class _Batch(NamedTuple):
    edges_merged: int
    edges_deleted: int
    rows_done: int


def drain_outbox(
    batch_size: int = 1000, max_batches: int = DEFAULT_MAX_BATCHES, mirror: MirrorStore | None = None
) -> DrainResult:
    """Mirror up to `max_batches` batches of queued edge changes into Neo4j.

    Each batch is one PostgreSQL transaction around one Neo4j write transaction: the
    outbox rows are deleted only if Neo4j accepted the batch. If Neo4j fails, that batch's
    rows stay and the error propagates (earlier batches remain done).
    """
    mirror = mirror or Neo4jMirror()
    batches: list[_Batch] = []
    other_drainer_running = False
    for _ in range(max_batches):
        batch = _drain_batch(mirror, batch_size)
        if batch is None:
            other_drainer_running = True
            break
        batches.append(batch)
        if batch.rows_done < batch_size:
            break
    return DrainResult(
        edges_merged=sum(batch.edges_merged for batch in batches),
        edges_deleted=sum(batch.edges_deleted for batch in batches),
        rows_done=sum(batch.rows_done for batch in batches),
        backlog_left=GraphOutbox.objects.count(),
        other_drainer_running=other_drainer_running,
    )


def backlog_status() -> tuple[int, datetime | None]:
    """(outbox rows waiting, when the oldest was queued): a growing age means Neo4j is behind."""
    status = GraphOutbox.objects.aggregate(count=Count("id"), oldest=Min("created_at"))
    return status["count"], status["oldest"]


def _drain_batch(mirror: MirrorStore, batch_size: int) -> _Batch | None:
    with transaction.atomic():
        if not _try_lock_mirror():
            return None
        rows = list(GraphOutbox.objects.order_by("id").values_list("id", "follower_id", "followee_id")[:batch_size])
        if not rows:
            return _Batch(0, 0, 0)
        pairs = {(follower_id, followee_id) for _, follower_id, followee_id in rows}
        present = _existing_follows(pairs)
        absent = pairs - present
        mirror.apply(sorted(present), sorted(absent))
        GraphOutbox.objects.filter(id__in=[row_id for row_id, _, _ in rows]).delete()
    return _Batch(len(present), len(absent), len(rows))


def _existing_follows(pairs: set[Edge]) -> set[Edge]:
    """Which of these pairs the follow table holds right now (one query on its unique index)."""
    followers, followees = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(EXISTING_FOLLOWS_SQL, {"followers": list(followers), "followees": list(followees)})
        return {(follower_id, followee_id) for follower_id, followee_id in cursor.fetchall()}


def _try_lock_mirror() -> bool:
    # Transaction-scoped: released by commit or rollback, so a crashed drainer never holds it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [MIRROR_LOCK_KEY])
        return cursor.fetchone()[0]


def _lock_mirror() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MIRROR_LOCK_KEY])


def _as_rows(edges: Sequence[Edge]) -> list[dict[str, int]]:
    return [{"follower_id": follower_id, "followee_id": followee_id} for follower_id, followee_id in edges]


# --- Full sync ------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeDifference:
    """What one full-sync range found and fixed: edges of followers in (after, until]."""

    after: int
    until: int
    added: list[Edge]  # in PostgreSQL, missing from Neo4j
    removed: list[Edge]  # in Neo4j, not in PostgreSQL
    unchanged: int
    outbox_rows_cleared: int


@dataclass
class SyncReport:
    edges_added: int = 0
    edges_removed: int = 0
    edges_unchanged: int = 0
    outbox_rows_cleared: int = 0
    ranges: int = 0

    def include(self, difference: RangeDifference) -> None:
        self.edges_added += len(difference.added)
        self.edges_removed += len(difference.removed)
        self.edges_unchanged += difference.unchanged
        self.outbox_rows_cleared += difference.outbox_rows_cleared
        self.ranges += 1


def full_sync(
    batch_size: int = 10_000,
    mirror: MirrorStore | None = None,
    on_range: Callable[[RangeDifference], None] | None = None,
) -> SyncReport:
    """Make Neo4j's edges equal PostgreSQL's, walking follower ids in keyset ranges.

    Each range holds about `batch_size` edges on both sides (plus the rest of the last
    follower's), so memory is bounded by the range, not the graph. The outbox rows of a
    range are cleared in the same transaction, since the range's repair covers them.
    """
    mirror = mirror or Neo4jMirror()
    report = SyncReport()
    after = 0  # user ids start at 1
    while after < MAX_USER_ID:
        until = _range_end(mirror, after, batch_size)
        difference = _sync_range(mirror, after, until)
        report.include(difference)
        if on_range is not None:
            on_range(difference)
        after = until
    return report


def _range_end(mirror: MirrorStore, after: int, batch_size: int) -> int:
    """The follower id where the next range ends: whichever store reaches `batch_size` edges first."""
    offset = batch_size - 1
    ends = [end for end in (_follower_id_at(after, offset), mirror.follower_id_at(after, offset)) if end is not None]
    return min(ends, default=MAX_USER_ID)


def _follower_id_at(after: int, offset: int) -> int | None:
    follower_ids = Follow.objects.filter(follower_id__gt=after).order_by("follower_id").values_list("follower_id")
    return next((follower_id for (follower_id,) in follower_ids[offset : offset + 1]), None)


def _sync_range(mirror: MirrorStore, after: int, until: int) -> RangeDifference:
    with transaction.atomic():
        # Waits for a drain batch in progress, and keeps drains out until this range is done.
        _lock_mirror()
        # Outbox rows first: each row deleted here was committed before the read below, so
        # that read already reflects its change. Rows committed later stay for the drainer.
        cleared, _ = GraphOutbox.objects.filter(follower_id__gt=after, follower_id__lte=until).delete()
        in_range = Follow.objects.filter(follower_id__gt=after, follower_id__lte=until).order_by()
        truth = set(in_range.values_list("follower_id", "followee_id"))
        mirrored = mirror.edges_in_range(after, until)
        added, removed = sorted(truth - mirrored), sorted(mirrored - truth)
        mirror.apply(added, removed)
    return RangeDifference(after, until, added, removed, len(truth & mirrored), cleared)
