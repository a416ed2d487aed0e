"""The dashboards in a real browser: Debian's Chromium, driven by Playwright, against the app
under daphne (its own process and SQLite file) holding a small simulated MSP whose features
were built, models trained and leaks detected, as `make run` leaves it.

A manager signs in, sees the portfolio's charts drawn, clicks into a client, sees the genome
radar and the margin chart drawn, follows a figure to the rows it was computed from (their
total is the figure), and confirms a leak (its status changes). A viewer sees the same leak
and the models page without a single action button.

Needs /usr/bin/chromium (`.ci/run` installs Debian's package with apt) and the `playwright`
package; skipped, saying which is missing, otherwise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from .browser import NEEDS_CHROMIUM, ROOT, Site, free_port, launch, sign_in

pytestmark = NEEDS_CHROMIUM
PASSWORD = "pw-browser-123"

# The world ends with the last full month before today, so the pages' windows hold it.
SETUP = f"""
import django
django.setup()
from pathlib import Path
from django.contrib.auth.models import User
from django.core.management import call_command
from insights.roles import grant
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
call_command("migrate", interactive=False, verbosity=0)
world = simulated_world(Path(__import__("sys").argv[1]), clients=30, months=24, seed=31, leak_rate=0.3,
                        end_month=None)
import_dump(world, progress=False)
call_command("build_features", verbosity=0)
try:  # the pages show a model's figures when one trained; the test needs none of them
    call_command("train", "--kind", "all", "--no-progress", verbosity=0)
except Exception as error:
    print("training:", error)
call_command("detect_leaks", verbosity=0)
grant(User.objects.create_user("mia-manager", "mia@msp.example", {PASSWORD!r}), "manager")
grant(User.objects.create_user("val-viewer", "val@msp.example", {PASSWORD!r}), "viewer")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboards-browser")
    env = dict(os.environ, SUPERHACK_VAR_DIR=str(folder), MODEL_DIR=str(folder / "models"),
               DJANGO_SETTINGS_MODULE="superhack.settings")
    env.pop("DATABASE_URL", None)  # its own SQLite file, made by SETUP and served by daphne
    env.pop("REDIS_URL", None)  # in-memory layers: nothing here crosses processes
    subprocess.run([sys.executable, "-c", SETUP, str(folder / "world")], cwd=ROOT, env=env, check=True, timeout=600)
    server = Site(env, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def money(text: str) -> float:
    """A shown amount as a number: "$1,234.50" or "-1,234.50" or "(1,234.50)"."""
    cleaned = re.sub(r"[^\d.\-()]", "", text)
    negative = cleaned.startswith("-") or cleaned.startswith("(")
    value = float(cleaned.strip("-()"))
    return -value if negative else value


def drawn(page, selector: str) -> None:
    """Plotly drew the chart: its SVG is in the div and has a size."""
    from playwright.sync_api import expect

    svg = page.locator(f"{selector} .main-svg").first
    expect(svg).to_be_visible(timeout=15_000)
    box = svg.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, (selector, box)


def test_a_manager_goes_from_the_portfolio_to_a_clients_rows_and_confirms_a_leak(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, site.url, "mia-manager", PASSWORD)

    drawn(page, "#portfolio-trends")
    drawn(page, "#profitability-quadrant")

    # Into the portfolio's best client.
    page.locator("#best-clients a[href^='/clients/']").first.click()
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    drawn(page, "#genome-radar")
    drawn(page, "#margin-trend")

    # A revenue figure in the margin table (opened as a person would), then the invoice lines
    # it was computed from.
    page.locator("#margin-trend summary").click()
    link = page.locator("#margin-trend a[href*='/sources/'][href$='/revenue/']").last
    shown = money(link.inner_text())
    link.click()
    page.wait_for_url(re.compile(r"/sources/\d{4}-\d{2}/revenue/$"))
    rows = page.locator("#source-rows tbody tr")
    assert rows.count() > 0
    total = money(page.locator("#source-rows tfoot td.num").last.inner_text())
    assert total == pytest.approx(shown, abs=0.01)
    lines = sum(float(cell.get_attribute("data-amount")) for cell in page.locator("#source-rows td[data-amount]").all())
    assert lines == pytest.approx(total, abs=0.01)

    # An open leak, confirmed.
    page.goto(f"{site.url}/leaks/?status=open")
    leak = page.locator("table a[href]").evaluate_all(
        "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/leaks\\/\\d+\\/$/.test(h))")
    assert leak, "no open leak listed"
    page.goto(f"{site.url}{leak[0]}")
    status = page.locator("#leak-status")
    expect(status).to_have_attribute("data-status", "open")
    page.locator("button[name=action][value=confirm]").click()
    expect(status).to_have_attribute("data-status", "confirmed")
    expect(status).to_have_text("Confirmed")
    assert not errors, errors


def test_a_viewer_sees_the_figures_and_no_action_button(site, browser):
    page = browser.new_page()
    sign_in(page, site.url, "val-viewer", PASSWORD)
    drawn(page, "#portfolio-trends")

    page.goto(f"{site.url}/leaks/")
    leak = page.locator("table a[href]").evaluate_all(
        "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/leaks\\/\\d+\\/$/.test(h))")
    page.goto(f"{site.url}{leak[0]}")
    assert page.locator("#leak-status").is_visible()
    assert page.locator("button[name=action]").count() == 0
    assert page.locator("form[method=post] button").filter(has_not_text="Log out").count() == 0

    page.goto(f"{site.url}/models/")
    assert page.locator("h1").count() == 1
    assert page.locator("button[name=action]").count() == 0
