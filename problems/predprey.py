"""Predator-prey steady states (the model of AUTO-07p's demo ``pp2``), continued in λ = p₁.

    u₁' = p₂ u₁ (1 − u₁) − u₁ u₂ − λ (1 − e^(−p₃ u₁)),    u₂' = −u₂ + p₄ u₁ u₂.

From the trivial state u = 0 (a branch for every λ) the prey-only branch u₂ = 0 bifurcates
transcritically at λ = p₂/p₃; on it the coexistence branch u₁ = 1/p₄ bifurcates at
λ = p₂ u₁(1 − u₁)/(1 − e^(−p₃ u₁)), and the coexistence states lose stability in a Hopf
bifurcation. These closed forms and AUTO's run are the references of ``docs/bifurcation.md``.
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class PredatorPrey(Problem):
    """Steady states of the predator-prey model of AUTO's ``pp2`` demo, in λ = p₁ on [lam_min, lam_max]."""

    name = "predprey"
    description = "predator-prey steady states (AUTO demo pp2) in lam = p1: two branch points, a fold, a Hopf point"
    is_ode_rhs = True
    parameters = {"p2": 3.0, "p3": 5.0, "p4": 3.0, "lam_min": -0.1, "lam_max": 1.0}
    # max_norm: the prey-only branch runs off to u₁ → −∞ as λ → 0⁺ (negative prey); stop it at ‖u‖ = 3
    default_options = {"parameterisation": "arclength", "initial_ds": 0.01, "max_ds": 0.05, "max_steps": 2000,
                       "max_norm": 3.0}

    def __init__(self, **params):
        super().__init__(**params)
        self.p2, self.p3, self.p4 = (float(self.params[k]) for k in ("p2", "p3", "p4"))
        self.lam_min, self.lam_max = float(self.params["lam_min"]), float(self.params["lam_max"])
        self.lam_start, self.lam_end = 0.0, self.lam_max

    def H(self, p, lam):
        u1, u2 = p[0], p[1]
        f1 = self.p2 * u1 * (1.0 - u1) - u1 * u2 - lam * (1.0 - anp.exp(-self.p3 * u1))
        f2 = -u2 + self.p4 * u1 * u2
        return anp.stack([f1, f2])

    # hand-written derivatives: autograd's Jacobian of a 2-vector costs as much as the rest of a step
    def dH_dp(self, p, lam):
        u1, u2 = float(p[0]), float(p[1])
        return np.array([[self.p2 * (1.0 - 2.0 * u1) - u2 - lam * self.p3 * np.exp(-self.p3 * u1), -u1],
                         [self.p4 * u2, -1.0 + self.p4 * u1]])

    def dH_dlam(self, p, lam):
        return np.array([-(1.0 - np.exp(-self.p3 * float(p[0]))), 0.0])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        u1, u2 = P[:, 0], P[:, 1]
        out = np.empty_like(P)
        out[:, 0] = self.p2 * u1 * (1.0 - u1) - u1 * u2 - lam * (1.0 - np.exp(-self.p3 * u1))
        out[:, 1] = -u2 + self.p4 * u1 * u2
        return out

    def dH_dp_batch(self, P, lam):
        u1, u2 = P[:, 0], P[:, 1]
        J = np.empty((len(P), 2, 2))
        J[:, 0, 0] = self.p2 * (1.0 - 2.0 * u1) - u2 - lam * self.p3 * np.exp(-self.p3 * u1)
        J[:, 0, 1] = -u1
        J[:, 1, 0], J[:, 1, 1] = self.p4 * u2, -1.0 + self.p4 * u1
        return J

    def dH_dlam_batch(self, P, lam):
        out = np.zeros_like(P)
        out[:, 0] = -(1.0 - np.exp(-self.p3 * P[:, 0]))
        return out

    def start(self):
        return StartPoint(np.zeros(2), 0.0)

    def branch_points(self):
        """λ of the two branch points in closed form: trivial/prey-only, prey-only/coexistence."""
        u1 = 1.0 / self.p4
        return self.p2 / self.p3, self.p2 * u1 * (1.0 - u1) / (1.0 - np.exp(-self.p3 * u1))
