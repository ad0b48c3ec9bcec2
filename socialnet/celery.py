import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialnet.settings")

app = Celery("socialnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_after_commit(task, *args) -> None:
    """Send `task` once the current transaction commits; never for one that rolls back.

    A broker that is down must not fail the user's request: the write is committed, and
    each task here has a periodic safety net (the fan-out sweep, the outbox drain).
    """
    from django.db import transaction

    def send():
        try:
            task.delay(*args)
        except Exception:
            logging.getLogger(__name__).warning("could not enqueue %s%s", task.name, args, exc_info=True)

    transaction.on_commit(send)
