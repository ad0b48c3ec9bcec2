from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import get_visible_account

from . import recommendations, services
from .selectors import relationships

SUGGESTIONS_SHOWN = 5

# The buttons on a profile: each is one service call about that account.
ACCOUNT_ACTIONS = {
    "follow": services.follow,
    "unfollow": services.unfollow,
    "block": services.block,
    "unblock": services.unblock,
    "mute": services.mute,
    "unmute": services.unmute,
    "dismiss": services.dismiss_suggestion,
}


@login_required
@require_POST
def act(request, username, action):
    """From HTMX the answer replaces what was clicked: the profile's buttons, or one suggestion.

    A refusal (blocked, suspended) comes back in words next to the button (422).
    """
    account = get_visible_account(username)
    error = None
    try:
        ACCOUNT_ACTIONS[action](request.user, account)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    status = 422 if error else 200
    if request.htmx and request.POST.get("shown_in") == "suggestion":
        if action == "dismiss" and not error:
            return HttpResponse("")  # the suggestion disappears
        suggestion = recommendations.Suggestion(account, "", 0, [], "")
        context = {"suggestion": suggestion, "followed": action == "follow" and not error, "error": error}
        return render(request, "graph/_suggestion.html", context, status=status)
    if request.htmx:
        account.refresh_from_db(fields=["followers_count", "following_count", "posts_count"])
        context = {
            "account": account,
            "relationship": relationships(request.user, [account.pk])[account.pk],
            "mutual": recommendations.mutual_follows(request.user, account),
            "error": error,
        }
        return render(request, "accounts/_profile_head.html", context, status=status)
    if error:
        messages.error(request, error)
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("accounts:profile", username=account.username)


@login_required
@require_GET
def suggestions(request):
    """The "who to follow" panel, loaded after the page on every page but home."""
    found = recommendations.recommend_follows(request.user, limit=SUGGESTIONS_SHOWN)
    return render(request, "graph/_suggestions.html", {"suggestions": found})
