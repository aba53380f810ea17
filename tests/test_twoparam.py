"""Two-parameter continuation of folds: the cusp and Bogdanov–Takens normal forms in closed form."""

import autograd.numpy as anp
import numpy as np
import pytest

from pathtrack import Problem, StartPoint, track
from pathtrack.options import OptionsError
from pathtrack.twoparam import continue_fold


class Cusp(Problem):
    """H = μ + λp − p³: folds on λ = 3p², μ = −2p³ (27μ² = 4λ³), a cusp at λ = μ = 0."""

    name = "cusp-normal-form"
    parameters = {"mu": 0.1, "label": "x"}
    lam_start, lam_end, lam_min, lam_max = 1.5, 0.0, 0.0, 1.5

    def H(self, p, lam):
        return anp.stack([self.params["mu"] + lam * p[0] - p[0] ** 3])

    def start(self):
        return StartPoint(np.array([-1.2]), 1.5)


class BogdanovTakens(Problem):
    """x' = y, y' = λ + β x + x² − x y: equilibria y = 0, λ + βx + x² = 0; folds on λ = β²/4 at x = −β/2,
    where the Jacobian [[0, 1], [0, −x]] has a double zero eigenvalue at x = 0: BT at λ = β = 0."""

    name = "bt-normal-form"
    is_ode_rhs = True
    parameters = {"beta": 0.5}
    lam_start, lam_end, lam_min, lam_max = -0.5, 0.5, -0.5, 0.5

    def H(self, p, lam):
        x, y = p[0], p[1]
        return anp.stack([y, lam + self.params["beta"] * x + x ** 2 - x * y])

    def start(self):
        b = self.params["beta"]
        x = (-b + np.sqrt(b * b + 2.0)) / 2.0  # λ = -0.5: x² + βx − 0.5 = 0
        return StartPoint(np.array([x, 0.0]), -0.5)


def _fold(problem):
    r = track(problem, parameterisation="arclength", max_ds=0.1)
    (fold,) = r.events("fold")
    return fold


def test_cusp_curve_and_point():
    pb = Cusp()
    fold = _fold(pb)
    assert fold.lam == pytest.approx(3 * (0.05 ** (1 / 3)) ** 2, abs=1e-9)
    curve = continue_fold(pb, fold, "mu", direction=-1, lam_min=-0.1, lam_max=0.1)
    assert curve.success, curve.message
    lam, mu = curve.p[:, 1], curve.lam[curve.p_steps]
    np.testing.assert_allclose(27 * mu ** 2, 4 * lam ** 3, atol=1e-9)  # every point on the fold curve
    (cp,) = curve.events("cusp")
    assert cp.lam == pytest.approx(0.0, abs=1e-8) and cp.p[1] == pytest.approx(0.0, abs=1e-8)
    assert cp.extra["c"] == pytest.approx(-1.0, abs=1e-8)  # p' = μ + λp − p³: c = −1 (pathtrack.normalform)
    assert curve.lam_end == pytest.approx(-0.1)


def test_bogdanov_takens_on_a_fold_curve():
    pb = BogdanovTakens()
    fold = _fold(pb)
    assert fold.lam == pytest.approx(0.5 ** 2 / 4, abs=1e-9)
    curve = continue_fold(pb, fold, "beta", direction=-1, lam_min=-0.5, lam_max=0.5)
    assert curve.success, curve.message
    beta, lam = curve.lam[curve.p_steps], curve.p[:, 2]
    np.testing.assert_allclose(lam, beta ** 2 / 4, atol=1e-9)
    np.testing.assert_allclose(curve.p[:, 0], -beta / 2, atol=1e-9)
    (bt,) = curve.events("bt")
    assert bt.lam == pytest.approx(0.0, abs=1e-8) and bt.p[2] == pytest.approx(0.0, abs=1e-8)
    assert not curve.events("cusp")


def test_par2_must_name_a_numeric_parameter():
    pb = Cusp()
    fold = _fold(pb)
    for bad in ("nope", "label"):
        with pytest.raises(OptionsError, match="names no numeric parameter.*numeric: mu"):
            continue_fold(pb, fold, bad)


#: AUTO-07p 0.9.2 on benchmarks/auto/pp (run2.auto): the fold of the prey-only branch of the
#: predator-prey model continued in (p1, p3) from its LP at p3 = 5, user points at p3 = 4 and 6
#: (PAR(1) with 11 significant digits from the s-file; AUTO's second point sits at
#: p3 = 5.999999992). Read by benchmarks/auto/pp/parse_s.py.
AUTO_LP_P3 = {4.0: 0.905900888, 6.0: 0.79605355431}


def test_predprey_fold_curve_matches_closed_form_and_auto(tmp_path):
    from click.testing import CliRunner
    from scipy.optimize import brentq

    from pathtrack.cli import main
    from pathtrack_problems.predprey import PredatorPrey

    pb = PredatorPrey()
    u0 = 0.3
    lam0 = 3 * u0 * (1 - u0) / (1 - np.exp(-5 * u0))
    r = track(pb, p0=np.array([u0, 0.0]), lam0=lam0, lam_min=0.6, lam_max=1.0, direction=1)
    (fold,) = r.events("fold")
    for q, direction in ((4.0, -1), (6.0, 1)):
        curve = continue_fold(pb, fold, "p3", direction=direction, lam_min=4.0, lam_max=6.0)
        assert curve.success and curve.lam_end == q
        lam_q = lambda x: 3 * x * (1 - x) / (1 - np.exp(-q * x))  # noqa: E731
        u_q = brentq(lambda x: (lam_q(x + 1e-7) - lam_q(x - 1e-7)) / 2e-7, 0.2, 0.6, xtol=1e-14)
        assert curve.p[-1, 0] == pytest.approx(u_q, abs=1e-7)
        assert curve.p[-1, -1] == pytest.approx(lam_q(u_q), abs=1e-12)
        assert curve.p[-1, -1] == pytest.approx(AUTO_LP_P3[q], abs=5e-10)
    # the same from the command line, and its bad input
    path = str(tmp_path / "pp.h5")
    runner = CliRunner()
    res = runner.invoke(main, ["run", "predprey", "--out", path])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["fold", path, "--event", "0", "--par2", "p3"])
    assert res.exit_code == 2 and "not a fold" in res.output  # its only event is the BP at 0.6


class HopfNormalForm(Problem):
    """ż = (λ + iω) z + (a + ib) z|z|² in x = Re z, y = Im z, optionally in coordinates p = M (x, y)."""

    name = "hopf-normal-form"
    is_ode_rhs = True
    parameters = {"a": -0.7, "b": 0.3, "omega": 2.0}
    lam_start, lam_end = -0.5, 0.5
    M = np.eye(2)

    def H(self, p, lam):
        a, b, w = self.params["a"], self.params["b"], self.params["omega"]
        Mi = np.linalg.inv(self.M)
        x, y = Mi[0, 0] * p[0] + Mi[0, 1] * p[1], Mi[1, 0] * p[0] + Mi[1, 1] * p[1]
        r2 = x * x + y * y
        f1, f2 = lam * x - w * y + (a * x - b * y) * r2, w * x + lam * y + (b * x + a * y) * r2
        return anp.stack([self.M[0, 0] * f1 + self.M[0, 1] * f2, self.M[1, 0] * f1 + self.M[1, 1] * f2])

    def start(self):
        return StartPoint(np.zeros(2), -0.5)


def test_first_lyapunov_coefficient_of_the_hopf_normal_form():
    from pathtrack.normalform import first_lyapunov

    for a, b, w in ((-0.7, 0.3, 2.0), (0.4, -1.0, 1.0), (1.3, 0.0, 0.5)):
        assert first_lyapunov(HopfNormalForm(a=a, b=b, omega=w), np.zeros(2), 0.0) == pytest.approx(2 * a / w,
                                                                                                      abs=1e-7)
    rotated = HopfNormalForm()
    c, s = np.cos(0.4), np.sin(0.4)
    rotated.M = np.array([[c, -s], [s, c]])  # an orthogonal change of coordinates keeps l₁
    assert first_lyapunov(rotated, np.zeros(2), 0.0) == pytest.approx(-0.7, abs=1e-7)
    sheared = HopfNormalForm(a=0.4)
    sheared.M = np.array([[1.0, 0.5], [0.2, 2.0]])  # any other keeps its sign
    assert first_lyapunov(sheared, np.zeros(2), 0.0) > 0
    # the tracker attaches it to every located Hopf point
    r = track(HopfNormalForm(), max_ds=0.1)
    (hb,) = r.events("hopf")
    assert hb.lam == pytest.approx(0.0, abs=1e-10) and hb.extra["l1"] == pytest.approx(-0.35 * 2, abs=1e-7)
    with pytest.raises(ValueError, match="not a Hopf point"):
        first_lyapunov(Cusp(), np.array([0.5]), 0.75)
