"""The billing-anomaly ensemble on the features the leak layer really scores (issue 12): the
check on data the ensemble was never designed or tuned on, beside bench/anomaly.py's public sets.

    .venv/bin/python bench/anomaly_billing.py [--clients 120 --months 30 --seeds 21 22 --leak-rate 0.10]
                                              [--save DIR] [--load DIR]

For each seed: a simulated MSP (integrations.simulator, in a child process as bench/leaks.py
does) imported into a fresh SQLite database in a temporary folder, a feature build, then the
rows insights.leaks.anomaly scores (`_frame()`: each client-month's KPIs against the client's
own median of the 6 months before). A row is an anomaly when truth.json plants a leak in that
client and month (any type: the ensemble never sees the type, and many leaks barely move the
month's KPIs, so the ROC-AUC here is modest for every detector). Printed per world: ROC-AUC of
each member, the ensemble and a plain Isolation Forest (StandardScaler, scikit-learn defaults),
mean of the --scoring-seeds. --save keeps each world's rows and labels as an .npz; --load reads
them back instead of simulating.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def world_rows(clients: int, months: int, seed: int, leak_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of one simulated world, in a database of its own that is then deleted."""
    import subprocess

    work = Path(tempfile.mkdtemp(prefix="superhack-anomaly-"))
    try:
        from bench.worlds import generate

        dump = work / "dump"
        generate(SimpleNamespace(clients=clients, months=months, seed=seed, leak_rate=leak_rate, churn_rate=0.12),
                 dump)
        out = work / "rows.npz"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(DJANGO_SETTINGS_MODULE="superhack.settings", SUPERHACK_VAR_DIR=str(work / "var"))
        subprocess.run([sys.executable, __file__, "--_extract", str(dump), str(out)], check=True, cwd=ROOT, env=env)
        data = np.load(out)
        return data["X"], data["y"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _extract(dump: Path, out: Path) -> None:
    """In a child process with its own database: import, build features, write rows and labels."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ML_BUILD_AFTER_SYNC = False
    settings.LEAKS_DETECT_AFTER_SYNC = False
    call_command("migrate", verbosity=0)
    from clients.models import Client
    from insights.leaks.anomaly import _frame
    from integrations.dump import import_dump
    from ml.features.build import build_features

    import_dump(dump, progress=False)
    build_features(trigger="bench", with_genome=False)
    keys, features, _, _ = _frame()
    external = dict(Client.objects.values_list("id", "external_id"))
    truth = json.loads((dump / "truth.json").read_text())
    leaky = {(leak["client_id"], leak["period"]) for leak in truth["leaks"]}
    labels = np.array([(external[c], m.strftime("%Y-%m")) in leaky for c, m in keys], dtype=int)
    np.savez(out, X=features, y=labels)


def plain_isolation_forest(X: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.ensemble import IsolationForest
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    standardised = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(X))
    return -IsolationForest(random_state=seed).fit(standardised).score_samples(standardised)


def report(name: str, X: np.ndarray, y: np.ndarray, seeds: list[int]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    from ml.anomaly import combine, member_scores

    aucs: dict[str, list[float]] = {}
    for seed in seeds:
        members = member_scores(X, random_state=seed)
        for member, scores in members.items():
            aucs.setdefault(member, []).append(roc_auc_score(y, scores))
        aucs.setdefault("ensemble", []).append(roc_auc_score(y, combine(members)))
        aucs.setdefault("plain IF", []).append(roc_auc_score(y, plain_isolation_forest(X, seed)))
    row = {k: float(np.mean(v)) for k, v in aucs.items()}
    print(f"{name:<22}{len(y):>7}{int(y.sum()):>7}" + "".join(f"{v:>11.3f}" for v in row.values()))
    return row


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--_extract":
        _extract(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[21, 22])
    parser.add_argument("--leak-rate", type=float, default=0.10)
    parser.add_argument("--scoring-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--save", type=Path, help="keep each world's rows and labels here")
    parser.add_argument("--load", type=Path, help="read saved rows and labels instead of simulating")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)

    worlds = []
    if args.load:
        for path in sorted(args.load.glob("*.npz")):
            data = np.load(path)
            worlds.append((path.stem, data["X"], data["y"]))
    else:
        for seed in args.seeds:
            X, y = world_rows(args.clients, args.months, seed, args.leak_rate)
            name = f"seed{seed}_rate{args.leak_rate}"
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                np.savez(args.save / f"{name}.npz", X=X, y=y)
            worlds.append((name, X, y))
    from ml.anomaly import MEMBERS

    columns = [*MEMBERS, "ensemble", "plain IF"]
    print(f"\n== Billing features (insights.leaks.anomaly), ROC-AUC of client-months with a planted leak, "
          f"mean of scoring seeds {args.scoring_seeds}")
    print(f"{'world':<22}{'rows':>7}{'leaky':>7}" + "".join(f"{c[:10]:>11}" for c in columns))
    rows = [report(name, X, y, args.scoring_seeds) for name, X, y in worlds]
    print(f"{'mean':<36}" + "".join(f"{np.mean([r[c] for r in rows]):>11.3f}" for c in columns))


if __name__ == "__main__":
    main()
