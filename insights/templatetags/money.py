"""Money formatting in the MSP's home currency: `{{ amount|money }}` -> "$12,345"."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

register = template.Library()

SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "GBP": "£", "EUR": "€"}


@register.filter
def money(value, places: int = 0) -> str:
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    code = settings.HOME_CURRENCY
    symbol = SYMBOLS.get(code, code + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.{int(places)}f}"
