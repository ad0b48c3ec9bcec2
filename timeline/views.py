from django.shortcuts import redirect, render

from graph.recommendations import recommend_follows
from posts.forms import PostForm
from socialnet.ids import parse_id

from .selectors import home_timeline


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    posts = home_timeline(request.user, max_id=parse_id(request.GET.get("max_id")))
    # Filtering can leave a page short while older posts exist: offer "older" whenever
    # this page had any.
    next_max_id = posts[-1].id if posts else None
    context = {
        "posts": posts,
        "form": PostForm(),
        "next_max_id": next_max_id,
        "suggestions": recommend_follows(request.user, limit=5),
    }
    return render(request, "timeline/home.html", context)
