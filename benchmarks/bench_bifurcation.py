"""Benchmark: the predator-prey diagram (AUTO-07p demo pp2's model) in pathtrack and in AUTO-07p, same run.

Run ``python benchmarks/bench_bifurcation.py``. It builds the diagram of the ``predprey``
plugin with ``pathtrack.diagram(depth=2)`` and continues its fold in (λ, p3) from p3 = 5 to
p3 = 4 and to p3 = 6 with ``pathtrack.twoparam.continue_fold``, in this process (Python
start-up and imports excluded from the times). Then, when ``auto-07p`` and ``gfortran`` are on
PATH, it runs ``benchmarks/auto/pp/run2.auto`` in a temporary directory: the same diagram in
one AUTO run with automatic branch switching, then the fold continued in (p1, p3) both ways
with user points at p3 = 4 and 6. It prints, for every special point and for the fold at
p3 = 4 and 6, the closed form, AUTO's value (11 significant digits, as its s-file stores
them) and pathtrack's, then the wall times, their ratio and the largest difference. It does the
same for AUTO's demos ``ab`` (plugin ``ab-reaction``, files in ``benchmarks/auto/ab``: steady states
in p1 from u = 0 with two folds and a Hopf point) and ``lor`` (plugin ``lorenz``, files in
``benchmarks/auto/lor``: the pitchfork of the origin at r = 1, switched, and the Hopf points of
the bifurcating branches), each against closed forms.

The last case is two-parameter: the ``ab-reaction`` plugin (the A → B reactor of AUTO's demo
``ab``, B = 14) in (D, β). pathtrack continues its Hopf point and both folds in β on [0, 6], both
ways (:func:`pathtrack.twoparam.continue_hopf`, :func:`~pathtrack.twoparam.continue_fold`);
AUTO-07p runs ``benchmarks/auto/ab/ab2.auto`` (the same model file, the same curves, ISW=2). For every generalised Hopf
(GH), Bogdanov–Takens (BT) and cusp (CP) point it prints β and D in closed form (from
the plugin's ``hopf_states`` and ``first_lyapunov_exact``), AUTO's value and pathtrack's, then
wall and CPU times of both (the load of a shared machine moves wall times), the evaluations of the
curve systems' ``H`` and Jacobian per step, and the CPU time the tracker alone takes for as many
steps on a linear problem whose ``H`` and Jacobian cost nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
AUTO_DIR = REPO / "benchmarks" / "auto" / "pp"
AB_FILES = [REPO / "benchmarks" / "auto" / n for n in ("ab/ab.f90", "ab/c.ab2", "ab/ab2.auto", "stubs.inc")]


def closed_forms(p2=3.0, p3=5.0, p4=3.0):
    """λ of BP1, BP2, LP and HB without any continuation (LP by brentq on dλ/du₁ = 0 of the prey-only branch)."""
    from scipy.optimize import brentq

    u = 1.0 / p4
    lam_u = lambda x: p2 * x * (1 - x) / (1 - np.exp(-p3 * x))  # noqa: E731 (prey-only branch λ(u₁))
    dlam = lambda x: (lam_u(x + 1e-7) - lam_u(x - 1e-7)) / 2e-7  # noqa: E731
    u_lp = brentq(dlam, 0.35, 0.5, xtol=1e-14)
    # coexistence u₁ = 1/p₄: trace of the Jacobian = p₂(1 − 2u) − u₂ − λp₃e^(−p₃u) with u₂ from f₁ = 0
    e = np.exp(-p3 * u)

    def trace(lam):  # (J₂₂ = −1 + p₄u₁ = 0 there)
        u2 = p2 * (1 - u) - lam * (1 - e) / u
        return p2 * (1 - 2 * u) - u2 - lam * p3 * e
    hb = brentq(trace, 0.1, 1.0, xtol=1e-15)
    out = {"BP1": p2 / p3, "BP2": lam_u(u), "LP": lam_u(u_lp), "HB": hb}
    for q in (4.0, 6.0):  # the fold curve: the maximum of λ(u₁) at p3 = q
        lam_q = lambda x: p2 * x * (1 - x) / (1 - np.exp(-q * x))  # noqa: E731
        u_q = brentq(lambda x: (lam_q(x + 1e-7) - lam_q(x - 1e-7)) / 2e-7, 0.2, 0.6, xtol=1e-14)
        out[f"LP(p3={q:g})"] = lam_q(u_q)
    return out


def run_pathtrack():
    from pathtrack.diagram import diagram
    from pathtrack.twoparam import continue_fold
    from pathtrack_problems.predprey import PredatorPrey

    pb = PredatorPrey()
    t0 = time.perf_counter()
    r = diagram(pb, depth=2)
    pts, fold = {}, None
    for b in r.branches:
        for sp in b.result.special_points:
            key = {"fold": "LP", "hopf": "HB"}.get(sp.kind)
            if sp.kind == "bp":
                key = "BP1" if sp.lam < 0.7 else "BP2"
            if sp.kind == "fold":
                fold = sp
            pts.setdefault(key, sp.lam)
    for direction, key in ((-1, "LP(p3=4)"), (1, "LP(p3=6)")):
        curve = continue_fold(pb, fold, "p3", direction=direction, lam_min=4.0, lam_max=6.0)
        pts[key] = float(curve.p[-1, -1])  # λ where the curve lands on p3 = 4 or 6
    wall = time.perf_counter() - t0
    return pts, wall, r


def run_auto():
    """``(points, compile_s, run_s)`` or None without auto-07p/gfortran."""
    if not (shutil.which("auto-07p") and shutil.which("gfortran")):
        return None
    sys.path.insert(0, str(AUTO_DIR))
    from parse_s import special_points

    with tempfile.TemporaryDirectory() as d:
        for name in ("pp.f90", "c.pp", "run2.auto"):
            shutil.copy(AUTO_DIR / name, d)
        t0 = time.perf_counter()
        subprocess.run(["gfortran", "-c", "-O2", "pp.f90"], cwd=d, check=True, capture_output=True)
        t1 = time.perf_counter()
        subprocess.run(["auto-07p", "run2.auto"], cwd=d, check=True, capture_output=True, env=dict(os.environ))
        t2 = time.perf_counter()
        pts = {}
        for kind, _lab, _br, par, _u in special_points(os.path.join(d, "s.pp2")):
            p1, p3 = par[0], par[2]
            if kind == "UZ":
                if round(p3, 6) in (4.0, 6.0):
                    pts[f"LP(p3={round(p3):g})"] = p1
                continue
            key = kind if kind != "BP" else ("BP1" if p1 < 0.7 else "BP2")
            pts.setdefault(key, p1)
    return pts, t1 - t0, t2 - t1


def ab_closed_forms():
    """``{name: (β, D)}`` of the codimension-2 points of the reactor with B = 14, without continuation."""
    from scipy.optimize import brentq
    from pathtrack_problems.ab_reaction import ABReaction

    def state(beta, k):
        return ABReaction(beta=beta).hopf_states()[k]

    def l1(beta, k):
        return ABReaction(beta=beta).first_lyapunov_exact(*state(beta, k))

    def det(beta, k):
        pb, (u1, u2, d) = ABReaction(beta=beta), state(beta, k)
        return float(np.linalg.det(pb.dH_dp(np.array([u1, u2]), d)))

    out = {}
    for name, fn, k, lo, hi in (("GH1", l1, 1, 0.5, 1.2), ("GH2", l1, 0, 4.5, 5.5), ("BT1", det, 1, 0.05, 0.2),
                                ("BT2", det, 0, 1.5, 2.4)):
        beta = brentq(lambda b: fn(b, k), lo, hi, xtol=1e-15)
        out[name] = (beta, state(beta, k)[2])
    out["CP"] = (2.5, float(np.exp(-2.0)))  # B = 4(1 + β): u₁ = 1/2, u₂ = 2, D = e^{-2}
    return out


def _ab_name(kind, beta):
    """The row of a located point: GH1/GH2, BT1/BT2 by β (the pairs are far apart), CP."""
    return kind if kind == "CP" else kind + ("1" if beta < 1.5 else "2")


def run_ab_pathtrack():
    from pathtrack import track
    from pathtrack.twoparam import continue_fold, continue_hopf
    from pathtrack_problems.ab_reaction import ABReaction

    pb = ABReaction()
    t0, c0 = time.perf_counter(), time.process_time()
    r = track(pb)
    pts, n_steps = {}, 0
    evals = {"n_H_evals": 0, "n_jac_evals": 0}  # of the curve systems, summed over the curves
    for sp in r.special_points:
        run = continue_hopf if sp.kind == "hopf" else continue_fold
        for direction in (1, -1):
            curve = run(pb, sp, "beta", direction=direction, lam_min=0.0, lam_max=6.0)
            n_steps += len(curve.lam)
            for key in evals:
                evals[key] += curve.counters.get(key, 0)
            for e in curve.special_points:
                tag = {"gh": "GH", "bt": "BT", "cusp": "CP"}.get(e.kind)
                if tag:
                    pts.setdefault(_ab_name(tag, e.lam), (e.lam, float(e.p[-2 if sp.kind == "hopf" else -1])))
    return pts, time.perf_counter() - t0, time.process_time() - c0, n_steps, evals


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (AUTO's python, gfortran, the model): beside the wall
    time, since on a shared machine the load moves wall times of both programs."""
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def tracker_step_floor(n_steps: int) -> float:
    """CPU seconds the tracker alone takes for ``n_steps`` arclength steps of the curves' size (0.05): a
    line in (p, λ) with four unknowns, ``H`` and Jacobian free, one Newton step each."""
    from pathtrack import track
    from pathtrack.problem import Problem, StartPoint

    class Line(Problem):
        name = "line"
        M = np.array([[2.0, 1.0, 0.0, 0.0], [0.0, 3.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.2, 0.0, 0.0, 1.0]])

        def H(self, p, lam):
            return self.M @ p - lam

        def dH_dp(self, p, lam):
            return self.M

        def dH_dlam(self, p, lam):
            return -np.ones(4)

        def start(self):
            return StartPoint(np.zeros(4), 0.0)

    c0 = time.process_time()
    r = track(Line(), lam_end=1e9, options={"parameterisation": "arclength", "initial_ds": 0.05, "max_ds": 0.05,
                                            "max_steps": n_steps})
    return (time.process_time() - c0) * n_steps / len(r.lam)


def run_ab_auto():
    """``(points, run_s, cpu_s)`` from AUTO-07p, or None without auto-07p/gfortran."""
    if not (shutil.which("auto-07p") and shutil.which("gfortran")):
        return None
    sys.path.insert(0, str(AUTO_DIR))
    from parse_s import special_points

    with tempfile.TemporaryDirectory() as d:
        for path in AB_FILES:
            shutil.copy(path, d)
        t0, c0 = time.perf_counter(), _children_cpu()
        subprocess.run(["auto-07p", "ab2.auto"], cwd=d, check=True, capture_output=True, env=dict(os.environ))
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
        pts = {}
        for kind, _lab, _br, par, _u in special_points(os.path.join(d, "s.ab2")):
            if kind in ("GH", "BT", "CP", "ZH"):
                pts.setdefault(_ab_name(kind, par[2]), (par[2], par[0]))
    return pts, wall, cpu


def main_ab() -> None:
    exact = ab_closed_forms()
    mine, wall, cpu, n_steps, evals = run_ab_pathtrack()
    auto = run_ab_auto()
    nan = (float("nan"), float("nan"))
    print("\nab-reaction (B = 14) in (D, beta): Hopf curve and both fold curves, beta in [0, 6], both ways")
    print(f"{'point':<6} {'beta closed form':>18} {'beta AUTO-07p':>15} {'beta pathtrack':>18} "
          f"{'D closed form':>18} {'D AUTO-07p':>16} {'D pathtrack':>18}")
    worst, worst_exact = 0.0, 0.0
    for key in ("GH1", "GH2", "BT1", "BT2", "CP"):
        a = auto[0].get(key, nan) if auto else nan
        m = mine.get(key, nan)
        if auto and key in auto[0]:
            worst = max(worst, abs(m[0] - a[0]), abs(m[1] - a[1]))
        worst_exact = max(worst_exact, abs(m[0] - exact[key][0]), abs(m[1] - exact[key][1]))
        print(f"{key:<6} {exact[key][0]:>18.15f} {a[0]:>15.11g} {m[0]:>18.15f} {exact[key][1]:>18.15g} "
              f"{a[1]:>16.11g} {m[1]:>18.15g}")
    print(f"pathtrack wall time {wall:.3f} s, CPU {cpu:.3f} s (the steady states, then 3 curves x 2 directions; "
          f"imports excluded); largest |pathtrack - closed form| = {worst_exact:.2e}")
    floor = tracker_step_floor(n_steps)
    print(f"{n_steps} steps, per step {evals['n_H_evals'] / n_steps:.2f} evaluations of the curve systems' H and "
          f"{evals['n_jac_evals'] / n_steps:.2f} of their Jacobian; the tracker alone on a linear problem (free H "
          f"and Jacobian): CPU {floor:.3f} s for as many steps")
    if auto:
        missing = [k for k in exact if k not in auto[0]]
        print(f"AUTO-07p wall time {auto[1]:.3f} s, CPU {auto[2]:.3f} s (run, with its own compile and link of the model)")
        print(f"ratio pathtrack / AUTO {wall / auto[1]:.2f} (CPU {cpu / auto[2]:.2f}); largest |pathtrack - AUTO| over "
              f"the points both located = {worst:.2e}; not located by AUTO: {', '.join(missing) or 'none'}")
    else:
        print("AUTO-07p: not run (auto-07p or gfortran not on PATH)")


def main() -> None:
    exact = closed_forms()
    mine, wall, r = run_pathtrack()
    auto = run_auto()
    print(f"pathtrack: {r.n_branches} branches, status {r.status.name} ({r.message})")
    print(f"{'point':<9} {'closed form':>20} {'AUTO-07p':>16} {'pathtrack':>20} {'|pt - exact|':>13} "
          f"{'|AUTO - exact|':>15}")
    worst = 0.0
    for key in ("BP1", "BP2", "LP", "HB", "LP(p3=4)", "LP(p3=6)"):
        a = auto[0].get(key, float("nan")) if auto else float("nan")
        m = mine.get(key, float("nan"))
        worst = max(worst, abs(m - a)) if auto else worst
        print(f"{key:<9} {exact[key]:>20.16f} {a:>16.11f} {m:>20.16f} {abs(m - exact[key]):>13.2e} "
              f"{abs(a - exact[key]):>15.2e}")
    print(f"pathtrack wall time {wall:.3f} s (diagram(depth=2) and the fold curve both ways, imports excluded)")
    if auto:
        print(f"AUTO-07p wall time {auto[2]:.3f} s (run, with its own compile and link of the model; "
              f"gfortran -c alone {auto[1]:.3f} s)")
        print(f"ratio pathtrack / AUTO {wall / auto[2]:.2f}; largest |pathtrack - AUTO| = {worst:.2e}")
    else:
        print("AUTO-07p: not run (auto-07p or gfortran not on PATH)")


def _auto_run(demo: str):
    """``(points, wall)`` of ``benchmarks/auto/DEMO/run.auto``: ``[(kind, PAR(1))]`` of its s-file; None without AUTO."""
    if not (shutil.which("auto-07p") and shutil.which("gfortran")):
        return None
    sys.path.insert(0, str(AUTO_DIR))
    from parse_s import special_points

    with tempfile.TemporaryDirectory() as d:
        for name in (f"{demo}.f90", f"c.{demo}", "run.auto"):
            shutil.copy(REPO / "benchmarks" / "auto" / demo / name, d)
        shutil.copy(REPO / "benchmarks" / "auto" / "stubs.inc", d)  # the unused AUTO subroutines
        t0 = time.perf_counter()
        subprocess.run(["auto-07p", "run.auto"], cwd=d, check=True, capture_output=True, env=dict(os.environ))
        wall = time.perf_counter() - t0
        return [(kind, par[0]) for kind, _lab, _br, par, _u in special_points(os.path.join(d, f"s.{demo}"))], wall


def _first(points, kind, i=0):
    found = [v for k, v in points if k == kind]
    return found[i] if len(found) > i else float("nan")


def bench_demo(demo: str) -> None:
    """AUTO demo ``ab`` (plugin ``ab-reaction``: two folds, a Hopf point; one path) or ``lor`` (plugin
    ``lorenz``: a pitchfork, then the Hopf points of the switched branches; ``diagram(depth=1)``)."""
    from pathtrack.diagram import diagram
    from pathtrack_problems.ab_reaction import ABReaction
    from pathtrack_problems.lorenz import Lorenz

    pb = ABReaction() if demo == "ab" else Lorenz()
    exact = pb.closed_forms()
    t0 = time.perf_counter()
    r = diagram(pb, depth=1)
    wall = time.perf_counter() - t0
    pts = [({"fold": "LP", "hopf": "HB", "bp": "BP"}.get(sp.kind, sp.kind), sp.lam)
           for b in r.branches for sp in b.result.special_points]
    auto = _auto_run(demo)
    keys = {"LP1": ("LP", 0), "LP2": ("LP", 1), "HB": ("HB", 0), "BP": ("BP", 0)}
    print(f"\nAUTO demo {demo} (plugin {pb.name}): {r.n_branches} branches, status {r.status.name}")
    print(f"{'point':<9} {'closed form':>20} {'AUTO-07p':>16} {'pathtrack':>20} {'|pt - exact|':>13} "
          f"{'|AUTO - exact|':>15}")
    worst = 0.0
    for key in exact:
        m = _first(pts, *keys[key])
        a = _first(auto[0], *keys[key]) if auto else float("nan")
        worst = max(worst, abs(m - a)) if auto else worst
        print(f"{key:<9} {exact[key]:>20.16f} {a:>16.11f} {m:>20.16f} {abs(m - exact[key]):>13.2e} "
              f"{abs(a - exact[key]):>15.2e}")
    print(f"pathtrack wall time {wall:.3f} s (diagram(depth=1), imports excluded)")
    if auto:
        print(f"AUTO-07p wall time {auto[1]:.3f} s (run, with its own compile and link of the model)")
        print(f"ratio pathtrack / AUTO {wall / auto[1]:.2f}; largest |pathtrack - AUTO| = {worst:.2e}")


if __name__ == "__main__":
    main()
    bench_demo("ab")
    bench_demo("lor")
    main_ab()
