"""Events and special points: test functions, sign changes, location by root finding.

As in BifurcationKit, a special point is where a *test function* evaluated along the
path changes sign. The tracker evaluates every active test function at each accepted
point; on a sign change between two points it locates the zero with Brent's method
over the chord between them, correcting every trial point back onto the path.

Built-in test functions:

- ``fold``: the λ-component of the oriented tangent (changes sign at a limit point);
- ``bp``: the determinant of the bordered Jacobian ``[J; tangent^T]`` (changes sign at
  a simple branch point, not at a fold, because the tangent is oriented continuously);
- ``index_change`` (gradient homotopies ``H = ∇L``): the smallest Hessian eigenvalue,
  so a minimum that turns into a saddle is flagged; the per-step column
  ``hessian_index`` counts the negative eigenvalues (dense ``eigh`` for small ``n``,
  Lanczos on Hessian-vector products for large ``n``);
- ``hopf`` (problems declaring ``is_ode_rhs``: ``H = f`` of ``u' = f(u, λ)``): the
  largest real part among complex-conjugate eigenvalues of ``dH_dp``, which changes sign
  where a pair crosses the imaginary axis; the columns ``n_unstable`` and ``max_re_eig``
  give the stability at every step.

Users add their own with :class:`Event` (a scalar ``fn(p, lam)``), either passed to
``track(events=...)`` or returned by ``Problem.events()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np

__all__ = ["Event", "SpecialPoint", "FOLD", "BRANCH_POINT", "INDEX_CHANGE", "HOPF", "PointInfo",
           "dense_spectrum", "lanczos_spectrum", "hessian_spectrum", "negative_count"]

FOLD = "fold"
BRANCH_POINT = "bp"
INDEX_CHANGE = "index_change"
HOPF = "hopf"


@dataclass(frozen=True)
class Event:
    """A user-defined test function.

    Parameters
    ----------
    name : str
        Kind recorded for the special point.
    fn : callable ``fn(p, lam) -> float``
        The test function; an event is where it changes sign.
    terminal : bool
        Stop the path at the located point (status ``event_terminated``).
    direction : {-1, 0, 1}
        Only sign changes from negative to positive (1), positive to negative (-1), or both (0).
    """

    name: str
    fn: Callable[[np.ndarray, float], float]
    terminal: bool = False
    direction: int = 0

    def crosses(self, a: float, b: float) -> bool:
        if not (np.isfinite(a) and np.isfinite(b)) or a == 0.0 or np.sign(a) == np.sign(b):
            return False
        return self.direction == 0 or np.sign(b - a) == self.direction


@dataclass
class PointInfo:
    """What the tracker knows at one point, from which test functions are evaluated."""

    y: np.ndarray
    tangent: Optional[np.ndarray]
    p: np.ndarray
    lam: float
    J: Optional[np.ndarray] = None  # augmented real Jacobian, when dense
    det_sign: float = np.nan
    log_abs_det: float = np.nan
    spectral: Dict[str, float] = field(default_factory=dict)  # per-step stability columns
    tests: Dict[str, float] = field(default_factory=dict)  # spectral test-function values


@dataclass
class SpecialPoint:
    """A located event.

    Attributes
    ----------
    kind : str
        ``'fold'``, ``'bp'`` or a user event's name.
    lam, s : float
        λ and arclength at the located point.
    step : int
        Index of the accepted step that ended the bracketing interval.
    p : ndarray
        The located point.
    value_a, value_b : float
        The test function at the ends of the bracket.
    tol : float
        Chord-fraction tolerance reached by the root finder.
    """

    kind: str
    lam: float
    s: float
    step: int
    p: np.ndarray
    value_a: float = np.nan
    value_b: float = np.nan
    tol: float = np.nan
    extra: Dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lam": float(self.lam), "s": float(self.s), "step": int(self.step),
                "value_a": float(self.value_a), "value_b": float(self.value_b), **self.extra}


def fold_value(info: PointInfo) -> float:
    return float(info.tangent[-1]) if info.tangent is not None else np.nan


def bp_value(info: PointInfo, ref_log_abs_det: float = 0.0) -> float:
    """det([J; t^T]) rescaled by ``exp(-ref)`` so it stays finite for large systems."""
    if not np.isfinite(info.det_sign):
        return np.nan
    return float(info.det_sign * np.exp(np.clip(info.log_abs_det - ref_log_abs_det, -700.0, 700.0)))


def negative_count(eigs: np.ndarray, rel_tol: float = 1e-10) -> int:
    """Number of eigenvalues below ``−rel_tol·max(1, max|λ|)``: the Hessian index.

    The tolerance keeps rounding-level zeros out of the count; the default is the tracker's.
    """
    tol = rel_tol * max(1.0, float(np.nanmax(np.abs(eigs))))
    return int(np.sum(eigs < -tol))


def hessian_spectrum(h: np.ndarray):
    """Eigenvalues and index of a Hessian: the one dense Hessian-index computation.

    ``h`` is symmetrised first (rounding makes computed Hessians slightly asymmetric).

    Returns
    -------
    eigs : ndarray
        Eigenvalues in ascending order.
    index : int
        Number of eigenvalues below ``−1e-10·max(1, max|λ|)``.
    """
    h = np.asarray(h)
    eigs = np.linalg.eigvalsh(0.5 * (h + h.T))
    return eigs, negative_count(eigs)


def dense_spectrum(info: PointInfo, Jx: np.ndarray, is_gradient: bool) -> None:
    """Fill ``info`` with the Hessian index (gradient problems) or stability (ODE problems)."""
    if is_gradient:
        eigs, index = hessian_spectrum(Jx)
        info.spectral["hessian_index"] = float(index)
        info.spectral["hessian_min_eig"] = float(eigs[0])
        info.tests[INDEX_CHANGE] = float(eigs[0])
        return
    eigs = np.linalg.eigvals(Jx)
    _stability(info, eigs)


def _stability(info: PointInfo, eigs: np.ndarray) -> None:
    scale = max(1.0, float(np.abs(eigs).max())) if eigs.size else 1.0
    info.spectral["n_unstable"] = float(np.sum(eigs.real > 1e-10 * scale))
    info.spectral["max_re_eig"] = float(eigs.real.max()) if eigs.size else np.nan
    pairs = eigs[np.abs(eigs.imag) > 1e-8 * scale]
    info.tests[HOPF] = float(pairs.real.max()) if pairs.size else np.nan


def lanczos_spectrum(info: PointInfo, hvp, m: int, k: int = 6) -> None:
    """Smallest Hessian eigenvalues by Lanczos (``eigsh``) on Hessian-vector products.

    The index counts negative eigenvalues among the ``k`` smallest, so it is exact up to ``k``.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    op = LinearOperator((m, m), matvec=lambda v: hvp(np.asarray(v).ravel()), dtype=np.float64)
    k = max(1, min(k, m - 1))
    try:
        eigs = np.sort(eigsh(op, k=k, which="SA", tol=1e-8, return_eigenvectors=False))
    except ArpackNoConvergence as exc:
        eigs = np.sort(exc.eigenvalues) if len(exc.eigenvalues) else np.array([np.nan])
    info.spectral["hessian_index"] = float(negative_count(eigs))
    info.spectral["hessian_min_eig"] = float(eigs[0])
    info.tests[INDEX_CHANGE] = float(eigs[0])
