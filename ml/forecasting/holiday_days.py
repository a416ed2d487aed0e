"""Public holidays on weekdays: the days a service desk that works Monday to Friday is shut.

One definition for the two places that count them: the roster (`capacity`, a technician's hours
off) and ARIMA's holiday regressor (`prophet_member.weekday_holidays`). Prophet takes the
holidays themselves, weekends included, from its own `make_holidays_df`.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache


@lru_cache(maxsize=32)
def weekday_holiday_dates(country: str, first_year: int, last_year: int) -> tuple[date, ...]:
    """The `holidays` package's public holidays of `country` in those years (inclusive) that fall
    on Monday to Friday, observed days included (a Saturday holiday observed on the Friday
    counts on the Friday), each date once, in order."""
    import holidays  # Prophet's dependency; imported when a calendar is needed

    calendar = holidays.country_holidays(country, years=list(range(first_year, last_year + 1)))
    return tuple(sorted(day for day in calendar if day.weekday() < 5))
