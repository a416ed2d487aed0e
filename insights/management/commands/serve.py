"""Serve the site with daphne and run a django-q2 worker beside it, until Ctrl-C.

django-q2's cluster hangs on SIGTERM, so both children are stopped with SIGINT (and
killed only if they ignore it). Each child runs in its own session so one Ctrl-C in the
terminal reaches them once, through us, in a known order.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve SuperHack with daphne on 127.0.0.1 plus a background-task worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Serve only, without the django-q2 worker")

    def handle(self, *args, host: str, port: int, no_worker: bool, **options):
        stop = {"requested": False}

        def request_stop(signum, frame):
            stop["requested"] = True

        # Installed before the children start: a handler resets to the default on exec,
        # whereas an inherited "ignore" (as in a background shell job) would make the
        # children deaf to Ctrl-C.
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        children: list[tuple[str, subprocess.Popen]] = []
        daphne = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "superhack.asgi:application"]
        children.append(("web server", subprocess.Popen(daphne, cwd=settings.BASE_DIR, start_new_session=True)))
        if not no_worker:
            worker = [sys.executable, "manage.py", "qcluster"]
            children.append(("task worker", subprocess.Popen(worker, cwd=settings.BASE_DIR, start_new_session=True)))
        self.stdout.write(self.style.SUCCESS(f"SuperHack is at http://{host}:{port}/  (Ctrl-C to stop)"))

        exit_code = 0
        while not stop["requested"]:
            for name, proc in children:
                if proc.poll() is not None:
                    self.stderr.write(f"The {name} stopped (exit code {proc.returncode}); stopping the rest.")
                    exit_code = proc.returncode or 1
                    stop["requested"] = True
            time.sleep(0.3)
        self.stdout.write("Stopping…")
        for _name, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for name, proc in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} ignored Ctrl-C for 15 s; killing it.")
                proc.kill()
                proc.wait()
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
