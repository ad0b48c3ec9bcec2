from django.shortcuts import redirect, render

from graph.recommendations import recommend_follows
from posts.forms import PostForm

from .selectors import home_timeline


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    max_id = request.GET.get("max_id")
    posts = home_timeline(request.user, max_id=int(max_id) if max_id and max_id.isdigit() else None)
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
