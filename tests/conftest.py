"""Shared test set-up: real data sets live in ``<repo>/../shared/data`` unless PATHTRACK_DATA says otherwise."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("PATHTRACK_DATA", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Root of the shared data sets. MNIST is part of the test environment (``../shared/data``), so its
    absence is a failure that names the path, not a silent skip."""
    root = Path(os.environ["PATHTRACK_DATA"])
    if not (root / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST files not found under {root}/mnist (set PATHTRACK_DATA to the data directory)")
    return root
