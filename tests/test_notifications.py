from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services import suspend_user
from graph import services as graph_services
from notifications import selectors, services
from notifications.models import Notification
from posts import services as post_services
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db

T = Notification.Type


def received(user):
    return [(n.type, n.actor.username, n.post_id) for n in selectors.notification_page(user, limit=40)]


def test_each_cause_notifies_its_target_once(user, other_user):
    post = make_post(user, "mine")

    graph_services.follow(other_user, user)
    post_services.like(other_user, post)
    post_services.repost(other_user, post)
    reply = make_post(other_user, f"@{user.username} nice", reply_to=post)
    mention = make_post(other_user, f"hello @{user.username}")
    post_services.like(other_user, post)  # again: nothing new
    post_services.repost(other_user, post)  # again: nothing new

    assert received(user) == [
        (T.MENTION, other_user.username, mention.pk),
        (T.REPLY, other_user.username, reply.pk),  # the reply's @mention does not notify twice
        (T.REBLOG, other_user.username, post.pk),
        (T.FAVOURITE, other_user.username, post.pk),
        (T.FOLLOW, other_user.username, None),
    ]
    assert received(other_user) == []


def test_nobody_is_notified_of_their_own_actions(user):
    post = make_post(user, f"talking to myself @{user.username}")
    post_services.like(user, post)
    post_services.repost(user, post)
    make_post(user, "replying to myself", reply_to=post)

    assert received(user) == []


def test_undoing_a_like_or_follow_withdraws_it_and_redoing_notifies_again(user, other_user):
    post = make_post(user)
    post_services.like(other_user, post)
    graph_services.follow(other_user, user)

    post_services.unlike(other_user, post)
    graph_services.unfollow(other_user, user)
    assert received(user) == []

    post_services.like(other_user, post)
    assert received(user) == [(T.FAVOURITE, other_user.username, post.pk)]


def test_nothing_from_a_blocked_account_in_either_direction(user, other_user):
    post = make_post(user)
    graph_services.block(user, other_user)

    with pytest.raises(ValidationError):  # the like itself is refused
        post_services.like(other_user, post)
    make_post(other_user, f"hey @{user.username}")

    assert received(user) == []
    assert not Notification.objects.exists()


def test_a_notification_mute_silences_but_a_plain_mute_does_not(user, other_user):
    third = UserFactory()
    post = make_post(user)
    graph_services.mute(user, other_user, hide_notifications=True)
    graph_services.mute(user, third, hide_notifications=False)

    post_services.like(other_user, post)
    post_services.like(third, post)

    assert received(user) == [(T.FAVOURITE, third.username, post.pk)]


def test_an_expired_mute_notifies_again(user, other_user):
    post = make_post(user)
    graph_services.mute(user, other_user, duration=timedelta(minutes=5))
    from graph.models import Mute

    Mute.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    post_services.like(other_user, post)

    assert received(user) == [(T.FAVOURITE, other_user.username, post.pk)]


def test_notifications_of_suspended_actors_or_deleted_posts_are_not_listed(user, other_user):
    post = make_post(user)
    post_services.like(other_user, post)
    third = UserFactory()
    graph_services.follow(third, user)

    suspend_user(third)
    assert received(user) == [(T.FAVOURITE, other_user.username, post.pk)]

    post_services.delete_post(user, post)
    assert received(user) == []


def test_filter_by_type_and_page_by_id(user):
    fans = UserFactory.create_batch(3)
    post = make_post(user)
    for fan in fans:
        graph_services.follow(fan, user)
        post_services.like(fan, post)

    follows = selectors.notification_page(user, types=[T.FOLLOW])
    assert [n.actor_id for n in follows] == [fan.pk for fan in reversed(fans)]
    assert {n.type for n in selectors.notification_page(user, exclude_types=[T.FOLLOW])} == {T.FAVOURITE}

    everything = selectors.notification_page(user, limit=40)
    older = selectors.notification_page(user, max_id=everything[2].pk, limit=40)
    assert [n.pk for n in older] == [n.pk for n in everything[3:]]
    newer = selectors.notification_page(user, min_id=everything[3].pk, limit=2)
    assert [n.pk for n in newer] == [everything[1].pk, everything[2].pk]


def test_unread_count_and_mark_read_which_never_moves_back(user):
    fans = UserFactory.create_batch(4)
    for fan in fans:
        graph_services.follow(fan, user)
    newest_first = selectors.notification_page(user)
    assert selectors.unread_count(user) == 4

    services.mark_read(user, newest_first[1].pk)
    assert selectors.unread_count(user) == 1
    services.mark_read(user, newest_first[3].pk)  # an older id: ignored
    assert selectors.unread_count(user) == 1


def test_dismiss_one_and_clear_all(user, other_user):
    graph_services.follow(other_user, user)
    make_post(other_user, f"@{user.username} hi")
    follow_notification = Notification.objects.get(type=T.FOLLOW)

    assert services.dismiss(user, follow_notification.pk) is True
    assert services.dismiss(other_user, Notification.objects.get().pk) is False  # not theirs
    assert [n[0] for n in received(user)] == [T.MENTION]

    assert services.clear_all(user) == 1
    assert received(user) == []


def test_grouped_view_folds_likes_reposts_and_follows_latest_actors_first(user):
    post = make_post(user)
    likers = UserFactory.create_batch(3)
    for liker in likers:
        post_services.like(liker, post)
    for follower in likers[:2]:
        graph_services.follow(follower, user)
    mentioner = UserFactory()
    make_post(mentioner, f"@{user.username} hello")

    groups = selectors.grouped_page(user)

    assert [(g.type, g.notifications_count) for g in groups] == [(T.MENTION, 1), (T.FOLLOW, 2), (T.FAVOURITE, 3)]
    assert [a.pk for a in groups[2].actors] == [liker.pk for liker in reversed(likers)]
    assert groups[2].group_key.startswith(f"favourite-{post.pk}-")
    assert groups[0].group_key.startswith("ungrouped-")
