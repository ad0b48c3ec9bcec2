"""What the navigation shows on every page: the unread-notifications badge and the post limit."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from notifications.selectors import unread_count

# The badge shows "99+" past this; counting further would only cost time.
BADGE_MAX = 99


def badge_label(count: int) -> str:
    """What the badge says: nothing for zero, "99+" past BADGE_MAX."""
    if count <= 0:
        return ""
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def navigation(request):
    context = {"post_max_chars": settings.POST_MAX_CHARS}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Lazy: only pages that render the navigation count (never an HTMX fragment).
        context["unread_badge"] = SimpleLazyObject(lambda: badge_label(unread_count(user, limit=BADGE_MAX + 1)))
    return context
