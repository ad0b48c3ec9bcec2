"""Benchmark-only pages that `manage.py bench_timeline` measures the home timeline against.

Mounted under /api/bench/ only when settings.BENCHMARK_ENDPOINTS is true (socialnet/urls.py);
never in production. Both use the real endpoint's authentication and permission (session,
IsAuthenticated), so the only difference from GET /api/v1/timelines/home is the work done:

- `timelines/floor`: one Redis round trip (the first page of the user's home set) and one
  `SELECT 1`, through DRF — what any home page costs at least;
- `timelines/phase0`: the same page as the real endpoint, but its ids come from the SQL
  join of posts and follows (the seed's "phase 0" pull) instead of Redis; hydrated with the
  same query and serialized by the same code as the real endpoint.
"""

from django.db import connection
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from posts.selectors import feed_posts
from socialnet.api_paging import page_request
from socialnet.redis_client import get_redis
from timeline import store

from .views import _statuses

PHASE0_PULL_SQL = """
    SELECT p.id FROM posts_post p JOIN graph_follow f ON p.author_id = f.followee_id
    WHERE f.follower_id = %s ORDER BY p.id DESC LIMIT %s
"""


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def floor(request):
    limit = page_request(request).limit
    ids = get_redis().zrevrangebyscore(store.home_key(request.user.pk), "+inf", "(0", start=0, num=limit)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return Response({"ids": [member.decode() for member in ids], "select": one})


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def phase0(request):
    limit = page_request(request).limit
    with connection.cursor() as cursor:
        cursor.execute(PHASE0_PULL_SQL, [request.user.pk, limit])
        ids = [row[0] for row in cursor.fetchall()]
    found = feed_posts(request.user).in_bulk(ids)  # the reader's hydration (timeline.selectors)
    return _statuses(request, [found[post_id] for post_id in ids if post_id in found])


urlpatterns = [
    path("timelines/floor", floor, name="bench-timeline-floor"),
    path("timelines/phase0", phase0, name="bench-timeline-phase0"),
]
