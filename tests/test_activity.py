from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.processes import celery_worker, wait_until


def activity_key(user):
    return f"{settings.REDIS_KEY_PREFIX}active:{user.pk}"


@pytest.mark.django_db(transaction=True)
def test_last_active_is_recorded_by_a_real_worker_at_most_once_a_window(
    client, user, redis_namespace, celery_namespace
):
    client.force_login(user)
    assert user.last_active_at is None

    with celery_worker(redis_namespace, celery_namespace):
        client.get(reverse("timeline:home"))
        seen = wait_until(lambda: User.objects.get(pk=user.pk).last_active_at)

    assert timezone.now() - seen < timedelta(seconds=30)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(activity_key(user))
    assert settings.LAST_ACTIVE_RESOLUTION_SECONDS - 60 < ttl <= settings.LAST_ACTIVE_RESOLUTION_SECONDS


@pytest.mark.django_db
def test_a_burst_of_requests_enqueues_one_activity_update(client, user, settings, monkeypatch):
    sent = []
    monkeypatch.setattr("accounts.middleware.mark_active.delay", lambda *args: sent.append(args))
    client.force_login(user)

    for _ in range(5):
        client.get(reverse("timeline:home"))

    assert [user_id for user_id, _ in sent] == [user.pk]


@pytest.mark.django_db
def test_activity_tracking_never_breaks_a_request_when_redis_is_down(client, user, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr("accounts.store.claim_activity_slot", broken)
    client.force_login(user)

    response = client.get(reverse("timeline:home"))

    assert response.status_code == 200
