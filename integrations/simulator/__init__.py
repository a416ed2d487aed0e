"""A simulated MSP: clients, agreements, service desk, books, leaks and churn, written as a
dump folder of SuperOps and QuickBooks API pages (see integrations/PAYLOADS.md).

`simulate(...)` is the one entry point; `python manage.py simulate_msp` calls it (a command of
the sandbox app: code under integrations/ never imports the simulator).
"""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

from .timeline import default_end_month


def simulate(clients: int, months: int, seed: int, leak_rate: float, churn_rate: float, out_dir: Path,
             end_month: date | None = None, bad_records: int = 0) -> Path:
    """Generate a world of `clients` clients over `months` months ending with `end_month`
    (default: the last full calendar month before today) into `out_dir`; returns the folder.

    The same arguments give byte-identical files. `leak_rate` is the share of billing
    opportunities that leak, `churn_rate` the annual share of clients lost, `bad_records`
    the number of deliberately broken records added for import tests.
    """
    from .engine import Simulation

    end = (end_month or default_end_month(date.today())).replace(day=1)
    # Millions of short-lived records: collect garbage rarely (the engine breaks its own
    # reference cycles each month), which saves a tenth of the run time.
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        return Simulation(clients, months, seed, leak_rate, churn_rate, Path(out_dir), end, bad_records).run()
    finally:
        gc.set_threshold(*thresholds)


__all__ = ["simulate"]
