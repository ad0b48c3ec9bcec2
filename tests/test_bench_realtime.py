"""`manage.py bench_realtime --quick`: the whole benchmark on a tiny scale (real uvicorn
servers, a real Celery worker, this test's database and Redis prefix). Benchmarks never
assert timings: this checks that every figure is measured and printed, and that the run
leaves nothing behind."""

import re
from io import StringIO

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command

from notifications.models import Notification
from posts.models import Like, Post

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = [
    "channel_layer.group_send_to_receive p50",
    "channel_layer.group_send_to_receive p99",
    "bare_asgi.rss_per_socket",
    "ws.sockets_held",
    "ws.connect_rate",
    "ws.server_rss_per_socket",
    "ws.server_rss_total",
    "like.service_call p50",
    "like.service_call p99",
    "like_to_notification p50",
    "like_to_notification p99",
    "update_1_recipient p50",
    "update_1_recipient p99",
    "update_8_followers.last p50",
    "update_8_followers.last p99",
    "update_8_followers.each p50",
    "update_8_followers.each p99",
]


def test_bench_realtime_prints_every_figure_and_cleans_up(redis_namespace):
    out = StringIO()

    call_command("bench_realtime", quick=True, redis_url=settings.REDIS_URL, key_prefix=redis_namespace, stdout=out)

    block = out.getvalue().split("```")[1]
    for name in FIGURES:
        assert re.search(rf"^{re.escape(name)} +[\d,.]+ \S+ +\|", block, re.MULTILINE), name
    assert re.search(r"^ws\.sockets_held +20\.0 sockets .* samples 20$", block, re.MULTILINE)
    assert re.search(r"^like_to_notification p99 .* target < 250 ms: (met|MISSED) \| samples 20$", block, re.M)
    assert "still open at the end: 20 of 20 sockets" in block
    assert "not received" not in block
    # Nothing of the run is left: rows, sessions, Redis keys.
    counts = [Post.objects.count(), Like.objects.count(), Notification.objects.count(), Session.objects.count()]
    assert counts == [0, 0, 0, 0]
    assert list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match=f"{redis_namespace}*")) == []
