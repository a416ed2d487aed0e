"""ASGI entry point: HTTP through Django, each request in one worker thread
(superhack/http_handler.py says why); websockets (live alerts, insights.alerts.routing) through
Channels, only from this site's own origins (ALLOWED_HOSTS) and with the Django session's user
in the scope."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
django.setup(set_prefix=False)  # as get_asgi_application(): the handler sets it per request

from superhack.http_handler import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()

# Needs Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from insights.alerts.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
