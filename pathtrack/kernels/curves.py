"""Small dense kernels of the two-parameter curve systems (:mod:`pathtrack.twoparam`).

At the curves' size (2 × 2 plugin Jacobians, 3 × 3 to 6 × 6 bordered matrices) a NumPy or LAPACK
call costs more than its arithmetic, so each kernel does one step of the curve in one call: the
inverse of the bordered matrix, and Kuznetsov's formula for ``l1`` on every Richardson step. They
are compiled ahead of time at install (:mod:`pathtrack.polynomial.aotbuild`) and called from the
curves only from that extension (:mod:`pathtrack.kernels.curveload`): the curves never import Numba,
whose import and first compile cost more than these kernels save on one run. Without the extension the
curves keep their NumPy code, which computes the same quantities.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _lu(M, piv):
    """LU of ``M`` in place with partial pivoting (rows swapped as recorded in ``piv``); False where a pivot is 0."""
    m = M.shape[0]
    for k in range(m):
        p, best = k, abs(M[k, k])
        for i in range(k + 1, m):
            if abs(M[i, k]) > best:
                p, best = i, abs(M[i, k])
        piv[k] = p
        if best == 0.0:
            return False
        if p != k:
            for j in range(m):
                M[k, j], M[p, j] = M[p, j], M[k, j]
        for i in range(k + 1, m):
            f = M[i, k] / M[k, k]
            M[i, k] = f
            for j in range(k + 1, m):
                M[i, j] -= f * M[k, j]
    return True


@njit(cache=True, error_model="numpy")
def _lu_solve(LU, piv, x):
    """Solve in place ``M y = x`` with the factors of :func:`_lu`."""
    m = LU.shape[0]
    for k in range(m):
        p = piv[k]
        if p != k:
            x[k], x[p] = x[p], x[k]
    for i in range(m):
        for j in range(i):
            x[i] -= LU[i, j] * x[j]
    for i in range(m - 1, -1, -1):
        for j in range(i + 1, m):
            x[i] -= LU[i, j] * x[j]
        x[i] /= LU[i, i]


@njit(cache=True, error_model="numpy")
def bordered_inverse(A, B, C, kappa, square):
    """``M⁻¹`` of ``M = [[T, B], [Cᵀ, 0]]``, ``T = A`` or, with ``square``, ``A² + κI``; all NaN where a pivot is 0.

    Its border columns are the solves ``M [V; G] = [0; I]`` and its border rows the transposed ones.
    """
    n, k = A.shape[0], B.shape[1]
    m = n + k
    M = np.zeros((m, m))
    for i in range(n):
        for j in range(n):
            if square:
                s = 0.0
                for t in range(n):
                    s += A[i, t] * A[t, j]
                M[i, j] = s
            else:
                M[i, j] = A[i, j]
        if square:
            M[i, i] += kappa
        for c in range(k):
            M[i, n + c] = B[i, c]
            M[n + c, i] = C[i, c]
    piv = np.zeros(m, dtype=np.int64)
    inv = np.zeros((m, m))
    if not _lu(M, piv):
        inv[:, :] = np.nan
        return inv
    col = np.zeros(m)
    for j in range(m):
        for i in range(m):
            col[i] = 0.0
        col[j] = 1.0
        _lu_solve(M, piv, col)
        for i in range(m):
            inv[i, j] = col[i]
    return inv


@njit(cache=True, error_model="numpy")
def l1_levels(jacs, weights, centre, A, q, p_adj, omega):
    """Kuznetsov's ``l1`` for every Richardson step (``normalform.lyapunov_levels`` after its Jacobians).

    ``jacs[s, t]`` is the plugin Jacobian (flattened) at stencil point ``t`` of step ``s``, ``weights[s]``
    and ``centre[s]`` the step's difference weights: the form matrices are
    ``D[s, f] = Σ_t weights[s, f, t] jacs[s, t] + centre[s, f] A`` (``Da, Db, Daa, Dab, Dbb``). NaN where
    ``A`` or ``2iω − A`` is exactly singular.
    """
    k, n = weights.shape[0], A.shape[0]
    out = np.empty(k)
    LA = A.copy()
    piv_a = np.zeros(n, dtype=np.int64)
    L2 = np.empty((n, n), dtype=np.complex128)
    for i in range(n):
        for j in range(n):
            L2[i, j] = -A[i, j]
        L2[i, i] += 2j * omega
    piv_2 = np.zeros(n, dtype=np.int64)
    if not (_lu(LA, piv_a) and _lu(L2, piv_2)):
        out[:] = np.nan
        return out
    a, b = q.real.copy(), q.imag.copy()
    D = np.empty((5, n, n))
    Bqqbar = np.empty(n)
    Bqq = np.empty(n, dtype=np.complex128)
    terms = np.empty(n, dtype=np.complex128)
    for s in range(k):
        for f in range(5):
            for i in range(n):
                for j in range(n):
                    acc = 0.0
                    for t in range(weights.shape[2]):
                        acc += weights[s, f, t] * jacs[s, t, i * n + j]
                    D[f, i, j] = acc + centre[s, f] * A[i, j]
        for i in range(n):
            da_a = da_b = db_a = db_b = 0.0
            daa_a = dab_b = dab_a = dbb_b = 0.0
            for j in range(n):
                da_a += D[0, i, j] * a[j]
                da_b += D[0, i, j] * b[j]
                db_a += D[1, i, j] * a[j]
                db_b += D[1, i, j] * b[j]
                daa_a += D[2, i, j] * a[j]
                dab_b += D[3, i, j] * b[j]
                dab_a += D[3, i, j] * a[j]
                dbb_b += D[4, i, j] * b[j]
            Bqq[i] = complex(da_a - db_b, 2.0 * da_b)
            Bqqbar[i] = da_a + db_b
            terms[i] = complex(daa_a + dab_b, dab_a + dbb_b)  # C(q, q, q̄)
        _lu_solve(LA, piv_a, Bqqbar)  # A⁻¹ B(q, q̄)
        _lu_solve(L2, piv_2, Bqq)  # (2iω − A)⁻¹ B(q, q)
        acc_c = 0.0 + 0.0j
        for i in range(n):
            ds_a = ds_b = 0.0
            dr_a = dr_b = 0.0 + 0.0j
            for j in range(n):
                ds_a += D[0, i, j] * Bqqbar[j]
                ds_b += D[1, i, j] * Bqqbar[j]
                dr_a += D[0, i, j] * Bqq[j]
                dr_b += D[1, i, j] * Bqq[j]
            t_i = terms[i] - 2.0 * complex(ds_a, ds_b) + (dr_a - 1j * dr_b)
            acc_c += t_i * np.conj(p_adj[i])
        out[s] = acc_c.real / (2.0 * omega)
    return out
