"""`manage.py build_world` and `manage.py bench_graph` on tiny worlds.

Each test builds its world inside its own transaction (COPY, index rebuilds and all), so
nothing outlives it. Benchmarks never assert timings: the smoke test only checks that
every figure line is printed.
"""

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from graph.management.commands.bench_graph import measure_neo4j_drain
from graph.management.commands.build_world import MARKER_USERNAME, WORLD_PASSWORD
from graph.models import Follow, GraphOutbox
from posts.models import Post
from socialnet.benchmarking import Baseline, Figure, Target, format_figure, percentile
from socialnet.ids import MAX_ID, time_of
from tests.factories import UserFactory

USERS, SCALE, POSTS = 300, 0.005, 2000


def build(**options) -> str:
    out = StringIO()
    call_command("build_world", stdout=out, **options)
    return out.getvalue()


def build_tiny(**extra) -> str:
    return build(users=USERS, follows_scale=SCALE, posts=POSTS, seed=7, **extra)


def expected_followers(users: int, scale: float) -> list[int]:
    # Written out again from the spec rather than imported: 50,000 / r^0.8, floor 10.
    return [max(10, min(users - 1, round(scale * 50_000 / rank**0.8))) for rank in range(1, users + 1)]


def world_users():
    return User.objects.exclude(username=MARKER_USERNAME)


def row_counts() -> tuple[int, int, int]:
    return User.objects.count(), Follow.objects.count(), Post.objects.count()


def schema_of(*tables: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
            [list(tables), list(tables)],
        )
        return set(cursor.fetchall())


@pytest.fixture
def tiny_world(db):
    return build_tiny()


def test_builds_exactly_the_requested_numbers_of_users_follows_and_posts(tiny_world):
    marker = User.objects.get(username=MARKER_USERNAME)

    assert world_users().count() == USERS
    assert Follow.objects.count() == sum(expected_followers(USERS, SCALE))
    assert Post.objects.count() == POSTS
    assert marker.is_active is False
    assert User.objects.exclude(email__endswith="@world.invalid").count() == 0
    assert sorted(world_users().values_list("username", flat=True)) == [f"w{i:06d}" for i in range(USERS)]


def test_world_accounts_have_their_username_as_email_and_share_one_working_password(tiny_world, client):
    first = world_users().order_by("id").first()

    assert first.email == f"{first.username}@world.invalid"
    assert world_users().exclude(password=first.password).count() == 0
    assert client.login(username=first.username, password=WORLD_PASSWORD) is True


def test_every_counter_equals_the_rows_it_counts(tiny_world):
    followers = Counter(Follow.objects.values_list("followee_id", flat=True))
    following = Counter(Follow.objects.values_list("follower_id", flat=True))
    posts = Counter(Post.objects.filter(is_deleted=False).values_list("author_id", flat=True))

    counters = {u.pk: (u.followers_count, u.following_count, u.posts_count) for u in User.objects.all()}

    assert counters == {pk: (followers[pk], following[pk], posts[pk]) for pk in counters}


def test_no_self_follows_or_duplicate_follows(tiny_world):
    pairs = list(Follow.objects.values_list("follower_id", "followee_id"))

    assert Follow.objects.filter(follower_id=F("followee_id")).count() == 0
    assert len(set(pairs)) == len(pairs)


def test_follower_counts_are_the_power_law_and_heavy_tailed(tiny_world):
    counts = sorted(world_users().values_list("followers_count", flat=True), reverse=True)
    median = counts[len(counts) // 2]

    assert counts == sorted(expected_followers(USERS, SCALE), reverse=True)
    assert counts[-1] == 10
    assert counts[0] >= 10 * median


def test_post_ids_are_unique_below_2_53_and_encode_created_at(tiny_world):
    posts = list(Post.objects.values_list("id", "created_at", "fanned_out_at"))
    now = timezone.now()

    assert len({post_id for post_id, _, _ in posts}) == POSTS
    assert max(post_id for post_id, _, _ in posts) <= MAX_ID
    assert [p for p in posts if time_of(p[0]) != p[1]] == []
    assert all(now - timedelta(days=30, minutes=2) <= created <= now for _, created, _ in posts)
    assert [p for p in posts if p[2] != p[1]] == []  # history: marked fanned out


def test_about_60_percent_of_users_were_seen_in_the_last_14_days_and_nobody_posts_after_last_seen(tiny_world):
    recently = timezone.now() - timedelta(days=14)
    active = world_users().filter(last_active_at__gte=recently).count()

    assert 0.5 * USERS <= active <= 0.7 * USERS
    assert Post.objects.filter(created_at__gt=F("author__last_active_at")).count() == 0
    assert world_users().filter(last_active_at__isnull=True).count() == 0


def test_indexes_and_constraints_are_restored_exactly(db):
    before = schema_of("graph_follow", "posts_post")

    build_tiny()

    assert schema_of("graph_follow", "posts_post") == before


def test_a_second_run_reuses_the_world_and_adds_nothing(tiny_world):
    before = row_counts()

    again = build_tiny()
    bare = build()

    assert row_counts() == before
    assert again.startswith("Reusing the existing world: 300 users")
    assert bare.startswith("Reusing the existing world: 300 users")


def test_other_parameters_are_refused_without_rebuild(tiny_world):
    before = row_counts()

    with pytest.raises(CommandError, match="A different world is already here"):
        build(users=200, follows_scale=SCALE, posts=POSTS, seed=7)

    assert row_counts() == before


def test_rebuild_replaces_the_world(tiny_world):
    build(users=120, follows_scale=SCALE, posts=500, seed=3, rebuild=True)

    assert world_users().count() == 120
    assert Follow.objects.count() == sum(expected_followers(120, SCALE))
    assert Post.objects.count() == 500
    assert User.objects.filter(username=MARKER_USERNAME).count() == 1


def test_refuses_to_build_into_a_database_with_other_users(db):
    UserFactory(username="alice")

    with pytest.raises(
        CommandError, match=r"Refusing to build: this database has 1 account that is not a world account \(alice\)"
    ):
        build_tiny()

    assert row_counts() == (1, 0, 0)


def test_rebuild_is_refused_when_other_users_joined_the_world(tiny_world):
    UserFactory(username="alice")
    before = row_counts()

    with pytest.raises(CommandError, match="Refusing to build"):
        build_tiny(rebuild=True)

    assert row_counts() == before


def test_percentile_is_nearest_rank():
    samples = list(range(1000, 0, -1))  # 1..1000, unordered

    assert percentile(samples, 50) == 500
    assert percentile(samples, 99) == 990
    assert percentile([7.0], 99) == 7.0


def test_a_figure_line_names_value_baseline_ratio_target_and_samples():
    figure = Figure("recs p99", 120.0, "ms", 1000, baseline=Baseline("pull p99", 12.0, "ms"), target=Target("<", 500))

    assert format_figure(figure, name_width=10) == (
        "recs p99         120 ms   | baseline pull p99 = 12.0 ms | ratio 10.0x | target < 500 ms: met | samples 1,000"
    )
    assert Figure("x", 600.0, "ms", 5, target=Target("<", 500)).verdict == "MISSED"


BENCH_SERIES = ("select_1", "phase0_pull", "fof_query", "recs_uncached", "recs_cached")
BENCH_FIGURES = [f"{series}.following_{size}" for size in (10, 100, 1000) for series in BENCH_SERIES]


def test_bench_graph_prints_every_figure_on_a_tiny_world(db, settings):
    settings.NEO4J_URI = ""
    build(users=1200, follows_scale=0.02, posts=3000, seed=5)
    out = StringIO()

    call_command("bench_graph", samples=5, accounts=2, stdout=out)

    printed = out.getvalue()
    for name in BENCH_FIGURES:
        for label in ("p50", "p99"):
            assert len(re.findall(rf"^{re.escape(name)} {label} .* \| samples 5$", printed, re.MULTILINE)) == 2
    assert re.search(r"^recs_uncached\.following_1000 p99 .* target < 500 ms: (met|MISSED) ", printed, re.MULTILINE)
    assert re.search(r"^recs_cached\.following_1000 p99 .* target < 50 ms: (met|MISSED) ", printed, re.MULTILINE)
    assert "neo4j_drain: not measured: NEO4J_URI is not set" in printed
    assert re.search(r"^targets: \d met, \d MISSED$", printed, re.MULTILINE)
    probes = User.objects.filter(username__startswith="wprobe1000_")
    assert sorted(probes.values_list("following_count", flat=True)) == [1000, 1000]
    assert Follow.objects.filter(follower__in=probes).count() == 2000


def test_the_drain_figure_says_why_it_was_not_measured_when_neo4j_is_unreachable(tiny_world, settings):
    settings.NEO4J_URI = "bolt://127.0.0.1:1"

    result = measure_neo4j_drain(100)

    assert result.figures == []
    assert len(result.notes) == 1
    assert result.notes[0].startswith("neo4j_drain: not measured: Neo4j at bolt://127.0.0.1:1 unreachable: ")
    assert GraphOutbox.objects.count() == 0
