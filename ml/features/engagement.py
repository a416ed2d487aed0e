"""Engagement and satisfaction KPIs per client per month: CSAT, its trend, survey response
rate, QBRs, interactions, their sentiment, and days since the last contact.

Definitions (also in docs/kpis.md):
- csat_avg = mean survey score (1-5) of surveys answered in the month.
- csat_trend = CSAT over the last 3 months - CSAT over the 3 months before (survey-weighted);
  missing unless both periods have at least 3 surveys.
- survey_response_rate = surveys answered / tickets created, both over the trailing 3 months
  (capped at 1: a survey can arrive the month after its ticket).
- qbr_count = QBR meetings held in the month; qbr_last_12m = in the 12 months ending with it.
- interactions = QBRs, calls, emails and site visits in the month; interaction_sentiment = their
  mean sentiment (-1..1) where one was recorded.
- days_since_contact = days from the last interaction to the month end (or the as-of date in
  the still-running month); missing if the client never had one.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from . import months

SURVEY_COLUMNS = ("surveys", "low_csat_surveys", "csat_avg")
MIN_TREND_SURVEYS = 3


def survey_kpis(surveys: pd.DataFrame) -> pd.DataFrame:
    s = surveys.set_index(["client_id", "mi"])
    out = pd.DataFrame(index=s.index)
    out["surveys"] = s["surveys"].astype("int64")
    out["low_csat_surveys"] = s["low_csat_surveys"].astype("int64")
    out["csat_avg"] = months.safe_ratio(s["score_sum"], s["surveys"]).to_numpy()
    return out


def derive(f: pd.DataFrame) -> None:
    """CSAT trend and survey response rate (surveys and tickets only)."""
    f["_score_sum"] = (f["csat_avg"] * f["surveys"]).fillna(0)
    n3, n3_prior = months.rolling(f, "surveys", 3), months.rolling(f, "surveys", 3, shift=3)
    s3, s3_prior = months.rolling(f, "_score_sum", 3), months.rolling(f, "_score_sum", 3, shift=3)
    enough = (n3 >= MIN_TREND_SURVEYS) & (n3_prior >= MIN_TREND_SURVEYS)
    f["csat_trend"] = (s3 / n3 - s3_prior / n3_prior).where(enough).to_numpy()
    rate = months.safe_ratio(n3, months.rolling(f, "tickets", 3))
    f["survey_response_rate"] = rate.clip(upper=1.0).to_numpy()
    f.drop(columns="_score_sum", inplace=True)


def derive_interactions(f: pd.DataFrame, interactions: pd.DataFrame, as_of: date) -> None:
    grid = f[[]]
    i = interactions[interactions["client_id"].isin(grid.index.get_level_values(0).unique())]
    per_month = i.set_index(["client_id", "mi"]) if not i.empty else None
    for column in ("interactions", "qbr_count"):
        f[column] = 0 if per_month is None else per_month[column].reindex(grid.index, fill_value=0).astype("int64")
    f["qbr_last_12m"] = months.rolling(f, "qbr_count", 12, partial=True).astype("int64")
    if per_month is None:
        f["interaction_sentiment"] = np.nan
        f["days_since_contact"] = np.nan
        return
    sentiment = per_month.reindex(grid.index)
    f["interaction_sentiment"] = months.safe_ratio(sentiment["sentiment_sum"], sentiment["sentiment_n"]).to_numpy()
    last = i.assign(day=pd.to_datetime(i["last_at"], utc=True).dt.tz_localize(None).dt.normalize())
    last = last.assign(day=(last["day"] - pd.Timestamp("1970-01-01")).dt.days)
    # Contacts before a client's first reported month still count as its last contact.
    starts = grid.reset_index().groupby("client_id")["mi"].min()
    last["mi"] = np.maximum(last["mi"].to_numpy(), last["client_id"].map(starts).to_numpy())
    latest = last.groupby(["client_id", "mi"])["day"].max().reindex(grid.index)
    latest = latest.groupby(level=0).cummax().groupby(level=0).ffill()
    as_of_mi = months.to_index(as_of)
    epoch = date(1970, 1, 1)
    mis = grid.index.get_level_values(1)
    end_day = {m: ((as_of if m == as_of_mi else months.month_end(m)) - epoch).days for m in mis.unique()}
    ends = mis.map(end_day).to_numpy(dtype="float64")
    f["days_since_contact"] = ends - latest.to_numpy()
