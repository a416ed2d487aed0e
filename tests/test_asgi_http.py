"""HTTP through the project's own ASGI application (superhack.asgi), as daphne serves it:
static files come from the project (never a CDN), pages and the API answer, and a request's
middleware and view run in one worker thread, off the event loop (superhack/http_handler.py)."""

from __future__ import annotations

import json
import threading

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from django.urls import path
from rest_framework.authtoken.models import Token

from superhack.asgi import django_asgi_app


async def _visit(app, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    """GET `path` as daphne would: status, headers and the whole body, streamed or not."""
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 50000), "headers": [(b"host", b"localhost"), *(headers or [])]}
    app = ApplicationCommunicator(app, scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(30)
    body, more = b"", True
    while more:
        message = await app.receive_output(30)
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return {"status": start["status"], "headers": dict(start["headers"]), "body": body}


def _get(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return async_to_sync(_visit)(django_asgi_app, path, headers)


def test_static_files_are_served_in_the_sync_chain(db):
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert b".topbar" in b"".join(response.streaming_content)


@pytest.mark.django_db(transaction=True)
def test_static_files_pages_and_the_api_are_served_over_asgi(people):
    plotly = _get("/static/vendor/plotly/plotly.min.js")
    login = _get("/accounts/login/")
    missing = _get("/static/no-such-file.css")
    anonymous = _get("/api/v1/clients/")
    token = Token.objects.create(user=people["viewer"]).key
    clients = _get("/api/v1/clients/", [(b"authorization", f"Token {token}".encode())])

    assert plotly["status"] == 200 and b"javascript" in plotly["headers"][b"Content-Type"]
    assert len(plotly["body"]) > 1_000_000
    assert login["status"] == 200 and b'name="username"' in login["body"]
    assert missing["status"] == 404
    assert anonymous["status"] == 401
    assert clients["status"] == 200 and json.loads(clients["body"])["count"] == 0


seen: dict[str, int] = {}


class RecordThread:
    """Notes the thread the middleware chain runs in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seen["middleware"] = threading.get_ident()
        return self.get_response(request)


def record_view(request):
    from django.http import HttpResponse

    seen["view"] = threading.get_ident()
    return HttpResponse("ok")


urlpatterns = [path("thread/", record_view)]


def test_a_requests_middleware_and_view_share_one_worker_thread_off_the_event_loop(settings):
    from superhack.http_handler import OneHopASGIHandler

    settings.MIDDLEWARE = ["tests.test_asgi_http.RecordThread", *settings.MIDDLEWARE]
    settings.ROOT_URLCONF = "tests.test_asgi_http"
    handler = OneHopASGIHandler()
    loop_thread = {}

    async def visit():
        loop_thread["id"] = threading.get_ident()
        return await _visit(handler, "/thread/")

    seen.clear()
    response = async_to_sync(visit)()

    assert response["status"] == 200 and response["body"] == b"ok"
    assert not iscoroutinefunction(handler._middleware_chain)  # built in its sync mode
    assert seen["middleware"] == seen["view"] != loop_thread["id"]
