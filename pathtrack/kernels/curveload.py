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


def numpy_major() -> int:
    """NumPy's major version, which an extension's meta records (its C ABI changed with 2)."""
    import numpy

    return int(numpy.__version__.split(".")[0])


def matching_extension(package: str, stem: str, expected_hash: str):
    """``package.stem``, an extension built by :mod:`pathtrack.polynomial.aotbuild`, if its ``stem_meta``
    says it was compiled from sources of ``expected_hash`` against this NumPy major version; else None."""
    try:
        meta = importlib.import_module(f"{package}.{stem}_meta")
        if importlib.util.find_spec(f"{package}.{stem}") is None:
            return None  # not built, or for another Python (the extension's file name says which)
        if meta.SOURCE_HASH != expected_hash or meta.NUMPY_MAJOR != numpy_major():
            return None  # stale: built from other sources, or against another NumPy ABI
        return importlib.import_module(f"{package}.{stem}")  # NumPy refuses an incompatible one here
    except (ImportError, AttributeError, OSError):
        return None


@functools.lru_cache(maxsize=None)
def _extension():
    return matching_extension(_PACKAGE, "_aot_curves", source_hash())


def load():
    """The compiled curve kernels (``bordered_inverse``, ``l1_levels``), or None."""
    if os.environ.get("PATHTRACK_AOT", "1") == "0":
        return None
    return _extension()
