"""Signals of the demand forecasts, so apps that act on them (the alerts of insights) listen
without ml naming them:

- `accuracy_recorded`: `record_actuals` wrote or updated ForecastAccuracy rows (sender
  ForecastAccuracy, `ids`: their primary keys). Sent inside record_actuals' transaction: a
  receiver that raises something should defer it with `transaction.on_commit`, so a rolled
  back run raises nothing.
"""

from django.dispatch import Signal

accuracy_recorded = Signal()
