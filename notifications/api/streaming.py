"""The streaming API's machinery, shared by the websocket consumer and the SSE view.

- `authenticate`: who is asking — the session cookie (with an Origin check), or an OAuth
  access token (`token_viewer`, the one function that knows about tokens) and its scopes.
- `StreamSession`: one client's subscription: joins the user's group, marks them online,
  replays what they missed (resume), then forwards live events, each (event, id) once.
- `Hub`: this process's sessions (one per event loop; uvicorn runs one loop per process):
  the shared render cache, presence heartbeats, and re-joining groups after the channel
  layer's Redis lost them (restart, flush).
- `RenderCache`: an entity is rendered once per process for all of its sockets that
  receive the same event: one in-flight render per (event, id), shared, kept a few seconds.

Only ids travel over the channel layer (notifications/realtime.py); entities are rendered
here from PostgreSQL. See docs/streaming.md for the protocol and the resume recipe.
"""

import asyncio
import contextlib
import functools
import logging
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

import redis
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.db import DatabaseError
from django.db import connection as db_connection
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from accounts.oauth import scope_satisfied
from notifications import presence, realtime
from notifications.selectors import notification_page, notifications_of
from posts.api.serializers import StatusSerializer
from posts.selectors import visible_posts
from socialnet.ids import MAX_ID, id_at
from timeline.selectors import home_timeline

from .serializers import NotificationSerializer, with_viewer_statuses

logger = logging.getLogger(__name__)

# Streams a client may subscribe to, and the events each carries (None: all of them).
STREAMS: dict[str, frozenset[str] | None] = {"user": None, "user:notification": frozenset({realtime.NOTIFICATION})}
EVENTS = frozenset({realtime.NOTIFICATION, realtime.UPDATE, realtime.DELETE})

# Close codes (4000-4999 are the application's; 1008/1009 are the protocol's own).
UNAUTHORIZED = 4001  # no or bad credentials
FORBIDDEN = 4003  # cookie from a page of another origin
NOT_FOUND = 4004  # no such streaming endpoint
BAD_REQUEST = 4400  # unknown stream, malformed last_event_id
POLICY_VIOLATION = 1008  # flood
MESSAGE_TOO_BIG = 1009

REPLAY_HORIZON = timedelta(hours=24)
REPLAY_PAGE = 40
RENDER_TTL_SECONDS = 10.0
RENDER_THREADS = 4  # each keeps its own database connection
RENDER_CACHE_MAX = 10_000
SENT_MEMORY = 4096  # (event, id) pairs a session remembers having sent, to send each once
BUFFER_MAX = 10_000  # live events held while a replay runs
LIVENESS_SECONDS = 2.0  # how often a process checks that the layer still has its groups
GROUP_REFRESH_SECONDS = 3600  # re-join every group this often: channels-redis expires them after a day
REJOIN_CONCURRENCY = 64


# --- authentication -----------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str


@dataclass(frozen=True)
class Credentials:
    """What a streaming request presented, whatever its transport."""

    token: str | None  # ?access_token=, Sec-WebSocket-Protocol, Authorization: Bearer
    session_user: object | None  # from the session cookie (AnonymousUser when none)
    origin_allowed: bool  # may a cookie be used from the page that opened it?
    from_subprotocol: bool = False  # the token came as Sec-WebSocket-Protocol (echo it on accept)


# The scope each stream needs from a token, as Mastodon's streaming server asks (a token
# with `read` has them all: accounts.oauth.scope_satisfied).
STREAM_SCOPES = {"user": "read:statuses", "user:notification": "read:notifications"}


@dataclass(frozen=True)
class Viewer:
    """Who a stream is for: a user, and the scopes of their token (None: the browser session)."""

    user: User
    scopes: frozenset[str] | None = None

    def may_read(self, stream: str) -> bool:
        return self.scopes is None or scope_satisfied(set(self.scopes), STREAM_SCOPES[stream])


def scope_refusal(stream: str) -> Refusal:
    return Refusal(FORBIDDEN, f"the access token lacks the scope {STREAM_SCOPES[stream]}")


async def authenticate(credentials: Credentials) -> Viewer | Refusal:
    """Who a streaming request acts for, or a Refusal with the close code and reason."""
    if credentials.token is not None:
        viewer = await database_sync_to_async(token_viewer)(credentials.token)
        return viewer or Refusal(UNAUTHORIZED, "invalid or expired access token")
    user = credentials.session_user
    if user is None or not user.is_authenticated:
        return Refusal(UNAUTHORIZED, "authentication required: log in (session cookie) or send an access token")
    if not credentials.origin_allowed:
        return Refusal(FORBIDDEN, "this origin may not use the session cookie")
    if not user.is_active or user.is_suspended:
        return Refusal(UNAUTHORIZED, "this account may not sign in")
    return Viewer(user)


def token_viewer(token: str) -> Viewer | None:
    """The token's user and scopes if it is valid: stored (hashed), unexpired, of a user —
    not an app's own token — who may still sign in (the project's OAuth2 validator)."""
    request = OAuthRequest("")
    if not oauth2_settings.OAUTH2_VALIDATOR_CLASS().validate_bearer_token(token, [], request):
        return None
    if request.user is None:
        return None
    return Viewer(request.user, frozenset(request.access_token.scope.split()))


def origin_allowed(origin: str | None) -> bool:
    """AllowedHostsOriginValidator's rule (channels.security.websocket): a browser's Origin
    must be one of ALLOWED_HOSTS; no Origin at all is refused for cookie authentication."""
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    parsed = urlparse(origin) if origin else None
    return OriginValidator(None, allowed).valid_origin(parsed)


def parse_last_event_id(raw: str | None) -> int | None:
    """A resume id from the client, or None; ValueError if it is not a plain id."""
    if raw is None or raw.strip() == "":
        return None
    value = int(raw.strip())
    if not 0 <= value <= MAX_ID:
        raise ValueError("not an id")
    return value


# --- what is sent -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event for one client; transports format it (websocket envelope, SSE lines)."""

    event: str
    streams: tuple[str, ...]
    payload: str  # the entity as a JSON string; for `delete`, the id
    resume_id: int | None  # what a client resumes from; None for deletes (never replayed)


@dataclass(frozen=True)
class Rendered:
    payload: str
    owner_id: int | None  # a notification's recipient; None for statuses


_json = JSONRenderer()


def render_notification(notification_id: int) -> Rendered | None:
    """A stored notification as its recipient sees it, or None if they may no longer see it."""
    recipient = User.objects.filter(notifications__pk=notification_id).first()
    notification = notifications_of(recipient).filter(pk=notification_id).first() if recipient else None
    if notification is None:
        return None
    (notification,) = with_viewer_statuses(recipient, [notification])
    return Rendered(_json.render(NotificationSerializer(notification).data).decode(), recipient.pk)


def render_status(post_id: int) -> Rendered | None:
    """A new post as everyone may see it (one rendering for all followers, as Mastodon
    streams it: without per-viewer state). Who may receive it was decided by the publisher."""
    post = visible_posts(None).filter(pk=post_id).first()
    if post is None:
        return None
    return Rendered(_json.render(StatusSerializer(post).data).decode(), None)


RENDERERS: dict[str, Callable[[int], Rendered | None]] = {
    realtime.NOTIFICATION: render_notification,
    realtime.UPDATE: render_status,
}


class RenderCache:
    """(event, id) → rendered entity, for RENDER_TTL_SECONDS; concurrent askers share one render."""

    def __init__(self, ttl: float = RENDER_TTL_SECONDS, capacity: int = RENDER_CACHE_MAX):
        self.ttl, self.capacity = ttl, capacity
        self._entries: OrderedDict[tuple[str, int], tuple[float, asyncio.Task]] = OrderedDict()
        self.renders = 0  # how many renders actually ran (for tests and the benchmark)

    async def get(self, event: str, object_id: int) -> Rendered | None:
        key, now = (event, object_id), time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] < now:
            loop = asyncio.get_running_loop()
            task = asyncio.ensure_future(loop.run_in_executor(_render_threads(), _render, event, object_id))
            self.renders += 1
            self._entries[key] = entry = (now + self.ttl, task)
            self._entries.move_to_end(key)
            self._evict(now)
        task = entry[1]
        try:
            # Shielded: one socket going away must not cancel the render the others await.
            return await asyncio.shield(task)
        except Exception:
            if self._entries.get(key, (0, None))[1] is task:
                del self._entries[key]  # failures are not cached
            logger.warning("could not render %s %s", event, object_id, exc_info=True)
            return None

    def _evict(self, now: float) -> None:
        while self._entries:
            key, (expires, _) = next(iter(self._entries.items()))
            if expires >= now and len(self._entries) <= self.capacity:
                return
            del self._entries[key]


@functools.cache
def _render_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="streaming-render")


def stop_render_threads() -> None:
    """Close the render threads' connections and end the threads (tests drop their database
    afterwards, which open connections would prevent)."""
    executor = _render_threads()
    together = threading.Barrier(RENDER_THREADS)

    def close_connection() -> None:
        together.wait(timeout=10)  # holding every thread, so each one runs exactly one of these
        db_connection.close()

    for done in [executor.submit(close_connection) for _ in range(RENDER_THREADS)]:
        done.result()
    executor.shutdown(wait=True)
    _render_threads.cache_clear()


def _render(event: str, object_id: int) -> Rendered | None:
    """Runs on a render thread. Unlike a request's thread, it lives as long as the process and
    keeps its database connection (CONN_MAX_AGE=0 would reconnect for every event); a
    connection that failed is dropped, and the next render connects afresh."""
    try:
        return RENDERERS[event](object_id)
    except DatabaseError:
        db_connection.close()
        raise


# --- resume -------------------------------------------------------------------------------


def replay_floor(last_event_id: int) -> int:
    """Resume from the client's id, but never from further back than REPLAY_HORIZON."""
    return max(last_event_id, id_at(timezone.now() - REPLAY_HORIZON))


def missed_events(user, last_event_id: int, events: frozenset[str] | None) -> list[tuple[str, int, str]]:
    """What happened after `last_event_id` (within the horizon), oldest first, rendered:
    (event, id, payload) for the user's notifications and home-timeline posts."""
    floor = replay_floor(last_event_id)
    missed: list[tuple[str, int, str]] = []
    if events is None or realtime.NOTIFICATION in events:
        rows = list(_pages(lambda cursor: notification_page(user, min_id=cursor, limit=REPLAY_PAGE), floor))
        for notification in with_viewer_statuses(user, rows):
            payload = _json.render(NotificationSerializer(notification).data).decode()
            missed.append((realtime.NOTIFICATION, notification.pk, payload))
    if events is None or realtime.UPDATE in events:
        for post in _pages(lambda cursor: home_timeline(user, min_id=cursor, limit=REPLAY_PAGE), floor):
            missed.append((realtime.UPDATE, post.pk, _json.render(StatusSerializer(post).data).decode()))
    missed.sort(key=lambda item: item[1])
    return missed


def _pages(fetch_page, floor: int):
    """Everything above `floor`, oldest first, by min_id pages (each page comes newest first)."""
    cursor = floor
    while True:
        page = sorted(fetch_page(cursor), key=lambda row: row.pk)
        page = [row for row in page if row.pk > cursor]
        if not page:
            return
        yield from page
        cursor = page[-1].pk


# --- one client's subscription -------------------------------------------------------------


class StreamSession:
    """One client connection of `user`: subscriptions, replay, live events, each sent once.

    Order of a start with resume: join the group and mark the user online *first*, then
    read what was missed; live events that arrive meanwhile are held and sent after the
    replay, minus those the replay already sent. An event committed before the join is in
    the replay's read; one committed after it is published to the joined group (fan-out
    checks presence after writing the timeline): no gap, no duplicate.
    """

    def __init__(self, user, channel_name: str, deliver: Callable[[Event], Awaitable[None]]):
        self.user = user
        self.channel_name = channel_name
        self._deliver = deliver
        self.streams: set[str] = set()
        self.joined = False
        self.closed = False
        self._sent: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._buffer: list[dict] | None = None  # live events held during a replay
        self._resume_from: int | None = None
        self._replay_task: asyncio.Task | None = None

    @property
    def hub(self) -> "Hub":
        return hub()

    async def subscribe(self, stream: str, last_event_id: int | None = None) -> None:
        """Add a stream; the first one joins the user's group. Replay starts with start_replay()."""
        if stream not in STREAMS:
            raise ValueError(stream)
        if last_event_id is not None and self._resume_from is None and not self.joined:
            self._resume_from = last_event_id
            self._buffer = []
        self.streams.add(stream)
        if not self.joined:
            await self.hub.join(self)
            self.joined = True

    async def unsubscribe(self, stream: str) -> None:
        self.streams.discard(stream)

    def start_replay(self) -> None:
        if self._resume_from is not None and self._replay_task is None:
            self._replay_task = asyncio.ensure_future(self._replay(self._resume_from))

    async def close(self) -> None:
        self.closed = True
        if self._replay_task is not None and not self._replay_task.done():
            self._replay_task.cancel()
        if self.joined:
            self.joined = False
            await self.hub.leave(self)

    async def on_message(self, message: dict) -> None:
        """A message from the channel layer: {"type": "stream.event", "event", "id"}."""
        event, object_id = message.get("event"), message.get("id")
        if event not in EVENTS or not isinstance(object_id, int) or self.closed:
            return
        if self._buffer is not None:
            if len(self._buffer) < BUFFER_MAX:
                self._buffer.append(message)
            return
        await self._send_live(event, object_id)

    def _wanted_by(self, event: str) -> tuple[str, ...]:
        return tuple(sorted(s for s in self.streams if STREAMS[s] is None or event in STREAMS[s]))

    async def _send_live(self, event: str, object_id: int) -> None:
        streams = self._wanted_by(event)
        if not streams or (event, object_id) in self._sent:
            return
        if event == realtime.DELETE:
            await self._send(Event(event, streams, str(object_id), None), (event, object_id))
            return
        rendered = await self.hub.renders.get(event, object_id)
        if rendered is None or (rendered.owner_id is not None and rendered.owner_id != self.user.pk):
            return
        if (event, object_id) not in self._sent:  # another delivery may have raced us while rendering
            await self._send(Event(event, streams, rendered.payload, object_id), (event, object_id))

    async def _send(self, event: Event, key: tuple[str, int]) -> None:
        self._sent[key] = None
        if len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)
        try:
            await self._deliver(event)
        except (OSError, RuntimeError):  # the client went away mid-send
            self.closed = True

    async def _replay(self, last_event_id: int) -> None:
        try:
            wanted = None if "user" in self.streams else frozenset().union(*(STREAMS[s] for s in self.streams))
            missed = await database_sync_to_async(missed_events)(self.user, last_event_id, wanted)
            for event, object_id, payload in missed:
                streams = self._wanted_by(event)
                if streams and not self.closed:
                    await self._send(Event(event, streams, payload, object_id), (event, object_id))
        except Exception:
            logger.warning("replay for user %s failed; continuing live", self.user.pk, exc_info=True)
        # Live events that came during the replay, in arrival order; more may arrive while
        # these are sent, so drain until none is left, then go live (no await in between).
        while self._buffer:
            held, self._buffer = self._buffer, []
            for message in held:
                await self._send_live(message["event"], message["id"])
        self._buffer = None


# --- this process's sessions --------------------------------------------------------------


class Hub:
    """The streaming sessions of one event loop (an ASGI process), their presence and groups."""

    def __init__(self):
        self.sessions: dict[str, StreamSession] = {}
        self.renders = RenderCache()
        self.marker = f":streaming-alive:{uuid.uuid4().hex}"  # under the layer prefix
        self._beat: asyncio.Task | None = None

    def user_ids(self) -> set[int]:
        return {session.user.pk for session in self.sessions.values()}

    async def join(self, session: StreamSession) -> None:
        """Raises the layer's error if it cannot be reached (the caller refuses the client)."""
        if self._beat is None or self._beat.done():
            # Marked before the first group_add: a restart after this point is noticed.
            await self._marker_present()
            self._beat = asyncio.ensure_future(self._heartbeat())
        self.sessions[session.channel_name] = session
        try:
            await get_channel_layer().group_add(realtime.user_group(session.user.pk), session.channel_name)
        except BaseException:
            self.sessions.pop(session.channel_name, None)
            raise
        await _presence(presence.mark_online, [session.user.pk])

    async def leave(self, session: StreamSession) -> None:
        self.sessions.pop(session.channel_name, None)
        with contextlib.suppress(redis.RedisError, OSError):  # else it expires with the group
            await get_channel_layer().group_discard(realtime.user_group(session.user.pk), session.channel_name)
        if session.user.pk not in self.user_ids():
            await _presence(presence.mark_leaving, [session.user.pk])
        if not self.sessions and self._beat is not None:
            self._beat.cancel()
            self._beat = None

    async def rejoin_all(self) -> int:
        """Add every local session to its group again (after the layer lost them)."""
        layer, limit = get_channel_layer(), asyncio.Semaphore(REJOIN_CONCURRENCY)

        async def rejoin(session: StreamSession) -> None:
            async with limit:
                await layer.group_add(realtime.user_group(session.user.pk), session.channel_name)

        sessions = list(self.sessions.values())
        await asyncio.gather(*(rejoin(session) for session in sessions))
        return len(sessions)

    async def _heartbeat(self) -> None:
        """Presence every HEARTBEAT_SECONDS; the layer's memberships checked every LIVENESS_SECONDS
        (a marker key that vanishes with a restart or flush), and renewed every GROUP_REFRESH_SECONDS."""
        next_presence = time.monotonic() + presence.HEARTBEAT_SECONDS * random.uniform(0.5, 1.0)
        next_refresh = time.monotonic() + GROUP_REFRESH_SECONDS
        while self.sessions:
            await asyncio.sleep(LIVENESS_SECONDS)
            try:
                now = time.monotonic()
                if not await self._marker_present() or now >= next_refresh:
                    rejoined = await self.rejoin_all()
                    next_refresh = now + GROUP_REFRESH_SECONDS
                    logger.info("streaming: %d sockets re-joined their groups", rejoined)
                if now >= next_presence:
                    await _presence(presence.mark_online, self.user_ids())
                    next_presence = now + presence.HEARTBEAT_SECONDS
            except (redis.RedisError, OSError):
                logger.warning("streaming heartbeat: Redis unavailable, retrying", exc_info=True)

    async def _marker_present(self) -> bool:
        """True if every layer host still holds this hub's marker; sets it where missing."""
        layer = get_channel_layer()
        if not hasattr(layer, "connection"):
            return True  # not channels-redis: nothing to watch
        present = True
        for index in range(layer.ring_size):
            connection = layer.connection(index)
            key = f"{layer.prefix}{self.marker}"
            if await connection.set(key, 1, nx=True, ex=GROUP_REFRESH_SECONDS * 2):
                present = False  # it was gone: this host lost our groups (restart, flush)
            else:
                await connection.expire(key, GROUP_REFRESH_SECONDS * 2)
        return present


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (tests run several loops in one process; servers run one)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for old_loop in [old for old in _hubs if old.is_closed()]:
            del _hubs[old_loop]
        found = _hubs[loop] = Hub()
    return found


async def _presence(write, user_ids) -> None:
    """Presence is derived: Redis being down costs live updates (resume catches up), never the socket."""
    try:
        await sync_to_async(write, thread_sensitive=False)(user_ids)
    except (redis.RedisError, OSError):
        logger.warning("could not write presence", exc_info=True)


_last_outage_log = 0.0


async def receive_resiliently(layer, channel_name: str) -> dict:
    """The channel layer's receive, riding out a Redis outage instead of failing the socket."""
    global _last_outage_log
    delay = 0.2
    while True:
        try:
            return await layer.receive(channel_name)
        except (redis.RedisError, OSError):
            if time.monotonic() - _last_outage_log > 10:  # one line per process, not per socket
                _last_outage_log = time.monotonic()
                logger.warning("channel layer unavailable; sockets wait for it", exc_info=True)
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 5.0)
