"""The cubic Hermite predictor (option ``predictor='hermite'``, the default of two-parameter curves)."""

import numpy as np
import pytest

from pathtrack import track
from pathtrack.predictor import HermitePredictor, TangentPredictor
from pathtrack_problems.ab_reaction import ABReaction


def _circle(theta):
    """A point of the unit circle in (x, λ) and its unit tangent (counter-clockwise)."""
    return np.array([np.cos(theta), np.sin(theta)]), np.array([-np.sin(theta), np.cos(theta)])


def test_cubic_extrapolation_is_orders_closer_to_the_path_than_euler():
    h = 0.1
    (y0, t0), (y1, t1) = _circle(0.3), _circle(0.3 + h)
    hermite, euler = HermitePredictor(), TangentPredictor()
    assert np.array_equal(hermite.predict(y0, t0, h, None, None), y0 + h * t0)  # first step: Euler
    pred = hermite.predict(y1, t1, h, y0, None)  # y0 was its base point: its tangent is known
    off_hermite = abs(np.linalg.norm(pred) - 1.0)
    off_euler = abs(np.linalg.norm(euler.predict(y1, t1, h, y0, None)) - 1.0)
    assert off_euler > 4e-3 and off_hermite < 1e-2 * off_euler  # O(h²) against O(h⁴)
    # a retried step from the same point uses the same pair of tangents
    assert np.array_equal(hermite.predict(y1, t1, h / 2, y0, None), hermite.predict(y1, t1, h / 2, y0, None))
    # a previous point it was never given (another array): no tangent there, Euler again
    assert np.array_equal(HermitePredictor().predict(y1, t1, h, y0.copy(), None), y1 + h * t1)


def test_same_special_points_as_euler_with_fewer_chord_iterations():
    pb = ABReaction()
    # the chord iteration (as on two-parameter curves) contracts linearly: a closer start saves most
    euler = track(pb, options={"chord_newton": True})
    hermite = track(pb, options={"chord_newton": True, "predictor": "hermite"})
    assert euler.success and hermite.success
    for kind in ("fold", "hopf"):
        a, b = euler.events(kind), hermite.events(kind)
        assert len(a) == len(b) >= 1
        assert [e.lam for e in b] == pytest.approx([e.lam for e in a], abs=1e-10)
    assert np.sum(hermite.n_newton_iters) < 0.8 * np.sum(euler.n_newton_iters)
