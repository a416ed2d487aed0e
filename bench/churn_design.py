"""Churn ensemble design on development worlds: how should the members' predictions be combined?

    .venv/bin/python bench/churn_design.py --frames var/churn-frames/churn-s1-120x30.pkl ...

For each world frame (bench/churn_frames.py) and each origin (the churn trainer's split: the
last 4 labelled months held out, every earlier month trains; `--origins 2` also holds out the 4
months before those, training on what precedes them), the members are fitted once exactly as
`ChurnFamily` fits them (time-ordered inner split `MonthSplit`, out-of-fold probabilities,
Platt calibration), and every combiner below is applied to the same calibrated member
probabilities: held-out PR-AUC (and ROC-AUC, Brier) per combiner and per member, and the mean
over worlds of the ensemble's PR-AUC minus logistic regression's.

`floor_half` (a non-negative logistic stack of the calibrated members' log-odds, C=1, each
member's share of the weights at least half an equal one; ml.churn.stacking.Stacker(floor=1/6)
fits the same) is the design ChurnFamily uses since 2026-12-01, chosen by `RULE` (below,
written before the comparison) among the combinations the churn reasons can read, on 16
development worlds, three windows each:

    .venv/bin/python bench/churn_design.py --origins 3 --frames \
        var/churn-frames/churn-s{1,2,3}-120x30.pkl var/churn-frames/churn-s{21,22,23,24}-300x30.pkl \
        var/churn-frames/churn-s11-400x30.pkl var/churn-frames/churn-s10{1,2,3,4,5,6,7,8}-300x30.pkl

    48 windows, 668 held-out churners (median 14 a window); mean held-out PR-AUC:
    logistic regression 0.189, MLP 0.188, LightGBM 0.259; plain average 0.263, equal weights
    (recalibrated) 0.261, stacks shrunk toward equal weights 0.265 (C=0.1 and C=0.01), free
    non-negative stack (`stack_pos`, the design before) 0.266, floored stack 0.269. Ahead of
    logistic regression: floored stack 44 of 48 windows, 16 of 16 worlds, worst world +0.041;
    free stack 42, 16, +0.028. Differences between combinations are small beside the spread
    across windows.

Development worlds only. Seeds 4242, 9002 and 9003 were seen before this design; the fresh test
worlds fixed before measuring it (tests/test_churn_model.py) are 9101 and 9102, measured once by
`--final`, which runs the trainer's own code path once per frame
(`ml.estimators.churn.train.fit_and_measure`), with 9002 for the record:

    .venv/bin/python bench/churn_design.py --final --frames var/churn-frames/churn-s9101-300x30.pkl \
        var/churn-frames/churn-s9102-300x30.pkl var/churn-frames/churn-s9002-300x30.pkl

    held-out PR-AUC, ensemble vs logistic regression: 9101 0.357 vs 0.228 (18 churners),
    9102 0.292 vs 0.148 (12), 9002 0.234 vs 0.241 (18; the free stack had 0.223 there)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")


def _setup():
    import django

    django.setup()


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_members(train_rows: pd.DataFrame, features, member_names, seed=0):
    """Out-of-fold raw probabilities (time-ordered), and members refitted on all training rows."""
    from sklearn.base import clone

    from ml.churn.members import make_members
    from ml.estimators.churn.train import MonthSplit

    X, y, groups = train_rows.loc[:, features], train_rows["label"].to_numpy(), train_rows["mi"].to_numpy()
    splits = list(MonthSplit().split(X, y, groups))
    unfitted = make_members(seed, tuple(member_names))
    oof, fitted = {}, {}
    for name, member in unfitted.items():
        oof[name] = np.full(len(y), np.nan)
        for tr, va in splits:
            oof[name][va] = clone(member).fit(X.iloc[tr], y[tr]).predict_proba(X.iloc[va])[:, 1]
        fitted[name] = clone(member).fit(X, y)
    seen = ~np.isnan(oof[member_names[0]])
    return oof, fitted, seen, groups


def calibrate(oof_raw, y, seen, test_raw):
    from sklearn.linear_model import LogisticRegression

    oof_cal, test_cal = {}, {}
    for name, raw in oof_raw.items():
        cal = LogisticRegression(C=1e4).fit(logit(raw[seen]).reshape(-1, 1), y[seen])
        oof_cal[name] = cal.predict_proba(logit(raw[seen]).reshape(-1, 1))[:, 1]
        test_cal[name] = cal.predict_proba(logit(test_raw[name]).reshape(-1, 1))[:, 1]
    return oof_cal, test_cal


# Combiners: (oof calibrated dict, y_oof, months_oof, test calibrated dict) -> test probabilities.

def c_mean(oof, y, g, test):
    return np.mean([test[n] for n in test], axis=0)


def c_logit_mean(oof, y, g, test):
    return 1 / (1 + np.exp(-np.mean([logit(test[n]) for n in test], axis=0)))


def _stack(oof, y, test, C, positive=False):
    from sklearn.linear_model import LogisticRegression

    names = list(test)
    Z = np.column_stack([logit(oof[n]) for n in names])
    T = np.column_stack([logit(test[n]) for n in names])
    if not positive:
        meta = LogisticRegression(C=C).fit(Z, y)
        return meta.predict_proba(T)[:, 1]
    from scipy.optimize import minimize

    def loss(w):
        z = Z @ w[1:] + w[0]
        return np.mean(np.logaddexp(0, z) - y * z) + 0.5 / (C * len(y)) * np.sum(w[1:] ** 2)

    w0 = np.r_[0.0, np.full(len(names), 1 / len(names))]
    res = minimize(loss, w0, bounds=[(None, None)] + [(0, None)] * len(names), method="L-BFGS-B")
    return 1 / (1 + np.exp(-(T @ res.x[1:] + res.x[0])))


def c_stack(oof, y, g, test):
    return _stack(oof, y, test, C=1.0)


def c_stack_pos(oof, y, g, test):
    """The design chosen: ml.churn.stacking.Stacker (non-negative, C=1), as ChurnFamily runs it."""
    from ml.churn.stacking import Stacker

    names = list(test)
    stacker = Stacker(C=1.0).fit(np.column_stack([oof[n] for n in names]), y)
    return stacker.predict(np.column_stack([test[n] for n in names]))


def c_stack_pos_strong(oof, y, g, test):
    return _stack(oof, y, test, C=0.1, positive=True)


def _ap(y, p):
    from sklearn.metrics import average_precision_score

    return average_precision_score(y, p)


def c_ap_weights(oof, y, g, test, shrink=0.5):
    names = list(test)
    ap = np.array([_ap(y, oof[n]) for n in names])
    w = ap / ap.sum()
    w = shrink * w + (1 - shrink) / len(names)
    return np.sum([wi * test[n] for wi, n in zip(w, names, strict=True)], axis=0)


def c_select(oof, y, g, test):
    """The best of each member and the plain mean by inner-validation PR-AUC."""
    cands = {n: (oof[n], test[n]) for n in test}
    cands["mean"] = (np.mean([oof[n] for n in test], axis=0), np.mean([test[n] for n in test], axis=0))
    best = max(cands, key=lambda k: _ap(y, cands[k][0]))
    return cands[best][1]


def c_rank_mean(oof, y, g, test):
    """Average of each member's rank among the inner-validation probabilities (ECDF), then a
    Platt fit of that average on the validation rows."""
    from sklearn.linear_model import LogisticRegression

    names = list(test)

    def ecdf(ref, x):
        ref = np.sort(ref)
        return np.searchsorted(ref, x, side="right") / len(ref)

    R = np.mean([ecdf(oof[n], oof[n]) for n in names], axis=0)
    T = np.mean([ecdf(oof[n], test[n]) for n in names], axis=0)
    cal = LogisticRegression(C=1e4).fit(logit(R).reshape(-1, 1), y)
    return cal.predict_proba(logit(T).reshape(-1, 1))[:, 1]


def _project_stack(oof, test, y, C, floor=None, toward_equal=False):
    """The project's Stacker (ml.churn.stacking) on the calibrated members: weights >= 0, with
    `floor` (each member's share at least that) or `toward_equal` (the L2 penalty on the
    weights' spread around their mean). Returns (test probabilities, weights)."""
    from ml.churn.stacking import Stacker

    names = list(test)
    stacker = Stacker(C=C, floor=floor or 0.0, toward_equal=toward_equal)
    stacker.fit(np.column_stack([oof[n] for n in names]), np.asarray(y, dtype="float64"))
    return stacker.predict(np.column_stack([test[n] for n in names])), stacker.coef_


def c_equal_platt(oof, y, g, test):
    """Equal weights on the calibrated log-odds, one slope and intercept fitted (Platt)."""
    from sklearn.linear_model import LogisticRegression

    names = list(test)
    zo = np.mean([logit(oof[n]) for n in names], axis=0).reshape(-1, 1)
    zt = np.mean([logit(test[n]) for n in names], axis=0).reshape(-1, 1)
    return LogisticRegression(C=1e4).fit(zo, y).predict_proba(zt)[:, 1]


def c_floor_half(oof, y, g, test):
    """Non-negative stack (C=1) with each member's share of the weights >= 1/(2k)."""
    return _project_stack(oof, test, y, C=1.0, floor=0.5 / len(test))[0]


def c_shrink_eq_001(oof, y, g, test):
    return _project_stack(oof, test, y, C=0.01, toward_equal=True)[0]


def c_shrink_eq_01(oof, y, g, test):
    return _project_stack(oof, test, y, C=0.1, toward_equal=True)[0]


def c_cv_1se(oof, y, g, test, blocks=3):
    """The free non-negative stack only when, over `blocks` consecutive month blocks of the
    validation rows (each scored by a stack fitted on the others), its PR-AUC beats equal
    weights by more than one standard error of the difference; equal weights otherwise."""
    from ml.churn.stacking import Stacker

    names = list(test)
    months = np.unique(g)
    diffs = []
    for block in np.array_split(months, blocks):
        out = np.isin(g, block)
        if y[out].sum() == 0 or y[~out].sum() == 0:
            continue
        st = Stacker(C=1.0).fit(np.column_stack([oof[n][~out] for n in names]), y[~out])
        p_st = st.predict(np.column_stack([oof[n][out] for n in names]))
        p_eq = np.mean([logit(oof[n][out]) for n in names], axis=0)
        diffs.append(_ap(y[out], p_st) - _ap(y[out], p_eq))
    diffs = np.array(diffs)
    se = diffs.std(ddof=1) / np.sqrt(len(diffs)) if len(diffs) > 1 else np.inf
    if len(diffs) and diffs.mean() > se:
        return c_stack_pos(oof, y, g, test)
    return c_equal_platt(oof, y, g, test)


COMBINERS = {"mean": c_mean, "logit_mean": c_logit_mean, "stack": c_stack, "stack_pos": c_stack_pos,
             "stack_pos_C0.1": c_stack_pos_strong, "ap_weights": c_ap_weights, "select": c_select,
             "rank_mean": c_rank_mean, "equal_platt": c_equal_platt, "floor_half": c_floor_half,
             "shrink_eq_C0.1": c_shrink_eq_01, "shrink_eq_C0.01": c_shrink_eq_001, "cv_1se": c_cv_1se}


def origins(labelled: pd.DataFrame, n: int, test_months: int = 4):
    months = sorted(labelled["mi"].unique())
    for k in range(n):
        end = len(months) - k * test_months
        test = months[end - test_months:end]
        train = labelled[labelled["mi"] < test[0]].reset_index(drop=True)
        held = labelled[labelled["mi"].isin(test)].reset_index(drop=True)
        if train["label"].nunique() == 2 and held["label"].nunique() == 2:
            yield k, train, held


# The rule choosing among the combinations the churn reasons can read (an intercept plus
# non-negative weights on the calibrated members' log-odds: reasons.member_scales), written
# down before any of the 2026-12-01 comparisons was run. Simplest first.
ELIGIBLE = ("equal_platt", "shrink_eq_C0.01", "shrink_eq_C0.1", "floor_half", "stack_pos", "cv_1se")
RULE = """Per development world: the mean over its held-out windows of (PR-AUC of the combination
minus PR-AUC of logistic regression alone). Best = the eligible combination with the highest
mean of those per-world differences. Chosen = the simplest eligible combination (order: {order})
whose mean is within one standard error of the best's (the standard error over worlds of the
per-world difference between it and the best). Windows and worlds won against logistic
regression and the worst world are reported beside it, not used.""".format(order=" < ".join(ELIGIBLE))


def _window(path, k, train, held, features, member_names):
    from sklearn.metrics import brier_score_loss, roc_auc_score

    oof_raw, fitted, seen, groups = fit_members(train, features, member_names)
    y_tr = train["label"].to_numpy()
    test_raw = {n: m.predict_proba(held.loc[:, features])[:, 1] for n, m in fitted.items()}
    oof, test = calibrate(oof_raw, y_tr, seen, test_raw)
    y = held["label"].to_numpy()
    churners = held.loc[held["label"] == 1, "client_id"].nunique()
    out = {"world": Path(path).stem.removeprefix("churn-"), "origin": k, "churners": churners}
    for n in member_names:
        out[n] = _ap(y, test[n])
    for name, combine in COMBINERS.items():
        p = combine(oof, y_tr[seen], groups[seen], test)
        out[name] = _ap(y, p)
        out[f"{name}_roc"] = roc_auc_score(y, p)
        out[f"{name}_brier"] = brier_score_loss(y, p)
    return out


def design(paths, n_origins, member_names, cache=None):
    """Every combiner on every window of every frame; a window's row is kept in `cache` (a
    folder) so that adding worlds refits only the new ones."""
    from ml.estimators.churn.dataset import FEATURES

    features = list(FEATURES)
    rows = []
    for path in paths:
        stored = Path(cache) / f"{Path(path).stem}-o{n_origins}.csv" if cache else None
        if stored is not None and stored.exists():
            rows += pd.read_csv(stored).to_dict("records")
            continue
        labelled = pd.read_pickle(path)
        mine = []
        for k, train, held in origins(labelled, n_origins):
            out = _window(path, k, train, held, features, member_names)
            mine.append(out)
            print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()
                           if not k.endswith(("_roc", "_brier"))), flush=True)
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(mine).to_csv(stored, index=False)
        rows += mine
    table = pd.DataFrame(rows)
    summarise(table, member_names)
    return table


def summarise(table, member_names):
    cols = [*member_names, *COMBINERS]
    worlds = table["world"].nunique()
    print(f"\n{len(table)} held-out windows on {worlds} worlds, {table['churners'].sum()} held-out churners "
          f"(median {table['churners'].median():.0f} a window)")
    print("\nPR-AUC mean over windows:")
    print(table[cols].mean().round(4).to_string())
    by_world = table.groupby("world")[cols].mean()
    diff = by_world[list(COMBINERS)].sub(by_world["lr"], axis=0)
    print(f"\ncombination minus lr: mean over windows, windows won of {len(table)}, mean over worlds, "
          f"worlds won of {worlds}, worst world, ROC-AUC, Brier")
    for c in COMBINERS:
        d = table[c] - table["lr"]
        print(f"  {c:16s} {d.mean():+.4f}  {(d > 0).sum():3d}  {diff[c].mean():+.4f}  {(diff[c] > 0).sum():3d}  "
              f"{diff[c].min():+.4f} ({diff[c].idxmin()})  roc {table[c + '_roc'].mean():.4f}  "
              f"brier {table[c + '_brier'].mean():.4f}")
    best = max(ELIGIBLE, key=lambda c: diff[c].mean())
    print(f"\nRule: {RULE}\nbest: {best} ({diff[best].mean():+.4f} over logistic regression)")
    for c in ELIGIBLE:
        gap = by_world[best] - by_world[c]
        se = gap.std(ddof=1) / np.sqrt(len(gap)) if len(gap) > 1 else 0.0
        print(f"  {c:16s} {diff[c].mean():+.4f}  behind the best by {gap.mean():.4f} (SE {se:.4f})")
        if gap.mean() <= se:
            print(f"chosen: {c}")
            return c
    return best


def final(paths):
    """The trainer's own split, fit and scoring (ml.estimators.churn.train.fit_and_measure)."""
    from ml.estimators.churn.train import fit_and_measure

    for path in paths:
        labelled = pd.read_pickle(path)
        family, m, _ = fit_and_measure(labelled)
        print(f"{Path(path).stem}: held-out churners {m['test_churners']} ({m['test_churn_rows']} rows of "
              f"{m['test_rows']}); ensemble weights {family.weights_}, intercept "
              f"{family.stacker_.intercept_:+.3f}")
        for who, prefix in (("ensemble", ""), ("logistic regression", "lr_"), ("MLP", "mlp_"), ("LightGBM", "gbm_")):
            print(f"  {who:20s} ROC-AUC {m[prefix + 'roc_auc']:.3f}  PR-AUC {m[prefix + 'pr_auc']:.3f}  "
                  f"F1 {m[prefix + 'f1']:.3f}  Brier {m[prefix + 'brier']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", nargs="+", required=True)
    parser.add_argument("--origins", type=int, default=1)
    parser.add_argument("--final", action="store_true", help="the trainer's code path, no design variants")
    parser.add_argument("--cache", default=str(ROOT / "var" / "churn-design"),
                        help="folder keeping each frame's window results ('' to refit everything)")
    args = parser.parse_args()
    _setup()
    from ml.churn.members import MEMBER_NAMES

    if args.final:
        final(args.frames)
    else:
        design(args.frames, args.origins, MEMBER_NAMES, args.cache or None)


if __name__ == "__main__":
    main()
