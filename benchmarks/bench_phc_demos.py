"""Root counts of pathtrack.solve against PHCpack's ``phc -b -t2`` on PHCpack's demo systems.

Run ``python benchmarks/bench_phc_demos.py [NAME ...] [--examples DIR] [--seed S]``. ``DIR`` holds
PHCpack's example systems (the Debian package ``phcpack`` installs them in
``/usr/share/doc/phcpack/examples``). For each system it solves once without scaling
(``SolveOptions(scaling=False)``) and once with the default options, runs ``phc -b -t2`` on
the same equations, and prints a Markdown table: unknowns, total degree (paths), phc's finite
solutions (regular + singular, as phc counts them: one per path; the most over ``--phc-runs``
runs, as its count varies from run to run) and the time of that run, pathtrack's finite
solutions without and with scaling as ``total = regular + paths at singular points``, its
paths at infinity and failed paths (default options) and its time. pathtrack is warmed up first so that Numba compilation is not timed. The exit status
is 1 when, with the default options, pathtrack finds fewer finite solutions than phc on some
system.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_polynomial import load, run_phc  # noqa: E402

from pathtrack.polynomial import SolveOptions, read_phc, solve  # noqa: E402

#: Demo systems (file names in PHCpack's examples) with at most a few thousand total-degree paths.
DEMOS = ["comb3000", "chemequ", "chemkin", "lorentz", "lumped", "s9_1", "trinks", "wood", "solotarev",
         "conform1", "camera1s", "kinema", "puma", "tangents0", "pb601", "caprasse", "game4two", "fourbar",
         "ipp", "des18_3", "geneig", "rose", "rbpl24", "heart", "speer", "cassou", "cohn2"]
DEBIAN_EXAMPLES = "/usr/share/doc/phcpack/examples"


def finite(res) -> int:
    """Paths ending at finite solutions: regular ones plus singular ones with their multiplicity,
    which is how ``phc -b`` counts (it lists each path's endpoint)."""
    return res.n_regular + int(res.multiplicities.sum())


def cell(res) -> str:
    return f"{finite(res)} = {res.n_regular} + {int(res.multiplicities.sum())}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("systems", nargs="*", help=f"demo file names (default: {' '.join(DEMOS)})")
    ap.add_argument("--examples", default=os.environ.get("PHCPACK_EXAMPLES", DEBIAN_EXAMPLES),
                    help="folder of PHCpack's example systems (default: $PHCPACK_EXAMPLES or Debian's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--phc-threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--phc-runs", type=int, default=3,
                    help="runs of phc per system (its counts vary from run to run): the most is shown")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.examples):
        print(f"no PHCpack examples in {args.examples!r} (apt-get install phcpack, or --examples DIR)")
        return 2
    if shutil.which("phc") is None:
        print("note: phc (PHCpack) not found on PATH; its columns stay empty (apt-get install phcpack)")

    solve("katsura:3", seed=args.seed, workers=args.workers)  # compile / load the Numba cache
    print(f"<!-- {load()}, seed {args.seed}, phc -b -t{args.phc_threads} -->")
    print("| system | n | total degree | phc finite | phc time (s) | pathtrack unscaled | pathtrack default "
          "| at infinity | failed | pathtrack time (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    short = []
    for name in args.systems or DEMOS:
        system = read_phc(os.path.join(args.examples, name))
        raw = solve(system, seed=args.seed, workers=args.workers, options=SolveOptions(scaling=False))
        res = solve(system, seed=args.seed, workers=args.workers)
        runs = [run_phc(system, args.phc_threads, args.timeout) for _ in range(args.phc_runs)]
        ph = None if None in runs else max(runs, key=lambda r: r[2])
        scaled = " (scaled)" if res.scaling is not None else ""
        phc_cols = "- | -"
        if ph is not None:
            lo = min(r[2] for r in runs)
            phc_cols = f"{ph[2]}{f' (runs: {lo} to {ph[2]})' if lo < ph[2] else ''} | {ph[0]:.2f}"
        print(f"| {name} | {system.n_variables} | {system.bezout_number} | {phc_cols} | "
              f"{cell(raw)} | {cell(res)}{scaled} | "
              f"{res.n_at_infinity} | {res.n_failed} | {res.wall_time:.2f} |", flush=True)
        if ph is not None and finite(res) < ph[2]:
            short.append(name)
    if short:
        print(f"\nfewer finite solutions than phc: {' '.join(short)}")
    return 1 if short else 0


if __name__ == "__main__":
    raise SystemExit(main())
