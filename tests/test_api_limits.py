"""`limit` as Mastodon caps it: statuses default 20, max 40; notifications, account lists
and suggestions default 40, max 80. A larger limit is capped, never refused; a limit that
is not a number is a 400 naming it."""

import pytest
from django.utils import timezone

from accounts.models import User
from graph.services import follow
from notifications.models import Notification
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db

MORE_THAN_A_PAGE = 85


def ids(response) -> list[str]:
    return [entity["id"] for entity in response.json()]


def test_an_account_list_answers_up_to_80_and_caps_larger_limits_at_80(user):
    followers = UserFactory.create_batch(MORE_THAN_A_PAGE)
    for follower in followers:
        follow(follower, user)
    newest_first = [str(follower.pk) for follower in reversed(followers)]
    path = f"/api/v1/accounts/{user.pk}/followers"
    api = Api()

    by_default = api.get(path)
    eighty = api.get(path, {"limit": 80})
    capped = api.get(path, {"limit": 500})

    assert ids(by_default) == newest_first[:40]
    assert ids(eighty) == newest_first[:80]
    assert ids(capped) == newest_first[:80]
    assert f"max_id={user.follower_edges.order_by('id')[5].pk}" in capped["Link"]  # the 80th follow


def test_statuses_answer_up_to_40(user):
    posts = [make_post(user, f"post {n}") for n in range(45)]
    newest_first = [str(post.pk) for post in reversed(posts)]
    path = f"/api/v1/accounts/{user.pk}/statuses"
    api = Api()

    assert ids(api.get(path)) == newest_first[:20]
    assert ids(api.get(path, {"limit": 40})) == newest_first[:40]
    assert ids(api.get(path, {"limit": 500})) == newest_first[:40]


@pytest.fixture
def mentions(user) -> list[Notification]:
    """85 mention notifications (never grouped), newest first."""
    fan = UserFactory()
    for n in range(MORE_THAN_A_PAGE):
        make_post(fan, f"@{user.username} number {n}")
    return list(Notification.objects.filter(recipient=user).order_by("-id"))


def test_notifications_answer_up_to_80_in_both_versions(user, mentions):
    api = api_for(user)
    newest_first = [str(n.pk) for n in mentions]

    v1 = api.get("/api/v1/notifications", {"limit": 500})
    v2 = api.get("/api/v2/notifications", {"limit": 80}).json()["notification_groups"]
    v2_default = api.get("/api/v2/notifications").json()["notification_groups"]

    assert len(mentions) == MORE_THAN_A_PAGE
    assert ids(v1) == newest_first[:80]
    assert [group["most_recent_notification_id"] for group in v2] == newest_first[:80]
    assert [group["most_recent_notification_id"] for group in v2_default] == newest_first[:40]


def test_suggestions_answer_up_to_80(user):
    popular = UserFactory.create_batch(MORE_THAN_A_PAGE)
    User.objects.filter(pk__in=[u.pk for u in popular]).update(last_active_at=timezone.now())
    api = api_for(user)
    in_order = [str(u.pk) for u in popular]  # all with 0 followers: most followed, then by id

    suggested = api.get("/api/v2/suggestions", {"limit": 500}).json()
    by_default = api.get("/api/v2/suggestions").json()

    assert [s["account"]["id"] for s in suggested] == in_order[:80]
    assert [s["account"]["id"] for s in by_default] == in_order[:40]


@pytest.mark.parametrize(
    "path", ["/api/v1/accounts/{pk}/followers", "/api/v1/accounts/{pk}/statuses", "/api/v1/notifications"]
)
def test_a_limit_that_is_not_a_number_is_a_400_naming_it(user, path):
    response = api_for(user).get(path.format(pk=user.pk), {"limit": "eighty"})

    assert response.status_code == 400
    assert response.json()["error"] == "limit must be an integer."
