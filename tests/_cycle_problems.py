"""ODE problems with closed-form periodic orbits, for the cycle-continuation tests."""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem


class HopfNormalForm(Problem):
    """x' = μx − ωy + ℓ(x²+y²)x, y' = ωx + μy + ℓ(x²+y²)y with μ = λ(1 − λ/λ₂) (λ₂ = inf: μ = λ).

    Orbits: circles of radius sqrt(−μ/ℓ) and period 2π/ω; Hopf points at λ = 0 and λ = λ₂.
    """

    name = "hopf-normal-form"
    is_ode_rhs = True
    parameters = {"omega": 1.3, "l1": -1.0, "lam2": np.inf}
    lam_start, lam_end = -1.0, 1.0

    def __init__(self, **params):
        super().__init__(**params)
        self.omega, self.l1, self.lam2 = (float(self.params[k]) for k in ("omega", "l1", "lam2"))

    def mu(self, lam):
        return lam if np.isinf(self.lam2) else lam * (1.0 - lam / self.lam2)

    def H(self, p, lam):
        x, y = p[0], p[1]
        r2 = x * x + y * y
        m = self.mu(lam)
        return anp.stack([m * x - self.omega * y + self.l1 * r2 * x, self.omega * x + m * y + self.l1 * r2 * y])

    def start(self):
        return np.zeros(2), self.lam_start


class SnicCircle(Problem):
    """r' = r(λ − r²), θ' = ω + a·r·sinθ (x' = x(λ−r²) − y(ω + a y), y' = y(λ−r²) + x(ω + a y)).

    Orbits: the circle r = sqrt(λ), period 2π/sqrt(ω² − a²λ), infinite at λ = ω²/a² where a
    saddle-node appears on the circle (a SNIC: the orbit stays bounded, the period diverges).
    """

    name = "snic-circle"
    is_ode_rhs = True
    parameters = {"omega": 1.0, "a": 1.0}
    lam_start, lam_end = -0.5, 2.0

    def __init__(self, **params):
        super().__init__(**params)
        self.omega, self.a = float(self.params["omega"]), float(self.params["a"])

    def H(self, p, lam):
        x, y = p[0], p[1]
        g = lam - x * x - y * y
        w = self.omega + self.a * y
        return anp.stack([x * g - y * w, y * g + x * w])

    def period(self, lam):
        return 2 * np.pi / np.sqrt(self.omega ** 2 - self.a ** 2 * lam)
