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

import importlib
import os
import sys
from typing import Dict, List, NamedTuple, Optional

GROUP = "pathtrack.problems"
SYSTEMS_GROUP = "pathtrack.systems"

__all__ = ["GROUP", "SYSTEMS_GROUP", "entry_point", "entry_points_of", "UnknownProblemError", "available",
           "load_problem_class", "make_problem", "describe_all"]


class UnknownProblemError(KeyError):
    """No plugin of that name is registered."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class _OwnEntryPoint(NamedTuple):
    """An entry point of pathtrack's own distribution, read from its ``entry_points.txt``."""
    name: str
    value: str
    group: str

    def load(self):
        """The object named by ``value`` (``module:attr.attr``), as ``importlib.metadata.EntryPoint.load``."""
        module, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for attr in filter(None, attrs.split("[", 1)[0].strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_point(group: str, name: str) -> Optional[object]:
    """The entry point ``name`` of ``group``, or ``None``.

    A name that pathtrack's own distribution registers (the bundled plugins) is read from its
    ``entry_points.txt`` alone: importing ``importlib.metadata`` and reading every installed
    distribution cost a tenth of a warm ``pathtrack run bratu1d``. Other names are looked up in all
    distributions (:func:`entry_points_of`)."""
    ep = _own_entry_points().get(group, {}).get(name)
    return ep if ep is not None else entry_points_of(group).get(name)


def _own_entry_points() -> Dict[str, Dict[str, _OwnEntryPoint]]:
    """group -> name -> entry point of the first ``pathtrack`` distribution on ``sys.path`` (the one
    ``importlib.metadata`` reports); empty where none is found."""
    if _OWN:
        return _OWN[0]
    found: Dict[str, Dict[str, _OwnEntryPoint]] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        # the first metadata folder named for pathtrack, as importlib.metadata's look-up names them
        info = next((n for n in names if n.lower().endswith((".dist-info", ".egg-info"))
                     and n.lower().rpartition(".")[0].partition("-")[0] == "pathtrack"), None)
        if info is None:
            continue
        try:
            with open(os.path.join(folder or ".", info, "entry_points.txt"), encoding="utf-8") as f:
                group = None
                for line in f:
                    line = line.strip()
                    if line.startswith("[") and line.endswith("]"):
                        group = line[1:-1].strip()
                    elif "=" in line and group is not None and not line.startswith(("#", ";")):
                        key, value = (part.strip() for part in line.split("=", 1))
                        found.setdefault(group, {})[key] = _OwnEntryPoint(key, value, group)
        except OSError:
            pass
        break
    _OWN.append(found)
    return found


_OWN: List[Dict[str, Dict[str, _OwnEntryPoint]]] = []  # the one reading of _own_entry_points


def entry_points_of(group: str) -> Dict[str, object]:
    """The entry points registered in ``group``, by name, sorted (read once per process: each look-up
    reads every installed distribution's metadata, and ``solve NAME:n`` looked three times)."""
    eps = _SCANNED.get(group)
    if eps is None:
        from importlib.metadata import entry_points

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
    ep = entry_point(GROUP, name)
    if ep is None:
        eps = _entry_points()
        raise UnknownProblemError(
            f"unknown problem {name!r}; registered: {', '.join(eps) or '(none)'} (see `pathtrack problems`)")
    obj = ep.load()
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
