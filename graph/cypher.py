"""Every Cypher statement of socialnet, in one place to read and review (Neo4j 5 syntax).

The graph in Neo4j is a mirror of PostgreSQL's follow table and nothing more:
`(:User {id})-[:FOLLOWS]->(:User {id})`, where `id` is the PostgreSQL user id. Nodes carry
no other property, so a user's name or suspension never has to be kept in step here.

Parameters are always passed separately ($name), never formatted into the text: the
statements stay cacheable by the server's query planner and safe from injection.
"""

# Makes MERGE on :User(id) a single index lookup and stops two concurrent MERGEs from
# creating twin nodes. Run once per process before the first write (neo4j_client).
CREATE_USER_ID_CONSTRAINT = """
CREATE CONSTRAINT user_id IF NOT EXISTS
FOR (user:User) REQUIRE user.id IS UNIQUE
"""

# Asserts that edges exist. $rows: [{follower_id, followee_id}, ...]. MERGE makes a replay
# change nothing, so a batch that is re-sent after a crash (outbox rows not yet deleted)
# is harmless.
MERGE_FOLLOWS = """
UNWIND $rows AS row
MERGE (follower:User {id: row.follower_id})
MERGE (followee:User {id: row.followee_id})
MERGE (follower)-[:FOLLOWS]->(followee)
"""

# Asserts that edges do not exist. $rows as above. MATCH finds nothing for an edge that is
# already gone, so this is idempotent too. Nodes stay: the users still exist.
DELETE_FOLLOWS = """
UNWIND $rows AS row
MATCH (:User {id: row.follower_id})-[edge:FOLLOWS]->(:User {id: row.followee_id})
DELETE edge
"""

# For graph_sync --full: the follower id of the ($offset + 1)-th edge whose follower id is
# above $after, in follower id order, or no row if there are fewer edges. The repair walks
# the id space in ranges ending there, so each range holds about `batch size` edges.
# The range seek on :User(id) comes from the constraint's index, which also provides the order.
FOLLOWER_ID_AT_OFFSET = """
MATCH (follower:User)-[:FOLLOWS]->(:User)
WHERE follower.id > $after
RETURN follower.id AS follower_id
ORDER BY follower_id
SKIP $offset
LIMIT 1
"""

# For graph_sync --full: every edge whose follower id is in ($after, $until].
FOLLOWS_IN_FOLLOWER_RANGE = """
MATCH (follower:User)-[:FOLLOWS]->(followee:User)
WHERE $after < follower.id <= $until
RETURN follower.id AS follower_id, followee.id AS followee_id
"""

# How many :FOLLOWS edges the mirror holds, from Neo4j's count store (no scan): for
# graph_sync --status, beside PostgreSQL's count.
COUNT_FOLLOWS = """
MATCH ()-[edge:FOLLOWS]->()
RETURN count(edge) AS edges
"""

# Recommendations (graph/backends.py, GraphBackend.friends_of_friends): accounts followed by
# the accounts $user_id follows. score = how many of the user's followees follow the
# candidate; via_ids = the lowest $via_limit of those followees' ids. Never the user, an
# account they already follow, or one in $exclude_ids. Ordered by score descending then id
# ascending, exactly as the PostgreSQL backend orders them; the first $max_candidates.
# DISTINCT guards against a duplicated edge ever counting twice; ordering by via.id before
# collect() is what makes via_ids the lowest ids (collect keeps the incoming row order).
FRIENDS_OF_FRIENDS = """
MATCH (user:User {id: $user_id})-[:FOLLOWS]->(via:User)-[:FOLLOWS]->(candidate:User)
WHERE candidate.id <> $user_id
  AND NOT candidate.id IN $exclude_ids
  AND NOT EXISTS { (user)-[:FOLLOWS]->(candidate) }
WITH DISTINCT candidate, via
ORDER BY via.id
WITH candidate, count(via) AS score, collect(via.id)[..$via_limit] AS via_ids
RETURN candidate.id AS user_id, score, via_ids
ORDER BY score DESC, user_id ASC
LIMIT $max_candidates
"""

# "Followed by people you know" (GraphBackend.mutual_follows): the lowest $max_ids ids of the
# accounts $viewer_id follows that follow $other_id, and how many there are in all. The
# aggregation without grouping keys returns one row even when nothing matches ([] and 0).
MUTUAL_FOLLOWS = """
OPTIONAL MATCH (:User {id: $viewer_id})-[:FOLLOWS]->(mutual:User)-[:FOLLOWS]->(:User {id: $other_id})
WITH DISTINCT mutual.id AS mutual_id
ORDER BY mutual_id
WITH collect(mutual_id) AS mutual_ids
RETURN mutual_ids[..$max_ids] AS mutual_ids, size(mutual_ids) AS total
"""

# Test fixtures only: empties a disposable Neo4j before a real-server test.
DELETE_ALL_USERS = """
MATCH (user:User)
DETACH DELETE user
"""
