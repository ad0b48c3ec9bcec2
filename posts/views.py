from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from socialnet.ids import parse_id
from socialnet.pages import render_feed

from . import selectors, services
from .forms import PostForm


@login_required
@require_POST
def create(request):
    """Publish from any compose box; on a refusal, show the box again with the reason.

    From HTMX: a fresh compose box, plus the new post swapped into the page's feed (or
    thread) out of band; refused, the same box with the reason under the text (400).
    """
    form = PostForm(request.POST)
    reply_to = selectors.get_post_for(request.user, request.POST["reply_to"]) if request.POST.get("reply_to") else None
    if form.is_valid():
        try:
            post = services.create_post(request.user, form.cleaned_data["text"], reply_to=reply_to)
        except ValidationError as error:
            form.add_error("text", error)
        else:
            if request.htmx:
                context = {
                    "form": PostForm(),
                    "reply_to": reply_to,
                    "new_post": selectors.get_post_for(request.user, post.pk),
                    "next": request.POST.get("next", ""),
                }
                return render(request, "posts/_compose.html", context)
            messages.success(request, "Posted.")
            return _back(request, default=post_url(post))
    context = {"form": form, "reply_to": reply_to, "next": request.POST.get("next", "")}
    return render(request, "posts/_compose.html" if request.htmx else "posts/compose.html", context, status=400)


def detail(request, post_id):
    post = selectors.get_post_for(request.user, post_id)
    ancestors, replies = selectors.thread_of(request.user, post)
    form = PostForm() if request.user.is_authenticated else None
    context = {"post": post, "ancestors": ancestors, "replies": replies, "form": form}
    return render(request, "posts/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, post_id):
    post = selectors.get_own_post(request.user, post_id)
    form = PostForm(request.POST or None, initial={"text": post.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_post(request.user, post, form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, "Post updated.")
            return redirect(post_url(post))
    return render(request, "posts/edit.html", {"post": post, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def delete(request, post_id):
    post = selectors.get_own_post(request.user, post_id)
    services.delete_post(request.user, post)
    messages.success(request, "Post deleted.")
    return redirect("timeline:home")


@login_required
def menu(request, post_id):
    """A post's "more" menu (edit, delete / report, mute, block): fetched when it first opens."""
    post = selectors.get_post_for(request.user, post_id)
    shown = post.repost_of or post
    if request.htmx:
        context = {"shown": shown, "next": request.htmx.current_url_abs_path or ""}
        return render(request, "posts/_menu_items.html", context)
    return render(request, "posts/menu.html", {"shown": shown, "post": post, "next": post_url(shown)})


# The buttons under a post: each is one service call on a post the viewer can see.
POST_ACTIONS = {
    "like": services.like,
    "unlike": services.unlike,
    "repost": services.repost,
    "unrepost": services.unrepost,
}


@login_required
@require_POST
def act(request, post_id, action):
    """Like, repost or undo; from HTMX the answer is the post's action bar, counts updated in place."""
    post = selectors.get_post_for(request.user, post_id)
    error = None
    try:
        POST_ACTIONS[action](request.user, post)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    if request.htmx:
        shown = selectors.get_post_for(request.user, post.pk)  # fresh counts and the viewer's state
        context = {"shown": shown, "liked": shown.viewer_liked, "reposted": shown.viewer_reposted, "error": error}
        return render(request, "posts/_actions.html", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    return _back(request, default=post_url(post))


def hashtag(request, name):
    max_id = parse_id(request.GET.get("max_id"))
    posts = selectors.hashtag_posts(request.user, name, max_id=max_id)
    next_max_id = posts[-1].id if len(posts) == selectors.PAGE_SIZE else None
    context = {"name": name.casefold(), "posts": posts, "max_id": max_id, "next_max_id": next_max_id}
    return render_feed(request, "posts/hashtag.html", context)


def post_url(post):
    return reverse("posts:detail", args=[post.pk])


def _back(request, *, default):
    """Return to the page the form was on (only ever a page of this site)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)
