"""The gradient-flow driver: stationarity, records like the tracker's, Hessian index, rate fits."""

import numpy as np
import pytest

from pathtrack import Problem, Status
from pathtrack.driver import Recorder
from pathtrack.flow import gradient_flow


class Quadratic(Problem):
    """L(p) = ½ (p − c)ᵀ A (p − c) with A = Q diag(mu) Qᵀ: convex, minimiser c, stiff when mu spreads."""

    name = "quadratic"
    is_gradient = True

    def __init__(self, mu=(1e-1, 1.0, 10.0, 1e3), seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.normal(size=(len(mu), len(mu))))
        self.mu = np.asarray(mu, dtype=float)
        self.A = q @ np.diag(self.mu) @ q.T
        self.c = rng.normal(size=len(mu))

    def loss(self, p, lam):
        d = p - self.c
        return 0.5 * d @ self.A @ d

    def H(self, p, lam):
        return self.A @ (p - self.c)

    def dH_dp(self, p, lam):
        return self.A


class Quartic1D(Problem):
    """L(p) = p⁴: degenerate minimum; p(t) = p0 / sqrt(1 + 8 p0² t), so L ~ 1/(64 t²)."""

    name = "quartic1d"
    is_gradient = True

    def loss(self, p, lam):
        return float(p[0] ** 4)

    def H(self, p, lam):
        return np.array([4 * p[0] ** 3])

    def dH_dp(self, p, lam):
        return np.array([[12 * p[0] ** 2]])


class Saddle(Problem):
    """L(x, y) = x² − y² + y⁴: minima at y = ±1/√2, a saddle (index 1) at the origin."""

    name = "saddle"
    is_gradient = True

    def loss(self, p, lam):
        import autograd.numpy as anp
        return p[0] ** 2 - p[1] ** 2 + p[1] ** 4 + 0 * anp.sum(p)


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA"])
def test_flow_reaches_minimiser_of_stiff_quadratic(method):
    pb = Quadratic()
    r = gradient_flow(pb, np.zeros(4), method=method, gtol=1e-8)
    assert r.status is Status.success and r.end_reason == "grad_tol"
    assert r.grad_norm[-1] < 1e-8
    np.testing.assert_allclose(r.p_final, pb.c, atol=1e-7)
    assert r.hessian_index == 0
    np.testing.assert_allclose(np.sort(r.hessian_eigs), pb.mu, rtol=1e-10)
    assert np.all(np.diff(r.risk) <= 1e-14)  # the risk never increases along the flow
    # stiffness: an implicit method needs far fewer steps than the 1e3/1e-1 time-scale ratio would force
    assert len(r.t) < 2000


def test_flow_records_are_tracker_step_records():
    pb = Quadratic()
    rec = Recorder()

    class Finish(Recorder):
        def on_finish(self, tracker):
            self.final = (tracker.state.status, tracker.state.end_reason, tracker.state.lam)

    fin = Finish()
    r = gradient_flow(pb, np.zeros(4), observers=[rec, fin])
    np.testing.assert_array_equal(np.asarray(rec.cols["lam"]), r.t)
    np.testing.assert_allclose(np.asarray(rec.metrics["risk"]), r.risk)
    np.testing.assert_allclose(np.asarray(rec.metrics["grad_norm"]), r.grad_norm)
    np.testing.assert_allclose(np.array(rec.p), r.p)
    assert np.array(rec.tangent).shape == (len(r.t), 5)  # (p, t) like the tracker's (x, lam)
    np.testing.assert_allclose(np.linalg.norm(np.array(rec.tangent), axis=1), 1.0)
    assert rec.cols["s"][-1] > 0 and np.all(np.diff(rec.cols["s"]) >= 0)
    assert fin.final == (Status.success, "grad_tol", r.t[-1])


def test_exponential_rate_is_twice_smallest_eigenvalue():
    pb = Quadratic(mu=(0.5, 2.0, 8.0))
    r = gradient_flow(pb, np.zeros(3), gtol=1e-9, rtol=1e-10, atol=1e-14)
    fit = r.rate("exp")
    assert fit.rate == pytest.approx(1.0, rel=0.03)  # 2 * mu_min
    assert fit.r2 > 0.999


def test_power_rate_of_degenerate_minimum():
    r = gradient_flow(Quartic1D(), np.array([1.0]), gtol=1e-9, rtol=1e-10, atol=1e-14)
    assert r.converged
    assert r.grad_norm[-1] < 1e-9
    p_exact = 1.0 / np.sqrt(1 + 8 * r.t)
    np.testing.assert_allclose(r.p[:, 0], p_exact, rtol=1e-4)
    fit = r.rate("risk")  # limit risk is 0: no subtraction
    assert fit.rate == pytest.approx(2.0, abs=0.02)
    fit_excess = r.rate("power")  # the final risk stands in for the limit
    assert fit_excess.rate == pytest.approx(2.0, abs=0.1)


def test_flow_from_stable_manifold_stops_at_saddle_with_index_one():
    r = gradient_flow(Saddle(), np.array([1.0, 0.0]))
    assert r.converged
    np.testing.assert_allclose(r.p_final, [0.0, 0.0], atol=1e-8)
    assert r.hessian_index == 1
    r2 = gradient_flow(Saddle(), np.array([1.0, 0.1]))
    np.testing.assert_allclose(r2.p_final, [0.0, 1 / np.sqrt(2)], atol=1e-8)
    assert r2.hessian_index == 0


def test_t_max_and_bad_input():
    r = gradient_flow(Quadratic(), np.zeros(4), t_max=0.5)
    assert r.status is Status.max_steps_reached and r.end_reason == "t_max"
    assert r.t[-1] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="gradient"):
        gradient_flow(type("NotGrad", (Problem,), {"H": lambda self, p, lam: p})(), np.zeros(2))
    with pytest.raises(ValueError, match="method"):
        gradient_flow(Quadratic(), np.zeros(4), method="Euler")


def test_plot_risk_draws_trajectory_and_fit(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from pathtrack.flow import plot_risk
    pb = Quadratic(mu=(0.5, 2.0))
    r = gradient_flow(pb, np.zeros(2), gtol=1e-9, rtol=1e-10, atol=1e-14)
    fit = r.rate("exp")
    ax = plot_risk([r], ["quadratic"], fits=[fit])
    assert len(ax.lines) == 2
    x, y = ax.lines[1].get_data()
    np.testing.assert_allclose(y, fit.predict(x))
    ax.figure.savefig(tmp_path / "risk.png")
    assert (tmp_path / "risk.png").stat().st_size > 0
