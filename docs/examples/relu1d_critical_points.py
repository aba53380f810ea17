"""Critical points of a one-neuron ReLU network (Jentzen & Riekert 2022) and risk convergence rates.

1. Enumerate the critical points of the risk for ``width = 1`` on [−1, 1] against the
   piecewise-linear ``zigzag`` target, with several seeds: multistart gradient flows plus
   Newton polishing, and further Newton-only starts that also find saddles; group by
   realisation function and print the table; show how many distinct realisations appear
   as the number of starts grows (saturation: finitely many).
2. Plot the realisations, and a 1-D risk slice between the two best critical points
   (balanced representatives).
3. Integrate a few gradient flows (width 1 and width 3), fit the convergence rate of the
   risk (algebraic and exponential fits), and plot risk against time with the fits.

    python docs/examples/relu1d_critical_points.py --outdir .

BLAS runs on one thread: the matrices are tiny, so more threads only contend.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from pathtrack.flow import gradient_flow, plot_risk
from pathtrack_problems.relu1d import ReLU1D
from pathtrack_problems.relu1d.critical import find_critical_points, format_table
from pathtrack_problems.relu1d.plots import landscape_slice, plot_critical_realisations, plot_slice


def saturation(classes, checkpoints):
    """Distinct realisations found by the first k random starts, for each k in ``checkpoints``."""
    first = [min(cp.start for cp in c.points) for c in classes]
    return {k: sum(f < k for f in first) for k in checkpoints}


#: (width, seed) of the flows whose risk convergence is fitted; (2, 4) is a start whose two kinks
#: merge: a degenerate limit, where convergence is slow.
RATE_STARTS = ((1, 0), (1, 3), (3, 0), (3, 1), (2, 4))


def rate_flows(target: str = "zigzag"):
    """``(width, seed, problem, FlowResult)`` for each start in ``RATE_STARTS``: BDF to ‖∇L‖ < 1e-10."""
    for width, seed in RATE_STARTS:
        prob = ReLU1D(width=width, target=target)
        p0 = prob.random_params(np.random.default_rng(seed))
        yield width, seed, prob, gradient_flow(prob, p0, gtol=1e-10, rtol=1e-10, atol=1e-14, t_max=1e9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="zigzag")
    ap.add_argument("--starts", type=int, default=60)
    ap.add_argument("--newton-starts", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--outdir", default=".")
    a = ap.parse_args()
    import matplotlib.pyplot as plt

    pb = ReLU1D(width=1, target=a.target)
    print(f"target {a.target}: {pb.target!r} on [{pb.a}, {pb.b}]")
    runs = []
    for seed in range(a.seeds):
        t0 = time.perf_counter()
        classes = find_critical_points(pb, n_starts=a.starts, newton_starts=a.newton_starts, seed=seed)
        runs.append(classes)
        print(f"\nseed {seed}: {a.starts} flows + {a.newton_starts} Newton starts, {len(classes)} realisations "
              f"({time.perf_counter() - t0:.0f} s)")
        print(format_table(classes))
        n = a.starts + a.newton_starts
        print("distinct realisations after k starts:", saturation(classes, sorted({5, 10, 20, a.starts, n})))
    same = all(len(r) == len(runs[0]) and all(np.max(np.abs(x.values - y.values)) < 1e-6
                                              for x, y in zip(r, runs[0])) for r in runs)
    print(f"\nthe same realisations for every seed: {same}")
    flows = [sum(cp.source == 'flow' for c in r for cp in c.points) for r in runs]
    print(f"flows that reached a polished critical point, per seed: {flows} of {a.starts}")

    classes = runs[0]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    plot_critical_realisations(pb, classes, ax=axes[0])
    axes[0].set_title(f"critical realisations, width 1, target '{a.target}'", fontsize=9)
    pa, pbb = pb.balanced(classes[0].representative.p), pb.balanced(classes[1].representative.p)
    s, risk = landscape_slice(pb, pa, pbb)
    plot_slice(s, risk, labels=("#0", "#1"), ax=axes[1], title="risk on the segment between critical points #0 and #1")
    k = int(np.argmax(risk[(s >= 0) & (s <= 1)]))
    print(f"slice #0 -> #1: risk {risk[s == 0][0] if np.any(s == 0) else risk[0]:.6f} ... max "
          f"{risk[(s >= 0) & (s <= 1)][k]:.6f} at s={s[(s >= 0) & (s <= 1)][k]:.3f} ... {classes[1].risk:.6f}")
    fig.tight_layout()
    path = os.path.join(a.outdir, "relu1d_critical_points.png")
    fig.savefig(path, dpi=120)
    print(f"saved {path}")

    # convergence rates of the risk along flows
    print("\nrisk convergence along gradient flows (BDF, gtol 1e-10):")
    results, labels, fits = [], [], []
    for width, seed, prob, r in rate_flows(a.target):
        fp, fe = r.rate("power"), r.rate("exp")
        print(f"  width {width} seed {seed}: {r.status.name} at t={r.t[-1]:.4g}, {len(r.t)} steps, "
              f"L_final={r.risk_final:.10f}, |grad|={r.grad_norm[-1]:.1e}, index(1e-6)={r.index(1e-6)}; "
              f"power fit rate {fp.rate:.3f} (R2 {fp.r2:.4f}, t in [{fp.t_range[0]:.3g}, {fp.t_range[1]:.3g}]); "
              f"exp fit rate {fe.rate:.4g} (R2 {fe.r2:.4f}); smallest nonzero Hessian eig "
              f"{np.min(np.abs(r.hessian_eigs)[np.abs(r.hessian_eigs) > 1e-7]):.4g}; "
              f"max_t t*(L-L_final) = {np.max(r.t * r.excess_risk()):.3g}; kinks {prob.kinks(r.p_final)}")
        results.append(r)
        labels.append(f"width {width}, seed {seed}")
        fits.append(max((f for f in (fp, fe) if np.isfinite(f.r2)), key=lambda f: f.r2))  # the better model
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    plot_risk(results, labels, ax=ax, fits=fits)
    ax.set_title("excess risk along gradient flows, with the better-fitting rate model", fontsize=9)
    fig.tight_layout()
    path = os.path.join(a.outdir, "relu1d_flow_rates.png")
    fig.savefig(path, dpi=120)
    print(f"saved {path}")


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):
        main()
