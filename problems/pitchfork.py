"""Pitchfork normal form H = (λ − λ*)·p₁ − p₁³ (+ a decoupled linear part): branch point at λ = λ*."""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class Pitchfork(Problem):
    """Supercritical pitchfork: the trivial branch p = 0 meets p₁ = ±√(λ − λ*) at λ = λ*.

    A second unknown obeys p₂ = λ (decoupled), so the problem is not one-dimensional.
    """

    name = "pitchfork"
    description = "pitchfork normal form (lam - lam_bp) p - p^3, branch point at lam = lam_bp"
    parameters = {"lam_bp": 0.5, "lam_start": -1.0, "lam_end": 2.0}
    default_options = {"parameterisation": "arclength", "max_ds": 0.25, "initial_ds": 0.05}

    def __init__(self, **params):
        super().__init__(**params)
        self.lam_bp = float(self.params["lam_bp"])
        self.lam_start = float(self.params["lam_start"])
        self.lam_end = float(self.params["lam_end"])

    def H(self, p, lam):
        h1 = (lam - self.lam_bp) * p[0] - p[0] ** 3
        h2 = p[1] - lam
        return anp.stack([h1, h2])

    def dH_dp(self, p, lam):
        return np.array([[lam - self.lam_bp - 3.0 * p[0] ** 2, 0.0], [0.0, 1.0]])

    def dH_dlam(self, p, lam):
        return np.array([p[0], -1.0])

    def start(self):
        return StartPoint(np.array([0.0, self.lam_start]), self.lam_start)
