"""Shared test set-up: real data sets live in ``<repo>/../shared/data`` unless PATHTRACK_DATA says otherwise."""

import os
import platform
import sys
from pathlib import Path

import pytest


def _pin_floating_point_kernels() -> None:
    """Use the AVX2 kernels of OpenBLAS and NumPy on every x86-64 machine that has AVX2.

    Some docs tables (long gradient flows, budget-limited optimisers on non-convex losses) amplify the
    last bits of BLAS and of NumPy's SIMD loops, which differ between OpenBLAS's Haswell and SkylakeX
    kernels and between NumPy's AVX2 and AVX-512 paths. Their tests re-run rows to the printed digits,
    so the suite fixes the kernels (it must happen before NumPy is imported).
    """
    if platform.machine() not in ("x86_64", "AMD64") or "numpy" in sys.modules:
        return
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return
    if "avx2" in flags and "fma" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
        os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4,AVX512_ICL,AVX512_SPR")


_pin_floating_point_kernels()
os.environ.setdefault("PATHTRACK_DATA", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Root of the shared data sets. MNIST is part of the test environment (``../shared/data``), so its
    absence is a failure that names the path, not a silent skip."""
    root = Path(os.environ["PATHTRACK_DATA"])
    if not (root / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST files not found under {root}/mnist (set PATHTRACK_DATA to the data directory)")
    return root
