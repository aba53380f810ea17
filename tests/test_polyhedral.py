"""Mixed volumes, mixed cells and binomial start systems (pathtrack.polynomial.polyhedral)."""

import itertools

import numpy as np
import pytest

from pathtrack.polynomial import PolynomialSystem, family
from pathtrack.polynomial.polyhedral import (cell_start_points, hermite_form, mixed_cells, mixed_volume,
                                             solve_binomial, supports_of)


def _det(rows):
    return int(round(np.linalg.det(np.array(rows, dtype=float))))


@pytest.mark.parametrize("spec, torus, affine", [
    ("cyclic:5", 70, 70),      # cyclic n-roots: 70 isolated roots, all in the torus
    ("noon:3", 21, 21),        # Noonburg's network: 21 of Bézout 27
    ("katsura:3", None, 8),    # 2^n in C^n; (1, 0, 0, 0) is one of them, so fewer in the torus
    ("eco:5", 8, 8),           # 2^(n-2)
])
def test_mixed_volume_of_benchmark_families(spec, torus, affine):
    system = family(spec)
    if torus is not None:
        assert mixed_volume(supports_of(system, with_origin=False)) == torus
    assert mixed_volume(system) == affine


def test_mixed_volume_of_dense_supports_is_the_bezout_number():
    system = family("random:3:2:1")  # every monomial of degree <= 2: Newton polytope 2·simplex
    assert mixed_volume(system) == system.bezout_number == 8
    cubic = [np.array([e for e in itertools.product(range(4), repeat=2) if sum(e) <= 3])] * 2
    assert mixed_volume(cubic) == 9


def _hull_volume(points):
    from scipy.spatial import ConvexHull, QhullError

    points = np.unique(np.asarray(points, dtype=float), axis=0)
    try:
        return ConvexHull(points).volume
    except (QhullError, ValueError):  # fewer points than a simplex, or flat: volume 0
        return 0.0


def _minkowski(sets):
    out = np.zeros((1, sets[0].shape[1]), dtype=np.int64)
    for s in sets:
        out = (out[:, None, :] + s[None, :, :]).reshape(-1, s.shape[1])
    return np.unique(out, axis=0)


def _polarisation(supports):
    """MV = Σ_S (-1)^{n-|S|} vol(Σ_{i∈S} P_i), from convex-hull volumes (independent of mixed cells)."""
    n = len(supports)
    total = 0.0
    for k in range(1, n + 1):
        for subset in itertools.combinations(range(n), k):
            total += (-1) ** (n - k) * _hull_volume(_minkowski([supports[i] for i in subset]))
    return total


@pytest.mark.parametrize("n, seed", [(2, 0), (2, 1), (2, 2), (3, 3), (3, 4), (3, 5)])
def test_mixed_volume_matches_the_polarisation_formula(n, seed):
    rng = np.random.default_rng(seed)
    supports = [rng.integers(0, 4, size=(rng.integers(2, 6), n)) for _ in range(n)]
    assert mixed_volume(supports, seed=seed) == pytest.approx(_polarisation(supports), abs=1e-6)


def test_mixed_volume_does_not_depend_on_the_lifting():
    system = family("cyclic:5")
    volumes = {mixed_cells(system, seed=s).mixed_volume for s in range(3)}
    assert volumes == {70}


def test_mixed_cells_are_lowest_faces_with_their_normal():
    sub = mixed_cells(family("noon:3"), seed=2)
    for cell in sub.cells:
        for gaps, (a, b) in zip(sub.exponents(cell), cell.edges):
            assert gaps[a] == gaps[b] == 0.0
            assert np.delete(gaps, [a, b]).min() > 0.0
        rows = [sub.supports[i][a] - sub.supports[i][b] for i, (a, b) in enumerate(cell.edges)]
        assert cell.volume == abs(_det(rows))


def test_hermite_form_is_unimodular_and_triangular():
    rng = np.random.default_rng(5)
    for _ in range(20):
        v = rng.integers(-6, 7, size=(4, 4))
        u, h = hermite_form(v)
        np.testing.assert_array_equal(np.array(u, dtype=object).dot(v.astype(object)), np.array(h, dtype=object))
        assert abs(_det(u)) == 1
        assert all(h[i][j] == 0 for i in range(4) for j in range(i))


@pytest.mark.parametrize("seed", range(4))
def test_binomial_roots_are_all_distinct_roots(seed):
    rng = np.random.default_rng(seed)
    n = 3
    v = rng.integers(-3, 4, size=(n, n))
    while _det(v) == 0:
        v = rng.integers(-3, 4, size=(n, n))
    rhs = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    y = solve_binomial(v, rhs)
    assert len(y) == abs(_det(v))
    values = np.prod(y[:, None, :] ** v[None, :, :], axis=2)
    assert np.abs(values - rhs).max() <= 1e-12 * np.abs(rhs).max()
    gaps = np.abs(y[:, None, :] - y[None, :, :]).max(axis=2) + np.eye(len(y))
    assert gaps.min() > 1e-6


def test_cell_start_points_solve_the_cells_binomial_systems():
    system = family("cyclic:5")
    sub = mixed_cells(system, seed=1)
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal(len(s)) + 1j * rng.standard_normal(len(s)) for s in sub.supports]
    n_roots = 0
    for cell in sub.cells:
        y = cell_start_points(sub, coefs, cell)
        n_roots += len(y)
        for i, (a, b) in enumerate(cell.edges):
            pa, pb = sub.supports[i][a], sub.supports[i][b]
            terms = np.abs(coefs[i][a] * np.prod(y ** pa, axis=1)) + np.abs(coefs[i][b] * np.prod(y ** pb, axis=1))
            res = coefs[i][a] * np.prod(y ** pa, axis=1) + coefs[i][b] * np.prod(y ** pb, axis=1)
            assert np.all(np.abs(res) <= 1e-12 * terms)
    assert n_roots == sub.mixed_volume == 70


def test_bad_supports_are_refused():
    with pytest.raises(ValueError, match="supports"):
        mixed_volume([np.zeros((0, 2), dtype=int), np.eye(2, dtype=int)])
    with pytest.raises(ValueError, match="supports"):
        mixed_volume([np.eye(3, dtype=int)])
    with pytest.raises(ValueError, match="non-singular"):
        solve_binomial([[1, 2], [2, 4]], [1.0, 1.0])


def test_supports_with_origin():
    system = PolynomialSystem(("x", "y"), (np.array([[1, 1], [2, 0]]), np.array([[0, 0], [0, 1]])),
                              (np.ones(2), np.ones(2)))
    with_origin = supports_of(system)
    assert (with_origin[0] == 0).all(axis=1).any() and len(with_origin[1]) == 2
    assert len(supports_of(system, with_origin=False)[0]) == 2


# -- solve(start='polyhedral') ----------------------------------------------------------------------
def _same_points(a, b, tol=1e-6):
    from scipy.optimize import linear_sum_assignment

    if len(a) != len(b):
        return False
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    r, c = linear_sum_assignment(d)
    return bool(np.all(d[r, c] <= tol * (1 + np.linalg.norm(a[r], axis=1))))


@pytest.mark.parametrize("spec, seed", [("noon:3", 0), ("cyclic:5", 1), ("eco:6", 2)])
def test_polyhedral_solve_finds_the_total_degree_solutions(spec, seed):
    from pathtrack.polynomial import solve

    poly = solve(spec, seed=seed, start="polyhedral", workers=1)
    full = solve(spec, seed=seed, start="total_degree", workers=1)
    assert poly.is_complete and full.is_complete
    assert poly.n_paths == poly.mixed_volume == mixed_volume(family(spec))
    assert poly.n_paths < full.n_paths
    assert _same_points(poly.solutions, full.solutions)
    assert np.max(poly.residuals) < 1e-8


def test_polyhedral_solve_finds_roots_on_coordinate_hyperplanes():
    from pathtrack.polynomial import solve

    # x (x - 2 + y) = 0, y (y - 3 + x) = 0: roots (0, 0), (0, 3), (2, 0); none in the torus
    system = PolynomialSystem(("x", "y"), (np.array([[2, 0], [1, 0], [1, 1]]), np.array([[0, 2], [0, 1], [1, 1]])),
                              (np.array([1.0, -2.0, 1.0]), np.array([1.0, -3.0, 1.0])))
    assert mixed_volume(supports_of(system, with_origin=False)) < 3 <= mixed_volume(system)
    res = solve(system, start="polyhedral", workers=1)
    assert res.is_complete and res.n_regular == 3
    assert _same_points(res.solutions, np.array([[0, 0], [0, 3], [2, 0]], dtype=complex))


def test_auto_start_picks_fewer_paths_and_reports_the_mixed_volume():
    from pathtrack.polynomial import solve

    sparse = solve("eco:6", start="auto", workers=1)
    assert (sparse.start, sparse.n_paths, sparse.mixed_volume) == ("polyhedral", 16, 16)
    s = sparse.summary()
    assert (s["start"], s["mixed_volume"], s["n_paths"]) == ("polyhedral", 16, 16)
    dense = solve("random:2:3:1", start="auto", workers=1)  # support = all of 3·simplex: MV = Bézout
    assert (dense.start, dense.mixed_volume, dense.n_paths) == ("total_degree", None, 9)
    with pytest.raises(ValueError, match="start must be one of"):
        solve("eco:6", start="mixed")


def test_cli_start_system_and_json(tmp_path):
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main

    run = CliRunner().invoke(main, ["solve", "noon:3", "--start-system", "polyhedral", "--json", "--workers", "1"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    assert (out["start"], out["mixed_volume"], out["n_paths"], out["n_regular"]) == ("polyhedral", 21, 21, 21)
    text = CliRunner().invoke(main, ["solve", "noon:3", "--start-system", "polyhedral", "--workers", "1"])
    assert "21 (polyhedral start, mixed volume 21)" in text.output
    bad = CliRunner().invoke(main, ["solve", "noon:3", "--start-system", "mixed"])
    assert bad.exit_code == 2
