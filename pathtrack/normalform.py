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

from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
import scipy.linalg

if TYPE_CHECKING:
    from .problem import RealSystem

__all__ = ["first_lyapunov", "lyapunov_coefficient", "memoized_jacobian"]


def _second_derivative(system: RealSystem, y: np.ndarray, u: np.ndarray, v: np.ndarray, eps: float) -> np.ndarray:
    """``F_yy[u, v]`` from central differences of ``J`` along ``u``, Richardson-extrapolated (error O(ε⁴))."""
    return _second_derivatives(system, y, u, (v,), eps)[0]


def _second_derivatives(system: RealSystem, y: np.ndarray, u: np.ndarray, vs, eps: float) -> list:
    """``F_yy[u, v]`` for every ``v`` of ``vs``, from the same four Jacobians along ``u``."""
    def central(h):
        jp, jm = system.jacobian(y + h * u), system.jacobian(y - h * u)
        return [(jp @ v - jm @ v) / (2.0 * h) for v in vs]

    return [(4.0 * fine - coarse) / 3.0 for fine, coarse in zip(central(eps / 2.0), central(eps))]


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


# ------------------------------------------------------------------------------ folds and BPs
__all__ += ["fold_coefficients", "branch_point_coefficients", "normal_form"]

#: At a branch point, ``a`` counts as zero (a pitchfork: one branch turns in λ) below this fraction of ``‖(a, b, c)‖``.
PITCHFORK_RTOL = 1e-6


def _canonical_sign(v: np.ndarray) -> np.ndarray:
    """``v`` with its largest-magnitude component positive (fixes the sign a kernel vector is returned with)."""
    k = int(np.argmax(np.abs(v)))
    return -v if v[k] < 0 else v


def _third_derivative(system, y: np.ndarray, u: np.ndarray, eps: float) -> np.ndarray:
    """``F_yyy[u, u, u]`` from second differences of ``J`` along ``u``, Richardson-extrapolated."""
    def second(h):
        return (system.jacobian(y + h * u) @ u - 2.0 * (system.jacobian(y) @ u) + system.jacobian(y - h * u) @ u) / (h * h)

    return (4.0 * second(eps / 2.0) - second(eps)) / 3.0


def fold_coefficients(problem, p, lam: float) -> dict:
    """The reduced equation ``g(ξ, μ) = b μ + a ξ² + cubic ξ³ + …`` of a fold of ``H(p, λ) = 0`` (real, dense).

    With ``v``, ``w`` the unit right and left null vectors of ``H_p`` (``v`` with its largest
    component positive, ``w`` signed so that ``b = w·H_λ > 0``), ``a = ½ w·H_pp[v, v]`` and
    ``cubic = ⅙ w·H_ppp[v, v, v]``: the branch near the fold is ``ξ² ≈ −(b/a)(λ − λ*)``, so it
    lies on the side ``sign(λ − λ*) = −sign(a)``; ``a = 0`` at a cusp, where ``cubic`` takes over.

    Returns
    -------
    dict
        ``a``, ``b``, ``cubic``, and ``sigma`` (the smallest singular value of ``H_p`` over ``‖[H_p, H_λ]‖``:
        near 0 at a fold).
    """
    from .problem import RealSystem

    x = np.asarray(p, dtype=float)
    system = RealSystem(problem, x.shape[0])
    y = system.to_y(x, float(lam))
    J = system.jacobian(y)
    J = J.toarray() if hasattr(J, "toarray") else np.asarray(J, dtype=float)
    u_mat, sv, vt = scipy.linalg.svd(J[:, :-1], check_finite=False)
    v = _canonical_sign(vt[-1])
    w = u_mat[:, -1]
    b = float(w @ J[:, -1])
    if b < 0:
        w, b = -w, -b
    eps = 1e-3 * max(1.0, float(np.linalg.norm(y)))
    u = np.append(v, 0.0)
    a = 0.5 * float(w @ _second_derivative(system, y, u, u, eps))
    cubic = float(w @ _third_derivative(system, y, u, eps)) / 6.0
    return {"a": a, "b": b, "cubic": cubic, "sigma": float(sv[-1] / max(float(np.linalg.norm(J, 2)), 1e-300))}


def branch_point_coefficients(problem, p, lam: float, *, refine: bool = False) -> dict:
    """The algebraic bifurcation equation ``g(ξ, μ) = a ξ² + b ξ μ + c μ² = 0`` of a simple branch point.

    ``μ = λ − λ*`` and ``ξ`` the amplitude along the unit null vector ``v`` of ``H_p`` (the
    kernel direction with no λ-component, largest component positive); the λ-direction is the
    kernel vector ``(v_λ, 1)``, ``v_λ ⊥ v``. The coefficients are those of
    :func:`~pathtrack.branching.analyse_branch_point` (``ψ·F_yy`` on its kernel basis) in these
    coordinates, with ``ψ`` signed so that ``b > 0`` (``a > 0`` where ``b = 0``). Each root
    ``ξ/μ`` is a branch; ``a = 0``: one branch has no λ-component (it turns there): ``type``
    ``'pitchfork'``, otherwise ``'transcritical'``.

    Returns
    -------
    dict
        ``a``, ``b``, ``c``, ``type`` and ``kernel_dim`` (2). Raises
        :class:`~pathtrack.branching.BranchSwitchError` (naming the kernel dimension) when the
        point is not a simple branch point; where the kernel holds no λ-direction (a vertical
        branch point) only ``kernel_dim`` and ``type`` ``'vertical'`` are returned.
    """
    from .branching import analyse_branch_point

    an = analyse_branch_point(problem, (p, lam), refine=refine)
    c11, c12, c22 = (float(c) for c in an.coefficients)
    C = np.array([[c11, c12], [c12, c22]])
    r = an.kernel[-1, :]  # λ-components of the kernel basis
    nr = float(np.linalg.norm(r))
    if nr < 1e-10:
        return {"kernel_dim": 2, "type": "vertical"}
    alpha_x = np.array([r[1], -r[0]]) / nr  # (v, 0) in the kernel basis
    v = an.kernel[:-1, :] @ alpha_x
    if not np.array_equal(_canonical_sign(v), v):
        alpha_x = -alpha_x
    alpha_lam = r / (nr * nr)  # (v_λ, 1)
    a = 0.5 * float(alpha_x @ C @ alpha_x)
    b = float(alpha_x @ C @ alpha_lam)
    c = 0.5 * float(alpha_lam @ C @ alpha_lam)
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    if b < 0 or (abs(b) <= 1e-12 * scale and a < 0):
        a, b, c = -a, -b, -c
    kind = "pitchfork" if abs(a) <= PITCHFORK_RTOL * scale else "transcritical"
    return {"a": a, "b": b, "c": c, "type": kind, "kernel_dim": 2}


def normal_form(problem, kind: str, p, lam: float) -> dict:
    """The normal-form coefficients stored with a special point of ``kind`` (empty where none apply).

    Hopf: ``l1`` (:func:`first_lyapunov`); fold: :func:`fold_coefficients`; branch point and
    Hessian-index change: :func:`branch_point_coefficients`, or only ``kernel_dim`` where the
    point is not a simple branch point. Failures of the computation give an empty dict: the
    point is still reported.
    """
    from .events import BRANCH_POINT, FOLD, HOPF, INDEX_CHANGE
    from .problem import NonFiniteError

    try:
        if kind == HOPF:
            return {"l1": first_lyapunov(problem, p, lam)}
        if kind == FOLD:
            return fold_coefficients(problem, p, lam)
        if kind in (BRANCH_POINT, INDEX_CHANGE):
            from .branching import BranchSwitchError  # only where a branch point was found

            try:
                return branch_point_coefficients(problem, p, lam)
            except BranchSwitchError as exc:
                return {"kernel_dim": int(getattr(exc, "kernel_dim", -1))}
    except (ValueError, NonFiniteError, np.linalg.LinAlgError, FloatingPointError):
        pass
    return {}
