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

    def equilibrium(self, lam):
        """The equilibrium near the origin."""
        z = 2 * self.b / (self.c + np.sqrt(self.c ** 2 - 4 * lam * self.b))
        return np.array([lam * z, -z, z])

    def start(self):
        return StartPoint(self.equilibrium(self.lam_start), self.lam_start)
