from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import Http404

from graph import selectors as graph_selectors

from .models import User


def get_visible_account(username: str) -> User:
    """An account anyone may look at; suspended and deactivated ones are 404."""
    try:
        return User.objects.active().get(username__iexact=username)
    except User.DoesNotExist:
        raise Http404("No such account.") from None


def search_accounts(viewer, query: str, *, following: bool = False) -> QuerySet[User]:
    """Accounts whose username or display name starts with `query`, case-insensitively.

    Both are matched on lower(...) with text_pattern_ops indexes (accounts migration), so a
    prefix search is an index range scan, not a scan of every account.
    """
    prefix = query.strip().lstrip("@").split("@", 1)[0].lower()
    if not prefix:
        return User.objects.none()
    accounts = (
        User.objects.active()
        .annotate(username_lower=Lower("username"), display_name_lower=Lower("display_name"))
        .filter(Q(username_lower__startswith=prefix) | Q(display_name_lower__startswith=prefix))
    )
    reach = Q(is_silenced=False)  # a silenced account is found only by its followers
    if viewer is not None and viewer.is_authenticated:
        accounts = accounts.exclude(graph_selectors.blocked_either_way_filter(viewer, "pk"))
        reach |= Q(pk=viewer.pk) | Q(pk__in=graph_selectors.followee_ids(viewer))
        if following:
            accounts = accounts.filter(pk__in=graph_selectors.followee_ids(viewer))
    accounts = accounts.filter(reach)
    # Exact username first, then the most followed.
    exact_first = Case(When(username_lower=prefix, then=Value(0)), default=Value(1))
    return accounts.order_by(exact_first, "-followers_count", "pk")
