"""A load that changes data queues a KPI and genome rebuild; one that changes nothing
does not."""

import pytest
from django_q.models import OrmQ

from integrations.dump import import_dump
from ml.models import ClientMonthKPI, GenomeVector

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny_world(make_world):
    """Four clients over the three months before today (read-only: import_dump only reads it)."""
    return make_world(clients=4, months=3, seed=11, leak_rate=0.05, churn_rate=0.12, end_month=None)


def test_an_import_that_changes_data_builds_features(monkeypatch, tiny_world):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the worker's job, run inline
    import_dump(tiny_world, progress=False)
    months = ClientMonthKPI.objects.values_list("month", flat=True).distinct().count()
    assert ClientMonthKPI.objects.values("client").distinct().count() == 4
    assert months >= 3
    assert GenomeVector.objects.exists()


def test_an_import_that_changes_nothing_queues_nothing(settings, tiny_world):
    if settings.Q_CLUSTER.get("redis"):
        pytest.skip("counts the ORM broker's queue")
    import_dump(tiny_world, progress=False)
    queued = OrmQ.objects.count()
    assert queued == 1
    import_dump(tiny_world, progress=False)
    assert OrmQ.objects.count() == queued
