"""Every write to accounts goes through here."""

import io
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from PIL import Image, ImageOps

from .models import Report, User


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str
    display_name: str = ""


def register_user(account: NewAccount) -> User:
    """Create an account after the same checks every entry point gets.

    Raises ValidationError (with per-field messages) and creates nothing on bad input.
    """
    user = User(username=account.username, email=User.objects.normalize_email(account.email))
    user.display_name = account.display_name
    user.full_clean(exclude=["password"])
    validate_password(account.password, user)
    user.set_password(account.password)
    with transaction.atomic():
        user.save()
    return user


def update_profile(user: User, *, display_name=None, bio=None, avatar=None) -> User:
    """Change the public profile. A new avatar is validated, then re-encoded."""
    if display_name is not None:
        user.display_name = display_name
    if bio is not None:
        user.bio = bio
    if avatar is not None:
        user.avatar = avatar
    user.full_clean(exclude=["password"])
    if avatar is not None:
        user.avatar = reencode_avatar(avatar)
    user.save(update_fields=["display_name", "bio", "avatar", "updated_at"])
    return user


def reencode_avatar(upload) -> SimpleUploadedFile:
    """Decode and re-encode an (already validated) avatar at most AVATAR_SIZE a side.

    Re-encoding drops metadata (EXIF location) and anything smuggled after the pixels,
    so the stored file is only ever an image we wrote ourselves.
    """
    upload.seek(0)
    with Image.open(upload) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((settings.AVATAR_SIZE, settings.AVATAR_SIZE))
        has_alpha = image.mode in ("RGBA", "LA", "P")
        image = image.convert("RGBA" if has_alpha else "RGB")
        buffer = io.BytesIO()
        image_format, extension = ("PNG", "png") if has_alpha else ("JPEG", "jpg")
        image.save(buffer, format=image_format, quality=88, optimize=True)
    return SimpleUploadedFile(f"avatar.{extension}", buffer.getvalue(), content_type=f"image/{image_format.lower()}")


def mark_active(user_id: int, at: datetime) -> bool:
    """Record that a user was seen at `at`, unless a later time is already recorded."""
    updated = (
        User.objects.filter(pk=user_id)
        .filter(Q(last_active_at__isnull=True) | Q(last_active_at__lt=at))
        .update(last_active_at=at)
    )
    return updated == 1


def change_counter(user_id: int, field: str, delta: int) -> None:
    """Move one of a user's counters by `delta` in SQL, so concurrent writers add up."""
    if field not in ("followers_count", "following_count", "posts_count"):
        raise ValueError(f"{field} is not a counter")
    if delta >= 0:
        User.objects.filter(pk=user_id).update(**{field: F(field) + delta})
    else:
        # Never below zero, even if a bug or a manual edit left the counter short.
        User.objects.filter(pk=user_id, **{f"{field}__gte": -delta}).update(**{field: F(field) + delta})


def recount_counters() -> int:
    """Recompute every user's counters from the tables they summarise; returns rows fixed.

    For repairs and after bulk loads (seed_demo); normal writes keep counters exact.
    """
    from graph.models import Follow
    from posts.models import Post

    def count_of(queryset, field):
        counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(counted), 0)

    expected = User.objects.annotate(
        real_followers=count_of(Follow.objects.all(), "followee"),
        real_following=count_of(Follow.objects.all(), "follower"),
        real_posts=count_of(Post.objects.filter(is_deleted=False), "author"),
    ).exclude(followers_count=F("real_followers"), following_count=F("real_following"), posts_count=F("real_posts"))
    fixed = 0
    for user in expected.only("pk").iterator():
        User.objects.filter(pk=user.pk).update(
            followers_count=user.real_followers, following_count=user.real_following, posts_count=user.real_posts
        )
        fixed += 1
    return fixed


def file_report(reporter: User, target: User, *, category: str, comment: str = "", posts=()) -> Report:
    """A user's report about an account and, optionally, some of its posts, for moderators."""
    if reporter.pk == target.pk:
        raise ValidationError("You cannot report yourself.", code="self_report")
    posts = list(posts)
    if any(post.author_id != target.pk for post in posts):
        raise ValidationError("Reported posts must be by the reported account.", code="foreign_post")
    report = Report(reporter=reporter, target=target, category=category, comment=comment)
    report.full_clean()
    with transaction.atomic():
        report.save()
        report.posts.set(posts)
    return report


def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def suspend_user(user: User) -> bool:
    """Suspend an account; returns False if it already was (idempotent)."""
    updated = User.objects.filter(pk=user.pk, is_suspended=False).update(is_suspended=True, suspended_at=timezone.now())
    user.refresh_from_db(fields=["is_suspended", "suspended_at"])
    return updated == 1


def unsuspend_user(user: User) -> bool:
    updated = User.objects.filter(pk=user.pk, is_suspended=True).update(is_suspended=False, suspended_at=None)
    user.refresh_from_db(fields=["is_suspended", "suspended_at"])
    return updated == 1
