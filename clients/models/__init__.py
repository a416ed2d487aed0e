"""The MSP's business data, one model per real thing (see each module)."""

from .accounts import Asset, Client, Contract, Customer, ServiceItem, Technician
from .base import Source
from .billing import Expense, Invoice, InvoiceLine, Payment, PaymentApplication
from .journal import RowChange
from .runs import RejectedRecord, SyncRun
from .service_desk import Interaction, SatisfactionSurvey, Ticket, Worklog

__all__ = [
    "Asset", "Client", "Contract", "Customer", "Expense", "Interaction", "Invoice", "InvoiceLine",
    "Payment", "PaymentApplication", "RejectedRecord", "RowChange", "SatisfactionSurvey", "ServiceItem",
    "Source", "SyncRun", "Technician", "Ticket", "Worklog",
]
