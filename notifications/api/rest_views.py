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
from socialnet.api_paging import NOTIFICATION_PAGE, page_request, paging_parameters
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


class GroupedNotifications(UserView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(
        parameters=[*LIST_PARAMETERS, OpenApiParameter("expand_accounts", OpenApiTypes.STR)],
        responses=GroupedResultsEntity,
    )
    def get(self, request):
        paging = page_request(request, NOTIFICATION_PAGE)
        types, exclude = type_filters(request.query_params)
        if types == [] or request.query_params.get("account_id"):
            groups = []  # nothing of the requested types; per-account grouping is not offered
        else:
            groups = selectors.grouped_page(request.user, types=types, exclude_types=exclude, **paging.as_kwargs())
        response = Response(grouped_results(request, groups))
        ends = (groups[0].page_max_id, min(g.page_min_id for g in groups)) if groups else (None, None)
        return with_link(response, link_header_between(request, *ends))


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
