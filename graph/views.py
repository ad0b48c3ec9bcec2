from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.selectors import get_visible_account

from . import services


@login_required
@require_POST
def follow(request, username):
    account = get_visible_account(username)
    try:
        services.follow(request.user, account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:profile", username=account.username)


@login_required
@require_POST
def unfollow(request, username):
    account = get_visible_account(username)
    services.unfollow(request.user, account)
    return redirect("accounts:profile", username=account.username)
