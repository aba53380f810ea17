"""Built-in plugins: analytic derivatives agree with autograd; validation names the plugin."""

import numpy as np
import pytest

from pathtrack import Problem, ProblemError, StartPoint
from pathtrack.problem import check_problem, RealSystem
from pathtrack.registry import available, make_problem

BUILTIN = ["bratu1d", "ellipse", "pitchfork", "linear-complex", "rossler", "ab-reaction"]


def _autograd_twin(problem):
    """The same problem with its analytic derivatives hidden, so autograd supplies them."""

    class Twin(Problem):
        dtype = problem.dtype
        holomorphic = problem.holomorphic

        def H(self, p, lam):
            return problem.H(p, lam)

    twin = Twin()
    twin.name = problem.name + "-autograd"
    return twin


def _points(problem, rng):
    p0, lam0 = problem.start()
    for scale in (0.0, 0.3, 1.0):
        p = p0 + scale * rng.standard_normal(p0.shape)
        if np.iscomplexobj(p0):
            p = p + 1j * scale * rng.standard_normal(p0.shape)
        yield p, lam0 + 0.37 * scale


def test_builtins_are_registered():
    assert set(BUILTIN) <= set(available())


@pytest.mark.parametrize("name", BUILTIN)
def test_autograd_matches_analytic_derivatives(name):
    problem = make_problem(name)
    twin = _autograd_twin(problem)
    assert problem.has("dH_dp") and problem.has("dH_dlam") and not twin.has("dH_dp")
    rng = np.random.default_rng(1)
    for p, lam in _points(problem, rng):
        np.testing.assert_allclose(twin.dH_dp(p, lam), problem.dH_dp(p, lam), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(twin.dH_dlam(p, lam), problem.dH_dlam(p, lam), rtol=1e-8, atol=1e-10)
        v = rng.standard_normal(p.shape).astype(p.dtype)
        np.testing.assert_allclose(problem.jvp(p, lam, v), problem.dH_dp(p, lam) @ v, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(twin.jvp(p, lam, v), problem.dH_dp(p, lam) @ v, rtol=1e-8, atol=1e-10)


def test_complex_real_view_jacobian_matches_finite_differences():
    problem = make_problem("linear-complex", n=3)
    sysm = RealSystem(problem, 3)
    p, lam = problem.start()
    y = sysm.to_y(p, lam)
    J = sysm.jacobian(y)
    eps = 1e-7
    fd = np.column_stack([(sysm.F(y + eps * e) - sysm.F(y - eps * e)) / (2 * eps) for e in np.eye(len(y))])
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-6)


class _BadShape(Problem):
    name = "bad-shape"

    def H(self, p, lam):
        return np.append(p, lam)

    def start(self):
        return StartPoint(np.zeros(2), 0.0)


class _BadJacobian(Problem):
    name = "bad-jacobian"

    def H(self, p, lam):
        return p - lam

    def dH_dp(self, p, lam):
        return np.eye(3)

    def start(self):
        return StartPoint(np.zeros(2), 0.0)


@pytest.mark.parametrize("cls, match", [(_BadShape, r"'bad-shape'.*H must return shape \(2,\)"),
                                        (_BadJacobian, r"'bad-jacobian'.*dH_dp must return shape \(2, 2\)")])
def test_validation_names_plugin_and_problem(cls, match):
    pb = cls()
    with pytest.raises(ProblemError, match=match):
        check_problem(pb, pb.start())


def test_unknown_parameter_is_an_error():
    with pytest.raises(ProblemError, match="unknown parameter.*'m'.*valid: n, lam_min, lam_max"):
        make_problem("bratu1d", m=3)


def test_start_p_must_be_one_dimensional():
    from pathtrack.driver import track
    from pathtrack_problems.bratu import Bratu1D
    with pytest.raises(ProblemError, match="1-D"):
        track(Bratu1D(n=4), p0=np.zeros((2, 2)), lam0=0.05)
