"""The real client library, Mastodon.py, against a live server: what an app does in a day.

Register an app, sign up two people, post, reply, follow, read the home timeline page by
page, favourite, reblog, read notifications (plain and grouped), suggestions, report.
"""

import pytest
from mastodon import Mastodon

from accounts.models import Report, User
from posts.models import Post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(live_server, settings):
    # No Celery worker: home timelines come from the PostgreSQL pull path, as for a new user.
    settings.SITE_URL = live_server.url
    return live_server.url


def sign_up(server: str, app: tuple[str, str], username: str) -> Mastodon:
    client_id, client_secret = app
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server)
    api.create_account(username, "a-long-test-password", f"{username}@example.com", agreement=True)
    return api


def test_a_day_in_the_life_of_an_app(server):
    app = Mastodon.create_app("pytest app", scopes=["read", "write", "follow", "push"], api_base_url=server)
    alice, bob = sign_up(server, app, "alice"), sign_up(server, app, "bob")

    assert alice.verify_minimum_version("4.3.0")
    me = alice.account_verify_credentials()
    bob_account = bob.me()
    assert me.username == "alice" and me.source.privacy == "public"

    alice.account_follow(bob_account.id)
    first = bob.status_post("first post by bob #hello")
    for number in range(2, 6):
        bob.status_post(f"post {number} by bob")
    reply = alice.status_reply(first, "nice post!")
    assert reply.in_reply_to_id == first.id and reply.account.id == me.id

    page = alice.timeline_home(limit=3)
    older = alice.fetch_next(page)
    oldest = alice.fetch_next(older)
    seen = [str(s.id) for s in [*page, *older, *(oldest or [])]]
    expected = [str(p.pk) for p in Post.objects.filter(author__username__in=["alice", "bob"]).order_by("-id")]
    assert seen == expected

    alice.status_favourite(first)
    reblog = alice.status_reblog(first)
    assert reblog.reblog.id == first.id and reblog.reblog.favourited is True
    context = bob.status_context(first)
    assert [s.id for s in context.descendants] == [reply.id]

    notifications = bob.notifications()
    assert [n.type for n in notifications] == ["reblog", "favourite", "mention", "follow"]
    assert all(n.account.id == me.id for n in notifications)
    grouped = bob.grouped_notifications()
    assert {group.type for group in grouped.notification_groups} == {"reblog", "favourite", "mention", "follow"}

    carol = sign_up(server, app, "carol")
    carol.account_follow(alice.me().id)
    assert [account.username for account in carol.suggestions()] == ["bob"]
    (suggestion,) = carol.suggestions_v2()
    assert (suggestion.sources, suggestion.reason) == (["friends_of_friends"], "followed by alice")

    report = carol.report(bob_account.id, status_ids=[first.id], comment="not really", category="other")
    assert report.target_account.id == bob_account.id
    stored = Report.objects.get()
    assert (stored.reporter.username, [str(p.pk) for p in stored.posts.all()]) == ("carol", [str(first.id)])
    assert User.objects.count() == 3
