"""Balancing the coefficients of a polynomial system before tracking (PHCpack-style scaling).

A system whose coefficients span many orders of magnitude (the combustion system of Morgan's
book has coefficients from 1 down to 1e-15 and roots near 1e-5) sends every path of the
total-degree homotopy to "at infinity" in double precision. Multiplying equation ``i`` by
``2**c_i`` and substituting ``x_j = 2**d_j · y_j`` changes no root count, and with ``c`` and
``d`` chosen by least squares on ``log2|coefficient|`` (Meintjes and Morgan; PHCpack's
equation-and-variable scaling) the scaled coefficients are all close to 1:

.. math:: \\min_{c, d} \\sum_{i, k} \\bigl(\\log_2|a_{ik}| + c_i + \\alpha_{ik} \\cdot d\\bigr)^2

over the terms ``a_ik x^α_ik`` of every equation. The exponents are rounded to integers, so
scaling and unscaling multiply by powers of two and are exact in floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

import numpy as np

from .system import PolynomialSystem

__all__ = ["Scaling", "balance", "rms_log10"]

#: ``solve(..., options=SolveOptions(scaling="auto"))`` scales a system when balancing lowers the
#: root-mean-square of ``log10|coefficient|`` by at least this many decades.
AUTO_MIN_GAIN = 2.0


def rms_log10(system: PolynomialSystem) -> float:
    """Root mean square of ``log10|a|`` over all coefficients: 0 when every ``|a| = 1``."""
    logs = np.concatenate([np.log10(np.abs(c)) for c in system.coefficients if len(c)] or [np.zeros(1)])
    return float(np.sqrt(np.mean(logs ** 2)))


def _ldexp(z: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``z · 2**k`` for complex ``z``, exact (barring overflow and underflow)."""
    return np.ldexp(z.real, k) + 1j * np.ldexp(z.imag, k)


@dataclass(frozen=True)
class Scaling:
    """Power-of-two scaling of a system's equations and variables.

    The scaled system is ``2**equation_exponents[i] · F_i(2**variable_exponents · y)``;
    its roots ``y`` map back to ``x = 2**variable_exponents · y``.

    Attributes
    ----------
    equation_exponents : ndarray of int, shape (n_equations,)
    variable_exponents : ndarray of int, shape (n_variables,)
    rms_before, rms_after : float
        :func:`rms_log10` of the system and of the scaled system.
    """

    equation_exponents: np.ndarray
    variable_exponents: np.ndarray
    rms_before: float
    rms_after: float

    @property
    def gain(self) -> float:
        """Decades by which scaling lowers the root-mean-square ``log10|coefficient|``."""
        return self.rms_before - self.rms_after

    @property
    def is_identity(self) -> bool:
        return not (self.equation_exponents.any() or self.variable_exponents.any())

    def apply(self, system: PolynomialSystem) -> PolynomialSystem:
        """The scaled system (same variable names and name)."""
        coefs = tuple(_ldexp(c, int(ci) + e @ self.variable_exponents)
                      for e, c, ci in zip(system.exponents, system.coefficients, self.equation_exponents))
        return PolynomialSystem(system.variables, system.exponents, coefs, system.name)

    def unscale(self, points: np.ndarray, homogeneous: bool = False) -> np.ndarray:
        """Map roots ``y`` of the scaled system (rows) to roots ``x`` of the original.

        With ``homogeneous``, column 0 is the homogenising coordinate and is left as it is.
        """
        points = np.asarray(points, dtype=np.complex128)
        k = self.variable_exponents
        if homogeneous:
            k = np.concatenate([[0], k])
        return _ldexp(points, np.broadcast_to(k, points.shape))

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: base, exponents and the coefficient spread before and after."""
        return {"base": 2, "equation_exponents": self.equation_exponents.tolist(),
                "variable_exponents": self.variable_exponents.tolist(), "rms_log10_before": self.rms_before,
                "rms_log10_after": self.rms_after}


def balance(system: PolynomialSystem) -> Scaling:
    """The least-squares power-of-two scaling of ``system`` (see the module docstring).

    The minimum-norm least-squares solution is taken, so a system that is balanced already
    gets exponents near 0, and a system rescaled by powers of two gets back to the same
    scaled system.
    """
    n_eq, n_var = system.n_equations, system.n_variables
    rows, rhs = [], []
    for i, (e, c) in enumerate(zip(system.exponents, system.coefficients)):
        block = np.zeros((len(c), n_eq + n_var))
        block[:, i] = 1.0
        block[:, n_eq:] = e
        rows.append(block)
        rhs.append(-np.log2(np.abs(c)))
    A = np.vstack(rows) if rows else np.zeros((0, n_eq + n_var))
    b = np.concatenate(rhs) if rhs else np.zeros(0)
    z = np.linalg.lstsq(A, b, rcond=None)[0] if len(b) else np.zeros(n_eq + n_var)
    z = np.rint(z).astype(np.int64)
    scaling = Scaling(z[:n_eq], z[n_eq:], rms_log10(system), 0.0)
    after = rms_log10(scaling.apply(system))
    return Scaling(scaling.equation_exponents, scaling.variable_exponents, scaling.rms_before, after)
