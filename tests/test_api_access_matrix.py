"""Every endpoint, method and caller: anonymous, token without the scope, other user, owner.

Each caller gets exactly what it should: anonymous callers 401 on user endpoints, a token
lacking the endpoint's scope 403, another user 403/404 on what is the owner's alone, and
the owner (or anyone, on public reads) a success. A refused write changes nothing: the
database looks the same before and after.
"""

from dataclasses import dataclass, field

import pytest

from accounts.models import Report, User
from graph.models import Block, Follow, Mute, SuggestionDismissal
from graph.services import follow
from notifications.models import Notification, ReadMarker
from notifications.selectors import group_key
from posts.models import Like, Post
from posts.services import like
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post
from timeline.models import HomeMarker

pytestmark = pytest.mark.django_db

ANONYMOUS, NO_SCOPE, OTHER, OWNER = "anonymous", "token without the scope", "other user", "owner"
# A token with none of read, write or follow (push only): every scoped endpoint refuses it.
UNRELATED_SCOPE = "push"


@dataclass
class World:
    owner: User
    other: User
    target: User  # an account the callers act upon
    post: object  # the owner's post
    target_post: object
    notification: Notification  # the owner's
    group_key: str  # the group of the owner's notification


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the World
    scope: str | None  # None: no scope needed
    public: bool = False  # anonymous callers may use it
    owner_only: bool = False  # another user must be refused (403 or 404)
    # Another user succeeds, as on Mastodon, but gets nothing of the owner's and changes nothing.
    empty_for_others: bool = False
    body: dict = field(default_factory=dict)

    def __str__(self):
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/api/v1/instance", None, public=True),
    Endpoint("GET", "/api/v2/instance", None, public=True),
    Endpoint("GET", "/api/v1/accounts/verify_credentials", "read:accounts"),
    Endpoint("PATCH", "/api/v1/accounts/update_credentials", "write:accounts", body={"display_name": "Changed"}),
    Endpoint("GET", "/api/v1/accounts/lookup?acct={w.target.username}", "read:accounts", public=True),
    Endpoint("GET", "/api/v1/accounts/{w.target.pk}", "read:accounts", public=True),
    Endpoint("GET", "/api/v1/accounts/{w.target.pk}/statuses", "read:statuses", public=True),
    Endpoint("GET", "/api/v1/accounts/{w.target.pk}/followers", "read:accounts", public=True),
    Endpoint("GET", "/api/v1/accounts/{w.target.pk}/following", "read:accounts", public=True),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/follow", "write:follows"),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/unfollow", "write:follows"),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/block", "write:blocks"),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/unblock", "write:blocks"),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/mute", "write:mutes"),
    Endpoint("POST", "/api/v1/accounts/{w.target.pk}/unmute", "write:mutes"),
    Endpoint("GET", "/api/v1/accounts/relationships?id[]={w.target.pk}", "read:follows"),
    Endpoint("GET", "/api/v1/accounts/search?q={w.target.username}", "read:accounts"),
    Endpoint("POST", "/api/v1/statuses", "write:statuses", body={"status": "new post"}),
    Endpoint("GET", "/api/v1/statuses/{w.post.pk}", "read:statuses", public=True),
    Endpoint("PUT", "/api/v1/statuses/{w.post.pk}", "write:statuses", owner_only=True, body={"status": "edited"}),
    Endpoint("DELETE", "/api/v1/statuses/{w.post.pk}", "write:statuses", owner_only=True),
    Endpoint("GET", "/api/v1/statuses/{w.post.pk}/context", "read:statuses", public=True),
    Endpoint("POST", "/api/v1/statuses/{w.target_post.pk}/favourite", "write:favourites"),
    Endpoint("POST", "/api/v1/statuses/{w.target_post.pk}/unfavourite", "write:favourites"),
    Endpoint("POST", "/api/v1/statuses/{w.target_post.pk}/reblog", "write:statuses"),
    Endpoint("POST", "/api/v1/statuses/{w.target_post.pk}/unreblog", "write:statuses"),
    Endpoint("GET", "/api/v1/statuses/{w.target_post.pk}/favourited_by", "read:accounts", public=True),
    Endpoint("GET", "/api/v1/statuses/{w.target_post.pk}/reblogged_by", "read:accounts", public=True),
    Endpoint("GET", "/api/v1/favourites", "read:favourites"),
    Endpoint("GET", "/api/v1/blocks", "read:blocks"),
    Endpoint("GET", "/api/v1/mutes", "read:mutes"),
    Endpoint("GET", "/api/v1/timelines/home", "read:statuses"),
    Endpoint("GET", "/api/v1/timelines/public", "read:statuses", public=True),
    Endpoint("GET", "/api/v1/timelines/tag/hello", "read:statuses", public=True),
    Endpoint("GET", "/api/v1/notifications", "read:notifications"),
    Endpoint("GET", "/api/v1/notifications/{w.notification.pk}", "read:notifications", owner_only=True),
    Endpoint("POST", "/api/v1/notifications/{w.notification.pk}/dismiss", "write:notifications", owner_only=True),
    Endpoint("POST", "/api/v1/notifications/clear", "write:notifications"),
    Endpoint("GET", "/api/v1/notifications/unread_count", "read:notifications"),
    Endpoint("GET", "/api/v2/notifications", "read:notifications"),
    Endpoint("GET", "/api/v2/notifications/unread_count", "read:notifications"),
    Endpoint("GET", "/api/v2/notifications/{w.group_key}", "read:notifications", owner_only=True),
    Endpoint("GET", "/api/v2/notifications/{w.group_key}/accounts", "read:notifications", empty_for_others=True),
    Endpoint("POST", "/api/v2/notifications/{w.group_key}/dismiss", "write:notifications", empty_for_others=True),
    Endpoint("GET", "/api/v2/suggestions", "read:accounts"),
    Endpoint("DELETE", "/api/v1/suggestions/{w.target.pk}", "write:accounts"),
    Endpoint("GET", "/api/v2/search?q=hello", "read:search", public=True),
    Endpoint("GET", "/api/v2/search?q=hello&offset=1", "read:search"),  # paging: signed-in users only
    Endpoint("GET", "/api/v2/search?q=hello&resolve=true", "read:search"),
    Endpoint("POST", "/api/v1/reports", "write:reports", body={"account_id": "{w.target.pk}", "comment": "bad"}),
    Endpoint("GET", "/api/v1/markers?timeline[]=home", "read:statuses"),
    Endpoint("POST", "/api/v1/markers", "write:statuses", body={"home": {"last_read_id": "5"}}),
    Endpoint("GET", "/api/v1/preferences", "read:accounts"),
    Endpoint("GET", "/api/v1/filters", "read:filters"),
    Endpoint("GET", "/api/v1/lists", "read:lists"),
    Endpoint("GET", "/api/v1/custom_emojis", None, public=True),
    Endpoint("GET", "/api/v1/apps/verify_credentials", None),
]


def build_world() -> World:
    owner, other, target = UserFactory(), UserFactory(), UserFactory()
    post = make_post(owner, "hello #hello from the owner")
    target_post = make_post(target, "hello from the target")
    follow(other, owner)
    like(target, post)
    notification = Notification.objects.filter(recipient=owner).order_by("-id").first()
    return World(owner, other, target, post, target_post, notification, group_key(notification))


def snapshot() -> tuple:
    """Everything an API write could change."""
    models = [User, Post, Like, Follow, Block, Mute, Notification, Report, SuggestionDismissal, HomeMarker, ReadMarker]
    counts = tuple(model.objects.count() for model in models)
    posts = tuple(Post.objects.order_by("pk").values_list("pk", "text", "is_deleted", "likes_count", "reposts_count"))
    users = tuple(User.objects.order_by("pk").values_list("pk", "display_name", "bio", "following_count"))
    return counts, posts, users


def caller(kind: str, world: World) -> Api:
    if kind == ANONYMOUS:
        return Api()
    if kind == NO_SCOPE:
        return api_for(world.owner, scope=UNRELATED_SCOPE)
    return api_for(world.other if kind == OTHER else world.owner, scope="read write follow")


def expected_refusal(endpoint: Endpoint, kind: str) -> set[int] | None:
    """The statuses a refused call may get; None when the call must succeed."""
    if kind == ANONYMOUS:
        return None if endpoint.public else {401}
    if kind == NO_SCOPE:
        return {403} if endpoint.scope else None
    if kind == OTHER and endpoint.owner_only:
        return {403, 404}
    return None


def format_body(body, world):
    if isinstance(body, dict):
        return {key: format_body(value, world) for key, value in body.items()}
    return body.format(w=world) if isinstance(body, str) else body


@pytest.mark.parametrize("kind", [ANONYMOUS, NO_SCOPE, OTHER, OWNER])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_access(endpoint, kind):
    world = build_world()
    api = caller(kind, world)
    path = endpoint.path.format(w=world)
    refusal = expected_refusal(endpoint, kind)
    before = snapshot()

    response = api.call(endpoint.method, path, format_body(endpoint.body, world) or None)

    if refusal is None:
        assert 200 <= response.status_code < 300, (kind, response.status_code, response.content[:300])
        if kind == OTHER and endpoint.empty_for_others:
            assert response.json() in ([], {})
            assert snapshot() == before, "another user's call changed the owner's data"
    else:
        assert response.status_code in refusal, (kind, response.status_code, response.content[:300])
        assert "error" in response.json()
        assert snapshot() == before, "a refused call changed something"


def test_every_api_route_is_in_the_matrix():
    """A new endpoint must be added above. Left out: the absent-feature lists (one view each,
    like the filters and lists above), registering an app and signing up (an app's own
    token; test_oauth.py and test_api_accounts.py)."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    covered = {endpoint.path.split("?")[0] for endpoint in ENDPOINTS}
    routes = {route for route in walk(get_resolver().url_patterns) if route.startswith("api/v")}
    absent = {"api/v1/" + p for p in ("filters", "lists", "custom_emojis")}
    uncovered = []
    for route in routes:
        shape = "/" + route.replace("<str:", "{").rstrip("/")
        if "streaming" in route or shape.split("/")[3] in {"trends", "followed_tags", "announcements", "bookmarks"}:
            continue
        if not any(_same_shape(shape, path) for path in covered) and route not in absent:
            uncovered.append(route)
    assert sorted(set(uncovered) - {"api/v2/filters", "api/v1/conversations", "api/v1/follow_requests",
                                    "api/v1/scheduled_statuses", "api/v1/instance/rules", "api/v1/instance/peers",
                                    "api/v1/apps", "api/v1/accounts"}) == []  # fmt: skip


def _same_shape(route: str, path: str) -> bool:
    route_parts, path_parts = route.strip("/").split("/"), path.strip("/").split("/")
    return len(route_parts) == len(path_parts) and all(
        r == p or r.startswith("{") for r, p in zip(route_parts, path_parts, strict=True)
    )
