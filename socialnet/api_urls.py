"""The Mastodon client API's routes beyond apps and timelines, under /api/."""

from django.urls import include, path

from . import api_instance as instance
from . import api_search

ABSENT_LISTS = [
    # (path, name, scope, needs a user): features socialnet does not have, empty.
    ("v1/filters", "filters", "read:filters", True),
    ("v2/filters", "filters_v2", "read:filters", True),
    ("v1/lists", "lists", "read:lists", True),
    ("v1/followed_tags", "followed_tags", "read:follows", True),
    ("v1/bookmarks", "bookmarks", "read:bookmarks", True),
    ("v1/conversations", "conversations", "read:statuses", True),
    ("v1/follow_requests", "follow_requests", "read:follows", True),
    ("v1/scheduled_statuses", "scheduled_statuses", "read:statuses", True),
    ("v1/announcements", "announcements", None, False),
    ("v1/custom_emojis", "custom_emojis", None, False),
    ("v1/trends", "trends", None, False),
    ("v1/trends/tags", "trends_tags", None, False),
    ("v1/trends/statuses", "trends_statuses", None, False),
    ("v1/trends/links", "trends_links", None, False),
    ("v1/instance/rules", "instance_rules", None, False),
    ("v1/instance/peers", "instance_peers", None, False),
]

urlpatterns = [
    path("v1/instance", instance.InstanceV1.as_view(), name="api-instance-v1"),
    path("v2/instance", instance.InstanceV2.as_view(), name="api-instance"),
    path("v1/preferences", instance.Preferences.as_view(), name="api-preferences"),
    path("v2/search", api_search.Search.as_view(), name="api-search"),
    *[
        path(route, instance.empty_list_view(name, scope, user=user).as_view(), name=f"api-absent-{name}")
        for route, name, scope, user in ABSENT_LISTS
    ],
    path("", include("accounts.api.account_urls")),
    path("", include("accounts.api.report_urls")),
    path("", include("posts.api.urls")),
    path("", include("graph.api.urls")),
    path("", include("notifications.api.rest_urls")),
    path("", include("timeline.api.marker_urls")),
]
