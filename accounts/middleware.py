import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import store
from .tasks import mark_active

logger = logging.getLogger(__name__)


class LastActiveMiddleware:
    """Keep `last_active_at` fresh to LAST_ACTIVE_RESOLUTION_SECONDS, off the request path.

    The request only compares a timestamp it already has (the user row is loaded by the
    auth middleware) and, at most once per window, enqueues a task; the UPDATE happens in
    a worker. Redis or the broker being down costs a log line, never the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and self._is_stale(user):
            self._enqueue(user.pk)
        return response

    @staticmethod
    def _is_stale(user):
        resolution = timedelta(seconds=settings.LAST_ACTIVE_RESOLUTION_SECONDS)
        return user.last_active_at is None or timezone.now() - user.last_active_at >= resolution

    @staticmethod
    def _enqueue(user_id):
        try:
            if store.claim_activity_slot(user_id):
                mark_active.delay(user_id, timezone.now().isoformat())
        except Exception:  # activity tracking must never fail a request
            logger.warning("could not record activity of user %s", user_id, exc_info=True)
