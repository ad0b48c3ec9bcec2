"""Every write to posts, likes, mentions and hashtags goes through here.

Callers get a ValidationError (bad input, with the reason) or a PermissionDenied (not
theirs to change); in both cases nothing was written.
"""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from accounts.services import change_counter
from graph.selectors import blocked_either_way_filter, is_blocked_either_way
from notifications.models import Notification
from notifications.services import notify, withdraw
from socialnet.celery import enqueue_after_commit
from socialnet.db import insert_if_absent
from socialnet.ids import next_id_at
from timeline import services as timeline_services
from timeline import tasks as timeline_tasks

from . import text as post_text
from .models import POST_ID_SEQUENCE, Hashtag, Like, Mention, Post, PostHashtag


def validate_post_text(text: str) -> None:
    if not text or not text.strip():
        raise ValidationError("A post cannot be empty.", code="empty")
    count, limit = post_text.character_count(text), settings.POST_MAX_CHARS
    if count > limit:
        raise ValidationError(
            f"Posts are at most {limit} characters; this one has {count}.", code="too_long", params={"count": count}
        )


def create_post(author: User, text: str, *, reply_to: Post | None = None, created_at: datetime | None = None) -> Post:
    """Publish a post (or a reply). `created_at` backdates it, for imports and demo data."""
    _check_can_write(author)
    validate_post_text(text)
    if reply_to is not None:
        _check_can_interact(author, reply_to, "reply to")
    with transaction.atomic():
        post = Post(author=author, text=text, reply_to=reply_to)
        if created_at is not None:
            post.id, post.created_at = next_id_at(POST_ID_SEQUENCE, created_at), created_at
        post.save(force_insert=True)
        mentioned = _link_mentions_and_hashtags(post)
        change_counter(author.pk, "posts_count", +1)
        if reply_to is not None:
            Post.objects.filter(pk=reply_to.pk).update(replies_count=F("replies_count") + 1)
            notify(reply_to.author_id, Notification.Type.REPLY, author, post)
        for user in mentioned:
            if reply_to is None or user.pk != reply_to.author_id:  # the reply already told them
                notify(user.pk, Notification.Type.MENTION, author, post)
        _publish_after_commit(post)
    return post


def edit_post(actor: User, post: Post, text: str) -> Post:
    _check_is_author(actor, post, "edit")
    if post.is_hidden:
        raise PermissionDenied("A moderator has hidden this post; it cannot be edited.")
    if post.is_repost:
        raise ValidationError("A repost has no text to edit.", code="repost_not_editable")
    validate_post_text(text)
    with transaction.atomic():
        post.text, post.edited_at = text, timezone.now()
        post.save(update_fields=["text", "edited_at"])
        already_mentioned = set(post.mentions.values_list("user_id", flat=True))
        post.mentions.all().delete()
        PostHashtag.objects.filter(post=post).delete()
        for user in _link_mentions_and_hashtags(post):
            if user.pk not in already_mentioned:
                notify(user.pk, Notification.Type.MENTION, actor, post)
    return post


def delete_post(actor: User, post: Post) -> bool:
    """Soft-delete a post of the actor's; returns False if it was already deleted."""
    _check_is_author(actor, post, "delete")
    with transaction.atomic():
        deleted = Post.objects.filter(pk=post.pk, is_deleted=False).update(is_deleted=True, deleted_at=timezone.now())
        if not deleted:
            return False
        change_counter(post.author_id, "posts_count", -1)
        if post.is_repost:
            parent_id, counter = post.repost_of_id, "reposts_count"
        else:
            parent_id, counter = post.reply_to_id, "replies_count"
        if parent_id is not None:
            Post.objects.filter(pk=parent_id, **{f"{counter}__gt": 0}).update(**{counter: F(counter) - 1})
        # Reads filter deleted posts at once; this takes it out of the Redis sets too.
        enqueue_after_commit(timeline_tasks.retract_post, post.pk)
    post.refresh_from_db(fields=["is_deleted", "deleted_at"])
    return True


def repost(user: User, post: Post, *, created_at: datetime | None = None) -> Post:
    """Repost `post` (or, for a repost, its original). Reposting twice returns the first.

    `created_at` backdates it, as for create_post.
    """
    _check_can_write(user)
    original = post.repost_of if post.is_repost else post
    _check_can_interact(user, original, "repost")
    existing = _live_repost(user, original)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            shared = Post(author=user, repost_of=original, text="")
            if created_at is not None:
                shared.id, shared.created_at = next_id_at(POST_ID_SEQUENCE, created_at), created_at
            shared.save(force_insert=True)
            change_counter(user.pk, "posts_count", +1)
            Post.objects.filter(pk=original.pk).update(reposts_count=F("reposts_count") + 1)
            notify(original.author_id, Notification.Type.REBLOG, user, original)
            _publish_after_commit(shared)
    except IntegrityError:
        # A concurrent request reposted it first: the unique constraint kept one.
        return _live_repost(user, original)
    return shared


def unrepost(user: User, post: Post) -> bool:
    original = post.repost_of if post.is_repost else post
    shared = _live_repost(user, original)
    return delete_post(user, shared) if shared is not None else False


def like(user: User, post: Post) -> bool:
    """Like a post; returns False if the user already did (nothing changes)."""
    _check_can_write(user)
    _check_can_interact(user, post, "like")
    with transaction.atomic():
        created = insert_if_absent(Like, user=user, post=post)
        if created:
            Post.objects.filter(pk=post.pk).update(likes_count=F("likes_count") + 1)
            notify(post.author_id, Notification.Type.FAVOURITE, user, post)
    return created


def unlike(user: User, post: Post) -> bool:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, post=post).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, likes_count__gt=0).update(likes_count=F("likes_count") - 1)
            withdraw(post.author_id, Notification.Type.FAVOURITE, user, post)
    return bool(deleted)


def _publish_after_commit(post: Post) -> None:
    """The author sees it at once; followers get it from the fan-out task."""
    transaction.on_commit(lambda: timeline_services.deliver_to_author(post))
    enqueue_after_commit(timeline_tasks.fan_out_post, post.pk)


def _live_repost(user: User, original: Post) -> Post | None:
    return Post.objects.filter(author=user, repost_of=original, is_deleted=False).first()


def _link_mentions_and_hashtags(post: Post) -> list[User]:
    """Store the post's mentions and hashtags; returns the accounts mentioned."""
    usernames = [name.lower() for name in post_text.extract_mentions(post.text)]
    mentioned: list[User] = []
    if usernames:
        mentioned = (
            User.objects.active()
            .annotate(lower_name=Lower("username"))
            .filter(lower_name__in=usernames)
            # A block either way: the text stays as typed, but no mention (and no notification).
            .exclude(blocked_either_way_filter(post.author, "pk"))
        )
        mentioned = list(mentioned)
        Mention.objects.bulk_create([Mention(post=post, user=user) for user in mentioned], ignore_conflicts=True)
    tag_names = post_text.extract_hashtags(post.text)
    if tag_names:
        Hashtag.objects.bulk_create([Hashtag(name=name) for name in tag_names], ignore_conflicts=True)
        tags = Hashtag.objects.filter(name__in=tag_names)
        PostHashtag.objects.bulk_create([PostHashtag(post=post, hashtag=tag) for tag in tags], ignore_conflicts=True)
    return mentioned


def _check_can_write(user: User) -> None:
    if user.is_suspended or not user.is_active:
        raise PermissionDenied("Your account is suspended.")


def _check_is_author(actor: User, post: Post, action: str) -> None:
    if post.author_id != actor.pk:
        raise PermissionDenied(f"You can only {action} your own posts.")


def _check_can_interact(user: User, post: Post, action: str) -> None:
    if not post.is_visible or post.author.is_suspended or is_blocked_either_way(user, post.author):
        raise ValidationError(f"You cannot {action} this post: it is no longer available.", code="post_unavailable")
