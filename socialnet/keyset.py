"""Keyset pagination, as Mastodon pages every list: newest first by an ever-growing key.

The key is the row's own time-sortable id, or the id of the edge that put the row in the
list (the follow, the block, the like), so a list reads in the order things happened.
Shared by the selectors of every app, which is why it lives here and not in one of them.
"""

from django.db.models import QuerySet


def keyset_page(rows: QuerySet, key: str, *, max_id=None, since_id=None, min_id=None, limit: int) -> list:
    """`max_id`: older than it. `since_id`: the newest rows newer than it. `min_id`: the rows
    immediately newer than it (the page just above it, for catching up). Newest first, always."""
    if max_id is not None:
        rows = rows.filter(**{f"{key}__lt": max_id})
    if min_id is not None:
        return list(reversed(rows.filter(**{f"{key}__gt": min_id}).order_by(key)[:limit]))
    if since_id is not None:
        rows = rows.filter(**{f"{key}__gt": since_id})
    return list(rows.order_by(f"-{key}")[:limit])
