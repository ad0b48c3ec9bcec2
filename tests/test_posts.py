import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.services import suspend_user
from posts import selectors, services
from posts.models import Hashtag, Like, Mention, Post
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


# --- creating ----------------------------------------------------------------------------


def test_a_post_links_its_mentions_and_hashtags(user):
    bob = UserFactory(username="Bob")
    UserFactory(username="carol")

    post = make_post(user, "hi @bob and @CAROL, not @nobody or me@example.com #Django #django #话题 #2024")

    assert sorted(u.username for u in post.mentioned_users.all()) == ["Bob", "carol"]
    assert sorted(t.name for t in post.hashtags.all()) == ["django", "话题"]
    assert Mention.objects.filter(user=bob).count() == 1
    user.refresh_from_db()
    assert user.posts_count == 1


def test_mentions_of_suspended_accounts_are_not_linked(user):
    ghost = UserFactory(username="ghost")
    suspend_user(ghost)

    post = make_post(user, "hello @ghost")

    assert list(post.mentioned_users.all()) == []


def test_the_limit_counts_characters_not_bytes(user, settings):
    settings.POST_MAX_CHARS = 500

    post = make_post(user, "🙂" * 500)  # 2,000 bytes in UTF-8

    assert Post.objects.get(pk=post.pk).text == "🙂" * 500


def test_a_post_one_character_too_long_is_refused_with_the_reason(user, settings):
    settings.POST_MAX_CHARS = 500

    with pytest.raises(ValidationError) as refused:
        make_post(user, "x" * 501)

    assert refused.value.messages == ["Posts are at most 500 characters; this one has 501."]
    assert not Post.objects.exists()
    user.refresh_from_db()
    assert user.posts_count == 0


@pytest.mark.parametrize("blank", ["", "   ", "\n\t \n"])
def test_an_empty_or_whitespace_post_is_refused(user, blank):
    with pytest.raises(ValidationError, match=r"A post cannot be empty\."):
        make_post(user, blank)

    assert not Post.objects.exists()


def test_text_is_stored_exactly_as_typed(user):
    typed = "  <b>bold?</b> & 'quotes'\n\nsecond paragraph  "

    post = make_post(user, typed)

    assert Post.objects.get(pk=post.pk).text == typed


def test_a_suspended_author_cannot_post(user):
    suspend_user(user)

    with pytest.raises(PermissionDenied):
        make_post(user, "still here?")

    assert not Post.objects.exists()


def test_a_reply_counts_on_its_parent(user, other_user):
    parent = make_post(other_user, "question?")

    reply = make_post(user, "@" + other_user.username + " answer", reply_to=parent)

    parent.refresh_from_db()
    assert parent.replies_count == 1
    ancestors, replies = selectors.thread_of(None, parent)
    assert (ancestors, [r.pk for r in replies]) == ([], [reply.pk])


def test_thread_shows_ancestors_and_nested_replies_in_order(user, other_user):
    root = make_post(user, "root")
    child = make_post(other_user, "child", reply_to=root)
    grandchild = make_post(user, "grandchild", reply_to=child)
    sibling = make_post(other_user, "sibling", reply_to=root)

    ancestors, replies = selectors.thread_of(None, child)
    assert [p.pk for p in ancestors] == [root.pk]
    assert [p.pk for p in replies] == [grandchild.pk]

    _, root_replies = selectors.thread_of(None, root)
    assert [p.pk for p in root_replies] == [child.pk, grandchild.pk, sibling.pk]


def test_replying_to_a_deleted_post_is_refused(user, other_user):
    parent = make_post(other_user, "soon gone")
    services.delete_post(other_user, parent)

    with pytest.raises(ValidationError, match="no longer available"):
        make_post(user, "too late", reply_to=parent)

    assert Post.objects.count() == 1


# --- editing and deleting ----------------------------------------------------------------


def test_editing_reparses_mentions_and_hashtags(user):
    UserFactory(username="dave")
    post = make_post(user, "#old text")

    services.edit_post(user, post, "new text for @dave #new")

    post.refresh_from_db()
    assert post.text == "new text for @dave #new"
    assert post.edited_at is not None
    assert [t.name for t in post.hashtags.all()] == ["new"]
    assert [u.username for u in post.mentioned_users.all()] == ["dave"]


def test_editing_someone_elses_post_is_forbidden(user, other_user):
    post = make_post(other_user, "mine")

    with pytest.raises(PermissionDenied):
        services.edit_post(user, post, "yours now")

    post.refresh_from_db()
    assert (post.text, post.edited_at) == ("mine", None)


def test_editing_with_bad_text_changes_nothing(user):
    post = make_post(user, "original")

    with pytest.raises(ValidationError):
        services.edit_post(user, post, "   ")

    post.refresh_from_db()
    assert (post.text, post.edited_at) == ("original", None)


def test_deleting_hides_the_post_everywhere_and_fixes_counters(user, other_user):
    parent = make_post(other_user, "parent")
    reply = make_post(user, "reply", reply_to=parent)

    assert services.delete_post(user, reply) is True
    assert services.delete_post(user, reply) is False  # idempotent

    reply.refresh_from_db()
    parent.refresh_from_db()
    user.refresh_from_db()
    assert reply.is_deleted and reply.deleted_at is not None
    assert parent.replies_count == 0
    assert user.posts_count == 0
    assert reply.pk not in {p.pk for p in selectors.visible_posts(None)}


def test_deleting_someone_elses_post_is_forbidden(user, other_user):
    post = make_post(other_user, "mine")

    with pytest.raises(PermissionDenied):
        services.delete_post(user, post)

    post.refresh_from_db()
    other_user.refresh_from_db()
    assert not post.is_deleted
    assert other_user.posts_count == 1


# --- likes and reposts -------------------------------------------------------------------


def test_liking_twice_counts_once_and_unlike_undoes_it(user, other_user):
    post = make_post(other_user)

    assert services.like(user, post) is True
    assert services.like(user, post) is False
    post.refresh_from_db()
    assert post.likes_count == 1
    assert Like.objects.filter(post=post).count() == 1

    assert services.unlike(user, post) is True
    assert services.unlike(user, post) is False
    post.refresh_from_db()
    assert post.likes_count == 0


def test_reposting_twice_returns_the_first_repost(user, other_user):
    post = make_post(other_user)

    first = services.repost(user, post)
    second = services.repost(user, post)

    assert first.pk == second.pk
    assert first.repost_of_id == post.pk
    post.refresh_from_db()
    assert post.reposts_count == 1


def test_reposting_a_repost_reposts_the_original(user, other_user):
    original = make_post(other_user)
    third = UserFactory()
    shared = services.repost(third, original)

    mine = services.repost(user, shared)

    assert mine.repost_of_id == original.pk
    original.refresh_from_db()
    assert original.reposts_count == 2


def test_unrepost_removes_it_and_allows_reposting_again(user, other_user):
    post = make_post(other_user)
    first = services.repost(user, post)

    assert services.unrepost(user, post) is True
    again = services.repost(user, post)

    assert again.pk != first.pk
    post.refresh_from_db()
    assert post.reposts_count == 1


def test_a_hidden_post_cannot_be_liked_or_reposted(user, other_user):
    post = make_post(other_user)
    Post.objects.filter(pk=post.pk).update(is_hidden=True)
    post.refresh_from_db()

    with pytest.raises(ValidationError):
        services.like(user, post)
    with pytest.raises(ValidationError):
        services.repost(user, post)

    assert not Like.objects.exists()
    assert Post.objects.count() == 1


# --- visibility --------------------------------------------------------------------------


def test_hidden_deleted_and_suspended_posts_are_invisible(user, other_user):
    kept = make_post(user, "kept")
    hidden = make_post(user, "hidden")
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    deleted = make_post(user, "deleted")
    services.delete_post(user, deleted)
    suspended_post = make_post(other_user, "by someone suspended")
    repost_of_hidden = services.repost(other_user, kept)
    suspend_user(other_user)

    visible = {p.pk for p in selectors.visible_posts(None)}

    assert visible == {kept.pk}
    assert suspended_post.pk not in visible and repost_of_hidden.pk not in visible


def test_a_repost_disappears_with_its_original(user, other_user):
    original = make_post(other_user)
    shared = services.repost(user, original)
    Post.objects.filter(pk=original.pk).update(is_hidden=True)

    assert shared.pk not in {p.pk for p in selectors.visible_posts(None)}


def test_hashtag_selector_finds_tags_in_any_case(user):
    tagged = make_post(user, "about #Python")
    make_post(user, "nothing")

    assert [p.pk for p in selectors.hashtag_posts(None, "PYTHON")] == [tagged.pk]
    assert Hashtag.objects.get().name == "python"


def test_pages_follow_ids_without_gaps_or_duplicates(user):
    posts = [make_post(user, f"n{i}") for i in range(45)]

    first = selectors.author_posts(None, user, limit=20)
    second = selectors.author_posts(None, user, max_id=first[-1].id, limit=20)
    third = selectors.author_posts(None, user, max_id=second[-1].id, limit=20)

    seen = [p.pk for p in first + second + third]
    assert seen == [p.pk for p in reversed(posts)]


# --- in the browser ----------------------------------------------------------------------


def test_posting_from_the_browser(client, user):
    client.force_login(user)

    response = client.post(reverse("posts:create"), {"text": "from the web #first"})

    assert response.status_code == 302
    assert Post.objects.get().text == "from the web #first"


def test_a_too_long_post_from_the_browser_shows_the_reason(client, user, settings):
    settings.POST_MAX_CHARS = 500
    client.force_login(user)

    response = client.post(reverse("posts:create"), {"text": "y" * 501})

    assert response.status_code == 400
    assert "Posts are at most 500 characters; this one has 501." in response.content.decode()
    assert not Post.objects.exists()


def test_editing_or_deleting_someone_elses_post_in_the_browser_is_refused(client, user, other_user):
    post = make_post(other_user, "not yours")
    client.force_login(user)

    edit = client.post(reverse("posts:edit", args=[post.pk]), {"text": "hijacked"})
    delete = client.post(reverse("posts:delete", args=[post.pk]))

    assert edit.status_code == 403
    assert delete.status_code == 403
    post.refresh_from_db()
    assert (post.text, post.is_deleted) == ("not yours", False)


def test_unknown_or_malformed_post_ids_are_404(client, user):
    client.force_login(user)

    assert client.get(reverse("posts:detail", args=[123])).status_code == 404
    assert client.get("/posts/99999999999999999999999/").status_code == 404
    assert client.post(reverse("posts:act", args=[123, "like"])).status_code == 404


def test_hostile_text_renders_as_text(client, user):
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> javascript:alert(3) [x](javascript:alert(4))"
    post = make_post(user, hostile)

    html = client.get(reverse("posts:detail", args=[post.pk])).content.decode()

    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_links_mentions_and_hashtags_become_links(client, user):
    UserFactory(username="erin")
    post = make_post(user, "see https://example.com/a?b=1 @erin @stranger #News")

    html = client.get(reverse("posts:detail", args=[post.pk])).content.decode()

    assert '<a href="https://example.com/a?b=1" rel="nofollow noopener noreferrer">' in html
    assert 'href="/@erin/"' in html
    assert 'href="/@stranger/"' not in html
    assert 'href="/tags/news/"' in html


def test_a_backdated_repost_gets_an_id_from_its_own_time(user, other_user):
    from datetime import UTC, datetime

    from socialnet.ids import time_of

    moment = datetime(2025, 8, 1, 9, 0, tzinfo=UTC)
    shared = services.repost(user, make_post(other_user), created_at=moment)

    assert time_of(shared.id) == moment


def test_like_and_repost_buttons_in_the_browser(client, user, other_user):
    post = make_post(other_user)
    client.force_login(user)

    for action in ("like", "repost"):
        response = client.post(reverse("posts:act", args=[post.pk, action]), {"next": "/"})
        assert (response.status_code, response.url) == (302, "/")
    post.refresh_from_db()
    assert (post.likes_count, post.reposts_count) == (1, 1)

    page = client.get(reverse("posts:detail", args=[post.pk])).content.decode()
    assert reverse("posts:act", args=[post.pk, "unlike"]) in page
    assert reverse("posts:act", args=[post.pk, "unrepost"]) in page


def test_an_unknown_post_action_or_an_offsite_redirect_is_refused(client, user, other_user):
    post = make_post(other_user)
    client.force_login(user)

    assert client.post(f"/posts/{post.pk}/delete-everything/").status_code == 404
    response = client.post(reverse("posts:act", args=[post.pk, "like"]), {"next": "https://evil.example/"})
    assert response.url == reverse("posts:detail", args=[post.pk])
