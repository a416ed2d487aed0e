"""The recovery workflow: open -> confirmed -> recovered (with the amount recovered), or
dismissed (with a reason) from open or confirmed. Recovered and dismissed are final.

Each change is one transaction: the finding is locked, the move checked, the finding saved
and an audit event written with who, when, from, to, the note and any amount. A move the
workflow does not allow raises `IllegalTransition` saying what is allowed instead.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from insights.models import LeakFinding, LeakFindingEvent

Status = LeakFinding.Status
ALLOWED = {
    Status.OPEN: (Status.CONFIRMED, Status.DISMISSED),
    Status.CONFIRMED: (Status.RECOVERED, Status.DISMISSED),
    Status.RECOVERED: (),
    Status.DISMISSED: (),
}


class IllegalTransition(ValueError):
    """A status change the workflow does not allow, or one missing what it needs."""


def confirm(finding: LeakFinding | int, user, note: str = "") -> LeakFinding:
    """A person agrees the money was not billed."""
    return _move(finding, Status.CONFIRMED, user, note)


def recover(finding: LeakFinding | int, user, amount, note: str = "") -> LeakFinding:
    """The money (or part of it) was billed or collected: `amount` in the home currency."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise IllegalTransition(f"recovered amount {amount!r} is not a number") from None
    if value < 0:
        raise IllegalTransition(f"recovered amount {value} is negative")
    return _move(finding, Status.RECOVERED, user, note, amount=value)


def dismiss(finding: LeakFinding | int, user, reason: str) -> LeakFinding:
    """Not a leak (a documented discount, a deliberate goodwill gesture, a data error...)."""
    if not (reason or "").strip():
        raise IllegalTransition("a dismissal needs a reason")
    return _move(finding, Status.DISMISSED, user, reason.strip())


def _move(finding: LeakFinding | int, to: str, user, note: str, amount: Decimal | None = None) -> LeakFinding:
    pk = finding.pk if isinstance(finding, LeakFinding) else finding
    with transaction.atomic():
        f = LeakFinding.objects.select_for_update().get(pk=pk)
        if to not in ALLOWED[f.status]:
            allowed = " or ".join(str(s) for s in ALLOWED[f.status]) or "nothing (it is final)"
            raise IllegalTransition(f"finding #{f.pk} is {f.status}: it cannot become {to}; it can become {allowed}")
        now = timezone.now()
        previous = f.status
        f.status, f.status_changed_at = to, now
        if to == Status.RECOVERED:
            f.recovered_amount = amount
        if to == Status.DISMISSED:
            f.dismiss_reason = note
        f.save(update_fields=["status", "status_changed_at", "recovered_amount", "dismiss_reason"])
        LeakFindingEvent.objects.create(
            finding=f, from_status=previous, to_status=to, user=user if getattr(user, "pk", None) else None,
            username=getattr(user, "get_username", lambda: "")() if user is not None else "", at=now, note=note,
            amount=amount)
    if isinstance(finding, LeakFinding):
        finding.refresh_from_db()
    return f
