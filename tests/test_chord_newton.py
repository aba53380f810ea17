"""Opt-in chord Newton (``TrackerOptions.chord_newton``), as the two-parameter curves use it."""

import numpy as np
import pytest

from pathtrack import track
from pathtrack.options import TrackerOptions
from pathtrack.twoparam import continue_fold, continue_hopf
from pathtrack_problems.ab_reaction import ABReaction


@pytest.fixture(scope="module")
def reactor():
    pb = ABReaction()
    return pb, {sp.kind: sp for sp in track(pb).special_points}  # (the last fold: the lower one in D)


def test_off_by_default_and_the_same_path_on_an_ordinary_problem(reactor):
    assert TrackerOptions().chord_newton is False
    pb, _ = reactor
    plain, chord = track(pb), track(pb, options={"chord_newton": True})
    assert chord.counters["n_jac_evals"] < 0.6 * plain.counters["n_jac_evals"]
    for kind in ("fold", "hopf"):
        a, b = plain.events(kind), chord.events(kind)
        assert len(a) == len(b) >= 1
        assert [e.lam for e in b] == pytest.approx([e.lam for e in a], abs=1e-11)


def test_fold_curve_locates_the_cusp_as_full_newton_with_fewer_jacobians(reactor):
    pb, points = reactor
    runs = {cn: continue_fold(pb, points["fold"], "beta", lam_min=2.0, lam_max=3.0, options={"chord_newton": cn})
            for cn in (False, True)}
    for cn, curve in runs.items():
        assert curve.success, curve.message
        (cp,) = curve.events("cusp")
        # B = 4(1 + β) with B = 14: β = 2.5, u₁ = 1/2, D = e⁻²
        assert cp.lam == pytest.approx(2.5, abs=1e-10) and cp.p[-1] == pytest.approx(np.exp(-2.0), abs=1e-10)
        assert np.max(curve.residual[1:]) < 1e-8  # every stored point is on the fold curve: H = 0, g = 0
    assert runs[True].counters["n_jac_evals"] < 0.7 * runs[False].counters["n_jac_evals"]
    # the fold system is no ODE right-hand side: no eigenvalues of it are computed or stored
    assert "n_unstable" not in runs[True].metrics and "max_re_eig" not in runs[True].metrics
    assert not runs[True].events("hopf")


@pytest.mark.parametrize("beta, lo, hi, direction, kind, exact", [
    (0.15, 0.05, 0.3, -1, "bt", 0.093360192335747),  # β of the lower BT and GH points, closed forms of
    (0.8, 0.7, 0.95, 1, "gh", 0.844773741362749),    # benchmarks/bench_bifurcation.py (B = 14)
])
def test_hopf_curve_locates_bt_and_gh_as_full_newton_with_fewer_jacobians(beta, lo, hi, direction, kind, exact):
    pb = ABReaction(beta=beta)
    (hopf,) = track(pb).events("hopf")
    runs = [continue_hopf(pb, hopf, "beta", direction=direction, lam_min=lo, lam_max=hi,
                          options={"chord_newton": cn}) for cn in (False, True)]
    (newton,), (chord,) = (r.events(kind) for r in runs)
    assert chord.lam == pytest.approx(exact, abs=1e-10) and newton.lam == pytest.approx(exact, abs=1e-10)
    assert chord.p[-2] == pytest.approx(newton.p[-2], abs=1e-11)  # D
    # (with the curves' cubic predictor full Newton too converges in few iterations: 121 against 90 here)
    assert runs[1].counters["n_jac_evals"] < 0.8 * runs[0].counters["n_jac_evals"]


def test_chord_newton_is_a_bool_option():
    from pathtrack.options import OptionsError

    assert TrackerOptions.from_strings({"chord_newton": "true"}).chord_newton is True
    with pytest.raises(OptionsError, match="chord_newton must be True or False"):
        TrackerOptions(chord_newton="yes")
