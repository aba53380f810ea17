"""Benchmark: time to first result of the command line, from a fresh clone, cold and warm.

Run ``python benchmarks/bench_startup.py [--repeats 5] [--cores 2] [--rev REV] [--keep]``. It
clones the repository's committed HEAD, or ``REV`` (``git clone`` of this checkout), into a
temporary directory,
creates a virtual environment there that reuses this environment's installed packages (a
``.pth`` file adds this interpreter's site-packages after the new environment's own), and
installs the clone into it with ``pip install --no-deps -e`` (timed, and not counted). Then it
measures, each command in its own process with ``NUMBA_CACHE_DIR`` pointing at a new empty
directory:

- ``pathtrack solve katsura:5`` once with the empty Numba cache (cold: compilation included),
  then warm (the median of ``--repeats`` runs);
- ``pathtrack run bratu1d`` warm;
- ``python -c "import pathtrack"`` warm;

and prints each against its target with the ratio measured / target, and the CPU time (user +
system) of the measured process, which load inflates less than wall time. Machines are noisy, and
a loaded one slows every row alike: the median of ``python -c "import numpy"`` measured in the
same run is printed as a reference, and each row is also given in units of it. The 1-minute
load average is printed before and after. ``--cores N`` (default 2) pins the measured
processes to N cores where the machine has more.
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="warm runs per command (median)")
    ap.add_argument("--cores", type=int, default=2, help="pin measured processes to this many cores (0: no pin)")
    ap.add_argument("--rev", default="HEAD", help="the commit to measure (default: HEAD of this checkout)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.rev], check=True,
                             capture_output=True, text=True).stdout.strip()
        print(f"load average {_load()}; clone of {REPO} at {rev} (committed state) in {root}")
        python, script, clone, t_install = make_env(root, rev)
        print(f"install (pip install --no-deps -e, not counted): {t_install:.1f} s")
        cache = root / "numba_cache"
        cache.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON"))}
        env.update(NUMBA_CACHE_DIR=str(cache), MPLBACKEND="Agg")
        run = lambda cmd: timed(cmd, env, root, args.cores)  # noqa: E731

        def rep(cmd):  # medians of wall and CPU seconds
            runs = [run(cmd) for _ in range(args.repeats)]
            return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)

        run([python, "-c", "import numpy, pathtrack"])  # write the clone's .pyc files: not a Numba matter
        ref = rep([python, "-c", "import numpy"])
        rows = {"solve katsura:5, empty Numba cache": run([script, "solve", "katsura:5"])}
        rows["solve katsura:5, warm"] = rep([script, "solve", "katsura:5"])
        run([script, "run", "bratu1d"])
        rows["run bratu1d, warm"] = rep([script, "run", "bratu1d"])
        rows["import pathtrack"] = rep([python, "-c", "import pathtrack"])

        print(f"\nreference: python -c 'import numpy' {ref[0]:.3f} s, CPU {ref[1]:.3f} s (median of "
              f"{args.repeats})\n")
        print(f"{'command':<36} {'target/s':>9} {'measured/s':>11} {'ratio':>6} {'x numpy':>8} {'cpu/s':>7}")
        for name, (value, cpu) in rows.items():
            target = TARGETS[name]
            flag = "" if value <= target else "  over target"
            print(f"{name:<36} {target:9.2f} {value:11.3f} {value / target:6.2f} {value / ref[0]:8.1f} "
                  f"{cpu:7.2f}{flag}")
        print(f"\nload average {_load()}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
