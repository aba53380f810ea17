"""A curve of non-global local minima of a width-2 ReLU network (Jentzen & Riekert's title result, H > 1).

The target and the family of critical points are built in
``pathtrack_problems.relu1d.continuum`` (closed forms). This script

1. follows the curve with the engine: ``pathtrack.track`` on ``ReLU1DCurve`` (λ = the kink
   of unit 1, the three other gradient components *not* imposed), and at every accepted
   point measures the risk, the full gradient, the Hessian spectrum (PSD? how many zeros?)
   and the distance of the tracked point from the closed form;
2. looks for lower minima of the same width-2 risk: gradient flows from random starts,
   polished by Newton; the best one found is below the curve's risk, so the curve's minima
   are not global;
3. enumerates the width-1 critical points on the same target (a finite list).

    python docs/examples/relu1d_continuum.py --json relu1d_continuum.json

prints Markdown tables and writes their numbers to the JSON file. BLAS runs on one thread.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from pathtrack import track
from pathtrack.flow import gradient_flow
from pathtrack_problems.relu1d import ReLU1D
from pathtrack_problems.relu1d.continuum import ContinuumTarget, ReLU1DCurve, curve_params
from pathtrack_problems.relu1d.critical import find_critical_points, polish

ZERO_EIG = 1e-9  # Hessian eigenvalues below this times the largest count as zero


def follow_curve(lam_end: float = 0.45):
    """Track the curve from λ = 0.1 and measure every accepted point: rows of a table and the PathResult."""
    pb = ReLU1DCurve()
    res = track(pb, lam0=pb.lam_start, lam_end=lam_end)
    xs = np.linspace(-1.0, 1.0, 2001)
    first = pb.net.realisation(pb.full(res.p[0], res.lam[0]), xs)
    rows = []
    for p, lam in zip(res.p, res.lam[res.p_steps]):
        q = pb.full(p, lam)
        f, g = pb.net.loss_and_grad(q, 1.0)
        eigs = np.linalg.eigvalsh(pb.net.dH_dp(q, 1.0))
        zero = ZERO_EIG * np.abs(eigs).max()
        rows.append(dict(lam=float(lam), risk=float(f), grad=float(np.linalg.norm(g)),
                         min_eig=float(eigs.min()), n_zero=int(np.sum(np.abs(eigs) <= zero)),
                         min_pos=float(eigs[eigs > zero].min()),
                         dist_closed_form=float(np.max(np.abs(q - curve_params(lam)))),
                         sup_dist_first=float(np.max(np.abs(pb.net.realisation(q, xs) - first)))))
    return res, rows


def lower_minima(n_starts: int = 40, seed: int = 0):
    """Width-2 gradient flows from random starts, Newton-polished: (risk, kinks, Hessian min eig) by risk."""
    net = ReLU1DCurve().net
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(n_starts):
        r = gradient_flow(net, net.random_params(rng), 1.0, gtol=1e-8, rtol=1e-8, t_max=1e7,
                          compute_index=False)
        q, gn = polish(net, r.p_final, 1.0)
        eigs = np.linalg.eigvalsh(net.dH_dp(q, 1.0))
        found.append(dict(risk=net.loss(q, 1.0), grad=gn, kinks=[float(k) for k in net.kinks(q)],
                          min_eig=float(eigs.min() / np.abs(eigs).max()), status=r.status.name))
    return sorted(found, key=lambda d: d["risk"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=40)
    ap.add_argument("--json", default="relu1d_continuum.json")
    a = ap.parse_args()
    t0 = time.process_time()
    with threadpool_limits(limits=1, user_api="blas"):
        res, rows = follow_curve()
        lower = lower_minima(a.starts)
        h1 = find_critical_points(ReLU1D(width=1, target=ContinuumTarget(), quadrature="gauss"),
                                  n_starts=30, newton_starts=100, seed=0)
    print(f"track: {res.status.name}, {len(res.lam)} accepted steps from λ = {res.lam[0]:.3g} to "
          f"{res.lam[-1]:.3g}; "
          f"{time.process_time() - t0:.0f} s CPU in all\n")
    risks = np.array([r["risk"] for r in rows])
    print("| path points | λ range | risk (min – max) | max ‖∇L‖ (all 7 parameters) | min Hessian eig. | "
          "zero eig. per point | smallest positive eig. | max distance from closed form | "
          "max sup-norm distance of N_λ from N_0.1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    nz = sorted({r["n_zero"] for r in rows})
    print(f"| {len(rows)} | {rows[0]['lam']:.2f} – {rows[-1]['lam']:.2f} | "
          f"{risks.min():.12f} – {risks.max():.12f} | "
          f"{max(r['grad'] for r in rows):.1e} | {min(r['min_eig'] for r in rows):.1e} | "
          f"{', '.join(map(str, nz))} | {min(r['min_pos'] for r in rows):.4f} | "
          f"{max(r['dist_closed_form'] for r in rows):.1e} | {max(r['sup_dist_first'] for r in rows):.3f} |")
    print("\nwidth-2 flows from random starts, Newton-polished: distinct risks (to 1e-8) below the curve's")
    print("\n| risk | starts | kinks of the first | min eig. / max eig. |\n|---|---|---|---|")
    distinct = {}
    for d in lower:
        key = round(d["risk"], 8)
        distinct.setdefault(key, []).append(d)
    for key, ds in sorted(distinct.items()):
        if key < risks.min() - 1e-8:
            print(f"| {ds[0]['risk']:.8f} | {len(ds)} | {', '.join(f'{k:.4f}' for k in ds[0]['kinks'])} | "
                  f"{ds[0]['min_eig']:.1e} |")
    on_curve = sum(abs(d["risk"] - risks.mean()) < 1e-8 for d in lower)
    print(f"\n{on_curve} of {len(lower)} flows ended on the curve's risk; "
          f"best risk found {lower[0]['risk']:.8f}")
    print(f"\nwidth 1, same target: {len(h1)} critical realisations, risks "
          f"{', '.join(f'{c.risk:.6f}' for c in h1)}")
    with open(a.json, "w", encoding="utf-8") as fh:
        json.dump(dict(curve=rows, lower=lower, width1=[dict(risk=c.risk, description=c.description,
                                                             indices=c.indices) for c in h1]), fh, indent=1)
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
