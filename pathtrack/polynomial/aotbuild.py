"""Ahead-of-time compilation of the polynomial kernels a total-degree :func:`solve` calls.

Run at install time by the build backend (:mod:`pathtrack._build_backend`), or by hand with
``python -m pathtrack.polynomial.aotbuild``. :mod:`numba.pycc` compiles the entry points of
:mod:`pathtrack.polynomial.kernels` named in :data:`EXPORTS`, with the argument types the solver
passes, into a CPython extension ``_aot_kernels`` beside this file; a sidecar ``_aot_kernels_meta.py``
holds the hash of the kernel sources it was built from and the kernel module's plain constants. The
extension needs NumPy only, so a run that finds it (:mod:`pathtrack.polynomial.aotload`) neither
imports nor waits for Numba.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULE = "_aot_kernels"
META = "_aot_kernels_meta.py"

# Argument types, in numba's signature syntax: a packed system is a tuple (coef, term_offsets, var, exp,
# eq_offsets) of C-contiguous 1-d arrays.
_SYSTEM = "Tuple((complex128[::1], int64[::1], int64[::1], int64[::1], int64[::1]))"
_ARRAYS = "complex128[::1], int64[::1], int64[::1], int64[::1], int64[::1]"
_TRACK_OUT = "Tuple((complex128[:, ::1], int64[::1], int64[::1], int64[::1], int64[::1], float64[::1]))"
#: kernel name -> (return type, argument types); what a total-degree solve calls.
EXPORTS = {
    "track_batch": (_TRACK_OUT, f"complex128[:, ::1], {_SYSTEM}, {_SYSTEM}, complex128, complex128[::1], "
                                "float64[::1], int64"),
    "endgame_batch": (_TRACK_OUT, f"complex128[:, ::1], {_SYSTEM}, {_SYSTEM}, complex128, complex128[::1], "
                                  "float64[::1], int64"),
    "tail_batch": ("Tuple((complex128[:, ::1], int64[::1], int64[::1]))",
                   f"complex128[:, ::1], float64[::1], {_SYSTEM}, {_SYSTEM}, complex128, complex128[::1], int64, "
                   "float64, float64, float64"),
    "refine_batch": ("Tuple((complex128[:, ::1], float64[::1], complex128[:, :, ::1], complex128[:, ::1]))",
                     f"complex128[:, ::1], {_ARRAYS}, int64, float64, int64"),
    "term_sizes_batch": ("float64[:, ::1]", f"complex128[:, ::1], {_ARRAYS}, int64"),
    "eval_system_alloc": ("Tuple((complex128[::1], complex128[:, ::1]))", f"complex128[::1], {_ARRAYS}, int64"),
}


#: The two-parameter curves' kernels (:mod:`pathtrack.kernels.curves`): a second extension beside them.
CURVES_DIR = HERE.parent / "kernels"
CURVES_MODULE = "_aot_curves"
CURVES_META = "_aot_curves_meta.py"
_VEC, _MAT = "float64[::1]", "float64[:, ::1]"
CURVES_EXPORTS = {
    "bordered_inverse": f"{_MAT}({_MAT}, {_MAT}, {_MAT}, float64, boolean)",
    "l1_levels": f"{_VEC}(float64[:, :, ::1], float64[:, :, ::1], {_MAT}, {_MAT}, complex128[::1], complex128[::1], "
                 "float64)",
}


def source_hash() -> str:
    """SHA-256 of the kernel sources the extension is compiled from (a changed one makes it stale)."""
    h = hashlib.sha256()
    for rel in ("kernels.py", "../kernels/steprules.py", "../status.py"):
        h.update((HERE / rel).read_bytes())
    return h.hexdigest()


def _constants(module) -> dict:
    """The module's public plain constants (ints, floats, strings, dicts of them), which callers read."""
    plain = (int, float, str)
    out = {}
    for name, value in vars(module).items():
        if name.startswith("__") or callable(value):
            continue
        if isinstance(value, plain) or (isinstance(value, dict) and all(
                isinstance(a, plain) and isinstance(b, plain) for a, b in value.items())):
            out[name] = value
    return out


def _jit_only(module) -> list:
    """The module's other compiled functions, which the loader hands out without importing Numba."""
    from numba.core.dispatcher import Dispatcher

    return sorted(name for name, value in vars(module).items()
                  if isinstance(value, Dispatcher) and name not in EXPORTS and not name.startswith("_"))


def _arg_spec(t):
    """What :mod:`pathtrack.polynomial.aotload` checks an argument against: the extension's wrappers do not."""
    from numba.core import types

    if isinstance(t, types.Array):
        return ("a", str(t.dtype), t.ndim)
    if isinstance(t, types.BaseTuple):
        return ("t", tuple(_arg_spec(u) for u in t.types))
    return ("i",) if isinstance(t, types.Integer) else ("f",) if isinstance(t, types.Float) else ("c",)


def _compile(cc) -> None:
    """``cc.compile()`` with the kernels' njit options, which pycc does not take from them: NumPy's error
    model, and the GIL released (the solver runs threads)."""
    from numba.pycc import compiler

    class _Flags(compiler.Flags):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"
            self.release_gil = True

    plain_flags, compiler.Flags = compiler.Flags, _Flags
    try:
        cc.compile()
    finally:
        compiler.Flags = plain_flags


def _build_extension(module: str, meta: str, functions: dict, out_dir: Path, meta_lines: str, verbose: bool) -> None:
    """Compile ``functions`` (name -> (Python function, signature)) into the extension ``module`` in
    ``out_dir``, then write its meta module ``meta``: NumPy's major version and ``meta_lines``
    (the source hash and what the loader needs). A failed compile leaves no meta that could match. Raises where it cannot."""
    from numba.pycc import CC

    from ..kernels.curveload import numpy_major

    cc = CC(module)
    cc.output_dir = str(out_dir)
    cc.verbose = verbose
    for name, (fn, sig) in functions.items():
        cc.export(name, sig)(fn)
    (Path(out_dir) / meta).unlink(missing_ok=True)
    t = time.perf_counter()
    _compile(cc)
    (Path(out_dir) / meta).write_text(
        f'"""Written by pathtrack.polynomial.aotbuild with {module}; do not edit."""\n'
        f"NUMPY_MAJOR = {numpy_major()}\n" + meta_lines)
    if verbose:
        print(f"compiled {len(functions)} kernels into {out_dir}/{module} in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)


def build(out_dir: Path = HERE, verbose: bool = False) -> None:
    """Compile :data:`EXPORTS` into ``out_dir`` (the extension and its meta module), then the curves'
    kernels beside the package's own or into ``out_dir``. Raises where it cannot."""
    from numba.core import sigutils

    from . import kernels

    kernels = kernels._jit() if hasattr(kernels, "_jit") else kernels  # the Numba module, not aotload's stand-in

    specs = {name: tuple(_arg_spec(t) for t in sigutils.normalize_signature(f"{ret}({args})")[0])
             for name, (ret, args) in EXPORTS.items()}
    functions = {name: (getattr(kernels, name).py_func, f"{ret}({args})") for name, (ret, args) in EXPORTS.items()}
    meta_lines = (f"SOURCE_HASH = {source_hash()!r}\nEXPORTS = {specs!r}\nCONSTANTS = {_constants(kernels)!r}\n"
                  f"JIT_ONLY = {_jit_only(kernels)!r}\n")
    _build_extension(MODULE, META, functions, out_dir, meta_lines, verbose)
    build_curves(CURVES_DIR if Path(out_dir) == HERE else Path(out_dir), verbose)


def build_curves(out_dir: Path = CURVES_DIR, verbose: bool = False) -> None:
    """Compile :data:`CURVES_EXPORTS` into ``out_dir`` (``_aot_curves`` and its meta module). Raises where it cannot."""
    from ..kernels import curveload, curves

    functions = {name: (getattr(curves, name).py_func, sig) for name, sig in CURVES_EXPORTS.items()}
    _build_extension(CURVES_MODULE, CURVES_META, functions, out_dir,
                     f"SOURCE_HASH = {curveload.source_hash()!r}\n", verbose)


if __name__ == "__main__":
    build(verbose=True)
