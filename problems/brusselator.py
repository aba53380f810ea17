"""Brusselator steady states u' = A − (B+1)u + u²v, v' = Bu − u²v, continued in λ = B.

The steady state (A, B/A) is known in closed form, and it loses stability in a Hopf
bifurcation at B = 1 + A² (a textbook example with a closed-form Hopf point).
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint


class Brusselator(Problem):
    """Steady states of the Brusselator; Hopf point at λ = B = 1 + A²."""

    name = "brusselator"
    description = "Brusselator steady state (A, B/A) in lam = B; Hopf point at B = 1 + A^2"
    is_ode_rhs = True
    parameters = {"A": 1.0, "lam_start": 1.0, "lam_end": 3.0}
    default_options = {"parameterisation": "natural", "max_ds": 0.2}

    def __init__(self, **params):
        super().__init__(**params)
        self.A = float(self.params["A"])
        if self.A <= 0:
            raise ProblemError(f"brusselator: A must be positive, got {self.A}")
        self.lam_start = float(self.params["lam_start"])
        self.lam_end = float(self.params["lam_end"])

    def H(self, p, lam):
        u, v = p[0], p[1]
        return anp.stack([self.A - (lam + 1.0) * u + u * u * v, lam * u - u * u * v])

    def dH_dp(self, p, lam):
        u, v = p
        return np.array([[-(lam + 1.0) + 2 * u * v, u * u], [lam - 2 * u * v, -u * u]])

    def dH_dlam(self, p, lam):
        return np.array([-p[0], p[0]])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        u, v = P[:, 0], P[:, 1]
        uuv = u * u * v
        out = np.empty_like(P)
        out[:, 0], out[:, 1] = self.A - (lam + 1.0) * u + uuv, lam * u - uuv
        return out

    def dH_dp_batch(self, P, lam):
        u, v = P[:, 0], P[:, 1]
        J = np.empty((len(P), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = -(lam + 1.0) + 2 * u * v, u * u
        J[:, 1, 0], J[:, 1, 1] = lam - 2 * u * v, -u * u
        return J

    def dH_dlam_batch(self, P, lam):
        out = np.empty_like(P)
        out[:, 0], out[:, 1] = -P[:, 0], P[:, 0]
        return out

    def start(self):
        return StartPoint(np.array([self.A, self.lam_start / self.A]), self.lam_start)

    def hopf_lambda(self):
        return 1.0 + self.A ** 2
