"""One-pass loss and gradient of a one-hidden-layer network on sparse inputs.

The MNIST workhorse (784-H-10) in a single parallel region. Each part owns a run of row
blocks; per row it runs the forward pass (sparse first layer, activation, the small second
layer as K dot products) and the second layer's backward pass, keeping only the row's
first-layer delta in a block buffer. Once per block the first-layer gradient is accumulated
from that buffer through the block's CSC, several rows per pass. Nothing of size ``m × H``
is written, and each part accumulates into a private slab until the final reduction.
"""

from numba import njit, prange

from .nn import _chunk, activate_row, block_tmatmul_add, output_row, sparse_row_axpy


@njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})
def loss_grad_sparse_1h(indptr, indices, data, bptr, pix, pptr, rows, vals, block, y, w, W1, b1, W2T, b2,
                        act, loss, inv_T, kappa, want_grad, ell, rowH, rowK, D, slabs1, slabs2, g):
    """ell[i] <- ℓ_i for every row; if ``want_grad``, g <- Σ_i w_i ∇ℓ_i (layout W1, b1, W2, b2).

    The inputs come twice: CSR (``indptr, indices, data``) for the forward rows and the
    block-CSC of :func:`pathtrack.kernels.nn.block_csc` (``bptr … vals``, blocks of
    ``block`` rows) for Xᵀδ. ``W2T`` is the second layer's weight matrix transposed (K × H).
    Workspaces, one per parallel part: ``rowH`` (n_parts, 2, H), ``rowK`` (n_parts, 3, K),
    ``D`` (n_parts, block, H), ``slabs1`` (n_parts, d + 1, H) and ``slabs2``
    (n_parts, K, H + 1); the last row of ``slabs1`` and column of ``slabs2`` hold bias
    gradients.
    """
    m = y.shape[0]
    d, H = W1.shape
    K = W2T.shape[0]
    n_parts = slabs1.shape[0]
    nb = bptr.shape[0] - 1
    for c in prange(n_parts):
        blo, bhi = _chunk(c, n_parts, nb)
        s1 = slabs1[c]
        s2 = slabs2[c]
        Dc = D[c]
        if want_grad:
            s1[:, :] = 0.0
            s2[:, :] = 0.0
        a = rowH[c, 0]
        back = rowH[c, 1]
        Z = rowK[c, 0:1]
        S = rowK[c, 1:2]
        G = rowK[c, 2:3]
        for b in range(blo, bhi):
            lo = b * block
            hi = min(m, lo + block)
            n_live = 0  # rows of the block whose delta is non-zero
            for i in range(lo, hi):
                di = Dc[i - lo]
                for j in range(H):
                    a[j] = b1[j]
                sparse_row_axpy(indptr, indices, data, i, W1, a)
                activate_row(a, di, act)
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
                    dj = di[j] * back[j]  # δ1 = σ'(z1) ⊙ (W2 δ2)
                    di[j] = dj
                    s1[d, j] += dj
                if live:
                    n_live += 1
            if want_grad and n_live > 0:
                block_tmatmul_add(bptr, pix, pptr, rows, vals, b, Dc, 0, s1)
    if want_grad:
        n1 = (d + 1) * H
        for t in prange(n1):
            r = t // H
            j = t % H
            acc = slabs1[0, r, j]
            for c in range(1, n_parts):
                acc += slabs1[c, r, j]
            g[t] = acc
        for t in prange((H + 1) * K):
            j = t // K
            k = t % K
            acc = slabs2[0, k, j]
            for c in range(1, n_parts):
                acc += slabs2[c, k, j]
            g[n1 + t] = acc
    return 0
