"""A small social graph with known answers, built through the real services."""

from dataclasses import dataclass

from accounts.models import User
from graph.services import follow
from tests.factories import UserFactory


@dataclass
class SmallWorld:
    """me follows alice, bob, carol. They follow: dave (all three), erin (alice, bob),
    frank (carol), and me. dave follows erin. gina is followed by nobody I know."""

    me: User
    alice: User
    bob: User
    carol: User
    dave: User
    erin: User
    frank: User
    gina: User


def build_small_world() -> SmallWorld:
    names = ["me", "alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    world = SmallWorld(**{name: UserFactory(username=name) for name in names})
    edges = [
        ("me", "alice"), ("me", "bob"), ("me", "carol"),
        ("alice", "dave"), ("bob", "dave"), ("carol", "dave"),
        ("alice", "erin"), ("bob", "erin"),
        ("carol", "frank"),
        ("alice", "me"), ("bob", "me"),
        ("dave", "erin"),
    ]  # fmt: skip
    for follower, followee in edges:
        follow(getattr(world, follower), getattr(world, followee))
    return world
