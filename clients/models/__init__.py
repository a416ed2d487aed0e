"""The MSP's business data, one model per real thing (see each module)."""

from .accounts import Asset, Client, Contract, Customer, ServiceItem, Technician
from .base import Source
from .billing import (
    CreditMemo,
    CreditMemoLine,
    Expense,
    Invoice,
    InvoiceLine,
    OfferedItem,
    Payment,
    PaymentApplication,
)
from .employees import Employee
from .journal import RowChange
from .people import ClientUser
from .runs import RejectedRecord, SyncRun
from .service_desk import Interaction, SatisfactionSurvey, Ticket, Worklog

__all__ = [
    "Asset", "Client", "ClientUser", "Contract", "CreditMemo", "CreditMemoLine", "Customer", "Employee", "Expense",
    "Interaction", "Invoice", "InvoiceLine", "OfferedItem", "Payment", "PaymentApplication", "RejectedRecord",
    "RowChange", "SatisfactionSurvey", "ServiceItem", "Source", "SyncRun", "Technician", "Ticket", "Worklog",
]
