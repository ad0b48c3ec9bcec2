"""Every moderator decision goes through here (the admin's actions call these).

Each action checks the moderator's permission and that a reason was given, changes state
with one conditional UPDATE (so doing it twice, or two moderators at once, changes it
once), writes its ModerationAction row in the same transaction and schedules its side
effects for after the commit. Each returns True if it changed something and False if
there was nothing to do (already hidden, already suspended, report already closed), in
which case no audit row is written either.

Reads never wait for side effects: visible_posts() filters hidden posts and suspended
authors, the public and tag timelines filter silenced ones, and the login backend refuses
suspended accounts on every request. The tasks only tidy derived data (Redis timelines).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from posts.models import Post
from socialnet.celery import enqueue_after_commit
from timeline import services as timeline_services
from timeline import tasks as timeline_tasks

from . import services as account_services
from .models import ModerationAction, Report, User

MODERATORS_GROUP = "moderators"  # made by the moderators_group migration with exactly these permissions
REASON_MAX_LENGTH = 1000

HIDE_POST = "accounts.hide_post"
SUSPEND_USER = "accounts.suspend_user"
SILENCE_USER = "accounts.silence_user"
RESOLVE_REPORT = "accounts.resolve_report"

Kind = ModerationAction.Kind


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.", code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(f"A reason is at most {REASON_MAX_LENGTH} characters.", code="reason_too_long")
    return reason


# --- posts ----------------------------------------------------------------------------------


def hide_post(moderator: User, post: Post, reason: str, *, report: Report | None = None) -> bool:
    reason = _check(moderator, [HIDE_POST], reason)
    with transaction.atomic():
        changed = Post.objects.filter(pk=post.pk, is_hidden=False).update(
            is_hidden=True, hidden_at=timezone.now(), hidden_reason=reason
        )
        if changed:
            _record(moderator, Kind.HIDE_POST, reason, target_user_id=post.author_id, target_post=post, report=report)
            # Reads drop it at once; this takes it out of the Redis timelines too.
            enqueue_after_commit(timeline_tasks.retract_post, post.pk)
    post.refresh_from_db(fields=["is_hidden", "hidden_at", "hidden_reason", "fanned_out_at"])
    return bool(changed)


def unhide_post(moderator: User, post: Post, reason: str) -> bool:
    reason = _check(moderator, [HIDE_POST], reason)
    with transaction.atomic():
        # Unmarked, so the fan-out delivers it again (and the sweep retries it if that is lost).
        changed = Post.objects.filter(pk=post.pk, is_hidden=True).update(
            is_hidden=False, hidden_at=None, hidden_reason="", fanned_out_at=None
        )
        if changed:
            _record(moderator, Kind.UNHIDE_POST, reason, target_user_id=post.author_id, target_post=post)
            post.refresh_from_db()
            if not post.is_deleted:
                transaction.on_commit(lambda: timeline_services.deliver_to_author(post))
                enqueue_after_commit(timeline_tasks.fan_out_post, post.pk)
    post.refresh_from_db(fields=["is_hidden", "hidden_at", "hidden_reason", "fanned_out_at"])
    return bool(changed)


# --- accounts -------------------------------------------------------------------------------


def suspend(moderator: User, account: User, reason: str, *, report: Report | None = None) -> bool:
    """Suspend an account: no login, no sessions or tokens, gone from every read.

    Nothing needs scheduling: fan-out checks the author on every batch (so even one in
    flight stops), and reads filter suspended authors and accounts.
    """
    reason = _check(moderator, [SUSPEND_USER], reason, account=account)
    with transaction.atomic():
        changed = account_services.suspend_user(account)
        if changed:
            _record(moderator, Kind.SUSPEND, reason, target_user_id=account.pk, report=report)
    return changed


def unsuspend(moderator: User, account: User, reason: str) -> bool:
    reason = _check(moderator, [SUSPEND_USER], reason, account=account)
    with transaction.atomic():
        changed = account_services.unsuspend_user(account)
        if changed:
            _record(moderator, Kind.UNSUSPEND, reason, target_user_id=account.pk)
    return changed


def silence(moderator: User, account: User, reason: str) -> bool:
    """Silence an account: its posts reach followers only (reads filter; nothing to schedule)."""
    reason = _check(moderator, [SILENCE_USER], reason, account=account)
    return _set_silenced(moderator, account, reason, silenced=True)


def unsilence(moderator: User, account: User, reason: str) -> bool:
    reason = _check(moderator, [SILENCE_USER], reason, account=account)
    return _set_silenced(moderator, account, reason, silenced=False)


def _set_silenced(moderator: User, account: User, reason: str, *, silenced: bool) -> bool:
    with transaction.atomic():
        changed = User.objects.filter(pk=account.pk, is_silenced=not silenced).update(
            is_silenced=silenced, silenced_at=timezone.now() if silenced else None
        )
        if changed:
            _record(moderator, Kind.SILENCE if silenced else Kind.UNSILENCE, reason, target_user_id=account.pk)
    account.refresh_from_db(fields=["is_silenced", "silenced_at"])
    return bool(changed)


# --- reports --------------------------------------------------------------------------------


def resolve_report(moderator: User, report: Report, reason: str) -> bool:
    reason = _check(moderator, [RESOLVE_REPORT], reason)
    return _close(moderator, report, reason, Report.Status.RESOLVED)


def reject_report(moderator: User, report: Report, reason: str) -> bool:
    reason = _check(moderator, [RESOLVE_REPORT], reason)
    return _close(moderator, report, reason, Report.Status.REJECTED)


def hide_reported_posts(moderator: User, report: Report, reason: str) -> bool:
    """Hide the posts a report names and resolve it. A closed report is left alone."""
    reason = _check(moderator, [RESOLVE_REPORT, HIDE_POST], reason)
    with transaction.atomic():
        if not _lock_if_open(report):
            return False
        posts = list(report.posts.all())
        if not posts:
            raise ValidationError(f"Report #{report.pk} names no posts to hide.", code="no_posts")
        for post in posts:
            hide_post(moderator, post, reason, report=report)
        return _close(moderator, report, reason, Report.Status.RESOLVED)


def suspend_reported_account(moderator: User, report: Report, reason: str) -> bool:
    """Suspend the reported account and resolve the report. A closed report is left alone."""
    reason = _check(moderator, [RESOLVE_REPORT, SUSPEND_USER], reason, account=report.target)
    with transaction.atomic():
        if not _lock_if_open(report):
            return False
        suspend(moderator, report.target, reason, report=report)
        return _close(moderator, report, reason, Report.Status.RESOLVED)


def _lock_if_open(report: Report) -> bool:
    """Lock an open report's row for this transaction, so two moderators' actions queue up."""
    return Report.objects.select_for_update().filter(pk=report.pk, status=Report.Status.OPEN).exists()


def _close(moderator: User, report: Report, reason: str, status: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        changed = Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
            status=status, resolved_at=now, resolved_by=moderator, updated_at=now
        )
        if changed:
            kind = Kind.RESOLVE_REPORT if status == Report.Status.RESOLVED else Kind.REJECT_REPORT
            _record(moderator, kind, reason, target_user_id=report.target_id, report=report)
    report.refresh_from_db(fields=["status", "resolved_at", "resolved_by", "updated_at"])
    return bool(changed)


# --- checks and the log ---------------------------------------------------------------------


def _check(moderator: User, permissions: list[str], reason: str, *, account: User | None = None) -> str:
    """Permission first (a refusal must not reveal anything else), then the reason."""
    if not moderator.is_active or not moderator.has_perms(permissions):
        raise PermissionDenied("You do not have permission to do that.")
    if account is not None:
        if account.pk == moderator.pk:
            raise PermissionDenied("You cannot moderate your own account.")
        if (account.is_staff or account.is_superuser) and not moderator.is_superuser:
            raise PermissionDenied("Only a superuser can moderate a staff account.")
    return clean_reason(reason)


def _record(moderator: User, kind: str, reason: str, **targets) -> ModerationAction:
    return ModerationAction.objects.create(moderator=moderator, action=kind, reason=reason, **targets)
