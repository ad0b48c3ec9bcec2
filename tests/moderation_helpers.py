"""Builders for the moderation tests: moderators and driving the admin's actions."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.moderation import MODERATORS_GROUP
from tests.factories import UserFactory

CHANGELISTS = {
    "users": "admin:accounts_user_changelist",
    "posts": "admin:posts_post_changelist",
    "reports": "admin:accounts_report_changelist",
    "log": "admin:accounts_moderationaction_changelist",
}
ACTIONS = {
    "users": ("suspend_accounts", "unsuspend_accounts", "silence_accounts", "unsilence_accounts"),
    "posts": ("hide_posts", "unhide_posts"),
    "reports": ("resolve_reports", "reject_reports", "hide_reported_posts", "suspend_reported_accounts"),
}


def make_moderator(**fields) -> User:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def ask_for_action(client, changelist: str, action: str, ids, *, follow=False):
    """The changelist's action form: selects rows and picks an action (the confirmation page)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], "index": "0"}
    return client.post(reverse(CHANGELISTS[changelist]), data, follow=follow)


def confirm_action(client, changelist: str, action: str, ids, reason: str, *, follow=False):
    """The confirmation page's form: the same selection, with the reason."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], "apply": "yes", "reason": reason}
    return client.post(reverse(CHANGELISTS[changelist]), data, follow=follow)


def messages_of(response) -> list[str]:
    """The messages a page showed (so they are not shown again on the next one)."""
    return [str(message) for message in response.context["messages"]]
