"""Fault switches: how the sandbox misbehaves. Every switch keeps the world's data intact, so
a client that copes ends with the same database as after a clean run."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields


@dataclass
class Faults:
    # Every Nth API request is refused as over the limit: SuperOps' HTTP 200 with
    # errors[].extensions.clientError[].code == "rate_limit_exceeded", QuickBooks' 429.
    rate_limit_every: int = 0
    # The published limits, counted over a sliding minute (0: not enforced).
    superops_per_minute: int = 0
    quickbooks_per_minute: int = 0
    # Bursts of 5xx: error_burst_length requests in a row, every error_burst_every requests.
    error_burst_every: int = 0
    error_burst_length: int = 3
    # Every Nth request answers only after slow_seconds (past the client's timeout).
    slow_every: int = 0
    slow_seconds: float = 2.0
    # Every Nth request has its connection closed without an answer.
    drop_every: int = 0
    # The last N records of each page come again at the top of the next page.
    duplicate_records: int = 0
    # Records swap across page boundaries and are shuffled within a page.
    reorder: bool = False
    # Malformed records added to the lists (clients without a name, worklogs with negative
    # hours, invoices without a customer).
    malformed: int = 0
    # SuperOps refuses every list request that carries a listInfo condition (its docs do not
    # confirm filtering on updatedTime), so a client must fall back to full reads.
    refuse_conditions: bool = False
    # SuperOps refuses every list request that carries a listInfo sort (the sort attributes
    # are not documented either), so a client must read unsorted.
    refuse_sort: bool = False
    # QuickBooks access tokens stop working after this many API requests (once).
    expire_token_after: int = 0

    def update(self, **switches) -> Faults:
        known = {f.name for f in fields(self)}
        for name, value in switches.items():
            if name not in known:
                raise ValueError(f"unknown fault switch {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, type(getattr(self, name))(value))
        return self

    def action(self, number: int) -> str | None:
        """What to do with API request number `number` (1-based)."""
        if self.drop_every and number % self.drop_every == 0:
            return "drop"
        if self.error_burst_every and (number % self.error_burst_every) < self.error_burst_length \
                and number >= self.error_burst_every:
            return "error"
        if self.rate_limit_every and number % self.rate_limit_every == 0:
            return "rate"
        if self.slow_every and number % self.slow_every == 0:
            return "slow"
        return None

    def arrange(self, records: list, page_size: int, seed: int = 0) -> list:
        """The order records are served in: swapped across page boundaries and shuffled
        within pages when `reorder` is on. Deterministic, so every request agrees."""
        if not self.reorder:
            return records
        out = list(records)
        for boundary in range(page_size, len(out), page_size):
            out[boundary - 1], out[boundary] = out[boundary], out[boundary - 1]
        rng = random.Random(seed)
        for start in range(0, len(out), page_size):
            chunk = out[start : start + page_size]
            rng.shuffle(chunk)
            out[start : start + page_size] = chunk
        return out

    def window(self, total: int, page_index: int, size: int) -> tuple[int, int]:
        """[lo, hi) of the arranged records for page `page_index` (0-based): each page starts
        `duplicate_records` before where the previous one ended, so records come twice."""
        overlap = min(self.duplicate_records, size - 1)
        lo = page_index * (size - overlap)
        return min(lo, total), min(total, lo + size)
