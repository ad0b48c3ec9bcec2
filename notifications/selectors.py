"""Reading notifications: lists, unread counts, and Mastodon 4.3's grouped view."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import BigIntegerField, Case, CharField, F, Func, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from accounts.models import User
from graph.selectors import blocked_either_way_filter
from posts.selectors import page
from socialnet.ids import MAX_ID
from socialnet.keyset import keyset_page

from .models import Notification, ReadMarker

GROUPED_TYPES = {Notification.Type.FAVOURITE, Notification.Type.REBLOG, Notification.Type.FOLLOW}
GROUP_WINDOW_SECONDS = 24 * 3600  # likes of one post within a day form one group
SAMPLE_ACTORS = 8
PAGE_MAX = 80  # Mastodon's most notifications per page (statuses stop at 40)


def notifications_of(user: User, *, types=None, exclude_types=None, actor_id=None) -> QuerySet[Notification]:
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
    if actor_id is not None:
        rows = rows.filter(actor_id=actor_id)
    return rows


def notification_page(user: User, *, types=None, exclude_types=None, actor_id=None, **paging) -> list[Notification]:
    rows = notifications_of(user, types=types, exclude_types=exclude_types, actor_id=actor_id)
    return page(rows, max_limit=PAGE_MAX, **paging)


def last_read_id(user: User) -> int:
    marker = ReadMarker.objects.filter(user=user).values_list("last_read_id", flat=True).first()
    return marker or 0


def unread_count(user: User, limit: int = 1000) -> int:
    """Unread notifications, counted up to `limit` (Mastodon caps its count the same way)."""
    # The marker is a subquery, not a first query: the badge on every page costs one query.
    marker = ReadMarker.objects.filter(user=user).values("last_read_id")[:1]
    # COUNT(*) over a LIMITed subquery: one row back, however many are unread.
    return notifications_of(user).filter(pk__gt=Coalesce(Subquery(marker), 0)).values("pk")[:limit].count()


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


def group_key(notification: Notification, grouped_types=GROUPED_TYPES) -> str:
    """Mastodon's group key: likes or reblogs of one post, or follows, within one day.

    Types outside `grouped_types` (a client's `grouped_types[]`) stay alone, as
    `ungrouped-<id>`, as do types never grouped (mentions, replies).
    """
    if notification.type not in GROUPED_TYPES or notification.type not in grouped_types:
        return f"ungrouped-{notification.pk}"
    window = int(notification.created_at.timestamp()) // GROUP_WINDOW_SECONDS
    target = notification.post_id if notification.type != Notification.Type.FOLLOW else "account"
    return f"{notification.type}-{target}-{window}"


def grouped_page(user: User, *, limit: int = 40, grouped_types=GROUPED_TYPES, **filters) -> list[NotificationGroup]:
    """A page of notifications folded into groups, newest group first, latest actors first."""
    groups: dict[str, NotificationGroup] = {}
    for notification in notification_page(user, limit=limit, **filters):
        key = group_key(notification, grouped_types)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _new_group(key, notification)
        group.notifications_count += 1
        group.page_min_id = notification.pk
        if len(group.actors) < SAMPLE_ACTORS and notification.actor not in group.actors:
            group.actors.append(notification.actor)
    return list(groups.values())


def _new_group(key: str, latest: Notification) -> NotificationGroup:
    return NotificationGroup(
        group_key=key,
        type=latest.type,
        post=latest.post,
        latest=latest,
        most_recent_notification_id=latest.pk,
        page_max_id=latest.pk,
        latest_page_notification_at=latest.created_at,
    )


# --- one group, by its key (GET /api/v2/notifications/:group_key and its accounts, dismiss) -----

# What group_key() gives out: "ungrouped-<id>", "favourite-<post id>-<day>",
# "reblog-<post id>-<day>", "follow-account-<day>".
GROUP_KEY_PATTERN = re.compile(
    r"ungrouped-(?P<id>[0-9]{1,16})"
    r"|(?P<type>favourite|reblog)-(?P<post_id>[0-9]{1,16})-(?P<window>[0-9]{1,7})"
    r"|(?P<follow>follow)-account-(?P<follow_window>[0-9]{1,7})"
)
# The last day a datetime can hold the whole of: later windows name nothing (and would not fit).
LAST_WINDOW = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp()) // GROUP_WINDOW_SECONDS


@dataclass(frozen=True)
class GroupKey:
    """A parsed group key: the notifications it names, whoever asks."""

    notification_id: int | None = None  # ungrouped-<id>: that one notification
    type: str | None = None
    post_id: int | None = None  # None for follows
    window: int = 0  # days since 1970 (UTC)

    def rows(self) -> Q:
        if self.notification_id is not None:
            return Q(pk=self.notification_id)
        start = datetime.fromtimestamp(self.window * GROUP_WINDOW_SECONDS, UTC)
        end = start + timedelta(seconds=GROUP_WINDOW_SECONDS)
        return Q(type=self.type, post_id=self.post_id, created_at__gte=start, created_at__lt=end)


def parse_group_key(text: str) -> GroupKey | None:
    """The key, or None if it is none group_key() could have given out."""
    found = GROUP_KEY_PATTERN.fullmatch(text)
    if found is None:
        return None
    if found["id"] is not None:
        notification_id = int(found["id"])
        return GroupKey(notification_id=notification_id) if notification_id <= MAX_ID else None
    if found["follow"] is not None:
        key = GroupKey(type=Notification.Type.FOLLOW, window=int(found["follow_window"]))
    else:
        key = GroupKey(type=found["type"], post_id=int(found["post_id"]), window=int(found["window"]))
    return key if key.window <= LAST_WINDOW and (key.post_id or 0) <= MAX_ID else None


def group_notifications(user: User, key: GroupKey) -> QuerySet[Notification]:
    """The group's notifications the user may still see (as notifications_of), newest first."""
    return notifications_of(user).filter(key.rows()).order_by("-id")


def notification_group(user: User, key: GroupKey, key_text: str) -> NotificationGroup | None:
    """The whole group under `key_text`: every notification in it counted, the latest actors."""
    rows = group_notifications(user, key)
    latest = list(rows[:SAMPLE_ACTORS])  # one notification per actor in a group (once per cause)
    if not latest:
        return None
    group = _new_group(key_text, latest[0])
    group.notifications_count = rows.count()
    group.actors = list(dict.fromkeys(n.actor for n in latest))
    group.page_min_id = rows.order_by("id").values_list("pk", flat=True).first()
    return group


def group_accounts_page(user: User, key: GroupKey, **paging) -> list[Notification]:
    """The group's notifications with their actors, newest first, paged by notification id."""
    rows = group_notifications(user, key).select_related(None).select_related("actor").prefetch_related(None)
    return keyset_page(rows, "id", **paging)


# --- unread groups (GET /api/v2/notifications/unread_count) -------------------------------------


def unread_group_count(
    user: User, *, limit: int, grouped_types=GROUPED_TYPES, types=None, exclude_types=None, actor_id=None
) -> int:
    """Unread notification groups (newer than the read marker), counted up to `limit`."""
    unread = notifications_of(user, types=types, exclude_types=exclude_types, actor_id=actor_id).filter(
        pk__gt=last_read_id(user)
    )
    keys = unread.annotate(key=_group_key_sql(grouped_types)).order_by().values("key").distinct()
    return keys.prefetch_related(None)[:limit].count()


def _group_key_sql(grouped_types) -> Case:
    """group_key() in SQL, so that counting groups does not load every notification."""
    window = Func(
        F("created_at"),
        template=f"floor(extract(epoch FROM %(expressions)s) / {GROUP_WINDOW_SECONDS})::bigint",
        output_field=BigIntegerField(),
    )
    target = Coalesce(Cast("post_id", CharField()), Value("account"))
    grouped = [kind for kind in GROUPED_TYPES if kind in grouped_types]
    return Case(
        When(type__in=grouped, then=Concat("type", Value("-"), target, Value("-"), Cast(window, CharField()))),
        default=Concat(Value("ungrouped-"), Cast("id", CharField())),
        output_field=CharField(),
    )
