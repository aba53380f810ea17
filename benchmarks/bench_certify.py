"""Benchmark: the cost of certifying a solve's solutions (pathtrack.polynomial.certify) against the solve.

Run ``python benchmarks/bench_certify.py [SYSTEM ...] [--seed S] [--workers K]``. For each system
(default katsura:6, katsura:7, katsura:8, cyclic:6) it solves once, then certifies the regular
solutions, and prints a Markdown table row: paths, regular solutions, the certified, distinct
and real counts (with, for comparison, the solver's floating-point count of real solutions,
``len(result.real_solutions())``: imaginary parts below 1e-8), both wall times and their ratio
(certify / solve), and both CPU times (all threads of this process) and their ratio. The solve runs the compiled tracker on threads;
certification runs the Krawczyk test in Arb ball arithmetic from Python, on one thread. Both
are warmed up first (Numba compilation, python-flint import) on katsura:3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from pathtrack.polynomial import certify, solve  # noqa: E402

DEFAULT = ["katsura:6", "katsura:7", "katsura:8", "cyclic:6"]


def _timed(fn, *args, **kwargs):
    """``(result, wall seconds, CPU seconds of the process)``."""
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("systems", nargs="*", default=DEFAULT)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="threads of the solve (default: all cores)")
    args = ap.parse_args()
    warm = solve("katsura:3", workers=args.workers)
    certify(warm.system, warm.solutions)
    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"
    print(f"load average {load}, solve workers {args.workers or 'all cores'}")
    print("| system | paths | regular | certified | distinct | real | solver's real | solve wall (s) | "
          "certify wall (s) | wall ratio | solve CPU (s) | certify CPU (s) | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for spec in args.systems:
        res, sw, sc = _timed(solve, spec, seed=args.seed, workers=args.workers)
        cert, cw, cc = _timed(certify, res.system, res.solutions)
        print(f"| {spec} | {res.n_paths} | {res.n_regular} | {cert.n_certified} | "
              f"{cert.n_certified_distinct} | {cert.n_certified_real} | {len(res.real_solutions())} | {sw:.2f} | {cw:.2f} | {cw / sw:.2f} | {sc:.2f} | {cc:.2f} | "
              f"{cc / sc:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
