"""Mastodon 4.3's grouped notifications beyond the list (grouped_notifications.md): one group
by its key, its accounts, dismissing it, unread groups, and `grouped_types[]`."""

from datetime import UTC, datetime, timedelta

import pytest

from graph.services import block, follow
from notifications.models import Notification
from notifications.selectors import GROUPED_TYPES, group_key, unread_group_count
from notifications.services import mark_read
from posts.services import like
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # one day's window, whenever the test runs
NOON_WINDOW = int(NOON.timestamp()) // 86400


def at_noon(user) -> None:
    Notification.objects.filter(recipient=user).update(created_at=NOON)


def key_of(notification: Notification) -> str:
    return group_key(Notification.objects.get(pk=notification.pk))


@pytest.fixture
def world(user):
    """user's post liked by five fans (oldest first), then followed by two, then mentioned."""
    post = make_post(user, "popular")
    fans = UserFactory.create_batch(5)
    for fan in fans:
        like(fan, post)
    followers = UserFactory.create_batch(2)
    for follower in followers:
        follow(follower, user)
    make_post(followers[0], f"hi @{user.username}")
    at_noon(user)
    rows = Notification.objects.filter(recipient=user)
    return {
        "post": post,
        "fans": fans,
        "followers": followers,
        "likes": list(rows.filter(type="favourite").order_by("-id")),
        "follows": list(rows.filter(type="follow").order_by("-id")),
        "mention": rows.get(type="mention"),
        "like_key": f"favourite-{post.pk}-{NOON_WINDOW}",
        "follow_key": f"follow-account-{NOON_WINDOW}",
    }


# --- one group -------------------------------------------------------------------------------


def test_a_group_counts_all_its_notifications_not_only_a_pages(user, world):
    api = api_for(user)
    first_page = api.get("/api/v2/notifications", {"limit": 4}).json()["notification_groups"]

    response = api.get(f"/api/v2/notifications/{world['like_key']}")

    assert [(g["group_key"], g["notifications_count"]) for g in first_page] == [
        (f"ungrouped-{world['mention'].pk}", 1),
        (world["follow_key"], 2),
        (world["like_key"], 1),  # the page ends inside the group
    ]
    assert response.status_code == 200
    body = response.json()
    (group,) = body["notification_groups"]
    assert group["group_key"] == world["like_key"]
    assert (group["type"], group["notifications_count"], group["status_id"]) == ("favourite", 5, str(world["post"].pk))
    assert group["most_recent_notification_id"] == str(world["likes"][0].pk)
    assert group["page_max_id"] == str(world["likes"][0].pk)
    assert group["page_min_id"] == str(world["likes"][-1].pk)
    assert group["sample_account_ids"] == [str(fan.pk) for fan in reversed(world["fans"])]
    assert [a["id"] for a in body["accounts"]] == [str(fan.pk) for fan in reversed(world["fans"])]
    assert [s["id"] for s in body["statuses"]] == [str(world["post"].pk)]
    assert body["statuses"][0]["favourites_count"] == 5


def test_an_ungrouped_notification_is_a_group_of_one(user, world):
    mention = world["mention"]

    body = api_for(user).get(f"/api/v2/notifications/ungrouped-{mention.pk}").json()

    (group,) = body["notification_groups"]
    assert (group["group_key"], group["type"], group["notifications_count"]) == (
        f"ungrouped-{mention.pk}",
        "mention",
        1,
    )
    assert group["sample_account_ids"] == [str(world["followers"][0].pk)]
    assert group["status_id"] == str(mention.post_id)


def test_more_than_eight_actors_show_the_eight_latest(user):
    post = make_post(user, "very popular")
    fans = UserFactory.create_batch(10)
    for fan in fans:
        like(fan, post)
    at_noon(user)

    body = api_for(user).get(f"/api/v2/notifications/favourite-{post.pk}-{NOON_WINDOW}").json()

    (group,) = body["notification_groups"]
    assert group["notifications_count"] == 10
    assert group["sample_account_ids"] == [str(fan.pk) for fan in reversed(fans[2:])]


def test_likes_a_day_apart_are_two_groups(user):
    post = make_post(user, "liked over two days")
    early, late = UserFactory(), UserFactory()
    like(early, post)
    like(late, post)
    Notification.objects.filter(recipient=user, actor=early).update(created_at=NOON - timedelta(days=1))
    Notification.objects.filter(recipient=user, actor=late).update(created_at=NOON)
    api = api_for(user)

    today = api.get(f"/api/v2/notifications/favourite-{post.pk}-{NOON_WINDOW}").json()["notification_groups"]
    yesterday = api.get(f"/api/v2/notifications/favourite-{post.pk}-{NOON_WINDOW - 1}").json()["notification_groups"]
    listed = api.get("/api/v2/notifications").json()["notification_groups"]

    assert [(g["notifications_count"], g["sample_account_ids"]) for g in today] == [(1, [str(late.pk)])]
    assert [(g["notifications_count"], g["sample_account_ids"]) for g in yesterday] == [(1, [str(early.pk)])]
    assert [g["group_key"] for g in listed] == [
        f"favourite-{post.pk}-{NOON_WINDOW}",
        f"favourite-{post.pk}-{NOON_WINDOW - 1}",
    ]


@pytest.mark.parametrize(
    "key",
    [
        "favourite-{post}-{window_after}",  # well formed, nobody liked it that day
        "ungrouped-1",
        "mention-{post}-{window}",  # mentions are never grouped
        "favourite-abc-{window}",
        "favourite-{post}",
        "follow-{post}-{window}",
        "ungrouped-",
        "ungrouped-99999999999999999",  # beyond any id
        "favourite-{post}-99999999999",  # beyond any day
        "favourite-{post}-9999999",  # beyond the last day a datetime holds
        "follow-account-2932896",
        "FAVOURITE-{post}-{window}",
        "ungrouped-１２",  # full-width digits
        "%00",
    ],
)
def test_a_group_key_that_names_nothing_of_yours_is_a_404(user, world, key):
    path = key.format(post=world["post"].pk, window=NOON_WINDOW, window_after=NOON_WINDOW + 1)

    response = api_for(user).get(f"/api/v2/notifications/{path}")

    assert response.status_code == 404
    assert response.json()["error"] == "Record not found"


def test_someone_elses_group_is_a_404(user, other_user, world):
    response = api_for(other_user).get(f"/api/v2/notifications/{world['like_key']}")

    assert response.status_code == 404


# --- its accounts ------------------------------------------------------------------------------


def test_the_accounts_of_a_group_newest_first_paged_with_links(user, world):
    api = api_for(user)
    path = f"/api/v2/notifications/{world['like_key']}/accounts"
    fans, likes = world["fans"], world["likes"]

    first = api.get(path, {"limit": 2})
    second = api.client.get(first["Link"].split(";")[0].strip("<>"), **api.headers())
    everyone = api.get(path)

    assert [a["id"] for a in first.json()] == [str(fans[4].pk), str(fans[3].pk)]
    assert first["Link"] == (
        f'<http://testserver{path}?limit=2&max_id={likes[1].pk}>; rel="next", '
        f'<http://testserver{path}?limit=2&min_id={likes[0].pk}>; rel="prev"'
    )
    assert [a["id"] for a in second.json()] == [str(fans[2].pk), str(fans[1].pk)]
    assert [a["id"] for a in everyone.json()] == [str(fan.pk) for fan in reversed(fans)]


def test_a_groups_accounts_leave_out_blocked_actors_and_others_see_none(user, other_user, world):
    block(user, world["fans"][1])

    mine = api_for(user).get(f"/api/v2/notifications/{world['like_key']}/accounts").json()
    theirs = api_for(other_user).get(f"/api/v2/notifications/{world['like_key']}/accounts")
    malformed = api_for(user).get("/api/v2/notifications/favourite-x-1/accounts")

    assert [a["id"] for a in mine] == [str(world["fans"][i].pk) for i in (4, 3, 2, 0)]
    assert theirs.status_code == 200 and theirs.json() == []
    assert malformed.status_code == 404 and malformed.json()["error"] == "Record not found"


def test_a_group_and_its_accounts_cost_a_fixed_number_of_queries(user, world, django_assert_max_num_queries):
    for fan in UserFactory.create_batch(10):
        like(fan, world["post"])
    at_noon(user)
    api = api_for(user)
    api.get("/api/v1/notifications")  # warm: the token's first use

    with django_assert_max_num_queries(8):
        group = api.get(f"/api/v2/notifications/{world['like_key']}").json()["notification_groups"][0]
    with django_assert_max_num_queries(2):
        accounts = api.get(f"/api/v2/notifications/{world['like_key']}/accounts").json()
    with django_assert_max_num_queries(3):
        unread = api.get("/api/v2/notifications/unread_count").json()

    assert group["notifications_count"] == 15
    assert len(accounts) == 15
    assert unread == {"count": 3}


# --- dismissing it ------------------------------------------------------------------------------


def test_dismissing_a_group_removes_all_its_notifications_and_nothing_else(user, world):
    api = api_for(user)

    response = api.post(f"/api/v2/notifications/{world['like_key']}/dismiss")
    again = api.post(f"/api/v2/notifications/{world['like_key']}/dismiss")

    assert response.status_code == 200 and response.json() == {}
    assert again.status_code == 200 and again.json() == {}  # Mastodon: dismissing nothing is no error
    left = Notification.objects.filter(recipient=user).order_by("-id")
    assert list(left) == [world["mention"], *world["follows"]]
    assert api.get(f"/api/v2/notifications/{world['like_key']}").status_code == 404


def test_dismissing_an_ungrouped_notification(user, world):
    response = api_for(user).post(f"/api/v2/notifications/ungrouped-{world['mention'].pk}/dismiss")

    assert response.json() == {}
    assert Notification.objects.filter(recipient=user).count() == 7
    assert not Notification.objects.filter(pk=world["mention"].pk).exists()


def test_dismissing_someone_elses_group_or_a_malformed_key_changes_nothing(user, other_user, world):
    theirs = api_for(other_user).post(f"/api/v2/notifications/{world['like_key']}/dismiss")
    malformed = api_for(user).post("/api/v2/notifications/favourite--1/dismiss")
    read_only = api_for(user, scope="read").post(f"/api/v2/notifications/{world['like_key']}/dismiss")

    assert theirs.status_code == 200 and theirs.json() == {}
    assert malformed.status_code == 404 and malformed.json()["error"] == "Record not found"
    assert read_only.status_code == 403
    assert Notification.objects.filter(recipient=user).count() == 8


# --- grouped_types[] ------------------------------------------------------------------------------


def groups(api, **params) -> list[tuple[str, int]]:
    body = api.get("/api/v2/notifications", params).json()
    return [(g["group_key"], g["notifications_count"]) for g in body["notification_groups"]]


def test_grouped_types_leaves_the_other_types_ungrouped(user, world):
    api = api_for(user)
    mention = (f"ungrouped-{world['mention'].pk}", 1)
    likes_alone = [(f"ungrouped-{n.pk}", 1) for n in world["likes"]]
    follows_alone = [(f"ungrouped-{n.pk}", 1) for n in world["follows"]]

    assert groups(api) == [mention, (world["follow_key"], 2), (world["like_key"], 5)]
    assert groups(api, **{"grouped_types[]": ["follow"]}) == [mention, (world["follow_key"], 2), *likes_alone]
    assert groups(api, **{"grouped_types[]": ["favourite"]}) == [mention, *follows_alone, (world["like_key"], 5)]
    assert groups(api, **{"grouped_types[]": ["favourite", "follow", "reblog"]}) == groups(api)
    assert groups(api, **{"grouped_types[]": ["poll"]}) == [mention, *follows_alone, *likes_alone]


def test_the_list_filters_by_account(user, world):
    follower = world["followers"][0]

    found = groups(api_for(user), account_id=str(follower.pk))

    assert found == [(f"ungrouped-{world['mention'].pk}", 1), (world["follow_key"], 1)]


# --- unread groups -------------------------------------------------------------------------------


def test_unread_count_counts_groups(user, world):
    api = api_for(user)
    path = "/api/v2/notifications/unread_count"

    assert api.get(path).json() == {"count": 3}  # the mention, the follows, the likes
    assert api.get("/api/v1/notifications/unread_count").json() == {"count": 8}
    assert api.get(path, {"grouped_types[]": "favourite"}).json() == {"count": 4}
    assert api.get(path, {"grouped_types[]": "poll"}).json() == {"count": 8}
    assert api.get(path, {"limit": 2}).json() == {"count": 2}
    assert api.get(path, {"types[]": ["favourite", "follow"]}).json() == {"count": 2}
    assert api.get(path, {"exclude_types[]": "mention"}).json() == {"count": 2}
    assert api.get(path, {"types[]": "poll"}).json() == {"count": 0}
    assert api.get(path, {"account_id": str(world["followers"][0].pk)}).json() == {"count": 2}


def test_unread_count_starts_after_the_read_marker(user, world):
    mark_read(user, world["likes"][0].pk)  # every like read; the follows and the mention not

    assert api_for(user).get("/api/v2/notifications/unread_count").json() == {"count": 2}


def test_the_counted_groups_are_the_listed_groups(user):
    """unread_group_count keys notifications in SQL; they must be group_key()'s keys."""
    posts = [make_post(user, f"post {n}") for n in range(2)]
    fans = UserFactory.create_batch(4)
    for fan, post in zip(fans, [posts[0], posts[1], posts[0], posts[0]], strict=True):
        like(fan, post)
        follow(fan, user)
        make_post(fan, f"@{user.username} hello")
    # Three hours apart, newest at noon: the fifth at midnight sharp, the rest the day before.
    for n, notification in enumerate(Notification.objects.filter(recipient=user)):
        Notification.objects.filter(pk=notification.pk).update(created_at=NOON - timedelta(hours=3 * n))
    rows = list(Notification.objects.filter(recipient=user))

    counted = {
        name: unread_group_count(user, limit=1000, grouped_types=grouped_types)
        for name, grouped_types in (("all", GROUPED_TYPES), ("follows", {"follow"}), ("none", set()))
    }
    listed = {
        name: len({group_key(n, grouped_types) for n in rows})
        for name, grouped_types in (("all", GROUPED_TYPES), ("follows", {"follow"}), ("none", set()))
    }

    # 4 mentions; follows on 2 days; likes: post 0 on each day, post 1 the day before.
    assert counted == listed == {"all": 4 + 2 + 3, "follows": 4 + 2 + 4, "none": 12}


def test_grouped_endpoints_need_a_user_and_the_scope(user, world):
    for path in (
        "/api/v2/notifications/unread_count",
        f"/api/v2/notifications/{world['like_key']}",
        f"/api/v2/notifications/{world['like_key']}/accounts",
    ):
        assert Api().get(path).status_code == 401, path
        assert api_for(user, scope="read:statuses").get(path).status_code == 403, path
        assert api_for(user, scope="read:notifications").get(path).status_code == 200, path
    assert Api().post(f"/api/v2/notifications/{world['like_key']}/dismiss").status_code == 401
    assert Notification.objects.filter(recipient=user).count() == 8
