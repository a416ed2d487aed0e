"""The service desk's demand as regular series, read from the synced tickets and worklogs.

Two measures, each for the whole desk, per category, per priority and per top-N client:
- `tickets`: tickets arriving (their `created_at`, in the project's time zone), deleted ones left out;
- `hours`: labour hours, the worklogs' minutes / 60 on their `work_date` (`Worklog.objects.labour()`:
  the service desk's time only, so onsite time also keyed into QuickBooks is not counted twice).
  A worklog's category and priority are its ticket's; project time (no ticket) is category
  "Project", priority "(none)".

Weeks run Monday to Sunday and are labelled by their Sunday (W-SUN, as `helpdesk` labels the
public log). Only complete weeks are kept: the series ends with the last Sunday before `as_of`,
which defaults to the day after the newest ticket or worklog (never after today), so the running
week -- or the last, half-synced one -- is dropped. Weeks with nothing are zeros, and every series
of one call shares one index from the desk's first week. `freq="M"` gives calendar months
(labelled by their first day) for long horizons, complete months only.

The top-N clients are those with the most labour hours in the 52 weeks (12 months) ending with the
series' end. Keys are "<measure>:desk", "<measure>:category:<name>", "<measure>:priority:<name>"
and "<measure>:client:<client id>"; a monthly series' key ends with "@M" ("hours:desk@M").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from clients.models import Client, Contract, Ticket, Worklog
from ml.forecasting.onboardings import series_columns

MEASURES = ("tickets", "hours")
SCOPES = ("desk", "category", "priority", "client")
FREQUENCIES = {"W": "W-SUN", "M": "MS"}
TOP_CLIENTS = 10
TOP_WINDOW_WEEKS = 52
NO_TICKET_CATEGORY = "Project"
BLANK = "(none)"


@dataclass(frozen=True)
class DeskSeries:
    """One series of the desk's demand: its key, what it measures and over what, its values."""

    key: str
    measure: str  # tickets | hours
    scope: str  # desk | category | priority | client
    label: str  # the category, priority or client name; "Whole desk"
    values: pd.Series
    frequency: str = "W"

    @property
    def end(self) -> date:
        return self.values.index[-1].date()


def default_as_of() -> date:
    """The day after the newest ticket or worklog, but never after today."""
    newest = [
        Ticket.objects.filter(deleted_at_source__isnull=True).aggregate(d=Max("created_at"))["d"],
        Worklog.objects.labour().aggregate(d=Max("work_date"))["d"],
    ]
    days = [timezone.localtime(d).date() if hasattr(d, "tzinfo") else d for d in newest if d is not None]
    today = timezone.localdate()
    return min(today, max(days) + timedelta(days=1)) if days else today


def last_complete_period(as_of: date, frequency: str = "W") -> pd.Timestamp:
    """The label of the last period that ended before `as_of`: a Sunday, or a month's first day."""
    if frequency == "W":
        yesterday = as_of - timedelta(days=1)
        return pd.Timestamp(yesterday - timedelta(days=(yesterday.weekday() + 1) % 7))
    month = pd.Timestamp(as_of.replace(day=1))
    return month - pd.offsets.MonthBegin(1)


def period_label(days: pd.Series, frequency: str) -> pd.Series:
    """The label of the period holding each day (the week's Sunday or the month's first day)."""
    days = pd.to_datetime(days)
    if frequency == "W":
        return days + pd.to_timedelta((6 - days.dt.weekday) % 7, unit="D")
    return days.dt.to_period("M").dt.start_time


def _ticket_rows(since: date | None = None, client_id: int | None = None) -> pd.DataFrame:
    tickets = Ticket.objects.filter(deleted_at_source__isnull=True)
    if client_id is not None:
        tickets = tickets.filter(client_id=client_id)
    if since is not None:  # a day early: the local day is decided below, in the project's time zone
        tickets = tickets.filter(created_at__date__gte=since - timedelta(days=1))
    rows = tickets.values_list("created_at", "category", "priority", "client_id")
    frame = pd.DataFrame(list(rows), columns=["when", "category", "priority", "client_id"])
    zone = settings.TIME_ZONE
    stamps = pd.to_datetime(frame["when"], utc=True).dt.tz_convert(zone)
    frame["day"] = stamps.dt.tz_localize(None).dt.normalize()
    frame["amount"] = 1.0
    return frame


def _worklog_rows(since: date | None = None, client_id: int | None = None) -> pd.DataFrame:
    logs = Worklog.objects.labour()
    if client_id is not None:
        logs = logs.filter(client_id=client_id)
    if since is not None:
        logs = logs.filter(work_date__gte=since)
    rows = logs.values_list(
        "work_date", "minutes", "ticket_id", "ticket__category", "ticket__priority", "client_id"
    )
    frame = pd.DataFrame(list(rows), columns=["day", "minutes", "ticket_id", "category", "priority", "client_id"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["amount"] = frame["minutes"].astype(float) / 60.0
    no_ticket = frame["ticket_id"].isna()
    frame.loc[no_ticket, "category"] = NO_TICKET_CATEGORY
    return frame


def _grid(frame: pd.DataFrame, frequency: str, end: pd.Timestamp) -> pd.DatetimeIndex:
    code = FREQUENCIES[frequency]
    start = frame["period"].min() if len(frame) else end
    return pd.date_range(min(start, end), end, freq=code, name="week" if frequency == "W" else "month")


def _sum_by(frame: pd.DataFrame, column: str | None, index: pd.DatetimeIndex) -> dict[object, pd.Series]:
    """Per value of `column` (or the whole frame), the amounts per period on `index`, zeros filled."""
    if column is None:
        groups = {None: frame}
    else:
        groups = dict(tuple(frame.groupby(frame[column].fillna(BLANK).replace("", BLANK), sort=True)))
    out = {}
    for value, group in groups.items():
        sums = group.groupby("period")["amount"].sum()
        series = sums.reindex(index, fill_value=0.0).astype(float)
        series.index.freq = index.freq
        out[value] = series
    return out


def top_clients(as_of: date | None = None, top: int = TOP_CLIENTS) -> list[int]:
    """Ids of the `top` clients with the most labour hours in the 52 weeks ending with the last
    complete week before `as_of` (ties by id)."""
    as_of = as_of or default_as_of()
    end = last_complete_period(as_of).date()
    start = end - timedelta(weeks=TOP_WINDOW_WEEKS) + timedelta(days=1)
    frame = _worklog_rows()
    frame = frame[(frame["day"] >= pd.Timestamp(start)) & (frame["day"] <= pd.Timestamp(end))]
    hours = frame.dropna(subset=["client_id"]).groupby("client_id")["amount"].sum()
    ranked = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))
    return [int(client_id) for client_id, amount in ranked[:top] if amount > 0]


def desk_series(as_of: date | None = None, *, top: int = TOP_CLIENTS, frequency: str = "W") -> list[DeskSeries]:
    """Every series of the desk's demand (see the module docstring), complete periods only."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {sorted(FREQUENCIES)}")
    as_of = as_of or default_as_of()
    end = last_complete_period(as_of, frequency)
    clients = top_clients(as_of, top) if top else []
    names = dict(Client.objects.filter(pk__in=clients).values_list("pk", "name"))
    frames = {"tickets": _ticket_rows(), "hours": _worklog_rows()}
    if all(frame.empty for frame in frames.values()):
        return []  # nothing synced yet: no series, rather than one week of zeros
    for frame in frames.values():
        frame["period"] = period_label(frame["day"], frequency)
    # One index for every series: from the desk's first period (either measure) to `end`.
    kept = {m: f[f["period"] <= end] for m, f in frames.items()}
    index = _grid(pd.concat([f[["period"]] for f in kept.values()]), frequency, end)
    found: list[DeskSeries] = []
    suffix = "" if frequency == "W" else f"@{frequency}"  # weekly and monthly forecasts never share a key
    for measure, frame in kept.items():
        desk = _sum_by(frame, None, index)[None]
        found.append(DeskSeries(f"{measure}:desk{suffix}", measure, "desk", "Whole desk", desk, frequency))
        for scope in ("category", "priority"):
            for value, series in _sum_by(frame, scope, index).items():
                key = f"{measure}:{scope}:{value}{suffix}"
                found.append(DeskSeries(key, measure, scope, str(value), series, frequency))
        by_client = _sum_by(frame[frame["client_id"].isin(clients)], "client_id", index)
        for client_id in clients:
            series = by_client.get(client_id, pd.Series(0.0, index=index))
            label = names.get(client_id, str(client_id))
            key = f"{measure}:client:{client_id}{suffix}"
            found.append(DeskSeries(key, measure, "client", label, series, frequency))
    return found


def parse_key(key: str) -> tuple[str, str, str | None, str]:
    """A series key's (measure, scope, value, frequency): "hours:category:Network@M" ->
    ("hours", "category", "Network", "M"). ValueError for a key no series could have."""
    base, frequency = key, "W"
    for code in FREQUENCIES:
        if code != "W" and key.endswith(f"@{code}"):
            base, frequency = key[: -len(code) - 1], code
    parts = base.split(":", 2)
    if len(parts) < 2 or parts[0] not in MEASURES or parts[1] not in SCOPES or (parts[1] == "desk") != (
            len(parts) == 2):
        raise ValueError(f"not a desk series key: {key!r}")
    if parts[1] == "client" and not parts[2].isdigit():
        raise ValueError(f"not a client series key: {key!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None, frequency


def first_day() -> date | None:
    """The desk's first day with a ticket or a labour worklog (where every series' index starts)."""
    days = [
        Ticket.objects.filter(deleted_at_source__isnull=True).aggregate(d=Min("created_at"))["d"],
        Worklog.objects.labour().aggregate(d=Min("work_date"))["d"],
    ]
    days = [timezone.localtime(d).date() if hasattr(d, "tzinfo") else d for d in days if d is not None]
    return min(days) if days else None


def series_history(key: str, end: date, periods: int) -> pd.Series:
    """The last `periods` periods (fewer when the desk is younger) of one series up to `end`, with
    the values `desk_series` gives it -- the same rows, periods and zeros -- reading only the
    rows of its measure in that window."""
    measure, scope, value, frequency = parse_key(key)
    first, end_label = first_day(), pd.Timestamp(end)
    if first is None:
        return pd.Series(dtype=float, name=key)
    start_label = period_label(pd.Series([pd.Timestamp(first)]), frequency).iloc[0]
    index = _grid(pd.DataFrame({"period": [start_label]}), frequency, end_label)[-periods:]
    since = index[0].date() - timedelta(days=6)  # a week's label is its Sunday; a month's its first day
    client_id = int(value) if scope == "client" else None
    frame = (_ticket_rows if measure == "tickets" else _worklog_rows)(since, client_id)
    frame["period"] = period_label(frame["day"], frequency)
    frame = frame[(frame["period"] >= index[0]) & (frame["period"] <= end_label)]
    if scope in ("category", "priority"):
        sums = _sum_by(frame, scope, index).get(value, pd.Series(0.0, index=index))
    else:  # the whole desk, or one client's rows (already only theirs)
        sums = _sum_by(frame, None, index)[None]
    return sums.rename(key)


def onboardings() -> pd.DataFrame:
    """Every client's go-live (client_id, onboarded_on, users, name), past and known ahead: the
    tenant's go-live date, else the start of its first agreement (many tenants keep no go-live
    field, every one has agreements); users is its employee count (None where not kept).
    Clients that churned went live too, so they stay: `onboardings` says why. `name` is the
    client's, for the pages."""
    first_start = {
        row["client_id"]: row["first"]
        for row in Contract.objects.exclude(status=Contract.Status.CANCELLED)
        .values("client_id")
        .annotate(first=Min("start_date"))
    }
    rows = [
        (pk, onboarded or first_start.get(pk), users, name)
        for pk, onboarded, users, name in Client.objects.values_list("pk", "onboarded_on", "employee_count", "name")
    ]
    frame = pd.DataFrame(rows, columns=["client_id", "onboarded_on", "users", "name"])
    return frame.dropna(subset=["onboarded_on"]).reset_index(drop=True)


def series_regressors(one: DeskSeries, went_live: pd.DataFrame | None, horizon: int,
                      columns: tuple[str, ...]) -> pd.DataFrame | None:
    """The onboarding regressors `columns` of one desk series over its periods and the next
    `horizon` (a client's series has only its own surge), or None when there are none to give.
    Every go-live the tenant holds counts as known, the future ones included: they are signed."""
    client = int(parse_key(one.key)[2]) if one.scope == "client" else None
    return series_columns(went_live, one.values.index, horizon, columns, one.frequency, client)


@dataclass(frozen=True)
class KnownOnboarding:
    """A client going live on a known date (signed, or live already)."""

    client_id: int
    name: str
    go_live: date
    users: int | None


def known_onboardings(after: date, until: date) -> list[KnownOnboarding]:
    """Clients going live after `after` up to `until`, soonest first (`onboardings()`'s dates)."""
    went_live = onboardings()
    if went_live.empty:
        return []
    days = pd.to_datetime(went_live["onboarded_on"]).dt.date
    coming = went_live[(days > after) & (days <= until)]
    found = [
        KnownOnboarding(int(row.client_id), row.name, pd.Timestamp(row.onboarded_on).date(),
                        None if pd.isna(row.users) else int(row.users))
        for row in coming.itertuples()
    ]
    return sorted(found, key=lambda one: (one.go_live, one.name))
