"""Who may do what in the admin: anonymous, a plain user, staff without the moderators
group, staff with only some permissions, a moderator and a superuser, on every changelist
and every moderation action. A refusal changes nothing."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import ModerationAction, Report, User
from accounts.moderation import MODERATORS_GROUP
from accounts.services import file_report
from posts.models import Post
from tests.factories import UserFactory, make_post
from tests.moderation_helpers import ACTIONS, CHANGELISTS, ask_for_action, confirm_action, make_moderator

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "plain user", "staff", "moderator", "superuser")
ALL_ACTIONS = [(changelist, action) for changelist, names in ACTIONS.items() for action in names]
VIEW_PERMISSIONS = ("view_user", "view_post", "view_report", "view_moderationaction")


def staff_with(*codenames) -> User:
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


MAKE = {
    "plain user": UserFactory,
    "staff": lambda: UserFactory(is_staff=True),
    "moderator": make_moderator,
    "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
}


@pytest.fixture
def as_role(client):
    def login(role):
        if role != "anonymous":
            client.force_login(MAKE[role]())
        return client

    return login


@pytest.fixture
def targets():
    account = UserFactory()
    post = make_post(account, "reported post")
    report = file_report(UserFactory(), account, category="spam", posts=[post])
    return {"users": account.pk, "posts": post.pk, "reports": report.pk}


def snapshot():
    """Everything a moderation action could change."""
    return (
        sorted(User.objects.values_list("pk", "is_suspended", "is_silenced", "is_staff", "is_superuser")),
        sorted(Post.objects.values_list("pk", "is_hidden")),
        sorted(Report.objects.values_list("pk", "status")),
        ModerationAction.objects.count(),
    )


def refused(response, role) -> bool:
    if role in ("anonymous", "plain user"):
        return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    return response.status_code == 403


@pytest.mark.parametrize("changelist", CHANGELISTS)
@pytest.mark.parametrize("role", ROLES)
def test_changelists(as_role, role, changelist):
    response = as_role(role).get(reverse(CHANGELISTS[changelist]))

    if role in ("moderator", "superuser"):
        assert response.status_code == 200
    else:
        assert refused(response, role)


@pytest.mark.parametrize(("changelist", "action"), ALL_ACTIONS)
@pytest.mark.parametrize("role", ("anonymous", "plain user", "staff"))
def test_actions_are_refused_without_access_and_change_nothing(as_role, targets, role, changelist, action):
    client = as_role(role)
    before = snapshot()

    asked = ask_for_action(client, changelist, action, [targets[changelist]])
    applied = confirm_action(client, changelist, action, [targets[changelist]], "a reason")

    assert refused(asked, role) and refused(applied, role)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changelist", "action", "missing"),
    [
        ("users", "suspend_accounts", "suspend_user"),
        ("users", "unsuspend_accounts", "suspend_user"),
        ("users", "silence_accounts", "silence_user"),
        ("users", "unsilence_accounts", "silence_user"),
        ("posts", "hide_posts", "hide_post"),
        ("posts", "unhide_posts", "hide_post"),
        ("reports", "resolve_reports", "resolve_report"),
        ("reports", "reject_reports", "resolve_report"),
        ("reports", "hide_reported_posts", "hide_post"),
        ("reports", "suspend_reported_accounts", "suspend_user"),
    ],
)
def test_a_moderator_missing_the_actions_permission_gets_403_and_nothing_changes(
    client, targets, changelist, action, missing
):
    granted = {"hide_post", "suspend_user", "silence_user", "resolve_report"} - {missing}
    client.force_login(staff_with(*VIEW_PERMISSIONS, *granted))
    before = snapshot()

    asked = ask_for_action(client, changelist, action, [targets[changelist]])
    applied = confirm_action(client, changelist, action, [targets[changelist]], "a reason")

    assert (asked.status_code, applied.status_code) == (403, 403)
    assert snapshot() == before


@pytest.mark.parametrize(("changelist", "action"), ALL_ACTIONS)
@pytest.mark.parametrize("role", ("moderator", "superuser"))
def test_moderators_and_superusers_can_run_every_action(as_role, targets, role, changelist, action):
    client = as_role(role)

    asked = ask_for_action(client, changelist, action, [targets[changelist]])
    applied = confirm_action(client, changelist, action, [targets[changelist]], "a reason")

    assert asked.status_code == 200 and "a reason" not in asked.content.decode()
    assert "Recorded in the moderation log" in asked.content.decode()
    assert applied.status_code == 302


def test_a_moderator_cannot_add_change_or_delete_accounts_nor_touch_groups(client, targets):
    moderator = make_moderator()
    target = User.objects.get(pk=targets["users"])
    client.force_login(moderator)
    change_url = reverse("admin:accounts_user_change", args=[target.pk])
    before = snapshot()

    page = client.get(change_url)
    attempts = {
        "add user": client.get(reverse("admin:accounts_user_add")).status_code,
        "change user": client.post(
            change_url, {"username": target.username, "email": target.email, "is_superuser": "on", "is_staff": "on"}
        ).status_code,
        "delete user": client.post(
            reverse("admin:accounts_user_delete", args=[target.pk]), {"post": "yes"}
        ).status_code,
        "bulk delete users": ask_for_action(client, "users", "delete_selected", [target.pk]).status_code,
        "set a password": client.get(reverse("admin:auth_user_password_change", args=[target.pk])).status_code,
        "groups": client.get(reverse("admin:auth_group_changelist")).status_code,
        "add a group": client.get(reverse("admin:auth_group_add")).status_code,
        "edit the moderators group": client.get(
            reverse("admin:auth_group_change", args=[Group.objects.get(name=MODERATORS_GROUP).pk])
        ).status_code,
        "change a post": client.post(reverse("admin:posts_post_change", args=[targets["posts"]]), {}).status_code,
        "delete a report": client.post(
            reverse("admin:accounts_report_delete", args=[targets["reports"]]), {"post": "yes"}
        ).status_code,
    }

    assert page.status_code == 200  # read-only
    assert "Superuser status" not in page.content.decode()
    for url in (
        reverse("admin:posts_post_change", args=[targets["posts"]]),
        reverse("admin:accounts_report_change", args=[targets["reports"]]),
    ):
        shown = client.get(url)
        assert shown.status_code == 200 and 'name="_save"' not in shown.content.decode()
        assert "reported post" in shown.content.decode()
    assert attempts == dict.fromkeys(attempts, 403)
    assert snapshot() == before


def test_the_user_form_never_offers_permission_or_moderation_fields_to_a_non_superuser(client):
    # Staff given change_user by hand (not a moderator setup) still cannot escalate.
    helper = staff_with("view_user", "change_user")
    target = UserFactory(display_name="Old name")
    group = Group.objects.get(name=MODERATORS_GROUP)
    client.force_login(helper)
    change_url = reverse("admin:accounts_user_change", args=[target.pk])

    form = client.get(change_url).context["adminform"].form
    response = client.post(
        change_url,
        {
            "username": target.username,
            "email": target.email,
            "display_name": "New name",
            "bio": "",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [group.pk],
            "is_suspended": "on",
            "is_silenced": "on",
        },
    )

    forbidden = {"password", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"}
    forbidden |= {"is_suspended", "suspended_at", "is_silenced", "silenced_at", "is_vip"}
    assert set(form.fields) & forbidden == set()
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.display_name == "New name"
    assert (target.is_staff, target.is_superuser, target.is_suspended, target.is_silenced) == (False,) * 4
    assert list(target.groups.all()) == []


def test_staff_accounts_and_passwords_are_a_superusers_business(client):
    helper = staff_with("view_user", "change_user")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    regular = UserFactory()
    client.force_login(helper)

    edit_superuser = client.post(
        reverse("admin:accounts_user_change", args=[superuser.pk]),
        {"username": superuser.username, "email": "attacker@example.com"},
    )
    set_password = client.post(
        reverse("admin:auth_user_password_change", args=[regular.pk]),
        {"password1": "a-new-password-9", "password2": "a-new-password-9"},
    )

    assert (edit_superuser.status_code, set_password.status_code) == (403, 403)
    superuser.refresh_from_db()
    regular.refresh_from_db()
    assert superuser.email != "attacker@example.com"
    assert regular.check_password("a-new-password-9") is False


def test_a_superuser_still_manages_permissions(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    form = client.get(reverse("admin:accounts_user_change", args=[UserFactory().pk])).context["adminform"].form

    assert {"is_staff", "is_superuser", "groups", "user_permissions", "password"} <= set(form.fields)
    assert {"is_suspended", "is_silenced"} & set(form.fields) == set()  # actions only, so they are logged
