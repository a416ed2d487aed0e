"""build_features: the one entry point that (re)computes the monthly KPI snapshot and then
the genome, shared by the management command, the django-q2 task and the bench.

How a build decides what to do (docs/kpis.md, "Incremental rebuilds"):
1. Each client's month run is fixed: from onboarding or its first month with data (never
   before the data's first month) to its churn month or the as-of month (the last month with
   service-desk activity).
2. Fingerprints (ml/features/fingerprints.py) are compared with those stored on each row; a
   client is rebuilt from its earliest dirty month on, because open AR, endpoints, tenure and
   last contact are cumulative and growth and trends look back up to 15 months.
3. Tickets, worklogs and surveys (the large tables) are re-read only for their dirty months;
   the other months keep their stored per-month values. The other tables are read whole for
   the rebuilt clients (they are small and feed cumulative KPIs).
4. Rows are replaced from the first rebuilt month, then the genome is rebuilt for every month
   from the earliest rebuilt one (a genome is scaled against the whole month's portfolio).
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils import timezone

from ml.features.signals import features_built
from ml.genome.build import build_genome, missing_months
from ml.models import FeatureBuild
from ml.registry.scoring import score_all

from . import contract, engagement, financial, fingerprints, months, operations, payments, sources, store
from .planning import FEATURES_VERSION, changed_tables, client_months, data_as_of, plan

# Small-table KPI families: the tables each reads and the snapshot columns it writes. When
# none of its tables changed for the rebuilt clients, the stored columns are reused.
SMALL_FAMILIES = {
    "lines": (
        ("invoices",),
        tuple(f"revenue_{k}" for k in financial.KINDS) + ("revenue_total", "billed_seats", "months_since_price_change"),
    ),
    "payments": (
        ("invoices", "payments"),
        (
            "invoiced_total",
            "open_ar",
            "dso_days",
            "invoices_due",
            "late_invoice_share",
            "invoices_paid",
            "avg_days_late",
        ),
    ),
    "expenses": (("expenses",), ("license_cost", "other_cost")),
    "endpoints": (("assets",), ("active_endpoints",)),
    "interactions": (
        ("interactions",),
        ("interactions", "qbr_count", "qbr_last_12m", "interaction_sentiment", "days_since_contact"),
    ),
}
# The large tables' snapshot columns (worklogs also count minutes priced at the median cost,
# which the snapshot keeps as a quality note rather than a column).
LARGE_COLUMNS = {
    "worklogs": financial.WORKLOG_COLUMNS,
    "tickets": operations.TICKET_COLUMNS,
    "surveys": engagement.SURVEY_COLUMNS,
}
AS_OF_FAMILIES = ("payments", "interactions")  # "due by the as-of date", "days to the as-of date"
MAX_LISTED_CLIENTS = 900  # above this a client filter costs more than it saves (and SQLite limits params)
HISTORY_MONTHS = 15  # the longest window a KPI reads: revenue growth, 3 months a year earlier
# The stored values a rebuilt month's windows read from the months before it: billing
# efficiency and revenue growth (financial.derive), CSAT trend and survey response rate
# (engagement.derive), seat growth (contract.derive). When only per-month tables changed, the
# months before a client's first rebuilt month are read for these alone: they are never
# written, and the other columns were most of that read's time. A window over a column not
# listed here would see NaN there and tests/test_kpis.py's long-history test would differ
# from the full build.
HISTORY_INPUTS = ("revenue_total", "revenue_time", "billable_value", "tickets", "surveys", "csat_avg", "billed_seats")

Progress = Callable[[str], None]


@dataclass
class BuildReport:
    build_id: int | None = None
    full: bool = False
    as_of: date | None = None
    clients_rebuilt: int = 0
    rebuilt_from: date | None = None
    kpi_rows_written: int = 0
    kpi_rows_deleted: int = 0
    genome_rows_written: int = 0
    segments: int = 0
    seconds: float = 0.0
    sync_watermark: int | None = None
    source_state: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    journal_runs: list[tuple[int, int]] = field(default_factory=list)
    scored: dict = field(default_factory=dict)  # model kind -> predictions written after the build


def build_features(
    since: date | None = None, progress: Progress | None = None, trigger: str = "command", with_genome: bool = True
) -> BuildReport:
    """Bring ClientMonthKPI (and the genome) up to date with the source tables.

    since: also rebuild every client from this month on, changed or not (after a definition
    fix, or to re-price labour). progress: called with a short message at each step.
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    build = FeatureBuild.objects.create(trigger=trigger, since=since)
    report = BuildReport(build_id=build.pk)
    try:
        with _long_lived_objects_frozen():
            _build(report, since, say, with_genome)
        # Only now: a failed build leaves the journal for the next one (re-reading it is safe).
        fingerprints.forget(report.journal_runs)
    except Exception as exc:
        build.status, build.error = FeatureBuild.Status.FAILED, f"{type(exc).__name__}: {exc}"
        build.finished_at = timezone.now()
        build.save()
        raise
    report.seconds = time.perf_counter() - started
    build.status, build.finished_at, build.seconds = FeatureBuild.Status.SUCCEEDED, timezone.now(), report.seconds
    build.full, build.clients_rebuilt, build.sync_watermark = report.full, report.clients_rebuilt, report.sync_watermark
    build.source_state, build.features_version = report.source_state, FEATURES_VERSION
    build.kpi_rows_written, build.genome_rows_written = report.kpi_rows_written, report.genome_rows_written
    build.save()
    if report.kpi_rows_written or report.kpi_rows_deleted:
        # New KPIs, new predictions: each active model scores the clients again, so pages
        # read predictions as fresh as the KPIs beside them.
        say("Scoring clients with the active models")
        report.scored = score_all()
    # After the KPIs and scores: what reads them (leak detection in insights) may run now.
    features_built.send(sender=FeatureBuild, build_id=build.pk, changed=bool(
        report.kpi_rows_written or report.kpi_rows_deleted or report.genome_rows_written))
    return report


@contextmanager
def _long_lived_objects_frozen():
    """Keep the objects that existed before the build (modules, Django, pandas, scikit-learn:
    about a million) out of the garbage collector's full passes while the build allocates;
    one such pass cost ~0.1 s, a tenth of an incremental build. Objects the build creates are
    collected as usual. A process that froze its objects itself (a pre-forking server) is
    left as it was."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _build(report: BuildReport, since: date | None, say: Progress, with_genome: bool) -> None:
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.timings[name] = round(now - clock, 3)
        clock = now

    as_of = data_as_of()
    report.as_of = as_of
    if as_of is None:
        say("No tickets or worklogs yet: nothing to build.")
        return
    say(f"Looking for changes (data as of {as_of:%Y-%m-%d})")
    report.sync_watermark = fingerprints.watermark()
    state = fingerprints.table_state()
    report.source_state = {**state, "as_of": as_of.isoformat()}
    grid, first_mi, clients = client_months(as_of)
    current = pd.DataFrame(index=grid.index)
    current["client"] = grid.index.get_level_values(0).map(fingerprints.per_client()).to_numpy()
    current["technicians"] = fingerprints.technicians()
    stored = store.stored_state()
    previous = None
    if len(stored):
        previous = (
            FeatureBuild.objects.filter(status=FeatureBuild.Status.SUCCEEDED, features_version=FEATURES_VERSION)
            .exclude(source_state={})
            .order_by("-id")
            .first()
        )
    moved, report.journal_runs = fingerprints.journal()
    tables = changed_tables(grid, previous, moved)
    rebuild_from, large, stale = plan(current, stored, since, tables, _reflagged_month(previous, as_of))
    lap("fingerprints")
    starts = grid.reset_index().groupby("client_id")["mi"].min()
    report.full = len(rebuild_from) == len(starts) and bool((rebuild_from == starts.reindex(rebuild_from.index)).all())
    if rebuild_from.empty and not stale:
        say("Nothing changed since the last build.")
        if with_genome:
            gaps = missing_months()
            if gaps is not None:
                report.genome_rows_written, report.segments = build_genome(from_month=gaps, progress=say)
        return
    affected = rebuild_from.index.to_numpy()
    report.clients_rebuilt = len(affected)
    report.rebuilt_from = months.to_date(int(rebuild_from.min())) if len(rebuild_from) else None
    say(f"Rebuilding {len(affected)} clients from {report.rebuilt_from or '-'}")
    listed = list(map(int, affected)) if len(affected) <= MAX_LISTED_CLIENTS else None
    f = grid[grid.index.get_level_values(0).isin(affected)].copy()
    in_f = current.index.get_level_values(0).isin(affected)
    changed = {k: v[in_f] for k, v in large.pop("_changed").items()}
    masks = {k: v[in_f] for k, v in large.items()}

    as_of_moved = previous is None or previous.source_state.get("as_of") != as_of.isoformat()
    fresh = {
        family: bool(
            changed["client"].any()
            or any(changed[t].any() for t in tables_of)
            or (as_of_moved and family in AS_OF_FAMILIES)
        )
        for family, (tables_of, _) in SMALL_FAMILIES.items()
    }
    history_only = not any(fresh.values())
    if history_only:
        # Only per-month tables changed and every cumulative KPI is reused: each client needs
        # its rebuilt months plus the longest look-back of a window (growth: 3 months a year
        # earlier), not its whole history.
        keep = f.index.get_level_values(1).to_numpy() >= (
            f.index.get_level_values(0).map(rebuild_from).to_numpy() - HISTORY_MONTHS
        )
        f, masks = f[keep], {k: v[keep] for k, v in masks.items()}
    from_mi = int(f.index.get_level_values(1).min()) if len(f) else None
    reused = tuple(c for family, (_, columns) in SMALL_FAMILIES.items() if not fresh[family] for c in columns)
    # Stored per-month values of the large tables' clean months, read in the same query.
    reused_large = tuple(
        c for key, columns in LARGE_COLUMNS.items() if not masks[key].all() for c in columns if c in store.KPI_COLUMNS
    )
    kept = None
    if reused or reused_large:
        first_rebuilt = int(rebuild_from.min()) if history_only and len(rebuild_from) else None
        kept = _stored(listed, reused + reused_large, from_mi, first_rebuilt).reindex(f.index)
    if reused:
        say(f"Reusing stored {', '.join(k for k, v in fresh.items() if not v)} KPIs (no changes there)")
    lines = sources.invoice_lines(listed) if fresh["lines"] else None
    invs = sources.invoices(listed) if fresh["payments"] else sources.invoices(_foreign(clients, affected))
    applied = sources.applications(listed) if fresh["payments"] else None
    expenses = sources.expenses(listed) if fresh["expenses"] else None
    cohorts = sources.endpoints(listed) if fresh["endpoints"] else None
    inter = sources.interactions(listed) if fresh["interactions"] else None
    contracts = sources.contracts(listed)
    lap("small tables")

    fx = _exchange_rates(invs, f, clients)
    _large_tables(f, masks, fx, say, kept)
    lap("large tables")

    say("Deriving KPIs")
    for family, (_, columns) in SMALL_FAMILIES.items():
        if not fresh[family]:
            for column in columns:
                f[column] = kept[column]
    if fresh["lines"]:
        f = f.join(financial.revenue(lines).reindex(f.index, fill_value=0))
    for column in financial.KINDS:
        f[f"revenue_{column}"] = pd.to_numeric(f[f"revenue_{column}"]).fillna(0).astype("int64")
    if fresh["expenses"]:
        f = f.join(financial.costs(expenses).reindex(f.index, fill_value=0))
    for column in ("license_cost", "other_cost"):
        f[column] = pd.to_numeric(f[column]).fillna(0).astype("int64")
    if fresh["endpoints"]:
        f["active_endpoints"] = operations.active_endpoints(cohorts, f)
    f["active_endpoints"] = f["active_endpoints"].fillna(0).astype("int64")
    financial.derive(f)
    if fresh["payments"]:
        payments.derive(f, invs, applied, as_of)
    operations.derive(f)
    engagement.derive(f)
    if fresh["interactions"]:
        engagement.derive_interactions(f, inter, as_of)
    home = getattr(settings, "HOME_CURRENCY", "USD")
    f = f.join(contract.contract_months(contracts, f, fx, home))
    if fresh["lines"]:
        f = f.join(contract.seats_and_prices(lines, f))
    contract.derive(f, first_mi)
    f["_notes"] = _notes(f, fx.attrs.get("assumed", set()))
    f["_fingerprint"] = _fingerprint_json(current.loc[f.index])
    lap("derive")

    say("Writing the snapshot")
    written, deleted = store.replace_rows(
        f,
        rebuild_from,
        stale if not listed else [s for s in stale if s[0] in set(listed)],
        FEATURES_VERSION,
        timezone.now(),
    )
    report.kpi_rows_written, report.kpi_rows_deleted = written, deleted
    lap("write")
    if with_genome:
        start = int(rebuild_from.min()) if len(rebuild_from) else min(s[1] for s in stale)
        # A full build, or one asked to rebuild from a month on, clusters the segments afresh.
        report.genome_rows_written, report.segments = build_genome(
            from_month=months.to_date(start), progress=say, resegment=report.full or since is not None
        )
        lap("genome")


def _stored(listed, columns: tuple[str, ...], from_mi: int | None, first_rebuilt: int | None) -> pd.DataFrame:
    """The stored `columns` from `from_mi` on. With `first_rebuilt` (the rows before it are
    history, read only for the windows of rebuilt months), those rows hold HISTORY_INPUTS
    alone and NaN elsewhere."""
    if first_rebuilt is None or from_mi is None or first_rebuilt <= from_mi:
        return store.stored_columns(listed, columns, from_mi)
    recent = store.stored_columns(listed, columns, first_rebuilt)
    history = tuple(c for c in columns if c in HISTORY_INPUTS)
    older = store.stored_columns(listed, history, from_mi, before_mi=first_rebuilt)
    return pd.concat([older, recent])


def _reflagged_month(previous: FeatureBuild | None, as_of: date) -> int | None:
    """The month whose partial flag may have flipped since the previous build: the previous
    as-of month, when the as-of date moved (its month ended, or the data reached its last
    day). Its rows are rebuilt even if no source row changed, so "latest complete month"
    moves on with the data."""
    before = (previous.source_state or {}).get("as_of") if previous is not None else None
    if not before or before == as_of.isoformat():
        return None
    return months.to_index(date.fromisoformat(before))


def _foreign(clients: pd.DataFrame, affected) -> list[int]:
    home = getattr(settings, "HOME_CURRENCY", "USD")
    rows = clients[clients["client_id"].isin(affected) & (clients["currency"].fillna(home) != home)]
    return list(map(int, rows["client_id"]))


def _exchange_rates(invs: pd.DataFrame, f: pd.DataFrame, clients: pd.DataFrame) -> pd.Series:
    """Per (client, month): home units per client-currency unit, from the client's invoices
    (total-weighted, carried forward and back). Home-currency clients are 1. A foreign client
    with no invoice at all is assumed at 1 and flagged."""
    home = getattr(settings, "HOME_CURRENCY", "USD")
    foreign = set(clients.loc[clients["currency"].fillna(home) != home, "client_id"])
    fx = pd.Series(1.0, index=f.index)
    fx.attrs["assumed"] = set()
    if not foreign:
        return fx
    inv = invs[invs["client_id"].isin(foreign) & (invs["rate"] > 0)]
    local = inv["total_cents"] / inv["rate"]
    g = inv.assign(local=local).groupby(["client_id", "mi"])[["total_cents", "local"]].sum()
    rate = (g["total_cents"] / g["local"].where(g["local"] > 0)).reindex(f.index)
    rate = rate.groupby(level=0).ffill().groupby(level=0).bfill()
    is_foreign = f.index.get_level_values(0).isin(list(foreign))
    fx[is_foreign] = rate[is_foreign].fillna(1.0)
    fx.attrs["assumed"] = foreign - set(inv["client_id"])
    return fx


def _large_tables(f: pd.DataFrame, masks: dict, fx: pd.Series, say: Progress, kept: pd.DataFrame | None) -> None:
    """Fill the per-month columns of tickets, worklogs and surveys: re-read where dirty, the
    stored values (`kept`, on f's index) elsewhere."""
    queries = {
        "worklogs": lambda lo, hi, ids: financial.labour(sources.worklogs(lo, hi, ids), sources.technician_costs(), fx),
        "tickets": lambda lo, hi, ids: operations.ticket_kpis(sources.tickets(lo, hi, ids)),
        "surveys": lambda lo, hi, ids: engagement.survey_kpis(sources.surveys(lo, hi, ids)),
    }
    specs = {key: (LARGE_COLUMNS[key], queries[key]) for key in LARGE_COLUMNS}
    clean = [k for k in specs if not masks[k].all()]
    for key, (columns, query) in specs.items():
        dirty = f.index[masks[key]]
        values = pd.DataFrame(index=f.index, columns=list(columns), dtype="float64")
        if kept is not None and key in clean:
            for c in columns:
                if c in kept.columns:
                    values[c] = pd.to_numeric(kept[c], errors="coerce")
            if key == "worklogs":
                values["median_cost_minutes"] = kept["median_cost"]
        if len(dirty):
            mis, ids = dirty.get_level_values(1), dirty.get_level_values(0).unique()
            lo, hi = int(mis.min()), int(mis.max())
            listed = list(map(int, ids)) if len(ids) <= MAX_LISTED_CLIENTS else None
            say(f"Reading {key} {months.to_date(lo):%Y-%m}..{months.to_date(hi):%Y-%m}")
            fresh = query(lo, hi, listed)
            region = (f.index.get_level_values(1) >= lo) & (f.index.get_level_values(1) <= hi)
            if listed is not None:
                region &= f.index.get_level_values(0).isin(listed)
            fresh = fresh.reindex(f.index[region])
            for c in columns:
                values.loc[region, c] = fresh[c].to_numpy(dtype="float64") if c in fresh else np.nan
        for c in columns:
            if c in store.COUNTS or c in store.MONEY or c == "median_cost_minutes":
                values[c] = values[c].fillna(0).astype("int64")
            f[c] = values[c]


def _fingerprint_json(hashes: pd.DataFrame) -> np.ndarray:
    """Each row's fingerprint (its hashes by name) as the JSON the snapshot stores. A client's
    rows share one, so each distinct text is written once and spread back: a dict and a
    json.dumps per row cost ~60 ms of an incremental build."""
    codes, distinct = pd.MultiIndex.from_frame(hashes).factorize(use_na_sentinel=False)
    names = list(hashes.columns)
    texts = np.array([json.dumps(dict(zip(names, values, strict=True))) for values in distinct], dtype=object)
    return texts[codes]


def _notes(f: pd.DataFrame, fx_assumed: set) -> list[str]:
    """Each row's quality notes as the JSON the snapshot stores, built from three masks. Most
    rows have none and share one "[]": a fresh list per row cost more than the rest of this
    step."""
    flags = (
        ("partial_month", f["_partial"].to_numpy(dtype=bool)),
        ("labour_at_median_cost", f["median_cost_minutes"].to_numpy() > 0),
        ("exchange_rate_assumed_1", f.index.get_level_values(0).isin(list(fx_assumed))),
    )
    noted: dict[int, list[str]] = {}
    for note, mask in flags:
        for i in np.flatnonzero(mask).tolist():
            noted.setdefault(i, []).append(note)
    out = ["[]"] * len(f)
    for i, notes in noted.items():
        out[i] = json.dumps(notes)
    return out
