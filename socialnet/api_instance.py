"""The server's description (content/en/methods/instance.md) and the endpoints of features
socialnet does not have, answered as a Mastodon server without them answers.

Client libraries read `version` to decide which endpoints exist (Mastodon.py parses it,
and fails in a loop if it cannot): "4.3.0 (compatible; socialnet 0.1)" says "a Mastodon
4.3 API", which has grouped notifications.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.models import User
from posts.models import Post
from socialnet.api_views import NOT_FOUND, PublicView, UserView

logger = logging.getLogger(__name__)

VERSION = "4.3.0 (compatible; socialnet 0.1)"
TITLE = "socialnet"
DESCRIPTION = "A small social network that speaks the Mastodon client API."
STATS_CACHE_SECONDS = 300
LANGUAGES = ["en"]


def domain() -> str:
    return urlsplit(settings.SITE_URL).netloc


def streaming_url() -> str:
    parts = urlsplit(settings.SITE_URL)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def thumbnail() -> str:
    return settings.SITE_URL.rstrip("/") + "/static/avatar-missing.png"


def statuses_configuration() -> dict:
    return {"max_characters": settings.POST_MAX_CHARS, "max_media_attachments": 0, "characters_reserved_per_url": 23}


MEDIA_CONFIGURATION = {
    "supported_mime_types": [],
    "image_size_limit": 0,
    "image_matrix_limit": 0,
    "video_size_limit": 0,
    "video_frame_rate_limit": 0,
    "video_matrix_limit": 0,
}
POLLS_CONFIGURATION = {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0}


def stats() -> dict:
    """Counts for the v1 entity; counting a million posts is not free, so cached a while."""
    try:
        cached = cache.get("instance-stats")
    except Exception:  # the cache is Redis: down means count, not fail
        logger.warning("instance stats cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    counted = {
        "user_count": User.objects.active().count(),
        "status_count": Post.objects.filter(is_deleted=False, is_hidden=False).count(),
        "domain_count": 1,
    }
    try:
        cache.set("instance-stats", counted, STATS_CACHE_SECONDS)
    except Exception:
        logger.warning("instance stats cache unavailable", exc_info=True)
    return counted


class InstanceV1(PublicView):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="instance_v1")
    def get(self, request):
        return Response(
            {
                "uri": domain(),
                "title": TITLE,
                "short_description": DESCRIPTION,
                "description": DESCRIPTION,
                "email": "",
                "version": VERSION,
                "urls": {"streaming_api": streaming_url()},
                "stats": stats(),
                "thumbnail": thumbnail(),
                "languages": LANGUAGES,
                "registrations": True,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": {
                    "accounts": {"max_featured_tags": 0},
                    "statuses": statuses_configuration(),
                    "media_attachments": MEDIA_CONFIGURATION,
                    "polls": POLLS_CONFIGURATION,
                },
                "contact_account": None,
                "rules": [],
            }
        )


class InstanceV2(PublicView):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="instance_v2")
    def get(self, request):
        return Response(
            {
                "domain": domain(),
                "title": TITLE,
                "version": VERSION,
                "source_url": "https://example.invalid/socialnet",
                "description": DESCRIPTION,
                "usage": {"users": {"active_month": stats()["user_count"]}},
                "thumbnail": {"url": thumbnail()},
                "icon": [],
                "languages": LANGUAGES,
                "configuration": {
                    "urls": {"streaming": streaming_url()},
                    "vapid": {"public_key": ""},
                    "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
                    "statuses": statuses_configuration(),
                    "media_attachments": {**MEDIA_CONFIGURATION, "description_limit": 0},
                    "polls": POLLS_CONFIGURATION,
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": True, "approval_required": False, "message": None},
                "api_versions": {"mastodon": 2},
                "contact": {"email": "", "account": None},
                "rules": [],
            }
        )


# --- features socialnet does not have ----------------------------------------------------------


EMPTY_LIST = {"type": "array", "items": {"type": "object"}, "maxItems": 0}


def empty_list_view(name: str, scope: str | None, *, user: bool):
    """A list endpoint of a feature socialnet lacks: an empty list, as a server with none of it."""
    base = UserView if user else PublicView

    @extend_schema(responses={200: EMPTY_LIST}, operation_id=f"absent_{name}", description="Always empty.")
    def get(self, request):
        return Response([])

    return type(f"Absent{name.title().replace('_', '')}", (base,), {"required_scopes": {"GET": scope}, "get": get})


PREFERENCES = {
    "posting:default:visibility": "public",
    "posting:default:sensitive": False,
    "posting:default:language": None,
    "reading:expand:media": "default",
    "reading:expand:spoilers": False,
}


class Preferences(UserView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(PREFERENCES)


@csrf_exempt  # API views are (DRF's are); a CSRF page instead of the JSON 404 would confuse clients
def api_not_found(request, *args, **kwargs):
    """Any other /api/ path: Mastodon's JSON 404, never an HTML page.

    A path with a trailing slash is served by the view without it: Mastodon.py asks for
    /api/v1/instance/ and POSTs to /api/v1/reports/ (Rails ignores the slash).
    """
    if request.path.endswith("/") and len(request.path) > 1:
        try:
            match = resolve(request.path.rstrip("/"))
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return match.func(request, *match.args, **match.kwargs)
    return JsonResponse({"error": NOT_FOUND}, status=404)
