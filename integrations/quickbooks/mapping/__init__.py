"""QuickBooks Online entities -> rows of the clients app. Pure functions, no database.

Shapes are those of integrations/PAYLOADS.md (Accounting API, minor version 75). An
invoice carries its lines and a payment its applications as `children`; a Bill or a
Purchase becomes one Expense per line, because each line can name a different customer.
An Employee is matched to the technician it is by `match_technician` (email, then name).
`MAPPERS` maps an entity name to its mapper.

The mappers live by domain: `customers`, `sales` (items, invoices, credit memos),
`payments`, `costs` (bills and purchases) and `labour` (employees, technician matching,
time); `common` holds what they share. Every public name is re-exported here, so callers
import from `integrations.quickbooks.mapping` as before.
"""

from __future__ import annotations

from collections.abc import Callable

from ...records import Mapped
from .common import ONE, SOURCE, ZERO
from .costs import EXPENSE_BILLABLE, EXPENSE_CATEGORY_RULES, EXPENSE_DETAILS, expense_category, map_bill, map_purchase
from .customers import DELETED_SUFFIX, TERMS_DAYS, customer_name, map_customer
from .labour import TIME_BILLING, TechnicianIndex, map_employee, map_time_activity, match_technician, person_key
from .payments import map_payment
from .sales import LINE_KIND_RULES, line_kind, map_credit_memo, map_invoice, map_item, sale_lines

__all__ = [
    "DELETED_SUFFIX", "EXPENSE_BILLABLE", "EXPENSE_CATEGORY_RULES", "EXPENSE_DETAILS", "LINE_KIND_RULES", "MAPPERS",
    "ONE", "SOURCE", "TERMS_DAYS", "TIME_BILLING", "TechnicianIndex", "ZERO", "customer_name", "expense_category",
    "line_kind", "map_bill", "map_credit_memo", "map_customer", "map_employee", "map_invoice", "map_item",
    "map_payment", "map_purchase", "map_time_activity", "match_technician", "person_key", "sale_lines",
]

MAPPERS: dict[str, Callable[[dict], Mapped | list[Mapped]]] = {
    "Customer": map_customer,
    "Item": map_item,
    "Invoice": map_invoice,
    "Payment": map_payment,
    "CreditMemo": map_credit_memo,
    "Bill": map_bill,
    "Purchase": map_purchase,
    "TimeActivity": map_time_activity,
    "Employee": map_employee,
}
