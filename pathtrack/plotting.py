"""Figures from pathtrack HDF5 files (matplotlib): what ``pathtrack plot`` draws.

Kinds:

- ``branch``: the bifurcation diagram, λ against ‖p‖ (or a component ``p[i]``, or a
  metric), with the special points marked and labelled;
- ``steps``: step size and Newton iterations against the step attempt, rejected
  attempts marked;
- ``diagnostics``: smallest singular value of the augmented Jacobian and the sign of
  the bordered determinant against λ-arclength;
- ``metrics``: the problem's metrics against λ;
- ``diagram`` (diagram files): every branch of a bifurcation diagram, solid where stable
  and dashed where unstable (when the file knows: ``n_unstable`` of ODE problems,
  ``hessian_index`` of gradient problems), special points marked and labelled with the
  field's abbreviations (LP, BP, HB, ...); the diagram's cycle branches with them (a
  measure of the orbits against λ: :data:`CYCLE_MEASURES`), solid where the orbits are
  stable, dashed where not, their LPC, PD and NS points labelled (also the figure of a
  cycle-branch file);
- ``twoparam`` (files of ``pathtrack fold/hopf --out``, or the curves stored in a diagram file): fold and Hopf curves in the
  (λ, par2) plane, their codimension-2 points (CP, BT, ZH, GH) marked and labelled.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

import numpy as np

from .io import DiagramFile, PathFile, StorageError, load

__all__ = ["KINDS", "CYCLE_KINDS", "plot_file", "plot_branch", "plot_steps", "plot_diagnostics", "plot_metrics",
           "branch_values", "plot_diagram", "POINT_LABELS", "plot_orbits", "plot_cycles", "curve_kind",
           "plot_twoparam", "CYCLE_MEASURES", "cycle_values", "plot_cycle_branches"]

#: Figures of a path file; a diagram file has the one kind ``'diagram'``.
KINDS = ("branch", "steps", "diagnostics", "metrics")
#: Figures of a cycle-branch file (``pathtrack run PROBLEM --from FILE:hopfK --out``).
CYCLE_KINDS = ("orbits", "cycles")

#: The field's abbreviations of special-point kinds (AUTO, MatCont): limit point, branch point, Hopf,
#: Hessian-index change, and the cusp and Bogdanov–Takens points of fold curves.
POINT_LABELS = {"fold": "LP", "bp": "BP", "hopf": "HB", "index_change": "IC", "cusp": "CP", "bt": "BT",
                "zh": "ZH", "gh": "GH", "lpc": "LPC", "pd": "PD", "ns": "NS"}
#: The legend's names of the special points of a diagram.
POINT_NAMES = {"LP": "LP: fold", "BP": "BP: branch point", "HB": "HB: Hopf", "IC": "IC: index change",
               "LPC": "LPC: fold of cycles", "PD": "PD: period doubling", "NS": "NS: torus (Neimark-Sacker)"}
#: What ``--y`` draws of the cycle branches of a diagram, and of its equilibria (None: not drawn):
#: AUTO's L2 norm ``sqrt(∫|u|²)`` (‖p‖ at an equilibrium), the largest ``|u_i|`` over the orbit, the
#: largest half peak-to-peak of a component (0 at an equilibrium), the period; ``p[i]`` draws the
#: largest ``u_i`` over the orbit (AUTO's MAX U(i)) with ``p[i]`` of the equilibria.
CYCLE_MEASURES = {"norm": "‖p‖, L2 norm of orbits", "l2": "‖p‖, L2 norm of orbits",
                  "max": "max |p_i|, max |u_i| over orbits", "amplitude": "amplitude (half peak-to-peak)",
                  "period": "period"}
#: Codimension-2 points of fold and Hopf curves, with the names of the legend.
CODIM2_NAMES = {"CP": "CP: cusp", "BT": "BT: Bogdanov-Takens", "ZH": "ZH: zero-Hopf", "GH": "GH: generalised Hopf"}
CODIM2_MARKERS = {"CP": "^", "BT": "s", "ZH": "D", "GH": "o"}


def _pyplot():
    """matplotlib.pyplot, imported when a figure is made; the backend is matplotlib's choice (MPLBACKEND)."""
    import matplotlib.pyplot as plt
    return plt


def _scalar(v: np.ndarray) -> np.ndarray:
    """Complex components are shown by modulus."""
    return np.abs(v) if np.iscomplexobj(v) else np.asarray(v, dtype=float)


def branch_values(f: PathFile, y: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, str, callable]:
    """``(lam, values, label, of_point)`` for the branch diagram.

    ``y`` is ``None``/``'norm'`` (‖p‖ over the stored ``p`` rows), ``'p[i]'`` (one
    component) or a metric name; ``of_point(p, lam)`` evaluates the same quantity at a
    special point (``None`` for metrics, which are not stored at events).
    """
    if y in (None, "", "norm"):
        return (f.lam[f.p_steps], np.array([np.linalg.norm(row) for row in f.p]), "‖p‖",
                lambda p: float(np.linalg.norm(p)))
    m = re.fullmatch(r"p\[(-?\d+)\]", y)
    if m:
        i = int(m.group(1))
        if not -f.n <= i < f.n:
            raise StorageError(f"--y {y}: component out of range for n = {f.n}")
        label = f"|p[{i}]|" if np.dtype(f._p_dtype).kind == "c" else f"p[{i}]"
        return (f.lam[f.p_steps], np.array([_scalar(row[i]) for row in f.p]), label,
                lambda p: float(_scalar(p[i])))
    if y in f.metrics_names:
        return f.lam, f.metrics[y], y, None
    raise StorageError(f"--y {y!r}: expected 'norm', 'p[i]' or a metric "
                       f"({', '.join(f.metrics_names) or 'this file stores none'})")


def _title(f: PathFile, what: str) -> str:
    import textwrap

    params = ", ".join(f"{k}={v}" for k, v in f.parameters.items())
    return textwrap.fill(f"{f.problem}: {what} [{f.status}] ({params})", width=80)


def plot_branch(f: PathFile, y: Optional[str] = None, ax=None):
    plt = _pyplot()
    ax = ax or plt.gca()
    lam, vals, label, of_point = branch_values(f, y)
    ax.plot(lam, vals, "-", color="C0", lw=1.5, label="path")
    ax.plot(lam[:1], vals[:1], "o", color="C2", ms=5, label="start")
    for i, e in enumerate(f.events):
        if of_point is not None:
            v = of_point(f.event_p(i))
        else:  # metric: interpolate along the stored column at the event's arclength
            v = float(np.interp(e["s"], f.s, vals))
        ax.plot([e["lam"]], [v], "s", color="C3", ms=7)
        ax.annotate(f"{e['kind']} λ={e['lam']:.6g}", (e["lam"], v), textcoords="offset points", xytext=(6, 6),
                    fontsize=8, color="C3")
    ax.set_xlabel("λ")
    ax.set_ylabel(label)
    ax.set_title(_title(f, "branch"), fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def _stable_mask(f: PathFile) -> Optional[np.ndarray]:
    """Per stored ``p`` row: stable (True), unstable (False); None where the file has no stability column."""
    for name in ("n_unstable", "hessian_index"):
        if name in f.metrics_names:
            col = f.metrics[name][f.p_steps]
            return np.where(np.isfinite(col), col == 0, True)
    return None


def _equilibrium_measure(y: Optional[str]):
    """``of_point(p)``: what ``--y`` shows of an equilibrium on a diagram with cycle branches (None: nothing)."""
    if y == "period":
        return None
    if y == "max":
        return lambda p: float(np.max(np.abs(p)))
    if y == "amplitude":
        return lambda p: 0.0
    return lambda p: float(np.linalg.norm(p))


def cycle_values(c, y: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, str]:
    """``(lam, values, label)`` of a cycle branch (a :class:`~pathtrack.io.CyclesFile`) for ``--y``.

    ``y``: ``None``/``'norm'``/``'l2'``, ``'max'``, ``'amplitude'``, ``'period'`` (:data:`CYCLE_MEASURES`)
    or ``'p[i]'`` (the largest ``u_i`` over each orbit).
    """
    o = c.orbits
    key = "norm" if y in (None, "") else y
    if key in CYCLE_MEASURES:
        column = {"norm": "l2", "l2": "l2", "amplitude": "amplitude", "period": "period"}.get(key)
        vals = o[column] if column else np.max(np.abs(o["profile"]), axis=(1, 2))
        return o["lam"], np.asarray(vals, dtype=float), CYCLE_MEASURES[key]
    m = re.fullmatch(r"p\[(-?\d+)\]", key)
    n = o["profile"].shape[2] if o["profile"].ndim == 3 else 0
    if m and -n <= int(m.group(1)) < n:
        i = int(m.group(1))
        return o["lam"], o["profile"][:, :, i].max(axis=1), f"p[{i}], max u[{i}] over orbits"
    raise StorageError(f"--y {y!r}: cycle branches are drawn by 'norm' or 'l2', 'max', 'amplitude', 'period' or "
                       f"'p[i]' (i below n = {n})")


def plot_cycle_branches(cycles, y: Optional[str], ax, first_color: int = 0, points: Optional[dict] = None) -> None:
    """Draw cycle branches (:class:`~pathtrack.io.CyclesFile` s) as ``y`` against λ, each joined to its Hopf point:
    solid where the orbits are stable (no multiplier outside the unit circle but the trivial one), dashed where
    not; LPC, PD and NS marked and labelled. ``points``: the marks already drawn (updated)."""
    points = {} if points is None else points
    of_eq = _equilibrium_measure(y)
    for j, c in enumerate(cycles):
        if not len(c.orbits["lam"]):
            continue
        lam, vals, _ = cycle_values(c, y)
        stable = np.asarray(c.orbits["n_unstable"]) == 0
        for sp in c.special_points:  # at the point's arclength along the branch
            _mark(ax, points, POINT_LABELS.get(sp["kind"], sp["kind"]), float(sp["lam"]),
                  float(np.interp(sp["s"], c.orbits["s"], vals)))
        hopf = c.hopf
        if hopf.get("p") is not None and hopf.get("lam") is not None:  # start the line at the Hopf point
            p = np.asarray(hopf["p"], dtype=float)
            v0 = 2 * np.pi / float(hopf["omega"]) if y == "period" else _hopf_value(y, p, of_eq)
            lam, vals, stable = np.r_[float(hopf["lam"]), lam], np.r_[v0, vals], np.r_[stable[:1], stable]
            if y == "period":  # the equilibria are not drawn: mark where the branch starts
                _mark(ax, points, "HB", float(hopf["lam"]), v0)
        color = f"C{(first_color + j) % 10}"
        cuts = np.flatnonzero(np.diff(stable.astype(int))) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(lam)]):  # runs of equal stability, joined at the cuts
            ax.plot(lam[max(a - 1, 0):b], vals[max(a - 1, 0):b], "-" if stable[a] else "--", color=color,
                    lw=1.6 if stable[a] else 1.1)


def _hopf_value(y: Optional[str], p: np.ndarray, of_eq) -> float:
    """``y`` of the zero-amplitude orbit at a Hopf point ``p``: what the equilibrium shows."""
    m = re.fullmatch(r"p\[(-?\d+)\]", y or "")
    return float(p[int(m.group(1))]) if m else of_eq(p)


def _mark(ax, points: dict, tag: str, lam: float, v: float) -> None:
    """Mark and label a special point, once (a point located on two branches is marked once)."""
    key = (tag, round(lam, 8), round(v, 8))
    if key in points:
        return
    points[key] = True
    marker = "o" if tag == "BP" else "D" if tag in ("LPC", "PD", "NS") else "s"
    ax.plot([lam], [v], marker, color="k", ms=5, zorder=3)
    ax.annotate(tag, (lam, v), textcoords="offset points", xytext=(5, 5), fontsize=8)


def _diagram_legend(ax, points: dict, known_stability: bool, n_cycles: int) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="C0", ls="-", label="stable" if known_stability else "branch")]
    if known_stability:
        handles.append(Line2D([], [], color="C0", ls="--", label="unstable"))
    if n_cycles:
        handles.append(Line2D([], [], color="none", label=f"{n_cycles} cycle branch(es) from HB"))
    for tag in sorted({t for t, _, _ in points}):
        marker = "o" if tag == "BP" else "D" if tag in ("LPC", "PD", "NS") else "s"
        handles.append(Line2D([], [], color="k", ls="", marker=marker, ms=5, label=POINT_NAMES.get(tag, tag)))
    ax.legend(handles=handles, loc="best", fontsize=8)


def plot_diagram(d: DiagramFile, y: Optional[str] = None, ax=None):
    """Every branch of a diagram file, its cycle branches included: solid stable, dashed unstable, special
    points labelled."""
    plt = _pyplot()

    ax = ax or plt.gca()
    cycles = list(getattr(d, "cycles", []))
    measure = bool(cycles) and y in ("period", "max", "amplitude", "l2")  # a measure of the orbits
    if cycles and not measure and y not in (None, "norm") and not re.fullmatch(r"p\[(-?\d+)\]", y):
        cycles = []  # a metric of the equilibria: the orbits have none
    label = CYCLE_MEASURES[y] if measure else "‖p‖"
    points = {}
    known_stability = False
    for k, f in enumerate(d.branches):
        if not f.has_steps or f.num_steps == 0:
            continue
        if measure:
            of_point = _equilibrium_measure(y)
            if of_point is None:  # the period of an equilibrium
                continue
            lam, vals = f.lam[f.p_steps], np.array([of_point(np.asarray(row)) for row in f.p])
        else:
            lam, vals, label, of_point = branch_values(f, y)
        known_stability |= _draw_branch(ax, d, k, f, lam, vals, of_point, points)
    if cycles:
        plot_cycle_branches(cycles, y, ax, first_color=len(d.branches), points=points)
        known_stability = True  # the orbits' multipliers say it
        if not measure:
            label = f"{label}; orbits: {'L2 norm' if y in (None, 'norm') else 'max over the orbit'}"
    _diagram_legend(ax, points, known_stability, len(cycles))
    ax.set_xlabel("λ")
    ax.set_ylabel(label)
    what = f"{len(d.branches)} branches" + (f", {len(cycles)} cycle branch(es)" if cycles else "")
    ax.set_title(_title(d, f"bifurcation diagram, {what}"), fontsize=9)
    ax.grid(True, alpha=0.3)
    return ax


def _draw_branch(ax, d: DiagramFile, k: int, f: PathFile, lam, vals, of_point, points: dict) -> bool:
    """Branch ``k`` of ``d`` (``vals`` against ``lam``; ``of_point(p)``: the value at a point, None for a
    metric), solid where stable and dashed where not, its special points marked; whether stability is known."""
    parent, origin = int(d.tree["parent"][k]), int(d.tree["origin_event"][k])
    if parent >= 0 and of_point is not None:  # join the branch to the point it leaves from
        pf = d.branches[list(d.tree["branch"]).index(parent)]
        lam = np.concatenate([[pf.events[origin]["lam"]], lam])
        vals = np.concatenate([[of_point(pf.event_p(origin))], vals])
    stable = _stable_mask(f) if of_point is not None else None
    color = f"C{k % 10}"
    if stable is None:
        ax.plot(lam, vals, "-", color=color, lw=1.5)
    else:
        if parent >= 0:
            stable = np.concatenate([stable[:1], stable])
        for i in range(len(lam) - 1):  # a segment is stable when both its ends are
            ok = bool(stable[i] and stable[i + 1])
            ax.plot(lam[i:i + 2], vals[i:i + 2], "-" if ok else "--", color=color, lw=1.6 if ok else 1.1)
    for i, e in enumerate(f.events):
        v = of_point(f.event_p(i)) if of_point is not None else float(np.interp(e["s"], f.s, vals))
        _mark(ax, points, POINT_LABELS.get(e["kind"], e["kind"]), e["lam"], v)
    return stable is not None


def curve_kind(f: PathFile) -> Optional[Tuple[str, str]]:
    """``('fold' | 'hopf', par2)`` for a two-parameter curve file (problem ``fold:NAME:PAR2``), else None."""
    parts = str(getattr(f, "problem", "")).split(":")
    return (parts[0], parts[-1]) if len(parts) >= 3 and parts[0] in ("fold", "hopf") else None


def plot_twoparam(files, ax=None):
    """Fold and Hopf curves in the (λ, par2) plane, codimension-2 points marked and labelled, with a legend."""
    plt = _pyplot()
    from matplotlib.lines import Line2D

    ax = ax or plt.gca()
    handles, seen, par2_names, points = {}, set(), set(), {}
    for f in files:
        kind, par2 = curve_kind(f)
        par2_names.add(par2)
        col = -2 if kind == "hopf" else -1  # Hopf rows are (p, λ, κ), fold rows (p, λ)
        lam1, mu = np.asarray(f.p)[:, col].real, f.lam[f.p_steps]
        style = {"fold": dict(color="C0", ls="-"), "hopf": dict(color="C3", ls="-")}[kind]
        if kind == "hopf":  # the neutral-saddle part (κ < 0, past a BT) dashed, as MatCont draws it
            kappa = np.asarray(f.p)[:, -1].real
            for sel, ls in ((kappa >= 0, "-"), (kappa <= 0, ":")):
                if sel.sum() > 1:
                    ax.plot(np.where(sel, lam1, np.nan), np.where(sel, mu, np.nan), ls, color="C3", lw=1.5)
            if (kappa < 0).any():
                handles["NS"] = Line2D([], [], color="C3", ls=":", label="neutral saddles")
        else:
            ax.plot(lam1, mu, **style, lw=1.5)
        handles.setdefault(kind, Line2D([], [], **style, label={"fold": "fold curve (LP)", "hopf": "Hopf curve (HB)"}[kind]))
        for i, e in enumerate(f.events):
            tag = POINT_LABELS.get(e["kind"], e["kind"])
            if tag not in CODIM2_NAMES:  # turning points of the curve itself are no codimension-2 points
                continue
            x, y = float(np.real(f.event_p(i)[col])), float(e["lam"])
            key = (tag, round(x, 7), round(y, 7))
            if key in points:  # BT lies on the fold and on the Hopf curve: marked once
                continue
            points[key] = True
            seen.add(tag)
            ax.plot([x], [y], CODIM2_MARKERS[tag], color="k", ms=6, zorder=3)
            ax.annotate(tag, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    legend = list(handles.values()) + [Line2D([], [], color="k", ls="", marker=CODIM2_MARKERS[t], ms=6,
                                              label=CODIM2_NAMES[t])
                                       for t in sorted(seen)]
    ax.legend(handles=legend, loc="best", fontsize=8)
    ax.set_xlabel("λ")
    ax.set_ylabel(", ".join(sorted(par2_names)))
    ax.set_title(_title(files[0], "two-parameter diagram"), fontsize=9)
    ax.grid(True, alpha=0.3)
    return ax


def _two_panels(f: PathFile, fig, what: str):
    fig = fig or _pyplot().gcf()
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.set_title(_title(f, what), fontsize=9)
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    return fig, ax1, ax2


def plot_steps(f: PathFile, fig=None):
    fig, ax1, ax2 = _two_panels(f, fig, "steps")
    idx, rej = f.index, f.rejected
    ax1.semilogy(idx[1:], f.ds[1:], ".-", color="C0", label="accepted: ds used")
    if len(rej["index"]):
        ax1.semilogy(rej["index"], rej["ds"], "x", color="C3", label="rejected: ds after shrink")
        for reason in sorted(set(rej["reason"])):
            sel = rej["reason"] == reason
            ax2.plot(rej["index"][sel], rej["n_newton_iters"][sel], "x", label=f"rejected ({reason})")
    ax2.plot(idx, f.n_newton_iters, ".-", color="C0", label="accepted")
    ax1.set_ylabel("step size ds")
    ax2.set_ylabel("Newton iterations")
    ax2.set_xlabel("step attempt")
    for ax in (ax1, ax2):
        ax.legend(loc="best", fontsize=8)
    return fig


def plot_diagnostics(f: PathFile, fig=None):
    fig, ax1, ax2 = _two_panels(f, fig, "diagnostics")
    s = f.s
    sig = f.sigma_min
    ok = np.isfinite(sig) & (sig > 0)
    if ok.any():
        ax1.semilogy(s[ok], sig[ok], ".-", color="C0")
    else:
        ax1.text(0.5, 0.5, "σ_min not recorded (large n)", ha="center", va="center", transform=ax1.transAxes)
    ax2.step(s, f.det_sign, where="post", color="C1")
    for e in f.events:
        for ax in (ax1, ax2):
            ax.axvline(e["s"], color="C3", ls="--", lw=0.8)
        ax1.annotate(e["kind"], (e["s"], 1.0), xycoords=("data", "axes fraction"), fontsize=8, color="C3",
                     xytext=(2, -10), textcoords="offset points")
    ax1.set_ylabel("σ_min of dH_dp")
    ax2.set_ylabel("sign det [J; tᵀ]")
    ax2.set_xlabel("arclength s")
    ax2.set_ylim(-1.5, 1.5)
    return fig


def plot_metrics(f: PathFile, y: Optional[str] = None, fig=None):
    plt = _pyplot()
    fig = fig or plt.gcf()
    names = [y] if y else list(f.metrics_names)
    for name in names:
        if name not in f.metrics_names:
            raise StorageError(f"--y {name!r}: not a metric of this file "
                               f"({', '.join(f.metrics_names) or 'it stores none'})")
    if not names:  # no metrics stored: show the per-step residual, which every file has
        names = ["residual"]
    with_steps = y is None  # the full view adds the step sizes, with the backtracks marked
    axes = np.atleast_1d(fig.subplots(len(names) + with_steps, 1, sharex=True))
    for ax, name in zip(axes, names):
        vals = f.metrics[name] if name in f.metrics_names else f.residual
        ax.plot(f.lam, vals, ".-")
        ax.set_ylabel(name if name in f.metrics_names else "corrector residual (no metrics stored)")
        ax.grid(True, alpha=0.3)
    if with_steps:
        ax = axes[-1]
        ax.plot(f.lam[1:], f.ds[1:], ".-", color="C0", label="accepted (step used)")
        rej = f.rejected
        if len(rej["index"]):
            ax.plot(rej["lam"], rej["ds"], "x", color="C3", label="backtrack (step after halving)")
        ax.set_ylabel("Δλ / ds")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("λ")
    axes[0].set_title(_title(f, "metrics"), fontsize=9)
    return fig


def plot_file(path: str, kind: str = "branch", y: Optional[str] = None, out: Optional[str] = None,
              dpi: int = 100, curves: Tuple[str, ...] = ()) -> str:
    """Draw ``kind`` from the file at ``path`` and save it to ``out`` (default ``<path>.<kind>.png``).

    ``curves``: more fold/Hopf curve files drawn with ``path`` by ``kind='twoparam'``.
    """
    every = KINDS + ("diagram", "twoparam") + CYCLE_KINDS
    if kind not in every:
        raise ValueError(f"kind must be one of {', '.join(every)}, got {kind!r}")
    plt = _pyplot()
    out = out or f"{path.rsplit('.', 1)[0]}.{kind}.png"
    if kind in CYCLE_KINDS:
        return _plot_cycles_file(plt, path, kind, y, out, dpi)
    if kind == "twoparam":
        return _plot_twoparam_files(plt, (path,) + tuple(curves), out, dpi)
    if curves:
        raise StorageError("--curve: extra curves are drawn by --kind twoparam only")
    if kind == "diagram" and _is_cycles_file(path):  # a cycle branch on its own, as a diagram draws it
        return _plot_cycles_file(plt, path, kind, y, out, dpi)
    with load(path) as f:
        if isinstance(f, DiagramFile) != (kind == "diagram"):
            raise StorageError(f"{path}: --kind diagram plots diagram files only" if kind == "diagram" else
                               f"{path}: a bifurcation diagram; plot it with --kind diagram")
        if kind == "diagram" and not f.branches:
            raise StorageError(f"{path}: no branch stored, nothing to plot")
        if kind != "diagram" and (not f.has_steps or f.num_steps == 0):
            raise StorageError(f"{path}: no steps stored, nothing to plot")
        fig = plt.figure(figsize=(6.4, 4.8 if kind in ("branch", "diagram") else 6.0))
        try:
            if kind == "diagram":
                plot_diagram(f, y, fig.gca())
            elif kind == "branch":
                plot_branch(f, y, fig.gca())
            elif kind == "steps":
                plot_steps(f, fig)
            elif kind == "diagnostics":
                plot_diagnostics(f, fig)
            else:
                plot_metrics(f, y, fig)
            fig.tight_layout()
            fig.savefig(out, dpi=dpi)
        finally:
            plt.close(fig)
    return out


def _plot_twoparam_files(plt, paths, out: str, dpi: int) -> str:
    from contextlib import ExitStack

    with ExitStack() as stack:
        files = []
        for p in paths:
            f = stack.enter_context(load(p))
            if isinstance(f, DiagramFile):  # its fold and Hopf curves (pathtrack fold/hopf --out DIAGRAM)
                if not f.curves:
                    raise StorageError(f"{p}: a diagram file holding no fold or Hopf curve; add one with "
                                       "pathtrack fold|hopf --out")
                files.extend(f.curves)
            else:
                files.append(f)
        for f in files:
            p = f.path
            if curve_kind(f) is None:
                raise StorageError(f"{p}: --kind twoparam draws fold and Hopf curves (pathtrack fold/hopf --out); "
                                   "this is another kind of file")
            if not f.has_steps or f.num_steps == 0:
                raise StorageError(f"{p}: no steps stored, nothing to plot")
        fig = plt.figure(figsize=(6.4, 4.8))
        try:
            plot_twoparam(files, fig.gca())
            fig.tight_layout()
            fig.savefig(out, dpi=dpi)
        finally:
            plt.close(fig)
    return out


def _is_cycles_file(path: str) -> bool:
    from .io import CYCLES_FORMAT
    from .io.reader import _format

    try:
        return _format(path) == CYCLES_FORMAT
    except (StorageError, OSError):
        return False  # load() says what is wrong


def _plot_cycles_file(plt, path: str, kind: str, y: Optional[str], out: str, dpi: int) -> str:
    """``kind`` ``orbits``, ``cycles`` or ``diagram`` of a cycles file; ``orbits`` of a diagram's cycle branches."""
    from .io import CyclesFile, open_file

    f = open_file(path)
    branches = [f]
    if isinstance(f, DiagramFile) and kind == "orbits":
        branches = [c for c in f.cycles if len(c.orbits["lam"])]
        f.close()
        if not branches:
            raise StorageError(f"{path}: a diagram file without cycle branches; continue them with pathtrack "
                               "diagram PROBLEM --cycles --out FILE")
    elif not isinstance(f, CyclesFile):
        f.close()
        if isinstance(f, DiagramFile):
            raise StorageError(f"{path}: a diagram file; its cycle branches are drawn by --kind diagram (--y l2, max, "
                               "amplitude or period) and --kind orbits")
        raise StorageError(f"{path}: --kind {kind} plots a cycle branch (written by pathtrack run PROBLEM "
                           "--from FILE:hopfK --out FILE); this is another kind of file")
    elif not len(f.orbits["lam"]):
        raise StorageError(f"{path}: no orbits stored, nothing to plot")
    fig = plt.figure(figsize=(6.4, 4.8 if kind in ("orbits", "diagram") else 6.0))
    try:
        if kind == "orbits":
            plot_orbits(branches, y, fig.gca())
        elif kind == "diagram":
            ax = fig.gca()
            points: dict = {}
            plot_cycle_branches(branches, y, ax, points=points)
            _diagram_legend(ax, points, True, 0)
            ax.set_xlabel("λ")
            ax.set_ylabel(cycle_values(f, y)[2])
            ax.set_title(f"{f.problem}: cycle branch (solid stable, dashed unstable)", fontsize=9)
            ax.grid(True, alpha=0.3)
        else:
            plot_cycles(f, fig)
        fig.tight_layout()
        fig.savefig(out, dpi=dpi)
    finally:
        plt.close(fig)
    return out


def plot_orbits(f, y: Optional[str], ax, max_orbits: int = 25) -> None:
    """A family of orbits in phase space: components ``u[i]`` against ``u[j]`` (``y`` = ``'i,j'``, default 0,1).

    ``f``: a cycle branch, or a list of them (a diagram's). At most ``max_orbits`` orbits a branch,
    evenly spaced along it, coloured by λ.
    """
    files = list(f) if isinstance(f, (list, tuple)) else [f]
    n = files[0].orbits["profile"].shape[2]
    i, j = (0, 1) if y in (None, "") else _pair(y, n)
    lam_all = np.concatenate([c.orbits["lam"] for c in files])
    import matplotlib as mpl
    lo, hi = float(lam_all.min()), float(lam_all.max())
    norm = mpl.colors.Normalize(vmin=lo, vmax=hi if hi > lo else None)
    cmap = mpl.colormaps["viridis"]
    drawn = 0
    for c in files:
        prof, lam = c.orbits["profile"], c.orbits["lam"]
        rows = np.unique(np.linspace(0, len(prof) - 1, min(max_orbits, len(prof))).round().astype(int))
        for r in rows:
            ax.plot(prof[r, :, i], prof[r, :, j], color=cmap(norm(lam[r])), lw=1.0)
        drawn += len(rows)
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="λ")
    ax.set_xlabel(f"u[{i}]")
    ax.set_ylabel(f"u[{j}]")
    of = f" of {len(files)} cycle branches" if len(files) > 1 else ""
    ax.set_title(f"{files[0].problem}: {drawn} of {len(lam_all)} orbits{of}")


def _pair(y: str, n: int) -> Tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", y)
    if not m or not (int(m.group(1)) < n and int(m.group(2)) < n):
        raise StorageError(f"--y {y!r}: expected two components 'i,j' below n = {n}")
    return int(m.group(1)), int(m.group(2))


def plot_cycles(f, fig) -> None:
    """Period and L2 norm against λ, solid where the orbits are stable and dashed where not; special points marked."""
    o = f.orbits
    lam, stable = o["lam"], o["n_unstable"] == 0
    axes = fig.subplots(2, 1, sharex=True)
    for ax, key, label in zip(axes, ("period", "l2"), ("period", "L2 norm")):
        v = o[key]
        # one line per run of equal stability, sharing the boundary point so the curve stays connected
        cuts = np.flatnonzero(np.diff(stable.astype(int))) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(lam)]):
            ax.plot(lam[max(a - 1, 0):b], v[max(a - 1, 0):b], "k-" if stable[a] else "k--", lw=1.2)
        for sp in f.special_points:
            if key in sp:
                ax.plot(sp["lam"], sp[key], "o", ms=5)
                ax.annotate(sp["kind"], (sp["lam"], sp[key]), textcoords="offset points", xytext=(4, 4))
        ax.set_ylabel(label)
    axes[-1].set_xlabel("λ")
    axes[0].set_title(f"{f.problem}: cycles (solid stable, dashed unstable)")
