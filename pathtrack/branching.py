"""Branch switching at simple branch points of ``H(p, λ) = 0``.

At a simple branch point ``y* = (x*, λ*)`` the augmented real Jacobian ``J = [dF_dx, dF_dλ]``
(``m × (m+1)``) has rank ``m − 1``: a two-dimensional kernel spanned by ``φ₁, φ₂`` and a
one-dimensional left kernel ``ψ``. Every branch through ``y*`` has a tangent
``t = a φ₁ + b φ₂`` that solves the algebraic bifurcation equation (Keller's ABE)

    c₁₁ a² + 2 c₁₂ a b + c₂₂ b² = 0,    c_ij = ψ · F_yy[φ_i, φ_j],

whose two real roots are the tangents of the two branches when the discriminant
``c₁₂² − c₁₁ c₂₂`` is positive (transcritical and pitchfork bifurcations alike). The second
derivatives are central differences of the Jacobian along the kernel directions, Richardson
extrapolated, so any plugin works (analytic, autograd or hand-written ``dH_dp``).

A Hessian-index change of a gradient homotopy (``H = ∇L``) is a branch point of ``∇L = 0``
when the kernel is two-dimensional there, and gets the same analysis. A kernel of dimension
one (a fold or a regular point), of dimension above two, or a degenerate bifurcation
equation raise :class:`BranchSwitchError` naming the kernel dimension: nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import scipy.linalg

from .corrector import NewtonCorrector
from .events import BRANCH_POINT, INDEX_CHANGE, SpecialPoint
from .linalg import refine_branch_point
from .normalform import _second_derivative, _second_derivatives
from .options import TrackerOptions
from .problem import Problem, RealSystem, StartPoint
from .status import CorrectorCode

__all__ = ["BranchSwitchError", "BranchPointAnalysis", "analyse_branch_point", "branch_start", "switch_branch",
           "SWITCH_KINDS", "child_options"]

#: Special-point kinds at which branches can be switched.
SWITCH_KINDS = (BRANCH_POINT, INDEX_CHANGE)

#: A singular value of ``J`` at most this fraction of the largest counts as zero (kernel dimension).
RANK_TOL = 1e-6
#: The bifurcation equation is degenerate when its discriminant is below this fraction of ``‖c‖²``.
DEGENERATE_TOL = 1e-8


class BranchSwitchError(ValueError):
    """The point is not a simple branch point (the message gives the kernel dimension, ``kernel_dim`` holds it)."""

    def __init__(self, message: str, kernel_dim: Optional[int] = None):
        super().__init__(message)
        self.kernel_dim = kernel_dim


@dataclass(frozen=True)
class BranchPointAnalysis:
    """The local structure of a branch point.

    Attributes
    ----------
    y : ndarray
        The point ``(x, λ)`` in the real space of :class:`~pathtrack.problem.RealSystem`.
    p : ndarray
        The point's unknowns in the problem's own dtype.
    lam : float
    kernel_dim : int
        Dimension of the kernel of the augmented Jacobian (2 at a simple branch point).
    kernel : ndarray, shape (m+1, kernel_dim)
        Orthonormal kernel basis ``φ_i``.
    singular_values : ndarray
        The smallest singular values of ``J``, relative to the largest (what ``kernel_dim`` is judged from).
    coefficients : ndarray, shape (3,)
        ``(c₁₁, c₁₂, c₂₂)`` of the bifurcation equation.
    tangents : list of ndarray
        Unit tangents (real space) of every branch through the point.
    kinds : list of str
        Per tangent: ``'parent'`` (the branch the point was located on), ``'pitchfork'`` (the
        branch turns in λ there: its tangent has no λ-component) or ``'transcritical'``.
    parent : int or None
        Index of the parent's tangent, when a parent tangent was given.
    """

    y: np.ndarray
    p: np.ndarray
    lam: float
    kernel_dim: int
    kernel: np.ndarray
    singular_values: np.ndarray
    coefficients: np.ndarray
    tangents: List[np.ndarray] = field(default_factory=list)
    kinds: List[str] = field(default_factory=list)
    parent: Optional[int] = None

    @property
    def new_tangents(self) -> List[np.ndarray]:
        """Tangents of the branches other than the parent."""
        return [t for i, t in enumerate(self.tangents) if i != self.parent]


def _dense_kernel(system: RealSystem, y: np.ndarray, eps: float):
    """``(kernel_dim, rel, phi, psi, scale)`` from the SVD of the dense augmented Jacobian."""
    J = system.jacobian(y)
    m = J.shape[0]
    u_mat, sv, vt = scipy.linalg.svd(J, full_matrices=True, check_finite=False)
    # J's scale nearby: at a branch point of a scalar equation J itself may vanish
    r = np.random.default_rng(0).standard_normal(y.shape[0])
    nearby = float(np.linalg.norm(system.jacobian(y + eps * r / np.linalg.norm(r)), 2))
    scale = max(float(sv[0]), nearby, 1e-300)
    rel = sv / scale
    kernel_dim = 1 + int(np.sum(rel <= RANK_TOL))
    phi = vt[-2:].T.copy()  # (m+1, 2): the near-null and the null right singular vectors
    return kernel_dim, rel, phi, u_mat[:, m - 1], scale


def _sparse_kernel(system: RealSystem, y: np.ndarray, eps: float, parent_tangent: Optional[np.ndarray]):
    """The same as :func:`_dense_kernel` for a sparse Jacobian: inverse iteration on sparse LUs.

    ``rel`` holds the smallest singular values of ``[J; bᵀ]`` (``b`` the parent's tangent), over
    a norm estimate of ``J``; a simple branch point has one of them below :data:`RANK_TOL`.
    """
    from .sparse import left_kernel, norm_estimate, sparse_kernel_basis

    J = system.jacobian(y)
    r = np.random.default_rng(0).standard_normal(y.shape[0])
    scale = max(norm_estimate(J), norm_estimate(system.jacobian(y + eps * r / np.linalg.norm(r))), 1e-300)
    b = None if parent_tangent is None else np.asarray(parent_tangent, dtype=float)
    kernel_dim, rel, phi = sparse_kernel_basis(J, b, scale, RANK_TOL)
    psi = left_kernel(J, phi[:, 0]) if phi is not None else None
    return kernel_dim, rel[::-1], phi, psi, scale  # rel descending, as the dense SVD's


def analyse_branch_point(problem: Problem, point, *, parent_tangent: Optional[np.ndarray] = None,
                         n: Optional[int] = None, refine: bool = True) -> BranchPointAnalysis:
    """Kernel and bifurcation equation at a located branch point; the tangents of every branch.

    Parameters
    ----------
    problem : Problem
    point : SpecialPoint or (p, lam)
        The located point (any kind: a point that is not a branch point raises).
    parent_tangent : ndarray, optional
        Tangent (real space) of the branch the point was located on; the root of the
        bifurcation equation closest to it is marked ``'parent'``.
    refine : bool
        First refine the point (:func:`refine_branch_point`).

    Raises
    ------
    BranchSwitchError
        Kernel dimension other than 2, or a degenerate bifurcation equation.
    """
    if isinstance(point, SpecialPoint):
        p, lam = np.asarray(point.p), float(point.lam)
    else:
        p, lam = np.asarray(point[0]), float(point[1])
    p = p.astype(np.result_type(problem.dtype, p.dtype))
    system = RealSystem(problem, p.shape[0] if n is None else n)
    y = system.to_y(p, lam)
    if not np.all(np.isfinite(y)):
        raise BranchSwitchError("not a branch point: the point is not finite")
    if refine:
        y = refine_branch_point(system, y)
        lam = float(y[-1])
    eps = 1e-3 * max(1.0, float(np.linalg.norm(y)))
    if system.is_sparse:
        kernel_dim, rel, phi, psi, scale = _sparse_kernel(system, y, eps, parent_tangent)
    else:
        kernel_dim, rel, phi, psi, scale = _dense_kernel(system, y, eps)
    where = f"at λ = {lam:.10g}"
    if kernel_dim == 1:
        raise BranchSwitchError(f"not a branch point {where}: the augmented Jacobian has full rank (kernel "
                                f"dimension 1, smallest relative singular value {rel[-1]:.3g}); a fold or a regular "
                                "point has one branch through it", kernel_dim)
    if kernel_dim > 2:
        raise BranchSwitchError(f"branch point {where} is not simple: kernel dimension {kernel_dim}; "
                                "only kernel dimension 2 is switched", kernel_dim)
    c11, c12 = (float(psi @ d) for d in _second_derivatives(system, y, phi[:, 0], (phi[:, 0], phi[:, 1]), eps))
    c22 = float(psi @ _second_derivative(system, y, phi[:, 1], phi[:, 1], eps))
    coeffs = np.array([c11, c12, c22])
    norm_c = float(np.linalg.norm(coeffs))
    disc = c12 * c12 - c11 * c22
    if norm_c <= 1e-8 * scale or disc <= DEGENERATE_TOL * norm_c ** 2:
        raise BranchSwitchError(f"degenerate branch point {where} (kernel dimension 2): the bifurcation equation "
                                f"has coefficients {c11:.3g}, {c12:.3g}, {c22:.3g} (discriminant {disc:.3g}), "
                                "so its branches are not determined at second order", kernel_dim)
    mu, vecs = np.linalg.eigh(np.array([[c11, c12], [c12, c22]]))  # mu[0] < 0 < mu[1]
    tangents = []
    for sign in (1.0, -1.0):
        w = np.sqrt(mu[1]) * vecs[:, 0] + sign * np.sqrt(-mu[0]) * vecs[:, 1]
        t = phi @ (w / np.linalg.norm(w))
        tangents.append(t / np.linalg.norm(t))
    parent = None
    if parent_tangent is not None:
        tp = np.asarray(parent_tangent, dtype=float)
        parent = int(np.argmax([abs(float(t @ tp)) for t in tangents]))
    kinds = []
    for i, t in enumerate(tangents):
        if i == parent:
            kinds.append("parent")
        elif parent is not None and abs(t[-1]) < 1e-6 < abs(tangents[parent][-1]):
            kinds.append("pitchfork")
        else:
            kinds.append("transcritical")
    return BranchPointAnalysis(y=y, p=system.p_of(y).copy(), lam=lam, kernel_dim=kernel_dim, kernel=phi,
                               singular_values=rel[-2:].copy(), coefficients=coeffs, tangents=tangents, kinds=kinds,
                               parent=parent)


def child_options(problem: Problem, options=None, lam_start: Optional[float] = None, **overrides) -> TrackerOptions:
    """Options for a branch leaving a branch point: pseudo-arclength with Newton, in the parent's λ-box.

    A minimising corrector cannot follow the saddles born at a Hessian-index change, and
    natural parameterisation stops at the first fold, so both are replaced. The box is the
    one of a path of ``options`` starting at ``lam_start`` (the parent's), and a branch ends
    only on its edges.
    """
    from .tracker import Tracker

    o = TrackerOptions.resolve(options, problem.default_options)
    changes: Dict[str, object] = {"parameterisation": "arclength", "direction": 0}
    if lam_start is not None:
        _, lo, hi = Tracker(problem, o).lam_box(float(lam_start))
        changes.update(lam_min=lo, lam_max=hi, lam_end=hi)
    if o.corrector not in ("auto", "newton", "newton-krylov"):
        changes["corrector"] = "auto"
    if o.predictor not in ("tangent", "secant", "rk4"):
        changes["predictor"] = "tangent"
    changes.update(overrides)
    return o.replace(**changes)


def branch_start(problem: Problem, y_star: np.ndarray, n: int, tangent: np.ndarray, h: float,
                 options: TrackerOptions) -> StartPoint:
    """A start point on the branch leaving ``y_star`` (real space, ``n`` unknowns) along ``tangent``, at ≈ ``h``.

    The predictor ``y* + h t`` is corrected in the hyperplane ``t·(y − y*) = h`` (a pitchfork
    branch has no point at λ* but the branch point itself, so a correction at fixed λ would
    fall back onto the parent).

    Raises
    ------
    BranchSwitchError
        When the correction does not converge.
    """
    system = RealSystem(problem, n)
    y_pred = np.asarray(y_star, dtype=float) + h * tangent
    res = NewtonCorrector(options).correct(system, y_pred, tangent, float(tangent @ y_pred),
                                           max_iters=4 * options.max_newton_iters)
    if res.code != CorrectorCode.converged:
        raise BranchSwitchError(f"cannot start the branch leaving λ = {y_star[-1]:.10g} at distance {h:.3g} "
                                f"({res.code.name}); try a smaller initial_ds")
    return StartPoint(system.p_of(res.y).copy(), float(res.y[-1]))


def parent_tangent_at(result, point: SpecialPoint) -> Optional[np.ndarray]:
    """The parent's stored tangent just before ``point`` (the row of the last step not after it)."""
    steps = np.asarray(result.p_steps)
    if steps.size == 0:
        return None
    rows = np.flatnonzero(steps <= max(point.step - 1, 0))
    row = int(rows[-1]) if rows.size else 0
    return np.asarray(result.tangent[row], dtype=float)


def switch_branch(problem: Problem, result, point: SpecialPoint, *, options=None,
                  directions: Sequence[int] = (1, -1), **track_kw) -> List:
    """Track every new branch through a branch point located on ``result``, in both directions.

    Parameters
    ----------
    problem : Problem
        The problem ``result`` was tracked for.
    result : PathResult or PathFile
        The path the point was located on (its tangent identifies the parent branch, its
        options and start the new branches' options and λ-box).
    point : SpecialPoint
        One of ``result.special_points``.
    options : TrackerOptions or mapping, optional
        For the new branches (see :func:`child_options`; default: those of ``result``).
    directions : sequence of {1, -1}
        Along ``+t``, ``-t`` or both, for each new tangent ``t``.
    **track_kw
        Passed to :func:`pathtrack.track` (observers, events, ``stop_at`` ...).

    Returns
    -------
    list of PathResult
        One per new tangent and direction, in that order.

    Raises
    ------
    BranchSwitchError
        The point is not a simple branch point (kernel dimension in the message).
    """
    from .driver import track

    analysis = analyse_branch_point(problem, point, parent_tangent=parent_tangent_at(result, point))
    lam_start = getattr(result, "lam_start", None)
    lam_start = float(result.lam[0]) if lam_start is None else lam_start
    opts = child_options(problem, result.options if options is None else options, lam_start)
    out = []
    for t in analysis.new_tangents:
        for sign in directions:
            start = branch_start(problem, analysis.y, analysis.p.shape[0], sign * t, 0.1 * opts.initial_ds, opts)
            out.append(track(problem, start.p, start.lam, options=opts, orient_like=sign * t, **track_kw))
    return out
