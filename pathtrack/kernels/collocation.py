"""Condensation of parameters of the collocation system of periodic orbits (AUTO's ``CONPAR``).

On mesh interval ``j`` the ``ncol·n`` collocation equations involve the ``n`` values at
the interval's two end nodes, the ``(ncol − 1)·n`` interior node values, which no other
interval shares, and the two parameters ``(T, λ)``. Gaussian elimination with partial
pivoting of the interior columns leaves ``n`` equations in the end nodes and parameters
only (the condensed block ``[A_j | B_j | C_j]``); the interior values follow from the end
nodes by back-substitution. The two dense rows of the bordered system (phase condition,
arclength) are condensed alike. :func:`factor` then eliminates the end nodes ``u_1 …
u_ntst−1`` one after the other (partial pivoting over the running equations and the next
interval's, as AUTO's ``REDUCE``), which leaves a dense system of ``2n + 2`` equations in
``u_0``, ``u_ntst`` and ``(T, λ)`` with the periodicity rows; :func:`solve` applies all of
it to a right-hand side and back-substitutes. Cost and storage grow linearly with ``ntst``.

Layout: ``c = ncol``, ``m = (c − 1)·n`` interior unknowns and ``q = c·n`` equations per
interval; the local columns are ``[interior (m) | u_j (n) | u_j+1 (n) | T | λ]``.
:func:`at_gauss` and :func:`residual` evaluate the orbit and the collocation residual at the
Gauss points; :func:`monodromy` multiplies the condensed blocks' maps (AUTO's ``FLOQUET``).
Arrays in (the caller allocates), status codes out: 0 done, 1 a zero pivot, 2 a value not finite.
"""

import math

import numpy as np
from numba import njit

OK = 0
SINGULAR = 1
NONFINITE = 2


@njit(error_model="numpy")  # compiled into its callers, cached with them
def _pivot_step(W, k, n_pivot, n_rows):  # pragma: no cover - compiled
    """Elimination step ``k`` on ``W``: the pivot is the largest ``|W[r, k]|`` over rows ``k … n_pivot−1``,
    whole rows are swapped (LAPACK's convention), rows ``k+1 … n_rows−1`` are eliminated and keep
    their multipliers in column ``k``. Returns the pivot row, or −1 for a zero pivot."""
    p = k
    big = abs(W[k, k])
    for r in range(k + 1, n_pivot):
        if abs(W[r, k]) > big:
            big, p = abs(W[r, k]), r
    if big == 0.0:
        return -1
    w = W.shape[1]
    if p != k:
        for col in range(w):
            tmp = W[k, col]
            W[k, col] = W[p, col]
            W[p, col] = tmp
    inv = 1.0 / W[k, k]  # one division, not one a row
    # unsigned indices: no wraparound test per access, so the inner loop vectorises (the same arithmetic)
    uk, w = np.uint64(k), np.uint64(w)
    for r in range(uk + np.uint64(1), np.uint64(n_rows)):
        mult = W[r, uk] * inv
        W[r, uk] = mult
        if mult != 0.0:
            for col in range(uk + np.uint64(1), w):
                W[r, col] -= mult * W[uk, col]
    return p


@njit(error_model="numpy")  # compiled into its callers, cached with them
def _forward(M, piv, v):  # pragma: no cover - compiled
    """Apply the ``len(piv)`` elimination steps of :func:`_pivot_step` (multipliers in ``M``) to ``v``:
    every row swap first, then the forward elimination."""
    for k in range(piv.shape[0]):
        p = piv[k]
        if p != k:
            tmp = v[k]
            v[k] = v[p]
            v[p] = tmp
    for k in range(piv.shape[0]):
        vk = v[k]
        for i in range(np.uint64(k + 1), np.uint64(v.shape[0])):  # unsigned: see _pivot_step
            v[i] -= M[i, k] * vk


@njit(cache=True, error_model="numpy")
def condense(D, L, h, T, fu, f, flam, dense, LU, piv, X, red, dense_red, W):  # pragma: no cover - compiled
    """Eliminate every interval's interior unknowns from the collocation Jacobian.

    Parameters
    ----------
    D, L : (c, c+1)
        Derivatives and values of the Lagrange basis at the Gauss points.
    h : (N,)
        Interval lengths.
    T : float
        Period.
    fu : (N, c, n, n)
        ``f_u`` at the Gauss points.
    f, flam : (N, c, n)
        ``f`` and ``f_λ`` at the Gauss points.
    dense : (2, (N·c + 1)·n + 2)
        The phase row and the border row of the full system.
    LU : (N, q, m), out
        Per interval: the eliminated interior columns (upper triangle ``U`` in the first
        ``m`` rows, multipliers below the diagonal).
    piv : (N, m) int64, out
        Row swapped with row ``k`` at elimination step ``k``.
    X : (N, m, 2n+2), out
        ``U⁻¹`` times the eliminated ``[u_j | u_j+1 | T | λ]`` columns of the first ``m`` rows.
    red : (N, n, 2n+2), out
        The condensed blocks ``[A_j | B_j | C_j]``.
    dense_red : (2, (N+1)·n + 2), out
        The dense rows in the end-node values and parameters.
    W : (q, m + 2n + 2) or (q, m + 2n)
        Workspace: one interval's local matrix. Without the two parameter columns (the
        monodromy matrix needs only ``A_j``, ``B_j``) only ``red[:, :, :2n]`` and ``piv`` are
        computed: ``f``, ``flam``, ``dense``, ``LU``, ``X`` and ``dense_red`` are not used.

    Returns
    -------
    int
        ``OK``, ``SINGULAR`` (a zero pivot or a condensed block not finite) or ``NONFINITE`` (an
        entry of the local matrices not finite: of ``f``, ``f_u``, ``f_λ``).
    """
    N, c, n = fu.shape[0], fu.shape[1], fu.shape[2]
    m, q = (c - 1) * n, c * n
    w = W.shape[1]
    full = w == m + 2 * n + 2
    for d in range(2 if full else 0):
        for g in range(N + 1):
            for b in range(n):
                dense_red[d, g * n + b] = dense[d, g * c * n + b]
        for b in range(2):
            dense_red[d, (N + 1) * n + b] = dense[d, (N * c + 1) * n + b]
    for j in range(N):
        # the local matrix: rows (k, a), columns [interior | u_j | u_j+1 | T | λ]
        for k in range(c):
            for i in range(c + 1):
                col = (i - 1) * n if i > 0 and i < c else (m if i == 0 else m + n)
                tl = -T * L[k, i]  # once per (k, i): the same products and quotient as per entry
                dh = D[k, i] / h[j]
                for a in range(n):
                    r = k * n + a
                    for b in range(n):
                        v = tl * fu[j, k, a, b]
                        if a == b:
                            v += dh
                        W[r, col + b] = v
            for a in range(n):
                r = k * n + a
                if full:
                    W[r, m + 2 * n] = -f[j, k, a]
                    W[r, m + 2 * n + 1] = -T * flam[j, k, a]
        bad = 0.0  # f, f_u, f_λ as the problem gave them: checked here, not by the caller
        for r in range(q):
            for col in range(np.uint64(w)):  # unsigned: see _pivot_step
                bad += W[r, col] * 0.0  # 0 for a finite entry, NaN for inf or NaN: no branch in the loop
        if bad != 0.0:
            return NONFINITE
        # partial pivoting on the interior columns
        for k in range(m):
            piv[j, k] = _pivot_step(W, k, q, q)
            if piv[j, k] < 0:
                return SINGULAR
        bad = 0.0
        for r in range(n):
            for col in range(w - m):
                red[j, r, col] = W[m + r, m + col]
                bad += W[m + r, m + col] * 0.0
        if bad != 0.0:
            return SINGULAR  # numerically singular
        if not full:
            continue
        for r in range(q):
            for col in range(np.uint64(m)):
                LU[j, r, col] = W[r, col]
        # X = U⁻¹ [u_j | u_j+1 | T | λ] (top rows)
        # all columns at once, each with its own running sum in the order of t: the same operations
        # per entry as one column after the other, without a chain of dependent subtractions
        K = np.uint64(2 * n + 2)
        for r in range(m - 1, -1, -1):
            inv = 1.0 / W[r, r]
            Xr = X[j, r]
            for col in range(K):
                Xr[col] = W[r, m + col]
            for t in range(r + 1, m):
                wrt = W[r, t]
                Xt = X[j, t]
                for col in range(K):
                    Xr[col] -= wrt * Xt[col]
            for col in range(K):
                Xr[col] *= inv
        # the dense rows: interior coefficients folded onto the end nodes and the parameters
        base = np.uint64((j * c + 1) * n)
        for d in range(2):
            for col in range(2 * n + 2):
                s = 0.0
                for t in range(np.uint64(m)):
                    s += dense[d, base + t] * X[j, t, col]
                if col < 2 * n:
                    dense_red[d, j * n + col] -= s
                else:
                    dense_red[d, (N + 1) * n + col - 2 * n] -= s
    return OK


@njit(error_model="numpy")  # compiled into its callers, cached with them
def condense_rhs(LU, piv, r, dense, Xr, red_r, dense_r):  # pragma: no cover - compiled
    """Apply a :func:`condense` elimination to a right-hand side.

    ``r`` (N, q): the collocation part, overwritten. Out: ``Xr`` (N, m) = ``U⁻¹`` times its
    first ``m`` rows, ``red_r`` (N, n) the condensed right-hand side, ``dense_r`` (2,) what
    the interior takes off the dense rows' right-hand sides.
    """
    N, q, m = LU.shape[0], LU.shape[1], LU.shape[2]
    n = q - m
    c = q // n
    dense_r[0] = 0.0
    dense_r[1] = 0.0
    for j in range(N):
        _forward(LU[j], piv[j], r[j])
        for i in range(n):
            red_r[j, i] = r[j, m + i]
        for i in range(m - 1, -1, -1):
            s = r[j, i]
            for t in range(np.uint64(i + 1), np.uint64(m)):  # unsigned: see _pivot_step
                s -= LU[j, i, t] * Xr[j, t]
            Xr[j, i] = s / LU[j, i, i]
        base = np.uint64((j * c + 1) * n)
        for d in range(2):
            s = 0.0
            for t in range(np.uint64(m)):
                s += dense[d, base + t] * Xr[j, t]
            dense_r[d] += s
    return OK


@njit(error_model="numpy")  # compiled into its callers, cached with them
def _expand(X, Xr, params, U):  # pragma: no cover - compiled
    """The interior node values of ``U`` (N·c + 1, n) from its end-node rows ``U[j·c]`` and ``params`` (2,).

    Interior node ``t`` of interval ``j``: ``Xr − X·[u_j, u_j+1, T, λ]``.
    """
    N, m = X.shape[0], X.shape[1]
    n = U.shape[1]
    c = m // n + 1
    for j in range(N):
        for t in range(m):
            s = Xr[j, t]
            for b in range(n):
                s -= X[j, t, b] * U[j * c, b] + X[j, t, n + b] * U[(j + 1) * c, b]
            s -= X[j, t, 2 * n] * params[0] + X[j, t, 2 * n + 1] * params[1]
            U[j * c + 1 + t // n, t % n] = s
    return OK


@njit(error_model="numpy")  # compiled into its callers, cached with them
def _reduce(red, dense_red, E, piv2, Fm, fpiv):  # pragma: no cover - compiled
    """Eliminate the end nodes ``u_1 … u_N−1`` from the condensed system; LU of the final ``2n + 2`` system.

    ``E[j]`` rows: running equations (n), interval ``j`` (n), dense rows (2); columns
    ``[u_j | u_0 | u_j+1 | T, λ]``. After step ``j`` its rows ``n …`` hold the running
    equations and dense rows in ``u_0``, ``u_j+1`` and ``(T, λ)``, which step ``j + 1`` reads;
    ``E[0]`` holds the first interval's in that layout.
    """
    N, n = red.shape[0], red.shape[1]
    M = (N + 1) * n
    w = 3 * n + 2
    P = E[0]
    for a in range(n):
        for b in range(n):
            P[n + a, n + b] = red[0, a, b]
            P[n + a, 2 * n + b] = red[0, a, n + b]
        P[n + a, 3 * n] = red[0, a, 2 * n]
        P[n + a, 3 * n + 1] = red[0, a, 2 * n + 1]
    for d in range(2):
        for b in range(n):
            P[2 * n + d, n + b] = dense_red[d, b]
            P[2 * n + d, 2 * n + b] = dense_red[d, n + b]
        P[2 * n + d, 3 * n] = dense_red[d, M]
        P[2 * n + d, 3 * n + 1] = dense_red[d, M + 1]
    for j in range(1, N):
        P = E[j - 1]
        W = E[j]
        for a in range(n):
            for b in range(n):
                W[a, b] = P[n + a, 2 * n + b]  # u_j: the previous step's next node
                W[a, n + b] = P[n + a, n + b]
                W[a, 2 * n + b] = 0.0
                W[n + a, b] = red[j, a, b]
                W[n + a, n + b] = 0.0
                W[n + a, 2 * n + b] = red[j, a, n + b]
            for col in range(3 * n, w):
                W[a, col] = P[n + a, col]
                W[n + a, col] = red[j, a, col - n]
        for d in range(2):
            for b in range(n):
                W[2 * n + d, b] = P[2 * n + d, 2 * n + b]
                W[2 * n + d, n + b] = P[2 * n + d, n + b]
                W[2 * n + d, 2 * n + b] = dense_red[d, (j + 1) * n + b]
            for col in range(3 * n, w):
                W[2 * n + d, col] = P[2 * n + d, col]
        for k in range(n):  # pivots among the equations only; the dense rows are eliminated
            piv2[j, k] = _pivot_step(W, k, 2 * n, 2 * n + 2)
            if piv2[j, k] < 0:
                return SINGULAR
    P = E[N - 1]
    # the final system in (u_0, u_N, T, λ): running equations, periodicity, dense rows
    K = 2 * n + 2
    for r in range(K):
        for col in range(K):
            Fm[r, col] = 0.0
    for a in range(n):
        Fm[n + a, a] = 1.0
        Fm[n + a, n + a] = -1.0
    for r in range(n + 2):
        row = r if r < n else n + r  # running equations, then the dense rows
        for b in range(n):
            Fm[row, b] = P[n + r, n + b]
            Fm[row, n + b] = P[n + r, 2 * n + b]
        Fm[row, 2 * n] = P[n + r, 3 * n]
        Fm[row, 2 * n + 1] = P[n + r, 3 * n + 1]
    for k in range(K):
        fpiv[k] = _pivot_step(Fm, k, K, K)
        if fpiv[k] < 0:
            return SINGULAR
    return OK


@njit(cache=True, error_model="numpy")
def factor(D, L, h, T, fu, f, flam, dense, LU, piv, X, red, dense_red, W,
           E, piv2, Fm, fpiv):  # pragma: no cover - compiled
    """:func:`condense`, then eliminate the end nodes (see the module); the arrays of both are outputs.

    ``E`` (N, 2n+2, 3n+2), ``piv2`` (N, n): the eliminations of ``u_1 … u_N−1`` (``E[0]``: the
    first interval's equations);
    ``Fm`` (2n+2, 2n+2), ``fpiv`` (2n+2,): LU of the final system.
    """
    code = condense(D, L, h, T, fu, f, flam, dense, LU, piv, X, red, dense_red, W)
    if code != OK:
        return code
    return _reduce(red, dense_red, E, piv2, Fm, fpiv)


@njit(cache=True, error_model="numpy")
def solve(LU, piv, X, dense, E, piv2, Fm, fpiv, r, r_per, r_dense, U, params, Xr, R, v):  # pragma: no cover
    """Solve the bordered collocation system factorised by :func:`factor`.

    ``r`` (N, q): collocation right-hand side (overwritten); ``r_per`` (n,), ``r_dense`` (2,):
    periodicity, phase and border right-hand sides. Out: ``U`` (N·c + 1, n) every node's
    value and ``params`` (2,) the ``(T, λ)`` components. Workspace: ``Xr`` (N, m),
    ``R`` (N, n), ``v`` (2n + 2,). Returns ``NONFINITE`` when the solution is not finite
    (a numerically singular system).
    """
    N, q, m = LU.shape[0], LU.shape[1], LU.shape[2]
    n = q - m
    c = q // n
    condense_rhs(LU, piv, r, dense, Xr, R, params)  # params: what the interior takes off r_dense
    K = 2 * n + 2
    for a in range(n):
        v[a] = R[0, a]
    v[2 * n] = r_dense[0] - params[0]
    v[2 * n + 1] = r_dense[1] - params[1]
    for j in range(1, N):
        for a in range(n):
            v[n + a] = R[j, a]
        _forward(E[j], piv2[j], v)
        for a in range(n):
            R[j, a] = v[a]  # the pivot equations' right-hand side, for the back-substitution
            v[a] = v[n + a]
    for a in range(n):
        v[n + a] = r_per[a]
    _forward(Fm, fpiv, v)
    for i in range(K - 1, -1, -1):
        s = v[i]
        for t in range(i + 1, K):
            s -= Fm[i, t] * v[t]
        v[i] = s / Fm[i, i]
    for a in range(n):
        U[0, a] = v[a]
        U[N * c, a] = v[n + a]
    params[0] = v[2 * n]
    params[1] = v[2 * n + 1]
    for j in range(N - 1, 0, -1):
        for i in range(n - 1, -1, -1):
            s = R[j, i] - E[j, i, 3 * n] * params[0] - E[j, i, 3 * n + 1] * params[1]
            for b in range(n):
                s -= E[j, i, n + b] * U[0, b] + E[j, i, 2 * n + b] * U[(j + 1) * c, b]
            for t in range(i + 1, n):
                s -= E[j, i, t] * U[j * c, t]
            U[j * c, i] = s / E[j, i, i]
    _expand(X, Xr, params, U)
    for g in range(U.shape[0]):
        for a in range(n):
            if not math.isfinite(U[g, a]):
                return NONFINITE
    if not (math.isfinite(params[0]) and math.isfinite(params[1])):
        return NONFINITE
    return OK


@njit(cache=True, error_model="numpy")
def at_gauss(L, D, h, U, Z, dZ):  # pragma: no cover - compiled
    """The orbit ``Z`` and its derivative ``dZ`` (N·c, n) at the Gauss points, from the node values ``U``."""
    c, n = L.shape[0], U.shape[1]
    for j in range(h.shape[0]):
        for k in range(c):
            g = j * c + k
            for a in range(n):
                z = 0.0
                dz = 0.0
                for i in range(c + 1):
                    u = U[j * c + i, a]
                    z += L[k, i] * u
                    dz += D[k, i] * u
                Z[g, a] = z
                dZ[g, a] = dz / h[j]
    return OK


@njit(cache=True, error_model="numpy")
def residual(dZ, f, T, U, ref_row, out):  # pragma: no cover - compiled
    """Collocation ``u' − T f`` at the Gauss points, periodicity ``u(0) − u(1)`` and phase ``ref_row·U``
    into ``out``.

    Returns ``NONFINITE`` when a residual is NaN or infinite.
    """
    M, n = dZ.shape[0], dZ.shape[1]
    last = U.shape[0] - 1
    for g in range(M):
        for a in range(n):
            out[g * n + a] = dZ[g, a] - T * f[g, a]
    for a in range(n):
        out[M * n + a] = U[0, a] - U[last, a]
    s = 0.0
    for g in range(U.shape[0]):
        for a in range(n):
            s += ref_row[g * n + a] * U[g, a]
    out[M * n + n] = s
    for i in range(out.shape[0]):
        if not math.isfinite(out[i]):
            return NONFINITE
    return OK


@njit(cache=True, error_model="numpy")
def monodromy(D, L, h, T, fu, piv, red, W, G, M, P):  # pragma: no cover - compiled
    """:func:`condense` without the parameter columns (``W`` of shape (q, m + 2n)), then
    ``M = G_N−1 ⋯ G_0`` (:func:`chain`).

    Workspace ``piv`` (N, m), ``red`` (N, n, 2n+2), ``G`` (n, 2n), ``P`` (n, n). Out: ``M`` (n, n).
    """
    # the arrays condense does not use without the parameter columns: red stands in for them
    code = condense(D, L, h, T, fu, red, red, red[0], red, piv, red, red, red[0], W)
    if code != OK:
        return code
    return chain(red, G, M, P)


@njit(cache=True, error_model="numpy")
def chain(red, G, M, P):  # pragma: no cover - compiled
    """``M = G_N−1 ⋯ G_0`` from condensed blocks ``red`` (N, n, ≥ 2n) ``[A_j | B_j | …]``.

    ``G_j = −B_j⁻¹ A_j`` maps interval ``j``'s left end node to its right one (AUTO's FLOQUET).
    Workspace ``G`` (n, 2n): ``[B_j | −A_j]`` eliminated in place; ``P`` (n, n). Out: ``M`` (n, n).
    """
    N, n = red.shape[0], red.shape[1]
    for a in range(n):
        for b in range(n):
            M[a, b] = 1.0 if a == b else 0.0
    for j in range(N):
        for a in range(n):
            for b in range(n):
                G[a, b] = red[j, a, n + b]
                G[a, n + b] = -red[j, a, b]
        for k in range(n):
            if _pivot_step(G, k, n, n) < 0:
                return SINGULAR
        for col in range(n):  # back-substitution: G[:, n + col] becomes column col of −B⁻¹A
            for r in range(n - 1, -1, -1):
                s = G[r, n + col]
                for t in range(r + 1, n):
                    s -= G[r, t] * G[t, n + col]
                G[r, n + col] = s / G[r, r]
        for a in range(n):  # P = G_j M
            for b in range(n):
                s = 0.0
                for t in range(n):
                    s += G[a, n + t] * M[t, b]
                P[a, b] = s
        for a in range(n):
            for b in range(n):
                M[a, b] = P[a, b]
    for a in range(n):
        for b in range(n):
            if not math.isfinite(M[a, b]):
                return SINGULAR  # numerically singular
    return OK


@njit(cache=True, error_model="numpy")
def newton_step(D, L, h, fu, f, flam, dZ, y, ref_row, border, c, work, LU, piv, X, red, dense_red, W, E, piv2, Fm,
                fpiv, r, r_ends, dU, Xr, R, v, y_out, out):  # pragma: no cover - compiled
    """One Newton iteration on the bordered collocation system: residual, :func:`factor` and
    :func:`solve` in one call.

    ``y`` (size,): the iterate ``(u at the nodes, T, λ)``; ``dZ`` (N·c, n): its derivative at the
    Gauss points (:func:`at_gauss`); ``f``, ``flam`` (N, c, n), ``fu`` (N, c, n, n) at them;
    ``ref_row`` the phase row, ``border`` and ``c`` the bordering row ``border·y = c``. ``work``
    (2, size): :func:`factor`'s dense rows, filled here. Workspace ``r`` (N, q), ``r_ends``
    (3, max(n, 2)): the periodicity, the phase and border, and the solve's ``(T, λ)`` right-hand
    sides, ``Xr`` (N, m), ``R`` (N, n), ``v`` (2n + 2,); ``dU`` (N·c + 1, n), the Newton
    update's node values, and ``y_out`` (size,) = ``y`` + update, are outputs, as are
    ``out = (‖update‖₂, ‖y_out‖₂, ‖F(y)‖₂)``.

    Returns ``OK``, ``NONFINITE`` (the residual or ``f``, ``f_u``, ``f_λ`` not finite) or
    ``SINGULAR`` (a zero pivot, or an update that is not finite: a numerically singular system).
    """
    N, cc, n = fu.shape[0], fu.shape[1], fu.shape[2]
    size = y.shape[0]
    n_u = size - 2
    last = n_u - n
    T = y[size - 2]
    q = cc * n
    # the residual -F(y): collocation u' − T f, periodicity, phase; and the border's c − b·y
    ss = 0.0
    for j in range(N):
        for k in range(cc):
            for a in range(n):
                e = dZ[j * cc + k, a] - T * f[j, k, a]
                r[j, k * n + a] = -e
                ss += e * e
    r_per, r_dense, params = r_ends[0, :n], r_ends[1, :2], r_ends[2, :2]
    for a in range(n):
        e = y[a] - y[last + a]
        r_per[a] = -e
        ss += e * e
    phase = 0.0
    bdot = 0.0
    for i in range(n_u):
        phase += ref_row[i] * y[i]
        bdot += border[i] * y[i]
        work[0, i] = ref_row[i]
        work[1, i] = border[i]
    for i in range(n_u, size):
        work[0, i] = 0.0
        work[1, i] = border[i]
        bdot += border[i] * y[i]
    ss += phase * phase
    out[2] = math.sqrt(ss)
    if not math.isfinite(ss):
        return NONFINITE
    r_dense[0] = -phase
    r_dense[1] = c - bdot
    code = factor(D, L, h, T, fu, f, flam, work, LU, piv, X, red, dense_red, W, E, piv2, Fm, fpiv)
    if code != OK:
        return code
    code = solve(LU, piv, X, work, E, piv2, Fm, fpiv, r, r_per, r_dense, dU, params, Xr, R, v)
    if code != OK:
        return SINGULAR
    sd = 0.0
    sy = 0.0
    for g in range(dU.shape[0]):
        for a in range(n):
            d = dU[g, a]
            i = g * n + a
            y_out[i] = y[i] + d
            sd += d * d
            sy += y_out[i] * y_out[i]
    for i in range(n_u, size):
        d = params[i - n_u]
        y_out[i] = y[i] + d
        sd += d * d
        sy += y_out[i] * y_out[i]
    out[0] = math.sqrt(sd)
    out[1] = math.sqrt(sy)
    return OK


@njit(cache=True, error_model="numpy")
def phase_row(P, U, row):  # pragma: no cover - compiled
    """The phase row ``row`` (N·c + 1, n) with ``row·u = ∫₀¹ u·v'`` for the reference orbit ``v`` (node values
    ``U``): interval ``j`` adds ``P U_j`` to its nodes, ``P = Lᵀ diag(w) D`` (c+1, c+1)."""
    c, n = P.shape[0] - 1, U.shape[1]
    for g in range(row.shape[0]):
        for a in range(n):
            row[g, a] = 0.0
    for j in range((U.shape[0] - 1) // c):
        for i in range(c + 1):
            for a in range(n):
                s = 0.0
                for k in range(c + 1):
                    s += P[i, k] * U[j * c + k, a]
                row[j * c + i, a] += s  # an end node gets the sum of its two intervals' parts
    return OK


@njit(cache=True, error_model="numpy")
def measures(U, w, out):  # pragma: no cover - compiled
    """Of the orbit with node values ``U`` (N·c + 1, n) and quadrature weights ``w``: ``out[0]`` AUTO's L2
    norm ``sqrt(Σ_g w_g |u_g|²)``, ``out[1]`` the largest half peak-to-peak of a component, ``out[2]``
    the largest ``|u|`` of a component."""
    G, n = U.shape[0], U.shape[1]
    s = 0.0
    for g in range(G):
        q = 0.0
        for a in range(n):
            q += U[g, a] * U[g, a]
        s += w[g] * q
    out[0] = math.sqrt(s)
    out[1] = 0.0
    out[2] = 0.0
    for a in range(n):
        lo = hi = U[0, a]
        for g in range(1, G):
            lo = min(lo, U[g, a])
            hi = max(hi, U[g, a])
        out[1] = max(out[1], 0.5 * (hi - lo))
        out[2] = max(out[2], max(abs(lo), abs(hi)))
    return OK


@njit(cache=True, error_model="numpy")
def deviations(Ua, Ub, w, out):  # pragma: no cover - compiled
    """``out = (⟨da, da⟩, ⟨db, db⟩, ⟨da, db⟩)`` for the deviations ``d = u − ū`` of two orbits from
    their means, ``⟨x, y⟩ = Σ_g w_g x_g·y_g`` (node values ``Ua``, ``Ub`` on one mesh, weights ``w``)."""
    G, n = Ua.shape[0], Ua.shape[1]
    for k in range(3):
        out[k] = 0.0
    for a in range(n):
        ma = mb = 0.0
        for g in range(G):
            ma += w[g] * Ua[g, a]
            mb += w[g] * Ub[g, a]
        for g in range(G):
            da, db = Ua[g, a] - ma, Ub[g, a] - mb
            out[0] += w[g] * da * da
            out[1] += w[g] * db * db
            out[2] += w[g] * da * db
    return OK


@njit(cache=True, error_model="numpy")
def interpolate(mesh, coef, U, t, out):  # pragma: no cover - compiled
    """The piecewise polynomial with node values ``U`` (N·c + 1, n) on ``mesh`` (N + 1,) at the times ``t``
    (clipped to [0, 1]) into ``out`` (len(t), n); ``coef`` (c+1, c+1): the Lagrange basis's monomial
    coefficients on [0, 1] (``l_i(s) = Σ_p coef[p, i] s^p``)."""
    N, c1, n = mesh.shape[0] - 1, coef.shape[0], U.shape[1]
    c = c1 - 1
    for m in range(t.shape[0]):
        tm = min(max(t[m], 0.0), 1.0)
        lo, hi = 0, N + 1  # the interval j with mesh[j] <= tm < mesh[j + 1] (the last one at tm = 1)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if mesh[mid] <= tm:
                lo = mid
            else:
                hi = mid
        j = min(lo, N - 1)
        s = (tm - mesh[j]) / (mesh[j + 1] - mesh[j])
        for a in range(n):
            out[m, a] = 0.0
        for i in range(c1):
            li, sp = 0.0, 1.0
            for p in range(c1):
                li += coef[p, i] * sp
                sp *= s
            for a in range(n):
                out[m, a] += li * U[j * c + i, a]
    return OK


@njit(cache=True, error_model="numpy")
def mesh_monitor(lead, U, h, d, monitor):  # pragma: no cover - compiled
    """Raise ``monitor`` (N,) to de Boor's error monitor of the orbit with node values ``U`` (N·c + 1, n):
    per interval, the largest over components of the mean of its two end jumps of the ``c``-th
    derivative (``lead·U_j / h_j^c``, periodic neighbours) over the mean neighbour length.
    Workspace ``d`` (N, n)."""
    N, n = h.shape[0], U.shape[1]
    c = lead.shape[0] - 1
    for j in range(N):
        hc = h[j] ** c
        for a in range(n):
            s = 0.0
            for i in range(c + 1):
                s += lead[i] * U[j * c + i, a]
            d[j, a] = s / hc
    for j in range(N):
        jp = j + 1 if j + 1 < N else 0  # the right neighbour
        jm = j - 1 if j > 0 else N - 1  # the left one
        hm_r = 0.5 * (h[j] + h[jp])
        hm_l = 0.5 * (h[jm] + h[j])
        best = 0.0
        for a in range(n):
            der = 0.5 * (abs(d[jp, a] - d[j, a]) / hm_r + abs(d[j, a] - d[jm, a]) / hm_l)
            if a == 0 or der > best:
                best = der
        if best > monitor[j]:
            monitor[j] = best
    return OK
