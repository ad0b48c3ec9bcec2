from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from socialnet.ids import NextId

POST_ID_SEQUENCE = "posts_post_snowflake_seq"


class Post(models.Model):
    """A post, a reply (`reply_to`) or a repost (`repost_of`, with no text of its own).

    The id is time-sortable and below 2**53 (socialnet/ids.py): it orders every feed and
    is the member and score in Redis timelines. Text is stored exactly as typed and
    escaped (or sanitised with nh3) when rendered.
    """

    id = models.BigIntegerField(primary_key=True, db_default=NextId(POST_ID_SEQUENCE), editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField(blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    repost_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="reposts")
    created_at = models.DateTimeField(db_default=models.functions.Now())
    edited_at = models.DateTimeField(null=True, blank=True)

    # When fan-out to followers' home timelines finished; the sweep retries posts left unmarked.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator.")
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.TextField(blank=True)

    # Denormalised counters, only ever changed with F() expressions in services.
    replies_count = models.PositiveIntegerField(default=0)
    reposts_count = models.PositiveIntegerField(default=0)
    likes_count = models.PositiveIntegerField(default=0)

    mentioned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Mention", related_name="mentioned_in", blank=True
    )
    hashtags = models.ManyToManyField("Hashtag", through="PostHashtag", related_name="posts", blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # "Posts of author X, newest first": profiles, VIP pulls, timeline rebuilds.
            models.Index(fields=["author", "-id"], name="posts_post_author_id_desc"),
            models.Index(fields=["reply_to", "id"], name="posts_post_replies", condition=Q(reply_to__isnull=False)),
            models.Index(fields=["repost_of"], name="posts_post_reposts", condition=Q(repost_of__isnull=False)),
            models.Index(fields=["id"], name="posts_post_fan_out_pending", condition=Q(fanned_out_at__isnull=True)),
            # Admin text search: Django's icontains is UPPER(text) LIKE '%…%', so the trigram
            # index is on that expression (its migration builds both concurrently).
            GinIndex(OpClass(Upper("text"), name="gin_trgm_ops"), name="posts_post_text_trgm"),
            models.Index(fields=["id"], name="posts_post_hidden", condition=Q(is_hidden=True)),
            # Full-text search of statuses (GET /api/v2/search): socialnet/api_search.py's
            # query uses this very expression.
            GinIndex(SearchVector("text", config="simple"), name="posts_post_text_search"),
        ]
        constraints = [
            # One live repost per user and post (Mastodon's rule); a deleted one frees it.
            models.UniqueConstraint(
                fields=["author", "repost_of"],
                condition=Q(repost_of__isnull=False, is_deleted=False),
                name="posts_post_one_repost_per_user",
            ),
            models.CheckConstraint(
                condition=Q(repost_of__isnull=True) | Q(reply_to__isnull=True, text=""),
                name="posts_post_repost_has_no_text_or_parent",
            ),
        ]

    def __str__(self):
        return f"Post {self.pk} by {self.author_id}"

    @property
    def is_repost(self):
        return self.repost_of_id is not None

    @property
    def is_visible(self):
        return not (self.is_deleted or self.is_hidden)


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        ordering = ["-post_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="posts_mention_unique")]
        indexes = [models.Index(fields=["user", "-post"], name="posts_mention_user_recent")]

    def __str__(self):
        return f"Post {self.post_id} mentions {self.user_id}"


class Hashtag(models.Model):
    """A tag, stored once in its normalised (case-folded) form; posts keep the typed form."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"#{self.name}"


class PostHashtag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE)

    class Meta:
        ordering = ["-post_id"]
        constraints = [models.UniqueConstraint(fields=["post", "hashtag"], name="posts_posthashtag_unique")]
        indexes = [models.Index(fields=["hashtag", "-post"], name="posts_posthashtag_tag_recent")]

    def __str__(self):
        return f"Post {self.post_id} tagged {self.hashtag_id}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="posts_like_unique")]
        indexes = [models.Index(fields=["post", "-id"], name="posts_like_post_recent")]

    def __str__(self):
        return f"{self.user_id} likes {self.post_id}"
