"""The HTA paper's n-dimensional test function as an HTA problem, and one-start runners for multistart.

f(x) = (π/n)·{ k·sin²(πy₁) + Σ_{i<n} (y_i − A)²·[1 + k·sin²(πy_{i+1})] + (y_n − A)² },
y_i = 1 + (x_i − 1)/4; about 5^n local minima in |x_i| < 10 and one global minimum,
f = 0 at x = (1, …, 1) (for A = 1). Value, gradient and Hessian are Numba kernels.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
from scipy.optimize import minimize

from pathtrack.problem import ProblemError

from .core import HTAProblem, hta_solve
from .kernels import tf_grad, tf_hess, tf_value

__all__ = ["HTATestFunction", "GlobalMinCheck", "hta_start", "bfgs_start"]


class HTATestFunction(HTAProblem):
    """HTA on the paper's test function in ``n`` dimensions, from the initial guess ``start``.

    ``start`` is a list of n floats (one value is repeated n times). Metrics add
    ``dist_global`` = ‖θ − (1, …, 1)‖∞.
    """

    name = "hta-testfn"
    description = "HTA on Chen-Hao's n-D test function (5^n local minima, global min at x = 1)"
    parameters = {**HTAProblem.parameters, "n": 2, "k": 10.0, "A": 1.0, "start": [5.0]}

    def __init__(self, **params: Any):
        merged = {**self.parameters, **params}
        n, k, A = int(merged["n"]), float(merged["k"]), float(merged["A"])
        if n < 2:
            raise ProblemError(f"hta-testfn: n must be >= 2, got {n}")
        x0 = np.asarray(merged["start"], dtype=float).ravel()
        if x0.size == 1:
            x0 = np.full(n, float(x0[0]))
        if x0.size != n:
            raise ProblemError(f"hta-testfn: start has {x0.size} values but n = {n}")
        self.k, self.A = k, A
        super().__init__(lambda x: tf_value(x, k, A), n, grad=lambda x: tf_grad(x, k, A),
                         hess=lambda x: tf_hess(x, k, A), x0=x0, **params)
        self.x_global = np.full(n, 1.0 + 4.0 * (A - 1.0))

    def metrics(self, p, lam) -> Dict[str, float]:
        out = super().metrics(p, lam)
        out["dist_global"] = float(np.max(np.abs(p[:self.n] - self.x_global)))
        return out


class GlobalMinCheck:
    """Whether a point is the global minimiser x = (1, …, 1) (sup-norm distance ≤ ``tol``)."""

    def __init__(self, tol: float = 1e-4):
        self.tol = tol

    def __call__(self, x) -> bool:
        return bool(np.max(np.abs(np.asarray(x) - 1.0)) <= self.tol)


def hta_start(x0, **params) -> Dict[str, Any]:
    """HTA from one start (picklable, for :func:`pathtrack.multistart.multistart`); a small dict."""
    x0 = np.asarray(x0, dtype=float)
    problem = HTATestFunction(n=x0.size, **params)  # one per call: its work counters are not shared by threads
    r = hta_solve(problem, x0)
    return {"x": r.x, "f": r.f, "global": GlobalMinCheck()(r.x), "status": r.status.name, "n_jumps": r.n_jumps,
            "max_hess_index": r.max_hess_index, "n_steps": int(r.lam.size), "n_grad_evals": r.n_grad_evals,
            "n_hess_evals": r.n_hess_evals, "wall_time": r.wall_time}


def bfgs_start(x0, k: float = 10.0, A: float = 1.0) -> Dict[str, Any]:
    """scipy BFGS on f alone from one start (the paper's quasi-Newton column)."""
    import time
    t0 = time.perf_counter()
    x0 = np.asarray(x0, dtype=float)
    res = minimize(lambda x: (tf_value(x, k, A), tf_grad(x, k, A)), x0, jac=True, method="BFGS",
                   options={"gtol": 1e-10})
    return {"x": res.x, "f": float(res.fun), "global": GlobalMinCheck()(res.x), "status": str(res.status),
            "n_grad_evals": int(res.njev), "wall_time": time.perf_counter() - t0}
