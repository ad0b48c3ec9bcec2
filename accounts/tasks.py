from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import services


@shared_task(ignore_result=True)
def mark_active(user_id: int, seen_at: str) -> None:
    services.mark_active(user_id, parse_datetime(seen_at))


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    services.clear_expired_sessions()
