"""Normal-form coefficients of special points: the first Lyapunov coefficient of a Hopf point.

At a Hopf point of ``u' = H(u, λ)`` the Jacobian ``A = H_u`` has eigenvalues ``±iω``. With
``A q = iω q``, ``Aᵀ p = −iω p`` and ``p̄ᵀ q = 1``, and ``B``, ``C`` the second and third
derivatives of ``H`` as multilinear forms, Kuznetsov's formula (Elements of Applied Bifurcation
Theory, (3.20)) is

    l₁ = Re[ p̄·C(q, q, q̄) − 2 p̄·B(q, A⁻¹ B(q, q̄)) + p̄·B(q̄, (2iω − A)⁻¹ B(q, q)) ] / (2ω).

with ``q`` of unit length (``q̄ᵀq = 1``), the normalisation of Kuznetsov and MatCont: only the
sign is independent of coordinates. ``l₁ < 0``: a supercritical Hopf bifurcation (a stable
limit cycle is born), ``l₁ > 0``: subcritical. For ``ż = (λ + iω) z + (a + ib) z|z|²`` written in
``x = Re z, y = Im z``, ``l₁ = 2a/ω``. ``B`` and ``C`` are central differences of the plugin's Jacobian along real
directions, extended to complex ones by multilinearity, so any plugin works (error about 1e-7
relative).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import scipy.linalg

__all__ = ["first_lyapunov", "lyapunov_coefficient"]


def _forms(jac: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float):
    """``B(u, v)`` and ``C(u, v, w)`` for real vectors, from central differences of ``jac``."""
    def B(u, v):
        return (jac(x + h * u) @ v - jac(x - h * u) @ v) / (2 * h)

    def C(u, v, w):
        return (jac(x + h * (u + v)) @ w - jac(x + h * (u - v)) @ w - jac(x - h * (u - v)) @ w
                + jac(x - h * (u + v)) @ w) / (4 * h * h)

    return B, C


def first_lyapunov(problem, p, lam: float, h: Optional[float] = None) -> float:
    """The first Lyapunov coefficient ``l₁`` at the Hopf point ``(p, λ)`` of an ODE plugin (real, dense).

    Raises
    ------
    ValueError
        When ``H_p`` has no pair of purely imaginary eigenvalues there.
    """
    x = np.asarray(p, dtype=float)
    jac = lambda y: np.asarray(problem.dH_dp(y, lam), dtype=float)  # noqa: E731
    A = jac(x)
    eigs, right = scipy.linalg.eig(A)
    scale = max(1.0, float(np.abs(eigs).max()))
    pair = np.flatnonzero((eigs.imag > 1e-8 * scale))
    if pair.size == 0:
        raise ValueError(f"no complex eigenvalue pair at λ = {lam:.10g}: not a Hopf point")
    k = pair[np.argmin(np.abs(eigs.real[pair]))]
    omega = float(eigs[k].imag)
    q = right[:, k]
    left_vals, left = scipy.linalg.eig(A.T)
    j = int(np.argmin(np.abs(left_vals - (-1j * omega))))
    pv = left[:, j]
    pv = pv / np.conj(np.vdot(pv, q))  # p̄ᵀq = 1 (np.vdot conjugates its first argument)
    return lyapunov_coefficient(jac, x, A, q, pv, omega, h)


def lyapunov_coefficient(jac: Callable[[np.ndarray], np.ndarray], x: np.ndarray, A: np.ndarray, q: np.ndarray,
                         p_adj: np.ndarray, omega: float, h: Optional[float] = None) -> float:
    """``l₁`` from the Hopf point's data: ``jac(y)`` the Jacobian at ``y``, ``A = jac(x)``, ``q`` the
    unit eigenvector of ``iω``, ``p_adj`` the adjoint one with ``p̄ᵀq = 1`` (the formula above)."""
    h = 1e-4 * max(1.0, float(np.linalg.norm(x))) if h is None else h
    B, C = _forms(jac, x, h)
    a, b = q.real, q.imag
    # multilinear extension to q = a + ib (B and C are symmetric)
    Bqq = B(a, a) - B(b, b) + 2j * B(a, b)
    Bqqbar = B(a, a) + B(b, b)
    Caaa, Cabb, Caab, Cbbb = C(a, a, a), C(a, b, b), C(a, a, b), C(b, b, b)
    Cqqqbar = Caaa + Cabb + 1j * (Caab + Cbbb)

    def Bc(u, v):  # B for complex arguments
        return (B(u.real, v.real) - B(u.imag, v.imag)) + 1j * (B(u.real, v.imag) + B(u.imag, v.real))

    n = x.shape[0]
    t1 = np.vdot(p_adj, Cqqqbar)
    t2 = np.vdot(p_adj, Bc(q, np.linalg.solve(A, Bqqbar).astype(complex)))
    t3 = np.vdot(p_adj, Bc(np.conj(q), np.linalg.solve(2j * omega * np.eye(n) - A, Bqq)))
    return float((t1 - 2 * t2 + t3).real / (2 * omega))
