"""Element-wise and sparse kernels of fully connected networks (loss, gradient, R-operator).

The dense matrix products stay with BLAS (``np.dot`` in :mod:`pathtrack.nn.model`); these
kernels fuse everything in between into one pass over each layer's buffer, in parallel
over rows (samples) or chunks of rows. They fill caller-owned workspaces and allocate
nothing proportional to the data. Generic in the float type: numba compiles one version
for float32 and one for float64 buffers.

Conventions: rows are samples, a layer's buffer is ``(m, n_units)``; ``w`` are the
per-sample loss weights; ``G`` buffers hold ``w_i ∂ℓ_i/∂z`` (the back-propagated
deltas), ``R*`` buffers the directional derivatives of Pearlmutter's R-operator.
"""

import math

import numpy as np
from numba import njit, prange

# Hidden activations.
SWITCH = 0    # Deng's switch: tanh(x/2)^2 for x > 0, else 0
RELU = 1
TANH = 2
SIGMOID = 3

# Losses.
CROSS_ENTROPY = 0
MSE = 1       # sum_k (softmax(z/T)_k - onehot_k)^2
MARGIN = 2    # max(0, kappa - (z_y - max_{j!=y} z_j))^2 on the raw logits z


@njit(cache=True)
def activation(x, kind):
    """Return (σ(x), σ'(x), σ''(x)) for activation ``kind``."""
    if kind == SWITCH:
        if x <= 0.0:
            return 0.0, 0.0, 0.0
        # tanh(x/2) = -expm1(-x) / (2 + expm1(-x)): one expm1 is cheaper than tanh and exact
        # for small x; float32 inputs stay float32 (expm1f)
        e = math.expm1(-x)
        t = -e / (np.float32(2.0) + e)
        s = 1.0 - t * t  # sech^2(x/2)
        return t * t, t * s, 0.5 * s * (1.0 - 3.0 * t * t)
    if kind == RELU:
        if x > 0.0:
            return x, 1.0, 0.0
        return 0.0, 0.0, 0.0
    if kind == TANH:
        t = math.tanh(x)
        return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)
    # logistic sigmoid, written to avoid overflow of exp for large |x|
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    return s, s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s)


# The switch function in whole rows. Numba cannot vectorise calls to expm1 (no SVML with pip's
# llvmlite), so these loops compute it from arithmetic alone: expm1(-x/2^k) by its Taylor
# series, then k doublings expm1(2u) = u (u + 2). For u in (-1, 0] a doubling never amplifies
# relative error, so the result stays within a few ulps for every x >= 0 (tests check it
# against math.expm1); x is clamped where tanh(x/2) rounds to 1.
_F32 = np.float32


@njit(cache=True, inline="always")
def _expm1_neg_f32(x):
    """expm1(-x) for 0 <= x <= 20 in float32 arithmetic."""
    z = x * _F32(-0.0625)  # |z| <= 1.25: Taylor degree 11 is below float32 rounding
    p = _F32(1.0) + z * _F32(1.0 / 11.0)
    p = _F32(1.0) + z * _F32(1.0 / 10.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 9.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 8.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 7.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 6.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 5.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 4.0) * p
    p = _F32(1.0) + z * _F32(1.0 / 3.0) * p
    p = _F32(1.0) + z * _F32(0.5) * p
    u = z * p
    u = u * (u + _F32(2.0))  # written out: a loop here would stop the caller's vectorisation
    u = u * (u + _F32(2.0))
    u = u * (u + _F32(2.0))
    return u * (u + _F32(2.0))


@njit(cache=True, inline="always")
def _expm1_neg_f64(x):
    """expm1(-x) for 0 <= x <= 40 in float64 arithmetic."""
    z = x * -0.03125  # |z| <= 1.25: Taylor degree 19 is below float64 rounding
    p = 1.0 + z * (1.0 / 19.0)
    p = 1.0 + z * (1.0 / 18.0) * p
    p = 1.0 + z * (1.0 / 17.0) * p
    p = 1.0 + z * (1.0 / 16.0) * p
    p = 1.0 + z * (1.0 / 15.0) * p
    p = 1.0 + z * (1.0 / 14.0) * p
    p = 1.0 + z * (1.0 / 13.0) * p
    p = 1.0 + z * (1.0 / 12.0) * p
    p = 1.0 + z * (1.0 / 11.0) * p
    p = 1.0 + z * (1.0 / 10.0) * p
    p = 1.0 + z * (1.0 / 9.0) * p
    p = 1.0 + z * (1.0 / 8.0) * p
    p = 1.0 + z * (1.0 / 7.0) * p
    p = 1.0 + z * (1.0 / 6.0) * p
    p = 1.0 + z * (1.0 / 5.0) * p
    p = 1.0 + z * (1.0 / 4.0) * p
    p = 1.0 + z * (1.0 / 3.0) * p
    p = 1.0 + z * 0.5 * p
    u = z * p
    u = u * (u + 2.0)
    u = u * (u + 2.0)
    u = u * (u + 2.0)
    u = u * (u + 2.0)
    return u * (u + 2.0)


@njit(cache=True, fastmath={"contract"}, error_model="numpy")  # no ZeroDivisionError branch: it blocks SIMD
def activate_row(a, d1, kind):
    """a <- σ(a) and d1 <- σ'(a) in place, in loops the compiler vectorises (switch, ReLU).

    NaN pre-activations stay NaN in ``a``.
    """
    n = a.shape[0]
    if kind == RELU:
        for j in range(n):
            x = a[j]
            pos = x > 0
            a[j] = x if pos else (x * 0 if x != x else 0)
            d1[j] = 1 if pos else 0
    elif kind == SWITCH and a.itemsize == 4:
        zero = _F32(0.0)
        for j in range(n):
            x = a[j]
            xc = x if x < _F32(20.0) else _F32(20.0)
            xc = xc if xc > zero else zero
            e = _expm1_neg_f32(xc)
            t = -e / (_F32(2.0) + e)  # tanh(x/2)
            t2 = t * t
            pos = x > zero
            a[j] = t2 if pos else (x if x != x else zero)
            d1[j] = t * (_F32(1.0) - t2) if pos else zero
    elif kind == SWITCH:
        for j in range(n):
            x = a[j]
            xc = x if x < 40.0 else 40.0
            xc = xc if xc > 0.0 else 0.0
            e = _expm1_neg_f64(xc)
            t = -e / (2.0 + e)
            t2 = t * t
            pos = x > 0.0
            a[j] = t2 if pos else (x if x != x else 0.0)
            d1[j] = t * (1.0 - t2) if pos else 0.0
    else:
        for j in range(n):
            aj, dj, _ = activation(a[j], kind)
            a[j] = aj
            d1[j] = dj


@njit(cache=True, fastmath={"contract"}, error_model="numpy")
def activate_row2(a, d1, d2, kind):
    """As :func:`activate_row`, and d2 <- σ''(a) (for exact Hessian-vector products)."""
    if kind == SWITCH:
        n = a.shape[0]
        for j in range(n):
            d2[j] = a[j]  # keep the pre-activation
        activate_row(a, d1, kind)
        for j in range(n):
            # with t = tanh(x/2): σ = t², σ' = t (1 - t²), σ'' = (1 - t²)(1 - 3t²)/2
            t2 = a[j]
            d2[j] = (1 - t2) * (1 - 3 * t2) * 0.5 if d2[j] > 0 else 0
    elif kind == RELU:
        activate_row(a, d1, kind)
        d2[:] = 0
    else:
        for j in range(a.shape[0]):
            aj, dj, d2j = activation(a[j], kind)
            a[j] = aj
            d1[j] = dj
            d2[j] = d2j


@njit(cache=True)
def _chunk(c, n_chunks, m):
    return c * m // n_chunks, (c + 1) * m // n_chunks


@njit(parallel=True, cache=True)
def hidden_forward(Z, b, kind, D1, D2, want_d2):
    """Z <- σ(Z + b) in place; D1 <- σ'(Z + b) and (if ``want_d2``) D2 <- σ''(Z + b)."""
    m, n = Z.shape
    for i in prange(m):
        if want_d2:
            for j in range(n):
                a, d1, d2 = activation(Z[i, j] + b[j], kind)
                Z[i, j] = a
                D1[i, j] = d1
                D2[i, j] = d2
        else:
            z = Z[i]
            for j in range(n):
                z[j] += b[j]
            activate_row(z, D1[i], kind)
    return 0


@njit(cache=True)
def _softmax_row(Z, S, i, b, inv_T):
    """Add the bias to logits row i in place and write softmax(z/T) to S[i]; return log-sum-exp of z/T."""
    K = Z.shape[1]
    mx = -np.inf
    for k in range(K):
        z = Z[i, k] + b[k]
        Z[i, k] = z
        mx = max(mx, z * inv_T)
    tot = 0.0
    for k in range(K):
        e = math.exp(Z[i, k] * inv_T - mx)
        S[i, k] = e
        tot += e
    for k in range(K):
        S[i, k] = S[i, k] / tot
    return mx + math.log(tot)


@njit(cache=True)
def _runner_up(Z, i, y):
    """Index of the largest logit other than the true class ``y``."""
    K = Z.shape[1]
    best = -1
    for k in range(K):
        if k != y and (best < 0 or Z[i, k] > Z[i, best]):
            best = k
    return best


@njit(cache=True)
def output_row(Z, S, G, i, b, yi, wi, loss, inv_T, kappa):
    """Row i of the output layer: add the bias to the logits Z[i], S[i] <- softmax(Z[i]/T),
    G[i] <- wi ∂ℓ/∂z; return the unweighted loss ℓ of the row."""
    K = Z.shape[1]
    lse = _softmax_row(Z, S, i, b, inv_T)
    if loss == CROSS_ENTROPY:
        for k in range(K):
            G[i, k] = wi * inv_T * S[i, k]
        G[i, yi] -= wi * inv_T
        return lse - Z[i, yi] * inv_T
    if loss == MSE:
        su = 0.0  # s·u with u = s - onehot
        tot = 0.0
        for k in range(K):
            u = S[i, k] - (1.0 if k == yi else 0.0)
            su += S[i, k] * u
            tot += u * u
        for k in range(K):
            u = S[i, k] - (1.0 if k == yi else 0.0)
            G[i, k] = 2.0 * wi * inv_T * S[i, k] * (u - su)
        return tot
    j = _runner_up(Z, i, yi)
    h = max(0.0, kappa - (Z[i, yi] - Z[i, j]))
    for k in range(K):
        G[i, k] = 0.0
    G[i, yi] = -2.0 * wi * h
    G[i, j] = 2.0 * wi * h
    return h * h


@njit(parallel=True, cache=True)
def output_forward(Z, b, y, w, loss, inv_T, kappa, S, G, ell):
    """Output layer: logits, softmax, per-sample losses and weighted deltas.

    Z <- Z + b (logits); S <- softmax(Z/T); ell[i] <- ℓ_i (unweighted);
    G[i] <- w_i ∂ℓ_i/∂z_i.
    """
    for i in prange(Z.shape[0]):
        ell[i] = output_row(Z, S, G, i, b, y[i], w[i], loss, inv_T, kappa)
    return 0


@njit(cache=True)
def output_rop_row(Z, S, RZ, RG, i, yi, wi, loss, inv_T, kappa, gauss_newton):
    """Row i of :func:`output_rop`: RG[i] <- w_i H_i RZ[i] from the logits Z[i] and softmax S[i]."""
    K = Z.shape[1]
    if loss == MARGIN:
        j = _runner_up(Z, i, yi)
        for k in range(K):
            RG[i, k] = 0.0
        if kappa - (Z[i, yi] - Z[i, j]) > 0.0:
            c = 2.0 * wi * (RZ[i, yi] - RZ[i, j])
            RG[i, yi] = c
            RG[i, j] = -c
        return
    sr = 0.0
    for k in range(K):
        sr += S[i, k] * RZ[i, k]
    if loss == CROSS_ENTROPY:
        for k in range(K):
            RG[i, k] = wi * inv_T * inv_T * S[i, k] * (RZ[i, k] - sr)
        return
    # MSE: Rs = J_s r = (s⊙r - s (s·r))/T
    s_rs = 0.0   # s·Rs
    u_rs = 0.0   # u·Rs
    su = 0.0     # s·u
    for k in range(K):
        rs = inv_T * S[i, k] * (RZ[i, k] - sr)
        u = S[i, k] - (1.0 if k == yi else 0.0)
        s_rs += S[i, k] * rs
        u_rs += u * rs
        su += S[i, k] * u
    for k in range(K):
        s = S[i, k]
        rs = inv_T * s * (RZ[i, k] - sr)
        if gauss_newton:
            RG[i, k] = 2.0 * wi * inv_T * s * (rs - s_rs)
        else:
            u = s - (1.0 if k == yi else 0.0)
            RG[i, k] = 2.0 * wi * inv_T * (rs * u + s * rs - rs * su - s * (u_rs + s_rs))


@njit(parallel=True, cache=True)
def output_rop(Z, S, y, w, loss, inv_T, kappa, RZ, RG, gauss_newton):
    """RG[i] <- w_i H_i RZ[i], H_i the Hessian of ℓ_i in the logits (or its Gauss–Newton part).

    For cross-entropy and the margin loss the two coincide. For MSE on the softmax the
    Gauss–Newton part is 2 J_s^T J_s (s = softmax(z/T), the loss convex in s).
    """
    for i in prange(Z.shape[0]):
        output_rop_row(Z, S, RZ, RG, i, y[i], w[i], loss, inv_T, kappa, gauss_newton)
    return 0


@njit(parallel=True, cache=True)
def backward_hidden(G, D1, partial, scale):
    """G <- G ⊙ D1 (delta through the activation; skipped unless ``scale``) with per-chunk
    column sums into ``partial`` (the caller sums them into the bias gradient)."""
    m, n = G.shape
    n_chunks = partial.shape[0]
    for c in prange(n_chunks):
        lo, hi = _chunk(c, n_chunks, m)
        for j in range(n):
            partial[c, j] = 0.0
        for i in range(lo, hi):
            for j in range(n):
                g = G[i, j] * D1[i, j] if scale else G[i, j]
                G[i, j] = g
                partial[c, j] += g
    return 0


@njit(parallel=True, cache=True)
def rop_forward_hidden(RZ, vb, D1, RA):
    """RZ <- RZ + vb (R{z}); RA <- D1 ⊙ RZ (R{a})."""
    m, n = RZ.shape
    for i in prange(m):
        for j in range(n):
            r = RZ[i, j] + vb[j]
            RZ[i, j] = r
            RA[i, j] = D1[i, j] * r
    return 0


@njit(parallel=True, cache=True)
def add_bias(RZ, vb):
    """RZ <- RZ + vb (R{z} of the output layer)."""
    m, n = RZ.shape
    for i in prange(m):
        for j in range(n):
            RZ[i, j] += vb[j]
    return 0


@njit(parallel=True, cache=True)
def rop_backward_hidden(RG, G, D1, D2, RZ, partial):
    """Exact R-operator through an activation, fused with the plain delta.

    On entry ``G = δ_l W_lᵀ`` and ``RG = Rδ_l W_lᵀ + δ_l V_lᵀ``. On exit
    ``RG = RG ⊙ σ' + G ⊙ σ'' ⊙ RZ`` and ``G = G ⊙ σ'``; ``partial`` gets the chunk
    column sums of the new RG. (Gauss–Newton drops the σ'' term: use :func:`backward_hidden`.)
    """
    m, n = RG.shape
    n_chunks = partial.shape[0]
    for c in prange(n_chunks):
        lo, hi = _chunk(c, n_chunks, m)
        for j in range(n):
            partial[c, j] = 0.0
        for i in range(lo, hi):
            for j in range(n):
                r = RG[i, j] * D1[i, j] + G[i, j] * D2[i, j] * RZ[i, j]
                G[i, j] = G[i, j] * D1[i, j]
                RG[i, j] = r
                partial[c, j] += r
    return 0


@njit(parallel=True, cache=True)
def margins(Z, y, out):
    """out[i] <- z_y - max_{j≠y} z_j from the logits (positive: correctly classified)."""
    m = Z.shape[0]
    for i in prange(m):
        yi = y[i]
        out[i] = Z[i, yi] - Z[i, _runner_up(Z, i, yi)]
    return 0


# --- sparse first layer -----------------------------------------------------------------------
#
# Forward products X W go row by row over a CSR copy of the inputs; backward products Xᵀ G go
# over a block-CSC copy (one CSC per block of rows). Both unroll over non-zeros so that each
# pass over an H-wide row does several multiply-adds per load and store of the accumulator:
# one axpy per non-zero is bound by the accumulator's stores, not by the arithmetic.


@njit(cache=True, fastmath={"contract"})
def sparse_row_axpy(indptr, indices, data, i, W, acc):
    """acc += X[i] W for row i of X in CSR form (8 non-zeros per pass over acc)."""
    n = acc.shape[0]
    k = indptr[i]
    k1 = indptr[i + 1]
    while k + 8 <= k1:
        v0, v1, v2, v3 = data[k], data[k + 1], data[k + 2], data[k + 3]
        v4, v5, v6, v7 = data[k + 4], data[k + 5], data[k + 6], data[k + 7]
        w0, w1, w2, w3 = W[indices[k]], W[indices[k + 1]], W[indices[k + 2]], W[indices[k + 3]]
        w4, w5, w6, w7 = W[indices[k + 4]], W[indices[k + 5]], W[indices[k + 6]], W[indices[k + 7]]
        for j in range(n):
            acc[j] += ((v0 * w0[j] + v1 * w1[j]) + (v2 * w2[j] + v3 * w3[j])) + \
                      ((v4 * w4[j] + v5 * w5[j]) + (v6 * w6[j] + v7 * w7[j]))
        k += 8
    # the remainder in passes of 4, 2 and 1: a pass costs about the same whatever its width
    if k + 4 <= k1:
        v0, v1, v2, v3 = data[k], data[k + 1], data[k + 2], data[k + 3]
        w0, w1, w2, w3 = W[indices[k]], W[indices[k + 1]], W[indices[k + 2]], W[indices[k + 3]]
        for j in range(n):
            acc[j] += (v0 * w0[j] + v1 * w1[j]) + (v2 * w2[j] + v3 * w3[j])
        k += 4
    if k + 2 <= k1:
        v0, v1 = data[k], data[k + 1]
        w0, w1 = W[indices[k]], W[indices[k + 1]]
        for j in range(n):
            acc[j] += v0 * w0[j] + v1 * w1[j]
        k += 2
    if k < k1:
        v = data[k]
        w = W[indices[k]]
        for j in range(n):
            acc[j] += v * w[j]


@njit(parallel=True, cache=True)
def column_counts(X, parts):
    """The number of non-zeros in each column of the dense X (``parts`` (n_parts, d) int64
    workspace, one row of counts per parallel part)."""
    m, d = X.shape
    n_parts = parts.shape[0]
    for c in prange(n_parts):
        lo, hi = _chunk(c, n_parts, m)
        cnt = parts[c]
        cnt[:] = 0
        for i in range(lo, hi):
            for r in range(d):
                if X[i, r] != 0:
                    cnt[r] += 1
    return parts.sum(axis=0)


@njit(parallel=True, cache=True)
def split_columns(X, dense):
    """Split the dense X by columns: ``(indptr, indices, data)``, the CSR of the columns where
    ``dense`` is false, and ``Xd``, a C-ordered copy of the others. Two parallel passes
    (count, fill); scipy's dense → COO → CSR alone took 0.7 s on MNIST."""
    m, d = X.shape
    dcols = np.flatnonzero(dense)
    Xd = np.empty((m, dcols.shape[0]), X.dtype)
    counts = np.empty(m, np.int64)
    for i in prange(m):
        n = 0
        for r in range(d):
            if X[i, r] != 0 and not dense[r]:
                n += 1
        counts[i] = n
    indptr = np.zeros(m + 1, np.int64)
    indptr[1:] = np.cumsum(counts)
    indices = np.empty(indptr[m], np.int32)
    data = np.empty(indptr[m], X.dtype)
    for i in prange(m):
        k = indptr[i]
        q = 0
        for r in range(d):
            v = X[i, r]
            if dense[r]:
                Xd[i, q] = v
                q += 1
            elif v != 0:
                indices[k] = r
                data[k] = v
                k += 1
    return indptr, indices, data, Xd


@njit(cache=True)
def block_csc(indptr, indices, data, block, d):
    """Regroup a CSR matrix (m × d) into one CSC per block of ``block`` rows.

    Returns ``(bptr, pix, pptr, rows, vals)``: block b owns the pixel entries
    ``bptr[b]:bptr[b+1]``; pixel entry q is column ``pix[q]``, whose non-zeros in the block
    are ``rows[pptr[q]:pptr[q+1]]`` (row offsets within the block) and ``vals[...]``.
    """
    m = indptr.shape[0] - 1
    nb = (m + block - 1) // block
    nnz = indptr[m]
    rows = np.empty(nnz, np.int32)
    vals = np.empty(nnz, data.dtype)
    cnt = np.zeros(d, np.int64)
    bptr = np.zeros(nb + 1, np.int64)
    for b in range(nb):  # pass 1: how many distinct pixels each block has
        cnt[:] = 0
        for k in range(indptr[b * block], indptr[min(m, (b + 1) * block)]):
            cnt[indices[k]] += 1
        bptr[b + 1] = bptr[b] + np.count_nonzero(cnt)
    pix = np.empty(bptr[nb], np.int32)
    pptr = np.empty(bptr[nb] + 1, np.int64)
    pos = np.empty(d, np.int64)
    q = 0
    e = 0
    for b in range(nb):  # pass 2: fill
        lo = b * block
        hi = min(m, lo + block)
        cnt[:] = 0
        for k in range(indptr[lo], indptr[hi]):
            cnt[indices[k]] += 1
        for r in range(d):
            if cnt[r] > 0:
                pix[q] = r
                pptr[q] = e
                pos[r] = e
                e += cnt[r]
                q += 1
        for i in range(lo, hi):
            for k in range(indptr[i], indptr[i + 1]):
                r = indices[k]
                rows[pos[r]] = i - lo
                vals[pos[r]] = data[k]
                pos[r] += 1
    pptr[q] = e
    return bptr, pix, pptr, rows, vals


@njit(cache=True, fastmath={"contract"})
def block_tmatmul_add(bptr, pix, pptr, rows, vals, b, G, base, out):
    """out += X_bᵀ G[base:] for block b of a :func:`block_csc` matrix (4 rows per pass)."""
    n = out.shape[1]
    for q in range(bptr[b], bptr[b + 1]):
        o = out[pix[q]]
        k = pptr[q]
        k1 = pptr[q + 1]
        while k + 4 <= k1:
            v0, v1, v2, v3 = vals[k], vals[k + 1], vals[k + 2], vals[k + 3]
            g0, g1 = G[base + rows[k]], G[base + rows[k + 1]]
            g2, g3 = G[base + rows[k + 2]], G[base + rows[k + 3]]
            for j in range(n):
                o[j] += (v0 * g0[j] + v1 * g1[j]) + (v2 * g2[j] + v3 * g3[j])
            k += 4
        if k + 2 <= k1:
            v0, v1 = vals[k], vals[k + 1]
            g0, g1 = G[base + rows[k]], G[base + rows[k + 1]]
            for j in range(n):
                o[j] += v0 * g0[j] + v1 * g1[j]
            k += 2
        if k < k1:
            v = vals[k]
            g = G[base + rows[k]]
            for j in range(n):
                o[j] += v * g[j]


@njit(parallel=True, cache=True)
def csr_matmul(indptr, indices, data, W, out, accumulate):
    """out <- X W (or out += X W if ``accumulate``) for X in CSR form; each row is a sum of rows of W."""
    m, n = out.shape
    for i in prange(m):
        acc = out[i]
        if not accumulate:
            acc[:] = 0.0
        sparse_row_axpy(indptr, indices, data, i, W, acc)
    return 0


@njit(cache=True)
def weighted_sum(w, ell):
    """Σ_i w_i ℓ_i in float64. Not np.dot: a multithreaded BLAS dot leaves OpenBLAS workers
    spinning for ~0.1 s (unless OPENBLAS_THREAD_TIMEOUT was set before numpy loaded), and
    they take the cores from the next Numba kernel (measured: 0.09 s → 0.13 s per gradient)."""
    acc = 0.0
    for i in range(w.shape[0]):
        acc += np.float64(w[i]) * ell[i]
    return acc


@njit(parallel=True, cache=True)
def reduce_slabs(slabs, out):
    """out <- Σ_c slabs[c] (the per-part private accumulators)."""
    n_parts, d, n = slabs.shape
    for r in prange(d):
        for j in range(n):
            acc = slabs[0, r, j]
            for c in range(1, n_parts):
                acc += slabs[c, r, j]
            out[r, j] = acc
    return 0


@njit(parallel=True, cache=True)
def bcsc_tmatmul(bptr, pix, pptr, rows, vals, block, G, slabs):
    """slabs[c] <- the part-c share of Xᵀ G for X in :func:`block_csc` form (sum them with
    :func:`reduce_slabs`); one private accumulator per part, so no thread waits for another."""
    n_parts = slabs.shape[0]
    nb = bptr.shape[0] - 1
    for c in prange(n_parts):
        lo, hi = _chunk(c, n_parts, nb)
        slab = slabs[c]
        slab[:, :] = 0.0
        for b in range(lo, hi):
            block_tmatmul_add(bptr, pix, pptr, rows, vals, b, G, b * block, slab)
    return 0
