"""Measure the HTA paper's global-minimum table: HTA (pathtrack) vs scipy BFGS from the same starts.

    python benchmarks/bench_hta.py                 # rows n = 2, 4, 6 (all cores)
    python benchmarks/bench_hta.py --rows 2,4 --json out.json
    python benchmarks/bench_hta.py --rows 4 --every 5 --anchor -3 --split alternate   # a variant, every 5th start

Prints one Markdown table with the paper's counts, the measured counts, and wall
time per start (total wall / starts, and mean single-start time inside a worker).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from problems.hta.table import format_table, measure_row  # noqa: E402


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
