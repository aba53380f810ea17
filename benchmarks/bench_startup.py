"""Benchmark: time to first result of the command line, from a fresh clone, cold and warm.

Run ``python benchmarks/bench_startup.py [--repeats 5] [--cold-repeats 1] [--cores 2] [--rev REV]
[--baseline REV] [--keep]``. It clones the repository's committed HEAD, or ``REV`` (``git clone``
of this checkout), into a temporary directory, creates a virtual environment there that reuses
this environment's installed packages (a ``.pth`` file adds this interpreter's site-packages after
the new environment's own), and installs the clone into it with ``pip install --no-deps -e``
(timed, and not counted). With ``--baseline`` it does the same for a second commit, and measures
both in the same run, alternating between them command by command so that a change of load
hits both alike. Then it measures, each command in its own process with ``NUMBA_CACHE_DIR``
pointing at a directory of its own:

- ``pathtrack solve katsura:5`` with an empty Numba cache (cold: compilation included),
  ``--cold-repeats`` times, each with a new empty cache; then warm (``--repeats`` runs);
- ``pathtrack run bratu1d`` warm;
- ``python -c "import pathtrack"`` warm;

and, with ``--endgame``, ``pathtrack solve`` of a system with two double roots with an empty Numba
cache (its paths need the endgame, which is compiled only then; no target);

and prints for each the minimum and the median wall time, the minimum against its target (ratio
measured / target), and the smallest CPU time (user + system) of the measured process, which
load inflates less than wall time. Machines are noisy, and a loaded one slows every row alike:
``python -c "import numpy"``, measured in the same run, is printed as a reference, and each row
is also given in units of it. ``python -c "import numpy, numba"`` is printed too: the floor of a
warm ``solve`` as long as it loads its kernels through Numba. With ``--baseline`` the ratios rev / baseline of the minima follow.
The 1-minute load average is printed before and after. ``--cores N`` (default 2) pins the
measured processes to N cores where the machine has more.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import site
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Targets in seconds (issue "Cold start and warm start").
TARGETS = {
    "solve katsura:5, empty Numba cache": 10.0,
    "solve katsura:5, warm": 0.6,
    "run bratu1d, warm": 0.6,
    "import pathtrack": 0.3,
}
#: Rows measured with --endgame, no target: a system whose paths need the endgame (x = 1, y = ±2, each double).
ENDGAME_ROW = "solve double roots, empty cache"
#: Row measured with the warm ones, no target: what importing Numba alone costs (a warm solve's floor).
NUMBA_ROW = "reference: import numpy, numba"
DOUBLE_ROOTS = "2\n x^2 - 2*x + 1;\n y^2 - 4;\n"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def make_env(root: Path, rev: str) -> tuple:
    """Clone, create the environment, install; returns (python, pathtrack script, clone dir, install seconds)."""
    clone = root / "pathtrack"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", rev], check=True)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # this environment's packages, after the new environment's own (the clone's install wins)
    ours = [p for p in dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]]) if os.path.isdir(p)]
    Path(purelib, "_bench_startup_parent.pth").write_text("\n".join(ours) + "\n")
    t = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(clone)], check=True,
                   cwd=root)
    return python, venv / "bin" / "pathtrack", clone, time.perf_counter() - t


def timed(cmd, env, cwd, cores: int) -> tuple:
    """Wall and CPU (user + system) seconds of one run of ``cmd`` (stdout discarded; a failure stops the
    benchmark)."""
    def pin():
        if cores and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > cores:
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          preexec_fn=pin)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr}")
    return dt, (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)


def measure(python, script, root: Path, name: str, args) -> dict:
    """Rows of one installed revision: ``{row: [(wall, cpu), ...]}``, each command in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON"))}
    env.update(MPLBACKEND="Agg")
    run = lambda cmd, cache: timed(cmd, {**env, "NUMBA_CACHE_DIR": str(cache)}, root, args.cores)  # noqa: E731
    rows = {key: [] for key in TARGETS}
    warm = root / f"numba_cache_{name}"
    for i in range(args.cold_repeats):  # each cold run gets a new empty cache; the last one stays as the warm cache
        cache = warm if i == args.cold_repeats - 1 else root / f"numba_cache_{name}_cold{i}"
        cache.mkdir()
        rows["solve katsura:5, empty Numba cache"].append(run([script, "solve", "katsura:5"], cache))
        if args.endgame:
            system = root / "double_roots.phc"
            system.write_text(DOUBLE_ROOTS)
            (root / f"numba_cache_{name}_endgame{i}").mkdir()
            rows.setdefault(ENDGAME_ROW, []).append(run([script, "solve", str(system)],
                                                        root / f"numba_cache_{name}_endgame{i}"))
    if args.cold_repeats:
        run([script, "run", "bratu1d"], warm)  # bratu1d's first run, not counted
    for _ in range(args.repeats):
        rows["solve katsura:5, warm"].append(run([script, "solve", "katsura:5"], warm))
        rows["run bratu1d, warm"].append(run([script, "run", "bratu1d"], warm))
        rows["import pathtrack"].append(run([python, "-c", "import pathtrack"], warm))
        rows.setdefault("reference: import numpy", []).append(run([python, "-c", "import numpy"], warm))
        rows.setdefault(NUMBA_ROW, []).append(run([python, "-c", "import numpy, numba"], warm))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="warm runs per command")
    ap.add_argument("--cold-repeats", type=int, default=1, help="runs with an empty Numba cache")
    ap.add_argument("--cores", type=int, default=2, help="pin measured processes to this many cores (0: no pin)")
    ap.add_argument("--rev", default="HEAD", help="the commit to measure (default: HEAD of this checkout)")
    ap.add_argument("--baseline", help="also measure this commit, in the same run, and print the ratio rev/baseline")
    ap.add_argument("--endgame", action="store_true",
                    help="also time a first solve whose paths need the endgame (empty Numba cache)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        revs = {}
        for name in ("rev", "baseline"):
            ref = getattr(args, name)
            if ref:
                revs[name] = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], check=True,
                                            capture_output=True, text=True).stdout.strip()
        print(f"load average {_load()}; clone of {REPO} at {', '.join(f'{k} {v}' for k, v in revs.items())} "
              f"(committed state) in {root}")
        envs = {}
        for name, rev in revs.items():
            (root / name).mkdir()
            python, script, clone, t_install = make_env(root / name, rev)
            print(f"{name} {rev}: install (pip install --no-deps -e, not counted): {t_install:.1f} s")
            timed([python, "-c", "import numpy, pathtrack"], dict(os.environ), root, args.cores)  # .pyc files
            envs[name] = (python, script)
        # alternate the revisions, a command at a time, so that a change of load hits both alike
        results = {name: {} for name in envs}
        for cold in range(args.cold_repeats):
            for name, (python, script) in envs.items():
                one = argparse.Namespace(**{**vars(args), "cold_repeats": 1, "repeats": 0})
                rows = measure(python, script, root / name, f"c{cold}", one)
                for key in ("solve katsura:5, empty Numba cache", ENDGAME_ROW):
                    results[name].setdefault(key, []).extend(rows.get(key, []))
        for _ in range(args.repeats):
            for name, (python, script) in envs.items():
                one = argparse.Namespace(**{**vars(args), "cold_repeats": 0, "repeats": 1})
                rows = measure(python, script, root / name, f"c{args.cold_repeats - 1}", one)
                for key, values in rows.items():
                    results[name].setdefault(key, []).extend(values)

        ref = {name: min(w for w, _ in rows["reference: import numpy"]) for name, rows in results.items()}
        print(f"\nreference: python -c 'import numpy', minimum of {args.repeats}: "
              + ", ".join(f"{name} {value:.3f} s" for name, value in ref.items()))
        for name, rows in results.items():
            print(f"\n{name} {revs[name]}: minimum (median) of {args.cold_repeats} cold and {args.repeats} warm runs")
            print(f"{'command':<36} {'target/s':>9} {'min/s':>8} {'median/s':>9} {'ratio':>6} {'x numpy':>8} "
                  f"{'cpu/s':>7}")
            for key, target in TARGETS.items():
                walls, cpus = [w for w, _ in rows[key]], [c for _, c in rows[key]]
                value = min(walls)
                flag = "" if value <= target else "  over target"
                print(f"{key:<36} {target:9.2f} {value:8.3f} {statistics.median(walls):9.3f} {value / target:6.2f} "
                      f"{value / ref[name]:8.1f} {min(cpus):7.2f}{flag}")
            for extra in (NUMBA_ROW, ENDGAME_ROW):
                if rows.get(extra):
                    walls, cpus = [w for w, _ in rows[extra]], [c for _, c in rows[extra]]
                    print(f"{extra:<36} {'-':>9} {min(walls):8.3f} {statistics.median(walls):9.3f} {'-':>6} "
                          f"{min(walls) / ref[name]:8.1f} {min(cpus):7.2f}")
        if "baseline" in results:
            print(f"\nrev {revs['rev']} / baseline {revs['baseline']}, of the minima (wall, CPU):")
            for key in [*TARGETS, NUMBA_ROW, *([ENDGAME_ROW] if args.endgame else [])]:
                a, b = results["rev"][key], results["baseline"][key]
                print(f"{key:<36} wall {min(w for w, _ in a) / min(w for w, _ in b):5.2f}  "
                      f"cpu {min(c for _, c in a) / min(c for _, c in b):5.2f}")
        print(f"\nload average {_load()}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
