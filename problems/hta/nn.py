"""HTA on a small fully connected network (MNIST subset) vs plain L-BFGS and Adam at equal gradient work.

    python -m problems.hta.nn --train 1000 --hidden 16 --seeds 0,1,2

The data loader is a minimal private IDX reader (gzip + numpy.frombuffer); the lead
will switch it to the shared ``pathtrack.datasets`` and Numba kernels later.
Gradient work is counted in evaluations of ∇f (one ∇F of the homotopy costs two).
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path
from typing import Dict, Optional, Tuple

import autograd
import autograd.numpy as anp
import numpy as np
from scipy.optimize import minimize

from .core import HTAProblem, hta_solve

__all__ = ["read_idx", "load_mnist", "MLP", "train_hta", "train_lbfgs", "train_adam", "compare"]

MNIST_DIR = Path(os.environ.get("PATHTRACK_MNIST", "/work/shared/data/mnist"))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): big-endian header, then unsigned bytes."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    zero, dtype, ndim = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(n_train: int = 1000, n_test: int = 2000, root: Path = MNIST_DIR):
    """The first ``n_train`` training and ``n_test`` test images, flattened to [0, 1], with labels."""
    xtr = read_idx(root / "train-images-idx3-ubyte.gz")[:n_train].reshape(n_train, -1) / 255.0
    ytr = read_idx(root / "train-labels-idx1-ubyte.gz")[:n_train].astype(int)
    xte = read_idx(root / "t10k-images-idx3-ubyte.gz")[:n_test].reshape(n_test, -1) / 255.0
    yte = read_idx(root / "t10k-labels-idx1-ubyte.gz")[:n_test].astype(int)
    return xtr, ytr, xte, yte


class MLP:
    """``n_in → hidden (tanh) → 10`` with mean softmax cross-entropy plus ``weight_decay·‖w‖²``."""

    def __init__(self, n_in: int, hidden: int, n_out: int = 10, weight_decay: float = 1e-4):
        self.shapes = [(n_in, hidden), (hidden,), (hidden, n_out), (n_out,)]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.n = sum(self.sizes)
        self.layer_sizes = [self.sizes[0] + self.sizes[1], self.sizes[2] + self.sizes[3]]
        self.weight_decay = weight_decay

    def unpack(self, w):
        out, i = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            out.append(anp.reshape(w[i:i + size], shape))
            i += size
        return out

    def init(self, seed: int) -> np.ndarray:
        """Glorot-uniform weights, zero biases."""
        rng = np.random.default_rng(seed)
        parts = []
        for shape in self.shapes:
            if len(shape) == 2:
                r = np.sqrt(6.0 / sum(shape))
                parts.append(rng.uniform(-r, r, shape).ravel())
            else:
                parts.append(np.zeros(shape))
        return np.concatenate(parts)

    def logits(self, w, x):
        W1, b1, W2, b2 = self.unpack(w)
        return anp.dot(anp.tanh(anp.dot(x, W1) + b1), W2) + b2

    def loss_fn(self, x, y):
        """f(w) on the data (x, y), written with autograd.numpy."""
        onehot = np.eye(10)[y]

        def f(w):
            z = self.logits(w, x)
            zmax = anp.max(z, axis=1, keepdims=True)
            logp = z - zmax - anp.log(anp.sum(anp.exp(z - zmax), axis=1, keepdims=True))
            return -anp.sum(onehot * logp) / x.shape[0] + self.weight_decay * anp.sum(w * w)
        return f

    def accuracy(self, w, x, y) -> float:
        return float(np.mean(np.argmax(self.logits(w, x), axis=1) == y))


def train_hta(net: MLP, f, w0, *, split: str = "layers", seed: int = 0, L_max: float = 100.0, L_min: float = 0.01,
              anchor=None, polish_maxiter: int = 200, **options) -> Tuple[np.ndarray, int, Dict]:
    """HTA from w0 (L-BFGS corrector); returns (w, ∇f evaluations, diagnostics).

    ``anchor=None`` pins each block to its initial weights w0. The test function's θ̃ = 0
    does not carry over: with every first-layer weight pinned at 0, a converged path keeps
    that layer at zero (a saddle of f) down to L_min.
    """
    grad = autograd.grad(f)
    anchor = w0 if anchor is None else anchor
    pb = HTAProblem(f, net.n, grad=grad, blocks=net.layer_sizes, split=split,
                    seed=seed, L_max=L_max, L_min=L_min, anchor=anchor)
    opts = {"min_gtol": 1e-3, "min_maxiter": 200, "initial_ds": 0.1, "max_ds": 0.25, **options}
    r = hta_solve(pb, w0, polish=True, polish_maxiter=polish_maxiter, **opts)
    return r.x, r.n_grad_evals, {"status": r.status.name, "steps": int(r.lam.size), "gap_end": float(r.metrics["gap"][-1]),
                                 "wall": r.wall_time}


def train_lbfgs(f, w0, budget: int) -> Tuple[np.ndarray, int]:
    """scipy L-BFGS on f with at most ``budget`` gradient evaluations."""
    grad = autograd.grad(f)
    res = minimize(lambda w: (float(f(w)), grad(w)), w0, jac=True, method="L-BFGS-B",
                   options={"maxfun": budget, "maxiter": budget, "gtol": 0.0, "ftol": 0.0})
    return res.x, int(res.nfev)


def train_adam(f, w0, budget: int, lr: float = 1e-2) -> Tuple[np.ndarray, int]:
    """Full-batch Adam for ``budget`` steps (one gradient each)."""
    grad = autograd.grad(f)
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, budget + 1):
        g = grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w, budget


def compare(n_train: int = 1000, n_test: int = 2000, hidden: int = 16, seeds=(0,), split: str = "layers",
            root: Optional[Path] = None, **hta_kwargs) -> list:
    """For each seed: HTA, then L-BFGS and Adam with HTA's number of ∇f evaluations."""
    xtr, ytr, xte, yte = load_mnist(n_train, n_test, root or MNIST_DIR)
    net = MLP(xtr.shape[1], hidden)
    f = net.loss_fn(xtr, ytr)
    rows = []
    for seed in seeds:
        w0 = net.init(seed)
        t0 = time.perf_counter()
        w_h, evals, diag = train_hta(net, f, w0, split=split, seed=seed, **hta_kwargs)
        t_h = time.perf_counter() - t0
        row = {"seed": seed, "n_params": net.n, "grad_evals": evals, "hta_diag": diag}
        for name, w, t in [("hta", w_h, t_h)] + [
                (name, *_timed(trainer, f, w0, evals)) for name, trainer in (("lbfgs", train_lbfgs),
                                                                             ("adam", train_adam))]:
            row[name] = {"train_loss": float(f(w)), "train_acc": net.accuracy(w, xtr, ytr),
                         "test_acc": net.accuracy(w, xte, yte), "wall": t}
        rows.append(row)
    return rows


def _timed(trainer, f, w0, budget):
    t0 = time.perf_counter()
    w, _ = trainer(f, w0, budget)
    return w, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--split", default="layers")
    args = ap.parse_args(argv)
    rows = compare(args.train, args.test, args.hidden, [int(s) for s in args.seeds.split(",")], args.split)
    print("| seed | params | ∇f evals | method | train loss | train acc | test acc | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        for m in ("hta", "lbfgs", "adam"):
            d = r[m]
            print(f"| {r['seed']} | {r['n_params']} | {r['grad_evals']} | {m} | {d['train_loss']:.4f} "
                  f"| {d['train_acc']:.3f} | {d['test_acc']:.3f} | {d['wall']:.1f} |")
        print(f"# seed {r['seed']}: HTA path {r['hta_diag']}")
    return rows


if __name__ == "__main__":
    main()
