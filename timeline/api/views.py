from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from posts.api.serializers import StatusSerializer
from posts.selectors import hashtag_posts
from socialnet.api_paging import PAGING_PARAMETERS, link_header, page_request
from timeline.selectors import home_timeline, public_timeline


def _statuses(request, posts):
    response = Response(StatusSerializer(posts, many=True, context={"request": request}).data)
    link = link_header(request, posts)
    if link:
        response["Link"] = link
    return response


@extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def home(request):
    return _statuses(request, home_timeline(request.user, **page_request(request).as_kwargs()))


@extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
@api_view(["GET"])
@permission_classes([AllowAny])
def public(request):
    return _statuses(request, public_timeline(request.user, **page_request(request).as_kwargs()))


@extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
@api_view(["GET"])
@permission_classes([AllowAny])
def tag(request, hashtag):
    return _statuses(request, hashtag_posts(request.user, hashtag, **page_request(request).as_kwargs()))
