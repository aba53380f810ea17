"""1-D Bratu problem u'' + λ·e^u = 0 on (0, 1), u(0) = u(1) = 0, by central differences.

The continuous problem has a fold at λ* = 3.51383071912516…; the discrete one has its
own fold λ*_h = λ* + O(h²), which :meth:`Bratu1D.fold_point` computes independently of
the tracker (Newton on the Moore–Spence extended system) and :func:`refined_fold`
extrapolates to h → 0.
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint

#: Fold of the continuous problem (Bratu–Gelfand), for reference.
LAMBDA_STAR = 3.51383071912516


class Bratu1D(Problem):
    """Finite-difference Bratu problem with ``n`` interior points.

    The path starts on the lower branch at λ = ``lam_min`` (refined from u = 0), passes
    the fold near λ ≈ 3.5138 and returns on the upper branch to λ = ``lam_min``, where
    it leaves the λ-box.
    """

    name = "bratu1d"
    description = "1-D Bratu u'' + lam e^u = 0, fold near lam* = 3.51383 (pseudo-arclength round the fold)"
    parameters = {"n": 100, "lam_min": 0.05, "lam_max": 4.0}
    default_options = {"parameterisation": "arclength", "direction": 1, "initial_ds": 0.05, "max_ds": 1.0,
                       "max_steps": 2000}

    def __init__(self, **params):
        super().__init__(**params)
        self.n = int(self.params["n"])
        if self.n < 2:
            raise ProblemError(f"bratu1d: n must be >= 2, got {self.n}")
        self.h = 1.0 / (self.n + 1)
        self.lam_min = float(self.params["lam_min"])
        self.lam_max = float(self.params["lam_max"])
        self.lam_start = self.lam_min
        self.lam_end = self.lam_min  # the path comes back to lam_min on the upper branch

    def _laplacian(self, u):
        left = anp.concatenate([anp.zeros(1), u[:-1]])
        right = anp.concatenate([u[1:], anp.zeros(1)])
        return (left - 2.0 * u + right) / self.h ** 2

    def H(self, p, lam):
        return self._laplacian(p) + lam * anp.exp(p)

    def dH_dp(self, p, lam):
        n, h2 = self.n, self.h ** 2
        J = np.zeros((n, n))
        idx = np.arange(n)
        J[idx, idx] = -2.0 / h2 + lam * np.exp(p)
        J[idx[:-1], idx[:-1] + 1] = 1.0 / h2
        J[idx[1:], idx[1:] - 1] = 1.0 / h2
        return J

    def dH_dlam(self, p, lam):
        return np.exp(p)

    def jvp(self, p, lam, v):
        return self._laplacian(v) + lam * np.exp(p) * v

    def start(self):
        return StartPoint(np.zeros(self.n), self.lam_start)

    def fold_point(self, tol=1e-13, max_iters=50):
        """The discrete fold (u, λ) from Newton on [H = 0, J v = 0, e·v = 1] (Moore–Spence).

        Independent of the tracker; used as the reference value in tests.
        """
        n = self.n
        x = np.linspace(self.h, 1.0 - self.h, n)
        u = 4.0 * 1.1868 * x * (1.0 - x)
        v = np.sin(np.pi * x)
        lam = 3.5
        e = np.ones(n) / n
        v = v / (e @ v)
        for _ in range(max_iters):
            J = self.dH_dp(u, lam)
            F = np.concatenate([self.H(u, lam), J @ v, [e @ v - 1.0]])
            A = np.zeros((2 * n + 1, 2 * n + 1))
            A[:n, :n] = J
            A[:n, 2 * n] = np.exp(u)
            A[n:2 * n, :n] = np.diag(lam * np.exp(u) * v)
            A[n:2 * n, n:2 * n] = J
            A[n:2 * n, 2 * n] = np.exp(u) * v
            A[2 * n, n:2 * n] = e
            dz = np.linalg.solve(A, -F)
            u, v, lam = u + dz[:n], v + dz[n:2 * n], lam + dz[2 * n]
            if np.linalg.norm(dz) < tol * (1.0 + np.linalg.norm(u)):
                return u, float(lam)
        raise RuntimeError("bratu1d: fold_point Newton did not converge")


def refined_fold(ns=(50, 100, 200, 400)):
    """Richardson-extrapolated fold λ from discrete folds on successively refined meshes.

    The central-difference error is a series in h², so repeated Richardson elimination
    of h², h⁴, … over the given meshes approaches the continuous λ*.
    """
    hs = np.array([1.0 / (n + 1) for n in ns])
    vals = [Bratu1D(n=n).fold_point()[1] for n in ns]
    table = [np.array(vals)]
    for k in range(1, len(ns)):
        prev = table[-1]
        ratio = (hs[:-k] / hs[k:]) ** (2 * k)
        table.append((ratio * prev[1:] - prev[:-1]) / (ratio - 1.0))
    return float(table[-1][-1]), vals
