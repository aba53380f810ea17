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


def _deep_rounds(deep_outcome):
    """``_track_and_classify`` on ``x^2 - 4`` with a fake tracker: path 0 reaches ``x = 2``, path 1 looks
    infinite at the first endgame radius; ``deep_outcome(radius)`` gives path 1's status in the
    deep round at that radius (success: at infinity). Returns the suspect mask and the radii
    tracked, with the rows of each."""
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import _NoBar, _StopFlag, _track_and_classify

    calls = []

    def track(rows, opt):
        radius = opt[k.O_EG_RADIUS]
        if opt[k.O_DIRECT_STEPS] > 0:  # a deep round, not a track that stops at 1 - t = radius
            calls.append((radius, rows.tolist()))
        deep = radius < 1e-3
        code = deep_outcome(radius) if deep else Status.success
        end1 = [1e-12, 1.0] if deep and code == Status.success else [1e-3, 1.0]
        ends = np.array([[1.0, 2.0], end1], dtype=np.complex128)[rows]
        codes = np.array([int(Status.success), int(code)])[rows]
        kinds = np.array([k.END_DIRECT, k.END_INFINITY if code == Status.success else k.END_CAUCHY])[rows]
        ones = np.ones(len(rows), dtype=np.int64)
        return ends, codes, kinds, ones, ones.copy(), np.zeros(len(rows))

    starts = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=np.complex128)
    out = _track_and_classify([(parse_system("x^2 - 4;"), np.arange(2))], starts, SolveOptions(), _StopFlag(),
                              _NoBar(), track)
    return out[9], [(r, rows) for r, rows in calls if r < 1e-3]


def test_no_regime_in_a_deep_round_is_judged_by_the_next_one():
    # no regime down to 1e-11, at infinity from 1e-10: not suspect (it was, cyclic:7's 322 suspects)
    suspect, rounds = _deep_rounds(lambda r: Status.no_endgame_regime if r > 1e-9 else Status.success)
    assert not suspect.any() and [rows for _, rows in rounds] == [[1], [1]]
    assert rounds[1][0] == pytest.approx(1e-10)
    # no regime in any round (1e-8, 1e-10, 1e-12): suspect after the last
    suspect, rounds = _deep_rounds(lambda r: Status.no_endgame_regime)
    assert suspect.tolist() == [False, True] and len(rounds) == 3
    # a deep endgame that fails otherwise is suspect at once, with no deeper round
    suspect, rounds = _deep_rounds(lambda r: Status.ds_too_small)
    assert suspect.tolist() == [False, True] and len(rounds) == 1
