"""The churn frame of a simulated world, built once and kept as a pickle, so churn design
experiments (bench/churn_design.py) refit models in seconds instead of re-importing worlds.

    .venv/bin/python bench/churn_frames.py --seed 1 --clients 120 --months 30 [--out var/churn-frames]

Each world goes into its own SQLite file under a temporary var directory (SUPERHACK_VAR_DIR),
never the project's database: migrate, simulate (the churn test's options: the simulator's
default churn rate, leak rate 0.1, last month October 2026), import, build the KPIs, then
`ml.estimators.churn.dataset.build_frame().training()` (labelled rows only) is pickled to
`<out>/churn-s<seed>-<clients>x<months>.pkl`. The label is the tenant-data rule of dataset.py,
never the simulator's truth file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def frame_path(out: Path, seed: int, clients: int, months: int) -> Path:
    return Path(out) / f"churn-s{seed}-{clients}x{months}.pkl"


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "var" / "churn-frames"))
    args = parser.parse_args(argv)
    target = frame_path(Path(args.out), args.seed, args.clients, args.months)
    if target.exists():
        print(f"{target} exists")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)

    scratch = Path(tempfile.mkdtemp(prefix=f"churn-world-{args.seed}-"))
    os.environ["SUPERHACK_VAR_DIR"] = str(scratch)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from integrations.dump import import_dump
    from integrations.sandbox.testing import simulated_world
    from integrations.simulator.priors import DEFAULT_CHURN_RATE
    from ml.estimators.churn.dataset import build_frame
    from ml.features.build import build_features

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    folder = simulated_world(scratch / "msp", clients=args.clients, months=args.months, seed=args.seed,
                             churn_rate=DEFAULT_CHURN_RATE)
    import_dump(folder, progress=False)
    build_features(trigger="bench", with_genome=False)
    labelled = build_frame().training().reset_index(drop=True)
    labelled.to_pickle(target)
    print(f"{target}: {len(labelled)} labelled rows, {int(labelled['label'].sum())} churn rows, "
          f"{time.perf_counter() - started:.0f} s (scratch {scratch})")
    return target


if __name__ == "__main__":
    main()
