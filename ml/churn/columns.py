"""What each column of a churn frame is, and how it becomes model input.

`FrameCleaner` decides, from the rows it is fitted on only, the role of every column:

- numbers (and booleans) stay numbers; dates become days since 1970-01-01;
- text that is really numbers becomes numbers, blanks becoming missing (telco's `TotalCharges`
  is text with 11 blank cells);
- id-like columns, text or integers with a distinct value on every row (telco's `customerID`),
  are dropped: they identify a row and generalise to none;
- other text and categorical columns are categories; columns with no value at all are dropped.

`make_preprocessor` puts the cleaner in front of median imputation and scaling for numbers and
one-hot encoding for categories (a category first seen at prediction time encodes as all
zeros). Inside a scikit-learn Pipeline all of it is learnt from the training fold alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMBER = "number"
NUMBER_AS_TEXT = "number_as_text"
DATE = "date"
CATEGORY = "category"
ID = "id"
EMPTY = "empty"

# Below this many rows "a distinct value on every row" says little, so nothing is taken for an id.
MIN_ROWS_FOR_ID = 20
# Categories beyond this many per column are grouped as "infrequent", which keeps a wide
# free-text column from turning into thousands of one-hot columns.
MAX_CATEGORIES = 50


def _as_text(column: pd.Series) -> pd.Series:
    """Text with blanks as missing, so '' and ' ' never become a category or fail a parse."""
    text = column.astype("string").str.strip()
    return text.mask(text == "")


def column_role(column: pd.Series) -> str:
    """The role of one column, judged from the values it holds."""
    values = column.dropna()
    if values.empty:
        return EMPTY
    if pd.api.types.is_bool_dtype(column):
        return NUMBER
    if pd.api.types.is_datetime64_any_dtype(column):
        return DATE
    unique_per_row = len(column) >= MIN_ROWS_FOR_ID and column.notna().all() and column.is_unique
    if pd.api.types.is_numeric_dtype(column):
        if unique_per_row and pd.api.types.is_integer_dtype(column):
            return ID
        return NUMBER
    text = _as_text(column)
    present = text.dropna()
    if present.empty:
        return EMPTY
    if pd.to_numeric(present, errors="coerce").notna().all():
        return NUMBER_AS_TEXT
    if unique_per_row:
        return ID
    return CATEGORY


class FrameCleaner(TransformerMixin, BaseEstimator):
    """Learns each column's role on fit; on transform returns float columns for numbers and
    object columns (strings, missing as NaN) for categories, ids and empty columns left out."""

    def fit(self, X: pd.DataFrame, y=None) -> FrameCleaner:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FrameCleaner needs a pandas DataFrame, got {type(X).__name__}")
        self.roles_ = {str(name): column_role(X[name]) for name in X.columns}
        self.feature_names_in_ = np.asarray([str(name) for name in X.columns], dtype=object)
        self.n_features_in_ = len(self.roles_)
        self.dropped_ = [name for name, role in self.roles_.items() if role in (ID, EMPTY)]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.rename(columns=str)
        missing = [name for name, role in self.roles_.items() if role not in (ID, EMPTY) and name not in X.columns]
        if missing:
            raise ValueError(f"columns the model was fitted with are missing: {', '.join(missing)}")
        out = {}
        for name, role in self.roles_.items():
            if role in (ID, EMPTY):
                continue
            column = X[name]
            if role == NUMBER:
                out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
            elif role == NUMBER_AS_TEXT:
                # A value that no longer parses at prediction time is treated as missing.
                out[name] = pd.to_numeric(_as_text(column), errors="coerce").astype("float64")
            elif role == DATE:
                days = (pd.to_datetime(column, errors="coerce") - pd.Timestamp("1970-01-01")).dt.days
                out[name] = days.astype("float64")
            else:
                text = _as_text(column)
                out[name] = text.astype(object).where(text.notna(), np.nan)
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([name for name, role in self.roles_.items() if role not in (ID, EMPTY)], dtype=object)


def make_preprocessor() -> Pipeline:
    """Cleaner, then median imputation and scaling for numbers and one-hot encoding for
    categories; unfitted, so each training fold fits its own."""
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", max_categories=MAX_CATEGORIES, sparse_output=False),
            ),
        ]
    )
    encode = ColumnTransformer(
        [
            ("numbers", numbers, make_column_selector(dtype_include="number")),
            ("categories", categories, make_column_selector(dtype_include=object)),
        ],
        sparse_threshold=0.0,
    )
    return Pipeline([("clean", FrameCleaner()), ("encode", encode)])
