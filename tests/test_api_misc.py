"""Instance, search, suggestions, reports, markers, and the features socialnet lacks."""

import pytest
from django.db import connection

from accounts.models import Report
from accounts.services import suspend_user
from graph.models import SuggestionDismissal
from graph.services import block, follow
from posts.services import delete_post
from socialnet.api_search import search_statuses
from tests.api_clients import Api, api_for, app_token, make_app
from tests.factories import UserFactory, make_post
from timeline.models import HomeMarker

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/"])
def test_instance_v1_with_and_without_the_slash(path, settings):
    settings.POST_MAX_CHARS = 321

    body = Api().get(path).json()

    assert body["version"] == "4.3.0 (compatible; socialnet 0.1)"
    assert body["configuration"]["statuses"]["max_characters"] == 321
    assert body["urls"]["streaming_api"] == "ws://127.0.0.1:8000"


def test_instance_v2(settings):
    settings.SITE_URL = "https://social.example"

    body = Api().get("/api/v2/instance").json()

    assert body["domain"] == "social.example"
    assert body["version"] == "4.3.0 (compatible; socialnet 0.1)"
    assert body["configuration"]["statuses"]["max_characters"] == settings.POST_MAX_CHARS
    assert body["configuration"]["urls"]["streaming"] == "wss://social.example"
    assert body["api_versions"] == {"mastodon": 2}


def test_search_accounts_hashtags_and_statuses(user):
    author = UserFactory(username="gardener", display_name="Green Thumb")
    match = make_post(author, "Tomatoes grow well in #gardening season")
    make_post(author, "nothing here")
    gone = make_post(author, "tomatoes deleted")
    delete_post(author, gone)
    blocked_author = UserFactory(username="garfield")
    hidden = make_post(blocked_author, "tomatoes from a blocked account")
    block(user, blocked_author)
    api = api_for(user)

    everything = api.get("/api/v2/search", {"q": "gar"}).json()
    statuses = api.get("/api/v2/search", {"q": "TOMATOES", "type": "statuses"}).json()
    anonymous = Api().get("/api/v2/search", {"q": "tomatoes", "type": "statuses"}).json()
    tags = api.get("/api/v2/search", {"q": "#garden", "type": "hashtags"}).json()

    assert [a["id"] for a in everything["accounts"]] == [str(author.pk)]
    assert [s["id"] for s in statuses["statuses"]] == [str(match.pk)]
    assert statuses["accounts"] == [] and statuses["hashtags"] == []
    assert [s["id"] for s in anonymous["statuses"]] == [str(hidden.pk), str(match.pk)]
    assert [t["name"] for t in tags["hashtags"]] == ["gardening"]


def test_search_limit_offset_and_odd_input(user):
    authors = [UserFactory(username=f"same{i}") for i in range(3)]
    api = api_for(user)

    page = api.get("/api/v2/search", {"q": "same", "type": "accounts", "limit": 1, "offset": 1}).json()

    assert len(page["accounts"]) == 1 and page["accounts"][0]["id"] in {str(a.pk) for a in authors}
    for odd in ["%", "_", "'", "\\", "a & b | !c", "(", ":*", "@", "#"]:
        response = api.get("/api/v2/search", {"q": odd})
        assert response.status_code == 200, odd
    assert api.get("/api/v2/search", {"q": "x", "limit": "lots"}).status_code == 400
    for blank in ({}, {"q": ""}, {"q": "   "}, {"q": "\x00"}):  # as Mastodon answers them
        response = api.get("/api/v2/search", blank)
        assert (response.status_code, response.json()["error"]) == (
            400,
            "param is missing or the value is empty: q",
        ), blank


PAGING_REFUSED = "Search queries pagination is not supported without authentication"
RESOLVE_REFUSED = "Search queries that resolve remote resources are not supported without authentication"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"offset": "0"}, PAGING_REFUSED),  # present is enough, as on Mastodon
        ({"offset": "5"}, PAGING_REFUSED),
        ({"offset": "5", "resolve": "true"}, PAGING_REFUSED),
        ({"resolve": "true"}, RESOLVE_REFUSED),
        ({"resolve": "1"}, RESOLVE_REFUSED),
        ({"resolve": "false"}, None),
        ({"offset": ""}, None),
        ({}, None),
    ],
)
def test_search_pages_and_resolves_only_for_signed_in_users(user, params, error):
    UserFactory(username="findme")
    query = {"q": "findme", "type": "accounts", **params}

    anonymous = Api().get("/api/v2/search", query)
    app_only = app_token(make_app()).get("/api/v2/search", query)  # a token, but nobody signed in
    signed_in = api_for(user).get("/api/v2/search", query)

    if error is None:
        assert anonymous.status_code == app_only.status_code == 200
        assert [a["username"] for a in anonymous.json()["accounts"]] == ["findme"]
    else:
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, error)
        assert (app_only.status_code, app_only.json()["error"]) == (401, error)
    assert signed_in.status_code == 200
    assert len(signed_in.json()["accounts"]) == (0 if params.get("offset") == "5" else 1)


def test_status_search_uses_the_gin_index(user):
    make_post(user, "words to find")
    sql, params = search_statuses(None, "find").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "posts_post_text_search" in plan


def test_account_search_uses_the_prefix_index(user):
    from accounts.api.accounts import search_accounts

    sql, params = search_accounts(None, "ali").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "accounts_user_username_prefix" in plan and "accounts_user_name_prefix" in plan


def test_suggestions_come_with_sources_and_reasons_and_can_be_removed(user):
    friend, friend_of_friend = UserFactory(username="friend"), UserFactory(username="fof")
    follow(user, friend)
    follow(friend, friend_of_friend)
    api = api_for(user)

    suggested = api.get("/api/v2/suggestions").json()
    removed = api.delete(f"/api/v1/suggestions/{friend_of_friend.pk}")
    after = api.get("/api/v2/suggestions").json()

    assert [s["account"]["id"] for s in suggested] == [str(friend_of_friend.pk)]
    assert suggested[0]["sources"] == ["friends_of_friends"] and suggested[0]["source"] == "past_interactions"
    assert suggested[0]["reason"] == "followed by friend"
    assert removed.status_code == 200 and removed.json() == {}
    assert SuggestionDismissal.objects.filter(user=user, dismissed=friend_of_friend).exists()
    assert after == []
    assert api.delete("/api/v1/suggestions/123456789").status_code == 200
    assert api.delete("/api/v1/suggestions/not-an-id").status_code == 200


def test_report_an_account_and_its_statuses(user, other_user):
    post = make_post(other_user, "spam spam spam")

    response = api_for(user).post(
        "/api/v1/reports",
        {"account_id": str(other_user.pk), "status_ids": [str(post.pk)], "comment": "spam", "category": "spam"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    report = Report.objects.get()
    assert body["id"] == str(report.pk) and body["status_ids"] == [str(post.pk)]
    assert (body["category"], body["comment"], body["action_taken"]) == ("spam", "spam", False)
    assert body["target_account"]["id"] == str(other_user.pk)
    assert list(report.posts.all()) == [post] and report.reporter == user


def test_invalid_reports_change_nothing(user, other_user):
    mine = make_post(user, "mine")
    api = api_for(user)
    suspended = UserFactory()
    suspend_user(suspended)

    cases = [
        ({"account_id": str(user.pk)}, 422),
        ({"account_id": str(other_user.pk), "category": "nonsense"}, 422),
        ({"account_id": str(other_user.pk), "status_ids": [str(mine.pk)]}, 422),
        ({"account_id": str(other_user.pk), "status_ids": ["999999"]}, 404),
        ({"account_id": str(suspended.pk)}, 404),
        ({"account_id": "x"}, 404),
        ({}, 422),
    ]
    for body, expected in cases:
        response = api.post("/api/v1/reports", body)
        assert response.status_code == expected, (body, response.content)
        assert "error" in response.json()
    assert not Report.objects.exists()


def test_markers_home_and_notifications(user):
    api = api_for(user)

    empty = api.get("/api/v1/markers", {"timeline[]": ["home", "notifications"]}).json()
    saved = api.post("/api/v1/markers", {"home": {"last_read_id": "12345"}}).json()
    again = api.client.post(
        "/api/v1/markers", {"home[last_read_id]": "12346", "notifications[last_read_id]": "7"}, **api.headers()
    ).json()
    read = api.get("/api/v1/markers", {"timeline[]": ["home", "notifications"]}).json()

    assert empty == {}
    assert (saved["home"]["last_read_id"], saved["home"]["version"]) == ("12345", 1)
    assert (again["home"]["version"], again["notifications"]["last_read_id"]) == (2, "7")
    assert read["home"]["last_read_id"] == "12346" and read["notifications"]["last_read_id"] == "7"
    assert HomeMarker.objects.get(user=user).last_read_id == 12346
    assert api.post("/api/v1/markers", {"home": {"last_read_id": "x"}}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/lists",
        "/api/v1/custom_emojis",
        "/api/v1/announcements",
        "/api/v1/followed_tags",
        "/api/v1/trends",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
        "/api/v1/trends/links",
        "/api/v1/bookmarks",
    ],
)
def test_absent_features_answer_an_empty_list(user, path):
    response = api_for(user).get(path)

    assert response.status_code == 200 and response.json() == []


def test_preferences_and_unknown_api_paths(user):
    assert api_for(user).get("/api/v1/preferences").json()["posting:default:visibility"] == "public"
    for path in ["/api/v1/media", "/api/v1/polls/1", "/api/v3/anything", "/api/v1/push/subscription"]:
        response = Api().get(path)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
