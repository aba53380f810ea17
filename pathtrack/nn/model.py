"""Fully connected networks with a flat parameter vector, and their losses.

:class:`Network` describes the architecture (widths, hidden activation, softmax
temperature, float type) and maps the flat parameter vector ``p`` to per-layer views
``W_l`` (n_in, n_out) and ``b_l`` (n_out,), so an engine sees an ordinary vector.

:class:`LossFunction` binds a network to data (an optional subset of rows and per-sample
weights) and evaluates the loss, its gradient, Hessian-vector and Gauss–Newton-vector
products and per-sample outputs. It validates inputs and owns every workspace; the
arithmetic is BLAS (``np.dot``) plus the fused kernels of :mod:`pathtrack.kernels.nn`.
"""

from __future__ import annotations

import functools
from typing import List, Optional, Sequence, Tuple

import numba
import numpy as np

from ..kernels import nn as K
from ..kernels import nn_fused

__all__ = ["Network", "LossFunction", "ACTIVATIONS", "LOSSES"]

# Below this many selected rows the kernels run on one thread: waking the thread pool costs
# more than the work (mini-batches), and far more on a loaded machine.
MIN_PARALLEL_ROWS = 512

# Rows per block of the sparse first layer's block-CSC: large enough that a pixel recurs in
# several rows of a block (Xᵀδ then does several rows per pass), small enough that the
# block's deltas stay in L1/L2. 64 measured best on MNIST (32–256 tried).
SPARSE_BLOCK = 64

# With a sparse first layer, pixel columns non-zero in more than this fraction of the rows go
# through BLAS as one dense block. BLAS does 4–5× the multiply-adds per second of the sparse
# row passes (which are bound by L2 traffic), so a column pays off dense above about 1/4.
# On MNIST (float32 and float64 ReLU) 0.15–0.35 measured within 10% of each other, 0.2 and
# 0.25 best; 1 (all sparse) was 1.3–1.5× slower.
MAX_SPARSE_FRACTION = 0.25

# Sparse blocks per GEMM call of the fused kernels' dense columns (8 × 64 = 512 rows: big
# enough that GEMM runs near its peak, small enough that the block's buffer stays in L2).
DENSE_SUPERBLOCK = 8

_blas_controller = None


def _one_blas_thread():
    """A context that holds every BLAS library to one thread (the fused kernels call GEMM
    from each of their parallel parts; a multithreaded GEMM would fight them for the cores)."""
    global _blas_controller
    if _blas_controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS that Numba's np.dot calls must be loaded)
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")

ACTIVATIONS = {"switch": K.SWITCH, "relu": K.RELU, "tanh": K.TANH, "sigmoid": K.SIGMOID}
LOSSES = {"cross_entropy": K.CROSS_ENTROPY, "mse": K.MSE, "margin": K.MARGIN}


class Network:
    """A fully connected network ``widths[0] -> ... -> widths[-1]`` with softmax output.

    Parameters
    ----------
    widths : sequence of int
        Layer widths including input and output, e.g. ``[784, 100, 10]``.
    activation : {"switch", "relu", "tanh", "sigmoid"}
        Hidden activation. ``switch`` is Deng's σ(x) = tanh²(x/2) for x > 0, else 0.
    temperature : float
        Output probabilities are softmax(z / temperature) of the logits z.
    dtype : np.float32 or np.float64
    """

    def __init__(self, widths: Sequence[int], activation: str = "switch", temperature: float = 1.0,
                 dtype=np.float64):
        widths = [int(w) for w in widths]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must list at least two positive layer sizes, got {widths}")
        if widths[-1] < 2:
            raise ValueError(f"the output layer needs at least 2 classes, got widths {widths}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.widths = widths
        self.activation = activation
        self.temperature = float(temperature)
        self.n_layers = len(widths) - 1
        self._offsets: List[Tuple[int, int, int]] = []  # (weight start, bias start, end)
        off = 0
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            self._offsets.append((off, off + n_in * n_out, off + n_in * n_out + n_out))
            off += n_in * n_out + n_out
        self.n_params = off

    def __repr__(self) -> str:
        return (f"Network({self.widths}, activation={self.activation!r}, temperature={self.temperature}, "
                f"dtype={self.dtype.name})")

    def weights(self, p: np.ndarray, layer: int) -> np.ndarray:
        """View of the weight matrix ``W_layer`` (n_in, n_out) in ``p`` (layers count from 0)."""
        w0, b0, _ = self._offsets[layer]
        return p[w0:b0].reshape(self.widths[layer], self.widths[layer + 1])

    def biases(self, p: np.ndarray, layer: int) -> np.ndarray:
        """View of the bias vector ``b_layer`` (n_out,) in ``p``."""
        _, b0, end = self._offsets[layer]
        return p[b0:end]

    def layers(self, p: np.ndarray) -> List[Tuple[np.ndarray, np.ndarray]]:
        """``[(W_0, b_0), (W_1, b_1), ...]`` as views into ``p``."""
        return [(self.weights(p, l), self.biases(p, l)) for l in range(self.n_layers)]

    def init_params(self, method: str = "uniform", scale: float = 0.5, seed: int = 0) -> np.ndarray:
        """A seeded initial parameter vector.

        ``uniform``: every weight and bias uniform in (−scale, scale) (Deng uses 0.5 or 5).
        ``glorot``: weights uniform in ±sqrt(6/(n_in+n_out)), biases zero.
        """
        rng = np.random.default_rng(seed)
        if method == "uniform":
            if not scale > 0:
                raise ValueError(f"scale must be positive, got {scale}")
            return rng.uniform(-scale, scale, self.n_params).astype(self.dtype)
        if method == "glorot":
            p = np.zeros(self.n_params, self.dtype)
            for l in range(self.n_layers):
                n_in, n_out = self.widths[l], self.widths[l + 1]
                lim = np.sqrt(6.0 / (n_in + n_out))
                self.weights(p, l)[...] = rng.uniform(-lim, lim, (n_in, n_out))
            return p
        raise ValueError(f"unknown init method {method!r}; valid: uniform, glorot")

    def check_params(self, p, what: str = "p") -> np.ndarray:
        """``p`` as a contiguous vector of this network's dtype; wrong size or NaN is an error."""
        p = np.ascontiguousarray(p, dtype=self.dtype)
        if p.shape != (self.n_params,):
            raise ValueError(f"{what} must have shape ({self.n_params},) for {self}, got {p.shape}")
        if not np.isfinite(p).all():
            raise ValueError(f"{what} contains NaN or inf")
        return p


def _column_counts(X):
    """Non-zeros per column of X (Numba, parallel: np.count_nonzero(X, axis=0) is 10× slower)."""
    return K.column_counts(X, np.empty((numba.get_num_threads(), X.shape[1]), np.int64))


def select_rows(X, y, subset=None):
    """``(X[subset], y[subset])``, or ``(X, y)`` for None; a bad index array is a ValueError."""
    if subset is None:
        return X, y
    subset = np.asarray(subset)
    if subset.ndim != 1 or not np.issubdtype(subset.dtype, np.integer) or subset.size == 0:
        raise ValueError("subset must be a non-empty 1-d integer index array")
    if subset.min() < -X.shape[0] or subset.max() >= X.shape[0]:
        raise ValueError(f"subset indices must lie in 0..{X.shape[0] - 1}")
    return X[subset], y[subset]


def _serial_when_small(method):
    """Run ``method`` with one Numba thread when the selection has fewer than MIN_PARALLEL_ROWS rows."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.n_samples >= MIN_PARALLEL_ROWS:
            return method(self, *args, **kwargs)
        n_threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return method(self, *args, **kwargs)
        finally:
            numba.set_num_threads(n_threads)

    return wrapper


class LossFunction:
    """Loss of a network on (a weighted subset of) a data set, with derivatives.

    The loss is ``L(p) = Σ_r w_r ℓ(x_r, y_r; p)`` over the selected rows ``r``; the default
    weights are ``1/m`` (the mean). Per-sample losses ℓ:

    - ``cross_entropy``: −log softmax(z/T)_y,
    - ``mse``: Σ_k (softmax(z/T)_k − onehot(y)_k)²,
    - ``margin``: max(0, κ − (z_y − max_{j≠y} z_j))², on the raw logits z (not z/T, so κ
      is in logit units and the temperature does not change this loss).

    Parameters
    ----------
    net : Network
    X : array (n, widths[0])
        Inputs; converted to the network's dtype.
    y : int array (n,)
        Class labels in ``0..widths[-1]-1``.
    loss : {"cross_entropy", "mse", "margin"}
    kappa : float
        Margin of the margin loss.
    subset : int array, optional
        Row indices of X to use (the rows are gathered once, here).
    weights : array (m,), optional
        Non-negative per-sample weights of the selected rows; default ``1/m``.
    first_layer : {"auto", "dense", "sparse"}
        How ``X W_0`` and ``Xᵀ G`` are computed: BLAS on dense X, or a CSR kernel that skips
        zero pixels. ``auto`` picks sparse when at most half the entries are non-zero.
    max_sparse_fraction : float
        With a sparse first layer, the columns of X that are non-zero in more than this
        fraction of the selected rows are split off into a dense block for BLAS (MNIST's
        centre pixels); the rest stay sparse. 1 keeps every column sparse.
    fused : bool
        With a sparse first layer and one hidden layer, compute loss and gradient in one
        pass that stores no per-layer buffers (:mod:`pathtrack.kernels.nn_fused`).
    """

    def __init__(self, net: Network, X, y, *, loss: str = "cross_entropy", kappa: float = 1.0,
                 subset=None, weights=None, first_layer: str = "auto", fused: bool = True,
                 max_sparse_fraction: float = MAX_SPARSE_FRACTION):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")
        if not np.isfinite(kappa):
            raise ValueError(f"kappa must be finite, got {kappa}")
        self.net = net
        self.loss_name = loss
        self._loss = LOSSES[loss]
        self.kappa = float(kappa)
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != net.widths[0]:
            raise ValueError(f"X must have shape (n, {net.widths[0]}), got {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
        n_classes = net.widths[-1]
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"labels y must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
        self._X_all = np.ascontiguousarray(X, dtype=net.dtype)  # no copy when already so
        if not np.isfinite(self._X_all).all():
            raise ValueError("X contains NaN or inf")
        self._y_all = np.ascontiguousarray(y, dtype=np.int64)
        if first_layer not in ("auto", "dense", "sparse"):
            raise ValueError(f"first_layer must be auto, dense or sparse, got {first_layer!r}")
        if first_layer == "auto":
            first_layer = "sparse" if _column_counts(self._X_all).sum() <= 0.5 * self._X_all.size else "dense"
        self.first_layer = first_layer
        if not 0.0 <= max_sparse_fraction <= 1.0:
            raise ValueError(f"max_sparse_fraction must lie in [0, 1], got {max_sparse_fraction}")
        self.max_sparse_fraction = float(max_sparse_fraction)
        self.fused = bool(fused) and first_layer == "sparse" and net.n_layers == 2
        self._inv_T = 1.0 / net.temperature
        self._act = ACTIVATIONS[net.activation]
        self.n_samples = 0
        self.select(subset, weights)

    # --- set-up -----------------------------------------------------------------------------

    def select(self, subset=None, weights=None) -> None:
        """Use the rows ``subset`` of the data (all rows if None) with the given weights.

        The rows are gathered once here; workspaces are reused when the number of rows is
        unchanged (mini-batches), so a training loop allocates them once.
        """
        X, y = select_rows(self._X_all, self._y_all, subset)
        self.X, self.y = X, y
        net = self.net
        self.dense_cols = np.arange(X.shape[1])  # the columns that go through BLAS
        if self.first_layer == "sparse":
            dense = _column_counts(X) > self.max_sparse_fraction * X.shape[0]
            self.dense_cols = np.flatnonzero(dense)
            indptr, indices, data, self._X_dense = K.split_columns(X, dense)
            self._csr = (indptr, indices, data)  # the other columns
            self._bcsc = K.block_csc(*self._csr, SPARSE_BLOCK, X.shape[1])
        if X.shape[0] != self.n_samples:
            self._allocate(X.shape[0])
        if self.fused:  # the dense columns' GEMM output, one per parallel part
            self._dense_tmp = np.empty((self._slabs1.shape[0], self.dense_cols.size, net.widths[1]), net.dtype)
        self.set_weights(weights)

    def _allocate(self, m: int) -> None:
        net = self.net
        dt, widths = net.dtype, net.widths
        L = net.n_layers
        self.n_samples = m
        self.w = np.empty(m, dt)
        self._Z = [np.empty((m, widths[l + 1]), dt) for l in range(L)]        # activations / logits
        self._G = [np.empty((m, widths[l + 1]), dt) for l in range(L)]        # deltas
        self._D1 = [np.empty((m, widths[l + 1]), dt) for l in range(L - 1)]   # σ'
        self._D2 = [np.empty((m, widths[l + 1]), dt) for l in range(L - 1)]   # σ''
        self._S = np.empty((m, widths[-1]), dt)
        self._ell = np.empty(m, np.float64)
        self._margins = np.empty(m, np.float64)
        n_threads = numba.get_num_threads()
        self._partial = np.empty((max(1, min(4 * n_threads, m)), max(widths[1:])), np.float64)
        n_parts = max(1, min(n_threads, m))
        if self.first_layer == "sparse" and not self.fused:
            self._slabs = np.empty((n_parts, widths[0], widths[1]), dt)
        if self.fused:
            d, H, n_classes = widths
            self._rowH = np.empty((n_parts, 3, H), dt)
            self._rowK = np.empty((n_parts, 3, n_classes), dt)
            self._Dblock = np.empty((n_parts, DENSE_SUPERBLOCK * SPARSE_BLOCK, H), dt)
            self._slabs1 = np.empty((n_parts, d + 1, H), dt)
            self._slabs2 = np.empty((n_parts, n_classes, H + 1), dt)
            self._no_grad = np.empty(0, dt)
        self._R = None  # R-operator buffers, allocated on the first hvp/gnvp

    def set_weights(self, weights=None) -> None:
        """Replace the per-sample weights (in place; default ``1/m``)."""
        m = self.n_samples
        if weights is None:
            self.w[:] = 1.0 / m
        else:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (m,):
                raise ValueError(f"weights must have shape ({m},) (one per selected sample), got {weights.shape}")
            if not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError("weights must be finite and non-negative")
            self.w[:] = weights
        self._fwd_p = None

    def set_temperature(self, temperature: float) -> None:
        """Evaluate the softmax at another temperature than the network's (temperature homotopies)."""
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature}")
        self._inv_T = 1.0 / float(temperature)
        self._fwd_p = None

    def _first_matmul(self, W, out):
        if self.first_layer == "sparse":
            if self.dense_cols.size:
                np.dot(self._X_dense, W[self.dense_cols], out=out)
            K.csr_matmul(*self._csr, W, out, self.dense_cols.size > 0)
        else:
            np.dot(self.X, W, out=out)

    def _first_tmatmul(self, G, out):
        if self.first_layer == "sparse":
            K.bcsc_tmatmul(*self._bcsc, SPARSE_BLOCK, G, self._slabs)
            K.reduce_slabs(self._slabs, out)  # the dense columns' rows come out zero
            if self.dense_cols.size:
                out[self.dense_cols] = self._X_dense.T @ G
        else:
            np.dot(self.X.T, G, out=out)

    def _colsum(self, G, out):
        K.backward_hidden(G, G, self._partial, False)
        out[:] = self._partial[:, :G.shape[1]].sum(axis=0)

    def _bias_from_partial(self, n, out):
        out[:] = self._partial[:, :n].sum(axis=0)

    # --- passes -----------------------------------------------------------------------------

    def _forward(self, p: np.ndarray, want_d2: bool = False) -> None:
        """Fill activations, σ', (σ''), softmax, per-sample losses and the output delta at ``p``."""
        if self._fwd_p is not None and (self._fwd_d2 or not want_d2) and np.array_equal(p, self._fwd_p):
            return  # same point as the last pass: reuse it (e.g. hvp after loss_and_grad)
        net = self.net
        L = net.n_layers
        for l, (W, b) in enumerate(net.layers(p)):
            Z = self._Z[l]
            if l == 0:
                self._first_matmul(W, Z)
            else:
                np.dot(self._Z[l - 1], W, out=Z)
            if l < L - 1:
                K.hidden_forward(Z, b, self._act, self._D1[l], self._D2[l], want_d2)
            else:
                K.output_forward(Z, b, self.y, self.w, self._loss, self._inv_T, self.kappa, self._S,
                                 self._G[l], self._ell)
        self._fwd_p = p.copy()
        self._fwd_d2 = want_d2

    def _fused_pass(self, p: np.ndarray, g: Optional[np.ndarray]) -> float:
        """Loss (and the gradient into ``g`` unless None) in one pass; the layer buffers stay stale."""
        (W1, b1), (W2, b2) = self.net.layers(p)
        with _one_blas_thread():
            nn_fused.loss_grad_sparse_1h(*self._csr, *self._bcsc, SPARSE_BLOCK, self._X_dense, self.dense_cols,
                                         W1[self.dense_cols], DENSE_SUPERBLOCK, self.y, self.w, W1, b1,
                                         np.ascontiguousarray(W2.T), b2, self._act, self._loss, self._inv_T,
                                         self.kappa, g is not None, self._ell, self._rowH, self._rowK, self._Dblock,
                                         self._dense_tmp, self._slabs1, self._slabs2,
                                         self._no_grad if g is None else g)
        self._fwd_p = None
        return K.weighted_sum(self.w, self._ell)

    def _fused_rop(self, p: np.ndarray, v: np.ndarray, exact: bool) -> np.ndarray:
        """Hessian- (``exact``) or Gauss–Newton-vector product in one pass (one hidden layer, sparse X)."""
        (W1, b1), (W2, b2) = self.net.layers(p)
        (V1, vb1), (V2, vb2) = self.net.layers(v)
        if self._R is None:
            n_parts, (_, H, n_classes) = self._slabs1.shape[0], self.net.widths
            self._R = dict(rowH=np.empty((n_parts, 6, H), self.net.dtype),
                           rowK=np.empty((n_parts, 5, n_classes), self.net.dtype),
                           RD=np.empty_like(self._Dblock))
        out = np.empty(self.net.n_params, self.net.dtype)
        dcols = self.dense_cols
        with _one_blas_thread():
            nn_fused.rop_sparse_1h(*self._csr, *self._bcsc, SPARSE_BLOCK, self._X_dense, dcols, W1[dcols], V1[dcols],
                                   DENSE_SUPERBLOCK, self.y, self.w, W1, b1, np.ascontiguousarray(W2.T), b2, V1, vb1,
                                   np.ascontiguousarray(V2.T), vb2, self._act, self._loss, self._inv_T, self.kappa,
                                   exact, self._R["rowH"], self._R["rowK"], self._Dblock, self._R["RD"],
                                   self._dense_tmp, self._slabs1, self._slabs2, out)
        return out

    def _backward(self, p: np.ndarray, g: np.ndarray) -> None:
        net = self.net
        L = net.n_layers
        self._colsum(self._G[L - 1], net.biases(g, L - 1))
        for l in range(L - 1, -1, -1):
            G = self._G[l]
            if l == 0:
                self._first_tmatmul(G, net.weights(g, 0))
                break
            np.dot(self._Z[l - 1].T, G, out=net.weights(g, l))
            np.dot(G, net.weights(p, l).T, out=self._G[l - 1])
            K.backward_hidden(self._G[l - 1], self._D1[l - 1], self._partial, True)
            self._bias_from_partial(net.widths[l], net.biases(g, l - 1))

    def _rop(self, p: np.ndarray, v: np.ndarray, exact: bool) -> np.ndarray:
        """R{∇L}(p)·v: the Hessian-vector product (exact) or the Gauss–Newton-vector product."""
        net = self.net
        if self.fused:
            return self._fused_rop(p, v, exact)
        L = net.n_layers
        m = self.n_samples
        if self._R is None:
            dt = net.dtype
            mk = lambda l: np.empty((m, net.widths[l + 1]), dt)  # noqa: E731
            self._R = dict(RZ=[mk(l) for l in range(L)], RA=[mk(l) for l in range(L - 1)],
                           RG=[mk(l) for l in range(L)], T=[mk(l) for l in range(L)])
        RZ, RA, RG, T = self._R["RZ"], self._R["RA"], self._R["RG"], self._R["T"]
        self._forward(p, want_d2=exact)
        # forward R-pass: R{z_l} = R{a_{l-1}} W_l + a_{l-1} V_l + Vb_l, R{a_l} = σ'(z_l) R{z_l}
        for l in range(L):
            V, vb = net.weights(v, l), net.biases(v, l)
            if l == 0:
                self._first_matmul(V, RZ[0])
            else:
                np.dot(RA[l - 1], net.weights(p, l), out=RZ[l])
                np.dot(self._Z[l - 1], V, out=T[l])
                RZ[l] += T[l]
            if l < L - 1:
                K.rop_forward_hidden(RZ[l], vb, self._D1[l], RA[l])
            else:
                K.add_bias(RZ[l], vb)
        K.output_rop(self._Z[L - 1], self._S, self.y, self.w, self._loss, self._inv_T, self.kappa,
                     RZ[L - 1], RG[L - 1], not exact)
        out = np.empty(net.n_params, net.dtype)
        self._colsum(RG[L - 1], net.biases(out, L - 1))
        for l in range(L - 1, -1, -1):
            gW = net.weights(out, l)
            if l == 0:
                self._first_tmatmul(RG[0], gW)
                break
            np.dot(self._Z[l - 1].T, RG[l], out=gW)
            W = net.weights(p, l)
            np.dot(RG[l], W.T, out=RG[l - 1])
            if exact:
                # the terms that involve δ_l: R{a_{l-1}}ᵀ δ_l and δ_l V_lᵀ
                gW += RA[l - 1].T @ self._G[l]
                np.dot(self._G[l], net.weights(v, l).T, out=T[l - 1])
                RG[l - 1] += T[l - 1]
                np.dot(self._G[l], W.T, out=self._G[l - 1])
                K.rop_backward_hidden(RG[l - 1], self._G[l - 1], self._D1[l - 1], self._D2[l - 1], RZ[l - 1],
                                      self._partial)
            else:
                K.backward_hidden(RG[l - 1], self._D1[l - 1], self._partial, True)
            self._bias_from_partial(net.widths[l], net.biases(out, l - 1))
        return out

    # --- public API ---------------------------------------------------------------------------

    @_serial_when_small
    def loss(self, p) -> float:
        """``L(p)``."""
        p = self.net.check_params(p)
        if self.fused:
            return self._fused_pass(p, None)
        self._forward(p)
        return K.weighted_sum(self.w, self._ell)

    @_serial_when_small
    def loss_and_grad(self, p) -> Tuple[float, np.ndarray]:
        """``(L(p), ∇L(p))`` from one forward and one backward pass."""
        p = self.net.check_params(p)
        g = np.empty(self.net.n_params, self.net.dtype)
        if self.fused:
            return self._fused_pass(p, g), g
        self._forward(p)
        self._backward(p, g)
        return K.weighted_sum(self.w, self._ell), g

    def grad(self, p) -> np.ndarray:
        """``∇L(p)``."""
        return self.loss_and_grad(p)[1]

    @_serial_when_small
    def hvp(self, p, v) -> np.ndarray:
        """Hessian-vector product ``∇²L(p) v`` (Pearlmutter's R-operator; about 1.5 gradients)."""
        p = self.net.check_params(p)
        return self._rop(p, self.net.check_params(v, "v"), exact=True)

    @_serial_when_small
    def gnvp(self, p, v) -> np.ndarray:
        """Gauss–Newton-vector product ``Jᵀ H_out J v`` (H_out: see :func:`pathtrack.kernels.nn.output_rop`)."""
        p = self.net.check_params(p)
        return self._rop(p, self.net.check_params(v, "v"), exact=False)

    def rows(self, idx) -> Tuple[np.ndarray, np.ndarray]:
        """Inputs and labels of the selected rows ``idx`` (copies)."""
        return self.X[idx], self.y[idx]

    def per_sample_losses(self, p) -> np.ndarray:
        """Unweighted per-sample losses ℓ_r (m,)."""
        self.loss(p)
        return self._ell.copy()

    @_serial_when_small
    def _forward_at(self, p) -> None:
        self._forward(self.net.check_params(p))

    def logits(self, p) -> np.ndarray:
        """Logits z (m, n_classes)."""
        self._forward_at(p)
        return self._Z[-1].copy()

    def features(self, p) -> np.ndarray:
        """The last hidden layer's activations (m, widths[-2]): the output layer's inputs."""
        if self.net.n_layers < 2:
            raise ValueError(f"{self.net} has no hidden layer")
        self._forward_at(p)
        return self._Z[-2].copy()

    def outputs(self, p) -> np.ndarray:
        """Per-sample class probabilities softmax(z/T) (m, n_classes)."""
        self._forward_at(p)
        return self._S.copy()

    @_serial_when_small
    def margins(self, p) -> np.ndarray:
        """Per-sample logit margins ``z_y − max_{j≠y} z_j`` (positive: correctly classified)."""
        self._forward(self.net.check_params(p))
        K.margins(self._Z[-1], self.y, self._margins)
        return self._margins.copy()

    def correct(self, p) -> np.ndarray:
        """Per-sample correctness mask (the true class has the largest logit, strictly)."""
        return self.margins(p) > 0

    def accuracy(self, p) -> float:
        """Positive rate PR: the fraction of selected samples classified correctly (unweighted)."""
        return float(np.mean(self.correct(p)))
