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
relative). Every form is a combination of five matrices, the first and second derivatives of the
Jacobian along ``Re q`` and ``Im q`` (twelve Jacobians), not two or four Jacobians per form.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import scipy.linalg

__all__ = ["first_lyapunov", "lyapunov_coefficient", "memoized_jacobian"]


def memoized_jacobian(jac: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``jac`` remembering its values by the bits of its argument.

    Richardson extrapolation over the steps ``h, h/2, …`` meets points again (``x + 2·(h/2)·Re q``
    is ``x + h·Re q``): the values are the ones a fresh call would give.
    """
    if getattr(jac, "memo", None) is not None:
        return jac
    memo = {}

    def cached(y):
        key = y.tobytes()
        out = memo.get(key)
        if out is None:
            out = memo[key] = jac(y)
        return out

    cached.memo = memo
    return cached


def _form_matrices(jac: Callable[[np.ndarray], np.ndarray], x: np.ndarray, A: np.ndarray, a: np.ndarray,
                   b: np.ndarray, h: float):
    """Central differences of the Jacobian along ``a`` and ``b``: ``∂J/∂a``, ``∂J/∂b`` and ``∂²J/∂a²``,
    ``∂²J/∂a∂b``, ``∂²J/∂b²``, so that ``B(a, v) = (∂J/∂a) v`` and ``C(a, b, v) = (∂²J/∂a∂b) v``.

    Twelve Jacobians (``x ± h a``, ``x ± h b``, ``x ± 2h a``, ``x ± 2h b``, ``x ± h(a ± b)``), the
    stencils of ``B(u, v) = (J(x + hu) − J(x − hu)) v / 2h`` and
    ``C(u, v, w) = (J(x + h(u+v)) − J(x + h(u−v)) − J(x − h(u−v)) + J(x − h(u+v))) w / 4h²``.
    """
    Da = (jac(x + h * a) - jac(x - h * a)) / (2 * h)
    Db = (jac(x + h * b) - jac(x - h * b)) / (2 * h)
    Daa = (jac(x + 2 * h * a) - 2 * A + jac(x - 2 * h * a)) / (4 * h * h)
    Dbb = (jac(x + 2 * h * b) - 2 * A + jac(x - 2 * h * b)) / (4 * h * h)
    Dab = (jac(x + h * (a + b)) - jac(x + h * (a - b)) - jac(x - h * (a - b)) + jac(x - h * (a + b))) / (4 * h * h)
    return Da, Db, Daa, Dab, Dbb


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
    unit eigenvector of ``iω``, ``p_adj`` the adjoint one with ``p̄ᵀq = 1`` (the formula above).

    ``jac`` may be a :func:`memoized_jacobian` shared between calls at the same ``x`` and steps
    ``h, h/2, …`` (Richardson extrapolation), which share points."""
    h = 1e-4 * max(1.0, float(np.linalg.norm(x))) if h is None else h
    a, b = q.real, q.imag
    Da, Db, Daa, Dab, Dbb = _form_matrices(jac, x, A, a, b, h)
    # multilinear extension to q = a + ib (B and C are symmetric): B(q, ·) = (Da + i Db)·
    Dq, Dqbar = Da + 1j * Db, Da - 1j * Db
    Bqq = Da @ a - Db @ b + 2j * (Da @ b)
    Bqqbar = Da @ a + Db @ b
    Cqqqbar = Daa @ a + Dab @ b + 1j * (Dab @ a + Dbb @ b)  # C(a,a,a) + C(a,b,b) + i(C(a,a,b) + C(b,b,b))
    n = x.shape[0]
    t1 = np.vdot(p_adj, Cqqqbar)
    t2 = np.vdot(p_adj, Dq @ np.linalg.solve(A, Bqqbar))
    t3 = np.vdot(p_adj, Dqbar @ np.linalg.solve(2j * omega * np.eye(n) - A, Bqq))
    return float((t1 - 2 * t2 + t3).real / (2 * omega))
