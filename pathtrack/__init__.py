"""pathtrack: robust predictor-corrector numerical continuation.

The public API: define a :class:`Problem`, call :func:`track`, read the :class:`PathResult`.

``import pathtrack`` imports neither numpy nor matplotlib and changes no environment
variable: the names below load their modules on first use, so that a program can still
call :func:`configure_threads` before numpy loads.
"""

from ._lazy import lazy_exports
from ._version import __version__
from .threads import configure_threads

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "track": "driver", "PathResult": "driver", "PathFailed": "driver",
    "Event": "events", "SpecialPoint": "events",
    "load": "io",
    "OptionsError": "options", "TrackerOptions": "options",
    "FunctionProblem": "problem", "Problem": "problem", "ProblemError": "problem", "StartPoint": "problem",
    "SolveOptions": "polynomial", "SolveResult": "polynomial", "solve": "polynomial",
    "Status": "status",
    "switch_branch": "branching", "analyse_branch_point": "branching", "BranchSwitchError": "branching",
    "Observer": "tracker", "Tracker": "tracker", "TrackerState": "tracker",
}

__all__ = ["__version__", "configure_threads", "track", "PathResult", "PathFailed", "TrackerOptions",
           "OptionsError", "Problem", "FunctionProblem", "StartPoint", "ProblemError", "Status", "Event",
           "SpecialPoint", "Tracker", "TrackerState", "Observer", "load", "solve", "SolveOptions", "SolveResult",
           "switch_branch", "analyse_branch_point", "BranchSwitchError"]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
