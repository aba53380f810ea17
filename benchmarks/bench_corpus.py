"""Root counts of pathtrack.solve on the corpus of systems with published counts, over several seeds.

Run ``python benchmarks/bench_corpus.py [--seeds 0-9] [--only NAME[,NAME...]] [--json] [--phc]``.
The systems are PHC input files in ``benchmarks/corpus/``; ``benchmarks/corpus/manifest.json``
gives for each its source, total degree and the expected counts: ``finite``, the isolated
solutions in C^n counted with multiplicity, which is the number of total-degree paths that
end at finite isolated points (``null`` where positive-dimensional solution sets also catch
paths), and ``regular``, the nonsingular ones (``null`` where the sources disagree).

Every system is solved once per seed with the default options (``--workers`` threads, 2
by default; ``--start`` picks the start system). A run is *right* when its ``n_regular`` and its finite paths
(``n_regular + sum(multiplicities)``) equal the expected counts the manifest has. It prints
one Markdown row per system: the expected count (``finite``, else ``regular`` marked ``r``),
what each seed found (``48`` when right, ``47 ✗`` when not, ``+kf`` when
``k`` paths failed), the paths tracked (the most over the seeds) and the median time per seed; with ``--phc`` also
``phc -b``'s count (regular + singular paths, as phc lists them) and time, in the same run.
``--json`` prints one JSON object per run instead.

The exit status is 1 when any run is not right, or (with ``--phc``) finds fewer finite
solutions than ``phc -b``; the systems concerned are named at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, HERE)

from bench_polynomial import load, parse_seeds, run_phc  # noqa: E402

from pathtrack.polynomial import read_phc, solve  # noqa: E402
from pathtrack.polynomial.solver import START_KINDS  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def load_manifest(folder: str = CORPUS) -> list:
    """The manifest's entries, in file order (a list of dicts)."""
    with open(os.path.join(folder, "manifest.json")) as fh:
        return json.load(fh)["systems"]


def expected(entry: dict) -> str:
    """The expected count shown: finite paths, or the regular count (marked ``r``) where only that is known."""
    return str(entry["finite"]) if entry["finite"] is not None else f"{entry['regular']} r"


def finite(res) -> int:
    """Paths ending at finite isolated points: regular ones plus singular points with their multiplicity."""
    return res.n_regular + int(res.multiplicities.sum())


def verdict(entry: dict, res) -> bool:
    """True when the run's counts are the expected ones (each only where the manifest has it)."""
    if entry["regular"] is not None and res.n_regular != entry["regular"]:
        return False
    return entry["finite"] is None or finite(res) == entry["finite"]


def cell(entry: dict, res) -> str:
    """``48`` when right, ``47 ✗`` when not, with ``+kf`` when ``k`` paths failed; the regular count
    follows in parentheses where the finite count is shown and differs from it."""
    text = str(finite(res)) if entry["finite"] is not None else f"{res.n_regular} r"
    if entry["finite"] is not None and entry["regular"] is not None and res.n_regular != finite(res):
        text += f" ({res.n_regular} r)"
    text += "" if verdict(entry, res) else " ✗"
    return text + (f" +{res.n_failed}f" if res.n_failed else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"), help="e.g. 0-9 or 0,3,7 (default 0-9)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="solve only these systems (repeat or separate with commas)")
    ap.add_argument("--max-degree", type=int, default=None, help="skip systems with a larger total degree")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON object per run instead of the table")
    ap.add_argument("--phc", action="store_true", help="also run phc -b -t2 once per system (slow)")
    ap.add_argument("--corpus", default=CORPUS, help="folder holding manifest.json and the systems")
    ap.add_argument("--start", choices=START_KINDS, default=None,
                    help="the start system (default: solve's own default)")
    args = ap.parse_args(argv)

    entries = load_manifest(args.corpus)
    only = {name for text in args.only for name in text.split(",") if name}
    unknown = only - {e["name"] for e in entries}
    if unknown:
        print(f"not in the manifest: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    entries = [e for e in entries if (not only or e["name"] in only)
               and (args.max_degree is None or e["total_degree"] <= args.max_degree)]
    with_phc = args.phc and shutil.which("phc") is not None
    if args.phc and not with_phc:
        print("note: phc (PHCpack) not found on PATH; its columns stay empty", file=sys.stderr)

    start = {} if args.start is None else {"start": args.start}
    solve("katsura:3", workers=args.workers)  # compile / load the Numba cache before timing
    if args.start != "total_degree":
        solve("eco:4", workers=args.workers, start="polyhedral")  # and the polyhedral start's toric kernel
    seeds = args.seeds
    if not args.json:
        print(f"<!-- {load()}, workers {args.workers}, seeds {seeds[0]}..{seeds[-1]} -->")
        print("| system | expected | " + " | ".join(f"seed {s}" for s in seeds) + " | paths | time (s) |"
              + (" phc -b | phc time (s) |" if with_phc else ""))
        print("|---" * (len(seeds) + 4 + 2 * with_phc) + "|")
    wrong, short = [], []
    t_all = time.perf_counter()
    for entry in entries:
        system = read_phc(os.path.join(args.corpus, entry["file"]))
        cells, times, bad, most, paths = [], [], False, 0, 0
        for seed in seeds:
            res = solve(system, seed=seed, workers=args.workers, **start)
            paths = max(paths, res.n_paths)
            ok = verdict(entry, res)
            bad |= not ok
            most = max(most, finite(res))
            times.append(res.wall_time)
            cells.append(cell(entry, res))
            if args.json:
                print(json.dumps({"system": entry["name"], "seed": seed, "expected_finite": entry["finite"],
                                  "expected_regular": entry["regular"], "finite": finite(res), "right": ok,
                                  **res.summary()}),
                      flush=True)
        if bad:
            wrong.append(entry["name"])
        phc_cols = ""
        if with_phc:
            ph = run_phc(system, 2, 1800)
            phc_cols = f" {ph[2]} | {ph[0]:.2f} |"
            if most < ph[2]:  # phc counts paths at finite points: compare the same
                short.append(entry["name"])
        if not args.json:
            print(f"| {entry['name']} | {expected(entry)} | " + " | ".join(cells)
                  + f" | {paths} | {statistics.median(times):.2f} |" + phc_cols, flush=True)
    total = time.perf_counter() - t_all
    n_runs = len(entries) * len(seeds)
    print(f"\n{len(entries)} systems x {len(seeds)} seeds = {n_runs} runs in {total:.0f} s; "
          f"systems with a wrong count on some seed: {len(wrong)}" + (f" ({' '.join(wrong)})" if wrong else ""),
          file=sys.stderr if args.json else sys.stdout)
    if short:
        print(f"fewer finite solutions than phc -b: {' '.join(short)}", file=sys.stderr if args.json else sys.stdout)
    return 1 if wrong or short else 0


if __name__ == "__main__":
    raise SystemExit(main())
