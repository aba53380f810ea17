"""Plugin registry: the entry-point groups through which the core finds plugins.

Two groups, both filled the same way in a package's ``pyproject.toml``:

- ``pathtrack.problems``: homotopies for ``pathtrack run``; the value is a
  :class:`pathtrack.Problem` subclass (or a factory taking keyword parameters and returning
  a problem instance);
- ``pathtrack.systems``: families of polynomial systems for ``pathtrack solve NAME:n``; the
  value is a function of non-negative integers returning a
  :class:`pathtrack.polynomial.PolynomialSystem` (see :mod:`pathtrack.polynomial.families`).

::

    [project.entry-points."pathtrack.problems"]
    my-problem = "mypkg.module:MyProblem"

    [project.entry-points."pathtrack.systems"]
    my-family = "mypkg.systems:my_family"
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Dict, List

GROUP = "pathtrack.problems"
SYSTEMS_GROUP = "pathtrack.systems"

__all__ = ["GROUP", "SYSTEMS_GROUP", "entry_points_of", "UnknownProblemError", "available", "load_problem_class", "make_problem", "describe_all"]


class UnknownProblemError(KeyError):
    """No plugin of that name is registered."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def entry_points_of(group: str) -> Dict[str, object]:
    """The entry points registered in ``group``, by name, sorted (read once per process: each look-up
    reads every installed distribution's metadata, and ``solve NAME:n`` looked three times)."""
    eps = _SCANNED.get(group)
    if eps is None:
        eps = _SCANNED[group] = {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda e: e.name)}
    return dict(eps)


_SCANNED: Dict[str, Dict[str, object]] = {}  # group -> its entry points, by name


def _entry_points() -> Dict[str, object]:
    return entry_points_of(GROUP)


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
