"""The A → B reaction in a stirred tank (the model of AUTO-07p's demo ``ab``), continued in λ = D.

    u₁' = −u₁ + D (1 − u₁) e^{u₂},    u₂' = −u₂ + D B (1 − u₁) e^{u₂} − β u₂

(Uppal, Ray and Poore's exothermic reactor: conversion u₁, temperature u₂, Damköhler number D).
For B = 14 and β = 2 the steady states form an S with two folds and a Hopf point; continued in
(D, β) the Hopf curve meets a generalised Hopf (Bautin) point and a Bogdanov–Takens point. The
two-parameter run of ``docs/bifurcation.md`` and ``benchmarks/bench_bifurcation.py``.
"""

import math

import autograd.numpy as anp
import numpy as np

from pathtrack.problem import Problem, StartPoint


class ABReaction(Problem):
    """Steady states of the A → B reactor of AUTO's ``ab`` demo in λ = D, from u = 0 at D = 0."""

    name = "ab-reaction"
    description = "A -> B reactor (AUTO demo ab) in lam = D: two folds and a Hopf point for B = 14, beta = 2"
    is_ode_rhs = True
    parameters = {"B": 14.0, "beta": 2.0, "lam_max": 0.5}
    default_options = {"parameterisation": "arclength", "initial_ds": 0.01, "max_ds": 0.05, "max_steps": 2000}

    def __init__(self, **params):
        super().__init__(**params)
        self.B, self.beta = float(self.params["B"]), float(self.params["beta"])
        self.lam_start, self.lam_min = 0.0, 0.0
        self.lam_end = self.lam_max = float(self.params["lam_max"])

    def H(self, p, lam):
        if type(p) is np.ndarray and isinstance(lam, float):
            # Python floats unless autograd traces: NumPy's scalar calls cost several times the arithmetic
            # (math.exp gave np.exp's values bit for bit on 1e5 random arguments in [0, 6])
            u1, u2 = p.tolist()
            r = lam * (1.0 - u1) * math.exp(u2)
            return np.array([-u1 + r, -u2 + self.B * r - self.beta * u2])
        u1, u2 = p[0], p[1]
        r = lam * (1.0 - u1) * anp.exp(u2)
        return anp.array([-u1 + r, -u2 + self.B * r - self.beta * u2])

    def dH_dp(self, p, lam):
        # analytic, as AUTO's finite differences are cheap: autograd would dominate the Hopf-curve run
        u1, u2 = float(p[0]), float(p[1])
        e = math.exp(u2)
        r1, r2 = -lam * e, lam * (1.0 - u1) * e  # ∂r/∂u₁, ∂r/∂u₂
        return np.array([[-1.0 + r1, r2], [self.B * r1, -1.0 - self.beta + self.B * r2]])

    def dH_dlam(self, p, lam):
        s = (1.0 - float(p[0])) * math.exp(float(p[1]))
        return np.array([s, self.B * s])

    # the right-hand side at many points (rows of P) at once: cycle continuation's collocation points
    def H_batch(self, P, lam):
        u1, u2 = P[:, 0], P[:, 1]
        r = lam * (1.0 - u1) * np.exp(u2)
        out = np.empty_like(P)
        out[:, 0], out[:, 1] = -u1 + r, -u2 + self.B * r - self.beta * u2
        return out

    def dH_dp_batch(self, P, lam):
        u1, u2 = P[:, 0], P[:, 1]
        e = np.exp(u2)
        r1, r2 = -lam * e, lam * (1.0 - u1) * e
        J = np.empty((len(P), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = -1.0 + r1, r2
        J[:, 1, 0], J[:, 1, 1] = self.B * r1, -1.0 - self.beta + self.B * r2
        return J

    def dH_dlam_batch(self, P, lam):
        out = np.empty_like(P)
        out[:, 0] = (1.0 - P[:, 0]) * np.exp(P[:, 1])
        out[:, 1] = self.B * out[:, 0]
        return out

    def start(self):
        return StartPoint(np.zeros(2), 0.0)

    # -- closed forms (the references of the tests and of benchmarks/bench_bifurcation.py) ---------
    def hopf_states(self):
        """The steady states with zero trace (Hopf points or neutral saddles): ``[(u₁, u₂, D), ...]``, u₁ ascending.

        On them u₂ = B u₁/(1 + β), D e^{u₂} = u₁/(1 − u₁), and the trace of the Jacobian,
        −2 − D e^{u₂} − β + B u₁, vanishes: ``B u₁² − (B + 1 + β) u₁ + 2 + β = 0``.
        """
        roots = np.roots([self.B, -(self.B + 1.0 + self.beta), 2.0 + self.beta])
        out = []
        for u1 in sorted(roots[np.isreal(roots)].real):
            u2 = self.B * u1 / (1.0 + self.beta)
            out.append((float(u1), float(u2), float(u1 / ((1.0 - u1) * np.exp(u2)))))
        return out

    def first_lyapunov_exact(self, u1: float, u2: float, lam: float) -> float:
        """``l₁`` (Kuznetsov's formula, as :mod:`pathtrack.normalform`) with the exact second and third derivatives.

        The nonlinearity is ``r (1, B)`` with ``r = D (1 − u₁) e^{u₂}``, whose only nonzero derivatives
        are ``r_{u₁u₂…} = −D e^{u₂}`` and ``r_{u₂u₂…} = D (1 − u₁) e^{u₂}``.
        """
        de, r = lam * np.exp(u2), lam * (1.0 - u1) * np.exp(u2)
        A = self.dH_dp(np.array([u1, u2]), lam)
        v = np.array([1.0, self.B])

        def B2(x, z):
            return (-de * (x[0] * z[1] + x[1] * z[0]) + r * x[1] * z[1]) * v

        def C3(x, z, w):
            return (-de * (x[0] * z[1] * w[1] + x[1] * z[0] * w[1] + x[1] * z[1] * w[0]) + r * x[1] * z[1] * w[1]) * v

        eigs, right = np.linalg.eig(A)
        k = int(np.argmax(eigs.imag))
        omega, q = float(eigs[k].imag), right[:, k] / np.linalg.norm(right[:, k])
        left_vals, left = np.linalg.eig(A.T)
        p = left[:, int(np.argmin(np.abs(left_vals + 1j * omega)))]
        p = p / np.conj(np.vdot(p, q))
        t = (np.vdot(p, C3(q, q, np.conj(q))) - 2 * np.vdot(p, B2(q, np.linalg.solve(A, B2(q, np.conj(q)))))
             + np.vdot(p, B2(np.conj(q), np.linalg.solve(2j * omega * np.eye(2) - A, B2(q, q)))))
        return float(t.real / (2 * omega))

    def closed_forms(self):
        """``{"LP1", "LP2", "HB"}``: D at the two folds and at the Hopf point (AUTO demo ``ab``'s labels).

        On the steady states u₁ = (1 + β) u₂ / B, so D(u₂) = u₁ e^{−u₂} / (1 − u₁) is explicit: the
        folds are the zeros of dD/du₂ (found by Brent's method) and the Hopf point is the zero-trace
        state of :meth:`hopf_states` outside the folds (the one between them is a neutral saddle).
        """
        from scipy.optimize import brentq

        k = (1.0 + self.beta) / self.B

        def dlog_lam(x):  # d/du₂ log D = 1/u₂ − 1 + k/(1 − k u₂)
            return 1.0 / x - 1.0 + k / (1.0 - k * x)

        xs = np.linspace(1e-3, 1.0 / k - 1e-3, 4001)
        folds = [brentq(dlog_lam, a, b, xtol=1e-15) for a, b in zip(xs[:-1], xs[1:]) if dlog_lam(a) * dlog_lam(b) < 0]
        lam = [k * x * np.exp(-x) / (1.0 - k * x) for x in folds]
        hopf = [D for _u1, u2, D in self.hopf_states() if not folds[0] < u2 < folds[-1]]
        return {"LP1": lam[0], "LP2": lam[-1], "HB": hopf[0]}
