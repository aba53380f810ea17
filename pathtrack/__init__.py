"""pathtrack: robust predictor-corrector numerical continuation."""

from ._version import __version__
from .options import TrackerOptions, OptionsError
from .problem import Problem, StartPoint, ProblemError, FunctionProblem
from .status import Status

__all__ = ["__version__", "TrackerOptions", "OptionsError", "Problem", "StartPoint", "ProblemError",
           "FunctionProblem", "Status"]
