"""The notifications page (grouped, as Mastodon 4.3 shows them), mark-as-read, and the nav badge."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from socialnet.context_processors import BADGE_MAX, badge_label
from socialnet.ids import parse_id

from . import selectors, services

GROUPS_PAGE = 40  # notifications read per page, before grouping


@login_required
@require_GET
def notification_list(request):
    max_id = parse_id(request.GET.get("max_id"))
    groups = selectors.grouped_page(request.user, limit=GROUPS_PAGE, max_id=max_id)
    # Each group knows the oldest notification it folded in; the next page starts below it.
    next_max_id = min(group.page_min_id for group in groups) if groups else None
    context = {
        "groups": groups,
        "max_id": max_id,
        "next_max_id": next_max_id,
        "last_read_id": selectors.last_read_id(request.user),
        "nav": "notifications",
    }
    if request.htmx and max_id is not None:
        return render(request, "notifications/_groups.html", context)
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def mark_read(request):
    up_to = parse_id(request.POST.get("up_to_id"))
    if up_to is not None:
        services.mark_read(request.user, up_to)
    return redirect("notifications:list")


@login_required
@require_GET
def badge(request):
    label = badge_label(selectors.unread_count(request.user, limit=BADGE_MAX + 1))
    return render(request, "notifications/_badge.html", {"label": label})
