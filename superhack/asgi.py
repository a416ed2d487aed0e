"""ASGI entry point: HTTP through Django; websockets (live alerts, insights.alerts.routing)
through Channels, only from this site's own origins (ALLOWED_HOSTS) and with the Django
session's user in the scope."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
django_asgi_app = get_asgi_application()

# Needs Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from insights.alerts.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
