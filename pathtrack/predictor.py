"""Predictors: where the next point probably is.

A predictor maps the current point ``y = (x, lam)``, its unit tangent and a step
``h`` along the arclength to a guess ``y_pred``. The tracker converts a natural
(λ) step into the arclength ``h`` that moves λ by the requested amount, so
predictors do not need to know the parameterisation.

- :class:`TangentPredictor`: Euler along the tangent (null vector of
  ``[dH_dp, dH_dlam]``).
- :class:`SecantPredictor`: along the chord through the last two accepted points.
- :class:`RK4Predictor`: classical Runge–Kutta on the Davidenko equation
  ``dy/ds = tangent(y)``, four tangents a step: fewer, longer steps on curved paths.
- :class:`ConstantPredictor`: moves λ only; for minimisation correctors, whose
  gradient homotopies have no well-defined tangent on a manifold of minima.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

__all__ = ["Predictor", "TangentPredictor", "SecantPredictor", "RK4Predictor", "ConstantPredictor",
           "make_predictor"]

TangentFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Predictor:
    """Base class. ``predict(y, tangent, h, y_prev, tangent_fn)`` returns ``y_pred``."""

    #: Whether the tracker must compute a tangent at every accepted point.
    needs_tangent = True

    def predict(self, y: np.ndarray, tangent: np.ndarray, h: float, y_prev: Optional[np.ndarray],
                tangent_fn: TangentFn) -> np.ndarray:
        raise NotImplementedError


class TangentPredictor(Predictor):
    def predict(self, y, tangent, h, y_prev, tangent_fn):
        return y + h * tangent


class SecantPredictor(Predictor):
    """Chord direction through the last two points; the tangent at the first step."""

    needs_tangent = False

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        if y_prev is None:
            return y + h * tangent
        d = y - y_prev
        nd = np.linalg.norm(d)
        if nd == 0.0:
            return y + h * tangent
        return y + h * (d / nd)


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

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        out = y.copy()
        out[-1] += h * tangent[-1]
        return out


def make_predictor(name: str) -> Predictor:
    return {"tangent": TangentPredictor, "secant": SecantPredictor, "rk4": RK4Predictor,
            "constant": ConstantPredictor}[name]()
