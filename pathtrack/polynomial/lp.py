"""Compiled feasibility test of small dense linear systems, for the mixed-cell search of :mod:`.polyhedral`.

Arrays in, a verdict out. ``{α : E α = r, A α <= b}`` is empty exactly when Farkas' lemma gives a
certificate: ``y >= 0`` and ``u`` with ``Aᵀy + Eᵀu = 0`` and ``b·y + r·u < 0``. Normalised by
``Σy + Σ|u| = 1`` this is a linear program over a simplex, with ``n + 1`` rows for ``n``
unknowns: a dense two-phase simplex (Dantzig's rule, then Bland's, so degenerate pivots cannot cycle) solves it
in microseconds, where a call of a general LP solver costs about a millisecond of set-up.
"""

import numpy as np
from numba import njit

from .cacheload import install as install_cache_load

install_cache_load([__name__])  # a warm polyhedral solve loads this from the cache without preparing a compiler

#: Pivot elements and reduced costs smaller than this count as zero.
PIVOT_TOL = 1e-11


@njit(inline="always")
def _pivot(T, row, col):
    p = T[row, col]
    for j in range(T.shape[1]):
        T[row, j] /= p
    for i in range(T.shape[0]):
        if i != row:
            f = T[i, col]
            if f != 0.0:
                for j in range(T.shape[1]):
                    T[i, j] -= f * T[row, j]


#: Pivots chosen by the most negative reduced cost (Dantzig: few pivots) before the simplex falls back
#: to Bland's rule, which cannot cycle on degenerate pivots.
DANTZIG_PIVOTS = 50


@njit(inline="always")
def _simplex(T, basis, n_cols):
    """Minimise the objective in the last row of tableau ``T`` over columns ``< n_cols`` (Dantzig's
    rule for :data:`DANTZIG_PIVOTS` pivots, then Bland's)."""
    rows = T.shape[0] - 1
    rhs = T.shape[1] - 1
    for it in range(10000):
        col = -1
        if it < DANTZIG_PIVOTS:
            most = -PIVOT_TOL
            for j in range(n_cols):
                if T[rows, j] < most:
                    most = T[rows, j]
                    col = j
        else:
            for j in range(n_cols):
                if T[rows, j] < -PIVOT_TOL:
                    col = j
                    break
        if col < 0:
            return True
        row = -1
        best = np.inf
        for i in range(rows):
            if T[i, col] > PIVOT_TOL:
                ratio = T[i, rhs] / T[i, col]
                if ratio < best - 1e-14 or (ratio <= best + 1e-14 and row >= 0 and basis[i] < basis[row]):
                    best = ratio
                    row = i
        if row < 0:
            return False  # unbounded: cannot happen over the simplex Σ = 1
        _pivot(T, row, col)
        basis[row] = col
    return False


@njit
def system_is_feasible(A, b, E, r, tol):
    """Is ``{α : E α = r, A α <= b}`` non-empty (within ``tol`` on the scaled rows)? See the module docstring."""
    m, n = A.shape
    k = E.shape[0]
    nv = m + 2 * k
    rows = n + 1
    T = np.zeros((rows + 1, nv + rows + 1))
    cost = np.empty(nv)
    for i in range(m):  # rows of A and b scaled to unit norm: tol is a distance in α
        s = 0.0
        for j in range(n):
            s += A[i, j] * A[i, j]
        s = np.sqrt(s) if s > 0.0 else 1.0
        for j in range(n):
            T[j, i] = A[i, j] / s
        cost[i] = b[i] / s
    for i in range(k):
        s = 0.0
        for j in range(n):
            s += E[i, j] * E[i, j]
        s = np.sqrt(s) if s > 0.0 else 1.0
        for j in range(n):
            T[j, m + i] = E[i, j] / s
            T[j, m + k + i] = -E[i, j] / s
        cost[m + i] = r[i] / s
        cost[m + k + i] = -r[i] / s
    for j in range(nv):
        T[n, j] = 1.0
    rhs = nv + rows
    T[n, rhs] = 1.0
    basis = np.empty(rows, dtype=np.int64)
    for i in range(rows):  # artificial variables start basic
        T[i, nv + i] = 1.0
        basis[i] = nv + i
    for j in range(nv + rows + 1):  # phase 1: minimise the sum of the artificials
        s = 0.0
        for i in range(rows):
            s += T[i, j]
        T[rows, j] = -s if j < nv or j == rhs else 0.0
    _simplex(T, basis, nv)
    if -T[rows, rhs] > 1e-9:
        return True  # no certificate exists: the system is feasible
    for i in range(rows):  # drive zero-level artificials out where a real column allows it
        if basis[i] >= nv:
            for j in range(nv):
                if abs(T[i, j]) > PIVOT_TOL:
                    _pivot(T, i, j)
                    basis[i] = j
                    break
    for j in range(nv + rows + 1):  # phase 2: reduced costs of b·y + r·u
        T[rows, j] = cost[j] if j < nv else 0.0
    for i in range(rows):
        if basis[i] < nv:
            c = cost[basis[i]]
            for j in range(nv + rows + 1):
                T[rows, j] -= c * T[i, j]
    _simplex(T, basis, nv)
    return -T[rows, rhs] >= -tol


@njit
def full_row_rank(E):
    """Are the rows of ``E`` linearly independent (Gaussian elimination, pivots relative to the largest entry)?"""
    k, n = E.shape
    M = E.copy()
    scale = 0.0
    for i in range(k):
        for j in range(n):
            scale = max(scale, abs(M[i, j]))
    if scale == 0.0:
        return k == 0
    used = np.zeros(n, dtype=np.bool_)
    for i in range(k):
        col = -1
        best = 1e-9 * scale
        for j in range(n):
            if not used[j] and abs(M[i, j]) > best:
                best = abs(M[i, j])
                col = j
        if col < 0:
            return False
        used[col] = True
        for i2 in range(i + 1, k):
            f = M[i2, col] / M[i, col]
            for j in range(n):
                M[i2, j] -= f * M[i, j]
    return True


@njit(cache=True)
def extensions_feasible(E, r, A, b, cand_E, cand_r, cand_A, cand_b, offsets, tol):
    """Which candidates ``k`` keep ``{E α = r, A α <= b}`` feasible with independent rows of ``E``?

    Candidate ``k`` adds the equation ``cand_E[k] α = cand_r[k]`` and the inequalities
    ``cand_A[offsets[k]:offsets[k+1]] α <= cand_b[...]``. One call tests all the edges of one
    equation at a node of the mixed-cell search.
    """
    return extensions_feasible_among(E, r, A, b, cand_E, cand_r, cand_A, cand_b, offsets,
                                     np.ones(cand_E.shape[0], dtype=np.bool_), tol)


@njit(cache=True)
def extensions_feasible_among(E, r, A, b, cand_E, cand_r, cand_A, cand_b, offsets, among, tol):
    """:func:`extensions_feasible` for the candidates where ``among`` is True (False for the others).

    Adding constraints never makes an infeasible system feasible, so the search passes down
    which edges were feasible at a node and its children test only those.
    """
    n_cand = cand_E.shape[0]
    k, n = E.shape
    m = A.shape[0]
    out = np.zeros(n_cand, dtype=np.bool_)
    E2 = np.empty((k + 1, n))
    r2 = np.empty(k + 1)
    E2[:k] = E
    r2[:k] = r
    for c in range(n_cand):
        if not among[c]:
            continue
        E2[k] = cand_E[c]
        r2[k] = cand_r[c]
        if not full_row_rank(E2):
            continue
        lo, hi = offsets[c], offsets[c + 1]
        A2 = np.empty((m + hi - lo, n))
        b2 = np.empty(m + hi - lo)
        A2[:m] = A
        b2[:m] = b
        A2[m:] = cand_A[lo:hi]
        b2[m:] = cand_b[lo:hi]
        out[c] = system_is_feasible(A2, b2, E2, r2, tol)
    return out
