import random
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import User
from timeline import checks


class Command(BaseCommand):
    help = "Compare a sample of users' Redis home timelines with what PostgreSQL says they should hold."

    def add_arguments(self, parser):
        parser.add_argument("--sample", type=int, default=100, help="how many users with a timeline to check")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        rng = random.Random(options["seed"])
        # Only users fan-out serves: an inactive user's set is stale by design and expires.
        seen_since = timezone.now() - timedelta(days=settings.ACTIVE_DAYS)
        candidates = list(User.objects.active().filter(last_active_at__gte=seen_since).values_list("pk", flat=True))
        rng.shuffle(candidates)
        checked = differing = 0
        for user_id in candidates:
            if checked >= options["sample"]:
                break
            difference = checks.compare_home(user_id)
            if difference is None:
                continue  # no timeline in Redis: nothing to compare, the reader would rebuild it
            checked += 1
            if difference.missing or difference.unexpected:
                differing += 1
                self.stdout.write(
                    f"user {user_id}: {len(difference.missing)} missing "
                    f"{sorted(difference.missing)[-5:]}, {len(difference.unexpected)} unexpected "
                    f"{sorted(difference.unexpected)[-5:]}"
                )
        self.stdout.write(f"Checked {checked} timelines: {differing} differ from PostgreSQL.")
