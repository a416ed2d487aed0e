"""Records the MSP keeps outside SuperOps and QuickBooks (QBR calendar, CRM export)."""
