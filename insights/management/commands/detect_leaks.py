"""python manage.py detect_leaks [--rule NAME ...]: run the leak rules and write findings.

Prints one line per rule (findings, new, updated, no longer detected, amount, seconds) or the
error of a rule that failed; the other rules still run, and the command then exits non-zero
naming the failed ones."""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from insights.leaks import all_rules, detect_leaks


class Command(BaseCommand):
    help = "Find revenue leaks: run every reconciliation rule and write its findings."

    def add_arguments(self, parser):
        parser.add_argument("--rule", action="append", dest="rules", metavar="NAME",
                            help=f"Run only this rule (repeatable): {', '.join(sorted(all_rules()))}")

    def handle(self, *args, rules=None, **options):
        try:
            report = detect_leaks(rules=rules, trigger="command")
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        width = max(len(r.name) for r in report.results)
        total, findings = Decimal("0"), 0
        for r in report.results:
            if r.ok:
                total += Decimal(r.amount)
                findings += r.findings
                self.stdout.write(
                    f"{r.name:<{width}}  v{r.version}  {r.findings:>6} findings ({r.created} new, {r.updated} updated, "
                    f"{r.no_longer_detected} no longer detected)  ${Decimal(r.amount):>14,.2f}  {r.seconds:6.2f} s")
            else:
                self.stderr.write(self.style.ERROR(f"{r.name:<{width}}  v{r.version}  FAILED: {r.error}"))
        self.stdout.write(f"{'total':<{width}}      {findings:>6} findings{'':>44}${total:>14,.2f}  "
                          f"{report.seconds:6.2f} s (run {report.run_id})")
        if report.failed:
            names = ", ".join(r.name for r in report.failed)
            raise CommandError(f"{len(report.failed)} of {len(report.results)} rules failed: {names}")
