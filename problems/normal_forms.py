"""Planar ODEs with closed-form periodic orbits: the test bed of cycle continuation.

``hopf-normal-form`` (Hopf, and with ``l1 > 0 > l2`` a fold of cycles at a known point) and
``snic-circle`` (orbits whose period diverges at a saddle-node on the cycle) are the
demos of docs/periodic_orbits.md, run in pathtrack and AUTO-07p by
``benchmarks/bench_periodic.py``.
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class HopfNormalForm(Problem):
    """x' = μx − ωy + g(r²)x, y' = ωx + μy + g(r²)y, g = ℓr² + ℓ₂r⁴, μ = λ(1 − λ/λ₂) (λ₂ = inf: μ = λ).

    Orbits: circles of period 2π/ω with μ + ℓr² + ℓ₂r⁴ = 0 (radius sqrt(−μ/ℓ) for ℓ₂ = 0);
    Hopf points at λ = 0 and λ = λ₂; for ℓ > 0 > ℓ₂ (Bautin) a fold of cycles at
    r² = −ℓ/(2ℓ₂), μ = ℓ²/(4ℓ₂).
    """

    name = "hopf-normal-form"
    description = "Hopf normal form with r^4 term (Bautin): circles of period 2pi/omega, folds for l1 > 0 > l2"
    is_ode_rhs = True
    parameters = {"omega": 1.3, "l1": -1.0, "l2": 0.0, "lam2": np.inf}
    lam_start, lam_end = -1.0, 1.0

    def __init__(self, **params):
        super().__init__(**params)
        self.omega, self.l1, self.l2, self.lam2 = (float(self.params[k]) for k in ("omega", "l1", "l2", "lam2"))

    def mu(self, lam):
        return lam if np.isinf(self.lam2) else lam * (1.0 - lam / self.lam2)

    def H(self, p, lam):
        x, y = p[0], p[1]
        r2 = x * x + y * y
        m = self.mu(lam)
        g = self.l1 * r2 + self.l2 * r2 * r2
        return anp.stack([m * x - self.omega * y + g * x, self.omega * x + m * y + g * y])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        x, y = P[:, 0], P[:, 1]
        r2 = x * x + y * y
        m = self.mu(lam)
        g = self.l1 * r2 + self.l2 * r2 * r2
        out = np.empty_like(P)
        out[:, 0], out[:, 1] = m * x - self.omega * y + g * x, self.omega * x + m * y + g * y
        return out

    def dH_dp_batch(self, P, lam):
        x, y = P[:, 0], P[:, 1]
        r2 = x * x + y * y
        a = self.mu(lam) + self.l1 * r2 + self.l2 * r2 * r2
        dg = 2.0 * (self.l1 + 2.0 * self.l2 * r2)  # ∂g/∂x = dg·x, ∂g/∂y = dg·y
        J = np.empty((len(P), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = a + dg * x * x, -self.omega + dg * x * y
        J[:, 1, 0], J[:, 1, 1] = self.omega + dg * x * y, a + dg * y * y
        return J

    def dH_dlam_batch(self, P, lam):
        dmu = 1.0 if np.isinf(self.lam2) else 1.0 - 2.0 * lam / self.lam2
        return dmu * P

    def start(self):
        return StartPoint(np.zeros(2), self.lam_start)


class SnicCircle(Problem):
    """r' = r(λ − r²), θ' = ω + a·r·sinθ (x' = x(λ−r²) − y(ω + a y), y' = y(λ−r²) + x(ω + a y)).

    Orbits: the circle r = sqrt(λ), period 2π/sqrt(ω² − a²λ), infinite at λ = ω²/a² where a
    saddle-node appears on the circle (a SNIC: the orbit stays bounded, the period diverges).
    """

    name = "snic-circle"
    description = "circle r = sqrt(lam) with a saddle-node on it at lam = omega^2/a^2: period 2pi/sqrt(omega^2 - a^2 lam)"
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

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        x, y = P[:, 0], P[:, 1]
        g = lam - x * x - y * y
        w = self.omega + self.a * y
        out = np.empty_like(P)
        out[:, 0], out[:, 1] = x * g - y * w, y * g + x * w
        return out

    def dH_dp_batch(self, P, lam):
        x, y = P[:, 0], P[:, 1]
        g = lam - x * x - y * y
        w = self.omega + self.a * y
        J = np.empty((len(P), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = g - 2.0 * x * x, -2.0 * x * y - w - self.a * y
        J[:, 1, 0], J[:, 1, 1] = -2.0 * x * y + w, g - 2.0 * y * y + self.a * x
        return J

    def dH_dlam_batch(self, P, lam):
        return P.copy()

    def start(self):
        return StartPoint(np.zeros(2), self.lam_start)

    def period(self, lam):
        return 2 * np.pi / np.sqrt(self.omega ** 2 - self.a ** 2 * lam)
