from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from posts.api.rendering import posts_data, statuses_data
from posts.api.serializers import StatusSerializer
from posts.selectors import hashtag_posts
from socialnet.api_paging import PAGING_PARAMETERS, link_header, page_request
from socialnet.api_views import PublicView, UserView
from timeline.selectors import home_timeline_refs, public_timeline


def _statuses(request, posts):
    """Posts (loaded by the post selectors) as a page of statuses with its Link header."""
    return _page(request, posts, posts_data(request, posts))


def _page(request, items, data):
    response = Response(data)
    link = link_header(request, items)
    if link:
        response["Link"] = link
    return response


class Home(UserView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=StatusSerializer(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request):
        refs = home_timeline_refs(request.user, **page_request(request).as_kwargs())
        return _page(request, refs, statuses_data(request, refs))


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
