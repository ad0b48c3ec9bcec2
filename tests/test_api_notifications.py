"""Mastodon's notifications REST API: list, filters, paging, one, dismiss, clear, unread
count, and 4.3's grouped view."""

import pytest

from accounts.services import suspend_user
from graph.services import follow
from notifications.models import Notification
from notifications.selectors import last_read_id
from posts.services import like, repost
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(user):
    """user gets: a follow, a mention, a reply, a like and a reblog, oldest first."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    post = make_post(user, "my post")
    follow(alice, user)
    make_post(bob, f"hi @{user.username}")
    make_post(alice, "a reply", reply_to=post)
    like(bob, post)
    repost(alice, post)
    return Notification.objects.filter(recipient=user).order_by("-id")


def test_list_in_mastodons_shape_newest_first(user, activity):
    response = api_for(user).get("/api/v1/notifications")

    assert response.status_code == 200
    body = response.json()
    assert [n["id"] for n in body] == [str(n.pk) for n in activity]
    assert [n["type"] for n in body] == ["reblog", "favourite", "mention", "mention", "follow"]
    assert body[0]["account"]["username"] == "alice" and body[0]["status"]["content"] == "<p>my post</p>"
    assert body[-1]["status"] is None


def test_types_and_exclude_types(user, activity):
    api = api_for(user)

    mentions = api.get("/api/v1/notifications", {"types[]": ["mention"]}).json()
    no_likes = api.get("/api/v1/notifications", {"exclude_types[]": ["favourite", "reblog"]}).json()
    unknown = api.get("/api/v1/notifications", {"types[]": ["poll"]}).json()

    assert [n["type"] for n in mentions] == ["mention", "mention"]
    assert [n["type"] for n in no_likes] == ["mention", "mention", "follow"]
    assert unknown == []


def test_paging_with_link_headers(user, activity):
    api = api_for(user)

    first = api.get("/api/v1/notifications", {"limit": 2})
    second = api.client.get(first["Link"].split(";")[0].strip("<>"), **api.headers())
    newer = api.get("/api/v1/notifications", {"min_id": activity[2].pk, "limit": 1}).json()

    assert [n["id"] for n in first.json()] == [str(n.pk) for n in activity[:2]]
    assert [n["id"] for n in second.json()] == [str(n.pk) for n in activity[2:4]]
    assert [n["id"] for n in newer] == [str(activity[1].pk)]


def test_one_notification_and_others_are_404(user, other_user, activity):
    notification = activity[0]

    mine = api_for(user).get(f"/api/v1/notifications/{notification.pk}")
    theirs = api_for(other_user).get(f"/api/v1/notifications/{notification.pk}")

    assert mine.status_code == 200 and mine.json()["id"] == str(notification.pk)
    assert theirs.status_code == 404 and theirs.json()["error"] == "Record not found"


def test_dismiss_and_clear(user, other_user, activity):
    first = activity[0]

    refused = api_for(other_user).post(f"/api/v1/notifications/{first.pk}/dismiss")
    dismissed = api_for(user).post(f"/api/v1/notifications/{first.pk}/dismiss")

    assert refused.status_code == 404
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert not Notification.objects.filter(pk=first.pk).exists()
    assert api_for(user).post("/api/v1/notifications/clear").json() == {}
    assert not Notification.objects.filter(recipient=user).exists()


def test_dismissing_someone_elses_notification_changes_nothing(user, other_user, activity):
    response = api_for(other_user).post(f"/api/v1/notifications/{activity[0].pk}/dismiss")

    assert response.status_code == 404
    assert Notification.objects.filter(recipient=user).count() == 5


def test_unread_count_follows_the_notifications_marker(user, activity):
    api = api_for(user)

    before = api.get("/api/v1/notifications/unread_count").json()
    marked = api.post("/api/v1/markers", {"notifications": {"last_read_id": str(activity[2].pk)}}).json()
    after = api.get("/api/v1/notifications/unread_count").json()

    assert before == {"count": 5}
    assert marked["notifications"]["last_read_id"] == str(activity[2].pk)
    assert after == {"count": 2}
    assert last_read_id(user) == activity[2].pk


def test_suspended_actors_disappear(user, activity):
    suspend_user(UserFactory._meta.model.objects.get(username="bob"))

    body = api_for(user).get("/api/v1/notifications").json()

    assert [n["account"]["username"] for n in body] == ["alice", "alice", "alice"]


def test_grouped_notifications_fold_likes_of_one_post(user):
    post = make_post(user, "popular")
    fans = UserFactory.create_batch(3)
    for fan in fans:
        like(fan, post)
    follower = UserFactory()
    follow(follower, user)

    response = api_for(user).get("/api/v2/notifications")

    assert response.status_code == 200
    body = response.json()
    follow_group, like_group = body["notification_groups"]
    assert (follow_group["type"], follow_group["notifications_count"]) == ("follow", 1)
    assert follow_group["sample_account_ids"] == [str(follower.pk)]
    assert (like_group["type"], like_group["notifications_count"], like_group["status_id"]) == (
        "favourite",
        3,
        str(post.pk),
    )
    assert like_group["sample_account_ids"] == [str(f.pk) for f in reversed(fans)]
    assert {a["id"] for a in body["accounts"]} == {str(u.pk) for u in [*fans, follower]}
    assert [s["id"] for s in body["statuses"]] == [str(post.pk)]
    assert "max_id=" in response["Link"]


def test_notifications_need_a_user_token(user, activity):
    assert Api().get("/api/v1/notifications").status_code == 401
    read_only = api_for(user, scope="read:statuses")
    assert read_only.get("/api/v1/notifications").status_code == 403
    assert api_for(user, scope="read").post("/api/v1/notifications/clear").status_code == 403
    assert Notification.objects.filter(recipient=user).count() == 5


def test_the_list_costs_a_fixed_number_of_queries(user, django_assert_max_num_queries):
    api = api_for(user)
    for _ in range(3):
        fan = UserFactory()
        post = make_post(user, "post")
        like(fan, post)
        follow(fan, user)
        make_post(fan, f"hi @{user.username}")
    api.get("/api/v1/notifications")  # warm: the token's first use

    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/notifications", {"limit": 80})

    assert len(response.json()) == 9
