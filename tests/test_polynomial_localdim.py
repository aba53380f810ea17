"""Singular endpoints: isolated multiple roots against points of positive-dimensional components."""

import numpy as np

from pathtrack.polynomial import parse_polynomials, solve
from pathtrack.polynomial.localdim import local_dimension


def test_solve_separates_a_line_of_solutions_from_isolated_roots():
    # x = 0 is a line of solutions; off it, y = 1 and x = 2 (a double root) or x = 3 (regular)
    res = solve(parse_polynomials(["x*y - x", "x*(x-2)^2*(x-3)"]), seed=0, workers=1)
    assert (res.n_paths, res.n_regular, res.n_failed, res.n_at_infinity) == (8, 1, 0, 0)
    np.testing.assert_allclose(res.solutions[0], [3, 1], atol=1e-10)
    isolated = res.singular_dimension == 0
    assert isolated.sum() == 1 == res.n_isolated_singular
    np.testing.assert_allclose(res.singular_solutions[isolated][0], [2, 1], atol=1e-6)
    assert res.multiplicities[isolated].tolist() == [2]
    on_line = res.singular_solutions[res.singular_dimension == 1]
    assert len(on_line) == res.n_positive_dimensional == res.n_singular - 1 >= 1
    assert np.abs(on_line[:, 0]).max() < 1e-8
    summary = res.summary(with_solutions=True)
    assert (summary["n_isolated_singular"], summary["n_positive_dimensional"]) == (1, res.n_singular - 1)
    assert summary["singular_dimension"] == res.singular_dimension.tolist()
    assert "on positive-dimensional components" in repr(res)


def test_local_dimension_of_a_plane_a_double_line_and_isolated_roots():
    plane = parse_polynomials(["x*y", "x*z", "x*(x-1)"])  # the plane x = 0 and the point (1, 0, 0)
    pts = np.array([[0, 0.3 + 0.2j, -0.7j], [1, 0, 0]])
    assert local_dimension(plane, pts).tolist() == [2, 0]
    # x^2 = 0 is the line x = 0 counted twice: the Jacobian vanishes there, Newton converges linearly
    double_line = parse_polynomials(["x^2", "x^2*y - x^2"])
    assert local_dimension(double_line, np.array([[1e-9, 0.5 + 0.5j]])).tolist() == [1]
    # isolated roots of multiplicity 2 and 3: the moved slices miss the solutions
    assert local_dimension(parse_polynomials(["x^2 + y^2", "y - x^2"]), np.zeros((1, 2))).tolist() == [0]
    assert local_dimension(parse_polynomials(["x^3", "y + x"]), np.zeros((1, 2))).tolist() == [0]


def test_too_few_paths_for_the_corank_put_a_point_on_a_component():
    # x^2 = y^2 = 0: an isolated root of multiplicity 4 whose Jacobian vanishes (corank 2)
    square = parse_polynomials(["x^2", "y^2"])
    origin = np.zeros((1, 2))
    assert local_dimension(square, origin, multiplicity=np.array([4])).tolist() == [0]
    # two paths cannot end at an isolated root of corank 2 (multiplicity >= 3): a component's point
    assert local_dimension(square, origin, multiplicity=np.array([2])).tolist() == [1]
    # a double root of corank 1 keeps its label with its two paths
    double = parse_polynomials(["x^2 + y^2", "y - x^2"])
    assert local_dimension(double, origin, multiplicity=np.array([2])).tolist() == [0]


def test_solve_keeps_an_isolated_root_of_corank_two():
    res = solve(parse_polynomials(["x^2 - y^3", "y^2 + x*y^2"]), seed=0, workers=1)
    isolated = res.singular_dimension == 0
    assert res.n_failed == 0 and res.n_isolated_singular == isolated.sum() >= 1
    at_origin = np.abs(res.singular_solutions[isolated]).max(axis=1) < 1e-4
    assert at_origin.sum() == 1
    assert res.multiplicities[isolated][at_origin].tolist() == [4]  # 1, x, y, xy


#: PHCpack's reduced cyclic 8-roots system (7 equations; y_i = x_{i+1}/x_1 of cyclic 8).
REDCYC8 = [
    "1 + y1 + y2 + y3 + y4 + y5 + y6 + y7",
    "y1 + y1*y2 + y2*y3 + y3*y4 + y4*y5 + y5*y6 + y6*y7 + y7",
    "y1*y2 + y1*y2*y3 + y2*y3*y4 + y3*y4*y5 + y4*y5*y6 + y5*y6*y7 + y6*y7 + y7*y1",
    "y1*y2*y3 + y1*y2*y3*y4 + y2*y3*y4*y5 + y3*y4*y5*y6 + y4*y5*y6*y7 + y5*y6*y7 + y6*y7*y1 + y7*y1*y2",
    "y1*y2*y3*y4 + y1*y2*y3*y4*y5 + y2*y3*y4*y5*y6 + y3*y4*y5*y6*y7 + y4*y5*y6*y7 + y5*y6*y7*y1"
    " + y6*y7*y1*y2 + y7*y1*y2*y3",
    "y1*y2*y3*y4*y5 + y1*y2*y3*y4*y5*y6 + y2*y3*y4*y5*y6*y7 + y3*y4*y5*y6*y7 + y4*y5*y6*y7*y1"
    " + y5*y6*y7*y1*y2 + y6*y7*y1*y2*y3 + y7*y1*y2*y3*y4",
    "y1*y2*y3*y4*y5*y6 + y1*y2*y3*y4*y5*y6*y7 + y2*y3*y4*y5*y6*y7 + y3*y4*y5*y6*y7*y1"
    " + y4*y5*y6*y7*y1*y2 + y5*y6*y7*y1*y2*y3 + y6*y7*y1*y2*y3*y4 + y7*y1*y2*y3*y4*y5",
]


def test_local_dimension_where_components_cross():
    # With only y3 and y5 (or y3 and y6) nonzero every equation of reduced cyclic 8 but the first
    # vanishes: the lines y3 + y5 = -1 and y3 + y6 = -1 are solutions, and other components cross
    # them (corank 4 there). Gauss-Newton from such a point onto a slice at the full offset stalls
    # at residuals of 1e-6 to 1e-4 for most one-hyperplane slices, and the test used to stop at the
    # first dimension it missed: solve("redcyc8", seed=0) called six such points isolated.
    system = parse_polynomials(REDCYC8)
    pts = np.zeros((4, 7), dtype=complex)
    pts[0, 2], pts[0, 4] = -0.292581 + 0.011586j, -0.707419 - 0.011586j  # redcyc8 seed 0's endpoints
    pts[1, 2], pts[1, 4] = -0.707419 - 0.011586j, -0.292581 + 0.011586j
    pts[2, 2], pts[2, 5] = -0.152336 + 0.074462j, -0.847664 - 0.074462j
    pts[3, 3] = -1.0  # on the plane y1 = y3 = y5 = y7 = 0, 1 + y2 + y4 + y6 = 0 (corank 5)
    for x in pts:
        np.testing.assert_allclose(system.evaluate(x), 0, atol=1e-12)
    for seed in range(4):
        assert (local_dimension(system, pts, seed=seed) >= 1).all(), seed

