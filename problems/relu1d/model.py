"""One-hidden-layer ReLU networks on an interval, with the risk integrated exactly.

Network of width ``H`` with parameters ``p = (w_1..w_H, b_1..b_H, v_1..v_H, c)``::

    N_p(x) = c + Σ_j v_j · max(w_j x + b_j, 0),

input ``x ~ Uniform[a, b]``, target ``f``, and the risk (data homotopy in λ: target ``λ f``)::

    L(p, λ) = 1/(b − a) ∫_a^b (N_p(x) − λ f(x))² dx.

Exact integration (``quadrature='exact'``, piecewise-linear targets): split [a, b] at
the ReLU kinks ``x_j = −b_j/w_j`` inside it and at the target's knots. On every piece the
activation pattern is fixed, so ``N_p − λ f`` is affine and every integrand below
(the squared error, error × ∂N/∂p, ∂N/∂p_i × ∂N/∂p_k) is a polynomial of degree ≤ 2 in
``x``: 2-point Gauss–Legendre on each piece integrates it exactly. The risk is therefore
piecewise polynomial in ``p`` and evaluated to rounding error.

Quadrature (``quadrature='gauss'``, any callable target): the same pieces, ``n_gauss``
Gauss–Legendre points on each (the integrand is smooth between kinks and knots).

Derivatives (analytic):

- gradient ``∂L/∂p_i = 2/(b−a) ∫ e ∂N/∂p_i``, with ``e = N − λ f``, ``∂N/∂w_j = v_j x 1[w_j x+b_j>0]``,
  ``∂N/∂b_j = v_j 1[·]``, ``∂N/∂v_j = max(w_j x + b_j, 0)``, ``∂N/∂c = 1``. The integrand of
  the risk is continuous across the moving kinks, so no boundary terms appear; this is the
  generalised gradient of Eberle, Jentzen, Riekert & Weiss (ReLU′(0) := 0).
- Hessian (where defined: no kink on a knot or at a or b, ``w_j ≠ 0``):
  ``2/(b−a) [∫ ∂N/∂p_i ∂N/∂p_k + ∫ e ∂²N/∂p_i∂p_k] + jump terms``; ``∂²N/∂w_j∂v_j = x 1[·]``,
  ``∂²N/∂b_j∂v_j = 1[·]``; because ``e ∂N/∂w_j`` and ``e ∂N/∂b_j`` jump at the moving kink,
  the (w_j, b_j) block gains ``2/(b−a) · e(x_j) v_j / |w_j| · [[x_j², x_j], [x_j, 1]]`` for a
  kink ``x_j`` inside (a, b).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence, Tuple, Union

import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint

__all__ = ["ReLU1D", "TARGETS", "PiecewiseLinear"]

_GL2 = np.polynomial.legendre.leggauss(2)


class PiecewiseLinear:
    """Continuous piecewise-linear target through the knots ``(xs, ys)`` (linear extrapolation)."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]):
        self.xs = np.asarray(xs, dtype=float)
        self.ys = np.asarray(ys, dtype=float)
        if self.xs.ndim != 1 or self.xs.shape != self.ys.shape or self.xs.size < 2 or np.any(np.diff(self.xs) <= 0):
            raise ProblemError("relu1d: target knots must be 1-D, of equal length >= 2, strictly increasing")

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        i = np.clip(np.searchsorted(self.xs, x) - 1, 0, self.xs.size - 2)
        x0, x1, y0, y1 = self.xs[i], self.xs[i + 1], self.ys[i], self.ys[i + 1]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def __repr__(self):
        return f"PiecewiseLinear(xs={self.xs.tolist()}, ys={self.ys.tolist()})"


#: Named targets on the default interval [-1, 1].
TARGETS = {
    # an asymmetric zigzag: two interior knots
    "zigzag": PiecewiseLinear([-1.0, -0.3, 0.4, 1.0], [0.2, 1.0, -0.2, 0.6]),
    "abs": PiecewiseLinear([-1.0, 0.0, 1.0], [1.0, 0.0, 1.0]),
    "hat": PiecewiseLinear([-1.0, -0.5, 0.0, 0.5, 1.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    "relu": PiecewiseLinear([-1.0, 0.25, 1.0], [0.0, 0.0, 1.5]),
    "sin": np.sin,  # smooth: quadrature only
}

TargetLike = Union[str, PiecewiseLinear, Tuple[Sequence[float], Sequence[float]], Callable]


class ReLU1D(Problem):
    """Risk of a width-``width`` ReLU network on [a, b] against a target, as a gradient homotopy.

    Parameters
    ----------
    width : int
    a, b : float
        The interval (uniform input distribution).
    target : str, PiecewiseLinear, (xs, ys) or callable
        A name from :data:`TARGETS`, knots of a continuous piecewise-linear target, or a
        callable (then ``quadrature='gauss'`` is required; a ``knots`` attribute of the
        callable, the points where it is not smooth, splits the quadrature there).
    quadrature : {'exact', 'gauss'}
    n_gauss : int
        Gauss–Legendre points per piece for ``'gauss'``.
    seed : int
        Seed of the start point (``start()``).
    """

    name = "relu1d"
    description = "1-hidden-layer ReLU net on [a,b], exact piecewise-polynomial risk (data homotopy lam*f)"
    is_gradient = True
    lam_start, lam_end = 0.0, 1.0
    parameters = {"width": 1, "a": -1.0, "b": 1.0, "target": "zigzag", "quadrature": "exact", "n_gauss": 20,
                  "seed": 0}
    # The Hessian is singular at every critical point with a live neuron (ReLU scaling
    # symmetry (w, b, v) -> (aw, ab, v/a)), and at λ = 0 every N ≡ 0 is a minimiser: Newton
    # and the dense tangent fail, so minimise at fixed λ and take chords as tangents. The
    # chord turns freely along the degenerate minimiser sets, so the angle guard is off.
    default_options = {"parameterisation": "natural", "predictor": "secant", "max_ds": 0.1,
                       "corrector": "lbfgs", "min_gtol": 1e-8, "min_maxiter": 5000, "dense_max_n": 1,
                       "eig_diagnostics": "off", "max_angle": math.pi}

    def __init__(self, **params):
        super().__init__(**params)
        self.width = int(self.params["width"])
        self.a, self.b = float(self.params["a"]), float(self.params["b"])
        if self.width < 1 or not self.b > self.a:
            raise ProblemError(f"relu1d: need width >= 1 and b > a, got width={self.width}, [{self.a}, {self.b}]")
        target = self.params["target"]
        if isinstance(target, str):
            if target not in TARGETS:
                raise ProblemError(f"relu1d: unknown target {target!r}; named targets: {', '.join(TARGETS)}")
            target = TARGETS[target]
        elif isinstance(target, tuple):
            target = PiecewiseLinear(*target)
        self.target = target
        self.quadrature = self.params["quadrature"]
        if self.quadrature not in ("exact", "gauss"):
            raise ProblemError(f"relu1d: quadrature must be 'exact' or 'gauss', got {self.quadrature!r}")
        if self.quadrature == "exact" and not isinstance(target, PiecewiseLinear):
            raise ProblemError("relu1d: exact integration needs a piecewise-linear target; use quadrature='gauss'")
        # the quadrature splits at the target's non-smooth points: the knots of a piecewise-linear
        # target, or a callable's own ``knots`` attribute when it has one
        if isinstance(target, PiecewiseLinear):
            knots = target.xs
        else:
            knots = np.asarray(getattr(target, "knots", []), dtype=float)
        self.knots = knots[(knots > self.a) & (knots < self.b)]
        n = 2 if self.quadrature == "exact" else int(self.params["n_gauss"])
        self._xi, self._wi = _GL2 if n == 2 else np.polynomial.legendre.leggauss(n)

    # -- layout -----------------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return 3 * self.width + 1

    def unpack(self, p):
        h = self.width
        return p[:h], p[h:2 * h], p[2 * h:3 * h], p[3 * h]

    def pack(self, w, b, v, c) -> np.ndarray:
        return np.concatenate([np.atleast_1d(w), np.atleast_1d(b), np.atleast_1d(v), [c]]).astype(float)

    def realisation(self, p, x) -> np.ndarray:
        """The network function ``N_p`` at the points ``x``."""
        w, b, v, c = self.unpack(np.asarray(p, dtype=float))
        x = np.asarray(x, dtype=float)
        return c + np.maximum(np.multiply.outer(x, w) + b, 0.0) @ v

    def balanced(self, p) -> np.ndarray:
        """The same realisation with every live neuron rescaled to ``w_j² + b_j² = v_j²``.

        ReLU is positively homogeneous, so ``(w, b, v) → (αw, αb, v/α)``, α > 0, keeps the
        function; the balanced point is a canonical representative (and the quantity
        ``w² + b² − v²`` is conserved along gradient flows).
        """
        w, b, v, c = (np.array(t, dtype=float) for t in self.unpack(np.asarray(p, dtype=float)))
        r = np.hypot(w, b)
        live = (r > 0) & (v != 0)
        alpha = np.ones_like(r)
        alpha[live] = np.sqrt(np.abs(v[live]) / r[live])
        return self.pack(alpha * w, alpha * b, v / alpha, float(c))

    def kinks(self, p) -> np.ndarray:
        """The kinks ``−b_j / w_j`` that lie strictly inside (a, b)."""
        w, b, _, _ = self.unpack(np.asarray(p, dtype=float))
        nz = w != 0
        x = -b[nz] / w[nz]
        return np.sort(x[(x > self.a) & (x < self.b)])

    # -- integration ------------------------------------------------------------------------------
    def _nodes(self, p):
        pts = np.unique(np.concatenate([[self.a, self.b], self.knots, self.kinks(p)]))
        lo, hi = pts[:-1], pts[1:]
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        x = (mid[:, None] + half[:, None] * self._xi[None, :]).ravel()
        wq = (half[:, None] * self._wi[None, :]).ravel() / (self.b - self.a)
        return x, wq

    def _pieces(self, p, lam):
        w, b, v, c = self.unpack(np.asarray(p, dtype=float))
        x, wq = self._nodes(p)
        z = np.multiply.outer(x, w) + b
        act = z > 0
        r = np.where(act, z, 0.0)
        fx = np.asarray(self.target(x), dtype=float)
        e = c + r @ v - lam * fx
        J = np.hstack([act * v * x[:, None], act * v, r, np.ones((x.size, 1))])
        return x, wq, act, e, J, fx

    def loss(self, p, lam):
        _, wq, _, e, _, _ = self._pieces(p, lam)
        return float(wq @ (e * e))

    def loss_and_grad(self, p, lam):
        _, wq, _, e, J, _ = self._pieces(p, lam)
        we = wq * e
        return float(we @ e), 2.0 * (J.T @ we)

    def H(self, p, lam):
        return self.loss_and_grad(p, lam)[1]

    def dH_dlam(self, p, lam):
        _, wq, _, _, J, fx = self._pieces(p, lam)
        return -2.0 * (J.T @ (wq * fx))

    def dH_dp(self, p, lam):
        p = np.asarray(p, dtype=float)
        h = self.width
        x, wq, act, e, J, _ = self._pieces(p, lam)
        Hm = 2.0 * (J.T * wq) @ J
        we = wq * e
        s_wv = 2.0 * ((we * x) @ act)  # ∫ e x 1[active_j]
        s_bv = 2.0 * (we @ act)
        iw, ib, iv = np.arange(h), h + np.arange(h), 2 * h + np.arange(h)
        Hm[iw, iv] += s_wv
        Hm[iv, iw] += s_wv
        Hm[ib, iv] += s_bv
        Hm[iv, ib] += s_bv
        w, b, v, c = self.unpack(p)
        for j in range(h):
            if w[j] == 0:
                continue
            xj = -b[j] / w[j]
            if not self.a < xj < self.b:
                continue
            ej = float(self.realisation(p, xj) - lam * self.target(xj))
            k = 2.0 * ej * v[j] / abs(w[j]) / (self.b - self.a)
            Hm[iw[j], iw[j]] += k * xj * xj
            Hm[iw[j], ib[j]] += k * xj
            Hm[ib[j], iw[j]] += k * xj
            Hm[ib[j], ib[j]] += k
        return Hm

    # -- problem knowledge ------------------------------------------------------------------------
    def random_params(self, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
        """Gaussian parameters with kinks spread over [a, b]: ``w ~ N(0, s²)``, kink ``~ U[a, b]``."""
        h = self.width
        w = rng.normal(0.0, scale, h)
        w = np.where(np.abs(w) < 1e-3, 1e-3, w)
        kink = rng.uniform(self.a, self.b, h)
        v = rng.normal(0.0, scale, h)
        c = rng.normal(0.0, scale)
        return self.pack(w, -w * kink, v, c)

    def start(self):
        """The minimiser at λ = 0 is any network with N ≡ 0; start from a random one scaled to zero output."""
        rng = np.random.default_rng(int(self.params["seed"]))
        p = self.random_params(rng)
        w, b, v, c = self.unpack(p)
        return StartPoint(self.pack(w, b, 1e-3 * v, 0.0), self.lam_start)

    def metrics(self, p, lam):
        f, g = self.loss_and_grad(p, lam)
        return {"risk": f, "grad_norm": float(np.linalg.norm(g))}
