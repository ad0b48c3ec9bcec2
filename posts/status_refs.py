"""The hot path of every feed page: which of these post ids a viewer may see, in one query.

A timeline page starts as ids (from Redis, or from a pull query). What it still needs from
PostgreSQL is small and changes all the time: may this viewer see the post (deleted,
hidden, suspended author, blocked either way, muted), its counters, its author's counters,
and whether the viewer liked or reposted it. `visible_refs` answers all of that in one
hand-written statement; the text, mentions and tags, which never change without the
post's `edited_at` or its author's `updated_at` moving, come from the status cache
(posts/api/rendering.py).

The ORM version of the same rules is `posts.selectors.feed_posts` (and `visible_posts`).
Building that queryset costs more CPU than everything else on a page, so the hot path has
its own SQL, and tests/test_status_refs.py runs both over every rule and requires the same
answer: change one, change the other.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from accounts.models import User
from graph.models import Block, Mute

from .models import Like, Post
from .selectors import for_rendering


@dataclass(frozen=True, slots=True)
class StatusRef:
    """What a status entity needs beyond its cached body: counters, versions, viewer state."""

    pk: int
    edited_at: datetime | None
    author_id: int
    author_updated_at: datetime
    replies_count: int
    reposts_count: int
    likes_count: int
    author_followers_count: int
    author_following_count: int
    author_posts_count: int
    viewer_liked: bool
    viewer_reposted: bool
    original: "StatusRef | None" = None  # the reposted post, for a repost

    @property
    def repost_of_id(self) -> int | None:
        return self.original.pk if self.original else None

    @property
    def version(self) -> str:
        return body_version(self.edited_at, self.author_updated_at)

    @classmethod
    def of(cls, post: Post) -> "StatusRef":
        """From a post loaded by `visible_posts` / `feed_posts` (author joined, viewer state annotated)."""
        original = None
        if post.repost_of_id is not None:
            original = cls._from_post(
                post.repost_of,
                getattr(post, "viewer_liked_original", False),
                getattr(post, "viewer_reposted_original", False),
            )
        liked, reposted = getattr(post, "viewer_liked", False), getattr(post, "viewer_reposted", False)
        return cls._from_post(post, liked, reposted, original)

    @classmethod
    def _from_post(cls, post: Post, liked: bool, reposted: bool, original: "StatusRef | None" = None) -> "StatusRef":
        author = post.author
        return cls(
            post.pk, post.edited_at, author.pk, author.updated_at,
            post.replies_count, post.reposts_count, post.likes_count,
            author.followers_count, author.following_count, author.posts_count,
            bool(liked), bool(reposted), original,
        )  # fmt: skip


def body_version(edited_at: datetime | None, author_updated_at: datetime) -> str:
    """Changes whenever a cached body would: the post edited, its author's profile saved."""
    edited = edited_at.timestamp() if edited_at else 0
    return f"{edited}:{author_updated_at.timestamp()}"


_POST, _USER = Post._meta.db_table, User._meta.db_table
_LIKE, _BLOCK, _MUTE = Like._meta.db_table, Block._meta.db_table, Mute._meta.db_table

# %(viewer)s is 0 for an anonymous viewer: no account has id 0, so every viewer clause is false.
# Only table names (from the models) are interpolated; every value is a query parameter.
VISIBLE_REFS_SQL = f"""
SELECT p.id, p.edited_at, a.id, a.updated_at, p.replies_count, p.reposts_count, p.likes_count,
       a.followers_count, a.following_count, a.posts_count,
       EXISTS (SELECT 1 FROM {_LIKE} l WHERE l.user_id = %(viewer)s AND l.post_id = p.id),
       EXISTS (SELECT 1 FROM {_POST} r WHERE r.author_id = %(viewer)s AND r.repost_of_id = p.id AND NOT r.is_deleted),
       o.id, o.edited_at, oa.id, oa.updated_at, o.replies_count, o.reposts_count, o.likes_count,
       oa.followers_count, oa.following_count, oa.posts_count,
       o.id IS NOT NULL AND EXISTS (SELECT 1 FROM {_LIKE} l WHERE l.user_id = %(viewer)s AND l.post_id = o.id),
       o.id IS NOT NULL AND EXISTS (
           SELECT 1 FROM {_POST} r WHERE r.author_id = %(viewer)s AND r.repost_of_id = o.id AND NOT r.is_deleted
       )
FROM {_POST} p
JOIN {_USER} a ON a.id = p.author_id
LEFT JOIN {_POST} o ON o.id = p.repost_of_id
LEFT JOIN {_USER} oa ON oa.id = o.author_id
WHERE p.id = ANY(%(ids)s)
  AND NOT p.is_deleted AND NOT p.is_hidden AND NOT a.is_suspended
  -- a repost shows its original, so the original must be visible too
  AND (p.repost_of_id IS NULL OR (NOT o.is_deleted AND NOT o.is_hidden AND NOT oa.is_suspended))
  -- neither side of a block sees the other's posts, nor reposts of them
  AND NOT EXISTS (
      SELECT 1 FROM {_BLOCK} b
      WHERE (b.blocker_id = %(viewer)s AND b.blocked_id IN (p.author_id, o.author_id))
         OR (b.blocked_id = %(viewer)s AND b.blocker_id IN (p.author_id, o.author_id))
  )
  -- feeds also leave out muted accounts' posts and reposts of them
  AND NOT (%(feed)s AND EXISTS (
      SELECT 1 FROM {_MUTE} m
      WHERE m.muter_id = %(viewer)s AND m.muted_id IN (p.author_id, o.author_id)
        AND (m.expires_at IS NULL OR m.expires_at > now())
  ))
"""  # noqa: S608


def visible_refs(viewer: User | None, ids: list[int], *, feed: bool = True) -> dict[int, StatusRef]:
    """The posts among `ids` the viewer may see, by id: `feed_posts` (or, feed=False, `visible_posts`)."""
    if not ids:
        return {}
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else 0
    with connection.cursor() as cursor:
        cursor.execute(VISIBLE_REFS_SQL, {"viewer": viewer_id, "ids": list(ids), "feed": feed})
        rows = cursor.fetchall()
    return {row[0]: _ref(row) for row in rows}


def posts_for_refs(refs: list[StatusRef]) -> list[Post]:
    """The posts of refs that `visible_refs` already checked, loaded for rendering, in order.

    The viewer's state comes from the refs, as `with_viewer_state` would have annotated it.
    """
    found = for_rendering(Post.objects.all()).in_bulk([ref.pk for ref in refs])
    posts = []
    for ref in refs:
        post = found.get(ref.pk)
        if post is None:
            continue
        post.viewer_liked, post.viewer_reposted = ref.viewer_liked, ref.viewer_reposted
        if ref.original is not None:
            post.viewer_liked_original = ref.original.viewer_liked
            post.viewer_reposted_original = ref.original.viewer_reposted
        posts.append(post)
    return posts


def _ref(row: tuple) -> StatusRef:
    original = StatusRef(*row[12:22], *row[22:24]) if row[12] is not None else None
    return StatusRef(*row[0:10], *row[10:12], original)
