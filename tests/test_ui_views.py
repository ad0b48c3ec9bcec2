"""The browser UI's views without a browser: what HTMX gets back, refusals in words, every
action a CSRF-protected POST. (tests/test_browser.py drives the same views in Chromium.)"""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Report
from graph.models import Follow, SuggestionDismissal
from graph.services import block, follow
from notifications.selectors import unread_count
from posts import services as post_services
from posts.models import Like, Post
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_like_from_htmx_returns_the_action_bar_with_the_new_count(client, user, other_user):
    post = make_post(other_user, "like me")
    client.force_login(user)

    response = client.post(reverse("posts:act", args=[post.pk, "like"]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="actions">')
    assert re.search(r'class="action like on".*?aria-pressed="true".*?<span class="count">1</span>', html, re.S)
    assert reverse("posts:act", args=[post.pk, "unlike"]) in html
    assert Like.objects.filter(user=user, post=post).count() == 1


def test_a_blocked_viewers_like_finds_no_post(client, user, other_user):
    post = make_post(other_user, "you are blocked")
    block(other_user, user)
    client.force_login(user)

    response = client.post(reverse("posts:act", args=[post.pk, "like"]), **HTMX)

    assert response.status_code == 404  # a blocked viewer cannot see the post at all
    assert not Like.objects.filter(user=user).exists()


def test_a_too_long_post_comes_back_with_the_reason_in_words(client, user):
    client.force_login(user)
    text = "é" * (settings.POST_MAX_CHARS + 3)

    response = client.post(reverse("posts:create"), {"text": text}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    limit = settings.POST_MAX_CHARS
    assert f"Posts are at most {limit} characters; this one has {limit + 3}." in html
    assert 'role="alert"' in html and text in html  # the text is kept for editing
    assert not Post.objects.exists()


def test_an_emoji_post_at_the_limit_is_accepted_and_has_no_browser_maxlength(client, user):
    client.force_login(user)
    page = client.get(reverse("timeline:home")).content.decode()
    assert 'data-max-chars="500"' in page and "maxlength" not in page

    response = client.post(reverse("posts:create"), {"text": "😀" * settings.POST_MAX_CHARS}, **HTMX)

    assert response.status_code == 200
    post = Post.objects.get(author=user)
    assert 'hx-swap-oob="afterbegin:#timeline"' in response.content.decode()
    assert f'id="post-{post.pk}"' in response.content.decode()


def test_a_reply_from_htmx_is_appended_to_the_thread(client, user, other_user):
    parent = make_post(other_user, "start")
    client.force_login(user)

    response = client.post(reverse("posts:create"), {"text": "a reply", "reply_to": parent.pk}, **HTMX)

    reply = Post.objects.get(reply_to=parent)
    assert 'hx-swap-oob="beforeend:#replies"' in response.content.decode()
    assert f'id="post-{reply.pk}"' in response.content.decode()


def test_new_posts_fetch_returns_only_posts_newer_than_since_id(client, user, other_user):
    follow(user, other_user)
    older = make_post(other_user, "seen already")
    newer = [make_post(other_user, f"new {i}") for i in range(3)]
    client.force_login(user)

    response = client.get(reverse("timeline:home"), {"since_id": older.pk}, **HTMX)

    ids = [int(i) for i in re.findall(r'<article class="post" id="post-(\d+)"', response.content.decode())]
    assert ids == [p.pk for p in reversed(newer)]
    assert "<html" not in response.content.decode()


def test_scrolling_fetches_the_next_page_and_the_trigger_for_the_one_after(client, user, other_user):
    follow(user, other_user)
    posts = [make_post(other_user, f"p{i}") for i in range(25)]
    client.force_login(user)

    response = client.get(reverse("timeline:home"), {"max_id": posts[5].pk}, **HTMX)

    html = response.content.decode()
    ids = [int(i) for i in re.findall(r'<article class="post" id="post-(\d+)"', html)]
    assert ids == [p.pk for p in reversed(posts[:5])]
    assert f'hx-get="/?max_id={posts[0].pk}" hx-trigger="revealed"' in html
    assert "<html" not in html


def test_follow_refused_by_a_block_says_so_in_the_profile_header(client, user, other_user):
    block(other_user, user)
    client.force_login(user)

    response = client.post(reverse("graph:act", args=[other_user.username, "follow"]), **HTMX)

    assert response.status_code == 422
    assert "You cannot follow this account." in response.content.decode()
    assert not Follow.objects.filter(follower=user).exists()


def test_follow_from_the_profile_updates_the_header_counts(client, user, other_user):
    client.force_login(user)

    response = client.post(reverse("graph:act", args=[other_user.username, "follow"]), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="profile-head" id="profile-head"')
    assert "<strong>1</strong> followers" in html
    assert ">Following</button>" in html


def test_dismissing_a_suggestion_removes_it_and_following_one_confirms(client, user, other_user):
    third = UserFactory()
    client.force_login(user)
    panel = {"shown_in": "suggestion"}

    dismissed = client.post(reverse("graph:act", args=[other_user.username, "dismiss"]), panel, **HTMX)
    followed = client.post(reverse("graph:act", args=[third.username, "follow"]), panel, **HTMX)

    assert (dismissed.status_code, dismissed.content) == (200, b"")
    assert SuggestionDismissal.objects.filter(user=user, dismissed=other_user).exists()
    assert "Following" in followed.content.decode()
    assert Follow.objects.filter(follower=user, followee=third).exists()


def test_suggestions_panel_gives_each_its_reason(client, user, other_user):
    friend_of_friend = UserFactory(username="fof")
    follow(user, other_user)
    follow(other_user, friend_of_friend)
    client.force_login(user)

    html = client.get(reverse("graph:suggestions")).content.decode()

    assert "@fof" in html and f"Followed by {other_user.username}" in html


def test_reporting_a_post_files_it_for_the_moderators(client, user, other_user):
    post = make_post(other_user, "spam spam")
    client.force_login(user)

    response = client.post(
        reverse("accounts:report_post", args=[post.pk]), {"category": "spam", "comment": "Buy-now links"}
    )

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter, report.target) == (user, other_user)
    assert (report.category, report.comment) == ("spam", "Buy-now links")
    assert list(report.posts.all()) == [post]


def test_reporting_yourself_is_refused_in_words(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:report_account", args=[user.username]), {"category": "other"})

    assert response.status_code == 400
    assert "You cannot report yourself." in response.content.decode()
    assert not Report.objects.exists()


def test_notifications_page_groups_likes_and_marks_them_read(client, user):
    post = make_post(user, "popular")
    fans = UserFactory.create_batch(3)
    for fan in fans:
        post_services.like(fan, post)
    client.force_login(user)

    html = client.get(reverse("notifications:list")).content.decode()
    assert html.count('class="notification unread"') == 1
    assert "and 2 others" in html and "liked your post" in html
    assert re.search(r'<span id="unread-badge" class="badge"[^>]*>3<', html)

    newest = max(n.pk for n in user.notifications.all())
    client.post(reverse("notifications:mark_read"), {"up_to_id": newest})

    assert unread_count(user) == 0
    badge = client.get(reverse("notifications:badge")).content.decode()
    assert re.search(r'<span id="unread-badge" class="badge" hidden', badge)


def test_search_finds_people_tags_and_posts(client, user):
    gardener = UserFactory(username="gardener")
    make_post(gardener, "tomatoes are ripe #gardening")

    html = client.get(reverse("search"), {"q": "garden"}).content.decode()
    tag_html = client.get(reverse("search"), {"q": "#garden"}).content.decode()

    assert "@gardener" in html
    assert reverse("posts:hashtag", args=["gardening"]) in tag_html
    assert "tomatoes are ripe" in client.get(reverse("search"), {"q": "tomatoes"}).content.decode()


def test_public_timeline_and_hashtag_pages_are_open_to_everyone(client, user):
    make_post(user, "hello world #intro")

    for url in (reverse("timeline:public"), reverse("posts:hashtag", args=["intro"])):
        assert "hello world" in client.get(url).content.decode()


def test_user_written_text_is_escaped_everywhere_it_shows(client, user, other_user):
    hostile = '<img src=x onerror="alert(1)">'
    user.display_name, user.bio = hostile[:50], hostile
    user.save()
    make_post(user, hostile)
    follow(other_user, user)
    client.force_login(other_user)

    for url in (
        reverse("accounts:profile", args=[user.username]),
        reverse("timeline:home"),
        reverse("accounts:followers", args=[other_user.username]),
        reverse("accounts:following", args=[other_user.username]),
    ):
        html = client.get(url).content.decode()
        assert "<img src=x" not in html, url


def test_every_form_on_the_main_pages_posts_with_a_csrf_token(user, other_user):
    post = make_post(other_user, "hi")
    follow(user, other_user)
    post_services.like(other_user, make_post(user, "mine"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    for url in (
        reverse("timeline:home"),
        reverse("posts:detail", args=[post.pk]),
        reverse("accounts:profile", args=[other_user.username]),
        reverse("notifications:list"),
        reverse("accounts:edit_profile"),
        reverse("accounts:report_post", args=[post.pk]),
    ):
        html = browser.get(url).content.decode()
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.S)
        posting = [form for form in forms if 'method="post"' in form]
        assert posting, url
        assert all("csrfmiddlewaretoken" in form for form in posting), url
        assert all('method="get"' in form for form in forms if form not in posting), url

    refused = browser.post(reverse("posts:act", args=[post.pk, "like"]), **HTMX)
    assert refused.status_code == 403
    assert not Like.objects.filter(user=user).exists()


def test_pages_have_titles_and_labelled_fields(client, user):
    client.force_login(user)

    for url in (reverse("timeline:home"), reverse("accounts:edit_profile"), reverse("accounts:password_change")):
        html = client.get(url).content.decode()
        assert re.search(r"<title>[^<]+ · socialnet</title>", html), url
        for field_id in re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', html):
            if f'for="{field_id}"' not in html:
                raise AssertionError(f"{url}: field #{field_id} has no label")


def test_a_posts_menu_offers_edit_to_its_author_and_report_to_others(client, user, other_user):
    mine, theirs = make_post(user, "mine"), make_post(other_user, "theirs")
    client.force_login(user)

    own_menu = client.get(reverse("posts:menu", args=[mine.pk]), **HTMX).content.decode()
    other_menu = client.get(reverse("posts:menu", args=[theirs.pk]), **HTMX).content.decode()
    without_js = client.get(reverse("posts:menu", args=[theirs.pk]))

    assert "Edit post" in own_menu and "Delete post" in own_menu and "Report post" not in own_menu
    assert reverse("accounts:report_post", args=[theirs.pk]) in other_menu
    assert f"Block @{other_user.username}" in other_menu and "Edit post" not in other_menu
    assert without_js.status_code == 200 and "<title>Post actions · socialnet</title>" in without_js.content.decode()


def test_links_built_without_reverse_match_reverse(user):
    from socialnet.ui_tags import post_action_url, post_url, profile_url

    assert profile_url("Some_User9") == reverse("accounts:profile", args=["Some_User9"])
    assert post_url(123456789012) == reverse("posts:detail", args=[123456789012])
    assert post_action_url(42, "unrepost") == reverse("posts:act", args=[42, "unrepost"])


def test_follow_lists_scroll_page_by_page_without_repeats(client, user):
    from graph.selectors import LIST_PAGE_SIZE

    fans = UserFactory.create_batch(LIST_PAGE_SIZE + 5)
    for fan in fans:
        follow(fan, user)
    url = reverse("accounts:followers", args=[user.username])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}, **HTMX).content.decode()

    person = re.compile(r'class="person" href="/@(\w+)/"')
    shown = person.findall(first) + person.findall(second)
    assert shown == [fan.username for fan in reversed(fans)]
    assert f'hx-get="{url}?page=2"' in first and "hx-get" not in second
