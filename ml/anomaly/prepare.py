"""Turning a caller's features into the matrix every member of the ensemble reads.

Billing features are skewed, have holes and sometimes a column that never changes, and the
members are sensitive to scale (distances, kernels, a neural network). So, before any member
sees a row:

- `as_matrix`: a 2-D float array from a numpy array or a pandas DataFrame; infinities count
  as missing, a 1-D input is one feature.
- `robust_standardise`: each column's missing cells become its median (a column with no value
  at all becomes 0), then the column is centred on its median and divided by a robust spread:
  MAD x 1.4826, or, when more than half the rows share one value (MAD = 0, typical of flags
  and counts), IQR / 1.349, then the standard deviation. A constant column becomes all zeros,
  so it carries no weight anywhere.
- `squash`: sign(z) * log1p(|z|), a monotone map that keeps the order of every column but
  stops one value 10^4 spreads out from dominating a distance, an RBF kernel or the
  autoencoder's training loss. Members that rely on order or extremes read the unsquashed z.
"""

from __future__ import annotations

import numpy as np

MAD_TO_SD = 1.4826  # MAD of a normal distribution x 1.4826 = its standard deviation
IQR_TO_SD = 1.349  # IQR of a normal distribution / 1.349 = its standard deviation


def as_matrix(X) -> np.ndarray:
    """A float copy of X with shape (rows, features); +-inf become NaN."""
    if hasattr(X, "to_numpy") and hasattr(X, "dtypes"):  # a DataFrame (or Series) without importing pandas
        X = _frame_to_numbers(X)
    matrix = np.array(X, dtype=float, copy=True)
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D table of features, got shape {matrix.shape}")
    matrix[~np.isfinite(matrix)] = np.nan
    return matrix


def _frame_to_numbers(frame):
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    text = [name for name, dtype in frame.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))]
    if text:
        raise TypeError(f"anomaly scores need numeric features; not numeric: {', '.join(map(str, text))}")
    return frame.astype(float).to_numpy()


def robust_standardise(matrix: np.ndarray) -> np.ndarray:
    """Median-imputed, median-centred columns in robust standard-deviation units."""
    out = matrix.copy()
    if out.size == 0:
        return out
    for j in range(out.shape[1]):
        column = out[:, j]
        present = column[~np.isnan(column)]
        if present.size == 0:
            out[:, j] = 0.0
            continue
        centre = np.median(present)
        column[np.isnan(column)] = centre
        spread = _robust_spread(present, centre)
        out[:, j] = (column - centre) / spread if spread > 0 else 0.0
    return out


def _robust_spread(values: np.ndarray, centre: float) -> float:
    mad = np.median(np.abs(values - centre)) * MAD_TO_SD
    if mad > 0:
        return float(mad)
    q1, q3 = np.percentile(values, [25, 75])
    if q3 > q1:
        return float((q3 - q1) / IQR_TO_SD)
    return float(np.std(values))


def squash(z: np.ndarray) -> np.ndarray:
    """Order-keeping compression of large standardised values (see the module docstring)."""
    return np.sign(z) * np.log1p(np.abs(z))
