"""`python manage.py simulate_msp`: write a simulated MSP as a dump folder of API pages."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.simulator import simulate
from integrations.simulator.priors import DEFAULT_CHURN_RATE, DEFAULT_LEAK_RATE


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"--end {value!r} is not YYYY-MM") from exc


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share <= 1:
        raise CommandError(f"{value!r} is not between 0 and 1")
    return share


class Command(BaseCommand):
    help = "Simulate an MSP (SuperOps + QuickBooks) and write it as a dump folder for import_dump."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=120)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--leak-rate", type=_share, default=DEFAULT_LEAK_RATE,
                            help="share of billing opportunities that leak (default 0.05)")
        parser.add_argument("--churn-rate", type=_share, default=DEFAULT_CHURN_RATE,
                            help="annual share of clients lost (default 0.12)")
        parser.add_argument("--end", type=_month, default=None,
                            help="last month of the world, YYYY-MM (default: last full month)")
        parser.add_argument("--bad-records", type=int, default=0,
                            help="add this many deliberately broken records (listed in truth.json)")
        parser.add_argument("--out", required=True, help="dump folder to write")

    def handle(self, *args, clients, months, seed, leak_rate, churn_rate, end, bad_records, out, **options):
        if clients < 1 or months < 1:
            raise CommandError("--clients and --months must be at least 1")
        started = time.perf_counter()
        folder = simulate(clients=clients, months=months, seed=seed, leak_rate=leak_rate, churn_rate=churn_rate,
                          out_dir=Path(out), end_month=end, bad_records=bad_records)
        self.stdout.write(f"Wrote {folder} ({clients} clients x {months} months, seed {seed}) "
                          f"in {time.perf_counter() - started:.1f}s")
