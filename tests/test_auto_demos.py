"""AUTO-07p demos ab (plugin ab-reaction) and lor (plugin lorenz): special points against closed forms and AUTO."""

import numpy as np
import pytest

from pathtrack import track
from pathtrack.diagram import diagram
from pathtrack_problems.ab_reaction import ABReaction
from pathtrack_problems.lorenz import Lorenz

#: AUTO-07p 0.9.2 (Debian auto-07p) on benchmarks/auto/ab (ab.f90, c.ab, run.auto; the model shared with the two-parameter run): PAR(1) of the
#: labelled points of s.ab (11 significant digits), read by benchmarks/auto/pp/parse_s.py.
AUTO_AB = {"LP1": 0.10573897827, "LP2": 0.088931846186, "HB": 0.13090004476}
#: The same on benchmarks/auto/lor (lor.f90, c.lor, run.auto: automatic branch switching, MXBF=10):
#: the BP of the origin and the HB of both bifurcating branches.
AUTO_LOR = {"BP": 1.0, "HB": 24.736842128}


def test_ab_folds_and_hopf_match_closed_forms_and_auto():
    pb = ABReaction()
    exact = pb.closed_forms()
    r = track(pb)
    assert r.success
    folds = [sp.lam for sp in r.events("fold")]
    hopf = r.events("hopf")
    assert len(folds) == 2 and len(hopf) == 1
    got = {"LP1": folds[0], "LP2": folds[1], "HB": hopf[0].lam}
    for key in exact:
        assert got[key] == pytest.approx(exact[key], abs=1e-12)
        assert got[key] == pytest.approx(AUTO_AB[key], abs=1e-9)
    assert hopf[0].extra["l1"] < 0  # supercritical


def test_ab_derivatives_match_autograd():
    from pathtrack.problem import Problem

    pb = ABReaction()
    rng = np.random.default_rng(1)
    for _ in range(5):
        p, lam = rng.uniform(0, 1, 2), float(rng.uniform(0, 0.2))
        np.testing.assert_allclose(pb.dH_dp(p, lam), Problem.dH_dp(pb, p, lam), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(pb.dH_dlam(p, lam), Problem.dH_dlam(pb, p, lam), rtol=1e-13, atol=1e-14)


def test_lorenz_pitchfork_switched_and_hopf_points_match_closed_forms_and_auto():
    pb = Lorenz()
    exact = pb.closed_forms()
    d = diagram(pb, depth=1)
    assert d.success and d.n_branches == 3
    (bp,) = d.branches[0].result.events("bp")
    assert bp.lam == pytest.approx(exact["BP"], abs=1e-12) and bp.lam == pytest.approx(AUTO_LOR["BP"], abs=1e-9)
    for kid in d.branches[1:]:  # C+ and C-, each with its Hopf point
        (hb,) = kid.result.events("hopf")
        assert hb.lam == pytest.approx(exact["HB"], abs=1e-10)
        assert hb.lam == pytest.approx(AUTO_LOR["HB"], abs=1e-7)  # AUTO's own error is 2.3e-8
        assert hb.extra["l1"] > 0  # subcritical, as is classical for Lorenz
    signs = {np.sign(kid.result.p[-1][0]) for kid in d.branches[1:]}
    assert signs == {-1.0, 1.0}
