"""pathtrack: robust predictor-corrector numerical continuation.

The public API: define a :class:`Problem`, call :func:`track`, read the :class:`PathResult`.

``import pathtrack`` imports neither numpy nor matplotlib and changes no environment
variable: the names below load their modules on first use, so that a program can still
call :func:`configure_threads` before numpy loads.
"""

import importlib
import importlib.util

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


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)  # pathtrack.hdf5 etc. without an import statement
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
