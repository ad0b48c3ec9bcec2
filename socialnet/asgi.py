"""One ASGI application for HTTP and websockets (served by uvicorn).

Websockets: the streaming API at /api/v1/streaming (notifications/api/routing.py). The
session cookie is read by Channels' AuthMiddlewareStack; the consumer checks the Origin
of cookie-authenticated sockets (AllowedHostsOriginValidator's rule) itself, because apps
authenticating with an access token send no Origin (notifications/api/streaming.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialnet.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from notifications.api.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
