"""python manage.py export_leaks [--format json|csv] [--output FILE] [--status S] [--type T]
[--since YYYY-MM] [--monthly]: write findings (or, with --monthly, identified against
recovered per month) as JSON or CSV, to stdout by default."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from insights.leaks.export import finding_rows, write_csv, write_json
from insights.leaks.reports import identified_vs_recovered
from insights.models import FindingType, LeakFinding


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--since {text!r} is not a month (YYYY-MM)") from None


class Command(BaseCommand):
    help = "Export leak findings (or identified vs recovered per month) as JSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument("--output", help="File to write (default: standard output)")
        parser.add_argument("--status", action="append", choices=LeakFinding.Status.values,
                            help="Only findings with this status (repeatable)")
        parser.add_argument("--type", action="append", dest="types", choices=FindingType.values,
                            help="Only findings of this type (repeatable)")
        parser.add_argument("--since", help="Only leak months from this one (YYYY-MM)")
        parser.add_argument("--monthly", action="store_true",
                            help="Identified, confirmed, recovered and dismissed amounts per leak month")

    def handle(self, *args, format="json", output=None, status=None, types=None, since=None, monthly=False,
               **options):
        first = _month(since) if since else None
        if monthly:
            rows = [m.as_dict() for m in identified_vs_recovered(first=first, types=types)]
        else:
            qs = LeakFinding.objects.all()
            if status:
                qs = qs.filter(status__in=status)
            if types:
                qs = qs.filter(finding_type__in=types)
            if first:
                qs = qs.filter(period__gte=first)
            rows = finding_rows(qs)
        buffer = io.StringIO()
        if format == "json":
            write_json(rows, buffer)
        elif monthly:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["period"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        else:
            write_csv(rows, buffer)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                out.write(buffer.getvalue())
            self.stderr.write(f"{len(rows)} rows written to {output}")
        else:
            self.stdout.write(buffer.getvalue(), ending="")
