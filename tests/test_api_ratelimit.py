"""Rate limits: Mastodon's buckets on atomic Redis counters, under concurrency, with headers."""

import threading
from datetime import datetime
from unittest import mock

import pytest
import redis
from django.db import connection

from accounts.models import User
from graph.models import Follow
from posts.models import Post
from tests.api_clients import Api, api_for, app_token, make_app
from tests.factories import UserFactory

API_LIMIT = 300


@pytest.mark.django_db(transaction=True)
def test_the_301st_request_of_one_token_is_refused_under_concurrency(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (API_LIMIT, 300)}
    token = api_for(UserFactory()).token
    statuses, refusals, lock = [], [], threading.Lock()

    def hammer(count):
        api = Api(token)
        try:
            for _ in range(count):
                response = api.get("/api/v1/instance")
                with lock:
                    statuses.append(response.status_code)
                    if response.status_code == 429:
                        refusals.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer, args=(40,)) for _ in range(8)]  # 320 requests
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) == API_LIMIT and statuses.count(429) == 20
    refused = refusals[0]
    assert refused.json() == {"error": "Too many requests"}
    assert refused["X-RateLimit-Limit"] == "300" and refused["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(refused["X-RateLimit-Reset"])
    assert 0 < (reset - datetime.now(reset.tzinfo)).total_seconds() <= 300
    # Another token has its own bucket.
    assert api_for(UserFactory()).get("/api/v1/instance").status_code == 200


@pytest.mark.django_db
def test_headers_count_down(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (5, 300)}
    api = api_for(UserFactory())

    remaining = [api.get("/api/v1/instance")["X-RateLimit-Remaining"] for _ in range(6)]

    assert remaining == ["4", "3", "2", "1", "0", "0"]
    assert api.get("/api/v1/instance").status_code == 429


@pytest.mark.django_db
def test_anonymous_requests_are_limited_per_ip(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_ip": (2, 300)}

    answers = [Api().get("/api/v2/instance").status_code for _ in range(3)]
    other_ip = Api().client.get("/api/v2/instance", REMOTE_ADDR="10.0.0.9")

    assert answers == [200, 200, 429]
    assert other_ip.status_code == 200


@pytest.mark.django_db
def test_posts_per_account(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "posts": (2, 3 * 3600)}
    user = UserFactory()
    api = api_for(user)

    answers = [api.post("/api/v1/statuses", {"status": f"post {i}"}) for i in range(3)]
    other_app = api_for(user).post("/api/v1/statuses", {"status": "from another app"})

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "Too many requests"
    assert answers[2]["X-RateLimit-Limit"] == "2" and answers[2]["X-RateLimit-Remaining"] == "0"
    assert other_app.status_code == 429  # the account's bucket, whatever the token
    assert Post.objects.filter(author=user).count() == 2


@pytest.mark.django_db
def test_follows_per_account(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "follows": (1, 24 * 3600)}
    user, first, second = UserFactory(), UserFactory(), UserFactory()
    api = api_for(user)

    assert api.post(f"/api/v1/accounts/{first.pk}/follow").status_code == 200
    refused = api.post(f"/api/v1/accounts/{second.pk}/follow")

    assert refused.status_code == 429
    assert list(Follow.objects.values_list("followee_id", flat=True)) == [first.pk]


@pytest.mark.django_db
def test_sign_ups_per_ip(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ups": (1, 1800)}
    app = make_app()

    def sign_up(name):
        body = {"username": name, "email": f"{name}@example.com", "password": "a-long-test-password", "agreement": 1}
        return app_token(app).post("/api/v1/accounts", body).status_code

    assert [sign_up("first"), sign_up("second")] == [200, 429]
    form = {"username": "third", "email": "third@example.com", "password": "a-long-test-password"}
    page = Api().client.post("/accounts/signup/", form | {"password_again": form["password"]})
    assert page.status_code == 429  # the sign-up page shares the bucket
    assert not User.objects.filter(username__in=["second", "third"]).exists()


@pytest.mark.django_db
def test_logins_per_ip(settings, client):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (2, 300)}

    answers = [client.post("/oauth/token", {"grant_type": "client_credentials"}).status_code for _ in range(3)]

    assert [answer == 429 for answer in answers] == [False, False, True]


@pytest.mark.django_db
def test_redis_down_lets_requests_through(settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (1, 300)}
    api = api_for(UserFactory())
    broken = mock.Mock(side_effect=redis.ConnectionError("down"))

    with mock.patch("socialnet.api_ratelimit._count_script", return_value=broken):
        answers = [api.get("/api/v1/instance") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in answers[0]
    assert "rate limits unavailable" in caplog.text
