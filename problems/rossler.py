"""Rössler's system x' = −y − z, y' = x + λy, z' = b + z(x − c), continued in λ = a.

The equilibrium near the origin (x = λz, y = −z, λz² − cz + b = 0) loses stability in a
Hopf point (λ ≈ 0.00598 at b = 0.2, c = 5.7); the orbits born there period-double further
on (λ ≈ 0.1096): the cycle-continuation demo that AUTO-07p also runs
(``benchmarks/bench_periodic.py``).
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint


class Rossler(Problem):
    """Rössler's system in λ = a (b, c fixed); Hopf point, then period doubling of the orbits."""

    name = "rossler"
    description = "Rossler system x'=-y-z, y'=x+lam*y, z'=b+z(x-c) in lam = a; Hopf, then period doubling"
    is_ode_rhs = True
    parameters = {"b": 0.2, "c": 5.7, "lam_start": -0.1, "lam_end": 0.2}

    def __init__(self, **params):
        super().__init__(**params)
        self.b, self.c = float(self.params["b"]), float(self.params["c"])
        self.lam_start, self.lam_end = float(self.params["lam_start"]), float(self.params["lam_end"])
        if self.c * self.c <= 4 * max(self.lam_start, self.lam_end) * self.b:
            raise ProblemError(f"rossler: no equilibrium near the origin for c = {self.c} (need c² > 4·lam·b)")

    def H(self, p, lam):
        x, y, z = p[0], p[1], p[2]
        return anp.stack([-y - z, x + lam * y, self.b + z * (x - self.c)])

    def dH_dp(self, p, lam):
        x, z = p[0], p[2]
        zero, one = np.zeros_like(x), np.ones_like(x)
        return np.array([[zero, -one, -one], [one, lam * one, zero], [z, zero, x - self.c]])

    def dH_dlam(self, p, lam):
        return np.array([np.zeros_like(p[1]), p[1], np.zeros_like(p[1])])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        x, y, z = P[:, 0], P[:, 1], P[:, 2]
        out = np.empty_like(P)  # filled column by column: np.column_stack costs as much again
        out[:, 0], out[:, 1], out[:, 2] = -y - z, x + lam * y, self.b + z * (x - self.c)
        return out

    def dH_dp_batch(self, P, lam):
        J = np.zeros((len(P), 3, 3))
        J[:, 0, 1] = J[:, 0, 2] = -1.0
        J[:, 1, 0], J[:, 1, 1] = 1.0, lam
        J[:, 2, 0], J[:, 2, 2] = P[:, 2], P[:, 0] - self.c
        return J

    def dH_dlam_batch(self, P, lam):
        out = np.zeros_like(P)
        out[:, 1] = P[:, 1]
        return out

    def equilibrium(self, lam):
        """The equilibrium near the origin."""
        z = 2 * self.b / (self.c + np.sqrt(self.c ** 2 - 4 * lam * self.b))
        return np.array([lam * z, -z, z])

    def start(self):
        return StartPoint(self.equilibrium(self.lam_start), self.lam_start)
