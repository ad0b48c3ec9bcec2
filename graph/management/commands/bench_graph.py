"""`manage.py bench_graph`: "who to follow" latency on the shared world, beside its baselines.

Builds the world first if this database has none (build_world). Then, on the PostgreSQL
backend whatever NEO4J_URI says, for accounts following 10, 100 and 1,000 others (taken
from the world, or probe accounts made once for the purpose):

- baselines: a `SELECT 1` round trip, and the "phase 0" pull query (a home page as one
  SQL join of posts and follows) for the same accounts;
- the friends-of-friends query alone (PostgresGraph);
- recommend_follows(user, limit=20) uncached (cache dropped before each call) and cached.

p50/p99 each, from --samples rounds rotating over the accounts of a group, the five calls
taking turns within a round so that load from elsewhere hits figures and baselines alike. Then outbox drain
throughput into Neo4j when one is configured and reachable, beside a direct write of the
same number of edges. Prints one line per figure, then a block to paste into the issue.
See /work/shared/benchmarks.md.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from accounts.models import User
from graph import store
from graph.backends import PostgresGraph
from graph.models import Follow, GraphOutbox
from graph.recommendations import OVERFETCH, SUGGESTIONS_MAX, recommend_follows
from socialnet.benchmarking import (
    Baseline,
    Figure,
    Target,
    as_baseline,
    format_figure,
    interleaved_latencies_ms,
    latency_figures,
    summary_block,
)

from .build_world import existing_world, probe_users

DEFAULT_FOLLOWING = (10, 100, 1000)
TARGET_FOLLOWING = 1000  # the targets are for accounts following 1,000
UNCACHED_P99_TARGET_MS = 500
CACHED_P99_TARGET_MS = 50
WARMUP_ROUNDS = 10
DRAIN_EDGES = 20_000
DRAIN_BATCH = 1000

PHASE0_PULL_SQL = """
    SELECT p.id FROM posts_post p JOIN graph_follow f ON p.author_id = f.followee_id
    WHERE f.follower_id = %s ORDER BY p.id DESC LIMIT 20
"""


@dataclass(frozen=True)
class Group:
    following: int
    users: list[User]
    probes: int  # how many of them were made for the benchmark rather than found in the world

    def describe(self) -> str:
        found = len(self.users) - self.probes
        return (
            f"following {self.following:,}: {len(self.users)} accounts ({found} from the world, {self.probes} probes)"
        )


class Command(BaseCommand):
    help = "Benchmark recommend_follows (and the Neo4j outbox drain) on the shared synthetic world."

    def add_arguments(self, parser):
        parser.add_argument(
            "--samples", type=int, default=1000, help="Timed rounds, one sample of each series each (default 1,000)."
        )
        parser.add_argument(
            "--following",
            default=",".join(map(str, DEFAULT_FOLLOWING)),
            help="Comma-separated group sizes: accounts following this many (default 10,100,1000).",
        )
        parser.add_argument("--accounts", type=int, default=5, help="Accounts per group, calls rotate (default 5).")
        parser.add_argument("--drain-edges", type=int, default=DRAIN_EDGES, help="Edges for the Neo4j drain figure.")

    def handle(self, *args, samples, following, accounts, drain_edges, **options):
        sizes = parse_sizes(following)
        if samples < 1 or accounts < 1:
            raise CommandError("--samples and --accounts must be at least 1.")
        call_command("build_world", stdout=self.stdout, stderr=self.stderr)
        world = existing_world()
        started = time.monotonic()
        groups = [self.group(size, accounts) for size in sizes]
        # The PostgreSQL backend is the one measured here, even where Neo4j is configured.
        with override_settings(NEO4J_URI=""):
            figures = [figure for group in groups for figure in self.measure_group(group, samples)]
        drain = self.measure_drain(drain_edges)
        figures += drain.figures
        context = [
            world.describe(),
            "backend: graph.backends.PostgresGraph (NEO4J_URI ignored); recs = recommend_follows(user, limit=20); "
            f"fof_query = PostgresGraph.friends_of_friends(limit={SUGGESTIONS_MAX + OVERFETCH})",
            *(group.describe() for group in groups),
            f"{samples:,} rounds after {WARMUP_ROUNDS} warm-up rounds, rotating over a group's accounts; a round "
            "drops the account's cached recommendations (untimed), then times select_1, phase0_pull, fof_query, "
            "recs_uncached, recs_cached in turn",
            f"p50/p99 by nearest rank; ratio = value / baseline; run took {time.monotonic() - started:.0f} s",
        ]
        self.stdout.write("")
        self.stdout.write(summary_block("bench_graph", context, figures, notes=drain.notes))

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def show(self, figures: list[Figure]) -> list[Figure]:
        for figure in figures:
            self.say(format_figure(figure))
        return figures

    def group(self, following: int, accounts: int) -> Group:
        users = list(User.objects.filter(pk__in=probe_users(following, accounts)).order_by("pk"))
        group = Group(following, users, sum(1 for user in users if user.username.startswith("wprobe")))
        self.say(group.describe())
        return group

    def measure_group(self, group: Group, samples: int) -> list[Figure]:
        users, label = group.users, f"following_{group.following}"
        graph, backend_limit = PostgresGraph(), SUGGESTIONS_MAX + OVERFETCH

        def user_of(i: int) -> User:
            return users[i % len(users)]

        durations = interleaved_latencies_ms(
            {
                "select_1": lambda i: run_select_one(),
                "phase0_pull": lambda i: run_phase0_pull(user_of(i).pk),
                "fof_query": lambda i: graph.friends_of_friends(user_of(i).pk, exclude_ids=(), limit=backend_limit),
                # In this order: the uncached call (cache dropped before the round) fills the
                # cache that the cached call then reads.
                "recs_uncached": lambda i: recommend_follows(user_of(i), limit=20),
                "recs_cached": lambda i: recommend_follows(user_of(i), limit=20),
            },
            samples,
            warmup=WARMUP_ROUNDS,
            before=lambda i: store.forget_recommendations(user_of(i).pk),
        )
        at_target = group.following == TARGET_FOLLOWING

        def targets(limit_ms: int) -> dict[str, Target] | None:
            return {"p99": Target("<", limit_ms)} if at_target else None

        select_one = latency_figures(f"select_1.{label}", durations["select_1"])
        phase0 = latency_figures(f"phase0_pull.{label}", durations["phase0_pull"], baselines=baselines_from(select_one))
        return self.show(
            [
                *select_one,
                *phase0,
                *latency_figures(f"fof_query.{label}", durations["fof_query"], baselines=baselines_from(phase0)),
                *latency_figures(
                    f"recs_uncached.{label}",
                    durations["recs_uncached"],
                    baselines=baselines_from(phase0),
                    targets=targets(UNCACHED_P99_TARGET_MS),
                ),
                *latency_figures(
                    f"recs_cached.{label}",
                    durations["recs_cached"],
                    baselines=baselines_from(select_one),
                    targets=targets(CACHED_P99_TARGET_MS),
                ),
            ]
        )

    def measure_drain(self, edges: int) -> "DrainFigures":
        result = measure_neo4j_drain(edges)
        for figure in result.figures:
            self.say(format_figure(figure))
        for note in result.notes:
            self.say(note)
        return result


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--following takes comma-separated numbers, not {text!r}.") from None
    if not sizes or min(sizes) < 1:
        raise CommandError("--following needs at least one size of 1 or more.")
    return sizes


def baselines_from(figures: list[Figure]) -> dict[str, Baseline]:
    """p50 compared with p50, p99 with p99."""
    return {figure.name.rsplit(" ", 1)[1]: as_baseline(figure) for figure in figures}


def run_select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def run_phase0_pull(user_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(PHASE0_PULL_SQL, [user_id])
        cursor.fetchall()


@dataclass(frozen=True)
class DrainFigures:
    figures: list[Figure]
    notes: list[str]


def measure_neo4j_drain(edges: int) -> DrainFigures:
    """Edges/s from the outbox into Neo4j, beside the same number written to Neo4j directly."""
    if not settings.NEO4J_URI:
        return DrainFigures([], ["neo4j_drain: not measured: NEO4J_URI is not set (no Neo4j configured here)"])
    from graph import neo4j_client

    try:
        neo4j_client.check_connectivity()
    except neo4j_client.NEO4J_ERRORS as error:
        reason = f"Neo4j at {settings.NEO4J_URI} unreachable: {neo4j_client.short_error(error)}"
        return DrainFigures([], [f"neo4j_drain: not measured: {reason}"])
    pairs = list(Follow.objects.order_by("id").values_list("follower_id", "followee_id")[: 2 * edges])
    direct, queued = pairs[:edges], pairs[edges:]
    if not queued:
        return DrainFigures([], ["neo4j_drain: not measured: the world has too few follows"])
    try:
        return time_neo4j_drain(direct, queued)
    except neo4j_client.NEO4J_ERRORS as error:
        reason = f"Neo4j failed during the run: {neo4j_client.short_error(error)}"
        return DrainFigures([], [f"neo4j_drain: not measured: {reason}"])


def time_neo4j_drain(direct: list[tuple[int, int]], queued: list[tuple[int, int]]) -> DrainFigures:
    from graph import mirror

    started = time.perf_counter()
    neo4j_mirror = mirror.Neo4jMirror()
    for start in range(0, len(direct), DRAIN_BATCH):
        neo4j_mirror.apply(direct[start : start + DRAIN_BATCH], [])
    ceiling = Figure("neo4j_direct_merge", len(direct) / (time.perf_counter() - started), "edges/s", len(direct))
    notes = []
    backlog_before = GraphOutbox.objects.count()
    if backlog_before:
        notes.append(f"neo4j_drain: the outbox already held {backlog_before:,} rows, drained too")
    GraphOutbox.objects.bulk_create(
        [GraphOutbox(follower_id=a, followee_id=b) for a, b in queued], batch_size=DRAIN_BATCH
    )
    started, done = time.perf_counter(), 0
    while True:
        result = mirror.drain_outbox(batch_size=DRAIN_BATCH)
        done += result.rows_done
        if result.backlog_left == 0 or result.rows_done == 0:
            break
    elapsed = time.perf_counter() - started
    if result.backlog_left:
        notes.append(f"neo4j_drain: stopped with {result.backlog_left:,} rows left (another drainer held the lock?)")
    drain = Figure("neo4j_drain", done / elapsed, "edges/s", done, baseline=as_baseline(ceiling))
    return DrainFigures([ceiling, drain], notes)
