"""A Lipschitz target with a continuum of non-global local minima for width 2 (Jentzen & Riekert, H > 1).

Jentzen & Riekert (2022) prove that for one hidden neuron and a piecewise-polynomial target
the critical points of the risk have finitely many realisation functions, and that for
H > 1 there are Lipschitz targets with uncountably many realisations of non-global local
minima. This module builds such a target in the spirit of their result (the construction
is ours) and the homotopy along the curve of minima.

**Construction.** Input x ~ U[−1, 1], target ``f(x) = φ(|x|)``, width 2. Take the symmetric
networks with a flat bottom, one unit facing each way with kinks ±k::

    N_k(x) = c + s · max(|x| − k, 0)       (w = (1, −1), b = (−k, −k), v = (s, s)).

By symmetry the risk is that of the hinge ``c + s·max(x − k, 0)`` against φ on [0, 1]. Its
stationarity in (c, s, k) reads, with ``E(k) = ∫_k^1 φ`` and ``M(k) = ∫_k^1 φ(x)(x − k) dx``:
c is the mean of φ on [0, k], and (c, s) is the least-squares line of φ on [k, 1]. Asking
this for *every* k gives a linear first-order ODE for M with the solution
``M = (T/2)(1 − k)² + K (1 − k)^{3/2} (1 + 3k)^{1/2}``, so (T = 0, K = −1/6)::

    φ(x) = (1 − 3x²) / (√(1 − x) (1 + 3x)^{3/2}),
    c(k) = √((1 − k)/(1 + 3k)),   s(k) = −2 / ((1 − k)^{3/2} (1 + 3k)^{1/2}).

The risk along the family is constant (its k-derivative is the gradient, which vanishes).
φ is unbounded at x = 1, so on [k₁, 1] it is replaced by the quadratic with the same value at
k₁ and the same moments ∫ψ and ∫ψ(x − k₁): E and M, hence c(k), s(k) and the stationarity,
are unchanged for k ≤ k₁, and f is Lipschitz. The family N_k, 0 < k ≤ k₁, is then a curve of
critical points with distinct realisations and one risk. Whether they are local minima (the
Hessian is PSD off the symmetric subspace too) and not global is checked numerically
(``docs/examples/relu1d_continuum.py``, ``tests/test_relu1d_continuum.py``).

:class:`ReLU1DCurve` is the homotopy that follows the curve with the tracker: λ = k fixes
unit 1 (w₁ = 1, b₁ = −λ); the unknowns are ``p = (b₂, v₁, v₂, c)`` with w₂ = −1 (the scaling
gauge), and ``H(p, λ)`` = the risk gradient in those four parameters. The other three
gradient components (w₁, w₂, b₁) are *not* imposed: they vanish along the path only because
the path is a curve of critical points.
"""

from __future__ import annotations

import math

import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint

from .model import ReLU1D

__all__ = ["ContinuumTarget", "ReLU1DCurve", "curve_params"]


class ContinuumTarget:
    """The even target ``f(x) = φ(|x|)`` on [−1, 1], with the quadratic tail on ``[k1, 1]``.

    ``knots`` (−k1, 0, k1) are where f is not smooth; :class:`ReLU1D` splits its quadrature there.
    """

    def __init__(self, k1: float = 0.5):
        if not 0.0 < k1 < 1.0:
            raise ProblemError(f"relu1d_curve: k1 must lie in (0, 1), got {k1}")
        self.k1 = float(k1)
        self.knots = np.array([-self.k1, 0.0, self.k1])
        L = 1.0 - self.k1
        E1 = -self.k1 * math.sqrt(L / (1.0 + 3.0 * self.k1))  # ∫_{k1}^1 φ
        M1 = -(L ** 1.5) * math.sqrt(1.0 + 3.0 * self.k1) / 6.0  # ∫_{k1}^1 φ(x)(x − k1) dx
        alpha = float(self.phi(np.array([self.k1]))[0])
        # ψ(y) = α + β y + γ y², y = x − k1: ψ(0) = α, ∫ψ = E1, ∫ψ y = M1
        A = np.array([[L ** 2 / 2, L ** 3 / 3], [L ** 3 / 3, L ** 4 / 4]])
        self.tail = (alpha, *np.linalg.solve(A, [E1 - alpha * L, M1 - alpha * L ** 2 / 2]))

    @staticmethod
    def phi(x):
        """φ on [0, 1) without the tail."""
        x = np.asarray(x, dtype=float)
        return (1.0 - 3.0 * x * x) / (np.sqrt(1.0 - x) * (1.0 + 3.0 * x) ** 1.5)

    def __call__(self, x):
        y = np.abs(np.asarray(x, dtype=float))
        alpha, beta, gamma = self.tail
        d = y - self.k1
        inner = self.phi(np.minimum(y, self.k1))
        return np.where(d <= 0, inner, alpha + beta * d + gamma * d * d)

    def __repr__(self):
        return f"ContinuumTarget(k1={self.k1})"


def curve_params(k: float) -> np.ndarray:
    """The width-2 network ``N_k`` in ReLU1D's layout ``(w₁, w₂, b₁, b₂, v₁, v₂, c)`` (closed form)."""
    s = -2.0 / ((1.0 - k) ** 1.5 * math.sqrt(1.0 + 3.0 * k))
    c = math.sqrt((1.0 - k) / (1.0 + 3.0 * k))
    return np.array([1.0, -1.0, -k, -k, s, s, c])


#: indices in ReLU1D's width-2 layout: the unknowns of the homotopy, and b₁ (= −λ)
_FREE = np.array([3, 4, 5, 6])
_B1 = 2


class ReLU1DCurve(Problem):
    """The curve of width-2 critical points ``N_k`` of :class:`ContinuumTarget`, as a homotopy in λ = k.

    Parameters
    ----------
    k1 : float
        End of the continuum (and start of the target's quadratic tail).
    n_gauss : int
        Gauss–Legendre points per smooth piece of the risk integral.
    """

    name = "relu1d_curve"
    description = ("width-2 ReLU net on a constructed Lipschitz target: a curve of non-global local minima "
                   "(lam = kink)")
    lam_start, lam_end = 0.1, 0.45
    parameters = {"k1": 0.5, "n_gauss": 20}
    default_options = {"eig_diagnostics": "off"}

    def __init__(self, **params):
        super().__init__(**params)
        self.target = ContinuumTarget(float(self.params["k1"]))
        self.net = ReLU1D(width=2, target=self.target, quadrature="gauss",
                          n_gauss=int(self.params["n_gauss"]))
        if not 0.0 < self.lam_end <= self.target.k1:
            raise ProblemError(f"relu1d_curve: the continuum ends at k1 = {self.target.k1}; "
                               "lam_end must lie below it")

    def full(self, p, lam) -> np.ndarray:
        """The width-2 parameters ``(w₁, w₂, b₁, b₂, v₁, v₂, c)`` of the unknowns ``p`` at λ."""
        q = np.empty(7)
        q[0], q[1], q[_B1] = 1.0, -1.0, -float(lam)
        q[_FREE] = p
        return q

    def H(self, p, lam):
        return self.net.H(self.full(p, lam), 1.0)[_FREE]

    def dH_dp(self, p, lam):
        return self.net.dH_dp(self.full(p, lam), 1.0)[np.ix_(_FREE, _FREE)]

    def dH_dlam(self, p, lam):
        return -self.net.dH_dp(self.full(p, lam), 1.0)[_FREE, _B1]

    def start(self):
        return StartPoint(curve_params(self.lam_start)[_FREE], self.lam_start)

    def metrics(self, p, lam):
        q = self.full(p, lam)
        f, g = self.net.loss_and_grad(q, 1.0)
        return {"risk": f, "grad_norm_full": float(np.linalg.norm(g))}
