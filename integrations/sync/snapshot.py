"""A run-independent picture of the synced data, for proving two loads equal row for row:
every synced row by (source, external_id) with its values, foreign keys named by the
referenced row's (source, external_id) instead of a pk, and which run wrote it left out."""

from __future__ import annotations

from django.db import models

from clients import models as cm

SYNCED = [cm.Client, cm.Customer, cm.Technician, cm.Employee, cm.ServiceItem, cm.Contract, cm.Asset, cm.Ticket,
          cm.Worklog, cm.SatisfactionSurvey, cm.Invoice, cm.Payment, cm.Expense, cm.Interaction]
# realm: an import_dump of a company's files knows no realm id, a live sync does; the rows
# are the same either way.
SKIP = {"id", "sync_run", "deleted_at_source", "realm"}


def _keys(model) -> dict:
    return {pk: (source, external_id) for pk, source, external_id in
            model.objects.values_list("pk", "source", "external_id")}


def snapshot(sources: tuple[str, ...] = ("superops", "quickbooks"), include_deleted: bool = False) -> dict:
    """{model name: {(source, external_id): {column: value}}} plus invoice lines, payment
    applications and records set aside."""
    keys = {model: _keys(model) for model in SYNCED}
    out: dict = {}
    for model in SYNCED:
        columns = [f for f in model._meta.concrete_fields if f.name not in SKIP]
        rows = {}
        queryset = model.objects.filter(source__in=sources)
        if not include_deleted:
            queryset = queryset.filter(deleted_at_source__isnull=True)
        for row in queryset.values("source", "external_id", *[f.attname for f in columns]):
            values = {}
            for f in columns:
                value = row[f.attname]
                if isinstance(f, models.ForeignKey) and value is not None:
                    value = keys[f.related_model].get(value, ("?", value))
                values[f.name] = value
            rows[(row["source"], row["external_id"])] = values
        out[model.__name__] = rows
    invoices, payments = keys[cm.Invoice], keys[cm.Payment]
    items = keys[cm.ServiceItem]
    if not include_deleted:  # children of a deleted invoice or payment went with it
        live_invoices = set(cm.Invoice.objects.filter(deleted_at_source__isnull=True).values_list("pk", flat=True))
        live_payments = set(cm.Payment.objects.filter(deleted_at_source__isnull=True).values_list("pk", flat=True))
        invoices = {pk: key for pk, key in invoices.items() if pk in live_invoices}
        payments = {pk: key for pk, key in payments.items() if pk in live_payments}
    out["InvoiceLine"] = {
        (invoices[line["invoice_id"]], line["line_id"]): {k: (items.get(v) if k == "service_item_id" else v)
                                                        for k, v in line.items() if k not in ("id", "invoice_id")}
        for line in cm.InvoiceLine.objects.values()
        if line["invoice_id"] in invoices and invoices[line["invoice_id"]][0] in sources}
    out["PaymentApplication"] = {
        (payments[a["payment_id"]], invoices[a["invoice_id"]]): a["amount"]
        for a in cm.PaymentApplication.objects.values()
        if a["payment_id"] in payments and a["invoice_id"] in invoices and payments[a["payment_id"]][0] in sources}
    out["RejectedRecord"] = sorted(
        (r.source, r.entity, r.external_id, r.reason) for r in cm.RejectedRecord.objects.filter(source__in=sources))
    return out


def differences(a: dict, b: dict, limit: int = 10) -> list[str]:
    """Human-readable differences between two snapshots (empty when equal)."""
    out = []
    for name in a.keys() | b.keys():
        left, right = a.get(name, {}), b.get(name, {})
        if isinstance(left, list):
            if left != right:
                out.append(f"{name}: {sorted(set(left) ^ set(right))[:3]}")
            continue
        for key in sorted(left.keys() - right.keys(), key=str)[:limit]:
            out.append(f"{name} {key} only in the first")
        for key in sorted(right.keys() - left.keys(), key=str)[:limit]:
            out.append(f"{name} {key} only in the second")
        for key in sorted(left.keys() & right.keys(), key=str):
            if left[key] != right[key]:
                diff = {k: (left[key].get(k), right[key].get(k))
                        for k in left[key] if left[key].get(k) != right[key].get(k)}
                out.append(f"{name} {key}: {diff}")
                if len(out) > limit * 3:
                    return out
    return out


def snapshot_text(sources: tuple[str, ...] = ("superops", "quickbooks")) -> str:
    """The snapshot as canonical text, to compare databases of different processes."""
    import json

    data = snapshot(sources)
    flat = {name: sorted([str(k), sorted((c, str(v)) for c, v in values.items()) if isinstance(values, dict)
                          else str(values)] for k, values in rows.items()) if isinstance(rows, dict)
            else [list(map(str, r)) for r in rows] for name, rows in data.items()}
    return json.dumps(flat, sort_keys=True)
