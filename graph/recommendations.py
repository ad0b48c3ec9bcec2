"""Recommendations ("who to follow") and "followed by people you know".

The graph questions go to a backend (graph/backends.py): Neo4j when NEO4J_URI is set,
PostgreSQL otherwise, and PostgreSQL whenever Neo4j fails, with a log line saying so.
Everything that depends on fresh state (suspensions, blocks, mutes, dismissals) is
filtered here in PostgreSQL, so a stale mirror can never suggest a suspended account.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from . import store
from .backends import Candidate, GraphBackend, PostgresGraph
from .models import Block, Follow, SuggestionDismissal
from .selectors import active_mutes

logger = logging.getLogger(__name__)

SUGGESTIONS_MAX = 80  # Mastodon's most per request; computed and cached per user, requests take a prefix
# Asked of the backend beyond what is needed, so that dropping suspended accounts
# (filtered after the graph query) rarely leaves a short list.
OVERFETCH = 10


class Source:
    FRIENDS_OF_FRIENDS = "friends_of_friends"
    MOST_FOLLOWED = "most_followed"


@dataclass(frozen=True)
class Suggestion:
    account: User
    source: str  # Source.*; Mastodon's suggestion `sources` use the same words
    score: int  # how many people the user follows follow this account (0 for most_followed)
    followed_by: list[User]  # a few of them, for the reason
    reason: str


@dataclass(frozen=True)
class MutualFollows:
    accounts: list[User]  # a few people the viewer follows who follow the other account
    total: int
    reason: str  # "" when nobody


def recommend_follows(user: User, limit: int = 20) -> list[Suggestion]:
    """Up to `limit` accounts for `user` to follow, best first, each with its reason."""
    limit = max(1, min(limit, SUGGESTIONS_MAX))
    candidates = store.cached_recommendations(user.pk)
    if candidates is None:
        candidates = [asdict(c) | {"source": source} for c, source in _compute_candidates(user)]
        store.cache_recommendations(user.pk, candidates)
    return _hydrate(candidates, limit)


def mutual_follows(viewer: User, other: User, limit: int = 3) -> MutualFollows:
    """Accounts the viewer follows that follow `other` ("followed by alice, bob and 3 others you follow")."""
    if not viewer.is_authenticated or viewer.pk == other.pk:
        return MutualFollows([], 0, "")
    ids, total = _ask_graph(lambda backend: backend.mutual_follows(viewer.pk, other.pk, limit=limit))
    accounts = _active_in_order(ids)
    return MutualFollows(accounts, total, followed_by_reason([a.username for a in accounts], total))


def followed_by_reason(names: list[str], total: int) -> str:
    if total == 0 or not names:
        return ""
    if total == 1:
        return f"followed by {names[0]}"
    if total <= len(names) and total <= 3:
        return f"followed by {', '.join(names[: total - 1])} and {names[total - 1]}"
    shown = names[:2]
    others = total - len(shown)
    return f"followed by {', '.join(shown)} and {others} other{'s' if others != 1 else ''} you follow"


def graph_backend() -> GraphBackend:
    if settings.NEO4J_URI:
        from .neo4j_backend import Neo4jGraph

        return Neo4jGraph()
    return PostgresGraph()


def _compute_candidates(user: User) -> list[tuple[Candidate, str]]:
    excluded = _excluded_ids(user)
    found = _ask_graph(
        lambda backend: backend.friends_of_friends(user.pk, exclude_ids=excluded, limit=SUGGESTIONS_MAX + OVERFETCH)
    )
    allowed = set(User.objects.discoverable().filter(pk__in=[c.user_id for c in found]).values_list("pk", flat=True))
    chosen = [(c, Source.FRIENDS_OF_FRIENDS) for c in found if c.user_id in allowed][:SUGGESTIONS_MAX]
    if len(chosen) < SUGGESTIONS_MAX:
        taken = excluded | {c.user_id for c, _ in chosen}
        chosen += [(c, Source.MOST_FOLLOWED) for c in _most_followed(user, taken, SUGGESTIONS_MAX - len(chosen))]
    return chosen


def _excluded_ids(user: User) -> set[int]:
    """Accounts never to suggest: blocked either way, muted, dismissed. Small per user."""
    blocks = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    excluded = {other for pair in blocks for other in pair}
    excluded |= set(active_mutes(user).values_list("muted_id", flat=True))
    excluded |= set(SuggestionDismissal.objects.filter(user=user).values_list("dismissed_id", flat=True))
    excluded.discard(user.pk)
    return excluded


def _most_followed(user: User, taken: set[int], count: int) -> list[Candidate]:
    """Cold start: the most followed accounts seen lately, not followed or excluded."""
    recently = timezone.now() - timedelta(days=settings.ACTIVE_DAYS)
    popular = (
        User.objects.discoverable()
        .filter(last_active_at__gte=recently)
        .exclude(pk=user.pk)
        .exclude(pk__in=taken)
        .exclude(pk__in=Follow.objects.filter(follower=user).values("followee_id"))
        .order_by("-followers_count", "pk")
        .values_list("pk", flat=True)[:count]
    )
    return [Candidate(user_id=pk, score=0, via_ids=()) for pk in popular]


def _ask_graph(question):
    """Ask the configured backend; if Neo4j fails, ask PostgreSQL and say so in the log."""
    backend = graph_backend()
    if isinstance(backend, PostgresGraph):
        return question(backend)
    try:
        return question(backend)
    except Exception:  # the driver raises several unrelated types; any failure means fall back
        logger.warning("Neo4j unavailable: answering graph query from PostgreSQL instead", exc_info=True)
        return question(PostgresGraph())


def _hydrate(candidates: list[dict], limit: int) -> list[Suggestion]:
    """Turn cached ids into accounts with one query, dropping any suspended or silenced since caching."""
    wanted = candidates[: limit + OVERFETCH]
    ids = {c["user_id"] for c in wanted} | {via for c in wanted for via in c["via_ids"]}
    accounts = User.objects.active().in_bulk(ids)
    suggestions = []
    for candidate in wanted:
        account = accounts.get(candidate["user_id"])
        if account is None or account.is_silenced:
            continue
        via = [accounts[i] for i in candidate["via_ids"] if i in accounts]
        if candidate["source"] == Source.FRIENDS_OF_FRIENDS:
            reason = followed_by_reason([v.username for v in via], candidate["score"])
        else:
            reason = "popular on socialnet"
        suggestions.append(Suggestion(account, candidate["source"], candidate["score"], via, reason))
    return suggestions[:limit]


def _active_in_order(ids: list[int]) -> list[User]:
    accounts = User.objects.active().in_bulk(ids)
    return [accounts[i] for i in ids if i in accounts]
