"""Signals other apps listen to, so data loaders never import what reads the data
(integrations -> clients <- ml)."""

from django.dispatch import Signal

# Sent after a sync or dump import that wrote rows, with run_id (the SyncRun's pk).
# ml rebuilds the KPI snapshot and genomes in the background on it.
data_loaded = Signal()


def announce_load(run) -> None:
    """Send data_loaded for a finished run that changed something."""
    if run.status != "failed" and (run.created or run.updated or run.deleted):
        data_loaded.send(sender=type(run), run_id=run.pk)
