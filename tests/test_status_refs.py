"""posts.status_refs (the feed's hand-written hot-path query) against the ORM's rules.

`visible_refs` must answer exactly what `feed_posts` / `visible_posts` answer, for every
rule that can hide a post, and carry the same counters and viewer state.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import User
from accounts.services import update_profile
from graph import services as graph
from graph.models import Mute
from posts import services as posts
from posts.models import Post
from posts.selectors import feed_posts, visible_posts
from posts.status_refs import StatusRef, posts_for_refs, visible_refs
from tests.factories import UserFactory, make_post


@pytest.fixture
def rules_world(db):
    """One post per rule that can hide it, each also reposted by a plain account."""
    viewer, plain, reposter = UserFactory(), UserFactory(), UserFactory()
    authors = {
        name: UserFactory(username=name)
        for name in ("suspended", "blocked", "blocker", "muted", "mute_expired", "silenced")
    }
    post_of = {name: make_post(author, f"by {name}") for name, author in authors.items()}
    post_of |= {name: make_post(plain, name) for name in ("plain", "deleted", "hidden", "liked", "reposted")}
    reposts = {name: posts.repost(reposter, post) for name, post in post_of.items()}
    viewer_repost = posts.repost(viewer, post_of["reposted"])
    posts.like(viewer, post_of["liked"])
    posts.like(viewer, reposts["plain"])
    posts.like(UserFactory(), post_of["plain"])

    User.objects.filter(pk=authors["suspended"].pk).update(is_suspended=True)
    User.objects.filter(pk=authors["silenced"].pk).update(is_silenced=True)
    graph.block(viewer, authors["blocked"])
    graph.block(authors["blocker"], viewer)
    graph.mute(viewer, authors["muted"])
    expired = graph.mute(viewer, authors["mute_expired"], duration=timedelta(hours=1))
    Mute.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Post.objects.filter(pk=post_of["deleted"].pk).update(is_deleted=True)
    Post.objects.filter(pk=post_of["hidden"].pk).update(is_hidden=True)

    everything = [*post_of.values(), *reposts.values(), viewer_repost]
    return viewer, post_of, reposts, [post.pk for post in everything]


@pytest.mark.parametrize("feed", [True, False], ids=["feed_posts", "visible_posts"])
def test_visible_refs_answer_what_the_orm_selectors_answer(rules_world, feed):
    viewer, post_of, reposts, ids = rules_world
    orm = (feed_posts if feed else visible_posts)(viewer).filter(pk__in=ids)

    refs = visible_refs(viewer, ids, feed=feed)

    assert refs == {post.pk: StatusRef.of(post) for post in orm}
    hidden_either_way = {"suspended", "blocked", "blocker", "deleted", "hidden"} | ({"muted"} if feed else set())
    shown = {name for name in post_of if post_of[name].pk in refs}
    assert shown == set(post_of) - hidden_either_way
    assert {name for name in reposts if reposts[name].pk in refs} == shown


def test_visible_refs_for_an_anonymous_viewer_match_visible_posts(rules_world):
    _viewer, _post_of, _reposts, ids = rules_world
    for anonymous in (None, AnonymousUser()):
        refs = visible_refs(anonymous, ids, feed=False)
        assert refs == {post.pk: StatusRef.of(post) for post in visible_posts(anonymous).filter(pk__in=ids)}


def test_refs_carry_counters_and_the_viewers_state(rules_world):
    viewer, post_of, reposts, ids = rules_world

    refs = visible_refs(viewer, ids)

    plain, liked, reposted = (refs[post_of[name].pk] for name in ("plain", "liked", "reposted"))
    assert (plain.likes_count, plain.reposts_count, plain.viewer_liked, plain.viewer_reposted) == (1, 1, False, False)
    assert (liked.viewer_liked, liked.viewer_reposted) == (True, False)
    assert (reposted.reposts_count, reposted.viewer_liked, reposted.viewer_reposted) == (2, False, True)
    repost_of_plain = refs[reposts["plain"].pk]
    assert (repost_of_plain.viewer_liked, repost_of_plain.original) == (True, plain)
    assert refs[reposts["reposted"].pk].original.viewer_reposted is True


def test_posts_for_refs_load_posts_in_order_with_the_viewers_state(rules_world, django_assert_num_queries):
    viewer, _post_of, _reposts, ids = rules_world
    refs = list(visible_refs(viewer, ids).values())
    refs.sort(key=lambda ref: ref.pk, reverse=True)

    with django_assert_num_queries(5):  # posts with authors, mentions, tags, and the originals' two
        loaded = posts_for_refs(refs)

    assert [post.pk for post in loaded] == [ref.pk for ref in refs]
    assert [StatusRef.of(post) for post in loaded] == refs


def test_a_refs_version_moves_with_an_edit_and_with_the_authors_profile(rules_world):
    viewer, post_of, _reposts, _ids = rules_world
    post = post_of["plain"]
    before = visible_refs(viewer, [post.pk])[post.pk].version

    posts.edit_post(post.author, post, "edited")
    edited = visible_refs(viewer, [post.pk])[post.pk].version
    update_profile(post.author, display_name="Renamed")
    renamed = visible_refs(viewer, [post.pk])[post.pk].version

    assert len({before, edited, renamed}) == 3
