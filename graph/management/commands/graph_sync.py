"""`manage.py graph_sync`: the Neo4j mirror by hand.

    graph_sync            drain the outbox once, now, and print what was mirrored
    graph_sync --status   backlog size, age of its oldest row, and whether Neo4j answers
    graph_sync --full     rebuild/repair Neo4j from PostgreSQL and print the differences fixed

Errors are one line (a CommandError), never a traceback: the usual ones are "not
configured" and "unreachable", and neither loses anything, since the outbox stays.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from graph import mirror, neo4j_client
from graph.models import Follow

# A malformed NEO4J_URI (a port that is not a number) only surfaces, as ValueError, on first use.
NEO4J_FAILURES = (*neo4j_client.NEO4J_ERRORS, ValueError)
NOT_CONFIGURED = "Neo4j is not configured: set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to mirror the graph."
# Edges listed per range at --verbosity 2; the counts always cover all of them.
LISTED_EDGES_PER_RANGE = 10


class Command(BaseCommand):
    help = "Mirror the follow graph into Neo4j: drain the outbox now (default), --status, or --full."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--status", action="store_true", help="Print the backlog and whether Neo4j is reachable.")
        mode.add_argument(
            "--full", action="store_true", help="Rebuild/repair Neo4j from PostgreSQL; print the differences fixed."
        )
        parser.add_argument("--batch-size", type=int, help="Rows per drain batch, or edges per --full range.")

    def handle(self, *args, status: bool, full: bool, batch_size: int | None, **options):
        if status:
            self._print_status()
            return
        if not neo4j_client.is_configured():
            raise CommandError(NOT_CONFIGURED)
        # Checked first: fails fast with the driver's reason, rather than after its retries
        # (or not at all, when there happens to be nothing to drain).
        if reason := _unreachable_reason():
            raise CommandError(f"Neo4j is unreachable at {settings.NEO4J_URI}: {reason}")
        try:
            if full:
                self._full_sync(batch_size or 10_000, options["verbosity"])
            else:
                self._drain(batch_size or 1000)
        except neo4j_client.NEO4J_ERRORS as error:
            raise CommandError(
                f"Neo4j at {settings.NEO4J_URI} failed, the outbox is kept: {neo4j_client.short_error(error)}"
            ) from None

    def _print_status(self) -> None:
        count, oldest = mirror.backlog_status()
        if oldest is None:
            self.stdout.write("Outbox backlog: 0 rows.")
        else:
            age = (timezone.now() - oldest).total_seconds()
            self.stdout.write(
                f"Outbox backlog: {count} rows; oldest queued {age:.0f} s ago ({oldest:%Y-%m-%d %H:%M:%S} UTC)."
            )
        self.stdout.write(f"Neo4j: {_neo4j_state()}")

    def _drain(self, batch_size: int) -> None:
        result = mirror.drain_outbox(batch_size=batch_size)
        if result.other_drainer_running:
            self.stdout.write(f"Another drain is running; nothing done here. Backlog: {result.backlog_left} rows.")
            return
        self.stdout.write(
            f"Drained {result.rows_done} outbox rows: {result.edges_merged} edges merged, "
            f"{result.edges_deleted} deleted. Backlog left: {result.backlog_left} rows."
        )

    def _full_sync(self, batch_size: int, verbosity: int) -> None:
        on_range = self._print_range if verbosity >= 2 else None
        report = mirror.full_sync(batch_size=batch_size, on_range=on_range)
        self.stdout.write(
            f"Full sync: {report.edges_added} edges added to Neo4j, {report.edges_removed} removed, "
            f"{report.edges_unchanged} unchanged; {report.outbox_rows_cleared} outbox rows cleared "
            f"({report.ranges} ranges)."
        )

    def _print_range(self, difference: mirror.RangeDifference) -> None:
        until = "end" if difference.until == mirror.MAX_USER_ID else difference.until
        self.stdout.write(
            f"followers ({difference.after}, {until}]: +{len(difference.added)} "
            f"-{len(difference.removed)} ={difference.unchanged}"
        )
        for sign, edges in (("+", difference.added), ("-", difference.removed)):
            for follower_id, followee_id in edges[:LISTED_EDGES_PER_RANGE]:
                self.stdout.write(f"  {sign} {follower_id} -> {followee_id}")


def _neo4j_state() -> str:
    if not neo4j_client.is_configured():
        return "not configured (NEO4J_URI is empty); follows are not mirrored."
    if reason := _unreachable_reason():
        return f"unreachable at {settings.NEO4J_URI}: {reason}"
    try:
        mirrored = mirror.Neo4jMirror().edge_count()
    except neo4j_client.NEO4J_ERRORS as error:
        return f"reachable at {settings.NEO4J_URI}, but counting edges failed: {neo4j_client.short_error(error)}"
    return f"reachable at {settings.NEO4J_URI}; {mirrored} edges mirrored, {Follow.objects.count()} in PostgreSQL."


def _unreachable_reason() -> str | None:
    try:
        neo4j_client.check_connectivity()
    except NEO4J_FAILURES as error:
        return neo4j_client.short_error(error)
    return None
