"""Moderation end to end: the admin's actions, their effect on every read, and the log.

Celery tasks run inline (eager) and after-commit callbacks are executed, so one test sees
the whole path: admin action → accounts.moderation → log row → task → Redis timelines →
what timelines, the API and pages show. Who may do what is in test_admin_permissions.py.
"""

from datetime import timedelta
from io import StringIO
from typing import NamedTuple

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from accounts import moderation
from accounts.management.commands.seed_demo import MODERATOR_PASSWORD, MODERATOR_USERNAME
from accounts.models import ModerationAction, NameSearch, Report, User
from accounts.services import file_report
from graph import services as graph_services
from graph.recommendations import recommend_follows
from posts.models import Post
from posts.selectors import hashtag_posts
from socialnet import admin_paging
from socialnet.admin_paging import EstimatedCountPaginator
from socialnet.celery import app as celery_app
from tests.factories import PASSWORD, UserFactory, make_post
from tests.graph_world import build_small_world
from tests.moderation_helpers import CHANGELISTS, ask_for_action, confirm_action, make_moderator, messages_of
from timeline import services as timeline_services
from timeline import store
from timeline import tasks as timeline_tasks
from timeline.selectors import home_timeline, public_timeline

pytestmark = pytest.mark.django_db

REASON = "Spam links, third warning."


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    celery_app.conf.task_always_eager = True
    settings.VIP_THRESHOLD = 1000
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run something and what it schedules after commit (fan-out, retraction)."""

    def go(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return go


@pytest.fixture
def moderator():
    return make_moderator()


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


class World(NamedTuple):
    author: User
    follower: User
    stranger: User


def active_user() -> User:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
    user.refresh_from_db()
    return user


@pytest.fixture
def world(run):
    """An author with one active follower, and a stranger; everyone's timeline exists in Redis."""
    author, follower, stranger = active_user(), active_user(), active_user()
    run(graph_services.follow, follower, author)
    for user in (author, follower, stranger):
        timeline_services.rebuild_home(user.pk)
    return World(author, follower, stranger)


def act(client, changelist, action, ids, reason):
    """Confirm an admin action and land on the changelist, which shows what happened."""
    return confirm_action(client, changelist, action, ids, reason, follow=True)


def ids(posts) -> list[int]:
    return [post.pk for post in posts]


def api_public_ids(client=None, tag=None) -> list[str]:
    url = reverse("api-timeline-tag", args=[tag]) if tag else reverse("api-timeline-public")
    return [status["id"] for status in (client or Client()).get(url).json()]


def status_of(url: str, client=None) -> int:
    return (client or Client()).get(url).status_code


def log() -> list[tuple]:
    return list(
        ModerationAction.objects.order_by("id").values_list(
            "moderator_id", "action", "target_user_id", "target_post_id", "report_id", "reason"
        )
    )


# --- posts ------------------------------------------------------------------------------------


def test_hiding_a_post_takes_it_off_every_timeline_page_and_api_and_out_of_redis(world, mod_client, moderator, run):
    post = run(make_post, world.author, "buy cheap pills #deals")
    kept = run(make_post, world.author, "an ordinary post")
    assert set(store.home_ids(world.follower.pk)) == {post.pk, kept.pk}

    confirmation = ask_for_action(mod_client, "posts", "hide_posts", [post.pk])
    response = run(act, mod_client, "posts", "hide_posts", [post.pk], REASON)

    assert confirmation.status_code == 200
    assert f"Post {post.pk} by {world.author}: buy cheap pills #deals" in confirmation.content.decode()
    assert response.redirect_chain == [(reverse(CHANGELISTS["posts"]), 302)]
    assert messages_of(response) == ["Hid 1 post."]
    post.refresh_from_db()
    assert (post.is_hidden, post.hidden_reason) == (True, REASON)
    assert set(store.home_ids(world.follower.pk)) == {kept.pk}  # retracted from Redis
    assert set(store.home_ids(world.author.pk)) == {kept.pk}
    assert ids(home_timeline(world.follower)) == [kept.pk]
    assert ids(public_timeline(None)) == [kept.pk]
    assert hashtag_posts(None, "deals") == []
    assert api_public_ids() == [str(kept.pk)]
    assert api_public_ids(tag="deals") == []
    assert status_of(reverse("posts:detail", args=[post.pk])) == 404
    assert log() == [(moderator.pk, "hide_post", world.author.pk, post.pk, None, REASON)]


def test_unhiding_a_post_brings_it_back_everywhere(world, mod_client, moderator, run):
    post = run(make_post, world.author, "misjudged #deals")
    run(moderation.hide_post, moderator, post, REASON)
    assert store.home_ids(world.follower.pk) == []

    response = run(act, mod_client, "posts", "unhide_posts", [post.pk], "Appeal accepted")

    assert messages_of(response) == ["Unhid 1 post."]
    post.refresh_from_db()
    assert (post.is_hidden, post.hidden_at, post.hidden_reason) == (False, None, "")
    assert store.home_ids(world.follower.pk) == [post.pk]  # fanned out again
    assert store.home_ids(world.author.pk) == [post.pk]
    assert ids(home_timeline(world.follower)) == [post.pk]
    assert ids(public_timeline(None)) == [post.pk]
    assert api_public_ids(tag="deals") == [str(post.pk)]
    assert status_of(reverse("posts:detail", args=[post.pk])) == 200
    assert [entry[1:] for entry in log()] == [
        ("hide_post", world.author.pk, post.pk, None, REASON),
        ("unhide_post", world.author.pk, post.pk, None, "Appeal accepted"),
    ]


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_without_a_reason_nothing_changes(world, mod_client, run, reason):
    post = run(make_post, world.author, "borderline")

    response = run(act, mod_client, "posts", "hide_posts", [post.pk], reason)

    assert response.status_code == 200  # the confirmation page again, with the error
    assert "A reason is required." in response.content.decode()
    assert messages_of(response) == ["Nothing was changed: A reason is required."]
    post.refresh_from_db()
    assert post.is_hidden is False
    assert store.home_ids(world.follower.pk) == [post.pk]
    assert log() == []


def test_the_services_refuse_a_missing_or_overlong_reason(world, moderator):
    post = make_post(world.author, "borderline")

    with pytest.raises(ValidationError, match="A reason is required"):
        moderation.hide_post(moderator, post, " ")
    with pytest.raises(ValidationError, match="at most 1000 characters"):
        moderation.suspend(moderator, world.author, "x" * 1001)

    assert not Post.objects.filter(is_hidden=True).exists()
    assert not User.objects.filter(is_suspended=True).exists()
    assert log() == []


def test_hiding_twice_changes_and_logs_once(world, moderator):
    post = make_post(world.author, "spam")

    assert moderation.hide_post(moderator, post, REASON) is True
    first_hidden_at = post.hidden_at
    assert moderation.hide_post(moderator, post, "again") is False

    post.refresh_from_db()
    assert (post.hidden_at, post.hidden_reason) == (first_hidden_at, REASON)
    assert len(log()) == 1


# --- accounts ---------------------------------------------------------------------------------


def test_suspending_an_account_locks_it_out_and_removes_it_from_every_read(world, mod_client, moderator, run):
    post = run(make_post, world.author, "hello #news")
    session = Client()
    session.force_login(world.author)
    assert session.get(reverse("accounts:edit_profile")).status_code == 200

    response = run(act, mod_client, "users", "suspend_accounts", [world.author.pk], REASON)

    assert messages_of(response) == ["Suspended 1 user."]
    world.author.refresh_from_db()
    assert world.author.is_suspended is True
    assert session.get(reverse("accounts:edit_profile")).status_code == 302  # the session stopped working
    assert Client().login(username=world.author.username, password=PASSWORD) is False
    assert status_of(reverse("accounts:profile", args=[world.author.username])) == 404
    assert status_of(reverse("posts:detail", args=[post.pk])) == 404
    assert store.home_ids(world.follower.pk) == [post.pk]  # still in Redis, filtered when read:
    assert home_timeline(world.follower) == []
    assert public_timeline(None) == []
    assert hashtag_posts(world.follower, "news") == []
    assert api_public_ids() == []
    assert not User.objects.discoverable().filter(pk=world.author.pk).exists()
    assert log() == [(moderator.pk, "suspend", world.author.pk, None, None, REASON)]


def test_a_suspended_accounts_api_token_stops_working_at_once(client, world, moderator):
    app = get_application_model().objects.create(
        name="Tusky", client_type="public", authorization_grant_type="authorization-code", redirect_uris="tusky://oauth"
    )
    get_access_token_model().objects.create(
        user=world.author,
        application=app,
        token="moderation-test-token",
        scope="read",
        expires=timezone.now() + timedelta(days=1),
    )
    bearer = {"HTTP_AUTHORIZATION": "Bearer moderation-test-token"}
    assert client.get(reverse("api-timeline-home"), **bearer).status_code == 200

    moderation.suspend(moderator, world.author, REASON)

    assert client.get(reverse("api-timeline-home"), **bearer).status_code == 401


def test_a_suspended_authors_pending_fan_out_delivers_nothing(world, moderator):
    post = make_post(world.author, "written just before the suspension")  # its fan-out has not run yet

    moderation.suspend(moderator, world.author, REASON)
    timeline_tasks.fan_out_post(post.pk)

    assert store.home_ids(world.follower.pk) == []
    post.refresh_from_db()
    assert post.fanned_out_at is not None  # done with, not retried by the sweep


def test_suspending_twice_is_idempotent(world, mod_client, moderator):
    moderation.suspend(moderator, world.author, REASON)
    first_suspended_at = User.objects.get(pk=world.author.pk).suspended_at

    response = act(mod_client, "users", "suspend_accounts", [world.author.pk], "again")

    assert messages_of(response) == ["1 user was already suspended: nothing changed."]
    assert User.objects.get(pk=world.author.pk).suspended_at == first_suspended_at
    assert [entry[1] for entry in log()] == ["suspend"]


def test_unsuspending_restores_login_and_posts(world, mod_client, moderator, run):
    post = run(make_post, world.author, "back again")
    moderation.suspend(moderator, world.author, REASON)

    response = act(mod_client, "users", "unsuspend_accounts", [world.author.pk], "Appeal accepted")

    assert messages_of(response) == ["Unsuspended 1 user."]
    assert Client().login(username=world.author.username, password=PASSWORD) is True
    assert ids(home_timeline(world.follower)) == [post.pk]
    assert ids(public_timeline(None)) == [post.pk]
    assert status_of(reverse("accounts:profile", args=[world.author.username])) == 200
    assert [entry[1] for entry in log()] == ["suspend", "unsuspend"]


def test_a_moderator_cannot_suspend_staff_or_themselves_and_the_whole_batch_is_refused(client, world, moderator):
    other_moderator = make_moderator()
    client.force_login(moderator)

    response = act(client, "users", "suspend_accounts", [world.author.pk, other_moderator.pk], REASON)

    assert response.status_code == 403
    assert not User.objects.filter(is_suspended=True).exists()  # world.author was rolled back too
    with pytest.raises(PermissionDenied, match="own account"):
        moderation.suspend(moderator, moderator, REASON)
    with pytest.raises(PermissionDenied, match="staff"):
        moderation.silence(moderator, other_moderator, REASON)
    assert log() == []


def test_a_silenced_accounts_posts_reach_only_its_followers(world, mod_client, moderator, run):
    post = run(make_post, world.author, "quieter now #tea")

    response = run(act, mod_client, "users", "silence_accounts", [world.author.pk], REASON)

    assert messages_of(response) == ["Silenced 1 user."]
    # Strangers (signed in or not) no longer come across it ...
    for viewer in (None, world.stranger):
        assert public_timeline(viewer) == []
        assert hashtag_posts(viewer, "tea") == []
    assert api_public_ids() == []
    assert api_public_ids(tag="tea") == []
    assert not User.objects.discoverable().filter(pk=world.author.pk).exists()
    # ... while followers and the author still see it everywhere, and its pages stay up.
    for viewer in (world.follower, world.author):
        assert ids(home_timeline(viewer)) == [post.pk]
        assert ids(public_timeline(viewer)) == [post.pk]
        assert ids(hashtag_posts(viewer, "tea")) == [post.pk]
    assert status_of(reverse("posts:detail", args=[post.pk])) == 200
    assert status_of(reverse("accounts:profile", args=[world.author.username])) == 200
    assert log() == [(moderator.pk, "silence", world.author.pk, None, None, REASON)]


def test_search_finds_a_silenced_account_and_its_posts_only_for_followers_and_a_suspended_one_never(
    world, moderator, run
):
    run(make_post, world.author, "marmalade recipe")

    def search(viewer=None):
        client = Client()
        if viewer is not None:
            client.force_login(viewer)
        found = client.get(reverse("api-search"), {"q": world.author.username}).json()
        posts = client.get(reverse("api-search"), {"q": "marmalade", "type": "statuses"}).json()
        return [a["username"] for a in found["accounts"]], len(posts["statuses"])

    assert search(world.stranger) == ([world.author.username], 1)
    moderation.silence(moderator, world.author, REASON)
    assert search() == ([], 0)
    assert search(world.stranger) == ([], 0)
    assert search(world.follower) == ([world.author.username], 1)
    moderation.suspend(moderator, world.author, REASON)
    assert search(world.follower) == ([], 0)


def test_unsilencing_puts_posts_back_on_public_timelines(world, mod_client, moderator, run):
    post = run(make_post, world.author, "loud again #tea")
    moderation.silence(moderator, world.author, REASON)

    response = act(mod_client, "users", "unsilence_accounts", [world.author.pk], "Behaving now")

    assert messages_of(response) == ["Unsilenced 1 user."]
    assert ids(public_timeline(None)) == [post.pk]
    assert ids(hashtag_posts(world.stranger, "tea")) == [post.pk]
    assert [entry[1] for entry in log()] == ["silence", "unsilence"]


def test_silenced_accounts_are_not_suggested_even_from_a_cached_list(moderator):
    small = build_small_world()
    User.objects.exclude(pk=moderator.pk).update(last_active_at=timezone.now())
    before = [s.account.username for s in recommend_follows(small.me)]  # cached now

    moderation.silence(moderator, small.dave, REASON)
    moderation.silence(moderator, small.gina, REASON)

    assert before == ["dave", "erin", "frank", "gina"]
    assert [s.account.username for s in recommend_follows(small.me)] == ["erin", "frank"]
    # A cold start (nothing cached, most followed accounts) leaves them out too.
    names = [s.account.username for s in recommend_follows(UserFactory())]
    assert "dave" not in names and "gina" not in names
    assert "erin" in names


# --- reports ----------------------------------------------------------------------------------


def test_the_queue_shows_open_reports_oldest_first_with_escaped_content_and_history(mod_client, moderator):
    reporter, target, bystander = UserFactory(), UserFactory(), UserFactory()
    nasty = make_post(target, "<script>alert('x')</script> buy now")
    newer = file_report(reporter, target, category="spam", posts=[nasty])
    older = file_report(bystander, target, category="other", comment="<b>also</b> rude")
    Report.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=2))
    closed = file_report(reporter, bystander, category="other")
    moderation.reject_report(moderator, closed, "Nothing wrong")

    response = mod_client.get(reverse(CHANGELISTS["reports"]))

    rows = list(response.context["cl"].result_list)
    assert [row.pk for row in rows] == [older.pk, newer.pk]
    newer_row = rows[1]
    assert (newer_row.reporter_filed, newer_row.reporter_received, newer_row.reporter_actions) == (2, 0, 0)
    assert (newer_row.target_filed, newer_row.target_received, newer_row.target_actions) == (0, 2, 0)
    assert (rows[0].reporter_filed, rows[0].reporter_received, rows[0].reporter_actions) == (1, 1, 1)
    html = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; buy now" in html
    assert "<script>alert" not in html
    assert "Comment: &lt;b&gt;also&lt;/b&gt; rude" in html
    assert "reports filed 0 · received 2 · moderation actions 0" in html
    everything = mod_client.get(reverse(CHANGELISTS["reports"]), {"status": "all"}).context["cl"].result_list
    assert [row.pk for row in everything] == [closed.pk, older.pk, newer.pk]  # history: newest first


def test_the_queue_costs_the_same_queries_for_two_reports_or_twenty(mod_client):
    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert mod_client.get(reverse(CHANGELISTS["reports"])).status_code == 200
        return len(queries)

    def file_reports(count):
        for _ in range(count):
            target = UserFactory()
            file_report(UserFactory(), target, category="spam", posts=[make_post(target, "spam")])

    file_reports(2)
    queries_for_queue()  # the first request of a session also records the moderator as active
    with_two = queries_for_queue()
    file_reports(18)

    assert queries_for_queue() == with_two


def test_resolving_and_rejecting_close_each_report_once(mod_client, moderator):
    first = file_report(UserFactory(), UserFactory(), category="spam")
    second = file_report(UserFactory(), UserFactory(), category="spam")

    resolved = act(mod_client, "reports", "resolve_reports", [first.pk], "Warned them")
    rejected = act(mod_client, "reports", "reject_reports", [first.pk, second.pk], "Not spam")

    assert messages_of(resolved) == ["Resolved 1 report."]
    assert messages_of(rejected) == ["Rejected 1 report.", "1 report was already closed: nothing changed."]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.resolved_by, second.status, second.resolved_by) == (
        "resolved",
        moderator,
        "rejected",
        moderator,
    )
    assert first.resolved_at is not None
    assert log() == [
        (moderator.pk, "resolve_report", first.target_id, None, first.pk, "Warned them"),
        (moderator.pk, "reject_report", second.target_id, None, second.pk, "Not spam"),
    ]


def test_hiding_a_reports_posts_hides_each_and_resolves_it_once(world, mod_client, moderator, run):
    spam, more_spam = run(make_post, world.author, "spam one"), run(make_post, world.author, "spam two")
    kept = run(make_post, world.author, "fine")
    report = file_report(world.stranger, world.author, category="spam", posts=[spam, more_spam])

    response = run(act, mod_client, "reports", "hide_reported_posts", [report.pk], REASON)
    again = run(act, mod_client, "reports", "hide_reported_posts", [report.pk], REASON)

    assert messages_of(response) == ["Resolved 1 report."]
    assert messages_of(again) == ["1 report was already closed: nothing changed."]
    assert set(Post.objects.filter(is_hidden=True).values_list("pk", flat=True)) == {spam.pk, more_spam.pk}
    assert set(store.home_ids(world.follower.pk)) == {kept.pk}
    assert ids(public_timeline(None)) == [kept.pk]
    report.refresh_from_db()
    assert report.status == "resolved"
    assert log() == [
        (moderator.pk, "hide_post", world.author.pk, spam.pk, report.pk, REASON),
        (moderator.pk, "hide_post", world.author.pk, more_spam.pk, report.pk, REASON),
        (moderator.pk, "resolve_report", world.author.pk, None, report.pk, REASON),
    ]


def test_hiding_the_posts_of_a_report_that_names_none_is_refused(mod_client):
    report = file_report(UserFactory(), UserFactory(), category="other")

    response = act(mod_client, "reports", "hide_reported_posts", [report.pk], REASON)

    assert messages_of(response) == [f"Report #{report.pk} names no posts to hide."]
    report.refresh_from_db()
    assert report.status == "open"
    assert log() == []


def test_suspending_a_reported_account_resolves_the_report(world, mod_client, moderator, run):
    post = run(make_post, world.author, "abuse")
    report = file_report(world.stranger, world.author, category="violation", posts=[post])

    response = run(act, mod_client, "reports", "suspend_reported_accounts", [report.pk], REASON)

    assert messages_of(response) == ["Resolved 1 report."]
    assert User.objects.get(pk=world.author.pk).is_suspended is True
    assert home_timeline(world.follower) == []
    assert Report.objects.get(pk=report.pk).status == "resolved"
    assert log() == [
        (moderator.pk, "suspend", world.author.pk, None, report.pk, REASON),
        (moderator.pk, "resolve_report", world.author.pk, None, report.pk, REASON),
    ]


# --- the log ----------------------------------------------------------------------------------


def test_the_log_is_shown_in_the_admin_but_never_added_changed_or_deleted_there(client, moderator, world):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    moderation.silence(moderator, world.author, "Shouting")
    entry = ModerationAction.objects.get()
    change_url = reverse("admin:accounts_moderationaction_change", args=[entry.pk])

    for who in (moderator, superuser):
        client.force_login(who)
        listing = client.get(reverse(CHANGELISTS["log"]))
        page = client.get(change_url)

        assert listing.status_code == 200 and "Shouting" in listing.content.decode()
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.post(change_url, {"reason": "rewritten", "action": "silence"}).status_code == 403
        assert client.get(reverse("admin:accounts_moderationaction_add")).status_code == 403
        assert client.post(reverse("admin:accounts_moderationaction_delete", args=[entry.pk])).status_code == 403
        bulk_delete = ask_for_action(client, "log", "delete_selected", [entry.pk])
        assert bulk_delete.status_code == 403

    assert log() == [(moderator.pk, "silence", world.author.pk, None, None, "Shouting")]


def test_the_database_refuses_to_change_or_delete_log_rows(moderator, world):
    moderation.silence(moderator, world.author, "Shouting")
    entry = ModerationAction.objects.get()

    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ModerationAction.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ModerationAction.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ModerationAction.objects.filter(pk=entry.pk).update(target_user=moderator)

    assert log() == [(moderator.pk, "silence", world.author.pk, None, None, "Shouting")]


def test_erasing_a_target_for_good_keeps_its_log_rows(moderator, world):
    post = make_post(world.author, "spam")
    report = file_report(world.stranger, world.author, category="spam", posts=[post])
    moderation.hide_reported_posts(moderator, report, REASON)

    world.author.delete()  # cascades to the posts and the report

    assert log() == [
        (moderator.pk, "hide_post", None, None, None, REASON),
        (moderator.pk, "resolve_report", None, None, None, REASON),
    ]


# --- the admin's lists ------------------------------------------------------------------------


def test_post_search_by_text_author_or_id(mod_client):
    spammer, other = UserFactory(username="Spammer"), UserFactory()
    watches, liked = make_post(spammer, "Cheap WATCHES here"), make_post(other, "I like watches")
    plain = make_post(other, "nothing to see")
    url = reverse(CHANGELISTS["posts"])

    def found(term):
        return sorted(post.pk for post in mod_client.get(url, {"q": term}).context["cl"].result_list)

    assert found("watches") == sorted([watches.pk, liked.pk])
    assert found("@spammer") == [watches.pk]
    assert found(str(plain.pk)) == [plain.pk]
    too_short = mod_client.get(url, {"q": "wa"})
    assert list(too_short.context["cl"].result_list) == []
    assert messages_of(too_short) == ["Search for at least 3 characters."]


def test_text_and_name_searches_use_their_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test tables are tiny
    posts = Post.objects.filter(text__icontains="watches").order_by()
    users = User.objects.annotate(name_search=NameSearch()).filter(name_search__contains="WONDER").order_by()

    assert "posts_post_text_trgm" in posts.explain()
    assert "accounts_user_name_trgm" in users.explain()


def test_user_search_and_filters(mod_client, moderator):
    now = timezone.now()
    alice = UserFactory(username="alice_w", display_name="Alice Wonder")
    bob = UserFactory(username="bob", display_name="Bob")
    UserFactory(username="carol")  # never seen
    User.objects.filter(pk=alice.pk).update(last_active_at=now - timedelta(hours=2), is_vip=True)
    User.objects.filter(pk=bob.pk).update(last_active_at=now - timedelta(days=3))
    moderation.suspend(moderator, bob, REASON)
    url = reverse(CHANGELISTS["users"])

    def found(**params):
        return sorted(user.username for user in mod_client.get(url, params).context["cl"].result_list)

    assert found(q="wonder") == ["alice_w"]
    assert found(q="@BOB") == ["bob"]
    assert found(q=alice.email.upper()) == ["alice_w"]
    assert found(q="bo") == []  # too short for the trigram index: refused with a message
    assert found(is_suspended__exact="1") == ["bob"]
    assert found(is_vip__exact="1") == ["alice_w"]
    # The moderator's own requests count as activity.
    assert found(active="1d") == sorted(["alice_w", moderator.username])
    assert found(active="7d") == sorted(["alice_w", "bob", moderator.username])
    assert found(active="never") == ["carol"]


def test_the_log_is_searched_by_moderators_or_targets_username(mod_client, moderator, world):
    other_moderator = make_moderator()
    moderation.silence(moderator, world.author, "Shouting")
    moderation.suspend(other_moderator, world.stranger, "Spam")
    silenced, suspended = ModerationAction.objects.order_by("id").values_list("pk", flat=True)
    url = reverse(CHANGELISTS["log"])

    def found(term):
        return [row.pk for row in mod_client.get(url, {"q": term}).context["cl"].result_list]

    assert found(world.author.username.upper()) == [silenced]
    assert found(f"@{other_moderator.username}") == [suspended]
    assert found(moderator.username) == [silenced]
    assert found("nobody-at-all") == []


def test_changelists_never_count_a_whole_table(mod_client, world):
    make_post(world.author, "something")
    file_report(world.stranger, world.author, category="spam")

    for name, url_name in CHANGELISTS.items():
        with CaptureQueriesContext(connection) as queries:
            assert mod_client.get(reverse(url_name)).status_code == 200, name
        counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)") and "LIMIT" not in q["sql"]]
        assert counts == [], name
        assert any(q["sql"].startswith("EXPLAIN") for q in queries), name


def test_big_result_sets_are_paged_on_the_planners_estimate(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(admin_paging, "estimated_count", lambda queryset: 2_000_000)
    paginator = EstimatedCountPaginator(Post.objects.all(), 100)

    with django_assert_num_queries(0):
        assert (paginator.count, paginator.num_pages) == (2_000_000, 20_000)


def test_small_result_sets_are_counted_exactly(world):
    for n in range(3):
        make_post(world.author, f"post {n}")

    assert EstimatedCountPaginator(Post.objects.all(), 100).count == 3
    assert EstimatedCountPaginator(Post.objects.filter(text="post 1"), 100).count == 1


def test_a_batch_is_capped(mod_client):
    users = UserFactory.create_batch(101)

    response = ask_for_action(mod_client, "users", "suspend_accounts", [u.pk for u in users], follow=True)

    assert response.redirect_chain == [(reverse(CHANGELISTS["users"]), 302)]
    assert messages_of(response) == ["Act on at most 100 at a time."]


# --- setup ------------------------------------------------------------------------------------


def test_the_moderators_group_has_exactly_the_moderation_permissions():
    group = Group.objects.get(name=moderation.MODERATORS_GROUP)

    granted = sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())

    assert granted == [
        "accounts.hide_post",
        "accounts.resolve_report",
        "accounts.silence_user",
        "accounts.suspend_user",
        "accounts.view_moderationaction",
        "accounts.view_report",
        "accounts.view_user",
        "posts.view_post",
    ]


def test_the_demo_moderator_moderates_without_being_a_superuser(client):
    call_command("seed_demo", users=20, seed=3, stdout=StringIO())
    demo_moderator = User.objects.get(username=MODERATOR_USERNAME)

    assert (demo_moderator.is_staff, demo_moderator.is_superuser) == (True, False)
    assert list(demo_moderator.groups.values_list("name", flat=True)) == [moderation.MODERATORS_GROUP]
    assert client.login(username=MODERATOR_USERNAME, password=MODERATOR_PASSWORD) is True
    assert {name: client.get(reverse(url)).status_code for name, url in CHANGELISTS.items()} == dict.fromkeys(
        CHANGELISTS, 200
    )
