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

from .linalg import dgetri, lu_factor, lu_solve, svd, zgetri

if TYPE_CHECKING:
    from .problem import RealSystem

__all__ = ["first_lyapunov", "lyapunov_coefficient", "lyapunov_levels", "memoized_jacobian"]


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


#: The rows of :func:`_form_points`: ``x + h(ca·a + cb·b)`` for these ``(ca, cb)``
_STENCIL = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [2, 0], [-2, 0], [0, 2], [0, -2], [1, 1], [1, -1], [-1, 1],
                     [-1, -1]], dtype=float)
#: ``∂J/∂a, ∂J/∂b`` (over 2h) and ``∂²J/∂a², ∂²J/∂a∂b, ∂²J/∂b²`` (over 4h²) as weights of the twelve Jacobians,
#: and of ``A`` (the centre)
_FIRST, _SECOND = np.zeros((2, 12)), np.zeros((3, 12))
_FIRST[0, :2], _FIRST[1, 2:4] = (1, -1), (1, -1)
_SECOND[0, 4:6], _SECOND[1, 8:], _SECOND[2, 6:8] = (1, 1), (1, -1, -1, 1), (1, 1)
_CENTRE = np.array([0.0, 0.0, -2.0, 0.0, -2.0])


def _form_points(x: np.ndarray, a: np.ndarray, b: np.ndarray, h: float) -> np.ndarray:
    """The twelve points of :func:`_form_matrices`' stencils as rows: ``x ± h a``, ``x ± h b``,
    ``x ± 2h a``, ``x ± 2h b``, ``x + h(a + b)``, ``x + h(a − b)``, ``x − h(a − b)``, ``x − h(a + b)``
    (a few array operations: on small systems each NumPy call costs more than its arithmetic)."""
    c = _STENCIL * h
    return x + c[:, :1] * a + c[:, 1:] * b


def _forms_from(jacs, A: np.ndarray, h: float):
    """``(∂J/∂a, ∂J/∂b, ∂²J/∂a², ∂²J/∂a∂b, ∂²J/∂b²)`` from the Jacobians at the :func:`_form_points`."""
    jacs = np.asarray(jacs)
    n = A.shape[0]
    weights = np.concatenate((_FIRST / (2 * h), _SECOND / (4 * h * h)))
    forms = weights.dot(jacs.reshape(12, n * n)).reshape(5, n, n)  # (np.tensordot: the same, slower)
    forms += (_CENTRE / (4 * h * h))[:, None, None] * A
    return tuple(forms)


def _form_matrices(jac: Callable[[np.ndarray], np.ndarray], x: np.ndarray, A: np.ndarray, a: np.ndarray,
                   b: np.ndarray, h: float):
    """Central differences of the Jacobian along ``a`` and ``b``: ``∂J/∂a``, ``∂J/∂b`` and ``∂²J/∂a²``,
    ``∂²J/∂a∂b``, ``∂²J/∂b²``, so that ``B(a, v) = (∂J/∂a) v`` and ``C(a, b, v) = (∂²J/∂a∂b) v``.

    Twelve Jacobians (:func:`_form_points`), the stencils of ``B(u, v) = (J(x + hu) − J(x − hu)) v / 2h``
    and ``C(u, v, w) = (J(x + h(u+v)) − J(x + h(u−v)) − J(x − h(u−v)) + J(x − h(u+v))) w / 4h²``.
    """
    return _forms_from([jac(y) for y in _form_points(x, a, b, h)], A, h)


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
    omega, q, pv = _hopf_vectors(A, lam)
    return lyapunov_coefficient(jac, x, A, q, pv, omega, h)


def _hopf_vectors(A: np.ndarray, lam: float):
    """``(ω, q, p)``: the pair ``±iω`` of ``A`` nearest the imaginary axis, the unit eigenvector ``q`` of
    ``iω`` and the adjoint one, ``Aᵀp = −iωp``, with ``p̄ᵀq = 1``. ValueError where ``A`` has no complex
    pair."""
    import scipy.linalg  # here, not at import: a fold's normal form needs only pathtrack.linalg

    eigs, right = scipy.linalg.eig(A)
    scale = max(1.0, float(np.abs(eigs).max()))
    pair = np.flatnonzero((eigs.imag > 1e-8 * scale))
    if pair.size == 0:
        raise ValueError(f"no complex eigenvalue pair at λ = {lam:.10g}: not a Hopf point")
    k = pair[np.argmin(np.abs(eigs.real[pair]))]
    omega = float(eigs[k].imag)
    q = right[:, k] / np.linalg.norm(right[:, k])
    left_vals, left = scipy.linalg.eig(A.T)
    j = int(np.argmin(np.abs(left_vals - (-1j * omega))))
    pv = left[:, j]
    pv = pv / np.conj(np.vdot(pv, q))  # p̄ᵀq = 1 (np.vdot conjugates its first argument)
    return omega, q, pv


def lyapunov_coefficient(jac: Callable[[np.ndarray], np.ndarray], x: np.ndarray, A: np.ndarray, q: np.ndarray,
                         p_adj: np.ndarray, omega: float, h: Optional[float] = None) -> float:
    """``l₁`` from the Hopf point's data: ``jac(y)`` the Jacobian at ``y``, ``A = jac(x)``, ``q`` the
    unit eigenvector of ``iω``, ``p_adj`` the adjoint one with ``p̄ᵀq = 1`` (the formula above).

    ``jac`` may be a :func:`memoized_jacobian` shared between calls at the same ``x`` and steps
    ``h, h/2, …`` (Richardson extrapolation), which share points."""
    h = 1e-4 * max(1.0, float(np.linalg.norm(x))) if h is None else h
    l1 = _l1_from_forms(_form_matrices(jac, x, A, q.real, q.imag, h), A, q, p_adj, omega)
    if not np.isfinite(l1):  # A or 2iω − A singular (a zero-Hopf point): no l1, as np.linalg.solve said
        raise np.linalg.LinAlgError(f"l1 at a Hopf point with ω = {omega:.6g}: a singular system (zero-Hopf?)")
    return l1


def lyapunov_levels(jac_batch: Callable[[np.ndarray], np.ndarray], x: np.ndarray, A: np.ndarray, q: np.ndarray,
                    p_adj: np.ndarray, omega: float, steps, kernel=None) -> list:
    """:func:`lyapunov_coefficient` for every step ``h`` of ``steps`` (Richardson extrapolation), the
    Jacobians of all their stencils from one call ``jac_batch(P)`` (the Jacobian at every row of
    ``P``, as a plugin's ``dH_dp_batch``): twelve points per step, one vectorised evaluation, and
    the two linear systems of the formula factored once for all steps. ``kernel``, the compiled
    ``l1_levels`` of :mod:`pathtrack.kernels.curves`, does the rest in one call (``A`` C-contiguous)."""
    a, b = q.real, q.imag
    n = A.shape[0]
    k, c_a, c_b, weights, centre = _stencil_weights(tuple(steps))
    jacs = np.asarray(jac_batch(x + c_a * a + c_b * b), dtype=float).reshape(k, 12, n * n)
    if kernel is not None:
        return kernel(np.ascontiguousarray(jacs), weights, centre.reshape(k, 5), A,
                      np.ascontiguousarray(q, dtype=complex), np.ascontiguousarray(p_adj, dtype=complex),
                      float(omega)).tolist()
    # every step's five form matrices from one batched product, and Kuznetsov's formula on all steps at
    # once: on small systems the number of NumPy calls, not the arithmetic, is the cost
    forms = np.matmul(weights, jacs).reshape(k, 5, n, n)
    forms += centre * A
    return [float(v) for v in _l1_from_form_stack(forms, A, q, p_adj, omega)]


_WEIGHTS: dict = {}
_EYE: dict = {}


def _identity(n: int) -> np.ndarray:
    """The read-only ``np.eye(n)``, made once per size."""
    eye = _EYE.get(n)
    if eye is None:
        eye = _EYE[n] = np.eye(n)
        eye.flags.writeable = False
    return eye


def _stencil_weights(steps: tuple):
    """``(k, c_a, c_b, weights, centre)`` of :func:`lyapunov_levels` for ``steps``: they depend on the steps
    only, and a Hopf curve asks for the same steps at every point (computed once, the same values)."""
    out = _WEIGHTS.get(steps)
    if out is None:
        hs = np.asarray(steps, dtype=float)
        c = (_STENCIL * hs[:, None, None]).reshape(-1, 2)  # the rows of _form_points for every step
        weights = np.concatenate((_FIRST / (2 * hs)[:, None, None], _SECOND / (4 * hs * hs)[:, None, None]), axis=1)
        centre = (_CENTRE / (4 * hs * hs)[:, None])[:, :, None, None]
        out = _WEIGHTS[steps] = (hs.shape[0], c[:, :1].copy(), c[:, 1:].copy(), weights, centre)
    return out


def _l1_from_form_stack(forms: np.ndarray, A: np.ndarray, q: np.ndarray, p_adj: np.ndarray,
                        omega: float) -> np.ndarray:
    """:func:`_l1_from_forms` for a stack ``forms[k] = (Da, Db, Daa, Dab, Dbb)`` of steps, the two
    systems solved through their inverses (NaN where one is exactly singular)."""
    a, b = q.real, q.imag
    Da, Db, Daa, Dab, Dbb = forms[:, 0], forms[:, 1], forms[:, 2], forms[:, 3], forms[:, 4]
    inv_a, info_a = dgetri(*lu_factor(A))
    inv_2iw, info_2iw = zgetri(*lu_factor(2j * omega * _identity(A.shape[0]) - A))
    Da_a, Da_b, Db_a, Db_b = Da @ a, Da @ b, Db @ a, Db @ b
    Bqq = Da_a - Db_b + 2j * Da_b
    Bqqbar = Da_a + Db_b
    Cqqqbar = Daa @ a + Dab @ b + 1j * (Dab @ a + Dbb @ b)
    s = Bqqbar @ inv_a.T  # A⁻¹ B(q, q̄) of every step, as rows
    r = Bqq @ inv_2iw.T  # (2iω − A)⁻¹ B(q, q)
    Ds = np.matmul(forms[:, :2], s[:, None, :, None])[..., 0]  # (Da s, Db s) of every step
    Dr = np.matmul(forms[:, :2], r[:, None, :, None])[..., 0]
    pc = np.conj(p_adj)
    terms = Cqqqbar - 2 * (Ds[:, 0] + 1j * Ds[:, 1]) + (Dr[:, 0] - 1j * Dr[:, 1])
    out = (terms @ pc).real / (2 * omega)
    if info_a != 0 or info_2iw != 0:
        out[:] = np.nan
    return out


def _l1_factors(A: np.ndarray, omega: float):
    """LU factors of ``A`` and ``2iω − A``, the two systems of Kuznetsov's formula (LAPACK directly: NumPy's
    ``solve`` costs several times the arithmetic of a small system)."""
    return lu_factor(A), lu_factor(2j * omega * np.eye(A.shape[0]) - A)


def _l1_from_forms(forms, A: np.ndarray, q: np.ndarray, p_adj: np.ndarray, omega: float, lus=None) -> float:
    """Kuznetsov's formula from the :func:`_forms_from` matrices along ``Re q`` and ``Im q``."""
    Da, Db, Daa, Dab, Dbb = forms
    a, b = q.real, q.imag
    lu_a, lu_2iw = _l1_factors(A, omega) if lus is None else lus
    # multilinear extension to q = a + ib (B and C are symmetric): B(q, ·) = (Da + i Db)·
    Bqq = Da @ a - Db @ b + 2j * (Da @ b)
    Bqqbar = Da @ a + Db @ b
    Cqqqbar = Daa @ a + Dab @ b + 1j * (Dab @ a + Dbb @ b)  # C(a,a,a) + C(a,b,b) + i(C(a,a,b) + C(b,b,b))
    s = lu_solve(lu_a, Bqqbar)  # A⁻¹ B(q, q̄), real
    r = lu_solve(lu_2iw, Bqq)  # (2iω − A)⁻¹ B(q, q)
    t1 = np.vdot(p_adj, Cqqqbar)
    t2 = np.vdot(p_adj, Da @ s + 1j * (Db @ s))  # B(q, s) = (Da + i Db) s
    t3 = np.vdot(p_adj, Da @ r - 1j * (Db @ r))  # B(q̄, r) = (Da − i Db) r
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
    ``cubic = ⅙ w·(H_ppp[v, v, v] + 3 H_pp[v, h₂])``, where ``h₂ ⊥ v`` solves
    ``H_p h₂ = −(I − w wᵀ) H_pp[v, v]``: the quadratic part of the slaved unknowns, without which
    ``cubic`` is not the reduced equation's coefficient once ``H`` has more than one unknown. The
    branch near the fold is ``ξ² ≈ −(b/a)(λ − λ*)``, so it lies on the side
    ``sign(λ − λ*) = −sign(a)``; ``a = 0`` at a cusp, where ``cubic`` takes over (it is then
    :func:`cusp_coefficient`'s ``c`` times ``w·v``, whose normalisation is ``p·q = 1``).

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
    u_mat, sv, vt = svd(J[:, :-1])
    v = _canonical_sign(vt[-1])
    w = u_mat[:, -1]
    b = float(w @ J[:, -1])
    if b < 0:
        w, b = -w, -b
    eps = 1e-3 * max(1.0, float(np.linalg.norm(y)))
    u = np.append(v, 0.0)
    B_vv = _second_derivative(system, y, u, u, eps)
    a = 0.5 * float(w @ B_vv)
    # h₂ = −J⁺(I − w wᵀ)B(v, v): the minimum-norm solution, orthogonal to the kernel v
    h2 = -(vt[:-1].T @ ((u_mat[:, :-1].T @ (B_vv - (w @ B_vv) * w)) / sv[:-1]))
    B_vh = _second_derivative(system, y, u, np.append(h2, 0.0), eps)
    cubic = float(w @ (_third_derivative(system, y, u, eps) + 3.0 * B_vh)) / 6.0
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
    point is not a simple branch point; a kind the problem lists in ``normal_form_kinds`` (the
    cusp, Bogdanov–Takens and generalised Hopf points of fold and Hopf curves):
    ``problem.point_normal_form(kind, p, lam)``. Failures of the computation give an empty dict: the
    point is still reported.
    """
    from .events import BRANCH_POINT, FOLD, HOPF, INDEX_CHANGE
    from .problem import NonFiniteError

    try:
        if kind in getattr(problem, "normal_form_kinds", ()):
            return problem.point_normal_form(kind, p, lam)  # a curve's codimension-2 points
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


# ---------------------------------------------------------------- codimension 2: BT, cusp, GH
__all__ += ["Jet", "bogdanov_takens_coefficients", "cusp_coefficient", "second_lyapunov", "hopf_normal_form"]

#: Difference steps of :class:`Jet` for derivatives of order ``k = 2 … 5`` (along unit directions):
#: with :data:`JET_LEVELS` Richardson levels (errors ``O(h²)`` and ``O(h⁴)`` removed) these measured best
#: on the reactor's two GH points (``l2`` within 1e-9 relative of autograd's, ``l1`` within 3e-12;
#: half these steps left 4e-9 of rounding error in ``l2``, twice them 9e-8 of truncation error).
JET_STEPS = {2: 0.006, 3: 0.02, 4: 0.05, 5: 0.09}
#: Richardson levels of :class:`Jet`'s differences (steps ``h, h/2, h/4``)
JET_LEVELS = 3


class Jet:
    """The derivatives of ``f(y) = H(y, λ)`` at ``x`` as symmetric multilinear forms of complex vectors.

    ``jet.form(v₁, …, v_k)`` is ``D^k f(x)[v₁, …, v_k]`` (``k ≥ 1``), extended to complex vectors by
    multilinearity: each argument is split into its real and imaginary parts, and each real form
    ``D^k f(x)[u₁, …, u_k]`` is computed once per multiset of unit directions. ``method``:

    - ``'autograd'``: nested forward-mode derivatives of the plugin's ``H`` (exact up to rounding);
    - ``'fd'``: mixed central differences of the plugin's Jacobian along ``u₁ … u_{k−1}``, applied to
      ``u_k``, Richardson-extrapolated over :data:`JET_LEVELS` steps from :data:`JET_STEPS`;
    - ``'auto'`` (default): ``'fd'`` where the plugin defines its own ``dH_dp`` (its Jacobians are cheap:
      on the reactor 0.04 s of CPU per GH point against 0.45 s for nested autograd), otherwise
      autograd where it differentiates ``H`` and agrees with ``dH_dp`` to 1e-8, otherwise ``'fd'``.
    """

    def __init__(self, problem, x, lam: float, method: str = "auto"):
        self.x = np.asarray(x, dtype=float)
        self.lam = float(lam)
        self.problem = problem
        self._dirs: list = []  # registered unit real directions
        self._dir_ids: dict = {}
        self._forms: dict = {}  # sorted direction ids -> D^k f[u...]
        self._jacs: dict = {}  # (step, offset key) -> Jacobian
        if method not in ("auto", "autograd", "fd"):
            raise ValueError(f"Jet method {method!r}: expected 'auto', 'autograd' or 'fd'")
        self.method = self._choose() if method == "auto" else method

    # -- real directions and forms
    def _register(self, u: np.ndarray):
        nu = float(np.linalg.norm(u))
        if nu == 0.0:
            return None, 0.0
        unit = u / nu
        if unit[int(np.argmax(np.abs(unit)))] < 0:  # u and −u: one direction (q̄ has −Im q)
            unit, nu = -unit, -nu
        key = unit.tobytes()
        i = self._dir_ids.get(key)
        if i is None:
            i = self._dir_ids[key] = len(self._dirs)
            self._dirs.append(unit)
        return i, nu

    def _jac(self, y: np.ndarray) -> np.ndarray:
        J = self.problem.dH_dp(y, self.lam)
        return np.asarray(J.toarray() if hasattr(J, "toarray") else J, dtype=float)

    def _choose(self) -> str:
        has = getattr(self.problem, "has", None)
        if has is not None and has("dH_dp"):
            return "fd"  # cheap Jacobians: differences take a tenth of nested autograd's time
        n = self.x.shape[0]
        u = np.cos(np.arange(1.0, n + 1.0))  # a fixed direction with every component nonzero
        try:
            ag = np.asarray(self._autograd(u), dtype=float)
        except Exception:  # noqa: BLE001 - anything autograd cannot trace means differences
            return "fd"
        ref = self._jac(self.x) @ u
        ok = ag.shape == ref.shape and np.all(np.isfinite(ag)) and \
            float(np.linalg.norm(ag - ref)) <= 1e-8 * max(1.0, float(np.linalg.norm(ref)))
        return "autograd" if ok else "fd"

    def _autograd(self, *us) -> np.ndarray:
        from autograd import make_jvp

        H = getattr(self.problem, "_H_array", None) or self.problem.H

        def nested(y, k):
            if k == len(us):
                return H(y, self.lam)
            return make_jvp(lambda z: nested(z, k + 1))(y)(us[k])[1]

        return np.asarray(nested(self.x, 0), dtype=float)

    def _point_jac(self, h: float, combo: tuple) -> np.ndarray:
        """The Jacobian at ``x + h Σ c_i u_i`` for ``combo = ((i, c_i), …)``, kept: stencils share points."""
        key = (h, combo)
        J = self._jacs.get(key)
        if J is None:
            y = self.x.copy()
            for i, c in combo:
                y = y + (h * c) * self._dirs[i]
            J = self._jacs[key] = self._jac(y)
        return J

    def _fd(self, ids: tuple) -> np.ndarray:
        import itertools

        k = len(ids)
        u_last, diff = self._dirs[ids[-1]], ids[:-1]
        if k == 1:
            return self._point_jac(0.0, ()) @ u_last
        h0 = JET_STEPS[k]
        terms = []  # (sign, offset) of the 2^(k−1) points, the same at every step h
        for signs in itertools.product((1, -1), repeat=k - 1):
            counts: dict = {}
            sign = 1
            for i, sg in zip(diff, signs):
                counts[i] = counts.get(i, 0) + sg
                sign *= sg
            terms.append((sign, tuple(sorted((i, c) for i, c in counts.items() if c))))

        def stencil(h):
            total = sum(sign * self._point_jac(h, combo) for sign, combo in terms) @ u_last
            return total / (2.0 * h) ** (k - 1)

        levels = [stencil(h0 / 2 ** i) for i in range(JET_LEVELS)]
        for j in range(1, JET_LEVELS):  # Richardson: remove the O(h²), O(h⁴) … terms
            levels = [(4 ** j * fine - coarse) / (4 ** j - 1) for coarse, fine in zip(levels, levels[1:])]
        return levels[0]

    def real_form(self, ids: tuple) -> np.ndarray:
        ids = tuple(sorted(ids))
        out = self._forms.get(ids)
        if out is None:
            out = None
            if self.method == "autograd":
                try:
                    out = self._autograd(*(self._dirs[i] for i in ids))
                except Exception:  # noqa: BLE001 - an order autograd cannot trace: differences from here on
                    self.method = "fd"
            if out is None:
                out = self._fd(ids)
            self._forms[ids] = out
        return out

    def form(self, *vs) -> np.ndarray:
        """``D^k f(x)[v₁, …, v_k]`` for real or complex vectors ``v_i`` (complex result)."""
        import itertools

        parts = []
        for v in vs:
            v = np.asarray(v)
            opts = []
            for coef, comp in ((1.0, v.real), (1j, v.imag if np.iscomplexobj(v) else None)):
                if comp is not None:
                    i, nu = self._register(np.asarray(comp, dtype=float))
                    if i is not None:
                        opts.append((coef * nu, i))
            if not opts:
                return np.zeros(self.x.shape[0], dtype=complex)
            parts.append(opts)
        total = np.zeros(self.x.shape[0], dtype=complex)
        for choice in itertools.product(*parts):
            coef = complex(np.prod([c for c, _ in choice]))
            total = total + coef * self.real_form(tuple(i for _, i in choice))
        return total


def _jet_and_matrix(problem, p, lam, method):
    jet = Jet(problem, p, lam, method)
    return jet, jet._point_jac(0.0, ())


def _bordered_solve(M: np.ndarray, border_col: np.ndarray, border_row: np.ndarray,
                    rhs: np.ndarray) -> np.ndarray:
    """``x`` of ``[[M, b], [cᵀ, 0]] [x; s] = [rhs; 0]``: the solution with ``c·x = 0`` of the singular
    ``M x = rhs`` (``b`` spans the complement of ``M``'s range, so ``s`` takes up what is not in it)."""
    n = M.shape[0]
    K = np.zeros((n + 1, n + 1), dtype=np.result_type(M, border_col, border_row, rhs))
    K[:n, :n], K[:n, n], K[n, :n] = M, border_col, border_row
    return np.linalg.solve(K, np.append(rhs, 0.0))[:n]


def bogdanov_takens_coefficients(problem, p, lam: float, method: str = "auto") -> dict:
    """``a`` and ``b`` of the Bogdanov–Takens normal form ``w₀' = w₁, w₁' = β₁ + β₂w₀ + a w₀² + b w₀w₁``.

    Kuznetsov (Elements of Applied Bifurcation Theory, §8.4) and MatCont: with the Jordan chain
    ``A q₀ = 0``, ``A q₁ = q₀`` and the adjoint one ``Aᵀp₁ = 0``, ``Aᵀp₀ = p₁`` at the point,
    ``a = ½ p₁·B(q₀, q₀)`` and ``b = p₀·B(q₀, q₀) + p₁·B(q₀, q₁)``. Normalisation: ``‖q₀‖ = 1``
    with its largest component positive, ``q₁ ⊥ q₀``, ``p₀·q₀ = p₁·q₁ = 1``, ``p₀·q₁ = p₁·q₀ = 0``.
    Another chain ``α q₀, α q₁ + γ q₀`` multiplies both by ``α``: ``sign(a b)`` and ``b/a`` are
    independent of it. ``B`` from :class:`Jet` (``method``).

    Returns
    -------
    dict
        ``a`` and ``b``.
    """
    jet, A = _jet_and_matrix(problem, p, lam, method)
    import scipy.linalg

    u_mat, _, vt = scipy.linalg.svd(A)
    q0 = _canonical_sign(vt[-1])
    p1 = u_mat[:, -1]
    q1 = _bordered_solve(A, p1, q0, q0)  # A q₁ = q₀ with q₁ ⊥ q₀
    p1 = p1 / float(p1 @ q1)
    p0 = _bordered_solve(A.T, q0, q1, p1)  # Aᵀp₀ = p₁ with p₀·q₁ = 0
    B00 = jet.form(q0, q0).real
    B01 = jet.form(q0, q1).real
    a = 0.5 * float(p1 @ B00)
    b = float(p0 @ B00 + p1 @ B01)
    return {"a": a, "b": b}


def cusp_coefficient(problem, p, lam: float, method: str = "auto") -> dict:
    """``c`` of the cusp normal form ``w' = β₁ + β₂ w + c w³`` (Kuznetsov §8.2, MatCont).

    With ``A q = 0``, ``Aᵀp = 0``, ``‖q‖ = 1``, ``p·q = 1``: ``c = ⅙ p·[C(q, q, q) + 3 B(q, h₂)]``
    where ``A h₂ = −B(q, q)``, ``p·h₂ = 0`` (the quadratic part of the centre manifold). ``c`` does
    not depend on the sign of ``q``; its sign decides whether the three equilibria inside the cusp
    are two stable and one unstable (``c < 0``) or the reverse. Also ``a = ½ p·B(q, q)``, zero at a cusp.
    """
    jet, A = _jet_and_matrix(problem, p, lam, method)
    import scipy.linalg

    u_mat, _, vt = scipy.linalg.svd(A)
    q, pv = vt[-1], u_mat[:, -1]
    pv = pv / float(pv @ q)
    Bqq = jet.form(q, q).real
    h2 = _bordered_solve(A, pv, pv, -(Bqq - (pv @ Bqq) * q))
    c = float(pv @ (jet.form(q, q, q).real + 3.0 * jet.form(q, h2).real)) / 6.0
    return {"c": c, "a": 0.5 * float(pv @ Bqq)}


def _taylor_coefficient(jet: Jet, h: dict, J: int, K: int) -> np.ndarray:
    """``J!K!·[w^J w̄^K]`` of the nonlinear part of ``f(H(w, w̄))``, ``H = Σ h_jk w^j w̄^k/(j!k!)``.

    Every multiset of known ``h_jk`` (``j + k < J + K``) summing to ``(J, K)`` contributes
    ``J!K!/(Π mult! Π j!k!) · D^m f[h…]``: no hand-expanded formula to mistype."""
    from math import factorial

    keys = sorted(k for k in h if k[0] <= J and k[1] <= K and sum(k) < J + K)

    def multisets(start, j, k):  # multisets of keys[start:] summing to (j, k), in key order
        if j == k == 0:
            yield ()
            return
        for i in range(start, len(keys)):
            a, b = keys[i]
            if a <= j and b <= k:
                for rest in multisets(i, j - a, k - b):
                    yield (keys[i],) + rest

    total = np.zeros(jet.x.shape[0], dtype=complex)
    for combo in multisets(0, J, K):  # every key is of lower order: two or more of them
        denom = 1
        for key in set(combo):
            denom *= factorial(combo.count(key))
        for j, k in combo:
            denom *= factorial(j) * factorial(k)
        total = total + (factorial(J) * factorial(K) / denom) * jet.form(*(h[c] for c in combo))
    return total


def _chain_terms(h: dict, g: dict, J: int, K: int) -> np.ndarray:
    """``J!K!·[w^J w̄^K]`` of ``H_w ẇ + H_w̄ ẇ̄`` from the known nonlinear terms ``g_cd w^c w̄^d/(c!d!)``
    of ``ẇ``."""
    from math import factorial

    n = next(iter(h.values())).shape[0]
    total = np.zeros(n, dtype=complex)
    for (a, b), hab in h.items():
        for (c, d), gcd in g.items():
            base = factorial(a) * factorial(b) * factorial(c) * factorial(d)
            if a >= 1 and (a - 1 + c, b + d) == (J, K):
                total = total + a * gcd / base * hab
            if b >= 1 and (a + d, b - 1 + c) == (J, K):
                total = total + b * np.conj(gcd) / base * hab
    return total * (factorial(J) * factorial(K))


def hopf_normal_form(jet: Jet, A: np.ndarray, q: np.ndarray, p_adj: np.ndarray, omega: float) -> dict:
    """``G₂₁``, ``G₃₂`` of ``ẇ = iωw + ½G₂₁ w|w|² + (1/12)G₃₂ w|w|⁴`` at a Hopf point (Kuznetsov §8.3).

    The centre manifold ``x = H(w, w̄) = wq + w̄q̄ + Σ h_jk w^j w̄^k/(j!k!)`` solves the homological
    equation ``A H + f(H) = H_w ẇ + H_w̄ ẇ̄`` order by order: ``((j − k)iω − A) h_jk`` is the
    coefficient of ``f(H)`` minus the terms of the nonlinear part of ``ẇ``, with ``h_kj = h̄_jk``;
    at the resonant ``j = k + 1`` the coefficient ``G_jk = ⟨p, ·⟩`` is removed and ``⟨p, h_jk⟩ = 0``
    (bordered solve). ``q`` a unit eigenvector of ``iω``, ``p̄ᵀq = 1``."""
    n = A.shape[0]
    eye = np.eye(n)
    h = {(1, 0): q.astype(complex), (0, 1): np.conj(q).astype(complex)}
    g: dict = {}
    for J, K in ((2, 0), (1, 1), (3, 0), (2, 1), (3, 1), (2, 2), (3, 2)):
        rhs = _taylor_coefficient(jet, h, J, K) - _chain_terms(h, g, J, K)
        if J - K == 1:
            G = complex(np.vdot(p_adj, rhs))
            g[(J, K)] = G
            if (J, K) == (3, 2):
                break
            hjk = _bordered_solve(1j * omega * eye - A, q, np.conj(p_adj), rhs - G * q)
        else:
            hjk = np.linalg.solve((J - K) * 1j * omega * eye - A, rhs)
        if J == K:
            hjk = hjk.real.astype(complex)  # h_kk is real: drop the rounding
        h[(J, K)] = hjk
        h[(K, J)] = np.conj(hjk)
    return {"G21": g[(2, 1)], "G32": g[(3, 2)]}


def second_lyapunov(problem, p, lam: float, method: str = "auto") -> dict:
    """``l1`` and ``l2`` at a Hopf point of an ODE plugin: ``l1 = Re G₂₁/(2ω)``, ``l2 = Re G₃₂/(12ω)``.

    That is ``Re c₁/ω`` and ``Re c₂/ω`` of ``ż = iωz + c₁ z|z|² + c₂ z|z|⁴`` in the coordinate
    ``z`` along the unit eigenvector ``q`` (``‖q‖ = 1``, Kuznetsov's and MatCont's normalisation,
    the one of :func:`first_lyapunov`): for the Bautin form ``ż = (β₁ + iω)z + c₁z|z|² + c₂z|z|⁴``
    written in ``x = Re z, y = Im z`` (``z = √2·w``) that is ``l1 = 2 Re c₁/ω`` and
    ``l2 = 4 Re c₂/ω``. ``l2`` is independent of the coordinates (up to that scale) where
    ``l1 = 0``, at a generalised Hopf (Bautin) point: ``l2 < 0`` there means the cycles born on
    the subcritical side fold back (a stable and an unstable cycle coexist). Derivatives up to
    the fifth from :class:`Jet` (``method``).

    Returns
    -------
    dict
        ``l1``, ``l2``, ``omega`` and ``method``, the derivatives used (``'autograd'`` or ``'fd'``, also
        where autograd failed at some order). Raises ValueError where ``H_p`` has no complex pair.
    """
    x = np.asarray(p, dtype=float)
    jet, A = _jet_and_matrix(problem, x, lam, method)
    omega, q, pv = _hopf_vectors(A, lam)
    G = hopf_normal_form(jet, A, q, pv, omega)
    return {"l1": G["G21"].real / (2 * omega), "l2": G["G32"].real / (12 * omega), "omega": omega,
            "method": jet.method}
