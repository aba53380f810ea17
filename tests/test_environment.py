"""Importing pathtrack leaves the process environment alone and loads no matplotlib; thread settings
happen only in ``configure_threads()``, which the ``pathtrack`` command calls before numpy loads.
``run`` and ``solve`` import only what they use (start-up time: benchmarks/bench_startup.py)."""

import json
import os
import subprocess
import sys

import pytest

from pathtrack.threads import THREAD_ENV


def _run(code: str, extra_env=None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV and k != "MPLBACKEND"}
    env.update(extra_env or {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


IMPORTS = """
import json, os, sys
before = dict(os.environ)
import pathtrack
light = {m: m in sys.modules for m in ("numpy", "matplotlib")}
import pathtrack.driver, pathtrack.hdf5, pathtrack.io, pathtrack.polynomial, pathtrack.flow, pathtrack.nn
import pathtrack.nn.train, pathtrack.plotting, pathtrack.multistart
from pathtrack import track, solve, load, Status, TrackerOptions
print(json.dumps({"changed": sorted(k for k in set(os.environ) | set(before) if os.environ.get(k) != before.get(k)),
                  "light": light, "matplotlib": "matplotlib" in sys.modules,
                  "solve": [pathtrack.solve.__module__, solve is pathtrack.solve, callable(pathtrack.track)]}))
"""


def test_import_changes_no_environment_and_loads_no_matplotlib():
    r = _run(IMPORTS)
    assert r["changed"] == []
    assert r["light"] == {"numpy": False, "matplotlib": False}  # configure_threads() can still act in time
    assert r["matplotlib"] is False  # not even after the public submodules
    assert r["solve"] == ["pathtrack.polynomial.solver", True, True]


def test_configure_threads_sets_defaults_once_and_keeps_user_values():
    code = """
import json, os
import pathtrack
first = pathtrack.configure_threads()
second = pathtrack.configure_threads()
print(json.dumps({"first": first, "second": second, "env": {k: os.environ[k] for k in first}}))
"""
    r = _run(code, {"OMP_WAIT_POLICY": "ACTIVE"})
    assert r["first"] == {"OPENBLAS_THREAD_TIMEOUT": "16"} and r["second"] == {}
    assert r["env"] == {"OPENBLAS_THREAD_TIMEOUT": "16"}
    assert set(THREAD_ENV) == {"OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY"}


def test_cli_sets_the_thread_environment_before_numpy_loads():
    code = """
import json, os, sys
seen = {}

class Spy:  # records the environment at the moment numpy is first imported
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" and not seen:
            seen.update({k: os.environ.get(k) for k in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")})
        return None

sys.meta_path.insert(0, Spy())
from pathtrack.cli import main
main(["run", "pitchfork", "--json"], standalone_mode=False)
print(json.dumps(seen))
"""
    assert _run(code) == THREAD_ENV


def test_public_names_and_submodules_resolve_on_first_use():
    import types

    import pathtrack

    assert isinstance(pathtrack.hdf5, types.ModuleType) and pathtrack.load is pathtrack.hdf5.load
    assert callable(pathtrack.track) and callable(pathtrack.solve)
    assert set(pathtrack.__all__) <= set(dir(pathtrack))
    assert all(getattr(pathtrack, name) is not None for name in pathtrack.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pathtrack.no_such_name  # noqa: B018


COMMAND_MODULES = """
import json, sys
from pathtrack.cli import main
main({args!r}, standalone_mode=False)
print(json.dumps({{m: m in sys.modules for m in ("matplotlib", "h5py", "tqdm", "numba", "scipy.optimize",
                                               "pathtrack.tracker", "pathtrack.kernels.nn")}}))
"""


def test_run_imports_no_matplotlib_numba_h5py_or_tqdm():
    r = _run(COMMAND_MODULES.format(args=["run", "bratu1d", "--json"]))
    assert r["matplotlib"] is False and r["h5py"] is False and r["tqdm"] is False  # no plot, no --out, no bar
    assert r["numba"] is False and r["pathtrack.kernels.nn"] is False  # the Python tracker needs no kernel
    assert r["scipy.optimize"] is False  # the fold is located by pathtrack.events.brentq
    assert r["pathtrack.tracker"] is True


def test_solve_imports_no_matplotlib_h5py_tqdm_or_python_tracker():
    r = _run(COMMAND_MODULES.format(args=["solve", "katsura:3", "--json"]))
    assert r["matplotlib"] is False and r["h5py"] is False and r["tqdm"] is False
    assert r["pathtrack.tracker"] is False and r["scipy.optimize"] is False  # Ctrl-C handling is pathtrack.interrupt
    # the kernels compiled at install serve a total-degree solve without Numba; the JIT fallback needs it
    assert r["numba"] is (not _aot_active()) and r["pathtrack.kernels.nn"] is False


def _aot_active(extra_env=None) -> bool:
    """Whether a fresh process would solve with the kernels compiled at install (not Numba's JIT)."""
    code = "import json, pathtrack.polynomial.aotload as a; import pathtrack.polynomial; print(json.dumps(a.active()))"
    return _run(code, extra_env)


LOADED = """
import json, sys
from pathtrack.cli import main
main({args!r}, standalone_mode=False)
print(json.dumps(sorted(sys.modules)))
"""

# Never needed by a plain `run` of a built-in problem, nor by a total-degree `solve`, whatever later merges add.
HEAVY = ("matplotlib", "h5py", "tqdm", "dask", "distributed", "mpmath", "flint", "sympy", "scipy.optimize",
         "scipy.spatial", "scipy.integrate", "scipy.interpolate", "scipy.stats")


def _loaded(prefixes, modules):
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_run_loads_no_compiler_and_no_other_command():
    """`run bratu1d` (the Python tracker) imports no part of the polynomial solver, Numba or the
    other commands' machinery (start-up time: benchmarks/bench_startup.py)."""
    modules = _run(LOADED.format(args=["run", "bratu1d", "--json"]))
    assert _loaded(HEAVY + ("numba", "llvmlite", "pathtrack.polynomial", "pathtrack.kernels.nn", "pathtrack.nn",
                            "pathtrack.periodic", "pathtrack.twoparam", "pathtrack.diagram", "pathtrack.branching",
                            "pathtrack.multistart", "pathtrack.plotting", "pathtrack.flow", "pathtrack.io",
                            "pathtrack.datasets", "numpy.f2py", "numpy.testing", "importlib.metadata"),
                   modules) == []
    # LAPACK comes from scipy's extension module alone: the scipy.linalg package imports numpy.f2py and
    # numpy.testing (scipy's array-API layer), 0.4 of ~1 CPU s of this command
    assert "scipy.linalg" not in modules and "scipy.linalg._flapack" in modules


def test_total_degree_solve_loads_only_its_own_stages():
    """A total-degree `solve` imports neither the polyhedral start, the extended-precision stage, the
    parameter homotopies nor the Python tracker; and Numba loads its kernels without its typing
    and lowering modules (pathtrack.polynomial.cacheload) once they are cached."""
    _run(LOADED.format(args=["solve", "katsura:3", "--json"]))  # fills an empty Numba cache
    modules = _run(LOADED.format(args=["solve", "katsura:3", "--json"]))
    assert _loaded(HEAVY + ("pathtrack.polynomial.polyhedral", "pathtrack.polynomial.lp",
                            "pathtrack.polynomial.precision", "pathtrack.polynomial.parameter",
                            "pathtrack.polynomial.parametric", "pathtrack.polynomial.monodromy", "pathtrack.tracker",
                            "pathtrack.driver", "pathtrack.io", "pathtrack.nn", "pathtrack.kernels.nn",
                            "numba.np.arraymath", "scipy.linalg"), modules) == []


def test_numba_loads_when_solve_is_called_not_on_import():
    code = """
import json, sys
import pathtrack.polynomial
before = "numba" in sys.modules
pathtrack.polynomial.solve(["x^2 - 1"])
print(json.dumps({"before": before, "after": "numba" in sys.modules}))
"""
    assert _run(code) == {"before": False, "after": not _aot_active()}
    # with the compiled kernels turned off, Numba is loaded by the call, not by the import
    off = {"PATHTRACK_AOT": "0"}
    assert not _aot_active(off) and _run(code, off) == {"before": False, "after": True}


@pytest.mark.slow
def test_first_compile_builds_each_kernel_once(tmp_path):
    """From an empty Numba cache every jitted function of the compiled tracker is compiled for one
    signature (a literal argument would add a second), and no slice assignment is lowered."""
    code = """
import json
from numba.np import arrayobj
import pathtrack.polynomial.kernels as K
from pathtrack.polynomial import solve
slices = []
orig = arrayobj.fancy_setslice  # lowers a slice assignment, with its shape-mismatch error formatter
arrayobj.fancy_setslice = lambda *a, **k: slices.append(1) or orig(*a, **k)
solve("katsura:3")
from numba.core.dispatcher import Dispatcher
kernels = {name: f for name, f in vars(K).items() if isinstance(f, Dispatcher)}
counts = {name: len(f.signatures) for name, f in kernels.items()}
wrapped = sorted(name for name, f in kernels.items() if not f.targetoptions.get("no_cpython_wrapper")
                 and f.targetoptions.get("inline") != "always")  # inlined ones are never compiled alone
try:
    K._tangent(1.0)
except TypeError as exc:
    helper_call = str(exc)
double = solve(["x^2 - 2*x + 1", "y^2 - 4"])  # a double root: its paths need the endgame, compiled now
print(json.dumps({"counts": counts, "slices": len(slices), "wrapped": wrapped, "helper_call": helper_call,
                  "endgame": len(K.endgame_batch.signatures), "multiplicities": double.multiplicities.tolist()}))
"""
    # the Numba kernels themselves (with the kernels compiled at install, a solve would not call them)
    r = _run(code, {"NUMBA_CACHE_DIR": str(tmp_path), "PATHTRACK_AOT": "0"})
    assert r["counts"]["track_batch"] == 1 and r["counts"]["homotopy"] == 1
    assert max(r["counts"].values()) == 1, r["counts"]
    # only what a total-degree solve calls: no other homotopy kind, no extended-precision helper, and
    # no endgame (every path of katsura:3 ends regular)
    assert r["counts"]["track_toric_batch"] == r["counts"]["track_parameter_batch"] == 0
    assert r["counts"]["endgame_batch"] == r["counts"]["tail_batch"] == 0
    assert r["counts"]["eval_system_alloc"] == 0
    # helpers are linked into the entry points: compiled without a Python entry wrapper
    assert r["helper_call"].startswith("_tangent is a helper of the compiled kernels")  # not a crash
    assert r["wrapped"] == ["endgame_batch", "endgame_parameter_batch", "endgame_toric_batch", "eval_system_alloc",
                            "refine_batch", "tail_batch", "term_sizes_batch", "track_batch", "track_parameter_batch",
                            "track_toric_batch"], r["wrapped"]
    assert r["slices"] == 0
    assert r["endgame"] == 1 and r["multiplicities"] == [2, 2]


def test_compile_notice_says_once_on_a_terminal_what_is_compiling(monkeypatch):
    import io
    import time

    from pathtrack import compilenotice
    from pathtrack.polynomial import solver

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(compilenotice, "COMPILE_NOTICE_SECONDS", 0.01)
    monkeypatch.setattr(compilenotice, "_announced", set())
    for _ in range(2):  # a second compile of the same thing (another thread's) says nothing
        with solver._compile_notice("the endgame", True):
            time.sleep(0.2)
    with solver._compile_notice("a cached kernel", False):
        time.sleep(0.2)
    with solver._compile_notice("a quick compile", True):  # done before the notice is due
        pass
    time.sleep(0.1)
    assert err.getvalue() == ("pathtrack: compiling the endgame (first run only; later runs load it from Numba's "
                              "cache)...\n")


def test_every_compiled_piece_of_a_polyhedral_solve_has_a_compile_notice(monkeypatch):
    """The mixed-cell search's linear programs and the toric tracker, compiled once a polyhedral solve
    reaches them, say so on a terminal as the up-front tracker does."""
    import contextlib

    from pathtrack.polynomial import solve, solver

    seen = []

    @contextlib.contextmanager
    def notice(what, compiling):
        seen.append(what)
        yield

    from pathtrack import compilenotice
    from pathtrack.polynomial import polyhedral

    monkeypatch.setattr(solver, "_compile_notice", notice)
    monkeypatch.setattr(compilenotice, "compile_notice", notice)
    monkeypatch.setattr(polyhedral, "_LP_READY", [])  # as in a fresh process, whatever ran before
    r = solve(["x^3*y + y^2 - 1", "x*y^2 + x - 2"], start="polyhedral", progress=False)
    assert len(r.solutions) == 8  # its mixed volume
    assert {"the linear programs of the mixed-cell search", "the polynomial tracker track_batch",
            "the polynomial tracker track_toric_batch"} <= set(seen), seen


def test_lapack_without_scipy_linalg_is_scipys_to_the_bit():
    """pathtrack.linalg calls scipy's LAPACK wrappers without importing the scipy.linalg package: the same
    routines, workspaces and so the same bits as scipy.linalg's qr, svd and svdvals."""
    import numpy as np
    import scipy.linalg

    from pathtrack import linalg

    assert linalg._getrf is scipy.linalg.lapack.get_lapack_funcs(("getrf",), dtype=np.float64)[0]
    rng = np.random.default_rng(3)
    for shape in [(5, 4), (7, 7), (13, 12), (6, 1)]:
        A = rng.standard_normal(shape)
        for got, want in [(linalg.qr_full(A), scipy.linalg.qr(A, mode="full", check_finite=False)),
                          (linalg.qr_full(A[:, ::-1]), scipy.linalg.qr(A[:, ::-1], mode="full", check_finite=False)),
                          (linalg.svd(A), scipy.linalg.svd(A, check_finite=False)),
                          (linalg.svd(A.T), scipy.linalg.svd(A.T, check_finite=False)),
                          ((linalg.svdvals(A),), (scipy.linalg.svdvals(A, check_finite=False),))]:
            assert all(np.array_equal(g, w) for g, w in zip(got, want)), shape
    # a wide or complex matrix goes to scipy.linalg itself
    B = rng.standard_normal((3, 5)) + 0j
    assert all(np.array_equal(g, w) for g, w in zip(linalg.svd(B), scipy.linalg.svd(B, check_finite=False)))


def test_bundled_plugins_are_found_without_scanning_every_distribution():
    """A bundled problem or family is read from pathtrack's own entry_points.txt (no importlib.metadata);
    the same entry points as importlib.metadata reports, and other names still go through it."""
    from importlib.metadata import entry_points

    from pathtrack import registry

    for group in (registry.GROUP, registry.SYSTEMS_GROUP):
        own = registry._own_entry_points()[group]
        want = {ep.name: ep.value for ep in entry_points(group=group)}
        assert {k: ep.value for k, ep in own.items()} == want
    full = registry.entry_points_of(registry.GROUP)["pitchfork"]
    assert registry.entry_point(registry.GROUP, "pitchfork").load() is full.load()
    assert registry.entry_point(registry.GROUP, "no-such-problem") is None
    with pytest.raises(registry.UnknownProblemError, match="unknown problem 'no-such-problem'; registered: "):
        registry.load_problem_class("no-such-problem")
