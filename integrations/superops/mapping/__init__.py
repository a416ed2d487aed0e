"""SuperOps GraphQL list items -> rows of the clients app. Pure functions, no database.

The shapes are those of integrations/PAYLOADS.md; each mapper returns a `Mapped` (or a list
for tickets, which may carry a satisfaction survey) or raises `BadRecord` naming the field.
`MAPPERS` maps a list query to its mapper for the dump loader and the live sync (the list
key and id are in the entity table, integrations/entities.py).

What a tenant configures itself never rejects a record: custom fields are read through the
field map and stages, statuses, priorities and categories through the value maps, both passed
in as `maps` (integrations/tenant.py; the loader reads the admin's rows once per run). A
custom field the tenant does not have is unknown (blank or null), and a value no one mapped
is kept as text with its default meaning.

The mappers live by domain: `accounts` (clients, their users, technicians), `contracts` (the
service-item catalogue and client contracts), `desk` (assets, tickets and their surveys) and
`billing` (worklogs and offered items); `common` holds what they share. Every public name is
re-exported here, so callers import from `integrations.superops.mapping` as before.
"""

from __future__ import annotations

from collections.abc import Callable

from ...records import Mapped
from .accounts import STATUS_RANK, client_status, map_client, map_client_user, map_technician
from .billing import BILLING_STATUS, OFFERED_KIND, hours_to_minutes, map_offered_item, map_worklog
from .common import SOURCE, ZERO
from .contracts import (
    CONTRACT_STATUS,
    DAYS_PER_UNIT,
    ESCALATOR,
    FREQUENCY_TYPES,
    MONTHS_PER_UNIT,
    QUANTITY_TYPE,
    billed_quantity,
    billing_months,
    block_hours_left,
    contract_kind,
    included_items,
    map_contract,
    map_service_item,
)
from .desk import CHANNEL, map_asset, map_ticket

__all__ = [
    "BILLING_STATUS", "CHANNEL", "CONTRACT_STATUS", "DAYS_PER_UNIT", "ESCALATOR", "FREQUENCY_TYPES", "MAPPERS",
    "MONTHS_PER_UNIT", "Mapper", "OFFERED_KIND", "QUANTITY_TYPE", "SOURCE", "STATUS_RANK", "ZERO",
    "billed_quantity", "billing_months", "block_hours_left", "client_status", "contract_kind", "hours_to_minutes",
    "included_items", "map_asset", "map_client", "map_client_user", "map_contract", "map_offered_item",
    "map_service_item", "map_technician", "map_ticket", "map_worklog",
]

Mapper = Callable[..., "Mapped | list[Mapped]"]

# query name -> (list key inside the response, mapper).
MAPPERS: dict[str, Mapper] = {
    "getClientList": map_client,
    "getClientUserList": map_client_user,
    "getTechnicianList": map_technician,
    "getServiceItemList": map_service_item,
    "getClientContractList": map_contract,
    "getAssetList": map_asset,
    "getTicketList": map_ticket,
    "getWorklogEntries": map_worklog,
    "getOfferedItems": map_offered_item,
}
