"""Endpoint classification that never miscounts silently: clusters of paths that look like one
multiple root, and suspect paths kept at infinity (issue 17, "no lost roots")."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pathtrack.polynomial import SolveOptions, parse_phc, read_phc, solve
from pathtrack.polynomial.kernels import END_DIRECT
from pathtrack.polynomial.solver import FAILED, REGULAR, SINGULAR, _classify, _headed_for_infinity, _split_clusters
from pathtrack.status import Status

CORPUS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "corpus")

# (x - 1)(x - 1 - h) with h = 2^-27 (about 7.5e-9, condition about 1e8, as rose's close pairs):
# coefficients exact in binary
H = 2.0**-27
PAIR = [f"x^2 - {2 + H!r}*x + {1 + H!r}", "y - 2"]


def _system(lines):
    return parse_phc(f"{len(lines)}\n" + "".join(f" {q};\n" for q in lines))


def _cluster(lines, point, m):
    """``_split_clusters`` on ``m`` paths that all ended at ``point``, as the endgame leaves them."""
    p = _system(lines).packed()
    refined = np.tile(np.asarray(point, dtype=np.complex128), (m, 1))
    res, conds = np.zeros(m), np.full(m, np.inf)
    jacs = np.zeros((m, 2, 2), dtype=np.complex128)
    regular = np.zeros(m, dtype=bool)
    split, lost = _split_clusters(refined, res, jacs, conds, regular, p, SolveOptions())
    return refined, regular, split, lost


def test_regular_roots_1e8_apart_are_two_regular_roots():
    res = solve(PAIR, seed=0, workers=1)
    assert (res.n_regular, res.n_singular, res.n_failed) == (2, 0, 0)
    np.testing.assert_allclose(np.sort(res.solutions[:, 0].real), [1.0, 1.0 + H], rtol=0, atol=1e-12)


def test_pair_cluster_splits_into_both_roots_from_its_midpoint():
    refined, regular, split, lost = _cluster(PAIR, [1.0 + H / 2, 2.0], 2)
    assert regular.all() and split.all() and not lost.any()
    np.testing.assert_allclose(np.sort(refined[:, 0].real), [1.0, 1.0 + H], rtol=0, atol=1e-15)


def test_three_paths_at_two_regular_roots_leave_one_path_lost_not_a_simple_singular_point():
    refined, regular, split, lost = _cluster(PAIR, [1.0 + H / 2, 2.0], 3)
    assert regular.sum() == 2 and split.sum() == 2 and lost.sum() == 1
    assert not (lost & regular).any()


def test_true_multiple_roots_stay_one_singular_point():
    for lines, m in ((["x^2 - 2*x + 1", "y - 2"], 2), (["x^3 - 3*x^2 + 3*x - 1", "y - 2"], 3)):
        refined, regular, split, lost = _cluster(lines, [1.0 + 1e-9, 2.0], m)
        assert not regular.any() and not split.any() and not lost.any()
        res = solve(lines, seed=0, workers=1)
        assert (res.n_regular, res.n_failed) == (0, 0)
        assert res.multiplicities.tolist() == [m]


def test_positive_dimensional_component_is_not_split_into_regular_roots():
    # the line x = 0 solves x*y = 0, x*(y - 1) = 0: Newton lands on it anywhere, at no regular root
    res = solve(["x*y", "x*(y - 1)"], seed=0, workers=1)
    assert res.n_regular == 0
    refined, regular, split, lost = _cluster(["x*y", "x*(y - 1)"], [1e-9, 0.3], 2)
    assert not regular.any() and not lost.any()


def test_suspect_endpoints_kept_at_infinity_only_where_no_root_is_lost():
    # x*y - 1 = 0, x*y + x - 3 = 0: top-degree forms x*y vanish at the points at infinity (0:1:0), (0:0:1)
    work = _system(["x*y - 1", "x*y + x - 3"])
    eps = 1e-3
    at_inf = np.array([[eps, 1.0, 1e-4], [eps, 1e-4, 1.0]], dtype=np.complex128)
    assert _headed_for_infinity(work, at_inf, np.empty((0, 2), np.complex128), SolveOptions()).all()
    # a regular root of norm 1e3, (1000, 1): as close to infinity by |x_0|, but Newton reaches it
    far = _system(["x - 1000", "x*y - 1000"])
    end = np.array([[1.0, 1000.0 + 1e-3, 1.0]]) / np.linalg.norm([1.0, 1000.0, 1.0])
    assert not _headed_for_infinity(far, end.astype(np.complex128), np.empty((0, 2), np.complex128),
                                    SolveOptions()).any()
    # ... unless another path reached that root already: then nothing is lost
    assert _headed_for_infinity(far, end.astype(np.complex128), np.array([[1000.0, 1.0]], np.complex128),
                                SolveOptions()).all()
    # an endpoint off infinity where the top-degree forms do not vanish is no path to infinity
    assert not _headed_for_infinity(work, np.array([[0.01, 0.7, 0.7]], np.complex128),
                                    np.empty((0, 2), np.complex128), SolveOptions()).any()


def _classified(lines, points, winding):
    """``_classify`` of paths that ended (successfully, directly) at the affine ``points``."""
    ends = np.hstack([np.ones((len(points), 1)), np.asarray(points, dtype=float)]).astype(np.complex128)
    n = len(points)
    return _classify(_system(lines), ends, np.full(n, int(Status.success)), np.full(n, END_DIRECT),
                     np.asarray(winding), SolveOptions())


def test_lone_path_with_winding_2_at_a_simple_root_is_that_regular_root():
    # x^2 = 4, y = 3x: two simple roots, well conditioned. A lone path that the endgame gave winding
    # number 2 cannot have reached a double point: it is the regular root (2, 6), not "singular x1".
    c = _classified(["x^2 - 4", "y - 3*x"], [[2.0 + 1e-9, 6.0], [-2.0, -6.0]], [2, 1])
    assert c["kind"].tolist() == [REGULAR, REGULAR]
    assert len(c["singular"]) == 0 and len(c["unsolved"]) == 0
    np.testing.assert_allclose(sorted(c["regular"][:, 0].real), [-2.0, 2.0], rtol=0, atol=1e-15)


def test_path_with_winding_2_at_a_root_another_path_reached_is_failed_not_singular():
    c = _classified(["x^2 - 4", "y - 3*x"], [[2.0, 6.0], [2.0 + 1e-9, 6.0], [-2.0, -6.0]], [1, 2, 1])
    assert c["kind"].tolist() == [REGULAR, FAILED, REGULAR]
    assert c["unsolved"].tolist() == [1] and len(c["singular"]) == 0 and len(c["regular"]) == 2


def test_lone_path_at_a_double_root_is_never_made_regular():
    # (x - 1)^2 = 0 with the partner path missing: where the Jacobian is singular the point stays
    # singular; 1e-9 off it, where the row-scaled condition number is below max_cond, extended
    # precision finds no regular root there and the path is failed (re-tracked), not counted
    lines = ["x^2 - 2*x + 1", "y - 2"]
    c = _classified(lines, [[1.0, 2.0]], [2])
    assert c["kind"].tolist() == [SINGULAR] and c["multiplicity"].tolist() == [1]
    c = _classified(lines, [[1.0 + 1e-9, 2.0]], [2])
    assert c["kind"].tolist() == [FAILED] and c["unsolved"].tolist() == [0] and len(c["regular"]) == 0


@pytest.mark.slow
def test_rose_seed_4_close_pairs_split():
    # seed 4 left one of rose's four pairs of roots 1e-8 apart as a 'double root' (134 + 1, success)
    res = solve(read_phc(os.path.join(CORPUS, "rose.phc")), seed=4, workers=2)
    assert (res.n_regular, res.n_singular, res.n_failed) == (136, 0, 0)


@pytest.mark.slow
def test_discret3s_unscaled_seed_1_suspect_paths_settled_by_extended_newton():
    # unscaled, two paths fail near roots of norm 1.5e5 (cond 1e9 and more) that no other path reaches
    res = solve(read_phc(os.path.join(CORPUS, "discret3s.phc")), seed=1, workers=2,
                options=SolveOptions(scaling=False))
    assert (res.n_regular, res.n_singular, res.n_failed) == (128, 0, 0) and res.is_complete
    assert res.counters["n_suspect_infinity"] == 2 and res.counters["n_extended_precision"] == 2
