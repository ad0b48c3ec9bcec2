from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from posts.models import POST_ID_SEQUENCE, Post
from socialnet.ids import MAX_ID, id_at, next_id_at, time_of
from tests.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


def test_post_ids_are_time_sortable_and_exact_as_redis_scores(user):
    # given posts made one after another
    posts = [make_post(user, f"post {i}") for i in range(50)]

    ids = [post.id for post in posts]
    # then they increase, are unique, and survive a round trip through a double
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert all(0 < post_id <= MAX_ID for post_id in ids)
    assert all(int(float(post_id)) == post_id for post_id in ids)


def test_post_id_encodes_its_creation_time(user):
    post = make_post(user)
    post.refresh_from_db()

    assert abs(time_of(post.id) - post.created_at) < timedelta(seconds=1)


def test_backdated_post_gets_an_id_from_its_own_time(user):
    moment = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)

    post = make_post(user, created_at=moment)

    assert time_of(post.id) == moment
    assert id_at(moment) <= post.id < id_at(moment + timedelta(milliseconds=1))
    assert Post.objects.get(pk=post.pk).created_at == moment


def test_many_ids_in_the_same_millisecond_are_distinct():
    moment = datetime(2026, 1, 1, tzinfo=UTC)

    ids = [next_id_at(POST_ID_SEQUENCE, moment) for _ in range(1000)]

    assert len(set(ids)) == 1000
    assert {time_of(i) for i in ids} == {moment}


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_share_an_id():
    authors = UserFactory.create_batch(4)

    def write(author):
        try:
            return [make_post(author, "race").id for _ in range(25)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = [post_id for batch in pool.map(write, authors) for post_id in batch]

    assert len(ids) == 100
    assert len(set(ids)) == 100


def test_id_before_epoch_is_refused():
    with pytest.raises(ValueError, match="before the id epoch"):
        id_at(datetime(2020, 1, 1, tzinfo=UTC))
