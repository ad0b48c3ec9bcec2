"""The streaming API in process: Channels' WebsocketCommunicator against the real ASGI
application (session auth, routing, consumer), a real channel layer on Redis (this test's
own prefix) and real PostgreSQL. Fan-out runs eagerly in this process.

Consumers reach the database from other threads, so these tests commit (transaction=True).
Each scenario is one coroutine (`run`), because a communicator lives in one event loop.
"""

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import sys
import time
import types
from datetime import timedelta
from pathlib import Path

import channels
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.api.tokens import issue_user_token
from accounts.models import User
from graph import services as graph_services
from notifications import presence, realtime
from notifications.api import consumers, streaming
from notifications.api.serializers import NotificationSerializer, with_viewer_statuses
from notifications.models import Notification
from notifications.selectors import notification_page
from posts import services as post_services
from posts.models import Post
from socialnet.asgi import application
from socialnet.celery import app as celery_app
from tests.api_clients import make_app
from tests.factories import UserFactory, make_post
from timeline import services as timeline_services
from timeline.selectors import home_timeline

pytestmark = pytest.mark.django_db(transaction=True)


def _channels_testing():
    """channels.testing's __init__ imports daphne (for its live-server test case) and fails
    without it; its WebsocketCommunicator needs nothing of daphne. Until daphne is in
    requirements-dev.txt, load the package's modules without running that __init__."""
    if importlib.util.find_spec("daphne") is None and "channels.testing" not in sys.modules:
        package = types.ModuleType("channels.testing")
        package.__path__ = [str(Path(channels.__file__).parent / "testing")]
        sys.modules["channels.testing"] = package
    return importlib.import_module("channels.testing.websocket").WebsocketCommunicator


WebsocketCommunicator = _channels_testing()

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def channel_layer(settings, redis_namespace):
    """The test's own channel layer keys, on the test Redis (as the servers' settings derive them)."""
    settings.CHANNEL_LAYERS = layer_settings(settings.REDIS_URL, redis_namespace)


def layer_settings(url: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": prefix + "ws"},
        }
    }


@pytest.fixture(autouse=True)
def render_threads():
    """The render threads keep database connections; end them with the test."""
    yield
    streaming.stop_render_threads()


@pytest.fixture(autouse=True)
def eager_tasks():
    """Fan-out and retraction run inline after commit, so their events come from this process."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


# --- builders and helpers (also used by test_streaming_server.py) ---------------------------


def active_user(**fields) -> User:
    """A user seen just now (fan-out reaches them) whose home timeline exists in Redis."""
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
    timeline_services.rebuild_home(user.pk)
    return User.objects.get(pk=user.pk)


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def notification_view(notification: Notification) -> dict:
    """The Notification entity as the API renders it for its recipient."""
    (notification,) = with_viewer_statuses(notification.recipient, [notification])
    return json.loads(json.dumps(NotificationSerializer(notification).data))


def projection(entity: dict) -> tuple:
    """What must agree between a pushed notification and a fresh fetch (counters move on)."""
    status = entity["status"]
    return entity["id"], entity["type"], entity["account"]["id"], status["id"] if status else None


def fresh_state(user: User) -> tuple[list[tuple], list[int]]:
    notifications = [projection(notification_view(n)) for n in notification_page(user, limit=40)]
    return notifications, [post.pk for post in home_timeline(user, limit=40)]


def apply_events(state: tuple[list[tuple], list[int]], events: list[dict]) -> tuple[list[tuple], list[int]]:
    """Zulip's events test: what a client holds after applying the pushed events, in order."""
    notifications, home = list(state[0]), list(state[1])
    for envelope in events:
        if envelope["event"] == "notification":
            notifications.insert(0, projection(json.loads(envelope["payload"])))
        elif envelope["event"] == "update":
            home.insert(0, int(json.loads(envelope["payload"])["id"]))
        elif envelope["event"] == "delete":
            home.remove(int(envelope["payload"]))
    # Mastodon clients keep both lists by id, newest first.
    return sorted(notifications, key=lambda n: -int(n[0])), sorted(home, reverse=True)


def entity_id(envelope: dict) -> int:
    payload = envelope["payload"]
    return int(payload) if envelope["event"] == "delete" else int(json.loads(payload)["id"])


def run(scenario) -> None:
    async_to_sync(scenario)()


def act(function, *args, **kwargs):
    """A synchronous service call from a scenario (it publishes back into this event loop)."""
    return sync_to_async(function)(*args, **kwargs)


class Socket:
    """A client of /api/v1/streaming through the full ASGI stack (cookie, Origin, routing)."""

    def __init__(
        self, user=None, *, query="stream=user", origin=ORIGIN, path="/api/v1/streaming", cookie=None, subprotocols=()
    ):
        headers = [(b"origin", origin.encode())] if origin else []
        cookie = cookie if cookie is not None else (session_cookie(user) if user is not None else None)
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.target = f"{path}?{query}" if query else path
        self.headers = headers
        self.subprotocols = list(subprotocols)

    async def __aenter__(self):
        self.communicator = WebsocketCommunicator(application, self.target, self.headers, self.subprotocols)
        connected, self.subprotocol = await self.communicator.connect(timeout=10)
        assert connected
        return self

    async def __aexit__(self, *exc):
        await self.communicator.disconnect(timeout=5)

    async def events(self, count: int, timeout: float = 10) -> list[dict]:
        return [await self.communicator.receive_json_from(timeout) for _ in range(count)]

    async def assert_quiet(self, seconds: float = 0.5) -> None:
        assert await self.communicator.receive_nothing(timeout=seconds)

    async def close_frame(self, timeout: float = 5) -> tuple[int, str]:
        message = await self.communicator.receive_output(timeout)
        assert message["type"] == "websocket.close", message
        return message.get("code"), message.get("reason", "")

    async def send(self, text: str | None = None, binary: bytes | None = None) -> None:
        await self.communicator.send_to(text_data=text, bytes_data=binary)


@contextlib.asynccontextmanager
async def open_sockets(*sockets: Socket):
    """Several sockets at once, all closed at the end."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(socket) for socket in sockets]


# --- each notification type, to the right user only -------------------------------------------


def test_each_notification_type_arrives_once_and_only_to_its_recipient():
    me, bystander, actor = active_user(), active_user(), active_user()
    mine = make_post(me, "something to react to")
    sockets = Socket(me), Socket(bystander)
    received = []

    async def scenario():
        async with open_sockets(*sockets) as (mine_ws, bystander_ws):
            await act(graph_services.follow, actor, me)
            await act(make_post, actor, f"hello @{me.username}")
            await act(make_post, actor, "a reply", reply_to=mine)
            await act(post_services.repost, actor, mine)
            await act(post_services.like, actor, mine)
            received.extend(await mine_ws.events(5))
            await mine_ws.assert_quiet()
            await bystander_ws.assert_quiet(0.1)

    run(scenario)

    stored = list(Notification.objects.filter(recipient=me).order_by("id"))
    assert [n.type for n in stored] == ["follow", "mention", "reply", "reblog", "favourite"]
    assert [e["event"] for e in received] == ["notification"] * 5
    assert [e["stream"] for e in received] == [["user"]] * 5
    payloads = [json.loads(e["payload"]) for e in received]
    assert [p["id"] for p in payloads] == [str(n.pk) for n in stored]
    assert [p["type"] for p in payloads] == ["follow", "mention", "mention", "reblog", "favourite"]
    assert {p["account"]["id"] for p in payloads} == {str(actor.pk)}
    assert [projection(p) for p in payloads] == [projection(notification_view(n)) for n in stored]
    assert payloads[-1] == notification_view(stored[-1])  # the whole entity, as the API renders it


def test_a_notification_only_socket_gets_notifications_not_updates():
    me, author = active_user(), active_user()
    graph_services.follow(me, author)
    socket = Socket(me, query="stream=user:notification")
    received = []

    async def scenario():
        async with socket as ws:
            await act(make_post, author, "an update for the user stream only")
            await act(make_post, author, f"and a mention of @{me.username}")
            received.extend(await ws.events(1))
            await ws.assert_quiet()

    run(scenario)

    (event,) = received
    mention = Notification.objects.get(recipient=me)
    assert (event["stream"], event["event"], json.loads(event["payload"])["id"]) == (
        ["user:notification"],
        "notification",
        str(mention.pk),
    )


# --- refused clients ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected_code", "reason_part"),
    [
        ("no credentials", streaming.UNAUTHORIZED, "authentication required"),
        ("unknown session", streaming.UNAUTHORIZED, "authentication required"),
        ("unknown access token", streaming.UNAUTHORIZED, "invalid or expired access token"),
        ("unknown token as subprotocol", streaming.UNAUTHORIZED, "invalid or expired access token"),
        ("expired token", streaming.UNAUTHORIZED, "invalid or expired access token"),
        ("an app's own token", streaming.UNAUTHORIZED, "invalid or expired access token"),
        ("token of a suspended account", streaming.UNAUTHORIZED, "invalid or expired access token"),
        ("token without the scope", streaming.FORBIDDEN, "lacks the scope read:statuses"),
        ("cookie from another origin", streaming.FORBIDDEN, "origin"),
        ("cookie without an origin", streaming.FORBIDDEN, "origin"),
        ("suspended account", streaming.UNAUTHORIZED, "authentication required"),  # the session no longer logs in
        ("unknown stream", streaming.BAD_REQUEST, "unknown stream"),
        ("malformed last_event_id", streaming.BAD_REQUEST, "last_event_id"),
        ("last_event_id beyond any id", streaming.BAD_REQUEST, "last_event_id"),
        ("unknown path", streaming.NOT_FOUND, "no such streaming endpoint"),
    ],
)
def test_refused_sockets_are_closed_with_a_code_and_sent_nothing(case, expected_code, reason_part):
    me, actor = active_user(), active_user()
    mine = make_post(me, "likeable")
    cookie = session_cookie(me)
    socket = {
        "no credentials": lambda: Socket(),
        "unknown session": lambda: Socket(cookie=f"{settings.SESSION_COOKIE_NAME}=not-a-session"),
        "unknown access token": lambda: Socket(query="stream=user&access_token=abc"),
        "unknown token as subprotocol": lambda: Socket(subprotocols=["abc"]),
        "expired token": lambda: Socket(query=f"stream=user&access_token={_expired(token_for(me))}"),
        "an app's own token": lambda: Socket(query=f"stream=user&access_token={token_for(None)}"),
        "token of a suspended account": lambda: Socket(
            query=f"stream=user&access_token={token_for(_suspended(active_user()))}"
        ),
        "token without the scope": lambda: Socket(query=f"stream=user&access_token={token_for(me, 'write')}"),
        "cookie from another origin": lambda: Socket(cookie=cookie, origin="https://evil.example"),
        "cookie without an origin": lambda: Socket(cookie=cookie, origin=None),
        "suspended account": lambda: Socket(cookie=session_cookie(_suspended(active_user()))),
        "unknown stream": lambda: Socket(cookie=cookie, query="stream=public:everything"),
        "malformed last_event_id": lambda: Socket(cookie=cookie, query="stream=user&last_event_id=yesterday"),
        "last_event_id beyond any id": lambda: Socket(cookie=cookie, query=f"stream=user&last_event_id={2**64}"),
        "unknown path": lambda: Socket(cookie=cookie, path="/ws/other"),
    }[case]()
    outcome = {}

    async def scenario():
        async with socket as ws:
            outcome["close"] = await ws.close_frame()
            await act(post_services.like, actor, mine)  # an event for `me`, were they subscribed
            await ws.assert_quiet(0.3)

    run(scenario)

    code, reason = outcome["close"]
    assert code == expected_code
    assert reason_part in reason
    assert Notification.objects.filter(recipient=me, type="favourite").count() == 1  # it happened; nothing was sent


def token_for(user: User | None, scope: str = "read") -> str:
    return issue_user_token(make_app(), user, scope).access_token


def _expired(token: str) -> str:
    AccessToken = get_access_token_model()
    AccessToken.objects.filter(token_checksum=hashlib.sha256(token.encode()).hexdigest()).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    return token


def _suspended(user: User) -> User:
    User.objects.filter(pk=user.pk).update(is_suspended=True)
    return user


# --- apps: access tokens ----------------------------------------------------------------------


def test_an_apps_access_token_streams_without_cookie_or_origin_in_either_form():
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")
    token = token_for(me, "read write")
    sockets = (
        Socket(query=f"stream=user&access_token={token}", origin=None),
        Socket(query="stream=user", origin=None, subprotocols=[token]),  # Sec-WebSocket-Protocol
    )
    seen = {}

    async def scenario():
        async with open_sockets(*sockets) as (by_query, by_subprotocol):
            seen["subprotocols"] = by_query.subprotocol, by_subprotocol.subprotocol
            await act(post_services.like, fan, mine)
            seen["events"] = [*(await by_query.events(1)), *(await by_subprotocol.events(1))]

    run(scenario)

    like = Notification.objects.get(recipient=me)
    assert seen["subprotocols"] == (None, token)  # the protocol form is echoed, as Mastodon does
    assert [(e["event"], entity_id(e)) for e in seen["events"]] == [("notification", like.pk)] * 2


def test_a_notifications_only_token_gets_the_notification_stream_and_not_the_user_stream():
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")
    token = token_for(me, "read:notifications")
    socket = Socket(query=f"access_token={token}", origin=None)
    seen = {}

    async def scenario():
        async with socket as ws:
            await ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
            seen["error"] = await ws.events(1)
            await ws.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
            await asyncio.sleep(0.2)
            await act(post_services.like, fan, mine)
            seen["events"] = await ws.events(1)

    run(scenario)

    assert seen["error"] == [{"error": "Access token does not have the required scopes", "status": 401}]
    assert [(e["stream"], e["event"]) for e in seen["events"]] == [(["user:notification"], "notification")]


# --- blocks and mutes --------------------------------------------------------------------------


def test_a_blocked_users_like_produces_nothing():
    me, blocked, muted = active_user(), active_user(), active_user()
    mine = make_post(me, "not for them")
    graph_services.block(me, blocked)
    graph_services.mute(me, muted, hide_notifications=True)
    refused, socket = [], Socket(me)

    async def scenario():
        async with socket as ws:
            try:
                await act(post_services.like, blocked, mine)
            except (PermissionDenied, ValidationError) as error:  # the service refuses it
                refused.append(type(error).__name__)
            await act(post_services.like, muted, mine)
            await ws.assert_quiet(0.8)

    run(scenario)

    assert refused == ["ValidationError"]  # "no longer available": a block hides the post
    assert not Notification.objects.filter(recipient=me).exists()
    assert Post.objects.get(pk=mine.pk).likes_count == 1  # the muted account's like counted, silently


# --- updates and deletes: online followers only ---------------------------------------------------


def test_a_post_is_pushed_once_to_online_followers_and_rendered_once_per_process():
    author, first, second, offline = active_user(), active_user(), active_user(), active_user()
    for follower in (first, second, offline):
        graph_services.follow(follower, author)
    sockets = Socket(first), Socket(second)
    seen = {}

    async def scenario():
        layer = get_channel_layer()
        # The offline follower has a group member but no presence: fan-out must not publish to them.
        spy = await layer.new_channel()
        await layer.group_add(realtime.user_group(offline.pk), spy)
        async with open_sockets(*sockets) as (first_ws, second_ws):
            renders_before = streaming.hub().renders.renders
            post = await act(make_post, author, "fresh")
            seen["events"] = [*(await first_ws.events(1)), *(await second_ws.events(1))]
            seen["renders"] = streaming.hub().renders.renders - renders_before
            seen["post"] = post.pk
            await first_ws.assert_quiet(0.3)
            await second_ws.assert_quiet(0.1)
        try:
            seen["offline"] = await asyncio.wait_for(layer.receive(spy), 0.3)
        except TimeoutError:
            seen["offline"] = None

    run(scenario)

    assert [(e["event"], entity_id(e)) for e in seen["events"]] == [("update", seen["post"])] * 2
    assert seen["events"][0]["payload"] == seen["events"][1]["payload"]
    assert json.loads(seen["events"][0]["payload"])["content"] == "<p>fresh</p>"
    assert seen["renders"] == 1
    assert seen["offline"] is None
    assert presence.online_among([first.pk, second.pk, offline.pk]) == [first.pk, second.pk]


def test_a_vip_post_reaches_online_followers_without_fan_out():
    vip, follower = active_user(), active_user()
    graph_services.follow(follower, vip)
    User.objects.filter(pk=vip.pk).update(is_vip=True)
    vip.refresh_from_db()
    seen, socket = {}, Socket(follower)

    async def scenario():
        async with socket as ws:
            post = await act(make_post, vip, "from on high")
            seen["events"], seen["post"] = await ws.events(1), post.pk
            await ws.assert_quiet()

    run(scenario)

    assert [(e["event"], entity_id(e)) for e in seen["events"]] == [("update", seen["post"])]
    assert [p.pk for p in home_timeline(follower)] == [seen["post"]]


def test_deleting_a_post_pushes_delete_to_online_followers_and_the_author():
    author, follower = active_user(), active_user()
    graph_services.follow(follower, author)
    post = make_post(author, "soon gone")
    seen, sockets = {}, (Socket(follower), Socket(author))

    async def scenario():
        async with open_sockets(*sockets) as (follower_ws, author_ws):
            await act(post_services.delete_post, author, post)
            seen["follower"], seen["author"] = await follower_ws.events(1), await author_ws.events(1)
            await follower_ws.assert_quiet(0.3)

    run(scenario)

    expected = [{"stream": ["user"], "event": "delete", "payload": str(post.pk)}]
    assert seen["follower"] == seen["author"] == expected


# --- Zulip's events test: state before + events pushed == fresh fetch ---------------------------


def test_state_before_plus_pushed_events_equals_a_fresh_fetch():
    me, alice, bob, carol = active_user(), active_user(), active_user(), active_user()
    graph_services.follow(me, alice)
    graph_services.follow(me, bob)
    mine = make_post(me, "my post")
    doomed = make_post(alice, "alice's post that she deletes")
    make_post(bob, "bob's older post")
    before = fresh_state(me)
    received, socket = [], Socket(me)

    async def scenario():
        async with socket as ws:
            await act(make_post, alice, "alice posts")
            await act(make_post, bob, f"bob mentions @{me.username}")
            await act(post_services.like, bob, mine)
            bobs = await act(make_post, bob, "bob posts again")
            await act(post_services.repost, alice, bobs)  # bob's post is already in my timeline
            await act(post_services.repost, alice, mine)
            carols = await act(make_post, carol, "carol's post, new to me")
            await act(post_services.repost, alice, carols)  # a repost I have not seen: an update
            await act(graph_services.follow, carol, me)
            await act(post_services.delete_post, alice, doomed)
            await act(make_post, carol, "carol replies", reply_to=mine)  # not followed: no update
            await act(make_post, me, "i post too")
            received.extend(await ws.events(11))
            await ws.assert_quiet()

    run(scenario)

    events = [e["event"] for e in received]
    assert (events.count("notification"), events.count("update"), events.count("delete")) == (5, 5, 1)
    after = fresh_state(me)
    assert (len(after[0]), len(after[1])) == (5, 7)
    assert apply_events(before, received) == after


# --- resume ---------------------------------------------------------------------------------------


def test_resume_replays_exactly_what_was_missed_in_order_then_goes_live():
    me, author, fan = active_user(), active_user(), active_user()
    graph_services.follow(me, author)
    mine = make_post(me, "mine")
    make_post(author, "seen long ago")  # before the resume point: never replayed
    cookie = session_cookie(me)
    seen = {}

    async def scenario():
        async with Socket(cookie=cookie) as ws:
            await act(post_services.like, fan, mine)
            (last_seen,) = await ws.events(1)
        # Offline: everything here must be replayed, in id order; the delete is not.
        missed = [
            await act(make_post, author, "missed 1"),
            await act(post_services.repost, fan, mine),  # a reblog notification
            await act(make_post, author, f"missed 2 mentions @{me.username}"),  # update and mention
        ]
        gone = await act(make_post, author, "posted and deleted while away")
        await act(post_services.delete_post, author, gone)
        await act(graph_services.follow, fan, me)
        seen["missed"] = missed
        async with Socket(cookie=cookie, query=f"stream=user&last_event_id={entity_id(last_seen)}") as ws:
            seen["replayed"] = await ws.events(5)
            live = await act(make_post, author, "live again")
            seen["live"], seen["live_id"] = await ws.events(1), live.pk
            await ws.assert_quiet()

    run(scenario)

    stored = list(Notification.objects.filter(recipient=me).order_by("id"))
    new_posts, _, mentioning = seen["missed"]  # the repost is fan's: not in my timeline
    expected = sorted(
        [("update", new_posts.pk), ("update", mentioning.pk)]
        + [("notification", n.pk) for n in stored[1:]]  # stored[0] is the like the client saw
    )
    replayed = [(e["event"], entity_id(e)) for e in seen["replayed"]]
    assert replayed == sorted(replayed, key=lambda item: item[1])
    assert sorted(replayed) == expected
    assert [(e["event"], entity_id(e)) for e in seen["live"]] == [("update", seen["live_id"])]


def test_live_events_during_a_replay_are_held_and_each_is_sent_once(monkeypatch):
    me, fan, other_fan = active_user(), active_user(), active_user()
    posts = [make_post(me, f"post {i}") for i in range(3)]
    post_services.like(fan, posts[0])
    last_seen = Notification.objects.get(recipient=me).pk
    cookie = session_cookie(me)
    real_missed_events = streaming.missed_events

    def missed_events_with_traffic(user, last_event_id, events):
        # Published after the join, before the read: arrives live *and* in the replay.
        post_services.like(fan, posts[1])
        missed = real_missed_events(user, last_event_id, events)
        # Published after the read: only live, and held until the replay is sent.
        post_services.like(other_fan, posts[2])
        time.sleep(0.2)
        return missed

    monkeypatch.setattr(streaming, "missed_events", missed_events_with_traffic)
    seen = {}

    async def scenario():
        async with Socket(cookie=cookie, query=f"stream=user&last_event_id={last_seen}") as ws:
            seen["events"] = await ws.events(2)
            await ws.assert_quiet()

    run(scenario)

    during, after = Notification.objects.filter(recipient=me, pk__gt=last_seen).order_by("id")
    assert [(e["event"], entity_id(e)) for e in seen["events"]] == [
        ("notification", during.pk),
        ("notification", after.pk),
    ]


def test_resume_goes_back_at_most_24_hours(monkeypatch):
    me, fan = active_user(), active_user()
    mine = make_post(me, "old news")
    post_services.like(fan, mine)
    monkeypatch.setattr(streaming, "REPLAY_HORIZON", streaming.REPLAY_HORIZON * 0)  # "a day ago" is now
    seen, socket = {}, Socket(me, query="stream=user&last_event_id=1")

    async def scenario():
        async with socket as ws:
            await ws.assert_quiet(0.5)
            await act(post_services.repost, fan, mine)
            seen["events"] = await ws.events(1)

    run(scenario)

    assert [e["event"] for e in seen["events"]] == ["notification"]
    assert json.loads(seen["events"][0]["payload"])["type"] == "reblog"


# --- bad input -----------------------------------------------------------------------------------


def test_malformed_frames_are_ignored_and_subscribe_frames_work():
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")
    seen, socket = {}, Socket(me, query="")

    async def scenario():
        async with socket as ws:  # multiplexed: nothing until a subscribe frame
            await act(post_services.like, fan, mine)
            for frame in ["not json", "[]", "42", '{"type": "subscribe"}', '{"type": "dance", "stream": "user"}']:
                await ws.send(frame)
            await ws.send(binary=b"\x00\x01")
            await ws.assert_quiet(0.3)
            await ws.send(json.dumps({"type": "subscribe", "stream": "public:remote"}))
            seen["error"] = await ws.events(1)
            await ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
            await ws.send(json.dumps({"type": "subscribe", "stream": "user"}))  # twice: still once
            await asyncio.sleep(0.2)
            await act(post_services.repost, fan, mine)
            seen["events"] = await ws.events(1)
            await ws.send(json.dumps({"type": "unsubscribe", "stream": "user"}))
            await asyncio.sleep(0.2)
            await act(graph_services.follow, fan, me)
            await ws.assert_quiet(0.5)

    run(scenario)

    assert seen["error"] == [{"error": "Unknown stream type", "status": 400}]
    assert [json.loads(e["payload"])["type"] for e in seen["events"]] == ["reblog"]


def test_a_huge_message_closes_the_socket_with_1009():
    seen, socket = {}, Socket(active_user())

    async def scenario():
        async with socket as ws:
            await ws.send("x" * (consumers.MAX_CLIENT_MESSAGE + 1))
            seen["close"] = await ws.close_frame()

    run(scenario)

    assert seen["close"][0] == streaming.MESSAGE_TOO_BIG


def test_a_flood_of_frames_closes_the_socket_with_1008():
    seen, socket = {}, Socket(active_user())

    async def scenario():
        async with socket as ws:
            for _ in range(consumers.FRAME_BURST + 5):
                await ws.send('{"type": "subscribe", "stream": "user"}')
            seen["close"] = await ws.close_frame()

    run(scenario)

    assert seen["close"] == (streaming.POLICY_VIOLATION, "too many messages")


# --- presence ------------------------------------------------------------------------------------


def test_presence_expires_without_heartbeats_and_leaving_keeps_other_sockets_online():
    now = 1_000_000.0
    presence.mark_online([1, 257, 2], now=now)  # 1 and 257 share a bucket

    assert presence.online_among([2, 1, 3, 257], now=now + 1) == [2, 1, 257]
    assert presence.online_among([1, 2], now=now + presence.ONLINE_SECONDS + 1) == []

    presence.mark_leaving([1], now=now + 5)
    assert presence.online_among([1], now=now + 5 + presence.HEARTBEAT_SECONDS) == [1]  # another tab's heartbeat is due
    assert presence.online_among([1], now=now + 5 + presence.LEAVE_SECONDS + 1) == []
    presence.mark_online([1], now=now + 30)  # that other tab's heartbeat: online again
    assert presence.online_among([1], now=now + 60) == [1]


def test_presence_keys_are_one_per_bucket_and_expire():
    from socialnet.redis_client import get_redis

    presence.mark_online([5, 261])
    keys = sorted(key.decode() for key in get_redis().scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*online*"))

    assert keys == [presence.online_key(5)]
    assert keys[0].endswith("{tl:5}:online")
    assert 0 < get_redis().ttl(keys[0]) <= presence.ONLINE_SECONDS * 2
