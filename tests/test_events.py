"""Special points and spectral diagnostics: Hopf points, Hessian index, user test functions."""

import autograd.numpy as anp
import numpy as np
import pytest

from pathtrack import Problem, StartPoint, Status
from pathtrack.driver import track
from pathtrack.events import Event
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.pitchfork import Pitchfork


@pytest.mark.parametrize("A", [1.0, 1.5])
def test_brusselator_hopf_at_closed_form(A):
    pb = Brusselator(A=A, lam_start=1.0, lam_end=1.0 + A ** 2 + 1.0)
    r = track(pb)
    assert r.status is Status.success
    hopf = r.events("hopf")
    assert len(hopf) == 1
    assert hopf[0].lam == pytest.approx(1.0 + A ** 2, abs=1e-8)
    np.testing.assert_allclose(hopf[0].p, [A, hopf[0].lam / A], atol=1e-9)
    n_unstable, lam = r.metrics["n_unstable"], r.lam
    assert np.all(n_unstable[lam < 1 + A ** 2 - 1e-9] == 0)
    assert np.all(n_unstable[lam > 1 + A ** 2 + 1e-9] == 2)
    np.testing.assert_allclose(r.metrics["max_re_eig"], (lam - 1 - A ** 2) / 2, atol=1e-9)  # trace / 2


class DoubleWell(Problem):
    """L = ¼p₁⁴ − ½λp₁² + ½p₂²: along p = 0 the minimum becomes a saddle at λ = λ₀."""

    name = "double-well"
    is_gradient = True
    lam_start, lam_end = -1.0, 1.0

    def __init__(self, lam0=0.25):
        super().__init__()
        self.lam0 = lam0

    def loss(self, p, lam):
        return 0.25 * p[0] ** 4 - 0.5 * (lam - self.lam0) * p[0] ** 2 + 0.5 * p[1] ** 2

    def start(self):
        return StartPoint(np.zeros(2), -1.0)


def test_hessian_index_flags_minimum_turning_into_saddle():
    r = track(DoubleWell(), parameterisation="natural")
    assert r.status is Status.success
    idx = r.metrics["hessian_index"]
    assert idx[0] == 0 and idx[-1] == 1
    change = r.events("index_change")
    assert len(change) == 1 and change[0].lam == pytest.approx(0.25, abs=1e-8)
    np.testing.assert_allclose(r.metrics["hessian_min_eig"], np.minimum(-(r.lam - 0.25), 1.0), atol=1e-12)


@pytest.mark.slow
def test_lanczos_index_matches_dense():
    class Wide(Problem):
        name = "wide-quadratic"
        is_gradient = True
        lam_start, lam_end = 0.0, 1.0

        def loss(self, p, lam):
            d = anp.linspace(0.1037, 3.0, p.shape[0]) - 0.5 * lam  # 4 eigenvalues turn negative
            return 0.5 * anp.sum(d * p ** 2)

        def start(self):
            return StartPoint(np.zeros(30), 0.0)

    dense = track(Wide(), parameterisation="natural", eig_diagnostics="dense", max_ds=0.1)
    lanczos = track(Wide(), parameterisation="natural", eig_diagnostics="lanczos", max_ds=0.1)
    assert dense.status is Status.success and lanczos.status is Status.success
    np.testing.assert_array_equal(dense.metrics["hessian_index"], lanczos.metrics["hessian_index"])
    np.testing.assert_allclose(dense.metrics["hessian_min_eig"], lanczos.metrics["hessian_min_eig"], atol=1e-7)
    assert dense.metrics["hessian_index"][0] == 0 and dense.metrics["hessian_index"][-1] == 4


def test_user_event_located_and_non_terminal():
    crossing = Event("p2_half", lambda p, lam: p[1] - 0.5)
    r = track(Pitchfork(lam_bp=0.5), events=[crossing])
    assert r.status is Status.success
    (pt,) = r.events("p2_half")
    assert pt.lam == pytest.approx(0.5, abs=1e-10) and pt.p[1] == pytest.approx(0.5, abs=1e-10)


def test_event_direction_filter():
    up = Event("up", lambda p, lam: np.sin(4 * lam), direction=1)
    r = track(Pitchfork(lam_start=-1.0, lam_end=2.0), events=[up])
    # sin(4λ) rises through zero at λ = 0 and λ = π/2 only
    assert [round(e.lam, 8) for e in r.events("up")] == pytest.approx([0.0, np.pi / 2], abs=1e-8)


def test_sigma_min_recorded_and_small_near_fold():
    from pathtrack_problems.bratu import Bratu1D
    r = track(Bratu1D(n=30))
    assert np.all(np.isfinite(r.sigma_min)) and np.all(r.sigma_min > 0)
    fold_step = r.events("fold")[0].step
    assert set(np.unique(r.det_sign)) <= {-1.0, 1.0}
    assert r.sigma_min[fold_step] < np.median(r.sigma_min)


def test_event_locator_on_the_unit_circle():
    """Sign changes between two points, located with every trial point brought back onto the path."""
    from pathtrack.events import EventLocator

    y_a, y_b = np.array([0.6, 0.8]), np.array([-0.6, 0.8])
    n_corrections = []

    def correct(guess, b):
        n_corrections.append(1)
        y = guess / np.linalg.norm(guess)
        return y, np.array([-y[1], y[0]])

    def test_value(name, y, tangent):
        return {"x": y[0], "rising": y[0], "stop": y[0]}[name]

    events = [Event("rising", None, direction=1), Event("stop", None, terminal=True)]
    locator = EventLocator(events, p_of=lambda y: y[:-1])
    values_a = {"x": 0.6, "rising": 0.6, "stop": 0.6, "flat": 1.0}
    values_b = {"x": -0.6, "rising": -0.6, "stop": -0.6, "flat": 2.0}
    found = locator.locate_all(y_a, y_b, values_a, values_b, correct, test_value, s_b=3.0, step=7)
    assert [(p.kind, terminal) for p, terminal in found] == [("x", False), ("stop", True)]
    for point, _ in found:
        assert point.lam == pytest.approx(1.0, abs=1e-12) and point.p == pytest.approx([0.0], abs=1e-12)
        assert point.s == pytest.approx(3.0 - 0.6) and point.step == 7
        assert (point.value_a, point.value_b) == (0.6, -0.6)
    assert n_corrections  # trial points went through the path corrector


def _brent_outcome(fn, f, a, b, xtol):
    try:
        return fn(f, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=100)
    except (ValueError, RuntimeError) as exc:
        return type(exc).__name__


@pytest.mark.parametrize("f", [lambda x: x ** 3 - 0.3, lambda x: np.tan(x) - 0.4, lambda x: (x - 0.2) ** 5,
                               lambda x: np.sin(10 * x) + 0.01, lambda x: 1e-300 * (x - 0.3),
                               lambda x: np.nan if x > 0.9 else x - 0.3, lambda x: x * x + 1.0])
def test_brentq_takes_scipys_iterates(f):
    """Event location's Brent iteration gives scipy.optimize.brentq's result bit for bit, errors included."""
    from scipy.optimize import brentq as scipy_brentq

    from pathtrack.events import brentq

    rng = np.random.default_rng(7)
    for _ in range(40):
        a, b, xtol = rng.uniform(-0.5, 0.2), rng.uniform(0.6, 1.0), 10.0 ** rng.uniform(-13, -4)
        ours = _brent_outcome(brentq, f, a, b, xtol)
        assert ours == _brent_outcome(scipy_brentq, f, a, b, xtol)
        if isinstance(ours, float):
            assert abs(f(ours)) <= abs(f(ours + 10 * xtol)) or abs(f(ours)) <= abs(f(ours - 10 * xtol))
