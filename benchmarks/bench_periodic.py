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
thread each.
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

C_EQUILIBRIA = """NDIM=3, IPS=1, IRS=0, ILP=1
ICP=[1]
NTST={ntst}, NCOL=4, IAD=3, ISP=2, ISW=1, IPLT=0, NBC=0, NINT=0
NMX=200, NPR=1000, MXBF=0, IID=0, ITMX=8, ITNW=5, NWTN=3, JAC=1
EPSL=1e-10, EPSU=1e-10, EPSS=1e-7
DS=0.005, DSMIN=1e-6, DSMAX=0.05, IADS=1
UZSTOP={{1: 0.2}}
"""
C_CYCLES = """NDIM=3, IPS=2, IRS=2, ILP=1
ICP=[1, 11]
NTST={ntst}, NCOL=4, IAD=3, ISP=2, ISW=1, IPLT=0, NBC=0, NINT=0
NMX=500, NPR=1000, MXBF=0, IID=0, ITMX=8, ITNW=7, NWTN=3, JAC=1
EPSL=1e-10, EPSU=1e-10, EPSS=1e-7
DS=0.01, DSMIN=1e-6, DSMAX=0.5, IADS=1
UZSTOP={{1: {a_end}}}
"""


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


def run_auto(ntst: int, auto_dir: Path, work: Path) -> dict:
    # one thread, as pathtrack's run (OPENBLAS_NUM_THREADS=1 is set for it in main)
    env = dict(os.environ, AUTO_DIR=str(auto_dir), PATH=f"{auto_dir / 'cmds'}:{os.environ['PATH']}",
               OMP_NUM_THREADS="1")
    exe = work / "ros.exe"
    if not exe.exists():
        shutil.copy(HERE / "auto" / "ros.f90", work / "ros.f90")
        subprocess.run(["make", "-s", "-f", str(auto_dir / "cmds" / "cmds.make"), "EQUATION_NAME=ros", "ros.exe"],
                       cwd=work, env=env, check=True, capture_output=True)
    for f in ("fort.7", "fort.8", "fort.9", "fort.3"):
        (work / f).unlink(missing_ok=True)
    (work / "fort.2").write_text(C_EQUILIBRIA.format(ntst=ntst))
    subprocess.run([str(exe)], cwd=work, env=env, check=True, capture_output=True)
    (work / "fort.3").write_bytes((work / "fort.8").read_bytes())  # the restart file: s.ros
    (work / "fort.2").write_text(C_CYCLES.format(ntst=ntst, a_end=A_END))
    t0 = _children_cpu()
    subprocess.run([str(exe)], cwd=work, env=env, check=True, capture_output=True)
    cpu = _children_cpu() - t0
    rows = [ln.split() for ln in (work / "fort.7").read_text().splitlines()]
    steps = max(abs(int(r[1])) for r in rows if r and r[0].lstrip("-") == "2" and len(r) > 4)
    sols = read_solutions(work / "fort.8")
    pd = [(float(s["par"][0]), float(s["par"][10]), auto_l2(s)) for s in sols if abs(s["type"]) == 7]
    return {"steps": steps, "time": cpu, "pd": pd}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ntst", type=int, nargs="+", default=[20, 50, 100, 200])
    ap.add_argument("--no-auto", action="store_true", help="pathtrack only")
    args = ap.parse_args()
    auto_dir = None if args.no_auto else _auto_dir()
    if not args.no_auto and auto_dir is None:
        print("AUTO-07p not found (gfortran and $AUTO_DIR/lib): pathtrack only")
    print(f"{'NTST':>5} {'pt steps':>8} {'pt ms/step':>10} {'AUTO steps':>10} {'AUTO ms/step':>12} {'ratio':>6}"
          f"  {'PD a (pt)':>15} {'PD a (AUTO)':>15} {'period pt':>14} {'period AUTO':>14}"
          f" {'L2 pt':>13} {'L2 AUTO':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        run_pathtrack(args.ntst[0])  # warm-up: imports and first calls are no step's cost
        if auto_dir:
            run_auto(args.ntst[0], auto_dir, Path(tmp))  # compiles the model; loads the library
        for ntst in args.ntst:
            pt = run_pathtrack(ntst)
            pt_ms = 1e3 * pt["time"] / pt["steps"]
            line = f"{ntst:>5} {pt['steps']:>8} {pt_ms:>10.2f}"
            au = run_auto(ntst, auto_dir, Path(tmp)) if auto_dir else None
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
