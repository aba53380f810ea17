"""The Cauchy endgame starts its loops where the path is in its Puiseux series' regime, wherever that begins."""

import numpy as np
import pytest

from pathtrack.polynomial import SolveOptions, solve
from pathtrack.polynomial.solver import AT_INFINITY
from pathtrack.status import Status


def small_coefficient_system(eq_exp10=(0, 0)):
    """``0.001·x^2 = 0, y^2 = 1``, equations times ``10**eq_exp10``: double roots (0, ±1). The homotopy
    from ``x^2 - 1`` has a branch point at ``|1 - t| ≈ 0.001·10**eq_exp10[0]``: the series of the
    paths converge only below it."""
    a, b = (10.0 ** k for k in eq_exp10)
    return [f"{1e-3 * a!r}*x^2", f"{b!r}*y^2 - {b!r}"]


def assert_double_roots(res):
    assert res.n_failed == 0 and res.is_complete
    assert (res.path_status == int(Status.success)).all()
    assert res.n_regular == 0 and res.multiplicities.tolist() == [2, 2]
    sols = res.singular_solutions
    assert np.abs(sols[:, 0]).max() < 1e-8
    assert sorted(np.round(sols[:, 1].real, 8).tolist()) == [-1.0, 1.0]
    assert np.abs(sols[:, 1].imag).max() < 1e-8


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_small_coefficient_unscaled_ends_at_the_double_roots(seed):
    # seed 1 puts the branch point 7e-5 off the real segment of t: on the way the valuation of x_0
    # rose 0.008, 0.042, 0.162 and was taken for a path to infinity; every path failed
    res = solve(small_coefficient_system(), seed=seed, options=SolveOptions(scaling=False), progress=False)
    assert_double_roots(res)
    assert "n_scaling_retry" not in res.counters


@pytest.mark.parametrize("eq_exp10", [(-3, 0), (-2, 4), (3, -4), (6, 0)])
def test_rescaled_equations_end_at_the_double_roots(eq_exp10):
    # (-3, 0): the branch point at |1 - t| ≈ 1e-6, the regime below about 1e-7
    res = solve(small_coefficient_system(eq_exp10), seed=1, options=SolveOptions(scaling=False), progress=False)
    assert_double_roots(res)


def test_no_regime_above_the_smallest_radius_is_its_own_status():
    # the regime begins below 1 - t ≈ 0.001: not reached when the endgame may not go below 2e-3
    opts = SolveOptions(scaling=False, min_endgame_radius=2e-3, max_retracks=0)
    res = solve(small_coefficient_system(), seed=1, options=opts, progress=False)
    assert (res.path_status == int(Status.no_endgame_regime)).all()
    assert res.n_failed == 4 and not res.is_complete
    assert "min_endgame_radius" in Status.no_endgame_regime.message


def test_paths_at_infinity_end_near_it():
    # the endgame calls these paths infinite from the valuation of x_0 at |x_0|/|x| up to 0.17; the
    # tail in s takes them on to about 2e-7, and that is the endpoint reported
    res = solve("cyclic:5", seed=1, workers=1, progress=False)
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (70, 50, 0)
    ends = res.path_endpoints[res.path_kind == AT_INFINITY]
    assert (np.abs(ends[:, 0]) <= 1e-3 * np.linalg.norm(ends, axis=1)).all()
