"""Simulating a bench's world in a child process (so the bench's own process measures only what
it times, and its peak memory is not the simulator's): `generate(args, out)` with args holding
clients, months, seed, leak_rate and churn_rate; returns the seconds it took."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GENERATE = """
import os, sys, django
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
django.setup()
from integrations.simulator import simulate
print(simulate(clients={clients}, months={months}, seed={seed}, leak_rate={leak_rate}, churn_rate={churn_rate},
               out_dir={out!r}))
"""


def generate(args, out: Path) -> float:
    started = time.perf_counter()
    code = GENERATE.format(root=str(ROOT), clients=args.clients, months=args.months, seed=args.seed,
                           leak_rate=args.leak_rate, churn_rate=args.churn_rate, out=str(out))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started
