"""Reading notifications: lists, unread counts, and Mastodon 4.3's grouped view."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from graph.selectors import blocked_either_way_filter
from posts.selectors import page

from .models import Notification, ReadMarker

GROUPED_TYPES = {Notification.Type.FAVOURITE, Notification.Type.REBLOG, Notification.Type.FOLLOW}
GROUP_WINDOW_SECONDS = 24 * 3600  # likes of one post within a day form one group
SAMPLE_ACTORS = 8


def notifications_of(user: User, *, types=None, exclude_types=None) -> QuerySet[Notification]:
    """The user's notifications they may still see: actor not suspended or blocked, post visible."""
    rows = (
        Notification.objects.filter(recipient=user, actor__is_suspended=False)
        .exclude(blocked_either_way_filter(user, "actor"))
        .exclude(post__is_deleted=True)
        .exclude(post__is_hidden=True)
        .select_related("actor", "post__author", "post__repost_of__author", "post__reply_to")
        .prefetch_related("post__mentioned_users", "post__hashtags")
    )
    if types:
        rows = rows.filter(type__in=types)
    if exclude_types:
        rows = rows.exclude(type__in=exclude_types)
    return rows


def notification_page(user: User, *, types=None, exclude_types=None, **paging) -> list[Notification]:
    return page(notifications_of(user, types=types, exclude_types=exclude_types), **paging)


def last_read_id(user: User) -> int:
    marker = ReadMarker.objects.filter(user=user).values_list("last_read_id", flat=True).first()
    return marker or 0


def unread_count(user: User, limit: int = 1000) -> int:
    """Unread notifications, counted up to `limit` (Mastodon caps its count the same way)."""
    # The marker is a subquery, not a first query: the badge on every page costs one query.
    marker = ReadMarker.objects.filter(user=user).values("last_read_id")[:1]
    rows = notifications_of(user).filter(pk__gt=Coalesce(Subquery(marker), 0)).values("pk")[:limit]
    return len(rows)


@dataclass
class NotificationGroup:
    """Mastodon 4.3's NotificationGroup: one line in the list, e.g. "alice and 12 others liked …"."""

    group_key: str
    type: str
    post: object
    latest: Notification  # the newest notification of the group
    notifications_count: int = 0
    actors: list[User] = field(default_factory=list)  # latest first, at most SAMPLE_ACTORS
    most_recent_notification_id: int = 0
    page_min_id: int = 0
    page_max_id: int = 0
    latest_page_notification_at: datetime | None = None


def group_key(notification: Notification) -> str:
    if notification.type not in GROUPED_TYPES:
        return f"ungrouped-{notification.pk}"
    window = int(notification.created_at.timestamp()) // GROUP_WINDOW_SECONDS
    target = notification.post_id if notification.type != Notification.Type.FOLLOW else "account"
    return f"{notification.type}-{target}-{window}"


def grouped_page(user: User, *, limit: int = 40, **filters) -> list[NotificationGroup]:
    """A page of notifications folded into groups, newest group first, latest actors first."""
    groups: dict[str, NotificationGroup] = {}
    for notification in notification_page(user, limit=limit, **filters):
        key = group_key(notification)
        group = groups.get(key)
        if group is None:
            group = groups[key] = NotificationGroup(
                group_key=key,
                type=notification.type,
                post=notification.post,
                latest=notification,
                most_recent_notification_id=notification.pk,
                page_max_id=notification.pk,
                latest_page_notification_at=notification.created_at,
            )
        group.notifications_count += 1
        group.page_min_id = notification.pk
        if len(group.actors) < SAMPLE_ACTORS and notification.actor not in group.actors:
            group.actors.append(notification.actor)
    return list(groups.values())
