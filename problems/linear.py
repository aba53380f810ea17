"""Complex linear homotopy H = (1 − t)·γ·(A₀p − b₀) + t·(A₁p − b₁)."""

import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint


class ComplexLinear(Problem):
    """Complex linear homotopy from a diagonal start system to a random complex target.

    The path ends at the solution of A₁ p = b₁. γ is a random unit complex number (the
    γ-trick), which keeps the path away from singular combinations for almost all γ.
    """

    name = "linear-complex"
    description = "complex linear homotopy (1-t) gamma (A0 p - b0) + t (A1 p - b1), ends at A1^-1 b1"
    dtype = np.complex128
    parameters = {"n": 5, "seed": 0}
    default_options = {"parameterisation": "natural", "max_ds": 0.25, "initial_ds": 0.05}
    lam_start, lam_end = 0.0, 1.0

    def __init__(self, **params):
        super().__init__(**params)
        n, seed = int(self.params["n"]), int(self.params["seed"])
        if n < 1:
            raise ProblemError(f"linear-complex: n must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        self.n = n
        self.A0 = np.diag(rng.uniform(1.0, 2.0, n)).astype(complex)
        self.b0 = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        self.A1 = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        self.b1 = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        self.gamma = np.exp(2j * np.pi * rng.uniform())

    def H(self, p, lam):
        return (1.0 - lam) * self.gamma * (self.A0 @ p - self.b0) + lam * (self.A1 @ p - self.b1)

    def dH_dp(self, p, lam):
        return (1.0 - lam) * self.gamma * self.A0 + lam * self.A1

    def dH_dlam(self, p, lam):
        return -self.gamma * (self.A0 @ p - self.b0) + (self.A1 @ p - self.b1)

    def start(self):
        return StartPoint(np.linalg.solve(self.A0, self.b0), 0.0)

    def exact_end(self):
        return np.linalg.solve(self.A1, self.b1)
