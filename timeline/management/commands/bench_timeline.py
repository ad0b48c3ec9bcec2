"""`manage.py bench_timeline`: the home timeline's figures (issue 4), beside same-run baselines.

Builds the shared world first if this database has none (build_world), then, in one run on
Redis `--redis-url` (default db 7) under its own key prefix, with the production knobs
(VIP_THRESHOLD 10,000, FANOUT_BATCH and TIMELINE_MAX as configured):

1. fan-out throughput in timeline entries/s: `services.fan_out_batch` and `store.add_post`
   (one script call per bucket of 256) over the existing, full (TIMELINE_MAX) timelines of a
   regular author's active followers, taking turns with the layouts they were chosen over
   (16 buckets, one script call per user, a plain per-user ZADD + ZREMRANGEBYRANK pipeline);
   all beside `redis-benchmark -P 64 -t zadd` against the same Redis;
2. post-to-visible latency through a real Celery worker process: commit → the post id in
   every active follower's set, for regular authors with 1,000 and 9,000 active followers,
   and for a VIP (the world account nearest 50,000 followers): commit → its recent-posts set
   (the worker round trip with no fan-out, the baseline) and commit → a follower's
   home_timeline() showing the post;
3. GET /api/v1/timelines/home?limit=20 through uvicorn (2 workers, DEBUG=false, rate limits
   raised out of reach) under wrk (32 connections, loopback), beside the floor (one Redis
   and one SQL round trip through DRF) and "phase 0" (the same page from the SQL join of
   posts and follows, then the reader's own visibility query and status rendering; the
   target's baseline) and "phase0_orm" (the same join with the ORM's feed_posts and an
   uncached StatusSerializer, a pull-only first implementation, printed for context), for
   an account following 200, with the browser's session cookie and
   again as a Mastodon app sends it (`Authorization: Bearer`, a token of the run's own app);
   and, in this process, the two id sources alone (the join vs the reader's one Redis
   round trip);
4. Redis memory of full home timelines in the current encoding, the listpack alternative
   and a plain list measured on a private redis-server (the shared one's config is never
   touched), insert and read speed of both encodings there, and the projection for 10 M
   active users.

The regular authors are accounts made for the run (`wtlbench_author<N>`, followed by N
active world accounts, whose timelines are filled to TIMELINE_MAX); they, their posts and
every post made on the VIP's behalf are deleted at the end, the VIP flags this run set are
put back, the run's Redis keys are removed, and every process it started is stopped, also
on errors and Ctrl-C. Prints one line per figure, then a block to paste into the issue.
See /work/shared/benchmarks.md.
"""

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.test.utils import override_settings
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model, set_token_value
from redis.connection import parse_url

from accounts.models import User
from graph.management.commands.bench_graph import run_phase0_pull
from graph.management.commands.build_world import (
    MARKER_USERNAME,
    WORLD_EMAIL_DOMAIN,
    existing_world,
    probe_users,
    recount_world_counters,
    world_email,
)
from graph.models import Follow
from posts import services as post_services
from posts.models import Post
from socialnet.benchmarking import (
    Figure,
    Target,
    as_baseline,
    format_figure,
    format_value,
    interleaved_latencies_ms,
    latency_figures,
    summary_block,
)
from socialnet.celery import app as celery_app
from socialnet.ids import id_at
from socialnet.redis_client import get_redis
from timeline import services, store
from timeline.selectors import home_timeline

ROOT = Path(settings.BASE_DIR)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
DEFAULT_KEY_PREFIX = "tlbench:"
SECTIONS = ("fanout", "visibility", "http", "memory")
PRODUCTION_VIP_THRESHOLD = 10_000
AUTHOR_PREFIX = "wtlbench_author"  # regular authors made for the run, deleted at its end
BENCH_TEXT = "bench_timeline probe post"  # every post the run makes starts with this
SEED = 4

FANOUT_SHARE_TARGET = 0.20  # of the redis-benchmark ceiling
VISIBLE_P99_TARGET_MS = 1000  # for the largest regular author
HOME_VS_FLOOR_TARGET = 0.5
HOME_VS_PHASE0_TARGET = 5.0
PROJECTED_USERS = 10_000_000

ACTIVE_MARGIN = timedelta(days=1)  # followers stay active for the whole run
POLL_SECONDS = 0.0005
SAMPLE_TIMEOUT_SECONDS = 10.0
WRK_CONNECTIONS, WRK_THREADS = 32, 2
LISTPACK_ENTRIES = 1024  # the alternative: zset-max-listpack-entries above TIMELINE_MAX
# KEYS: home sets of one bucket; ARGV: a post id. How many of the sets lack it (the check of a fan-out).
COUNT_MISSING_LUA = """
local missing = 0
for _, key in ipairs(KEYS) do
    if not redis.call('ZSCORE', key, ARGV[1]) then
        missing = missing + 1
    end
end
return missing
"""
# A plain list as the timeline (a reference only: no ordering by id, no score ranges).
LIST_ADD_POST_LUA = """
local added = 0
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then
        redis.call('LPUSH', key, ARGV[1])
        redis.call('LTRIM', key, 0, tonumber(ARGV[2]) - 1)
        added = added + 1
    end
end
return added
"""


@dataclass(frozen=True)
class Options:
    quick: bool
    samples: int
    warmup: int
    latency_budget: float
    fanout_seconds: float
    ceiling_requests: int
    wrk_seconds: int
    wrk_warmup_seconds: int
    wrk_rounds: int
    followers: list[int]
    vip_followers: int
    vip_threshold: int
    reader_following: int
    memory_users: int
    private_keys: int
    redis_url: str
    key_prefix: str
    install_wrk: bool
    sections: tuple[str, ...]


class Command(BaseCommand):
    help = "Benchmark the home timeline (fan-out, post-to-visible latency, HTTP reads, Redis memory)."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Tiny samples and durations (smoke test).")
        parser.add_argument("--samples", type=int, help="Latency rounds, one post per series each (default 1,000).")
        parser.add_argument(
            "--latency-budget", type=float, help="Seconds the latency rounds may take at most (default 360)."
        )
        parser.add_argument("--fanout-seconds", type=float, help="Seconds of fan-out rounds (default 30).")
        parser.add_argument(
            "--wrk-seconds", type=int, help="Seconds of load per HTTP endpoint and round, of 5 rounds (default 3)."
        )
        parser.add_argument(
            "--followers",
            default="1000,9000",
            help="Comma-separated active follower counts of the regular authors made for the run (default 1000,9000).",
        )
        parser.add_argument(
            "--vip-followers", type=int, default=50_000, help="The VIP is the VIP nearest this many followers."
        )
        parser.add_argument(
            "--vip-threshold",
            type=int,
            default=PRODUCTION_VIP_THRESHOLD,
            help=f"VIP_THRESHOLD of the run and its processes (default {PRODUCTION_VIP_THRESHOLD:,}, production's).",
        )
        parser.add_argument("--reader-following", type=int, default=200, help="The HTTP reader follows this many.")
        parser.add_argument(
            "--only",
            default=",".join(SECTIONS),
            help=f"Comma-separated sections to measure, in this order: {', '.join(SECTIONS)} (default all). "
            "For tuning one part; a closing note quotes a full run.",
        )
        parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis of the run ({DEFAULT_REDIS_URL}).")
        parser.add_argument(
            "--key-prefix", default=DEFAULT_KEY_PREFIX, help=f"Key prefix of the run ({DEFAULT_KEY_PREFIX})."
        )

    def handle(self, *args, **raw):
        options = parse_options(raw)
        previous_handler = None
        if threading.current_thread() is threading.main_thread():
            # `kill <pid>` cleans up like Ctrl-C: servers stopped, rows and keys removed.
            previous_handler = signal.signal(signal.SIGTERM, _interrupt)
        try:
            call_command("build_world", stdout=self.stdout, stderr=self.stderr)
            world = existing_world()
            started = time.monotonic()
            with bench_settings(options):
                run = BenchRun(options, self.say)
                try:
                    run.measure()
                finally:
                    run.clean_up()
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGTERM, previous_handler)
        context = [world.describe(), *run.context, f"run took {time.monotonic() - started:.0f} s"]
        self.stdout.write("")
        self.stdout.write(summary_block("bench_timeline", context, run.figures, notes=run.notes))

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def parse_options(raw: dict) -> Options:
    quick = raw["quick"]
    try:
        followers = sorted({int(part) for part in raw["followers"].split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--followers takes comma-separated numbers, not {raw['followers']!r}.") from None
    sections = tuple(part.strip() for part in raw.get("only", ",".join(SECTIONS)).split(",") if part.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown or not sections:
        raise CommandError(f"--only takes sections among {', '.join(SECTIONS)}, not {raw.get('only')!r}.")
    if not followers or followers[0] < 1:
        raise CommandError("--followers needs at least one count of 1 or more.")
    if followers[-1] >= raw["vip_threshold"]:
        raise CommandError("Every --followers count must stay below --vip-threshold (regular authors).")

    def given(name, full, small):
        return raw[name] if raw.get(name) is not None else (small if quick else full)

    options = Options(
        quick=quick,
        samples=given("samples", 1000, 3),
        warmup=1 if quick else 5,
        latency_budget=given("latency_budget", 360.0, 20.0),
        fanout_seconds=given("fanout_seconds", 30.0, 0.5),
        ceiling_requests=100_000 if quick else 2_000_000,
        wrk_seconds=given("wrk_seconds", 3, 1),
        wrk_warmup_seconds=0 if quick else 2,
        wrk_rounds=1 if quick else 5,
        followers=followers,
        vip_followers=raw["vip_followers"],
        vip_threshold=raw["vip_threshold"],
        reader_following=raw["reader_following"],
        memory_users=5 if quick else 40,
        private_keys=20 if quick else 1000,
        redis_url=raw["redis_url"],
        key_prefix=raw["key_prefix"],
        install_wrk=not quick,
        sections=tuple(section for section in SECTIONS if section in sections),
    )
    if options.samples < 1 or options.wrk_seconds < 1:
        raise CommandError("--samples and --wrk-seconds must be at least 1.")
    if not options.key_prefix:
        raise CommandError("--key-prefix must not be empty: the run deletes every key under it at the end.")
    return options


@contextmanager
def bench_settings(options: Options) -> Iterator[None]:
    """This process talks to the run's Redis, under its prefix, with the run's knobs; restored after."""
    celery_conf = celery_app.conf
    saved = (celery_conf.broker_url, celery_conf.broker_transport_options)
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": options.redis_url,
        "KEY_PREFIX": options.key_prefix + "cache",
    }
    overrides = {
        "REDIS_URL": options.redis_url,
        "REDIS_KEY_PREFIX": options.key_prefix,
        "VIP_THRESHOLD": options.vip_threshold,
        "CACHES": {"default": cache},
        "DEBUG": False,  # no query log in the measuring process
    }
    with override_settings(**overrides):
        _reset_clients()
        celery_conf.broker_url = options.redis_url
        celery_conf.broker_transport_options = {
            **(saved[1] or {}),
            "global_keyprefix": celery_key_prefix(options),
        }
        try:
            yield
        finally:
            celery_conf.broker_url, celery_conf.broker_transport_options = saved
            _reset_clients()


def _reset_clients() -> None:
    get_redis.cache_clear()
    store._scripts.cache_clear()
    celery_app.close()  # the broker connection pool is made again from the current config
    # The producer pool outlives close() and would keep publishing under the old key
    # prefix; Celery drops it the same way after a fork.
    celery_app.amqp._producer_pool = None


def celery_key_prefix(options: Options) -> str:
    return options.key_prefix + "celery:"


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChildProcess:
    """A server the run started: its own process group, a log file, stopped by its id."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = ROOT / ".local" / f"bench_timeline-{name}-{os.getpid()}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self.log = open(self.log_path, "w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_for(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.process.poll() is not None:
                raise CommandError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            time.sleep(0.1)
        raise CommandError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        # uvicorn's worker processes share the group: make sure none outlives its parent.
        self._signal(signal.SIGKILL)
        self.log.close()
        self.log_path.unlink(missing_ok=True)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def child_environment(options: Options, secret_key: str) -> dict[str, str]:
    """Production-like settings (DEBUG=false) pointed at this database and the run's Redis."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    database_url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis_url,
        "REDIS_KEY_PREFIX": options.key_prefix,
        "CELERY_BROKER_URL": options.redis_url,
        "CELERY_KEY_PREFIX": celery_key_prefix(options),
        "CHANNEL_LAYER_URL": options.redis_url,
        "VIP_THRESHOLD": str(options.vip_threshold),
        "FANOUT_BATCH": str(settings.FANOUT_BATCH),
        "TIMELINE_MAX": str(settings.TIMELINE_MAX),
        "VIP_POSTS_MAX": str(settings.VIP_POSTS_MAX),
        "ACTIVE_DAYS": str(settings.ACTIVE_DAYS),
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BENCHMARK_ENDPOINTS": "true",
        # One reader sends tens of thousands of requests: Mastodon's 300 per 5 minutes would
        # answer 429 after the first seconds. The limiter keeps running (its cost is real).
        "RATE_LIMIT_API": "1000000000",
        "RATE_LIMIT_API_IP": "1000000000",
        "PYTHONUNBUFFERED": "1",
    }


# --- the run -----------------------------------------------------------------------------


@dataclass
class Author:
    user: User
    followers: list[int]  # active followers, in follower-id order (what fan-out walks)

    @property
    def label(self) -> str:
        return f"regular_{len(self.followers)}"


@dataclass
class BenchRun:
    options: Options
    say: Callable[[str], None]
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    vip_snapshot: dict[int, tuple[bool, object]] = field(default_factory=dict)
    touched_vips: list[int] = field(default_factory=list)
    vip_post_ids: list[int] = field(default_factory=list)
    session_keys: list[str] = field(default_factory=list)
    oauth_app_ids: list[int] = field(default_factory=list)  # the run's apps; their tokens go with them
    authors: list[Author] = field(default_factory=list)
    memory_users: list[int] = field(default_factory=list)
    ceiling: Figure | None = None
    fanout_rate: float | None = None  # store.add_post's entries/s, for the encoding choice
    visible_p99: float | None = None  # the largest regular author's post-to-visible p99, for the same
    reader: User | None = None  # the HTTP reader, following `reader_following` accounts

    def __post_init__(self):
        self.redis = get_redis()
        self.secret_key = secrets.token_urlsafe(64)
        self.rng = random.Random(SEED)
        self.synthetic_ids = iter(range(id_at(timezone.now()), 2**53))  # above every existing id

    # --- output ---

    def show(self, figures: list[Figure]) -> list[Figure]:
        for figure in figures:
            self.say(format_figure(figure))
        self.figures += figures
        return figures

    def note(self, line: str) -> None:
        self.say(line)
        self.notes.append(line)

    def step(self, what: str) -> None:
        self.say(f"-- {what}")

    # --- the whole run ---

    def measure(self) -> None:
        o = self.options
        self.context.append(
            f"settings: VIP_THRESHOLD={o.vip_threshold:,} FANOUT_BATCH={settings.FANOUT_BATCH:,} "
            f"TIMELINE_MAX={settings.TIMELINE_MAX} ACTIVE_DAYS={settings.ACTIVE_DAYS} "
            f"buckets={store.TIMELINE_BUCKETS}; Redis {self.redis_description()}, key prefix {o.key_prefix!r}"
        )
        self.prepare_world()
        measurements = {
            "fanout": self.measure_fanout,
            "visibility": self.measure_visibility,
            "http": self.measure_http,
            "memory": self.measure_memory,
        }
        for section in o.sections:
            measurements[section]()
        if o.sections != SECTIONS:
            self.context.append(f"sections measured: {', '.join(o.sections)} (--only); the others were skipped")

    def redis_description(self) -> str:
        info = self.redis.info("server")
        listpack = next(iter(self.redis.config_get("zset-max-ziplist-entries").values()), "?")
        return f"{info['redis_version']} at {self.options.redis_url} (zset-max-listpack-entries {listpack})"

    # --- world ---

    def prepare_world(self) -> None:
        self.step("preparing: leftovers of an interrupted run, VIP flags, regular authors, full timelines")
        self.delete_bench_rows()
        self.flag_vips()
        # The reader first: a probe made now cannot pick the run's authors to follow.
        self.reader = User.objects.get(pk=probe_users(self.options.reader_following, 1)[0])
        self.make_authors()
        self.fill_timelines()

    def flag_vips(self) -> None:
        """VIP flags as production's periodic task sets them at this threshold (put back at the end)."""
        demote_below = int(self.options.vip_threshold * settings.VIP_DEMOTE_RATIO)
        candidates = User.objects.filter(Q(is_vip=True) | Q(followers_count__gte=demote_below))
        self.vip_snapshot = {
            pk: (vip, changed) for pk, vip, changed in candidates.values_list("pk", "is_vip", "vip_changed_at")
        }
        promoted, demoted = services.refresh_vip_flags()
        self.touched_vips = promoted + demoted
        vips = list(User.objects.filter(is_vip=True).values_list("pk", flat=True))
        for vip in vips:
            services.rebuild_vip_posts(vip)
        self.context.append(
            f"VIPs at {self.options.vip_threshold:,} followers: {len(vips)} (flags set by refresh_vip_flags: "
            f"{len(promoted)} promoted, {len(demoted)} demoted, put back at the end); their recent-posts sets rebuilt"
        )

    def make_authors(self) -> None:
        cutoff = timezone.now() - timedelta(days=settings.ACTIVE_DAYS) + ACTIVE_MARGIN
        pool = list(
            User.objects.active()
            .filter(email__endswith=f"@{WORLD_EMAIL_DOMAIN}", last_active_at__gte=cutoff)
            .exclude(username__startswith="wprobe")
            .exclude(username=MARKER_USERNAME)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        wanted = self.options.followers[-1]
        if len(pool) < wanted:
            raise CommandError(f"Only {len(pool):,} active world accounts: no author can have {wanted:,} active ones.")
        chosen = self.rng.sample(pool, wanted)  # smaller authors' followers are a part of these
        password = make_password(None)
        for count in self.options.followers:
            username = f"{AUTHOR_PREFIX}{count}"
            user = User.objects.create(
                username=username,
                email=world_email(username),
                password=password,
                display_name=f"bench_timeline author ({count:,} followers)",
                last_active_at=timezone.now(),
            )
            Follow.objects.bulk_create(
                [Follow(follower_id=follower, followee_id=user.pk) for follower in chosen[:count]], batch_size=5000
            )
            self.authors.append(Author(user, []))
        # Counters are left alone: nothing measured reads them (fan-out goes by is_vip), and this
        # way the world's numbers, which other benchmarks choose their accounts by, never move
        # (an author with followers_count 0 is no candidate for build_world's probe accounts).
        for author in self.authors:
            # What fan-out walks: the real query, in its order.
            author.followers = services.active_follower_ids(author.user.pk, after=0, limit=10**9)
            self.context.append(
                f"{author.label}: {author.user.username}, {len(author.followers):,} followers, all active "
                f"(made for the run from active world accounts)"
            )

    def fill_timelines(self) -> None:
        """Every follower's timeline exists and is full, as an active user's is."""
        fill = list(
            Post.objects.filter(is_deleted=False, is_hidden=False)
            .order_by("-id")
            .values_list("id", flat=True)[: settings.TIMELINE_MAX]
        )
        followers = sorted({follower for author in self.authors for follower in author.followers})
        started = time.monotonic()
        for follower in followers:
            store.replace_home(follower, fill, {})
        self.context.append(
            f"timelines: {len(followers):,} followers' home sets written by store.replace_home with the newest "
            f"{len(fill)} world posts (+ sentinel) in {time.monotonic() - started:.0f} s"
        )

    # --- 1. fan-out throughput ---

    def measure_fanout(self) -> None:
        self.step("1. fan-out throughput")
        self.ceiling = self.redis_benchmark_ceiling()
        author = self.authors[-1]
        followers = author.followers
        batch = settings.FANOUT_BATCH
        batches = [followers[i : i + batch] for i in range(0, len(followers), batch)]
        script = self.redis.register_script(store.ADD_POST_LUA)
        keep = settings.TIMELINE_MAX

        def by_buckets(buckets: int):
            def push(post_id: int) -> None:
                for part in batches:
                    groups = defaultdict(list)
                    for user_id in part:
                        groups[user_id % buckets].append(store.home_key(user_id))
                    pipe = self.redis.pipeline(transaction=False)
                    for keys in groups.values():
                        script(keys=keys, args=[post_id, keep], client=pipe)
                    pipe.execute()

            return push

        def per_user_script(post_id: int) -> None:
            for part in batches:
                pipe = self.redis.pipeline(transaction=False)
                for user_id in part:
                    script(keys=[store.home_key(user_id)], args=[post_id, keep], client=pipe)
                pipe.execute()

        def pipeline_zadd_trim(post_id: int) -> None:
            for part in batches:
                pipe = self.redis.pipeline(transaction=False)
                for user_id in part:
                    key = store.home_key(user_id)
                    pipe.zadd(key, {post_id: post_id})
                    pipe.zremrangebyrank(key, 1, -(keep + 1))
                pipe.execute()

        def store_add_post(post_id: int) -> None:
            added = sum(store.add_post(post_id, part) for part in batches)
            if added != len(followers):
                raise CommandError(f"store.add_post added {added} of {len(followers)} entries: some timelines missing")

        def fan_out_batch(post_id: int) -> None:
            after = services.fan_out_batch(post_id)
            while after is not None:
                after = services.fan_out_batch(post_id, after)

        def new_post() -> int:
            return Post.objects.create(author=author.user, text=f"{BENCH_TEXT} (fan-out)").pk

        series: dict[str, tuple[Callable[[int], None], Callable[[], int]]] = {
            "fanout.fan_out_batch.b256": (fan_out_batch, new_post),
            "fanout.store_add_post.b256": (store_add_post, self.synthetic_id),
            "fanout.script_per_bucket.b16": (by_buckets(16), self.synthetic_id),
            "fanout.script_per_user": (per_user_script, self.synthetic_id),
            "fanout.pipeline_zadd_trim": (pipeline_zadd_trim, self.synthetic_id),
        }
        seconds = dict.fromkeys(series, 0.0)
        stats_before = self.redis.info("commandstats")
        rounds, deadline = 0, time.monotonic() + self.options.fanout_seconds
        while rounds < 1 or time.monotonic() < deadline:
            for name, (push, make_id) in series.items():
                post_id = make_id()  # untimed
                started = time.perf_counter()
                push(post_id)
                seconds[name] += time.perf_counter() - started
            rounds += 1
        entries = rounds * len(followers)
        self.note_redis_side_costs(stats_before, self.redis.info("commandstats"))
        baseline = as_baseline(self.ceiling) if self.ceiling else None
        real_target = Target(">=", FANOUT_SHARE_TARGET, of="ratio") if baseline else None
        self.show(
            [
                Figure(
                    name,
                    entries / seconds[name],
                    "entries/s",
                    entries,
                    baseline=baseline,
                    target=real_target if name.endswith(".b256") else None,
                )
                for name in series
            ]
        )
        self.context.append(
            f"fan-out: {rounds} rounds, each pushing one post per series to the {len(followers):,} full timelines of "
            f"{author.label} in batches of FANOUT_BATCH, series taking turns; fan_out_batch = the service (post row, "
            "active-follower query, script per bucket, mark) on real post rows; the others on synthetic ids: "
            "b256 = store.add_post as implemented, b16 = the same script per bucket of 16, script_per_user = the "
            "same script once per timeline (per-user hash tags), pipeline_zadd_trim = ZADD + ZREMRANGEBYRANK per user "
            "(per-user hash tags, but creates missing timelines)"
        )
        fastest_alternative = max(
            ("fanout.script_per_user", "fanout.pipeline_zadd_trim"), key=lambda name: entries / seconds[name]
        )
        chosen, other = entries / seconds["fanout.store_add_post.b256"], entries / seconds[fastest_alternative]
        self.fanout_rate = chosen
        self.note(
            f"layout: one script call per bucket of 256 (as implemented) writes {format_value(chosen / other)}x the "
            f"entries/s of the best per-user layout ({fastest_alternative}); 16 buckets: "
            f"{format_value(seconds['fanout.store_add_post.b256'] / seconds['fanout.script_per_bucket.b16'])}x "
            "the speed of 256"
        )

    def note_redis_side_costs(self, before: dict, after: dict) -> None:
        """What one timeline entry costs inside Redis (INFO commandstats over the rounds): the
        part of fan-out no client-side change can remove, beside the ceiling's ZADD."""
        costs = {}
        for command in ("zadd", "zcard"):
            old, new = before.get(f"cmdstat_{command}", {}), after.get(f"cmdstat_{command}", {})
            calls = new.get("calls", 0) - old.get("calls", 0)
            if calls > 0:
                costs[command] = (new.get("usec", 0) - old.get("usec", 0)) / calls
        if "zadd" not in costs:
            return
        per_entry = sum(costs.values())
        line = (
            "inside Redis, over the fan-out rounds (INFO commandstats): "
            + ", ".join(f"{command.upper()} {format_value(usec)} µs per call" for command, usec in costs.items())
            + f" on full timelines; Redis alone allows {format_value(1e6 / per_entry)} entries/s"
        )
        if self.ceiling:
            line += (
                f" = {format_value(1e6 / per_entry / self.ceiling.value)}x the ceiling, whose ZADD re-adds one "
                f"member to one tiny set ({format_value(1e6 / self.ceiling.value)} µs per request)"
            )
        self.note(line)

    def synthetic_id(self) -> int:
        return next(self.synthetic_ids)

    def redis_benchmark_ceiling(self) -> Figure | None:
        binary = shutil.which("redis-benchmark")
        if binary is None:
            self.note("ceiling: not measured: redis-benchmark missing (apt-get install -y redis-tools)")
            return None
        target = parse_url(self.options.redis_url)
        command = [binary, "-q", "-n", str(self.options.ceiling_requests), "-P", "64", "-t", "zadd"]
        if target.get("path"):
            command += ["-s", target["path"]]
        else:
            command += ["-h", target.get("host", "127.0.0.1"), "-p", str(target.get("port", 6379))]
        command += ["--dbnum", str(target.get("db", 0))]
        if target.get("password"):
            command += ["-a", target["password"], "--no-auth-warning"]
            if target.get("username"):
                command += ["--user", target["username"]]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        finally:
            self.redis.delete("myzset")  # redis-benchmark's key, in the run's db
        found = re.findall(r"ZADD: ([\d.]+) requests per second", done.stdout.replace("\r", "\n"))
        if done.returncode != 0 or not found:
            self.note(f"ceiling: not measured: redis-benchmark failed: {(done.stderr or done.stdout)[-300:]!r}")
            return None
        shown = " ".join(arg if arg != target.get("password") else "***" for arg in command[1:])
        self.context.append(f"ceiling: redis-benchmark {shown} (same Redis, same run)")
        return self.show(
            [Figure("ceiling.redis_benchmark_zadd_P64", float(found[-1]), "entries/s", self.options.ceiling_requests)]
        )[0]

    # --- 2. post-to-visible latency through a worker ---

    def measure_visibility(self) -> None:
        self.step("2. post-to-visible latency through a Celery worker")
        vip, reader = self.vip_and_follower()
        worker = ChildProcess(
            "worker",
            [sys.executable, "-m", "celery", "-A", "socialnet", "worker", "--pool=solo", "--loglevel=INFO"],
            child_environment(self.options, self.secret_key),
        )
        try:
            worker.wait_for(lambda: "ready." in worker.tail(20_000), timeout=60)
            durations = self.visibility_rounds(vip, reader)
        finally:
            worker.stop()
        vip_set = latency_figures("visible.vip_set", durations["vip_set"])
        baselines = {figure.name.rsplit(" ", 1)[1]: as_baseline(figure) for figure in vip_set}
        figures = list(vip_set)
        largest = self.authors[-1]
        for author in self.authors:
            targets = {"p99": Target("<", VISIBLE_P99_TARGET_MS)} if author is largest else None
            figures += latency_figures(
                f"visible.{author.label}", durations[author.label], baselines=baselines, targets=targets
            )
        self.visible_p99 = figures[-1].value
        figures += latency_figures("visible.vip_read", durations["vip_read"], baselines=baselines)
        self.show(figures)

    def vip_and_follower(self) -> tuple[User, User]:
        vips = User.objects.filter(is_vip=True, is_active=True, is_suspended=False)
        vip = min(vips, key=lambda user: abs(user.followers_count - self.options.vip_followers), default=None)
        if vip is None:
            raise CommandError(f"No account reaches VIP_THRESHOLD={self.options.vip_threshold:,} in this world.")
        follower_id = services.active_follower_ids(vip.pk, after=0, limit=1)
        if not follower_id:
            raise CommandError(f"The VIP {vip.username} has no active follower.")
        reader = User.objects.get(pk=follower_id[0])
        entries = services.rebuild_home(reader.pk)
        followed_vips = len(services.followed_vip_ids(reader))
        self.context.append(
            f"VIP: {vip.username}, {vip.followers_count:,} followers; its follower {reader.username} "
            f"(timeline rebuilt: {entries} entries; follows {reader.following_count} accounts, "
            f"{followed_vips} of them VIPs) reads with home_timeline(limit=20)"
        )
        return vip, reader

    def visibility_rounds(self, vip: User, reader: User) -> dict[str, list[float]]:
        """Rounds of one post per regular author and one by the VIP, each awaited before the next."""
        o = self.options
        series = {author.label: [] for author in self.authors} | {"vip_set": [], "vip_read": []}
        self.count_missing = self.redis.register_script(COUNT_MISSING_LUA)
        checks = {
            author.label: (
                keys_by_bucket(author.followers),
                last_written_key(author.followers, settings.FANOUT_BATCH),
            )
            for author in self.authors
        }
        self.late = self.timeouts = 0
        rounds, deadline = 0, time.monotonic() + o.latency_budget
        while rounds < o.warmup + o.samples and (rounds <= o.warmup or time.monotonic() < deadline):
            recording = rounds >= o.warmup
            for author in self.authors:
                keys, last_key = checks[author.label]
                took = self.time_regular_post(author.user, keys, last_key)
                if recording:
                    series[author.label].append(took)
            set_ms, read_ms = self.time_vip_post(vip, reader)
            if recording:
                series["vip_set"].append(set_ms)
                series["vip_read"].append(read_ms)
            rounds += 1
        recorded = rounds - o.warmup
        self.context.append(
            f"visibility: {recorded:,} rounds after {o.warmup} warm-up (asked {o.samples:,}, budget "
            f"{o.latency_budget:.0f} s); a round posts once per regular author, then once as the VIP, each with "
            "posts.services.create_post, the clock starting in an on_commit hook registered before create_post's "
            "(so at COMMIT) and stopping when the fan-out's last-written set holds the post (polled every "
            f"{POLL_SECONDS * 1000:g} ms), checked untimed against every active follower's set; the next post waits "
            "for fanned_out_at. Worker: celery --pool=solo, DEBUG=false, same Redis/prefix/knobs"
        )
        if self.late:
            self.note(
                f"visibility: {self.late} samples had sets still missing the post when the last-written one had it"
            )
        if self.timeouts:
            self.note(f"visibility: {self.timeouts} samples timed out, counted as {SAMPLE_TIMEOUT_SECONDS:g} s")
        return series

    def post_and_stamp(self, author: User, what: str) -> tuple[Post, float]:
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.perf_counter()))  # runs before create_post's hooks
            post = post_services.create_post(author, f"{BENCH_TEXT} ({what})")
        return post, committed[0]

    def time_regular_post(self, author: User, keys: list[list[str]], last_key: str) -> float:
        post, committed = self.post_and_stamp(author, "regular")
        member = str(post.pk)
        deadline = committed + SAMPLE_TIMEOUT_SECONDS
        while self.redis.zscore(last_key, member) is None:
            if time.perf_counter() > deadline:
                self.timeouts += 1
                self.wait_until_marked(post.pk)
                return SAMPLE_TIMEOUT_SECONDS * 1000
            time.sleep(POLL_SECONDS)
        seen = time.perf_counter()
        if self.missing(keys, member):
            self.late += 1  # the fan-out order is not what last_written_key assumed: wait for all
            while self.missing(keys, member) and time.perf_counter() < deadline:
                time.sleep(POLL_SECONDS)
            seen = time.perf_counter()
        self.wait_until_marked(post.pk)
        return (seen - committed) * 1000

    def time_vip_post(self, vip: User, reader: User) -> tuple[float, float]:
        post, committed = self.post_and_stamp(vip, "VIP")
        self.vip_post_ids.append(post.pk)
        member, key = str(post.pk), store.vip_posts_key(vip.pk)
        deadline = committed + SAMPLE_TIMEOUT_SECONDS
        while self.redis.zscore(key, member) is None and time.perf_counter() < deadline:
            time.sleep(POLL_SECONDS)
        in_set = time.perf_counter()
        while time.perf_counter() < deadline:
            if any(shown.pk == post.pk for shown in home_timeline(reader, limit=20)):
                break
        read = time.perf_counter()
        if read >= deadline:
            self.timeouts += 1
        self.wait_until_marked(post.pk)
        return (in_set - committed) * 1000, (read - committed) * 1000

    def missing(self, key_groups: list[list[str]], member: str) -> int:
        """How many of the sets lack the post: one script call per bucket, one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for keys in key_groups:
            self.count_missing(keys=keys, args=[member], client=pipe)
        return sum(pipe.execute())

    @staticmethod
    def wait_until_marked(post_id: int) -> None:
        deadline = time.monotonic() + SAMPLE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if Post.objects.filter(pk=post_id, fanned_out_at__isnull=False).exists():
                return
            time.sleep(0.002)

    # --- 3. HTTP reads ---

    def measure_http(self) -> None:
        self.step("3. home timeline over HTTP (uvicorn, wrk)")
        reader = self.reader
        User.objects.filter(pk=reader.pk).update(last_active_at=timezone.now())  # active, as a reader is
        reader.refresh_from_db()
        entries = services.rebuild_home(reader.pk)
        vip_ids = services.followed_vip_ids(reader)
        followed_vips = len(vip_ids)
        self.measure_id_sources(reader, vip_ids)
        wrk = self.find_wrk()
        if wrk is None:
            return
        session_key = self.make_session(reader)
        bearer_header = f"Authorization: Bearer {self.make_app_token(reader)}"
        port = free_port()
        server = ChildProcess(
            "uvicorn",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "socialnet.asgi:application",
                "--workers",
                "2",
                "--lifespan",
                "off",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            child_environment(self.options, self.secret_key),
        )
        base = f"http://127.0.0.1:{port}"
        paths = {
            "floor": "/api/bench/timelines/floor?limit=20",
            "home": "/api/v1/timelines/home?limit=20",
            "phase0": "/api/bench/timelines/phase0?limit=20",
            "phase0_orm": "/api/bench/timelines/phase0_orm?limit=20",
            "home_bearer": "/api/v1/timelines/home?limit=20",
        }
        cookie = f"Cookie: {settings.SESSION_COOKIE_NAME}={session_key}"
        headers = {name: bearer_header if name == "home_bearer" else cookie for name in paths}
        try:
            server.wait_for(lambda: http_status(base + "/healthz") == 200, timeout=60)
            pages = {name: fetch_json(base + path, headers[name]) for name, path in paths.items()}
            if self.options.wrk_warmup_seconds:
                for name, path in paths.items():
                    run_wrk(wrk, base + path, headers[name], self.options.wrk_warmup_seconds)
            # The endpoints take turns in short rounds, so a burst of load from elsewhere on
            # the machine falls on all of them alike rather than on whichever ran then.
            rounds: dict[str, list[WrkResult]] = {name: [] for name in paths}
            for _ in range(self.options.wrk_rounds):
                for name, path in paths.items():
                    rounds[name].append(run_wrk(wrk, base + path, headers[name], self.options.wrk_seconds))
            results = {name: combined(parts) for name, parts in rounds.items()}
            # A figure of failed requests means nothing: what does such a request answer now?
            failing = {
                name: fetch_status(base + paths[name], headers[name]) for name, got in results.items() if got.non_2xx
            }
        finally:
            server.stop()
        if failing:
            for name, answer in failing.items():
                self.note(
                    f"http.{name}: not measured: {results[name].non_2xx:,} of {results[name].requests:,} responses "
                    f"were not 2xx (one now: {answer})"
                )
            return
        home_ids = [status["id"] for status in pages["home"]]
        phase0_ids = [status["id"] for status in pages["phase0"]]
        self.context.append(
            f"http: reader {reader.username} follows {reader.following_count} accounts ({followed_vips} VIPs), "
            f"timeline rebuilt ({entries} entries), session cookie made server-side, home_bearer with the run's "
            "app's token (scope read) in the Authorization header, as Mastodon apps send it; uvicorn "
            "socialnet.asgi:application --workers 2 --lifespan off, DEBUG=false; "
            f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{self.options.wrk_seconds}s --latency on loopback, "
            f"{self.options.wrk_rounds} rounds with the endpoints taking turns (req/s over all rounds, p50/p99 the "
            f"median of the rounds'), after {self.options.wrk_warmup_seconds} s warm-up each, rate limits raised "
            "out of reach (the limiter still runs), endpoints: "
            + ", ".join(f"{name} {path}" for name, path in paths.items())
        )
        self.note(
            f"http: first pages: home {len(home_ids)} statuses, phase0 {len(phase0_ids)}, "
            f"{len(set(home_ids) & set(phase0_ids))} ids in common; floor returned {len(pages['floor']['ids'])} ids; "
            f"home_bearer {'the same page as home' if pages['home_bearer'] == pages['home'] else 'a different page'}"
        )
        for name, result in results.items():
            if result.errors:
                self.note(f"http.{name}: {result.errors}")
        floor, home, phase0, app = results["floor"], results["home"], results["phase0"], results["home_bearer"]
        orm = results["phase0_orm"]  # context only: the target is judged against phase0
        floor_rate = Figure("http.floor", floor.rate, "req/s", floor.requests)
        phase0_rate = Figure("http.phase0", phase0.rate, "req/s", phase0.requests)
        floor_latency = [
            Figure("http.floor p50", floor.p50, "ms", floor.requests),
            Figure("http.floor p99", floor.p99, "ms", floor.requests),
        ]
        self.show(
            [
                floor_rate,
                *floor_latency,
                phase0_rate,
                Figure("http.phase0 p50", phase0.p50, "ms", phase0.requests),
                Figure("http.phase0 p99", phase0.p99, "ms", phase0.requests),
                Figure(
                    "http.home",
                    home.rate,
                    "req/s",
                    home.requests,
                    baseline=as_baseline(floor_rate),
                    target=Target(">=", HOME_VS_FLOOR_TARGET, of="ratio"),
                ),
                Figure(
                    "http.home_vs_phase0",
                    home.rate,
                    "req/s",
                    home.requests,
                    baseline=as_baseline(phase0_rate),
                    target=Target(">=", HOME_VS_PHASE0_TARGET, of="ratio"),
                ),
                Figure("http.home p50", home.p50, "ms", home.requests, baseline=as_baseline(floor_latency[0])),
                Figure("http.home p99", home.p99, "ms", home.requests, baseline=as_baseline(floor_latency[1])),
                Figure(
                    "http.home_vs_phase0_orm",
                    home.rate,
                    "req/s",
                    home.requests,
                    baseline=as_baseline(Figure("http.phase0_orm", orm.rate, "req/s", orm.requests)),
                ),
                Figure("http.home_bearer", app.rate, "req/s", app.requests, baseline=as_baseline(floor_rate)),
                Figure("http.home_bearer p50", app.p50, "ms", app.requests, baseline=as_baseline(floor_latency[0])),
                Figure("http.home_bearer p99", app.p99, "ms", app.requests, baseline=as_baseline(floor_latency[1])),
            ]
        )

    def measure_id_sources(self, reader: User, vip_ids: list[int]) -> None:
        """In this process, what differs between home and phase 0: where a page's ids come from."""
        window, count = store.Window(), 40  # the reader's first read: limit 20, twice over
        durations = interleaved_latencies_ms(
            {
                "sql": lambda i: run_phase0_pull(reader.pk),
                "redis": lambda i: store.read_home_and_vips(reader.pk, vip_ids, window, count),
            },
            self.options.samples,
            warmup=self.options.warmup,
        )
        sql = latency_figures("ids.phase0_sql_join", durations["sql"])
        baselines = {figure.name.rsplit(" ", 1)[1]: as_baseline(figure) for figure in sql}
        self.show([*sql, *latency_figures("ids.redis_home_and_vips", durations["redis"], baselines=baselines)])
        self.context.append(
            f"ids: the page's id source alone, in this process, for the HTTP reader: the phase-0 join (LIMIT 20) and "
            f"store.read_home_and_vips (home set + {len(vip_ids)} VIP sets, 40 ids each, one round trip), taking "
            f"turns, {self.options.samples:,} rounds after {self.options.warmup} warm-up"
        )

    def find_wrk(self) -> str | None:
        wrk = shutil.which("wrk")
        if wrk is None and self.options.install_wrk and os.geteuid() == 0 and shutil.which("apt-get"):
            self.say("wrk missing: apt-get install -y wrk")
            subprocess.run(  # noqa: S603
                [shutil.which("apt-get"), "install", "-y", "wrk"], capture_output=True, timeout=300, check=False
            )
            wrk = shutil.which("wrk")
        if wrk is None:
            self.note("http: not measured: wrk missing (install it: apt-get install -y wrk)")
        return wrk

    def make_session(self, user: User) -> str:
        """A logged-in session row, signed with the servers' SECRET_KEY, as login() would make."""
        with override_settings(SECRET_KEY=self.secret_key):
            session = import_module(settings.SESSION_ENGINE).SessionStore()
            session[SESSION_KEY] = user._meta.pk.value_to_string(user)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
        self.session_keys.append(session.session_key)
        return session.session_key

    def make_app_token(self, user: User) -> str:
        """An access token of an app made for the run, stored hashed as /oauth/token stores it."""
        app = get_application_model().objects.create(
            name="bench_timeline",
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            client_type="confidential",
            authorization_grant_type="authorization-code",
            scopes="read",
        )
        self.oauth_app_ids.append(app.pk)
        raw = generate_client_secret()
        token = get_access_token_model()(
            user=user, application=app, scope="read", expires=timezone.now() + timedelta(hours=1)
        )
        set_token_value(token, raw)
        token.save()
        return raw

    # --- 4. memory ---

    def measure_memory(self) -> None:
        self.step("4. Redis memory per timeline")
        keys, entries = self.full_home_keys()
        sizes = [self.redis.memory_usage(key, samples=0) for key in keys]
        encodings = sorted({self.redis.object("encoding", key).decode() for key in keys})
        reposts_seen = [self.redis.memory_usage(store.reposts_seen_key(user)) or 0 for user in self.memory_users]
        per_user = sum(sizes) / len(sizes) + sum(reposts_seen) / len(reposts_seen)
        current = Figure(f"memory.home.current_{'+'.join(encodings)}", sum(sizes) / len(sizes), "bytes", len(sizes))
        members = self.redis.zrange(keys[0], 0, -1, withscores=True)
        private = self.private_redis_figures(members)
        projected = Figure("memory.projected_10M.current", per_user * PROJECTED_USERS / 1e9, "GB", len(sizes))
        listpack_bytes = private["listpack"].value + per_user - current.value
        projected_listpack = Figure(
            "memory.projected_10M.listpack",
            listpack_bytes * PROJECTED_USERS / 1e9,
            "GB",
            private["listpack"].samples,
            baseline=as_baseline(projected),
        )
        self.show([current, *private["figures"], projected, projected_listpack])
        self.context.append(
            f"memory: MEMORY USAGE (SAMPLES 0) of {len(sizes)} home sets rebuilt by services.rebuild_home for active "
            f"world accounts, {entries} entries each on average (+ reposts-seen sets: "
            f"{sum(reposts_seen) / len(reposts_seen):.0f} bytes on average); alternatives: the members of one of "
            f"them copied into {self.options.private_keys:,} sets per encoding on a private redis-server "
            f"(zset-max-listpack-entries {LISTPACK_ENTRIES} for listpack; the shared server's config untouched); "
            f"projection = bytes per active user x {PROJECTED_USERS:,}"
        )
        self.choose_encoding(private, projected, projected_listpack)

    def full_home_keys(self) -> tuple[list[str], int]:
        """Home sets of active world accounts following many, rebuilt from PostgreSQL; the full ones."""
        cutoff = timezone.now() - timedelta(days=settings.ACTIVE_DAYS)
        candidates = list(
            User.objects.active()
            .filter(email__endswith=f"@{WORLD_EMAIL_DOMAIN}", last_active_at__gte=cutoff)
            .exclude(username__startswith="wprobe")
            .order_by("-following_count", "pk")
            .values_list("pk", flat=True)[: self.options.memory_users * 5]
        )
        self.rng.shuffle(candidates)
        full, counts, partial = [], [], []
        for user_id in candidates:
            count = services.rebuild_home(user_id)
            if count >= settings.TIMELINE_MAX * 0.95:
                full.append(user_id)
                counts.append(count)
            else:
                partial.append((count, user_id))
            if len(full) == self.options.memory_users:
                break
        if not full:  # a small world: the fan-out's timelines, filled to TIMELINE_MAX by replace_home
            full = self.authors[-1].followers[: self.options.memory_users]
            counts = [self.redis.zcard(store.home_key(user_id)) - 1 for user_id in full]
            fullest = max((count for count, _ in partial), default=0)
            self.note(
                f"memory: no rebuilt timeline is full in this world (fullest {fullest} entries): measured the "
                "fan-out's timelines instead"
            )
        self.memory_users = full
        return [store.home_key(user_id) for user_id in full], round(sum(counts) / len(counts))

    def private_redis_figures(self, members: list[tuple[bytes, float]]) -> dict:
        """Full timelines in each encoding on a private server: bytes, fan-out entries/s, first pages/s."""
        with private_redis() as client:
            keys = {"skiplist": self.private_timelines(client, "skiplist", members)}
            # The 6.2 name: Redis 7 keeps it as an alias of zset-max-listpack-entries.
            client.config_set("zset-max-ziplist-entries", LISTPACK_ENTRIES)
            keys["listpack"] = self.private_timelines(client, "listpack", members)
            keys["list"] = self.private_timelines(client, "list", members)
            size = {kind: client.memory_usage(names[0], samples=0) for kind, names in keys.items()}
            writes = self.private_fanout(client, keys)
            reads = self.private_reads(client, keys)
        count = self.options.private_keys
        figures: dict[str, list[Figure]] = {"memory": [], "fanout": [], "read": []}
        for kind in keys:
            for family, value, unit, samples in (
                ("memory", size[kind], "bytes", count),
                ("fanout", writes[kind], "entries/s", writes["entries"]),
                ("read", reads[kind], "pages/s", reads["pages"]),
            ):
                prefix = "memory.home" if family == "memory" else family
                first = figures[family][0] if figures[family] else None
                figures[family].append(
                    Figure(
                        f"{prefix}.private_{kind}",
                        value,
                        unit,
                        samples,
                        baseline=as_baseline(first) if first else None,
                    )
                )
        return {
            "figures": figures["memory"] + figures["fanout"] + figures["read"],
            "listpack": figures["memory"][1],
            "writes": (figures["fanout"][0], figures["fanout"][1]),
        }

    def private_timelines(self, client, kind: str, members: list[tuple[bytes, float]]) -> list[str]:
        """`private_keys` copies of one real full timeline: sorted sets as they are, or a plain list of its ids."""
        keys = [
            f"{kind}:{{tl:{user % store.TIMELINE_BUCKETS}}}:home:{user}" for user in range(self.options.private_keys)
        ]
        pipe = client.pipeline(transaction=False)
        newest_first = [member for member, score in sorted(members, key=lambda pair: -pair[1]) if score > 0]
        for key in keys:
            if kind == "list":
                pipe.rpush(key, *newest_first)
            else:
                pipe.zadd(key, dict(members))
        pipe.execute()
        found = client.object("encoding", keys[0]).decode()
        # Redis 6.2 calls the compact encoding "ziplist"; 7 renamed it "listpack".
        expected = {"list": {"quicklist"}, "listpack": {"listpack", "ziplist"}}.get(kind, {kind})
        if found not in expected:
            raise CommandError(f"private redis-server: expected {kind} timelines, got {found}")
        return keys

    def private_fanout(self, client, key_sets: dict[str, list[str]]) -> dict:
        """The store's script per bucket of 256 (for the list: EXISTS + LPUSH + LTRIM), kinds taking turns."""
        scripts = {kind: client.register_script(store.ADD_POST_LUA) for kind in key_sets}
        scripts["list"] = client.register_script(LIST_ADD_POST_LUA)
        seconds = dict.fromkeys(key_sets, 0.0)
        groups = {}
        for kind, keys in key_sets.items():
            by_bucket = defaultdict(list)
            for user, key in enumerate(keys):
                by_bucket[user % store.TIMELINE_BUCKETS].append(key)
            groups[kind] = list(by_bucket.values())
        server_usec = dict.fromkeys(key_sets, 0)  # the server's own time in the scripts (INFO commandstats)
        rounds, deadline = 0, time.monotonic() + max(1.0, self.options.fanout_seconds / 3)
        while rounds < 3 or time.monotonic() < deadline:
            for kind in key_sets:
                post_id = self.synthetic_id()
                before = script_usec(client)
                started = time.perf_counter()
                pipe = client.pipeline(transaction=False)
                for keys in groups[kind]:
                    scripts[kind](keys=keys, args=[post_id, settings.TIMELINE_MAX], client=pipe)
                pipe.execute()
                seconds[kind] += time.perf_counter() - started
                server_usec[kind] += script_usec(client) - before
            rounds += 1
        entries = rounds * self.options.private_keys
        encoding = client.object("encoding", key_sets["listpack"][0]).decode()
        if encoding not in ("listpack", "ziplist"):  # ziplist: its name before Redis 7
            raise CommandError(f"listpack sets became {encoding} during the fan-out")
        self.note(
            "fan-out cost inside Redis (private server, INFO commandstats): "
            + ", ".join(f"{kind} {server_usec[kind] / entries:.1f} µs" for kind in key_sets)
            + " per entry"
            + (f"; the ceiling's ZADD: {1e6 / self.ceiling.value:.2f} µs" if self.ceiling else "")
        )
        return {kind: entries / seconds[kind] for kind in key_sets} | {"entries": entries}

    def private_reads(self, client, key_sets: dict[str, list[str]]) -> dict:
        """First pages of 40 (ZREVRANGEBYSCORE … LIMIT 0 40 as the reader asks; LRANGE 0 39), pipelined."""
        seconds = dict.fromkeys(key_sets, 0.0)
        rounds = 0
        deadline = time.monotonic() + 1.0
        while rounds < 3 or time.monotonic() < deadline:
            for kind, keys in key_sets.items():
                started = time.perf_counter()
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    if kind == "list":
                        pipe.lrange(key, 0, 39)
                    else:
                        pipe.zrevrangebyscore(key, "+inf", "(0", start=0, num=40)
                pipe.execute()
                seconds[kind] += time.perf_counter() - started
            rounds += 1
        pages = rounds * self.options.private_keys
        return {kind: pages / seconds[kind] for kind in key_sets} | {"pages": pages}

    def choose_encoding(self, private: dict, projected: Figure, projected_listpack: Figure) -> None:
        """Listpack if it saves more memory than it costs in writes and the 9,000-follower p99 stays in target.

        The listpack p99 is estimated from this run: the measured p99 plus the extra time the
        fan-out's Redis writes would take (followers / store.add_post's rate x (slowdown - 1)).
        """
        skiplist_writes, listpack_writes = private["writes"]
        slowdown = skiplist_writes.value / listpack_writes.value
        shrink = projected.value / projected_listpack.value
        saving = projected.value - projected_listpack.value
        reasons = [
            f"listpack (zset-max-listpack-entries {LISTPACK_ENTRIES}) takes {format_value(shrink)}x less memory "
            f"({format_value(projected_listpack.value)} vs {format_value(projected.value)} GB at 10 M active users, "
            f"{format_value(saving)} GB saved) for {format_value(slowdown)}x slower fan-out writes"
        ]
        p99_ok = True
        if self.fanout_rate and self.visible_p99 is not None:
            followers = len(self.authors[-1].followers)
            estimate = self.visible_p99 + followers / self.fanout_rate * (slowdown - 1) * 1000
            p99_ok = estimate < VISIBLE_P99_TARGET_MS
            reasons.append(
                f"the {followers:,}-follower p99 would be ~{format_value(estimate)} ms "
                f"(measured {format_value(self.visible_p99)} ms on skiplist; target < {VISIBLE_P99_TARGET_MS:,} ms)"
            )
        if shrink > slowdown and p99_ok:
            verdict = (
                "choose listpack: memory is what 10 M users cost, and the writes it slows scale out with the "
                "bucket layout (more Redis primaries), while reads stay as fast"
            )
        else:
            verdict = "keep skiplist: listpack's slower writes cost more than its memory saves"
        self.note(f"encoding: {verdict}; " + "; ".join(reasons))

    # --- clean-up ---

    def clean_up(self) -> None:
        """Leave the world and Redis as found: runs on success, errors and Ctrl-C alike."""
        self.step("cleaning up")
        with contextlib.suppress(Exception):
            Session.objects.filter(session_key__in=self.session_keys).delete()
        with contextlib.suppress(Exception):
            get_application_model().objects.filter(pk__in=self.oauth_app_ids).delete()  # and their tokens
        try:
            self.restore_vip_flags()
            self.delete_bench_rows()
        finally:
            deleted = delete_keys(self.redis, f"{self.options.key_prefix}*")
            self.say(f"   deleted {deleted:,} Redis keys under {self.options.key_prefix!r}")

    def delete_bench_rows(self) -> None:
        """The run's authors (their follows and posts) and the posts made as the VIP; counters recounted."""
        authors = list(User.objects.filter(username__startswith=AUTHOR_PREFIX).values_list("pk", flat=True))
        followers = list(Follow.objects.filter(followee_id__in=authors).values_list("follower_id", flat=True))
        posted = Post.objects.filter(Q(pk__in=self.vip_post_ids) | Q(text__startswith=BENCH_TEXT))
        posters = set(posted.values_list("author_id", flat=True)) - set(authors)
        try:
            # Nothing else refers to these rows, so plain DELETEs do (the foreign keys are checked
            # at commit); unlike the ORM's cascade they need no table of apps not migrated here.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {Post._meta.db_table} WHERE author_id = ANY(%s) OR id = ANY(%s) "  # noqa: S608
                    "OR starts_with(text, %s)",
                    [authors, self.vip_post_ids, BENCH_TEXT],
                )
                cursor.execute(f"DELETE FROM {Follow._meta.db_table} WHERE followee_id = ANY(%s)", [authors])  # noqa: S608
                cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = ANY(%s)", [authors])  # noqa: S608
        except IntegrityError:  # something refers to them after all: the ORM's cascade
            posted.delete()
            User.objects.filter(pk__in=authors).delete()
        if followers or posters:
            recount_world_counters(sorted(set(followers) | posters))

    def restore_vip_flags(self) -> None:
        for user_id in self.touched_vips:
            was_vip, changed_at = self.vip_snapshot.get(user_id, (False, None))
            User.objects.filter(pk=user_id).update(is_vip=was_vip, vip_changed_at=changed_at)
        self.touched_vips = []


def last_written_key(followers: list[int], batch: int) -> str:
    """The home set a fan-out writes last: in the last batch, the last key of the last bucket met.

    (store.add_post groups a batch's followers by bucket in order of first appearance.)
    Every sample is checked against all sets anyway, so a wrong guess only shows as 'late'.
    """
    last_batch = followers[(len(followers) - 1) // batch * batch :]
    groups: dict[int, list[int]] = {}
    for user_id in last_batch:
        groups.setdefault(store.bucket(user_id), []).append(user_id)
    return store.home_key(list(groups.values())[-1][-1])


def script_usec(client: redis.Redis) -> int:
    """Microseconds the server has spent in EVALSHA (scripts' inner commands included)."""
    return client.info("commandstats").get("cmdstat_evalsha", {}).get("usec", 0)


def keys_by_bucket(user_ids: list[int]) -> list[list[str]]:
    groups: dict[int, list[str]] = defaultdict(list)
    for user_id in user_ids:
        groups[store.bucket(user_id)].append(store.home_key(user_id))
    return list(groups.values())


def delete_keys(client: redis.Redis, pattern: str) -> int:
    deleted = 0
    batch = []
    for key in client.scan_iter(match=pattern, count=5000):
        batch.append(key)
        if len(batch) == 5000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


@contextmanager
def private_redis() -> Iterator[redis.Redis]:
    """A redis-server of the run's own (no persistence), for config the shared server must not get."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise CommandError("redis-server missing (apt-get install -y redis-server): needed for the listpack figures")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = ChildProcess("redis-server", command, dict(os.environ))
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        server.wait_for(lambda: _pings(client), timeout=10)
        yield client
    finally:
        client.close()
        server.stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


# --- HTTP --------------------------------------------------------------------------------


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status
    except (urllib.error.URLError, OSError):
        return None


def header_dict(header: str) -> dict[str, str]:
    name, value = header.split(": ", 1)
    return {name: value}


def fetch_status(url: str, header: str) -> str:
    request = urllib.request.Request(url, headers=header_dict(header))  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return f"{response.status}"
    except urllib.error.HTTPError as error:
        return f"{error.code} {error.read()[:200]!r}"
    except (urllib.error.URLError, OSError) as error:
        return f"no answer: {error}"


def fetch_json(url: str, header: str):
    request = urllib.request.Request(url, headers=header_dict(header))  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise CommandError(f"GET {url}: {error.code} {error.read()[:300]!r}") from None


@dataclass(frozen=True)
class WrkResult:
    rate: float
    requests: int
    p50: float
    p99: float
    non_2xx: int
    errors: str


def combined(rounds: list[WrkResult]) -> WrkResult:
    """One endpoint's rounds as one figure: req/s over all of them, the median round's p50 and p99."""
    requests = sum(part.requests for part in rounds)
    seconds = sum(part.requests / part.rate for part in rounds if part.rate)
    return WrkResult(
        requests / seconds if seconds else 0.0,
        requests,
        statistics.median(part.p50 for part in rounds),
        statistics.median(part.p99 for part in rounds),
        sum(part.non_2xx for part in rounds),
        "; ".join(part.errors for part in rounds if part.errors),
    )


def run_wrk(wrk: str, url: str, header: str, seconds: int) -> WrkResult:
    """wrk against `url`, sending `header` ("Cookie: …" or "Authorization: Bearer …") each time."""
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        header,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    return parse_wrk(done.stdout, done.stderr)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str, stderr: str = "") -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+\w+)\s*$", output, re.MULTILINE))
    if not (rate and requests and "50" in percentiles and "99" in percentiles):
        raise CommandError(f"could not read wrk's output:\n{output}\n{stderr}")
    problems = []
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        problems.append(f"{non_2xx.group(1)} non-2xx responses")
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        problems.append(f"socket errors: {socket_errors.group(1)}")
    return WrkResult(
        float(rate.group(1)),
        int(requests.group(1)),
        _milliseconds(percentiles["50"]),
        _milliseconds(percentiles["99"]),
        int(non_2xx.group(1)) if non_2xx else 0,
        "; ".join(problems),
    )


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(number) * _UNIT_MS[unit]
