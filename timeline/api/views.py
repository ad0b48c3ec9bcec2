from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from posts.api.serializers import StatusSerializer
from posts.selectors import hashtag_posts
from socialnet.api_paging import PAGING_PARAMETERS, link_header, page_request
from socialnet.api_views import PublicView, UserView
from timeline.selectors import home_timeline, public_timeline


def _statuses(request, posts):
    response = Response(StatusSerializer(posts, many=True, context={"request": request}).data)
    link = link_header(request, posts)
    if link:
        response["Link"] = link
    return response


class Home(UserView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request):
        return _statuses(request, home_timeline(request.user, **page_request(request).as_kwargs()))


class Public(PublicView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request):
        return _statuses(request, public_timeline(request.user, **page_request(request).as_kwargs()))


class Tag(PublicView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request, hashtag):
        return _statuses(request, hashtag_posts(request.user, hashtag, **page_request(request).as_kwargs()))


home = Home.as_view()
public = Public.as_view()
tag = Tag.as_view()
