"""The fast part of the root-count corpus (benchmarks/corpus), and the extended-precision checks
that decide regular against multiple roots.

Each corpus system is solved over several seeds and its counts must equal the published ones
in ``benchmarks/corpus/manifest.json`` exactly; ``python benchmarks/bench_corpus.py`` runs the
whole corpus.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from pathtrack.polynomial import SolveOptions, parse_phc, read_phc, solve
from pathtrack.polynomial import precision
from pathtrack.polynomial.kernels import term_sizes_batch

CORPUS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "corpus")
with open(os.path.join(CORPUS, "manifest.json")) as _fh:
    MANIFEST = {e["name"]: e for e in json.load(_fh)["systems"]}

# Small systems (at most 81 paths) covering regular roots of large norm (chandra4, chandra5:
# roots up to norm 2e3 that look like diverging paths until 1 - t ~ 1e-4), double roots
# (solotarev), solutions with zero coordinates (rediff3) and paths at infinity.
FAST = ["mickey", "cyclic3", "rediff3", "lorentz", "lumped", "s9_1", "chandra4", "trinks", "gaukwa2",
        "chandra5", "katsura5", "solotarev", "wood", "game4two"]
SEEDS = [0, 1, 2]


def finite_paths(res) -> int:
    return res.n_regular + int(res.multiplicities.sum())


@pytest.mark.parametrize("name", FAST)
def test_fast_corpus_counts_exact_over_seeds(name):
    entry = MANIFEST[name]
    system = read_phc(os.path.join(CORPUS, entry["file"]))
    assert system.bezout_number == entry["total_degree"]
    for seed in SEEDS:
        res = solve(system, seed=seed, workers=1)
        assert res.is_complete, (seed, res.failures())
        if entry["regular"] is not None:
            assert res.n_regular == entry["regular"], seed
        if entry["finite"] is not None:
            assert finite_paths(res) == entry["finite"], seed
        # every path is accounted for: at a finite point or at infinity
        assert finite_paths(res) + res.n_at_infinity == res.n_paths
        assert np.all(res.residuals < 1e-8 * (1 + np.linalg.norm(res.solutions, axis=1)))


def test_manifest_is_well_formed():
    assert len(MANIFEST) >= 60
    for name, e in MANIFEST.items():
        assert os.path.exists(os.path.join(CORPUS, e["file"])), name
        assert e["finite"] is not None or e["regular"] is not None, name
        assert e["source"], name
        if e["finite"] is not None and e["regular"] is not None:
            assert e["regular"] <= e["finite"] <= e["total_degree"], name


def test_rose_pairs_of_close_regular_roots_are_split():
    """rose has 136 regular roots, four pairs of them 1e-7 apart, which the endgame alone
    merges into four 'double roots'."""
    res = solve(os.path.join(CORPUS, "rose.phc"), seed=0, workers=1)
    assert (res.n_regular, res.n_singular) == (136, 0)
    d = np.linalg.norm(res.solutions[:, None] - res.solutions[None], axis=2) + np.eye(136)
    assert np.sum(d.min(axis=1) < 1e-6) == 8  # the four close pairs, each root counted once


# (x - 1)(x - 1 - h) with h = 2^-23 (about 1.2e-7), so that the coefficients are exact in binary
H = 2.0**-23
CLOSE = [f"x^2 - {2 + H!r}*x + {1 + H!r}", "y - 2"]


def test_two_regular_roots_1e7_apart_against_a_double_root():
    """(x - 1)(x - 1 - 1.2e-7) has two regular roots, (x - 1)^2 one double root."""
    close = solve(CLOSE, seed=0, workers=1)
    assert (close.n_regular, close.n_singular) == (2, 0)
    xs = np.sort(close.solutions[:, 0].real)
    # double precision places roots with condition number ~1e7 to about 1e7·eps
    np.testing.assert_allclose(xs, [1.0, 1.0 + H], rtol=0, atol=1e-8)
    np.testing.assert_allclose(close.solutions[:, 1], 2.0)

    double = solve(["x^2 - 2*x + 1", "y - 2"], seed=0, workers=1)
    assert (double.n_regular, double.n_singular) == (0, 1)
    assert double.multiplicities.tolist() == [2]


def test_extended_precision_newton_tells_regular_from_double():
    p = parse_phc("2\n" + "".join(f" {q};\n" for q in CLOSE)).packed()
    root = precision.refine(np.array([1.000000002 + 0j, 2.0]), p)  # as double Newton leaves it
    assert root is not None
    assert abs(root[0] - 1.0) < 1e-15 and abs(root[1] - 2.0) < 1e-15
    # at a double root Newton converges only linearly, also in 50 digits
    double = parse_phc("2\n x^2 - 2*x + 1;\n y - 2;\n").packed()
    assert precision.refine(np.array([1.0 + 1e-8, 2.0 + 0j]), double) is None


def test_deep_endgame_radius_is_validated_and_reported():
    with pytest.raises(Exception, match="deep_endgame_radius"):
        SolveOptions(deep_endgame_radius=2.0)
    res = solve(os.path.join(CORPUS, "chandra4.phc"), seed=0, workers=1)
    assert res.counters["n_deep_endgame"] > 0
    assert res.n_regular == 8



def test_pb601_roots_near_infinity_are_followed_past_what_t_resolves():
    # Balanced, three of pb601's 18 roots have norm 2e6, where the start system's terms are 1e10
    # times F's: the paths reach them only below 1 - t = 1e-13, which t in double does not resolve,
    # and looked infinite (16-17 of 18, status success). The tail stage, in s = 1 - t, finds them.
    system = read_phc(os.path.join(CORPUS, "pb601.phc"))
    for seed in (0, 6):
        res = solve(system, seed=seed, workers=1)
        assert res.is_complete and res.status.name == "success", seed
        assert res.n_regular == 18, seed
        assert res.counters["n_tail_regular"] >= 1, seed
        big = res.solutions[np.linalg.norm(res.solutions, axis=1) > 10]
        assert len(big) == 3, seed
        assert np.allclose(np.sort(np.linalg.norm(big, axis=1)), [32.0525, 32.2660, 32.2660], atol=1e-3)
        # residuals against the size of the terms that cancel (coefficients up to 1e16)
        packed = system.packed()
        sizes = term_sizes_batch(res.solutions, *packed.arrays(), packed.max_exp)
        assert np.all(res.residuals <= 1e-12 * np.linalg.norm(sizes, axis=1)), seed


def test_tail_steps_finely_past_a_close_approach_of_paths():
    # cassou, total degree, seed 2, path 257: a slowly diverging path that, followed in s = 1 - t from
    # s = 1e-8, passes near another path at s ~ 7e-16, on a scale below the tail's coarsest fallback
    # step s -> 0.9·s. With steps down to s -> 0.999·s it gets past and goes on towards s = 1e-32.
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.solver import TAIL_MIN_S, TAIL_TOL, SolveOptions as Opts, _track_chunk
    from pathtrack.polynomial.start import total_degree_start

    system = read_phc(os.path.join(CORPUS, "cassou.phc"))
    rng = np.random.default_rng(2)  # gamma and patch as solve(seed=2) draws them
    gamma = complex(np.exp(2j * np.pi * rng.uniform()))
    patch = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    patch /= np.linalg.norm(patch)
    hom = system.homogenize().packed()
    start_system, starts = total_degree_start(system.degrees, patch)
    max_exp = max(hom.max_exp, start_system.packed().max_exp)
    F, G = hom.arrays(), start_system.packed().arrays()
    radius = 1e-8
    opt = Opts().to_array()
    opt[k.O_DIRECT_STEPS] = 0  # stop at t = 1 - radius, as the solver's tail stage does
    opt[k.O_EG_RADIUS], opt[k.O_EG_MIN_RADIUS] = radius, 2.0 * radius
    ends, *_ = _track_chunk("track_batch", (starts[[257]],), (F, G, gamma, patch, opt, max_exp))
    out, outcome, steps = k.tail_batch(ends, np.array([radius]), F, G, gamma, patch, np.int64(max_exp), 1e-7,
                                       TAIL_MIN_S, TAIL_TOL)
    assert outcome[0] != k.TAIL_FAILED
    assert np.abs(out[0, 0]) / np.linalg.norm(out[0]) < 1e-6  # on its way to infinity, not stuck at 3e-4


@pytest.mark.slow
def test_suspect_paths_judged_nearest_infinity_leave_no_failed_path():
    # gaukwa3 and reimer5, seed 0: 27 and 170 suspect paths (more than MAX_EXTENDED_PATHS); judged at the
    # endgame's endpoint, 11 and 116 of them failed. Judged where the tail (or the compiled tracker on its way
    # to the tail) got nearest infinity, every one is at infinity and the counts are the published ones.
    for name in ("gaukwa3", "reimer5"):
        entry = MANIFEST[name]
        res = solve(read_phc(os.path.join(CORPUS, entry["file"])), seed=0, workers=2)
        assert res.is_complete and res.status.name == "success", (name, res.failures())
        assert res.n_regular == entry["regular"] and finite_paths(res) == entry["finite"], name
        assert res.counters["n_suspect_kept_at_infinity"] == res.counters["n_suspect_infinity"] > 8, name
