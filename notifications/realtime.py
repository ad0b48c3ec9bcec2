"""Publishing events to connected clients over the Channels layer.

Only ids travel over the layer ({"event", "id"}): each ASGI process renders an entity
once for all of its sockets that receive it (notifications/api/streaming.py). Publishing
never fails the caller: an offline layer only delays what a reconnecting client gets
from the resume path anyway.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

NOTIFICATION = "notification"
UPDATE = "update"
DELETE = "delete"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish(user_ids, event: str, object_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "stream.event", "event": event, "id": object_id}
    try:
        for user_id in user_ids:
            async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # clients catch up through the resume path
        logger.warning("could not publish %s %s", event, object_id, exc_info=True)


def publish_after_commit(user_id: int, event: str, object_id: int) -> None:
    transaction.on_commit(lambda: publish([user_id], event, object_id))
