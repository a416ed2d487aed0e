"""The simulated calendar: the window of months, holidays, how busy each day is, business
hours for SLA clocks, and fast ISO formatting.

Times inside the simulation are integer minutes since 0001-01-01 (date ordinal x 1440), so
adding and comparing them is integer arithmetic and formatting is two table look-ups.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from . import priors

DAY = 1440
BUSINESS_START = 8 * 60
BUSINESS_END = 18 * 60
BUSINESS_DAY = BUSINESS_END - BUSINESS_START
_TIME_OF_DAY = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(DAY)]


def first_of_month(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    """First day of the month n months after d's month."""
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(d: date) -> date:
    return add_months(d, 1) - timedelta(days=1)


def default_end_month(today: date) -> date:
    """The last full calendar month before today."""
    return add_months(today.replace(day=1), -1)


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def weekday(ordinal: int) -> int:
    """0 = Monday, like date.weekday(); 0001-01-01 was a Monday."""
    return (ordinal - 1) % 7


@cache
def day_str(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def ts(t: int) -> str:
    """SuperOps timestamp: naive UTC, minute precision."""
    return f"{day_str(t // DAY)}T{_TIME_OF_DAY[t % DAY]}"


@cache
def qb_offset(ordinal: int) -> str:
    # Pacific time, as a QuickBooks company in California; DST from the 2nd Sunday of March
    # to the 1st Sunday of November.
    d = date.fromordinal(ordinal)
    start = _nth_weekday(d.year, 3, 6, 2)
    end = _nth_weekday(d.year, 11, 6, 1)
    return "-07:00" if start <= d < end else "-08:00"


def qb_ts(t: int) -> str:
    day = t // DAY
    return f"{day_str(day)}T{_TIME_OF_DAY[t % DAY]}{qb_offset(day)}"


def minute(d: date, hour: int = 0, minute_: int = 0) -> int:
    return d.toordinal() * DAY + hour * 60 + minute_


def is_business(t: int) -> bool:
    day, m = divmod(t, DAY)
    return (day - 1) % 7 < 5 and BUSINESS_START <= m < BUSINESS_END


_WEEK = 5 * BUSINESS_DAY


def business_index(t: int) -> int:
    """Business minutes (Mon-Fri 08-18) between 0001-01-01 and t: a clock that only runs
    in office hours, so SLA arithmetic is a subtraction instead of a walk over days."""
    day, m = divmod(t, DAY)
    week, wd = divmod(day - 1, 7)
    if wd >= 5:
        return (week + 1) * _WEEK
    return week * _WEEK + wd * BUSINESS_DAY + min(max(m - BUSINESS_START, 0), BUSINESS_DAY)


def from_business_index(b: int) -> int:
    """The earliest time whose business index is b (mornings, not the evening before)."""
    week, rest = divmod(b, _WEEK)
    wd, m = divmod(rest, BUSINESS_DAY)
    return (1 + week * 7 + wd) * DAY + BUSINESS_START + m


def add_business_minutes(t: int, minutes: int) -> int:
    """The time `minutes` business minutes after t."""
    return from_business_index(business_index(t) + minutes)


def business_minutes_between(a: int, b: int) -> int:
    """Business minutes from a to b."""
    return max(0, business_index(b) - business_index(a))


def _nth_weekday(year: int, month: int, wd: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(wd - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, wd: int) -> date:
    d = month_end(date(year, month, 1))
    return d - timedelta(days=(d.weekday() - wd) % 7)


@cache
def holidays(year: int) -> frozenset[date]:
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return frozenset({
        date(year, 1, 1), _last_weekday(year, 5, 0), date(year, 7, 4), _nth_weekday(year, 9, 0, 1),
        thanksgiving, thanksgiving + timedelta(days=1), date(year, 12, 25),
    })


def patch_wednesday(year: int, month: int) -> date:
    """The day after Patch Tuesday (second Tuesday): 'Crash Wednesday'."""
    return _nth_weekday(year, month, 1, 2) + timedelta(days=1)


class MonthDays:
    """How busy each day of one month is for the service desk, normalised so an ordinary
    month sums to its day count x 1 (a month with Christmas sums to less)."""

    # An average week's weight per day, to normalise against.
    _WEEK_MEAN = sum(priors.WEEKDAY_WEIGHTS) / 7

    def __init__(self, first: date):
        self.first = first
        self.last = month_end(first)
        self.ordinals = list(range(first.toordinal(), self.last.toordinal() + 1))
        hols = holidays(first.year)
        patch = patch_wednesday(first.year, first.month)
        weights, password_boost, app_boost = [], [], []
        working_days_in_january = 0
        for ordinal in self.ordinals:
            d = date.fromordinal(ordinal)
            w = priors.WEEKDAY_WEIGHTS[d.weekday()]
            boost_pw = boost_app = 1.0
            if d in hols:
                w = min(w, priors.HOLIDAY_WEIGHT)
            if d.month == 12 and d.day >= 24:
                w *= priors.CHRISTMAS_WEEK
            if d == patch:
                w *= priors.PATCH_WEDNESDAY
                boost_app = 3.0
            if d.month == 1 and d.weekday() < 5 and d not in hols:
                working_days_in_january += 1
                if working_days_in_january <= 5:
                    w *= priors.EARLY_JANUARY
                    boost_pw = priors.POST_HOLIDAY_PASSWORD_BOOST
            weights.append(w / self._WEEK_MEAN)
            password_boost.append(boost_pw)
            app_boost.append(boost_app)
        self.weights = weights
        self.password_boost = password_boost
        self.app_boost = app_boost
        self.total = sum(weights)
        running, cum = 0.0, []
        for w in weights:
            running += w
            cum.append(running)
        self.cum_weights = cum
        # Days of the month as a share of an average month (30.44 days).
        self.volume = self.total / 30.44


# Arrival hour profile: business-hours peak mid-morning, a lunch dip, a thin after-hours tail.
_HOURLY = [0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3.0, 4.2, 4.0, 3.4, 2.4, 3.0, 3.1, 2.8, 2.3, 1.5,
           0.8, 0.6, 0.5, 0.45, 0.35, 0.25]
_WEEKEND_HOURLY = [0.3] * 7 + [0.8] * 12 + [0.5] * 5
HOUR_CUM = [sum(_HOURLY[: i + 1]) for i in range(24)]
WEEKEND_HOUR_CUM = [sum(_WEEKEND_HOURLY[: i + 1]) for i in range(24)]
