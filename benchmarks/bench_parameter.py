"""Benchmark: one parametrized system solved at many parameter values, by a parameter homotopy and by fresh solves.

Run ``python benchmarks/bench_parameter.py [--system eco:6] [--targets 1000] [--fresh 1000] [--phc 5]
[--workers K] [--seed S]``. The system is a family (``NAME:n``) whose constant terms get one
parameter each (equation ``k`` becomes ``f_k(x) + c_k``). ``solve_parameters`` solves it once at
a random complex ``c0`` (total degree) and tracks those solutions to ``--targets`` random real
parameter values; each of the first ``--fresh`` targets is also solved from scratch by
``solve`` (total degree), and the first ``--phc`` by ``phc -b -t2`` when ``phc`` is on PATH.
It prints paths per second and seconds per instance for each method, in the same run, with
the ratios against the parameter homotopy, and checks that every instance solved both ways
has the same number of regular solutions (exit status 1 otherwise). Numba compilation is done
before timing. The 1-minute load average is printed: other processes slow every method.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, HERE)

from bench_polynomial import load, run_phc  # noqa: E402

from pathtrack.polynomial import as_parametrized, as_system, parse_polynomials, solve, solve_parameters  # noqa: E402


def parametrized_family(spec: str):
    """The family ``spec`` with a parameter ``c_k`` added to equation ``k``."""
    base = as_system(spec)
    texts = [f"{p} + c{k}" for k, p in enumerate(base.to_strings())]
    names = list(base.variables) + [f"c{k}" for k in range(base.n_equations)]
    joint = parse_polynomials(texts, names, name=f"{spec}+c")
    return as_parametrized(joint, names[base.n_variables:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="eco:6", help="family NAME:n (default eco:6: 16 solutions, 162 paths)")
    ap.add_argument("--targets", type=int, default=1000, help="parameter values to solve at")
    ap.add_argument("--fresh", type=int, default=1000, help="of them, how many to solve from scratch too")
    ap.add_argument("--phc", type=int, default=5, help="of them, how many to solve with phc -b -t2 too")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    ps = parametrized_family(args.system)
    rng = np.random.default_rng(args.seed)
    targets = rng.standard_normal((args.targets, ps.n_parameters))
    # compile (or load from Numba's cache) both kernels before timing
    solve_parameters(ps, targets[:1], seed=args.seed, workers=args.workers)
    print(f"{ps.name}: {ps.n_variables} unknowns, {ps.n_parameters} parameters, Bezout number "
          f"{int(np.prod(ps.degrees))}; {load()}", flush=True)

    t0 = time.perf_counter()
    start = solve(ps.at(_c0(ps, args.seed)), seed=args.seed, workers=args.workers)
    t_start = time.perf_counter() - t0
    c0 = time.process_time()
    t0 = time.perf_counter()
    res = solve_parameters(ps, targets, start_solutions=start, q0=_c0(ps, args.seed), seed=args.seed,
                           workers=args.workers)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_paths = res.counters["n_paths"]
    rows = [("parameter homotopy", args.targets, n_paths, wall, cpu)]
    counts = res.counts(only_real=False)
    print(f"start solve at a random complex c0: {start.n_paths} paths, {start.n_regular} regular, "
          f"{t_start:.2f} s; parameter homotopy: {res.counters['n_steps']} steps, "
          f"{sum(r.n_failed for r in res.results)} failed paths, regular per target {_spread(counts)}", flush=True)

    mismatched = []
    k = min(args.fresh, args.targets)
    if k:
        c0 = time.process_time()
        t0 = time.perf_counter()
        fresh = [solve(ps.at(q), seed=args.seed, workers=args.workers) for q in targets[:k]]
        rows.append(("fresh solve", k, sum(r.n_paths for r in fresh), time.perf_counter() - t0,
                     time.process_time() - c0))
        mismatched = [i for i, r in enumerate(fresh) if r.n_regular != counts[i]]
        print(f"fresh solves: regular per target {_spread(np.array([r.n_regular for r in fresh]))}; "
              f"counts differ at {len(mismatched)} of {k} targets {mismatched[:10]}", flush=True)
    k = min(args.phc, args.targets)
    if k:
        results = [run_phc(ps.at(q), 2, 600) for q in targets[:k]]
        if all(r is not None for r in results):
            rows.append(("phc -b -t2", k, sum(r[3] or 0 for r in results), sum(r[0] for r in results),
                         sum(r[1] for r in results)))
            print(f"phc: solutions per target {[r[2] for r in results]} (parameter homotopy: "
                  f"{counts[:k].tolist()})", flush=True)
        else:
            print("note: phc (PHCpack) not found on PATH; no phc row")

    head = (f"{'method':<19} {'instances':>9} {'paths':>8} {'wall s':>8} {'cpu s':>8} {'paths/s':>9} "
            f"{'s/instance':>10} {'vs param':>8}")
    print(head)
    print("-" * len(head))
    per_instance = wall / args.targets
    for name, n, paths, w, c in rows:
        print(f"{name:<19} {n:>9} {paths:>8} {w:>8.2f} {c:>8.2f} {paths / w:>9.0f} {w / n:>10.5f} "
              f"{(w / n) / per_instance:>7.1f}x", flush=True)
    return 1 if mismatched else 0


def _c0(ps, seed):
    from pathtrack.polynomial import random_parameters

    return random_parameters(ps.n_parameters, seed)


def _spread(counts: np.ndarray) -> str:
    values, freq = np.unique(counts, return_counts=True)
    return ", ".join(f"{v} at {f}" for v, f in zip(values, freq))


if __name__ == "__main__":
    raise SystemExit(main())
