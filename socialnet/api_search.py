"""GET /api/v2/search (content/en/methods/search.md): accounts, hashtags and statuses.

Accounts: username or display-name prefix, case-insensitive (accounts/selectors.py).
Hashtags: name prefix. Statuses: PostgreSQL full-text search with the 'simple'
configuration (no stemming: it works the same for every language) over a GIN index on
to_tsvector('simple', text) (posts migration), among the posts the viewer may see.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, ParseError
from rest_framework.response import Response

from accounts.api.serializers import AccountSerializer, absolute
from accounts.selectors import search_accounts
from posts.api.serializers import StatusSerializer
from posts.models import Hashtag
from posts.selectors import search_hashtags, search_statuses
from socialnet.api_views import PublicView, bool_param, int_param

SEARCH_DEFAULT, SEARCH_MAX = 20, 40
OFFSET_MAX = 10_000
QUERY_MAX = 500
TYPES = ("accounts", "hashtags", "statuses")


def tag_entity(tag: Hashtag) -> dict:
    return {"name": tag.name, "url": absolute(reverse("posts:hashtag", args=[tag.name])), "history": []}


TAG_FIELDS = {"name": serializers.CharField(), "url": serializers.CharField(), "history": serializers.ListField()}
SearchEntity = inline_serializer(
    "Search",
    {
        "accounts": AccountSerializer(many=True),
        "statuses": StatusSerializer(many=True),
        "hashtags": inline_serializer("Tag", TAG_FIELDS, many=True),
    },
)


def check_signed_in_for(params, viewer) -> None:
    """Mastodon 4.0+ answers anyone, but only a signed-in user may page (`offset`) or `resolve`."""
    if viewer.is_authenticated:
        return
    if params.get("offset"):
        raise NotAuthenticated("Search queries pagination is not supported without authentication")
    if bool_param(params, "resolve"):
        raise NotAuthenticated("Search queries that resolve remote resources are not supported without authentication")


class Search(PublicView):
    required_scopes = {"GET": "read:search"}

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True),
            OpenApiParameter("type", OpenApiTypes.STR, enum=list(TYPES)),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Default 20, max 40."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Signed-in users only (401 otherwise)."),
            OpenApiParameter("following", OpenApiTypes.BOOL),
            OpenApiParameter("resolve", OpenApiTypes.BOOL, description="Signed-in users only (401 otherwise)."),
        ],
        responses=SearchEntity,
    )
    def get(self, request):
        params = request.query_params
        check_signed_in_for(params, request.user)
        query = params.get("q", "").replace("\x00", "")[:QUERY_MAX].strip()
        if not query:  # Mastodon answers a missing or blank query with 400, in these words
            raise ParseError("param is missing or the value is empty: q")
        wanted = params.get("type")
        limit = int_param(params, "limit", SEARCH_DEFAULT, low=1, high=SEARCH_MAX)
        offset = int_param(params, "offset", 0, low=0, high=OFFSET_MAX)
        window = slice(offset, offset + limit)
        viewer, context = request.user, {"request": request}
        found = {"accounts": [], "statuses": [], "hashtags": []}
        if wanted in (None, "", "accounts"):
            accounts = search_accounts(viewer, query, following=bool_param(params, "following"))[window]
            found["accounts"] = AccountSerializer(accounts, many=True, context=context).data
        if wanted in (None, "", "statuses"):
            found["statuses"] = StatusSerializer(
                search_statuses(viewer, query)[window], many=True, context=context
            ).data
        if wanted in (None, "", "hashtags"):
            found["hashtags"] = [tag_entity(tag) for tag in search_hashtags(query)[window]]
        return Response(found)
