"""One-pass loss and gradient of a one-hidden-layer network on sparse (CSR) inputs.

The MNIST workhorse (784-H-10) in a single parallel region: each block of rows runs the
whole forward and backward pass row by row, keeping the row's activations in small
per-block buffers and accumulating the gradient in a per-block slab, so nothing of size
``m × H`` is ever written and no thread waits for another until the final reduction.
The first layer skips zero pixels; the small second layer is a hand-written mat-vec.
"""

from numba import njit, prange

from .nn import _chunk, activation, output_row


@njit(parallel=True, cache=True, fastmath={"contract"})
def loss_grad_sparse_1h(indptr, indices, data, y, w, W1, b1, W2, b2, act, loss, inv_T, kappa, want_grad,
                        ell, rowH, rowK, slabs1, slabs2, g):
    """ell[i] <- ℓ_i for every row; if ``want_grad``, g <- Σ_i w_i ∇ℓ_i (layout W1, b1, W2, b2).

    Workspaces, one block per parallel part: ``rowH`` (n_parts, 2, H), ``rowK``
    (n_parts, 3, K), ``slabs1`` (n_parts, d + 1, H) and ``slabs2`` (n_parts, H + 1, K)
    (the last row of a slab holds the bias gradient, matching the parameter layout).
    """
    m = y.shape[0]
    d, H = W1.shape
    K = W2.shape[1]
    n_parts = slabs1.shape[0]
    for c in prange(n_parts):
        lo, hi = _chunk(c, n_parts, m)
        s1 = slabs1[c]
        s2 = slabs2[c]
        if want_grad:
            s1[:, :] = 0.0
            s2[:, :] = 0.0
        a = rowH[c, 0]
        d1 = rowH[c, 1]
        Z = rowK[c, 0:1]
        S = rowK[c, 1:2]
        G = rowK[c, 2:3]
        for i in range(lo, hi):
            for j in range(H):
                a[j] = b1[j]
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                r = indices[k]
                for j in range(H):
                    a[j] += v * W1[r, j]
            for j in range(H):
                aj, dj, _ = activation(a[j], act)
                a[j] = aj
                d1[j] = dj
            for k in range(K):
                Z[0, k] = 0.0
            for j in range(H):
                aj = a[j]
                if aj != 0.0:  # switch and ReLU units are often off
                    for k in range(K):
                        Z[0, k] += aj * W2[j, k]
            ell[i] = output_row(Z, S, G, 0, b2, y[i], w[i], loss, inv_T, kappa)
            if not want_grad:
                continue
            for k in range(K):
                s2[H, k] += G[0, k]
            for j in range(H):
                aj = a[j]
                back = 0.0
                for k in range(K):
                    s2[j, k] += aj * G[0, k]
                    back += G[0, k] * W2[j, k]
                d1[j] *= back  # δ1 = σ'(z1) ⊙ (W2 δ2)
                s1[d, j] += d1[j]
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                r = indices[k]
                for j in range(H):
                    s1[r, j] += v * d1[j]
    if want_grad:
        n1 = (d + 1) * H
        n2 = (H + 1) * K
        for t in prange(n1):
            acc = slabs1[0, t // H, t % H]
            for c in range(1, n_parts):
                acc += slabs1[c, t // H, t % H]
            g[t] = acc
        for t in prange(n2):
            acc = slabs2[0, t // K, t % K]
            for c in range(1, n_parts):
                acc += slabs2[c, t // K, t % K]
            g[n1 + t] = acc
    return 0
