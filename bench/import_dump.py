"""Benchmark of `import_dump` against a raw `bulk_create` of the same rows.

    .venv/bin/python bench/import_dump.py [--clients 500 --months 36 --seed 7] [--dump DIR]

Generates a world with integrations.simulator.simulate (in a child process, so the
generator's memory does not count towards the import's peak), imports it into a fresh
SQLite database with the project's default settings (WAL), imports it again (nothing should
be written), then copies the same rows into a second, empty database with plain
`bulk_create` in the loader's batch size (one transaction each, same SQLite page cache) and
compares the speeds. The issue's goals: the import at least half as fast as the raw insert,
and 500 clients x 36 months in under 3 minutes. CPU seconds are printed beside wall seconds
because on a shared machine the wall time also measures the neighbours.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.worlds import generate  # noqa: E402  (after the path is set)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--leak-rate", type=float, default=0.05)
    parser.add_argument("--churn-rate", type=float, default=0.12)
    parser.add_argument("--dump", type=Path, help="import this dump folder instead of generating one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (dump and databases)")
    parser.add_argument("--no-second-run", action="store_true", help="skip the idempotent re-import")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="superhack-bench-"))
    # The project's default database (SQLite under VAR_DIR, WAL), in a folder of our own.
    os.environ.pop("DATABASE_URL", None)
    os.environ["SUPERHACK_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    try:
        dump = args.dump
        if dump is None:
            dump = work / "dump"
            seconds = generate(args, dump)
            print(f"generated {args.clients} clients x {args.months} months (seed {args.seed}) in {seconds:.1f} s")
        report(run_bench(dump, work, second_run=not args.no_second_run), dump)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def data_models():
    """The models a dump fills, from the entity table, with their line tables (invoice lines,
    payment applications, credit memo lines), parents before children."""
    from django.apps import apps

    from integrations import entities

    synced = {apps.get_model(rows.model) for kind in entities.TABLE for rows in kind.rows}
    lines = {m for m in apps.get_app_config("clients").get_models()
             if any(f.is_relation and f.related_model in synced for f in m._meta.fields)
             and not hasattr(m, "external_id") and m._meta.model_name != "rowchange"}
    wanted = synced | lines
    ordered: list = []

    def visit(model) -> None:
        if model in ordered:
            return
        for field in model._meta.fields:
            if field.is_relation and field.related_model in wanted and field.related_model is not model:
                visit(field.related_model)
        ordered.append(model)

    for model in sorted(wanted, key=lambda m: m.__name__):
        visit(model)
    return ordered


def run_bench(dump: Path, work: Path, second_run: bool) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections, transaction

    from clients.models import SyncRun
    from integrations.dump import format_summary, import_dump
    from integrations.loader import BATCH_SIZE
    from integrations.loader.insert import SQLITE_CACHE_KIB

    # Time the load alone: no feature rebuild queued into this throwaway database.
    settings.ML_BUILD_AFTER_SYNC = False

    call_command("migrate", verbosity=0)
    result: dict = {}
    started, cpu = time.perf_counter(), time.process_time()
    run = import_dump(dump, progress=sys.stderr.isatty())
    result["import_s"] = time.perf_counter() - started
    # CPU seconds too: on a shared machine the wall time says as much about the neighbours.
    result["import_cpu_s"] = time.process_time() - cpu
    result["import_peak_mb"] = peak_rss_mb()
    print(format_summary(run))
    models = data_models()
    result["rows"] = {m.__name__: m.objects.count() for m in models}
    result["status"], result["set_aside"] = run.status, run.set_aside

    if second_run:
        started, cpu = time.perf_counter(), time.process_time()
        again = import_dump(dump, progress=False)
        result["second_s"] = time.perf_counter() - started
        result["second_cpu_s"] = time.process_time() - cpu
        result["second_counts"] = (again.created, again.updated, again.unchanged, again.set_aside)

    # The raw baseline: the same rows, read back from the imported database, inserted into
    # an empty one with bulk_create; only building the objects and inserting is timed.
    raw = copy.deepcopy(connections.settings["default"])
    raw["NAME"] = str(work / "var" / "raw.sqlite3")
    connections.settings["raw"] = raw
    call_command("migrate", database="raw", verbosity=0)
    with connections["raw"].cursor() as cursor:  # the same page cache the loader gives itself
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    SyncRun.objects.using("raw").bulk_create(list(SyncRun.objects.all()))
    raw_s = raw_cpu_s = 0.0
    for model in models:
        rows = model.objects.order_by("pk").values().iterator(chunk_size=BATCH_SIZE)
        while True:
            chunk = [row for _, row in zip(range(BATCH_SIZE), rows, strict=False)]
            if not chunk:
                break
            started, cpu = time.perf_counter(), time.process_time()
            with transaction.atomic(using="raw"):
                model.objects.using("raw").bulk_create([model(**row) for row in chunk])
            raw_s += time.perf_counter() - started
            raw_cpu_s += time.process_time() - cpu
    result["raw_s"], result["raw_cpu_s"] = raw_s, raw_cpu_s
    result["raw_rows"] = sum(m.objects.using("raw").count() for m in models)
    return result


def report(result: dict, dump: Path) -> None:
    rows = sum(result["rows"].values())
    payload_files = sum(1 for _ in dump.rglob("page-*.json"))
    size_mb = sum(p.stat().st_size for p in dump.rglob("*.json")) / 1e6
    import_rate = rows / result["import_s"]
    raw_rate = result["raw_rows"] / result["raw_s"]
    print()
    print(f"dump: {payload_files} pages, {size_mb:.0f} MB; rows by model: {json.dumps(result['rows'])}")
    load = os.getloadavg()[0]
    print(f"{'':16}{'rows':>10}{'wall s':>9}{'rows/s':>9}{'cpu s':>8}{'rows/cpu s':>11}")
    print(f"import_dump     {rows:>10,}{result['import_s']:>9.1f}{import_rate:>9,.0f}{result['import_cpu_s']:>8.1f}"
          f"{rows / result['import_cpu_s']:>11,.0f}  (status {result['status']}, {result['set_aside']} set aside)")
    if "second_s" in result:
        created, updated, unchanged, aside = result["second_counts"]
        print(f"second import   {rows:>10,}{result['second_s']:>9.1f}{rows / result['second_s']:>9,.0f}"
              f"{result['second_cpu_s']:>8.1f}{rows / result['second_cpu_s']:>11,.0f}  "
              f"(created {created}, updated {updated}, unchanged {unchanged}, set aside {aside})")
    print(f"raw bulk_create {result['raw_rows']:>10,}{result['raw_s']:>9.1f}{raw_rate:>9,.0f}"
          f"{result['raw_cpu_s']:>8.1f}"
          f"{result['raw_rows'] / result['raw_cpu_s']:>11,.0f}")
    print(f"ratio import/raw {import_rate / raw_rate:.2f} wall, "
          f"{(rows / result['import_cpu_s']) / (result['raw_rows'] / result['raw_cpu_s']):.2f} cpu (goal >= 0.5); "
          f"peak RSS during import {result['import_peak_mb']:.0f} MB, at the end {peak_rss_mb():.0f} MB; "
          f"load average now {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
