"""What a load did, per model: rows created, updated, unchanged, and records set aside."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    set_aside: int = 0
    # Child rows (invoice lines, payment applications) seen in the payloads; they are
    # written with their parent and are not counted above.
    child_rows: int = 0
    # Model name -> its own counts, e.g. a ticket list yields Ticket and SatisfactionSurvey rows.
    by_model: dict[str, LoadCounts] = field(default_factory=dict)
    # "external id: reason" of the first records set aside, for a summary a person reads.
    reasons: list[str] = field(default_factory=list)

    MAX_REASONS = 5

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.child_rows

    @property
    def written(self) -> int:
        return self.created + self.updated

    def add(self, other: LoadCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.set_aside += other.set_aside
        self.child_rows += other.child_rows
        for name, counts in other.by_model.items():
            self.by_model.setdefault(name, LoadCounts()).add(counts)
        room = self.MAX_REASONS - len(self.reasons)
        if room > 0:
            self.reasons.extend(other.reasons[:room])

    def model(self, name: str) -> LoadCounts:
        return self.by_model.setdefault(name, LoadCounts())

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "set_aside": self.set_aside}
