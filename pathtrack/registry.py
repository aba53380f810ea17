"""Plugin registry: problems registered under the ``pathtrack.problems`` entry-point group.

Users register their own problems exactly like the built-in ones, in their package's
``pyproject.toml``::

    [project.entry-points."pathtrack.problems"]
    my-problem = "mypkg.module:MyProblem"

The value is a :class:`pathtrack.Problem` subclass (or a factory taking keyword
parameters and returning a problem instance).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Dict, List

GROUP = "pathtrack.problems"

__all__ = ["GROUP", "UnknownProblemError", "available", "load_problem_class", "make_problem", "describe_all"]


class UnknownProblemError(KeyError):
    """No plugin of that name is registered."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def _entry_points() -> Dict[str, object]:
    eps = entry_points(group=GROUP)
    return {ep.name: ep for ep in sorted(eps, key=lambda e: e.name)}


def available() -> List[str]:
    """Names of the registered problems, sorted."""
    return list(_entry_points())


def load_problem_class(name: str):
    """The class (or factory) registered as ``name``."""
    eps = _entry_points()
    if name not in eps:
        raise UnknownProblemError(
            f"unknown problem {name!r}; registered: {', '.join(eps) or '(none)'} (see `pathtrack problems`)")
    obj = eps[name].load()
    if isinstance(obj, type) and getattr(obj, "name", "unnamed") in ("unnamed", None):
        obj.name = name
    return obj


def make_problem(name: str, **params):
    """Instantiate the registered problem ``name`` with ``params``."""
    from .problem import ProblemError

    cls = load_problem_class(name)
    try:
        problem = cls(**params)
    except ProblemError:
        raise
    except (ValueError, TypeError) as exc:  # bad parameter values: the user's to fix, so say which plugin
        raise ProblemError(f"problem {name!r}: {exc}") from exc
    if getattr(problem, "name", "unnamed") == "unnamed":
        problem.name = name
    return problem


def describe_all() -> List[dict]:
    """``[{name, description, target}]`` for every registered problem; broken plugins are reported, not raised."""
    out = []
    for name, ep in _entry_points().items():
        try:
            obj = ep.load()
            doc = getattr(obj, "description", "") or (obj.__doc__ or "").strip().splitlines()[0:1]
            desc = doc if isinstance(doc, str) else (doc[0] if doc else "")
        except Exception as exc:  # a broken third-party plugin must not hide the others
            desc = f"(failed to load: {type(exc).__name__}: {exc})"
        out.append({"name": name, "description": desc, "target": ep.value})
    return out
