"""The one door for reading posts: what a viewer may see, pre-loaded for rendering.

Every list and page starts from `visible_posts`, so a deleted, hidden or suspended
author's post cannot leak through a view that forgot a filter.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from graph import selectors as graph
from socialnet.keyset import keyset_page

from .models import Hashtag, Like, Post

PAGE_SIZE = 20
PAGE_SIZE_MAX = 40  # Mastodon's most statuses per page; lists of other things pass their own
THREAD_DEPTH_MAX = 40
THREAD_REPLIES_MAX = 500


def for_rendering(posts: QuerySet[Post]) -> QuerySet[Post]:
    """With what rendering a post needs (authors, mentions, tags), in a fixed number of queries."""
    # Ordered by their own columns, not the models' default orderings, which cost several
    # milliseconds of ORM compiling per page (measured on the home page).
    mention_users = User.objects.only("id", "username").order_by("id")
    tags = Hashtag.objects.order_by("name")
    # A repost of a reply shows whom the original replied to: its author comes along too.
    return posts.select_related(
        "author", "repost_of__author", "reply_to__author", "repost_of__reply_to__author"
    ).prefetch_related(
        Prefetch("mentioned_users", queryset=mention_users),
        Prefetch("repost_of__mentioned_users", queryset=mention_users),
        Prefetch("hashtags", queryset=tags),
        Prefetch("repost_of__hashtags", queryset=tags),
    )


def visible_posts(viewer: User | None = None) -> QuerySet[Post]:
    """Posts anyone may see, with what rendering them needs in a fixed number of queries."""
    posts = for_rendering(
        Post.objects.filter(is_deleted=False, is_hidden=False, author__is_suspended=False)
        # A repost shows its original, so the original must be visible too.
        .filter(
            Q(repost_of__isnull=True)
            | Q(repost_of__is_deleted=False, repost_of__is_hidden=False, repost_of__author__is_suspended=False)
        )
    )
    if viewer is not None and viewer.is_authenticated:
        # Neither side of a block sees the other's posts, nor reposts of them.
        posts = posts.exclude(graph.blocked_either_way_filter(viewer, "author")).exclude(
            graph.blocked_either_way_filter(viewer, "repost_of__author")
        )
    return with_viewer_state(posts, viewer)


def feed_posts(viewer: User | None = None) -> QuerySet[Post]:
    """What timelines and tag pages show: visible posts minus muted accounts' posts and reposts."""
    posts = visible_posts(viewer)
    if viewer is None or not viewer.is_authenticated:
        return posts
    return posts.exclude(graph.muted_filter(viewer, "author")).exclude(graph.muted_filter(viewer, "repost_of__author"))


def reaching(posts: QuerySet[Post], viewer: User | None) -> QuerySet[Post]:
    """Without silenced accounts' posts, except for their followers (and themselves)."""
    reach = Q(author__is_silenced=False)
    if viewer is not None and viewer.is_authenticated:
        reach |= Q(author=viewer) | Q(author__in=graph.followee_ids(viewer))
    return posts.filter(reach)


def with_viewer_state(posts: QuerySet[Post], viewer: User | None) -> QuerySet[Post]:
    """Annotate whether the viewer liked / reposted each post (or its original)."""
    if viewer is None or not viewer.is_authenticated:
        return posts
    liked = Like.objects.filter(user=viewer)
    reposted = Post.objects.filter(author=viewer, is_deleted=False)
    return posts.annotate(
        viewer_liked=Exists(liked.filter(post=OuterRef("pk"))),
        viewer_liked_original=Exists(liked.filter(post=OuterRef("repost_of_id"))),
        viewer_reposted=Exists(reposted.filter(repost_of=OuterRef("pk"))),
        viewer_reposted_original=Exists(reposted.filter(repost_of=OuterRef("repost_of_id"))),
    )


def get_post_for(viewer: User | None, post_id) -> Post:
    """The post if the viewer may see it, else 404 (never 403: that would confirm it exists)."""
    try:
        return visible_posts(viewer).get(pk=int(post_id))
    except (Post.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such post.") from None


def get_own_post(viewer: User, post_id) -> Post:
    """A post for its author to change: includes posts a moderator hid, 404 for deleted."""
    try:
        return Post.objects.select_related("author").get(pk=int(post_id), is_deleted=False)
    except (Post.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such post.") from None


def page(posts: QuerySet, *, max_id=None, since_id=None, min_id=None, limit=PAGE_SIZE, max_limit=PAGE_SIZE_MAX) -> list:
    """Keyset pagination on the time-sortable id, as Mastodon pages: newest first, always.

    `max_id`: older than it. `since_id`: the newest posts newer than it. `min_id`: the
    posts immediately newer than it (the page just above it, for catching up). At most
    `max_limit` rows, whatever `limit` asks.
    """
    limit = clamp_limit(limit, max_limit)
    if max_id is not None:
        posts = posts.filter(id__lt=max_id)
    if min_id is not None:
        return list(reversed(posts.filter(id__gt=min_id).order_by("id")[:limit]))
    if since_id is not None:
        posts = posts.filter(id__gt=since_id)
    return list(posts.order_by("-id")[:limit])


def clamp_limit(limit, max_limit: int = PAGE_SIZE_MAX) -> int:
    return max(1, min(int(limit), max_limit))


def author_posts(viewer: User | None, author: User, *, max_id=None, limit=PAGE_SIZE) -> list[Post]:
    """A profile's posts: muted accounts stay visible here (the viewer came to look)."""
    return page(visible_posts(viewer).filter(author=author), max_id=max_id, limit=limit)


def favourites_page(viewer: User, *, limit=PAGE_SIZE, **bounds) -> list[Post]:
    """The posts the viewer liked and may still see, newest like first, each with its `like_id`.

    Paged by the like's id, as Mastodon pages favourites (`bounds`: max_id / since_id / min_id
    of likes, not of posts): liking an old post puts it at the top.
    """
    liked = visible_posts(viewer).filter(likes__user=viewer).annotate(like_id=F("likes__id"))
    return keyset_page(liked, "like_id", limit=clamp_limit(limit), **bounds)


def hashtag_posts(viewer: User | None, name: str, *, limit=PAGE_SIZE, **bounds) -> list[Post]:
    """A tag's posts, newest first; `bounds` are page()'s max_id / since_id / min_id."""
    tag = Hashtag.objects.filter(name=name.casefold()).first()
    if tag is None:
        return []
    return page(reaching(feed_posts(viewer), viewer).filter(posthashtag__hashtag=tag), limit=limit, **bounds)


# Recursive walks along reply_to, bounded in depth so a pathological thread stays cheap.
ANCESTORS_SQL = """
    WITH RECURSIVE walk(depth, id) AS (
        SELECT 0, %(start)s::bigint
        UNION ALL
        SELECT w.depth + 1, p.reply_to_id FROM posts_post p JOIN walk w ON p.id = w.id
        WHERE p.reply_to_id IS NOT NULL AND w.depth < %(depth)s
    )
    SELECT id FROM walk WHERE depth > 0
"""
DESCENDANTS_SQL = """
    WITH RECURSIVE walk(depth, id) AS (
        SELECT 0, %(start)s::bigint
        UNION ALL
        SELECT w.depth + 1, p.id FROM posts_post p JOIN walk w ON p.reply_to_id = w.id
        WHERE w.depth < %(depth)s
    )
    SELECT id FROM walk WHERE depth > 0 LIMIT %(limit)s
"""


def thread_of(viewer: User | None, post: Post) -> tuple[list[Post], list[Post]]:
    """(ancestors oldest first, replies oldest first) of a post, as far as the viewer may see."""
    ancestor_ids = _ids(ANCESTORS_SQL, post.pk)
    descendant_ids = _ids(DESCENDANTS_SQL, post.pk)
    visible = visible_posts(viewer).in_bulk(ancestor_ids + descendant_ids)
    ancestors = [visible[i] for i in sorted(ancestor_ids) if i in visible]
    replies = [visible[i] for i in sorted(descendant_ids) if i in visible]
    return ancestors, replies


def _ids(sql: str, start_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": start_id, "depth": THREAD_DEPTH_MAX, "limit": THREAD_REPLIES_MAX})
        return [row[0] for row in cursor.fetchall()]


def search_statuses(viewer, query: str):
    """Posts matching every word of `query`, newest first, as far as the viewer may see.

    The expression must stay exactly the index's (posts migration) for PostgreSQL to use it.
    Reposts have no text of their own, so they never match.
    """
    words = SearchQuery(query, config="simple", search_type="plain")
    return (
        reaching(visible_posts(viewer), viewer)
        .annotate(document=SearchVector("text", config="simple"))
        .filter(document=words)
        .order_by("-id")
    )


def search_hashtags(query: str):
    name = query.strip().lstrip("#").casefold()
    if not name:
        return Hashtag.objects.none()
    return Hashtag.objects.filter(name__startswith=name).order_by("name")
