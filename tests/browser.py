"""A real browser against a real stack: Debian's Chromium driven by Playwright, talking to
uvicorn (HTTP and websockets) with a real Celery worker, both pointed at the test's
database and Redis prefix (tests/processes.py). Tests using these commit
(transaction=True), since the server is another process.

Without /usr/bin/chromium the browser tests are skipped, saying why (.ci/run installs it).
"""

import os
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.processes import ROOT, asgi_server, celery_worker
from tests.real_parts import missing_part

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# What every server and worker of these tests runs with: no rate limits (one IP sends it all).
STACK_ENVIRONMENT = {"RATE_LIMITS_ENABLED": "false", "DEBUG": "true"}


def skip_without_chromium() -> None:
    if not Path(CHROMIUM).exists():
        missing_part(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium); skipped")


class Stack:
    """A running server (and worker); `env` is what both were started with."""

    def __init__(self, base_url: str, env: dict[str, str]):
        self.base_url, self.env = base_url, env

    def url(self, path: str) -> str:
        return self.base_url + path


def start_stack(exits: ExitStack, redis_prefix: str, celery_prefix: str, *, worker: bool = True, **env) -> Stack:
    environment = STACK_ENVIRONMENT | env
    if worker:
        exits.enter_context(celery_worker(redis_prefix, celery_prefix, **environment))
    base = exits.enter_context(asgi_server(redis_prefix, celery_prefix, **environment))
    return Stack(base, environment)


def session_cookie_for(user, base_url: str) -> dict:
    """A logged-in session for `user`, as the cookie the browser would hold after logging in."""
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


def logged_in_page(browser, stack: Stack, user, *, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.add_cookies([session_cookie_for(user, stack.base_url)])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return page


def wait_until_live(page) -> None:
    """The page's streaming websocket is open (socialnet.js marks <body data-live>)."""
    page.wait_for_selector("body[data-live=connected]", state="attached")


def post_ids(page, container: str = "#timeline") -> list[int]:
    ids = page.eval_on_selector_all(f"{container} > article.post", "articles => articles.map(a => a.dataset.postId)")
    return [int(i) for i in ids]


def has_no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
