"""Polyhedral homotopy (Huber–Sturmfels): mixed volume, mixed cells and their binomial start systems.

A square system ``F`` with supports ``A_1..A_n`` (the exponent rows of its equations) has at
most ``MV(A_1 ∪ {0}, ..., A_n ∪ {0})`` isolated roots in ``C^n`` (Li–Wang), the mixed volume
of the Newton polytopes with the origin added to every support. This module

1. lifts every support by random integers ``w`` and enumerates the *mixed cells* of the
   induced fine mixed subdivision: a choice of one edge ``{a_i, b_i} ⊂ A_i`` per equation
   and an inner normal ``α`` such that ``(a_i, w(a_i))`` and ``(b_i, w(b_i))`` are the
   lowest points of the lifted ``A_i`` in direction ``(α, 1)``. A depth-first search adds
   one edge at a time, of the equation with the fewest feasible edges left, and keeps a
   partial choice only while the linear system for ``α`` is feasible (a compiled simplex on
   its Farkas certificate, :mod:`.lp`; the last equation's edges are read off a lower
   envelope); every cell found is then checked in exact rational arithmetic, and a lifting
   with ties is replaced. The mixed volume is the sum of ``|det(a_i - b_i)|`` over the cells;
2. solves each cell's binomial system ``c_{a_i} y^{a_i} + c_{b_i} y^{b_i} = 0`` exactly in
   the integers (Hermite normal form of the exponent matrix, Python ints), which gives
   ``|det|`` roots per cell;
3. builds, per cell, the exponents ``ŵ_a = ⟨a, α⟩ + w(a) - min_{b∈A_i}(⟨b, α⟩ + w(b)) ≥ 0``
   of the homotopy ``H_i(y, t) = Σ_a c_a t^{ŵ_a} y^a`` that the compiled tracker follows
   from the binomial roots at ``t = 0`` to the roots of ``C`` at ``t = 1``
   (:func:`pathtrack.polynomial.solver.solve` with ``start="polyhedral"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .system import PolynomialSystem

__all__ = ["WorkLimitExceeded", "MixedCell", "MixedSubdivision", "mixed_cells", "mixed_volume", "supports_of", "hermite_form",
           "solve_binomial"]

#: Lifting values are drawn from ``0 .. LIFT_RANGE - 1``.
LIFT_RANGE = 1 << 12
#: Liftings tried before giving up on a generic one (each try fails with probability ~1e-3 or less).
MAX_LIFTINGS = 20


class WorkLimitExceeded(RuntimeError):
    """The mixed-cell enumeration was stopped at its work limit (``mixed_cells(max_work=...)``)."""


@dataclass(frozen=True)
class MixedCell:
    """One mixed cell: per equation the indices ``(a_i, b_i)`` of its edge in that equation's support.

    ``normal`` is the inner normal ``α`` (exact rationals), ``volume`` ``|det(a_i - b_i)|``: the
    number of roots of the cell's binomial system.
    """

    edges: Tuple[Tuple[int, int], ...]
    normal: Tuple[Fraction, ...]
    volume: int


@dataclass(frozen=True)
class MixedSubdivision:
    """The mixed cells of lifted supports.

    Attributes
    ----------
    supports : tuple of (m_i, n) int arrays
        The supports, one row per monomial.
    lifting : tuple of (m_i,) int arrays
        The integer lifting values.
    cells : tuple of MixedCell
    n_tests : int
        Feasibility tests (one small linear program each) and lower envelopes of the enumeration.
    n_liftings : int
        Liftings tried (the ones before the last had ties).
    """

    supports: Tuple[np.ndarray, ...]
    lifting: Tuple[np.ndarray, ...]
    cells: Tuple[MixedCell, ...]
    n_tests: int
    n_liftings: int

    @property
    def mixed_volume(self) -> int:
        return sum(c.volume for c in self.cells)

    def exponents(self, cell: MixedCell) -> Tuple[np.ndarray, ...]:
        """``ŵ`` of every monomial of every equation for ``cell`` (0 on the cell's edges, > 0 elsewhere)."""
        return tuple(_lifted_gaps(self.supports, self.lifting, cell))


def supports_of(system: PolynomialSystem, with_origin: bool = True) -> Tuple[np.ndarray, ...]:
    """The exponent rows of each equation, with the origin added where missing when ``with_origin``.

    With the origin in every support the mixed volume bounds the isolated roots in ``C^n``, not
    only those with non-zero coordinates (Li–Wang).
    """
    out = []
    for e in system.exponents:
        e = np.asarray(e, dtype=np.int64)
        if with_origin and not (e == 0).all(axis=1).any():
            e = np.vstack([np.zeros((1, e.shape[1]), dtype=np.int64), e])
        out.append(e)
    return tuple(out)


def mixed_volume(supports, seed: int = 0) -> int:
    """Mixed volume of the convex hulls of ``supports`` (a system, or a sequence of ``(m_i, n)`` int arrays).

    For a :class:`PolynomialSystem` the origin is added to every support (:func:`supports_of`),
    so the value bounds the isolated roots in ``C^n``; pass ``supports_of(system, False)`` for
    the torus ``(C*)^n``.
    """
    return mixed_cells(supports, seed=seed).mixed_volume


def mixed_cells(supports, seed: int = 0, max_work: Optional[int] = None,
                max_volume: Optional[int] = None) -> MixedSubdivision:
    """The mixed cells of a random integer lifting of ``supports`` (see the module docstring).

    Raises
    ------
    ValueError
        When the supports are not ``n`` sets of points in ``Z^n_{>=0}`` or a support is empty.
    WorkLimitExceeded
        When the enumeration needs more than ``max_work`` feasibility tests (``n_tests``), a
        count that does not depend on the machine, or when the cells found reach a volume of
        ``max_volume``.
    """
    if isinstance(supports, PolynomialSystem):
        supports = supports_of(supports)
    supports = tuple(np.asarray(s, dtype=np.int64) for s in supports)
    n = len(supports)
    if n == 0 or any(s.ndim != 2 or s.shape[1] != n or s.shape[0] == 0 for s in supports):
        raise ValueError(f"need n non-empty (m_i, n) supports, got shapes {[s.shape for s in supports]}")
    rng = np.random.default_rng(seed)
    for attempt in range(1, MAX_LIFTINGS + 1):
        lifting = tuple(rng.integers(0, LIFT_RANGE, size=s.shape[0]).astype(np.int64) for s in supports)
        cells, n_tests, generic = _enumerate_cells(supports, lifting, max_work, max_volume)
        if generic:
            return MixedSubdivision(supports, lifting, tuple(cells), n_tests, attempt)
    raise RuntimeError(f"no generic lifting in {MAX_LIFTINGS} tries")  # pragma: no cover - probability ~0


# -- enumeration ------------------------------------------------------------------------------------
def _edge_constraints(points: np.ndarray, lift: np.ndarray, a: int, b: int):
    """The edge ``{a, b}`` lowest in direction ``(α, 1)``: ``(eq row, eq rhs, A_ub, b_ub)`` on ``α``.

    ``<p_a - p_b, α> = w_b - w_a`` and ``<p_a - p_c, α> <= w_c - w_a`` for every other point ``c``.
    """
    others = np.ones(points.shape[0], dtype=bool)
    others[[a, b]] = False
    return ((points[a] - points[b]).astype(float), float(lift[b] - lift[a]),
            (points[a] - points[others]).astype(float), (lift[others] - lift[a]).astype(float))


def _stack(system, edge):
    """``system`` (``(E, r, A, b)``: ``E α = r``, ``A α <= b``) with the constraints of one more edge."""
    if system is None:
        return edge[0][None, :], np.array([edge[1]]), edge[2], edge[3]
    return (np.vstack((system[0], edge[0])), np.append(system[1], edge[1]), np.vstack((system[2], edge[2])),
            np.concatenate((system[3], edge[3])))


def _extensions(system, block, counter: List[int], among: Optional[np.ndarray] = None) -> np.ndarray:
    """Which edges of ``block`` (from :func:`_edge_block`) can join the edges of ``system`` (see :func:`_stack`)?

    The normal ``α`` must make every edge lowest on its lifted support, and the edges must be
    linearly independent, as those of a mixed cell are. Tested by the compiled
    :func:`pathtrack.polynomial.lp.extensions_feasible`; its tolerance is far below the
    margins of a generic integer lifting, and the cells found are checked exactly afterwards.
    """
    from .lp import extensions_feasible_among

    among = np.ones(len(block[0]), dtype=bool) if among is None else among
    counter[0] += int(np.count_nonzero(among))
    if system is None:
        n = block[0].shape[1]
        system = (np.empty((0, n)), np.empty(0), np.empty((0, n)), np.empty(0))
    if _LP_READY:  # reading ``.signatures`` costs more than a small test: once compiled, call directly
        return extensions_feasible_among(*system, *block, among, 1e-9)
    from ..compilenotice import compile_notice

    with compile_notice("the linear programs of the mixed-cell search", not extensions_feasible_among.signatures):
        out = extensions_feasible_among(*system, *block, among, 1e-9)
    _LP_READY.append(True)
    return out


#: Non-empty once the compiled feasibility test has run in this process (:func:`_extensions`).
_LP_READY: List[bool] = []


def _edge_block(edges):
    """Candidate edges (:func:`_edge_constraints`) as the stacked arrays :func:`_extensions` takes."""
    n = edges[0][0].shape[0] if edges else 0
    sizes = [len(c[3]) for c in edges]
    return (np.array([c[0] for c in edges]).reshape(-1, n), np.array([c[1] for c in edges], dtype=float),
            np.vstack([c[2] for c in edges]).reshape(-1, n) if edges else np.empty((0, n)),
            np.concatenate([c[3] for c in edges]) if edges else np.empty(0),
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))


def _segment_edges(system, points: np.ndarray, lift: np.ndarray) -> List[Tuple[int, int]]:
    """The edges of ``points`` lowest somewhere on the segment of normals ``α`` left by ``n - 1`` edges.

    On the line ``α = α_0 + s·v`` each lifted point is the linear function
    ``f_c(s) = <c, α_0> + w(c) + s·<c, v>``; the lowest pairs are the breakpoints of their lower
    envelope inside the segment's interval, found by walking the envelope from its left end.
    """
    eq, rhs, a_ub, b_ub = system
    v = np.linalg.svd(eq)[2][-1]
    alpha0 = np.linalg.lstsq(eq, rhs, rcond=None)[0]
    g, slack = a_ub @ v, b_ub - a_ub @ alpha0
    up, lo = g > 1e-12, g < -1e-12
    hi = np.min(slack[up] / g[up], initial=np.inf)
    low = np.max(slack[lo] / g[lo], initial=-np.inf)
    base = points @ alpha0 + lift
    slope = points @ v
    span = max(1.0, abs(low) if np.isfinite(low) else 0.0, abs(hi) if np.isfinite(hi) else 0.0)
    if np.isfinite(low):  # the lowest line just right of the left end
        values = base + low * slope
        m = values.min()
        near = np.nonzero(values <= m + 1e-9 * (1.0 + abs(m)))[0]
        cur = int(near[np.argmin(slope[near])])
    else:  # towards s = -inf the line of largest slope is lowest
        top = np.nonzero(slope >= slope.max() - 1e-12)[0]
        cur = int(top[np.argmin(base[top])])
    out = []
    while True:
        steeper = slope < slope[cur] - 1e-12  # only lines falling faster can take over to the right
        if not steeper.any():
            break
        cross = (base[steeper] - base[cur]) / (slope[cur] - slope[steeper])
        idx = np.nonzero(steeper)[0]
        k = int(np.argmin(cross))
        s_next = cross[k]
        ties = idx[cross <= s_next + 1e-9 * (1.0 + abs(s_next))]
        nxt = int(ties[np.argmin(slope[ties])])
        if np.isfinite(hi) and s_next > hi + 1e-9 * span:
            break
        if s_next >= low - 1e-9 * span:
            out.append((min(cur, nxt), max(cur, nxt)))
        cur = nxt
    return out


def _enumerate_cells(supports, lifting, max_work: Optional[int] = None, max_volume: Optional[int] = None):
    """Depth-first search over one lower edge per equation; returns (cells, tests, lifting was generic)."""
    n = len(supports)
    counter = [0]  # feasibility tests and envelopes
    edges = []
    for pts, w in zip(supports, lifting):  # the lower edges of each lifted support on its own
        pairs = [(a, b) for a in range(len(pts)) for b in range(a + 1, len(pts))]
        cons = [_edge_constraints(pts, w, a, b) for a, b in pairs]
        keep = _extensions(None, _edge_block(cons), counter) if cons else np.zeros(0, dtype=bool)
        edges.append([(ab, c) for ab, c, k in zip(pairs, cons, keep) if k])
    blocks = [_edge_block([c for _, c in e]) for e in edges]
    cells: List[MixedCell] = []
    generic = True

    def visit(chosen: dict, system, feasible: dict) -> bool:
        # fail first: test the edges of every equation left and branch on the one with the
        # fewest feasible edges; an equation with none ends this branch. ``feasible[i]``: the
        # edges of equation i feasible at the parent, the only ones that can be feasible here.
        nonlocal generic
        if max_work is not None and counter[0] > max_work:
            raise WorkLimitExceeded(f"mixed cells: more than {max_work} units of work")
        left = [i for i in range(n) if i not in chosen]
        if not left:
            cell = _exact_cell(supports, lifting, tuple(chosen[i] for i in range(n)))
            if cell is None:
                generic = False
                return False
            if cell.volume:
                cells.append(cell)
                if max_volume is not None and sum(c.volume for c in cells) >= max_volume:
                    raise WorkLimitExceeded(f"mixed cells: the volume reaches {max_volume}")
            return True
        if len(left) == 1 and chosen:  # α moves on a segment: the last edges are its breakpoints
            i = left[0]
            counter[0] += 1
            for ab in _segment_edges(system, supports[i], lifting[i]):
                if not visit({**chosen, i: ab}, system, feasible):
                    return False
            return True
        best, now = None, {}
        # an equation left with no edge shows up early
        for i in sorted(left, key=lambda j: np.count_nonzero(feasible[j])):
            ok = (_extensions(system, blocks[i], counter, feasible[i]) if system is not None
                  else np.ones(len(edges[i]), dtype=bool))
            now[i] = ok
            if best is None or np.count_nonzero(ok) < np.count_nonzero(now[best]):
                best = i
            if not ok.any():
                return True
        for (ab, c), ok in zip(edges[best], now[best]):
            if ok and not visit({**chosen, best: ab}, _stack(system, c), now):
                return False
        return True

    visit({}, None, {i: np.ones(len(e), dtype=bool) for i, e in enumerate(edges)})
    return cells, counter[0], generic


def _exact_cell(supports, lifting, cell_edges) -> Optional[MixedCell]:
    """The cell with these edges, its normal and volume checked exactly; None when the lifting has a tie.

    A tie (another lifted point on the lowest face) means the subdivision is not fine and the
    lifting must be replaced; a cell accepted only within the tests' tolerance has a point
    strictly below the face and is no cell (volume 0). Integers only (Cramer's rule): the
    normal is ``num / det``, and the gaps times ``|det|`` are integers.
    """
    rows = [supports[i][a] - supports[i][b] for i, (a, b) in enumerate(cell_edges)]
    rhs = [int(lifting[i][b] - lifting[i][a]) for i, (a, b) in enumerate(cell_edges)]
    det = _det_int(rows)
    if det == 0:
        return MixedCell(tuple(cell_edges), (), 0)
    num = _cramer_numerators(rows, rhs, det)
    alpha = tuple(Fraction(v, det) for v in num)
    for gaps, (a, b) in zip(_scaled_gaps(supports, lifting, num, det, cell_edges), cell_edges):
        others = np.delete(gaps, [a, b])
        if (others < 0).any():
            return MixedCell(tuple(cell_edges), alpha, 0)
        if (others == 0).any():
            return None
    return MixedCell(tuple(cell_edges), alpha, abs(det))


def _cramer_numerators(rows, rhs, det: int) -> List[int]:
    """``det·M⁻¹·rhs`` exactly (``M`` the integer matrix ``rows``, ``det`` its determinant): rounded from
    a floating-point solve and checked in integers, Cramer's rule (``n`` more determinants) where
    the check fails."""
    with np.errstate(all="ignore"):
        guess = np.rint(np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)) * det)
    if np.all(np.isfinite(guess)) and np.abs(guess).max(initial=0.0) < 2.0 ** 52:
        num = [int(v) for v in guess]
        if all(sum(int(a) * v for a, v in zip(row, num)) == det * r for row, r in zip(rows, rhs)):
            return num
    # Cramer: column j of the matrix replaced by rhs
    return [_det_int([[r if k == j else int(v) for k, v in enumerate(row)] for row, r in zip(rows, rhs)])
            for j in range(len(rows))]


def _scaled_gaps(supports, lifting, num, det: int, cell_edges) -> List[np.ndarray]:
    """``|det|·(⟨a, α⟩ + w(a) - β_i)`` for every point of every support, exactly (``α = num / det``).

    ``β_i`` is the value on the cell's edge of equation ``i``. int64 where no sum can overflow,
    Python ints otherwise.
    """
    sign = 1 if det > 0 else -1
    num = [sign * int(v) for v in num]
    den = abs(int(det))
    bound = max(int(np.abs(p).max()) for p in supports) * sum(abs(v) for v in num) + \
        max(int(np.abs(w).max()) for w in lifting) * den
    dtype = np.int64 if 4 * bound < 2 ** 62 else object
    num_arr = np.array(num, dtype=dtype)
    out = []
    for (pts, lift), (a, _) in zip(zip(supports, lifting), cell_edges):
        vals = pts.astype(dtype) @ num_arr + lift.astype(dtype) * den
        out.append(vals - vals[a])
    return out


def _lifted_gaps(supports, lifting, cell: MixedCell) -> List[np.ndarray]:
    """``⟨a, α⟩ + w(a) - β_i`` for every point of every support (as floats of exact values)."""
    den = math.lcm(*(c.denominator for c in cell.normal))
    num = [int(c * den) for c in cell.normal]
    return [g.astype(float) / den for g in _scaled_gaps(supports, lifting, num, den, cell.edges)]


def _det_int(rows) -> int:
    """Determinant of an integer matrix, exactly (Bareiss)."""
    m = [[int(v) for v in row] for row in rows]
    n = len(m)
    sign, prev = 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            p = next((i for i in range(k + 1, n) if m[i][k] != 0), None)
            if p is None:
                return 0
            m[k], m[p] = m[p], m[k]
            sign = -sign
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return sign * m[n - 1][n - 1] if n else 1


# -- binomial systems -------------------------------------------------------------------------------
def hermite_form(matrix) -> Tuple[List[List[int]], List[List[int]]]:
    """``(U, H)`` with ``U·matrix = H`` upper triangular, ``U`` unimodular, all in Python ints.

    Row operations only (extended Euclid on pairs of rows), so ``H_jj`` are, up to sign, the
    elementary factors whose product is ``|det(matrix)|``.
    """
    h = [[int(v) for v in row] for row in matrix]
    n = len(h)
    u = [[int(i == j) for j in range(n)] for i in range(n)]
    for k in range(n):
        for i in range(k + 1, n):
            if h[i][k] == 0:
                continue
            a, b = h[k][k], h[i][k]
            g, s, t = _ext_gcd(a, b)
            # [s t; -b/g a/g] has determinant 1: rows k, i become gcd and 0 in column k
            p, q = -b // g, a // g
            h[k], h[i] = [s * x + t * y for x, y in zip(h[k], h[i])], [p * x + q * y for x, y in zip(h[k], h[i])]
            u[k], u[i] = [s * x + t * y for x, y in zip(u[k], u[i])], [p * x + q * y for x, y in zip(u[k], u[i])]
    return u, h


def _ext_gcd(a: int, b: int) -> Tuple[int, int, int]:
    """``(g, s, t)`` with ``s·a + t·b = g = gcd(a, b) > 0``."""
    old_r, r, old_s, s, old_t, t = a, b, 1, 0, 0, 1
    while r:
        q = old_r // r
        old_r, r = r, old_r - q * r
        old_s, s = s, old_s - q * s
        old_t, t = t, old_t - q * t
    if old_r < 0:
        old_r, old_s, old_t = -old_r, -old_s, -old_t
    return old_r, old_s, old_t


def solve_binomial(exponents, rhs) -> np.ndarray:
    """All roots in ``(C*)^n`` of ``y^{V_i} = rhs_i`` (``V`` an integer ``n×n`` matrix, ``rhs`` non-zero).

    With ``U·V = H`` (:func:`hermite_form`) and ``y = exp(z)`` the system is ``H z = U·log(rhs)``
    modulo ``2πi``; back substitution takes the ``|H_jj|`` branches of each coordinate, so the
    ``|det V|`` roots come out exactly once each. Returns shape ``(|det V|, n)``.
    """
    v = [[int(x) for x in row] for row in exponents]
    rhs = np.asarray(rhs, dtype=np.complex128)
    n = len(v)
    if _det_int(v) == 0:
        raise ValueError("the exponent matrix of a binomial system must be non-singular")
    u, h = hermite_form(v)
    log_mod = np.log(np.abs(rhs))
    angle = np.angle(rhs)
    # log|.| and the angle transform separately: the angle only matters modulo 2π
    g_re = [math.fsum(c * float(x) for c, x in zip(row, log_mod)) for row in u]
    g_im = [math.fmod(math.fsum(c * float(x) for c, x in zip(row, angle)), 2 * math.pi) for row in u]
    roots = [[]]
    for j in range(n - 1, -1, -1):
        d = h[j][j]
        grown = []
        for z in roots:  # z holds coordinates j+1..n-1 (as complex logs)
            re = g_re[j] - sum(h[j][l] * z[l - j - 1].real for l in range(j + 1, n))
            im = g_im[j] - sum(math.fmod(h[j][l] * z[l - j - 1].imag, 2 * math.pi) for l in range(j + 1, n))
            for m in range(abs(d)):
                grown.append([complex(re, im + 2 * math.pi * m) / d] + z)
        roots = grown
    return np.exp(np.array(roots, dtype=np.complex128).reshape(-1, n))


# -- start system -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolyhedralStart:
    """What :func:`polyhedral_start` hands to the solver.

    Attributes
    ----------
    system : PolynomialSystem
        The random-coefficient system ``C`` (supports of the target with the origin added), homogenised.
    starts : (mixed_volume, n + 1) complex array
        The roots of ``C`` on the affine patch reached by stage 1; rows of failed stage-1 paths are NaN.
    status : (mixed_volume,) int array
        :class:`~pathtrack.status.Status` of each stage-1 path.
    mixed_volume : int
    n_cells : int
    n_steps : int
        Steps of all stage-1 paths.
    """

    system: PolynomialSystem
    starts: np.ndarray
    status: np.ndarray
    mixed_volume: int
    n_cells: int
    n_steps: int


def cell_start_points(sub: MixedSubdivision, coefficients, cell: MixedCell) -> np.ndarray:
    """The ``cell.volume`` roots in ``(C*)^n`` of the cell's binomial system ``c_a y^a + c_b y^b = 0``."""
    rows = [sub.supports[i][a] - sub.supports[i][b] for i, (a, b) in enumerate(cell.edges)]
    rhs = [-coefficients[i][b] / coefficients[i][a] for i, (a, b) in enumerate(cell.edges)]
    return solve_binomial(rows, rhs)


#: The toric kind's parameter ``u`` spends ``[0, 0.1]`` on ``t`` from 0 to ``exp(-SIGMA_HI)``, ``[0.1, 0.9]``
#: log-uniformly on ``σ = -log t`` down to ``SIGMA_END / max(w)``, and the rest on ``t`` up to 1.
SIGMA_HI = 3.0
SIGMA_END = 0.05


def toric_schedule(w: np.ndarray) -> np.ndarray:
    """The schedule ``tpar`` of :data:`pathtrack.polynomial.kernels.ToricHomotopy` for the powers ``w``."""
    from .kernels import N_TPAR, T_A, T_B, T_SIGMA_HI, T_SIGMA_LO

    out = np.empty(N_TPAR)
    out[T_A], out[T_B] = 0.1, 0.9
    out[T_SIGMA_HI], out[T_SIGMA_LO] = SIGMA_HI, min(SIGMA_END / max(float(w.max()), 1.0), 0.5 * SIGMA_HI)
    return out


def polyhedral_start(system: PolynomialSystem, patch: np.ndarray, seed: int, options, track,
                     subdivision: Optional[MixedSubdivision] = None) -> PolyhedralStart:
    """Stage 1 of the polyhedral homotopy: the roots of a random system ``C`` with the supports of ``system``.

    Parameters
    ----------
    system : PolynomialSystem
        The (affine, square) target; ``C`` gets its supports with the origin added, so that the
        linear homotopy from ``C`` to ``system`` reaches every isolated root in ``C^n``.
    patch : (n + 1,) complex array
        The affine patch of the projective tracker.
    seed : int
        Seeds the lifting and the coefficients of ``C``.
    options : SolveOptions
        Tracker settings; failed stage-1 paths are tracked again ``options.max_retracks`` times,
        each round with the ``'conservative'`` preset applied once more, as :func:`solve` does.
    track : callable
        ``track(kernel, starts, per_row, args, options) -> (ends, codes, kinds, winding, steps,
        ratio)``: the solver's way to run a batch kernel of :mod:`.kernels` (threads, executor,
        progress, interrupt) with ``options``.
    subdivision : MixedSubdivision, optional
        The mixed cells of ``supports_of(system)``, when already computed.
    """
    from ..status import Status
    from .kernels import END_INFINITY

    supports = supports_of(system)
    sub = subdivision if subdivision is not None else mixed_cells(supports, seed=seed)
    rng = np.random.default_rng([seed, 1])
    # unit moduli: coefficients of one size keep the roots of C of moderate size (normal ones put
    # some beyond 10^4 on eco:8, where tracking and classification lose them)
    coefficients = [np.exp(2j * np.pi * rng.uniform(size=len(s))) for s in supports]
    c_sys = PolynomialSystem(system.variables, supports, tuple(coefficients), "polyhedral start")
    hom = c_sys.homogenize()
    packed = hom.packed()
    # position in the packed (homogenised, sorted) term order of each support point
    where = []
    for e_h, pts in zip(hom.exponents, supports):
        index = {tuple(row): k for k, row in enumerate(pts.tolist())}
        where.append(np.array([index[tuple(row[1:])] for row in e_h.tolist()], dtype=np.int64))
    starts, powers, schedules = [], [], []
    for cell in sub.cells:
        w = np.concatenate([g[k] for g, k in zip(sub.exponents(cell), where)])
        w /= w[w > 0].min() if (w > 0).any() else 1.0  # t -> t^λ: the smallest positive power is 1
        y = cell_start_points(sub, coefficients, cell)
        x = np.hstack([np.ones((len(y), 1)), y])
        starts.append(x / (x @ patch)[:, None])
        powers.append(np.repeat(w[None, :], len(y), axis=0))
        schedules.append(np.repeat(toric_schedule(w)[None, :], len(y), axis=0))
    n1 = system.n_variables + 1
    starts = np.vstack(starts) if starts else np.empty((0, n1), dtype=np.complex128)
    powers = np.vstack(powers) if powers else np.empty((0, packed.coef.shape[0]))
    schedules = np.vstack(schedules) if schedules else np.empty((0, 4))

    def run(rows, opts):
        ends, codes, kinds, _, steps, _ = track("track_toric_batch", starts[rows], (powers[rows], schedules[rows]),
                                                (packed.arrays(),), opts)
        codes[(codes == int(Status.success)) & (kinds == END_INFINITY)] = int(Status.unbounded)  # C's roots are finite
        return ends, codes, steps

    ends, status, steps = run(np.arange(len(starts)), options)
    tight = options
    for _round in range(options.max_retracks):
        redo = np.nonzero((status != int(Status.success)) & (status != int(Status.interrupted)))[0]
        if len(redo) == 0:
            break
        tight = tight.with_preset("conservative")
        e2, c2, s2 = run(redo, tight)
        ends[redo], status[redo] = e2, c2
        steps[redo] += s2
    ends[status != int(Status.success)] = np.nan
    return PolyhedralStart(hom, ends, status, sub.mixed_volume, len(sub.cells), int(steps.sum()))
