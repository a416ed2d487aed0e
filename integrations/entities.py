"""The one table of what SuperHack reads: every SuperOps list, QuickBooks entity and local file
kind, with where its records sit in an answer, its id, the rows it writes and how it is read.

The loader, the sync engine, the query builders, the sandbox, the simulator and the tests all
read this table, so adding an entity is one row here plus its mapper (and its GraphQL
selection for SuperOps). Plain data only: the sandbox and the simulator import it without
touching Django's models.
"""

from __future__ import annotations

from dataclasses import dataclass


class Reading:
    """How a list is read after its first full read."""

    FULL = "full"  # every run reads the whole list; a full read is the only way to see deletions
    UPDATED_TIME = "updated_time"  # SuperOps: condition updatedTime greaterThan the watermark
    CDC = "cdc"  # QuickBooks Change Data Capture from the watermark
    LAST_UPDATED = "last_updated"  # QuickBooks query on MetaData.LastUpdatedTime (not served by CDC)


@dataclass(frozen=True)
class Rows:
    """Rows of a clients model one entity writes: the model label, the column holding the
    payload's id and a fixed filter (Bill and Purchase lines share the Expense table)."""

    model: str
    id_column: str = "external_id"
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EntityKind:
    provider: str  # superops, quickbooks or local
    name: str  # SuperOps list query, QuickBooks entity, or local file kind
    list_key: str  # where the records sit in an answer body
    id_key: str  # the record's own id field
    rows: tuple[Rows, ...]
    reading: str = Reading.FULL

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.name)


def _so(name: str, list_key: str, id_key: str, *models: str, reading: str = Reading.FULL) -> EntityKind:
    return EntityKind("superops", name, list_key, id_key, tuple(Rows(m) for m in models), reading)


def _qb(name: str, *rows: Rows, reading: str = Reading.CDC) -> EntityKind:
    return EntityKind("quickbooks", name, name, "Id", rows or (Rows(f"clients.{name}"),), reading)


# In load order: every ref points at rows loaded before it. Only Ticket and OfferedItem carry
# updatedTime in SuperOps' schema, so only their lists are read incrementally.
TABLE: tuple[EntityKind, ...] = (
    _so("getClientList", "clients", "accountId", "clients.Client"),
    _so("getClientUserList", "userList", "userId", "clients.ClientUser"),
    _so("getTechnicianList", "userList", "userId", "clients.Technician"),
    _so("getServiceItemList", "items", "itemId", "clients.ServiceItem"),
    _so("getClientContractList", "clientContracts", "contractId", "clients.Contract"),
    _so("getAssetList", "assets", "assetId", "clients.Asset"),
    _so("getTicketList", "tickets", "ticketId", "clients.Ticket", "clients.SatisfactionSurvey",
        reading=Reading.UPDATED_TIME),
    _so("getWorklogEntries", "entries", "itemId", "clients.Worklog"),
    _so("getOfferedItems", "items", "itemId", "clients.OfferedItem", reading=Reading.UPDATED_TIME),
    _qb("Customer"),
    _qb("Item", Rows("clients.ServiceItem")),
    # Staff with their hourly cost; matched to technicians once loaded.
    _qb("Employee"),
    _qb("Invoice"),
    _qb("Payment"),
    _qb("CreditMemo"),
    _qb("Bill", Rows("clients.Expense", "document_id", (("txn_type", "Bill"),))),
    _qb("Purchase", Rows("clients.Expense", "document_id", (("txn_type", "Purchase"),))),
    # Intuit's CDC does not serve TimeActivity.
    _qb("TimeActivity", Rows("clients.Worklog"), reading=Reading.LAST_UPDATED),
    EntityKind("local", "interactions", "interactions", "id", (Rows("clients.Interaction"),)),
)
BY_KEY: dict[tuple[str, str], EntityKind] = {kind.key: kind for kind in TABLE}

# Tenant vocabularies: unpaged SuperOps lists that seed the admin's value maps, not entities.
# name -> id field; the answer body is {"data": {"<name>": [...]}}.
VOCABULARIES: dict[str, str] = {"getClientStageList": "stageId", "getPriorityList": "id"}


def of(provider: str) -> list[EntityKind]:
    """The entities of one provider, in load order."""
    return [kind for kind in TABLE if kind.provider == provider]
