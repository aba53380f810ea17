"""The HTA paper's global-minimum table, measured: HTA vs scipy BFGS from the same starts.

Used by ``benchmarks/bench_hta.py`` and ``docs/examples/hta_table.py``.
"""

from __future__ import annotations

import itertools
import time
from functools import partial
from typing import Dict, List, Optional, Sequence

import numpy as np

from pathtrack.multistart import multistart

from .testfn import bfgs_start, hta_start

__all__ = ["ROWS", "PAPER", "grid_starts", "measure_row", "format_table"]

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
