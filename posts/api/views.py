"""Mastodon's statuses API (content/en/methods/statuses.md), on posts.services and posts.selectors."""

from abc import ABCMeta, abstractmethod

from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.api.serializers import AccountSerializer
from accounts.models import User
from graph.selectors import blocked_either_way_filter
from posts import services
from posts.models import Post
from posts.selectors import favourites_page, get_own_post, get_post_for, thread_of, visible_posts
from socialnet.api_paging import ACCOUNT_PAGE, PAGING_PARAMETERS, page_request, paging_parameters
from socialnet.api_ratelimit import limit_action
from socialnet.api_views import (
    NOT_FOUND,
    PublicView,
    Unprocessable,
    UserRequired,
    UserView,
    link_header_between,
    object_id,
    service_errors,
    with_link,
)
from socialnet.keyset import keyset_page
from timeline.api.views import _statuses

from . import idempotency
from .serializers import StatusSerializer


def status_data(request, post) -> dict:
    return StatusSerializer(post, context={"request": request}).data


def fresh(viewer, post_id: int) -> Post:
    """The post again, with counters and the viewer's state as they are now."""
    return get_post_for(viewer, post_id)


def visible_post(viewer, status_id) -> Post:
    return get_post_for(viewer, object_id(status_id))


class NewStatus(serializers.Serializer):
    status = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=100_000)
    in_reply_to_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=30)
    # Accepted and ignored, as a server without these features would: everything is public.
    visibility = serializers.CharField(required=False, allow_blank=True, max_length=20)
    sensitive = serializers.BooleanField(required=False)
    spoiler_text = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    language = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=20)
    media_ids = serializers.ListField(child=serializers.CharField(), required=False)


class Conflict(APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly"
    default_code = "conflict"


class Statuses(UserView):
    required_scopes = {"POST": "write:statuses"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=NewStatus,
        responses=StatusSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
    )
    def post(self, request):
        data = NewStatus(data=request.data)
        if not data.is_valid():
            raise Unprocessable({"error": "Validation failed", "details": data.errors})
        values = data.validated_data
        if values.get("media_ids"):
            raise Unprocessable({"error": "Validation failed: media attachments are not supported"})
        reply_to = None
        if values.get("in_reply_to_id"):
            reply_to = visible_post(request.user, values["in_reply_to_id"])
        claimed = idempotency.claim(request.user.pk, request.headers.get("Idempotency-Key"))
        if claimed.existing_status_id is not None:
            return Response(status_data(request, _replayed(request.user, claimed.existing_status_id)))
        if claimed.in_progress:
            raise Conflict()
        try:
            limit_action(request, "posts")
            with service_errors():
                post = services.create_post(request.user, values.get("status", ""), reply_to=reply_to)
        except BaseException:
            idempotency.release(claimed)
            raise
        idempotency.complete(claimed, post.pk)
        return Response(status_data(request, fresh(request.user, post.pk)))


def _replayed(viewer, status_id: int) -> Post:
    """The status the first request made; still answered if it has since been deleted."""
    post = visible_posts(viewer).filter(pk=status_id).first()
    if post is None:
        post = Post.objects.select_related("author").filter(pk=status_id, author=viewer).first()
    if post is None:
        raise NotFound(NOT_FOUND)
    return post


class EditStatus(serializers.Serializer):
    status = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=100_000)


class DeletedStatusSerializer(StatusSerializer):
    """A deleted status with its source `text`, for delete-and-redraft."""

    text = serializers.CharField()

    class Meta(StatusSerializer.Meta):
        fields = [*StatusSerializer.Meta.fields, "text"]


class StatusDetail(PublicView):
    required_scopes = {"GET": "read:statuses", "PUT": "write:statuses", "DELETE": "write:statuses"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method != "GET":
            UserRequired().has_permission(request, self)

    @extend_schema(responses=StatusSerializer)
    def get(self, request, status_id):
        return Response(status_data(request, visible_post(request.user, status_id)))

    @extend_schema(request=EditStatus, responses=StatusSerializer)
    def put(self, request, status_id):
        post = get_own_post(request.user, object_id(status_id))
        data = EditStatus(data=request.data)
        if not data.is_valid():
            raise Unprocessable({"error": "Validation failed: Text can't be blank", "details": data.errors})
        with service_errors():
            services.edit_post(request.user, post, data.validated_data["status"])
        return Response(status_data(request, fresh(request.user, post.pk)))

    @extend_schema(responses=DeletedStatusSerializer)
    def delete(self, request, status_id):
        post = get_own_post(request.user, object_id(status_id))
        limit_action(request, "deletions")
        shown = visible_posts(request.user).filter(pk=post.pk).first() or post
        with service_errors():
            services.delete_post(request.user, post)
        return Response(DeletedStatusSerializer(shown, context={"request": request}).data)


ContextEntity = inline_serializer(
    "Context",
    {"ancestors": StatusSerializer(many=True), "descendants": StatusSerializer(many=True)},
)


class StatusContext(PublicView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=ContextEntity)
    def get(self, request, status_id):
        post = visible_post(request.user, status_id)
        ancestors, descendants = thread_of(request.user, post)
        context = {"request": request}
        return Response(
            {
                "ancestors": StatusSerializer(ancestors, many=True, context=context).data,
                "descendants": StatusSerializer(descendants, many=True, context=context).data,
            }
        )


class StatusAction(UserView, metaclass=ABCMeta):
    """POST /api/v1/statuses/:id/<action>: answers the status as the viewer now sees it."""

    @extend_schema(request=None, responses=StatusSerializer)
    def post(self, request, status_id):
        post = visible_post(request.user, status_id)
        with service_errors():
            shown = self.act(request, post)
        return Response(status_data(request, fresh(request.user, shown.pk)))

    @abstractmethod
    def act(self, request, post) -> Post:
        """What the action does; each endpoint's subclass says."""


class Favourite(StatusAction):
    required_scopes = {"POST": "write:favourites"}

    def act(self, request, post):
        services.like(request.user, post)
        return post


class Unfavourite(StatusAction):
    required_scopes = {"POST": "write:favourites"}

    def act(self, request, post):
        services.unlike(request.user, post)
        return post


class Reblog(StatusAction):
    """Answers the reblog: a new status whose `reblog` is the original."""

    required_scopes = {"POST": "write:statuses"}

    def act(self, request, post):
        limit_action(request, "posts")
        return services.repost(request.user, post)


class Unreblog(StatusAction):
    required_scopes = {"POST": "write:statuses"}

    def act(self, request, post):
        limit_action(request, "deletions")
        services.unrepost(request.user, post)
        return post.repost_of if post.is_repost else post


ACCOUNT_PAGING = paging_parameters(ACCOUNT_PAGE)


def _who_page(request, accounts, key):
    paging = page_request(request, ACCOUNT_PAGE)
    rows = keyset_page(accounts, key, **paging.as_kwargs())
    response = Response(AccountSerializer(rows, many=True, context={"request": request}).data)
    ends = (getattr(rows[0], key), getattr(rows[-1], key)) if rows else (None, None)
    return with_link(response, link_header_between(request, *ends))


def _visible_accounts(viewer):
    accounts = User.objects.active()
    if viewer.is_authenticated:
        accounts = accounts.exclude(blocked_either_way_filter(viewer, "pk"))
    return accounts


class FavouritedBy(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=ACCOUNT_PAGING, responses=AccountSerializer(many=True))
    def get(self, request, status_id):
        post = visible_post(request.user, status_id)
        likers = _visible_accounts(request.user).filter(likes__post=post).annotate(like_id=F("likes__id"))
        return _who_page(request, likers, "like_id")


class RebloggedBy(PublicView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=ACCOUNT_PAGING, responses=AccountSerializer(many=True))
    def get(self, request, status_id):
        post = visible_post(request.user, status_id)
        original = post.repost_of if post.is_repost else post
        sharers = (
            _visible_accounts(request.user)
            .filter(posts__repost_of=original, posts__is_deleted=False)
            .annotate(repost_id=F("posts__id"))
        )
        return _who_page(request, sharers, "repost_id")


class Favourites(UserView):
    """GET /api/v1/favourites: newest like first, paged by the like's id (never shown otherwise)."""

    required_scopes = {"GET": "read:favourites"}

    @extend_schema(parameters=PAGING_PARAMETERS, responses=StatusSerializer(many=True))
    def get(self, request):
        posts = favourites_page(request.user, **page_request(request).as_kwargs())
        ends = (posts[0].like_id, posts[-1].like_id) if posts else (None, None)
        # The timelines' rendering; its Link pages by post id, so it gives way to the likes' ids.
        return with_link(_statuses(request, posts), link_header_between(request, *ends))
