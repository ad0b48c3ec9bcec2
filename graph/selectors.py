"""Reads of the social graph."""

from django.db.models import QuerySet

from accounts.models import User

from .models import Follow

LIST_PAGE_SIZE = 40


def is_following(follower: User, followee: User) -> bool:
    if not follower.is_authenticated:
        return False
    return Follow.objects.filter(follower=follower, followee=followee).exists()


def followers_of(user: User) -> QuerySet[User]:
    """Visible accounts following `user`, most recent follow first."""
    return User.objects.active().filter(following_edges__followee=user).order_by("-following_edges__id")


def following_of(user: User) -> QuerySet[User]:
    """Visible accounts `user` follows, most recent follow first."""
    return User.objects.active().filter(follower_edges__follower=user).order_by("-follower_edges__id")


def followee_ids(user: User) -> QuerySet:
    return Follow.objects.filter(follower=user).values("followee_id")
