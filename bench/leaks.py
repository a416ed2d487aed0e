"""Benchmark of leak detection on a 500-client x 36-month simulated MSP.

    .venv/bin/python bench/leaks.py [--clients 500 --months 36 --seed 7 --leak-rate 0.05]
                                    [--dump DIR] [--db FILE] [--keep] [--no-anomaly]

Simulates the world with integrations.simulator (in a child process, as bench/import_dump.py
does), imports it with integrations.dump.import_dump into a fresh SQLite database in a
temporary folder (or reuses `--db`, an already loaded one), then times `detect_leaks()`:
first run (every finding new), second run (nothing new: the idempotent refresh), and, unless
--no-anomaly, a feature build followed by the billing_anomaly rule. Prints seconds per rule,
findings and estimated amount per type, and CPU seconds beside wall time (the machine may be
shared). Issue 12's goal: detection under 60 s.

Then, unless --no-alerts, the other half of issue 12's bench: bench/alerts.py in a process of
its own (its own database), the latency from a committed row to the websocket message over 200
events on the in-memory layer and, when Redis answers on 127.0.0.1:6379, across processes
(goal: under 1 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.worlds import generate  # noqa: E402  (after the path is set)


def timed(func, *args, **kwargs):
    started, cpu = time.perf_counter(), time.process_time()
    value = func(*args, **kwargs)
    return value, time.perf_counter() - started, time.process_time() - cpu


def print_report(title: str, report, wall: float, cpu: float) -> None:
    print(f"\n{title}: {wall:.1f} s wall, {cpu:.1f} s CPU (run {report.run_id})")
    print(f"{'rule':<28}{'seconds':>9}{'findings':>10}{'new':>8}{'updated':>9}{'amount':>16}")
    for r in report.results:
        if r.ok:
            print(f"{r.name:<28}{r.seconds:>9.2f}{r.findings:>10,}{r.created:>8,}{r.updated:>9,}"
                  f"{float(r.amount):>16,.2f}")
        else:
            print(f"{r.name:<28}{r.seconds:>9.2f}  FAILED: {r.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--leak-rate", type=float, default=0.05)
    parser.add_argument("--churn-rate", type=float, default=0.12)
    parser.add_argument("--dump", type=Path, help="import this dump folder instead of simulating one")
    parser.add_argument("--db", type=Path, help="an SQLite file already loaded: skip simulating and importing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (dump and database)")
    parser.add_argument("--no-anomaly", action="store_true", help="skip the feature build and billing_anomaly")
    parser.add_argument("--no-alerts", action="store_true", help="skip the alert latency (bench/alerts.py)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="superhack-leaks-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    if args.db:
        os.environ["SUPERHACK_VAR_DIR"] = str(args.db.parent)
    else:
        os.environ["SUPERHACK_VAR_DIR"] = str(work / "var")
    try:
        run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not args.no_alerts:
        alert_latency()


def alert_latency() -> None:
    """bench/alerts.py, in memory and (when Redis answers) across processes."""
    import socket

    runs = [[]]
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        runs.append(["--redis"])
    except OSError:
        print("\n(Redis does not answer on 127.0.0.1:6379: alert latency across processes skipped)")
    for extra in runs:
        print(f"\n== Alert latency: committed row -> websocket message ({'Redis' if extra else 'in-memory'} layer)",
              flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "alerts.py"), "--events", "200", *extra], check=False)


def run(args, work: Path) -> None:
    dump = args.dump
    if args.db is None and dump is None:
        dump = work / "dump"
        seconds = generate(args, dump)
        print(f"simulated {args.clients} clients x {args.months} months (seed {args.seed}, leak rate "
              f"{args.leak_rate}) in {seconds:.1f} s")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from clients.models import Client, Invoice, OfferedItem, Worklog

    settings.ML_BUILD_AFTER_SYNC = False  # time detection alone
    settings.LEAKS_DETECT_AFTER_SYNC = False
    call_command("migrate", verbosity=0)
    if args.db is None:
        from integrations.dump import import_dump

        _, wall, cpu = timed(import_dump, dump, progress=False)
        print(f"imported in {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"world: {Client.objects.count():,} clients, {Worklog.objects.count():,} worklogs, "
          f"{Invoice.objects.count():,} invoices, {OfferedItem.objects.count():,} offered items")

    from insights.leaks import all_rules, detect_leaks

    rules = sorted(n for n in all_rules() if n != "billing_anomaly")
    report, wall, cpu = timed(detect_leaks, rules=rules, trigger="bench")
    print_report("detect_leaks, first run (reconciliation rules)", report, wall, cpu)
    report, wall, cpu = timed(detect_leaks, rules=rules, trigger="bench")
    print_report("detect_leaks, second run (nothing new)", report, wall, cpu)
    if not args.no_anomaly:
        from ml.features.build import build_features

        _, wall, cpu = timed(build_features, trigger="bench", with_genome=False)
        print(f"\nfeature build (for billing_anomaly): {wall:.1f} s wall, {cpu:.1f} s CPU")
        report, wall, cpu = timed(detect_leaks, rules=["billing_anomaly"], trigger="bench")
        print_report("billing_anomaly", report, wall, cpu)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
