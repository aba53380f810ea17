"""Benchmark: pathtrack.solve (pathtrack.polynomial) against PHCpack's blackbox solver ``phc -b -t2`` on the same systems.

Run ``python benchmarks/bench_polynomial.py [SYSTEM ...] [--seed S] [--workers K]``. For each system
it prints both wall times, their ratio (pathtrack / phc), both solution counts (finite
isolated solutions: pathtrack regular + isolated singular; phc regular + singular, as phc lists
them), pathtrack's distinct singular endpoints on positive-dimensional components (``pt posdim``,
not counted as solutions: cyclic:8's curve), the number of
paths each tracked (phc: its polyhedral homotopy's stable mixed volume) and pathtrack's start
system (``--start auto``, the default here: polyhedral where it has fewer paths than the total
degree; ``--start total_degree`` or ``polyhedral`` to force one).
CPU seconds (all threads) are printed too: on a shared, loaded machine they are the steadier
measure, while the ratio is of wall times.
Without ``phc`` on PATH it prints a note and times pathtrack alone. pathtrack is warmed up
first so Numba compilation is not timed. The 1-minute load average is printed before each
system: other processes on the machine slow both solvers.

``--seeds 0-9`` (or ``0,3,7``) checks instead that the counts do not depend on the seed: it
solves every system once per seed, prints the counts of each run, and exits with status 1
unless every run has 0 failed paths, one regular path per regular solution (no crossing
left), and the same counts, equal to the known ones where :data:`EXPECTED` has them.
"""

from __future__ import annotations

import argparse
import os
import resource
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from pathtrack.polynomial import REGULAR, as_system, solve  # noqa: E402

DEFAULT = ["katsura:9", "katsura:10", "katsura:11", "cyclic:7", "cyclic:6", "noon:5", "eco:8", "cyclic:8", "eco:10"]
SEED_DEFAULT = ["katsura:9", "katsura:10", "cyclic:7", "noon:5", "eco:8"]

# Known numbers of isolated solutions (all regular), as in issue #4 and PHCpack's blackbox.
EXPECTED = {**{f"katsura:{n}": 2**n for n in range(2, 13)}, "cyclic:5": 70, "cyclic:6": 156, "cyclic:7": 924,
            "noon:5": 233, "eco:8": 64, "eco:10": 256}


def parse_seeds(text: str) -> list:
    """``'0-9'``, ``'0,3,7'`` or a mix (``'0-2,5'``) as a list of ints."""
    seeds = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            seeds.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        except ValueError:
            raise argparse.ArgumentTypeError(f"seeds are like 0-9 or 0,3,7, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}")
    return seeds


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "load ?"


def check_seeds(specs, seeds, workers, start="auto") -> bool:
    """Solve each system once per seed and print the counts; True when every run is clean and all agree."""
    head = (f"{'system':<11} {'seed':>4} {'wall':>7} {'regular':>7} {'singular':>8} {'at inf':>6} "
            f"{'failed':>6} {'reg paths':>9} {'crossed':>7} {'retracked':>9}")
    all_ok = True
    for spec in specs:
        print(f"{spec}  ({load()})")
        print(head)
        counts = set()
        clean = True
        for seed in seeds:
            res = solve(spec, seed=seed, workers=workers, start=start)
            reg_paths = int((res.path_kind == REGULAR).sum())
            counts.add((res.n_regular, res.n_singular, res.n_at_infinity))
            clean &= res.n_failed == 0 and reg_paths == res.n_regular
            print(f"{spec:<11} {seed:>4} {res.wall_time:>7.2f} {res.n_regular:>7} {res.n_singular:>8} "
                  f"{res.n_at_infinity:>6} {res.n_failed:>6} {reg_paths:>9} {res.n_path_crossings:>7} "
                  f"{res.n_retracked:>9}", flush=True)
        want = EXPECTED.get(spec)
        ok = clean and len(counts) == 1 and (want is None or next(iter(counts))[0] == want)
        all_ok &= ok
        verdict = "stable" if ok else "NOT STABLE"
        expected = f", expected {want} regular" if want is not None else ""
        print(f"{spec}: {verdict} over {len(seeds)} seeds; counts (regular, singular, at infinity) seen: "
              f"{sorted(counts)}{expected}\n", flush=True)
    return all_ok


def phc_input(system) -> str:
    """The system in PHCpack's input format."""
    return f"{system.n_equations}\n" + "".join(f"{p};\n" for p in system.to_strings())


def run_phc(system, threads: int, timeout: float):
    """Time ``phc -b -tK``; returns (wall s, CPU s, solutions, paths) or None where phc is absent."""
    exe = shutil.which("phc")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.phc"), os.path.join(tmp, "out.phc")
        with open(src, "w") as fh:
            fh.write(phc_input(system))
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([exe, "-b", f"-t{threads}", src, out], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        text = open(out).read()

    def number(label):
        m = re.search(label + r"\s*:\s*(\d+)", text)
        return int(m.group(1)) if m else None

    def total(label):  # the blackbox may solve in stages (e.g. solutions with zero components first)
        return sum(int(v) for v in re.findall(label + r"\s*:\s*(\d+)", text))

    n_sol = total("Number of regular solutions") + total("Number of singular solutions")
    paths = number("stable mixed volume") or number("mixed volume") or number("total degree")
    return wall, cpu, n_sol, paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("systems", nargs="*", help=f"default: {' '.join(DEFAULT)} (with --seeds: "
                    f"{' '.join(SEED_DEFAULT)})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=parse_seeds, default=None,
                    help="check the counts over these seeds (e.g. 0-9) instead of timing against phc")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--phc-threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--start", choices=["auto", "polyhedral", "total_degree"], default="auto",
                    help="pathtrack's start system (default: auto)")
    args = ap.parse_args(argv)

    # compile / load the Numba cache of both homotopies (the toric one is the polyhedral start's)
    solve("katsura:3", seed=args.seed, workers=args.workers)
    if args.start != "total_degree":
        solve("eco:4", seed=args.seed, workers=args.workers, start="polyhedral")
    if args.seeds is not None:
        return 0 if check_seeds(args.systems or SEED_DEFAULT, args.seeds, args.workers, args.start) else 1
    if shutil.which("phc") is None:
        print("note: phc (PHCpack) not found on PATH; timing pathtrack only (apt-get install phcpack)")
    head = (f"{'system':<11} {'pt wall':>8} {'phc wall':>8} {'ratio':>6} {'pt cpu':>7} {'phc cpu':>7} "
            f"{'pt sols':>7} {'phc sols':>8} {'pt posdim':>9} {'pt paths':>8} {'phc paths':>9} {'pt inf':>6} "
            f"{'pt fail':>7} {'pt start':>12}")
    print(head)
    print("-" * len(head))
    for spec in args.systems or DEFAULT:
        print(f"# {spec}: {load()}", flush=True)
        system = as_system(spec)
        c0 = time.process_time()
        res = solve(system, seed=args.seed, workers=args.workers, start=args.start)
        pt_cpu = time.process_time() - c0
        ph = run_phc(system, args.phc_threads, args.timeout)
        pt_sols = res.n_regular + res.n_isolated_singular
        posdim = f"{res.n_positive_dimensional:>9}"
        if ph is None:
            cols = f"{'-':>8} {'-':>6} {pt_cpu:>7.2f} {'-':>7} {pt_sols:>7} {'-':>8} {posdim} {res.n_paths:>8} {'-':>9}"
        else:
            cols = (f"{ph[0]:>8.2f} {res.wall_time / ph[0]:>6.2f} {pt_cpu:>7.2f} {ph[1]:>7.2f} {pt_sols:>7} "
                    f"{ph[2]:>8} {posdim} {res.n_paths:>8} {ph[3] if ph[3] is not None else '?':>9}")
        print(f"{spec:<11} {res.wall_time:>8.2f} {cols} {res.n_at_infinity:>6} {res.n_failed:>7} {res.start:>12}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
