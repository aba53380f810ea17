"""Finnoff (1993) revisited: batch GD, constant-rate SGD and a data homotopy from the same weights.

For each of the four generators and each seed: draw the data (noisy training set,
noise-free test set), draw one set of initial weights, and train a 10-unit tanh network
with every method from those weights. Prints mean ± std over the seeds of the final
training MSE (noisy targets) and test MSE (noise-free targets; the targets have unit
variance, so this is a normalised MSE), and the work in full-batch gradient equivalents.

    python docs/examples/finnoff_compare.py --seeds 5 --out finnoff.png

Every method returns a :class:`Trained` with the final weights, the training MSE, the
test MSE and the work in *full-batch gradient equivalents* (one SGD epoch = one full
gradient):

- :func:`batch_gd`: full-batch gradient descent, constant learning rate;
- :func:`constant_sgd`: per-sample SGD, constant learning rate, reshuffled every epoch;
- :func:`data_homotopy`: :func:`pathtrack.track` on the data homotopy
  ``L(p, λ) = ½ mean (ŷ − λ y)²`` from λ = 0 (refined from the initial weights) to λ = 1,
  with the L-BFGS minimisation corrector at each λ;
- :func:`lbfgs_direct`: L-BFGS on the λ = 1 loss from the initial weights (the homotopy's
  corrector without the homotopy).

Learning rates (GD 0.5, SGD 0.01) were chosen on seed 100, which is not among the
reported seeds, as the best training error among {0.1, 0.5, 2.0} and {0.003, 0.01, 0.03}.
BLAS runs on one thread: the matrices are small, so more threads only contend.
"""

from __future__ import annotations

import argparse
import time
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from pathtrack import track
from pathtrack_problems.finnoff import GENERATORS, Finnoff, sgd_epochs


class Trained(NamedTuple):
    """One method's result on one problem."""

    method: str
    p: np.ndarray
    train_mse: float
    test_mse: float
    grad_evals: float  # full-batch gradient equivalents
    note: str = ""


def _result(problem: Finnoff, method: str, p: np.ndarray, work: float, note: str = "") -> Trained:
    m = problem.metrics(p, 1.0)
    return Trained(method, p, m["train_mse"], m["test_mse"], float(work), note)


def batch_gd(problem: Finnoff, p0, lr: float = 0.5, epochs: int = 3000) -> Trained:
    p = np.array(p0, dtype=float)
    for _ in range(epochs):
        p -= lr * problem.loss_and_grad(p, 1.0)[1]
    return _result(problem, "batch GD", p, epochs)


def constant_sgd(problem: Finnoff, p0, lr: float = 0.01, epochs: int = 3000, seed: int = 0) -> Trained:
    d = problem.data
    p = sgd_epochs(problem.net, p0, d.x_train, d.y_train, lr, epochs, np.random.default_rng(seed))
    return _result(problem, "constant SGD", p, epochs)


def data_homotopy(problem: Finnoff, p0, **options) -> Trained:
    r = track(problem, p0, 0.0, **options)
    note = "" if r.success else f"{r.status.name} at lam={r.lam_end:.3g}"
    return _result(problem, "data homotopy", r.p_end, r.counters["n_grad_evals"], note)


def lbfgs_direct(problem: Finnoff, p0, gtol: float = 1e-4, maxiter: int = 20_000) -> Trained:
    r = minimize(lambda q: problem.loss_and_grad(q, 1.0), np.array(p0, dtype=float), jac=True,
                 method="L-BFGS-B", options={"maxiter": maxiter, "gtol": gtol, "ftol": 0.0})
    return _result(problem, "L-BFGS (direct)", r.x, r.nfev, "" if r.success else str(r.message))


def run(seeds, epochs, n_train, noise, gd_lr, sgd_lr):
    rows = {}
    for gen in GENERATORS:
        for seed in seeds:
            pb = Finnoff(generator=gen, seed=seed, n_train=n_train, noise=noise)
            p0 = pb.start().p  # the same initial weights for every method
            runs = [batch_gd(pb, p0, lr=gd_lr, epochs=epochs),
                    constant_sgd(pb, p0, lr=sgd_lr, epochs=epochs, seed=seed),
                    data_homotopy(pb, p0),
                    lbfgs_direct(pb, p0)]
            for r in runs:
                rows.setdefault((gen, r.method), []).append(r)
                if r.note:
                    print(f"  note: {gen} seed {seed} {r.method}: {r.note}")
    return rows


def table(rows) -> str:
    out = ["| generator | method | train MSE | test MSE | grad evals |", "|---|---|---|---|---|"]
    for (gen, method), rs in rows.items():
        tr = np.array([r.train_mse for r in rs])
        te = np.array([r.test_mse for r in rs])
        ge = np.array([r.grad_evals for r in rs])
        out.append(f"| {gen} | {method} | {tr.mean():.4f} ± {tr.std(ddof=1):.4f} | "
                   f"{te.mean():.4f} ± {te.std(ddof=1):.4f} | {ge.mean():.0f} |")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(m for _, m in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(methods)
    for ax, key in zip(axes, ("train_mse", "test_mse")):
        for k, m in enumerate(methods):
            vals = [[getattr(r, key) for r in rows[(g, m)]] for g in GENERATORS]
            x = np.arange(len(GENERATORS)) + k * width
            ax.bar(x, [np.mean(v) for v in vals], width, yerr=[np.std(v, ddof=1) for v in vals], label=m, capsize=2)
        ax.set_xticks(np.arange(len(GENERATORS)) + 0.4 - width / 2)
        ax.set_xticklabels(GENERATORS)
        ax.set_yscale("log")
        ax.set_title(key.replace("_", " "))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"saved {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3000)
    ap.add_argument("--n-train", type=int, default=200)
    ap.add_argument("--noise", type=float, default=0.2)
    ap.add_argument("--gd-lr", type=float, default=0.5)
    ap.add_argument("--sgd-lr", type=float, default=0.01)
    ap.add_argument("--out", default="finnoff_compare.png")
    a = ap.parse_args()
    t0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        rows = run(range(a.seeds), a.epochs, a.n_train, a.noise, a.gd_lr, a.sgd_lr)
    print(f"{a.seeds} seeds, {a.epochs} epochs for GD and SGD, n_train={a.n_train}, noise={a.noise}, "
          f"{time.perf_counter() - t0:.0f} s")
    print(table(rows))
    plot(rows, a.out)


if __name__ == "__main__":
    main()
