"""What the shared request budget costs per request, on each place it can live: the process
alone, the SQLite side file, PostgreSQL and Redis (the last two when their URLs are given).

    .venv/bin/python bench/budget.py [--calls 5000] [--database-url postgres://...] [--redis-url redis://...]

Each call reserves a slot the way every SuperOps and QuickBooks request does (one atomic
update where the budget lives); the interval is tiny, so nothing sleeps and the figure is the
bookkeeping alone, to set beside the 10-300 ms a request to the API itself takes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def per_call_us(slots, calls: int) -> list[float]:
    """Microseconds a reservation, in five rounds (the spread shows the machine's noise)."""
    key = f"bench:{uuid.uuid4().hex}"
    slots.reserve(key, 1e-9)  # the first call makes the row / connection
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls // 5):
            slots.reserve(key, 1e-9)
        rounds.append((time.perf_counter() - started) / (calls // 5) * 1e6)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="superhack-budget-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'db.sqlite3'}"
    os.environ.setdefault("SUPERHACK_VAR_DIR", str(work / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
    import django

    django.setup()
    from integrations.sync.budget import LocalSlots, RedisSlots, _postgresql, _sqlite_file

    places = {"process": LocalSlots(), "sqlite side file": _sqlite_file(str(work / "db.sqlite3-budget"))}
    if args.database_url.startswith(("postgres://", "postgresql://")):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        places["postgresql"] = _postgresql("default")
    if args.redis_url:
        places["redis"] = RedisSlots(args.redis_url)
    print(f"{'where the budget lives':24}{'median µs':>11}{'range µs':>16}")
    for name, slots in places.items():
        rounds = per_call_us(slots, args.calls)
        print(f"{name:24}{statistics.median(rounds):>11.1f}{min(rounds):>8.1f}-{max(rounds):<7.1f}")
    print(f"{args.calls} reservations each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
