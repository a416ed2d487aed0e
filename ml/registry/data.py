"""The training-data hash: the same frames give the same hash in any process, so a kind whose
data has not changed is not trained again."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def frame_hash(*frames: pd.DataFrame | pd.Series) -> str:
    """sha256 over the frames' columns, dtypes, index and values (row order counts)."""
    import pandas as pd  # here, not at import: the registry loads with the admin in every process

    h = hashlib.sha256()
    for frame in frames:
        if isinstance(frame, pd.Series):
            frame = frame.to_frame()
        h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()
