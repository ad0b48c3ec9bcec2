"""Timelines across processes: a real Celery worker, a worker killed mid-task, Redis
flushed or stopped. Tests that flush or stop Redis start their own redis-server."""

import os
import signal
import time

import pytest
import redis
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from graph import services as graph_services
from posts.models import Post
from socialnet import redis_client
from socialnet.celery import app as celery_app
from tests.factories import UserFactory, make_post
from tests.processes import celery_worker, private_redis, wait_until
from timeline import services, store
from timeline.selectors import home_timeline

pytestmark = pytest.mark.django_db(transaction=True)


def active_user():
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
    return User.objects.get(pk=user.pk)


def followed_by(author, count):
    followers = [active_user() for _ in range(count)]
    for follower in followers:
        graph_services.follow(follower, author)
        services.rebuild_home(follower.pk)
    return followers


def test_a_post_reaches_every_active_followers_set_through_a_real_worker(redis_namespace, celery_namespace):
    author = active_user()
    followers = followed_by(author, 3)
    stranger = active_user()
    services.rebuild_home(stranger.pk)

    with celery_worker(redis_namespace, celery_namespace):
        post = make_post(author, "through the broker")
        wait_until(lambda: Post.objects.get(pk=post.pk).fanned_out_at)

    assert [store.home_ids(f.pk) for f in followers] == [[post.pk]] * 3
    assert store.home_ids(stranger.pk) == []


def test_a_killed_workers_fan_out_is_redelivered_and_completes(redis_namespace, celery_namespace):
    author = active_user()
    followers = followed_by(author, 2)
    post = make_post(author, "survives a crash")  # queued: no worker is running yet

    # Hold the post's row so the first worker blocks on marking it done, mid-task.
    with transaction.atomic():
        Post.objects.select_for_update().get(pk=post.pk)
        with celery_worker(redis_namespace, celery_namespace, CELERY_VISIBILITY_TIMEOUT="2") as doomed:
            wait_until(
                lambda: "fan_out_post" in doomed.log_path.read_text() and "received" in doomed.log_path.read_text()
            )
            blocked_backend = wait_until(_backend_waiting_for_a_lock)
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
            # The dead worker's database session would otherwise finish its UPDATE once the
            # lock is released; a dead host's connection is dropped by the server the same way.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [blocked_backend])
    assert Post.objects.get(pk=post.pk).fanned_out_at is None

    time.sleep(2.5)  # past the visibility timeout: the unacknowledged task may be redelivered
    with celery_worker(redis_namespace, celery_namespace, CELERY_VISIBILITY_TIMEOUT="2"):
        wait_until(lambda: Post.objects.get(pk=post.pk).fanned_out_at, timeout=90)

    assert [store.home_ids(f.pk) for f in followers] == [[post.pk]] * 2


def _backend_waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.fixture
def own_redis(settings):
    """Point the app's Redis (not the broker) at a private server the test may flush or stop."""
    shared_url = settings.REDIS_URL
    with private_redis() as (url, server):
        settings.REDIS_URL = url
        redis_client.get_redis.cache_clear()
        store._scripts.cache_clear()
        yield url, server
    settings.REDIS_URL = shared_url  # before other fixtures clean up their keys there
    redis_client.get_redis.cache_clear()
    store._scripts.cache_clear()


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_after_flushall_reads_stay_right_and_sets_are_rebuilt(own_redis, eager_tasks):
    url, _ = own_redis
    author = active_user()
    (reader,) = followed_by(author, 1)
    posts = [make_post(author, f"p{i}") for i in range(3)]
    services.rebuild_home(reader.pk)
    before = [p.pk for p in home_timeline(reader)]

    redis.Redis.from_url(url).flushall()

    assert [p.pk for p in home_timeline(reader)] == before == [p.pk for p in reversed(posts)]
    assert store.home_ids(reader.pk) == before  # rebuilt by the task the read requested


def test_with_redis_stopped_the_home_page_answers_from_postgresql(own_redis, client):
    _, server = own_redis
    author = active_user()
    (reader,) = followed_by(author, 1)
    post = make_post(author, "still readable")
    client.force_login(reader)

    server.terminate()
    server.wait(timeout=10)
    response = client.get(reverse("timeline:home"))

    assert response.status_code == 200
    assert [p.pk for p in response.context["posts"]] == [post.pk]


def test_posting_with_redis_stopped_still_succeeds(own_redis, client):
    _, server = own_redis
    author = active_user()
    client.force_login(author)
    server.terminate()
    server.wait(timeout=10)

    response = client.post(reverse("posts:create"), {"text": "Redis is down, posting is not"})

    assert response.status_code == 302
    assert Post.objects.get(author=author).text == "Redis is down, posting is not"
    connection.close()
