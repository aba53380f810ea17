"""Benchmark: time per continuation step of a sparse PDE, and how it grows with the grid.

Run ``python benchmarks/bench_pde_diagram.py [N ...]`` (default grids 25 50 100). For each
N it tracks the ``allen-cahn2d`` plugin (2-D Allen–Cahn, N×N unknowns, sparse Jacobian) from
u = 0 at λ = 5 to λ = 60, locating the two branch points on the way, then switches at the
first one and tracks the transcritical branch that turns at a fold, up to 30 steps. It prints
the time per accepted step of both paths, the located branch points against the eigenvalues
of the discrete Laplacian, the time of one sparse LU of the bordered Jacobian, and the ratio
of each time to that of the smallest grid in the same run, with the growth exponent
``log(t/t₀)/log(n/n₀)``.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def run(N: int):
    from pathtrack import track
    from pathtrack.branching import switch_branch
    from pathtrack.problem import RealSystem
    from pathtrack.sparse import bordered_splu
    from pathtrack_problems.allen_cahn import AllenCahn2D

    pb = AllenCahn2D(nx=N, ny=N, lam_max=60.0)
    n = N * N
    system = RealSystem(pb, n)
    y = np.append(np.zeros(n), 30.0)
    J = system.jacobian(y)
    t0 = time.perf_counter()
    for _ in range(3):
        bordered_splu(J, np.random.default_rng(0).standard_normal(n + 1), 1e13)
    t_lu = (time.perf_counter() - t0) / 3
    t0 = time.perf_counter()
    root = track(pb)
    t_root = time.perf_counter() - t0
    bps = [sp.lam for sp in root.events("bp")]
    exact = [mu for mu, _, _ in pb.branch_points()]
    err = max(abs(a - b) / b for a, b in zip(bps, exact)) if len(bps) == len(exact) else float("nan")
    t0 = time.perf_counter()
    kids = switch_branch(pb, root, root.events("bp")[0], options={"max_steps": 30}, directions=(-1,))
    t_kid = time.perf_counter() - t0
    steps_kid = sum(k.n_accepted for k in kids)
    return {"n": n, "lu": t_lu, "root": t_root / root.n_accepted, "root_steps": root.n_accepted,
            "kid": t_kid / max(steps_kid, 1), "kid_steps": steps_kid, "n_bp": len(bps), "bp_err": err}


def main(argv) -> None:
    grids = [int(a) for a in argv] or [25, 50, 100]
    rows = [run(N) for N in grids]
    ref = rows[0]
    print(f"{'unknowns':>9} {'LU [s]':>8} {'u=0 [s/step]':>13} {'steps':>6} {'branch [s/step]':>16} {'steps':>6} "
          f"{'BPs':>4} {'max rel err BP':>15} {'ratio':>7} {'exponent':>9}")
    for r in rows:
        ratio = r["kid"] / ref["kid"]
        expo = np.log(ratio) / np.log(r["n"] / ref["n"]) if r["n"] != ref["n"] else float("nan")
        print(f"{r['n']:>9} {r['lu']:>8.3f} {r['root']:>13.3f} {r['root_steps']:>6} {r['kid']:>16.3f} "
              f"{r['kid_steps']:>6} {r['n_bp']:>4} {r['bp_err']:>15.1e} {ratio:>7.2f} {expo:>9.2f}")
    print("ratio: time per step on the switched branch over the smallest grid's, in this run; "
          "exponent: log(ratio)/log(unknowns ratio)")


if __name__ == "__main__":
    main(sys.argv[1:])
