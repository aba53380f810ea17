"""Benchmark: the predator-prey diagram (AUTO-07p demo pp2's model) in pathtrack and in AUTO-07p, same run.

Run ``python benchmarks/bench_bifurcation.py``. It builds the diagram of the ``predprey``
plugin with ``pathtrack.diagram(depth=2)`` in this process (Python start-up and imports
excluded from the time), then, when ``auto-07p`` and ``gfortran`` are on PATH, runs
``benchmarks/auto/pp`` (one AUTO run with automatic branch switching) in a temporary
directory: compilation is timed apart from the run. It prints, for every special point,
the closed form, AUTO's value (11 significant digits, as its s-file stores them) and
pathtrack's, then both wall times, their ratio and the largest difference.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
AUTO_DIR = REPO / "benchmarks" / "auto" / "pp"


def closed_forms(p2=3.0, p3=5.0, p4=3.0):
    """λ of BP1, BP2, LP and HB without any continuation (LP by brentq on dλ/du₁ = 0 of the prey-only branch)."""
    from scipy.optimize import brentq

    u = 1.0 / p4
    lam_u = lambda x: p2 * x * (1 - x) / (1 - np.exp(-p3 * x))  # noqa: E731 (prey-only branch λ(u₁))
    dlam = lambda x: (lam_u(x + 1e-7) - lam_u(x - 1e-7)) / 2e-7  # noqa: E731
    u_lp = brentq(dlam, 0.35, 0.5, xtol=1e-14)
    # coexistence u₁ = 1/p₄: trace of the Jacobian = p₂(1 − 2u) − u₂ − λp₃e^(−p₃u) with u₂ from f₁ = 0
    e = np.exp(-p3 * u)

    def trace(lam):  # (J₂₂ = −1 + p₄u₁ = 0 there)
        u2 = p2 * (1 - u) - lam * (1 - e) / u
        return p2 * (1 - 2 * u) - u2 - lam * p3 * e
    hb = brentq(trace, 0.1, 1.0, xtol=1e-15)
    return {"BP1": p2 / p3, "BP2": lam_u(u), "LP": lam_u(u_lp), "HB": hb}


def run_pathtrack():
    from pathtrack.diagram import diagram
    from pathtrack_problems.predprey import PredatorPrey

    pb = PredatorPrey()
    t0 = time.perf_counter()
    r = diagram(pb, depth=2)
    wall = time.perf_counter() - t0
    pts = {}
    for b in r.branches:
        for sp in b.result.special_points:
            key = {"fold": "LP", "hopf": "HB"}.get(sp.kind)
            if sp.kind == "bp":
                key = "BP1" if sp.lam < 0.7 else "BP2"
            pts.setdefault(key, sp.lam)
    return pts, wall, r


def run_auto():
    """``(points, compile_s, run_s)`` or None without auto-07p/gfortran."""
    if not (shutil.which("auto-07p") and shutil.which("gfortran")):
        return None
    sys.path.insert(0, str(AUTO_DIR))
    from parse_s import special_points

    with tempfile.TemporaryDirectory() as d:
        for name in ("pp.f90", "c.pp", "run.auto"):
            shutil.copy(AUTO_DIR / name, d)
        t0 = time.perf_counter()
        subprocess.run(["gfortran", "-c", "-O2", "pp.f90"], cwd=d, check=True, capture_output=True)
        t1 = time.perf_counter()
        subprocess.run(["auto-07p", "run.auto"], cwd=d, check=True, capture_output=True, env=dict(os.environ))
        t2 = time.perf_counter()
        pts = {}
        for kind, _lab, _br, p1, _u in special_points(os.path.join(d, "s.pp")):
            key = kind if kind != "BP" else ("BP1" if p1 < 0.7 else "BP2")
            pts.setdefault(key, p1)
    return pts, t1 - t0, t2 - t1


def main() -> None:
    exact = closed_forms()
    mine, wall, r = run_pathtrack()
    auto = run_auto()
    print(f"pathtrack: {r.n_branches} branches, status {r.status.name} ({r.message})")
    print(f"{'point':<5} {'closed form':>20} {'AUTO-07p':>16} {'pathtrack':>20} {'|pt - exact|':>13} "
          f"{'|AUTO - exact|':>15}")
    worst = 0.0
    for key in ("BP1", "BP2", "LP", "HB"):
        a = auto[0].get(key, float("nan")) if auto else float("nan")
        m = mine.get(key, float("nan"))
        worst = max(worst, abs(m - a)) if auto else worst
        print(f"{key:<5} {exact[key]:>20.16f} {a:>16.11f} {m:>20.16f} {abs(m - exact[key]):>13.2e} "
              f"{abs(a - exact[key]):>15.2e}")
    print(f"pathtrack wall time {wall:.3f} s (diagram(depth=2), imports excluded)")
    if auto:
        print(f"AUTO-07p wall time {auto[2]:.3f} s (run, with its own compile and link of the model; "
              f"gfortran -c alone {auto[1]:.3f} s)")
        print(f"ratio pathtrack / AUTO {wall / auto[2]:.2f}; largest |pathtrack - AUTO| = {worst:.2e}")
    else:
        print("AUTO-07p: not run (auto-07p or gfortran not on PATH)")


if __name__ == "__main__":
    main()
