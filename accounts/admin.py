"""The moderators' admin: accounts, the reports queue and the moderation log.

Moderators are staff in the `moderators` group (the moderators_group migration), not superusers. Every
state change goes through an admin action that asks for a reason on a confirmation page
and calls accounts.moderation, which checks the permission again and writes the log.
The moderation flags are read-only in every form, so nothing changes without a log row.

Changelists never COUNT(*) a big table (EstimatedCountPaginator, no full result count).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from posts.models import Post
from socialnet.admin_paging import EstimatedCountPaginator

from . import moderation
from .models import ModerationAction, NameSearch, Report, User

MAX_BATCH = 100  # rows one action may change: "select all 100,000" must not suspend them all
SEARCH_MIN_CHARS = 3  # trigram searches need three characters; fewer would read the whole index
EXCERPT_CHARS = 280


# --- moderation actions with a reason ---------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=moderation.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Recorded in the moderation log with your name.",
        error_messages={"required": "A reason is required."},
    )


@dataclass(frozen=True)
class ModerationStep:
    """One admin action: what the confirmation page says and which service it calls."""

    title: str  # "Suspend accounts": the page title and the button
    description: str
    act: Callable[..., bool]  # an accounts.moderation function: (moderator, obj, reason) -> changed?
    done: str  # "suspended", for "Suspended 2 users."
    unchanged: str  # "already suspended", for "1 user was already suspended: nothing changed."


class ModerationActionsMixin:
    """Admin actions that ask for a reason (Django's action-with-intermediate-page pattern).

    The first POST (from the changelist) renders the confirmation page; its form posts
    back to the changelist with `apply`, the reason and the same selection, and only then
    does anything change, in one transaction: a PermissionDenied rolls the batch back.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        # Django answers an action the user may not run with "No action selected"; a
        # moderator without the permission gets a plain 403 instead, and nothing changes.
        requested = request.POST.get("action") if request.method == "POST" else None
        if requested and self.has_view_or_change_permission(request) and requested not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def describe_for_moderation(self, obj) -> str:
        return str(obj)

    def moderate(self, request, queryset, step: ModerationStep):
        if request.POST.get("select_across") != "1":
            # Exactly the rows ticked, even one that left the list's filter meanwhile (a report
            # another moderator closed): its service then answers "nothing changed".
            ticked = [pk for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if pk.isdigit()]
            queryset = self.get_queryset(request).filter(pk__in=ticked)
        selected = list(queryset[: MAX_BATCH + 1])
        if len(selected) > MAX_BATCH:
            self.message_user(request, f"Act on at most {MAX_BATCH} at a time.", messages.ERROR)
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._apply(request, selected, step, form.cleaned_data["reason"])
            return None
        if form.is_bound:
            self.message_user(request, "Nothing was changed: " + " ".join(form.errors["reason"]), messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": step.title,
            "description": step.description,
            "items": [self.describe_for_moderation(obj) for obj in selected],
            "queryset": selected,
            "form": form,
            "action_name": request.POST["action"],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.opts,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/moderation/confirm_action.html", context)

    def _apply(self, request, selected, step: ModerationStep, reason: str) -> None:
        changed, unchanged, refused = 0, 0, []
        with transaction.atomic():
            for obj in selected:
                try:
                    if step.act(request.user, obj, reason):
                        changed += 1
                    else:
                        unchanged += 1
                except ValidationError as error:
                    refused.append(" ".join(error.messages))
        if changed:
            self.message_user(request, f"{step.done.capitalize()} {changed} {model_ngettext(self.opts, changed)}.")
        if unchanged:
            verb = "was" if unchanged == 1 else "were"
            self.message_user(
                request,
                f"{unchanged} {model_ngettext(self.opts, unchanged)} {verb} {step.unchanged}: nothing changed.",
                messages.WARNING,
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)


# --- accounts ---------------------------------------------------------------------------------


class RecentlyActiveFilter(admin.SimpleListFilter):
    title = "last active"
    parameter_name = "active"
    WINDOWS = {"1d": ("in the last day", timedelta(days=1)), "7d": ("in the last week", timedelta(days=7))}
    WINDOWS["30d"] = ("in the last 30 days", timedelta(days=30))

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.WINDOWS.items()] + [("never", "never seen")]

    def queryset(self, request, queryset):
        if self.value() in self.WINDOWS:
            return queryset.filter(last_active_at__gte=timezone.now() - self.WINDOWS[self.value()][1])
        if self.value() == "never":
            return queryset.filter(last_active_at__isnull=True)
        return queryset


SUSPEND = ModerationStep(
    "Suspend accounts",
    "They will not be able to log in; their sessions and tokens stop working, and they and their posts "
    "disappear from every page, timeline and search at once.",
    moderation.suspend,
    "suspended",
    "already suspended",
)
UNSUSPEND = ModerationStep(
    "Unsuspend accounts",
    "They can log in again and their posts reappear.",
    moderation.unsuspend,
    "unsuspended",
    "not suspended",
)
SILENCE = ModerationStep(
    "Silence accounts",
    "Their posts will reach their followers only: they leave the public and tag timelines, search and suggestions.",
    moderation.silence,
    "silenced",
    "already silenced",
)
UNSILENCE = ModerationStep(
    "Unsilence accounts", "Their posts reach everyone again.", moderation.unsilence, "unsilenced", "not silenced"
)

# Only superusers see or set these; the moderation flags change through actions only.
PERMISSION_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")
MODERATION_FIELDS = ("is_suspended", "suspended_at", "is_silenced", "silenced_at", "moderation_history")


@admin.register(User)
class UserAdmin(ModerationActionsMixin, DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "followers_count",
        "posts_count",
        "is_vip",
        "is_suspended",
        "is_silenced",
        "last_active_at",
    )
    list_filter = ("is_suspended", "is_silenced", "is_vip", RecentlyActiveFilter, "is_staff")
    search_fields = ("username",)  # the real lookups are in get_search_results
    search_help_text = "Part of a username or display name (3+ characters), or a whole email address."
    ordering = ("-id",)
    actions = ("suspend_accounts", "unsuspend_accounts", "silence_accounts", "unsilence_accounts")
    readonly_fields = (
        "created_at",
        "last_active_at",
        "last_login",
        "followers_count",
        "following_count",
        "posts_count",
        "is_vip",
        "is_suspended",
        "suspended_at",
        "is_silenced",
        "silenced_at",
        "moderation_history",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("email", "display_name", "bio", "avatar")}),
        ("Moderation", {"fields": MODERATION_FIELDS}),
        ("Counters", {"fields": ("followers_count", "following_count", "posts_count", "is_vip")}),
        ("Permissions", {"fields": PERMISSION_FIELDS}),
        ("Dates", {"fields": ("created_at", "last_active_at", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Whatever permissions a non-superuser is given, the form cannot carry these fields.
        hidden = {"password", *PERMISSION_FIELDS}
        return tuple(
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in hidden)})
            for name, options in fieldsets
            if any(f not in hidden for f in options["fields"])
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and not request.user.is_superuser:
            # Not UserChangeForm: its password field (and link to set one) is for superusers.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        # Staff accounts are a superuser's business: changing their email would be a way in.
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().removeprefix("@")
        if not term:
            return queryset, False
        if "@" in term:  # the unique index on LOWER(email)
            return queryset.annotate(lower_email=Lower("email")).filter(lower_email=term.lower()), False
        if len(term) < SEARCH_MIN_CHARS:
            self.message_user(request, f"Search for at least {SEARCH_MIN_CHARS} characters.", messages.WARNING)
            return queryset.none(), False
        # UPPER(username || ' ' || display_name) LIKE '%TERM%': the accounts_user_name_trgm index.
        return queryset.annotate(name_search=NameSearch()).filter(name_search__contains=term.upper()), False

    def describe_for_moderation(self, user):
        state = ", ".join(s for s, on in (("suspended", user.is_suspended), ("silenced", user.is_silenced)) if on)
        return f"{user} ({user.name}), {user.followers_count} followers" + (f", {state}" if state else "")

    @admin.display(description="moderation history")
    def moderation_history(self, user):
        filed, received = user.reports_filed.count(), user.reports_received.count()
        recent = user.moderation_actions_received.select_related("moderator")[:10]
        rows = format_html_join(
            "",
            "<li>{} · {} by {}: {}</li>",
            ((f"{a.created_at:%Y-%m-%d %H:%M}", a.get_action_display(), a.moderator, a.reason) for a in recent),
        )
        return format_html("Reports filed: {} · received: {}<ul>{}</ul>", filed, received, rows)

    @admin.action(description="Suspend selected accounts…", permissions=["suspend"])
    def suspend_accounts(self, request, queryset):
        return self.moderate(request, queryset, SUSPEND)

    @admin.action(description="Unsuspend selected accounts…", permissions=["suspend"])
    def unsuspend_accounts(self, request, queryset):
        return self.moderate(request, queryset, UNSUSPEND)

    @admin.action(description="Silence selected accounts…", permissions=["silence"])
    def silence_accounts(self, request, queryset):
        return self.moderate(request, queryset, SILENCE)

    @admin.action(description="Unsilence selected accounts…", permissions=["silence"])
    def unsilence_accounts(self, request, queryset):
        return self.moderate(request, queryset, UNSILENCE)

    def has_suspend_permission(self, request):
        return request.user.has_perm(moderation.SUSPEND_USER)

    def has_silence_permission(self, request):
        return request.user.has_perm(moderation.SILENCE_USER)


# --- reports ----------------------------------------------------------------------------------


class ReportStatusFilter(admin.SimpleListFilter):
    """Open reports unless asked otherwise: the changelist is the moderators' queue."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Report.Status.choices, (self.ALL, "All")]

    def choices(self, changelist):
        current = self.value() or Report.Status.OPEN
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or Report.Status.OPEN
        return queryset if value == self.ALL else queryset.filter(status=value)


def _count_of(model, field: str, outer: str):
    rows = model.objects.filter(**{field: OuterRef(outer)}).order_by().values(field).annotate(n=Count("*"))
    return Coalesce(Subquery(rows.values("n")), 0)


RESOLVE = ModerationStep(
    "Resolve reports", "The reports are closed as handled.", moderation.resolve_report, "resolved", "already closed"
)
REJECT = ModerationStep(
    "Reject reports",
    "The reports are closed with no action against the accounts.",
    moderation.reject_report,
    "rejected",
    "already closed",
)
HIDE_REPORTED = ModerationStep(
    "Hide the reported posts",
    "Every post named in the reports is hidden (gone from every timeline and page), and the reports are resolved.",
    moderation.hide_reported_posts,
    "resolved",
    "already closed",
)
SUSPEND_REPORTED = ModerationStep(
    "Suspend the reported accounts",
    "The reported accounts are suspended (no login, gone from every page and timeline), and the reports are resolved.",
    moderation.suspend_reported_account,
    "resolved",
    "already closed",
)


@admin.register(Report)
class ReportAdmin(ModerationActionsMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "category", "target_summary", "reporter_summary", "reported_content", "status")
    list_display_links = ("id", "created_at")
    list_filter = (ReportStatusFilter, "category")
    list_per_page = 50  # long rows (the reported posts inline); a moderator works from the top
    list_select_related = ("reporter", "target", "resolved_by")
    raw_id_fields = ("reporter", "target", "resolved_by", "posts")
    actions = ("resolve_reports", "reject_reports", "hide_reported_posts", "suspend_reported_accounts")
    fields = (
        "reporter_summary",
        "target_summary",
        "category",
        "comment",
        "reported_content",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        posts = Post.objects.only("id", "text", "is_hidden", "is_deleted", "author_id").order_by("id")
        return (
            super()
            .get_queryset(request)
            .select_related("reporter", "target", "resolved_by")  # confirmation pages too
            .prefetch_related(Prefetch("posts", queryset=posts))
            .annotate(
                reporter_filed=_count_of(Report, "reporter", "reporter"),
                reporter_received=_count_of(Report, "target", "reporter"),
                reporter_actions=_count_of(ModerationAction, "target_user", "reporter"),
                target_filed=_count_of(Report, "reporter", "target"),
                target_received=_count_of(Report, "target", "target"),
                target_actions=_count_of(ModerationAction, "target_user", "target"),
            )
        )

    def get_ordering(self, request):
        # The open queue oldest first (the status, created_at index); closed reports are
        # history, newest first (the primary key), so neither list sorts the whole table.
        status = request.GET.get(ReportStatusFilter.parameter_name, Report.Status.OPEN)
        return ("created_at", "id") if status == Report.Status.OPEN else ("-id",)

    def has_add_permission(self, request):
        return False  # users file reports; moderators act on them

    def has_change_permission(self, request, obj=None):
        return False  # a report changes only by the actions, which log it

    @admin.display(description="reported account")
    def target_summary(self, report):
        return _account_with_history(report.target, report.target_filed, report.target_received, report.target_actions)

    @admin.display(description="reporter")
    def reporter_summary(self, report):
        return _account_with_history(
            report.reporter, report.reporter_filed, report.reporter_received, report.reporter_actions
        )

    @admin.display(description="reported content")
    def reported_content(self, report):
        posts = format_html_join(
            "",
            '<blockquote style="margin:0 0 .5em">{}{}</blockquote>',
            (("[hidden] " if p.is_hidden else "", Truncator(p.text).chars(EXCERPT_CHARS)) for p in report.posts.all()),
        )
        comment = Truncator(report.comment).chars(EXCERPT_CHARS)
        return format_html("{}<small>{}</small>", posts, f"Comment: {comment}" if comment else "")

    def describe_for_moderation(self, report):
        texts = " / ".join(Truncator(p.text).chars(80) for p in report.posts.all())
        return f"Report #{report.pk} on {report.target} ({report.get_category_display()})" + (
            f": {texts}" if texts else ""
        )

    @admin.action(description="Resolve selected reports…", permissions=["resolve"])
    def resolve_reports(self, request, queryset):
        return self.moderate(request, queryset, RESOLVE)

    @admin.action(description="Reject selected reports…", permissions=["resolve"])
    def reject_reports(self, request, queryset):
        return self.moderate(request, queryset, REJECT)

    @admin.action(description="Hide the reported posts and resolve…", permissions=["hide_reported"])
    def hide_reported_posts(self, request, queryset):
        return self.moderate(request, queryset, HIDE_REPORTED)

    @admin.action(description="Suspend the reported accounts and resolve…", permissions=["suspend_reported"])
    def suspend_reported_accounts(self, request, queryset):
        return self.moderate(request, queryset, SUSPEND_REPORTED)

    def has_resolve_permission(self, request):
        return request.user.has_perm(moderation.RESOLVE_REPORT)

    def has_hide_reported_permission(self, request):
        return request.user.has_perms([moderation.RESOLVE_REPORT, moderation.HIDE_POST])

    def has_suspend_reported_permission(self, request):
        return request.user.has_perms([moderation.RESOLVE_REPORT, moderation.SUSPEND_USER])


def account_id_named(name: str) -> int | None:
    """The id of the account called `name` (any case, "@" optional), or None.

    Looked up first, through the unique index on LOWER(username), so that the list's query
    filters on a plain id, which the planner can estimate (and the paginator count) well.
    """
    name = name.strip().removeprefix("@").lower()
    accounts = User.objects.annotate(lower_name=Lower("username")).filter(lower_name=name)
    return accounts.values_list("pk", flat=True).first()


def _account_with_history(user, filed: int, received: int, actions: int):
    return format_html(
        '<a href="{}">{}</a><br><small>reports filed {} · received {} · moderation actions {}{}</small>',
        reverse("admin:accounts_user_change", args=[user.pk]),
        user,
        filed,
        received,
        actions,
        " · suspended" if user.is_suspended else "",
    )


# --- the moderation log -----------------------------------------------------------------------


@admin.register(ModerationAction)
class ModerationActionAdmin(ModerationActionsMixin, admin.ModelAdmin):
    """The audit log: visible, never added to, changed or deleted here, superusers included."""

    list_display = ("id", "created_at", "moderator", "action", "target_user", "target_post_id", "report_id", "reason")
    list_filter = ("action",)
    list_select_related = ("moderator", "target_user")
    search_fields = ("moderator__username",)  # the real lookup is in get_search_results
    search_help_text = "A moderator's or a target account's exact username."
    ordering = ("-id",)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        account_id = account_id_named(search_term)
        if account_id is None:
            return queryset.none(), False
        return queryset.filter(Q(moderator_id=account_id) | Q(target_user_id=account_id)), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
