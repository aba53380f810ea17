"""Codimension-2 normal forms of the A → B reactor: differences of the Jacobian against exact autograd.

    python benchmarks/bench_normalforms.py

At the reactor's GH, BT and CP points (B = 14, in closed form as in bench_bifurcation.py, no
continuation) it computes ``l2`` (GH), ``a, b`` (BT) and ``c`` (CP) with ``pathtrack.normalform``
twice: with exact derivatives (nested forward-mode autograd of the plugin's ``H``, the reference)
and with central differences of its analytic Jacobian and Richardson extrapolation (``method='fd'``,
what the curves use for this plugin). It prints both values, their relative difference, and the
CPU time of each and their ratio (median of 3 runs; CPU, as the load of a shared machine moves
wall times).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_bifurcation import ab_closed_forms  # noqa: E402

from pathtrack import normalform as nf  # noqa: E402
from pathtrack_problems.ab_reaction import ABReaction  # noqa: E402


def _timed(fn, *args, **kw):
    times, out = [], None
    for _ in range(3):
        t0 = time.process_time()
        out = fn(*args, **kw)
        times.append(time.process_time() - t0)
    return out, float(np.median(times))


def main() -> None:
    points = ab_closed_forms()
    print(f"{'point':<5} {'coef':<4} {'autograd (exact)':>22} {'differences':>22} {'rel. diff':>9}  "
          f"{'cpu_ad s':>8} {'cpu_fd s':>8} {'fd/ad':>6}")
    worst = 0.0
    for name, (beta, d) in points.items():
        pb = ABReaction(beta=beta)
        if name == "CP":
            x, fn, keys = np.array([0.5, 2.0]), nf.cusp_coefficient, ("c",)
        else:
            u1, u2, d = pb.hopf_states()[1 if name.endswith("1") else 0]
            x = np.array([u1, u2])
            fn, keys = (nf.second_lyapunov, ("l2",)) if name.startswith("GH") else \
                (nf.bogdanov_takens_coefficients, ("a", "b"))
        exact, t_ad = _timed(fn, pb, x, d, method="autograd")
        approx, t_fd = _timed(fn, pb, x, d, method="fd")
        for key in keys:
            rel = abs(approx[key] - exact[key]) / max(abs(exact[key]), 1e-300)
            worst = max(worst, rel)
            print(f"{name:<5} {key:<4} {exact[key]:>22.15g} {approx[key]:>22.15g} {rel:>9.1e}  "
                  f"{t_ad:>8.3f} {t_fd:>8.3f} {t_fd / t_ad:>6.2f}")
    print(f"largest relative difference, differences against autograd: {worst:.1e}")


if __name__ == "__main__":
    main()
