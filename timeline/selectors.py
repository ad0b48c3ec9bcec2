"""Home timeline reads.

This is the pull path: the posts of everyone the user follows, straight from
PostgreSQL. The timeline issue puts Redis sorted sets in front of it; this stays as the
fallback for a user with no set yet or when Redis is down.
"""

from django.db.models import Q

from accounts.models import User
from graph.selectors import followee_ids
from posts.models import Post
from posts.selectors import PAGE_SIZE, feed_posts, page


def pull_home_timeline(user: User, *, max_id=None, limit=PAGE_SIZE) -> list[Post]:
    posts = feed_posts(user).filter(Q(author__in=followee_ids(user)) | Q(author=user))
    return page(posts, max_id=max_id, limit=limit)
