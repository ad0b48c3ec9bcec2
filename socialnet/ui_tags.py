"""Template helpers every page of the browser UI uses: icons, avatars, relative times.

Loaded with `{% load ui %}` (settings.TEMPLATES "libraries"). Nothing here reads the
database: these only format what a view already loaded.
"""

import functools
from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# Inline SVG icons (24 by 24, stroked with currentColor), drawn for this project: no icon font, no request.
ICON_PATHS = {
    "home": '<path d="M3 10.5 12 3l9 7.5V21h-6v-6H9v6H3z"/>',
    "globe": '<circle cx="12" cy="12" r="9"/>'
    '<path d="M3 12h18M12 3c3.5 3.8 3.5 14.2 0 18M12 3c-3.5 3.8-3.5 14.2 0 18"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-4-4"/>',
    "bell": '<path d="M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 21a2 2 0 0 0 4 0"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 3.6-6 8-6s8 2 8 6"/>',
    "settings": '<path d="M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1"/>'
    '<circle cx="15" cy="6" r="2"/><circle cx="9" cy="12" r="2"/><circle cx="17" cy="18" r="2"/>',
    "logout": '<path d="M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10"/>',
    "login": '<path d="M10 4H5v16h5M13 8l4 4-4 4M17 12H7"/>',
    "reply": '<path d="M4 5h16v11H10l-6 4z"/>',
    "repost": '<path d="M4 12V9a2 2 0 0 1 2-2h12l-3-3M20 12v3a2 2 0 0 1-2 2H6l3 3"/>',
    "heart": '<path d="M12 20s-7.5-4.6-7.5-10.2A4.3 4.3 0 0 1 12 7.2a4.3 4.3 0 0 1 7.5 2.6C19.5 15.4 12 20 12 20z"/>',
    "more": '<circle cx="5" cy="12" r="1.4"/><circle cx="12" cy="12" r="1.4"/><circle cx="19" cy="12" r="1.4"/>',
    "pen": '<path d="m4 20 4.5-1L19 8.5 15.5 5 5 15.5z"/><path d="m13.5 7 3.5 3.5"/>',
    "close": '<path d="M6 6l12 12M18 6 6 18"/>',
    "hash": '<path d="M5 9h15M4 15h15M10 3 8 21M16 3l-2 18"/>',
    "flag": '<path d="M5 21V4h11l-2 4 2 4H5"/>',
    "people": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c0-3.6 2.9-5.5 6.5-5.5s6.5 1.9 6.5 5.5"/>'
    '<path d="M15.5 4.8a3.5 3.5 0 0 1 0 6.4M18 14.8c2.2.6 3.5 2.3 3.5 5.2"/>',
    "check": '<path d="m5 12.5 4.5 4.5L19 7"/>',
}


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An inline SVG; decorative (aria-hidden) unless given a label."""
    accessible = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" focusable="false" {}>{}</svg>',
        name,
        accessible,
        mark_safe(ICON_PATHS[name]),  # noqa: S308 - our own constant markup
    )


@register.simple_tag
def avatar(account, size: int = 48) -> str:
    """The account's picture, or its initial on a colour derived from its id (never a broken image)."""
    if account.avatar:
        return format_html(
            '<img class="avatar" src="{}" alt="" width="{}" height="{}" style="--size:{}px" loading="lazy">',
            account.avatar.url,
            size,
            size,
            size,
        )
    initial = (account.name or "?")[0].upper()
    hue = (account.pk or 0) * 47 % 360
    return format_html(
        '<span class="avatar avatar-initial" style="--size:{}px;--hue:{}" aria-hidden="true">{}</span>',
        size,
        hue,
        initial,
    )


@register.filter
def short_age(moment: datetime | None, now: datetime | None = None) -> str:
    """ "now", "5m", "3h", "2d", then "Mar 4", then "Mar 4, 2024": how Twitter and Mastodon label posts."""
    if moment is None:
        return ""
    now = now or timezone.now()
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return "now"
    if elapsed < timedelta(hours=1):
        return f"{int(elapsed.total_seconds() // 60)}m"
    if elapsed < timedelta(days=1):
        return f"{int(elapsed.total_seconds() // 3600)}h"
    if elapsed < timedelta(days=7):
        return f"{elapsed.days}d"
    local = timezone.localtime(moment)
    if local.year == timezone.localtime(now).year:
        return f"{local:%b} {local.day}"
    return f"{local:%b} {local.day}, {local.year}"


@register.filter
def compact_count(number: int) -> str:
    """1234 -> "1.2K", as counters under posts and on profiles show them."""
    number = int(number or 0)
    for limit, suffix in ((1_000_000, "M"), (1_000, "K")):
        if number >= limit:
            shown = f"{number / limit:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return str(number)


# --- Links repeated on every post ---------------------------------------------------------------
# A feed page links each post's author, page and actions: ~10 reverse() calls per post,
# which measured as a third of the home page's render time. Each URL's shape is reversed
# once per process with a marker for the varying part, then filled in by string replacement.
URL_MARKER = "9081726354637281"  # digits: valid for int, str and username converters alike


@functools.cache
def _url_shape(name: str, *fixed: str) -> str:
    return reverse(name, args=[URL_MARKER, *fixed])


def fast_url(name: str, value, *fixed: str) -> str:
    """reverse(name, args=[value, *fixed]) for a `value` the URL pattern accepts as it is (an id, a username)."""
    return _url_shape(name, *fixed).replace(URL_MARKER, str(value))


@register.filter
def profile_url(username: str) -> str:
    return fast_url("accounts:profile", username)


@register.filter
def post_url(post_id: int) -> str:
    return fast_url("posts:detail", post_id)


@register.filter
def post_menu_url(post_id: int) -> str:
    return fast_url("posts:menu", post_id)


@register.simple_tag
def post_action_url(post_id: int, action: str) -> str:
    return fast_url("posts:act", post_id, action)


@register.simple_tag
def time_tag(moment: datetime) -> str:
    """<time> with the machine-readable instant, the full date on hover, and the short age shown."""
    local = timezone.localtime(moment)
    full = f"{local:%b} {local.day}, {local.year}, {local:%H:%M %Z}"
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(), full, short_age(moment))
