"""Mastodon's Relationship and Suggestion entities (content/en/entities/Relationship.md, Suggestion.md)."""

from dataclasses import asdict

from rest_framework import serializers

from accounts.api.serializers import AccountSerializer
from graph.recommendations import Source, Suggestion
from graph.selectors import Relationship


class RelationshipSerializer(serializers.Serializer):
    id = serializers.CharField()
    following = serializers.BooleanField()
    showing_reblogs = serializers.BooleanField()
    notifying = serializers.BooleanField()
    followed_by = serializers.BooleanField()
    blocking = serializers.BooleanField()
    blocked_by = serializers.BooleanField()
    muting = serializers.BooleanField()
    muting_notifications = serializers.BooleanField()
    requested = serializers.BooleanField()
    requested_by = serializers.BooleanField()
    domain_blocking = serializers.BooleanField()
    endorsed = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    languages = serializers.ListField(child=serializers.CharField(), allow_null=True)

    def to_representation(self, relationship: Relationship):
        data = asdict(relationship)
        # Reblogs are shown only to followers (Mastodon sends false when not following).
        showing_reblogs = relationship.following and relationship.showing_reblogs
        return {**data, "id": str(relationship.id), "showing_reblogs": showing_reblogs, "languages": None}


class MutedAccountSerializer(AccountSerializer):
    """An Account in GET /api/v1/mutes: with when the mute ends (null: when unmuted)."""

    mute_expires_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "mute_expires_at"]


# Mastodon's (deprecated) single `source` for each of socialnet's sources.
LEGACY_SOURCES = {Source.FRIENDS_OF_FRIENDS: "past_interactions", Source.MOST_FOLLOWED: "global"}


class SuggestionSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="Deprecated by Mastodon: past_interactions or global.")
    sources = serializers.ListField(child=serializers.CharField(), help_text="friends_of_friends or most_followed.")
    account = AccountSerializer()
    reason = serializers.CharField(help_text="Why, for people: 'followed by alice, bob and 3 others you follow'.")

    def to_representation(self, suggestion: Suggestion):
        return {
            "source": LEGACY_SOURCES.get(suggestion.source, "global"),
            "sources": [suggestion.source],
            "account": AccountSerializer(suggestion.account, context=self.context).data,
            "reason": suggestion.reason,
        }
