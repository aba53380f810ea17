"""One-pass loss and gradient of a one-hidden-layer network on sparse inputs.

The MNIST workhorse (784-H-10) in a single parallel region. Each part owns a run of row
blocks; per row it runs the forward pass (sparse first layer, activation, the small second
layer as K dot products) and the second layer's backward pass, keeping only the row's
first-layer delta in a block buffer. Once per block the first-layer gradient is accumulated
from that buffer through the block's CSC, several rows per pass. Nothing of size ``m × H``
is written, and each part accumulates into a private slab until the final reduction.

Hybrid first layer: the input columns that are non-zero in many rows (MNIST's centre pixels)
come as a separate dense matrix ``Xd`` with weights ``W1d = W1[dcols]``. BLAS does 4–5× the
multiply-adds per second of the sparse row passes (which are bound by L2 traffic), so those
columns are cheaper dense. Per super-block of ``n_sb`` blocks each part calls GEMM for
``Xd W1d`` into its block buffer, adds the sparse columns row by row, and after the backward
pass calls GEMM again for ``Xdᵀ δ``. The caller must hold BLAS to one thread meanwhile
(both parts call it at once). With no dense columns ``Xd`` has zero columns and no GEMM runs.
"""

import numpy as np
from numba import njit, prange

from .nn import (_chunk, activate_row, activate_row2, block_tmatmul_add, output_rop_row, output_row,
                 reduce_slabs, sparse_row_axpy)


@njit(cache=True)
def _reduce(slabs1, slabs2, g):
    """g <- the parts' slabs summed, in the parameter layout (W1, b1, W2, b2)."""
    n1 = slabs1.shape[1] * slabs1.shape[2]
    H1, K = slabs2.shape[2], slabs2.shape[1]
    reduce_slabs(slabs1, g[:n1].reshape((slabs1.shape[1], slabs1.shape[2])))
    reduce_slabs(slabs2, g[n1:].reshape((H1, K)).T)  # slabs2 holds W2ᵀ (rows over j vectorise)
    return 0


@njit(cache=True, fastmath={"contract"})
def _dense_forward(Xd, lo, hi, W1d, out):
    """out[:hi-lo] <- Xd[lo:hi] W1d (BLAS), or zeros when there are no dense columns."""
    Zs = out[:hi - lo]
    if Xd.shape[1] > 0:
        np.dot(Xd[lo:hi], W1d, Zs)
    else:
        Zs[:, :] = 0.0
    return Zs


@njit(cache=True, fastmath={"contract"})
def _dense_backward(Xd, lo, hi, Ds, dcols, tmp, s1):
    """s1[dcols] += Xd[lo:hi]ᵀ Ds (BLAS into ``tmp``, then a scatter-add)."""
    if Xd.shape[1] == 0:
        return
    np.dot(Xd[lo:hi].T, Ds, tmp)
    H = s1.shape[1]
    for q in range(dcols.shape[0]):
        r = s1[dcols[q]]
        t = tmp[q]
        for j in range(H):
            r[j] += t[j]


@njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})
def loss_grad_sparse_1h(indptr, indices, data, bptr, pix, pptr, rows, vals, block, Xd, dcols, W1d, n_sb, y, w,
                        W1, b1, W2T, b2, act, loss, inv_T, kappa, want_grad, ell, rowH, rowK, D, tmp, slabs1, slabs2,
                        g):
    """ell[i] <- ℓ_i for every row; if ``want_grad``, g <- Σ_i w_i ∇ℓ_i (layout W1, b1, W2, b2).

    The inputs come twice: CSR (``indptr, indices, data``) for the forward rows and the
    block-CSC of :func:`pathtrack.kernels.nn.block_csc` (``bptr … vals``, blocks of
    ``block`` rows) for Xᵀδ; they hold only the sparse columns. The dense columns ``dcols``
    come as ``Xd`` (m × n_d, zero columns for none) with ``W1d = W1[dcols]``, in super-blocks
    of ``n_sb`` blocks. ``W2T`` is the second layer's weight matrix transposed (K × H).
    Workspaces, one per parallel part: ``rowH`` (n_parts, 3, H), ``rowK`` (n_parts, 3, K),
    ``D`` (n_parts, n_sb·block, H), ``tmp`` (n_parts, n_d, H), ``slabs1`` (n_parts, d + 1, H)
    and ``slabs2`` (n_parts, K, H + 1); the last row of ``slabs1`` and column of ``slabs2``
    hold bias gradients.
    """
    m = y.shape[0]
    n_parts = slabs1.shape[0]
    nb = bptr.shape[0] - 1
    span = n_sb * block
    for c in prange(n_parts):
        slo, shi = _chunk(c, n_parts, (m + span - 1) // span)
        s1 = slabs1[c]
        s2 = slabs2[c]
        if want_grad:
            s1[:, :] = 0.0
            s2[:, :] = 0.0
        for sb in range(slo, shi):
            LO = sb * span
            HI = min(m, LO + span)
            Ds = _dense_forward(Xd, LO, HI, W1d, D[c])  # row i's pre-activation share, then its delta
            n_live_sb = 0
            for b in range(sb * n_sb, min(nb, (sb + 1) * n_sb)):
                n_live = _rows_grad(indptr, indices, data, b * block, min(m, (b + 1) * block), LO, Ds, y, w,
                                    W1, b1, W2T, b2, act, loss, inv_T, kappa, want_grad, ell, rowH[c], rowK[c],
                                    s1, s2)
                if want_grad and n_live > 0:
                    block_tmatmul_add(bptr, pix, pptr, rows, vals, b, Ds, b * block - LO, s1)
                n_live_sb += n_live
            if want_grad and n_live_sb > 0:
                _dense_backward(Xd, LO, HI, Ds, dcols, tmp[c], s1)
    if want_grad:
        _reduce(slabs1, slabs2, g)
    return 0


@njit(cache=True, fastmath={"contract", "reassoc"})
def _rows_grad(indptr, indices, data, lo, hi, LO, Ds, y, w, W1, b1, W2T, b2, act, loss, inv_T, kappa, want_grad,
               ell, rowH, rowK, s1, s2):
    """Rows lo..hi of :func:`loss_grad_sparse_1h`; returns how many have a non-zero delta."""
    d, H = W1.shape
    K = W2T.shape[0]
    a = rowH[0]
    back = rowH[1]
    sig = rowH[2]  # σ'(z1)
    Z = rowK[0:1]
    S = rowK[1:2]
    G = rowK[2:3]
    n_live = 0
    for i in range(lo, hi):
        di = Ds[i - LO]
        for j in range(H):
            a[j] = b1[j] + di[j]
        sparse_row_axpy(indptr, indices, data, i, W1, a)
        activate_row(a, sig, act)
        for k in range(K):
            acc = W1.dtype.type(0)
            for j in range(H):
                acc += a[j] * W2T[k, j]
            Z[0, k] = acc
        ell[i] = output_row(Z, S, G, 0, b2, y[i], w[i], loss, inv_T, kappa)
        if not want_grad:
            continue
        for j in range(H):
            back[j] = 0.0
        live = False
        for k in range(K):
            gk = G[0, k]
            if gk != 0.0:  # the margin loss leaves most rows with no gradient at all
                live = True
                s2[k, H] += gk
                for j in range(H):
                    s2[k, j] += gk * a[j]
                    back[j] += gk * W2T[k, j]
        for j in range(H):
            dj = sig[j] * back[j]  # δ1 = σ'(z1) ⊙ (W2 δ2)
            di[j] = dj
            s1[d, j] += dj
        if live:
            n_live += 1
    return n_live


@njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})
def rop_sparse_1h(indptr, indices, data, bptr, pix, pptr, rows, vals, block, Xd, dcols, W1d, V1d, n_sb, y, w,
                  W1, b1, W2T, b2, V1, vb1, V2T, vb2, act, loss, inv_T, kappa, exact, rowH, rowK, D, RD, tmp,
                  slabs1, slabs2, out):
    """out <- ∇²L(p) v (``exact``) or the Gauss–Newton product, in one pass (Pearlmutter's R-operator).

    Same inputs as :func:`loss_grad_sparse_1h`, with the direction v as ``V1, vb1, V2T, vb2``
    (``V2T`` transposed like ``W2T``) and ``V1d = V1[dcols]``. Workspaces: ``rowH``
    (n_parts, 6, H), ``rowK`` (n_parts, 5, K), ``RD`` shaped like ``D``, and ``D``, ``tmp``,
    ``slabs1``, ``slabs2`` as there. Only Xᵀ R{δ1} needs the block-CSC pass and the
    second GEMM; the plain gradient is never formed.
    """
    m = y.shape[0]
    n_parts = slabs1.shape[0]
    nb = bptr.shape[0] - 1
    span = n_sb * block
    for c in prange(n_parts):
        slo, shi = _chunk(c, n_parts, (m + span - 1) // span)
        s1 = slabs1[c]
        s2 = slabs2[c]
        s1[:, :] = 0.0
        s2[:, :] = 0.0
        for sb in range(slo, shi):
            LO = sb * span
            HI = min(m, LO + span)
            Zs = _dense_forward(Xd, LO, HI, W1d, D[c])
            RDs = _dense_forward(Xd, LO, HI, V1d, RD[c])  # R{z1}'s dense share, then R{δ1}
            n_live_sb = 0
            for b in range(sb * n_sb, min(nb, (sb + 1) * n_sb)):
                n_live = _rows_rop(indptr, indices, data, b * block, min(m, (b + 1) * block), LO, Zs, RDs, y, w,
                                   W1, b1, W2T, b2, V1, vb1, V2T, vb2, act, loss, inv_T, kappa, exact, rowH[c],
                                   rowK[c], s1, s2)
                if n_live > 0:
                    block_tmatmul_add(bptr, pix, pptr, rows, vals, b, RDs, b * block - LO, s1)
                n_live_sb += n_live
            if n_live_sb > 0:
                _dense_backward(Xd, LO, HI, RDs, dcols, tmp[c], s1)
    _reduce(slabs1, slabs2, out)
    return 0


@njit(cache=True, fastmath={"contract", "reassoc"})
def _rows_rop(indptr, indices, data, lo, hi, LO, Zs, RDs, y, w, W1, b1, W2T, b2, V1, vb1, V2T, vb2, act, loss,
              inv_T, kappa, exact, rowH, rowK, s1, s2):
    """Rows lo..hi of :func:`rop_sparse_1h`; returns how many have a non-zero R{δ1}."""
    d, H = W1.shape
    K = W2T.shape[0]
    a = rowH[0]      # a = σ(z1)
    ra = rowH[1]     # R{z1}, then R{a} = σ' R{z1} is formed on the fly
    d1 = rowH[2]
    d2 = rowH[3]
    back = rowH[4]   # δ2 W2ᵀ
    rback = rowH[5]  # R{δ2} W2ᵀ + δ2 V2ᵀ
    Z = rowK[0:1]
    S = rowK[1:2]
    G = rowK[2:3]
    RZ = rowK[3:4]
    RG = rowK[4:5]
    n_live = 0
    for i in range(lo, hi):
        zi = Zs[i - LO]
        di = RDs[i - LO]
        for j in range(H):
            a[j] = b1[j] + zi[j]
            ra[j] = vb1[j] + di[j]
        sparse_row_axpy(indptr, indices, data, i, W1, a)
        sparse_row_axpy(indptr, indices, data, i, V1, ra)
        activate_row2(a, d1, d2, act)
        for k in range(K):
            z = W1.dtype.type(0)
            rz = W1.dtype.type(0)
            for j in range(H):
                z += a[j] * W2T[k, j]
                rz += d1[j] * ra[j] * W2T[k, j] + a[j] * V2T[k, j]
            Z[0, k] = z
            RZ[0, k] = rz + vb2[k]
        output_row(Z, S, G, 0, b2, y[i], w[i], loss, inv_T, kappa)
        output_rop_row(Z, S, RZ, RG, 0, y[i], w[i], loss, inv_T, kappa, not exact)
        for j in range(H):
            back[j] = 0.0
            rback[j] = 0.0
        live = False
        for k in range(K):
            gk = G[0, k] if exact else W1.dtype.type(0)
            rgk = RG[0, k]
            if gk != 0.0 or rgk != 0.0:
                live = True
                s2[k, H] += rgk
                if exact:
                    for j in range(H):
                        s2[k, j] += rgk * a[j] + gk * d1[j] * ra[j]
                        back[j] += gk * W2T[k, j]
                        rback[j] += rgk * W2T[k, j] + gk * V2T[k, j]
                else:
                    for j in range(H):
                        s2[k, j] += rgk * a[j]
                        rback[j] += rgk * W2T[k, j]
        for j in range(H):
            r = d1[j] * rback[j]
            if exact:
                r += d2[j] * ra[j] * back[j]
            di[j] = r
            s1[d, j] += r
        if live:
            n_live += 1
    return n_live
