"""The polynomial kernels from their ahead-of-time compiled extension, where one matches the source.

:func:`install` puts a stand-in for :mod:`pathtrack.polynomial.kernels` into ``sys.modules`` when the
extension built by :mod:`pathtrack.polynomial.aotbuild` is present and was compiled from the current
kernel sources (same hash, same NumPy major version). The stand-in answers the kernel constants and
the exported entry points without importing Numba; any other name (another kernel, a helper), and a
call whose arguments are not of the compiled types, loads the Numba module and uses its just-in-time
kernels. ``PATHTRACK_AOT=0`` in the environment keeps the Numba kernels throughout.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import types

__all__ = ["install", "active"]

KERNELS = __name__.rsplit(".", 1)[0] + ".kernels"


def _check(value, spec) -> bool:
    """Whether ``value`` has the compiled type ``spec`` (see aotbuild._arg_spec): the extension does not check."""
    kind = spec[0]
    if kind == "a":
        return (getattr(value, "dtype", None) == spec[1] and value.ndim == spec[2]
                and value.flags.c_contiguous and value.flags.aligned)
    if kind == "t":
        return type(value) is tuple and len(value) == len(spec[1]) and all(map(_check, value, spec[1]))
    if kind == "i":
        return isinstance(value, int) or getattr(value, "dtype", None) == "int64"
    if kind == "f":
        return isinstance(value, float) or getattr(value, "dtype", None) == "float64"
    return isinstance(value, complex) or getattr(value, "dtype", None) == "complex128"


def _kernel(name):
    """The kernel ``name`` of :mod:`pathtrack.polynomial.kernels` (how the stand-ins unpickle)."""
    return getattr(importlib.import_module(KERNELS), name)


class _Kernel:
    """An exported kernel: the compiled function for arguments of its compiled types, else the Numba one."""

    def __init__(self, facade, name, fn, specs):
        self._facade, self.__name__, self._fn, self._specs = facade, name, fn, specs
        self.signatures = [specs]  # compiled: callers' "first compile" notices stay quiet

    def __call__(self, *args):
        if len(args) == len(self._specs) and all(map(_check, args, self._specs)):
            return self._fn(*args)
        return getattr(self._facade._jit(), self.__name__)(*args)

    def __reduce__(self):  # executor tasks pickle the kernel by name
        return _kernel, (self.__name__,)


class _JitOnly:
    """A kernel that is not in the extension: Numba is imported, and it compiled or loaded, when it is called."""

    def __init__(self, facade, name):
        self._facade, self.__name__ = facade, name

    def __getattr__(self, name):
        return getattr(getattr(self._facade._jit(), self.__name__), name)

    def __call__(self, *args, **kwargs):
        return getattr(self._facade._jit(), self.__name__)(*args, **kwargs)

    def __reduce__(self):
        return _kernel, (self.__name__,)


class _Facade(types.ModuleType):
    """``pathtrack.polynomial.kernels`` served by the extension, the Numba module loaded on demand."""

    def __init__(self, meta, path, ext):
        super().__init__(KERNELS, __doc__)
        self.__file__ = path
        self._meta = meta
        self._ext = ext
        self._jit_module = None
        self._lock = threading.Lock()  # solver threads may ask at once: the module is executed once

    def _jit(self):
        with self._lock:
            return self._jit_module or self._load_jit()

    def _load_jit(self):
        if self._jit_module is None:
            spec = importlib.util.spec_from_file_location(KERNELS, self.__file__)
            module = importlib.util.module_from_spec(spec)
            sys.modules[KERNELS] = module  # its own imports and Numba's cache see the real module ...
            try:
                spec.loader.exec_module(module)
            finally:
                sys.modules[KERNELS] = self  # ... and importers keep the stand-in
            self._jit_module = module
        return self._jit_module

    def __getattr__(self, name):
        meta = self.__dict__["_meta"]
        if name in meta.CONSTANTS:
            return meta.CONSTANTS[name]
        if name in meta.EXPORTS:
            kernel = _Kernel(self, name, getattr(self._ext, name), meta.EXPORTS[name])
            setattr(self, name, kernel)
            return kernel
        if name.startswith("__"):
            raise AttributeError(name)
        if name in meta.JIT_ONLY and self._jit_module is None:  # imported by name, often not called
            return _JitOnly(self, name)
        return getattr(self._jit(), name)


def active() -> bool:
    """Whether the kernels come from the compiled extension."""
    return isinstance(sys.modules.get(KERNELS), _Facade)


def install() -> bool:
    """Serve :mod:`pathtrack.polynomial.kernels` from the extension if it matches the sources; returns whether."""
    if os.environ.get("PATHTRACK_AOT", "1") == "0" or KERNELS in sys.modules:
        return active()
    package = __name__.rsplit(".", 1)[0]
    from ..kernels.curveload import matching_extension
    from .aotbuild import source_hash

    ext = matching_extension(package, "_aot_kernels", source_hash())
    if ext is None:
        return False
    meta = importlib.import_module(package + "._aot_kernels_meta")
    path = os.path.join(os.path.dirname(__file__), "kernels.py")
    facade = _Facade(meta, path, ext)
    sys.modules[KERNELS] = facade
    setattr(sys.modules[package], "kernels", facade)
    return True
