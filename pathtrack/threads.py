"""Thread-pool settings for BLAS and Numba sharing the cores: :func:`configure_threads`.

Importing pathtrack changes no environment variable; a program that wants these settings
calls :func:`configure_threads` itself, as the ``pathtrack`` command does first thing.
"""

from __future__ import annotations

import os
from typing import Dict

__all__ = ["THREAD_ENV", "configure_threads"]

#: The defaults :func:`configure_threads` sets, and why.
#:
#: ``OPENBLAS_THREAD_TIMEOUT=16``: OpenBLAS's idle workers otherwise spin for ~2^28 cycles
#: (0.1 s) after every BLAS call, stealing the cores from Numba's parallel kernels that run
#: next; 2^16 cycles keeps them warm between back-to-back BLAS calls only. Measured: Deng's
#: 784-100-10 run under load took 26-33 s with the default, 19-21 s with this. OpenBLAS
#: reads it when it loads, i.e. when numpy is first imported.
#:
#: ``OMP_WAIT_POLICY=PASSIVE``: Numba's OpenMP workers otherwise spin after each parallel
#: region and steal the cores from BLAS and from the next region; on a loaded machine that
#: costs milliseconds per call. libgomp reads it when Numba first starts its thread pool
#: (the first parallel kernel call).
THREAD_ENV: Dict[str, str] = {"OPENBLAS_THREAD_TIMEOUT": "16", "OMP_WAIT_POLICY": "PASSIVE"}


def configure_threads() -> Dict[str, str]:
    """Set the thread-pool defaults of :data:`THREAD_ENV` in ``os.environ``.

    Call it before importing numpy: ``import pathtrack`` does not import numpy, its
    submodules and its public functions (``pathtrack.track`` ...) do. Called later,
    ``OPENBLAS_THREAD_TIMEOUT`` reaches only child processes, and ``OMP_WAIT_POLICY``
    only while no parallel Numba kernel has run. A variable that is already set (by
    the user) is left alone.

    Returns
    -------
    dict
        The variables this call set (empty when all were already set).
    """
    added = {k: v for k, v in THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    return added
