import pytest
from django.urls import reverse

from graph.services import follow
from posts import services as post_services
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
    client.force_login(user)

    # session + user + page + mentions prefetch (x2) and nothing per post
    with django_assert_max_num_queries(6):
        response = client.get(reverse("timeline:home"))

    assert len(response.context["posts"]) == 20


def test_profile_shows_counts_and_posts(client, user, other_user):
    follow(other_user, user)
    make_post(user, "hello from my profile")

    html = client.get(reverse("accounts:profile", args=[user.username])).content.decode()

    assert "hello from my profile" in html
    assert "<strong>1</strong> followers" in html
    assert "<strong>1</strong> posts" in html
