from django.contrib import admin, messages
from django.utils.text import Truncator

from accounts import moderation
from accounts.admin import SEARCH_MIN_CHARS, ModerationActionsMixin, ModerationStep, account_id_named

from .models import Hashtag, Post

HIDE = ModerationStep(
    "Hide posts",
    "They disappear from every timeline, page and API response at once (and from cached timelines shortly). "
    "Their authors can still see that a moderator hid them.",
    moderation.hide_post,
    "hid",
    "already hidden",
)
UNHIDE = ModerationStep(
    "Unhide posts", "They reappear everywhere they were.", moderation.unhide_post, "unhid", "not hidden"
)


@admin.register(Post)
class PostAdmin(ModerationActionsMixin, admin.ModelAdmin):
    list_display = ("id", "author", "short_text", "created_at", "is_hidden", "is_deleted")
    # Only indexed filters: "deleted" would scan a million rows to fill a page.
    list_filter = ("is_hidden",)
    list_select_related = ("author",)
    raw_id_fields = ("author", "reply_to", "repost_of")
    search_fields = ("text",)  # the real lookups are in get_search_results
    search_help_text = "Words from the text (3+ characters), @username for an author's posts, or a post id."
    actions = ("hide_posts", "unhide_posts")
    # Text and visibility are the author's and the moderation actions' to change.
    readonly_fields = (
        "id",
        "author",
        "text",
        "reply_to",
        "repost_of",
        "created_at",
        "edited_at",
        "fanned_out_at",
        "is_deleted",
        "deleted_at",
        "is_hidden",
        "hidden_at",
        "hidden_reason",
        "replies_count",
        "reposts_count",
        "likes_count",
    )
    exclude = ("mentioned_users", "hashtags")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")  # confirmation pages too

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith("@"):
            author_id = account_id_named(term)
            return (queryset.none() if author_id is None else queryset.filter(author_id=author_id)), False
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        if len(term) < SEARCH_MIN_CHARS:
            self.message_user(request, f"Search for at least {SEARCH_MIN_CHARS} characters.", messages.WARNING)
            return queryset.none(), False
        # UPPER(text) LIKE '%TERM%': the posts_post_text_trgm index.
        return queryset.filter(text__icontains=term), False

    def has_add_permission(self, request):
        return False  # posts are written by their authors

    @admin.display(description="text")
    def short_text(self, post):
        return Truncator(post.text).chars(80)

    def describe_for_moderation(self, post):
        return f"Post {post.pk} by {post.author}: {Truncator(post.text).chars(140)}"

    @admin.action(description="Hide selected posts…", permissions=["hide"])
    def hide_posts(self, request, queryset):
        return self.moderate(request, queryset, HIDE)

    @admin.action(description="Unhide selected posts…", permissions=["hide"])
    def unhide_posts(self, request, queryset):
        return self.moderate(request, queryset, UNHIDE)

    def has_hide_permission(self, request):
        return request.user.has_perm(moderation.HIDE_POST)


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    list_display = ("name", "created_at")
