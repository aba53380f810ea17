"""Minimisation correctors of deng-mnist at equal work: wrong images per gradient equivalent.

From one start (p0, or a saved end point such as ``bench_deng.py --save-dir``'s ``15-b.npy``),
each corrector runs route (b) of ``bench_deng.py`` (the corrector at λ = 1, no homotopy) until
it has spent ``--work`` gradient equivalents: gradients + Hessian-vector products
(``newton-cg``) + Gauss–Newton-vector products (``lm``). The cost model is measured first, in
the same run: CPU seconds of one product against one gradient at the start point.

Usage::

    python benchmarks/bench_deng_correctors.py --hidden 15 --start sv/15-b.npy --work 100
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import pathtrack

pathtrack.configure_threads()  # before numpy loads

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_deng  # noqa: E402


def _cpu_per_call(f, reps):
    f()  # the first call compiles and fills caches
    c = time.process_time()
    for _ in range(reps):
        f()
    return (time.process_time() - c) / reps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=15)
    ap.add_argument("--subset", type=int, default=0, help="0: all 60,000 images")
    ap.add_argument("--pretrain-epochs", type=int, default=15)
    ap.add_argument("--start", default="", help=".npy parameters to start from (default: p0)")
    ap.add_argument("--work", type=int, default=100, help="gradient equivalents per corrector")
    ap.add_argument("--correctors", default="lbfgs,lm,newton-cg")
    ap.add_argument("--krylov-maxiter", type=int, default=10)
    ap.add_argument("--reps", type=int, default=5, help="calls timed per product in the cost model")
    args = ap.parse_args(argv)
    from pathtrack.driver import build_options
    from pathtrack_problems.deng import DengMNIST

    pb = DengMNIST(hidden=args.hidden, activation="switch", subset=args.subset, seed=0,
                   pretrain_epochs=args.pretrain_epochs, test=False)
    x0 = np.load(args.start).astype(np.float64) if args.start else pb.p0.astype(np.float64)
    v = np.random.default_rng(0).standard_normal(x0.shape)
    t_grad = _cpu_per_call(lambda: pb.loss_and_grad(x0, 1.0), args.reps)
    print(f"cost model (CPU per call, relative to one gradient = {t_grad:.3f} s): "
          f"HVP {_cpu_per_call(lambda: pb.jvp(x0, 1.0, v), args.reps) / t_grad:.2f}, "
          f"GNVP {_cpu_per_call(lambda: pb.gnvp(x0, 1.0, v), args.reps) / t_grad:.2f}", flush=True)
    wrong0 = pb.homotopy.n_wrong(x0, 1.0)
    print(f"start: {wrong0} wrong", flush=True)
    print("| corrector | grads | HVPs | GNVPs | wrong at the end (fewest) | images fixed per unit, ratio to "
          "the first | CPU | wall |\n|---|---|---|---|---|---|---|---|")
    ref = None
    for method in args.correctors.split(","):
        opts = build_options(pb, {"corrector": method, "krylov_maxiter": str(args.krylov_maxiter)})
        p, n_grad, wall, fewest, c = bench_deng._direct(pb, opts, 10 ** 6, math.inf, x0, "", args.work)
        wrong = pb.homotopy.n_wrong(p, 1.0)
        rate = (wrong0 - fewest) / max(1, c["grads"] + c["hvps"] + c["gnvps"])
        ref = rate if ref is None else ref
        ratio = f"{rate / ref:.2f}" if ref > 0 else "—"
        print(f"| {method} | {c['grads']} | {c['hvps']} | {c['gnvps']} | {wrong} ({fewest}) | {rate:.3f}, {ratio} | "
              f"{c['cpu']:.1f} s | {wall:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
