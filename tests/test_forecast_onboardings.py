"""Known onboardings as forecast regressors (issue 14): the columns built from clients' go-live
dates, and where those dates come from in the synced data."""

from __future__ import annotations

from datetime import date

import pandas as pd

from clients.models import Client, Contract
from ml.forecasting.desk import onboardings
from ml.forecasting.onboardings import SURGE_WEEKS, onboarding_columns

WEEKS = pd.date_range("2026-01-04", periods=30, freq="W-SUN", name="week")


def _went_live(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["client_id", "onboarded_on", "users"])


def test_a_go_live_adds_its_users_for_the_surge_weeks_and_for_good():
    frame = onboarding_columns(_went_live((1, date(2026, 2, 11), 12)), WEEKS)
    live_week = pd.Timestamp("2026-02-15")  # the Sunday ending the week of Wednesday 11 February
    surge = frame.loc[frame["onboarding"] > 0].index
    assert list(surge) == list(pd.date_range(live_week, periods=SURGE_WEEKS, freq="W-SUN"))
    assert (frame.loc[surge, "onboarding"] == 12).all()
    assert (frame.loc[: live_week - pd.Timedelta(days=7), "onboarded"] == 0).all()
    assert (frame.loc[live_week:, "onboarded"] == 12).all()


def test_clients_live_before_the_series_count_only_what_is_left_of_their_surge():
    frame = onboarding_columns(_went_live((1, date(2025, 1, 1), 30), (2, date(2025, 12, 17), 5)), WEEKS)
    # Client 2 went live in the week ending 21 December: two of its eight weeks are before 4 January.
    assert list(frame["onboarding"].iloc[: SURGE_WEEKS - 2]) == [5.0] * (SURGE_WEEKS - 2)
    assert (frame["onboarding"].iloc[SURGE_WEEKS - 2 :] == 0).all()
    assert (frame["onboarded"] == 35).all()


def test_a_missing_user_count_counts_the_client_once():
    frame = onboarding_columns(_went_live((1, date(2026, 3, 2), None), (2, date(2026, 3, 3), 0)), WEEKS)
    assert frame["onboarding"].max() == 2
    assert frame["onboarded"].iloc[-1] == 2


def test_at_a_replayed_origin_clients_not_signed_yet_are_unknown():
    went_live = _went_live((1, date(2026, 2, 11), 12), (2, date(2026, 5, 20), 40))
    known = onboarding_columns(went_live, WEEKS, known_until=pd.Timestamp("2026-03-01"))
    assert known["onboarded"].max() == 12
    assert onboarding_columns(went_live, WEEKS)["onboarded"].max() == 52


def test_a_clients_own_series_gets_only_its_own_surge():
    went_live = _went_live((1, date(2026, 2, 11), 12), (2, date(2026, 5, 20), 40))
    frame = onboarding_columns(went_live, WEEKS, client_id=2)
    assert list(frame.columns) == ["onboarding"]
    assert frame["onboarding"].sum() == SURGE_WEEKS  # an indicator: the client's size is its series' own scale
    assert frame.loc["2026-05-24", "onboarding"] == 1


def test_monthly_series_have_a_two_month_surge():
    months = pd.date_range("2026-01-01", periods=8, freq="MS")
    frame = onboarding_columns(_went_live((1, date(2026, 3, 18), 9)), months, "M")
    assert list(frame["onboarding"]) == [0, 0, 9, 9, 0, 0, 0, 0]
    assert list(frame["onboarded"]) == [0, 0, 9, 9, 9, 9, 9, 9]


def test_go_live_dates_come_from_the_tenant_or_the_first_agreement(db):
    def client(name, **fields):
        return Client.objects.create(source="superops", external_id=name, name=name, **fields)

    def agreement(who, start, status=Contract.Status.ACTIVE):
        Contract.objects.create(
            source="superops", external_id=f"{who.name}-{start}", client=who, name="Managed", start_date=start,
            kind=Contract.Kind.PER_USER, status=status,
        )

    dated = client("Dated", onboarded_on=date(2025, 4, 1), employee_count=25)
    agreement(dated, date(2024, 1, 1))  # the tenant's own go-live date wins over an older agreement
    signed = client("Signed", employee_count=8)
    agreement(signed, date(2027, 1, 4))
    agreement(signed, date(2027, 3, 1))
    cancelled = client("Cancelled")
    agreement(cancelled, date(2026, 6, 1), Contract.Status.CANCELLED)
    client("Nothing known")

    found = onboardings().set_index("client_id")
    assert set(found.index) == {dated.pk, signed.pk}
    assert found.loc[dated.pk, "onboarded_on"] == date(2025, 4, 1)
    assert found.loc[signed.pk, "onboarded_on"] == date(2027, 1, 4)  # known ahead: signed, not live yet
    assert found.loc[signed.pk, "users"] == 8
