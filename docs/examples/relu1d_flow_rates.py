"""Gradient-flow convergence of the relu1d risk where the rate-1 theorem bites: widths 2-4, many seeds.

Eberle, Jentzen, Riekert & Weiss (2023) prove, for a piecewise-polynomial target and
input density, that every non-divergent gradient-flow trajectory converges to a critical
point ϑ and that the risk converges *with rate 1*: L(Θ_t) − L(ϑ) ≤ C (1 + t)^−1. This is
an upper bound. At a non-degenerate limit the decay is exponential and the bound holds
with room to spare; the bound is tight only where the limit is degenerate (merged kinks,
a Hessian singular beyond the symmetries). This script draws many starts, integrates
each flow with BDF to ‖∇L‖ < 1e-10 and, per flow:

- **L∞ independently of the last sample**: Newton polishing of the end point
  (:func:`pathtrack_problems.relu1d.critical.polish`, least squares) gives ϑ and L(ϑ); a
  second estimate projects the target on the span of {1, the limit's ReLU units} by
  weighted least squares on a composite Gauss grid of its own (a minimiser on the limit,
  with the limit's kinks fixed), sharing no code with the plugin's risk;
- **degenerate limit**: two live kinks closer than 1e-3 (merged), or a Hessian with more
  zero eigenvalues (|μ| ≤ 1e-7 max|μ|) than the Gauss–Newton matrix ∫ ∂N ∂Nᵀ, whose null
  space is the symmetry directions (the scaling of each live unit, the dead units);
- **late power law**: a least-squares fit of log(L − L∞) against log t on the *late window*
  [t_end/100, t_end], t_end the last time the excess is above its floor (100 times the
  disagreement of the two L∞ estimates, at least 1e-13); the start-up transient (excess
  above 1% of its initial value) is excluded; an exponential fit on the same window is
  reported for comparison;
- **(1 + t)(L − L∞) late**: its maximum over the late window, and its value at t_end.

    python docs/examples/relu1d_flow_rates.py --seeds 30 --json relu1d_flow_rates.json

prints two Markdown tables (a summary per width, and one row per degenerate flow) and writes
every flow's numbers to the JSON file. BLAS runs on one thread: the matrices are tiny.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Dict, List

import numpy as np
from threadpoolctl import threadpool_limits

from pathtrack.flow import gradient_flow
from pathtrack_problems.relu1d import ReLU1D
from pathtrack_problems.relu1d.critical import polish

MERGE_TOL = 1e-3  # live kinks closer than this count as merged
ZERO_EIG = 1e-7  # eigenvalues below this times the largest count as zero


def composite_gauss(cuts, n: int = 8):
    """Nodes and weights (summing to 1) of ``n``-point Gauss–Legendre on each piece between ``cuts``."""
    xi, wi = np.polynomial.legendre.leggauss(n)
    cuts = np.unique(cuts)
    lo, hi = cuts[:-1], cuts[1:]
    x = (0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * xi).ravel()
    w = (0.5 * (hi - lo)[:, None] * wi).ravel()
    return x, w / w.sum()


def units(pb: ReLU1D, p):
    """Parameters of the live units (v ≠ 0 and active somewhere in (a, b)) and the count of dead ones."""
    w, b, v, _ = pb.unpack(np.asarray(p, dtype=float))
    ends = np.multiply.outer(np.array([pb.a, pb.b]), w) + b
    live = (v != 0) & (np.max(ends, axis=0) > 0)
    return w[live], b[live], v[live]


def limit_risk_lstsq(pb: ReLU1D, p) -> float:
    """min over (v, c) of the risk with the units' (w, b) of ``p`` fixed: the target projected on
    {1, max(w_j x + b_j, 0)} by weighted least squares on a composite Gauss grid split at the kinks
    and the target's knots (exact for a piecewise-linear target)."""
    w, b, _ = units(pb, p)
    x, wq = composite_gauss(np.concatenate([[pb.a, pb.b], pb.knots, pb.kinks(p)]))
    A = np.column_stack([np.ones_like(x), np.maximum(np.multiply.outer(x, w) + b, 0.0)])
    f = pb.target(x)
    sw = np.sqrt(wq)
    coef = np.linalg.lstsq(A * sw[:, None], f * sw, rcond=1e-12)[0]
    e = A @ coef - f
    return float(wq @ (e * e))


def gauss_newton_nullity(pb: ReLU1D, p, eig_max: float) -> int:
    """Zero eigenvalues of 2 ∫ ∂N/∂p ∂N/∂pᵀ (the symmetry directions), on the same grid and scale as the
    Hessian's, with ∂N/∂p written out here."""
    w, b, v, _ = pb.unpack(np.asarray(p, dtype=float))
    x, wq = composite_gauss(np.concatenate([[pb.a, pb.b], pb.knots, pb.kinks(p)]))
    z = np.multiply.outer(x, w) + b
    act = (z > 0).astype(float)
    J = np.hstack([act * v * x[:, None], act * v, np.maximum(z, 0.0), np.ones((x.size, 1))])
    G = 2.0 * (J.T * wq) @ J
    return int(np.sum(np.abs(np.linalg.eigvalsh(G)) <= ZERO_EIG * eig_max))


def merged(pb: ReLU1D, p) -> bool:
    """Two live units with kinks inside (a, b) closer than MERGE_TOL."""
    w, b, _ = units(pb, p)
    k = -b[w != 0] / w[w != 0]
    k = np.sort(k[(k > pb.a) & (k < pb.b)])
    return bool(k.size > 1 and np.min(np.diff(k)) < MERGE_TOL)


def analyse(pb: ReLU1D, r) -> Dict:
    """The per-flow numbers described in the module docstring."""
    q, gq = polish(pb, r.p_final, 1.0, max_iters=50)
    L_newton = pb.loss(q, 1.0)
    L_ls = limit_risk_lstsq(pb, q)
    eigs = np.linalg.eigvalsh(pb.dH_dp(q, 1.0))
    emax = float(np.abs(eigs).max())
    null_h = int(np.sum(np.abs(eigs) <= ZERO_EIG * emax))
    null_g = gauss_newton_nullity(pb, q, emax)
    is_merged = merged(pb, q)
    L_inf = L_newton
    t, ex = r.t, r.risk - L_inf
    floor = max(1e-13, 100 * abs(L_newton - L_ls))
    above = np.nonzero(ex > floor)[0]
    out = dict(t_final=float(t[-1]), n_steps=int(t.size), L_final=float(r.risk_final), L_inf=L_inf,
               L_inf_lstsq=L_ls, grad_polished=float(gq), final_gap=float(r.risk_final - L_inf),
               nullity_hessian=null_h, nullity_gauss_newton=null_g, merged=is_merged,
               min_eig=float(eigs.min()) / emax, degenerate=bool(is_merged or null_h > null_g),
               kinks=[float(k) for k in pb.kinks(q)])
    if above.size < 3:
        out.update(beta=np.nan, beta_r2=np.nan, exp_r2=np.nan, late_max=np.nan, late_end=np.nan,
                   window=[np.nan, np.nan])
        return out
    t_end = float(t[above[-1]])
    transient = np.nonzero(ex <= 1e-2 * ex[0])[0]
    t_lo = max(t_end / 100.0, float(t[transient[0]]) if transient.size else 0.0)
    keep = (t >= t_lo) & (t <= t_end) & (ex > floor) & (t > 0)
    B = (1.0 + t) * ex
    out.update(window=[t_lo, t_end], late_max=float(B[keep].max()) if keep.any() else np.nan,
               late_end=float(B[above[-1]]))
    if np.count_nonzero(keep) < 3:
        out.update(beta=np.nan, beta_r2=np.nan, exp_r2=np.nan)
        return out
    ly = np.log(ex[keep])
    for name, xs in (("beta", np.log(t[keep])), ("exp", t[keep])):
        slope, icpt = np.polyfit(xs, ly, 1)
        res = ly - (icpt + slope * xs)
        r2 = 1.0 - float(res @ res) / float(np.sum((ly - ly.mean()) ** 2))
        if name == "beta":
            out.update(beta=float(-slope), beta_r2=r2)
        else:
            out.update(exp_r2=r2)
    return out


def flow_row(width: int, seed: int, target: str = "zigzag") -> Dict:
    """One start: BDF to ‖∇L‖ < 1e-10 from ``random_params(default_rng(seed))``, analysed."""
    pb = ReLU1D(width=width, target=target)
    p0 = pb.random_params(np.random.default_rng(seed))
    r = gradient_flow(pb, p0, gtol=1e-10, rtol=1e-10, atol=1e-14, t_max=1e9, compute_index=False)
    row = dict(width=width, seed=seed, status=r.status.name, **analyse(pb, r))
    row["degenerate"] = row["degenerate"] and r.status.name == "success"  # no limit, no verdict
    return row


def run(widths, seeds, target: str = "zigzag") -> List[Dict]:
    return [flow_row(width, seed, target) for width in widths for seed in seeds]


def _fmt(x, spec):
    return "–" if not np.isfinite(x) else format(x, spec)


def summary_table(rows) -> str:
    out = ["| width | starts | converged | degenerate | merged kinks | singular beyond symmetry | "
           "degenerate: β median (range) | all converged: max late (1+t)(L − L∞) |",
           "|---|---|---|---|---|---|---|---|"]
    for width in sorted({r["width"] for r in rows}):
        rs = [r for r in rows if r["width"] == width]
        ok = [r for r in rs if r["status"] == "success"]
        deg = [r for r in rs if r["degenerate"]]
        betas = [r["beta"] for r in deg if np.isfinite(r["beta"])]
        late = [r["late_max"] for r in ok if np.isfinite(r["late_max"])]
        brange = f"{np.median(betas):.2f} ({min(betas):.2f} – {max(betas):.2f})" if betas else "–"
        out.append(f"| {width} | {len(rs)} | {len(ok)} | {len(deg)} | "
                   f"{sum(r['merged'] for r in ok)} | "
                   f"{sum(r['nullity_hessian'] > r['nullity_gauss_newton'] for r in ok)}"
                   f" | {brange} | {max(late):.3g} |")
    return "\n".join(out)


def degenerate_table(rows) -> str:
    out = ["| width, seed | t_final | L∞ (Newton) | L∞ (lstsq) − L∞ | merged | nullity H / GN | "
           "late window | β (R²) | exp R² | max late (1+t)(L − L∞) | at t_end |", "|---" * 11 + "|"]
    for r in rows:
        if not r["degenerate"]:
            continue
        w = r["window"]
        win = "–" if not np.isfinite(w[0]) else f"{w[0]:.2g} – {w[1]:.2g}"
        out.append(f"| {r['width']}, {r['seed']} | {r['t_final']:.3g} | {r['L_inf']:.10f} | "
                   f"{r['L_inf_lstsq'] - r['L_inf']:.1e} | {'yes' if r['merged'] else 'no'} | "
                   f"{r['nullity_hessian']} / {r['nullity_gauss_newton']} | {win} | "
                   f"{_fmt(r['beta'], '.2f')} ({_fmt(r['beta_r2'], '.3f')}) | {_fmt(r['exp_r2'], '.3f')} | "
                   f"{_fmt(r['late_max'], '.3g')} | {_fmt(r['late_end'], '.3g')} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--target", default="zigzag")
    ap.add_argument("--json", default="relu1d_flow_rates.json")
    a = ap.parse_args()
    t0 = time.process_time()
    with threadpool_limits(limits=1, user_api="blas"):
        rows = run(a.widths, range(a.seeds), a.target)
    print(f"{len(rows)} flows, widths {a.widths}, seeds 0-{a.seeds - 1}, target {a.target}: "
          f"{time.process_time() - t0:.0f} s CPU\n")
    print(summary_table(rows))
    print()
    print(degenerate_table(rows))
    with open(a.json, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=1)
    print(f"\nwrote {a.json}")


if __name__ == "__main__":
    main()
