"""`manage.py bench_admin`: latency of the moderators' admin changelists on the benchmark world.

Run against the database `build_world` filled (≥ 1 M posts). Everything it writes (a
moderator, open reports, log rows, a few hidden posts and suspended accounts, so that each
list and filter has something to show) is inside one transaction that is rolled back at
the end: the world is left exactly as it was. Requests go through Django's test client
in this process, one at a time (gentle on a shared machine), logged in as the moderator.

Each list is timed with `--requests` requests after a warm-up and printed as p50 / p95 /
max beside the admin index page measured the same way (the floor: session, permissions,
template), with the SQL queries one request makes and the total the page shows. The
"Django default" line is the posts list with Django's stock paginator and full result
count, the COUNT(*) this admin avoids, timed with fewer requests.
"""

import random
import re
import statistics
import time
from dataclasses import dataclass

from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.paginator import Paginator
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ModerationAction, Report, User
from accounts.moderation import MODERATORS_GROUP
from posts.models import Post

# Recognised by build_world as a world account, should a crash ever leave it behind (it cannot: rollback).
BENCH_MODERATOR = "wbench_moderator"
BENCH_EMAIL = f"{BENCH_MODERATOR}@world.invalid"
TARGET_P95_MS = 300
WORLD_MIN_POSTS = 1_000_000
SERVER_NAME = "127.0.0.1"
TOTAL_RE = re.compile(r'<p class="paginator">.*?([\d,]+)\s+([a-z ]+?)\s*(?:<|$)', re.S)


class Rollback(Exception):
    """Raised to leave the atomic block: nothing this command wrote may stay."""


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    samples_ms: list[float]
    queries: int
    total: str

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time the moderators' admin changelists on the benchmark world (everything written is rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per list (default 200).")
        parser.add_argument("--warmup", type=int, default=5)
        parser.add_argument("--reports", type=int, default=2_000, help="Open reports to create (rolled back).")
        parser.add_argument("--log-rows", type=int, default=20_000, help="Moderation log rows (rolled back).")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--only", default="", help="Only the lists whose name contains this (and the floor).")

    def handle(self, *args, requests, warmup, reports, log_rows, seed, only, **options):
        posts = _estimated_rows(Post._meta.db_table)
        if posts < WORLD_MIN_POSTS:
            raise CommandError(f"This database has about {posts:,} posts; run it on the build_world database.")
        self.stdout.write(f"activity before: {_activity()}")
        results = []
        try:
            with transaction.atomic():
                moderator = _bench_moderator()
                names = _fill_queues(random.Random(seed), moderator, reports, log_rows)
                client = Client(SERVER_NAME=SERVER_NAME)
                client.force_login(moderator)
                scenarios = _scenarios(names)
                for scenario in [scenarios[0]] + [s for s in scenarios[1:] if only in s.name]:
                    results.append(_measure(client, scenario, warmup, requests))
                    self.stdout.write(f"  measured {scenario.name}")
                if not only:
                    results.append(_measure_django_default(client, warmup, max(20, requests // 10)))
                raise Rollback
        except Rollback:
            pass
        self.stdout.write(f"activity after: {_activity()}")
        self.stdout.write(_report(results, posts))


def _bench_moderator() -> User:
    moderator = User.objects.create_user(BENCH_MODERATOR, BENCH_EMAIL, is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return moderator


def _fill_queues(rng: random.Random, moderator: User, reports: int, log_rows: int) -> dict[str, str]:
    """Reports, log rows, hidden posts and suspended accounts for the lists to show."""
    max_post = Post.objects.order_by("-id").values_list("id", flat=True)[:1][0]
    min_post = Post.objects.order_by("id").values_list("id", flat=True)[:1][0]
    sample = list(
        Post.objects.filter(id__gte=rng.randint(min_post, max_post))
        .order_by("id")
        .values_list("id", "author_id")[: reports * 2]
    )
    user_ids = list(User.objects.filter(email__endswith="@world.invalid").values_list("id", flat=True)[:50_000])
    created = Report.objects.bulk_create(
        [
            Report(reporter_id=rng.choice(user_ids), target_id=author, category="spam", comment="bench report")
            for _, author in sample[:reports]
        ]
    )
    created = [r for r in created if r.reporter_id != r.target_id]
    Report.posts.through.objects.bulk_create(
        [
            Report.posts.through(report_id=r.pk, post_id=post_id)
            for r, (post_id, _) in zip(created, sample, strict=False)
        ]
    )
    kinds = list(ModerationAction.Kind)
    ModerationAction.objects.bulk_create(
        [
            ModerationAction(
                moderator=moderator, action=rng.choice(kinds), target_user_id=rng.choice(user_ids), reason="bench"
            )
            for _ in range(log_rows)
        ],
        batch_size=5_000,
    )
    hidden = [post_id for post_id, _ in sample[reports : reports + 500]]
    Post.objects.filter(pk__in=hidden).update(is_hidden=True, hidden_reason="bench")
    User.objects.filter(pk__in=rng.sample(user_ids, min(200, len(user_ids) // 10))).update(is_suspended=True)
    with connection.cursor() as cursor:
        for model in (Report, Report.posts.through, ModerationAction):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    author = User.objects.get(pk=sample[0][1])
    return {"author": author.username, "post_id": str(sample[0][0]), "log_user": author.username}


def _scenarios(names: dict[str, str]) -> list[Scenario]:
    users = reverse("admin:accounts_user_changelist")
    posts = reverse("admin:posts_post_changelist")
    reports = reverse("admin:accounts_report_changelist")
    log = reverse("admin:accounts_moderationaction_changelist")
    return [
        Scenario("floor: admin index", reverse("admin:index")),
        Scenario("users", users),
        Scenario("users, search 'w0421'", f"{users}?q=w0421"),
        Scenario("users, suspended", f"{users}?is_suspended__exact=1"),
        Scenario("users, VIP", f"{users}?is_vip__exact=1"),
        Scenario("users, active in the last day", f"{users}?active=1d"),
        Scenario("posts", posts),
        Scenario("posts, search 'bookshop' (1 in 12 posts)", f"{posts}?q=bookshop"),
        Scenario("posts, search 'nowhere-xyz' (no match)", f"{posts}?q=nowhere-xyz"),
        Scenario(f"posts, search '@{names['author']}'", f"{posts}?q=%40{names['author']}"),
        Scenario("posts, search by id", f"{posts}?q={names['post_id']}"),
        Scenario("posts, hidden", f"{posts}?is_hidden__exact=1"),
        Scenario("reports: open queue", reports),
        Scenario("reports: all", f"{reports}?status=all"),
        Scenario("moderation log", log),
        Scenario("moderation log, search target", f"{log}?q={names['log_user']}"),
        Scenario("moderation log, suspensions", f"{log}?action__exact=suspend"),
    ]


def _measure(client: Client, scenario: Scenario, warmup: int, requests: int) -> Result:
    for _ in range(warmup):
        _get(client, scenario.url)
    reset_queries()  # with DEBUG on, the log holds earlier queries, which would skew the capture
    with CaptureQueriesContext(connection) as queries:
        page = _get(client, scenario.url)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        _get(client, scenario.url)
        samples.append((time.perf_counter() - started) * 1000)
    match = TOTAL_RE.search(page)
    return Result(scenario, samples, len(queries), f"{match[1]} {match[2]}" if match else "-")


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise CommandError(f"{url} answered {response.status_code}")
    return response.content.decode()


def _measure_django_default(client: Client, warmup: int, requests: int) -> Result:
    """The posts list as stock Django pages it: COUNT(*) for the paginator and the full count."""
    admin = site._registry[Post]
    saved = admin.paginator, admin.show_full_result_count
    admin.paginator, admin.show_full_result_count = Paginator, True
    try:
        scenario = Scenario("posts, Django default paginator (COUNT(*) ×2)", reverse("admin:posts_post_changelist"))
        return _measure(client, scenario, warmup, requests)
    finally:
        admin.paginator, admin.show_full_result_count = saved


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
    return max(row[0], 0) if row else 0


def _activity() -> str:
    """What else the database and the machine are doing (the figures depend on it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname, count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
            "GROUP BY datname ORDER BY datname"
        )
        active = ", ".join(f"{name}: {count}" for name, count in cursor.fetchall()) or "none"
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    return f"load average {load}; other active PostgreSQL queries: {active}"


def _report(results: list[Result], posts: int) -> str:
    floor = results[0].percentile(95)
    lines = [
        f"bench_admin: {posts:,} posts (planner estimate); one client, sequential; p95 target < {TARGET_P95_MS} ms",
        f"{'list':<48} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/floor':>9} {'SQL':>4}  total shown",
    ]
    for result in results:
        samples, p95 = result.samples_ms, result.percentile(95)
        judged = result is not results[0] and "default" not in result.scenario.name
        verdict = ("  ok" if p95 < TARGET_P95_MS else "  OVER TARGET") if judged else ""
        lines.append(
            f"{result.scenario.name:<48} {len(samples):>4} {statistics.median(samples):>8.1f} {p95:>8.1f} "
            f"{max(samples):>8.1f} {p95 / floor:>9.1f} {result.queries:>4}  {result.total}{verdict}"
        )
    return "\n".join(lines)
