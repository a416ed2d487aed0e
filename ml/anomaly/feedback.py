"""Learning the alert threshold from what people did with earlier findings.

Each reviewed finding has its ensemble score and a verdict: confirmed (a real billing anomaly)
or dismissed. `threshold_from_feedback` picks the cut `t` so that "flag when score >= t"
would have best separated the two:

- Default rule: maximise F1 of the confirmed class over every cut between two observed scores.
  Among equally good cuts the highest wins (fewer alerts for the same quality).
- With `min_precision`: the lowest cut whose precision (confirmed share of what it flags)
  reaches `min_precision`, which flags as many confirmed findings as that precision allows;
  when no cut reaches it, the F1 rule decides.
- The cut sits halfway between the lowest flagged score and the highest score below it, so a
  new score between the two is judged by distance rather than by which side was seen.
- Too thin: with fewer than `min_each` confirmed or fewer than `min_each` dismissed findings a
  learnt cut would follow a handful of clicks, so the rule falls back to the
  `fallback_quantile` (default 0.95: flag the top 5%) of `population` (the scores of all
  rows, when the caller has them) or, without it, of the reviewed scores.

Verdicts may be booleans, 0/1, or floats with NaN for findings nobody has reviewed yet (those
count only in the fallback's quantile).
"""

from __future__ import annotations

import numpy as np

MIN_EACH = 5
FALLBACK_QUANTILE = 0.95


def threshold_from_feedback(
    scores,
    confirmed,
    *,
    min_precision: float | None = None,
    min_each: int = MIN_EACH,
    fallback_quantile: float = FALLBACK_QUANTILE,
    population=None,
) -> float:
    """The score at or above which a row should be flagged (rules in the module docstring)."""
    scores = np.asarray(scores, dtype=float).ravel()
    verdicts = np.asarray(confirmed, dtype=float).ravel()
    if scores.shape != verdicts.shape:
        raise ValueError(f"{scores.size} scores but {verdicts.size} verdicts")
    reviewed = ~np.isnan(verdicts) & ~np.isnan(scores)
    scores_seen, truth = scores[reviewed], verdicts[reviewed] > 0.5
    if min(truth.sum(), (~truth).sum()) < min_each:
        return _fallback(scores, population, fallback_quantile)

    order = np.argsort(-scores_seen, kind="stable")
    ranked, hits = scores_seen[order], truth[order]
    # a cut can only fall between distinct scores: the last position of each distinct value
    last_of_value = np.r_[ranked[1:] != ranked[:-1], True]
    flagged = np.arange(1, ranked.size + 1)[last_of_value]
    caught = np.cumsum(hits)[last_of_value]
    precision = caught / flagged
    recall = caught / truth.sum()
    f1 = np.where(caught > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)

    choice = None
    if min_precision is not None:
        good_enough = np.flatnonzero(precision >= min_precision)
        if good_enough.size:
            choice = good_enough[-1]  # the lowest such cut
    if choice is None:
        choice = int(np.flatnonzero(f1 == f1.max())[0])  # the highest cut among the best
    lowest_flagged = ranked[flagged[choice] - 1]
    if flagged[choice] == ranked.size:
        return float(lowest_flagged)
    return float((lowest_flagged + ranked[flagged[choice]]) / 2)


def _fallback(scores: np.ndarray, population, quantile: float) -> float:
    pool = np.asarray(population if population is not None else scores, dtype=float).ravel()
    pool = pool[~np.isnan(pool)]
    if pool.size == 0:
        return float("inf")  # nothing seen at all: flag nothing until there is something to compare
    return float(np.quantile(pool, quantile))
