"""GET /api/v1/favourites, /api/v1/blocks and /api/v1/mutes (Mastodon's favourites.md,
blocks.md, mutes.md): the signed-in user's own lists, newest edge first, paged by the id of
the like, block or mute in Link headers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import suspend_user
from graph.models import Block, Mute
from graph.services import block, mute
from posts.models import Like
from posts.services import delete_post, like
from tests.api_clients import Api, api_for
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [entity["id"] for entity in response.json()]


def link(response, rel: str) -> str:
    """The URL of the Link header's `rel` ("next" or "prev")."""
    for part in response["Link"].split(", "):
        url, relation = part.split("; ")
        if relation == f'rel="{rel}"':
            return url.strip("<>")
    raise AssertionError(f"no {rel} in {response['Link']}")


# --- favourites ---------------------------------------------------------------------------


@pytest.fixture
def liked(user):
    """user liked four posts: the oldest post last, so it heads the list."""
    author = UserFactory()
    old, a, b, c = (make_post(author, f"post {n}") for n in range(4))
    for post in (a, b, c, old):
        like(user, post)
    return [old, c, b, a]  # newest like first


def test_favourites_newest_like_first_with_the_viewers_state(user, liked):
    response = api_for(user).get("/api/v1/favourites")

    assert response.status_code == 200
    assert ids(response) == [str(post.pk) for post in liked]
    assert [status["favourited"] for status in response.json()] == [True] * 4
    assert [status["favourites_count"] for status in response.json()] == [1] * 4


def test_favourites_page_by_the_likes_id_through_the_link_header(user, liked):
    api = api_for(user)
    like_ids = list(Like.objects.filter(user=user).order_by("-id").values_list("pk", flat=True))

    first = api.get("/api/v1/favourites", {"limit": 3})
    second = api.client.get(link(first, "next"), **api.headers())
    back = api.client.get(link(second, "prev"), **api.headers())

    assert ids(first) == [str(post.pk) for post in liked[:3]]
    assert link(first, "next").endswith(f"limit=3&max_id={like_ids[2]}")
    assert link(first, "prev").endswith(f"limit=3&min_id={like_ids[0]}")
    assert ids(second) == [str(liked[3].pk)]
    assert ids(back) == [str(post.pk) for post in liked[:3]]
    assert ids(api.get("/api/v1/favourites", {"since_id": like_ids[1]})) == [str(liked[0].pk)]


def test_favourites_leave_out_what_the_viewer_may_no_longer_see_and_others_likes(user, other_user, liked):
    delete_post(liked[0].author, liked[1])
    blocked_author = UserFactory()
    blocked_post = make_post(blocked_author, "soon blocked")
    like(user, blocked_post)
    block(user, blocked_author)
    like(other_user, liked[2])

    mine = api_for(user).get("/api/v1/favourites")
    theirs = api_for(other_user).get("/api/v1/favourites")

    assert ids(mine) == [str(liked[0].pk), str(liked[2].pk), str(liked[3].pk)]
    assert ids(theirs) == [str(liked[2].pk)]


def test_favourites_answer_up_to_40_statuses(user):
    author = UserFactory()
    posts = [make_post(author, f"post {n}") for n in range(42)]
    for post in posts:
        like(user, post)
    api = api_for(user)

    assert ids(api.get("/api/v1/favourites")) == [str(p.pk) for p in reversed(posts)][:20]
    assert ids(api.get("/api/v1/favourites", {"limit": 500})) == [str(p.pk) for p in reversed(posts)][:40]


def test_favourites_cost_a_fixed_number_of_queries(user, django_assert_max_num_queries):
    for n in range(10):
        post = make_post(UserFactory(), f"#tag{n} hello @{user.username}")
        like(user, post)
    api = api_for(user)
    api.get("/api/v1/favourites")  # warm: the token's first use

    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/favourites", {"limit": 40})

    assert len(response.json()) == 10


def test_favourites_need_read_favourites(user, liked):
    assert Api().get("/api/v1/favourites").status_code == 401
    assert api_for(user, scope="read:favourites").get("/api/v1/favourites").status_code == 200
    assert api_for(user, scope="read:statuses").get("/api/v1/favourites").status_code == 403
    assert api_for(user, scope="follow").get("/api/v1/favourites").status_code == 403


# --- blocks and mutes ---------------------------------------------------------------------


def test_blocks_newest_first_without_suspended_accounts_with_links(user, other_user):
    first, second, suspended, third = UserFactory.create_batch(4)
    for account in (first, second, suspended, third):
        block(user, account)
    block(other_user, first)  # someone else's block of the same account: not listed twice
    suspend_user(suspended)
    api = api_for(user)
    block_ids = {b.blocked_id: b.pk for b in Block.objects.filter(blocker=user)}

    everything = api.get("/api/v1/blocks")
    page = api.get("/api/v1/blocks", {"limit": 2})
    rest = api.client.get(link(page, "next"), **api.headers())

    assert everything.status_code == 200
    assert ids(everything) == [str(third.pk), str(second.pk), str(first.pk)]
    assert ids(page) == [str(third.pk), str(second.pk)]
    assert link(page, "next").endswith(f"limit=2&max_id={block_ids[second.pk]}")
    assert ids(rest) == [str(first.pk)]
    assert ids(api_for(other_user).get("/api/v1/blocks")) == [str(first.pk)]


def test_mutes_newest_first_with_when_they_end_and_without_expired_ones(user, other_user):
    forever, for_a_day, expired = UserFactory.create_batch(3)
    mute(user, forever)
    mute(user, for_a_day, duration=timedelta(days=1))
    mute(user, expired, duration=timedelta(days=1))
    Mute.objects.filter(muter=user, muted=expired).update(expires_at=timezone.now() - timedelta(seconds=1))
    mute(other_user, forever)
    day_ends = Mute.objects.get(muter=user, muted=for_a_day).expires_at

    response = api_for(user).get("/api/v1/mutes")

    assert response.status_code == 200
    assert ids(response) == [str(for_a_day.pk), str(forever.pk)]
    body = response.json()
    assert body[0]["mute_expires_at"] == day_ends.isoformat().replace("+00:00", "Z")
    assert body[1]["mute_expires_at"] is None
    assert body[1]["username"] == forever.username
    newest, oldest = (Mute.objects.get(muter=user, muted=a).pk for a in (for_a_day, forever))
    assert link(response, "next").endswith(f"max_id={oldest}")
    assert link(response, "prev").endswith(f"min_id={newest}")


def test_blocks_and_mutes_answer_up_to_80(user):
    accounts = UserFactory.create_batch(82)
    for account in accounts:
        block(user, account)
        mute(user, account)
    api = api_for(user)
    newest_first = [str(a.pk) for a in reversed(accounts)]

    for path in ("/api/v1/blocks", "/api/v1/mutes"):
        assert ids(api.get(path)) == newest_first[:40], path
        assert ids(api.get(path, {"limit": 500})) == newest_first[:80], path


def test_block_and_mute_lists_cost_a_fixed_number_of_queries(user, django_assert_max_num_queries):
    for account in UserFactory.create_batch(12):
        block(user, account)
        mute(user, account)
    api = api_for(user)
    api.get("/api/v1/blocks")  # warm: the token's first use

    for path in ("/api/v1/blocks", "/api/v1/mutes"):
        with django_assert_max_num_queries(4):
            assert len(api.get(path).json()) == 12


@pytest.mark.parametrize(
    ("path", "granting", "refused"),
    [
        ("/api/v1/blocks", ["read:blocks", "read", "follow"], ["read:mutes", "read:accounts", "write"]),
        ("/api/v1/mutes", ["read:mutes", "read", "follow"], ["read:blocks", "read:accounts", "write"]),
    ],
)
def test_blocks_and_mutes_scopes_as_mastodon(user, path, granting, refused):
    mute(user, UserFactory())
    block(user, UserFactory())

    assert Api().get(path).status_code == 401
    for scope in granting:
        assert api_for(user, scope=scope).get(path).status_code == 200, scope
    for scope in refused:
        response = api_for(user, scope=scope).get(path)
        assert (response.status_code, response.json()["error"]) == (403, "This action is outside the authorized scopes")


@pytest.mark.parametrize("path", ["/api/v1/favourites", "/api/v1/blocks", "/api/v1/mutes"])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_id": "abc"}, "max_id must be a status id (digits)."),
        ({"min_id": "-1"}, "min_id must be a status id (digits)."),
        ({"since_id": "99999999999999999999"}, "since_id must be a status id (digits)."),
        ({"limit": "1.5"}, "limit must be an integer."),
    ],
)
def test_bad_paging_parameters_are_a_400_naming_them(user, path, params, message):
    response = api_for(user).get(path, params)

    assert response.status_code == 400
    assert response.json()["error"] == message
