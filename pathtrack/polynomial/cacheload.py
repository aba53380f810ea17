"""Loading the compiled tracker from Numba's on-disk cache without preparing a compiler.

Before it reads a cached function, Numba refreshes its CPU target: it imports and registers
every typing and lowering module it has (``numba.np.arraymath`` among them, which imports
``scipy.linalg`` to probe for BLAS). That is what a compile needs, and it was most of a warm
``pathtrack solve``: the cached machine code needs only Numba's runtime (NRT). :func:`install`
makes a cache load of the functions of the named modules initialise the runtime alone. A cache
miss is unaffected, because Numba's compiler refreshes the target itself before it compiles;
and functions of other modules (the ``parallel=True`` training kernels, user code) keep
Numba's own load.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["install"]

_modules: set = set()


def install(modules: Iterable[str]) -> bool:
    """Load cached functions defined in ``modules`` with the runtime initialised and nothing else.

    Returns whether the fast load is in place: ``False`` (Numba's own load, unchanged) where this
    Numba lacks the internals it relies on.
    """
    from numba.core import caching
    from numba.core.runtime import rtsys

    cache = caching.Cache
    if not all(hasattr(cache, name) for name in ("load_overload", "_load_overload",
                                                 "_guard_against_spurious_io_errors")):
        return False
    _modules.update(modules)
    if getattr(cache.load_overload, "_pathtrack", False):
        return True
    numba_load = cache.load_overload

    def load_overload(self, sig, target_context):
        if getattr(getattr(self, "_py_func", None), "__module__", None) not in _modules:
            return numba_load(self, sig, target_context)
        rtsys.initialize(target_context)  # what the cached code calls: allocation, reference counts
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    load_overload._pathtrack = True
    load_overload.__doc__ = numba_load.__doc__
    cache.load_overload = load_overload
    return True
