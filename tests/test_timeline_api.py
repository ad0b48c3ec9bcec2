import pytest
from django.urls import reverse

from graph.services import follow
from posts import services as post_services
from tests.factories import UserFactory, make_post
from timeline import services

pytestmark = pytest.mark.django_db


def test_home_timeline_api_speaks_mastodons_status_shape(client, user, other_user):
    follow(user, other_user)
    UserFactory(username="tagged")
    post = make_post(other_user, "hello @tagged #Django")
    post_services.like(user, post)
    services.rebuild_home(user.pk)
    client.force_login(user)

    response = client.get(reverse("api-timeline-home"))

    assert response.status_code == 200
    (status,) = response.json()
    assert status["id"] == str(post.pk)
    assert status["account"]["id"] == str(other_user.pk)
    assert status["account"]["acct"] == other_user.username
    assert (status["favourited"], status["favourites_count"], status["reblogged"]) == (True, 1, False)
    assert status["mentions"][0]["acct"] == "tagged"
    assert [tag["name"] for tag in status["tags"]] == ["django"]
    assert status["reblog"] is None and status["in_reply_to_id"] is None
    assert 'href="http://127.0.0.1:8000/@tagged/"' in status["content"]  # absolute, for apps
    assert f"max_id={post.pk}" in response["Link"]


def test_a_repost_carries_its_original_as_reblog(client, user, other_user):
    follow(user, other_user)
    original = make_post(UserFactory(), "original")
    repost = post_services.repost(other_user, original)
    client.force_login(user)

    (status,) = client.get(reverse("api-timeline-home")).json()

    assert status["id"] == str(repost.pk)
    assert status["reblog"]["id"] == str(original.pk)
    assert status["reblog"]["reblogs_count"] == 1


def test_home_timeline_api_needs_authentication(client):
    response = client.get(reverse("api-timeline-home"))

    assert response.status_code == 401  # as Mastodon: no token is "unauthorized"
    assert "error" in response.json()


@pytest.mark.parametrize(
    "bad", ["max_id=abc", "since_id=-1", "min_id=1e9", "limit=lots", "max_id=99999999999999999999"]
)
def test_malformed_paging_parameters_are_a_clear_400(client, user, bad):
    client.force_login(user)

    response = client.get(reverse("api-timeline-home") + "?" + bad)

    assert response.status_code == 400
    name = bad.split("=")[0]
    assert name in response.json()["error"]


def test_public_and_tag_timelines_need_no_login(client, user):
    tagged = make_post(user, "#weekend plans")
    plain = make_post(user, "no tags")

    public = client.get(reverse("api-timeline-public")).json()
    tag = client.get(reverse("api-timeline-tag", args=["Weekend"])).json()

    assert [s["id"] for s in public] == [str(plain.pk), str(tagged.pk)]
    assert [s["id"] for s in tag] == [str(tagged.pk)]


def test_home_timeline_api_query_count_is_fixed(client, user, django_assert_max_num_queries):
    authors = UserFactory.create_batch(4)
    for author in authors:
        follow(user, author)
        for i in range(5):
            make_post(author, f"#t{i} post")
    services.rebuild_home(user.pk)
    client.force_login(user)
    client.get(reverse("api-timeline-home"))

    # session, user, followed VIPs, posts, 4 prefetches (mentions, tags; own and reposted)
    with django_assert_max_num_queries(8):
        assert len(client.get(reverse("api-timeline-home") + "?limit=20").json()) == 20
