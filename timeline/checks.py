"""Is a Redis timeline what PostgreSQL says it should be? For `check_timelines`."""

from dataclasses import dataclass

from . import services, store


@dataclass(frozen=True)
class Difference:
    missing: set[int]  # should be in the set, is not
    unexpected: set[int]  # is in the set, should not be


def compare_home(user_id: int) -> Difference | None:
    """None if the user has no timeline in Redis; else what differs within the set's span.

    Only the span the set covers is compared (from its oldest entry up), since trimming
    legitimately drops older posts. Entries hidden, deleted or muted since fan-out are
    reported as unexpected: the reader filters them, and a rebuild drops them.
    """
    actual = store.home_ids(user_id)
    if actual is None:
        return None
    expected = services.expected_home(user_id)
    if actual:
        oldest = actual[-1]
        expected = [post_id for post_id in expected if post_id >= oldest]
    return Difference(missing=set(expected) - set(actual), unexpected=set(actual) - set(expected))
