"""ODE problems with closed-form periodic orbits, for the cycle-continuation tests (beside the plugins)."""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem


class TransverseOscillator(Problem):
    """The Hopf normal form (ω, ℓ = −1) with a linear oscillator z' = (λ − κ₀ + iν) z beside it (4-D).

    The orbits r = sqrt(λ), z = 0 have period 2π/ω and multipliers 1, exp(−2λT),
    exp((λ − κ₀ ± iν)T): a Neimark–Sacker point at λ = κ₀.
    """

    name = "transverse-oscillator"
    is_ode_rhs = True
    parameters = {"omega": 1.0, "kappa0": 0.3, "nu": 0.7}
    lam_start, lam_end = -1.0, 1.0

    def __init__(self, **params):
        super().__init__(**params)
        self.omega, self.kappa0, self.nu = (float(self.params[k]) for k in ("omega", "kappa0", "nu"))

    def H(self, p, lam):
        x, y, z1, z2 = p[0], p[1], p[2], p[3]
        g = lam - x * x - y * y
        k = lam - self.kappa0
        return anp.stack([g * x - self.omega * y, g * y + self.omega * x, k * z1 - self.nu * z2,
                          k * z2 + self.nu * z1])

