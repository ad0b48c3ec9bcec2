"""Mastodon's statuses API: create (with Idempotency-Key), view, edit, delete, thread,
favourite and reblog, and who did."""

import threading
from unittest import mock

import pytest
import redis
from django.db import connection

from graph.services import block
from posts.models import Like, Post
from posts.services import like, repost
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


def test_create_a_status_and_a_reply(user, other_user):
    api = api_for(user)
    parent = make_post(other_user, "parent")

    created = api.post("/api/v1/statuses", {"status": "hello #World @" + other_user.username})
    reply = api.post("/api/v1/statuses", {"status": "a reply", "in_reply_to_id": str(parent.pk)})

    assert created.status_code == 200, created.content
    body = created.json()
    post = Post.objects.get(pk=int(body["id"]))
    assert (post.author, post.text) == (user, "hello #World @" + other_user.username)
    assert body["account"]["id"] == str(user.pk) and body["tags"][0]["name"] == "world"
    assert body["mentions"][0]["id"] == str(other_user.pk)
    assert reply.json()["in_reply_to_id"] == str(parent.pk)
    assert reply.json()["in_reply_to_account_id"] == str(other_user.pk)


@pytest.mark.parametrize("body", [{"status": ""}, {"status": "   "}, {"status": "x" * 501}, {}])
def test_invalid_statuses_are_422_and_create_nothing(user, body):
    response = api_for(user).post("/api/v1/statuses", body)

    assert response.status_code == 422
    assert response.json()["error"].startswith("Validation failed")
    assert not Post.objects.exists()


def test_replying_to_an_invisible_status_is_404(user, other_user):
    parent = make_post(other_user, "parent")
    block(other_user, user)

    response = api_for(user).post("/api/v1/statuses", {"status": "hi", "in_reply_to_id": str(parent.pk)})

    assert response.status_code == 404
    assert Post.objects.filter(author=user).count() == 0


def test_the_same_idempotency_key_returns_the_first_status_and_creates_nothing(user):
    api = api_for(user)
    other = api_for(UserFactory())

    first = api.post("/api/v1/statuses", {"status": "once"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/statuses", {"status": "once, or twice?"}, HTTP_IDEMPOTENCY_KEY="k-1")
    another_key = api.post("/api/v1/statuses", {"status": "twice"}, HTTP_IDEMPOTENCY_KEY="k-2")
    another_user = other.post("/api/v1/statuses", {"status": "theirs"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["content"] == first.json()["content"]
    assert another_key.json()["id"] != first.json()["id"]
    assert another_user.json()["id"] not in (first.json()["id"], another_key.json()["id"])
    assert Post.objects.filter(author=user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_create_one_status():
    user = UserFactory()
    token = api_for(user).token
    answers = []

    def send():
        try:
            answers.append(Api(token).post("/api/v1/statuses", {"status": "race"}, HTTP_IDEMPOTENCY_KEY="same"))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.json()["id"] for a in answers}) == 1
    assert Post.objects.filter(author=user).count() == 1


def test_a_failed_first_attempt_does_not_burn_the_key(user):
    api = api_for(user)

    failed = api.post("/api/v1/statuses", {"status": ""}, HTTP_IDEMPOTENCY_KEY="retry")
    retried = api.post("/api/v1/statuses", {"status": "now valid"}, HTTP_IDEMPOTENCY_KEY="retry")

    assert failed.status_code == 422 and retried.status_code == 200
    assert Post.objects.get(author=user).text == "now valid"


def test_redis_down_still_creates_the_status(user):
    api = api_for(user)
    with mock.patch("posts.api.idempotency.get_redis", side_effect=redis.ConnectionError("down")):
        response = api.post("/api/v1/statuses", {"status": "still here"}, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 200
    assert Post.objects.get(author=user).text == "still here"


def test_view_a_status_and_its_context(user, other_user):
    root = make_post(user, "root")
    middle = make_post(other_user, "middle", reply_to=root)
    leaf = make_post(user, "leaf", reply_to=middle)
    hidden_author = UserFactory()
    hidden = make_post(hidden_author, "blocked reply", reply_to=middle)
    block(user, hidden_author)
    api = api_for(user)

    shown = Api().get(f"/api/v1/statuses/{middle.pk}")
    context = api.get(f"/api/v1/statuses/{middle.pk}/context").json()

    assert shown.status_code == 200 and shown.json()["content"] == "<p>middle</p>"
    assert [s["id"] for s in context["ancestors"]] == [str(root.pk)]
    assert [s["id"] for s in context["descendants"]] == [str(leaf.pk)]
    assert api.get(f"/api/v1/statuses/{hidden.pk}").status_code == 404
    for bad in ["nope", "0", "9" * 40]:
        assert Api().get(f"/api/v1/statuses/{bad}").status_code == 404


def test_edit_own_status_only(user, other_user):
    post = make_post(user, "before")

    edited = api_for(user).put(f"/api/v1/statuses/{post.pk}", {"status": "after"})
    theirs = api_for(other_user).put(f"/api/v1/statuses/{post.pk}", {"status": "hijacked"})
    empty = api_for(user).put(f"/api/v1/statuses/{post.pk}", {"status": ""})

    assert edited.status_code == 200 and edited.json()["content"] == "<p>after</p>"
    assert edited.json()["edited_at"] is not None
    assert theirs.status_code == 403 and empty.status_code == 422
    post.refresh_from_db()
    assert post.text == "after"


def test_delete_returns_the_status_with_its_source_text(user, other_user):
    post = make_post(user, "delete me #now")

    refused = api_for(other_user).delete(f"/api/v1/statuses/{post.pk}")
    deleted = api_for(user).delete(f"/api/v1/statuses/{post.pk}")

    assert refused.status_code == 403
    assert deleted.status_code == 200
    assert deleted.json()["id"] == str(post.pk) and deleted.json()["text"] == "delete me #now"
    post.refresh_from_db()
    assert post.is_deleted
    assert Api().get(f"/api/v1/statuses/{post.pk}").status_code == 404
    assert api_for(user).delete(f"/api/v1/statuses/{post.pk}").status_code == 404


def test_favourite_and_unfavourite(user, other_user):
    post = make_post(other_user, "like me")
    api = api_for(user)

    liked = api.post(f"/api/v1/statuses/{post.pk}/favourite").json()
    twice = api.post(f"/api/v1/statuses/{post.pk}/favourite").json()
    by = Api().get(f"/api/v1/statuses/{post.pk}/favourited_by").json()
    unliked = api.post(f"/api/v1/statuses/{post.pk}/unfavourite").json()

    assert (liked["favourited"], liked["favourites_count"]) == (True, 1)
    assert twice["favourites_count"] == 1
    assert [a["id"] for a in by] == [str(user.pk)]
    assert (unliked["favourited"], unliked["favourites_count"]) == (False, 0)
    assert not Like.objects.exists()


def test_reblog_answers_the_reblog_and_unreblog_the_original(user, other_user):
    post = make_post(other_user, "share me")
    api = api_for(user)

    shared = api.post(f"/api/v1/statuses/{post.pk}/reblog").json()
    by = Api().get(f"/api/v1/statuses/{post.pk}/reblogged_by").json()
    undone = api.post(f"/api/v1/statuses/{post.pk}/unreblog").json()

    assert shared["reblog"]["id"] == str(post.pk) and shared["account"]["id"] == str(user.pk)
    assert shared["reblog"]["reblogged"] is True and shared["reblog"]["reblogs_count"] == 1
    assert [a["id"] for a in by] == [str(user.pk)]
    assert undone["id"] == str(post.pk) and (undone["reblogged"], undone["reblogs_count"]) == (False, 0)


def test_favourited_by_pages_with_links(user):
    post = make_post(user, "popular")
    fans = UserFactory.create_batch(3)
    for fan in fans:
        like(fan, post)

    first = Api().get(f"/api/v1/statuses/{post.pk}/favourited_by", {"limit": 2})
    rest = Api().client.get(first["Link"].split(";")[0].strip("<>")).json()

    assert [a["id"] for a in first.json()] == [str(fans[2].pk), str(fans[1].pk)]
    assert [a["id"] for a in rest] == [str(fans[0].pk)]


def test_interacting_across_a_block_is_404(user, other_user):
    post = make_post(other_user, "hidden from you")
    repost(UserFactory(), post)
    block(other_user, user)
    api = api_for(user)

    for action in ["favourite", "reblog", "context", "favourited_by"]:
        method = api.get if action in ("context", "favourited_by") else api.post
        assert method(f"/api/v1/statuses/{post.pk}/{action}").status_code == 404
    assert not Like.objects.filter(user=user).exists()
    assert not Post.objects.filter(author=user).exists()
