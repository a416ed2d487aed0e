"""Unsupervised billing-anomaly ensemble (issue 12): one score per row of numeric features,
higher = more anomalous, with no labels, no Django models and no database.

    from ml.anomaly import ensemble_scores, member_scores, combine, threshold_from_feedback

    members = member_scores(frame)        # {"isolation_forest": ..., ...}, raw scores per row
    score = combine(members)              # == ensemble_scores(frame), in [0, 1]
    cut = threshold_from_feedback(reviewed_scores, confirmed, population=score)

- `prepare`: numbers from an array or a DataFrame, median imputation, robust standardisation
  (median / MAD), and the log squash the distance-based members read.
- `members`: Isolation Forest, One-Class SVM, autoencoder (MLPRegressor reconstruction error)
  and the robust z-score; `density`: DBSCAN noise as a distance to the nearest core point.
  The expensive members learn from at most 2,000 random rows and score all rows, so 50,000
  rows take a few seconds.
- `combine`: member scores -> percentile ranks -> the ensemble.
- `feedback`: the alert threshold learnt from confirmed and dismissed findings.

The combination rule: each member's scores become percentile ranks (0 = most normal row,
1 = most anomalous), and a row's ensemble score is the mean of its two highest ranks.

Why: the members catch different kinds of anomaly (a tree isolates a global outlier, the
density member a row in an empty region between clusters, the autoencoder a row that breaks a
relationship between columns, the z-score an extreme value), and on any one kind some of
them are blind or even inverted (DBSCAN and the autoencoder see a tight cluster of anomalies
as normal). A plain mean of ranks lets the blind members pull a caught anomaly back into the
crowd, which is why it does no better than Isolation Forest alone; the maximum keeps every
catch but also every member's false alarms. Taking the two strongest opinions keeps a catch
that two members agree on and needs a second member to confirm a lone member's alarm.
Weighting members by their rank correlation with the others was tried and rejected: the
member that is right on an unusual shape is the one that disagrees with the rest.

The rule was chosen on synthetic data only (11 shapes: separated blobs, clusters of
different density, broken correlations, clustered anomalies, billing-like contracts,
heavy tails, a curved manifold, mostly-binary flags, legitimately extreme normal rows, signal
in 2 of 20 columns, 12% anomalies; seeds 0-5). Mean ROC-AUC over the shapes, seeds 0-2:
Isolation Forest 0.890, mean of ranks 0.890, agreement-weighted mean 0.892, maximum 0.936,
mean of the top two 0.936; worst shape against Isolation Forest: mean of ranks -0.363,
maximum -0.035, top two -0.021. With a sixth member of pure noise added, top two still gained
+0.043 over Isolation Forest and the maximum only +0.022 (`bench/anomaly.py --design`).

The public ADBench sets were measured afterwards, once, and the rule was not changed after it
(tests/test_anomaly_ensemble.py, bench/anomaly.py; mean ROC-AUC of seeds 0-2, all rows): the
ensemble reaches 0.914 against a plain Isolation Forest's 0.919, so the issue's bar is not met
and its test is a strict xfail. Per member: Isolation Forest 0.919, robust z 0.902, One-Class
SVM 0.821, DBSCAN noise 0.727, autoencoder 0.668. The ensemble gains on annthyroid (0.884 vs
0.832) and loses most on cardio (0.869 vs 0.926) and shuttle (0.982 vs 0.997), where the
density member and the autoencoder are weak (cardio 0.468 and 0.617): likely because with two of
five members weak, a normal row's second-highest rank often comes from one of them.
"""

from ml.anomaly.combine import MEMBERS, combine, ensemble_scores, member_scores, percentile_ranks
from ml.anomaly.feedback import threshold_from_feedback

__all__ = ["MEMBERS", "combine", "ensemble_scores", "member_scores", "percentile_ranks", "threshold_from_feedback"]
