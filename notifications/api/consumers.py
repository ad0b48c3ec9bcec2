"""The streaming websocket (`/api/v1/streaming`), as Mastodon's streaming API speaks it.

Connect with `?stream=user` (or `user:notification`), or connect bare and send
`{"type": "subscribe", "stream": "user"}`; add `last_event_id=<id>` to be sent what was
missed first (docs/streaming.md). Every event comes as Mastodon's envelope
`{"stream": ["user"], "event": "notification"|"update"|"delete", "payload": "<JSON string>"}`.
Refused clients are accepted and closed at once with a code and a reason, and sent nothing.
"""

import contextlib
import functools
import json
import logging
import time
from urllib.parse import parse_qs

import redis
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from . import streaming

logger = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 4096  # characters; clients only ever send small subscribe frames
FRAMES_PER_SECOND = 5.0
FRAME_BURST = 20
TRY_AGAIN_LATER = 1013


class FrameBudget:
    """A token bucket: FRAME_BURST frames at once, FRAMES_PER_SECOND sustained."""

    def __init__(self, rate: float = FRAMES_PER_SECOND, burst: int = FRAME_BURST):
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = float(burst), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class UserStreamConsumer(AsyncWebsocketConsumer):
    session: streaming.StreamSession | None = None
    viewer: streaming.Viewer | None = None
    closing = False

    async def __call__(self, scope, receive, send):
        """AsyncConsumer.__call__, except that a channel layer outage pauses this socket's live
        events (streaming.receive_resiliently) instead of failing the socket."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(streaming.receive_resiliently, self.channel_layer, self.channel_name)
        self.base_send = send
        self.budget = FrameBudget()
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive, self.channel_receive], self.dispatch)

    async def dispatch(self, message):
        # The hot paths skip Channels' per-message close_old_connections (a thread hop): they
        # touch the database only through the render cache, which manages its connection.
        if message.get("type") == "stream.event":
            if self.session is not None:
                await self.session.on_message(message)
        elif message.get("type") == "websocket.receive":
            await self.websocket_receive(message)
        elif message.get("type") in ("websocket.connect", "websocket.disconnect"):
            await super().dispatch(message)

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        credentials = websocket_credentials(self.scope, query)
        viewer = await streaming.authenticate(credentials)
        if isinstance(viewer, streaming.Refusal):
            return await self.refuse(viewer.code, viewer.reason)
        streams = query.get("stream", [])
        unknown = [stream for stream in streams if stream not in streaming.STREAMS]
        if unknown:
            return await self.refuse(streaming.BAD_REQUEST, f"unknown stream: {unknown[0][:40]}")
        denied = [stream for stream in streams if not viewer.may_read(stream)]
        if denied:
            refusal = streaming.scope_refusal(denied[0])
            return await self.refuse(refusal.code, refusal.reason)
        try:
            last_event_id = streaming.parse_last_event_id((query.get("last_event_id") or [None])[0])
        except ValueError:
            return await self.refuse(streaming.BAD_REQUEST, "last_event_id must be an id")
        self.viewer = viewer
        self.session = streaming.StreamSession(viewer.user, self.channel_name, self.deliver)
        self.pending_resume = last_event_id
        try:
            for stream in streams:
                await self.session.subscribe(stream, last_event_id)
        except (redis.RedisError, OSError):
            logger.warning("streaming unavailable for a new socket", exc_info=True)
            await self.session.close()
            return await self.refuse(TRY_AGAIN_LATER, "streaming is temporarily unavailable")
        await self.accept(credentials.token if credentials.from_subprotocol else None)
        self.session.start_replay()

    async def refuse(self, code: int, reason: str) -> None:
        """Accepted only to say why in the close frame; nothing else is ever sent."""
        self.closing = True
        await self.accept()
        await self.close(code=code, reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing or self.session is None:
            return
        if not self.budget.allow():
            return await self.close_with(streaming.POLICY_VIOLATION, "too many messages")
        size = len(text_data) if text_data is not None else len(bytes_data or b"")
        if size > MAX_CLIENT_MESSAGE:
            return await self.close_with(streaming.MESSAGE_TOO_BIG, f"messages are at most {MAX_CLIENT_MESSAGE} bytes")
        frame = parse_frame(text_data)
        if frame is None:
            return  # not a frame we understand: ignored
        kind, stream = frame
        if stream not in streaming.STREAMS:
            return await self.send(text_data=json.dumps({"error": "Unknown stream type", "status": 400}))
        if not self.viewer.may_read(stream):
            error = {"error": "Access token does not have the required scopes", "status": 401}
            return await self.send(text_data=json.dumps(error))
        if kind == "unsubscribe":
            return await self.session.unsubscribe(stream)
        try:
            await self.session.subscribe(stream, self.pending_resume)
        except (redis.RedisError, OSError):
            return await self.close_with(TRY_AGAIN_LATER, "streaming is temporarily unavailable")
        self.session.start_replay()

    async def close_with(self, code: int, reason: str) -> None:
        self.closing = True
        if self.session is not None:
            await self.session.close()
        await self.close(code=code, reason=reason)

    async def deliver(self, event: streaming.Event) -> None:
        envelope = {"stream": list(event.streams), "event": event.event, "payload": event.payload}
        await self.send(text_data=json.dumps(envelope))

    async def disconnect(self, code):
        if self.session is not None:
            await self.session.close()


class UnknownStreamingPath(AsyncWebsocketConsumer):
    """Any other websocket path: refused with a reason rather than an error in the logs."""

    async def connect(self):
        await self.accept()
        await self.close(code=streaming.NOT_FOUND, reason="no such streaming endpoint")


def websocket_credentials(scope, query: dict[str, list[str]]) -> streaming.Credentials:
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin")
    token = (query.get("access_token") or [None])[0]
    subprotocols = scope.get("subprotocols") or []
    from_subprotocol = token is None and bool(subprotocols)
    return streaming.Credentials(
        token=token if token is not None else (subprotocols[0] if subprotocols else None),
        session_user=scope.get("user"),
        origin_allowed=streaming.origin_allowed(origin.decode("latin1") if origin else None),
        from_subprotocol=from_subprotocol,
    )


def parse_frame(text: str | None) -> tuple[str, str] | None:
    """("subscribe" | "unsubscribe", stream) from a client frame, or None for anything else."""
    if text is None:
        return None
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, dict) or frame.get("type") not in ("subscribe", "unsubscribe"):
        return None
    stream = frame.get("stream")
    return (frame["type"], stream) if isinstance(stream, str) else None
