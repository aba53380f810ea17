"""Benchmark: periodic orbits of Rössler's system from its Hopf point, in pathtrack and AUTO-07p.

Run ``python benchmarks/bench_periodic.py [--ntst 20 50 100 200] [--no-auto]``. For each mesh
size NTST (NCOL = 4) it continues the cycles born at the Hopf point of
``pathtrack_problems.rossler`` (b = 0.2, c = 5.7) up to a = 0.15, past the first period
doubling, with :func:`pathtrack.periodic.continue_cycles`, and the same branch with AUTO-07p
(model ``benchmarks/auto/ros.f90``: equilibria from a = -0.1 to the Hopf point, then IPS=2
from it, EPSL = EPSU = 1e-10, IAD = 3, DSMAX = 0.5) when ``gfortran`` and AUTO's library are
found (``$AUTO_DIR``, default ``/usr/lib/auto-07p``, the Debian package). It prints, per NTST,
the number of continuation steps and the time per step of each (CPU seconds of the cycle run
alone, after one warm-up run of each: AUTO's ``ros.exe`` child process, pathtrack's
``continue_cycles``), their ratio, and the
period doubling located by each (a, period, and the L2 norm ``sqrt(∫₀¹|u|²)``, AUTO's from its
solution file with the same node quadrature). The two codes take different step sequences, so
the time per step is the comparable number; both use analytic Jacobians (AUTO: JAC=1), one
thread each. ``--repeats R`` runs each code R times per NTST, alternating, and keeps each
one's least CPU time (on a shared machine a run is only ever slowed down by the others).

``--solves`` prints instead the CPU time of one bordered solve (factorisation and
back-substitution, mean of 10) on the a = 0.15 orbit re-interpolated onto uniform meshes of
each NTST: the condensed solve (``CollocationSystem.solve``) and, as the reference in the same
run, SuperLU (minimum degree on ``AᵀA + A``) on the whole sparse bordered matrix.

``--demos`` prints instead every special point of four branches at NTST = 50, for AUTO
(``benchmarks/auto/{ros,bautin,snic,pp2}.f90``), pathtrack and the closed form where there is one:
the period doubling of ``ros`` and, on the branch of doubled period switched to there
(AUTO: ISW=-1; pathtrack: ``switch_period_doubling``, both at NTST = 100), the next one; the fold of cycles of the Bautin normal form
(``hopf-normal-form``, ℓ₁ = 1, ℓ₂ = −1: λ = −1/4, r² = 1/2); and the orbit of period 30 on the
way to the saddle-node on the cycle of ``snic-circle`` (λ = 1 − (2π/30)²); and the orbit of
period 36 where the cycles of AUTO's demo ``pp2`` (``predprey``) end on their way to a saddle
homoclinic orbit (pathtrack: ``max_period = 36``, status ``homoclinic``; AUTO: UZSTOP PERIOD = 36).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread, as AUTO's run; set before numpy loads BLAS

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
A_END = 0.15

C_EQUILIBRIA = """NDIM={ndim}, IPS=1, IRS=0, ILP=1
ICP=[1]
NTST={ntst}, NCOL=4, IAD=3, ISP=2, ISW=1, IPLT=0, NBC=0, NINT=0
NMX=200, NPR=1000, MXBF=0, IID=0, ITMX=8, ITNW=5, NWTN=3, JAC=1
EPSL=1e-10, EPSU=1e-10, EPSS=1e-7
DS={eq_ds}, DSMIN=1e-6, DSMAX=0.05, IADS=1
UZSTOP={eq_stop}
"""
C_CYCLES = """NDIM={ndim}, IPS=2, IRS=2, ILP=1
ICP=[1, 11]
NTST={ntst}, NCOL=4, IAD=3, ISP=2, ISW=1, IPLT=0, NBC=0, NINT=0
NMX=500, NPR=1000, MXBF=0, IID=0, ITMX=8, ITNW=7, NWTN=3, JAC=1
EPSL=1e-10, EPSU=1e-10, EPSS=1e-7
DS=0.01, DSMIN=1e-6, DSMAX={dsmax}, IADS=1
UZSTOP={stop}
"""
#: The doubled branch: restart at the period doubling (label 4 of the cycle run) with ISW=-1.
C_DOUBLED = """NDIM={ndim}, IPS=2, IRS=4, ILP=1, ISW=-1
ICP=[1, 11]
NTST=100, NCOL=4, IAD=3, ISP=2, NBC=0, NINT=0
NMX=500, NPR=1000, MXBF=0, IID=0, ITMX=8, ITNW=7, NWTN=3, JAC=1
EPSL=1e-10, EPSU=1e-10, EPSS=1e-7
DS=0.01, DSMIN=1e-6, DSMAX=0.5, IADS=1
UZSTOP={{1: 0.16}}
"""
#: AUTO runs of the model files in benchmarks/auto: equilibria to the Hopf point (label 2), then cycles.
AUTO_DEMOS = {
    "ros": dict(ndim=3, eq_ds=0.005, eq_stop="{1: 0.2}", dsmax=0.5, stop=f"{{1: {A_END}}}"),
    "bautin": dict(ndim=2, eq_ds=0.01, eq_stop="{1: 0.5}", dsmax=0.1, stop="{1: [-1.0, 1.0]}"),
    "snic": dict(ndim=2, eq_ds=0.01, eq_stop="{1: 0.5}", dsmax=2.0, stop="{11: 30.0}"),
    "pp2": dict(ndim=2, eq_ds=0.01, eq_stop="{1: 0.8}", dsmax=0.5, stop="{11: 36.0}"),
}
#: AUTO's solution types: fold (LP), period doubling (PD), torus (TR), user zero (UZ).
AUTO_TYPES = {5: "LP", 7: "PD", 8: "TR", 4: "UZ"}


def run_pathtrack(ntst: int) -> dict:
    from pathtrack import track
    from pathtrack.periodic import continue_cycles
    from pathtrack_problems.rossler import Rossler

    pb = Rossler()
    hb = track(pb).events("hopf")[0]
    t0 = time.process_time()
    r = continue_cycles(pb, hb, ntst=ntst, ncol=4, lam_max=A_END, initial_ds=0.01, max_ds=0.5)
    cpu = time.process_time() - t0
    pd = r.events("pd")
    return {"steps": r.n_steps, "time": cpu, "status": r.status.name, "hopf": hb.lam,
            "pd": [(p.lam, p.extra["period"], p.extra["l2"]) for p in pd]}


def time_solves(ntsts) -> None:
    """ms per bordered solve: condensed (pathtrack) and SuperLU on the whole matrix, same orbit and mesh."""
    import scipy.sparse.linalg as spla

    from pathtrack.periodic.collocation import BatchedRHS, CollocationSystem
    from pathtrack.periodic import continue_cycles
    from pathtrack import track
    from pathtrack_problems.rossler import Rossler

    pb = Rossler()
    r = continue_cycles(pb, track(pb).events("hopf")[0], ntst=50, lam_max=A_END, initial_ds=0.01, max_ds=0.5)
    rhs = BatchedRHS(pb, 3)
    rhs.probe(r.profile[-1][0], r.lam[-1])
    last = CollocationSystem(rhs, r.mesh[-1], r.ncol)
    y_last = last.pack(r.profile[-1], r.period[-1], r.lam[-1])

    def cpu_ms(fn, k=10):
        fn()
        t0 = time.process_time()
        for _ in range(k):
            fn()
        return 1e3 * (time.process_time() - t0) / k

    print(f"{'NTST':>5} {'condensed ms':>12} {'SuperLU ms':>10} {'ratio':>6}")
    for ntst in ntsts:
        sysm = CollocationSystem(rhs, np.linspace(0.0, 1.0, ntst + 1), r.ncol)
        y = last.remesh(y_last, sysm.mesh)
        sysm.set_reference(y)
        b, v = sysm.weights() * y, np.ones(sysm.size)

        def superlu():
            spla.splu(sysm.jacobian(y, b), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1).solve(v)

        cond, ref = cpu_ms(lambda: sysm.solve(y, b, v)), cpu_ms(superlu)
        print(f"{ntst:>5} {cond:>12.3f} {ref:>10.3f} {cond / ref:>6.2f}", flush=True)


def _auto_dir():
    d = Path(os.environ.get("AUTO_DIR", "/usr/lib/auto-07p"))
    if shutil.which("gfortran") and (d / "lib").is_dir() and (d / "cmds" / "cmds.make").is_file():
        return d
    return None


def read_solutions(path: Path) -> list:
    """Labelled solutions of an AUTO s-file: dicts of type, label, PAR, mesh times and profile."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        head = [int(v) for v in lines[i].split()]
        ibr, ntot, itp, lab, nfpr, isw, ntpl, nar, nrowpr, ntst, ncol, npar = head[:12]
        block = lines[i + 1:i + 1 + nrowpr]
        values = np.array(" ".join(block).replace("D", "E").split(), dtype=float)
        prof = values[:ntpl * nar].reshape(ntpl, nar)
        out.append({"type": itp, "label": lab, "par": values[-npar:], "t": prof[:, 0], "u": prof[:, 1:],
                    "ntst": ntst, "ncol": ncol})
        i += 1 + nrowpr
    return out


def auto_l2(sol: dict) -> float:
    """``sqrt(∫₀¹|u|²)`` of an AUTO orbit by the node quadrature of its mesh (as pathtrack's l2)."""
    from pathtrack.periodic.collocation import CollocationBasis
    ncol, t, u = sol["ncol"], sol["t"], sol["u"]
    w = CollocationBasis(ncol).node_w
    total = 0.0
    for j in range(sol["ntst"]):
        k = slice(j * ncol, j * ncol + ncol + 1)
        total += (t[j * ncol + ncol] - t[j * ncol]) * (w @ np.sum(u[k] ** 2, axis=1))
    return float(np.sqrt(total))


def run_auto(model: str, ntst: int, auto_dir: Path, work: Path, doubled: bool = False) -> dict:
    """The cycle branch of ``benchmarks/auto/MODEL.f90``: steps, CPU seconds, labelled solutions.

    ``doubled``: then the branch of doubled period from its period doubling (label 4), whose
    labelled solutions are appended.
    """
    # one thread, as pathtrack's run (OPENBLAS_NUM_THREADS=1)
    env = dict(os.environ, AUTO_DIR=str(auto_dir), PATH=f"{auto_dir / 'cmds'}:{os.environ['PATH']}",
               OMP_NUM_THREADS="1")
    work = work / model
    work.mkdir(exist_ok=True)
    exe = work / f"{model}.exe"
    if not exe.exists():
        for name in (f"{model}.f90", "stubs.inc"):
            shutil.copy(HERE / "auto" / name, work / name)
        subprocess.run(["make", "-s", "-f", str(auto_dir / "cmds" / "cmds.make"), f"EQUATION_NAME={model}",
                        exe.name], cwd=work, env=env, check=True, capture_output=True)
    for f in ("fort.7", "fort.8", "fort.9", "fort.3"):
        (work / f).unlink(missing_ok=True)
    demo = AUTO_DEMOS[model]
    (work / "fort.2").write_text(C_EQUILIBRIA.format(ntst=ntst, **demo))
    subprocess.run([str(exe)], cwd=work, env=env, check=True, capture_output=True)
    (work / "fort.3").write_bytes((work / "fort.8").read_bytes())  # the restart file (s.MODEL)
    (work / "fort.2").write_text(C_CYCLES.format(ntst=ntst, **demo))
    t0 = _children_cpu()
    subprocess.run([str(exe)], cwd=work, env=env, check=True, capture_output=True)
    cpu = _children_cpu() - t0
    rows = [ln.split() for ln in (work / "fort.7").read_text().splitlines()]
    steps = max(abs(int(r[1])) for r in rows if r and r[0].lstrip("-") == "2" and len(r) > 4)
    sols = read_solutions(work / "fort.8")
    if doubled:
        (work / "fort.3").write_bytes((work / "fort.8").read_bytes())
        (work / "fort.2").write_text(C_DOUBLED.format(**demo))
        subprocess.run([str(exe)], cwd=work, env=env, check=True, capture_output=True)
        sols += read_solutions(work / "fort.8")
    points = [(AUTO_TYPES.get(abs(s["type"]), str(s["type"])), float(s["par"][0]), float(s["par"][10]),
               auto_l2(s)) for s in sols]
    return {"steps": steps, "time": cpu, "points": points,
            "pd": [pt[1:] for pt in points if pt[0] == "PD"]}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def pathtrack_demos() -> dict:
    """The special points of the three demo branches in pathtrack (NTST = 50): kind, λ, period, L2."""
    from pathtrack import Event, track
    from pathtrack.periodic import continue_cycles, switch_period_doubling
    from pathtrack_problems.normal_forms import HopfNormalForm, SnicCircle
    from pathtrack_problems.rossler import Rossler

    out = {}
    ros = Rossler()
    r = continue_cycles(ros, track(ros).events("hopf")[0], ntst=50, lam_max=A_END, initial_ds=0.01, max_ds=0.5)
    out["ros"] = r
    out["ros2"] = switch_period_doubling(ros, r, 0, ntst=100, lam_max=0.16, initial_ds=0.01, max_ds=0.5)
    out["bautin"] = continue_cycles(HopfNormalForm(l1=1.0, l2=-1.0), (np.zeros(2), 0.0), ntst=50, lam_min=-1.0,
                                    lam_max=1.0, max_ds=0.1)
    period30 = Event("period=30", lambda p, lam: p[-1] - 30.0, terminal=True)  # AUTO's UZSTOP={11: 30}
    out["snic"] = continue_cycles(SnicCircle(), (np.zeros(2), 0.0), ntst=50, max_ds=2.0, events=[period30])
    pts = {k: [(sp.kind, sp.lam, sp.extra["period"], sp.extra["l2"]) for sp in r.special_points]
           for k, r in out.items()}
    pts["ros"] += pts.pop("ros2")  # AUTO's doubled branch is appended to its ros points likewise
    pp = pp2_cycles()  # ends `homoclinic` on the orbit of period 36, AUTO's UZSTOP={11: 36}
    pts["pp2"] = [(pp.status.name, pp.lam[-1], pp.period[-1], pp.l2[-1])]
    return pts


def pp2_cycles(ntst: int = 50):
    """The cycles of AUTO's demo pp2 (``predprey``) from the Hopf point of the coexistence state to period 36."""
    from scipy.optimize import brentq

    from pathtrack.periodic import continue_cycles
    from pathtrack_problems.predprey import PredatorPrey

    pb = PredatorPrey()
    u1 = 1.0 / pb.p4

    def coexist(lam):
        return np.array([u1, pb.p2 * (1 - u1) - lam * (1 - np.exp(-pb.p3 * u1)) / u1])

    lam_h = brentq(lambda lam: np.trace(pb.dH_dp(coexist(lam), lam)), 0.3, 1.0, xtol=1e-15)
    return continue_cycles(pb, (coexist(lam_h), lam_h), ntst=ntst, max_ds=2.0, max_period=36.0)


#: Closed forms of the demo points: λ, period and L2 norm (None: none known).
CLOSED = {
    ("bautin", "LP"): (-0.25, 2 * np.pi / 1.3, np.sqrt(0.5)),
    ("snic", "UZ"): (1 - (2 * np.pi / 30) ** 2, 30.0, np.sqrt(1 - (2 * np.pi / 30) ** 2)),
}


def demos(auto_dir) -> None:
    """Print every special point of the demo branches: AUTO, pathtrack, closed form, differences."""
    pt = pathtrack_demos()
    print(f"{'demo':<7} {'AUTO':<4} {'pathtrack':<10} {'quantity':<8} {'AUTO':>16} {'pathtrack':>16} "
          f"{'closed form':>16} {'|pt - AUTO|':>11} {'|pt - exact|':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for model in AUTO_DEMOS:
            au = [p for p in run_auto(model, 50, auto_dir, Path(tmp), doubled=model == "ros")["points"]
                  if p[0] != "UZ" or model in ("snic", "pp2")]
            au = [p for p in au if not (model in ("snic", "pp2") and p[0] == "UZ"
                                        and abs(p[2] - float(AUTO_DEMOS[model]["stop"][5:-1])) > 1e-6)]
            for a_pt, p_pt in zip(au, pt[model]):
                exact = CLOSED.get((model, a_pt[0]), (None,) * 3)
                for q, va, vp, ve in zip(("lam", "period", "L2"), a_pt[1:], p_pt[1:], exact):
                    diff_e = f"{abs(vp - ve):>12.1e}" if ve is not None else f"{'-':>12}"
                    ve_s = f"{ve:>16.11f}" if ve is not None else f"{'-':>16}"
                    print(f"{model:<7} {a_pt[0]:<4} {p_pt[0]:<10} {q:<8} {va:>16.11f} {vp:>16.11f} {ve_s} "
                          f"{abs(vp - va):>11.1e} {diff_e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ntst", type=int, nargs="+", default=[20, 50, 100, 200])
    ap.add_argument("--no-auto", action="store_true", help="pathtrack only")
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs of each code per NTST; the least time is kept")
    ap.add_argument("--demos", action="store_true",
                    help="instead of the timings, the special points of the ros, bautin and snic branches")
    ap.add_argument("--solves", action="store_true",
                    help="instead, the time of one bordered solve: condensed vs SuperLU on the whole matrix")
    args = ap.parse_args()
    if args.solves:
        time_solves(args.ntst)
        return
    auto_dir = None if args.no_auto else _auto_dir()
    if args.demos:
        if auto_dir is None:
            raise SystemExit("--demos needs AUTO-07p (gfortran and $AUTO_DIR/lib)")
        demos(auto_dir)
        return
    if not args.no_auto and auto_dir is None:
        print("AUTO-07p not found (gfortran and $AUTO_DIR/lib): pathtrack only")
    print(f"{'NTST':>5} {'pt steps':>8} {'pt ms/step':>10} {'AUTO steps':>10} {'AUTO ms/step':>12} {'ratio':>6}"
          f"  {'PD a (pt)':>15} {'PD a (AUTO)':>15} {'period pt':>14} {'period AUTO':>14}"
          f" {'L2 pt':>13} {'L2 AUTO':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        run_pathtrack(args.ntst[0])  # warm-up: imports and first calls are no step's cost
        if auto_dir:
            run_auto("ros", args.ntst[0], auto_dir, Path(tmp))  # compiles the model; loads the library
        for ntst in args.ntst:
            pt = au = None
            for _ in range(max(1, args.repeats)):  # alternating, so both see the same load
                r = run_pathtrack(ntst)
                pt = r if pt is None or r["time"] < pt["time"] else pt
                if auto_dir:
                    a = run_auto("ros", ntst, auto_dir, Path(tmp))
                    au = a if au is None or a["time"] < au["time"] else au
            pt_ms = 1e3 * pt["time"] / pt["steps"]
            line = f"{ntst:>5} {pt['steps']:>8} {pt_ms:>10.2f}"
            if au:
                au_ms = 1e3 * au["time"] / au["steps"]
                line += f" {au['steps']:>10} {au_ms:>12.2f} {pt_ms / au_ms:>6.2f}"
            else:
                line += f" {'-':>10} {'-':>12} {'-':>6}"
            a_pt, T_pt, l2_pt = pt["pd"][0] if pt["pd"] else (np.nan,) * 3
            a_au, T_au, l2_au = au["pd"][0] if au and au["pd"] else (np.nan,) * 3
            line += f"  {a_pt:>15.11f} {a_au:>15.11f} {T_pt:>14.10f} {T_au:>14.10f} {l2_pt:>13.10f} {l2_au:>13.10f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
