"""Home timelines on real Redis and PostgreSQL, with Celery tasks run inline (eager).

Cross-process behaviour (a real worker, a killed worker, Redis flushed or stopped) is in
test_timeline_e2e.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from graph import services as graph_services
from posts import services as post_services
from posts.models import Post
from socialnet.celery import app as celery_app
from tests.factories import UserFactory, make_post
from timeline import services, store, tasks
from timeline.selectors import home_timeline, home_timeline_refs, public_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    """Tasks run inline where they are sent, so one test sees the whole write path."""
    celery_app.conf.task_always_eager = True
    settings.VIP_THRESHOLD = 1000
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Run a service and what it schedules after commit (fan-out, backfill, purge)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def active_user(**fields):
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
    user.refresh_from_db()
    return user


def ids(posts):
    return [post.pk for post in posts]


@pytest.fixture
def world(publish):
    """An author followed by two active readers and one who has been away a month."""
    author, reader, other_reader, away, stranger = (active_user() for _ in range(5))
    User.objects.filter(pk=away.pk).update(last_active_at=timezone.now() - timedelta(days=30))
    for follower in (reader, other_reader, away):
        publish(graph_services.follow, follower, author)
    for user in (author, reader, other_reader, away, stranger):
        services.rebuild_home(user.pk)
    return author, reader, other_reader, away, stranger


# --- write path ----------------------------------------------------------------------------


def test_a_regular_authors_post_reaches_exactly_the_active_followers(world, publish):
    author, reader, other_reader, away, stranger = world

    post = publish(make_post, author, "hello followers")

    for user in (author, reader, other_reader):
        assert store.home_ids(user.pk) == [post.pk]
    assert store.home_ids(away.pk) == []
    assert store.home_ids(stranger.pk) == []
    post.refresh_from_db()
    assert post.fanned_out_at is not None


def test_fan_out_never_creates_a_partial_timeline(world, publish):
    author, _reader, *_ = world
    newcomer = active_user()
    publish(graph_services.follow, newcomer, author)

    publish(make_post, author, "hello")

    assert store.home_ids(newcomer.pk) is None  # no set: the first read rebuilds it whole


def test_running_a_fan_out_task_twice_changes_nothing(world, publish):
    author, reader, *_ = world
    post = publish(make_post, author, "once")
    before = store.home_ids(reader.pk)

    Post.objects.filter(pk=post.pk).update(fanned_out_at=None)  # as if the first run was lost
    tasks.fan_out_post(post.pk)
    tasks.fan_out_post(post.pk)

    assert store.home_ids(reader.pk) == before == [post.pk]


def test_a_large_audience_is_fanned_out_in_batches(publish, settings):
    settings.FANOUT_BATCH = 2
    author = active_user()
    followers = [active_user() for _ in range(5)]
    for follower in followers:
        publish(graph_services.follow, follower, author)
        services.rebuild_home(follower.pk)

    post = publish(make_post, author, "to everyone")

    assert all(store.home_ids(f.pk) == [post.pk] for f in followers)


def test_timelines_are_trimmed_to_timeline_max(world, publish, settings):
    settings.TIMELINE_MAX, settings.TIMELINE_TRIM_SLACK = 3, 0
    author, reader, *_ = world

    posts = [publish(make_post, author, f"n{i}") for i in range(5)]

    assert store.home_ids(reader.pk) == [p.pk for p in reversed(posts[-3:])]


def test_a_vip_post_reaches_no_set_but_every_followers_read(world, publish, settings):
    _author, reader, other_reader, away, _ = world
    vip = active_user(is_vip=True)
    User.objects.filter(pk=vip.pk).update(is_vip=True)
    for follower in (reader, away):
        publish(graph_services.follow, follower, vip)
    services.rebuild_home(away.pk)

    post = publish(make_post, vip, "from the VIP")

    assert post.pk not in store.home_ids(reader.pk)
    assert ids(home_timeline(reader)) == [post.pk]
    assert ids(home_timeline(away)) == [post.pk]
    assert ids(home_timeline(other_reader)) == []


def test_deleting_a_post_hides_it_at_once_and_removes_it_from_sets(world, publish):
    author, reader, *_ = world
    kept = publish(make_post, author, "kept")
    gone = publish(make_post, author, "gone")

    publish(post_services.delete_post, author, gone)

    assert ids(home_timeline(reader)) == [kept.pk]
    assert store.home_ids(reader.pk) == [kept.pk]


def test_a_hidden_post_disappears_from_reads_at_once(world, publish):
    author, reader, *_ = world
    post = publish(make_post, author, "soon hidden")

    Post.objects.filter(pk=post.pk).update(is_hidden=True)

    assert home_timeline(reader) == []


def test_following_backfills_and_unfollowing_removes(world, publish):
    _author, reader, *_ = world
    other_author = active_user()
    older = [publish(make_post, other_author, f"old {i}") for i in range(3)]

    publish(graph_services.follow, reader, other_author)
    assert store.home_ids(reader.pk) == ids(reversed(older))

    publish(graph_services.unfollow, reader, other_author)
    assert store.home_ids(reader.pk) == []


def test_blocking_and_muting_remove_the_author_and_reposts_of_them(world, publish):
    author, reader, other_reader, *_ = world
    post = publish(make_post, author, "by author")
    publish(graph_services.follow, reader, other_reader)
    repost = publish(post_services.repost, other_reader, post)
    assert set(store.home_ids(reader.pk)) == {post.pk}  # the repost of a shown post is not added

    publish(graph_services.mute, reader, author)

    assert store.home_ids(reader.pk) == []
    assert home_timeline(reader) == []
    assert repost.pk not in ids(home_timeline(reader))


def test_a_post_reposted_by_several_followees_appears_once_at_the_first_repost(publish):
    reader, first, second, stranger = (active_user() for _ in range(4))
    for followee in (first, second):
        publish(graph_services.follow, reader, followee)
    services.rebuild_home(reader.pk)
    original = publish(make_post, stranger, "worth sharing")

    first_repost = publish(post_services.repost, first, original)
    publish(post_services.repost, second, original)

    assert store.home_ids(reader.pk) == [first_repost.pk]
    assert ids(home_timeline(reader)) == [first_repost.pk]


def test_a_repost_of_a_post_among_the_newest_40_is_not_shown_again(world, publish):
    author, reader, other_reader, *_ = world
    publish(graph_services.follow, reader, other_reader)
    original = publish(make_post, author, "fresh")

    publish(post_services.repost, other_reader, original)

    assert store.home_ids(reader.pk) == [original.pk]


# --- read path -----------------------------------------------------------------------------


@pytest.fixture
def mixed_world(publish):
    """A reader following a regular author and a VIP who post alternately."""
    reader, regular, vip = (active_user() for _ in range(3))
    User.objects.filter(pk=vip.pk).update(is_vip=True)
    vip.refresh_from_db()
    for followee in (regular, vip):
        publish(graph_services.follow, reader, followee)
    services.rebuild_home(reader.pk)
    posts = [publish(make_post, regular if i % 2 else vip, f"post {i}") for i in range(12)]
    return reader, list(reversed(posts))  # newest first


def test_merge_order_and_max_id_pages_cross_the_vip_boundary_exactly(mixed_world):
    reader, newest_first = mixed_world

    first = home_timeline(reader, limit=5)
    second = home_timeline(reader, max_id=first[-1].pk, limit=5)
    third = home_timeline(reader, max_id=second[-1].pk, limit=5)

    assert ids(first + second + third) == ids(newest_first)


def test_since_id_gives_the_newest_page_and_min_id_the_page_just_above(mixed_world):
    reader, newest_first = mixed_world
    anchor = newest_first[8]

    assert ids(home_timeline(reader, since_id=anchor.pk, limit=3)) == ids(newest_first[:3])
    assert ids(home_timeline(reader, min_id=anchor.pk, limit=3)) == ids(newest_first[5:8])
    assert ids(home_timeline(reader, since_id=newest_first[0].pk)) == []


def test_a_missing_set_is_served_by_the_pull_path_and_rebuilt(mixed_world):
    reader, newest_first = mixed_world
    store.replace_home(reader.pk, [], {})
    from socialnet.redis_client import get_redis

    get_redis().delete(store.home_key(reader.pk))

    assert ids(home_timeline(reader, limit=40)) == ids(newest_first)  # pull path, right anyway
    assert store.home_ids(reader.pk) == ids(p for p in newest_first if not p.author.is_vip)  # rebuilt


def test_a_missing_vip_set_is_served_by_the_pull_path_and_rebuilt(mixed_world):
    reader, newest_first = mixed_world
    vip_id = next(p.author_id for p in newest_first if p.author.is_vip)
    from socialnet.redis_client import get_redis

    get_redis().delete(store.vip_posts_key(vip_id))

    assert ids(home_timeline(reader, limit=40)) == ids(newest_first)
    assert get_redis().exists(store.vip_posts_key(vip_id))


def test_limit_is_capped_at_40(publish):
    reader, author = active_user(), active_user()
    publish(graph_services.follow, reader, author)
    services.rebuild_home(reader.pk)
    for i in range(45):
        publish(make_post, author, f"p{i}")

    assert len(home_timeline(reader, limit=500)) == 40


def test_reading_past_the_trimmed_end_continues_from_postgresql(publish, settings):
    settings.TIMELINE_MAX, settings.TIMELINE_TRIM_SLACK = 5, 0
    reader, author = active_user(), active_user()
    publish(graph_services.follow, reader, author)
    services.rebuild_home(reader.pk)
    posts = [publish(make_post, author, f"p{i}") for i in range(12)]

    first = home_timeline(reader, limit=8)
    second = home_timeline(reader, max_id=first[-1].pk, limit=8)

    assert ids(first + second) == ids(reversed(posts))


def test_a_home_page_from_redis_takes_a_fixed_number_of_queries(mixed_world, django_assert_max_num_queries):
    reader, _ = mixed_world
    home_timeline(reader)

    # followed VIPs + the visibility check (one query for both, whatever the page size)
    with django_assert_max_num_queries(2):
        assert len(home_timeline_refs(reader, limit=10)) == 10
    # + the posts for rendering (authors joined) and their mentions and tags: the browser's page
    with django_assert_max_num_queries(5):
        assert len(home_timeline(reader, limit=10)) == 10


def test_a_suspended_authors_posts_are_dropped_at_read_time(world, publish):
    author, reader, _other_reader, *_ = world
    post = publish(make_post, author, "visible until blocked")
    assert ids(home_timeline(reader)) == [post.pk]

    User.objects.filter(pk=author.pk).update(is_suspended=True)

    assert home_timeline(reader) == []


def test_public_timeline_lists_original_posts_newest_first(world, publish):
    author, reader, *_ = world
    first = publish(make_post, author, "one")
    second = publish(make_post, reader, "two")
    publish(post_services.repost, reader, first)

    assert ids(public_timeline(None)) == [second.pk, first.pk]


# --- VIP flags -----------------------------------------------------------------------------


def test_vip_flags_have_hysteresis(settings):
    settings.VIP_THRESHOLD, settings.VIP_DEMOTE_RATIO = 10, 0.8
    author = active_user()

    User.objects.filter(pk=author.pk).update(followers_count=10)
    assert services.refresh_vip_flags() == ([author.pk], [])
    User.objects.filter(pk=author.pk).update(followers_count=9)
    assert services.refresh_vip_flags() == ([], [])  # hovering below the line: still a VIP
    User.objects.filter(pk=author.pk).update(followers_count=7)
    assert services.refresh_vip_flags() == ([], [author.pk])


def test_a_new_vips_recent_posts_set_is_seeded_and_a_demoted_vip_caught_up(publish, settings):
    settings.VIP_THRESHOLD, settings.VIP_DEMOTE_RATIO = 2, 1.0  # no hysteresis: one unfollow demotes
    author, reader, other = active_user(), active_user(), active_user()
    for follower in (reader, other):
        publish(graph_services.follow, follower, author)
    services.rebuild_home(reader.pk)
    tasks.refresh_vip_flags()
    vip_post = publish(make_post, author, "as a VIP")
    assert store.home_ids(reader.pk) == []
    assert ids(home_timeline(reader)) == [vip_post.pk]

    publish(graph_services.unfollow, other, author)
    tasks.refresh_vip_flags()

    assert store.home_ids(reader.pk) == [vip_post.pk]  # caught up: now in the reader's own set


# --- commands ------------------------------------------------------------------------------


def test_check_timelines_reports_differences_and_rebuild_fixes_them(world, publish):
    from io import StringIO

    from django.core.management import call_command

    author, reader, *_ = world
    post = publish(make_post, author, "will go missing")
    from socialnet.redis_client import get_redis

    get_redis().zrem(store.home_key(reader.pk), post.pk)

    report = StringIO()
    call_command("check_timelines", sample=50, stdout=report)
    assert f"user {reader.pk}: 1 missing [{post.pk}], 0 unexpected []" in report.getvalue()
    assert "Checked 4 timelines: 1 differ from PostgreSQL." in report.getvalue()

    call_command("rebuild_timelines", user=[reader.username], stdout=StringIO())
    report = StringIO()
    call_command("check_timelines", sample=50, stdout=report)
    assert "Checked 4 timelines: 0 differ from PostgreSQL." in report.getvalue()


def test_trimming_waits_for_the_slack_then_cuts_back_to_timeline_max(world, publish, settings):
    settings.TIMELINE_MAX, settings.TIMELINE_TRIM_SLACK = 3, 2
    author, reader, *_ = world

    posts = [publish(make_post, author, f"n{i}") for i in range(5)]
    assert store.home_ids(reader.pk) == [p.pk for p in reversed(posts)]  # 5 = 3 + slack: not yet

    newest = publish(make_post, author, "one over")
    assert store.home_ids(reader.pk) == [newest.pk, posts[4].pk, posts[3].pk]
