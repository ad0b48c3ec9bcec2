"""`manage.py bench_realtime`: the streaming API under load, beside same-run baselines (issue 5).

With real processes on loopback — `--servers` uvicorn processes serving socialnet.asgi
(DEBUG=false), one Celery worker, a Redis (`--redis-url`, default db 10) under the run's own
key prefix, and this database — it:

1. measures the baselines: a channel-layer `group_send` → `receive` round trip in this
   process, and the server memory per socket of a bare ASGI websocket app under uvicorn
   (no Django, no Channels) holding the same sockets per process;
2. opens `--sockets` authenticated websockets (session cookies, Origin), spread over the
   servers, and holds them: sockets held, connect rate, server RSS per socket;
3. like → notification received, at that load: `--samples` likes (posts.services.like in
   this process, as a request would), one at a time, each timed from the call to the frame
   arriving on the liked user's socket; the service call alone is reported beside it;
4. new post → `update` received by `--followers` online followers, through the real path
   (create_post → broker → worker fan_out_batch → presence → channel layer → servers →
   sockets), `--rounds` posts, each taking turns with a post by an online author with no
   followers (the same path with one recipient: the worker round trip, the baseline).

Accounts `rtbench<N>` (and `rtbench_author`, `rtbench_liker`) and the author's follows are
made once and reused; what a run adds (posts, likes, notifications, sessions, Redis keys)
is removed at its end, and every process it started is stopped, also on errors and
Ctrl-C (their logs in .local/ are removed too, unless BENCH_KEEP_LOGS=1). Prints one line
per figure, then a block to paste into the issue
(/work/shared/benchmarks.md).
"""

import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from pathlib import Path

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.crypto import get_random_string
from websockets.asyncio.client import connect

from accounts.models import User
from graph.models import Follow
from notifications.models import Notification
from posts import services as post_services
from posts.models import Like, Post
from socialnet.benchmarking import (
    Baseline,
    Figure,
    Target,
    as_baseline,
    format_figure,
    latency_figures,
    summary_block,
)
from socialnet.celery import app as celery_app
from socialnet.redis_client import get_redis
from timeline import store

ROOT = Path(settings.BASE_DIR)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
DEFAULT_KEY_PREFIX = "rtbench:"
USERNAME_PREFIX = "rtbench"
EMAIL_DOMAIN = "rtbench.invalid"
ORIGIN = "http://127.0.0.1"

SOCKETS_TARGET, SOCKETS_FLOOR = 10_000, 2_000
LIKE_P99_TARGET_MS = 250
LIKE_TARGET_TEXT = "bench_realtime like target"
RECEIVERS = 100  # accounts whose posts are liked, in turn
CONNECT_CONCURRENCY = 200
SAMPLE_TIMEOUT_SECONDS = 10.0
SETTLE_SECONDS = 3.0  # after connecting, before reading RSS
UPDATE_WARMUP_ROUNDS = 1  # the worker's first fan-out pays its imports and connections


@dataclass(frozen=True)
class Options:
    sockets: int
    servers: int
    samples: int
    followers: int
    rounds: int
    layer_samples: int
    bare_sockets: int
    redis_url: str
    key_prefix: str
    quick: bool


class Command(BaseCommand):
    help = "Benchmark the streaming API: sockets held, memory per socket, like → notification, post → update."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="A tiny run (smoke test): 20 sockets, 20 samples.")
        parser.add_argument("--sockets", type=int, help="Websockets to hold (default 10,000).")
        parser.add_argument("--servers", type=int, help="uvicorn processes (default 4).")
        parser.add_argument("--samples", type=int, help="Like → notification samples (default 1,000).")
        parser.add_argument("--followers", type=int, help="Online followers of the posting author (default 500).")
        parser.add_argument("--rounds", type=int, help="Posts to those followers (default 20).")
        parser.add_argument(
            "--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis for everything (default {DEFAULT_REDIS_URL})."
        )
        parser.add_argument("--key-prefix", default=DEFAULT_KEY_PREFIX, help="Redis key prefix of the run.")

    def handle(self, *args, **raw):
        options = parse_options(raw)
        check_migrated()
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            run = Run(options, self.say)
            with bench_settings(options):
                try:
                    asyncio.run(run.measure())
                finally:
                    run.clean_up()
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write("")
        self.stdout.write(summary_block("bench_realtime", run.context, run.figures, run.notes))

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # clean up as on Ctrl-C


def parse_options(raw: dict) -> Options:
    quick = raw["quick"]

    def given(name: str, full: int, small: int) -> int:
        value = raw.get(name)
        return value if value is not None else (small if quick else full)

    options = Options(
        sockets=given("sockets", SOCKETS_TARGET, 20),
        servers=given("servers", 4, 1),
        samples=given("samples", 1000, 20),
        followers=given("followers", 500, 8),
        rounds=given("rounds", 20, 2),
        layer_samples=200 if quick else 1000,
        bare_sockets=0,
        redis_url=raw["redis_url"],
        key_prefix=raw["key_prefix"],
        quick=quick,
    )
    receivers = min(RECEIVERS, max(1, options.sockets // 10))
    if options.sockets < options.followers + receivers + 1:
        raise CommandError(f"--sockets must be at least --followers + {receivers + 1}.")
    if min(options.servers, options.samples, options.rounds) < 1:
        raise CommandError("--servers, --samples and --rounds must be at least 1.")
    per_server = -(-options.sockets // options.servers)
    return Options(**{**options.__dict__, "bare_sockets": per_server})


def check_migrated() -> None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(f"database {connection.settings_dict['NAME']} is not migrated: run `manage.py migrate`.")


@contextlib.contextmanager
def bench_settings(options: Options):
    """This process talks to the run's Redis, under its prefix (app keys, channel layer, broker)."""
    celery_conf = celery_app.conf
    saved = (celery_conf.broker_url, celery_conf.broker_transport_options)
    overrides = {
        "REDIS_URL": options.redis_url,
        "REDIS_KEY_PREFIX": options.key_prefix,
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [options.redis_url], "prefix": options.key_prefix + "ws"},
            }
        },
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": options.redis_url,
                "KEY_PREFIX": options.key_prefix + "cache",
            }
        },
        "DEBUG": False,  # no query log in the measuring process
    }
    with override_settings(**overrides):
        _reset_clients()
        celery_conf.broker_url = options.redis_url
        celery_conf.broker_transport_options = {**(saved[1] or {}), "global_keyprefix": options.key_prefix + "celery:"}
        try:
            yield
        finally:
            celery_conf.broker_url, celery_conf.broker_transport_options = saved
            _reset_clients()


def _reset_clients() -> None:
    get_redis.cache_clear()
    store._scripts.cache_clear()
    celery_app.close()
    # What Celery does after a fork: its producers would keep publishing over the broker
    # connection they were made with (another key prefix: the run's worker never sees it).
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def raise_open_files_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- processes ---------------------------------------------------------------------------


class ChildProcess:
    """A process the run started: its own process group and log file, stopped by its id."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = ROOT / ".local" / f"bench_realtime-{name}-{os.getpid()}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self.log = open(self.log_path, "w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    async def wait_for(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await asyncio.to_thread(ready):
                return
            if self.process.poll() is not None:
                raise CommandError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            await asyncio.sleep(0.2)
        raise CommandError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise CommandError(f"no RSS for {self.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        self._signal(signal.SIGKILL)  # anything left in its group
        self.log.close()
        if not os.environ.get("BENCH_KEEP_LOGS"):
            self.log_path.unlink(missing_ok=True)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def http_text(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback URL we built)
            return response.read().decode()
    except OSError:
        return None


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "socialnet.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


# A websocket server with nothing of ours in it: accept, then wait for the close.
BARE_ASGI_SERVER = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] == "websocket":
        while (await receive())["type"] != "websocket.disconnect":
            await send({"type": "websocket.accept"})
    elif scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"OK"})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_level="warning", access_log=False)
"""


# --- the run -----------------------------------------------------------------------------


@dataclass
class Probe:
    """Arrival times of the frames a socket is watched for, keyed by (event, entity id)."""

    arrivals: dict[tuple[str, int], float] = field(default_factory=dict)
    waiters: dict[tuple[str, int], asyncio.Event] = field(default_factory=dict)

    def expect(self, key: tuple[str, int]) -> asyncio.Event:
        event = self.waiters[key] = asyncio.Event()
        if key in self.arrivals:
            event.set()
        return event

    def arrived(self, key: tuple[str, int], at: float) -> None:
        self.arrivals.setdefault(key, at)
        if key in self.waiters:
            self.waiters[key].set()


class Run:
    def __init__(self, options: Options, say: Callable[[str], None]):
        self.options, self.say = options, say
        self.secret_key = secrets.token_urlsafe(50)
        self.figures: list[Figure] = []
        self.context: list[str] = []
        self.notes: list[str] = []
        self.children: list[ChildProcess] = []
        self.session_keys: list[str] = []
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        self.run_started = timezone.now()

    def show(self, figures: list[Figure]) -> None:
        for figure in figures:
            self.say(format_figure(figure))
        self.figures += figures

    def step(self, what: str) -> None:
        self.say(f"-- {what}")

    async def measure(self) -> None:
        started = time.monotonic()
        options = self.options
        limit = raise_open_files_limit(options.sockets + 2048)
        if limit < options.sockets + 512:
            raise CommandError(f"open files limit {limit} is too low for {options.sockets:,} sockets")
        await sync_to_async(self.prepare_accounts)()
        self.clear_redis()
        layer_rtt = await self.measure_layer_round_trip()
        bare_kb = await self.measure_bare_memory()
        try:
            await self.start_servers()
            await self.hold_sockets(bare_kb)
            await self.measure_likes(layer_rtt)
            await self.measure_updates()
            self.count_open_sockets()
        finally:
            gc.unfreeze()
            await self.close_sockets()
            self.stop_children()
            # The database connection of asgiref's sync thread outlives the run otherwise.
            await sync_to_async(connections.close_all)()
        self.context.append(
            f"run took {time.monotonic() - started:.0f} s; p50/p99 by nearest rank; ratio = value / baseline; "
            f"open files limit {limit:,}"
        )

    # --- accounts and data ---

    def prepare_accounts(self) -> None:
        self.step("accounts and sessions")
        options = self.options
        names = [f"{USERNAME_PREFIX}{i:06d}" for i in range(options.sockets)]
        extra = [f"{USERNAME_PREFIX}_author", f"{USERNAME_PREFIX}_liker"]
        existing = set(User.objects.filter(username__in=names + extra).values_list("username", flat=True))
        unusable = make_password(None)
        User.objects.bulk_create(
            [
                User(username=name, email=f"{name}@{EMAIL_DOMAIN}", display_name=name, password=unusable)
                for name in names + extra
                if name not in existing
            ],
            batch_size=2000,
        )
        users = User.objects.in_bulk(names + extra, field_name="username")
        User.objects.filter(pk__in=[user.pk for user in users.values()]).update(last_active_at=timezone.now())
        self.users = [users[name] for name in names]
        self.author, self.liker = users[extra[0]], users[extra[1]]
        receivers = min(RECEIVERS, max(1, options.sockets // 10))
        self.followers = self.users[: options.followers]
        self.receivers = self.users[options.followers : options.followers + receivers]
        self.lonely = self.users[options.followers + receivers]  # posts with no followers: the baseline
        self.delete_run_rows()
        # Exactly `followers` follow the author; nobody follows the lonely author.
        Follow.objects.filter(followee=self.author).exclude(follower__in=self.followers).delete()
        Follow.objects.filter(followee=self.lonely).delete()
        Follow.objects.bulk_create(
            [Follow(follower=follower, followee=self.author) for follower in self.followers], ignore_conflicts=True
        )
        User.objects.filter(pk=self.author.pk).update(followers_count=len(self.followers), is_vip=False)
        Post.objects.bulk_create(
            [
                Post(author=self.receivers[i % len(self.receivers)], text=f"{LIKE_TARGET_TEXT} {i}")
                for i in range(options.samples)
            ],
            batch_size=2000,
        )
        targets = Post.objects.filter(author__in=self.receivers, text__startswith=LIKE_TARGET_TEXT)
        targets.update(fanned_out_at=timezone.now())  # nothing to fan out: the sweep leaves them alone
        self.like_targets = list(targets.select_related("author").order_by("id"))
        self.cookies = self.make_sessions(self.users)
        self.context.append(
            f"accounts: {len(self.users):,} socket owners (rtbench*, reused), {len(self.followers):,} follow "
            f"rtbench_author, {len(self.receivers)} receive likes from rtbench_liker on {options.samples:,} posts "
            f"in turn, 1 online author without followers ({self.lonely.username})"
        )

    def make_sessions(self, users: list[User]) -> list[str]:
        """Logged-in sessions as login() makes them, signed with the servers' SECRET_KEY."""
        engine = import_module(settings.SESSION_ENGINE)
        expires = timezone.now() + timedelta(days=1)
        rows = []
        with override_settings(SECRET_KEY=self.secret_key):
            encoder = engine.SessionStore()
            for user in users:
                key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
                data = {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
                rows.append(Session(session_key=key, session_data=encoder.encode(data), expire_date=expires))
        Session.objects.bulk_create(rows, batch_size=2000)
        self.session_keys = [row.session_key for row in rows]
        return [f"{settings.SESSION_COOKIE_NAME}={row.session_key}" for row in rows]

    def delete_run_rows(self) -> None:
        """Posts, likes and notifications of bench accounts (this run's or an interrupted one's)."""
        bench = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
        Notification.objects.filter(recipient__in=bench).delete()
        Like.objects.filter(user__in=bench).delete()
        Post.objects.filter(author__in=bench).delete()

    def clear_redis(self) -> None:
        client = get_redis()
        keys = list(client.scan_iter(match=f"{self.options.key_prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])

    # --- 1. baselines ---

    async def measure_layer_round_trip(self) -> list[Figure]:
        self.step("1. baselines: channel layer round trip")
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("bench.rtt", channel)
        durations = []
        for i in range(self.options.layer_samples + 20):
            started = time.perf_counter()
            await layer.group_send("bench.rtt", {"type": "stream.event", "event": "rtt", "id": i})
            await layer.receive(channel)
            if i >= 20:
                durations.append((time.perf_counter() - started) * 1000)
        await layer.group_discard("bench.rtt", channel)
        figures = latency_figures("channel_layer.group_send_to_receive", durations)
        self.show(figures)
        return figures

    async def measure_bare_memory(self) -> float:
        self.step(f"1. baselines: bare ASGI websocket server holding {self.options.bare_sockets:,} sockets")
        port = free_port()
        bare = self.start(
            "bare", [sys.executable, "-c", BARE_ASGI_SERVER, str(port)], {**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        await bare.wait_for(lambda: http_text(f"http://127.0.0.1:{port}/") == "OK", timeout=30)
        url = f"ws://127.0.0.1:{port}/"
        warm = [await connect(url, origin=ORIGIN, ping_interval=None) for _ in range(5)]
        before = bare.rss_kb()
        sockets, _ = await self.open_many([url] * self.options.bare_sockets, [None] * self.options.bare_sockets)
        await asyncio.sleep(SETTLE_SECONDS)
        after = bare.rss_kb()
        await asyncio.gather(*(socket.close() for socket in sockets + warm), return_exceptions=True)
        bare.stop()
        self.children.remove(bare)
        per_socket = (after - before) / max(1, len(sockets))
        self.show([Figure("bare_asgi.rss_per_socket", per_socket, "KB", len(sockets))])
        self.context.append(
            "bare_asgi: uvicorn (same version and websockets) running a 6-line ASGI app that accepts and waits, "
            f"one process, {len(sockets):,} sockets (as many as each socialnet server holds), same client"
        )
        return per_socket

    # --- 2. holding sockets ---

    def server_environment(self) -> dict[str, str]:
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        options = self.options
        return {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": options.redis_url,
            "REDIS_KEY_PREFIX": options.key_prefix,
            "CHANNEL_LAYER_URL": options.redis_url,
            "CELERY_BROKER_URL": options.redis_url,
            "CELERY_KEY_PREFIX": options.key_prefix + "celery:",
            "DEBUG": "false",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, command: list[str], env: dict[str, str]) -> ChildProcess:
        child = ChildProcess(name, command, env)
        self.children.append(child)
        return child

    async def start_servers(self) -> None:
        self.step(f"2. {self.options.servers} uvicorn servers and a Celery worker")
        env = self.server_environment()
        self.ports = [free_port() for _ in range(self.options.servers)]
        self.servers = [self.start(f"uvicorn{i}", uvicorn_command(port), env) for i, port in enumerate(self.ports)]
        self.worker = self.start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "socialnet", "worker", "--pool=solo", "--loglevel=INFO"],
            env,
        )
        for server, port in zip(self.servers, self.ports, strict=True):
            health = f"http://127.0.0.1:{port}/api/v1/streaming/health"
            await server.wait_for(lambda health=health: http_text(health) == "OK", timeout=60)
        await self.worker.wait_for(lambda: "ready." in self.worker.tail(20_000), timeout=60)
        self.context.append(
            f"servers: {self.options.servers} × `uvicorn socialnet.asgi:application --lifespan off` (one process "
            "each, DEBUG=false, default ws settings: per-message deflate, 20 s pings); 1 Celery worker --pool=solo; "
            f"Redis {self.options.redis_url} (channel layer, presence, timelines, broker) under "
            f"{self.options.key_prefix!r}; PostgreSQL {connection.settings_dict['NAME']}"
        )

    def url_of(self, index: int) -> str:
        return f"ws://127.0.0.1:{self.ports[index % len(self.ports)]}/api/v1/streaming?stream=user"

    async def open_many(self, urls: list[str], cookies: list[str | None]):
        """Open sockets with bounded concurrency; returns (sockets, seconds taken)."""
        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(url: str, cookie: str | None):
            async with limit:
                headers = {"Cookie": cookie} if cookie else None
                return await connect(
                    url, origin=ORIGIN, additional_headers=headers, ping_interval=None, open_timeout=60
                )

        started = time.monotonic()
        sockets = await asyncio.gather(*(one(url, cookie) for url, cookie in zip(urls, cookies, strict=True)))
        return list(sockets), time.monotonic() - started

    async def hold_sockets(self, bare_kb: float) -> None:
        options = self.options
        self.step(f"2. opening {options.sockets:,} websockets")
        warm_count = options.servers * 2
        warm, _ = await self.open_many(
            [self.url_of(i) for i in range(warm_count)], self.cookies[:warm_count]
        )  # each server has imported and run everything once
        await asyncio.sleep(1)
        before = [server.rss_kb() for server in self.servers]
        rest, seconds = await self.open_many(
            [self.url_of(i) for i in range(warm_count, options.sockets)], self.cookies[warm_count:]
        )
        self.sockets = warm + rest
        self.probes = {}
        watched = {user.pk for user in [*self.followers, *self.receivers, self.lonely]}
        for index, socket in enumerate(self.sockets):
            user = self.users[index]
            if user.pk in watched:
                probe = self.probes[user.pk] = Probe()
                self.readers.append(asyncio.ensure_future(read_frames(socket, probe)))
        await asyncio.sleep(SETTLE_SECONDS)
        # This process is the load generator: its 10,000 client sockets must not stall the
        # frames it times with collector passes over them.
        gc.freeze()
        after = [server.rss_kb() for server in self.servers]
        grown = sum(after) - sum(before)
        per_socket = grown / max(1, len(rest))
        self.show(
            [
                Figure(
                    "ws.sockets_held",
                    len(self.sockets),
                    "sockets",
                    len(self.sockets),
                    target=Target(">=", SOCKETS_TARGET),
                ),
                Figure("ws.connect_rate", len(rest) / seconds, "sockets/s", len(rest)),
                Figure(
                    "ws.server_rss_per_socket",
                    per_socket,
                    "KB",
                    len(rest),
                    baseline=Baseline("bare_asgi.rss_per_socket", bare_kb, "KB"),
                ),
                Figure("ws.server_rss_total", sum(after) / 1024, "MB", options.servers),
            ]
        )
        self.context.append(
            f"sockets: {len(self.sockets):,} authenticated (session cookie + Origin), round-robin over "
            f"{options.servers} servers, {CONNECT_CONCURRENCY} handshakes in flight; rss_per_socket = server RSS "
            f"growth / sockets, read {SETTLE_SECONDS:.0f} s after the last connect, {warm_count} warm-up sockets "
            "excluded; client: websockets asyncio, permessage-deflate offered as browsers do"
        )

    # --- 3. like → notification ---

    async def measure_likes(self, layer_rtt: list[Figure]) -> None:
        options = self.options
        self.step(f"3. like → notification, {options.samples:,} samples at {len(self.sockets):,} sockets")
        like = sync_to_async(post_services.like)
        end_to_end, service = [], []
        lost = 0
        for post in self.like_targets:
            probe = self.probes[post.author_id]
            started = time.perf_counter()
            await like(self.liker, post)
            returned = time.perf_counter()
            notification_id = await sync_to_async(_notification_of)(post.pk)
            arrived = probe.expect(("notification", notification_id))
            try:
                await asyncio.wait_for(arrived.wait(), SAMPLE_TIMEOUT_SECONDS)
            except TimeoutError:
                lost += 1
                continue
            end_to_end.append((probe.arrivals[("notification", notification_id)] - started) * 1000)
            service.append((returned - started) * 1000)
        if lost:
            self.notes.append(f"like: {lost} of {options.samples:,} notifications not received within 10 s")
        if not end_to_end:
            self.notes.append("like: no sample")
            return
        baselines = {figure.name.rsplit(" ", 1)[1]: as_baseline(figure) for figure in layer_rtt}
        self.show(
            [
                *latency_figures("like.service_call", service),
                *latency_figures(
                    "like_to_notification",
                    end_to_end,
                    baselines=baselines,
                    targets={"p99": Target("<", LIKE_P99_TARGET_MS)},
                ),
            ]
        )
        self.context.append(
            f"like: rtbench_liker likes {options.samples:,} posts of {len(self.receivers)} online accounts in turn, "
            "one at a time, with posts.services.like in this process (sync_to_async, as an ASGI request runs it); "
            "timed from the call to the frame on the liked account's socket; like.service_call = the call alone"
        )

    # --- 4. post → update ---

    async def measure_updates(self) -> None:
        options = self.options
        self.step(f"4. post → update to {len(self.followers)} online followers, {options.rounds} rounds")
        create_post = sync_to_async(post_services.create_post)
        await sync_to_async(self.build_home_timelines)()
        last, per_follower, single = [], [], []
        lost = 0
        for round_number in range(UPDATE_WARMUP_ROUNDS + options.rounds):
            timed = round_number >= UPDATE_WARMUP_ROUNDS
            started = time.perf_counter()
            post = await create_post(self.author, f"bench_realtime update {round_number}")
            waits = [self.probes[f.pk].expect(("update", post.pk)) for f in self.followers]
            try:
                await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waits)), SAMPLE_TIMEOUT_SECONDS * 3)
            except TimeoutError:
                lost += 1
                continue
            arrivals = [(self.probes[f.pk].arrivals[("update", post.pk)] - started) * 1000 for f in self.followers]
            if timed:
                per_follower += arrivals
                last.append(max(arrivals))
            started = time.perf_counter()
            own = await create_post(self.lonely, f"bench_realtime lonely {round_number}")
            probe = self.probes[self.lonely.pk]
            try:
                await asyncio.wait_for(probe.expect(("update", own.pk)).wait(), SAMPLE_TIMEOUT_SECONDS)
            except TimeoutError:
                lost += 1
                continue
            if timed:
                single.append((probe.arrivals[("update", own.pk)] - started) * 1000)
        if lost:
            self.notes.append(f"update: {lost} posts not received by every socket in time")
        if not single or not last:
            self.notes.append("update: no complete round")
            return
        rounds = ", ".join(f"{value:,.0f}" for value in last)
        self.notes.append(f"update: last follower reached per round, ms, in order: {rounds}")
        single_figures = latency_figures("update_1_recipient", single)
        baselines = {figure.name.rsplit(" ", 1)[1]: as_baseline(figure) for figure in single_figures}
        self.show(
            [
                *single_figures,
                *latency_figures(f"update_{len(self.followers)}_followers.last", last, baselines=baselines),
                *latency_figures(f"update_{len(self.followers)}_followers.each", per_follower, baselines=baselines),
            ]
        )
        self.context.append(
            f"update: {options.rounds} rounds after {UPDATE_WARMUP_ROUNDS} untimed; rtbench_author posts "
            "(create_post in this process → broker → worker "
            f"fan_out_batch → {len(self.followers)} home timelines + presence → group_send → servers), timed from "
            "the call to the frame on each follower's socket (.each) and on the last one (.last); then "
            f"{self.lonely.username}, online with no followers, posts: the same path to one socket (the baseline)"
        )

    def build_home_timelines(self) -> None:
        for user in [*self.followers, self.lonely]:
            store.replace_home(user.pk, [], {})

    # --- the end ---

    def count_open_sockets(self) -> None:
        from websockets.protocol import State

        open_now = sum(1 for socket in self.sockets if socket.state is State.OPEN)
        self.context.append(f"still open at the end: {open_now:,} of {len(self.sockets):,} sockets")

    async def close_sockets(self) -> None:
        for reader in self.readers:
            reader.cancel()
        sockets, self.sockets = self.sockets, []
        for start in range(0, len(sockets), 500):
            await asyncio.gather(*(s.close() for s in sockets[start : start + 500]), return_exceptions=True)

    def stop_children(self) -> None:
        for child in self.children:
            child.stop()
        self.children = []

    def clean_up(self) -> None:
        self.stop_children()
        Session.objects.filter(session_key__in=self.session_keys).delete()
        self.delete_run_rows()
        self.clear_redis()


def _notification_of(post_id: int) -> int:
    likes = Notification.objects.filter(post_id=post_id, type=Notification.Type.FAVOURITE)
    return likes.values_list("pk", flat=True)[0]


async def read_frames(socket, probe: Probe) -> None:
    with contextlib.suppress(Exception):
        async for frame in socket:
            at = time.perf_counter()
            envelope = json.loads(frame)
            if envelope.get("event") in ("notification", "update"):
                probe.arrived((envelope["event"], int(json.loads(envelope["payload"])["id"])), at)
