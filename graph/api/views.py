"""Who to follow (content/en/methods/suggestions.md), from graph.recommendations, and the
accounts the user blocks and mutes (blocks.md, mutes.md), from graph.selectors."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.api.serializers import AccountSerializer
from accounts.models import User
from graph import selectors, services
from graph.recommendations import SUGGESTIONS_MAX, recommend_follows
from socialnet.api_paging import ACCOUNT_PAGE, PageSize, limit_parameter, page_request, paging_parameters
from socialnet.api_views import UserView, int_param, link_header_between, object_id, with_link

from .serializers import MutedAccountSerializer, SuggestionSerializer

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


def account_list(request, accounts: list[User], key: str, serializer=AccountSerializer):
    """Accounts with a Link header paging by `key`, the id of the edge that listed each one."""
    response = Response(serializer(accounts, many=True, context={"request": request}).data)
    ends = (getattr(accounts[0], key), getattr(accounts[-1], key)) if accounts else (None, None)
    return with_link(response, link_header_between(request, *ends))


class Blocks(UserView):
    """GET /api/v1/blocks: most recent block first."""

    required_scopes = {"GET": "read:blocks"}  # `read` and the legacy `follow` grant it too

    @extend_schema(parameters=paging_parameters(ACCOUNT_PAGE), responses=AccountSerializer(many=True))
    def get(self, request):
        paging = page_request(request, ACCOUNT_PAGE)
        return account_list(request, selectors.blocks_page(request.user, **paging.as_kwargs()), "block_id")


class Mutes(UserView):
    """GET /api/v1/mutes: most recent mute first, each with `mute_expires_at`."""

    required_scopes = {"GET": "read:mutes"}  # `read` and the legacy `follow` grant it too

    @extend_schema(parameters=paging_parameters(ACCOUNT_PAGE), responses=MutedAccountSerializer(many=True))
    def get(self, request):
        paging = page_request(request, ACCOUNT_PAGE)
        muted = selectors.mutes_page(request.user, **paging.as_kwargs())
        return account_list(request, muted, "mute_id", serializer=MutedAccountSerializer)
