"""GET/POST /api/v1/markers (content/en/methods/markers.md): where the user stopped reading.

home: timeline.markers (its own row, with Mastodon's version counter). notifications:
notifications.services.mark_read, the same read marker unread counts use; it never moves
backwards, and its version is the millisecond of its last move (it keeps no counter).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from notifications.models import ReadMarker
from notifications.services import mark_read
from socialnet.api_views import UserView, is_id, list_param
from timeline import markers

TIMELINES = ("home", "notifications")


class MarkerSerializer(serializers.Serializer):
    last_read_id = serializers.CharField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


MarkersEntity = inline_serializer(
    "Markers", {"home": MarkerSerializer(required=False), "notifications": MarkerSerializer(required=False)}
)


def _entity(last_read_id: int, version: int, updated_at) -> dict:
    return {
        "last_read_id": str(last_read_id),
        "version": version,
        "updated_at": serializers.DateTimeField().to_representation(updated_at),
    }


def home_entity(user) -> dict | None:
    marker = markers.home_marker(user)
    return _entity(marker.last_read_id, marker.version, marker.updated_at) if marker else None


def notifications_entity(user) -> dict | None:
    marker = ReadMarker.objects.filter(user=user).first()
    if marker is None:
        return None
    return _entity(marker.last_read_id, int(marker.updated_at.timestamp() * 1000), marker.updated_at)


ENTITIES = {"home": home_entity, "notifications": notifications_entity}


def _last_read_id(request, timeline: str) -> int | None:
    data = request.data
    value = data.get(f"{timeline}[last_read_id]")
    nested = data.get(timeline)
    if value is None and isinstance(nested, dict):
        value = nested.get("last_read_id")
    if value is None:
        return None
    text = str(value)
    if not is_id(text):
        raise ValidationError({timeline: "last_read_id must be an id (digits)."})
    return int(text)


class Markers(UserView):
    required_scopes = {"GET": "read:statuses", "POST": "write:statuses"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        parameters=[OpenApiParameter("timeline[]", OpenApiTypes.STR, many=True, enum=list(TIMELINES))],
        responses=MarkersEntity,
    )
    def get(self, request):
        wanted = [name for name in list_param(request.query_params, "timeline") if name in TIMELINES]
        found = {name: ENTITIES[name](request.user) for name in dict.fromkeys(wanted)}
        return Response({name: entity for name, entity in found.items() if entity is not None})

    @extend_schema(request=OpenApiTypes.OBJECT, responses=MarkersEntity)
    def post(self, request):
        if not hasattr(request.data, "get"):
            raise ValidationError({"error": "Expected home[last_read_id] or notifications[last_read_id]."})
        home, notifications = _last_read_id(request, "home"), _last_read_id(request, "notifications")
        saved = {}
        if home is not None:
            markers.save_home_marker(request.user, home)
            saved["home"] = home_entity(request.user)
        if notifications is not None:
            mark_read(request.user, notifications)
            saved["notifications"] = notifications_entity(request.user)
        return Response(saved)
