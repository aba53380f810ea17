"""Predictors: where the next point probably is.

A predictor maps the current point ``y = (x, lam)``, its unit tangent and a step
``h`` along the arclength to a guess ``y_pred``. The tracker converts a natural
(λ) step into the arclength ``h`` that moves λ by the requested amount, so
predictors do not need to know the parameterisation.

- :class:`TangentPredictor`: Euler along the tangent (null vector of
  ``[dH_dp, dH_dlam]``).
- :class:`SecantPredictor`: along the chord through the last two accepted points.
- :class:`HermitePredictor`: the cubic through the last two accepted points with their
  tangents, extrapolated: a prediction error of O(h⁴) instead of Euler's O(h²), so the
  corrector needs fewer iterations (two-parameter curves, whose evaluations are costly).
- :class:`RK4Predictor`: classical Runge–Kutta on the Davidenko equation
  ``dy/ds = tangent(y)``, four tangents a step: fewer, longer steps on curved paths.
- :class:`ConstantPredictor`: moves λ only; for minimisation correctors, whose
  gradient homotopies have no well-defined tangent on a manifold of minima.
- :class:`HessianPredictor`: for gradient homotopies ``H = ∇_p L`` at natural
  parameterisation, the implicit-function step ``dp/dλ = −(∇²L + μI)⁻¹ ∂_λ∇L`` solved by
  MINRES on Hessian-vector products. The damping μ makes the solve well posed where the
  Hessian is singular (along a manifold of minima, where p can move freely without
  changing the loss); MINRES, not CG, because the Hessian is indefinite away from minima.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

__all__ = ["Predictor", "TangentPredictor", "SecantPredictor", "HermitePredictor", "RK4Predictor",
           "ConstantPredictor", "HessianPredictor", "make_predictor"]

TangentFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Predictor:
    """Base class. ``predict(y, tangent, h, y_prev, tangent_fn)`` returns ``y_pred``.

    Class attributes declare what the predictor needs; the tracker reads only these,
    never the class.
    """

    #: Whether the tracker must compute a tangent at every accepted point.
    needs_tangent = True
    #: Whether the prediction follows the chord through the last two accepted points
    #: (``y_prev``): the natural parameterisation then measures the λ step along the chord.
    uses_history = False
    #: Whether the predictor moves λ only by the natural parameterisation's fixed step
    #: (no pseudo-arclength).
    needs_natural = False
    #: Whether the predictor needs a gradient homotopy ``H = ∇_p L`` (``Problem.is_gradient``).
    needs_gradient = False
    #: Whether the prediction follows the path to first order (the corrector's move then
    #: vanishes faster than the step, which the discontinuity guard ``max_jump`` relies on).
    follows_path = True

    def bind(self, system, options) -> None:
        """Called once the tracker has its real system; predictors that need more than the
        tangent (Hessian products) keep it."""

    def predict(self, y: np.ndarray, tangent: np.ndarray, h: float, y_prev: Optional[np.ndarray],
                tangent_fn: TangentFn) -> np.ndarray:
        raise NotImplementedError


class TangentPredictor(Predictor):
    def predict(self, y, tangent, h, y_prev, tangent_fn):
        return y + h * tangent


class SecantPredictor(Predictor):
    """Chord direction through the last two points; the tangent at the first step."""

    needs_tangent = False
    uses_history = True

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        if y_prev is None:
            return y + h * tangent
        d = y - y_prev
        nd = np.linalg.norm(d)
        if nd == 0.0:
            return y + h * tangent
        return y + h * (d / nd)


class HermitePredictor(Predictor):
    """Cubic Hermite extrapolation through ``y_prev`` and ``y`` with their tangents, over the chord length.

    The tangent at ``y_prev`` is the one this predictor was given when ``y_prev`` was the
    current point (the tracker passes the same array as ``y_prev`` once the step is
    accepted). Without it (the first step, or after the tracker replaced the point) the
    prediction is Euler's along the tangent.
    """

    def __init__(self):
        self._base = None  # (y, tangent at y, tangent at the point before y or None)

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        base = self._base
        if base is None or base[0] is not y:
            t_prev = base[1] if base is not None and base[0] is y_prev else None
            base = self._base = (y, tangent, t_prev)
        t_prev = base[2]
        if y_prev is None or t_prev is None:
            return y + h * tangent
        d = y - y_prev
        h0 = math.sqrt(float(d.dot(d)))
        if not h0 > 0.0:
            return y + h * tangent
        # the Hermite basis on [y_prev, y] (u from 0 to 1) at u = 1 + h/h0
        u = 1.0 + h / h0
        u2, u3 = u * u, u * u * u
        return ((2 * u3 - 3 * u2 + 1) * y_prev + ((u3 - 2 * u2 + u) * h0) * t_prev + (3 * u2 - 2 * u3) * y
                + ((u3 - u2) * h0) * tangent)


class RK4Predictor(Predictor):
    """RK4 on ``dy/ds = t(y)``; ``tangent_fn(y, t_ref)`` returns the tangent oriented like ``t_ref``."""

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        k1 = tangent
        k2 = tangent_fn(y + 0.5 * h * k1, k1)
        k3 = tangent_fn(y + 0.5 * h * k2, k2)
        k4 = tangent_fn(y + h * k3, k3)
        return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


class ConstantPredictor(Predictor):
    """Keep ``x``, move λ by the λ-component of the step (natural parameterisation only)."""

    needs_tangent = False
    needs_natural = True
    follows_path = False

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        out = y.copy()
        out[-1] += h * tangent[-1]
        return out


class HessianPredictor(Predictor):
    """Damped implicit-function step for gradient homotopies (natural parameterisation).

    ``x_pred = x + Δλ · dx/dλ`` with ``(∇²L + μ I) dx/dλ = −∂_λ∇L`` solved by MINRES on
    ``system.jvp`` products (relative tolerance ``krylov_tol``, at most ``krylov_maxiter``
    products). ``μ = damping · ‖∇²L g‖ / ‖g‖`` with ``g = ∂_λ∇L``, i.e. relative to the
    Hessian's scale along the direction that matters; one extra product. Falls back to the
    constant prediction where the solve breaks down or gives non-finite values, and counts
    those fallbacks in ``n_fallbacks``.
    """

    needs_tangent = False
    needs_natural = True
    needs_gradient = True
    follows_path = False  # damped, and falls back to the constant prediction

    def __init__(self):
        self.system = None  # set by bind(), with the solver settings; unbound it predicts like 'constant'
        self.n_solves = 0
        self.n_fallbacks = 0
        self._cache = None  # (y, dx/dλ): a rejected step retries from the same point

    def bind(self, system, options) -> None:
        self.system = system
        self.rtol = max(options.krylov_tol, 1e-6)  # a predictor needs no more than a few digits
        self.maxiter = options.krylov_maxiter
        self.damping = options.predictor_damping

    def slope(self, y: np.ndarray) -> Optional[np.ndarray]:
        """dx/dλ at ``y``, or None where the damped solve fails."""
        from scipy.sparse.linalg import LinearOperator, minres

        if self._cache is not None and np.array_equal(self._cache[0], y):
            return self._cache[1]
        sysm = self.system
        m = y.shape[0] - 1
        zero = np.zeros(1)
        g = sysm.dF_dlam(y)
        ng = float(np.linalg.norm(g))
        if not np.isfinite(ng):
            return None
        if ng == 0.0:
            return np.zeros(m)
        hv = lambda v: sysm.jvp(y, np.concatenate([v, zero]))  # noqa: E731
        mu = self.damping * float(np.linalg.norm(hv(g))) / ng
        if not (np.isfinite(mu) and mu > 0.0):
            return None
        op = LinearOperator((m, m), matvec=lambda v: hv(v) + mu * v, dtype=np.float64)
        self.n_solves += 1
        d, info = minres(op, -g, rtol=self.rtol, maxiter=self.maxiter)
        if info < 0 or not np.all(np.isfinite(d)):
            return None
        self._cache = (y.copy(), d)
        return d

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        out = y.copy()
        dlam = h * tangent[-1]
        d = self.slope(y) if self.system is not None else None
        if d is None:
            self.n_fallbacks += 1
        else:
            out[:-1] += dlam * d
        out[-1] += dlam
        return out


def make_predictor(name: str) -> Predictor:
    return {"tangent": TangentPredictor, "secant": SecantPredictor, "hermite": HermitePredictor, "rk4": RK4Predictor,
            "constant": ConstantPredictor, "hessian": HessianPredictor}[name]()
