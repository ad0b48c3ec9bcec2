"""`manage.py build_world`: the synthetic power-law world every benchmark shares.

Default size: 100,000 users; follows on a power law (the account of popularity rank r has
round(50,000 / r^0.8) followers, at least 10, drawn uniformly from everyone else), about
2.46 M in all; 1,000,000 original posts over the last 30 days, by authors weighted by the
square root of their follower count; 60 % of users seen within the last 14 days.

Everything is loaded with PostgreSQL COPY in one transaction, with the follow and post
tables' secondary indexes and foreign keys dropped during the load and recreated from
their own definitions afterwards (one sort per index instead of millions of random
inserts, one validating join per foreign key instead of millions of trigger calls).
Counters are set with one GROUP BY update each; the tables are analysed at the end.

What marks a world: every world account's email ends in @world.invalid, and the inactive
account `world_marker`, created last in the same transaction, holds the parameters in its
bio. No marker, no complete world. The command builds only into a database whose users are
all world accounts (normally an empty one), so it never mixes with development data.
"""

import heapq
import io
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from accounts.models import User
from graph.models import Follow
from posts.models import Post
from socialnet.ids import SEQUENCE_BITS, id_at

WORLD_EMAIL_DOMAIN = "world.invalid"  # RFC 2606: can never be a real address
MARKER_USERNAME = "world_marker"
# Published with the benchmarks, so anyone can log in as a world user: not a secret.
WORLD_PASSWORD = "world-password-1"  # noqa: S105

DEFAULT_USERS = 100_000
DEFAULT_POSTS = 1_000_000
DEFAULT_SEED = 42

HEAD_FOLLOWERS = 50_000  # followers of the most followed account, times --follows-scale
FOLLOWER_EXPONENT = 0.8
FLOOR_FOLLOWERS = 10  # not scaled: even the least followed account has this many
POST_AUTHOR_EXPONENT = 0.5  # posting weight = followers ** this: popular accounts post more

POST_WINDOW = timedelta(days=30)
ACTIVE_SHARE = 0.6
ACTIVE_WINDOW = timedelta(days=14)
INACTIVE_LAST_SEEN = (timedelta(days=15), timedelta(days=45))
JOINED = (timedelta(days=120), timedelta(days=60))  # ago: before every follow and post
FOLLOWS_FROM = timedelta(days=60)

COPY_CHUNK_ROWS = 100_000
BUILD_LOCK_KEY = 0x77_6F_72_6C_64  # "world": one build at a time per database
BUILD_MEMORY = "512MB"

# No "@" or "#": world posts mention and tag nobody, so the mention and hashtag tables
# stay consistent with the text without being filled.
POST_TEXTS = (
    "Morning run done, coffee next.",
    "Shipping a small fix before lunch.",
    "The light this evening was unreal.",
    "Reading about the history of maps.",
    "Anyone else think Mondays should be optional?",
    "Tried a new recipe tonight, it worked.",
    "Rain all day, perfect for staying in.",
    "Finally fixed the bug that haunted me all week.",
    "Took the long way home and found a tiny bookshop.",
    "Weekend plans: absolutely nothing.",
    "Today I learned that indexes are not magic.",
    "That concert last night was incredible.",
)


@dataclass(frozen=True)
class WorldParameters:
    users: int = DEFAULT_USERS
    follows_scale: float = 1.0
    posts: int = DEFAULT_POSTS
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class WorldSummary:
    """What the marker records about the world in this database."""

    parameters: WorldParameters
    follows: int
    built_at: str
    build_seconds: float

    def describe(self) -> str:
        p = self.parameters
        return (
            f"world: {p.users:,} users, {self.follows:,} follows (scale {p.follows_scale:g}), {p.posts:,} posts, "
            f"seed {p.seed}; built {self.built_at} in {self.build_seconds:.0f} s"
        )


class Command(BaseCommand):
    help = "Build the synthetic power-law world the benchmarks share (reused when present)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, help=f"World accounts (default {DEFAULT_USERS:,}).")
        parser.add_argument(
            "--follows-scale",
            type=float,
            help=f"Multiplies the head of the follower curve ({HEAD_FOLLOWERS:,}); the floor stays "
            f"{FLOOR_FOLLOWERS}. Default 1.",
        )
        parser.add_argument("--posts", type=int, help=f"Posts over the last 30 days (default {DEFAULT_POSTS:,}).")
        parser.add_argument("--seed", type=int, help=f"Random seed (default {DEFAULT_SEED}).")
        parser.add_argument(
            "--rebuild", action="store_true", help="Replace the existing world (refused if the database holds more)."
        )

    def handle(self, *args, users, follows_scale, posts, seed, rebuild, **options):
        given = {"users": users, "follows_scale": follows_scale, "posts": posts, "seed": seed}
        parameters = WorldParameters(**{name: value for name, value in given.items() if value is not None})
        check_parameters(parameters)
        say = self.stdout.write
        with transaction.atomic():
            take_build_lock()
            refuse_foreign_users()
            world = existing_world()
            if world is not None and not rebuild:
                if any(value is not None for value in given.values()) and world.parameters != parameters:
                    raise CommandError(
                        f"A different world is already here ({world.describe()}); pass --rebuild to replace it."
                    )
                say(f"Reusing the existing {world.describe()}.")
                return
            if rebuild:
                wipe_world(say)
            elif User.objects.exists():
                raise CommandError("World accounts without a marker (an interrupted build?): pass --rebuild.")
            summary = WorldBuilder(parameters, say).build()
        analyze_world(say)
        say(f"Built the {summary.describe()}.")


def check_parameters(parameters: WorldParameters) -> None:
    if parameters.users <= FLOOR_FOLLOWERS:
        raise CommandError(f"--users must be more than {FLOOR_FOLLOWERS}, the fewest followers an account has.")
    if parameters.follows_scale <= 0 or parameters.posts < 0:
        raise CommandError("--follows-scale must be positive and --posts at least 0.")


def take_build_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BUILD_LOCK_KEY])


def world_email(username: str) -> str:
    return f"{username}@{WORLD_EMAIL_DOMAIN}"


def refuse_foreign_users() -> None:
    foreign = User.objects.exclude(email__endswith=f"@{WORLD_EMAIL_DOMAIN}")
    count = foreign.count()
    if count:
        example = foreign.order_by("id").values_list("username", flat=True).first()
        accounts = (
            "1 account that is not a world account" if count == 1 else f"{count:,} accounts that are not world accounts"
        )
        raise CommandError(
            f"Refusing to build: this database has {accounts} ({example}{', …' if count > 1 else ''}); "
            "point DATABASE_URL at an empty database (createdb socialnet_bench)."
        )


def existing_world() -> WorldSummary | None:
    """The world in this database, from its marker; None if there is none (or it is unfinished)."""
    bio = User.objects.filter(username=MARKER_USERNAME).values_list("bio", flat=True).first()
    if bio is None:
        return None
    recorded = json.loads(bio)
    return WorldSummary(WorldParameters(**recorded.pop("parameters")), **recorded)


def wipe_world(say: Callable[[str], None]) -> None:
    """Empty every table that hangs off the accounts (all world data: refuse_foreign_users ran)."""
    with timed(say, "wiping the old world"), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {User._meta.db_table} RESTART IDENTITY CASCADE")
    say("  note: Redis still holds the old world's timelines and caches; rebuild or flush them.")


def follower_counts(users: int, follows_scale: float = 1.0) -> list[int]:
    """Followers of the accounts of popularity rank 1, 2, …, `users`."""
    return [
        min(users - 1, max(FLOOR_FOLLOWERS, round(follows_scale * HEAD_FOLLOWERS / rank**FOLLOWER_EXPONENT)))
        for rank in range(1, users + 1)
    ]


@contextmanager
def timed(say: Callable[[str], None], what: str):
    say(f"{what}…")
    started = time.monotonic()
    yield
    say(f"  {what}: {time.monotonic() - started:.1f} s")


class WorldBuilder:
    def __init__(self, parameters: WorldParameters, say: Callable[[str], None]):
        self.parameters, self.say = parameters, say
        self.rng = random.Random(parameters.seed)
        self.now = timezone.now()
        self.n = parameters.users

    def build(self) -> WorldSummary:
        started = time.monotonic()
        with connection.cursor() as cursor:
            # Room to sort each index and to hash the counters' GROUP BYs in memory.
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
            cursor.execute(f"SET LOCAL work_mem = '{BUILD_MEMORY}'")
        self.first_user_id = next_free_id(User)
        with timed(self.say, f"users: planning and copying {self.n:,}"):
            self.plan_users()
            columns = ["id", "username", "email", "display_name", "date_joined", "created_at", "last_active_at"]
            constants = {"password": make_password(WORLD_PASSWORD), "updated_at": self.now}
            CopyLoader(User, columns, constants).load(self.user_rows())
            reset_identity(User)
        with deferred_indexes([Follow, Post], self.say):
            with timed(self.say, "follows: drawing and copying"):
                follows = self.load_follows()
            with timed(self.say, f"posts: drawing and copying {self.parameters.posts:,}"):
                self.load_posts()
        with timed(self.say, "counters: recounting"):
            recount_world_counters()
        summary = WorldSummary(
            self.parameters, follows, f"{self.now:%Y-%m-%d %H:%M} UTC", round(time.monotonic() - started, 1)
        )
        create_marker(summary)
        return summary

    def plan_users(self) -> None:
        rng, now = self.rng, self.now.timestamp()
        # ranked[r] is the user (an index 0..n-1) of popularity rank r + 1.
        self.ranked = list(range(self.n))
        rng.shuffle(self.ranked)
        self.followers = [0] * self.n
        for user, count in zip(self.ranked, follower_counts(self.n, self.parameters.follows_scale), strict=True):
            self.followers[user] = count
        active = ACTIVE_WINDOW.total_seconds()
        gone_least, gone_most = (ago.total_seconds() for ago in INACTIVE_LAST_SEEN)
        self.last_seen = [
            now - rng.uniform(0, active) if rng.random() < ACTIVE_SHARE else now - rng.uniform(gone_least, gone_most)
            for _ in range(self.n)
        ]
        longest, shortest = (ago.total_seconds() for ago in JOINED)
        self.joined = [now - rng.uniform(shortest, longest) for _ in range(self.n)]

    def user_rows(self) -> Iterator[tuple]:
        for index in range(self.n):
            username, joined = f"w{index:06d}", stamp(self.joined[index])
            user_id, last_seen = self.first_user_id + index, stamp(self.last_seen[index])
            yield user_id, username, world_email(username), f"World {index}", joined, joined, last_seen

    def load_follows(self) -> int:
        n, rng = self.n, self.rng
        # An edge is follower * n + followee: a flat list of ints shuffles fast.
        edges: list[int] = []
        for followee, count in zip(self.ranked, follower_counts(n, self.parameters.follows_scale), strict=True):
            edges.extend(other * n + followee for other in self.others(followee, count))
        # Insertion (id) order random with respect to both ends, like a table filled over time.
        rng.shuffle(edges)
        first_id = next_free_id(Follow)
        span = (FOLLOWS_FROM - timedelta(hours=1)).total_seconds()
        start = self.now.timestamp() - FOLLOWS_FROM.total_seconds()
        minutes = MinuteStamps()
        first_user, count = self.first_user_id, len(edges)
        rows = (
            (first_id + i, first_user + edge // n, first_user + edge % n, minutes(start + span * i / count))
            for i, edge in enumerate(edges)
        )
        CopyLoader(Follow, ["id", "follower_id", "followee_id", "created_at"]).load(rows)
        reset_identity(Follow)
        self.say(f"  {count:,} follows")
        return count

    def others(self, user: int, count: int) -> list[int]:
        """`count` distinct users other than `user`, uniformly."""
        return [other + (other >= user) for other in self.rng.sample(range(self.n - 1), count)]

    def load_posts(self) -> None:
        rng, n = self.rng, self.n
        window_end_ms = int(self.now.timestamp() * 1000) - 60_000
        window_start_ms = window_end_ms - int(POST_WINDOW.total_seconds() * 1000)
        # Nobody posts after they were last seen, so users gone before the window post nothing.
        last_ms = [min(window_end_ms, int(seen * 1000)) for seen in self.last_seen]
        weights = [self.followers[u] ** POST_AUTHOR_EXPONENT if last_ms[u] > window_start_ms else 0 for u in range(n)]
        authors = rng.choices(range(n), cum_weights=list(accumulate(weights)), k=self.parameters.posts)
        # A post is its millisecond * n + author: sorting the ints sorts by time.
        posts = sorted(rng.randint(window_start_ms, last_ms[a]) * n + a for a in authors)
        # World posts are history, as if delivered long ago: marked fanned out, so the
        # timeline's sweep for unfinished fan-outs leaves them alone.
        columns = ["id", "author_id", "text", "created_at", "fanned_out_at"]
        CopyLoader(Post, columns).load(self.post_rows(posts))

    def post_rows(self, posts: list[int]) -> Iterator[tuple]:
        n, first_user = self.n, self.first_user_id
        for i, post in enumerate(posts):
            millisecond, author = divmod(post, n)
            moment = datetime.fromtimestamp(millisecond // 1000, UTC) + timedelta(milliseconds=millisecond % 1000)
            # Posts of one millisecond are consecutive here, so i keeps their sequences apart.
            post_id = id_at(moment, i % (1 << SEQUENCE_BITS))
            created_at = moment.isoformat()
            yield post_id, first_user + author, POST_TEXTS[author % len(POST_TEXTS)], created_at, created_at


def stamp(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).isoformat()


class MinuteStamps:
    """Timestamps to the minute, each formatted once: follows only need their order."""

    def __init__(self):
        self.cache: dict[int, str] = {}

    def __call__(self, unix_seconds: float) -> str:
        minute = int(unix_seconds // 60)
        if minute not in self.cache:
            self.cache[minute] = stamp(minute * 60)
        return self.cache[minute]


def next_free_id(model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # noqa: S608
        return cursor.fetchone()[0]


def reset_identity(model: type[Model]) -> None:
    """Point the id column's sequence past the ids we chose, so ordinary inserts follow on."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {table}))",  # noqa: S608
            [table],
        )


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class CopyLoader:
    """COPY rows into a model's table: `columns` per row, every other column its default.

    The other columns are found from the model at run time, so a column added later with
    a default needs no change here. Per-row values are written as given, so they must be
    COPY-safe already (ints, and strings without tabs, newlines or backslashes).
    """

    def __init__(self, model: type[Model], columns: list[str], constants: dict | None = None):
        constants = constants or {}
        self.table = model._meta.db_table
        self.columns = list(columns)
        fixed = []
        for field in model._meta.local_concrete_fields:
            if field.column in columns:
                continue
            if field.attname in constants:
                value = constants[field.attname]
            elif field.db_default is not NOT_PROVIDED:
                continue  # the database fills it
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = timezone.now()
            else:
                value = field.get_default()
                if value is None and not field.null:
                    raise CommandError(f"build_world cannot fill {self.table}.{field.column}: NOT NULL, no default.")
            self.columns.append(field.column)
            fixed.append(copy_text(field.get_db_prep_save(value, connection)))
        self.suffix = "".join(f"\t{value}" for value in fixed) + "\n"

    def load(self, rows: Iterable[tuple], chunk_rows: int = COPY_CHUNK_ROWS) -> None:
        quote = connection.ops.quote_name
        statement = f"COPY {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"
        chunk, buffered = io.StringIO(), 0
        with connection.cursor() as cursor:
            for row in rows:
                chunk.write("\t".join(map(str, row)) + self.suffix)
                buffered += 1
                if buffered == chunk_rows:
                    self._copy(cursor, statement, chunk)
                    chunk, buffered = io.StringIO(), 0
            if buffered:
                self._copy(cursor, statement, chunk)

    @staticmethod
    def _copy(cursor, statement: str, chunk: io.StringIO) -> None:
        chunk.seek(0)
        cursor.copy_expert(statement, chunk)


@contextmanager
def deferred_indexes(models: list[type[Model]], say: Callable[[str], None]):
    """Drop the tables' secondary indexes, unique and foreign key constraints; recreate them after.

    Definitions are read from the catalog, so whatever the migrations made is put back as
    it was. Inside the build's transaction, so a failure restores them untouched.
    """
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        indexes = [row for table in tables for row in secondary_indexes(cursor, table)]
        constraints = [row for table in tables for row in droppable_constraints(cursor, table)]
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    rebuilding = f"indexes: rebuilding {len(indexes)} indexes and {len(constraints)} constraints"
    with timed(say, rebuilding), connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each index that is not the primary key or a constraint's."""
    cursor.execute(
        """
        SELECT index_class.relname, pg_get_indexdef(ix.indexrelid)
        FROM pg_index AS ix
        JOIN pg_class AS index_class ON index_class.oid = ix.indexrelid
        WHERE ix.indrelid = %s::regclass AND NOT ix.indisprimary
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint AS c WHERE c.conindid = ix.indexrelid AND c.conrelid = ix.indrelid
          )
        ORDER BY index_class.relname
        """,
        [table],
    )
    return cursor.fetchall()


def droppable_constraints(cursor, table: str) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the table's unique and foreign key constraints."""
    cursor.execute(
        """
        SELECT %s, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f')
        ORDER BY contype DESC, conname
        """,
        [table, table],
    )
    return cursor.fetchall()


RECOUNT_SQL = """
    UPDATE accounts_user AS u
    SET followers_count = COALESCE(followers.n, 0),
        following_count = COALESCE(following.n, 0),
        posts_count = COALESCE(posts.n, 0)
    FROM accounts_user AS target
    LEFT JOIN (
        SELECT followee_id AS id, count(*) AS n FROM graph_follow WHERE {only_followee} GROUP BY followee_id
    ) AS followers ON followers.id = target.id
    LEFT JOIN (
        SELECT follower_id AS id, count(*) AS n FROM graph_follow WHERE {only_follower} GROUP BY follower_id
    ) AS following ON following.id = target.id
    LEFT JOIN (
        SELECT author_id AS id, count(*) AS n FROM posts_post WHERE NOT is_deleted AND {only_author} GROUP BY author_id
    ) AS posts ON posts.id = target.id
    WHERE u.id = target.id AND {only_target}
      AND (u.followers_count, u.following_count, u.posts_count)
          IS DISTINCT FROM (COALESCE(followers.n, 0), COALESCE(following.n, 0), COALESCE(posts.n, 0))
"""


def recount_world_counters(user_ids: list[int] | None = None) -> None:
    """Set every counter from the tables in one set-based UPDATE (of some users, or everyone).

    One statement rather than one per counter: each row is rewritten once, not three times.
    """
    columns = {"only_followee": "followee_id", "only_follower": "follower_id", "only_author": "author_id"}
    columns["only_target"] = "target.id"
    conditions = {name: "TRUE" if user_ids is None else f"{column} = ANY(%(ids)s)" for name, column in columns.items()}
    with connection.cursor() as cursor:
        cursor.execute(RECOUNT_SQL.format(**conditions), {"ids": user_ids})


def create_marker(summary: WorldSummary) -> None:
    record = {**asdict(summary), "parameters": asdict(summary.parameters)}
    User.objects.create(
        username=MARKER_USERNAME,
        email=world_email(MARKER_USERNAME),
        password=make_password(None),  # unusable: nobody logs in as the marker
        display_name="synthetic world marker",
        bio=json.dumps(record),
        is_active=False,  # never suggested, never fanned out to
    )


def analyze_world(say: Callable[[str], None]) -> None:
    """Fresh statistics, and outside a transaction a VACUUM too (visibility map for index-only scans)."""
    tables = [User._meta.db_table, Follow._meta.db_table, Post._meta.db_table]
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with timed(say, f"{verb} {', '.join(tables)}"), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{verb} {table}")


def probe_users(following: int, count: int, *, seed: int = DEFAULT_SEED) -> list[int]:
    """Ids of `count` active world accounts following exactly `following` others.

    Accounts of the world that happen to follow that many come first; the rest are probe
    accounts made for the purpose (`wprobe<following>_<n>`), following accounts picked by
    popularity as real people do, and kept for the next run.
    """
    world = User.objects.active().filter(email__endswith=f"@{WORLD_EMAIL_DOMAIN}")
    found = list(world.filter(following_count=following).order_by("id").values_list("id", flat=True)[:count])
    if len(found) == count:
        return found
    candidates = dict(world.filter(followers_count__gt=0).values_list("id", "followers_count"))
    if following > len(candidates):
        raise CommandError(f"Only {len(candidates):,} world accounts have followers; nobody can follow {following:,}.")
    rng = random.Random(seed * 1_000_003 + following)
    password = make_password(WORLD_PASSWORD)
    with transaction.atomic():
        taken = User.objects.filter(username__startswith=f"wprobe{following}_").count()
        for number in range(taken, taken + count - len(found)):
            followees = weighted_sample(rng, candidates, following)
            found.append(create_probe(f"wprobe{following}_{number}", password, followees))
    return found


def create_probe(username: str, password: str, followees: list[int]) -> int:
    now = timezone.now()
    probe = User.objects.create(username=username, email=world_email(username), password=password, last_active_at=now)
    Follow.objects.bulk_create([Follow(follower_id=probe.pk, followee_id=followee) for followee in followees])
    recount_world_counters([probe.pk, *followees])
    return probe.pk


def weighted_sample(rng: random.Random, weights: dict[int, int], count: int) -> list[int]:
    """`count` distinct keys, each drawn in proportion to its weight (Efraimidis and Spirakis)."""
    return heapq.nlargest(count, weights, key=lambda item: rng.random() ** (1 / weights[item]))
