"""pathtrack: robust predictor-corrector numerical continuation.

The public API: define a :class:`Problem`, call :func:`track`, read the :class:`PathResult`.
"""

from ._version import __version__
from .driver import PathFailed, PathResult, track
from .events import Event, SpecialPoint
from .hdf5 import load
from .options import OptionsError, TrackerOptions
from .problem import FunctionProblem, Problem, ProblemError, StartPoint
from .solve import SolveOptions, SolveResult, solve
from .status import Status
from .tracker import Observer, Tracker, TrackerState

__all__ = ["__version__", "track", "PathResult", "PathFailed", "TrackerOptions", "OptionsError", "Problem",
           "FunctionProblem", "StartPoint", "ProblemError", "Status", "Event", "SpecialPoint", "Tracker",
           "TrackerState", "Observer", "load", "solve", "SolveOptions", "SolveResult"]
