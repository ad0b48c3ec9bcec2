"""Status entities for a page of posts, cache first (design.md, "Reading the home timeline").

A status entity is mostly a body that changes only when the post is edited or its author's
profile is saved (text rendered to HTML, mentions, tags, the author's account), plus a few
fields that change all the time (counters, the viewer's favourited / reblogged). The body is
cached per post in Redis (posts/store.py) under the version that `StatusRef` reads along
with those fields; a page costs one MGET, and serializing only the bodies that were missing
or out of date. StatusSerializer stays the one definition of the entity's shape.
"""

from rest_framework.request import Request

from posts import store
from posts.models import Post
from posts.selectors import for_rendering
from posts.status_refs import StatusRef, body_version

from .serializers import StatusSerializer


class StatusBodySerializer(StatusSerializer):
    """The cached part: a repost's `reblog` is composed from the original's own body."""

    def get_reblog(self, post) -> None:
        return None


def statuses_data(request: Request, refs: list[StatusRef]) -> list[dict]:
    """Mastodon Status entities for `refs`, in order."""
    wanted = {}
    for ref in refs:
        wanted[ref.pk] = ref
        if ref.original is not None:
            wanted[ref.original.pk] = ref.original
    bodies = store.cached_status_bodies({pk: ref.version for pk, ref in wanted.items()})
    missing = [pk for pk in wanted if pk not in bodies]
    if missing:
        bodies |= _render_and_cache(request, missing)
    # A post deleted since its ref was read has no body: leave it out rather than show half of it.
    complete = [ref for ref in refs if ref.pk in bodies and (ref.original is None or ref.original.pk in bodies)]
    return [_compose(ref, bodies) for ref in complete]


def posts_data(request: Request, posts: list[Post]) -> list[dict]:
    """The same for posts loaded by `visible_posts` / `feed_posts` (viewer state annotated)."""
    return statuses_data(request, [StatusRef.of(post) for post in posts])


def _render_and_cache(request: Request, post_ids: list[int]) -> dict[int, dict]:
    posts = for_rendering(Post.objects.all()).in_bulk(post_ids)
    context = {"request": request}
    rendered = {
        pk: (body_version(post.edited_at, post.author.updated_at), StatusBodySerializer(post, context=context).data)
        for pk, post in posts.items()
    }
    store.cache_status_bodies(rendered)
    return {pk: body for pk, (_version, body) in rendered.items()}


def _compose(ref: StatusRef, bodies: dict[int, dict]) -> dict:
    body = bodies[ref.pk]
    return {
        **body,
        "replies_count": ref.replies_count,
        "reblogs_count": ref.reposts_count,
        "favourites_count": ref.likes_count,
        "favourited": ref.viewer_liked,
        "reblogged": ref.viewer_reposted,
        "account": {
            **body["account"],
            "followers_count": ref.author_followers_count,
            "following_count": ref.author_following_count,
            "statuses_count": ref.author_posts_count,
        },
        "reblog": _compose(ref.original, bodies) if ref.original is not None else None,
    }
