"""The browser UI in Chromium against uvicorn and a Celery worker (tests/browser.py).

Live paths go through the real streaming websocket: nothing here reloads a page to see
an update unless the test says so.
"""

import os
import re
from contextlib import ExitStack

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from graph import services as graph_services
from graph.models import Follow
from notifications.models import Notification
from posts.models import Like, Post
from tests.browser import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    has_no_horizontal_scroll,
    logged_in_page,
    post_ids,
    screenshot,
    skip_without_chromium,
    start_stack,
    wait_until_live,
)
from tests.factories import UserFactory, make_post
from tests.processes import wait_until
from timeline import services as timeline_services

skip_without_chromium()
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; Django refuses ORM calls there
    # unless told that this thread serves no async code (true: it only drives a browser).
    # Only while these tests run, so the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def stack_factory(redis_namespace, celery_namespace):
    with ExitStack() as exits:
        yield lambda **options: start_stack(exits, redis_namespace, celery_namespace, **options)


def active_user(**fields) -> User:
    """A user seen just now (so fan-out reaches them) whose home timeline is in Redis."""
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
    timeline_services.rebuild_home(user.pk)
    return User.objects.get(pk=user.pk)


def test_follow_post_new_posts_bar_like_and_badge_all_live(browser, stack_factory):
    stack = stack_factory()
    author, reader = active_user(username="amira"), active_user(username="bruno")
    author_page, reader_page = logged_in_page(browser, stack, author), logged_in_page(browser, stack, reader)
    author_page.goto(stack.url("/"))
    wait_until_live(author_page)
    badge = author_page.locator("#unread-badge")
    expect(badge).to_be_hidden()

    # B follows A from A's profile, in place.
    reader_page.goto(stack.url("/@amira/"))
    reader_page.get_by_role("button", name="Follow", exact=True).click()
    expect(reader_page.get_by_role("button", name="Following")).to_be_visible()
    assert Follow.objects.filter(follower=reader, followee=author).exists()
    expect(badge).to_have_text(re.compile(r"^1\b"))  # A's badge: the follow, without a reload

    # B's home is open and live; A posts from the compose box.
    reader_page.goto(stack.url("/"))
    wait_until_live(reader_page)
    reader_page.evaluate("window.__sameDocument = true")
    author_page.fill("#compose-text", "Hello from the browser #live")
    author_page.get_by_role("button", name="Post", exact=True).click()
    expect(author_page.locator("#timeline > article.post").first).to_contain_text("Hello from the browser")
    expect(author_page.locator("#compose-text")).to_have_value("")
    post = Post.objects.get(author=author)

    bar = reader_page.locator("#new-posts")
    expect(bar).to_have_text("Show 1 new post", timeout=20_000)
    bar.click()
    arrived = reader_page.locator(f"#post-{post.pk}")
    expect(arrived).to_contain_text("Hello from the browser")
    expect(bar).to_be_hidden()
    assert post_ids(reader_page)[0] == post.pk
    assert reader_page.evaluate("window.__sameDocument") is True  # no reload happened

    # B likes it: the count changes in place; A's badge follows live.
    like = arrived.locator("button.like")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".count")).to_have_text("1")
    assert Like.objects.filter(user=reader, post=post).count() == 1
    expect(badge).to_have_text(re.compile(r"^2\b"))
    assert Notification.objects.filter(recipient=author).count() == 2
    assert author_page.js_errors == [] and reader_page.js_errors == []


def test_a_vips_post_is_pulled_into_a_followers_timeline_in_order(browser, stack_factory, settings):
    settings.VIP_THRESHOLD = 2
    stack = stack_factory(VIP_THRESHOLD="2")
    vip, regular, reader, fan = active_user(), active_user(), active_user(), active_user()
    for follower in (reader, fan):
        graph_services.follow(follower, vip)
    graph_services.follow(reader, regular)
    promoted, _ = timeline_services.refresh_vip_flags()
    assert promoted == [vip.pk]
    posts = [make_post(author, f"post {i} by {author.username}") for i, author in enumerate([regular, vip] * 2)]
    wait_until(lambda: Post.objects.filter(pk__in=[p.pk for p in posts], fanned_out_at__isnull=True).count() == 0)

    page = logged_in_page(browser, stack, reader)
    page.goto(stack.url("/"))
    wait_until_live(page)
    assert post_ids(page) == [p.pk for p in reversed(posts)]

    newest = make_post(vip, "breaking news from a VIP")  # pulled, never fanned out: still pushed live
    expect(page.locator("#new-posts")).to_have_text("Show 1 new post", timeout=20_000)
    page.locator("#new-posts").click()
    expect(page.locator(f"#post-{newest.pk}")).to_be_visible()
    assert post_ids(page) == [newest.pk, *[p.pk for p in reversed(posts)]]


def test_infinite_scroll_loads_every_older_post_once_in_order(browser, stack_factory):
    stack = stack_factory(worker=False)
    author, reader = active_user(), active_user()
    graph_services.follow(reader, author)
    posts = [make_post(author, f"numbered post {i}") for i in range(47)]
    timeline_services.rebuild_home(reader.pk)

    page = logged_in_page(browser, stack, reader)
    page.goto(stack.url("/"))
    assert len(post_ids(page)) == 20
    for _ in range(40):  # scroll as a reader would, until the feed says there is nothing older
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(200)
        if page.locator(".load-more").count() == 0:
            break
    page.wait_for_load_state("networkidle")

    assert post_ids(page) == [p.pk for p in reversed(posts)]
    assert page.js_errors == []


HOSTILE = (
    '<script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> '
    '<a href="javascript:window.__xss = 3">click me</a> javascript:alert(1) [x](javascript:alert(2))'
)


def test_hostile_markup_in_a_post_renders_as_text(browser, stack_factory):
    stack = stack_factory()
    author = active_user()
    page = logged_in_page(browser, stack, author)
    page.goto(stack.url("/"))
    page.fill("#compose-text", HOSTILE)
    page.get_by_role("button", name="Post", exact=True).click()
    inserted = page.locator("#timeline > article.post").first
    expect(inserted).to_contain_text("<script>window.__xss = 1</script>")
    post = Post.objects.get(author=author)

    for path in ("/", f"/posts/{post.pk}/", f"/@{author.username}/"):
        page.goto(stack.url(path))
        text = page.locator(f"#post-{post.pk} .text")
        assert text.inner_text().strip() == HOSTILE
        assert text.locator("script, img, [onerror]").count() == 0
        assert page.locator('a[href^="javascript"]').count() == 0
        assert page.evaluate("window.__xss") is None
    assert page.js_errors == []


PAGES = {
    "home": "/",
    "profile": "/@{me}/",
    "post": "/posts/{post}/",
    "notifications": "/notifications/",
    "explore": "/public/",
    "search": "/search/?q=ma",
    "hashtag": "/tags/gardening/",
    "followers": "/@{me}/followers/",
    "edit-profile": "/accounts/profile/",
    "report": "/posts/{other_post}/report/",
}


def test_main_pages_fit_a_phone_and_are_saved_as_screenshots(browser, stack_factory):
    stack = stack_factory(worker=False)
    me, friend = active_user(username="maya", display_name="Maya Lin"), active_user(username="marco")
    graph_services.follow(me, friend)
    graph_services.follow(friend, me)
    mine = make_post(me, "Planting tomatoes today #gardening with @marco. Guide: https://example.com/tomatoes")
    theirs = make_post(friend, "A very long word: " + "supercalifragilistic" * 8 + " #gardening")
    make_post(friend, "@maya nice garden!", reply_to=mine)
    timeline_services.rebuild_home(me.pk)
    paths = {name: path.format(me=me.username, post=mine.pk, other_post=theirs.pk) for name, path in PAGES.items()}

    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = logged_in_page(browser, stack, me, viewport=viewport)
        for name, path in paths.items():
            page.goto(stack.url(path))
            page.wait_for_load_state("networkidle")
            screenshot(page, f"{label}-{name}")
            assert has_no_horizontal_scroll(page), f"{path} scrolls sideways at {viewport['width']} px"
        anonymous = page.context.browser.new_page(viewport=viewport)
        for name, path in (("login", "/accounts/login/"), ("signup", "/accounts/signup/"), ("public", "/public/")):
            anonymous.goto(stack.url(path))
            screenshot(anonymous, f"{label}-anonymous-{name}")
            assert has_no_horizontal_scroll(anonymous), f"{path} scrolls sideways at {viewport['width']} px"
        assert page.js_errors == []


def tab_to(page, selector: str, presses: int = 80) -> None:
    """Press Tab until the focused element matches `selector`: proof it is reachable by keyboard."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_the_keyboard_alone_can_post_like_and_open_a_menu(browser, stack_factory):
    stack = stack_factory(worker=False)
    me = active_user()
    page = logged_in_page(browser, stack, me)
    page.goto(stack.url("/"))

    tab_to(page, "#compose-text")
    page.keyboard.type("typed without a mouse")
    tab_to(page, "#compose button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#timeline > article.post").first).to_contain_text("typed without a mouse")
    post = Post.objects.get(author=me)

    tab_to(page, f"#like-{post.pk}")
    page.keyboard.press("Enter")
    expect(page.locator(f"#like-{post.pk}")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#like-{post.pk}")).to_be_focused()  # focus survives the swap

    tab_to(page, f"#post-{post.pk} summary")
    page.keyboard.press("Enter")
    expect(page.locator(f"#post-{post.pk} .menu-items")).to_contain_text("Delete post")
    page.keyboard.press("Escape")
    expect(page.locator(f"#post-{post.pk} details.menu")).not_to_have_attribute("open", "")
    assert page.js_errors == []
