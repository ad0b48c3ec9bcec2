"""The streaming API as server-sent events (`GET /api/v1/streaming/user`), for the client
libraries that use it, and its health check. Same events as the websocket; each
`notification` and `update` carries `id:`, so a reconnecting EventSource resumes from it
by itself (`Last-Event-ID`); deletes carry none (they are never replayed)."""

import asyncio

import redis
from channels.layers import get_channel_layer
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from . import streaming

KEEPALIVE_SECONDS = 15  # Mastodon's ":thump" interval: proxies drop silent connections
OUTBOX_MAX = 1000  # events waiting for a slow reader


async def health(request):
    return HttpResponse("OK", content_type="text/plain")


async def user_stream(request, stream: str = "user"):
    viewer = await streaming.authenticate(await http_credentials(request))
    if isinstance(viewer, streaming.Refusal):
        return JsonResponse({"error": viewer.reason}, status=401 if viewer.code == streaming.UNAUTHORIZED else 403)
    if not viewer.may_read(stream):
        return JsonResponse({"error": streaming.scope_refusal(stream).reason}, status=403)
    try:
        last_event_id = streaming.parse_last_event_id(
            request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
        )
    except ValueError:
        return JsonResponse({"error": "Last-Event-ID must be an id"}, status=400)
    response = StreamingHttpResponse(events(viewer.user, stream, last_event_id), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response


async def events(user, stream: str, last_event_id: int | None):
    """The response body: subscribe, then ':)' (the client may act from here), replay, live."""
    layer = get_channel_layer()
    outbox: asyncio.Queue[streaming.Event] = asyncio.Queue(maxsize=OUTBOX_MAX)

    async def deliver(event: streaming.Event) -> None:
        try:
            outbox.put_nowait(event)
        except asyncio.QueueFull:  # a reader this far behind is let go: it reconnects and resumes
            session.closed = True

    session = streaming.StreamSession(user, await layer.new_channel(), deliver)
    pump = None
    try:
        try:
            await session.subscribe(stream, last_event_id)
        except (redis.RedisError, OSError):
            yield ":streaming is temporarily unavailable\n\n"
            return
        pump = asyncio.ensure_future(forward(layer, session))
        session.start_replay()
        yield ":)\n\n"
        while not session.closed:
            try:
                event = await asyncio.wait_for(outbox.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ":thump\n\n"
                continue
            yield sse_lines(event)
    finally:
        if pump is not None:
            pump.cancel()
        await session.close()


async def forward(layer, session: streaming.StreamSession) -> None:
    while True:
        await session.on_message(await streaming.receive_resiliently(layer, session.channel_name))


def sse_lines(event: streaming.Event) -> str:
    lines = [f"event: {event.event}"]
    if event.resume_id is not None:
        lines.append(f"id: {event.resume_id}")
    lines.append(f"data: {event.payload}")  # JSON has no raw newlines: one data line
    return "\n".join(lines) + "\n\n"


async def http_credentials(request) -> streaming.Credentials:
    authorization = request.headers.get("Authorization", "")
    token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    # A cross-site page cannot read this response (no CORS grant), so the cookie needs no
    # Origin check here, unlike the websocket's.
    return streaming.Credentials(
        token=token or request.GET.get("access_token"),
        session_user=await request.auser(),
        origin_allowed=True,
    )
