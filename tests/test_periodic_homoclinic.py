"""Cycle branches that approach an infinite-period orbit end ``homoclinic`` from the branch itself.

The reference λ* of AUTO's pp2 demo, 0.7080728075, is the parameter of the connection from the
saddle (u₁ ≈ 0.652, 0) to the saddle (u₁ ≈ 0.128, 0) of the prey-only branch (the orbits pass
by both, and along the invariant axis u₂ = 0 back): found by shooting the unstable manifold of
the first saddle and bisecting on the side of the second's stable manifold it leaves on
(``test_pp2_connection_parameter_by_shooting``, slow).
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from pathtrack import Status
from pathtrack.periodic import continue_cycles
from pathtrack.periodic.infinite_period import CONVERGED, fit_infinite_period, floquet_accurate
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.normal_forms import SnicCircle
from pathtrack_problems.predprey import PredatorPrey

PP2_LAM_STAR = 0.7080728075


def _pp2_hopf():
    pb = PredatorPrey()
    u1 = 1.0 / pb.p4  # the coexistence branch

    def coexist(lam):
        return np.array([u1, pb.p2 * (1 - u1) - lam * (1 - np.exp(-pb.p3 * u1)) / u1])

    lam_h = brentq(lambda lam: np.trace(pb.dH_dp(coexist(lam), lam)), 0.3, 1.0, xtol=1e-15)
    return pb, (coexist(lam_h), lam_h)


def test_pp2_with_default_options_ends_homoclinic_with_lam_star():
    pb, hopf = _pp2_hopf()
    r = continue_cycles(pb, hopf)  # the problem's options: ntst = 20, max_ds = 0.05, max_period unset
    fit = r.infinite_period
    assert r.status is Status.homoclinic and "lam* ~" in r.end_reason and fit.law == "log"
    assert abs(fit.lam_star - PP2_LAM_STAR) < 1e-6  # measured: 1.1e-7
    # ended by the test, well before 20 Hopf periods, once lam is within 1e-3 of its extent of lam*
    assert 3 * r.period[0] < r.period[-1] < 5 * r.period[0] and fit.remaining <= CONVERGED * fit.extent
    assert r.special_points == [] and np.max(np.abs(r.profile)) < 1.0 and np.all(np.diff(r.period) > 0)
    assert 0 < PP2_LAM_STAR - r.lam[-1] < 1e-4
    assert not Status.homoclinic.is_failure  # a cycle branch's own ending, not a failure of the diagram


def test_snic_with_default_options_ends_homoclinic_on_the_power_law():
    pb = SnicCircle()
    r = continue_cycles(pb, (np.zeros(2), 0.0))
    fit = r.infinite_period
    # T = 2π/sqrt(1 − λ): the power law with q = 2 and λ* = 1, to the end at 20 Hopf periods
    assert r.status is Status.homoclinic and "max_period" in r.end_reason and fit.law == "power"
    assert fit.rate == pytest.approx(2.0, abs=1e-3) and fit.lam_star == pytest.approx(1.0, abs=1e-6)
    assert r.period[-1] == pytest.approx(40 * np.pi, abs=1e-9)


def test_long_periods_with_inaccurate_multipliers_report_no_period_doubling():
    # past T ~ 80 at ntst = 50 the trivial multiplier leaves 1 (AUTO's test: by more than 0.05) and the
    # product test of pd changes sign at random: before that test, pd points were reported from T = 87.9
    pb, hopf = _pp2_hopf()
    r = continue_cycles(pb, hopf, ntst=50, max_ds=0.5, max_period=100.0)
    assert r.status is Status.homoclinic and r.period[-1] == pytest.approx(100.0, abs=1e-9)  # max_period kept
    assert r.events("pd") == [] and "Floquet multipliers inaccurate from period" in r.end_reason
    assert r.infinite_period.lam_star == pytest.approx(PP2_LAM_STAR, abs=1e-9)
    trivial_gap = np.min(np.abs(r.multipliers - 1.0), axis=1)
    assert np.all(trivial_gap[r.period < 60] < 1e-3) and np.max(trivial_gap) > 0.05


def test_a_step_control_failure_after_the_approach_ends_homoclinic():
    # ntst = 20 and max_period = 200: the mesh no longer resolves the orbit past period ~60 and the
    # corrector diverges at period 118.6 (ds_too_small before), after the fits showed the approach
    pb, hopf = _pp2_hopf()
    r = continue_cycles(pb, hopf, max_ds=2.0, max_period=200.0)
    assert r.status is Status.homoclinic and "step control failed (last rejection: diverged)" in r.end_reason
    assert r.period[-1] < 200 and abs(r.infinite_period.lam_star - PP2_LAM_STAR) < 1e-6


def test_relaxation_oscillations_with_growing_period_are_not_homoclinic():
    # the Brusselator's period grows 8.6 times with λ, which does not converge: no fit shows an approach
    pb = Brusselator(A=0.5)
    r = continue_cycles(pb, (np.array([0.5, 2.5]), 1.25), lam_max=30.0, max_ds=0.5, ntst=50)
    assert r.status is Status.discontinuous and r.infinite_period is None  # as before this ending existed
    assert r.period[-1] > 8 * r.period[0] and r.lam[-1] > 8


def test_a_branch_failing_for_other_reasons_keeps_its_status():
    pb = Brusselator()
    r = continue_cycles(pb, (np.array([1.0, 2.0]), 2.0), max_newton_iters=1, max_ds=0.5)
    assert r.status is Status.ds_too_small and r.infinite_period is None


@pytest.mark.parametrize("law", ["log", "power"])
def test_fit_recovers_lam_star_of_exact_laws(law):
    T = np.linspace(10.0, 60.0, 200)
    lam = 0.7 - np.exp(-T / 4.5) if law == "log" else 0.7 - (30.0 / T) ** 2
    fit = fit_infinite_period(T, lam, np.ones_like(T))
    # secants, not derivatives: exact up to a constant factor on the log law, to O(ΔT²/T²) on the power law
    assert fit.law == law and fit.lam_star == pytest.approx(0.7, abs=1e-9 if law == "log" else 1e-6)
    assert fit.rate == pytest.approx(4.5 if law == "log" else 2.0, rel=1e-9 if law == "log" else 1e-3)


def test_fit_refuses_branches_that_do_not_approach_an_infinite_period():
    T = np.linspace(10.0, 60.0, 200)
    lam = 0.7 - np.exp(-T / 4.5)
    ones = np.ones_like(T)
    assert fit_infinite_period(T, 0.1 * T, ones) is None  # λ grows with T (a relaxation oscillator)
    assert fit_infinite_period(T, lam, T) is None  # the amplitude grows with the period
    assert fit_infinite_period(T, lam + 1e-3 * np.exp(-T / 9) * np.sin(T), ones) is None  # λ snakes
    assert fit_infinite_period(T[:60], lam[:60], ones[:60]) is None  # the period grew less than 3 times
    rng = np.random.default_rng(0)
    assert fit_infinite_period(T, lam + 1e-7 * rng.normal(size=T.size), ones) is None  # noise, not a law


def test_floquet_accuracy_has_autos_hysteresis():
    assert floquet_accurate([1.04, 0.5], True) and not floquet_accurate([1.06, 0.5], True)
    assert not floquet_accurate([1.04, 0.5], False) and floquet_accurate([1.009, 0.5], False)
    assert not floquet_accurate([np.nan, 0.5], True)


@pytest.mark.slow
def test_pp2_diagram_gives_the_same_ending():
    from pathtrack.diagram import diagram

    pb, (p, lam_h) = _pp2_hopf()
    d = diagram(pb, depth=2, cycles={"ntst": 20})
    (c,) = d.cycles
    assert c.result.status is Status.homoclinic and c.result.hopf.lam == pytest.approx(lam_h, abs=1e-8)
    assert abs(c.result.infinite_period.lam_star - PP2_LAM_STAR) < 1e-6
    assert d.status is Status.success and "cycle branch 0" not in d.message  # not listed as failed


@pytest.mark.slow
def test_pp2_connection_parameter_by_shooting():
    p2, p3, p4 = 3.0, 5.0, 3.0

    def f(t, u, lam):
        x, y = u
        return [p2 * x * (1 - x) - x * y - lam * (1 - np.exp(-p3 * x)), -y + p4 * x * y]

    def side(lam):
        """+1 where the unstable manifold of the saddle A leaves the saddle B towards A, −1 towards 0."""
        g = lambda x: p2 * x * (1 - x) - lam * (1 - np.exp(-p3 * x))  # noqa: E731
        xb, xa = brentq(g, 0.05, 0.3, xtol=1e-16), brentq(g, 0.4, 0.9, xtol=1e-16)
        # at A = (xa, 0) the transverse eigenvalue −1 + p4·xa > 0 has the eigenvector (−xa, −1 + p4·xa − a)
        a = p2 * (1 - 2 * xa) - lam * p3 * np.exp(-p3 * xa)
        v = np.array([-xa, -1 + p4 * xa - a])
        u0 = np.array([xa, 0.0]) + 1e-7 * v / np.linalg.norm(v)
        low = lambda t, u, lam: u[1] - 1e-3  # noqa: E731
        low.terminal, low.direction = True, -1
        s = solve_ivp(f, (0, 500), u0, args=(lam,), method="DOP853", rtol=1e-12, atol=1e-15, events=low)
        away = lambda t, u, lam: abs(u[0] - xb) - 0.05  # noqa: E731
        away.terminal, away.direction = True, 1
        s = solve_ivp(f, (0, 500), s.y[:, -1], args=(lam,), method="DOP853", rtol=1e-12, atol=1e-15,
                      events=away)
        assert s.status == 1
        return np.sign(s.y[0, -1] - xb)

    lo, hi = 0.70807, 0.70808
    assert side(lo) == 1 and side(hi) == -1
    while hi - lo > 2e-11:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if side(mid) == 1 else (lo, mid)
    assert 0.5 * (lo + hi) == pytest.approx(PP2_LAM_STAR, abs=1e-10)


def test_cli_cycle_run_ending_homoclinic_exits_zero(tmp_path):
    """`homoclinic` is an answer of a cycle run, so `pathtrack run --from FILE:hopf1` exits 0 with it."""
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main

    runner = CliRunner()
    eq, cyc = str(tmp_path / "s.h5"), str(tmp_path / "c.h5")
    assert runner.invoke(main, ["run", "snic-circle", "--out", eq]).exit_code == 0
    res = runner.invoke(main, ["run", "snic-circle", "--from", f"{eq}:hopf1", "-o", "ntst=10",
                               "-o", "max_period=12", "--out", cyc, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "homoclinic"
