"""The books: invoices and their lines, payments applied to invoices, and expenses
(bills and purchases) attributable to a client."""

from __future__ import annotations

from django.db import models

from .accounts import Client, Customer, ServiceItem, Technician
from .base import SyncedModel, currency_field, money_field, price_field, source_unique


class Invoice(SyncedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    # Copied from the customer's match so margin queries need no extra join.
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    doc_number = models.CharField(max_length=32, blank=True)
    txn_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    total = money_field()
    balance = money_field()
    currency = currency_field()
    exchange_rate = models.DecimalField(
        max_digits=14, decimal_places=6, default=1, help_text="Home-currency units per one invoice unit"
    )
    memo = models.TextField(blank=True)
    voided = models.BooleanField(default=False)

    class Meta:
        ordering = ["-txn_date"]
        constraints = [source_unique("invoice")]
        indexes = [models.Index(fields=["client", "txn_date"]), models.Index(fields=["txn_date"])]

    def __str__(self) -> str:
        return f"Invoice {self.doc_number or self.external_id}"

    @property
    def total_home(self):
        return self.total * self.exchange_rate


class InvoiceLine(models.Model):
    """One line of an invoice. Lines belong to their invoice and are replaced with it."""

    class Kind(models.TextChoices):
        RECURRING = "recurring", "Recurring service"
        TIME = "time", "Time and materials"
        PROJECT = "project", "Project"
        PRODUCT = "product", "Product / license"
        EXPENSE = "expense", "Rebilled expense"
        OTHER = "other", "Other"
        # Not service revenue: a discount line (negative amount) and the invoice's sales tax.
        DISCOUNT = "discount", "Discount"
        TAX = "tax", "Sales tax"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=32)
    line_num = models.PositiveIntegerField(default=0)
    service_item = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    unit_price = price_field()
    amount = money_field()
    service_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "line_num"]
        constraints = [models.UniqueConstraint(fields=["invoice", "line_id"], name="invoiceline_uniq")]


class Payment(SyncedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    txn_date = models.DateField()
    total = money_field()
    unapplied = money_field()
    currency = currency_field()
    exchange_rate = models.DecimalField(max_digits=14, decimal_places=6, default=1)
    reference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-txn_date"]
        constraints = [source_unique("payment")]
        indexes = [models.Index(fields=["client", "txn_date"])]


class PaymentApplication(models.Model):
    """The part of a payment applied to one invoice (QuickBooks LinkedTxn)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payment_applications")
    amount = money_field()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["payment", "invoice"], name="paymentapp_uniq")]


class Expense(SyncedModel):
    """One line of a QuickBooks Bill or Purchase, attributable to a client when it names one.

    external_id is "<TxnType>:<Id>:<LineId>" because Bill and Purchase ids are separate
    sequences in QuickBooks and each line can name a different customer.
    """

    class BillableStatus(models.TextChoices):
        BILLABLE = "billable", "Billable, not yet billed"
        NOT_BILLABLE = "not_billable", "Not billable"
        BILLED = "billed", "Has been billed"

    txn_type = models.CharField(max_length=16, help_text="Bill or Purchase")
    document_id = models.CharField(max_length=32)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="expenses"
    )
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="expenses")
    txn_date = models.DateField()
    vendor = models.CharField(max_length=200, blank=True)
    account = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=50, blank=True, help_text="license, hardware, subcontractor, other")
    description = models.TextField(blank=True)
    amount = money_field()
    currency = currency_field()
    exchange_rate = models.DecimalField(max_digits=14, decimal_places=6, default=1)
    billable_status = models.CharField(max_length=16, choices=BillableStatus.choices, default="not_billable")

    class Meta:
        ordering = ["-txn_date"]
        constraints = [source_unique("expense")]
        indexes = [models.Index(fields=["client", "txn_date"]), models.Index(fields=["document_id"])]



class CreditMemo(SyncedModel):
    """Money given back to a customer (QuickBooks CreditMemo): a refund, a goodwill credit,
    a correction of an invoice. Counted against the client's revenue, not as a payment."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_memos")
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="credit_memos"
    )
    doc_number = models.CharField(max_length=32, blank=True)
    txn_date = models.DateField()
    total = money_field()
    remaining = money_field(help_text="Credit not yet applied to an invoice")
    currency = currency_field()
    exchange_rate = models.DecimalField(max_digits=14, decimal_places=6, default=1)
    reason = models.TextField(blank=True, help_text="PrivateNote, else CustomerMemo")

    class Meta:
        ordering = ["-txn_date"]
        constraints = [source_unique("creditmemo")]
        indexes = [models.Index(fields=["client", "txn_date"])]

    def __str__(self) -> str:
        return f"Credit memo {self.doc_number or self.external_id}"


class CreditMemoLine(models.Model):
    """One line of a credit memo; replaced with its memo, like invoice lines."""

    credit_memo = models.ForeignKey(CreditMemo, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=32)
    line_num = models.PositiveIntegerField(default=0)
    service_item = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="credit_memo_lines"
    )
    kind = models.CharField(max_length=12, choices=InvoiceLine.Kind.choices, default=InvoiceLine.Kind.OTHER)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    unit_price = price_field()
    amount = money_field()

    class Meta:
        ordering = ["credit_memo", "line_num"]
        constraints = [models.UniqueConstraint(fields=["credit_memo", "line_id"], name="creditmemoline_uniq")]


class OfferedItem(SyncedModel):
    """One entry of SuperOps' billing audit trail (getOfferedItems): a contract charge or a
    piece of logged work, and whether it was approved, ignored, invoiced or covered by a
    contract. Where leaks show: work PENDING for months, IGNORED, or billed at the wrong rate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        IGNORED = "ignored", "Ignored"
        INVOICED = "invoiced", "Invoiced"
        UNDER_CONTRACT = "under_contract", "Under contract"

    class Kind(models.TextChoices):
        CONTRACT = "contract", "Contract charge"
        WORK = "work", "Logged work"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="offered_items")
    service_item = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="offered_items"
    )
    technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="offered_items"
    )
    ticket = models.ForeignKey(
        "clients.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="offered_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    bill_date = models.DateField()
    after_hours = models.BooleanField(default=False)
    unit_price = price_field()
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    discount_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, help_text="Percent")
    amount = money_field()
    work_id = models.CharField(max_length=64, blank=True, help_text="workItem.workId (a ticket or project id)")
    work_module = models.CharField(max_length=10, blank=True, help_text="TICKET or PROJECT")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-bill_date"]
        constraints = [source_unique("offereditem")]
        indexes = [models.Index(fields=["client", "bill_date"]), models.Index(fields=["status", "bill_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id} ({self.get_status_display()})"
