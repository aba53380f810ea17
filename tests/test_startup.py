"""A warm ``solve`` loads the compiled tracker without preparing Numba's compiler and finds close
endpoints without ``scipy.spatial`` (timings: benchmarks/bench_startup.py)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.spatial import cKDTree

from pathtrack.polynomial import neighbours
from pathtrack.polynomial.neighbours import close_pairs, nearest_distances


def _points(seed=0, k=300, d=6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((k, d))
    x[1::7] = x[::7][: len(x[1::7])] + 1e-9 * rng.standard_normal((len(x[1::7]), d))  # near-duplicates
    return x


@pytest.mark.parametrize("r", [0.0, 1e-8, 0.5, 2.0])
def test_close_pairs_are_the_k_d_trees(r):
    x = _points()
    pairs = cKDTree(x).query_pairs(r, output_type="ndarray")
    assert sorted(map(tuple, close_pairs(x, r).tolist())) == sorted(map(tuple, pairs.tolist()))
    assert close_pairs(x[:1], r).shape == (0, 2) and close_pairs(x[:0], r).shape == (0, 2)


def test_nearest_distances_are_the_k_d_trees():
    x = _points(1)
    anchors = x[::5] + 0.01
    np.testing.assert_allclose(nearest_distances(x, anchors), cKDTree(anchors).query(x)[0], rtol=1e-12, atol=1e-15)


def test_many_points_use_the_tree_with_the_same_answers(monkeypatch):
    x, r = _points(2, k=200), 1.0
    direct, near = close_pairs(x, r), nearest_distances(x, x[::3])
    monkeypatch.setattr(neighbours, "MAX_DIRECT", 10)
    assert np.array_equal(close_pairs(x, r), direct)  # sorted either way
    np.testing.assert_allclose(nearest_distances(x, x[::3]), near, rtol=1e-12, atol=1e-15)


WARM = """
import json, sys
from pathtrack.polynomial import solve
r = solve("katsura:3", progress=False)
print(json.dumps({"regular": len(r.solutions), "n": len(r.path_kind),
                  "loaded": {m: m in sys.modules for m in ("numba.np.arraymath", "scipy.linalg",
                                                            "scipy.spatial")}}))
"""


def _python(code, cwd=None, env=None):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=cwd,
                         env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_warm_solve_prepares_no_compiler_and_imports_no_scipy_linalg():
    first = _python(WARM)  # fills Numba's cache where it is empty; later runs load from it
    warm = _python(WARM)
    assert warm["regular"] == first["regular"] == warm["n"] == 8  # katsura:3: Bézout number 8, all regular
    assert not any(warm["loaded"].values()), warm["loaded"]


WARM_THEN_COMPILE = """
import json, sys
from pathtrack.polynomial import solve
from pathtrack.polynomial import kernels
r = solve("katsura:3", progress=False)
double = solve(["x^2 - 2*x + 1", "y^2 - 4"], progress=False)  # compiles the endgame, after a warm load
print(json.dumps({"regular": len(r.solutions),
                  "mult": double.multiplicities.tolist(), "endgame": len(kernels.endgame_batch.signatures)}))
"""


@pytest.mark.slow
def test_a_compile_after_a_warm_load_works_and_is_cached(tmp_path):
    """A warm load initialises only Numba's runtime (pathtrack.polynomial.cacheload); a later compile in
    the same process (the endgame) still compiles, runs and caches correctly."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    _python(WARM, env=env)  # an empty cache: compiles the tracker
    first = _python(WARM_THEN_COMPILE, env=env)
    again = _python(WARM_THEN_COMPILE, env=env)  # everything from the cache, the endgame included
    assert first["regular"] == again["regular"] == 8
    assert first["mult"] == again["mult"] == [2, 2] and first["endgame"] == again["endgame"] == 1


OTHER = """
import json, sys
from numba import njit
import pathtrack.polynomial.kernels  # installs the fast load for its own functions only

@njit(cache=True)
def twice(x):
    return 2.0 * x

print(json.dumps({"value": twice(1.5), "arraymath": "numba.np.arraymath" in sys.modules}))
"""


def test_other_cached_functions_keep_numbas_load(tmp_path):
    (tmp_path / "other.py").write_text(textwrap.dedent(OTHER))
    code = "import runpy; runpy.run_path('other.py', run_name='other')"
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _python(code, cwd=tmp_path, env=env)  # compiles and caches
    again = _python(code, cwd=tmp_path, env=env)  # loads, with Numba's refresh of its target
    assert first["value"] == again["value"] == 3.0 and again["arraymath"] is True
