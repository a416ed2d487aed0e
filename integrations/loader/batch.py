"""Writing one batch of payload records: map, resolve refs, compare with what is stored,
then bulk-insert the new rows, bulk-update the changed ones and set the bad records aside,
all in one transaction so a batch is either fully written or not at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, transaction

from clients.models import (
    CreditMemo,
    CreditMemoLine,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    RejectedRecord,
    SyncRun,
)

from ..records import BadRecord, Mapped, Ref
from .columns import fk_attname, fk_attnames, fk_nullable, normalise
from .counts import LoadCounts
from .insert import insert_rows, pairs_by_key
from .refs import MISSING, RefMap

# Parent model -> (child model, the child's foreign key to the parent).
CHILDREN = {
    Invoice: (InvoiceLine, "invoice"), Payment: (PaymentApplication, "payment"),
    CreditMemo: (CreditMemoLine, "credit_memo"),
}
# Python errors a malformed payload can raise inside a mapper (a string where an object
# belongs, a list too short); the record is set aside instead of stopping the load.
SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, ArithmeticError)


@dataclass(slots=True)
class Record:
    payload: dict
    rows: list[Mapped]


@dataclass(slots=True)
class Row:
    record: Record
    mapped: Mapped
    values: dict[str, Any]
    children: list[dict[str, Any]] | None


Bad = tuple[Any, str, str]  # (payload, external id, reason)


def jsonable(value: Any) -> Any:
    """The payload as JSON can store it (dump files are read with Decimal numbers)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")  # PostgreSQL's jsonb cannot hold NUL
    return value


class BatchLoader:
    """Loads batches of one entity's records within one `load_records` call."""

    def __init__(self, source: str, entity: str, mapper: Callable, id_of: Callable[[Any], str], run: SyncRun,
                 realm: str = ""):
        self.source, self.entity, self.mapper, self.id_of, self.run = source, entity, mapper, id_of, run
        # The QuickBooks company of this load: rows of our own source are written, found and
        # referenced within it (two companies number their records independently).
        self.realm = realm
        self.refs = RefMap({source: realm} if realm else None)
        self.counts = LoadCounts()
        self._old_rejects = RejectedRecord.objects.filter(source=source, realm=self.realm, entity=entity,
                                                          resolved=False).exists()
        # (model, source) -> external ids created by this call when the table had no rows of
        # the source at its first write; None when it had some.
        self._fresh: dict[tuple, set[str] | None] = {}

    # -- public -------------------------------------------------------------------------
    def load(self, payloads: list[Any]) -> None:
        records, bad = self._map(payloads)
        try:
            with transaction.atomic():
                counts = self._write(records, bad)
        except (DatabaseError, ValueError):
            # The batch rolled back (psycopg2 raises ValueError for text it cannot send);
            # find the record the database refuses, one at a time.
            self.refs.clear()
            counts = self._write_one_by_one(records, bad)
        self.counts.add(counts)

    # -- mapping and refs ---------------------------------------------------------------
    def _map(self, payloads: list[Any]) -> tuple[list[Record], list[Bad]]:
        records: list[Record] = []
        bad: list[Bad] = []
        for payload in payloads:
            try:
                if not isinstance(payload, dict):
                    raise BadRecord(f"record {payload!r:.80} is not an object")
                out = self.mapper(payload)
                rows = out if isinstance(out, list) else [out]
                for row in rows:
                    if len(row.external_id) > 64:  # Expense ids are composed; the column holds 64
                        raise BadRecord(f"id {row.external_id!r} is longer than 64 characters")
                records.append(Record(payload, rows))
            except BadRecord as exc:
                bad.append((payload, self.id_of(payload), str(exc)))
            except SHAPE_ERRORS as exc:
                bad.append((payload, self.id_of(payload), f"unexpected shape ({type(exc).__name__}: {exc})"))
        return records, bad

    def _lookup(self, model, name: str, ref: Ref | None) -> Any:
        if ref is None:
            if not fk_nullable(model, name):
                raise BadRecord(f"{name} is missing")
            return None
        value = self.refs.get(ref)
        if value is not MISSING and value is not None:
            return value
        if value is MISSING:
            if ref.required:
                raise BadRecord(f"unknown {ref.label()}")
            return None
        if value is None and not fk_nullable(model, name):
            target = model._meta.get_field(name).related_model._meta.verbose_name
            raise BadRecord(f"{ref.label()} is not linked to a {target}")
        return value

    def _resolve(self, mapped: Mapped, deferred: set) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        model = mapped.model
        values = dict(mapped.fields)
        attnames = fk_attnames(model)
        for name, ref in mapped.refs.items():
            if ref is not None and ref.model in deferred:
                continue
            values[attnames[name]] = self._lookup(model, name, ref)
        normalise(model, values)
        children = None
        if mapped.model in CHILDREN:
            child_model = CHILDREN[mapped.model][0]
            children = []
            for child in mapped.children:
                row = {}
                for key, value in child.items():
                    if key.endswith("_ref"):
                        name = key[:-4]
                        row[fk_attname(child_model, name)] = self._lookup(child_model, name, value)
                    else:
                        row[key] = value
                children.append(normalise(child_model, row))
        return values, children

    @staticmethod
    def _all_refs(mapped: Mapped):
        yield from (ref for ref in mapped.refs.values() if ref is not None)
        for child in mapped.children:
            yield from (v for k, v in child.items() if k.endswith("_ref") and v is not None)

    # -- writing ------------------------------------------------------------------------
    def _write(self, records: list[Record], bad: list[Bad]) -> LoadCounts:
        counts = LoadCounts()
        bad = list(bad)
        in_batch = {m.model for r in records for m in r.rows}
        self.refs.prefetch(
            ref for r in records for m in r.rows for ref in self._all_refs(m) if ref.model not in in_batch
        )
        groups: dict[tuple, list[Row]] = {}
        for record in records:
            try:
                rows = [Row(record, m, *self._resolve(m, in_batch)) for m in record.rows]
            except BadRecord as exc:
                bad.append((record.payload, self.id_of(record.payload), str(exc)))
                continue
            for row in rows:
                groups.setdefault((row.mapped.model, row.mapped.source), []).append(row)
        for (model, source), rows in groups.items():
            rows = self._resolve_deferred(model, rows, in_batch, bad)
            self._write_model(model, source, rows, counts)
        self._set_aside(bad, counts)
        if self._old_rejects and groups:
            # A record that loads now no longer needs a person's attention.
            loaded = sorted({self.id_of(row.record.payload) for rows in groups.values() for row in rows})
            for start in range(0, len(loaded), 2000):
                RejectedRecord.objects.filter(
                    source=self.source, realm=self.realm, entity=self.entity, resolved=False,
                    external_id__in=loaded[start:start + 2000],
                ).exclude(last_run=self.run).update(resolved=True)
        return counts

    def _resolve_deferred(self, model, rows: list[Row], in_batch: set, bad: list[Bad]) -> list[Row]:
        """Refs to rows written earlier in this batch (a survey's ticket), now in the database."""
        pending = [ref for row in rows for ref in row.mapped.refs.values() if ref is not None and ref.model in in_batch]
        if not pending:
            return rows
        self.refs.prefetch(pending)
        kept = []
        for row in rows:
            try:
                extra = {fk_attname(model, name): self._lookup(model, name, ref)
                         for name, ref in row.mapped.refs.items() if ref is not None and ref.model in in_batch}
            except BadRecord as exc:
                bad.append((row.record.payload, self.id_of(row.record.payload), str(exc)))
                continue
            row.values.update(extra)
            kept.append(row)
        return kept

    def _write_model(self, model, source: str, rows: list[Row], counts: LoadCounts) -> None:
        latest: dict[str, Row] = {}
        for row in rows:
            latest[row.mapped.external_id] = row  # the same record twice in a batch: the later copy wins
        owned = getattr(model, "SET_LOCALLY", {})  # column -> flag: a person's value, never loaded over
        columns = sorted({name for row in latest.values() for name in row.values} | set(owned.values()))
        key = (model, source)
        if key not in self._fresh:
            # A table with no rows of this source (a first import) needs no look-up of
            # existing rows, beyond the ones this call created itself.
            stored = model.objects.filter(source=source, realm=self._realm(source)).exists()
            self._fresh[key] = None if stored else set()
        created_here = self._fresh[key]
        existing = {}
        if created_here is None or not created_here.isdisjoint(latest):
            existing = {
                r["external_id"]: r
                for r in model.objects.filter(
                    source=source, realm=self._realm(source), external_id__in=list(latest)
                ).values("pk", "external_id", *columns)
            }
        run_id = self.run.pk
        creates, updates, fields_changed = [], {}, set()
        kept_parents: list[tuple[Any, Row]] = []
        for external_id, row in latest.items():
            old = existing.get(external_id)
            if old is None:
                creates.append(row)
                continue
            for column, flag in owned.items():
                if old[flag]:
                    row.values.pop(column, None)
            changed = [name for name, value in row.values.items() if old[name] != value]
            if changed:
                fields_changed.update(changed)
                updates[old["pk"]] = (row, old)
            if row.children is not None:
                kept_parents.append((old, row))
        replace_children: list[tuple[Any, Row]] = []
        if kept_parents:
            # Lines are rewritten only when they differ, and then the invoice counts as updated.
            changed_parents = self._children_changed(model, [(old["pk"], row) for old, row in kept_parents])
            for old, row in kept_parents:
                if old["pk"] in changed_parents:
                    replace_children.append((old["pk"], row))
                    updates.setdefault(old["pk"], (row, old))
        created_pks: dict[str, Any] = {}
        if creates:
            created_pks = self._insert(model, source, creates)
            if created_here is not None:
                created_here.update(created_pks)
            replace_children.extend((created_pks[row.mapped.external_id], row) for row in creates
                                    if row.children is not None)
        if updates:
            # Columns a row's payload does not speak for keep their stored value (a burdened
            # cost set by a person), even when another row of the batch changes them.
            model.objects.bulk_update(
                [model(**{**old, **row.values, "sync_run_id": run_id}) for row, old in updates.values()],
                sorted(fields_changed | {"sync_run"}),
            )
        if replace_children:
            self._replace_children(model, replace_children)
        for row in creates:
            self.refs.remember(model, source, row.mapped.external_id, created_pks[row.mapped.external_id], row.values)
        for pk, (row, _old) in updates.items():
            self.refs.remember(model, source, row.mapped.external_id, pk, row.values)
        delta = LoadCounts(
            created=len(creates), updated=len(updates), unchanged=len(rows) - len(creates) - len(updates),
            child_rows=sum(len(row.children) for row in latest.values() if row.children),
        )
        counts.model(model.__name__).add(delta)
        counts.add(LoadCounts(delta.created, delta.updated, delta.unchanged, 0, delta.child_rows))

    def _insert(self, model, source: str, rows: list[Row]) -> dict[str, Any]:
        """Insert new rows; external id -> pk."""
        run_id, realm = self.run.pk, self._realm(source)
        saved = insert_rows(model, [
            {**row.values, "source": source, "realm": realm, "external_id": row.mapped.external_id,
             "sync_run_id": run_id}
            for row in rows
        ])
        if saved is not None:
            return {obj.external_id: obj.pk for obj in saved}
        return pairs_by_key(model, source, "external_id", [row.mapped.external_id for row in rows], "pk", realm)

    def _realm(self, source: str) -> str:
        return self.realm if source == self.source else ""

    def _children_changed(self, model, parents: list[tuple[Any, Row]]) -> set:
        child_model, parent_fk = CHILDREN[model]
        parent_attname = fk_attname(child_model, parent_fk)
        columns = sorted({name for _, row in parents for child in row.children for name in child})
        if not columns:
            columns = [f.attname for f in child_model._meta.concrete_fields
                       if not f.primary_key and f.attname != parent_attname]
        stored: dict[Any, Counter] = defaultdict(Counter)
        pks = [pk for pk, _ in parents]
        for start in range(0, len(pks), 2000):
            for r in child_model.objects.filter(**{f"{parent_attname}__in": pks[start:start + 2000]}).values(
                parent_attname, *columns
            ):
                stored[r[parent_attname]][tuple(r[c] for c in columns)] += 1
        changed = set()
        for pk, row in parents:
            wanted = Counter(tuple(child.get(c) for c in columns) for child in row.children)
            if wanted != stored.get(pk, Counter()):
                changed.add(pk)
        return changed

    def _replace_children(self, model, parents: list[tuple[Any, Row]]) -> None:
        child_model, parent_fk = CHILDREN[model]
        parent_attname = fk_attname(child_model, parent_fk)
        pks = [pk for pk, _ in parents]
        for start in range(0, len(pks), 2000):
            child_model.objects.filter(**{f"{parent_attname}__in": pks[start:start + 2000]}).delete()
        insert_rows(child_model, [{**child, parent_attname: pk} for pk, row in parents for child in row.children])

    def _set_aside(self, bad: list[Bad], counts: LoadCounts) -> None:
        if not bad:
            return
        rejects: dict[str, RejectedRecord] = {}
        for payload, external_id, reason in bad:
            data = jsonable(payload)
            digest = RejectedRecord.hash_payload(data)
            rejects[digest] = RejectedRecord(
                source=self.source, realm=self.realm, entity=self.entity, external_id=(external_id or "")[:64],
                payload=data,
                payload_hash=digest, reason=reason, last_run=self.run, resolved=False,
            )
            counts.set_aside += 1
            if len(counts.reasons) < LoadCounts.MAX_REASONS:
                counts.reasons.append(f"{external_id or '(no id)'}: {reason}")
        # The same bad payload on every run stays one row, pointing at the latest run.
        RejectedRecord.objects.bulk_create(
            list(rejects.values()), update_conflicts=True,
            unique_fields=["source", "realm", "entity", "payload_hash"],
            update_fields=["external_id", "reason", "last_run", "resolved"],
        )

    def _write_one_by_one(self, records: list[Record], bad: list[Bad]) -> LoadCounts:
        counts = LoadCounts()
        bad = list(bad)
        for record in records:
            try:
                with transaction.atomic():
                    counts.add(self._write([record], []))
            except (DatabaseError, ValueError) as exc:
                self.refs.clear()
                bad.append((record.payload, self.id_of(record.payload), f"the database refused it: {exc}"))
        with transaction.atomic():
            counts.add(self._write([], bad))
        return counts
