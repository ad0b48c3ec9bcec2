"""`manage.py seed_demo`: a reproducible demo world, loaded once.

Users, a power-law follow graph, two accounts nearly everyone follows (VIPs), two weeks
of posts, replies, reposts and likes. Posts, reposts and likes go through the services,
so mentions, hashtags and post counters are exactly what production would write; follows
are bulk-inserted (thousands of service calls would be slow) and the user counters are
recounted afterwards.
"""

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.moderation import MODERATORS_GROUP
from accounts.services import recount_counters
from graph.models import Follow
from posts.models import Like, Post
from posts.services import create_post, like, repost
from timeline.services import refresh_vip_flags

# Published demo logins, printed by the command itself: not secrets.
DEMO_PASSWORD = "demo-password-1"  # noqa: S105
MODERATOR_PASSWORD = "moderator-password-1"  # noqa: S105
DEMO_EMAIL_DOMAIN = "demo.socialnet.local"

MODERATOR_USERNAME = "moderator"
NEWCOMER_USERNAME = "alice"
NEWS_USERNAME = "socialnet_news"
CELEBRITY_USERNAME = "celebrity"
VIP_USERNAMES = (NEWS_USERNAME, CELEBRITY_USERNAME)
# Created on top of the --users crowd.
SPECIAL_USERNAMES = (*VIP_USERNAMES, NEWCOMER_USERNAME, MODERATOR_USERNAME)

FOLLOWS_PER_USER = (5, 40)
INACTIVE_SHARE = 0.15  # of the crowd, never seen recently
FOLLOW_BACK_CHANCE = 0.2
VIP_FOLLOWER_SHARE = (0.85, 0.95)
NEWCOMER_FOLLOWS = 15
NEWCOMER_FOLLOWERS = 8

POST_WINDOW = timedelta(days=14)
LURKER_CHANCE = 0.1
MAX_POSTS_PER_USER = 60
VIP_MIN_POSTS = 20
REPLY_CHANCE = 0.25
# Replies go to one of the most recent posts, as conversations happen close in time.
REPLY_HORIZON = 40
REPOSTS_PER_USER = 1
LIKES_PER_USER = 10

FIRST_NAMES = (
    "maya", "liam", "noah", "emma", "olivia", "ava", "lucas", "mia", "ethan", "zoe", "leo", "nora", "omar",
    "sofia", "yuki", "hana", "ravi", "priya", "diego", "lena", "felix", "ines", "kai", "aisha", "tomas",
    "elena", "jonas", "chloe", "mateo", "amara", "sam", "ruby", "ivan", "lina", "theo", "nadia", "hugo",
    "freya", "arjun", "mei", "pablo", "saoirse", "kofi", "ingrid", "wei", "fatima", "oscar", "clara",
)  # fmt: skip
LAST_NAMES = (
    "okafor", "smith", "garcia", "tanaka", "muller", "rossi", "novak", "silva", "kim", "nguyen", "patel",
    "cohen", "larsen", "dubois", "murphy", "schmidt", "costa", "ivanova", "haddad", "moreau", "chen",
    "kowalski", "santos", "berg", "osei", "fischer", "lopez", "sato", "walsh", "jensen",
)  # fmt: skip
WORDS = (
    "pixel", "river", "coffee", "tiger", "maple", "comet", "cloud", "ember", "fox", "jazz", "nova", "orbit",
    "panda", "quartz", "rocket", "sunny", "tango", "violet", "willow", "zen", "byte", "cactus", "delta",
    "echo", "fern", "ghost", "harbor", "indigo", "koala", "lemon", "mango", "neon", "olive", "pepper",
)  # fmt: skip
BIO_PARTS = (
    "Coffee first, code second.", "Runner, reader, occasional baker.", "Python developer by day.",
    "Amateur photographer.", "Music nerd. Vinyl collector.", "Plant parent of 14.", "Dog person.",
    "Learning Japanese, slowly.", "Opinions are my own.", "Weekend hiker.", "Building things on the web.",
    "Tea > coffee, fight me.", "Chasing sunsets.", "Board games and bad puns.", "Student, forever.",
)  # fmt: skip
SENTENCES = (
    "Just finished my morning run and the city is still asleep.",
    "Anyone else think Mondays should be optional?",
    "Finally fixed that bug that haunted me all week.",
    "The new album is even better on the second listen.",
    "Trying a new recipe tonight, wish me luck.",
    "Hot take: tabs are fine, as long as you are consistent.",
    "The light this evening was unreal.",
    "Reading a great book about the history of maps.",
    "Coffee number three. It is only ten o'clock.",
    "Deployed on a Friday. Living dangerously.",
    "Who is going to the meetup on Thursday?",
    "Small wins: inbox zero for the first time this month.",
    "My cat has claimed the keyboard again.",
    "Rain all day, perfect excuse to stay in and code.",
    "Does anyone have a good podcast recommendation?",
    "Took the long way home and found a tiny bookshop.",
    "Today I learned that database indexes are not magic.",
    "That concert last night was incredible.",
    "Weekend plans: absolutely nothing, and I love it.",
    "Writing tests first actually saved me hours today.",
    "Fresh bread from the corner bakery, nothing beats it.",
    "The sunrise over the harbour this morning!",
    "Learning something new every day, even if it is small.",
    "Is it just me or is everything slower on Wednesdays?",
    "Thank you all for the kind messages yesterday.",
    "今日はいい天気ですね。",
    "周末快乐！",
    "Café au lait and a good notebook: perfect afternoon.",
)
REPLY_SENTENCES = (
    "Totally agree!", "Ha, same here.", "This made my day.", "Not sure about that one.", "Tell me more!",
    "Congrats, well deserved.", "Where was this taken?", "Good luck!", "Could not have said it better.",
    "Wait, really?", "Saving this for later.", "Love this.",
)  # fmt: skip
HEADLINES = (
    "Welcome to everyone who joined this week!",
    "Tip: mention someone with @ and they will be notified.",
    "New: hashtags are now clickable in every post.",
    "Scheduled maintenance tonight, expect a few minutes of downtime.",
    "Our community guidelines have been updated.",
    "Trending today: photography challenges and weekend plans.",
)
HASHTAGS = (
    "python", "django", "coffee", "music", "weekend", "news", "photography", "running", "话题", "café", "books",
    "food",
)  # fmt: skip


class DemoPerson(NamedTuple):
    username: str
    display_name: str


@dataclass
class DemoAccounts:
    vips: list[User]
    newcomer: User
    moderator: User
    crowd: list[User]

    @property
    def everyone(self) -> list[User]:
        return [*self.vips, self.newcomer, self.moderator, *self.crowd]

    @property
    def posters(self) -> list[User]:
        # The moderator only moderates.
        return [*self.vips, self.newcomer, *self.crowd]


class Command(BaseCommand):
    help = "Load a reproducible demo world (users, follows, posts, likes) once; re-running only prints the logins."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=300, help="How many ordinary demo users (default 300).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed, so the world is reproducible.")

    def handle(self, *args, users, seed, **options):
        if users < 1:
            raise CommandError("--users must be at least 1.")
        if demo_world_exists():
            self.stdout.write("The demo world already exists; nothing was created.")
        else:
            started = time.monotonic()
            # One transaction: a failed or interrupted seed leaves nothing behind, so
            # "the moderator exists" reliably means "the whole world exists".
            with transaction.atomic():
                DemoWorldBuilder(random.Random(seed), users, self.stdout.write).build()
            self.stdout.write(f"Seeded in {time.monotonic() - started:.1f} s.")
        self.stdout.write(login_summary())


def demo_world_exists() -> bool:
    return User.objects.filter(username__iexact=MODERATOR_USERNAME).exists()


class DemoWorldBuilder:
    def __init__(self, rng: random.Random, crowd_size: int, say: Callable[[str], None]):
        self.rng, self.crowd_size, self.say = rng, crowd_size, say
        self.now = timezone.now()

    def build(self) -> None:
        self.say(f"creating {self.crowd_size + len(SPECIAL_USERNAMES):,} users…")
        accounts = self.create_accounts()
        self.say("following…")
        follows = plan_follows(self.rng, accounts)
        Follow.objects.bulk_create(
            [Follow(follower_id=a, followee_id=b) for a, b in sorted(follows)], batch_size=1000, ignore_conflicts=True
        )
        followers = Counter(followee for _, followee in follows)
        self.say("posting…")
        posts = self.publish_posts(accounts, follows)
        self.say("reposting…")
        self.repost_popular(accounts, posts, followers)
        self.say("liking…")
        self.like_popular(accounts, posts, followers)
        self.say("recounting…")
        recount_counters()
        # The most followed accounts become VIPs now rather than at beat's next minute,
        # so the demo starts with readers pulling their posts.
        promoted, _ = refresh_vip_flags()
        self.say(f"{len(promoted)} VIP accounts (VIP_THRESHOLD={settings.VIP_THRESHOLD} followers)")

    def create_accounts(self) -> DemoAccounts:
        check_special_usernames_free()
        # Hashing costs ~0.3 s each: hash once, share the hash.
        demo_hash = make_password(DEMO_PASSWORD)
        specials = special_accounts(demo_hash, make_password(MODERATOR_PASSWORD))
        crowd = [crowd_account(self.rng, person, demo_hash) for person in crowd_people(self.rng, self.crowd_size)]
        created = User.objects.bulk_create([*specials, *crowd], batch_size=1000)
        # Posts go back POST_WINDOW; accounts that joined "today" would look odd next to them.
        joined = self.now - POST_WINDOW - timedelta(days=1)
        User.objects.filter(pk__in=[user.pk for user in created]).update(created_at=joined, date_joined=joined)
        self.mark_recent_activity(created)
        vip_count = len(VIP_USERNAMES)
        accounts = DemoAccounts(
            vips=created[:vip_count],
            newcomer=created[vip_count],
            moderator=created[vip_count + 1],
            crowd=created[len(specials) :],
        )
        # Staff for the admin, but no superuser: the group (migration) grants what moderating needs.
        Group.objects.get(name=MODERATORS_GROUP).user_set.add(accounts.moderator)
        return accounts

    def mark_recent_activity(self, users: list[User]) -> None:
        """Most people were seen in the last few days; some have drifted away (never seen).

        Fan-out and "who to follow" only consider accounts seen within ACTIVE_DAYS.
        """
        for user in users:
            if user.username in SPECIAL_USERNAMES or self.rng.random() >= INACTIVE_SHARE:
                user.last_active_at = self.now - timedelta(minutes=self.rng.randrange(5, 3 * 24 * 60))
        User.objects.bulk_update(users, ["last_active_at"], batch_size=1000)

    def publish_posts(self, accounts: DemoAccounts, follows: set[tuple[int, int]]) -> list[Post]:
        followees = defaultdict(list)
        names = {user.pk: user.username for user in accounts.everyone}
        for follower, followee in sorted(follows):
            followees[follower].append(names[followee])
        everyone_names = sorted(names.values())
        posts: list[Post] = []
        # Chronological order, so a reply's parent always exists already.
        for moment, author in self.posting_schedule(accounts):
            mentionable = followees[author.pk] or everyone_names
            parent = self.pick_parent(author, posts) if self.rng.random() < REPLY_CHANCE else None
            if parent is not None:
                text = compose_reply(self.rng, parent.author.username)
            else:
                text = compose_post(self.rng, author.username, mentionable)
            posts.append(create_post(author, text, reply_to=parent, created_at=moment))
        return posts

    def posting_schedule(self, accounts: DemoAccounts) -> list[tuple[datetime, User]]:
        authors = [author for author in accounts.posters for _ in range(self.posts_by(author))]
        self.rng.shuffle(authors)
        # Ends a few minutes ago: the ids encode the time, and none may be in the future.
        newest = self.now - timedelta(minutes=5)
        offsets = sorted(self.rng.random() * POST_WINDOW.total_seconds() for _ in authors)
        moments = strictly_increasing([newest - timedelta(seconds=offset) for offset in reversed(offsets)])
        return list(zip(moments, authors, strict=True))

    def posts_by(self, author: User) -> int:
        if author.username in VIP_USERNAMES:
            return VIP_MIN_POSTS + self.rng.randrange(VIP_MIN_POSTS)
        if self.rng.random() < LURKER_CHANCE:
            return 0
        # Pareto: most people post a few times, a few post a lot.
        return min(int(self.rng.paretovariate(1.6) * 3.5) - 1, MAX_POSTS_PER_USER)

    def pick_parent(self, author: User, posts: list[Post]) -> Post | None:
        candidates = [post for post in posts[-REPLY_HORIZON:] if post.author_id != author.pk]
        return self.rng.choice(candidates) if candidates else None

    def repost_popular(self, accounts: DemoAccounts, posts: list[Post], followers: Counter) -> None:
        target = REPOSTS_PER_USER * self.crowd_size
        for user, post in self.popular_pairs(accounts.posters, posts, followers, target):
            # Some time after the original, never in the future (ids encode the time).
            delay = timedelta(minutes=self.rng.randrange(1, 24 * 60))
            repost(user, post, created_at=min(post.created_at + delay, self.now - timedelta(minutes=1)))

    def like_popular(self, accounts: DemoAccounts, posts: list[Post], followers: Counter) -> None:
        target = LIKES_PER_USER * self.crowd_size
        for user, post in self.popular_pairs(accounts.everyone, posts, followers, target):
            like(user, post)

    def popular_pairs(
        self, users: Sequence[User], posts: list[Post], followers: Counter, target: int
    ) -> list[tuple[User, Post]]:
        """Up to `target` distinct (user, post) pairs, never a user's own post.

        Posts are drawn in proportion to their author's followers + 1, so well-followed
        accounts collect most of the reposts and likes, as they do on real networks.
        """
        cumulative = list(accumulate(followers[post.author_id] + 1 for post in posts))
        pairs: dict[tuple[int, int], tuple[User, Post]] = {}
        for _ in range(target * 5):
            if len(pairs) == target:
                break
            user, post = self.rng.choice(users), self.rng.choices(posts, cum_weights=cumulative)[0]
            if post.author_id != user.pk:
                pairs.setdefault((user.pk, post.pk), (user, post))
        return list(pairs.values())


def check_special_usernames_free() -> None:
    taken = User.objects.annotate(lower_name=Lower("username")).filter(lower_name__in=SPECIAL_USERNAMES)
    names = sorted(taken.values_list("username", flat=True))
    if names:
        raise CommandError(f"Usernames the demo world needs are taken: {', '.join(names)}. Use an empty database.")


def special_accounts(demo_hash: str, moderator_hash: str) -> list[User]:
    """The VIPs, the newcomer and the moderator, in the order DemoAccounts expects."""
    return [
        demo_user(NEWS_USERNAME, demo_hash, "socialnet News", "What is happening on socialnet and beyond. #news"),
        demo_user(CELEBRITY_USERNAME, demo_hash, "Nova Starling", "Singer, actor, occasional runner. ✨"),
        demo_user(NEWCOMER_USERNAME, demo_hash, "Alice", "New here! Say hi."),
        demo_user(MODERATOR_USERNAME, moderator_hash, "Moderator", "Keeping socialnet kind.", is_staff=True),
    ]


def crowd_account(rng: random.Random, person: DemoPerson, demo_hash: str) -> User:
    bio = " ".join(rng.sample(BIO_PARTS, rng.randint(0, 2)))
    return demo_user(person.username, demo_hash, person.display_name, bio)


def demo_user(username: str, password_hash: str, display_name: str, bio: str, *, is_staff: bool = False) -> User:
    return User(
        username=username,
        email=f"{username.lower()}@{DEMO_EMAIL_DOMAIN}",
        password=password_hash,
        display_name=display_name,
        bio=bio,
        is_staff=is_staff,
    )


def crowd_people(rng: random.Random, count: int) -> list[DemoPerson]:
    """`count` people whose usernames are unique whatever their case, and new to the database."""
    # A demo database is small; reading its usernames is cheap and avoids any clash.
    taken = set(User.objects.annotate(lower_name=Lower("username")).values_list("lower_name", flat=True))
    taken.update(SPECIAL_USERNAMES)
    people = []
    while len(people) < count:
        person = random_person(rng)
        if person.username.lower() not in taken:
            taken.add(person.username.lower())
            people.append(person)
    return people


def random_person(rng: random.Random) -> DemoPerson:
    first, last, word = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(WORDS)
    number = rng.randint(1, 999)
    patterns = (
        f"{first}{number}",
        f"{first}_{last}",
        f"{first.title()}{last.title()}",
        f"{first}_{word}",
        f"{word}_{first}{number % 100}",
        f"{first}{last[0]}{number}",
        f"the_{word}_{last}",
    )
    return DemoPerson(rng.choice(patterns)[:30], f"{first.title()} {last.title()}")


def plan_follows(rng: random.Random, accounts: DemoAccounts) -> set[tuple[int, int]]:
    """Every (follower id, followee id) pair of the demo world."""
    crowd_ids = [user.pk for user in accounts.crowd]
    follows = preferential_follows(rng, crowd_ids)
    follows |= newcomer_follows(rng, accounts.newcomer.pk, crowd_ids, follows)
    # Last, so the VIPs can be made to out-follow whoever the crowd made most popular.
    most_followed_other = max(Counter(followee for _, followee in follows).values(), default=0)
    everyone_ids = [user.pk for user in accounts.everyone]
    for vip in accounts.vips:
        follows |= vip_follows(rng, vip.pk, everyone_ids, most_followed_other)
        # Alice's home timeline should show the VIPs, the accounts timelines treat specially.
        follows.add((accounts.newcomer.pk, vip.pk))
    return follows


def preferential_follows(rng: random.Random, user_ids: list[int]) -> set[tuple[int, int]]:
    """A scale-free graph: users join one by one and follow popular earlier users.

    Each new user follows FOLLOWS_PER_USER earlier users, each picked with probability
    proportional to their followers + 1 (Barabási-Albert preferential attachment).
    """
    follows: set[tuple[int, int]] = set()
    # Every user appears once, plus once per follower: a uniform draw from this list is
    # the weighted draw, in O(1).
    lottery: list[int] = []
    for position, user_id in enumerate(user_ids):
        wanted = min(follows_wanted(rng), position)
        chosen: set[int] = set()
        while len(chosen) < wanted:
            chosen.add(rng.choice(lottery))
        for followee in sorted(chosen):
            follows.add((user_id, followee))
            lottery.append(followee)
        lottery.append(user_id)
    # Without some following back, the newest half of the crowd would have no followers.
    follow_backs = {(b, a) for a, b in sorted(follows) if rng.random() < FOLLOW_BACK_CHANCE}
    return follows | follow_backs


def follows_wanted(rng: random.Random) -> int:
    low, high = FOLLOWS_PER_USER
    # Skewed towards `low`: most people follow a few accounts, some follow many.
    return low + int((high - low) * rng.random() ** 2.5)


def newcomer_follows(
    rng: random.Random, newcomer_id: int, crowd_ids: list[int], follows: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Alice follows some popular people and a few follow her, so her pages are not empty."""
    followers = Counter(followee for _, followee in follows)
    weights = [followers[user_id] + 1 for user_id in crowd_ids]
    wanted = min(NEWCOMER_FOLLOWS, len(crowd_ids))
    followees: set[int] = set()
    while len(followees) < wanted:
        followees.add(rng.choices(crowd_ids, weights=weights)[0])
    fans = rng.sample(crowd_ids, min(NEWCOMER_FOLLOWERS, len(crowd_ids)))
    return {(newcomer_id, user_id) for user_id in followees} | {(user_id, newcomer_id) for user_id in fans}


def vip_follows(
    rng: random.Random, vip_id: int, everyone_ids: list[int], most_followed_other: int
) -> set[tuple[int, int]]:
    """Most of everyone follows a VIP, and always more people than follow anyone else."""
    candidates = [user_id for user_id in everyone_ids if user_id != vip_id]
    share = rng.uniform(*VIP_FOLLOWER_SHARE)
    wanted = min(max(math.ceil(share * len(candidates)), most_followed_other + 1), len(candidates))
    return {(user_id, vip_id) for user_id in rng.sample(candidates, wanted)}


def strictly_increasing(moments: list[datetime]) -> list[datetime]:
    """Nudge equal times apart by a millisecond: post ids are time-ordered to the ms."""
    result: list[datetime] = []
    for moment in moments:
        if result and moment <= result[-1]:
            moment = result[-1] + timedelta(milliseconds=1)
        result.append(moment)
    return result


def compose_post(rng: random.Random, author_username: str, mentionable: list[str]) -> str:
    if author_username == NEWS_USERNAME:
        return f"{rng.choice(HEADLINES)} #news"
    parts = rng.sample(SENTENCES, 2 if rng.random() < 0.3 else 1)
    if rng.random() < 0.2:
        parts.append(f"cc @{rng.choice(mentionable)}")
    if rng.random() < 0.45:
        parts.append(" ".join(f"#{tag}" for tag in rng.sample(HASHTAGS, rng.randint(1, 2))))
    return " ".join(parts)


def compose_reply(rng: random.Random, parent_username: str) -> str:
    text = rng.choice(REPLY_SENTENCES)
    # Most replies address the person they answer, as reply boxes prefill it.
    return f"@{parent_username} {text}" if rng.random() < 0.8 else text


def login_summary() -> str:
    example = (
        User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
        .exclude(username__in=SPECIAL_USERNAMES)
        .order_by("id")
        .values_list("username", flat=True)
        .first()
    )
    counts = (User.objects.count(), Follow.objects.count(), Post.objects.count(), Like.objects.count())
    logins = [
        (f"{NEWCOMER_USERNAME} / {DEMO_PASSWORD}", "(a regular user)"),
        (f"{MODERATOR_USERNAME} / {MODERATOR_PASSWORD}", "(a moderator: /admin/)"),
    ]
    width = max(len(login) for login, _ in logins) + 1
    lines = [
        "Demo world ready: {:,} users, {:,} follows, {:,} posts, {:,} likes.".format(*counts),
        f"Log in at {settings.SITE_URL.rstrip('/')}{reverse('accounts:login')} as:",
        *(f"  {login.ljust(width)}{role}" for login, role in logins),
    ]
    if example:
        lines.append(f"  any demo user, e.g. {example} / {DEMO_PASSWORD}")
    return "\n".join(lines)
