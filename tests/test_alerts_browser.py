"""Live alerts in a real browser: Debian's Chromium, driven by Playwright, signs in to the
app served by daphne (its own process, SQLite file, Redis channel layer); an alert raised by
another process appears as a toast and the open count in the top bar changes without a
reload; after the server restarts, the page reconnects by itself and the next alert arrives.

Needs /usr/bin/chromium (`.ci/run` installs Debian's package with apt), the `playwright`
package (requirements.txt; its own browser downloads are not used) and Redis on
127.0.0.1:6379: with the in-memory layer no alert raised in another process could reach the
server's sockets, which is the point of this test. Skipped, saying which is missing, otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from .browser import NEEDS_CHROMIUM, ROOT, Site, free_port, launch, sign_in

REDIS_DB = 13  # a database of its own: CI's second pass runs every other test on database 0
PASSWORD = "pw-browser-123"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    *NEEDS_CHROMIUM,
    pytest.mark.skipif(not _redis_up(), reason="Redis is not answering on 127.0.0.1:6379: the server and the "
                                               "process raising the alert need the Redis channel layer"),
]

SETUP = f"""
import django
django.setup()
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
vera = User.objects.create_user("vera-viewer", "vera@msp.example", {PASSWORD!r})
vera.user_permissions.set(Permission.objects.filter(content_type__app_label="alerts")
                         | Permission.objects.filter(content_type__app_label="ml", codename="view_clientmonthkpi"))
"""
RAISE = """
import sys
import django
django.setup()
from insights.alerts.services import raise_alert
raise_alert("payment_reversal", "critical", None, sys.argv[1],
            "Payment 7781 of 2,500.00 USD was deleted in QuickBooks.", {"payment": 7781}, sys.argv[2])
"""


class AlertSite(Site):
    def raise_alert_elsewhere(self, title: str, key: str) -> None:
        """Raise an alert from another process, as a sync in the task worker would."""
        subprocess.run([sys.executable, "-c", RAISE, title, key], cwd=ROOT, env=self.env, check=True, timeout=60)


@pytest.fixture
def site(tmp_path):
    env = dict(os.environ, SUPERHACK_VAR_DIR=str(tmp_path), REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
               DJANGO_SETTINGS_MODULE="superhack.settings", Q_CLUSTER_NAME=f"alerts-browser-{os.getpid()}")
    env.pop("DATABASE_URL", None)  # its own SQLite file: the server and the raiser share it
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=120)
    server = AlertSite(env, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp_path / "static", ignore_errors=True)


def test_a_toast_appears_and_the_count_changes_without_a_reload(site):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            sign_in(page, site.url, "vera-viewer", PASSWORD)
            count = page.locator("#alert-count")
            expect(count).to_have_text("0")
            expect(count).to_have_attribute("data-live", "true", timeout=10_000)
            page.evaluate("window.notReloaded = true")  # gone if anything reloads the page

            site.raise_alert_elsewhere("Payment reversal at Harbor Dental: 2,500.00 USD", "browser-1")
            toast = page.locator(".alert-toast", has_text="Payment reversal at Harbor Dental")
            expect(toast).to_be_visible(timeout=10_000)
            expect(toast).to_contain_text("was deleted in QuickBooks")
            expect(count).to_have_text("1")

            site.stop()  # a deploy or a crash: the page notices and keeps trying
            expect(count).to_have_attribute("data-live", "false", timeout=10_000)
            site.start()
            expect(count).to_have_attribute("data-live", "true", timeout=20_000)
            site.raise_alert_elsewhere("Payment reversal at Litware: 900.00 USD", "browser-2")
            expect(page.locator(".alert-toast", has_text="Payment reversal at Litware")).to_be_visible(timeout=10_000)
            expect(count).to_have_text("2")
            assert page.evaluate("window.notReloaded") is True
        finally:
            browser.close()
