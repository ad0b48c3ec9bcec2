from django.shortcuts import redirect, render

from graph.recommendations import recommend_follows
from posts.forms import PostForm
from posts.selectors import PAGE_SIZE, PAGE_SIZE_MAX
from socialnet.ids import parse_id
from socialnet.pages import render_feed

from .selectors import home_timeline, public_timeline

SUGGESTIONS_SHOWN = 5


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    since_id = parse_id(request.GET.get("since_id"))
    if request.htmx and since_id is not None:
        # The "N new posts" bar: what arrived above the newest post the page shows.
        posts = home_timeline(request.user, since_id=since_id, limit=PAGE_SIZE_MAX)
        return render(request, "posts/_feed_items.html", {"posts": posts})
    max_id = parse_id(request.GET.get("max_id"))
    posts = home_timeline(request.user, max_id=max_id)
    # Filtering can leave a page short while older posts exist: offer "older" whenever
    # this page had any.
    next_max_id = posts[-1].id if posts else None
    context = {"posts": posts, "max_id": max_id, "next_max_id": next_max_id, "nav": "home"}
    if not request.htmx:
        context |= {"form": PostForm(), "suggestions": recommend_follows(request.user, limit=SUGGESTIONS_SHOWN)}
    return render_feed(request, "timeline/home.html", context)


def public(request):
    max_id = parse_id(request.GET.get("max_id"))
    posts = public_timeline(request.user, max_id=max_id)
    context = {"posts": posts, "max_id": max_id, "next_max_id": _older_than(posts), "nav": "explore"}
    return render_feed(request, "timeline/public.html", context)


def _older_than(posts):
    """Where the next page starts, when this one was full (public pages are never filtered short)."""
    return posts[-1].id if len(posts) == PAGE_SIZE else None
