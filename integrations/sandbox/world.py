"""The simulated world a sandbox serves: every SuperOps list and QuickBooks entity of a dump
folder, keyed by id, plus what was deleted and a clock. Mutations (edits, deletions, new
tickets) move the clock forward and stamp what they touch, so incremental reads see them."""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from integrations import entities
from integrations.timestamps import parse_time, so_time  # noqa: F401  (re-exported for the handlers)

# query -> (list key, id key). The tenant vocabularies (getClientStageList, getPriorityList)
# have no list key: their page body is {"data": {"<query>": [...]}}, unpaged.
SUPEROPS_LISTS: dict[str, tuple[str | None, str]] = {
    **{kind.name: (kind.list_key, kind.id_key) for kind in entities.of("superops")},
    **{name: (None, id_key) for name, id_key in entities.VOCABULARIES.items()},
}
QUICKBOOKS_ENTITIES = [kind.name for kind in entities.of("quickbooks")]
SO_PAGE = 100
PACIFIC = ZoneInfo("America/Los_Angeles")
QB_PAGE = 1000


def qb_time(value: datetime) -> str:
    # QuickBooks answers in the company's zone; Pacific keeps the demo looking real.
    return value.astimezone(PACIFIC).isoformat()


def qb_updated(record: dict) -> datetime | None:
    raw = (record.get("MetaData") or {}).get("LastUpdatedTime")
    return parse_time(raw) if raw else None


@dataclass
class Changes:
    """What a mutation did, so a test can check that an incremental sync brought exactly it."""

    edited: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (source, entity) -> ids
    deleted: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    created: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)  # QuickBooks webhook events


class World:
    def __init__(self, manifest: dict, superops: dict, quickbooks: dict, local: dict):
        self.manifest = manifest
        self.superops: dict[str, dict[str, dict]] = superops
        self.quickbooks: dict[str, dict[str, dict]] = quickbooks
        self.local = local  # path -> body, written back unchanged
        self.qb_deleted: dict[str, dict[str, datetime]] = {e: {} for e in QUICKBOOKS_ENTITIES}
        self.so_deleted: dict[str, set[str]] = {q: set() for q in SUPEROPS_LISTS}
        self.realm_id = str(manifest.get("realm_id") or "9341453000000001")
        self.clock = self._latest_time() + timedelta(hours=1)
        self.next_id = 10_000_000
        self.version = 0  # bumped by every change made through these methods

    # --- loading and writing dump folders
    @classmethod
    def load(cls, directory: str | Path) -> World:
        root = Path(directory)
        manifest = json.loads((root / "manifest.json").read_text()) if (root / "manifest.json").exists() else {}
        superops: dict[str, dict[str, dict]] = {}
        for query, (list_key, id_key) in SUPEROPS_LISTS.items():
            superops[query] = {}
            for page in sorted((root / "superops" / query).glob("page-*.json")):
                body = json.loads(page.read_text())
                found = body["data"][query] if list_key is None else body["data"][query][list_key]
                for record in found or []:
                    superops[query][str(record.get(id_key))] = record
        quickbooks: dict[str, dict[str, dict]] = {}
        for entity in QUICKBOOKS_ENTITIES:
            quickbooks[entity] = {}
            for page in sorted((root / "quickbooks" / entity).glob("page-*.json")):
                body = json.loads(page.read_text())
                for record in body["QueryResponse"].get(entity) or []:
                    quickbooks[entity][str(record["Id"])] = record
        local = {}
        for path in sorted((root / "local").rglob("*.json")) if (root / "local").exists() else []:
            local[str(path.relative_to(root))] = path.read_text()
        return cls(manifest, superops, quickbooks, local)

    def write_dump(self, directory: str | Path) -> Path:
        """The world as it is now, in the dump layout (deleted records left out)."""
        root = Path(directory)
        for query, (list_key, _) in SUPEROPS_LISTS.items():
            records = list(self.superops[query].values())
            pages = [records[i : i + SO_PAGE] for i in range(0, len(records), SO_PAGE)] or [[]]
            if list_key is None:
                _write(root / "superops" / query / "page-0001.json", {"data": {query: records}})
                continue
            for number, chunk in enumerate(pages, 1):
                body = {"data": {query: {list_key: chunk, "listInfo": {
                    "page": number, "pageSize": SO_PAGE, "hasMore": number < len(pages),
                    "totalCount": len(records)}}}}
                _write(root / "superops" / query / f"page-{number:04d}.json", body)
        for entity in QUICKBOOKS_ENTITIES:
            records = list(self.quickbooks[entity].values())
            pages = [records[i : i + QB_PAGE] for i in range(0, len(records), QB_PAGE)] or [[]]
            for number, chunk in enumerate(pages, 1):
                body = {"QueryResponse": {entity: chunk, "startPosition": (number - 1) * QB_PAGE + 1,
                                          "maxResults": len(chunk), "totalCount": len(records)},
                        "time": qb_time(self.clock)}
                _write(root / "quickbooks" / entity / f"page-{number:04d}.json", body)
        for rel, text in self.local.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        manifest = dict(self.manifest, files={})
        _write(root / "manifest.json", manifest)
        return root

    def _latest_time(self) -> datetime:
        latest = parse_time("2000-01-01T00:00:00")
        for records in self.superops.values():
            for record in records.values():
                if record.get("updatedTime"):
                    latest = max(latest, parse_time(record["updatedTime"]))
        for records in self.quickbooks.values():
            for record in records.values():
                stamp = qb_updated(record)
                if stamp:
                    latest = max(latest, stamp)
        return latest

    def tick(self, minutes: int = 60) -> datetime:
        self.version += 1
        self.clock += timedelta(minutes=minutes)
        return self.clock

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    # --- mutations for incremental tests
    def mutate(self, seed: int = 1, edits: int = 3, deletions: int = 2, new_tickets: int = 2) -> Changes:
        """Edit clients, tickets and invoices, delete invoices and payments in QuickBooks and
        tickets in SuperOps, and open new tickets with a worklog each."""
        rng = random.Random(seed)
        changes = Changes()
        now = self.tick()

        def pick(records: dict, count: int) -> list[str]:
            ids = sorted(records)
            return rng.sample(ids, min(count, len(ids)))

        for account_id in pick(self.superops["getClientList"], edits):
            client = self.superops["getClientList"][account_id]
            fields = dict(client.get("customFields") or {})
            fields["industry"] = f"{fields.get('industry') or 'Services'} (edited)"
            client["customFields"] = fields  # Client has no updatedTime in SuperOps' schema
            changes.edited.setdefault(("superops", "getClientList"), []).append(account_id)
        tickets = self.superops["getTicketList"]
        for ticket_id in pick(tickets, edits):
            tickets[ticket_id]["subject"] = tickets[ticket_id]["subject"] + " (edited)"
            tickets[ticket_id]["updatedTime"] = so_time(now)
            changes.edited.setdefault(("superops", "getTicketList"), []).append(ticket_id)
        invoices = self.quickbooks["Invoice"]
        for invoice_id in pick(invoices, edits):
            invoice = invoices[invoice_id]
            invoice["PrivateNote"] = ((invoice.get("PrivateNote") or "") + " edited").strip()
            invoice["DueDate"] = invoice.get("DueDate") or invoice.get("TxnDate")
            self._stamp_qb(invoice, now)
            changes.edited.setdefault(("quickbooks", "Invoice"), []).append(invoice_id)
            changes.events.append(self._event("Invoice", invoice_id, "Update", now))
        paid = {str(link["TxnId"]) for p in self.quickbooks["Payment"].values()
                for line in p.get("Line") or [] for link in line.get("LinkedTxn") or []}
        edited_invoices = set(changes.edited.get(("quickbooks", "Invoice"), []))
        unpaid = {k: v for k, v in invoices.items() if k not in paid and k not in edited_invoices}
        for entity, pool in (("Invoice", unpaid), ("Payment", self.quickbooks["Payment"])):
            for record_id in pick(pool, deletions):
                del self.quickbooks[entity][record_id]
                self.qb_deleted[entity][record_id] = now
                changes.deleted.setdefault(("quickbooks", entity), []).append(record_id)
                changes.events.append(self._event(entity, record_id, "Delete", now))
        # Deleting a ticket in SuperOps takes its worklog entries with it.
        edited_tickets = set(changes.edited.get(("superops", "getTicketList"), []))
        for ticket_id in pick({k: v for k, v in tickets.items() if k not in edited_tickets}, 1 if deletions else 0):
            del tickets[ticket_id]
            self.so_deleted["getTicketList"].add(ticket_id)
            changes.deleted.setdefault(("superops", "getTicketList"), []).append(ticket_id)
            entries = self.superops["getWorklogEntries"]
            logged = [k for k, w in entries.items() if str((w.get("workItem") or {}).get("workId")) == ticket_id]
            for entry_id in logged:
                del entries[entry_id]
                self.so_deleted["getWorklogEntries"].add(entry_id)
                changes.deleted.setdefault(("superops", "getWorklogEntries"), []).append(entry_id)
        worklogs = self.superops["getWorklogEntries"]
        templates = [t for t in tickets.values() if t.get("client")]
        for _ in range(new_tickets if templates else 0):
            ticket = copy.deepcopy(rng.choice(templates))
            ticket_id = self.new_id()
            ticket.update(ticketId=ticket_id, displayId=f"T-{ticket_id}", subject="New: printer offline",
                          createdTime=so_time(now - timedelta(minutes=30)), updatedTime=so_time(now))
            tickets[ticket_id] = ticket
            changes.created.setdefault(("superops", "getTicketList"), []).append(ticket_id)
            if worklogs:
                entry = copy.deepcopy(next(iter(worklogs.values())))
                entry_id = self.new_id()
                entry.update(itemId=entry_id, qty="0.50", billDateTime=so_time(now - timedelta(minutes=20)),
                             notes="Restarted the print spooler",
                             workItem={"workId": ticket_id, "module": "TICKET", "client": ticket["client"]})
                worklogs[entry_id] = entry
                changes.created.setdefault(("superops", "getWorklogEntries"), []).append(entry_id)
        return changes

    def edit_superops(self, query: str, record_id: str, **fields) -> dict:
        """Change one SuperOps record now (stamped, if its type has updatedTime)."""
        record = self.superops[query][record_id]
        record.update(fields)
        now = self.tick(1)
        if "updatedTime" in record:
            record["updatedTime"] = so_time(now)
        return record

    def delete_superops(self, query: str, record_id: str) -> None:
        del self.superops[query][record_id]
        self.so_deleted[query].add(record_id)
        self.tick(1)

    def perturb_customer_names(self, seed: int = 1, decoys: int = 3) -> dict[str, str | None]:
        """Make QuickBooks customers look as bookkeepers type them (typos, legal suffixes,
        "&" for "and", capitals, a leading "The") with personal or accountant emails, so only
        fuzzy matching can pair them; add decoy customers that are no client at all.
        Returns the truth: customer id -> SuperOps accountId (None for decoys)."""
        rng = random.Random(seed)
        from integrations.parsing import fold_name

        by_name = {fold_name(c.get("name") or ""): a for a, c in self.superops["getClientList"].items()}
        truth: dict[str, str | None] = {}
        now = self.tick()
        for customer_id, customer in self.quickbooks["Customer"].items():
            truth[customer_id] = by_name.get(fold_name(customer.get("DisplayName") or ""))
            name = _perturb(rng, customer.get("DisplayName") or "")
            customer["DisplayName"] = customer["CompanyName"] = name
            customer["PrimaryEmailAddr"] = {"Address": rng.choice(
                ["office.manager@gmail.com", "ap@outlook.com", "books@cpa-firm.example", ""])}
            self._stamp_qb(customer, now)
        for customer_id, customer in self.quickbooks["Customer"].items():
            parent = (customer.get("ParentRef") or {}).get("value")
            if parent in truth:  # a sub-customer (a site) bills for its parent's client
                truth[customer_id] = truth[parent]
        for n in range(decoys):
            customer_id = self.new_id()
            self.quickbooks["Customer"][customer_id] = {
                "Id": customer_id, "DisplayName": ["Walk-in Customer", "Petty Cash Sales", "Jane Q. Public",
                                                   "Lakeside Bakery Co", "Hartman Plumbing"][n % 5],
                "Active": True, "MetaData": {"CreateTime": qb_time(now), "LastUpdatedTime": qb_time(now)}}
            truth[customer_id] = None
        return truth

    def _stamp_qb(self, record: dict, when: datetime) -> None:
        meta = dict(record.get("MetaData") or {})
        meta["LastUpdatedTime"] = qb_time(when)
        meta.setdefault("CreateTime", qb_time(when))
        record["MetaData"] = meta
        record["SyncToken"] = str(int(record.get("SyncToken") or 0) + 1)

    def _event(self, entity: str, record_id: str, operation: str, when: datetime) -> dict:
        return {"realmId": self.realm_id, "name": entity, "id": record_id, "operation": operation,
                "lastUpdated": qb_time(when)}

    def edit_qb(self, entity: str, record_id: str, **fields) -> dict:
        """Change one QuickBooks record now; returns the webhook event it would raise."""
        record = self.quickbooks[entity][record_id]
        record.update(fields)
        self._stamp_qb(record, self.tick(1))
        return self._event(entity, record_id, "Update", self.clock)


def _perturb(rng: random.Random, name: str) -> str:
    choice = rng.randrange(6)
    if choice == 0:
        return name + rng.choice([", LLC", " Inc.", " Ltd", ", PLLC"])
    if choice == 1 and len(name) > 6:  # one typo: a letter dropped or doubled
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1:] if rng.random() < 0.5 else name[:i] + name[i] + name[i:]
    if choice == 2:
        return name.replace(" and ", " & ") if " and " in name else "The " + name
    if choice == 3:
        return name.upper()
    if choice == 4:
        return name.replace(" ", "  ").lower() + " co."
    for word, short in (("Group", "Grp"), ("Associates", "Assoc."), ("Services", "Svcs"), ("Company", "Co."),
                        ("Partners", "Ptnrs"), ("Dental", "Dntl"), ("Medical", "Med.")):
        if word in name:
            return name.replace(word, short)
    return name + " - Main Office"


def _write(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1, default=str))
