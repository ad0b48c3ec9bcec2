import uuid

import pytest
import redis
from django.conf import settings as django_settings

from socialnet.celery import app as celery_app
from tests.factories import UserFactory


@pytest.fixture(scope="session", autouse=True)
def celery_namespace():
    """Publish this run's Celery tasks under their own broker key prefix.

    Without it a `make run` worker on the same Redis could take a test's task and run it
    against the development database. Test workers (tests/processes.py) get the same prefix.
    """
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    options = celery_app.conf.broker_transport_options or {}
    celery_app.conf.broker_transport_options = {**options, "global_keyprefix": f"{prefix}celery:"}
    yield f"{prefix}celery:"
    _delete_keys(f"{prefix}*")


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    """The suite sends thousands of requests from 127.0.0.1; rate-limit tests lower single buckets."""
    settings.RATE_LIMITS = {bucket: (100_000, window) for bucket, (_, window) in settings.RATE_LIMITS.items()}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher costs ~0.3 s per password; tests check behaviour, not strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def redis_namespace(settings):
    """Give each test its own Redis key prefix and delete its keys afterwards.

    Tests may share a Redis with a running `make run` or with other test runs, so they
    never FLUSHDB: they only remove what they wrote.
    """
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    settings.REDIS_KEY_PREFIX = prefix
    yield prefix
    _delete_keys(f"{prefix}*")


def _delete_keys(pattern: str) -> None:
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()
