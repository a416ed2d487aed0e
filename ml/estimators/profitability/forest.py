"""A Random Forest's prediction for a few rows without scikit-learn's per-tree Python loop.

scikit-learn predicts tree by tree (about 50 microseconds each), so one client through a
200-tree forest took 11 ms, most of a page's what-if. Here every tree's nodes sit in one flat
array and all trees walk down together, one numpy step per level: the same splits (x <= threshold
goes left; a missing value goes where the tree learnt to send it, `missing_go_to_left`), the same
leaf values, averaged as the forest does. Used for small batches; large ones keep scikit-learn's
predict, which is faster per row.
"""

from __future__ import annotations

import numpy as np

SMALL = 64  # rows; above this scikit-learn's own predict is used


class FlatForest:
    def __init__(self, forest):
        trees = [e.tree_ for e in forest.estimators_]
        sizes = np.array([t.node_count for t in trees])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.roots = offsets.astype(np.int64)
        self.feature = np.concatenate([t.feature for t in trees]).astype(np.int64)
        self.threshold = np.concatenate([t.threshold for t in trees])
        self.missing_left = np.concatenate([t.missing_go_to_left for t in trees]).astype(bool)
        leaf = np.concatenate([t.children_left for t in trees]) < 0
        self.left = np.concatenate([np.where(t.children_left < 0, 0, t.children_left) for t in trees]) \
            + np.repeat(offsets, sizes)
        self.right = np.concatenate([np.where(t.children_right < 0, 0, t.children_right) for t in trees]) \
            + np.repeat(offsets, sizes)
        self.left[leaf] = np.flatnonzero(leaf)  # a leaf points at itself, so walking on stays put
        self.right[leaf] = np.flatnonzero(leaf)
        self.feature[leaf] = 0
        self.value = np.concatenate([t.value[:, 0, 0] for t in trees])
        self.depth = max(t.max_depth for t in trees)

    def predict(self, X: np.ndarray) -> np.ndarray:
        # scikit-learn compares float32 features with its thresholds: so does this.
        X = np.asarray(X, dtype="float32").astype("float64")
        out = np.empty(len(X))
        for i, row in enumerate(X):
            node = self.roots.copy()
            for _ in range(self.depth):
                x = row[self.feature[node]]
                missing = np.isnan(x)
                go_left = np.where(missing, self.missing_left[node], x <= self.threshold[node])
                node = np.where(go_left, self.left[node], self.right[node])
            out[i] = self.value[node].mean()
        return out
