"""Static files come from the project (never a CDN), in the sync chain (tests, WSGI) and in
the async one daphne runs; in the async chain the middleware stays async, so a page or an API
call is not bounced through extra threads (superhack/static_files.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.test import AsyncClient, Client

from superhack.static_files import StaticFilesMiddleware


def test_static_files_are_served_in_the_sync_chain(db):
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert b".topbar" in b"".join(response.streaming_content)


@pytest.mark.django_db(transaction=True)
def test_static_files_and_pages_are_served_in_the_async_chain():
    async def visit():
        browser = AsyncClient()
        return (await browser.get("/static/vendor/plotly/plotly.min.js"), await browser.get("/accounts/login/"),
                await browser.get("/static/no-such-file.css"))

    plotly, login, missing = async_to_sync(visit)()
    assert plotly.status_code == 200 and "javascript" in plotly["Content-Type"]
    assert login.status_code == 200 and b'name="username"' in login.content
    assert missing.status_code == 404


def test_the_middleware_is_async_in_an_async_chain_and_sync_in_a_sync_one():
    async def inner(request):
        return None

    def sync_inner(request):
        return None

    assert iscoroutinefunction(StaticFilesMiddleware(inner))
    assert not iscoroutinefunction(StaticFilesMiddleware(sync_inner))
