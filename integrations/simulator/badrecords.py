"""Deliberately broken records (--bad-records K) so import tests can check they are set aside.

Each is a copy of a real record, broken one way (missing id, unparseable date, negative
hours, unknown client) and given a fresh id nothing else points to, slipped into the stream
right after the record it copies. The original stays intact, so the rest of the world - and
every planted leak - loads exactly as without them.
"""

from __future__ import annotations

import copy
import json
import random

# (source, entity, id field, reason)
KINDS = [
    ("superops", "getTicketList", "ticketId", "missing id"),
    ("superops", "getTicketList", "ticketId", "unparseable date"),
    ("superops", "getWorklogEntries", "itemId", "negative hours"),
    ("superops", "getTicketList", "ticketId", "unknown client"),
    ("superops", "getWorklogEntries", "itemId", "missing id"),
    ("superops", "getAssetList", "assetId", "unknown client"),
    ("quickbooks", "Payment", "Id", "unparseable date"),
]
UNKNOWN_CLIENT = {"accountId": "999999", "name": "Nobody We Know Ltd"}


class BadRecords:
    def __init__(self, seed: int, count: int):
        rng = random.Random(f"{seed}:bad-records")
        self.fresh = 990000001
        # entity -> {ordinal of the record to copy: kind}; early ordinals so even a tiny
        # world reaches them.
        self.targets: dict[str, dict[int, tuple]] = {}
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            slots = self.targets.setdefault(kind[1], {})
            ordinal = rng.randrange(40)
            while ordinal in slots:
                ordinal += 1
            slots[ordinal] = kind
        self.seen: dict[str, int] = {}
        self.listed: list[dict] = []

    def after(self, entity: str, record: dict | str) -> dict | None:
        """The broken copy to emit after `record` (a dict or its JSON text), if this is a
        chosen one."""
        targets = self.targets.get(entity)
        if not targets:
            return None
        n = self.seen.get(entity, 0)
        self.seen[entity] = n + 1
        kind = targets.get(n)
        if kind is None:
            return None
        source, _, id_field, reason = kind
        record = json.loads(record) if isinstance(record, str) else record
        bad = copy.deepcopy(record)
        new_id = str(self.fresh)
        self.fresh += 1
        bad[id_field] = new_id
        if reason == "missing id":
            del bad[id_field]
            new_id = None
        elif reason == "unparseable date":
            if entity == "Payment":
                bad["TxnDate"] = "31/02/2026"
            else:
                bad["createdTime"] = "yesterday"
        elif reason == "negative hours":
            bad["qty"] = "-0.50"
        elif reason == "unknown client":
            if entity == "getWorklogEntries":
                bad["workItem"] = {"workId": "999999999", "module": "TICKET", "client": dict(UNKNOWN_CLIENT)}
            else:
                bad["client"] = dict(UNKNOWN_CLIENT)
        self.listed.append({"source": source, "entity": entity, "id": new_id, "reason": reason,
                            "copy_of": record.get(id_field)})
        return bad
