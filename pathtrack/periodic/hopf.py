"""Hopf points as starts of cycle branches: eigenvectors, frequency, first Lyapunov coefficient.

At a Hopf point ``(x₀, λ₀)`` of ``u' = f(u, λ)`` the Jacobian ``A = f_u`` has eigenvalues
``±iω``. With ``A q = iω q``, ``Aᵀ p = −iω p``, ``q̄ᵀq = 1`` and ``p̄ᵀq = 1``, the orbits
born there are ``u(t) ≈ x₀ + 2 Re(ρ q e^{iωt})`` with (Kuznetsov, *Elements of Applied
Bifurcation Theory*, eq. 3.20)

    ρ² = −μ'(λ₀)·(λ − λ₀) / Re c₁,
    Re c₁ = ½ Re[ p̄ᵀC(q,q,q̄) − 2 p̄ᵀB(q, A⁻¹B(q,q̄)) + p̄ᵀB(q̄, (2iω − A)⁻¹B(q,q)) ],

``μ'`` the speed at which the pair crosses the imaginary axis, and ``ℓ₁ = Re c₁ / ω`` the
first Lyapunov coefficient: ``ℓ₁ < 0`` gives stable orbits on the side ``μ'(λ − λ₀) > 0``
(supercritical), ``ℓ₁ > 0`` unstable ones on the other side. ``ℓ₁`` comes from
:func:`pathtrack.normalform.lyapunov_coefficient` (``B`` and ``C`` by central differences of
the Jacobian); it only sets the first predicted orbit, which the corrector then solves exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..normalform import lyapunov_coefficient
from ..problem import Problem, ProblemError

__all__ = ["HopfPoint", "hopf_point"]

#: |Re| of the critical pair, relative to max(1, ω), up to which a point counts as a Hopf point.
HOPF_TOL = 1e-6


@dataclass(frozen=True)
class HopfPoint:
    """A Hopf point and its normal-form data.

    Attributes
    ----------
    p : ndarray
        The equilibrium ``x₀``.
    lam, omega : float
        ``λ₀`` and the frequency ``ω > 0``.
    q, p_adj : ndarray of complex
        Critical eigenvector (``q̄ᵀq = 1``) and adjoint eigenvector (``p̄ᵀq = 1``).
    dx_dlam : ndarray
        Derivative of the equilibrium branch.
    dmu : float
        ``d Re(eigenvalue)/dλ`` of the critical pair.
    re_c1, l1 : float
        ``Re c₁`` and the first Lyapunov coefficient ``ℓ₁ = Re c₁ / ω``.
    """

    p: np.ndarray
    lam: float
    omega: float
    q: np.ndarray
    p_adj: np.ndarray
    dx_dlam: np.ndarray
    dmu: float
    re_c1: float
    l1: float

    @property
    def period(self) -> float:
        return 2 * np.pi / self.omega

    def amplitude_lam(self, rho: float) -> float:
        """λ of the orbit with normal-form amplitude ``ρ`` (``λ₀`` when ``ℓ₁`` or ``μ'`` vanish)."""
        if not (np.isfinite(self.re_c1) and np.isfinite(self.dmu)) or self.re_c1 == 0.0 or self.dmu == 0.0:
            return self.lam
        return self.lam - self.re_c1 * rho * rho / self.dmu


def _name(problem: Problem) -> str:
    return getattr(problem, "name", type(problem).__name__)


def hopf_point(problem: Problem, p, lam: float, *, tol: float = HOPF_TOL) -> HopfPoint:
    """Check that ``(p, lam)`` is a Hopf point of ``problem`` and compute its normal-form data.

    The equilibrium is refined by Newton at fixed λ first.

    Raises
    ------
    ProblemError
        The problem does not declare ``is_ode_rhs``, is complex, the point is not an
        equilibrium, or no complex pair of ``dH_dp`` lies on the imaginary axis (the message
        gives the closest pair).
    """
    name = _name(problem)
    if not getattr(problem, "is_ode_rhs", False):
        raise ProblemError(f"problem {name!r} does not declare is_ode_rhs = True: periodic orbits need "
                           "an ODE right-hand side u' = H(u, lam)")
    if np.issubdtype(np.dtype(problem.dtype), np.complexfloating):
        raise ProblemError(f"problem {name!r} is complex; periodic orbits are computed for real ODEs only")
    x = np.array(p, dtype=float).ravel()
    lam = float(lam)
    if not (np.all(np.isfinite(x)) and np.isfinite(lam)):
        raise ProblemError(f"problem {name!r}: the Hopf point (p, lam) is not finite")
    f = lambda z: np.asarray(problem.H(z, lam), dtype=float)  # noqa: E731
    J = lambda z: np.asarray(problem.dH_dp(z, lam), dtype=float)  # noqa: E731
    fx = f(x)  # each iterate's H once: a plugin's H may cost more than the rest of this check
    if fx.shape != x.shape:
        raise ProblemError(f"problem {name!r}: H returns shape {fx.shape} for p of shape {x.shape}")
    r0 = float(np.linalg.norm(fx))
    x_given = x.copy()
    for _ in range(8):
        if np.linalg.norm(fx) <= 1e-13 * (1 + np.linalg.norm(x)):
            break
        try:
            x = x - np.linalg.solve(J(x), fx)
        except np.linalg.LinAlgError:
            break
        fx = f(x)
    # Newton may converge from far away: only a small refinement counts as the same point
    if (not np.all(np.isfinite(x)) or np.linalg.norm(fx) > 1e-9 * (1 + np.linalg.norm(x))
            or np.linalg.norm(x - x_given) > 1e-4 * (1 + np.linalg.norm(x_given))):
        raise ProblemError(f"problem {name!r}: (p, lam = {lam:g}) is not an equilibrium (‖H‖ = {r0:.3g}); "
                           "start cycles from a Hopf point of the equilibrium branch")
    A = J(x)
    eigs, vecs = np.linalg.eig(A)
    scale = max(1.0, float(np.abs(eigs).max()))
    pair = np.flatnonzero(eigs.imag > 1e-8 * scale)
    if pair.size == 0:
        raise ProblemError(f"problem {name!r}: no complex eigenvalue pair at lam = {lam:g}: not a Hopf point")
    k = pair[np.argmin(np.abs(eigs[pair].real))]
    mu = eigs[k]
    omega = float(mu.imag)
    if abs(mu.real) > tol * max(1.0, omega):
        raise ProblemError(f"problem {name!r}: not a Hopf point at lam = {lam:g}: the closest eigenvalue "
                           f"pair {mu.real:.3g} ± {omega:.3g}i is off the imaginary axis")
    # exact eigenvectors of ±iω (the pair is on the axis up to tol)
    q = _null_vector(A - 1j * omega * np.eye(len(x)), vecs[:, k])
    q = q / np.sqrt(np.vdot(q, q).real)
    padj = _null_vector(A.T + 1j * omega * np.eye(len(x)), np.conj(q))
    padj = padj / np.conj(np.vdot(padj, q))  # p̄ᵀq = 1
    dfl = np.asarray(problem.dH_dlam(x, lam), dtype=float)
    dx = -np.linalg.solve(A, dfl)
    h = 1e-6 * max(1.0, abs(lam))
    Jl = lambda s: np.asarray(problem.dH_dp(x + s * dx, lam + s), dtype=float)  # noqa: E731
    dA = (Jl(h) - Jl(-h)) / (2 * h)
    dmu = float(np.vdot(padj, dA @ q).real)
    re_c1 = omega * lyapunov_coefficient(J, x, A, q, padj, omega)  # l₁ = Re c₁ / ω
    return HopfPoint(p=x, lam=lam, omega=omega, q=q, p_adj=padj, dx_dlam=dx, dmu=dmu, re_c1=re_c1,
                     l1=re_c1 / omega)


def _null_vector(M: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """The right singular vector of ``M``'s smallest singular value, in the complex phase of ``guess``."""
    u, s, vh = np.linalg.svd(M)
    v = np.conj(vh[-1])
    return v * np.exp(1j * np.angle(np.vdot(v, guess)))
