"""A one-output tanh network with ``units`` hidden units, and Finnoff's data as a gradient homotopy.

Parameters are one flat vector ``p = (W.ravel(), b, v, c)`` with ``W`` of shape
``(units, d)``; the network is ``ŷ(x) = c + v · tanh(W x + b)`` and the training loss is
``L(p, λ) = ½ mean_i (ŷ(x_i) − λ y_i)²`` — the data homotopy from the trivial target
``0`` (λ = 0) to the data (λ = 1).

Full-batch loss and gradient are vectorised numpy; per-sample SGD epochs run in a
Numba kernel (one sample at a time, the order drawn per epoch).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from pathtrack.problem import Problem, StartPoint

from .data import Dataset, make_dataset

__all__ = ["TanhNet", "Finnoff", "sgd_epochs", "sgd_steps"]


class TanhNet:
    """Shapes and maths of ``ŷ = c + v · tanh(W x + b)``."""

    def __init__(self, d: int, units: int = 10):
        self.d, self.units = int(d), int(units)
        self.n_params = units * d + 2 * units + 1

    def unpack(self, p):
        u, d = self.units, self.d
        return p[:u * d].reshape(u, d), p[u * d:u * d + u], p[u * d + u:u * d + 2 * u], p[-1]

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """LeCun-normal weights, zero biases, output weights ``N(0, 1/units)``."""
        W = rng.normal(0.0, 1.0 / np.sqrt(self.d), (self.units, self.d))
        v = rng.normal(0.0, 1.0 / np.sqrt(self.units), self.units)
        return np.concatenate([W.ravel(), np.zeros(self.units), v, [0.0]])

    def predict(self, p, x):
        W, b, v, c = self.unpack(p)
        return c + np.tanh(x @ W.T + b) @ v

    def loss_and_grad(self, p, x, y):
        """``½ mean (ŷ − y)²`` and its gradient (backpropagation)."""
        W, b, v, c = self.unpack(p)
        h = np.tanh(x @ W.T + b)
        e = c + h @ v - y
        n = x.shape[0]
        r = e / n
        dz = np.outer(r, v) * (1.0 - h * h)
        g = np.concatenate([(dz.T @ x).ravel(), dz.sum(axis=0), h.T @ r, [r.sum()]])
        return 0.5 * float(e @ e) / n, g

    def sample_grads(self, p, x, y) -> np.ndarray:
        """Per-sample gradients of ``½ (ŷ_i − y_i)²``, shape ``(n, n_params)``; their mean is the batch
        gradient."""
        W, b, v, c = self.unpack(p)
        h = np.tanh(x @ W.T + b)
        e = c + h @ v - y
        dz = e[:, None] * v * (1.0 - h * h)
        dW = (dz[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)
        return np.hstack([dW, dz, h * e[:, None], e[:, None]])

    def hessian(self, p, x, y, h: float = 1e-5) -> np.ndarray:
        """Hessian of ``½ mean (ŷ − y)²`` by central differences of the analytic gradient, symmetrised
        (error about h² relative: enough to tell a PSD Hessian from a negative direction)."""
        p = np.asarray(p, dtype=float)
        n = p.size
        Hm = np.empty((n, n))
        for i in range(n):
            e = np.zeros(n)
            e[i] = h
            Hm[:, i] = (self.loss_and_grad(p + e, x, y)[1] - self.loss_and_grad(p - e, x, y)[1]) / (2 * h)
        return 0.5 * (Hm + Hm.T)

    def mse(self, p, x, y) -> float:
        e = self.predict(p, x) - y
        return float(e @ e) / x.shape[0]


@numba.njit(cache=True)
def _sgd_kernel(p, x, y, lr, order, units, d):  # pragma: no cover - compiled
    nw = units * d
    h = np.empty(units)
    for i in order:
        xi = x[i]
        out = p[-1]
        for j in range(units):
            z = p[nw + j]
            for k in range(d):
                z += p[j * d + k] * xi[k]
            h[j] = np.tanh(z)
            out += p[nw + units + j] * h[j]
        e = out - y[i]
        for j in range(units):
            vj = p[nw + units + j]
            dz = e * vj * (1.0 - h[j] * h[j])
            for k in range(d):
                p[j * d + k] -= lr * dz * xi[k]
            p[nw + j] -= lr * dz
            p[nw + units + j] -= lr * e * h[j]
        p[-1] -= lr * e
    return p


def sgd_epochs(net: TanhNet, p, x, y, lr: float, epochs: int, rng: np.random.Generator) -> np.ndarray:
    """Constant-rate per-sample SGD on ``½ (ŷ − y)²``: ``epochs`` passes, a fresh random order each."""
    p = np.array(p, dtype=np.float64)
    for _ in range(epochs):
        p = sgd_steps(net, p, x, y, lr, rng.permutation(x.shape[0]))
    return p


def sgd_steps(net: TanhNet, p, x, y, lr: float, order) -> np.ndarray:
    """Per-sample SGD steps on the samples ``order`` in turn (with replacement, too); returns a new array."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return _sgd_kernel(np.array(p, dtype=np.float64), x, y, float(lr), np.asarray(order, dtype=np.int64),
                       net.units, net.d)


class Finnoff(Problem):
    """Training loss of a tanh network on one of Finnoff's generators, as a data homotopy in λ."""

    name = "finnoff"
    description = "10-unit tanh net on Finnoff's regression data; data homotopy lam*y from the zero target"
    is_gradient = True
    lam_start, lam_end = 0.0, 1.0
    parameters = {"generator": "sines", "seed": 0, "n_train": 200, "noise": 0.2, "units": 10}
    # minimise at fixed lam (natural parameterisation); no dense Hessian or tangent
    default_options = {"parameterisation": "natural", "predictor": "secant", "corrector": "lbfgs",
                       "max_ds": 0.1, "initial_ds": 0.05, "min_gtol": 1e-4, "min_maxiter": 5000,
                       "dense_max_n": 1, "eig_diagnostics": "off", "max_angle": math.pi}

    def __init__(self, dataset: Dataset = None, **params):
        super().__init__(**params)
        pr = self.params
        self.data = dataset if dataset is not None else make_dataset(
            pr["generator"], int(pr["seed"]), n_train=int(pr["n_train"]), noise=float(pr["noise"]))
        self.net = TanhNet(self.data.x_train.shape[1], int(pr["units"]))

    def loss_and_grad(self, p, lam):
        return self.net.loss_and_grad(p, self.data.x_train, lam * self.data.y_train)

    def loss(self, p, lam):
        return self.loss_and_grad(p, lam)[0]

    def H(self, p, lam):
        return self.loss_and_grad(p, lam)[1]

    def start(self):
        return StartPoint(self.net.init(np.random.default_rng(int(self.params["seed"]))), self.lam_start)

    def metrics(self, p, lam):
        return {"train_mse": self.net.mse(p, self.data.x_train, self.data.y_train),
                "test_mse": self.net.mse(p, self.data.x_test, self.data.y_test)}
