"""Events and special points: test functions, sign changes, location by root finding.

As in BifurcationKit, a special point is where a *test function* evaluated along the
path changes sign. The tracker evaluates every active test function at each accepted
point and hands the two points and their values to :class:`EventLocator`, which finds
the sign changes and locates each zero with Brent's method over the chord between the
points, correcting every trial point back onto the path through the tracker's callables.

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

Periodic orbits (:mod:`pathtrack.periodic`) have their own, from the tangent and the Floquet
multipliers ``μ`` without the trivial one (:func:`floquet_tests`):

- ``lpc``: the λ-component of the tangent (a fold of cycles);
- ``pd``: ``∏ (μ + 1)``, which changes sign where a real multiplier crosses −1 (period doubling);
- ``ns``: ``∏_{i<j} (μ_i μ_j − 1)``, which changes sign where a complex pair crosses the unit
  circle (Neimark–Sacker; also where a real pair with product 1 appears, a neutral saddle).

Users add their own with :class:`Event` (a scalar ``fn(p, lam)``), either passed to
``track(events=...)`` or returned by ``Problem.events()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .linalg import SingularJacobianError
from .problem import NonFiniteError

__all__ = ["Event", "SpecialPoint", "FOLD", "BRANCH_POINT", "INDEX_CHANGE", "HOPF", "LPC", "PD", "NS",
           "PointInfo", "floquet_tests", "n_outside", "nontrivial_multipliers",
           "EventLocator", "dense_spectrum", "lanczos_spectrum", "hessian_spectrum", "negative_count"]

FOLD = "fold"
BRANCH_POINT = "bp"
INDEX_CHANGE = "index_change"
HOPF = "hopf"
LPC = "lpc"
PD = "pd"
NS = "ns"


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
        a, b = float(a), float(b)  # math on floats: NumPy's per-call cost is most of a step's test here
        if not (math.isfinite(a) and math.isfinite(b)) or a == 0.0 or _sign(a) == _sign(b):
            return False
        return self.direction == 0 or _sign(b - a) == self.direction


def _sign(x: float) -> int:
    """``np.sign`` of a finite float, as an int."""
    return (x > 0.0) - (x < 0.0)


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


#: Chord-fraction tolerance of the event location.
LOCATE_XTOL = 1e-13

#: ``correct(guess, b) -> (y, tangent)`` or None: the point on the path in the hyperplane
#: ``b·y = b·guess`` and its tangent (the caller's own object, e.g. a TangentInfo, handed to
#: ``test_value`` untouched; None where the tangent is undefined, as exactly at a branch point).
#: None when the correction fails; raises ``SingularJacobianError`` where the correction itself
#: is singular, ``NonFiniteError`` on overflow.
CorrectFn = Callable[[np.ndarray, np.ndarray], Optional[Tuple[np.ndarray, Any]]]
#: ``test_value(name, y, tangent) -> float``: test function ``name`` at a corrected point.
TestValueFn = Callable[[str, np.ndarray, Any], float]


class EventLocator:
    """Sign changes of test functions between two accepted points, located on the path.

    Parameters
    ----------
    events : sequence of Event
        User events (their ``direction`` and ``terminal``); every other test function
        counts a sign change in either direction and is not terminal.
    p_of : callable ``p_of(y) -> p``
        The problem's unknowns from the real point ``y = (x, lam)``.
    xtol : float
        Chord-fraction tolerance of Brent's method.
    """

    def __init__(self, events: Sequence[Event], p_of: Callable[[np.ndarray], np.ndarray],
                 xtol: float = LOCATE_XTOL):
        self.events = {e.name: e for e in reversed(list(events))}  # the first event of a name wins
        self.p_of, self.xtol = p_of, xtol

    def locate_all(self, y_a: np.ndarray, y_b: np.ndarray, values_a: Dict[str, float],
                   values_b: Dict[str, float], correct: CorrectFn, test_value: TestValueFn, s_b: float,
                   step: int) -> List[Tuple[SpecialPoint, bool]]:
        """Every test function whose sign changes from ``values_a`` to ``values_b``, located.

        Parameters
        ----------
        y_a, y_b : ndarray
            The two accepted points ``(x, lam)``.
        values_a, values_b : dict
            Test-function values at them, by name.
        correct : CorrectFn
            Brings a trial point on the chord back onto the path.
        test_value : TestValueFn
        s_b : float
            Arclength at ``y_b``.
        step : int
            The index recorded in each point.

        Returns
        -------
        list of (SpecialPoint, bool)
            The located points with whether each is terminal, in the order of
            ``values_b``; a sign change whose location fails is skipped.
        """
        found = []
        for name, vb in values_b.items():
            va = values_a.get(name, np.nan)
            user = self.events.get(name)
            if not (user or _any_sign_change(name)).crosses(va, vb):
                continue
            point = self.locate(name, y_a, y_b, va, vb, correct, test_value, s_b, step)
            if point is not None:
                found.append((point, bool(user is not None and user.terminal)))
        return found

    def locate(self, name: str, y_a: np.ndarray, y_b: np.ndarray, va: float, vb: float, correct: CorrectFn,
               test_value: TestValueFn, s_b: float, step: int) -> Optional[SpecialPoint]:
        """Brent's method on the chord fraction θ; every trial point is corrected onto the path."""
        d = y_b - y_a
        chord = float(np.linalg.norm(d))
        b = d / chord
        cache = {}
        off_path = set()  # trial fractions whose correction failed: their cache entry is the chord point

        def point(theta):
            guess = y_a + theta * d
            out = correct(guess, b)
            if out is None:
                raise _LocateFailed
            cache[theta] = out
            return out

        def g(theta):
            if theta == 0.0:
                return va
            if theta == 1.0:
                return vb
            try:
                y, t = point(theta)
            except (_LocateFailed, SingularJacobianError):
                # the bordered system is singular exactly at a branch point: that is the zero
                cache[theta] = (y_a + theta * d, None)
                off_path.add(theta)
                return 0.0
            if t is None:  # corrected onto the path, where the tangent is undefined: a branch point
                return 0.0
            return float(test_value(name, y, t))

        try:
            theta = brentq(g, 0.0, 1.0, xtol=self.xtol, rtol=4 * np.finfo(float).eps, maxiter=100)
            if theta in off_path:
                # Newton fails next to a branch point (two branches in the hyperplane): report the
                # nearest trial that reached the path, not a chord point off it
                on_path = [t for t in cache if t not in off_path and abs(t - theta) <= 1e-6]
                if on_path:
                    theta = min(on_path, key=lambda t: abs(t - theta))
            y, _ = cache[theta] if theta in cache else point(theta)
        except (_LocateFailed, ValueError, SingularJacobianError, NonFiniteError):
            return None
        return SpecialPoint(kind=name, lam=float(y[-1]), s=s_b - chord * (1 - theta), step=step,
                            p=self.p_of(y).copy(), value_a=va, value_b=vb, tol=self.xtol)


_ANY: Dict[str, Event] = {}


def _any_sign_change(name: str) -> Event:
    """The non-terminal event of ``name`` counting a sign change either way (made once per name, not per step)."""
    e = _ANY.get(name)
    if e is None:
        e = _ANY[name] = Event(name, None)
    return e


class _LocateFailed(Exception):
    pass


def brentq(f: Callable[[float], float], a: float, b: float, xtol: float, rtol: float, maxiter: int) -> float:
    """A zero of ``f`` in ``[a, b]`` by Brent's method: the iteration of ``scipy.optimize.brentq``.

    The same iterates as scipy's C implementation (Charles Harris's ``brentq.c``), so located
    points are the same to the last bit; defined here because importing ``scipy.optimize``
    costs more than a whole ``pathtrack run`` of a small problem. Raises ``ValueError`` when
    ``f(a)`` and ``f(b)`` have the same sign or ``f`` returns NaN, and ``RuntimeError`` after
    ``maxiter`` iterations without convergence, as scipy's does.
    """
    def value(x):
        fx = f(x)
        if np.isnan(fx):
            raise ValueError(f"the function value at x={x} is NaN; solver cannot continue")
        return fx

    xpre, xcur = a, b
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = value(xpre), value(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if _negative(fpre) == _negative(fcur):  # signs, not the product, which can underflow to 0
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and _negative(fpre) != _negative(fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                num, den = -fcur * (xcur - xpre), fcur - fpre
            else:  # extrapolate (inverse quadratic)
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                num, den = -fcur * (fblk * dblk - fpre * dpre), dblk * dpre * (fblk - fpre)
            stry = num / den if den != 0 else math.inf  # C's x/0 is inf or NaN: either way, bisect
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = value(xcur)
    raise RuntimeError(f"failed to converge after {maxiter} iterations, value is {xcur}")


def _negative(x: float) -> bool:
    """The sign bit of ``x`` (C's ``signbit``)."""
    return math.copysign(1.0, x) < 0


def fold_value(info: PointInfo) -> float:
    return float(info.tangent[-1]) if info.tangent is not None else np.nan


def bp_value(info: PointInfo, ref_log_abs_det: float = 0.0) -> float:
    """det([J; t^T]) rescaled by ``exp(-ref)`` so it stays finite for large systems."""
    if not math.isfinite(info.det_sign):
        return np.nan
    # min/max, not np.clip: the same value (NaN stays NaN) without a NumPy call on a scalar
    return float(info.det_sign * np.exp(min(max(info.log_abs_det - ref_log_abs_det, -700.0), 700.0)))


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



def nontrivial_multipliers(multipliers: np.ndarray) -> np.ndarray:
    """The Floquet multipliers of a periodic orbit without the trivial one (the one closest to 1)."""
    return np.array(_nontrivial_list(multipliers), dtype=complex)


def _nontrivial_list(multipliers) -> list:
    """:func:`nontrivial_multipliers` as a list of Python complex numbers: NumPy's per-call cost dominates
    at these sizes (``abs`` of a complex is ``hypot`` in both, and both take the first of equal distances)."""
    mu = np.asarray(multipliers, dtype=complex).tolist()
    if not mu:
        return mu
    k = min(range(len(mu)), key=lambda i: abs(mu[i] - 1.0))
    del mu[k]
    return mu


def n_outside(multipliers, tol: float = 1e-6) -> int:
    """How many non-trivial multipliers lie outside the unit circle (``|μ| > 1 + tol``)."""
    return sum(abs(m) > 1.0 + tol for m in _nontrivial_list(multipliers))


def floquet_tests(multipliers: np.ndarray) -> Dict[str, float]:
    """``{pd, ns}`` test-function values from all Floquet multipliers (the trivial one is dropped).

    ``ns`` is NaN with fewer than two non-trivial multipliers (planar systems have no torus bifurcation).
    """
    mu = _nontrivial_list(multipliers)
    pd = ns = None
    for i, a in enumerate(mu):
        pd = a + 1.0 if pd is None else pd * (a + 1.0)
        for b in mu[i + 1:]:
            ns = a * b - 1.0 if ns is None else ns * (a * b - 1.0)
    return {PD: np.nan if pd is None else float(pd.real), NS: np.nan if ns is None else float(ns.real)}
