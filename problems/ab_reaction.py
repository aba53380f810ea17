"""The A → B reaction in a stirred tank (the model of AUTO-07p's demo ``ab``), continued in λ = p₁.

    u₁' = −u₁ + λ (1 − u₁) e^(u₂),    u₂' = −u₂ + λ p₂ (1 − u₁) e^(u₂) − p₃ u₂.

On the steady states u₁ = (1 + p₃) u₂ / p₂, so λ(u₂) = u₁ e^(−u₂) / (1 − u₁) is explicit: the folds
are the zeros of dλ/du₂ and the Hopf points the zeros of the trace of the Jacobian,
−2 − p₃ − u₁/(1 − u₁) + p₂ u₁, where its determinant is positive (:meth:`ABReaction.closed_forms`).
"""

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class ABReaction(Problem):
    """Steady states of AUTO's ``ab`` demo in λ = p₁ from u = 0 at λ = 0: two folds and a Hopf point."""

    name = "ab-reaction"
    description = "A -> B reaction (AUTO demo ab) steady states in lam = p1: two folds, a Hopf point"
    is_ode_rhs = True
    parameters = {"p2": 14.0, "p3": 2.0, "lam_min": -0.01, "lam_max": 0.2}
    default_options = {"parameterisation": "arclength", "initial_ds": 0.005, "max_ds": 0.05, "max_steps": 2000}

    def __init__(self, **params):
        super().__init__(**params)
        self.p2, self.p3 = float(self.params["p2"]), float(self.params["p3"])
        self.lam_min, self.lam_max = float(self.params["lam_min"]), float(self.params["lam_max"])
        self.lam_start, self.lam_end = 0.0, self.lam_max

    def H(self, p, lam):
        e = anp.exp(p[1])
        return anp.stack([-p[0] + lam * (1.0 - p[0]) * e,
                          -p[1] + lam * self.p2 * (1.0 - p[0]) * e - self.p3 * p[1]])

    def dH_dp(self, p, lam):
        u1, e = float(p[0]), float(np.exp(p[1]))
        return np.array([[-1.0 - lam * e, lam * (1.0 - u1) * e],
                         [-lam * self.p2 * e, -1.0 + lam * self.p2 * (1.0 - u1) * e - self.p3]])

    def dH_dlam(self, p, lam):
        g = (1.0 - float(p[0])) * float(np.exp(p[1]))
        return np.array([g, self.p2 * g])

    def start(self):
        return StartPoint(np.zeros(2), 0.0)

    def closed_forms(self):
        """``{"LP1", "LP2", "HB"}``: λ of the folds and of the Hopf point, by Brent's method on u₂."""
        from scipy.optimize import brentq

        k = (1.0 + self.p3) / self.p2

        def lam(x):
            return k * x * np.exp(-x) / (1.0 - k * x)

        def dlam(x):  # d/dx log λ = 1/x − 1 + k/(1 − kx)
            return 1.0 / x - 1.0 + k / (1.0 - k * x)

        def trace(x):
            u1 = k * x
            return -2.0 - self.p3 - u1 / (1.0 - u1) + self.p2 * u1

        xs = np.linspace(1e-3, 1.0 / k - 1e-3, 4001)
        folds = [brentq(dlam, a, b, xtol=1e-15) for a, b in zip(xs[:-1], xs[1:]) if dlam(a) * dlam(b) < 0]
        hopf = [brentq(trace, a, b, xtol=1e-15) for a, b in zip(xs[:-1], xs[1:]) if trace(a) * trace(b) < 0]
        # a zero of the trace between the folds is a neutral saddle (negative determinant), not a Hopf point
        hopf = [x for x in hopf if not folds[0] < x < folds[-1]]
        return {"LP1": lam(folds[0]), "LP2": lam(folds[-1]), "HB": lam(hopf[0])}
