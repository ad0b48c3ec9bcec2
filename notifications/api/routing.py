from django.urls import re_path

from .consumers import UnknownStreamingPath, UserStreamConsumer

websocket_urlpatterns = [
    # Mastodon's clients use both spellings.
    re_path(r"^api/v1/streaming/?$", UserStreamConsumer.as_asgi()),
    re_path(r"", UnknownStreamingPath.as_asgi()),
]
