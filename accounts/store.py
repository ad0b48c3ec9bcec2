"""Redis keys owned by accounts."""

from django.conf import settings

from socialnet.redis_client import get_redis, key


def claim_activity_slot(user_id: int) -> bool:
    """True for the first request of a user in each LAST_ACTIVE_RESOLUTION_SECONDS window.

    SET NX is the dedupe: a burst of requests enqueues one `mark_active` task, not one each.
    """
    return bool(get_redis().set(key("active", user_id), 1, nx=True, ex=settings.LAST_ACTIVE_RESOLUTION_SECONDS))
