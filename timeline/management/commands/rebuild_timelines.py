import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from timeline import services


class Command(BaseCommand):
    help = "Rebuild home timelines (and VIP recent-posts sets) in Redis from PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--user", action="append", default=[], help="username or id; repeatable")
        parser.add_argument("--all", action="store_true", help="every user, not only those active within ACTIVE_DAYS")

    def handle(self, *args, **options):
        started = time.monotonic()
        users = self._users(options)
        rebuilt = entries = 0
        for user_id in users.values_list("pk", flat=True).iterator(chunk_size=2000):
            entries += services.rebuild_home(user_id)
            rebuilt += 1
            if rebuilt % 1000 == 0:
                self.stdout.write(f"  {rebuilt:,} timelines…")
        vips = 0
        if not options["user"]:
            for author_id in User.objects.filter(is_vip=True).values_list("pk", flat=True):
                services.rebuild_vip_posts(author_id)
                vips += 1
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Rebuilt {rebuilt:,} home timelines ({entries:,} entries) and {vips:,} VIP post sets in {elapsed:.1f} s."
        )

    def _users(self, options):
        if options["user"]:
            wanted = Q()
            for name in options["user"]:
                wanted |= Q(pk=int(name)) if name.isdigit() else Q(username__iexact=name)
            users = User.objects.filter(wanted)
            if not users.exists():
                raise CommandError("No such user.")
            return users
        users = User.objects.active()
        if not options["all"]:
            users = users.filter(last_active_at__gte=timezone.now() - timedelta(days=settings.ACTIVE_DAYS))
        return users.order_by("pk")
