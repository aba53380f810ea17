"""Families of polynomial systems named ``NAME:n[:...]``, found through the ``pathtrack.systems`` entry points.

A family is a plugin: a function of non-negative integers that returns a
:class:`~pathtrack.polynomial.system.PolynomialSystem` and raises ``ValueError`` for sizes
it does not define. ``family("katsura:8")`` calls the function registered as ``katsura``
with ``8``. The form shown in error messages comes from the function's signature
(``random:n:d[:seed]`` for ``def random(n, d, seed=0)``).
"""

from __future__ import annotations

import inspect
from typing import List, Optional

from ..registry import SYSTEMS_GROUP, entry_point, entry_points_of
from .system import PolynomialSystem

__all__ = ["family", "is_family_spec", "available_families", "family_form"]


def available_families() -> List[str]:
    """Names registered in the ``pathtrack.systems`` entry-point group, sorted."""
    return list(entry_points_of(SYSTEMS_GROUP))


def is_family_spec(text) -> bool:
    """True for ``NAME:...`` where NAME is a registered family."""
    return (isinstance(text, str) and ":" in text
            and entry_point(SYSTEMS_GROUP, text.split(":", 1)[0]) is not None)


def _signature(factory) -> Optional[inspect.Signature]:
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return None


def family_form(name: str, factory, signature: Optional[inspect.Signature] = None) -> str:
    """``name:a:b[:c]`` from the factory's positional parameters (optional ones in brackets)."""
    signature = signature or _signature(factory)
    if signature is None:
        return f"{name}:n"
    form = name
    for p in signature.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        form += f"[:{p.name}]" if p.default is not p.empty else f":{p.name}"
    return form


def family(spec: str) -> PolynomialSystem:
    """Build the system named by ``spec`` (``'katsura:8'``, ``'random:3:2:7'``).

    Raises
    ------
    ValueError
        For an unknown family (the message lists the registered ones), arguments that are not
        non-negative integers or do not fit the family's form, or sizes the family rejects.
    """
    name, *args = str(spec).split(":")
    ep = entry_point(SYSTEMS_GROUP, name)
    if ep is None:
        registered = ", ".join(entry_points_of(SYSTEMS_GROUP)) or "(none)"
        raise ValueError(f"unknown family {name!r}; registered: {registered}")
    factory = ep.load()
    signature = _signature(factory)
    form = family_form(name, factory, signature)
    if not args or not all(a.isdigit() for a in args):
        raise ValueError(f"family spec {spec!r} must look like {form} with non-negative integers")
    ints = [int(a) for a in args]
    if signature is not None:  # without one, the call decides
        try:
            signature.bind(*ints)
        except TypeError:
            raise ValueError(f"family spec {spec!r} must look like {form} with non-negative integers") from None
    system = factory(*ints)
    if not isinstance(system, PolynomialSystem):
        raise ValueError(f"family {name!r} ({ep.value}) returned {type(system).__name__}, "
                         "not a PolynomialSystem")
    return system
