from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.selectors import get_visible_account

from . import services

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
    account = get_visible_account(username)
    try:
        ACCOUNT_ACTIONS[action](request.user, account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:profile", username=account.username)
