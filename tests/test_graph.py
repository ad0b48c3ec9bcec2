from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import User
from accounts.services import suspend_user
from graph import selectors, services
from graph.models import Follow
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def counts(user):
    user.refresh_from_db()
    return user.followers_count, user.following_count


def test_follow_and_unfollow_keep_both_counters_exact(user, other_user):
    assert services.follow(user, other_user) is True
    assert services.follow(user, other_user) is False  # twice changes nothing

    assert counts(user) == (0, 1)
    assert counts(other_user) == (1, 0)
    assert selectors.is_following(user, other_user)
    assert not selectors.is_following(other_user, user)

    assert services.unfollow(user, other_user) is True
    assert services.unfollow(user, other_user) is False  # nothing left to undo
    assert counts(user) == (0, 0)
    assert counts(other_user) == (0, 0)


def test_following_yourself_is_refused(user):
    with pytest.raises(ValidationError, match=r"You cannot follow yourself\."):
        services.follow(user, user)

    assert not Follow.objects.exists()
    assert counts(user) == (0, 0)


def test_following_a_suspended_account_is_refused(user, other_user):
    suspend_user(other_user)

    with pytest.raises(ValidationError, match="suspended"):
        services.follow(user, other_user)

    assert not Follow.objects.exists()


def test_follower_lists_hide_suspended_accounts(user, other_user):
    third = UserFactory()
    services.follow(other_user, user)
    services.follow(third, user)
    suspend_user(third)

    assert list(selectors.followers_of(user)) == [other_user]


@pytest.mark.django_db(transaction=True)
def test_concurrent_follows_keep_counters_exact():
    # given 12 people following one account at the same moment, some twice
    star = UserFactory()
    fans = UserFactory.create_batch(12)

    def follow_star(fan):
        try:
            return services.follow(fan, star)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(follow_star, fans + fans))

    assert created.count(True) == 12
    assert counts(star) == (12, 0)
    assert all(counts(fan) == (0, 1) for fan in fans)


@pytest.mark.django_db(transaction=True)
def test_people_following_each_other_at_once_do_not_deadlock():
    pairs = [UserFactory.create_batch(2) for _ in range(10)]

    def follow(pair):
        try:
            return services.follow(*pair)
        finally:
            connection.close()

    both_ways = [p for a, b in pairs for p in ((a, b), (b, a))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(follow, both_ways)) == [True] * 20

    assert set(User.objects.values_list("followers_count", "following_count")) == {(1, 1)}


def test_follow_buttons_in_the_browser(client, user, other_user):
    client.force_login(user)

    client.post(reverse("graph:act", args=[other_user.username, "follow"]))
    assert selectors.is_following(user, other_user)

    response = client.post(reverse("graph:act", args=[other_user.username, "unfollow"]))
    assert response.status_code == 302
    assert not selectors.is_following(user, other_user)


def test_following_yourself_in_the_browser_shows_the_reason(client, user):
    client.force_login(user)

    response = client.post(reverse("graph:act", args=[user.username, "follow"]), follow=True)

    assert "You cannot follow yourself." in response.content.decode()
    assert not Follow.objects.exists()


def test_follow_needs_a_login_and_a_post(client, other_user):
    assert client.post(reverse("graph:act", args=[other_user.username, "follow"])).status_code == 302
    assert not Follow.objects.exists()
    client.force_login(UserFactory())
    assert client.get(reverse("graph:act", args=[other_user.username, "follow"])).status_code == 405
