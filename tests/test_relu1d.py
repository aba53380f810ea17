"""ReLU1D: exact piecewise-polynomial risk, derivatives, flows to critical points, H = 1 enumeration."""

import warnings

import numpy as np
import pytest
from scipy.integrate import IntegrationWarning, quad
from scipy.optimize import minimize_scalar

from pathtrack import Status
from pathtrack.flow import gradient_flow
from pathtrack_problems.relu1d import TARGETS, PiecewiseLinear, ReLU1D
from pathtrack_problems.relu1d.critical import find_critical_points, format_table, polish


def quad_risk(pb, p, lam):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        val, _ = quad(lambda x: (pb.realisation(p, x) - lam * pb.target(x)) ** 2, pb.a, pb.b, limit=500,
                      epsabs=1e-15, epsrel=1e-13)
    return val / (pb.b - pb.a)


@pytest.mark.parametrize("target", ["zigzag", "abs", "hat", "relu"])
@pytest.mark.parametrize("width", [1, 3])
def test_exact_risk_matches_adaptive_quadrature(target, width):
    pb = ReLU1D(width=width, target=target)
    rng = np.random.default_rng(width)
    for lam in (1.0, 0.3):
        for _ in range(4):
            p = pb.random_params(rng, 1.5)
            assert pb.loss(p, lam) == pytest.approx(quad_risk(pb, p, lam), rel=1e-11, abs=1e-14)


def test_exact_risk_on_other_interval_and_custom_knots():
    pb = ReLU1D(width=2, a=0.5, b=3.0, target=([0.0, 1.0, 2.5, 4.0], [0.0, 2.0, -1.0, 0.5]))
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = pb.random_params(rng)
        assert pb.loss(p, 1.0) == pytest.approx(quad_risk(pb, p, 1.0), rel=1e-11)


def test_gauss_option_for_smooth_target_and_agreement_with_exact():
    smooth = ReLU1D(width=2, target="sin", quadrature="gauss", n_gauss=20)
    rng = np.random.default_rng(3)
    for _ in range(4):
        p = smooth.random_params(rng)
        assert smooth.loss(p, 1.0) == pytest.approx(quad_risk(smooth, p, 1.0), rel=1e-11)
    exact, gauss = ReLU1D(width=3), ReLU1D(width=3, quadrature="gauss", n_gauss=5)
    p = exact.random_params(rng)
    assert exact.loss(p, 0.8) == pytest.approx(gauss.loss(p, 0.8), rel=1e-13)
    np.testing.assert_allclose(exact.H(p, 0.8), gauss.H(p, 0.8), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="piecewise-linear"):
        ReLU1D(target="sin")


def _fd_jac(f, p, eps=1e-6):
    return np.array([(f(p + eps * e) - f(p - eps * e)) / (2 * eps) for e in np.eye(len(p))]).T


@pytest.mark.parametrize("width", [1, 2, 4])
def test_gradient_hessian_and_dlam_match_finite_differences(width):
    pb = ReLU1D(width=width)
    rng = np.random.default_rng(10 + width)
    for _ in range(3):
        p, lam = pb.random_params(rng), rng.uniform(0.2, 1.0)
        g = pb.H(p, lam)
        np.testing.assert_allclose(g, _fd_jac(lambda q: np.array([pb.loss(q, lam)]), p)[0], atol=1e-8)
        Hm = pb.dH_dp(p, lam)
        np.testing.assert_allclose(Hm, Hm.T, atol=1e-14)
        np.testing.assert_allclose(Hm, _fd_jac(lambda q: pb.H(q, lam), p), atol=1e-7)
        dl = (pb.H(p, lam + 1e-6) - pb.H(p, lam - 1e-6)) / 2e-6
        np.testing.assert_allclose(pb.dH_dlam(p, lam), dl, atol=1e-8)


def test_flow_reaches_stationary_point_of_relu_risk():
    pb = ReLU1D(width=2)
    p0 = pb.random_params(np.random.default_rng(4))
    r = gradient_flow(pb, p0, gtol=1e-8)
    assert r.status is Status.success
    assert r.grad_norm[-1] < 1e-8
    assert np.linalg.norm(pb.H(r.p_final, 1.0)) < 1e-8
    assert r.risk[-1] < r.risk[0] and np.all(np.diff(r.risk) <= 1e-12)
    assert r.index(1e-6) == 0  # a minimum up to eigenvalues of order gtol
    # this start ends where two kinks merge: a degenerate minimum, slow in the merging direction
    assert np.sum(np.abs(r.hessian_eigs) < 1e-7) >= 2


def best_hinge_risk(pb, n=200_001):
    """Global minimum over single-hinge functions c + s·max(±(x − x0), 0), independently of the plugin.

    For a fixed kink x0 and side, (c, s) is linear least squares on a fine trapezoid grid; x0 by a bounded search.
    """
    x = np.linspace(pb.a, pb.b, n)
    wq = np.full(n, (x[1] - x[0]) / (pb.b - pb.a))
    wq[[0, -1]] *= 0.5
    f = pb.target(x)

    def risk(x0, side):
        A = np.column_stack([np.ones(n), np.maximum(side * (x - x0), 0.0)])
        coef = np.linalg.lstsq(A * np.sqrt(wq)[:, None], f * np.sqrt(wq), rcond=None)[0]
        e = A @ coef - f
        return float(wq @ (e * e))

    return min(minimize_scalar(lambda x0: risk(x0, s), bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-10}).fun
               for s in (1, -1) for lo, hi in ((-1, -0.3), (-0.3, 0.4), (0.4, 1)))


@pytest.mark.slow
def test_h1_enumeration_is_finite_and_stable_across_seeds():
    pb = ReLU1D(width=1)
    runs = [find_critical_points(pb, n_starts=30, seed=s) for s in (0, 1)]
    for classes in runs:
        assert all(cp.grad_norm < 1e-10 for c in classes for cp in c.points)
        assert [c.risk for c in classes] == sorted(c.risk for c in classes)
    a, b = runs
    assert len(a) == len(b) >= 4
    for ca, cb in zip(a, b):
        assert np.max(np.abs(ca.values - cb.values)) < 1e-6
        assert ca.risk == pytest.approx(cb.risk, rel=1e-9)
        assert ca.description == cb.description
    # the lowest class is the best single hinge, found independently
    assert a[0].risk == pytest.approx(best_hinge_risk(pb), rel=1e-6)
    assert "hinge" in a[0].description
    # the best constant is the mean of the target and is among the critical realisations
    const = [c for c in a if c.description.startswith("constant")]
    assert len(const) == 1
    mean = quad(pb.target, pb.a, pb.b, points=[-0.3, 0.4])[0] / (pb.b - pb.a)
    np.testing.assert_allclose(const[0].values, mean, atol=1e-9)
    table = format_table(a)
    assert table.count("\n") == len(a)


def test_newton_starts_find_a_saddle_the_flows_miss():
    pb = ReLU1D(width=1)
    classes = find_critical_points(pb, n_starts=0, newton_starts=60, seed=5)
    assert any(cp.index > 0 for c in classes for cp in c.points)
    p, gn = polish(pb, classes[0].representative.p)
    assert gn < 1e-12


def test_data_homotopy_tracks_to_a_critical_point():
    from pathtrack import track
    pb = ReLU1D(width=1)
    r = track(pb)
    assert r.status is Status.success and r.lam_end == 1.0
    assert np.all(r.metrics["grad_norm"] < 1e-6)
    p, gn = polish(pb, r.p_end)
    assert gn < 1e-12
    assert pb.loss(p, 1.0) == pytest.approx(best_hinge_risk(pb), rel=1e-6)  # this start ends at the global minimum


def test_registered_as_plugin():
    from pathtrack.registry import make_problem
    pb = make_problem("relu1d", width=2, target="abs")
    assert isinstance(pb, ReLU1D) and pb.n_params == 7
    assert isinstance(TARGETS["zigzag"], PiecewiseLinear)


def test_balanced_representative_keeps_the_function():
    pb = ReLU1D(width=3)
    p = pb.random_params(np.random.default_rng(2), 2.0)
    q = pb.balanced(p)
    x = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(pb.realisation(q, x), pb.realisation(p, x), atol=1e-12)
    w, b, v, _ = pb.unpack(q)
    np.testing.assert_allclose(w ** 2 + b ** 2, v ** 2, rtol=1e-12)


def test_landscape_slice_and_realisation_plot(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from pathtrack_problems.relu1d.plots import landscape_slice, plot_critical_realisations, plot_slice
    pb = ReLU1D(width=1)
    rng = np.random.default_rng(0)
    pa, pb_ = pb.random_params(rng), pb.random_params(rng)
    s, risk = landscape_slice(pb, pa, pb_, s=[0.0, 0.5, 1.0])
    assert risk[0] == pytest.approx(pb.loss(pa, 1.0)) and risk[2] == pytest.approx(pb.loss(pb_, 1.0))
    assert risk[1] == pytest.approx(pb.loss(0.5 * (pa + pb_), 1.0))
    ax = plot_slice(*landscape_slice(pb, pa, pb_))
    classes = find_critical_points(pb, n_starts=3, seed=0)
    ax2 = plot_critical_realisations(pb, classes)
    assert len(ax2.lines) == 1 + len(classes)
    ax.figure.savefig(tmp_path / "slice.png")


def _hinge_root_scan(pb, n_grid: int = 400):
    """Width-1 critical realisations by an independent route: for a hinge ``c + σ max(±(x − k), 0)`` the
    values (c, σ) at fixed kink k are the least-squares fit (stationarity in c and σ), which leaves one
    equation in k: the error integrates to zero on the flat side. Scan it for sign changes, refine by
    Brent, and add the best affine and constant functions. Risks on a composite Gauss grid of its own."""
    from scipy.optimize import brentq

    xi, wi = np.polynomial.legendre.leggauss(4)

    def grid(lo, hi):
        cuts = np.unique(np.concatenate([[lo, hi], pb.knots[(pb.knots > lo) & (pb.knots < hi)]]))
        x = (0.5 * (cuts[:-1] + cuts[1:])[:, None] + 0.5 * np.diff(cuts)[:, None] * xi).ravel()
        return x, (0.5 * np.diff(cuts)[:, None] * wi).ravel()

    def fit(basis):
        x, w = (np.concatenate(t) for t in zip(grid(pb.a, k_[0]), grid(k_[0], pb.b)))
        A = np.column_stack([np.ones_like(x)] + [g(x) for g in basis])
        coef = np.linalg.lstsq(A * np.sqrt(w)[:, None], pb.target(x) * np.sqrt(w), rcond=None)[0]
        e = A @ coef - pb.target(x)
        return coef, float(w @ (e * e)) / (pb.b - pb.a)

    k_ = [0.0]
    out = []
    for side in (1.0, -1.0):
        def flat_side_error(k):
            k_[0] = k
            coef, _ = fit([lambda x: np.maximum(side * (x - k), 0.0)])
            x, w = grid(pb.a, k) if side > 0 else grid(k, pb.b)
            return float(w @ (coef[0] - pb.target(x)))

        ks = np.linspace(pb.a, pb.b, n_grid + 2)[1:-1]
        vals = np.array([flat_side_error(k) for k in ks])
        for i in np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]:
            k = brentq(flat_side_error, ks[i], ks[i + 1], xtol=1e-14)
            k_[0] = k
            coef, risk = fit([lambda x: np.maximum(side * (x - k), 0.0)])
            if abs(coef[1]) > 1e-9:  # σ = 0 realises the constant, counted below
                out.append(("hinge", k, risk))
    k_[0] = 0.5 * (pb.a + pb.b)
    out.append(("affine", np.nan, fit([lambda x: x])[1]))
    out.append(("constant", np.nan, fit([])[1]))
    return sorted(out, key=lambda t: t[2])


@pytest.mark.slow
def test_h1_enumeration_matches_an_independent_root_scan_in_the_kink():
    """The enumeration (flows + Newton, 260 starts) and the one-equation reduction find the same
    realisations: same number, same kinds, kinks to 1e-6 and risks to 1e-9."""
    pb = ReLU1D(width=1)
    scan = _hinge_root_scan(pb)
    classes = find_critical_points(pb, n_starts=60, newton_starts=200, seed=0)
    assert len(classes) == len(scan) == 6
    for (kind, k, risk), cls in zip(scan, classes):
        assert cls.description.split()[0] == kind
        assert cls.risk == pytest.approx(risk, abs=1e-9)
        if kind == "hinge":
            assert pb.kinks(cls.representative.p)[0] == pytest.approx(k, abs=1e-6)
