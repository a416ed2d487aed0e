"""Scoring churn: risk, tier, reasons and actions per client as of a month, written as
Prediction rows by batch scoring; early warnings when a tier rises; retention with and without
an intervention.

Risk = the active version's calibrated ensemble probability of leaving within 3 months x 100.
Tiers, on that calibrated probability (the book loses about 1 client in 30 every 3 months at
the simulator's and the industry's ~12% a year, so "medium" is already about twice that):

    low       risk < 5
    medium    5 <= risk < 15
    high      15 <= risk < 35
    critical  risk >= 35

A client is "at risk" (for the retention report) when its tier is high or critical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from django.db import transaction

from ml.features import months as mo
from ml.models import ChurnWarning, ClientMonthKPI, FeatureBuild, Intervention, ModelVersion, Prediction
from ml.models.churn import TIERS
from ml.predictions import store_predictions
from ml.registry import active, load_serving

from .dataset import FEATURES, ChurnFrame, build_frame, departures
from .reasons import explain, reasons_from

KIND = "churn"
TIER_CUTS = ((35.0, "critical"), (15.0, "high"), (5.0, "medium"), (0.0, "low"))
AT_RISK = ("high", "critical")
RETENTION_DAYS = 90


def tier_of(risk: float) -> str:
    for cut, name in TIER_CUTS:
        if risk >= cut:
            return name
    return "low"


@dataclass
class Scored:
    client_id: int
    risk: float
    tier: str
    explanation: dict


def score_frame(family, rows: pd.DataFrame) -> list[Scored]:
    """Risk, tier and explanation for each row (features as in dataset.FEATURES). The reasons
    are reasons.explain's; a large batch gets its SHAP values from the numpy TreeSHAP
    (attribution.py), equal to LightGBM's own."""
    if rows.empty:
        return []
    X = rows.loc[:, list(FEATURES)]
    risk = family.predict_proba(X)[:, 1] * 100
    explained = explain(family, X)
    out = []
    for client_id, r, words in zip(rows["client_id"], risk, explained, strict=True):
        tier = tier_of(float(r))
        out.append(Scored(int(client_id), round(float(r), 2), tier,
                          {"text": f"Churn risk {r:.0f}/100 ({tier}). {words['text']}", "tier": tier,
                           "reasons": words["reasons"], "actions": words["actions"]}))
    return out


_frames: dict[str, tuple] = {}  # "frame" -> (state of the store, ChurnFrame)


def _store_state() -> tuple:
    """What the churn frame depends on, in one query: the KPI store (a feature build or any
    rewrite of its rows) and the synced rows its departures read (any sync run)."""
    from django.db import connection

    from clients.models import SyncRun

    kpi, builds, runs = ClientMonthKPI._meta.db_table, FeatureBuild._meta.db_table, SyncRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(computed_at), (SELECT MAX(id) FROM {builds}), "
                       f"(SELECT MAX(id) FROM {runs}) FROM {kpi}")
        return tuple(cursor.fetchone())


def serving_frame() -> ChurnFrame:
    """The churn frame (every client-month's features), built once per state of the store: a
    page's or the API's one-client question is then a row lookup, not a rebuild."""
    state = _store_state()
    hit = _frames.get("frame")
    if hit is None or hit[0] != state:
        hit = _frames["frame"] = (state, build_frame())
    return hit[1]


def predict(as_of: date | None = None, version: ModelVersion | None = None) -> list[Scored]:
    """Score every client still a client at the month end of `as_of` (default: the KPI
    store's last month) with the active churn version (or `version`)."""
    version = version or active(KIND)
    if version is None:
        raise LookupError("No churn model is active: train one first (Retrain now, or the train command)")
    family = load_serving(version)
    frame = serving_frame()
    month = (as_of or frame.last_month).replace(day=1)
    return score_frame(family, frame.rows[frame.rows["month"] == month])


def score_and_store(as_of: date | None = None, version: ModelVersion | None = None,
                    role: str = Prediction.Role.CHAMPION) -> int:
    """Write the month's churn predictions (value = risk 0-100, explanation = {"text", "tier",
    "reasons", "actions"}) and record a ChurnWarning for each client whose tier rose since its
    previous stored prediction. Returns the number of predictions written."""
    version = version or active(KIND)
    if version is None:
        raise LookupError("No churn model is active: train one first (Retrain now, or the train command)")
    frame = build_frame()
    if frame.last_month is None:
        return 0
    month = (as_of or frame.last_month).replace(day=1)
    scored = score_frame(load_serving(version), frame.rows[frame.rows["month"] == month])
    with transaction.atomic():
        written = store_predictions(version, month, [
            {"client_id": s.client_id, "value": s.risk, "explanation": s.explanation} for s in scored], role)
        if role == Prediction.Role.CHAMPION:
            record_warnings(version, month, scored)
    return written


SHADOW_METRIC = "brier"


def observed(pairs: list[tuple[int, date]]) -> dict[tuple[int, date], float]:
    """1.0 when the client left within 3 months after the as-of month, 0.0 when it stayed, for
    each pair whose outcome is known: the training label's one definition (dataset)."""
    rows = build_frame().rows
    known = rows[rows["labelled"]]
    label = {(int(c), m): float(y) for c, m, y in zip(known["client_id"], known["month"], known["label"], strict=True)}
    return {pair: label[pair] for pair in pairs if pair in label}


def shadow_errors(predicted, actual):
    """Squared error of the predicted probability (risk / 100): the Brier score's terms."""
    return (predicted / 100.0 - actual) ** 2


def record_warnings(version: ModelVersion, month: date, scored: list[Scored]) -> int:
    """A ChurnWarning for each client whose tier is higher than at its latest earlier stored
    churn prediction (champion rows of any version)."""
    previous = {}
    rows = (Prediction.objects.filter(kind=KIND, role=Prediction.Role.CHAMPION, as_of__lt=month,
                                      client_id__in=[s.client_id for s in scored])
            .order_by("client_id", "-as_of", "-created_at").values("client_id", "as_of", "value", "explanation"))
    for row in rows:
        previous.setdefault(row["client_id"], row)
    made = 0
    for s in scored:
        before = previous.get(s.client_id)
        if before is None:
            continue
        was = (before["explanation"] or {}).get("tier") or tier_of(before["value"])
        if TIERS.index(s.tier) > TIERS.index(was):
            ChurnWarning.objects.update_or_create(
                client_id=s.client_id, as_of=month,
                defaults={"model_version": version, "previous_as_of": before["as_of"], "tier": s.tier,
                          "previous_tier": was, "risk": s.risk, "previous_risk": before["value"],
                          "reasons": s.explanation["reasons"]})
            made += 1
    return made


def retention_report(days: int = RETENTION_DAYS) -> dict:
    """Share of at-risk clients (tier high or critical in a stored champion churn prediction)
    still clients `days` days after that month's end, with and without an intervention logged
    between the month's start and those `days`. Each client counts once, at its first at-risk
    month whose outcome is known (the data reaches `days` past it)."""
    frame_last = build_frame().last_month
    if frame_last is None:
        return {"with": _rate([]), "without": _rate([])}
    known_until = mo.month_end(mo.to_index(frame_last))
    leaves = departures(frame_last)
    first_at_risk: dict[int, date] = {}
    for client_id, as_of, explanation in (Prediction.objects.filter(kind=KIND, role=Prediction.Role.CHAMPION)
                                          .order_by("as_of").values_list("client_id", "as_of", "explanation")):
        if (explanation or {}).get("tier") in AT_RISK and client_id not in first_at_risk:
            if mo.month_end(mo.to_index(as_of)) + timedelta(days=days) <= known_until:
                first_at_risk[client_id] = as_of
    groups: dict[str, list[bool]] = {"with": [], "without": []}
    for client_id, as_of in first_at_risk.items():
        until = mo.month_end(mo.to_index(as_of)) + timedelta(days=days)
        helped = Intervention.objects.filter(client_id=client_id, date__gte=as_of, date__lte=until).exists()
        left = leaves.get(client_id)
        groups["with" if helped else "without"].append(left is None or left > until)
    return {name: _rate(kept) for name, kept in groups.items()}


def _rate(kept: list[bool]) -> dict:
    return {"clients": len(kept), "retained": sum(kept), "retention": (sum(kept) / len(kept)) if kept else None}


def feature_words(feature: str) -> str:
    """A churn feature's name in words (global importance pages)."""
    return feature.replace("_", " ").replace(" 3m", " (3 months)").replace(" 6m", " (6 months)") \
        .replace(" 12m", " (12 months)")


def explain_client(client_id: int, as_of: date | None = None, method: str = "shap") -> dict | None:
    """One client's churn risk and why (ml.explanations.explain): "shap" gives the stored
    reasons (TreeSHAP of the boosted member with the linear member's exact contributions, in
    log-odds), "lime" a local surrogate of the calibrated ensemble (probability points)."""
    version = active(KIND)
    if version is None:
        raise LookupError("No churn model is active: train one first (Retrain now, or the train command)")
    family = load_serving(version)
    frame = serving_frame()
    if frame.last_month is None:
        return None
    month = (as_of or frame.last_month).replace(day=1)
    rows = frame.rows[frame.rows["month"] == month]
    one = rows[rows["client_id"] == client_id]
    if one.empty:
        return None
    scored = score_frame(family, one)[0]
    explanation = scored.explanation
    if method == "lime":
        from ml.explanations.lime import lime_effects

        names = list(FEATURES)

        def proba(Z):
            return family.predict_proba(pd.DataFrame(Z, columns=names))

        effects = lime_effects(proba, rows.loc[:, names].to_numpy(dtype="float64"),
                               one.loc[:, names].to_numpy(dtype="float64")[0], names, mode="classification")
        X = one.loc[:, names]
        words = reasons_from(pd.DataFrame([effects], columns=names, index=X.index), X)[0]
        explanation = {"text": f"Churn risk {scored.risk:.0f}/100 ({scored.tier}). {words['text']}",
                       "tier": scored.tier, "reasons": words["reasons"], "actions": words["actions"]}
        ranked = sorted(zip(names, effects, strict=True), key=lambda fe: -abs(fe[1]))[:8]
        contributions = [{"feature": f, "words": feature_words(f), "value": _value(one, f),
                          "effect": round(float(e), 4)} for f, e in ranked if e]
    else:
        contributions = [{"feature": r["feature"], "words": r["text"], "value": r["value"], "effect": r["effect"]}
                         for r in explanation["reasons"]]
    return {"as_of": month, "value": scored.risk, "tier": scored.tier, "text": explanation["text"],
            "reasons": explanation["reasons"], "actions": explanation["actions"], "contributions": contributions,
            "model_version": version.version}


def _value(one: pd.DataFrame, feature: str):
    value = one[feature].iloc[0]
    return None if pd.isna(value) else float(value)
