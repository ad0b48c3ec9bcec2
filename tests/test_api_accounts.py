"""Mastodon's accounts API: sign-up, credentials, profiles, follow lists, relationships, search."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from accounts.services import suspend_user
from graph.models import Block, Follow, Mute
from graph.services import block, follow, mute
from posts.services import repost
from tests.api_clients import Api, api_for, app_token, make_app
from tests.factories import UserFactory, make_post
from tests.test_oauth import authorize, exchange, register

pytestmark = pytest.mark.django_db


def test_sign_up_with_an_app_token_returns_a_working_user_token(client):
    app = register(client, scopes="read write follow")
    credentials = client.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]},
    ).json()
    app_api = Api(credentials["access_token"])

    response = app_api.post(
        "/api/v1/accounts",
        {"username": "newbie", "email": "newbie@example.com", "password": "a-long-test-password", "agreement": True},
    )

    assert response.status_code == 200, response.content
    token = response.json()
    assert token["token_type"] == "Bearer" and token["scope"] == credentials["scope"]
    me = Api(token["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["source"]["note"]) == ("newbie", "")


def test_sign_up_validation_is_a_422_with_details_and_creates_nobody():
    user = UserFactory(username="taken")
    app = make_app()
    before = User.objects.count()

    response = app_token(app).post(
        "/api/v1/accounts",
        {"username": "Taken", "email": "x@example.com", "password": "a-long-test-password", "agreement": "true"},
    )
    refused = app_token(app).post(
        "/api/v1/accounts",
        {"username": "other", "email": "o@example.com", "password": "a-long-test-password", "agreement": "false"},
    )
    short = app_token(app).post(
        "/api/v1/accounts", {"username": "other", "email": "o@example.com", "password": "x", "agreement": "1"}
    )

    assert response.status_code == 422
    assert response.json()["details"]["username"][0]["error"] == "ERR_TAKEN"
    assert refused.status_code == 422 and refused.json()["details"]["agreement"][0]["error"] == "ERR_ACCEPTED"
    assert short.status_code == 422 and "password" in short.json()["details"]
    assert User.objects.count() == before and user.username == "taken"


def test_sign_up_needs_an_app_token(user):
    anonymous = Api().post("/api/v1/accounts", {"username": "a", "email": "a@example.com", "password": "x" * 12})
    read_only = app_token(make_app(), scope="read").post(
        "/api/v1/accounts", {"username": "ab", "email": "ab@example.com", "password": "x" * 12, "agreement": True}
    )

    assert anonymous.status_code == 401
    assert read_only.status_code == 403
    assert not User.objects.filter(username__in=["a", "ab"]).exists()


def test_full_oauth_flow_then_verify_credentials(client, user):
    app = register(client)
    redirect = authorize(client, user, app, redirect_uri="tusky://oauth", scope="read")
    code = parse_qs(urlsplit(redirect["Location"]).query)["code"][0]
    token = exchange(client, app, code, "tusky://oauth").json()["access_token"]
    client.logout()

    me = Api(token).get("/api/v1/accounts/verify_credentials")
    write = Api(token).patch("/api/v1/accounts/update_credentials", {"display_name": "Nope"})

    assert me.status_code == 200 and me.json()["id"] == str(user.pk)
    assert write.status_code == 403 and write.json()["error"] == "This action is outside the authorized scopes"
    user.refresh_from_db()
    assert user.display_name != "Nope"


def test_an_app_token_on_a_user_endpoint_is_mastodons_422():
    response = app_token(make_app()).get("/api/v1/accounts/verify_credentials")

    assert response.status_code == 422
    assert response.json()["error"] == "This method requires an authenticated user"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_update_credentials_changes_the_profile_and_the_avatar(user):
    api = api_for(user)

    response = api.client.patch(
        "/api/v1/accounts/update_credentials",
        data=_multipart({"display_name": "Ada", "note": "Hello <b>world</b>"}, avatar=_png()),
        content_type="multipart/form-data; boundary=BoUnDaRy",
        **api.headers(),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["display_name"], body["source"]["note"]) == ("Ada", "Hello <b>world</b>")
    assert "&lt;b&gt;" in body["note"]
    user.refresh_from_db()
    assert user.avatar.name.startswith(f"avatars/{user.pk}/") and body["avatar"].endswith(user.avatar.url)


def _multipart(fields: dict, *, avatar: bytes) -> bytes:
    from django.test.client import BOUNDARY, encode_multipart

    payload = dict(fields) | {"avatar": SimpleUploadedFile("a.png", avatar, content_type="image/png")}
    return encode_multipart(BOUNDARY, payload).replace(BOUNDARY.encode(), b"BoUnDaRy")


def test_update_credentials_with_a_bad_value_is_422_and_changes_nothing(user):
    response = api_for(user).patch("/api/v1/accounts/update_credentials", {"note": "x" * 501})

    assert response.status_code == 422
    assert "note" in response.json()["error"].lower() or "bio" in response.json()["details"]
    user.refresh_from_db()
    assert user.bio == ""


def test_account_lookup_and_detail_and_suspended_accounts_are_404(user, other_user):
    anonymous = Api()

    found = anonymous.get("/api/v1/accounts/lookup", {"acct": other_user.username.upper()})
    detail = anonymous.get(f"/api/v1/accounts/{other_user.pk}")
    suspend_user(other_user)

    assert found.status_code == 200 and found.json()["id"] == str(other_user.pk)
    assert detail.json()["acct"] == other_user.username and detail.json()["locked"] is False
    assert anonymous.get(f"/api/v1/accounts/{other_user.pk}").status_code == 404
    assert anonymous.get("/api/v1/accounts/lookup", {"acct": other_user.username}).status_code == 404
    for bad in ["abc", "-1", "9" * 30, "1e3"]:
        response = anonymous.get(f"/api/v1/accounts/{bad}")
        assert response.status_code == 404 and response.json()["error"] == "Record not found"


def test_account_statuses_filters_and_pages(user, other_user):
    own = make_post(user, "mine")
    self_reply = make_post(user, "thread", reply_to=own)
    other = make_post(other_user, "theirs")
    reply = make_post(user, "to them", reply_to=other)
    shared = repost(user, other)
    api = Api()
    path = f"/api/v1/accounts/{user.pk}/statuses"

    everything = [s["id"] for s in api.get(path).json()]
    no_replies = [s["id"] for s in api.get(path, {"exclude_replies": "true"}).json()]
    no_reblogs = [s["id"] for s in api.get(path, {"exclude_reblogs": "1"}).json()]
    first = api.get(path, {"limit": 2})
    older = api.get(path, {"limit": 2, "max_id": first.json()[-1]["id"]}).json()

    assert everything == [str(p.pk) for p in (shared, reply, self_reply, own)]
    assert no_replies == [str(p.pk) for p in (shared, self_reply, own)]
    assert no_reblogs == [str(p.pk) for p in (reply, self_reply, own)]
    assert [s["id"] for s in older] == [str(self_reply.pk), str(own.pk)]
    assert f"max_id={reply.pk}" in first["Link"]
    assert api.get(path, {"pinned": "true"}).json() == []


def test_followers_and_following_page_by_follow_with_link_headers(user):
    followers = UserFactory.create_batch(5)
    for follower in followers:
        follow(follower, user)
    suspend_user(followers[2])
    api = Api()
    path = f"/api/v1/accounts/{user.pk}/followers"

    first = api.get(path, {"limit": 2})
    next_url = first["Link"].split(";")[0].strip("<>")
    second = api.client.get(next_url)
    prev_url = second["Link"].split(", ")[1].split(";")[0].strip("<>")
    back = api.client.get(prev_url)

    assert [a["id"] for a in first.json()] == [str(followers[4].pk), str(followers[3].pk)]
    assert [a["id"] for a in second.json()] == [str(followers[1].pk), str(followers[0].pk)]
    assert [a["id"] for a in back.json()] == [str(followers[4].pk), str(followers[3].pk)]
    following = api.get(f"/api/v1/accounts/{followers[0].pk}/following").json()
    assert [a["id"] for a in following] == [str(user.pk)]


def test_follow_unfollow_block_mute_answer_the_relationship(user, other_user):
    api = api_for(user)
    base = f"/api/v1/accounts/{other_user.pk}"

    followed = api.post(f"{base}/follow").json()
    again = api.post(f"{base}/follow").json()
    muted = api.post(f"{base}/mute", {"notifications": False, "duration": 3600}).json()
    unmuted = api.post(f"{base}/unmute").json()
    unfollowed = api.post(f"{base}/unfollow").json()
    blocked = api.post(f"{base}/block").json()
    refused = api.post(f"{base}/follow")
    unblocked = api.post(f"{base}/unblock").json()

    assert followed["id"] == str(other_user.pk) and followed["following"] is True and again == followed
    assert (muted["muting"], muted["muting_notifications"]) == (True, False)
    assert unmuted["muting"] is False and unfollowed["following"] is False
    assert blocked["blocking"] is True
    assert refused.status_code == 403 and refused.json()["error"] == "This action is not allowed"
    assert not Follow.objects.filter(follower=user, followee=other_user).exists()
    assert unblocked["blocking"] is False and not Block.objects.exists()
    user.refresh_from_db()
    assert user.following_count == 0


def test_following_yourself_is_422(user):
    response = api_for(user).post(f"/api/v1/accounts/{user.pk}/follow")

    assert response.status_code == 422 and "yourself" in response.json()["error"]
    assert not Follow.objects.exists()


def test_mute_with_a_bad_duration_is_422(user, other_user):
    response = api_for(user).post(f"/api/v1/accounts/{other_user.pk}/mute", {"duration": "forever"})

    assert response.status_code == 422
    assert not Mute.objects.exists()


def test_relationships_for_several_ids(user, other_user):
    third = UserFactory()
    follow(user, other_user)
    follow(third, user)
    block(user, third)
    mute(user, other_user)
    suspended = UserFactory()
    suspend_user(suspended)

    response = api_for(user).get(
        "/api/v1/accounts/relationships", {"id[]": [other_user.pk, third.pk, suspended.pk, other_user.pk]}
    )

    assert response.status_code == 200
    found = {r["id"]: r for r in response.json()}
    assert list(found) == [str(other_user.pk), str(third.pk)]
    assert (found[str(other_user.pk)]["following"], found[str(other_user.pk)]["muting"]) == (True, True)
    assert (found[str(third.pk)]["blocking"], found[str(third.pk)]["followed_by"]) == (True, False)
    assert api_for(user).get("/api/v1/accounts/relationships", {"id[]": "x"}).status_code == 400


def test_account_search_by_prefix_case_insensitive(user):
    alice = UserFactory(username="alice", display_name="Wonder")
    alicia = UserFactory(username="alicia", display_name="")
    bob = UserFactory(username="bob", display_name="Alias Bob")
    UserFactory(username="carol")
    follow(user, alicia)

    found = api_for(user).get("/api/v1/accounts/search", {"q": "ALI"}).json()
    following = api_for(user).get("/api/v1/accounts/search", {"q": "ali", "following": "true"}).json()
    by_name = api_for(user).get("/api/v1/accounts/search", {"q": "wond"}).json()

    assert {a["id"] for a in found} == {str(alice.pk), str(alicia.pk), str(bob.pk)}
    assert [a["id"] for a in following] == [str(alicia.pk)]
    assert [a["id"] for a in by_name] == [str(alice.pk)]


def test_follow_lists_cost_a_fixed_number_of_queries(user, django_assert_max_num_queries):
    for follower in UserFactory.create_batch(30):
        follow(follower, user)

    with django_assert_max_num_queries(2):
        response = Api().get(f"/api/v1/accounts/{user.pk}/followers", {"limit": 80})

    assert len(response.json()) == 30
