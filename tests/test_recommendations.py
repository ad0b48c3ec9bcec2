import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import suspend_user
from graph import services
from graph.recommendations import followed_by_reason, mutual_follows, recommend_follows
from tests.factories import UserFactory
from tests.graph_world import build_small_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = build_small_world()
    # "most followed active accounts" only counts people seen lately
    User.objects.update(last_active_at=timezone.now())
    return w


def suggested(user, limit=20):
    return [(s.account.username, s.source, s.reason) for s in recommend_follows(user, limit)]


def test_suggestions_rank_friends_of_friends_then_fill_with_popular_accounts(world):
    assert suggested(world.me) == [
        ("dave", "friends_of_friends", "followed by alice, bob and carol"),
        ("erin", "friends_of_friends", "followed by alice and bob"),
        ("frank", "friends_of_friends", "followed by carol"),
        ("gina", "most_followed", "popular on socialnet"),
    ]


def test_reason_names_two_and_counts_the_rest():
    assert followed_by_reason(["alice", "bob", "carol"], 5) == "followed by alice, bob and 3 others you follow"
    assert followed_by_reason(["alice", "bob", "carol"], 4) == "followed by alice, bob and 2 others you follow"
    assert followed_by_reason([], 0) == ""


def test_blocked_blocking_muted_suspended_and_dismissed_are_never_suggested(world):
    services.block(world.dave, world.me)
    services.mute(world.me, world.erin)
    suspend_user(world.frank)
    services.dismiss_suggestion(world.me, world.gina)

    assert suggested(world.me) == []


def test_a_cold_start_gets_the_most_followed_recently_active_accounts(world):
    newcomer = UserFactory()
    User.objects.filter(username="carol").update(last_active_at=timezone.now() - timedelta(days=60))

    names = [s.account.username for s in recommend_follows(newcomer)]

    # by followers, then id: dave 3, erin 3, me 2, alice 1, bob 1, frank 1, gina 0; carol not seen lately
    assert names == ["dave", "erin", "me", "alice", "bob", "frank", "gina"]


def test_suggestions_are_cached_and_dropped_when_follows_change(
    world, django_assert_num_queries, django_capture_on_commit_callbacks
):
    recommend_follows(world.me)
    with django_assert_num_queries(1):  # cached ids: one query to load the accounts
        assert [s.account.username for s in recommend_follows(world.me, 2)] == ["dave", "erin"]

    with django_capture_on_commit_callbacks(execute=True):
        services.follow(world.me, world.dave)

    assert [s.account.username for s in recommend_follows(world.me, 2)] == ["erin", "frank"]


def test_a_cached_suggestion_suspended_since_is_dropped(world):
    recommend_follows(world.me)
    suspend_user(world.dave)

    assert [s.account.username for s in recommend_follows(world.me, 2)] == ["erin", "frank"]


def test_mutual_follows_for_a_profile(world):
    found = mutual_follows(world.me, world.dave)

    assert [a.username for a in found.accounts] == ["alice", "bob", "carol"]
    assert (found.total, found.reason) == (3, "followed by alice, bob and carol")
    assert mutual_follows(world.me, world.me).total == 0


def test_recommendations_fall_back_to_postgresql_when_neo4j_is_unreachable(world, settings, caplog):
    settings.NEO4J_URI = "bolt://127.0.0.1:1"

    with caplog.at_level(logging.WARNING, logger="graph.recommendations"):
        names = [s.account.username for s in recommend_follows(world.me, 3)]

    assert names == ["dave", "erin", "frank"]
    assert "Neo4j unavailable" in caplog.text
