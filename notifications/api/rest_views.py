"""Mastodon's notifications REST API (content/en/methods/notifications.md and
grouped_notifications.md), on notifications.selectors and notifications.services.

The Notification entity is the streaming API's (notifications/api/serializers.py), so a
notification reads the same whichever way it arrives.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.api.serializers import AccountSerializer
from notifications import selectors, services
from notifications.models import Notification
from posts.api.serializers import StatusSerializer
from socialnet.api_paging import ACCOUNT_PAGE, NOTIFICATION_PAGE, page_request, paging_parameters
from socialnet.api_views import (
    NOT_FOUND,
    UserView,
    int_param,
    link_header_between,
    list_param,
    object_id,
    with_link,
)
from socialnet.keyset import keyset_page

from .serializers import NotificationSerializer, with_viewer_statuses

UNREAD_DEFAULT, UNREAD_MAX = 100, 1000

# Mastodon's type names for ours: a reply is a `mention` (Mastodon has no reply type).
TYPES_BY_API_NAME = {
    "mention": [Notification.Type.MENTION, Notification.Type.REPLY],
    "follow": [Notification.Type.FOLLOW],
    "reblog": [Notification.Type.REBLOG],
    "favourite": [Notification.Type.FAVOURITE],
}

FILTER_PARAMETERS = [
    OpenApiParameter("types[]", OpenApiTypes.STR, many=True, description="Only these types."),
    OpenApiParameter("exclude_types[]", OpenApiTypes.STR, many=True, description="Not these types."),
    OpenApiParameter("account_id", OpenApiTypes.STR, description="Only those from this account."),
]
LIST_PARAMETERS = [*paging_parameters(NOTIFICATION_PAGE), *FILTER_PARAMETERS]


def type_filters(params) -> tuple[list[str] | None, list[str] | None]:
    """(types, exclude_types) in our names; a types[] naming nothing we have selects nothing."""
    wanted, unwanted = list_param(params, "types"), list_param(params, "exclude_types")
    types = [kind for name in wanted for kind in TYPES_BY_API_NAME.get(name, [])] if wanted else None
    exclude = [kind for name in unwanted for kind in TYPES_BY_API_NAME.get(name, [])] or None
    return types, exclude


def grouped_types_filter(params):
    """`grouped_types[]` in our names: the types that may be grouped (omitted: all that can be)."""
    names = list_param(params, "grouped_types")
    if not names:
        return selectors.GROUPED_TYPES
    return {kind for name in names for kind in TYPES_BY_API_NAME.get(name, [])}


def account_filter(params) -> int | None:
    account_id = params.get("account_id")
    return object_id(account_id) if account_id else None


def group_key_param(text: str) -> selectors.GroupKey:
    """A group key from the path; one we never give out is a 404, as an unknown notification is."""
    key = selectors.parse_group_key(text)
    if key is None:
        raise NotFound(NOT_FOUND)
    return key


def filtered_notifications(request):
    types, exclude = type_filters(request.query_params)
    rows = selectors.notifications_of(request.user, types=types, exclude_types=exclude)
    if types == []:
        rows = rows.none()
    account_id = request.query_params.get("account_id")
    if account_id:
        rows = rows.filter(actor_id=object_id(account_id))
    return rows


class Notifications(UserView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(parameters=LIST_PARAMETERS, responses=NotificationSerializer(many=True))
    def get(self, request):
        paging = page_request(request, NOTIFICATION_PAGE)
        rows = keyset_page(filtered_notifications(request), "id", **paging.as_kwargs())
        with_viewer_statuses(request.user, rows)
        response = Response(NotificationSerializer(rows, many=True, context={"request": request}).data)
        ends = (rows[0].pk, rows[-1].pk) if rows else (None, None)
        return with_link(response, link_header_between(request, *ends))


class NotificationDetail(UserView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(responses=NotificationSerializer)
    def get(self, request, notification_id):
        found = selectors.notifications_of(request.user).filter(pk=object_id(notification_id)).first()
        if found is None:
            raise NotFound(NOT_FOUND)
        with_viewer_statuses(request.user, [found])
        return Response(NotificationSerializer(found, context={"request": request}).data)


EmptyEntity = inline_serializer("Empty", {})


class ClearNotifications(UserView):
    required_scopes = {"POST": "write:notifications"}

    @extend_schema(request=None, responses=EmptyEntity)
    def post(self, request):
        services.clear_all(request.user)
        return Response({})


class DismissNotification(UserView):
    required_scopes = {"POST": "write:notifications"}

    @extend_schema(request=None, responses=EmptyEntity)
    def post(self, request, notification_id):
        if not services.dismiss(request.user, object_id(notification_id)):
            raise NotFound(NOT_FOUND)
        return Response({})


CountEntity = inline_serializer("UnreadCount", {"count": serializers.IntegerField()})


class UnreadCount(UserView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="Default 100, max 1000.")],
        responses=CountEntity,
    )
    def get(self, request):
        limit = int_param(request.query_params, "limit", UNREAD_DEFAULT, low=1, high=UNREAD_MAX)
        return Response({"count": selectors.unread_count(request.user, limit=limit)})


# --- Mastodon 4.3's grouped notifications (GET /api/v2/notifications) --------------------------

NOTIFICATION_GROUP_FIELDS = {
    "group_key": serializers.CharField(),
    "notifications_count": serializers.IntegerField(),
    "type": serializers.CharField(),
    "most_recent_notification_id": serializers.CharField(),
    "page_min_id": serializers.CharField(),
    "page_max_id": serializers.CharField(),
    "latest_page_notification_at": serializers.DateTimeField(),
    "sample_account_ids": serializers.ListField(child=serializers.CharField()),
    "status_id": serializers.CharField(allow_null=True, required=False),
}
GroupedResultsEntity = inline_serializer(
    "GroupedNotificationsResults",
    {
        "accounts": AccountSerializer(many=True),
        "statuses": StatusSerializer(many=True),
        "notification_groups": inline_serializer("NotificationGroup", NOTIFICATION_GROUP_FIELDS, many=True),
    },
)


GROUPED_PARAMETERS = [
    OpenApiParameter("grouped_types[]", OpenApiTypes.STR, many=True, description="Only these types are grouped."),
]


class GroupedNotifications(UserView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(
        parameters=[*LIST_PARAMETERS, *GROUPED_PARAMETERS, OpenApiParameter("expand_accounts", OpenApiTypes.STR)],
        responses=GroupedResultsEntity,
    )
    def get(self, request):
        params = request.query_params
        paging = page_request(request, NOTIFICATION_PAGE)
        types, exclude = type_filters(params)
        filters = {"types": types, "exclude_types": exclude, "actor_id": account_filter(params)}
        grouped_types = grouped_types_filter(params)
        if types == []:
            groups = []  # nothing of the requested types
        else:
            groups = selectors.grouped_page(request.user, grouped_types=grouped_types, **filters, **paging.as_kwargs())
        response = Response(grouped_results(request, groups))
        ends = (groups[0].page_max_id, min(g.page_min_id for g in groups)) if groups else (None, None)
        return with_link(response, link_header_between(request, *ends))


class GroupedUnreadCount(UserView):
    """Unread notification groups: a group counts once however many unread notifications it has."""

    required_scopes = {"GET": "read:notifications"}

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="Default 100, max 1000."),
            *FILTER_PARAMETERS,
            *GROUPED_PARAMETERS,
        ],
        responses=CountEntity,
    )
    def get(self, request):
        params = request.query_params
        limit = int_param(params, "limit", UNREAD_DEFAULT, low=1, high=UNREAD_MAX)
        types, exclude = type_filters(params)
        filters = {"types": types, "exclude_types": exclude, "actor_id": account_filter(params)}
        grouped_types = grouped_types_filter(params)
        if types == []:
            return Response({"count": 0})
        count = selectors.unread_group_count(request.user, limit=limit, grouped_types=grouped_types, **filters)
        return Response({"count": count})


class NotificationGroupDetail(UserView):
    """One group, whole: every notification in it counted, not only a page's."""

    required_scopes = {"GET": "read:notifications"}

    @extend_schema(responses=GroupedResultsEntity, operation_id="v2_notification_group_retrieve")
    def get(self, request, group_key):
        group = selectors.notification_group(request.user, group_key_param(group_key), group_key)
        if group is None:
            raise NotFound(NOT_FOUND)
        return Response(grouped_results(request, [group]))


class NotificationGroupAccounts(UserView):
    """Everyone in a group, newest first, paged by notification id (an unknown group: [])."""

    required_scopes = {"GET": "read:notifications"}

    @extend_schema(parameters=paging_parameters(ACCOUNT_PAGE), responses=AccountSerializer(many=True))
    def get(self, request, group_key):
        paging = page_request(request, ACCOUNT_PAGE)
        rows = selectors.group_accounts_page(request.user, group_key_param(group_key), **paging.as_kwargs())
        accounts = AccountSerializer([n.actor for n in rows], many=True, context={"request": request}).data
        ends = (rows[0].pk, rows[-1].pk) if rows else (None, None)
        return with_link(Response(accounts), link_header_between(request, *ends))


class DismissNotificationGroup(UserView):
    """Answers {} whether or not the group had notifications left, as Mastodon does."""

    required_scopes = {"POST": "write:notifications"}

    @extend_schema(request=None, responses=EmptyEntity)
    def post(self, request, group_key):
        services.dismiss_group(request.user, group_key_param(group_key))
        return Response({})


def grouped_results(request, groups) -> dict:
    context = {"request": request}
    accounts = {actor.pk: actor for group in groups for actor in group.actors}
    post_ids = [group.post.pk for group in groups if group.post is not None]
    posts = with_viewer_statuses(request.user, [group.latest for group in groups if group.post is not None])
    statuses = {n.post.pk: n.post for n in posts if n.post_id in post_ids}
    return {
        "accounts": AccountSerializer(list(accounts.values()), many=True, context=context).data,
        "statuses": StatusSerializer(list(statuses.values()), many=True, context=context).data,
        "notification_groups": [
            {
                "group_key": group.group_key,
                "notifications_count": group.notifications_count,
                "type": "mention" if group.type == Notification.Type.REPLY else group.type,
                "most_recent_notification_id": str(group.most_recent_notification_id),
                "page_min_id": str(group.page_min_id),
                "page_max_id": str(group.page_max_id),
                "latest_page_notification_at": serializers.DateTimeField().to_representation(
                    group.latest_page_notification_at
                ),
                "sample_account_ids": [str(actor.pk) for actor in group.actors],
                "status_id": str(group.post.pk) if group.post is not None else None,
            }
            for group in groups
        ],
    }
