import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import User
from graph import selectors, services
from graph.models import Block, Follow, Mute
from posts import selectors as post_selectors
from posts import services as post_services
from posts.models import Mention, Post
from tests.factories import UserFactory, make_post
from timeline.selectors import pull_home_timeline

pytestmark = pytest.mark.django_db


def counts(*users):
    return [tuple(User.objects.filter(pk=u.pk).values_list("followers_count", "following_count").get()) for u in users]


# --- blocks ------------------------------------------------------------------------------


def test_a_block_ends_follows_both_ways_and_keeps_counters_exact(user, other_user):
    services.follow(user, other_user)
    services.follow(other_user, user)

    assert services.block(user, other_user) is True
    assert services.block(user, other_user) is False  # twice: nothing more happens

    assert not Follow.objects.exists()
    assert counts(user, other_user) == [(0, 0), (0, 0)]
    assert Block.objects.count() == 1


@pytest.mark.parametrize(
    ("who_blocks", "reason"),
    [("followee", "You cannot follow this account."), ("follower", "You have blocked this account")],
)
def test_no_follow_across_a_block_in_either_direction(user, other_user, who_blocks, reason):
    if who_blocks == "followee":
        services.block(other_user, user)
    else:
        services.block(user, other_user)

    with pytest.raises(ValidationError, match=reason):
        services.follow(user, other_user)

    assert not Follow.objects.exists()
    assert counts(user, other_user) == [(0, 0), (0, 0)]


def test_unblock_allows_following_again(user, other_user):
    services.block(user, other_user)

    assert services.unblock(user, other_user) is True
    assert services.unblock(user, other_user) is False
    assert services.follow(user, other_user) is True


def test_blocking_or_muting_yourself_is_refused(user):
    with pytest.raises(ValidationError, match=r"You cannot block yourself\."):
        services.block(user, user)
    with pytest.raises(ValidationError, match=r"You cannot mute yourself\."):
        services.mute(user, user)

    assert not Block.objects.exists() and not Mute.objects.exists()


def test_the_blocked_cannot_reply_like_or_repost_the_blocker(user, other_user):
    post = make_post(other_user, "mine")
    services.block(other_user, user)

    for action in (
        lambda: make_post(user, "reply", reply_to=post),
        lambda: post_services.like(user, post),
        lambda: post_services.repost(user, post),
    ):
        with pytest.raises(ValidationError, match="no longer available"):
            action()

    post.refresh_from_db()
    assert (post.replies_count, post.likes_count, post.reposts_count) == (0, 0, 0)
    assert Post.objects.count() == 1


def test_mentioning_a_blocker_links_nobody(user, other_user):
    services.block(other_user, user)

    post = make_post(user, f"hey @{other_user.username}")

    assert post.text == f"hey @{other_user.username}"
    assert not Mention.objects.exists()


def test_neither_side_of_a_block_sees_the_others_posts(user, other_user):
    theirs = make_post(other_user, "theirs")
    mine = make_post(user, "mine")
    third = UserFactory()
    reposted = post_services.repost(third, theirs)
    services.block(other_user, user)

    seen_by_blocked = {p.pk for p in post_selectors.visible_posts(user)}
    seen_by_blocker = {p.pk for p in post_selectors.visible_posts(other_user)}

    assert seen_by_blocked == {mine.pk}  # neither their post nor a repost of it
    assert seen_by_blocker == {theirs.pk, reposted.pk}
    assert post_selectors.author_posts(user, other_user) == []


# --- mutes -------------------------------------------------------------------------------


def test_a_mute_hides_posts_from_feeds_but_keeps_the_follow(user, other_user):
    services.follow(user, other_user)
    muted_post = make_post(other_user, "muted")
    third = UserFactory()
    services.follow(user, third)
    repost_of_muted = post_services.repost(third, muted_post)
    kept = make_post(third, "kept")

    services.mute(user, other_user)

    assert [p.pk for p in pull_home_timeline(user)] == [kept.pk]
    assert repost_of_muted.pk not in {p.pk for p in pull_home_timeline(user)}
    assert selectors.is_following(user, other_user)
    assert [p.pk for p in post_selectors.author_posts(user, other_user)] == [muted_post.pk]  # their profile still shows


def test_a_timed_mute_ends_by_itself(user, other_user):
    services.follow(user, other_user)
    post = make_post(other_user)
    services.mute(user, other_user, duration=timedelta(hours=1))
    assert pull_home_timeline(user) == []

    Mute.objects.update(expires_at=Mute.objects.get().created_at - timedelta(seconds=1))

    assert [p.pk for p in pull_home_timeline(user)] == [post.pk]


def test_muting_again_updates_and_unmute_undoes(user, other_user):
    services.mute(user, other_user, hide_notifications=True)
    services.mute(user, other_user, hide_notifications=False)

    assert list(Mute.objects.values_list("hide_notifications", flat=True)) == [False]
    assert services.unmute(user, other_user) is True
    assert services.unmute(user, other_user) is False


def test_a_mute_needs_a_positive_duration(user, other_user):
    with pytest.raises(ValidationError, match="positive"):
        services.mute(user, other_user, duration=timedelta(0))

    assert not Mute.objects.exists()


# --- relationships -----------------------------------------------------------------------


def test_relationships_in_one_call_with_a_fixed_number_of_queries(user, django_assert_num_queries):
    followed, follower, blocked, blocker, muted, stranger = UserFactory.create_batch(6)
    services.follow(user, followed)
    services.follow(follower, user)
    services.block(user, blocked)
    services.block(blocker, user)
    services.mute(user, muted, hide_notifications=False)
    ids = [followed.pk, follower.pk, blocked.pk, blocker.pk, muted.pk, stranger.pk]

    with django_assert_num_queries(4):
        found = selectors.relationships(user, ids)

    flags = {
        pk: (r.following, r.followed_by, r.blocking, r.blocked_by, r.muting, r.muting_notifications)
        for pk, r in found.items()
    }
    assert flags == {
        followed.pk: (True, False, False, False, False, False),
        follower.pk: (False, True, False, False, False, False),
        blocked.pk: (False, False, True, False, False, False),
        blocker.pk: (False, False, False, True, False, False),
        muted.pk: (False, False, False, False, True, False),
        stranger.pk: (False, False, False, False, False, False),
    }


def test_unfollowing_someone_you_do_not_follow_changes_nothing(user, other_user):
    assert services.unfollow(user, other_user) is False
    assert counts(user, other_user) == [(0, 0), (0, 0)]


@pytest.mark.django_db(transaction=True)
def test_a_follow_unfollow_storm_on_one_pair_keeps_counters_equal_to_the_table():
    fan, star = UserFactory.create_batch(2)
    rng = random.Random(3)
    actions = [rng.choice((services.follow, services.unfollow)) for _ in range(60)]

    def run(action):
        try:
            action(fan, star)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(run, actions))

    edges = Follow.objects.filter(follower=fan, followee=star).count()
    assert counts(fan, star) == [(0, edges), (edges, 0)]


@pytest.mark.django_db(transaction=True)
def test_a_like_unlike_storm_on_one_post_keeps_the_count_equal_to_the_table():
    from posts.models import Like

    fan, author = UserFactory.create_batch(2)
    post = make_post(author)
    rng = random.Random(5)
    actions = [rng.choice((post_services.like, post_services.unlike)) for _ in range(60)]

    def run(action):
        try:
            action(fan, post)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(run, actions))  # any IntegrityError would surface here

    post.refresh_from_db()
    assert post.likes_count == Like.objects.filter(post=post).count()
