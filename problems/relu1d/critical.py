"""Critical points of the ReLU1D risk by multistart gradient flow and Newton polishing.

Jentzen & Riekert (2022) show that for a single hidden neuron (``width = 1``) and a
piecewise-polynomial target the critical points of the risk have only finitely many
*realisation functions* ``x ↦ N_p(x)`` (the parameters themselves come in continua: the
ReLU scaling ``(w, b, v) → (αw, αb, v/α)``, α > 0, and dead neurons). This module finds
them empirically:

1. draw ``n_starts`` random parameter vectors (:meth:`ReLU1D.random_params`);
2. integrate the gradient flow from each to ``‖∇L‖ < gtol`` (:func:`pathtrack.flow.gradient_flow`);
3. polish with Newton steps ``p ← p − H⁺ ∇L`` (least squares: the Hessian is singular
   along the scaling orbit), keeping a step only when it lowers ``‖∇L‖``;
   (optionally, more random starts go straight to Newton, which also finds saddles);
4. classify each point by its Hessian index (negative eigenvalues) and nullity;
5. group the points by realisation function: sup-norm distance on a fine grid of [a, b]
   below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from pathtrack.flow import gradient_flow, hessian_index

from .model import ReLU1D

__all__ = ["CriticalPoint", "CriticalClass", "polish", "find_critical_points", "describe", "format_table"]


@dataclass
class CriticalPoint:
    p: np.ndarray
    risk: float
    grad_norm: float
    index: int
    nullity: int
    eigs: np.ndarray
    flow_time: float  # NaN for Newton-only points
    source: str = "flow"  # 'flow' (gradient flow + polishing) or 'newton' (Newton from the random start)
    start: int = -1  # the number of the random start it came from


@dataclass
class CriticalClass:
    """Critical points sharing one realisation function."""

    values: np.ndarray  # the realisation on the grid
    risk: float
    description: str
    points: List[CriticalPoint] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.points)

    @property
    def indices(self) -> List[int]:
        return sorted({cp.index for cp in self.points})

    @property
    def representative(self) -> CriticalPoint:
        return min(self.points, key=lambda cp: cp.grad_norm)


def polish(problem: ReLU1D, p: np.ndarray, lam: float = 1.0, max_iters: int = 30, rcond: float = 1e-10):
    """Newton on ∇L = 0 with least-squares solves; every accepted step lowers ‖∇L‖."""
    p = np.array(p, dtype=float)
    g = problem.H(p, lam)
    gn = float(np.linalg.norm(g))
    for _ in range(max_iters):
        if gn < 1e-15:
            break
        step = np.linalg.lstsq(problem.dH_dp(p, lam), g, rcond=rcond)[0]
        q = p - step
        gq = problem.H(q, lam)
        gqn = float(np.linalg.norm(gq))
        if not gqn < gn:
            break
        p, g, gn = q, gq, gqn
    return p, gn


def describe(problem: ReLU1D, p: np.ndarray, tol: float = 1e-7) -> str:
    """The realisation of a width-1 network in words: constant, affine, or a hinge."""
    w, b, v, c = (float(t[0]) if np.ndim(t) else float(t) for t in problem.unpack(p))
    xs = np.array([problem.a, problem.b])
    vals = problem.realisation(p, xs)
    if abs(vals[1] - vals[0]) < tol and np.ptp(problem.realisation(p, np.linspace(problem.a, problem.b, 101))) < tol:
        return f"constant {vals[0]:.6f}"
    kinks = problem.kinks(p)
    if kinks.size == 0:
        slope = (vals[1] - vals[0]) / (problem.b - problem.a)
        return f"affine {vals[0]:.6f} + {slope:.6f}(x{-problem.a:+g})"
    side = "right" if w > 0 else "left"
    slope = v * w
    return f"hinge at x={kinks[0]:.6f}, {side} side slope {slope:.6f}, flat value {c:.6f}"


def find_critical_points(problem: ReLU1D, n_starts: int = 40, seed: int = 0, lam: Optional[float] = None,
                         scale: float = 1.0, flow_gtol: float = 1e-6, rtol: float = 1e-6, gtol: float = 1e-10,
                         t_max: float = 1e6, grid: int = 2001, tol: float = 1e-6,
                         method: str = "BDF", newton_starts: int = 0) -> List[CriticalClass]:
    """Multistart gradient flow + Newton polishing; the distinct realisations found, by increasing risk.

    Each flow runs to ``‖∇L‖ < flow_gtol`` (integrator tolerance ``rtol``); Newton polishing
    then takes it below ``gtol``. Points that polishing cannot take below ``gtol`` are dropped.
    Gradient flows (almost) never end on saddles; ``newton_starts`` further random starts
    go straight to Newton polishing, which converges to saddles as readily as to minima.
    """
    lam = float(problem.lam_end if lam is None else lam)
    rng = np.random.default_rng(seed)
    xs = np.linspace(problem.a, problem.b, grid)
    classes: List[CriticalClass] = []
    for k in range(n_starts + newton_starts):
        p0 = problem.random_params(rng, scale)
        if k < n_starts:
            r = gradient_flow(problem, p0, lam, gtol=flow_gtol, rtol=rtol, t_max=t_max, method=method,
                              compute_index=False)
            p, gn = polish(problem, r.p_final, lam)
            source, t_flow = "flow", float(r.t[-1])
        else:
            p, gn = polish(problem, p0, lam, max_iters=100)
            source, t_flow = "newton", np.nan
        if not gn < gtol:
            continue
        eigs, index = hessian_index(problem, p, lam)
        zero = 1e-7 * max(1.0, float(np.abs(eigs).max()))
        cp = CriticalPoint(p=p, risk=problem.loss(p, lam), grad_norm=gn, index=index,
                           nullity=int(np.sum(np.abs(eigs) <= zero)), eigs=eigs, flow_time=t_flow, source=source, start=k)
        vals = problem.realisation(p, xs)
        for cls in classes:
            if np.max(np.abs(cls.values - vals)) < tol:
                cls.points.append(cp)
                break
        else:
            classes.append(CriticalClass(values=vals, risk=cp.risk, description=describe(problem, p), points=[cp]))
    return sorted(classes, key=lambda c: c.risk)


def format_table(classes: List[CriticalClass]) -> str:
    """A plain-text table: one row per realisation function."""
    rows = [f"{'#':>2}  {'risk':>12}  {'index':>6}  {'nullity':>7}  {'flow':>4}  {'newton':>6}  realisation"]
    for i, cls in enumerate(classes):
        nul = sorted({cp.nullity for cp in cls.points})
        n_flow = sum(cp.source == "flow" for cp in cls.points)
        rows.append(f"{i:>2}  {cls.risk:12.8f}  {','.join(map(str, cls.indices)):>6}  "
                    f"{','.join(map(str, nul)):>7}  {n_flow:>4}  {cls.count - n_flow:>6}  {cls.description}")
    return "\n".join(rows)
