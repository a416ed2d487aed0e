"""The genome on a hand-made portfolio: shape, ranges, orientation, schema version, missing
values, similarity symmetry, planted twins found as nearest neighbours, and named segments.

The genome reads only the KPI snapshot, so the portfolio is written as ClientMonthKPI rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from clients.models import Client
from ml.features import months
from ml.features.store import COUNTS, MONEY, NULLABLE_INTS, QUANTITIES
from ml.genome import DIMENSIONS, SCHEMA_VERSION
from ml.genome.build import build_genome
from ml.genome.dimensions import KPI_INPUTS
from ml.genome.similarity import compare, cosine_matrix, similar_clients
from ml.models import ClientMonthKPI, GenomeVector, Segment

pytestmark = pytest.mark.django_db

FIRST, MONTHS = months.to_index(date(2024, 1, 1)), 13
LAST = months.to_date(FIRST + MONTHS - 1)


def base_profile(rng: np.random.Generator) -> dict[str, float]:
    """A client's typical month: every KPI the genome reads, drawn on a wide spread."""
    revenue = rng.lognormal(8.5, 0.8)
    return {
        "revenue_total": revenue,
        "revenue_recurring": revenue * rng.uniform(0.3, 0.9),
        "revenue_time": revenue * rng.uniform(0, 0.3),
        "revenue_project": revenue * rng.uniform(0, 0.2),
        "revenue_product": revenue * rng.uniform(0, 0.2),
        "license_cost": revenue * rng.uniform(0.02, 0.3),
        "other_cost": revenue * rng.uniform(0, 0.1),
        "labour_cost": revenue * rng.uniform(0.1, 0.7),
        "labour_minutes": rng.uniform(300, 6000),
        "reactive_minutes": rng.uniform(60, 3000),
        "mrr": revenue * rng.uniform(0.3, 0.9),
        "billing_efficiency": rng.uniform(0.4, 1.1),
        "active_endpoints": rng.uniform(5, 200),
        "tickets": rng.uniform(3, 150),
        "avg_resolution_hours": rng.uniform(1, 40),
        "p90_resolution_hours": rng.uniform(5, 120),
        "first_response_sla": rng.uniform(0.6, 1),
        "resolution_sla": rng.uniform(0.6, 1),
        "reopen_rate": rng.uniform(0, 0.1),
        "escalations": rng.uniform(0, 10),
        "after_hours_share": rng.uniform(0, 0.3),
        "csat_avg": rng.uniform(2.5, 5),
        "surveys": rng.uniform(1, 30),
        "low_csat_surveys": rng.uniform(0, 3),
        "csat_trend": rng.uniform(-1, 1),
        "survey_response_rate": rng.uniform(0.05, 0.5),
        "qbr_count": float(rng.integers(0, 2)),
        "qbr_last_12m": rng.uniform(0, 4),
        "interactions": rng.uniform(0, 8),
        "interaction_sentiment": rng.uniform(-1, 1),
        "days_since_contact": rng.uniform(1, 200),
        "tenure_months": rng.uniform(6, 120),
        "revenue_growth_3m": rng.uniform(-0.3, 0.3),
        "revenue_growth_12m": rng.uniform(-0.5, 0.5),
        "seat_growth_12m": rng.uniform(-0.3, 0.3),
        "months_since_price_change": rng.uniform(0, 36),
        "billed_vs_active": rng.uniform(0.6, 1.1),
        "dso_days": rng.uniform(15, 90),
        "late_invoice_share": rng.uniform(0, 1),
        "invoices_due": rng.uniform(1, 3),
        "avg_days_late": rng.uniform(0, 40),
        "invoices_paid": rng.uniform(1, 3),
        "months_to_renewal": rng.uniform(1, 36),
        "technician_concentration": rng.uniform(0.2, 1),
    }


def write_client(
    name: str,
    profile: dict[str, float],
    rng: np.random.Generator,
    noise: float,
    employees: int,
    drop: tuple[str, ...] = (),
    n_months: int = MONTHS,
) -> Client:
    client = Client.objects.create(source="superops", external_id=name, name=name, employee_count=employees)
    rows = []
    for step in range(n_months):
        values = {}
        for field, value in profile.items():
            v = value * (1 + 0.03 * np.sin(step)) * (1 + rng.normal(0, noise))
            if field in drop:
                v = 0 if field in COUNTS else None
            elif field in MONEY:
                v = Decimal(str(round(v, 2)))
            elif field in COUNTS or field in NULLABLE_INTS:
                v = int(round(abs(v)))
            elif field in QUANTITIES:
                v = Decimal(str(round(v, 2)))
            values[field] = v
        values["gross_margin"] = (
            values["revenue_total"] - values["license_cost"] - values["other_cost"] - values["labour_cost"]
        )
        values["margin_pct"] = float(values["gross_margin"] / values["revenue_total"])
        rows.append(
            ClientMonthKPI(
                client=client,
                month=months.to_date(FIRST + step),
                features_version=1,
                computed_at=timezone.now(),
                **values,
            )
        )
    ClientMonthKPI.objects.bulk_create(rows)
    return client


@pytest.fixture
def portfolio():
    """Three pairs of near-twins (1% noise) and six unrelated clients."""
    rng = np.random.default_rng(42)
    twins = []
    for pair in range(3):
        profile, employees = base_profile(rng), int(rng.integers(5, 300))
        a = write_client(f"Twin {pair}A", profile, rng, 0.01, employees)
        b = write_client(f"Twin {pair}B", profile, rng, 0.01, employees + 1)
        twins.append((a, b))
    others = [write_client(f"Other {i}", base_profile(rng), rng, 0.01, int(rng.integers(5, 300))) for i in range(5)]
    # One client with no tickets or surveys at all: those dimensions must be imputed, visibly.
    quiet = write_client(
        "Quiet",
        base_profile(rng),
        rng,
        0.01,
        20,
        drop=(
            "avg_resolution_hours",
            "p90_resolution_hours",
            "first_response_sla",
            "resolution_sla",
            "csat_avg",
            "csat_trend",
            "survey_response_rate",
            "surveys",
            "low_csat_surveys",
        ),
    )
    return {"twins": twins, "others": others, "quiet": quiet}


def test_every_dimension_is_documented_and_grouped():
    assert len(DIMENSIONS) == 50
    groups = [d.group for d in DIMENSIONS]
    assert [groups[i * 10] for i in range(5)] == [
        "financial_health",
        "operational_efficiency",
        "engagement",
        "growth_potential",
        "risk_factors",
    ]
    assert all(groups[i] == groups[(i // 10) * 10] for i in range(50))
    assert all(d.formula and d.high and d.low and d.sense in (1, -1) for d in DIMENSIONS)
    assert len({d.code for d in DIMENSIONS}) == 50


def test_genome_shape_ranges_and_schema_version(portfolio):
    written, k = build_genome()
    assert written == 12 * MONTHS
    vectors = GenomeVector.objects.filter(month=LAST)
    assert vectors.count() == 12
    for v in vectors:
        assert v.schema_version == SCHEMA_VERSION
        assert len(v.values) == 50 and len(v.raw) == 50
        assert all(0.0 <= x <= 1.0 for x in v.values)
        assert all(0.0 <= s <= 100.0 for s in v.group_scores.values())
        assert v.financial_health == pytest.approx(np.mean(v.values[0:10]) * 100, abs=0.01)
    assert 3 <= k <= 8


def test_scaling_is_oriented_per_group(portfolio):
    build_genome()
    rows = {v.client_id: v for v in GenomeVector.objects.filter(month=LAST)}
    raw = {cid: v.raw for cid, v in rows.items()}
    best_margin = max(raw, key=lambda c: raw[c][0])
    worst_labour = max(raw, key=lambda c: raw[c][7])  # highest labour cost / revenue
    slowest_payer = max(raw, key=lambda c: raw[c][40])  # highest DSO
    n = len(rows)
    assert rows[best_margin].values[0] == pytest.approx((n - 0.5) / n, abs=1e-4)  # higher = better
    assert rows[worst_labour].values[7] == pytest.approx(1 - (n - 0.5) / n, abs=1e-4)  # flipped: lower = better
    assert rows[slowest_payer].values[40] == pytest.approx((n - 0.5) / n, abs=1e-4)  # risk: higher = riskier


def test_missing_dimensions_are_imputed_at_the_median_and_listed(portfolio):
    build_genome()
    quiet = GenomeVector.objects.get(client=portfolio["quiet"], month=LAST)
    resolution_sla = next(d.index for d in DIMENSIONS if d.code == "resolution_sla")
    csat = next(d.index for d in DIMENSIONS if d.code == "csat")
    assert {resolution_sla, csat} <= set(quiet.missing)
    assert quiet.values[resolution_sla] == 0.5 and quiet.raw[resolution_sla] is None


def test_planted_twins_are_each_others_nearest_neighbour(portfolio):
    build_genome()
    for a, b in portfolio["twins"]:
        assert similar_clients(a.pk, k=1)[0].client_id == b.pk
        assert similar_clients(b.pk, k=1)[0].client_id == a.pk
        top = similar_clients(a.pk, k=3)[0]
        assert top.similarity > 0.7 and top.shared  # named dimensions that make them alike


def test_similarity_is_symmetric_and_comparison_is_per_dimension(portfolio):
    build_genome()
    values = np.array(list(GenomeVector.objects.filter(month=LAST).values_list("values", flat=True)))
    sims = cosine_matrix(values)
    assert np.allclose(sims, sims.T) and np.allclose(np.diag(sims), 1.0)
    a, b = portfolio["twins"][0][0], portfolio["others"][0]
    ab = {s.client_id: s.similarity for s in similar_clients(a.pk, k=11)}[b.pk]
    ba = {s.client_id: s.similarity for s in similar_clients(b.pk, k=11)}[a.pk]
    assert ab == pytest.approx(ba)
    rows = compare(a.pk, b.pk)
    assert len(rows) == 50 and rows[40]["group"] == "Risk Factors"
    assert all(r["difference"] == pytest.approx(r["a"] - r["b"], abs=1e-4) for r in rows)


def test_old_schema_vectors_are_kept_apart(portfolio):
    client = portfolio["others"][0]
    GenomeVector.objects.create(
        client=client,
        month=LAST,
        schema_version="0",
        values=[1.0] * 50,
        raw=[None] * 50,
        financial_health=100,
        operational_efficiency=100,
        engagement=100,
        growth_potential=100,
        risk_factors=100,
        computed_at=timezone.now(),
    )
    build_genome()
    assert GenomeVector.objects.filter(client=client, month=LAST).count() == 2
    old = GenomeVector.objects.get(client=client, month=LAST, schema_version="0")
    assert old.values == [1.0] * 50  # untouched
    assert len(similar_clients(client.pk, k=20)) == 11  # only current-schema neighbours


def test_segments_have_manager_names_and_cover_the_portfolio(portfolio):
    _, k = build_genome()
    segments = list(Segment.objects.filter(month=LAST, schema_version=SCHEMA_VERSION))
    assert len(segments) == k
    assert sum(s.size for s in segments) == 12
    names = [s.name for s in segments]
    assert len(set(names)) == len(names) and all(names)
    labels = {d.high for d in DIMENSIONS} | {d.low for d in DIMENSIONS}
    for s in segments:
        first = s.name.split(" · ")[0].lower()
        assert first in {x.lower() for x in labels}
        assert len(s.distinctive) == 5
    assert GenomeVector.objects.filter(month=LAST, segment__isnull=True).count() == 0
    twin_a, twin_b = portfolio["twins"][0]
    seg = {v.client_id: v.segment_id for v in GenomeVector.objects.filter(month=LAST)}
    assert seg[twin_a.pk] == seg[twin_b.pk]


def test_genome_inputs_are_all_snapshot_columns():
    fields = {f.name for f in ClientMonthKPI._meta.get_fields()}
    assert set(KPI_INPUTS) <= fields


def test_the_latest_complete_month_is_segmented_and_kept_when_only_the_current_month_changes(portfolio):
    """A daily rebuild of the current, partial month neither segments that month nor redoes
    the previous month's segments (its vectors did not change)."""
    ClientMonthKPI.objects.filter(month=LAST).update(partial_month=True)
    previous = months.to_date(months.to_index(LAST) - 1)
    build_genome()
    assert not Segment.objects.filter(month=LAST).exists()
    kept = set(Segment.objects.filter(month=previous).values_list("id", flat=True))
    assert kept
    written, k = build_genome(from_month=LAST)
    assert written == 12 and k == len(kept)
    assert set(Segment.objects.filter(month=previous).values_list("id", flat=True)) == kept
    assert not Segment.objects.filter(month=LAST).exists()
    # Rebuilding from the complete month itself keeps its segments and relinks every
    # vector; asked to, it clusters them afresh.
    build_genome(from_month=previous)
    assert set(Segment.objects.filter(month=previous).values_list("id", flat=True)) == kept
    assert not GenomeVector.objects.filter(month=previous, segment__isnull=True).exists()
    build_genome(from_month=previous, resegment=True)
    assert set(Segment.objects.filter(month=previous).values_list("id", flat=True)).isdisjoint(kept)


def _membership() -> dict[int, int]:
    return dict(GenomeVector.objects.filter(month=LAST).values_list("client_id", "segment_id"))


def test_a_rebuilt_month_keeps_its_segments_and_each_client_joins_the_nearest(portfolio):
    """Once a month is segmented, rebuilding its vectors (late or corrected data) does not
    cluster again: a small change leaves every client where it was, and a client whose
    figures became another's joins that client's segment."""
    build_genome()
    segments = {s.id: s for s in Segment.objects.filter(month=LAST)}
    before = _membership()
    # Every client's labour a little higher, as a sync that re-delivered the month's worklogs.
    for kpi in ClientMonthKPI.objects.filter(month=LAST):
        kpi.labour_minutes += 1
        kpi.save()
    build_genome(from_month=LAST)
    assert _membership() == before
    assert set(Segment.objects.filter(month=LAST).values_list("id", flat=True)) == set(segments)

    # One client takes on, month by month, the figures of a client in another segment.
    pairs = ((a, b) for a in sorted(before) for b in sorted(before) if before[a] != before[b])
    mover, model = next((a, b) for a, b in pairs if segments[before[b]].size > 1)
    for kpi in ClientMonthKPI.objects.filter(client_id=model):
        twin = ClientMonthKPI.objects.get(client_id=mover, month=kpi.month)
        for column in KPI_INPUTS:
            setattr(twin, column, getattr(kpi, column))
        twin.save()
    Client.objects.filter(pk=mover).update(employee_count=Client.objects.get(pk=model).employee_count)
    build_genome(from_month=LAST)
    after = _membership()
    assert after[mover] == before[model]
    assert {c: s for c, s in after.items() if c != mover} == {c: s for c, s in before.items() if c != mover}
    sizes = dict(Segment.objects.filter(month=LAST).values_list("id", "size"))
    assert sizes[before[mover]] == segments[before[mover]].size - 1
    assert sizes[before[model]] == segments[before[model]].size + 1


def test_scaled_vectors_are_written_as_json_would_write_them_rounded():
    """The table-driven writer of scaled values gives json.dumps' text of each value rounded
    to 4 decimals, at the edges too; values it cannot take go the slow way, unchanged."""
    from ml.genome.build import _json_rows, _unit_json_rows

    rng = np.random.default_rng(3)
    edges = np.array([[0.0, 1.0, 0.5, 0.00005, 0.99995, 0.12345, 1 / 3, 2 / 3, 0.00015, 0.99985]])
    matrix = np.vstack([rng.random((200, 10)), edges])
    assert _unit_json_rows(matrix) == _json_rows(np.round(matrix, 4))
    odd = np.array([[0.5, np.nan], [1.5, -0.25]])
    assert _unit_json_rows(odd) == ["[0.5, null]", "[1.5, -0.25]"]


def test_a_rebuild_from_a_month_gives_the_vectors_a_full_build_gives():
    """A rebuild from a month reads the look-back before it with the 12-month windows' inputs
    alone (LONG_WINDOW_INPUTS; ml/genome/build.py kpi_frame). Eighteen months of noisy data
    put that thinner look-back inside the data: the rebuilt vectors equal a full build's, and
    they would not if any of those inputs were left out."""
    rng = np.random.default_rng(5)
    clients = [
        write_client(f"Client {i}", base_profile(rng), rng, 0.4, int(rng.integers(5, 300)), n_months=18)
        for i in range(8)
    ]
    start = months.to_date(FIRST + 16)
    # One client's last QBR eight months before the rebuilt months: only the thin look-back has it.
    ClientMonthKPI.objects.filter(client=clients[0]).update(qbr_count=0)
    ClientMonthKPI.objects.filter(client=clients[0], month=months.to_date(FIRST + 8)).update(qbr_count=1)

    def vectors() -> dict:
        rows = GenomeVector.objects.filter(month__gte=start).values_list("client_id", "month", "raw", "values")
        return {(c, m): (raw, values) for c, m, raw, values in rows}

    build_genome()
    full = vectors()
    assert len(full) == 8 * 2
    build_genome(from_month=start)
    assert vectors() == full
