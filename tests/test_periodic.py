"""Periodic orbits from Hopf points: collocation against closed forms and independent integration."""

import os

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pathtrack import OptionsError, ProblemError, Status, track
from pathtrack.periodic import continue_cycles, hopf_point, switch_period_doubling
from pathtrack.periodic.collocation import BatchedRHS, CollocationBasis, CollocationSystem
from pathtrack_problems.bratu import Bratu1D
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.rossler import Rossler

from _cycle_problems import TransverseOscillator
from pathtrack_problems.normal_forms import HopfNormalForm, SnicCircle


def test_basis_integrates_and_differentiates_polynomials_exactly():
    for ncol in range(2, 8):
        b = CollocationBasis(ncol)
        poly = np.polynomial.Polynomial(np.arange(1.0, ncol + 2))  # degree ncol
        vals = poly(b.nodes)
        np.testing.assert_allclose(b.L @ vals, poly(b.gauss), rtol=1e-11)
        np.testing.assert_allclose(b.D @ vals, poly.deriv()(b.gauss), rtol=1e-10)
        assert b.node_w @ vals == pytest.approx(poly.integ()(1.0) - poly.integ()(0.0), rel=1e-12)


@pytest.mark.parametrize("omega, l1", [(1.3, -1.0), (2.0, -0.5)])
def test_hopf_normal_form_radius_and_period(omega, l1):
    pb = HopfNormalForm(omega=omega, l1=l1)
    hp = hopf_point(pb, np.zeros(2), 0.0)
    assert hp.omega == pytest.approx(omega, rel=1e-12)
    # with q̄ᵀq = 1, x − x₀ = 2 Re(z q) has radius √2|z|, so Re c₁ = 2ℓ
    assert hp.re_c1 == pytest.approx(2 * l1, rel=1e-5) and hp.dmu == pytest.approx(1.0, rel=1e-8)
    r = continue_cycles(pb, hp, ntst=50, ncol=4, lam_max=0.5, max_ds=0.1)
    assert r.status is Status.success and r.end_reason == "box" and r.lam[-1] == pytest.approx(0.5, abs=1e-12)
    assert r.n_accepted >= 5
    radius = np.sqrt(np.sum(r.profile ** 2, axis=2))
    assert np.max(np.abs(radius - np.sqrt(r.lam / -l1)[:, None])) < 1e-7
    np.testing.assert_allclose(r.period, 2 * np.pi / omega, rtol=0, atol=1e-7)
    # between the nodes too
    t = np.linspace(0, 1, 333)
    np.testing.assert_allclose(np.linalg.norm(r.orbit(len(r.lam) - 1, t), axis=1), np.sqrt(0.5 / -l1), atol=1e-7)
    # L2 norm of a circle of radius R about the origin is R
    np.testing.assert_allclose(r.l2, np.sqrt(r.lam / -l1), atol=1e-7)
    # the non-trivial multiplier is exp(∫ div f dt) = exp(−2μT) on the circle (Liouville)
    mu = r.multipliers
    np.testing.assert_allclose(mu[:, 0].real, 1.0, atol=1e-8)
    np.testing.assert_allclose(mu[:, 1].real, np.exp(-2 * r.lam * r.period), rtol=1e-7)
    assert np.all(r.n_unstable == 0)


def test_subcritical_branch_lies_on_the_other_side_and_is_unstable():
    pb = HopfNormalForm(l1=1.0)
    r = continue_cycles(pb, (np.zeros(2), 0.0), ntst=20, ncol=4, lam_min=-0.3, max_ds=0.1)
    assert r.status is Status.success and r.lam[-1] == pytest.approx(-0.3)
    assert np.all(r.lam < 0) and np.all(r.n_unstable == 1)
    assert np.max(np.abs(np.sqrt(np.sum(r.profile ** 2, axis=2)) - np.sqrt(-r.lam)[:, None])) < 1e-7


def _integrate_orbit(pb, u0, T, lam):
    """Flow of u' = f over one period and the monodromy matrix, by solve_ivp (independent of collocation)."""
    n = len(u0)

    def rhs(t, z):
        u, Y = z[:n], z[n:].reshape(n, n)
        return np.concatenate([pb.H(u, lam), (pb.dH_dp(u, lam) @ Y).ravel()])

    sol = solve_ivp(rhs, (0, T), np.concatenate([u0, np.eye(n).ravel()]), rtol=1e-12, atol=1e-13, method="DOP853")
    return sol.y[:n, -1], sol.y[n:, -1].reshape(n, n)


@pytest.mark.parametrize("A", [1.0, 2.0])
def test_brusselator_near_its_hopf_point(A):
    pb = Brusselator(A=A, lam_end=2.0 + A ** 2)
    path = track(pb)  # the equilibrium branch locates the Hopf point at B = 1 + A²
    hb = path.events("hopf")[0]
    hp = hopf_point(pb, hb.p, hb.lam)
    assert hp.omega == pytest.approx(A, rel=1e-7)  # det of the Jacobian at the Hopf point is A²
    r = continue_cycles(pb, hb, ntst=50, ncol=4, initial_ds=1e-3, max_ds=0.05, lam_max=hb.lam + 0.05)
    assert r.status is Status.success and r.n_accepted >= 3
    # near the Hopf point the period tends to 2π/ω and λ − λ₀ ≈ −Re c₁ ρ²/μ' (ρ = L2 amplitude/√2)
    dev = r.profile[0] - r.profile[0].mean(axis=0)
    rho2 = np.mean(np.sum(dev ** 2, axis=1)) / 2
    assert (r.lam[0] - hp.lam) / rho2 == pytest.approx(-hp.re_c1 / hp.dmu, rel=0.05)
    assert r.period[0] == pytest.approx(2 * np.pi / A, rel=1e-5)
    # every orbit is periodic under an independent integrator to 1e-7, and its multipliers agree
    for i in (0, len(r.lam) // 2, len(r.lam) - 1):
        u0 = r.profile[i][0]
        u1, M = _integrate_orbit(pb, u0, r.period[i], r.lam[i])
        assert np.max(np.abs(u1 - u0)) < 1e-7
        mu_ref = np.sort_complex(np.linalg.eigvals(M))
        np.testing.assert_allclose(np.sort_complex(r.multipliers[i]), mu_ref, atol=1e-7)
    assert np.all(r.n_unstable == 0)  # supercritical: stable orbits


def test_snic_period_with_mesh_adaptation_and_homoclinic_end():
    pb = SnicCircle()
    r = continue_cycles(pb, (np.zeros(2), 0.0), ntst=50, ncol=4, max_ds=2.0, max_period=30.0)
    assert r.status is Status.homoclinic and "max_period" in r.end_reason
    assert r.period[-1] == pytest.approx(30.0, abs=1e-10)  # the branch ends on the orbit of period max_period
    np.testing.assert_allclose(r.period, pb.period(r.lam), rtol=1e-7)
    # near the saddle-node the orbit is slow on a short arc: 1.5e-7 at T = 36 with ntst = 50
    assert np.max(np.abs(np.sqrt(np.sum(r.profile ** 2, axis=2)) - np.sqrt(r.lam)[:, None])) < 1e-6
    # the adapted mesh is finest where the orbit is slow (near the coming saddle-node at θ = −π/2)
    h = np.diff(r.mesh[-1])
    assert h.max() / h.min() > 3


def test_branch_between_two_hopf_points_ends_at_the_second():
    pb = HopfNormalForm(lam2=0.5)
    r = continue_cycles(pb, (np.zeros(2), 0.0), ntst=20, ncol=4, max_ds=0.1)
    assert r.status is Status.hopf_end
    lam_end = float(r.end_reason.split("lam = ")[1])
    assert lam_end == pytest.approx(0.5, abs=0.02)
    radius = np.sqrt(np.sum(r.profile ** 2, axis=2))
    assert np.max(np.abs(radius - np.sqrt(r.lam * (1 - r.lam / 0.5))[:, None])) < 1e-7


def test_time_per_step_grows_linearly_with_ntst():
    import time
    pb = Brusselator(A=1.0)
    y = {}
    for ntst in (50, 400):
        sysm = CollocationSystem(BatchedRHS(pb, 2), np.linspace(0, 1, ntst + 1), 4)
        sysm.rhs.probe(np.array([1.0, 2.0]), 2.0)
        yy = sysm.pack(np.array([1.0, 2.0]) + 0.1 * np.column_stack([np.cos(6.3 * sysm.times),
                                                                    np.sin(6.3 * sysm.times)]), 6.3, 2.1)
        sysm.set_reference(yy)
        b = sysm.weights()
        rhs = np.ones(sysm.size)
        t0 = time.process_time()
        for _ in range(5):
            sysm.solve(yy, b, rhs)
        y[ntst] = time.process_time() - t0
    assert y[400] < 8 * 3 * y[50]  # 8× the intervals: far from the 64× of a dense solve's cube law (loose: noisy)


@pytest.mark.parametrize("kwargs, match", [
    ({"ntst": 1}, "ntst must be an integer >= 2"),
    ({"ncol": 8}, "ncol must be an integer from 2 to 7"),
    ({"ncol": 1}, "ncol must be an integer from 2 to 7"),
])
def test_bad_mesh_options_are_one_line_errors(kwargs, match):
    with pytest.raises(OptionsError, match=match) as exc:
        continue_cycles(HopfNormalForm(), (np.zeros(2), 0.0), **kwargs)
    assert "\n" not in str(exc.value)


def test_not_a_hopf_point_and_not_an_ode_are_one_line_errors():
    with pytest.raises(ProblemError, match="not a Hopf point") as exc:
        continue_cycles(HopfNormalForm(), (np.zeros(2), 0.2))
    assert "\n" not in str(exc.value)
    with pytest.raises(ProblemError, match="not an equilibrium"):
        continue_cycles(HopfNormalForm(), (np.ones(2), 0.0))
    with pytest.raises(ProblemError, match="no complex eigenvalue pair"):
        continue_cycles(Brusselator(), (np.array([1.0, 0.0]), 0.0))  # eigenvalues −1, −1
    with pytest.raises(ProblemError, match="is_ode_rhs"):
        continue_cycles(Bratu1D(n=4), (np.zeros(4), 0.0))


def test_fold_of_cycles_located_at_the_closed_form():
    # Bautin: μ + r² − r⁴ = 0 folds at r² = 1/2, λ = −1/4; the subcritical branch turns back there
    r = continue_cycles(HopfNormalForm(l1=1.0, l2=-1.0), (np.zeros(2), 0.0), ntst=20, lam_min=-1, lam_max=1,
                        max_ds=0.1)
    assert r.status is Status.success
    (lpc,) = r.events("lpc")
    assert lpc.lam == pytest.approx(-0.25, abs=1e-9)
    assert lpc.extra["l2"] == pytest.approx(np.sqrt(0.5), abs=1e-8)  # node quadrature at ntst = 20
    assert np.linalg.norm(lpc.p[:-1].reshape(-1, 2), axis=1) == pytest.approx(np.sqrt(0.5), abs=1e-8)
    assert lpc.extra["period"] == pytest.approx(2 * np.pi / 1.3, abs=1e-9)
    # unstable before the fold (inner circle), stable after it (outer circle)
    i = lpc.step  # rows i − 1 and i bracket the fold
    assert i > 1 and np.all(r.n_unstable[:i] == 1) and np.all(r.n_unstable[i:] == 0)
    assert r.s[i - 1] < lpc.s < r.s[i]


def test_neimark_sacker_located_at_the_closed_form():
    pb = TransverseOscillator(kappa0=0.3, nu=0.7)
    r = continue_cycles(pb, (np.zeros(4), 0.0), ntst=20, lam_max=0.6, max_ds=0.1)
    assert r.status is Status.success
    (ns,) = r.events("ns")
    assert ns.lam == pytest.approx(0.3, abs=1e-9)
    # the critical pair is exp(±iνT) with T = 2π/ω
    assert ns.extra["mu_re"] == pytest.approx(np.cos(0.7 * 2 * np.pi), abs=1e-8)
    assert ns.extra["mu_im"] == pytest.approx(abs(np.sin(0.7 * 2 * np.pi)), abs=1e-8)
    i = np.searchsorted(r.lam, 0.3)
    k, T = r.lam - 0.3, r.period
    expected = np.sort(np.column_stack([np.ones_like(T), np.exp(-2 * r.lam * T), np.exp(k * T), np.exp(k * T)]))
    np.testing.assert_allclose(np.sort(np.abs(r.multipliers)), expected, rtol=1e-7)
    assert np.all(r.n_unstable[:i] == 0) and np.all(r.n_unstable[i:] == 2)


def test_period_doublings_of_rossler_located_switched_and_checked_by_independent_integration():
    from scipy.optimize import brentq
    pb = Rossler()

    def max_re(lam):
        e = np.linalg.eigvals(pb.dH_dp(pb.equilibrium(lam), lam))
        return e[np.abs(e.imag) > 1e-9].real.max()

    lam_h = brentq(max_re, -0.2, 0.3, xtol=1e-14)
    r = continue_cycles(pb, (pb.equilibrium(lam_h), lam_h), ntst=50, lam_max=0.15, initial_ds=0.01, max_ds=0.5)
    assert r.status is Status.success
    (pd,) = r.events("pd")
    assert pd.extra["mu_re"] == pytest.approx(-1.0, abs=1e-9)
    u0 = pd.p[:3]
    u1, M = _integrate_orbit(pb, u0, pd.extra["period"], pd.lam)
    assert np.max(np.abs(u1 - u0)) < 1e-7
    assert np.min(np.abs(np.linalg.eigvals(M) + 1.0)) < 1e-6
    # AUTO-07p (Debian auto-07p 0.9.2) on benchmarks/auto/ros.f90 with NTST=50, NCOL=4, IAD=3,
    # EPSL=EPSU=1e-10, JAC=1, as `python benchmarks/bench_periodic.py --demos` runs it: PD label,
    # PAR(1), PAR(11) from its s-file, L2 by the node quadrature of its stored orbit
    assert pd.lam == pytest.approx(0.10963893654, abs=1e-9)
    assert pd.extra["period"] == pytest.approx(6.04813182760, abs=1e-9)
    assert pd.extra["l2"] == pytest.approx(7.92393557525, abs=1e-8)
    # the branch of doubled period from there: period 2T at the switch, then a second doubling
    r2 = switch_period_doubling(pb, r, 0, ntst=100, lam_max=0.16, initial_ds=0.01, max_ds=0.5)
    assert r2.status is Status.success
    assert r2.period[0] == pytest.approx(2 * pd.extra["period"], rel=1e-4) and r2.lam[0] == pytest.approx(pd.lam,
                                                                                                          abs=1e-4)
    i = len(r2.lam) - 1  # away from the doubling: returns after 2T, not after T
    u0 = r2.profile[i][0]
    u_half, _ = _integrate_orbit(pb, u0, r2.period[i] / 2, r2.lam[i])
    u_full, _ = _integrate_orbit(pb, u0, r2.period[i], r2.lam[i])
    assert np.max(np.abs(u_full - u0)) < 1e-6 and np.max(np.abs(u_half - u0)) > 0.1
    (pd2,) = r2.events("pd")
    _, M2 = _integrate_orbit(pb, pd2.p[:3], pd2.extra["period"], pd2.lam)
    assert np.min(np.abs(np.linalg.eigvals(M2) + 1.0)) < 1e-5
    # AUTO-07p, restarted at its PD label with ISW=-1, NTST=100 (same run as above)
    assert pd2.lam == pytest.approx(0.14299724791, abs=1e-8)
    assert pd2.extra["period"] == pytest.approx(11.96478219, abs=1e-7)
    with pytest.raises(OptionsError, match="1 period doubling"):
        switch_period_doubling(pb, r, 1)


def test_cycle_branch_file_round_trip_inspect_and_plots(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main
    from pathtrack.io import CyclesFile, open_file

    monkeypatch.setenv("MPLBACKEND", "Agg")
    runner = CliRunner()
    path, cyc = str(tmp_path / "bru.h5"), str(tmp_path / "cyc.h5")
    assert runner.invoke(main, ["run", "brusselator", "--out", path]).exit_code == 0
    res = runner.invoke(main, ["run", "brusselator", "--from", f"{path}:hopf1", "-o", "ntst=20", "-o", "lam_max=2.5",
                               "-o", "max_ds=0.5", "--out", cyc, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["status"] == "success" and summary["lam_end"] == pytest.approx(2.5)
    assert summary["hopf_lam"] == pytest.approx(2.0, abs=1e-8)
    # the file holds what the API computes
    r = continue_cycles(Brusselator(), (np.array([1.0, 2.0]), 2.0), ntst=20, lam_max=2.5, max_ds=0.5)
    f = open_file(cyc)
    assert isinstance(f, CyclesFile) and f.status == "success" and f.problem == "brusselator"
    np.testing.assert_allclose(f.orbits["lam"], r.lam, atol=1e-9)
    np.testing.assert_allclose(f.orbits["period"], r.period, atol=1e-9)
    assert f.orbits["profile"].shape == r.profile.shape and f.orbits["multipliers"].dtype.kind == "c"
    info = json.loads(runner.invoke(main, ["inspect", cyc, "--json"]).output)
    assert info["kind"] == "cycle branch" and info["n_orbits"] == len(r.lam) and info["ntst"] == 20
    for kind in ("orbits", "cycles"):
        out = str(tmp_path / f"{kind}.png")
        res = runner.invoke(main, ["plot", cyc, "--kind", kind, "--out", out])
        assert res.exit_code == 0 and os.path.getsize(out) > 1000, res.output
    # one-line errors: no such Hopf point, a path file where a cycle file is needed, wrong problem
    for args, match in ((["run", "brusselator", "--from", f"{path}:hopf2"], "1 Hopf point"),
                        (["run", "brusselator", "--from", f"{path}:fold1"], "hopfK or HBK"),
                        (["run", "pitchfork", "--from", f"{path}:hopf1"], "of problem 'brusselator'"),
                        (["plot", path, "--kind", "cycles"], "plots a cycle branch")):
        res = runner.invoke(main, args)
        assert res.exit_code == 2 and match in res.output and len(res.output.strip().splitlines()) == 1, res.output


def test_a_branch_that_stops_midway_keeps_its_orbits_in_the_file(tmp_path):
    from click.testing import CliRunner

    from pathtrack.cli import main
    from pathtrack.io import open_file

    runner = CliRunner()
    path, cyc = str(tmp_path / "bru.h5"), str(tmp_path / "cyc.h5")
    assert runner.invoke(main, ["run", "brusselator", "--out", path]).exit_code == 0
    res = runner.invoke(main, ["run", "brusselator", "--from", f"{path}:HB1", "-o", "max_steps=3", "-o", "max_ds=0.05",
                                "--out", cyc])
    assert res.exit_code == 1 and "max_steps_reached" in res.output
    f = open_file(cyc)
    assert f.status == "max_steps_reached" and len(f.orbits["lam"]) == 4  # the first orbit and 3 steps
    # each stored orbit is one: periodic under an independent integrator
    pb = Brusselator()
    for i in range(4):
        u1, _ = _integrate_orbit(pb, f.orbits["profile"][i][0], f.orbits["period"][i], f.orbits["lam"][i])
        assert np.max(np.abs(u1 - f.orbits["profile"][i][0])) < 1e-6


def test_predator_prey_cycles_end_at_a_homoclinic_orbit_as_in_auto_demo_pp2():
    """AUTO-07p demo pp2: the cycles born at the Hopf point of the coexistence state end at a saddle homoclinic.

    The period diverges at bounded amplitude while the orbit comes ever closer to the saddle
    on the prey-only branch; the branch ends on the orbit of period ``max_period`` = 36 (AUTO's
    demo stops there too, UZSTOP PERIOD = 36).
    """
    from scipy.optimize import brentq

    from problems.predprey import PredatorPrey

    pb = PredatorPrey()
    u1 = 1.0 / pb.p4  # the coexistence branch

    def coexist(lam):
        return np.array([u1, pb.p2 * (1 - u1) - lam * (1 - np.exp(-pb.p3 * u1)) / u1])

    lam_h = brentq(lambda lam: np.trace(pb.dH_dp(coexist(lam), lam)), 0.3, 1.0, xtol=1e-15)
    r = continue_cycles(pb, (coexist(lam_h), lam_h), ntst=50, max_ds=2.0, max_period=36.0)
    assert r.status is Status.homoclinic and r.period[-1] == pytest.approx(36.0, abs=1e-10)
    assert np.all(np.diff(r.period) > 0) and np.max(np.abs(r.profile)) < 1.0  # bounded while T grows 3.5x
    # the orbits approach the saddle (u1, 0) of the prey-only branch at their λ
    saddle = [brentq(lambda x: pb.p2 * x * (1 - x) - lam * (1 - np.exp(-pb.p3 * x)), 0.2, 1.0) for lam in r.lam[-5:]]
    gaps = [np.min(np.hypot(U[:, 0] - x, U[:, 1])) for U, x in zip(r.profile[-5:], saddle)]
    assert np.all(np.diff(gaps) < 0) and gaps[-1] < 3e-3 < gaps[0]  # from 8e-3 to 2e-3 at the nodes
    # AUTO-07p (Debian auto-07p 0.9.2) on benchmarks/auto/pp2.f90, NTST=50, NCOL=4, EPSL=EPSU=1e-10, JAC=1,
    # as `python benchmarks/bench_periodic.py --demos` runs it: the UZ orbit of period 36 (35.999999821)
    assert r.lam[-1] == pytest.approx(0.70794090165, abs=1e-10)
    assert r.l2[-1] == pytest.approx(0.43496226761, abs=1e-9)
