"""Records per second of a full live sync of a simulated 200-client x 24-month MSP, served
by the sandbox over loopback HTTP, next to `import_dump` of the same world in the same run.

    .venv/bin/python bench/sync.py [--clients 200] [--months 24] [--seed 7] [--keep DIR]

Uses a fresh SQLite database in a temporary folder unless --database-url is given (a
PostgreSQL URL whose database may be emptied). The sandbox runs in its own process
(`manage.py runsandbox`) so server and client do not share one interpreter lock. Our own
request throttles are off: the figure is what the code does, not what SuperOps' 800 and
QuickBooks' 500 requests a minute would allow (the request counts are printed for that).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", help="keep the world and database in this folder")
    parser.add_argument("--no-verify", action="store_true", help="skip the row-for-row comparison")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="superhack-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.setdefault("SUPERHACK_VAR_DIR", str(work / "var"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from integrations.dump import dump_as_of, import_dump
    from integrations.loader import LOAD_ORDER
    from integrations.sandbox.testing import connect_quickbooks, point_settings_at, wipe_synced_data
    from integrations.sandbox.world import World
    from integrations.simulator import simulate
    from integrations.sync.runs import sync_source
    from integrations.sync.snapshot import differences, snapshot

    world_dir = work / "world"
    if not (world_dir / "manifest.json").exists():
        started = time.monotonic()
        simulate(clients=args.clients, months=args.months, seed=args.seed, leak_rate=0.1, churn_rate=0.1,
                 out_dir=world_dir)
        print(f"simulated {args.clients} clients x {args.months} months in {time.monotonic() - started:.1f} s")
    call_command("migrate", verbosity=0)
    world = World.load(world_dir)
    synced_records = sum(len(world.superops[name]) for source, name in LOAD_ORDER if source == "superops") + \
        sum(len(world.quickbooks[name]) for source, name in LOAD_ORDER if source == "quickbooks")
    as_of = dump_as_of(world_dir)

    wipe_synced_data()
    started = time.monotonic()
    run = import_dump(world_dir, progress=False)
    dump_seconds = time.monotonic() - started
    import json

    interactions = sum(len(json.loads(text).get("interactions") or []) for text in world.local.values())
    dump_records = synced_records + interactions  # import_dump also loads the local interactions
    dump_snapshot = None if args.no_verify else snapshot()
    print(f"import_dump: run #{run.pk} {run.status}, {run.created} rows created in {dump_seconds:.1f} s")

    wipe_synced_data()
    server = subprocess.Popen([sys.executable, "manage.py", "runsandbox", str(world_dir), "--port", "0"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        point_settings_at(settings, url, timeout=60)
        connect_quickbooks()
        started = time.monotonic()
        runs = [sync_source(source, "command", full=True, today=as_of) for source in ("superops", "quickbooks")]
        sync_seconds = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
    for r in runs:
        print(f"sync {r.source}: run #{r.pk} {r.status} {r.error}, {r.created} created, {r.set_aside} set aside")
    pages_so = sum(-(-len(world.superops[n]) // 100) or 1 for s, n in LOAD_ORDER if s == "superops")
    pages_qb = sum(len(world.quickbooks[n]) // 1000 + 1 for s, n in LOAD_ORDER if s == "quickbooks")
    equal = "not checked"
    if dump_snapshot is not None:
        diff = differences(dump_snapshot, snapshot())
        equal = "yes" if not diff else f"NO ({len(diff)} differences, e.g. {diff[0]})"

    dump_rate, sync_rate = dump_records / dump_seconds, synced_records / sync_seconds
    print()
    print(f"world: {args.clients} clients x {args.months} months, seed {args.seed}: {synced_records:,} SuperOps + "
          f"QuickBooks records ({pages_so} SuperOps pages of 100, {pages_qb} QuickBooks pages of 1,000)")
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}")
    print(f"{'load':<40}{'seconds':>10}{'records/s':>12}")
    print(f"{'import_dump (files)':<40}{dump_seconds:>10.1f}{dump_rate:>12,.0f}")
    print(f"{'full sync (sandbox over loopback HTTP)':<40}{sync_seconds:>10.1f}{sync_rate:>12,.0f}")
    print(f"sync / import_dump speed: {sync_rate / dump_rate:.2f} (goal: at least 0.5)")
    print(f"same rows as import_dump: {equal}")
    print(f"at the published limits the sync's {pages_so} SuperOps requests need at least "
          f"{pages_so / 800:.1f} min and its {pages_qb} QuickBooks requests {pages_qb / 500:.1f} min")


if __name__ == "__main__":
    main()
