"""Reporting an account, or one of its posts, to the moderators (accounts.services.file_report)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from posts.selectors import get_post_for

from .forms import ReportForm
from .selectors import get_visible_account
from .services import file_report


@login_required
@require_http_methods(["GET", "POST"])
def report_account(request, username):
    return _report(request, get_visible_account(username), post=None)


@login_required
@require_http_methods(["GET", "POST"])
def report_post(request, post_id):
    post = get_post_for(request.user, post_id)
    shown = post.repost_of or post  # a repost is reported as the post it shares
    return _report(request, shown.author, post=shown)


def _report(request, target, *, post):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            file_report(
                request.user, target, category=data["category"], comment=data["comment"], posts=[post] if post else []
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Thanks: your report about @{target.username} was sent to the moderators.")
            return redirect("posts:detail", post.pk) if post else redirect("accounts:profile", target.username)
    context = {"form": form, "target": target, "post": post}
    return render(request, "accounts/report.html", context, status=400 if form.errors else 200)
