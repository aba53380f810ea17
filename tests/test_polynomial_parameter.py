"""Parameter homotopies: ParametrizedSystem, the compiled parameter kernel, track_parameters."""

import numpy as np
import pytest

from pathtrack.polynomial import (REGULAR, ParametrizedSystem, as_parametrized, parse_system, random_parameters,
                                  solve, start_points, track_parameters)
from pathtrack.polynomial.kernels import track_parameter_batch
from pathtrack.polynomial.solver import SolveOptions
from pathtrack.status import Status


def _same_rows(a, b, tol=1e-8):
    """Every row of ``a`` matches a distinct row of ``b`` (and the counts agree)."""
    assert len(a) == len(b)
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    assert (d.min(axis=1) < tol).all() and (d.min(axis=0) < tol).all()


def test_specialisation_and_packing_agree_with_the_joint_system():
    ps = as_parametrized("x^2*a + b*x*y - 3*a^2*y; y^2 - a*b + x", ["a", "b"])
    assert ps.variables == ("x", "y") and ps.parameters == ("a", "b") and ps.degrees.tolist() == [2, 2]
    rng = np.random.default_rng(0)
    x, q = rng.standard_normal(2) + 1j * rng.standard_normal(2), rng.standard_normal(2) + 0.5j
    value = dict(zip(("x", "y", "a", "b"), [*x, *q]))
    assert ps.joint.variables == ("x", "a", "b", "y")  # order of appearance
    joint = ps.joint.evaluate([value[v] for v in ps.joint.variables])
    np.testing.assert_allclose(ps.at(q).evaluate(x), joint, rtol=1e-13)
    # the packed form: coefficient polynomial k belongs to homogeneous monomial k
    from pathtrack.polynomial.kernels import eval_system_alloc

    pk = ps.packed()
    cval, _ = eval_system_alloc(q, *pk.coefficients.arrays(), pk.coefficients.max_exp)
    val, _ = eval_system_alloc(np.r_[1.0, x], cval, *pk.monomials, pk.max_exp)
    np.testing.assert_allclose(val, joint, rtol=1e-13)
    assert ps.affine_in_parameters() is False
    assert as_parametrized("x - a; y^2 - b*x", ["a", "b"]).affine_in_parameters() is True


@pytest.mark.parametrize("q1", [2.0 + 1.0j, -3.0, 0.25j])
def test_square_roots_tracked_to_each_target(q1):
    q0 = 1.0 + 0.5j  # complex: the segment to a real target misses the branch point q = 0
    s = np.sqrt(q0)
    res = track_parameters("x^2 - q;", [[s], [-s]], [q0], [q1], parameters=["q"], workers=1)
    r = np.sqrt(complex(q1))
    assert res.status == Status.success and res.n_regular == 2
    _same_rows(res.solutions, np.array([[r], [-r]]))


def test_segment_through_a_branch_point_fails_with_a_status():
    # q from 1 to -3 along the reals passes q = 0, where the two roots meet: the paths fail
    # (re-tracked, still failing) instead of returning wrong roots
    res = track_parameters("x^2 - q;", [[1.0], [-1.0]], [1.0], [-3.0], parameters=["q"], workers=1)
    assert res.n_regular + res.n_failed == 2 and res.n_failed > 0 and not res.is_complete
    assert res.status.is_failure


def test_two_by_two_closed_form():
    # x^2 + y^2 = a, x = b·y: y = ±sqrt(a / (1 + b^2)), x = b·y
    ps = as_parametrized("x^2 + y^2 - a; x - b*y", "a, b")
    q0 = random_parameters(2, seed=1)
    start = solve(ps.at(q0), workers=1)
    assert start.n_regular == 2
    for q1 in ([5.0, 2.0], [1.0 + 1j, -0.5], [-2.0, 3.0j]):
        res = track_parameters(ps, start, q0, q1, workers=1)
        a, b = complex(q1[0]), complex(q1[1])
        y = np.sqrt(a / (1 + b * b))
        _same_rows(res.solutions, np.array([[b * y, y], [-b * y, -y]]))


def test_start_at_q0_zero_binomial_system():
    # A polyhedral-style homotopy with one parameter t: the terms without t form a binomial system
    # (x^2 = 2, y^3 = 5), solved in closed form; the others carry powers of t and random complex
    # coefficients (so no two paths meet for real t). q0 = 0 -> q1 = 1.
    ps = as_parametrized("x^2 - 2 + t*((0.7+0.3*i)*x*y + (1.1-0.8*i)*y);"
                         "y^3 - 5 + t^2*((0.4+1.2*i)*x + (-0.6+0.5*i)*x*y^2) - (0.9+0.2*i)*t*x*y", ["t"])
    starts = np.array([[s * np.sqrt(2), 5 ** (1 / 3) * np.exp(2j * np.pi * k / 3)] for s in (1, -1)
                       for k in range(3)])
    assert np.abs([ps.at([0.0]).evaluate(x) for x in starts]).max() < 1e-12
    res = track_parameters(ps, starts, [0.0], [1.0], workers=1)
    target = ps.at([1.0])
    fresh = solve(target, seed=2, workers=1)
    assert res.n_failed == 0 and res.n_regular == fresh.n_regular
    _same_rows(res.solutions, fresh.solutions, tol=1e-7)
    assert np.sum(res.path_kind == REGULAR) + res.n_at_infinity == 6


def test_kernel_tracks_each_row_to_its_own_target():
    ps = as_parametrized("x^2 - q;", ["q"])
    pk, coef = ps.packed(), ps.packed().coefficients
    patch = np.array([0.6 + 0.2j, 0.3 - 0.7j])
    r = np.sqrt(1j)
    starts = np.array([[1.0, r], [1.0, -r], [1.0, r]], dtype=complex)
    starts /= (starts @ patch)[:, None]
    Q0 = np.full((3, 1), 1j)
    # segments from q = i in the closed upper half plane: the principal square root continues along them
    Q1 = np.array([[4.0], [9.0], [-1.0]], dtype=complex)
    ends, codes, *_ = track_parameter_batch(starts, Q0, Q1, pk.monomials, coef.arrays(), coef.max_exp, patch,
                                            SolveOptions().to_array(), pk.max_exp)
    assert (codes == int(Status.success)).all()
    np.testing.assert_allclose(ends[:, 1] / ends[:, 0], [2.0, -3.0, 1j], atol=1e-10)


def test_bad_parameters_and_starts_name_the_input():
    ps = as_parametrized("x^2 - q;", ["q"])
    with pytest.raises(ValueError, match="q1: expected 1 value"):
        track_parameters(ps, [[1.0]], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="q0: parameters must be finite"):
        track_parameters(ps, [[1.0]], [np.nan], [1.0])
    with pytest.raises(ValueError, match="1 coordinates"):
        start_points(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="not finite"):
        start_points([[np.nan]], 1)
    with pytest.raises(ValueError, match="do not occur"):
        as_parametrized("x^2 - q;", ["p"])
    with pytest.raises(ValueError, match="name the parameters"):
        as_parametrized("x^2 - q;")
    with pytest.raises(ValueError, match=r"start solution\(s\) \[1\] do not solve"):
        track_parameters(ps, [[1.0], [0.5]], [1.0], [2.0])
    with pytest.raises(ValueError, match="square"):
        track_parameters("x^2 - q*y;", [[1.0, 1.0]], [1.0], [2.0], parameters=["q"])
    assert isinstance(ParametrizedSystem(parse_system("x - a"), ("a",)), ParametrizedSystem)
