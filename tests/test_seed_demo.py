"""`manage.py seed_demo`. Each test seeds its own small world inside its transaction, so
nothing it writes (or schedules on commit) outlives the test."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Lower
from django.test import Client

from accounts.management.commands.seed_demo import (
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    LIKES_PER_USER,
    MODERATOR_PASSWORD,
    MODERATOR_USERNAME,
    NEWCOMER_USERNAME,
    REPOSTS_PER_USER,
    SPECIAL_USERNAMES,
    VIP_USERNAMES,
)
from accounts.models import User
from graph.models import Follow
from posts import text as post_text
from posts.models import Hashtag, Like, Mention, Post, PostHashtag

CROWD = 40


def seed(users: int = CROWD) -> str:
    out = StringIO()
    call_command("seed_demo", users=users, seed=7, stdout=out)
    return out.getvalue()


def world_counts() -> dict[str, int]:
    models = {"users": User, "follows": Follow, "posts": Post, "likes": Like, "mentions": Mention, "tags": PostHashtag}
    return {name: model.objects.count() for name, model in models.items()}


@pytest.fixture
def demo_world(db):
    return seed()


def test_creates_the_crowd_and_the_special_accounts_with_working_logins(demo_world):
    crowd_member = User.objects.exclude(username__in=SPECIAL_USERNAMES).first()
    demo_email = Concat(Lower("username"), Value(f"@{DEMO_EMAIL_DOMAIN}"))

    assert User.objects.count() == CROWD + len(SPECIAL_USERNAMES)
    assert sorted(User.objects.filter(username__in=SPECIAL_USERNAMES).values_list("username", flat=True)) == sorted(
        SPECIAL_USERNAMES
    )
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == [MODERATOR_USERNAME]
    assert User.objects.exclude(email=demo_email).count() == 0
    assert Client().login(username=NEWCOMER_USERNAME, password=DEMO_PASSWORD) is True
    assert Client().login(username=MODERATOR_USERNAME, password=MODERATOR_PASSWORD) is True
    assert Client().login(username=crowd_member.username, password=DEMO_PASSWORD) is True
    assert Client().login(username=MODERATOR_USERNAME, password=DEMO_PASSWORD) is False


def test_every_user_and_post_counter_matches_the_tables(demo_world):
    followers = Counter(Follow.objects.values_list("followee_id", flat=True))
    following = Counter(Follow.objects.values_list("follower_id", flat=True))
    authored = Counter(Post.objects.filter(is_deleted=False).values_list("author_id", flat=True))
    replies = Counter(Post.objects.filter(reply_to__isnull=False).values_list("reply_to_id", flat=True))
    reposts = Counter(Post.objects.filter(repost_of__isnull=False).values_list("repost_of_id", flat=True))
    likes = Counter(Like.objects.values_list("post_id", flat=True))

    user_counters = {u.pk: (u.followers_count, u.following_count, u.posts_count) for u in User.objects.all()}
    post_counters = {p.pk: (p.replies_count, p.reposts_count, p.likes_count) for p in Post.objects.all()}

    assert user_counters == {pk: (followers[pk], following[pk], authored[pk]) for pk in user_counters}
    assert post_counters == {pk: (replies[pk], reposts[pk], likes[pk]) for pk in post_counters}


def test_the_vips_are_followed_by_most_users_and_more_than_anyone_else(demo_world):
    user_count = User.objects.count()
    most_followed_other = User.objects.exclude(username__in=VIP_USERNAMES).aggregate(m=Max("followers_count"))["m"]
    vips = User.objects.filter(username__in=VIP_USERNAMES)

    assert vips.count() == len(VIP_USERNAMES)
    for vip in vips:
        assert Follow.objects.filter(followee=vip).count() >= 0.8 * user_count
        assert vip.followers_count > most_followed_other
    assert Follow.objects.filter(follower__username=NEWCOMER_USERNAME, followee__in=vips).count() == len(VIP_USERNAMES)


def test_posts_have_replies_and_exactly_the_mentions_and_hashtags_their_text_has(demo_world):
    originals = Post.objects.filter(repost_of__isnull=True)
    replies = originals.filter(reply_to__isnull=False)
    usernames = {name.casefold() for name in User.objects.values_list("username", flat=True)}
    expected_mentions, expected_tags = set(), set()
    for post in originals:
        mentioned = {name.casefold() for name in post_text.extract_mentions(post.text)} & usernames
        expected_mentions |= {(post.pk, name) for name in mentioned}
        expected_tags |= {(post.pk, tag) for tag in post_text.extract_hashtags(post.text)}

    mentions = {(post_id, name.casefold()) for post_id, name in Mention.objects.values_list("post", "user__username")}
    tags = set(PostHashtag.objects.values_list("post", "hashtag__name"))

    assert 0.15 * originals.count() <= replies.count() <= 0.35 * originals.count()
    assert replies.filter(reply_to__id__gte=F("id")).count() == 0
    assert expected_mentions
    assert mentions == expected_mentions
    assert expected_tags
    assert tags == expected_tags
    assert Hashtag.objects.filter(name="话题").exists()


def test_reposts_and_likes_are_distinct_and_never_of_ones_own_posts(demo_world):
    assert Post.objects.filter(repost_of__isnull=False).count() == REPOSTS_PER_USER * CROWD
    assert Like.objects.count() == LIKES_PER_USER * CROWD
    assert Post.objects.filter(repost_of__author=F("author")).count() == 0
    assert Like.objects.filter(post__author=F("user")).count() == 0


def test_prints_the_logins_and_a_second_run_creates_nothing(demo_world):
    before = world_counts()

    second_output = seed()

    assert world_counts() == before
    summary = f"Demo world ready: {before['users']:,} users, {before['follows']:,} follows, {before['posts']:,} posts"
    for output in (demo_world, second_output):
        assert summary in output
        assert "/accounts/login/ as:" in output
        assert f"{NEWCOMER_USERNAME} / {DEMO_PASSWORD}" in output
        assert f"{MODERATOR_USERNAME} / {MODERATOR_PASSWORD}" in output
    assert "already exists; nothing was created" in second_output


@pytest.mark.django_db
def test_the_same_seed_builds_the_same_people():
    def people():
        return list(User.objects.order_by("id").values_list("username", "display_name", "bio"))

    seed(users=5)
    first = people()
    User.objects.all().delete()

    seed(users=5)

    assert people() == first
