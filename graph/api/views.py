"""Who to follow (content/en/methods/suggestions.md), from graph.recommendations."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import User
from graph import services
from graph.recommendations import SUGGESTIONS_MAX, recommend_follows
from socialnet.api_paging import PageSize, limit_parameter
from socialnet.api_views import UserView, int_param, object_id

from .serializers import SuggestionSerializer

SUGGESTION_PAGE = PageSize(default=40, max=SUGGESTIONS_MAX)


class Suggestions(UserView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(
        parameters=[limit_parameter(SUGGESTION_PAGE)],
        responses=SuggestionSerializer(many=True),
    )
    def get(self, request):
        limit = int_param(request.query_params, "limit", SUGGESTION_PAGE.default, low=1, high=SUGGESTION_PAGE.max)
        suggestions = recommend_follows(request.user, limit=limit)
        return Response(SuggestionSerializer(suggestions, many=True, context={"request": request}).data)


class RemoveSuggestion(UserView):
    """Never suggest this account again. Succeeds for any id, as Mastodon's does."""

    required_scopes = {"DELETE": "write:accounts"}

    @extend_schema(responses=inline_serializer("EmptySuggestion", {}))
    def delete(self, request, account_id):
        try:
            account = User.objects.filter(pk=object_id(account_id)).first()
        except NotFound:
            account = None
        if account is not None and account.pk != request.user.pk:
            services.dismiss_suggestion(request.user, account)
        return Response({})
