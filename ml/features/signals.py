"""What ml announces to the apps that read its output (ml itself never imports them).

- `features_built`: a feature build finished (KPIs and genomes written, the active models'
  scores stored); sent with `build_id` and `changed` (whether any KPI or genome row was
  written or deleted). insights' leak detection runs after it.
"""

from django.dispatch import Signal

features_built = Signal()
