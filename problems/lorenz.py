"""Steady states of the Lorenz equations (the model of AUTO-07p's demo ``lor``), continued in λ = r.

    x' = σ(y − x),    y' = r x − y − x z,    z' = x y − b z.

The origin is a steady state for every r; at r = 1 the pair C± = (±√(b(r−1)), ±√(b(r−1)), r−1)
bifurcates in a pitchfork, and C± lose stability in Hopf bifurcations at
r = σ(σ + b + 3)/(σ − b − 1) (24.7368... for the classical σ = 10, b = 8/3).
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class Lorenz(Problem):
    """Lorenz steady states in λ = r from the origin at r = 0: a pitchfork at r = 1, Hopf points on C±."""

    name = "lorenz"
    description = "Lorenz steady states (AUTO demo lor) in lam = r: pitchfork at r = 1, Hopf on C+- at 24.74"
    is_ode_rhs = True
    parameters = {"sigma": 10.0, "b": 8.0 / 3.0, "lam_min": -1.0, "lam_max": 30.0}
    default_options = {"parameterisation": "arclength", "initial_ds": 0.05, "max_ds": 1.0, "max_steps": 2000}

    def __init__(self, **params):
        super().__init__(**params)
        self.sigma, self.b = float(self.params["sigma"]), float(self.params["b"])
        self.lam_min, self.lam_max = float(self.params["lam_min"]), float(self.params["lam_max"])
        self.lam_start, self.lam_end = 0.0, self.lam_max

    def H(self, p, lam):
        x, y, z = p[0], p[1], p[2]
        return anp.stack([self.sigma * (y - x), lam * x - y - x * z, x * y - self.b * z])

    def dH_dp(self, p, lam):
        x, y, z = (float(v) for v in p)
        return np.array([[-self.sigma, self.sigma, 0.0], [lam - z, -1.0, -x], [y, x, -self.b]])

    def dH_dlam(self, p, lam):
        return np.array([0.0, float(p[0]), 0.0])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        x, y, z = P[:, 0], P[:, 1], P[:, 2]
        out = np.empty_like(P)
        out[:, 0], out[:, 1], out[:, 2] = self.sigma * (y - x), lam * x - y - x * z, x * y - self.b * z
        return out

    def dH_dp_batch(self, P, lam):
        x, y, z = P[:, 0], P[:, 1], P[:, 2]
        J = np.empty((len(P), 3, 3))
        J[:, 0, 0], J[:, 0, 1], J[:, 0, 2] = -self.sigma, self.sigma, 0.0
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = lam - z, -1.0, -x
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = y, x, -self.b
        return J

    def dH_dlam_batch(self, P, lam):
        out = np.zeros_like(P)
        out[:, 1] = P[:, 0]
        return out

    def start(self):
        return StartPoint(np.zeros(3), 0.0)

    def closed_forms(self):
        """``{"BP", "HB"}``: λ = r of the pitchfork and of the Hopf points of C±."""
        s, b = self.sigma, self.b
        return {"BP": 1.0, "HB": s * (s + b + 3.0) / (s - b - 1.0)}
