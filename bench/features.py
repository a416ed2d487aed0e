"""Benchmark of build_features on a simulated MSP (default 1,000 clients x 36 months).

    .venv/bin/python bench/features.py [--clients 1000] [--months 36] [--db sqlite|postgres]

1. World: integrations.simulator.simulate() writes a dump, integrations.dump.import_dump()
   loads it. Both are slow at this size, so the dump and the loaded SQLite file are cached
   under --cache (default /tmp/superhack-bench) and reused. --db postgres loads into the
   database named by DATABASE_URL (once: a database that already holds the world is reused).
2. Full build: the ml tables are emptied (TRUNCATE on PostgreSQL, see clear_features) and
   build_features() runs in a fresh process, so its wall time and peak resident memory
   (ru_maxrss of that process; PostgreSQL's server memory is not included) are the build's own.
3. Incremental build: every worklog of one month gets a minute more and a new sync run, as a
   sync that re-delivered that month would leave it; build_features() runs again, in a
   fresh process.
   Then the same for the latest month, the one a daily sync changes (in this world the data
   ends on a month's last day, so that month is complete and its clients are assigned to its
   segments again).
4. The same in a running worker, where builds really run (django-q's worker is long-lived):
   the process that ran the first full build empties the tables, builds again, touches a
   month and builds incrementally. A fresh interpreter pays ~0.3 s of one-off costs (heap
   growth, first calls into pandas and scikit-learn) that a worker pays once.
5. Equivalence: the snapshot and genome the incremental builds left are compared, value for
   value, with what a full build then writes.
6. Pandas baseline: the same per-(client, month) aggregates computed with pandas groupby over
   frames already in memory (loading them is not timed), as a ratio to the database time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "superhack.settings")
    import django

    django.setup()


def world_url(args) -> str:
    if args.db == "postgres":
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            sys.exit("--db postgres needs DATABASE_URL=postgres://...")
        return url
    return f"sqlite:///{args.cache}/world-{args.clients}x{args.months}-s{args.seed}.sqlite3"


def ensure_world(args) -> dict:
    """Simulate and load the world unless the database already holds it."""
    from django.core.management import call_command

    from clients.models import Client, Ticket, Worklog

    call_command("migrate", verbosity=0)
    if Client.objects.count() == 0:
        from integrations.dump import import_dump
        from integrations.simulator import simulate

        dump = Path(args.cache) / f"dump-{args.clients}x{args.months}-s{args.seed}"
        if not (dump / "manifest.json").exists():
            print(f"Simulating {args.clients} clients x {args.months} months into {dump} ...", flush=True)
            started = time.perf_counter()
            simulate(args.clients, args.months, args.seed, 0.05, 0.12, dump, end_month=date(2026, 10, 1))
            print(f"  simulated in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"Loading {dump} ...", flush=True)
        started = time.perf_counter()
        import_dump(dump, progress=False)
        print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them
    # on a live database; a freshly bulk-loaded one has none. Not timed.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"clients": Client.objects.count(), "tickets": Ticket.objects.count(), "worklogs": Worklog.objects.count()}


def phase(args, name: str) -> dict:
    """Run one measured phase in a fresh interpreter and return what it printed (JSON)."""
    env = dict(os.environ, DATABASE_URL=world_url(args))
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--db",
        args.db,
        "--clients",
        str(args.clients),
        "--months",
        str(args.months),
        "--seed",
        str(args.seed),
        "--cache",
        args.cache,
    ]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_phase(name: str) -> dict:
    if name == "touch":
        return touch_month()
    if name == "touch-current":
        return touch_month(current=True)
    if name == "pandas":
        return pandas_baseline()
    if name == "worker":
        return worker()
    if name == "equivalence":
        return equivalence()
    return timed_build()


def clear_features() -> None:
    """Empty the feature tables as a new deployment has them. On PostgreSQL with TRUNCATE: a
    DELETE leaves every row dead until autovacuum runs (this machine's server runs without
    it), and each clear-and-rebuild would then grow the snapshot by its whole size; after two
    the incremental build's scans read three times the pages a live deployment has."""
    from django.db import connection

    from ml.models import ClientMonthKPI, FeatureBuild, GenomeVector, Segment

    models = (GenomeVector, Segment, ClientMonthKPI, FeatureBuild)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(m._meta.db_table for m in models))
        return
    for model in models:
        model.objects.all().delete()


def timed_build() -> dict:
    from ml.features.build import build_features

    started = time.perf_counter()
    report = build_features(trigger="test")
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rows": report.kpi_rows_written,
        "genomes": report.genome_rows_written,
        "segments": report.segments,
        "clients": report.clients_rebuilt,
        "from": str(report.rebuilt_from),
        "timings": report.timings,
    }


def worker() -> dict:
    """Builds as the django-q worker runs them: one long-lived process, build after build.
    The first full build is also the fresh-process figure (its peak memory is read before
    anything else runs); the second full build and the incremental one run warm."""
    clear_features()
    cold = timed_build()
    clear_features()
    warm = timed_build()
    touched = touch_month()
    incremental = timed_build()
    return {"full_cold": cold, "full_warm": warm, "touched": touched, "incremental_warm": incremental}


def equivalence() -> dict:
    """Whether the snapshot and the genome the incremental builds left are exactly what a full
    build gives: every stored KPI and every vector's raw values, scaled values and group
    scores, compared as the database's text of them. Ends with a full build in place."""
    from django.db import connection

    from ml.features.build import build_features
    from ml.features.store import KPI_COLUMNS

    def rows(sql: str) -> dict:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return {tuple(r[:2]): r[2:] for r in cursor.fetchall()}

    def text(column: str) -> str:
        return f"CAST({column} AS TEXT)"

    kpi_sql = (
        f"SELECT client_id, month, partial_month, {text('quality_notes')}, "
        f"{', '.join(text(c) for c in KPI_COLUMNS)} FROM ml_clientmonthkpi"
    )
    genome_sql = (
        f"SELECT client_id, month, {text('raw')}, {text(connection.ops.quote_name('values'))}, "
        f"{text('missing')}, financial_health, operational_efficiency, engagement, growth_potential, risk_factors "
        "FROM ml_genomevector"
    )
    kpis, genomes = rows(kpi_sql), rows(genome_sql)
    clear_features()
    build_features(trigger="test")
    full_kpis, full_genomes = rows(kpi_sql), rows(genome_sql)
    return {
        "kpi_rows": len(full_kpis),
        "kpi_equal": sum(kpis.get(k) == v for k, v in full_kpis.items()) if len(kpis) == len(full_kpis) else 0,
        "genomes": len(full_genomes),
        "genome_equal": sum(genomes.get(k) == v for k, v in full_genomes.items())
        if len(genomes) == len(full_genomes)
        else 0,
    }


def touch_month(current: bool = False) -> dict:
    """Re-deliver the month before the latest one (or, with `current`, the latest month, as
    a daily sync does) of worklogs: +1 minute each, stamped by a new run."""
    from django.db.models import F, Max

    from clients.models import SyncRun, Worklog
    from ml.features import months

    last = Worklog.objects.aggregate(d=Max("work_date"))["d"]
    target = months.to_date(months.to_index(last) - (0 if current else 1))
    run = SyncRun.objects.create(
        source="superops", trigger="command", status="succeeded", detail="bench: re-delivered month"
    )
    n = Worklog.objects.filter(work_date__gte=target, work_date__lt=months.to_date(months.to_index(target) + 1)).update(
        minutes=F("minutes") + 1, sync_run=run
    )
    return {"month": str(target), "worklogs_touched": n}


def pandas_baseline() -> dict:
    """The KPI aggregates with pandas groupby over in-memory frames (load time excluded)."""
    import numpy as np
    import pandas as pd
    from django.db import connection

    connection.ensure_connection()

    def load(sql: str) -> pd.DataFrame:
        with warnings.catch_warnings():  # pandas prefers SQLAlchemy; a DB-API connection is fine here
            warnings.simplefilter("ignore")
            return pd.read_sql_query(sql, connection.connection)

    started = time.perf_counter()
    w = load(
        "SELECT w.client_id, w.work_date, w.technician_id, w.minutes, w.billable, w.after_hours, w.unit_price, "
        "w.billing_status, t.is_reactive FROM clients_worklog w LEFT JOIN clients_ticket t ON t.id = w.ticket_id"
    )
    t = load(
        "SELECT client_id, created_at, resolved_at, is_reactive, first_response_violated, resolution_violated, "
        "reopen_count, escalated FROM clients_ticket"
    )
    s = load("SELECT client_id, responded_at, score FROM clients_satisfactionsurvey")
    lines = load(
        "SELECT i.client_id, i.txn_date, l.kind, l.service_item_id, l.amount, i.exchange_rate, l.quantity, "
        "l.unit_price FROM clients_invoiceline l JOIN clients_invoice i ON i.id = l.invoice_id "
        "WHERE NOT i.voided AND i.client_id IS NOT NULL"
    )
    e = load(
        "SELECT client_id, txn_date, category, amount, exchange_rate FROM clients_expense WHERE client_id IS NOT NULL"
    )
    load_seconds = time.perf_counter() - started
    for frame, column in (
        (w, "work_date"),
        (t, "created_at"),
        (s, "responded_at"),
        (lines, "txn_date"),
        (e, "txn_date"),
    ):
        stamp = pd.to_datetime(frame[column], utc=True)
        frame["mi"] = stamp.dt.year * 12 + stamp.dt.month - 1
    t["res_h"] = (
        pd.to_datetime(t["resolved_at"], utc=True) - pd.to_datetime(t["created_at"], utc=True)
    ).dt.total_seconds() / 3600
    for frame, columns in (
        (w, ["unit_price"]),
        (lines, ["amount", "exchange_rate", "quantity", "unit_price"]),
        (e, ["amount", "exchange_rate"]),
    ):
        for c in columns:
            frame[c] = pd.to_numeric(frame[c])

    started = time.perf_counter()
    w["billable_minutes"] = np.where(
        w["billable"].astype(bool) & ~w["billing_status"].isin(["under_contract", "ignored"]), w["minutes"], 0
    )
    w["value"] = w["billable_minutes"] * w["unit_price"]
    w["reactive"] = np.where(w["is_reactive"].fillna(False).astype(bool), w["minutes"], 0)
    w["after"] = np.where(w["after_hours"].astype(bool), w["minutes"], 0)
    w.groupby(["client_id", "mi", "technician_id"], dropna=False)[
        ["minutes", "billable_minutes", "value", "reactive", "after"]
    ].sum()
    t["fr_ok"] = t["first_response_violated"].isin([False, 0]).astype(int)
    t["res_ok"] = t["resolution_violated"].isin([False, 0]).astype(int)
    g = t.groupby(["client_id", "mi"])
    g.agg(
        tickets=("is_reactive", "size"),
        reactive=("is_reactive", "sum"),
        res=("res_h", "mean"),
        fr=("fr_ok", "sum"),
        rs=("res_ok", "sum"),
        reopen=("reopen_count", lambda x: (x > 0).sum()),
        esc=("escalated", "sum"),
    )
    g["res_h"].quantile(0.9)
    s.groupby(["client_id", "mi"])["score"].agg(["size", "sum"])
    lines["home"] = (lines["amount"] * lines["exchange_rate"]).round(2)
    lines.groupby(["client_id", "mi", "kind", "service_item_id"], dropna=False).agg(
        home=("home", "sum"), qty=("quantity", "sum"), pmax=("unit_price", "max"), pmin=("unit_price", "min")
    )
    e["home"] = (e["amount"] * e["exchange_rate"]).round(2)
    e.groupby(["client_id", "mi", "category"])["home"].sum()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "load_seconds": round(load_seconds, 1),
        "rows": {"worklogs": len(w), "tickets": len(t), "surveys": len(s), "lines": len(lines), "expenses": len(e)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cache", default="/tmp/superhack-bench")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    if args.phase:
        setup(os.environ["DATABASE_URL"])
        print(json.dumps(run_phase(args.phase)))
        return
    setup(world_url(args))
    size = ensure_world(args)
    print(
        f"World on {args.db}: {size['clients']} clients, {size['tickets']:,} tickets, {size['worklogs']:,} worklogs",
        flush=True,
    )
    from django.db import connections

    connections.close_all()
    runs = phase(args, "worker")
    full, full_warm, warm = runs["full_cold"], runs["full_warm"], runs["incremental_warm"]
    print(
        f"Full build:        {full['seconds']:7.1f} s  peak {full['peak_mb']:5d} MB  {full['rows']:,} KPI rows, "
        f"{full['genomes']:,} genome vectors, {full['segments']} segments",
        flush=True,
    )
    print(f"  steps: {full['timings']}")
    touched = phase(args, "touch")
    incremental = phase(args, "incremental")
    print(
        f"Incremental build: {incremental['seconds']:7.1f} s  peak {incremental['peak_mb']:5d} MB  "
        f"({touched['worklogs_touched']:,} worklogs of {touched['month']} changed; rebuilt {incremental['clients']} "
        f"clients from {incremental['from']}) = {incremental['seconds'] / full['seconds']:.1%} of the full build"
    )
    print(f"  steps: {incremental['timings']}")
    daily = phase(args, "touch-current")
    current = phase(args, "incremental")
    print(
        f"Incremental build, latest month ({daily['worklogs_touched']:,} worklogs of {daily['month']} changed, "
        f"as a daily sync): {current['seconds']:.1f} s = {current['seconds'] / full['seconds']:.1%} of the full build"
    )
    print(f"  steps: {current['timings']}")
    print(
        f"In a running worker (each a process's second build or later): full {full_warm['seconds']:.1f} s, "
        f"incremental {warm['seconds']:.1f} s ({runs['touched']['worklogs_touched']:,} worklogs changed) "
        f"= {warm['seconds'] / full_warm['seconds']:.1%} of the full build"
    )
    print(f"  steps: {warm['timings']}")
    same = phase(args, "equivalence")
    print(
        f"Incremental builds end where a full build does: {same['kpi_equal']:,} of {same['kpi_rows']:,} KPI rows "
        f"and {same['genome_equal']:,} of {same['genomes']:,} genome vectors equal to the last digit",
        flush=True,
    )
    baseline = phase(args, "pandas")
    sql_seconds = sum(full["timings"].get(k, 0) for k in ("fingerprints", "small tables", "large tables"))
    print(
        f"Pandas groupby over in-memory frames: {baseline['seconds']:.1f} s (loading them took "
        f"{baseline['load_seconds']:.0f} s, not counted); database aggregation in the build: {sql_seconds:.1f} s "
        f"-> ratio {sql_seconds / baseline['seconds']:.2f}x; whole build / pandas: "
        f"{full['seconds'] / baseline['seconds']:.2f}x"
    )


if __name__ == "__main__":
    main()
