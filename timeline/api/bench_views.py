"""Benchmark-only pages that `manage.py bench_timeline` measures the home timeline against.

Mounted under /api/bench/ only when settings.BENCHMARK_ENDPOINTS is true (socialnet/urls.py);
never in production. Both use the real endpoint's authentication and permission (session,
IsAuthenticated), so the only difference from GET /api/v1/timelines/home is the work done:

- `timelines/floor`: one Redis round trip (the first page of the user's home set) and one
  `SELECT 1`, through DRF — what any home page costs at least;
- `timelines/phase0`: the same page as the real endpoint, but its ids come from the SQL
  join of posts and follows (the seed's "phase 0" pull) instead of Redis; checked with the
  same query (posts.status_refs) and rendered by the same code as the real endpoint;
- `timelines/phase0_orm`: the whole of a first, pull-only implementation, for context: the
  same join, then the ORM's `feed_posts` and StatusSerializer on every request (no status
  cache). The home timeline's target is judged against `phase0`, never this one.
"""

from django.db import connection
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from posts.api.rendering import statuses_data
from posts.api.serializers import StatusSerializer
from posts.selectors import feed_posts
from posts.status_refs import visible_refs
from socialnet.api_paging import page_request
from socialnet.redis_client import get_redis
from timeline import store

from .views import _page

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


def _phase0_ids(request) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(PHASE0_PULL_SQL, [request.user.pk, page_request(request).limit])
        return [row[0] for row in cursor.fetchall()]


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def phase0(request):
    ids = _phase0_ids(request)
    found = visible_refs(request.user, ids)  # the reader's check (timeline.selectors)
    refs = [found[post_id] for post_id in ids if post_id in found]
    return _page(request, refs, statuses_data(request, refs))


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def phase0_orm(request):
    ids = _phase0_ids(request)
    found = feed_posts(request.user).in_bulk(ids)
    posts = [found[post_id] for post_id in ids if post_id in found]
    return _page(request, posts, StatusSerializer(posts, many=True, context={"request": request}).data)


urlpatterns = [
    path("timelines/floor", floor, name="bench-timeline-floor"),
    path("timelines/phase0", phase0, name="bench-timeline-phase0"),
    path("timelines/phase0_orm", phase0_orm, name="bench-timeline-phase0-orm"),
]
