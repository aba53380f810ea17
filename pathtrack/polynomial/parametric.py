"""Polynomial systems with parameters: ``F(x; q)``, polynomial in the unknowns ``x`` with
coefficients that are polynomials in the parameters ``q``.

A :class:`ParametrizedSystem` is a :class:`~pathtrack.polynomial.PolynomialSystem` in the
unknowns and the parameters together (the *joint* system) with the names of the parameters.
:meth:`ParametrizedSystem.at` gives the ordinary system ``F(x; q)`` at a parameter value, and
:meth:`ParametrizedSystem.packed` the arrays the compiled parameter homotopy
(:func:`pathtrack.polynomial.kernels.track_parameter_batch`) reads: the monomials in ``x`` of
the homogenised system, and one coefficient polynomial in ``q`` per monomial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from .system import PackedSystem, PolynomialSystem

__all__ = ["ParametrizedSystem", "ParameterPacked", "as_parametrized"]


@dataclass(frozen=True)
class ParameterPacked:
    """Arrays of ``F(x; q)`` for :func:`~pathtrack.polynomial.kernels.track_parameter_batch`.

    Attributes
    ----------
    monomials : tuple of ndarray
        ``(term_offsets, var, exp, eq_offsets)`` of the homogenised system in ``x`` (column 0
        homogenising), as in :class:`~pathtrack.polynomial.PackedSystem`.
    coefficients : PackedSystem
        A system in ``q`` whose "equation" ``k`` is the coefficient of monomial ``k``.
    max_exp : int
        Largest power of a homogeneous unknown (sizes the kernel's power table).
    """

    monomials: Tuple[np.ndarray, ...]
    coefficients: PackedSystem
    max_exp: int


@dataclass(frozen=True, eq=False)
class ParametrizedSystem:
    """A square polynomial system ``F(x; q)`` whose coefficients are polynomials in parameters ``q``.

    Parameters
    ----------
    joint : PolynomialSystem
        The system in the unknowns and the parameters together, e.g. parsed from
        ``"x^2 - a*y; y^2 - b"``.
    parameters : sequence of str
        Which of ``joint``'s variables are parameters; the others, in ``joint``'s order, are the
        unknowns ``x``.
    """

    joint: PolynomialSystem
    parameters: Tuple[str, ...]

    def __post_init__(self) -> None:
        params = tuple(self.parameters)
        if isinstance(self.parameters, str) or not all(isinstance(p, str) for p in params):
            raise ValueError(f"parameters must be a sequence of names, got {self.parameters!r}")
        if not params:
            raise ValueError("a parametrized system needs at least one parameter")
        if len(set(params)) != len(params):
            raise ValueError(f"parameter names must be distinct, got {params}")
        object.__setattr__(self, "parameters", params)
        missing = [p for p in params if p not in self.joint.variables]
        variables = self.variables
        # a declared parameter the equations do not use is a constant direction: harmless, but a
        # typo is more likely; name it
        if missing:
            raise ValueError(f"parameter(s) {missing} do not occur in the system (its names: "
                             f"{', '.join(self.joint.variables)})")
        if not variables:
            raise ValueError("every variable was declared a parameter: no unknowns left")

    # -- shape -------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.joint.name

    @property
    def variables(self) -> Tuple[str, ...]:
        """Names of the unknowns ``x``, in the joint system's order."""
        return tuple(v for v in self.joint.variables if v not in self.parameters)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def n_equations(self) -> int:
        return self.joint.n_equations

    def _columns(self) -> Tuple[np.ndarray, np.ndarray]:
        names = self.joint.variables
        xcols = np.array([names.index(v) for v in self.variables], dtype=np.int64)
        qcols = np.array([names.index(p) for p in self.parameters], dtype=np.int64)
        return xcols, qcols

    @property
    def degrees(self) -> np.ndarray:
        """Degree of each equation in the unknowns ``x`` (parameters do not count)."""
        xcols, _ = self._columns()
        return np.array([int(e[:, xcols].sum(axis=1).max()) if len(e) else 0 for e in self.joint.exponents],
                        dtype=np.int64)

    def __repr__(self) -> str:
        return (f"ParametrizedSystem({self.name or 'unnamed'}: {self.n_equations} equations in "
                f"{self.n_variables} unknowns {self.variables}, parameters {self.parameters})")

    # -- values of the parameters --------------------------------------------------------------------
    def check_parameters(self, q: Any, what: str = "parameter value") -> np.ndarray:
        """``q`` as a complex vector of length :attr:`n_parameters`; a wrong length or NaN/inf raises ``ValueError``."""
        try:
            arr = np.asarray(q, dtype=np.complex128)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: expected {self.n_parameters} numbers for {', '.join(self.parameters)}, "
                             f"got {q!r}") from None
        if arr.ndim > 1 or arr.reshape(-1).shape[0] != self.n_parameters:
            raise ValueError(f"{what}: expected {self.n_parameters} value(s) for {', '.join(self.parameters)}, "
                             f"got shape {arr.shape}")
        arr = arr.reshape(-1)
        if not np.isfinite(arr).all():
            raise ValueError(f"{what}: parameters must be finite, got {arr.tolist()}")
        return arr

    def at(self, q: Any, name: Optional[str] = None) -> PolynomialSystem:
        """The system ``F(x; q)`` in the unknowns at the parameter value ``q``."""
        q = self.check_parameters(q)
        xcols, qcols = self._columns()
        exps, coefs = [], []
        for e, c in zip(self.joint.exponents, self.joint.coefficients):
            exps.append(e[:, xcols])
            coefs.append(c * np.prod(q[None, :] ** e[:, qcols], axis=1) if len(e) else c)
        return PolynomialSystem(self.variables, tuple(exps), tuple(coefs), self.name if name is None else name)

    def affine_in_parameters(self) -> bool:
        """Whether every coefficient is affine in ``q`` (degree at most 1 in the parameters together)."""
        _, qcols = self._columns()
        return all(int(e[:, qcols].sum(axis=1).max(initial=0)) <= 1 for e in self.joint.exponents)

    # -- compiled form -------------------------------------------------------------------------------
    def packed(self) -> ParameterPacked:
        """The arrays of the parameter homotopy: monomials in the homogenised ``x``, coefficients in ``q``."""
        xcols, qcols = self._columns()
        mono_exps, coef_exps, coef_coefs = [], [], []
        for e, c, d in zip(self.joint.exponents, self.joint.coefficients, self.degrees):
            x = e[:, xcols]
            homogeneous = np.hstack([(d - x.sum(axis=1))[:, None], x])  # column 0 lifts each term to degree d
            monomials, which = np.unique(homogeneous, axis=0, return_inverse=True)
            which = which.reshape(-1)
            mono_exps.append(monomials)
            for k in range(len(monomials)):
                rows = which == k
                coef_exps.append(e[rows][:, qcols])
                coef_coefs.append(c[rows])
        names = tuple(f"v{j}" for j in range(self.n_variables + 1))
        mono = PolynomialSystem(names, tuple(mono_exps), tuple(np.ones(len(m), dtype=np.complex128) for m in mono_exps))
        # packed term k of the system in x must be the monomial of coefficient polynomial k
        assert all(np.array_equal(a, b) for a, b in zip(mono.exponents, mono_exps)), "monomial order changed"
        hom = mono.packed()
        coefficients = PolynomialSystem(self.parameters, tuple(coef_exps), tuple(coef_coefs), "coefficients").packed()
        return ParameterPacked(monomials=hom.arrays()[1:], coefficients=coefficients, max_exp=hom.max_exp)


def as_parametrized(system: Any, parameters: Optional[Sequence[str]] = None,
                    variables: Optional[Sequence[str]] = None) -> ParametrizedSystem:
    """A :class:`ParametrizedSystem` from one, or from anything :func:`~pathtrack.polynomial.solve` accepts
    plus the parameter names (e.g. ``as_parametrized("x^2 - a; y - b*x", ["a", "b"])``).

    ``variables`` fixes the order of the joint system's columns (unknowns and parameters) when
    parsing text. A PHCpack file with parameters declares the unknowns and parameters together
    on its first line (``n n+m``).
    """
    from .solver import as_system

    if isinstance(system, ParametrizedSystem):
        if parameters is not None and tuple(parameters) != system.parameters:
            raise ValueError(f"the system's parameters are {system.parameters}, not {tuple(parameters)}")
        return system
    if parameters is None:
        raise ValueError("name the parameters of the system (parameters=[...])")
    if isinstance(parameters, str):
        parameters = [p.strip() for p in parameters.split(",") if p.strip()]
    return ParametrizedSystem(as_system(system, variables), tuple(parameters))
