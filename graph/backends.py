"""The graph questions recommendations ask, behind one interface with two answers.

`PostgresGraph` answers from the follow table (the embedded default). `Neo4jGraph`
(graph/neo4j_backend.py) answers from the Neo4j mirror when NEO4J_URI is set. Both must
give the same answers on the same graph: tests/test_graph_contract.py runs one suite
against each.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from django.db import connection

VIA_SAMPLE_SIZE = 3


@dataclass(frozen=True)
class Candidate:
    """An account suggested because people the user follows follow it."""

    user_id: int
    score: int  # how many of the user's followees follow the candidate
    via_ids: tuple[int, ...]  # the lowest VIA_SAMPLE_SIZE ids among those followees


class GraphBackend(Protocol):
    name: str

    def friends_of_friends(self, user_id: int, *, exclude_ids: Collection[int], limit: int) -> list[Candidate]:
        """Accounts followed by the accounts `user_id` follows, best first.

        Never the user, an account they already follow, or one in `exclude_ids`. Ordered
        by score descending, then user id ascending, so both backends agree exactly.
        """
        ...

    def mutual_follows(self, viewer_id: int, other_id: int, *, limit: int) -> tuple[list[int], int]:
        """(up to `limit` lowest ids, total count) of accounts the viewer follows that follow `other_id`."""
        ...


FRIENDS_OF_FRIENDS_SQL = """
    SELECT second.followee_id,
           count(*) AS score,
           (array_agg(second.follower_id ORDER BY second.follower_id))[1:%(via)s] AS via
    FROM graph_follow AS first
    JOIN graph_follow AS second ON second.follower_id = first.followee_id
    WHERE first.follower_id = %(user)s
      AND second.followee_id <> %(user)s
      AND second.followee_id <> ALL(%(exclude)s)
      AND NOT EXISTS (
          SELECT 1 FROM graph_follow AS mine
          WHERE mine.follower_id = %(user)s AND mine.followee_id = second.followee_id
      )
    GROUP BY second.followee_id
    ORDER BY score DESC, second.followee_id
    LIMIT %(limit)s
"""

MUTUAL_FOLLOWS_SQL = """
    SELECT theirs.follower_id, count(*) OVER ()
    FROM graph_follow AS mine
    JOIN graph_follow AS theirs ON theirs.follower_id = mine.followee_id AND theirs.followee_id = %(other)s
    WHERE mine.follower_id = %(viewer)s
    ORDER BY theirs.follower_id
    LIMIT %(limit)s
"""


class PostgresGraph:
    """Answers from the follow table: two index scans on (follower, followee) and a hash aggregate."""

    name = "postgresql"

    def friends_of_friends(self, user_id: int, *, exclude_ids: Collection[int], limit: int) -> list[Candidate]:
        parameters = {"user": user_id, "exclude": list(exclude_ids), "limit": limit, "via": VIA_SAMPLE_SIZE}
        with connection.cursor() as cursor:
            cursor.execute(FRIENDS_OF_FRIENDS_SQL, parameters)
            return [Candidate(row[0], row[1], tuple(row[2])) for row in cursor.fetchall()]

    def mutual_follows(self, viewer_id: int, other_id: int, *, limit: int) -> tuple[list[int], int]:
        with connection.cursor() as cursor:
            cursor.execute(MUTUAL_FOLLOWS_SQL, {"viewer": viewer_id, "other": other_id, "limit": limit})
            rows = cursor.fetchall()
        return [row[0] for row in rows], (rows[0][1] if rows else 0)
