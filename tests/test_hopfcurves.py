"""Hopf curves: the Bautin, Bogdanov–Takens and zero-Hopf normal forms in closed form, and the CLI."""

import json

import autograd.numpy as anp
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import Problem, StartPoint
from pathtrack.cli import main
from pathtrack.options import OptionsError
from pathtrack.twoparam import continue_fold, continue_hopf
from test_twoparam import BogdanovTakens, _fold


class Bautin(Problem):
    """ż = (λ − μ/2 + iω) z + (μ − 0.3) z|z|² − z|z|⁴, ω = 1 + μ²: Hopf curve λ = μ/2 with κ = ω² and
    l₁ = 2(μ − 0.3)/ω, so a generalised Hopf point at μ = 0.3, λ = 0.15."""

    name = "bautin-test"
    is_ode_rhs = True
    parameters = {"mu": 0.0}

    def H(self, p, lam):
        mu = self.params["mu"]
        x, y = p[0], p[1]
        r2 = x * x + y * y
        a, w = lam - mu / 2 + (mu - 0.3) * r2 - r2 * r2, 1.0 + mu * mu
        return anp.stack([a * x - w * y, w * x + a * y])

    def dH_dp(self, p, lam):  # analytic: the curve's difference quotients call it often
        mu, x, y = self.params["mu"], float(p[0]), float(p[1])
        r2 = x * x + y * y
        a, w = lam - mu / 2 + (mu - 0.3) * r2 - r2 * r2, 1.0 + mu * mu
        da = (mu - 0.3) - 2 * r2  # ∂a/∂(r²)
        return np.array([[a + 2 * da * x * x, -w + 2 * da * x * y], [w + 2 * da * x * y, a + 2 * da * y * y]])

    def start(self):
        return StartPoint(np.zeros(2), -0.5)


class ZeroHopf(Problem):
    """x' = (λ + z) x − y, y' = x + (λ + z) y, z' = μ + z² − x² − y²: equilibria (0, 0, ±√−μ), Hopf where
    λ = −z, so the Hopf curve is μ = −λ² (ω = 1), and the third eigenvalue 2z = −2λ vanishes at the
    zero-Hopf point λ = μ = 0."""

    name = "zero-hopf-test"
    is_ode_rhs = True
    parameters = {"mu": -0.25}

    def H(self, p, lam):
        x, y, z = p[0], p[1], p[2]
        return anp.stack([(lam + z) * x - y, x + (lam + z) * y, self.params["mu"] + z * z - x * x - y * y])

    def dH_dp(self, p, lam):
        x, y, z = (float(v) for v in p)
        return np.array([[lam + z, -1.0, x], [1.0, lam + z, y], [-2 * x, -2 * y, 2 * z]])

    def start(self):
        return StartPoint(np.array([0.0, 0.0, -0.5]), 0.5)


class BogdanovTakensJac(BogdanovTakens):
    """The BT normal form with its Jacobian in closed form."""

    def dH_dp(self, p, lam):
        x, y = float(p[0]), float(p[1])
        return np.array([[0.0, 1.0], [self.params["beta"] + 2 * x - y, -x]])


def test_generalised_hopf_of_the_bautin_normal_form():
    curve = continue_hopf(Bautin(), (np.zeros(2), 0.0), "mu", lam_min=-0.2, lam_max=0.6, options={"max_ds": 0.1})
    assert curve.success, curve.message
    mu, lam, kappa = curve.lam[curve.p_steps], curve.p[:, 2], curve.p[:, 3]
    np.testing.assert_allclose(lam, mu / 2, atol=1e-9)
    np.testing.assert_allclose(kappa, (1 + mu ** 2) ** 2, atol=1e-9)
    np.testing.assert_allclose(curve.metrics["omega"], 1 + curve.lam ** 2, atol=1e-9)
    np.testing.assert_allclose(curve.metrics["l1"], 2 * (curve.lam - 0.3) / (1 + curve.lam ** 2), atol=1e-8)
    (gh,) = curve.events("gh")
    assert gh.lam == pytest.approx(0.3, abs=1e-8) and gh.p[2] == pytest.approx(0.15, abs=1e-8)
    # l2 = 4 Re c₂/ω with c₂ = −1, ω = 1 + μ² (pathtrack.normalform.second_lyapunov)
    assert gh.extra["l2"] == pytest.approx(-4.0 / (1 + 0.3 ** 2), abs=1e-8)
    assert gh.extra["l1"] == pytest.approx(0.0, abs=1e-9)
    assert not curve.events("bt") and not curve.events("zh")


def test_bogdanov_takens_on_the_hopf_and_the_fold_curve():
    # Hopf points of x' = y, y' = λ + βx + x² − xy: x = y = λ = 0 with ω² = −β, for β < 0
    hopf = continue_hopf(BogdanovTakensJac(beta=-0.5), (np.zeros(2), 0.0), "beta", lam_min=-0.5, lam_max=0.5,
                         options={"max_ds": 0.1})
    assert hopf.success, hopf.message
    beta = hopf.lam[hopf.p_steps]
    np.testing.assert_allclose(hopf.p[:, :3], 0.0, atol=1e-9)
    np.testing.assert_allclose(hopf.p[:, 3], -beta, atol=1e-9)  # κ = ω² = −β, negative past BT (neutral saddles)
    om = hopf.metrics["omega"]
    assert np.all(np.isnan(om[hopf.lam > 0])) and np.all(np.isnan(hopf.metrics["l1"][hopf.lam > 0]))
    np.testing.assert_allclose(om[hopf.lam < 0], np.sqrt(-hopf.lam[hopf.lam < 0]), atol=1e-9)
    (bt,) = hopf.events("bt")
    assert bt.lam == pytest.approx(0.0, abs=1e-8) and bt.p[2] == pytest.approx(0.0, abs=1e-8)
    assert bt.extra["a"] == pytest.approx(1.0, abs=1e-8) and bt.extra["b"] == pytest.approx(-1.0, abs=1e-8)
    # the fold curve λ = β²/4 meets it there
    fold = continue_fold(BogdanovTakensJac(), _fold(BogdanovTakensJac()), "beta", direction=-1, lam_min=-0.5,
                         lam_max=0.5)
    (bt_fold,) = fold.events("bt")
    assert bt_fold.lam == pytest.approx(bt.lam, abs=1e-8) and bt_fold.p[2] == pytest.approx(bt.p[2], abs=1e-8)
    assert bt_fold.extra["a"] == pytest.approx(1.0, abs=1e-8)
    assert bt_fold.extra["b"] == pytest.approx(-1.0, abs=1e-8)


def test_zero_hopf_point():
    curve = continue_hopf(ZeroHopf(), (np.array([0.0, 0.0, -0.5]), 0.5), "mu", lam_min=-0.3, lam_max=0.1,
                          options={"max_ds": 0.1})
    mu, lam = curve.lam[curve.p_steps], curve.p[:, 3]
    assert curve.n_accepted > 5 and lam.min() < -0.4  # through the turning point at ZH to the other side
    np.testing.assert_allclose(mu, -lam ** 2, atol=1e-9)
    np.testing.assert_allclose(curve.p[:, 2], -lam, atol=1e-9)
    np.testing.assert_allclose(curve.metrics["omega"], 1.0, atol=1e-9)
    (zh,) = curve.events("zh")
    assert zh.lam == pytest.approx(0.0, abs=1e-8) and zh.p[3] == pytest.approx(0.0, abs=1e-8)
    assert not curve.events("bt")


def test_hopf_continuation_needs_a_hopf_point():
    pb = BogdanovTakens()
    fold = _fold(pb)
    with pytest.raises(OptionsError, match="not at a 'fold' point"):
        continue_hopf(pb, fold, "beta")
    with pytest.raises(OptionsError, match="not a Hopf point"):
        continue_hopf(pb, (fold.p, fold.lam), "beta")  # a double zero there: no complex pair
    with pytest.raises(OptionsError, match="names no numeric parameter"):
        continue_hopf(BogdanovTakens(beta=-0.5), (np.zeros(2), 0.0), "nope")


def test_hopf_cli_file_inspect_plot_and_bad_input(tmp_path):
    runner = CliRunner()
    path, curve, fold = (str(tmp_path / n) for n in ("hnf.h5", "hopf.h5", "fold.h5"))
    res = runner.invoke(main, ["run", "hopf-normal-form", "--set", "l1=-0.1", "--out", path, "--json"])
    assert res.exit_code == 0, res.output
    kinds = [e["kind"] for e in json.loads(res.output)["events"]]
    k = kinds.index("hopf")
    res = runner.invoke(main, ["hopf", path, "--event", str(k), "--par2", "l1", "--min", "-0.1", "--max", "0.1",
                               "--out", curve])
    assert res.exit_code == 0, res.output
    # l1 of the normal form is 2 a / omega with a = the parameter l1, omega = 1.3: GH at l1 = 0
    line = next(ln for ln in res.output.splitlines() if ln.startswith("event     gh"))
    assert abs(float(line.split("l1 = ")[1].split(",")[0])) < 1e-8
    res = runner.invoke(main, ["inspect", curve, "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["problem"] == "hopf:hopf-normal-form:l1" and "gh" in [e["kind"] for e in info["events"]]
    res = runner.invoke(main, ["plot", curve, "--out", str(tmp_path / "two.png")])
    assert res.exit_code == 0 and (tmp_path / "two.png").stat().st_size > 0, res.output
    # bad input: one line, exit 2
    for args, text in ((["hopf", path, "--event", str(k), "--par2", "nope"], "names no numeric parameter"),
                       (["hopf", path, "--event", str(k), "--par2", "lam2"], "names no numeric parameter"),
                       (["hopf", path, "--event", str(k + 1), "--par2", "l1"], "not a Hopf point"),
                       (["fold", path, "--event", str(k), "--par2", "l1"], "not a fold"),
                       (["hopf", path, "--event", str(k), "--par2", "l1", "--out", curve], "exists"),
                       (["plot", path, "--kind", "twoparam"], "draws fold and Hopf curves")):
        res = runner.invoke(main, args)
        assert res.exit_code == 2 and text in res.output and len(res.output.strip().splitlines()) == 1, \
            (args, res.output)


def test_reactor_generalised_hopf_matches_its_closed_form():
    from scipy.optimize import brentq

    from pathtrack import track
    from pathtrack_problems.ab_reaction import ABReaction

    def l1(beta):
        pb = ABReaction(beta=beta)
        return pb.first_lyapunov_exact(*pb.hopf_states()[1])

    beta = brentq(l1, 0.5, 1.2, xtol=1e-15)
    d = ABReaction(beta=beta).hopf_states()[1][2]
    pb = ABReaction()
    (hb,) = track(pb).events("hopf")
    curve = continue_hopf(pb, hb, "beta", direction=-1, lam_min=0.7, lam_max=2.0)
    assert curve.success, curve.message
    (gh,) = curve.events("gh")
    assert gh.lam == pytest.approx(beta, abs=1e-10) and gh.p[2] == pytest.approx(d, abs=1e-11)
    # every point is a zero-trace state in closed form: u₁ a root of B u₁² − (B + 1 + β) u₁ + 2 + β
    b = curve.lam[curve.p_steps]
    u1 = curve.p[:, 0]
    np.testing.assert_allclose(14 * u1 ** 2 - (15 + b) * u1 + 2 + b, 0.0, atol=1e-9)
