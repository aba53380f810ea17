"""Training methods compared on Finnoff's data from the same initial weights.

Every method returns a :class:`Trained` with the final weights, the training MSE (noisy
targets), the test MSE (noise-free targets) and the work in *full-batch gradient
equivalents* (one SGD epoch = one full gradient).

- :func:`batch_gd`: full-batch gradient descent, constant learning rate;
- :func:`constant_sgd`: per-sample SGD, constant learning rate, reshuffled every epoch;
- :func:`data_homotopy`: the engine's :func:`pathtrack.track` on the data homotopy
  ``L(p, λ) = ½ mean (ŷ − λ y)²`` from λ = 0 (refined from the initial weights) to λ = 1,
  with the L-BFGS minimisation corrector at each λ;
- :func:`lbfgs_direct`: L-BFGS on the λ = 1 loss from the initial weights (the homotopy's
  corrector without the homotopy).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .model import Finnoff, sgd_epochs

__all__ = ["Trained", "batch_gd", "constant_sgd", "data_homotopy", "lbfgs_direct", "METHODS"]


class Trained(NamedTuple):
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
    from pathtrack import track

    r = track(problem, p0, 0.0, **options)
    note = "" if r.success else f"{r.status.name} at lam={r.lam_end:.3g}"
    return _result(problem, "data homotopy", r.p_end, r.counters["n_grad_evals"], note)


def lbfgs_direct(problem: Finnoff, p0, gtol: float = 1e-4, maxiter: int = 20_000) -> Trained:
    from scipy.optimize import minimize

    r = minimize(lambda q: problem.loss_and_grad(q, 1.0), np.array(p0, dtype=float), jac=True,
                 method="L-BFGS-B", options={"maxiter": maxiter, "gtol": gtol, "ftol": 0.0})
    return _result(problem, "L-BFGS (direct)", r.x, r.nfev, "" if r.success else str(r.message))


METHODS = {"gd": batch_gd, "sgd": constant_sgd, "homotopy": data_homotopy, "lbfgs": lbfgs_direct}
