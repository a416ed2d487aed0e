"""The public helpdesk event log as weekly ticket arrivals (shared/datasets/README.md).

A ticket arrives at its first event. Weeks run Monday to Sunday and are labelled by their Sunday
(timestamps are cut to their date first: pandas' weekly bins close at Sunday midnight, so a
Sunday-afternoon ticket would otherwise land in the next week). Weeks after 2012-08-12 are
incomplete in the published log and dropped, leaving 135 weeks; the last 12 are the holdout the
README's reference figures were measured on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LAST_COMPLETE_WEEK = pd.Timestamp("2012-08-12")
HOLDOUT_WEEKS = 12


def weekly_arrivals(path: str | Path) -> pd.Series:
    """Tickets arriving each week (a W-SUN series of counts, weeks without tickets as 0)."""
    events = pd.read_csv(path, usecols=["CaseID", "CompleteTimestamp"], parse_dates=["CompleteTimestamp"])
    arrived = events.groupby("CaseID")["CompleteTimestamp"].min().dt.normalize()
    weekly = pd.Series(1, index=pd.DatetimeIndex(arrived.to_numpy())).resample("W-SUN").sum()
    weekly = weekly[weekly.index <= LAST_COMPLETE_WEEK].astype(int)
    weekly.index.freq = "W-SUN"
    weekly.index.name = "week"
    return weekly.rename("arrivals")


def holdout_split(weekly: pd.Series, weeks: int = HOLDOUT_WEEKS) -> tuple[pd.Series, pd.Series]:
    """(history, the last `weeks` weeks)."""
    return weekly.iloc[:-weeks], weekly.iloc[-weeks:]
