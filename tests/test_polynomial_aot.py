"""The ahead-of-time compiled polynomial kernels (pathtrack.polynomial.aotbuild, aotload)."""

import importlib.util
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

SOLVE = """
import json, sys
import numpy as np
from pathtrack.polynomial import aotload, solve
out = {}
for spec in ("katsura:3", ["x^2 - 2*x + 1", "y^2 - 4"]):  # all regular; two double roots (the endgame)
    r = solve(spec, progress=False)
    out[str(spec)] = [r.path_endpoints.tobytes().hex(), r.path_status.tolist(), r.multiplicities.tolist()]
print(json.dumps({"aot": aotload.active(), "numba": "numba" in sys.modules, "out": out}))
"""


def _python(code, **env):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


WARM = """
import json, sys
from pathtrack.polynomial import aotload, solve
r = solve("katsura:3", progress=False)
print(json.dumps({"aot": aotload.active(), "numba": "numba" in sys.modules, "n": len(r.solutions)}))
"""


def test_the_installed_extension_serves_a_solve_without_numba():
    """An install compiles the kernels (unless PATHTRACK_AOT=0 or no compiler); a solve then never imports Numba."""
    from pathtrack.polynomial import aotbuild

    built = (aotbuild.HERE / aotbuild.META).exists() and os.environ.get("PATHTRACK_AOT", "1") != "0"
    out = _python(WARM)
    assert out["n"] == 8 and out["aot"] == built and out["numba"] == (not built)
    off = _python("import json, sys; from pathtrack.polynomial import aotload, kernels; "
                  "print(json.dumps([aotload.active(), 'numba' in sys.modules]))", PATHTRACK_AOT="0")
    assert off == [False, True]  # the Numba module itself


@pytest.mark.slow
def test_compiled_and_numba_kernels_give_the_same_bits():
    """Where the install compiled the kernels, a solve gives bit for bit the Numba kernels' answers, without
    importing Numba while its paths need only the exported kernels; PATHTRACK_AOT=0 keeps Numba's."""
    jit = _python(SOLVE, PATHTRACK_AOT="0")
    aot = _python(SOLVE)
    assert not jit["aot"] and jit["numba"]
    assert aot["out"] == jit["out"]
    assert aot["out"]["katsura:3"][1] == [1] * 8


def test_arguments_of_other_types_go_to_numba():
    """The extension does not check its arguments: the loader does, and hands others to the Numba kernel."""
    from pathtrack.polynomial import aotload, kernels
    from pathtrack.polynomial.system import PolynomialSystem  # noqa: F401  (the package is loaded)

    spec = (("a", "complex128", 2), ("t", (("a", "int64", 1), ("i",))), ("f",), ("c",))
    x = np.zeros((2, 3), dtype=np.complex128)
    good = (x, (np.zeros(2, dtype=np.int64), 3), 1.0, 1j)
    assert all(map(aotload._check, good, spec))
    assert not aotload._check(np.asfortranarray(x), spec[0])
    assert not aotload._check(x[:, ::2], spec[0])
    assert not aotload._check(x.real, spec[0])
    assert not aotload._check((np.zeros(2), 3), spec[1])
    assert not aotload._check([np.zeros(2, dtype=np.int64), 3], spec[1])
    assert callable(kernels.refine_batch)
    assert bool(kernels.refine_batch.signatures) or not aotload.active()  # compiled: no first-run notice
    assert pickle.loads(pickle.dumps(kernels.refine_batch)).__name__ == "refine_batch"  # executor tasks


@pytest.mark.slow
def test_build_compiles_kernels_that_match_numbas(tmp_path):
    """aotbuild.build into a directory of its own; its refine_batch agrees with Numba's bit for bit."""
    from pathtrack.polynomial import aotbuild, family

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    code = f"from pathlib import Path; from pathtrack.polynomial import aotbuild; aotbuild.build(Path({str(tmp_path)!r}))"
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=1800).returncode == 0
    [path] = tmp_path.glob(aotbuild.MODULE + ".*")
    spec = importlib.util.spec_from_file_location(aotbuild.MODULE, path)
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    packed = family("katsura:3").packed()
    X = np.random.default_rng(0).standard_normal((5, packed.n_variables)) + 0j
    args = (X, *packed.arrays(), packed.max_exp, 1e-12, 5)
    ours = _numba_kernel("refine_batch")(*args)
    for a, b in zip(ext.refine_batch(*args), ours):
        assert a.tobytes() == b.tobytes()
    # the same build compiled the two-parameter curves' kernels beside them
    from pathtrack.kernels import curves

    [path] = tmp_path.glob(aotbuild.CURVES_MODULE + ".*")
    spec = importlib.util.spec_from_file_location(aotbuild.CURVES_MODULE, path)
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    A, B = np.array([[-0.5, 1.2], [3.0, -0.7]]), np.array([[0.3, 0.1], [0.2, 0.9]])
    assert ext.bordered_inverse(A, B, B, 0.5, True).tobytes() == curves.bordered_inverse(A, B, B, 0.5, True).tobytes()


def _numba_kernel(name):
    from pathtrack.polynomial import kernels

    return getattr(kernels._jit() if hasattr(kernels, "_jit") else kernels, name)
