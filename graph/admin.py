from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.timesince import timesince

from . import mirror, neo4j_client
from .models import Follow, GraphOutbox

# Drains run right after each follow and every 30 s: a row older than this means Neo4j is behind.
STALE_AFTER = timedelta(minutes=2)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("id", "follower", "followee", "created_at")
    list_select_related = ("follower", "followee")
    raw_id_fields = ("follower", "followee")
    show_full_result_count = False


@admin.register(GraphOutbox)
class GraphOutboxAdmin(admin.ModelAdmin):
    """Read-only view of the Neo4j mirror's backlog: rows leave only by being drained."""

    list_display = ("id", "follower_id", "followee_id", "created_at", "waiting_for")
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        messages.add_message(request, *_backlog_message())
        return super().changelist_view(request, extra_context)

    @admin.display(description="waiting for")
    def waiting_for(self, row: GraphOutbox) -> str:
        return timesince(row.created_at)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a row by hand would leave its edge stale in Neo4j until the next full sync.
        return False


def _backlog_message() -> tuple[int, str]:
    count, oldest = mirror.backlog_status()
    if not neo4j_client.is_configured():
        return messages.INFO, f"Neo4j is not configured (NEO4J_URI is empty); {count} rows queued."
    if oldest is None:
        return messages.SUCCESS, "Backlog: empty. Neo4j mirrors every committed follow."
    now = timezone.now()
    level = messages.WARNING if now - oldest > STALE_AFTER else messages.INFO
    waited = timesince(oldest, now)
    return level, f"Backlog: {count} rows; the oldest has waited {waited} (queued {oldest:%Y-%m-%d %H:%M:%S} UTC)."
