"""Latency from a committed row to the alert's websocket message: median, p95 and max over
--events anomalies (goal: under 1 s).

    .venv/bin/python bench/alerts.py [--events 200] [--clients 50]               # in-memory layer
    .venv/bin/python bench/alerts.py --redis [redis://127.0.0.1:6379/14]       # across processes

Each event commits one anomalous row through the code a sync runs, in turn: an invoice ten
times the client's usual through the sync engine's `load_page` (QuickBooks payload, mapping,
loader), a payment marked deleted through `mark_deleted`, and a 10-hour worklog on a kind that
takes 20 minutes, written and announced as the engine does. The clock starts just before the
transaction commits and stops when the socket has the message: the commit, the detectors'
baseline queries, raising the alert and the push are all inside.

- In memory (default): the socket is served in this process through the project's ASGI
  application (Channels' WebsocketCommunicator), the rows are committed in a worker thread.
- --redis: the deployment's shape. daphne serves the socket in a process of its own, this
  process commits the rows (as a sync in the task worker does) and the push crosses Redis;
  the socket is a real websocket client in a thread here, so both clocks are one.

A fresh SQLite database in a temporary folder (or --database-url) holds a small book: per
client 24 monthly invoices, 90 days of tickets and worklogs of six kinds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KINDS = ("Password reset", "Printer", "Email", "Network", "Backup", "New user")
ALERT_KINDS = {"invoice": "invoice_off_pattern", "payment": "payment_reversal", "worklog": "long_worklog"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--redis", nargs="?", const="redis://127.0.0.1:6379/14", default="",
                        help="use the Redis layer across processes (default URL: %(const)s)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="superhack-bench-alerts-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["SUPERHACK_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    os.environ["Q_CLUSTER_NAME"] = f"bench-alerts-{os.getpid()}"
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    else:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    book = build_book(args.clients, random.Random(args.seed))
    user, session = make_viewer()
    print(f"database {os.environ['DATABASE_URL']}; {args.clients} clients, {book['rows']:,} rows of history "
          f"(set up in {time.monotonic() - started:.1f} s)")
    events = [make_event(i, book) for i in range(args.events)]

    if args.redis:
        latencies, callbacks = across_processes(events, session, args.redis)
        layer = f"Redis layer ({args.redis}), daphne in its own process, a real websocket client"
    else:
        latencies, callbacks = in_process(events, session)
        layer = "in-memory layer, one process (WebsocketCommunicator)"
    report(layer, latencies, callbacks, args.events)
    for kind in ("invoice", "payment", "worklog"):
        mine = [lat for lat, event in zip(latencies, events, strict=True) if event.kind == kind]
        print(f"  {kind}: median {statistics.median(mine) * 1000:.1f} ms over {len(mine)} events")


# --- the book ------------------------------------------------------------------------------
def build_book(clients: int, rng: random.Random) -> dict:
    from django.utils import timezone

    from clients.models import Client, Customer, Invoice, Ticket, Worklog

    now = timezone.now()
    today = now.date()
    made = Client.objects.bulk_create([Client(source="superops", external_id=f"c{i}", name=f"Client {i:03d}")
                                       for i in range(clients)])
    customers = Customer.objects.bulk_create([
        Customer(source="quickbooks", external_id=f"q{c.pk}", display_name=c.name, client=c) for c in made])
    usual = {c.pk: rng.choice([800, 1500, 2500, 4000, 9000]) for c in made}
    invoices = [Invoice(source="quickbooks", external_id=f"h{c.pk}-{m}", customer=cu, client=c,
                        txn_date=today - timedelta(days=30 * m), total=Decimal(usual[c.pk]) * Decimal(
                            str(round(rng.uniform(0.95, 1.08), 2))), balance=0)
                for c, cu in zip(made, customers, strict=True) for m in range(1, 25)]
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    tickets = [Ticket(source="superops", external_id=f"t{c.pk}-{d}", client=c, subject="Help",
                      category=KINDS[d % len(KINDS)], created_at=now - timedelta(days=d, hours=rng.uniform(0, 23)))
               for c in made for d in range(1, 91)]
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    stored = list(Ticket.objects.values_list("pk", "client_id", "category"))
    Worklog.objects.bulk_create([
        Worklog(source="superops", external_id=f"w{pk}", client_id=client_id, ticket_id=pk, work_module="TICKET",
                work_date=today - timedelta(days=1 + pk % 89), minutes=rng.choice([10, 15, 20, 25, 30, 45]))
        for pk, client_id, _ in stored], batch_size=2000)
    by_client: dict[int, int] = {}
    for pk, client_id, category in stored:
        if category == "Password reset":
            by_client.setdefault(client_id, pk)
    return {"clients": made, "customers": customers, "usual": usual, "reset_ticket": by_client,
            "rows": len(invoices) + 2 * len(tickets) + 2 * clients}


def make_viewer():
    from django.contrib.auth.models import Permission, User
    from django.test import Client as HttpClient

    user = User.objects.create_user("bench-viewer", "bench@msp.example", "pw-bench-123")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="alerts", codename="view_alert"))
    http = HttpClient()
    http.force_login(user)
    return user, http.cookies["sessionid"].value


# --- the events ----------------------------------------------------------------------------
def make_event(i: int, book: dict):
    """A function that commits one anomalous row and returns the moment just before the commit."""
    from django.db import transaction
    from django.utils import timezone

    from clients.models import Payment, SyncRun, Worklog
    from clients.signals import announce_rows
    from integrations.sync import engine

    client = book["clients"][i % len(book["clients"])]
    customer = book["customers"][i % len(book["customers"])]
    kind = ("invoice", "payment", "worklog")[i % 3]
    today = timezone.localdate()
    if kind == "payment":  # made before the clock runs: the deletion is the event
        payment = Payment.objects.create(source="quickbooks", external_id=f"pay{i}", customer=customer,
                                         client=client, txn_date=today, total=Decimal(1200))

    def commit() -> float:
        run = SyncRun.objects.create(source="quickbooks", trigger=SyncRun.Trigger.WEBHOOK)
        with transaction.atomic():
            if kind == "invoice":
                record = {"Id": f"b{i}", "DocNumber": f"B{i}", "TxnDate": today.isoformat(),
                          "TotalAmt": book["usual"][client.pk] * 10, "Balance": book["usual"][client.pk] * 10,
                          "CustomerRef": {"value": customer.external_id}}
                engine.load_page(run, "quickbooks", "Invoice", [record], lambda r: r["Id"], None)
            elif kind == "payment":
                engine.mark_deleted(run, "quickbooks", "Payment", [payment.external_id])
            else:
                worklog = Worklog.objects.create(
                    source="superops", external_id=f"long{i}", client=client, ticket_id=book["reset_ticket"][client.pk],
                    work_module="TICKET", work_date=today, minutes=600)
                announce_rows(Worklog, Worklog.objects.filter(pk=worklog.pk), run=run)
            return time.perf_counter()  # the commit, the detectors and the push all come after this

    commit.kind = kind
    commit.alert_kind = ALERT_KINDS[kind]
    return commit


# --- in one process ------------------------------------------------------------------------
def in_process(events, session: str) -> tuple[list[float], list[float]]:
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from superhack.asgi import application

    def timed(event):
        t0 = event()
        return t0, time.perf_counter()

    async def run():
        com = WebsocketCommunicator(application, "/ws/alerts/", headers=[
            (b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={session}".encode())])
        connected, code = await com.connect()
        assert connected, f"the socket was refused ({code})"
        await com.receive_json_from(5)
        latencies, callbacks = [], []
        for event in events:
            waiting = asyncio.ensure_future(com.receive_json_from(10))
            t0, done = await database_sync_to_async(timed)(event)
            message = await waiting
            arrived = time.perf_counter()
            assert message["type"] == "alert" and message["alert"]["kind"] == event.alert_kind, message
            latencies.append(arrived - t0)
            callbacks.append(done - t0)
        await com.disconnect()
        return latencies, callbacks

    return async_to_sync(run)()


# --- across processes ----------------------------------------------------------------------
def across_processes(events, session: str, redis_url: str) -> tuple[list[float], list[float]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "superhack.asgi:application"], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/accounts/login/", server)
        arrivals: list[tuple[float, dict]] = []
        got = threading.Condition()
        ready = threading.Event()
        client = threading.Thread(target=listen, args=(port, session, arrivals, got, ready), daemon=True)
        client.start()
        if not ready.wait(15):
            raise RuntimeError("the websocket client never connected")
        latencies, callbacks = [], []
        for event in events:
            seen = len(arrivals)
            t0 = event()
            done = time.perf_counter()
            with got:
                if not got.wait_for(lambda seen=seen: len(arrivals) > seen, timeout=10):
                    raise RuntimeError(f"no message for event {len(latencies)} ({event.kind}) within 10 s")
            arrived, message = arrivals[seen]
            assert message["type"] == "alert" and message["alert"]["kind"] == event.alert_kind, message
            latencies.append(arrived - t0)
            callbacks.append(done - t0)
        return latencies, callbacks
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"daphne stopped: {server.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("daphne never answered")


def listen(port: int, session: str, arrivals: list, got: threading.Condition, ready: threading.Event) -> None:
    """A minimal websocket client (RFC 6455, text frames, no extensions) in its own thread,
    stamping each message as its last byte arrives. Hand-made because the websocket clients
    at hand (autobahn) would share Twisted with daphne's import in this process."""
    import base64
    import json
    import struct

    sock = socket.create_connection(("127.0.0.1", port), timeout=None)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/alerts/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Origin: http://127.0.0.1:{port}\r\nCookie: sessionid={session}\r\n\r\n").encode())
    reader = sock.makefile("rb")
    status = reader.readline()
    if b" 101 " not in status:
        raise RuntimeError(f"websocket refused: {status!r}")
    while reader.readline() not in (b"\r\n", b""):
        pass
    while True:
        head = reader.read(2)
        if len(head) < 2:
            return
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack(">H", reader.read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", reader.read(8))[0]
        data = reader.read(length)
        arrived = time.perf_counter()
        if opcode == 0x8:  # close
            return
        if opcode == 0x9:  # ping: answer with a masked pong, or daphne drops us
            mask = os.urandom(4)
            sock.sendall(bytes([0x8A, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
            continue
        message = json.loads(data)
        if message["type"] == "count":
            ready.set()
            continue
        with got:
            arrivals.append((arrived, message))
            got.notify_all()


# --- figures -------------------------------------------------------------------------------
def report(layer: str, latencies: list[float], callbacks: list[float], events: int) -> None:
    def figures(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        return (f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                f"max {ordered[-1] * 1000:.1f} ms")

    p95 = sorted(latencies)[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    print(f"{layer}: {events} events (invoice 10x the usual via load_page, payment deleted via mark_deleted, "
          "10 h worklog on a 20-minute kind)")
    print(f"  committed row -> websocket message: {figures(latencies)}")
    print(f"  of which commit + detectors + raise + push (the committing thread): {figures(callbacks)}")
    print(f"  goal: under 1 s at p95: {'met' if p95 < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
