"""Measure the HTA paper's global-minimum table: HTA (pathtrack) vs scipy BFGS from the same starts.

    python benchmarks/bench_hta.py                 # rows n = 2, 4, 6 (all cores; about 4 minutes on 2 cores)
    python benchmarks/bench_hta.py --rows 2        # the n = 2 row only (seconds)
    python benchmarks/bench_hta.py --rows 2,4 --json out.json
    python benchmarks/bench_hta.py --rows 4 --every 5 --anchor -3 --split alternate   # a variant, every 5th start

Prints one Markdown table with the paper's counts, the measured counts, and wall
time per start (total wall / starts, and mean single-start time inside a worker).
"""

import argparse
import itertools
import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pathtrack.multistart import multistart  # noqa: E402
from pathtrack_problems.hta.testfn import bfgs_start, hta_start  # noqa: E402

#: n -> the start grid's values per coordinate (the paper's starts).
ROWS: Dict[int, Sequence[float]] = {2: range(0, 6), 4: range(0, 6), 6: range(3, 7)}
#: n -> (paper: homotopy, paper: quasi-Newton) counts of starts reaching the global minimum.
PAPER: Dict[int, tuple] = {2: (36, 24), 4: (1296, 864), 6: (4096, 991)}


def grid_starts(n: int, values: Sequence[float]) -> List[np.ndarray]:
    """All starts in ``values``ⁿ, in lexicographic order."""
    return [np.array(s, dtype=float) for s in itertools.product([float(v) for v in values], repeat=n)]


def measure_row(n: int, values: Optional[Sequence[float]] = None, *, workers: Optional[int] = None, executor=None,
                progress: bool = False, every: int = 1, **hta_params) -> dict:
    """Run HTA and BFGS from every (``every``-th) start of the row; counts, timings and HTA diagnostics."""
    starts = grid_starts(n, ROWS[n] if values is None else values)[::every]
    out = {"n": n, "starts": len(starts)}
    for name, fn in (("hta", partial(hta_start, **hta_params)), ("bfgs", bfgs_start)):
        t0 = time.perf_counter()
        res = multistart(fn, starts, workers=workers, executor=executor, progress=progress)
        wall = time.perf_counter() - t0
        out[name] = {"global": int(sum(r["global"] for r in res)), "wall": wall, "wall_per_start": wall / len(starts),
                     "cpu_per_start": float(np.mean([r["wall_time"] for r in res])),
                     "grad_evals_per_start": float(np.mean([r["n_grad_evals"] for r in res]))}
        if name == "hta":
            out[name]["failed_paths"] = int(sum(r["status"] != "success" for r in res))
            out[name]["jumps_per_start"] = float(np.mean([r["n_jumps"] for r in res]))
            out[name]["max_hess_index"] = float(np.nanmax([r["max_hess_index"] for r in res]))
            out[name]["misses"] = [s.tolist() for s, r in zip(starts, res) if not r["global"]][:20]
    return out


def format_table(rows: List[dict]) -> str:
    """A Markdown table of measured rows next to the paper's numbers."""
    lines = ["| n | starts | paper: homotopy | paper: quasi-Newton | pathtrack HTA | scipy BFGS "
             "| HTA s/start (wall, cpu) | BFGS s/start (wall, cpu) | HTA jumps/start | HTA failed paths |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h, b = r["hta"], r["bfgs"]
        ph, pq = PAPER.get(r["n"], ("-", "-"))
        lines.append(f"| {r['n']} | {r['starts']} | {ph} | {pq} | {h['global']} ({100 * h['global'] / r['starts']:.1f}%) "
                     f"| {b['global']} ({100 * b['global'] / r['starts']:.1f}%) "
                     f"| {h['wall_per_start']:.4f}, {h['cpu_per_start']:.4f} | {b['wall_per_start']:.5f}, "
                     f"{b['cpu_per_start']:.5f} | {h['jumps_per_start']:.2f} | {h['failed_paths']} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="2,4,6", help="comma-separated n (2, 4, 6)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--every", type=int, default=1, help="use every k-th start of the grid (variants)")
    ap.add_argument("--anchor", type=float, default=None, help="anchor value (default 0)")
    ap.add_argument("--L-max", type=float, default=None)
    ap.add_argument("--L-min", type=float, default=None)
    ap.add_argument("--split", default=None, help="halves (default), alternate, random")
    args = ap.parse_args(argv)
    hta_params = {k: v for k, v in (("anchor", args.anchor), ("L_max", args.L_max), ("L_min", args.L_min),
                                    ("split", args.split)) if v is not None}
    if hta_params:
        print(f"# HTA parameters: {hta_params}")
    rows = []
    for n in (int(v) for v in args.rows.split(",")):
        t0 = time.perf_counter()
        rows.append(measure_row(n, workers=args.workers, progress=args.progress, every=args.every, **hta_params))
        print(f"# n = {n}: {time.perf_counter() - t0:.1f} s wall (HTA + BFGS), {os.cpu_count()} cores", flush=True)
    print(format_table(rows))
    for r in rows:
        if r["hta"]["misses"]:
            print(f"# n = {r['n']}: HTA missed from (first 20) {r['hta']['misses']}")
        print(f"# n = {r['n']}: largest Hessian index met on an HTA path: {r['hta']['max_hess_index']:g}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
