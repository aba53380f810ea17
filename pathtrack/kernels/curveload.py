"""The two-parameter curves' kernels from their ahead-of-time compiled extension, or None.

:func:`load` returns the extension ``_aot_curves`` built by :mod:`pathtrack.polynomial.aotbuild` from
:mod:`pathtrack.kernels.curves` when it is present and was compiled from the current source (same hash,
same NumPy major version); otherwise None, and the curves use their NumPy code. It never imports Numba.
``PATHTRACK_AOT=0`` in the environment gives None.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os

__all__ = ["load", "source_hash"]

_PACKAGE = __name__.rsplit(".", 1)[0]


def source_hash() -> str:
    """SHA-256 of :mod:`pathtrack.kernels.curves`, which ``_aot_curves`` is compiled from."""
    with open(os.path.join(os.path.dirname(__file__), "curves.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@functools.lru_cache(maxsize=None)
def _extension():
    try:
        meta = importlib.import_module(_PACKAGE + "._aot_curves_meta")
        if importlib.util.find_spec(_PACKAGE + "._aot_curves") is None:
            return None  # not built, or for another Python
        import numpy

        if meta.SOURCE_HASH != source_hash() or meta.NUMPY_MAJOR != int(numpy.__version__.split(".")[0]):
            return None  # stale
        return importlib.import_module(_PACKAGE + "._aot_curves")
    except (ImportError, AttributeError, OSError):
        return None


def load():
    """The compiled curve kernels (``bordered_inverse``, ``l1_levels``), or None."""
    if os.environ.get("PATHTRACK_AOT", "1") == "0":
        return None
    return _extension()
