import pytest
from django.urls import reverse

from graph.services import follow
from posts import services as post_services
from posts.models import Post
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


def test_health_check(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_needs_a_login(client):
    response = client.get(reverse("timeline:home"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:login")


def test_home_shows_own_and_followed_posts_newest_first(client, user, other_user):
    stranger = UserFactory()
    follow(user, other_user)
    older = make_post(other_user, "followed and older")
    make_post(stranger, "from a stranger")
    newer = make_post(user, "my own and newer")
    client.force_login(user)

    response = client.get(reverse("timeline:home"))

    shown = [post.pk for post in response.context["posts"]]
    assert shown == [newer.pk, older.pk]


def test_home_page_query_count_does_not_grow_with_posts(client, user, django_assert_max_num_queries):
    authors = UserFactory.create_batch(5)
    for author in authors:
        follow(user, author)
        for i in range(4):
            post = make_post(author, f"#tag{i} hello @{user.username}")
            post_services.like(user, post)
        post_services.repost(user, post)
    make_post(authors[0], "a reply", reply_to=post)
    post_services.repost(user, Post.objects.filter(reply_to__isnull=False).first())  # a repost of a reply
    client.force_login(user)
    client.get(reverse("timeline:home"))  # fills the suggestions cache, as for any returning user

    # session, user, followed VIPs, page, 4 prefetches, unread badge, cached suggestions; nothing per post
    with django_assert_max_num_queries(10):
        response = client.get(reverse("timeline:home"))

    assert len(response.context["posts"]) == 20


def test_home_page_costs_the_same_queries_for_one_post_or_twenty(client, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    author = UserFactory()
    follow(user, author)
    make_post(author, "the only one")
    client.force_login(user)
    client.get(reverse("timeline:home"))
    with CaptureQueriesContext(connection) as one_post:
        client.get(reverse("timeline:home"))

    for i in range(25):
        post = make_post(author, f"#busy{i} with @{user.username} https://example.com/{i}")
        post_services.like(user, post)
    with CaptureQueriesContext(connection) as twenty_posts:
        response = client.get(reverse("timeline:home"))

    assert len(response.context["posts"]) == 20
    assert len(twenty_posts) == len(one_post)


def test_profile_shows_counts_and_posts(client, user, other_user):
    follow(other_user, user)
    make_post(user, "hello from my profile")

    html = client.get(reverse("accounts:profile", args=[user.username])).content.decode()

    assert "hello from my profile" in html
    assert "<strong>1</strong> followers" in html
    assert "<strong>1</strong> posts" in html


def test_home_suggests_whom_to_follow_and_dismiss_removes_it(client, user, other_user):
    friend_of_friend = UserFactory(username="fof")
    follow(user, other_user)
    follow(other_user, friend_of_friend)
    client.force_login(user)

    html = client.get(reverse("timeline:home")).content.decode()
    assert "Who to follow" in html
    assert f"Followed by {other_user.username}" in html

    client.post(reverse("graph:act", args=["fof", "dismiss"]))

    assert "@fof" not in client.get(reverse("timeline:home")).content.decode()


def test_profile_says_who_you_know_follows_them(client, user, other_user):
    target = UserFactory()
    follow(user, other_user)
    follow(other_user, target)
    client.force_login(user)

    html = client.get(reverse("accounts:profile", args=[target.username])).content.decode()

    assert f"Followed by {other_user.username}" in html


def test_a_blocked_user_sees_no_posts_on_the_blockers_profile(client, user, other_user):
    from graph.services import block

    make_post(other_user, "not for blocked eyes")
    block(other_user, user)
    client.force_login(user)

    html = client.get(reverse("accounts:profile", args=[other_user.username])).content.decode()

    assert "not for blocked eyes" not in html
    assert f"@{other_user.username} has blocked you." in html


@pytest.mark.parametrize("max_id", ["¹", "99999999999999999999999", "-5", "abc"])
def test_odd_max_ids_in_pages_are_ignored_not_500(client, user, max_id):
    client.force_login(user)

    for url in (reverse("timeline:home"), reverse("accounts:profile", args=[user.username]), "/tags/x/"):
        assert client.get(url, {"max_id": max_id}).status_code == 200
