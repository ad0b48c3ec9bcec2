"""Builders for test data. They go through the same services production uses where a
service exists, so counters and parsed mentions/hashtags are real."""

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User

PASSWORD = "a-long-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


def make_post(author, text="hello world", **kwargs):
    from posts.services import create_post

    return create_post(author, text, **kwargs)
