"""Status entities from the body cache (posts/api/rendering.py) equal the serializer's, always."""

from unittest import mock

import pytest
import redis
from rest_framework.test import APIRequestFactory

from accounts.services import update_profile
from graph.services import follow
from posts import services as posts
from posts.api.rendering import posts_data, statuses_data
from posts.api.serializers import StatusSerializer
from posts.models import Post
from posts.selectors import feed_posts
from posts.status_refs import visible_refs
from tests.api_clients import api_for
from tests.factories import UserFactory, make_post
from timeline.services import rebuild_home


@pytest.fixture
def page(db):
    """A viewer's page with a plain post, a reply with a mention and a tag, and a repost."""
    viewer, author, friend = UserFactory(), UserFactory(), UserFactory()
    plain = make_post(author, "plain <b>text</b> https://example.com/x")
    reply = make_post(friend, f"@{author.username} about #Tags", reply_to=plain)
    original = make_post(author, "the original")
    repost = posts.repost(friend, original)
    posts.like(viewer, original)
    ids = [repost.pk, reply.pk, plain.pk]
    return viewer, author, ids


def request_for(viewer):
    request = APIRequestFactory().get("/api/v1/timelines/home")
    request.user = viewer
    return request


def serializer_truth(viewer, ids):
    found = feed_posts(viewer).in_bulk(ids)
    request = request_for(viewer)
    return StatusSerializer([found[pk] for pk in ids], many=True, context={"request": request}).data


def cached_render(viewer, ids):
    refs = visible_refs(viewer, ids)
    return statuses_data(request_for(viewer), [refs[pk] for pk in ids if pk in refs])


def test_rendered_statuses_equal_the_serializers_both_uncached_and_cached(page, django_assert_num_queries):
    viewer, _author, ids = page
    truth = serializer_truth(viewer, ids)

    first = cached_render(viewer, ids)
    refs = visible_refs(viewer, ids)
    with django_assert_num_queries(0):  # every body from the cache
        second = statuses_data(request_for(viewer), [refs[pk] for pk in ids])

    assert first == second == truth
    assert second[0]["reblog"]["favourited"] is True and second[0]["reblog"]["content"] == "<p>the original</p>"


def test_counters_and_the_viewers_state_are_fresh_while_bodies_are_cached(page):
    viewer, author, ids = page
    cached_render(viewer, ids)

    posts.like(viewer, feed_posts(viewer).get(pk=ids[2]))
    follow(UserFactory(), author)

    fresh = cached_render(viewer, ids)
    assert fresh == serializer_truth(viewer, ids)
    assert (fresh[2]["favourited"], fresh[2]["favourites_count"]) == (True, 1)
    assert fresh[2]["account"]["followers_count"] == 1


def test_an_edit_or_a_profile_change_replaces_the_cached_body(page):
    viewer, author, ids = page
    cached_render(viewer, ids)
    plain = feed_posts(viewer).get(pk=ids[2])

    posts.edit_post(author, plain, "edited text")
    update_profile(author, display_name="New Name", bio="new bio")

    rendered = cached_render(viewer, ids)
    assert rendered == serializer_truth(viewer, ids)
    assert rendered[2]["content"] == "<p>edited text</p>"
    assert rendered[2]["account"]["display_name"] == "New Name"
    assert rendered[0]["reblog"]["account"]["display_name"] == "New Name"


def test_redis_down_renders_every_status_without_the_cache(page):
    viewer, _author, ids = page
    with mock.patch("posts.store.get_redis", side_effect=redis.ConnectionError("down")):
        rendered = cached_render(viewer, ids)

    assert rendered == serializer_truth(viewer, ids)


def test_posts_data_renders_loaded_posts_the_same_way(page):
    viewer, _author, ids = page
    found = feed_posts(viewer).in_bulk(ids)

    assert posts_data(request_for(viewer), [found[pk] for pk in ids]) == serializer_truth(viewer, ids)


def test_the_home_endpoint_with_a_warm_cache_renders_nothing_again(page, django_assert_num_queries):
    viewer, author, _ids = page
    follow(viewer, author)
    rebuild_home(viewer.pk)
    api = api_for(viewer)
    warm = api.get("/api/v1/timelines/home")  # warms the cache
    authors_posts = Post.objects.filter(author=author).order_by("-id")
    assert [status["id"] for status in warm.json()] == [str(post.pk) for post in authors_posts]

    # token (with its user), followed VIPs, the visibility check, and, since this timeline holds
    # less than a page, the pull query for anything older; the bodies come from Redis
    with django_assert_num_queries(4):
        response = api.get("/api/v1/timelines/home")

    assert response.json() == warm.json()
