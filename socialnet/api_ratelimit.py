"""Rate limits as Mastodon sets them, on atomic Redis counters (fixed windows).

Every API request counts against its token (or, for a signed-in browser, its account),
and a request without either against its IP address: settings.RATE_LIMITS["api"] and
["api_ip"], 300 per 5 minutes each. Some actions have their own, narrower buckets, taken
by the view: posts, follows, deletions per account, sign-ups per IP; and logins per IP
(the OAuth token endpoint and the login form). The answer carries Mastodon's
`X-RateLimit-Limit/Remaining/Reset` headers for the bucket closest to running out; over
the limit it is a 429 `{"error": "Too many requests"}`.

One Lua call increments a counter and, when it is new, sets its expiry, so concurrent
requests can neither lose a count nor leave a counter without an expiry. If Redis does not
answer, requests are let through (with a log line): rate limits protect, they must not
become an outage.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException

from socialnet.redis_client import get_redis, key

logger = logging.getLogger(__name__)

# KEYS[1]: the counter. ARGV[1]: window in seconds. Returns {count, milliseconds to reset}.
COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 1000)
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 1000)
    ttl = tonumber(ARGV[1]) * 1000
end
return {count, ttl}
"""

TOO_MANY = "Too many requests"
# Paths outside /api/ limited per IP: logins (the token endpoint, the login form) and the
# sign-up form (POST /api/v1/accounts takes the same bucket in its view).
LOGIN_PATHS = ("/oauth/token", "/accounts/login/")
SIGN_UP_PATHS = ("/accounts/signup/",)


@dataclass(frozen=True)
class Usage:
    limit: int
    count: int
    reset_at: float  # unix time

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


class RateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = TOO_MANY
    default_code = "throttled"


@cache
def _count_script():
    return get_redis().register_script(COUNT_LUA)


def hit(bucket: str, subject: str) -> Usage | None:
    """Count one request of `subject` in `bucket`; None when limits are off or Redis is down."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    limit, window = settings.RATE_LIMITS[bucket]
    try:
        count, ttl_ms = _count_script()(keys=[key("rl", bucket, subject)], args=[window])
    except (redis.RedisError, OSError):
        logger.warning("rate limits unavailable (Redis): letting %s through unlimited", bucket, exc_info=True)
        return None
    return Usage(limit=limit, count=int(count), reset_at=time.time() + int(ttl_ms) / 1000)


def limit_action(request, bucket: str, subject=None) -> None:
    """A view's own bucket (posts, follows, sign-ups …): raises RateLimited past its limit.

    `subject` defaults to the signed-in account. The usage joins the request's, so the
    headers show whichever bucket is closest to its limit.
    """
    subject = subject if subject is not None else request.user.pk
    usage = hit(bucket, subject)
    if usage is None:
        return
    _remember(request, usage)
    if usage.exceeded:
        raise RateLimited(TOO_MANY)


def client_ip(request) -> str:
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. uvicorn --proxy-headers):
    # X-Forwarded-For is the client's to forge.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _request_subject(request) -> tuple[str, str]:
    """(bucket, subject) of the general API limit: the token, else the account, else the IP."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:32]
        return "api", f"token:{digest}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "api", f"account:{user.pk}"
    return "api_ip", client_ip(request)


def _remember(request, usage: Usage) -> None:
    raw = getattr(request, "_request", request)  # a DRF Request wraps the HttpRequest
    known = getattr(raw, "rate_limit_usages", [])
    raw.rate_limit_usages = [*known, usage]


def _closest(usages: list[Usage]) -> Usage:
    return min(usages, key=lambda usage: (usage.remaining, -usage.reset_at))


def add_headers(response, usages: list[Usage]) -> None:
    usage = _closest(usages)
    response["X-RateLimit-Limit"] = str(usage.limit)
    response["X-RateLimit-Remaining"] = str(usage.remaining)
    response["X-RateLimit-Reset"] = datetime.fromtimestamp(usage.reset_at, tz=UTC).isoformat(timespec="milliseconds")


def too_many_requests(usages: list[Usage]) -> JsonResponse:
    response = JsonResponse({"error": TOO_MANY}, status=429)
    add_headers(response, usages)
    return response


class RateLimitMiddleware:
    """The general per-token / per-IP API limit and the login limit, with the headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        usages = []
        if request.path.startswith("/api/") and not request.path.startswith("/api/v1/streaming"):
            bucket, subject = _request_subject(request)
            usage = hit(bucket, subject)
            usages = [usage] if usage else []
        if request.method == "POST" and request.path in (*LOGIN_PATHS, *SIGN_UP_PATHS):
            usage = hit("login" if request.path in LOGIN_PATHS else "sign_ups", client_ip(request))
            usages += [usage] if usage else []
        if any(usage.exceeded for usage in usages):
            return too_many_requests(usages)
        request.rate_limit_usages = usages
        response = self.get_response(request)
        usages = getattr(request, "rate_limit_usages", usages)
        if usages:
            add_headers(response, usages)
        return response
