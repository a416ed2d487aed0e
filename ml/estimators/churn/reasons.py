"""Why a client's churn risk is what it is: `explain(family, X)`, the one function pages, the
API and batch scoring call, and the words and retention actions each reason maps to.

Contributions, per client and feature, in the ensemble's log-odds, from the two members whose
log-odds split exactly into per-feature parts:
- the gradient-boosting member's SHAP values (exact path-dependent TreeSHAP: LightGBM's
  `pred_contrib=True`, or for a batch the same values from `ml.explanations.treeshap`, see
  attribution.py),
- the logistic-regression member's linear contributions, coefficient x (standardised value -
  the training mean, which is 0 after scaling): a linear model's exact SHAP values under
  feature independence.
The stacked ensemble's log-odds are an intercept plus, per member, the stack's weight times the
member's calibration slope times the member's own log-odds (ml/churn/family.py), so each
member's parts are scaled by that product and summed: a member the stack leaves out explains
nothing. When the stack gives neither explained member any weight (the MLP carries the score),
and for a version saved before the stack, the two are averaged instead, as a stand-in. Both are
read from the fitted members, after the members' own imputation and scaling. The top reasons
are the features pushing risk up the most; each has a sentence with the client's own value and,
where one fits, a retention action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # scikit-learn loads with the model, not at start-up
    from ml.churn import ChurnFamily

TOP_REASONS = 3

# Retention actions, tied to reasons.
SERVICE_REVIEW = "Hold a service review: go through the SLA misses and agree fixes"
BILLING_TALK = "Have a billing conversation: payment terms, disputed invoices, budget"
SCHEDULE_QBR = "Schedule a QBR with the client's decision makers"
PROACTIVE_PROJECT = "Propose a proactive project to remove the recurring problems"
MANAGER_CALL = "Account manager call: ask what is not working and follow up in writing"


def _pct(v: float) -> str:
    return f"{v:.0%}"


# feature -> (sentence about the client's value, action or None)
WORDS: dict[str, tuple] = {
    "resolution_sla_3m": (lambda v: f"only {_pct(v)} of tickets resolved within SLA in the last 3 months",
                          SERVICE_REVIEW),
    "first_response_sla_3m": (lambda v: f"first response within SLA on only {_pct(v)} of tickets in the last "
                                        "3 months", SERVICE_REVIEW),
    "csat_6m": (lambda v: f"CSAT averages {v:.1f} of 5 over the last 6 months", MANAGER_CALL),
    "csat_trend": (lambda v: f"CSAT changed by {v:+.1f} points versus the 3 months before", MANAGER_CALL),
    "low_csat_share_6m": (lambda v: f"{_pct(v)} of surveys scored 1 or 2 in the last 6 months", MANAGER_CALL),
    "rhem_3m": (lambda v: f"{v:.2f} reactive hours per endpoint a month (target 0.25 or less)", PROACTIVE_PROJECT),
    "reactive_trend": (lambda v: f"reactive load is {v:.1f}x what it was in the 9 months before", PROACTIVE_PROJECT),
    "tickets_per_endpoint_3m": (lambda v: f"{v:.1f} tickets per endpoint in the last 3 months", PROACTIVE_PROJECT),
    "late_invoice_share_6m": (lambda v: f"{_pct(v)} of invoices paid late in the last 6 months", BILLING_TALK),
    "avg_days_late_6m": (lambda v: f"invoices paid {v:.0f} days late on average in the last 6 months", BILLING_TALK),
    "dso_days": (lambda v: f"{v:.0f} days of sales outstanding", BILLING_TALK),
    "days_since_contact": (lambda v: f"no contact for {v:.0f} days", MANAGER_CALL),
    "qbr_last_12m": (lambda v: "no QBR in the last 12 months" if v < 1 else f"only {v:.0f} QBR(s) in 12 months",
                     SCHEDULE_QBR),
    "tenure_months": (lambda v: f"{v:.0f} months as a client", None),
    "revenue_growth_3m": (lambda v: f"revenue {v:+.0%} versus the 3 months before", MANAGER_CALL),
    "revenue_growth_12m": (lambda v: f"revenue {v:+.0%} versus the same months a year ago", MANAGER_CALL),
    "seat_growth_12m": (lambda v: f"billed seats {v:+.0%} in 12 months", MANAGER_CALL),
    "margin_pct": (lambda v: f"gross margin {_pct(v)}", None),
    "mrr": (lambda v: f"${v:,.0f} monthly recurring revenue", None),
    "interactions_3m": (lambda v: f"{v:.0f} calls, emails, visits or QBRs in the last 3 months", MANAGER_CALL),
    "interaction_sentiment_3m": (lambda v: f"sentiment of recent conversations {v:+.2f} (-1 to 1)", MANAGER_CALL),
    "escalations_3m": (lambda v: f"{v:.0f} escalated tickets in the last 3 months", SERVICE_REVIEW),
    "reopen_rate_3m": (lambda v: f"{_pct(v)} of tickets reopened in the last 3 months", SERVICE_REVIEW),
}


def _prepared(pipeline, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    prepare = pipeline.named_steps["prepare"]
    names = [str(n).split("__", 1)[-1] for n in prepare.named_steps["encode"].get_feature_names_out()]
    return prepare.transform(X), names


def member_scales(family: ChurnFamily, names: list[str]) -> list[float]:
    """How far one log-odds unit of each named member moves the ensemble's log-odds: the stack's
    weight times the member's calibration slope. Equal shares summing to 1 for a family with no
    stack, or when the stack gives none of them weight (the plain average, a stand-in)."""
    stacker = getattr(family, "stacker_", None)
    if stacker is not None:
        weights = dict(zip(family.members_, stacker.coef_, strict=True))
        scales = [float(weights[n]) * float(family.calibrators_[n].coef_[0][0]) for n in names]
        if sum(abs(v) for v in scales) > 1e-9:
            return scales
    return [1.0 / len(names)] * len(names)


def contributions(family: ChurnFamily, X: pd.DataFrame) -> pd.DataFrame:
    """Per row of X and input feature: its push on churn risk in the ensemble's log-odds
    (positive = riskier)."""
    from .attribution import gbm_shap  # attribution imports this module's words

    parts, names = [], [n for n in ("gbm", "lr") if n in family.members_]
    for name in names:
        pipeline = family.members_[name]
        Z, columns = _prepared(pipeline, X)
        learner = pipeline.named_steps["learn"]
        values = gbm_shap(learner, Z) if name == "gbm" else Z * learner.coef_[0]
        parts.append(pd.DataFrame(values, columns=columns, index=X.index))
    total = sum(scale * part for scale, part in zip(member_scales(family, names), parts, strict=True))
    return total.reindex(columns=[c for c in X.columns if c in total.columns]).fillna(0.0)


def explain(family: ChurnFamily, X: pd.DataFrame, top: int = TOP_REASONS) -> list[dict]:
    """Per row of X: {"reasons": [{"feature", "value", "effect", "text"}], "actions": [...],
    "text": one sentence}. Reasons are the features raising risk the most (effect > 0), in
    words with the client's value; a missing value is never given as a reason."""
    return reasons_from(contributions(family, X), X, top)


def reasons_from(effects: pd.DataFrame, X: pd.DataFrame, top: int = TOP_REASONS) -> list[dict]:
    """explain()'s answer from any per-feature effects (SHAP's log-odds or LIME's probability
    points): the same ranking, words and actions whatever measured the effects."""
    columns = list(effects.columns)
    values = X.loc[:, columns].to_numpy(dtype="float64")
    pushes = effects.to_numpy(dtype="float64")
    # Only features with words can be reasons, and never on a missing value: mask the rest
    # out, then rank each row once (numpy), instead of sorting a Series per client.
    usable = np.isfinite(values) & np.array([c in WORDS for c in columns])[None, :] & (pushes > 0)
    ranked = np.argsort(-np.where(usable, pushes, -np.inf), axis=1, kind="stable")[:, :top]
    out = []
    for i in range(len(X)):
        reasons = []
        for j in ranked[i]:
            if not usable[i, j]:
                break
            words, action = WORDS[columns[j]]
            value = float(values[i, j])
            reasons.append({"feature": columns[j], "value": value, "effect": round(float(pushes[i, j]), 4),
                            "text": words(value), "action": action})
        actions = list(dict.fromkeys(r["action"] for r in reasons if r["action"]))
        text = ("Main reasons: " + "; ".join(r["text"] for r in reasons) + ".") if reasons else \
            "No single factor stands out; risk is close to the book's average."
        out.append({"reasons": reasons, "actions": actions, "text": text})
    return out


def global_importance(family: ChurnFamily, X: pd.DataFrame) -> dict[str, float]:
    """Mean absolute contribution per feature over X (a version's global importance)."""
    return contributions(family, X).abs().mean().sort_values(ascending=False).round(4).to_dict()
