"""pathtrack: robust predictor-corrector numerical continuation.

The public API: define a :class:`Problem`, call :func:`track`, read the :class:`PathResult`.
"""

import os

# Before numpy loads OpenBLAS: its idle workers otherwise spin for ~2^28 cycles (0.1 s) after
# every BLAS call, stealing the cores from Numba's parallel kernels that run next. 2^16 cycles
# keeps them warm between back-to-back BLAS calls only. Measured: Deng's 784-100-10 run under
# load took 26-33 s with the default, 19-21 s with this. Only a default; no effect if numpy
# was imported first.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

from ._version import __version__  # noqa: E402
from .driver import PathFailed, PathResult, track  # noqa: E402
from .events import Event, SpecialPoint  # noqa: E402
from .io import load  # noqa: E402
from .options import OptionsError, TrackerOptions  # noqa: E402
from .problem import FunctionProblem, Problem, ProblemError, StartPoint  # noqa: E402
from .polynomial import SolveOptions, SolveResult, solve  # noqa: E402
from .status import Status  # noqa: E402
from .tracker import Observer, Tracker, TrackerState  # noqa: E402

__all__ = ["__version__", "track", "PathResult", "PathFailed", "TrackerOptions", "OptionsError", "Problem",
           "FunctionProblem", "StartPoint", "ProblemError", "Status", "Event", "SpecialPoint", "Tracker",
           "TrackerState", "Observer", "load", "solve", "SolveOptions", "SolveResult"]
