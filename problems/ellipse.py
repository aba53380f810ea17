"""Ellipse (p/a)² + (λ/b)² = 1: a closed path with folds at λ = ±b."""

import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint


class Ellipse(Problem):
    """Closed curve with two folds at λ = ±b; pseudo-arclength goes round it once."""

    name = "ellipse"
    description = "ellipse (p/a)^2 + (lam/b)^2 = 1, folds at lam = +-b (closed path)"
    parameters = {"a": 2.0, "b": 1.0}
    default_options = {"parameterisation": "arclength", "max_ds": 0.2, "initial_ds": 0.05}

    def __init__(self, **params):
        super().__init__(**params)
        self.a, self.b = float(self.params["a"]), float(self.params["b"])
        if self.a <= 0 or self.b <= 0:
            raise ProblemError(f"ellipse: a and b must be positive, got a={self.a}, b={self.b}")
        self.lam_start, self.lam_end = 0.0, 2.0 * self.b
        self.lam_min, self.lam_max = -2.0 * self.b, 2.0 * self.b

    def H(self, p, lam):
        return (p / self.a) ** 2 + (lam / self.b) ** 2 - 1.0

    def dH_dp(self, p, lam):
        return np.diag(2.0 * p / self.a ** 2)

    def dH_dlam(self, p, lam):
        return np.full(1, 2.0 * lam / self.b ** 2)

    def start(self):
        return StartPoint(np.array([self.a]), 0.0)

    def folds(self):
        """The analytic fold locations."""
        return [-self.b, self.b]
