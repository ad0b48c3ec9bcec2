import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from oauth2_provider.models import AbstractApplication

from .validators import USERNAME_MAX_LENGTH, validate_avatar, validate_username


def avatar_upload_path(user, filename):
    # A fresh random name per upload: old URLs stay cacheable forever and nobody can
    # guess or overwrite another user's file.
    return f"avatars/{user.pk or 'new'}/{uuid.uuid4().hex}.{filename.rsplit('.', 1)[-1].lower()}"


class NameSearch(models.Func):
    """UPPER(username || ' ' || display_name): what the admin's account search matches.

    Trigram-indexed (accounts_user_name_trgm), so a search stays an index lookup on
    millions of accounts; written without parameters so the query's expression is the
    index's, character for character.
    """

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()

    def __init__(self):
        super().__init__(models.F("username"), models.F("display_name"))


class AccountManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)

    def active(self):
        """Accounts every read shows: not suspended, not deactivated."""
        return self.filter(is_suspended=False, is_active=True)

    def discoverable(self):
        """Accounts strangers may come across (search, suggestions): active and not silenced."""
        return self.active().filter(is_silenced=False)


class User(AbstractUser):
    """An account. Usernames and emails are unique whatever their case."""

    username = models.CharField(
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        validators=[validate_username],
        error_messages={"unique": "That username is taken."},
    )
    email = models.EmailField(unique=True, error_messages={"unique": "That email address is already in use."})
    first_name = None
    last_name = None
    display_name = models.CharField(max_length=50, blank=True)
    # TextField's max_length only reaches forms; the validator makes full_clean enforce it.
    bio = models.TextField(max_length=500, blank=True, validators=[MaxLengthValidator(500)])
    avatar = models.ImageField(upload_to=avatar_upload_path, blank=True, validators=[validate_avatar])

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Written by a Celery task at most every LAST_ACTIVE_RESOLUTION_SECONDS (middleware.py).
    last_active_at = models.DateTimeField(null=True, blank=True)

    # Moderation flags are set only through accounts.moderation, which writes the audit row.
    is_suspended = models.BooleanField(default=False)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # Posts reach followers only: out of public and tag timelines, search and suggestions.
    # The database default lets code deployed before the flag existed keep inserting accounts.
    is_silenced = models.BooleanField(default=False, db_default=False)
    silenced_at = models.DateTimeField(null=True, blank=True)

    # Authors with VIP_THRESHOLD+ followers are not fanned out: readers pull their posts.
    # Set and cleared with hysteresis by timeline.services.refresh_vip_flags.
    is_vip = models.BooleanField(default=False)
    vip_changed_at = models.DateTimeField(null=True, blank=True)

    # Denormalised counters, only ever changed with F() expressions in services.
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    posts_count = models.PositiveIntegerField(default=0)

    REQUIRED_FIELDS = ["email"]

    objects = AccountManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="That username is taken.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="That email address is already in use.",
            ),
        ]
        indexes = [
            models.Index(fields=["last_active_at"], name="accounts_user_last_active"),
            models.Index(fields=["-followers_count"], name="accounts_user_most_followed"),
            models.Index(fields=["id"], name="accounts_user_vips", condition=models.Q(is_vip=True)),
            # Recently demoted VIPs, which readers still merge for an hour (timeline.services).
            models.Index(
                fields=["vip_changed_at"],
                name="accounts_user_vip_changed",
                condition=models.Q(vip_changed_at__isnull=False),
            ),
            GinIndex(OpClass(NameSearch(), name="gin_trgm_ops"), name="accounts_user_name_trgm"),
            # Case-insensitive prefix search of accounts (the API's account search):
            # lower(...) LIKE 'prefix%' is an index range scan with text_pattern_ops.
            models.Index(OpClass(Lower("username"), name="text_pattern_ops"), name="accounts_user_username_prefix"),
            models.Index(OpClass(Lower("display_name"), name="text_pattern_ops"), name="accounts_user_name_prefix"),
        ]

    def __str__(self):
        return f"@{self.username}"

    @property
    def name(self):
        return self.display_name or self.username


class Report(models.Model):
    """A user's complaint about an account (and some of its posts), for moderators."""

    class Category(models.TextChoices):
        # Mastodon's report categories, so API clients can send theirs unchanged.
        SPAM = "spam", "Spam"
        LEGAL = "legal", "Illegal content"
        VIOLATION = "violation", "Breaks the rules"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        REJECTED = "rejected", "Rejected"

    reporter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reports_filed")
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reports_received")
    posts = models.ManyToManyField("posts.Post", blank=True, related_name="reports")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    comment = models.TextField(max_length=1000, blank=True, validators=[MaxLengthValidator(1000)])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports_resolved"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="accounts_report_queue")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reporter=models.F("target")),
                name="accounts_report_not_self",
                violation_error_message="You cannot report yourself.",
            )
        ]

    def __str__(self):
        return f"Report #{self.pk} on {self.target} ({self.status})"


class OAuthApplication(AbstractApplication):
    """An app registered through Mastodon's POST /api/v1/apps (or by a developer).

    Mastodon apps send redirect URIs that django-oauth-toolkit's validator refuses: the
    out-of-band URN (the code is shown on a page) and custom schemes such as tusky://.
    accounts/oauth.py validates those instead, and allows exactly the schemes the app
    registered when redirecting back to it.
    """

    website = models.URLField(blank=True, max_length=2000)
    # The scopes the app registered; a token may be granted any of them, or fewer.
    scopes = models.CharField(max_length=1000, default="read")

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ["id"]

    def clean(self):
        from .oauth import validate_redirect_uris

        validate_redirect_uris(self.redirect_uris)

    def get_allowed_schemes(self):
        from .oauth import registered_schemes

        return registered_schemes(self.redirect_uris)

    def allows_grant_type(self, *grant_types):
        # A Mastodon app uses one registration for the user's authorization code, its own
        # client-credentials token (to sign people up) and refreshes.
        mastodon_grants = {self.GRANT_AUTHORIZATION_CODE, self.GRANT_CLIENT_CREDENTIALS, "refresh_token"}
        return bool(mastodon_grants & set(grant_types))


class ModerationAction(models.Model):
    """One moderator decision, written by accounts.moderation in the transaction it records.

    Append-only: the model refuses saves of existing rows and deletes, the admin grants
    nobody add/change/delete, and a database trigger (the moderation migration) refuses UPDATE and
    DELETE outright, except clearing the link to a target that is itself being deleted.
    """

    class Kind(models.TextChoices):
        HIDE_POST = "hide_post", "Hid a post"
        UNHIDE_POST = "unhide_post", "Unhid a post"
        SUSPEND = "suspend", "Suspended an account"
        UNSUSPEND = "unsuspend", "Unsuspended an account"
        SILENCE = "silence", "Silenced an account"
        UNSILENCE = "unsilence", "Unsilenced an account"
        RESOLVE_REPORT = "resolve_report", "Resolved a report"
        REJECT_REPORT = "reject_report", "Rejected a report"

    # PROTECT: a moderator with a history is deactivated, never deleted, so the log keeps its author.
    moderator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="moderation_actions_taken")
    action = models.CharField(max_length=32, choices=Kind.choices)
    target_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_actions_received"
    )
    target_post = models.ForeignKey(
        "posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_actions"
    )
    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_actions"
    )
    reason = models.TextField(max_length=1000, validators=[MaxLengthValidator(1000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="accounts_moderationaction_has_reason"),
        ]
        # Given to the `moderators` group (the moderators_group migration), checked by accounts.moderation.
        permissions = [
            ("hide_post", "Can hide and unhide posts"),
            ("suspend_user", "Can suspend and unsuspend accounts"),
            ("silence_user", "Can silence and unsilence accounts"),
            ("resolve_report", "Can resolve and reject reports"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} (#{self.pk})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The moderation log is append-only: rows are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The moderation log is append-only: rows are never deleted.")
