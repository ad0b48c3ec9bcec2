"""One ASGI application for HTTP and websockets (served by uvicorn).

Websocket routes are added by the notifications app (real-time issue); until then the
router answers only HTTP and refuses websocket upgrades.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialnet.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
