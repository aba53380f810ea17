"""relu1d_curve: a Lipschitz target whose width-2 risk has a curve of non-global local minima."""

import warnings

import numpy as np
import pytest
from scipy.integrate import IntegrationWarning, quad

from pathtrack import Status, track
from pathtrack_problems.relu1d.continuum import ContinuumTarget, ReLU1DCurve, curve_params


def _quad(f, lo, hi):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        return quad(f, lo, hi, limit=400, epsabs=1e-14, epsrel=1e-13)[0]


def test_target_is_continuous_and_its_tail_keeps_the_moments():
    """The quadratic tail meets φ at k1 and has φ's zeroth and first moments on [k1, 1] (φ integrated by quad,
    its (1 − x)^(-1/2) singularity included), and f is even."""
    tg = ContinuumTarget(0.5)
    k1 = tg.k1
    assert tg(np.array([k1 - 1e-12]))[0] == pytest.approx(tg(np.array([k1 + 1e-12]))[0], abs=1e-10)
    for m in (0, 1):
        want = _quad(lambda x: tg.phi(x) * (x - k1) ** m, k1, 1.0)
        assert _quad(lambda x: tg(x) * (x - k1) ** m, k1, 1.0) == pytest.approx(want, abs=1e-10)
    x = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(tg(x), tg(-x))
    assert np.max(np.abs(np.diff(tg(np.linspace(-1, 1, 20001))))) < 1e-3  # Lipschitz: no jumps


@pytest.mark.parametrize("k", [0.1, 0.3, 0.5])
def test_closed_form_family_is_stationary_by_quadrature(k):
    """c(k) is the mean of φ on [0, k] and (c, s) the least-squares line of φ on [k, 1]: checked with quad,
    independently of the plugin's risk."""
    tg = ContinuumTarget(0.5)
    _, _, _, _, s, _, c = curve_params(k)
    assert _quad(tg, 0.0, k) / k == pytest.approx(c, abs=1e-10)
    L = 1.0 - k
    G = np.array([[L, L ** 2 / 2], [L ** 2 / 2, L ** 3 / 3]])
    r = [_quad(tg, k, 1.0), _quad(lambda x: tg(x) * (x - k), k, 1.0)]
    np.testing.assert_allclose(np.linalg.solve(G, r), [c, s], atol=1e-9)


def test_tracked_curve_is_a_curve_of_non_global_local_minima():
    pb = ReLU1DCurve()
    res = track(pb)
    assert res.status is Status.success and res.lam[-1] == pytest.approx(pb.lam_end)
    lams = res.lam[res.p_steps]
    assert len(lams) >= 5 and lams[0] == pb.lam_start
    risks = []
    for p, lam in zip(res.p, lams):
        q = pb.full(p, lam)
        np.testing.assert_allclose(q, curve_params(lam), atol=1e-10)  # the tracker stays on the closed form
        f, g = pb.net.loss_and_grad(q, 1.0)
        assert np.linalg.norm(g) < 1e-12  # all 7 components, 3 of them not imposed by H
        eigs = np.linalg.eigvalsh(pb.net.dH_dp(q, 1.0))
        zero = 1e-9 * np.abs(eigs).max()
        # PSD with exactly three zero directions: the two unit scalings and the curve itself
        assert np.sum(np.abs(eigs) <= zero) == 3 and eigs.min() > -zero and np.sort(eigs)[3] > 1e-2
        risks.append(f)
    assert np.ptp(risks) < 1e-13
    x = np.linspace(-1, 1, 2001)
    ends = [pb.net.realisation(pb.full(p, lam), x) for p, lam in ((res.p[0], lams[0]), (res.p[-1], lams[-1]))]
    assert np.max(np.abs(ends[0] - ends[1])) > 0.3  # different functions
    # a width-2 network below the curve: kinks −0.05 and 0.68 facing apart, (v, c) by least squares
    w = np.array([1.0, -1.0])
    b = -w * np.array([-0.05, 0.68])
    xs = np.linspace(-1, 1, 20001)
    A = np.column_stack([np.maximum(np.multiply.outer(xs, w) + b, 0.0), np.ones_like(xs)])
    coef = np.linalg.lstsq(A, pb.target(xs), rcond=None)[0]
    assert pb.net.loss(np.concatenate([w, b, coef]), 1.0) < risks[0] - 0.01


def test_beyond_k1_the_family_is_not_critical_and_bad_k1_is_refused():
    from pathtrack.problem import ProblemError
    pb = ReLU1DCurve()
    assert np.linalg.norm(pb.net.H(curve_params(0.55), 1.0)) > 1e-3
    with pytest.raises(ProblemError, match="k1"):
        ReLU1DCurve(k1=1.5)
    with pytest.raises(ProblemError, match="lam_end"):
        ReLU1DCurve(k1=0.3)


def test_registered_as_plugin():
    from pathtrack.registry import make_problem
    assert isinstance(make_problem("relu1d_curve"), ReLU1DCurve)


def test_homotopy_derivatives_match_finite_differences():
    pb = ReLU1DCurve()
    p, lam = pb.start()
    p = p + 0.05 * np.random.default_rng(0).normal(size=p.size)
    lam = lam + 0.03
    eps = 1e-6
    fd = np.column_stack([(pb.H(p + eps * e, lam) - pb.H(p - eps * e, lam)) / (2 * eps) for e in np.eye(p.size)])
    np.testing.assert_allclose(pb.dH_dp(p, lam), fd, atol=1e-6)
    fd_lam = (pb.H(p, lam + eps) - pb.H(p, lam - eps)) / (2 * eps)
    np.testing.assert_allclose(pb.dH_dlam(p, lam), fd_lam, atol=1e-6)
