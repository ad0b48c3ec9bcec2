"""The streaming API across processes: a real uvicorn server running socialnet.asgi, a real
websocket client (the `websockets` package) and a real HTTP client for server-sent events,
a real Celery worker for fan-out, and a private redis-server restarted under open sockets.

The server reads this test's rows and Redis keys (its environment carries the test
database and prefix), so these tests commit (transaction=True).
"""

import http.client
import json
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from graph import services as graph_services
from notifications.api import consumers, streaming
from notifications.models import Notification
from posts import services as post_services
from posts.models import Post
from socialnet.celery import app as celery_app
from tests.factories import make_post
from tests.processes import (
    asgi_server,
    celery_worker,
    private_redis,
    redis_server_binary,
    streaming_health,
    wait_until,
)
from tests.test_streaming import (
    ORIGIN,
    active_user,
    entity_id,
    layer_settings,
    notification_view,
    projection,
    session_cookie,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def channel_layer(settings, redis_namespace):
    settings.CHANNEL_LAYERS = layer_settings(settings.REDIS_URL, redis_namespace)


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def server(redis_namespace, celery_namespace):
    with asgi_server(redis_namespace, celery_namespace) as base:
        yield base


def websocket(base: str, user=None, *, query="stream=user", cookie=None, origin=ORIGIN):
    cookie = cookie or (session_cookie(user) if user is not None else None)
    headers = {"Cookie": cookie} if cookie else {}
    url = base.replace("http://", "ws://") + "/api/v1/streaming" + (f"?{query}" if query else "")
    return connect(url, origin=origin, additional_headers=headers, open_timeout=10, max_size=2**22)


def events(ws, count: int, timeout: float = 10) -> list[dict]:
    return [json.loads(ws.recv(timeout=timeout)) for _ in range(count)]


def assert_quiet(ws, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


def close_frame(ws, timeout: float = 5) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=timeout)
    return closed.value.rcvd.code, closed.value.rcvd.reason


# --- websockets through a real server ----------------------------------------------------------


def test_each_notification_type_arrives_once_for_the_right_user_only(server, eager_tasks):
    me, bystander, actor = active_user(), active_user(), active_user()
    mine = make_post(me, "react to this")

    with websocket(server, me) as mine_ws, websocket(server, bystander) as bystander_ws:
        graph_services.follow(actor, me)
        make_post(actor, f"hi @{me.username}")
        make_post(actor, "a reply", reply_to=mine)
        post_services.repost(actor, mine)
        post_services.like(actor, mine)
        received = events(mine_ws, 5)
        assert_quiet(mine_ws)
        assert_quiet(bystander_ws, 0.1)

    stored = list(Notification.objects.filter(recipient=me).order_by("id"))
    payloads = [json.loads(envelope["payload"]) for envelope in received]
    assert [(e["stream"], e["event"]) for e in received] == [(["user"], "notification")] * 5
    assert [p["type"] for p in payloads] == ["follow", "mention", "mention", "reblog", "favourite"]
    assert [projection(p) for p in payloads] == [projection(notification_view(n)) for n in stored]


def test_an_unauthenticated_socket_is_closed_and_gets_nothing(server):
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")

    with websocket(server) as anonymous, websocket(server, query="stream=user&access_token=secret") as with_token:
        post_services.like(fan, mine)
        assert close_frame(anonymous) == (streaming.UNAUTHORIZED, anonymous_reason())
        code, reason = close_frame(with_token)

    assert (code, reason) == (streaming.UNAUTHORIZED, "invalid or expired access token")


def anonymous_reason() -> str:
    return "authentication required: log in (session cookie) or send an access token"


def test_a_blocked_users_like_produces_nothing(server):
    me, blocked = active_user(), active_user()
    mine = make_post(me, "post")
    graph_services.block(me, blocked)

    with websocket(server, me) as ws:
        with pytest.raises(ValidationError):
            post_services.like(blocked, mine)
        assert_quiet(ws, 1.0)

    assert not Notification.objects.filter(recipient=me).exists()


def test_resume_through_the_server_replays_the_missed_events_in_order(server, eager_tasks):
    me, author, fan = active_user(), active_user(), active_user()
    graph_services.follow(me, author)
    mine = make_post(me, "mine")
    cookie = session_cookie(me)

    with websocket(server, cookie=cookie) as ws:
        post_services.like(fan, mine)
        (last_seen,) = events(ws, 1)
    missed_post = make_post(author, "while away")
    post_services.repost(fan, mine)
    with websocket(server, cookie=cookie, query=f"stream=user&last_event_id={entity_id(last_seen)}") as ws:
        replayed = events(ws, 2)
        graph_services.follow(fan, me)
        live = events(ws, 1)
        assert_quiet(ws)

    reblog, follow = Notification.objects.filter(recipient=me, type__in=["reblog", "follow"]).order_by("id")
    assert [(e["event"], entity_id(e)) for e in replayed] == [("update", missed_post.pk), ("notification", reblog.pk)]
    assert [(e["event"], entity_id(e)) for e in live] == [("notification", follow.pk)]


def test_a_new_post_reaches_online_followers_through_a_real_worker(server, redis_namespace, celery_namespace):
    author, online, offline = active_user(), active_user(), active_user()
    graph_services.follow(online, author)
    graph_services.follow(offline, author)

    with celery_worker(redis_namespace, celery_namespace), websocket(server, online) as ws:
        post = make_post(author, "through the broker")
        received = events(ws, 1, timeout=20)
        wait_until(lambda: Post.objects.get(pk=post.pk).fanned_out_at)
        assert_quiet(ws)

    assert [(e["event"], entity_id(e)) for e in received] == [("update", post.pk)]
    assert json.loads(received[0]["payload"])["account"]["id"] == str(author.pk)


def test_bad_frames_floods_and_huge_messages_never_take_the_server_down(server):
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")

    with websocket(server, me, query="") as ws:
        for frame in ["{", "null", '{"type": "subscribe", "stream": 7}', '{"type":"subscribe","stream":"public"}']:
            ws.send(frame)
        ws.send(b"\xff" * 10)
        assert json.loads(ws.recv(timeout=5)) == {"error": "Unknown stream type", "status": 400}
        ws.send('{"type": "subscribe", "stream": "user"}')
        time.sleep(0.3)
        post_services.like(fan, mine)
        assert [e["event"] for e in events(ws, 1)] == ["notification"]
    with websocket(server, me) as huge:
        huge.send("x" * 1_000_000)
        assert close_frame(huge)[0] == streaming.MESSAGE_TOO_BIG
    with websocket(server, me) as flooding:
        try:
            for _ in range(consumers.FRAME_BURST * 10):
                flooding.send('{"type": "subscribe", "stream": "user"}')
        except ConnectionClosed:
            pass  # closed under our feet, as it should be
        assert close_frame(flooding) == (streaming.POLICY_VIOLATION, "too many messages")

    assert streaming_health(server) == "OK"
    with websocket(server, me) as still_served:
        post_services.repost(fan, mine)
        assert [json.loads(e["payload"])["type"] for e in events(still_served, 1)] == ["reblog"]


# --- the channel layer's Redis restarted under open sockets ---------------------------------------


def test_after_a_redis_restart_open_sockets_rejoin_and_events_flow_again(settings, redis_namespace, celery_namespace):
    me, fan = active_user(), active_user()
    posts = [make_post(me, f"post {i}") for i in range(2)]
    with private_redis() as (url, first_server):
        settings.CHANNEL_LAYERS = layer_settings(url, redis_namespace)
        with asgi_server(redis_namespace, celery_namespace, CHANNEL_LAYER_URL=url) as base, websocket(base, me) as ws:
            post_services.like(fan, posts[0])
            before = events(ws, 1)

            first_server.terminate()
            first_server.wait(timeout=10)
            with restarted_redis(url) as layer_redis:
                group = f"{redis_namespace}ws:group:user.{me.pk}"  # channels-redis keys
                wait_until(lambda: layer_redis.exists(group), timeout=20)  # the server re-joined
                post_services.like(fan, posts[1])
                after = events(ws, 1)

    first, second = Notification.objects.filter(recipient=me).order_by("id")
    assert [(e["event"], entity_id(e)) for e in before + after] == [
        ("notification", first.pk),
        ("notification", second.pk),
    ]


@contextmanager
def restarted_redis(url: str):
    """A fresh, empty redis-server on the same port (what a restart without persistence leaves)."""
    port = urlparse(url).port
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis.from_url(url)
    try:
        wait_until(lambda: _pings(client), timeout=10)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


# --- server-sent events -------------------------------------------------------------------------


@dataclass
class ServerSentEvents:
    """A minimal EventSource: reads `event:`/`id:`/`data:` blocks off a streaming response."""

    response: http.client.HTTPResponse
    connection: http.client.HTTPConnection
    comments: list[str] = field(default_factory=list)

    def next(self, timeout: float = 10) -> dict:
        self.connection.sock.settimeout(timeout)
        event: dict = {}
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line == "":
                if event:
                    return event
                continue
            if line.startswith(":"):
                self.comments.append(line[1:])
                continue
            name, _, value = line.partition(": ")
            event[name] = value

    def wait_for_comment(self, text: str, timeout: float = 10) -> None:
        self.connection.sock.settimeout(timeout)
        while text not in self.comments:
            line = self.response.readline().decode().rstrip("\n")
            if line.startswith(":"):
                self.comments.append(line[1:])

    def assert_quiet(self, seconds: float = 0.5) -> None:
        self.connection.sock.settimeout(seconds)
        with pytest.raises(TimeoutError):
            self.next(seconds)


@contextmanager
def sse(base: str, cookie: str | None, path="/api/v1/streaming/user", last_event_id: int | None = None, bearer=None):
    host = urlparse(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    try:
        yield response, ServerSentEvents(response, connection)
    finally:
        connection.close()


def test_server_sent_events_stream_the_same_events_and_honour_last_event_id(server, eager_tasks, redis_namespace):
    me, author, fan = active_user(), active_user(), active_user()
    graph_services.follow(me, author)
    mine = make_post(me, "mine")
    cookie = session_cookie(me)

    with sse(server, cookie) as (response, stream):
        assert (response.status, response.getheader("Content-Type")) == (200, "text/event-stream")
        stream.wait_for_comment(")")  # subscribed
        post_services.like(fan, mine)
        first = stream.next()
    missed = make_post(author, "while away")
    post_services.repost(fan, mine)
    gone = make_post(author, "deleted while away")
    post_services.delete_post(author, gone)  # deletes are not replayed
    with sse(server, cookie, last_event_id=int(first["id"])) as (_, stream):
        replayed = [stream.next(), stream.next()]
        stream.wait_for_comment(")")
        post_services.delete_post(author, missed)
        live_delete = stream.next()
        stream.assert_quiet()
    # The client went away: the server's session ended and left the group.
    layer_redis = redis.Redis.from_url(settings.REDIS_URL)
    wait_until(lambda: layer_redis.zcard(f"{redis_namespace}ws:group:user.{me.pk}") == 0, timeout=10)

    like, reblog = Notification.objects.filter(recipient=me).order_by("id")
    assert (first["event"], first["id"]) == ("notification", str(like.pk))
    assert projection(json.loads(first["data"])) == projection(notification_view(like))
    assert [(e["event"], e["id"]) for e in replayed] == [("update", str(missed.pk)), ("notification", str(reblog.pk))]
    assert json.loads(replayed[0]["data"])["id"] == str(missed.pk)
    assert live_delete == {"event": "delete", "data": str(missed.pk)}  # no id: a delete is not a resume point


def test_apps_stream_with_their_access_token_over_websocket_and_server_sent_events(server):
    me, fan = active_user(), active_user()
    mine = make_post(me, "post")
    token = token_for(me, "read")

    with (
        websocket(server, query=f"stream=user&access_token={token}", origin=None) as by_query,
        connect(
            server.replace("http://", "ws://") + "/api/v1/streaming?stream=user", subprotocols=[token], open_timeout=10
        ) as by_subprotocol,
        sse(server, None, bearer=token) as (response, stream),
    ):
        stream.wait_for_comment(")")
        post_services.like(fan, mine)
        received = [*events(by_query, 1), *events(by_subprotocol, 1)]
        pushed = stream.next()

    like = Notification.objects.get(recipient=me)
    assert by_subprotocol.subprotocol == token
    assert [(e["event"], entity_id(e)) for e in received] == [("notification", like.pk)] * 2
    assert (response.status, pushed["event"], pushed["id"]) == (200, "notification", str(like.pk))


def test_server_sent_events_refuse_anonymous_clients_and_answerstreaming_health(server):
    with sse(server, None) as (response, _):
        status, body = response.status, json.loads(response.read())

    assert (status, body) == (401, {"error": anonymous_reason()})
    assert streaming_health(server) == "OK"
