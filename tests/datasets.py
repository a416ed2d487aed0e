"""Where the public data sets in `shared/datasets/` are found (see its README.md): the
folder named by SUPERHACK_DATASETS, the `shared/datasets` beside the checkout, or /work's. A test
that needs one skips, naming the folders it looked in, when none holds it."""

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def dataset_folders() -> list[Path]:
    folders = []
    if os.environ.get("SUPERHACK_DATASETS"):
        folders.append(Path(os.environ["SUPERHACK_DATASETS"]))
    folders += [PROJECT_ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")]
    return folders


def find_dataset(name: str) -> Path:
    """The path of `name` (a file or a folder) in the first folder that holds it."""
    for folder in dataset_folders():
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"{name} not found; looked in {', '.join(str(f) for f in dataset_folders())}")
