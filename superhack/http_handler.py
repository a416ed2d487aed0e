"""Django's ASGI handler, running each request's middleware and view in one worker thread.

Django's own ASGI handler runs the middleware chain async. Every middleware Django ships (and
DRF's views) is sync code behind an async shim, so a request hopped from the event loop to a
worker thread and back twice per middleware: about fifteen hand-overs, each waiting for the
other thread to let go of the GIL. Over loopback that was 16-24 ms on every page and API call
against 3-6 ms of work (bench/web.py). Nothing here is async (no async views or middleware), so
this handler builds the chain in its sync mode, as under WSGI, and hands the whole request to
the per-request worker thread once. Reading the body, sending the response and the websocket
routes (Channels, superhack/asgi.py) stay on the event loop as before.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler


class OneHopASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        # thread_sensitive: the thread of this request's ThreadSensitiveContext, the same one
        # that opens its database connection here and closes it when the response is closed.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
