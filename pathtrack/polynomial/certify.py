"""Rigorous certification of regular solutions: the interval Krawczyk test in ball arithmetic.

For a square system ``F`` with Jacobian ``J``, a point ``c``, an invertible matrix ``Y``
(here a floating-point inverse of ``J(c)``) and a box ``X = c + [-r, r]^n + i[-r, r]^n``,
the Krawczyk operator

.. math:: K(X) = c - Y F(c) + (I - Y J(X)) (X - c)

evaluated in interval arithmetic encloses the image of ``X`` under the Newton-like map
``x - Y F(x)``. If ``K(X)`` lies in the interior of ``X``, then ``X`` holds exactly one
root of ``F`` and ``J`` is invertible on ``X`` (Krawczyk 1969; Rump, *Verification methods*,
Acta Numerica 2010). The proof carries over to complex boxes because ``F`` is holomorphic, so
``F(x) - F(c)`` is ``(x - c)`` times an integral of ``J`` along the segment, which lies in the
box ``J(X)``; HomotopyContinuation.jl's ``certify`` runs the same test (Breiding, Rose and
Timme, *Certifying zeros of polynomial systems using interval arithmetic*, 2023).

Every quantity is computed with Arb's ball arithmetic (python-flint's ``acb`` and
``acb_mat``), whose results provably contain the exact ones, so a passed test is a proof.
The coefficients are those of :class:`~pathtrack.polynomial.system.PolynomialSystem`: double
precision numbers converted exactly (a decimal coefficient such as ``0.1`` means the double
the parser rounded it to, unless ``coefficient_radius`` widens each coefficient to a ball).

The certified roots are then compared: boxes that do not overlap hold distinct roots, and
two overlapping boxes hold the same root when one's Krawczyk image lies inside the other
(the root is in the image, and each box holds one root). For real coefficients a root is
real when the conjugate of its image lies in its box (the conjugate of a root is a root,
and the box holds only one); a root is not real when some coordinate's image excludes the
real axis.

python-flint is an optional dependency (``pip install 'pathtrack[certify]'``); it is
imported when a certification runs.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..results import Result
from ..status import Status
from .system import PolynomialSystem

__all__ = ["certify", "CertifyResult", "CertifyUnavailable", "require_flint", "REAL", "NOT_REAL", "UNDECIDED"]

#: Values of :attr:`CertifyResult.real`: the root is proved real, proved not real, or neither.
REAL, NOT_REAL, UNDECIDED = 1, 0, -1

#: Newton steps (residuals in ball arithmetic, step in double) taken on each point before the test.
N_NEWTON = 3
#: Radii tried grow by this factor from the smallest box that can hold the Newton step.
RADIUS_GROWTH = 16.0
#: A failed test after Newton steps that shrank by more than this ratio each is called singular.
LINEAR_RATIO = 0.125


class CertifyUnavailable(ImportError):
    """python-flint, which certification needs, is not installed."""


def require_flint():
    """python-flint's module; :class:`CertifyUnavailable` names the extra to install when it is missing."""
    try:
        import flint
    except ImportError:
        raise CertifyUnavailable("certification needs python-flint; install the extra: "
                                 "pip install 'pathtrack[certify]'") from None
    return flint


@dataclass(frozen=True, kw_only=True)
class CertifyResult(Result):
    """Certificates of the solutions handed to :func:`certify` (a :class:`~pathtrack.results.Result`).

    ``status`` is ``success`` when every solution was certified, else the most frequent reason
    why one was not, and ``message`` counts them.

    Attributes
    ----------
    system : PolynomialSystem
        The system the certificates are about (its double coefficients, widened by
        ``coefficient_radius`` when that is positive).
    centers : ndarray, shape (n_solutions, n)
        The centre of each box: the solution after up to :data:`N_NEWTON` Newton steps.
    radii : ndarray, shape (n_solutions,)
        The box is ``{x : |Re(x_j - c_j)| <= r, |Im(x_j - c_j)| <= r}``; 0 where not certified.
    solution_status : ndarray of int
        A :class:`~pathtrack.Status` value per solution: ``success`` (certified),
        ``singular_jacobian`` (``J`` at the point is singular to LU, or the test failed after
        Newton steps that shrank only linearly, as next to a multiple root), ``box_too_large``
        (the root, if any, is farther than ``max_radius`` from the point), ``newton_failed``
        (the Krawczyk image did not fall inside any box tried) or ``nonfinite`` (the point is
        not finite, or ``J`` overflows in double there).
    real : ndarray of int
        :data:`REAL`, :data:`NOT_REAL` or :data:`UNDECIDED` per solution (UNDECIDED where not
        certified).
    root : ndarray of int
        Label of the distinct certified root in each box (-1 where not certified): equal
        labels for boxes whose overlap was proved to hold one root, or could not be told
        apart (see ``n_unproven_overlaps``).
    coefficient_radius : float
        Relative radius of the coefficient balls (0: the double coefficients exactly).
    prec : int
        Working precision of the ball arithmetic, in bits.
    counters : dict
        ``n_solutions``, ``n_certified``, ``n_certified_distinct``, ``n_certified_real`` and
        ``n_unproven_overlaps`` (pairs of overlapping boxes not proved to hold one root; their
        roots count as one, so ``n_certified_distinct`` stays a proved lower bound).
    """

    system: Any
    centers: np.ndarray
    radii: np.ndarray
    solution_status: np.ndarray
    real: np.ndarray
    root: np.ndarray
    coefficient_radius: float = 0.0
    prec: int = 128

    n_solutions = property(lambda self: int(self.radii.shape[0]))
    n_certified = property(lambda self: int(np.sum(self.solution_status == int(Status.success))))
    n_certified_distinct = property(lambda self: _n_labels(self.root))
    n_certified_real = property(lambda self: _n_labels(self.root[self.real == REAL]))
    n_unproven_overlaps = property(lambda self: int(self.counters.get("n_unproven_overlaps", 0)))

    def reasons(self) -> Dict[str, int]:
        """Count of solutions by :class:`~pathtrack.Status` name (``success``: certified)."""
        codes, counts = np.unique(self.solution_status, return_counts=True)
        return {Status(int(c)).name: int(k) for c, k in zip(codes, counts)}

    def summary(self) -> Dict[str, Any]:
        """Counts as a JSON-ready dict (what ``--json`` and ``pathtrack inspect`` show)."""
        return {"n_certified": self.n_certified, "n_certified_distinct": self.n_certified_distinct,
                "n_certified_real": self.n_certified_real, "n_unproven_overlaps": self.n_unproven_overlaps,
                "certify_reasons": self.reasons(), "max_certified_radius":
                    float(self.radii.max()) if self.n_certified else None,
                "coefficient_radius": self.coefficient_radius, "certify_time": self.total_time}

    def per_solution(self) -> List[Dict[str, Any]]:
        """One JSON-ready certificate per solution: ``radius``, ``status`` name, ``real`` and ``root``."""
        return [{"radius": float(r), "status": Status(int(s)).name, "real": int(re), "root": int(k)}
                for r, s, re, k in zip(self.radii, self.solution_status, self.real, self.root)]

    def datasets(self) -> Dict[str, np.ndarray]:
        """The per-solution arrays as a solve file stores them (``certificate/...``)."""
        return {"certificate/center": self.centers, "certificate/radius": self.radii,
                "certificate/status": self.solution_status, "certificate/real": self.real,
                "certificate/root": self.root}

    def __repr__(self) -> str:
        return (f"CertifyResult({self.n_certified} of {self.n_solutions} certified, "
                f"{self.n_certified_distinct} distinct, {self.n_certified_real} real; "
                f"{self.total_time:.3g} s)")


class _BallSystem:
    """``F`` and ``J`` of a :class:`PolynomialSystem` in Arb ball arithmetic over boxes."""

    def __init__(self, system: PolynomialSystem, flint, coefficient_radius: float) -> None:
        acb, arb = flint.acb, flint.arb
        self.flint, self.n = flint, system.n_variables

        def ball(x: float) -> Any:  # the radius nudged up past the rounding of the product
            return arb(x, abs(x) * coefficient_radius * (1 + 2.0 ** -50)) if coefficient_radius else arb(x)

        self.max_exp = [0] * self.n
        self.equations: List[List[Tuple[Any, Tuple[Tuple[int, int], ...]]]] = []
        for e, c in zip(system.exponents, system.coefficients):
            terms = []
            for row, cc in zip(e, c):
                powers = tuple((int(j), int(row[j])) for j in np.nonzero(row)[0])
                for j, k in powers:
                    self.max_exp[j] = max(self.max_exp[j], k)
                terms.append((acb(ball(float(cc.real)), ball(float(cc.imag))), powers))
            self.equations.append(terms)
        self.is_real = all(not np.any(c.imag) for c in system.coefficients)

    def _powers(self, X: Sequence[Any]) -> List[List[Any]]:
        one = self.flint.acb(1)
        table = []
        for x, m in zip(X, self.max_exp):
            row = [one]
            for _ in range(m):
                row.append(row[-1] * x)
            table.append(row)
        return table

    def values(self, X: Sequence[Any]):
        """``F(X)`` as an ``n × 1`` ``acb_mat``."""
        pw = self._powers(X)
        out = []
        for terms in self.equations:
            total = self.flint.acb(0)
            for coef, powers in terms:
                t = coef
                for j, k in powers:
                    t = t * pw[j][k]
                total += t
            out.append([total])
        return self.flint.acb_mat(out)

    def jacobian(self, X: Sequence[Any]):
        """``J(X)`` as an ``acb_mat``: an enclosure of the Jacobian at every point of the box."""
        pw = self._powers(X)
        acb = self.flint.acb
        rows = []
        for terms in self.equations:
            row = [acb(0)] * self.n
            for coef, powers in terms:
                for a, (j, k) in enumerate(powers):
                    d = coef * k * pw[j][k - 1] if k > 1 else coef
                    for b, (u, m) in enumerate(powers):
                        if b != a:
                            d = d * pw[u][m]
                    row[j] = row[j] + d
            rows.append(row)
        return self.flint.acb_mat(rows)


def _exact(flint, c: np.ndarray) -> List[Any]:
    return [flint.acb(float(z.real), float(z.imag)) for z in c]


def _upper(x) -> float:
    """About the largest ``|x|`` in an ``acb`` ball, as a float (sizes steps and radii; no proof uses it)."""
    return float(x.abs_upper())


def _pow2_ceil(x: float) -> float:
    """A power of two in ``[x, 2x]`` (radii are powers of two, so Arb stores them exactly)."""
    return math.ldexp(1.0, math.frexp(x)[1]) if x > 0 else 0.0


def _inverse(jac: np.ndarray) -> Optional[np.ndarray]:
    """A floating-point inverse of ``jac``, or None when LU finds it singular.

    No condition-number threshold: a Jacobian that is merely badly scaled (equations and
    unknowns of very different sizes) still has a useful inverse, and the Krawczyk test
    itself decides whether it is good enough.
    """
    with np.errstate(all="ignore"):
        try:
            Y = np.linalg.inv(jac)
        except np.linalg.LinAlgError:
            return None
    return Y if np.all(np.isfinite(Y)) else None


class _Certificate:
    """One solution's outcome: status, centre, radius and the Krawczyk image (a list of acb)."""

    def __init__(self, status: Status, center: np.ndarray, radius: float = 0.0, image=None) -> None:
        self.status, self.center, self.radius, self.image = status, center, radius, image


def _certify_one(ball: _BallSystem, packed, x: np.ndarray, max_radius: float, prec: int) -> _Certificate:
    """Refine ``x`` by Newton (ball residuals) and run the Krawczyk test on growing boxes around it."""
    from .kernels import eval_system_alloc

    flint, n = ball.flint, ball.n
    if not np.all(np.isfinite(x)):
        return _Certificate(Status.nonfinite, x)
    limit = max_radius * (1.0 + np.max(np.abs(x)))
    c, steps = x.copy(), []
    for _ in range(N_NEWTON + 1):
        with np.errstate(all="ignore"):
            jac = eval_system_alloc(c, *packed.arrays(), packed.max_exp)[1]
        if not np.all(np.isfinite(jac)):  # overflow in double: too large a point to refine
            return _Certificate(Status.nonfinite, c)
        Y = _inverse(jac)
        if Y is None:
            return _Certificate(Status.singular_jacobian, c)
        Yb = flint.acb_mat(Y.tolist())
        Fc = ball.values(_exact(flint, c))
        step = Yb * Fc  # the last one, at the final centre, is the image of the centre below
        steps.append(max(_upper(step[i, 0]) for i in range(n)))
        if not math.isfinite(steps[-1]):
            return _Certificate(Status.nonfinite, c)
        if np.max(np.abs(c - x)) + steps[-1] > limit:
            return _Certificate(Status.box_too_large, c)
        nxt = c - np.array([complex(step[i, 0].mid()) for i in range(n)])
        if len(steps) > N_NEWTON or np.array_equal(nxt, c):
            break
        c = nxt
    head = flint.acb_mat([[z] for z in _exact(flint, c)]) - step  # K(X) = head + (I - Y J(X)) (X - c)
    eye = flint.acb_mat([[int(i == j) for j in range(n)] for i in range(n)])
    r = _pow2_ceil(max(2.0 * steps[-1], 2.0 ** -(prec - 8) * (1.0 + np.max(np.abs(c)))))
    if r > limit:  # no box allowed can hold the Newton step
        return _Certificate(Status.box_too_large, c)
    while r <= limit:
        X = _box(flint, c, r)
        M = eye - Yb * ball.jacobian(X)
        K = head + M * flint.acb_mat([[flint.acb(flint.arb(0, r), flint.arb(0, r))] for _ in range(n)])
        image = [K[i, 0] for i in range(n)]
        if all(X[i].contains_interior(image[i]) for i in range(n)):
            return _Certificate(Status.success, c, r, image)
        r *= RADIUS_GROWTH
    # Newton steps towards a regular root shrink quadratically; towards a multiple root only
    # linearly (by 1/2 at a double root), and there no box is mapped into itself.
    ratios = [b / a for a, b in zip(steps[:-1], steps[1:]) if a > 0]
    linear = bool(ratios) and LINEAR_RATIO < ratios[-1] < 1.0
    return _Certificate(Status.singular_jacobian if linear else Status.newton_failed, c)


def _box(flint, center: np.ndarray, r: float) -> List[Any]:
    return [flint.acb(flint.arb(float(z.real), r), flint.arb(float(z.imag), r)) for z in center]


def _realness(ball: _BallSystem, cert: _Certificate) -> int:
    """REAL when the conjugate image lies in the box (real coefficients), NOT_REAL when some
    coordinate's image misses the real axis, else UNDECIDED."""
    if any(not z.imag.contains(0) for z in cert.image):
        return NOT_REAL
    if ball.is_real:
        box = _box(ball.flint, cert.center, cert.radius)
        if all(b.contains(z.conjugate()) for b, z in zip(box, cert.image)):
            return REAL
    return UNDECIDED


def _distinct(flint, certs: List[_Certificate], idx: np.ndarray) -> Tuple[np.ndarray, int]:
    """Labels of the distinct roots in the certified boxes ``idx`` and the number of overlapping
    pairs not proved to hold one root (they are merged, so the count of labels is a lower bound)."""
    from scipy.spatial import cKDTree

    k = len(idx)
    labels = np.arange(k)
    if k < 2:
        return labels, 0
    pts = np.array([certs[i].center for i in idx])
    rad = np.array([certs[i].radius for i in idx])
    tree = cKDTree(np.hstack([pts.real, pts.imag]))
    pairs = tree.query_pairs(2.0 * rad.max(), p=np.inf, output_type="ndarray")

    def find(i: int) -> int:
        while labels[i] != i:
            labels[i] = labels[labels[i]]
            i = labels[i]
        return i

    unproven = 0
    for a, b in pairs:
        ca, cb = certs[idx[a]], certs[idx[b]]
        gap = np.maximum(np.abs(ca.center.real - cb.center.real), np.abs(ca.center.imag - cb.center.imag))
        if np.any(gap > ca.radius + cb.radius):
            continue  # disjoint boxes: distinct roots
        same = (all(x.contains(z) for x, z in zip(_box(flint, cb.center, cb.radius), ca.image))
                or all(x.contains(z) for x, z in zip(_box(flint, ca.center, ca.radius), cb.image)))
        unproven += not same
        labels[find(a)] = find(b)
    for i in range(k):
        labels[i] = find(i)
    return np.unique(labels, return_inverse=True)[1].reshape(-1), unproven


def certify(system: Any, solutions: Any, max_radius: float = 1e-6, prec: int = 128,
            coefficient_radius: float = 0.0, variables: Optional[Sequence[str]] = None) -> CertifyResult:
    """Prove that each of ``solutions`` lies next to a unique regular root of ``system``.

    Parameters
    ----------
    system : PolynomialSystem, str, path or list
        A square system, in any form :func:`~pathtrack.polynomial.solve` accepts.
    solutions : array_like, shape (n_solutions, n)
        Approximate solutions (complex), for example ``solve(system).solutions``.
    max_radius : float
        Largest box radius tried, relative to ``1 + max|x_j|``: a root farther from the point
        than that is not certified (``box_too_large``).
    prec : int
        Working precision of the ball arithmetic in bits (at least 53).
    coefficient_radius : float
        With a positive value each coefficient ``a`` becomes the ball ``a ± |a|·coefficient_radius``
        (real and imaginary parts separately), and a certificate holds for every system with
        coefficients in the balls: ``2**-53`` covers a system whose decimal coefficients were each
        rounded once to double.

    Returns
    -------
    CertifyResult

    Raises
    ------
    CertifyUnavailable
        When python-flint is not installed (an ``ImportError`` naming the extra to install).
    ValueError
        For a system that is not square, solutions of the wrong shape, or bad settings.
    """
    from .solver import as_system

    t0 = time.perf_counter()
    flint = require_flint()
    sys_ = as_system(system, variables)
    n = sys_.n_variables
    if sys_.n_equations != n:
        raise ValueError(f"certify needs a square system: {sys_.n_equations} equations in {n} unknowns")
    try:
        X = np.asarray(solutions, dtype=np.complex128)
    except (TypeError, ValueError):
        raise ValueError(f"solutions must be complex numbers of shape (n_solutions, {n})") from None
    if X.ndim == 1 and X.size == n:
        X = X.reshape(1, n)
    if X.ndim != 2 or (X.shape[1] != n and X.size):
        raise ValueError(f"solutions must have shape (n_solutions, {n}), got {np.shape(solutions)}")
    X = X.reshape(-1, n)
    if not (isinstance(prec, (int, np.integer)) and prec >= 53):
        raise ValueError(f"prec must be an integer of at least 53 bits, got {prec!r}")
    for name, value in (("max_radius", max_radius), ("coefficient_radius", coefficient_radius)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    if not max_radius > 0:
        raise ValueError(f"max_radius must be positive, got {max_radius!r}")

    packed = sys_.packed()
    with _precision(flint, int(prec)):
        ball = _BallSystem(sys_, flint, float(coefficient_radius))
        certs = [_certify_one(ball, packed, x, float(max_radius), int(prec)) for x in X]
        ok = np.array([c.status is Status.success for c in certs], dtype=bool)
        real = np.array([_realness(ball, c) if c.status is Status.success else UNDECIDED for c in certs],
                        dtype=np.int64)
        idx = np.nonzero(ok)[0]
        labels, unproven = _distinct(flint, certs, idx)
    root = np.full(len(certs), -1, dtype=np.int64)
    root[idx] = labels
    codes = np.array([int(c.status) for c in certs], dtype=np.int64)
    counters = {"n_solutions": len(codes), "n_certified": int(ok.sum()),
                "n_certified_distinct": _n_labels(root), "n_certified_real": _n_labels(root[real == REAL]),
                "n_unproven_overlaps": int(unproven)}
    return CertifyResult(
        system=sys_, centers=np.array([c.center for c in certs], dtype=np.complex128).reshape(-1, n),
        radii=np.array([c.radius for c in certs], dtype=float), solution_status=codes, real=real, root=root,
        coefficient_radius=float(coefficient_radius), prec=int(prec), counters=counters,
        total_time=time.perf_counter() - t0, **_overall_status(codes))


@contextlib.contextmanager
def _precision(flint, prec: int):
    """Arb's working precision set to ``prec`` bits, then restored (python-flint's context is
    process-wide, and python-flint 0.6 has no ``ctx.workprec``)."""
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        yield
    finally:
        flint.ctx.prec = old


def _n_labels(root: np.ndarray) -> int:
    """Distinct labels among the certified (non-negative) ones."""
    return int(len(np.unique(root[root >= 0])))


def _overall_status(codes: np.ndarray) -> Dict[str, Any]:
    """``success`` when every solution was certified, else the most frequent reason, with the count."""
    failed = codes[codes != int(Status.success)]
    if failed.size == 0:
        return {"status": Status.success, "message": f"all {len(codes)} solutions certified"}
    values, counts = np.unique(failed, return_counts=True)
    worst = Status(int(values[np.argmax(counts)]))
    return {"status": worst, "message": f"{failed.size} of {len(codes)} solutions not certified, most with "
                                        f"{worst.name}: {worst.message}"}
