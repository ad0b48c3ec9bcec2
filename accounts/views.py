from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from graph import recommendations
from graph import selectors as graph_selectors
from posts import selectors as post_selectors
from socialnet.ids import parse_id
from socialnet.pages import render_feed

from . import services
from .forms import ProfileForm, SignupForm
from .selectors import get_visible_account


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("timeline:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user is not None:
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            messages.success(request, f"Welcome to socialnet, @{user.username}!")
            return redirect("timeline:home")
    context = {"form": form, "nav": "signup"}
    return render(request, "accounts/signup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request):
    user = request.user
    initial = {"display_name": user.display_name, "bio": user.bio}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_profile(user, display_name=data["display_name"], bio=data["bio"], avatar=data["avatar"])
        except ValidationError as error:
            user.refresh_from_db()
            for field, reasons in error.message_dict.items():
                form.add_error(field if field in form.fields else None, reasons)
        else:
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile", username=user.username)
    context = {"form": form, "nav": "settings"}
    return render(request, "accounts/edit_profile.html", context, status=400 if form.errors else 200)


def profile(request, username):
    account = get_visible_account(username)
    max_id = parse_id(request.GET.get("max_id"))
    posts = post_selectors.author_posts(request.user, account, max_id=max_id)
    context = {
        "account": account,
        "posts": posts,
        "max_id": max_id,
        "next_max_id": posts[-1].id if len(posts) == post_selectors.PAGE_SIZE else None,
        "nav": "profile" if account.pk == request.user.pk else None,
    }
    if not (request.htmx and max_id is not None):  # the header is not part of a scrolled-in page
        context["relationship"] = _relationship(request.user, account)
        context["mutual"] = recommendations.mutual_follows(request.user, account)
    return render_feed(request, "accounts/profile.html", context)


def _relationship(viewer, account):
    if not viewer.is_authenticated or viewer.pk == account.pk:
        return None
    return graph_selectors.relationships(viewer, [account.pk])[account.pk]


def followers(request, username):
    account = get_visible_account(username)
    return _people(request, account, graph_selectors.followers_of(account), "Followers")


def following(request, username):
    account = get_visible_account(username)
    return _people(request, account, graph_selectors.following_of(account), "Following")


PEOPLE_PAGES_MAX = 50  # offset paging: deep pages of a huge list cost more than anyone scrolls


def _people(request, account, people, title):
    """A page of a follow list; HTMX's infinite scroll asks for the next with ?page=N."""
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), PEOPLE_PAGES_MAX)
    except ValueError:
        number = 1
    size = graph_selectors.LIST_PAGE_SIZE
    found = list(people[(number - 1) * size : number * size + 1])  # one more: is there a next page?
    context = {
        "account": account,
        "people": found[:size],
        "title": title,
        "next_page": number + 1 if len(found) > size and number < PEOPLE_PAGES_MAX else None,
        "page": number,
    }
    if request.htmx and number > 1:
        return render(request, "accounts/_people_page.html", context)
    return render(request, "accounts/people.html", context)
