"""Mastodon's accounts API (content/en/methods/accounts.md): sign-up, credentials, profiles,
their statuses and follow lists, follow/block/mute, relationships, search.

Every change goes through accounts.services or graph.services; every read through the
selectors, so what a viewer may see is decided in one place.
"""

from abc import ABCMeta, abstractmethod
from datetime import timedelta

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, UniqueConstraint
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import search_accounts
from accounts.services import NewAccount, register_user, update_profile
from graph import selectors as graph_selectors
from graph import services as graph_services
from graph.api.serializers import RelationshipSerializer
from posts.api.serializers import StatusSerializer
from posts.models import Hashtag
from posts.selectors import page, visible_posts
from socialnet.api_paging import (
    ACCOUNT_PAGE,
    PAGING_PARAMETERS,
    limit_parameter,
    link_header,
    page_request,
    paging_parameters,
)
from socialnet.api_ratelimit import client_ip, limit_action
from socialnet.api_views import (
    NOT_FOUND,
    PublicView,
    Unprocessable,
    UserView,
    bool_param,
    id_list,
    int_param,
    link_header_between,
    list_param,
    object_id,
    service_errors,
    with_link,
)
from socialnet.keyset import keyset_page

from .serializers import AccountSerializer
from .tokens import issue_user_token

RELATIONSHIPS_MAX = 80


class CredentialAccountSerializer(AccountSerializer):
    """The signed-in user's own account, with `source` (the plain-text profile)."""

    source = serializers.SerializerMethodField()

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "source"]

    @staticmethod
    def get_source(user) -> dict:
        return {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": user.bio,
            "fields": [],
            "follow_requests_count": 0,
        }


def visible_account(account_id) -> User:
    """An account anyone may look at (suspended and deactivated ones are 404)."""
    account = User.objects.active().filter(pk=object_id(account_id)).first()
    if account is None:
        raise NotFound(NOT_FOUND)
    return account


def accounts_data(request, accounts) -> list:
    return AccountSerializer(accounts, many=True, context={"request": request}).data


def relationship_data(viewer, account) -> dict:
    return RelationshipSerializer(graph_selectors.relationships(viewer, [account.pk])[account.pk]).data


# --- sign-up and the signed-in user ----------------------------------------------------------


class SignUp(serializers.Serializer):
    username = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1000, trim_whitespace=False)
    agreement = serializers.BooleanField(required=False, default=False)
    locale = serializers.CharField(required=False, max_length=20)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=200)


TokenEntity = inline_serializer(
    "Token",
    {
        "access_token": serializers.CharField(),
        "token_type": serializers.CharField(),
        "scope": serializers.CharField(),
        "created_at": serializers.IntegerField(),
    },
)


class AccountsView(PublicView):
    """POST /api/v1/accounts: sign up with the app's own token; returns the new user's token."""

    required_scopes = {"POST": "write:accounts"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=SignUp, responses={200: TokenEntity}, operation_id="accounts_create")
    def post(self, request):
        token = request.auth
        if token is None or not hasattr(token, "application"):
            raise _unauthorized()
        limit_action(request, "sign_ups", client_ip(request))
        data = SignUp(data=request.data)
        if not data.is_valid():
            raise _signup_invalid(data.errors)
        values = data.validated_data
        if not values["agreement"]:
            raise Unprocessable(
                {
                    "error": "Validation failed: Agreement must be accepted",
                    "details": {"agreement": [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]},
                }
            )
        account = NewAccount(values["username"], values["email"], values["password"], values.get("display_name", ""))
        with service_errors():
            user = _register(account)
        issued = issue_user_token(token.application, user, token.scope)
        return Response(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "scope": issued.scope,
                "created_at": int(issued.created_at.timestamp()),
            }
        )


def _unauthorized():
    return NotAuthenticated("The access token is invalid")


def _register(account: NewAccount) -> User:
    try:
        return register_user(account)
    except DjangoValidationError as error:
        if not hasattr(error, "error_dict"):
            raise DjangoValidationError({"password": error.error_list}) from None  # the password validators'
        raise DjangoValidationError(_case_insensitive_duplicates_by_field(error.error_dict)) from None


def _case_insensitive_duplicates_by_field(errors: dict) -> dict:
    """Name the field of a lower(username)/lower(email) constraint violation, as ERR_TAKEN.

    Django reports expression constraints as non-field errors; Mastodon clients expect
    `details.username` / `details.email`.
    """
    fields_by_message = {
        str(constraint.violation_error_message): constraint.expressions[0].source_expressions[0].name
        for constraint in User._meta.constraints
        if isinstance(constraint, UniqueConstraint) and constraint.expressions
    }
    regrouped: dict[str, list] = {}
    for field, items in errors.items():
        for item in items:
            message = " ".join(item.messages)
            target = fields_by_message.get(message, field) if field == NON_FIELD_ERRORS else field
            code = "unique" if target != field else item.code
            regrouped.setdefault(target, []).append(DjangoValidationError(message, code=code))
    return regrouped


def _signup_invalid(errors) -> Unprocessable:
    details = {
        field: [{"error": "ERR_BLANK" if "required" in str(m) else "ERR_INVALID", "description": str(m)} for m in msgs]
        for field, msgs in errors.items()
    }
    described = ", ".join(f"{field.capitalize()} {entry['description']}" for field, e in details.items() for entry in e)
    return Unprocessable({"error": f"Validation failed: {described}", "details": details})


class VerifyCredentials(UserView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(responses=CredentialAccountSerializer)
    def get(self, request):
        # Mastodon 4.3's `profile` scope also grants exactly this.
        return Response(CredentialAccountSerializer(request.user, context={"request": request}).data)

    def check_permissions(self, request):
        token = request.auth
        if token is not None and hasattr(token, "scope") and "profile" in token.scope.split():
            self.required_scopes = {}
        super().check_permissions(request)


class ProfileUpdate(serializers.Serializer):
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    avatar = serializers.FileField(required=False)


class UpdateCredentials(UserView):
    required_scopes = {"PATCH": "write:accounts"}
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=ProfileUpdate, responses=CredentialAccountSerializer)
    def patch(self, request):
        data = ProfileUpdate(data=request.data)
        if not data.is_valid():
            raise _signup_invalid(data.errors)
        values = data.validated_data
        with service_errors():
            user = update_profile(
                request.user,
                display_name=values.get("display_name"),
                bio=values.get("note"),
                avatar=values.get("avatar"),
            )
        return Response(CredentialAccountSerializer(user, context={"request": request}).data)


# --- profiles ---------------------------------------------------------------------------------


class Lookup(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=[OpenApiParameter("acct", OpenApiTypes.STR, required=True)], responses=AccountSerializer)
    def get(self, request):
        acct = request.query_params.get("acct", "").strip().lstrip("@")
        username = acct.split("@", 1)[0]
        account = User.objects.active().filter(username__iexact=username).first() if username else None
        if account is None:
            raise NotFound(NOT_FOUND)
        return Response(AccountSerializer(account, context={"request": request}).data)


class AccountDetail(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(responses=AccountSerializer)
    def get(self, request, account_id):
        return Response(AccountSerializer(visible_account(account_id), context={"request": request}).data)


class AccountStatuses(PublicView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(
        parameters=[
            *PAGING_PARAMETERS,
            OpenApiParameter("exclude_replies", OpenApiTypes.BOOL),
            OpenApiParameter("exclude_reblogs", OpenApiTypes.BOOL),
            OpenApiParameter("only_media", OpenApiTypes.BOOL),
            OpenApiParameter("pinned", OpenApiTypes.BOOL),
            OpenApiParameter("tagged", OpenApiTypes.STR),
        ],
        responses=StatusSerializer(many=True),
    )
    def get(self, request, account_id):
        account = visible_account(account_id)
        params = request.query_params
        paging = page_request(request)
        if bool_param(params, "pinned") or bool_param(params, "only_media"):
            posts = []  # socialnet has neither pinned posts nor media
        else:
            rows = visible_posts(request.user).filter(author=account)
            if bool_param(params, "exclude_reblogs"):
                rows = rows.filter(repost_of__isnull=True)
            if bool_param(params, "exclude_replies"):
                # Mastodon keeps self-replies (threads) and drops replies to others.
                rows = rows.exclude(Q(reply_to__isnull=False) & ~Q(reply_to__author=account))
            tagged = params.get("tagged", "").strip().lstrip("#")
            if tagged:
                tag = Hashtag.objects.filter(name=tagged.casefold()).first()
                rows = rows.filter(posthashtag__hashtag=tag) if tag else rows.none()
            posts = page(rows, **paging.as_kwargs())
        response = Response(StatusSerializer(posts, many=True, context={"request": request}).data)
        return with_link(response, link_header(request, posts))


ACCOUNT_PAGING = paging_parameters(ACCOUNT_PAGE)


def _follow_list(request, accounts):
    paging = page_request(request, ACCOUNT_PAGE)
    rows = keyset_page(accounts, "edge_id", **paging.as_kwargs())
    response = Response(accounts_data(request, rows))
    return with_link(response, link_header_between(request, *_ends(rows, "edge_id")))


def _ends(rows, key):
    return (getattr(rows[0], key), getattr(rows[-1], key)) if rows else (None, None)


class Followers(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=ACCOUNT_PAGING, responses=AccountSerializer(many=True))
    def get(self, request, account_id):
        account = visible_account(account_id)
        return _follow_list(request, graph_selectors.followers_of(account).annotate(edge_id=F("following_edges__id")))


class Following(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=ACCOUNT_PAGING, responses=AccountSerializer(many=True))
    def get(self, request, account_id):
        account = visible_account(account_id)
        return _follow_list(request, graph_selectors.following_of(account).annotate(edge_id=F("follower_edges__id")))


# --- follow, block, mute: each answers the Relationship -----------------------------------------


class GraphAction(UserView, metaclass=ABCMeta):
    """POST /api/v1/accounts/:id/<action>."""

    @extend_schema(request=None, responses=RelationshipSerializer)
    def post(self, request, account_id):
        account = visible_account(account_id)
        with service_errors():
            self.act(request, account)
        return Response(relationship_data(request.user, account))

    @abstractmethod
    def act(self, request, account):
        """What the action does; each endpoint's subclass says."""


class Follow(GraphAction):
    required_scopes = {"POST": "write:follows"}

    def act(self, request, account):
        if graph_selectors.is_blocked_either_way(request.user, account):
            raise PermissionDenied("This action is not allowed")  # Mastodon's answer across a block
        limit_action(request, "follows")
        graph_services.follow(request.user, account)


class Unfollow(GraphAction):
    required_scopes = {"POST": "write:follows"}

    def act(self, request, account):
        graph_services.unfollow(request.user, account)


class Block(GraphAction):
    required_scopes = {"POST": "write:blocks"}

    def act(self, request, account):
        graph_services.block(request.user, account)


class Unblock(GraphAction):
    required_scopes = {"POST": "write:blocks"}

    def act(self, request, account):
        graph_services.unblock(request.user, account)


MUTE_DURATION_MAX = 10 * 365 * 24 * 3600


class MuteOptions(serializers.Serializer):
    notifications = serializers.BooleanField(required=False, default=True)
    duration = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MUTE_DURATION_MAX)


class Mute(GraphAction):
    required_scopes = {"POST": "write:mutes"}

    @extend_schema(request=MuteOptions, responses=RelationshipSerializer)
    def post(self, request, account_id):
        return super().post(request, account_id)

    def act(self, request, account):
        options = MuteOptions(data=request.data)
        if not options.is_valid():
            raise _signup_invalid(options.errors)
        seconds = options.validated_data["duration"]
        graph_services.mute(
            request.user,
            account,
            hide_notifications=options.validated_data["notifications"],
            duration=timedelta(seconds=seconds) if seconds else None,
        )


class Unmute(GraphAction):
    required_scopes = {"POST": "write:mutes"}

    def act(self, request, account):
        graph_services.unmute(request.user, account)


class Relationships(UserView):
    required_scopes = {"GET": "read:follows"}

    @extend_schema(
        parameters=[OpenApiParameter("id[]", OpenApiTypes.STR, many=True), OpenApiParameter("with_suspended", bool)],
        responses=RelationshipSerializer(many=True),
    )
    def get(self, request):
        ids = id_list(list_param(request.query_params, "id"), "id")[:RELATIONSHIPS_MAX]
        if not bool_param(request.query_params, "with_suspended"):
            visible = set(User.objects.active().filter(pk__in=ids).values_list("pk", flat=True))
            ids = [i for i in ids if i in visible]
        found = graph_selectors.relationships(request.user, ids)
        return Response(RelationshipSerializer([found[i] for i in dict.fromkeys(ids)], many=True).data)


# --- search -------------------------------------------------------------------------------------


SEARCH_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, required=True),
    limit_parameter(ACCOUNT_PAGE),
    OpenApiParameter("offset", OpenApiTypes.INT),
    OpenApiParameter("resolve", OpenApiTypes.BOOL),
    OpenApiParameter("following", OpenApiTypes.BOOL),
]


class AccountSearch(UserView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=SEARCH_PARAMETERS, responses=AccountSerializer(many=True))
    def get(self, request):
        params = request.query_params
        limit = int_param(params, "limit", ACCOUNT_PAGE.default, low=1, high=ACCOUNT_PAGE.max)
        offset = int_param(params, "offset", 0, low=0, high=10_000)
        found = search_accounts(request.user, params.get("q", ""), following=bool_param(params, "following"))
        return Response(accounts_data(request, found[offset : offset + limit]))
