"""pathtrack.polynomial.solve: root counts of benchmark families, singular endpoints, crossings, HDF5 output."""

import json

import h5py
import numpy as np
import pytest

from pathtrack.polynomial import (AT_INFINITY, FAILED, REGULAR, SINGULAR, SolveOptions, parse_polynomials,
                                  solve, total_degree_start)


def _check_solutions(res, tol=1e-8):
    """Every reported regular solution solves F, is well conditioned, and appears once."""
    for x, r, c in zip(res.solutions, res.residuals, res.conds):
        assert np.linalg.norm(res.system.evaluate(x)) == pytest.approx(r, abs=1e-14)
        assert r < tol * (1 + np.linalg.norm(x))
        assert c < res.options.max_cond
    if res.n_regular > 1:
        d = np.linalg.norm(res.solutions[:, None, :] - res.solutions[None, :, :], axis=2)
        assert d[np.triu_indices(res.n_regular, 1)].min() > 1e-6


@pytest.mark.parametrize("n", [5, 6, 7])
def test_katsura_all_2n_regular(n):
    res = solve(f"katsura:{n}", seed=3)
    assert (res.n_paths, res.n_regular, res.n_singular, res.n_at_infinity, res.n_failed) == (2**n, 2**n, 0, 0, 0)
    _check_solutions(res)


# Fast families whose counts must not depend on the seed (gamma and patch); the slow ones
# (katsura:9/10, cyclic:7, noon:5, eco:8) are checked over seeds by bench_polynomial.py --seeds.
# (paths, regular, at infinity), regular counts as PHCpack's blackbox finds them.
FAST_FAMILIES = {"katsura:5": (32, 32, 0), "cyclic:5": (120, 70, 50), "noon:4": (81, 73, 8),
                 "eco:5": (54, 8, 46), "reimer:3": (24, 12, 12)}


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("spec", sorted(FAST_FAMILIES))
def test_fast_family_counts_stable_over_seeds(spec, seed):
    res = solve(spec, seed=seed)
    paths, regular, at_infinity = FAST_FAMILIES[spec]
    assert (res.n_paths, res.n_regular, res.n_singular, res.n_at_infinity, res.n_failed) == \
        (paths, regular, 0, at_infinity, 0)
    # every path accounted for: one regular path per root, no crossing left after re-tracking
    assert np.sum(res.path_kind == REGULAR) == regular
    _check_solutions(res)


def test_noon5_233_regular():
    res = solve("noon:5", seed=0)
    assert (res.n_paths, res.n_regular, res.n_failed) == (243, 233, 0)
    _check_solutions(res)


def test_eco8_64_regular_from_total_degree():
    res = solve("eco:8", seed=0)
    assert (res.n_paths, res.n_regular, res.n_singular, res.n_failed) == (1458, 64, 0, 0)
    assert res.n_at_infinity == 1458 - 64
    _check_solutions(res)


@pytest.mark.parametrize("seed", [0, 5])
def test_random_dense_has_bezout_many_roots(seed):
    res = solve(f"random:3:3:{seed}", seed=seed)
    assert (res.n_regular, res.n_failed) == (27, 0)
    _check_solutions(res)


def test_same_seed_same_result_and_solution_set_independent_of_seed():
    a, b, c = solve("katsura:5", seed=11), solve("katsura:5", seed=11), solve("katsura:5", seed=12)
    np.testing.assert_array_equal(a.path_endpoints, b.path_endpoints)
    # different gamma and patch: the same 32 solutions, in some other order
    key = lambda s: np.lexsort(np.round(np.c_[s.real, s.imag], 6).T)  # noqa: E731
    np.testing.assert_allclose(a.solutions[key(a.solutions)], c.solutions[key(c.solutions)], atol=1e-8)


def test_double_root_is_singular_with_multiplicity_and_winding():
    # x^2 = 0 (double root) and y^2 = 1: two singular points of multiplicity 2
    res = solve(["x^2", "y^2 - 1"], seed=0)
    assert res.n_failed == 0 and res.n_regular == 0
    assert res.n_singular == 2
    assert sorted(res.multiplicities.tolist()) == [2, 2]
    assert res.singular_winding.tolist() == [2, 2]
    np.testing.assert_allclose(np.sort(res.singular_solutions[:, 1].real), [-1, 1], atol=1e-6)
    np.testing.assert_allclose(res.singular_solutions[:, 0], 0, atol=1e-6)


def test_positive_dimensional_component_reported_as_singular_not_a_crash():
    # x*y = 0 and x*(y - 1) = 0: the whole line x = 0 solves it; no isolated regular root
    res = solve(["x*y", "x*(y - 1)"], seed=0)
    assert res.n_paths == 4 and res.n_regular == 0
    kinds = res.path_kind
    assert np.all((kinds == SINGULAR) | (kinds == AT_INFINITY) | (kinds == FAILED))
    assert np.sum(kinds == SINGULAR) >= 1
    np.testing.assert_allclose(res.singular_solutions[:, 0], 0, atol=1e-6)


def test_paths_at_infinity_are_classified():
    # two parallel-ish conics: total degree 4, Bezout count exceeds the 2 finite roots
    res = solve(["x^2 + y^2 - 4", "x^2 + y^2 + x - 3"], seed=2)
    assert res.n_regular == 2 and res.n_failed == 0
    assert res.n_at_infinity == 2
    assert np.sum(res.path_kind == REGULAR) == 2


def test_path_crossing_is_detected_and_retracked():
    # Coarse steps and a lax guard make paths jump; the retrack must restore all 64 roots.
    loose = SolveOptions(max_ds=1.0, initial_ds=0.5, max_angle=3.14, max_contraction=0.9, max_newton_iters=6,
                         grow_after=1, max_retracks=4)
    res = solve("katsura:6", seed=1, options=loose)
    assert res.n_path_crossings > 0
    assert res.n_retracked >= res.n_path_crossings
    assert res.n_regular == 64 and res.n_failed == 0


def test_hdf5_layout_and_overwrite_refusal(tmp_path):
    res = solve("cyclic:5", seed=0)
    path = tmp_path / "c5.h5"
    res.to_hdf5(str(path))
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "pathtrack-solve" and f.attrs["schema_version"] == 2
        assert f["paths/endpoints"].shape == (120, 6)
        assert f["solutions/regular"].shape == (70, 5)
        assert json.loads(f.attrs["summary"])["n_regular"] == 70
        np.testing.assert_array_equal(f["paths/kind"][()], res.path_kind)
    with pytest.raises(FileExistsError, match="force"):
        res.to_hdf5(str(path))
    res.to_hdf5(str(path), force=True)


def test_input_validation():
    with pytest.raises(ValueError, match="square"):
        solve(["x + y"])
    with pytest.raises(ValueError, match="workers"):
        solve("katsura:3", workers=0)
    with pytest.raises(ValueError, match="neither"):
        solve("not-a-family-or-file")


def test_summary_counts_add_up():
    res = solve(parse_polynomials(["x^3 - 1", "y - x"]), seed=0)
    s = res.summary(with_solutions=True)
    assert s["n_paths"] == 3 and s["n_regular"] == 3 and len(s["solutions"]) == 3
    assert np.sum(res.path_kind == REGULAR) + np.sum(res.path_kind == SINGULAR) + s["n_at_infinity"] + \
        s["n_failed"] == s["n_paths"]
    assert len(res.real_solutions()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("n", [8, 9, 10])
def test_katsura_large_all_regular(n):
    res = solve(f"katsura:{n}", seed=0)
    assert (res.n_paths, res.n_regular, res.n_singular, res.n_at_infinity, res.n_failed) == (2**n, 2**n, 0, 0, 0)
    _check_solutions(res)


@pytest.mark.slow
@pytest.mark.parametrize("spec, paths, regular, seeds", [("cyclic:6", 720, 156, (0, 1, 2)), ("cyclic:7", 5040, 924, (0,))])
def test_cyclic_large(spec, paths, regular, seeds):
    for seed in seeds:
        res = solve(spec, seed=seed)
        assert (res.n_paths, res.n_regular, res.n_singular, res.n_failed) == (paths, regular, 0, 0)
        # one path per root (no crossing left after re-tracking); every other path diverges
        assert np.sum(res.path_kind == REGULAR) == regular
        assert res.n_at_infinity == paths - regular
        _check_solutions(res)


def _kernel_setup(polys, seed=0):
    """Homogenised target, start system, gamma and patch exactly as solve() builds them."""
    sys_ = parse_polynomials(polys)
    rng = np.random.default_rng(seed)
    gamma = complex(np.exp(2j * np.pi * rng.uniform()))
    patch = rng.standard_normal(sys_.n_variables + 1) + 1j * rng.standard_normal(sys_.n_variables + 1)
    patch /= np.linalg.norm(patch)
    hom, start = sys_.homogenize().packed(), total_degree_start(sys_.degrees, patch)[0].packed()
    return hom.arrays(), start.arrays(), gamma, patch, max(hom.max_exp, start.max_exp)


def test_unclosed_cauchy_loop_leaves_the_path_where_it_was():
    # x^3 = 0: every path has winding number 3, so loops capped at 2 turns cannot close. The
    # loops end on another sheet (another path); the endgame must go on from its own point.
    from numba import njit

    from pathtrack.polynomial import kernels as k

    track_segment = k.track_segment

    @njit(error_model="numpy")
    def segment(x, ta, tb, hd, patch, opt, ws, max_steps, tmp, ds):  # a helper is called from jitted code
        return track_segment(x, ta, tb, hd, patch, opt, ws, max_steps, tmp, ds)

    F, G, gamma, patch, max_exp = _kernel_setup(["x^3"])
    opt = SolveOptions(max_winding=2).to_array()
    hd = k.LinearHomotopy(F, G, gamma)
    ws, tmp = k._workspace(2, max_exp, hd), tuple(np.empty(2, dtype=complex) for _ in range(6))
    x = np.array([1.0, 1.0], dtype=complex) / (patch[0] + patch[1])  # a start point on the patch
    r = 1e-3
    assert segment(x, 0j, 1 - r + 0j, hd, patch, opt, ws, 2000, tmp, 0.05)[0] == k.SUCCESS
    x_before, est = x.copy(), np.empty(2, dtype=complex)
    ok, winding, _ = k.cauchy_loops(x, r, hd, patch, opt, ws, tmp, est)
    assert not ok and winding == 2
    np.testing.assert_array_equal(x, x_before)
    opt3 = SolveOptions(max_winding=3).to_array()
    ok, winding, _ = k.cauchy_loops(x, r, hd, patch, opt3, ws, tmp, est)
    assert ok and winding == 3 and abs(est[1]) < 1e-6 * np.linalg.norm(est)  # the triple root x = 0
    np.testing.assert_array_equal(x, x_before)


def test_regularity_test_does_not_depend_on_the_projective_scale():
    # A regular root written on a patch where ‖x‖ ~ 300: unscaled, the rows of the cubic
    # equations are ~‖x‖^2 times the patch row and the pivot ratio looked singular.
    from pathtrack.polynomial import kernels as k

    F, G, gamma, patch, max_exp = _kernel_setup(["x^3 - 8", "y^3 - x*y - 1"])
    sols = solve(["x^3 - 8", "y^3 - x*y - 1"], seed=0).solutions
    hd = k.LinearHomotopy(F, G, gamma)
    ws = k._workspace(3, max_exp, hd)
    p = np.array([1.0, *sols[0]], dtype=complex)
    ratios = []
    for scale in (1.0, 300.0):
        x = scale * p / np.linalg.norm(p)
        a = np.conj(x) / np.vdot(x, x)  # a patch with a·x = 1 at this representative
        ratios.append(k._pivot_ratio(x, 1.0 + 0j, hd, a, ws))
        assert abs(k._residual(x, 1.0 + 0j, hd, a, ws)) < 1e-12 * scale
    assert min(ratios) > 1e-3 and ratios[1] > 1e-2 * ratios[0]
