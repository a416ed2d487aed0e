"""Where alerts come from, as signal receivers (connected in apps.AlertsConfig.ready):

- clients.signals.rows_committed: rows a sync page or a webhook committed are scored at once
  by the detectors (sent only after the commit, so rolled-back rows are never scored);
- post_save of ml.ChurnWarning: a client's churn tier rose; raised once the score commits.
  The sender is named lazily ("ml.ChurnWarning") so connecting it imports nothing of ml.

A failing detector is logged and never fails the sync or the scoring that triggered it.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save

from clients.signals import rows_committed

log = logging.getLogger(__name__)

CHURN_SEVERITY = {"critical": "critical", "high": "warning"}  # a rise into medium or low is worth a note


def score_committed_rows(sender, ids=(), deleted=False, previous=None, run_id=None, **_) -> None:
    from .detectors import score

    try:
        score(sender, list(ids), deleted=deleted, previous=previous or {})
    except Exception:  # an alert lost is bad; a sync failed by a detector would be worse
        log.exception("Scoring %d committed %s row(s) of run %s failed", len(ids), sender.__name__, run_id)


def churn_warning_saved(sender, instance, raw=False, **_) -> None:
    if raw:  # loaddata
        return
    transaction.on_commit(partial(raise_churn_warning, instance.pk), robust=True)


def raise_churn_warning(warning_id: int) -> None:
    from ml.models import ChurnWarning

    from .services import raise_alert

    warning = ChurnWarning.objects.select_related("client").filter(pk=warning_id).first()
    if warning is None:
        return
    reasons = "; ".join(r.get("text", "") for r in (warning.reasons or []) if isinstance(r, dict) and r.get("text"))
    raise_alert(
        kind="churn_warning", severity=CHURN_SEVERITY.get(warning.tier, "info"), client_id=warning.client_id,
        title=f"Churn risk of {warning.client.name} rose from {warning.previous_tier} to {warning.tier}",
        message=(f"{warning.client.name}'s churn risk went from {warning.previous_risk:.0f} ({warning.previous_tier}, "
                 f"{warning.previous_as_of:%Y-%m}) to {warning.risk:.0f} ({warning.tier}, {warning.as_of:%Y-%m})."
                 + (f" Main reasons: {reasons}." if reasons else "")),
        evidence={"churn_warning": warning.pk, "model_version": warning.model_version_id,
                  "as_of": warning.as_of.isoformat()},
        dedup_key=f"churn_warning:{warning.client_id}:{warning.as_of:%Y-%m}",
    )


def connect() -> None:
    rows_committed.connect(score_committed_rows, dispatch_uid="alerts.score_committed_rows")
    post_save.connect(churn_warning_saved, sender="ml.ChurnWarning", dispatch_uid="alerts.churn_warning")
