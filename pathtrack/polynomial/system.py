"""Sparse polynomial systems: one exponent matrix and one complex coefficient vector per equation.

The packed arrays (:meth:`PolynomialSystem.packed`) are what the compiled kernels in
:mod:`pathtrack.polynomial.kernels` consume; this module validates and allocates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

__all__ = ["PolynomialSystem", "PackedSystem"]


@dataclass(frozen=True)
class PackedSystem:
    """Flat arrays of a sparse system for the jitted evaluator.

    Equation ``e`` owns terms ``eq_offsets[e]:eq_offsets[e+1]``; term ``k`` has coefficient
    ``coef[k]`` and the non-zero powers ``var[j]**exp[j]`` for ``j`` in
    ``term_offsets[k]:term_offsets[k+1]``. ``max_exp`` sizes the power table.
    """

    coef: np.ndarray
    term_offsets: np.ndarray
    var: np.ndarray
    exp: np.ndarray
    eq_offsets: np.ndarray
    max_exp: int
    n_variables: int

    def arrays(self) -> tuple:
        return (self.coef, self.term_offsets, self.var, self.exp, self.eq_offsets)


@dataclass(frozen=True, eq=False)
class PolynomialSystem:
    """A system of polynomial equations with complex coefficients.

    Parameters
    ----------
    variables : tuple of str
        Variable names, in column order of the exponent matrices.
    exponents : tuple of ndarray
        Per equation, an ``(n_terms, n_variables)`` array of non-negative integers.
    coefficients : tuple of ndarray
        Per equation, the ``(n_terms,)`` complex coefficients.
    name : str
        Label used in results and benchmarks.
    """

    variables: Tuple[str, ...]
    exponents: Tuple[np.ndarray, ...]
    coefficients: Tuple[np.ndarray, ...]
    name: str = ""

    def __post_init__(self) -> None:
        n = len(self.variables)
        if len(set(self.variables)) != n:
            raise ValueError(f"variable names must be distinct, got {self.variables}")
        if len(self.exponents) != len(self.coefficients):
            raise ValueError("need one exponent matrix per coefficient vector")
        exps, coefs = [], []
        for i, (e, c) in enumerate(zip(self.exponents, self.coefficients)):
            e = np.asarray(e, dtype=np.int64).reshape(-1, n)
            c = np.asarray(c, dtype=np.complex128).reshape(-1)
            if e.shape[0] != c.shape[0]:
                raise ValueError(f"equation {i}: {e.shape[0]} exponent rows but {c.shape[0]} coefficients")
            if (e < 0).any():
                raise ValueError(f"equation {i}: exponents must be non-negative")
            if not np.isfinite(c).all():
                raise ValueError(f"equation {i}: coefficients must be finite")
            e, c = _combine_like_terms(e, c)
            exps.append(e)
            coefs.append(c)
        object.__setattr__(self, "variables", tuple(self.variables))
        object.__setattr__(self, "exponents", tuple(exps))
        object.__setattr__(self, "coefficients", tuple(coefs))

    # -- shape -------------------------------------------------------------------------------------
    @property
    def n_equations(self) -> int:
        return len(self.exponents)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def degrees(self) -> np.ndarray:
        """Total degree of each equation (0 for an empty equation)."""
        return np.array([int(e.sum(axis=1).max()) if len(e) else 0 for e in self.exponents], dtype=np.int64)

    @property
    def bezout_number(self) -> int:
        """Product of the degrees: the number of paths of the total-degree homotopy."""
        return int(np.prod([int(d) for d in self.degrees], dtype=object))

    def __repr__(self) -> str:
        return (f"PolynomialSystem({self.name or 'unnamed'}: {self.n_equations} equations in "
                f"{self.n_variables} variables, degrees {self.degrees.tolist()})")

    # -- derived systems ---------------------------------------------------------------------------
    def homogenize(self, name: str = "h0") -> "PolynomialSystem":
        """Add a homogenising variable in column 0; every term is lifted to its equation's degree."""
        exps = []
        for e, d in zip(self.exponents, self.degrees):
            lift = (d - e.sum(axis=1))[:, None]
            exps.append(np.hstack([lift, e]))
        names = (name,) + self.variables
        while names[0] in self.variables:  # never clash with a user variable
            names = (names[0] + "_",) + self.variables
        return PolynomialSystem(names, tuple(exps), self.coefficients, self.name)

    def packed(self) -> PackedSystem:
        """Flatten into the sparse arrays read by :mod:`pathtrack.polynomial.kernels`."""
        coef, toff, var, exp, eoff = [], [0], [], [], [0]
        for e, c in zip(self.exponents, self.coefficients):
            for row, cc in zip(e, c):
                nz = np.nonzero(row)[0]
                var.extend(nz.tolist())
                exp.extend(row[nz].tolist())
                toff.append(len(var))
                coef.append(cc)
            eoff.append(len(coef))
        max_exp = max([int(e.max()) if e.size else 0 for e in self.exponents] + [1])
        return PackedSystem(np.array(coef, dtype=np.complex128), np.array(toff, dtype=np.int64),
                            np.array(var, dtype=np.int64), np.array(exp, dtype=np.int64),
                            np.array(eoff, dtype=np.int64), max_exp, self.n_variables)

    # -- evaluation (compiled) -----------------------------------------------------------------------
    def evaluate(self, x: Sequence[complex]) -> np.ndarray:
        """``F(x)`` at one complex point."""
        return self.evaluate_with_jacobian(x)[0]

    def jacobian(self, x: Sequence[complex]) -> np.ndarray:
        """The ``(n_equations, n_variables)`` Jacobian at one complex point."""
        return self.evaluate_with_jacobian(x)[1]

    def evaluate_with_jacobian(self, x: Sequence[complex]) -> Tuple[np.ndarray, np.ndarray]:
        from .kernels import eval_system_alloc

        x = np.asarray(x, dtype=np.complex128).reshape(-1)
        if x.shape[0] != self.n_variables:
            raise ValueError(f"expected a point with {self.n_variables} coordinates, got {x.shape[0]}")
        p = self.packed()
        return eval_system_alloc(x, *p.arrays(), p.max_exp)

    # -- text ----------------------------------------------------------------------------------------
    def to_strings(self) -> Tuple[str, ...]:
        """Equations as text accepted back by :func:`pathtrack.polynomial.parse_system`."""
        out = []
        for e, c in zip(self.exponents, self.coefficients):
            terms = []
            for row, cc in zip(e, c):
                mono = "*".join(f"{v}^{k}" if k > 1 else v for v, k in zip(self.variables, row) if k)
                coeff = f"({float(cc.real)!r}{float(cc.imag):+.17g}*i)" if cc.imag else repr(float(cc.real))
                terms.append(f"{coeff}*{mono}" if mono else coeff)
            # "a - b", never "a + -b": PHCpack's reader rejects a sign right after an operator
            text = " + ".join(terms).replace("+ -", "- ") if terms else "0"
            out.append(text[1:] if text.startswith("+") else text)
        return tuple(out)


def _combine_like_terms(e: np.ndarray, c: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Merge repeated monomials and drop zero coefficients (sorted for a canonical order)."""
    if e.shape[0] == 0:
        return e, c
    uniq, inv = np.unique(e, axis=0, return_inverse=True)
    summed = np.zeros(uniq.shape[0], dtype=np.complex128)
    np.add.at(summed, inv.reshape(-1), c)
    keep = summed != 0
    return uniq[keep], summed[keep]
