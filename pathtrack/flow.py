"""Gradient flows ``ṗ = −∇L(p)`` integrated to a stationary point, recorded like a tracked path.

:func:`gradient_flow` integrates the flow of a gradient problem (``is_gradient=True``:
``loss_and_grad``, ``H = ∇L`` and, when available, ``dH_dp`` = the Hessian) at a fixed
λ with one of scipy's ``solve_ivp`` integrators. The default is ``'BDF'``, with the
Hessian (negated) as the Jacobian of the right-hand side:

- gradient flows of loss landscapes are stiff (Hessian eigenvalues spread over many
  decades, and near a minimum the flow decays like ``exp(−μ t)`` for every eigenvalue μ);
- an implicit method with the exact Jacobian takes steps that grow without bound as the
  flow settles, and with very long steps a BDF step *is* a damped Newton step on ∇L = 0,
  so the end point is a stationary point to solver precision instead of a slowly
  creeping explicit iterate.

The driver steps the scipy ``OdeSolver`` object itself (the same classes ``solve_ivp``
uses) instead of calling ``solve_ivp``, so that it can (a) hand every accepted step to
:class:`~pathtrack.tracker.Observer` s as a :class:`~pathtrack.tracker.StepRecord`,
exactly as the tracker does, and (b) stop at the first accepted step with
``‖∇L‖₂ < gtol`` (the stop event), or at ``t_max``.

Records: ``lam`` is the time ``t``; ``s`` the arclength of the trajectory in p-space;
``ds`` the time step; ``p`` the point; ``tangent`` the unit tangent of the curve
``(p(t), t)``, i.e. ``(−∇L, 1)/‖(−∇L, 1)‖`` (length ``n + 1`` like the tracker's);
``n_newton_iters`` the right-hand-side evaluations the step took; ``residual`` ‖∇L‖₂;
``metrics`` ``{'risk': L, 'grad_norm': ‖∇L‖₂}``. So an HDF5 ``PathWriter`` or the
in-memory :class:`~pathtrack.driver.Recorder` store a flow unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .events import hessian_spectrum, negative_count
from .problem import Problem
from .results import Result
from .status import RejectReason, Status
from .tracker import Observer, StepRecord

__all__ = ["gradient_flow", "FlowResult", "FlowState", "RateFit", "hessian_index", "plot_risk"]

_SOLVERS = ("BDF", "Radau", "LSODA", "RK45", "RK23", "DOP853")
_IMPLICIT = ("BDF", "Radau", "LSODA")


@dataclass
class FlowState:
    """What observers may read from the flow while it runs (the tracker's ``state`` counterpart)."""

    y: np.ndarray  # (p, t), the real view like the tracker's
    status: Status = Status.running
    end_reason: str = ""
    n_steps: int = 0
    n_accepted: int = 0
    s: float = 0.0
    wall_time: float = 0.0

    @property
    def lam(self) -> float:
        return float(self.y[-1])


@dataclass(frozen=True)
class RateFit:
    """A least-squares line through the stored trajectory.

    ``kind='power'``: ``log(L(t) − L_final) ≈ intercept − rate · log t``;
    ``kind='exp'``: ``log(L(t) − L_final) ≈ intercept − rate · t``;
    ``kind='risk'``: ``log L(t) ≈ intercept − rate · log t`` (no subtraction; for L → 0).
    ``r2`` is the coefficient of determination of the fit, ``t_range`` the window used.
    """

    kind: str
    rate: float
    intercept: float
    r2: float
    t_range: tuple
    n_points: int

    def predict(self, t: np.ndarray) -> np.ndarray:
        """The fitted excess risk (or risk, for ``kind='risk'``) at times ``t``."""
        x = np.asarray(t, dtype=float) if self.kind == "exp" else np.log(np.asarray(t, dtype=float))
        return np.exp(self.intercept - self.rate * x)


@dataclass(frozen=True)
class FlowResult(Result):
    """A gradient-flow trajectory (a :class:`~pathtrack.results.Result`).

    Attributes
    ----------
    t : ndarray (k,)
        Times of the accepted solver steps (row 0 is the start, ``t = 0``).
    p : ndarray (k, n)
        The trajectory.
    risk, grad_norm : ndarray (k,)
        ``L(p(t))`` and ``‖∇L(p(t))‖₂``.
    status : Status
        ``success`` (‖∇L‖ < gtol), ``max_steps_reached`` (``t_max`` or ``max_steps`` first: resumable
        from ``p_final``), ``ds_too_small`` (the integrator failed) or ``nonfinite``.
    end_reason : str
        ``'grad_tol'``, ``'t_max'``, ``'max_steps'`` or the integrator's message.
    hessian_eigs : ndarray
        Eigenvalues of the (symmetrised) Hessian at the final point (empty when not computed).
    hessian_index : int
        Number of negative Hessian eigenvalues at the final point (−1 when not computed), as
        :func:`pathtrack.events.hessian_spectrum` counts them.
    method, lam : the integrator and the fixed λ of the loss.
    counters : dict
        The integrator's ``n_H_evals`` (right-hand sides), ``n_jac_evals`` and ``n_lu``
        (LU factorisations); also as ``nfev``, ``njev``, ``nlu``.
    total_time : float
        Wall-clock seconds; also as ``wall_time``.
    """

    t: np.ndarray
    p: np.ndarray
    risk: np.ndarray
    grad_norm: np.ndarray
    end_reason: str
    hessian_eigs: np.ndarray
    hessian_index: int
    method: str
    lam: float
    extra: Dict[str, Any] = field(default_factory=dict)

    nfev = property(lambda self: self.counters["n_H_evals"])
    njev = property(lambda self: self.counters["n_jac_evals"])
    nlu = property(lambda self: self.counters["n_lu"])
    wall_time = property(lambda self: self.total_time)

    @property
    def converged(self) -> bool:
        return self.status is Status.success

    @property
    def p_final(self) -> np.ndarray:
        return self.p[-1]

    @property
    def risk_final(self) -> float:
        return float(self.risk[-1])

    def index(self, rel_tol: float = 1e-6) -> int:
        """Negative Hessian eigenvalues below ``−rel_tol · max|eig|`` at the final point.

        ``hessian_index`` uses the tracker's tolerance (``1e-10`` relative); at degenerate
        critical points a flow stopped by ``gtol`` leaves eigenvalues of order ``gtol``
        of either sign, which that tolerance counts. Use a looser ``rel_tol`` there.
        """
        if self.hessian_eigs.size == 0:
            return -1
        return negative_count(self.hessian_eigs, rel_tol)

    def excess_risk(self) -> np.ndarray:
        """``L(p(t)) − L(p(t_final))`` per stored step."""
        return self.risk - self.risk[-1]

    def rate(self, kind: str = "power", t_range: Optional[tuple] = None, floor: float = 1e-13) -> RateFit:
        """Estimate the convergence rate of the risk from the stored trajectory.

        Parameters
        ----------
        kind : {'power', 'exp', 'risk'}
            ``'power'`` fits ``log(L − L_final)`` against ``log t`` (algebraic rate β in
            ``L − L_∞ ~ t^−β``, the quantity bounded in Eberle et al. 2023);
            ``'exp'`` fits ``log(L − L_final)`` against ``t`` (exponential rate κ in
            ``e^{−κ t}``; at a non-degenerate minimum κ = 2 μ_min); ``'risk'`` fits
            ``log L`` against ``log t`` (no subtraction, for flows whose limit risk is 0).
        t_range : (t_lo, t_hi), optional
            The window. Default, for ``'power'`` and ``'risk'``: the two decades of time up to
            ``t_hi = t_final / 100`` (the final risk stands in for the limit, and for an
            algebraic decay its own error is then at most ``100^−β`` of the excess inside the
            window); for ``'exp'``: up to the last time ``t_hi`` the excess is 10⁴ times the last
            decrement ``L(t_{k−1}) − L(t_k)`` (for an exponential decay about the final risk's own
            error), from the middle between the end of the transient and ``t_hi`` (so that faster
            modes have died out). The transient ends where the excess first falls below a tenth
            of its initial value; the window never starts before it.
        floor : float
            Points whose excess is below ``floor · max(1, |L_final|)`` are dropped (rounding).
        """
        if kind not in ("power", "exp", "risk"):
            raise ValueError(f"kind must be 'power', 'exp' or 'risk', got {kind!r}")
        t = self.t
        y = self.risk if kind == "risk" else self.excess_risk()
        if t_range is None:
            below = np.nonzero(y <= 0.1 * y[0])[0]
            t_lo = t[below[0]] if below.size else t[1] if t.size > 1 else 0.0
            if kind == "exp":
                # exponential decay: the final risk is off the limit by about the last decrement
                tail = max(float(self.risk[-2] - self.risk[-1]) if t.size > 1 else 0.0, 0.0)
                ok = np.nonzero(y >= 1e4 * max(tail, floor * max(1.0, abs(self.risk_final))))[0]
                t_hi = float(t[ok[-1]]) if ok.size else float(t[-1])
                t_lo = max(float(t_lo), 0.5 * (float(t_lo) + t_hi))  # the later half: slowest mode only
            else:
                t_hi = float(t[-1]) / 100.0
                t_lo = max(float(t_lo), t_hi / 100.0)  # the last two decades: asymptotic regime
            t_range = (float(t_lo), t_hi)
        t_lo, t_hi = t_range
        keep = (t >= t_lo) & (t <= t_hi) & (t > 0) & (y > floor * max(1.0, abs(self.risk_final)))
        if np.count_nonzero(keep) < 3:
            return RateFit(kind, np.nan, np.nan, np.nan, (t_lo, t_hi), int(np.count_nonzero(keep)))
        x = t[keep] if kind == "exp" else np.log(t[keep])
        ly = np.log(y[keep])
        slope, intercept = np.polyfit(x, ly, 1)
        resid = ly - (intercept + slope * x)
        ss = float(np.sum((ly - ly.mean()) ** 2))
        r2 = 1.0 - float(resid @ resid) / ss if ss > 0 else np.nan
        return RateFit(kind, float(-slope), float(intercept), r2, (float(t_lo), float(t_hi)),
                       int(np.count_nonzero(keep)))


def hessian_index(problem: Problem, p: np.ndarray, lam: float):
    """Eigenvalues and index (number of negative eigenvalues) of the problem's Hessian at ``p``.

    Uses :func:`pathtrack.events.hessian_spectrum`, so the tolerance is the tracker's.
    """
    return hessian_spectrum(problem.dH_dp(p, lam))


def _tangent(g: np.ndarray) -> np.ndarray:
    v = np.append(-g, 1.0)
    return v / np.linalg.norm(v)


def gradient_flow(problem: Problem, p0, lam: Optional[float] = None, *, method: str = "BDF",
                  t_max: float = 1e6, gtol: float = 1e-8, rtol: float = 1e-8, atol: float = 1e-12,
                  first_step: Optional[float] = None, max_steps: int = 100_000, use_hessian: bool = True,
                  observers: Sequence[Observer] = (), compute_index: bool = True,
                  dense_max_n: int = 2000) -> FlowResult:
    """Integrate ``ṗ = −∇_p L(p, lam)`` from ``p0`` until ``‖∇L‖₂ < gtol`` or ``t = t_max``.

    Parameters
    ----------
    problem : Problem
        A gradient problem (``is_gradient=True``) with ``loss_and_grad`` (or ``loss``).
    p0 : array_like
    lam : float, optional
        The λ at which the loss is taken; default ``problem.lam_end``.
    method : {'BDF', 'Radau', 'LSODA', 'RK45', 'RK23', 'DOP853'}
        scipy integrator. The implicit ones get ``jac = −Hessian`` when ``use_hessian``
        (``problem.dH_dp``: analytic, or autograd when the problem defines none).
    t_max, gtol : float
        Stop at the first accepted step with ``‖∇L‖₂ < gtol``, or when ``t`` reaches ``t_max``.
    rtol, atol : float
        The integrator's tolerances.
    max_steps : int
        Cap on accepted integrator steps.
    observers : sequence of Observer
        Receive ``on_start``, ``on_step`` (every accepted step), ``on_finish`` with this
        flow's :class:`_Flow` as ``tracker`` (it has ``problem`` and ``state``).
    compute_index : bool
        Compute the Hessian spectrum at the final point (needs ``dH_dp``; skipped above
        ``dense_max_n`` unknowns).
    """
    from scipy import integrate

    if method not in _SOLVERS:
        raise ValueError(f"method must be one of {_SOLVERS}, got {method!r}")
    if not getattr(problem, "is_gradient", False):
        raise ValueError(f"problem {getattr(problem, 'name', problem)!r} is not a gradient problem "
                         "(is_gradient=False): a gradient flow needs a loss")
    lam = float(problem.lam_end if lam is None else lam)
    p0 = np.array(p0, dtype=float)
    flow = _Flow(problem, lam, observers)
    t0 = time.perf_counter()

    def rhs(t, p):
        return -np.asarray(problem.H(p, lam), dtype=float)

    kwargs: Dict[str, Any] = {"rtol": rtol, "atol": atol}
    if first_step is not None:
        kwargs["first_step"] = first_step
    if method in _IMPLICIT and use_hessian:
        kwargs["jac"] = lambda t, p: -np.asarray(problem.dH_dp(p, lam), dtype=float)
    solver = getattr(integrate, method)(rhs, 0.0, p0, t_max, **kwargs)

    risk, g = flow.evaluate(p0)
    flow.start(p0, risk, g)
    status, why = Status.running, ""
    while status is Status.running:
        if np.linalg.norm(g) < gtol:
            status, why = Status.success, "grad_tol"
            break
        if solver.status == "finished" or solver.t >= t_max:
            status, why = Status.max_steps_reached, "t_max"
            break
        if flow.state.n_accepted >= max_steps:
            status, why = Status.max_steps_reached, "max_steps"
            break
        t_prev, nfev_prev = solver.t, solver.nfev
        ts = time.perf_counter()
        try:
            msg = solver.step()
        except FloatingPointError as exc:  # a NonFiniteError from the problem
            status, why = Status.nonfinite, str(exc)
            break
        if solver.status == "failed":
            status, why = Status.ds_too_small, str(msg)
            break
        p = np.array(solver.y)
        if not np.all(np.isfinite(p)):
            status, why = Status.nonfinite, "the trajectory is not finite"
            break
        risk, g = flow.evaluate(p)
        flow.step(solver.t, solver.t - t_prev, p, risk, g, solver.nfev - nfev_prev, time.perf_counter() - ts)
    flow.finish(status, why)

    eigs, index = np.array([]), -1
    p_end = flow.p[-1]
    if compute_index and p_end.size <= dense_max_n:
        eigs, index = hessian_index(problem, p_end, lam)
    return FlowResult(t=np.array(flow.t), p=np.array(flow.p), risk=np.array(flow.risk),
                      grad_norm=np.array(flow.gnorm), status=status, end_reason=why, hessian_eigs=eigs,
                      hessian_index=index, method=method, lam=lam, message=status.message,
                      counters={"n_H_evals": int(solver.nfev), "n_jac_evals": int(getattr(solver, "njev", 0)),
                                "n_lu": int(getattr(solver, "nlu", 0))},
                      total_time=time.perf_counter() - t0)


class _Flow:
    """The flow as observers see it: ``problem``, ``state`` (a :class:`FlowState`) and the columns."""

    def __init__(self, problem: Problem, lam: float, observers: Sequence[Observer]):
        self.problem = problem
        self.lam = lam
        self.observers: List[Observer] = list(observers)
        self.state: Optional[FlowState] = None
        self.t: list = []
        self.p: list = []
        self.risk: list = []
        self.gnorm: list = []

    def evaluate(self, p: np.ndarray):
        f, g = self.problem.loss_and_grad(p, self.lam)
        return float(f), np.asarray(g, dtype=float)

    def _append(self, t, p, risk, g) -> float:
        gn = float(np.linalg.norm(g))
        self.t.append(float(t))
        self.p.append(p.copy())
        self.risk.append(risk)
        self.gnorm.append(gn)
        return gn

    def _record(self, index, t, ds, p, risk, gn, g, nfev, wall) -> StepRecord:
        return StepRecord(index=index, accepted=True, reason=RejectReason.none, lam=float(t), s=self.state.s, ds=float(ds),
                          p=p.copy(), tangent=_tangent(g), n_newton_iters=int(nfev), residual=gn,
                          contraction=np.nan, wall_time=wall, metrics={"risk": risk, "grad_norm": gn},
                          step=self.state.n_accepted)

    def start(self, p, risk, g) -> None:
        gn = self._append(0.0, p, risk, g)
        self.state = FlowState(y=np.append(p, 0.0))
        rec = self._record(0, 0.0, 0.0, p, risk, gn, g, 1, 0.0)
        for obs in self.observers:
            obs.on_start(self, rec)

    def step(self, t, dt, p, risk, g, nfev, wall) -> None:
        st = self.state
        st.s += float(np.linalg.norm(p - self.p[-1]))
        gn = self._append(t, p, risk, g)
        st.n_steps += 1
        st.n_accepted += 1
        st.wall_time += wall
        st.y = np.append(p, t)
        rec = self._record(st.n_steps, t, dt, p, risk, gn, g, nfev, wall)
        for obs in self.observers:
            obs.on_step(self, rec)

    def finish(self, status: Status, why: str) -> None:
        self.state.status, self.state.end_reason = status, why
        for obs in self.observers:
            obs.on_finish(self)


def plot_risk(results, labels=None, ax=None, fits=None):
    """Risk (or excess risk, when fits are given) against time on log–log axes, with the rate fits.

    Parameters
    ----------
    results : FlowResult or list of them
    labels : list of str, optional
    fits : list of RateFit (or None entries), optional
        Drawn dashed over their windows; with fits the y axis is ``L − L_final``.
    """
    import matplotlib.pyplot as plt

    if isinstance(results, FlowResult):
        results = [results]
    labels = labels or [f"flow {i}" for i in range(len(results))]
    fits = fits or [None] * len(results)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for res, label, fit in zip(results, labels, fits):
        t = res.t[1:]
        y = res.risk[1:] if fit is None or fit.kind == "risk" else res.excess_risk()[1:]
        ok = y > 0
        line, = ax.loglog(t[ok], y[ok], label=label)
        if fit is not None and np.isfinite(fit.rate):
            tt = np.geomspace(max(fit.t_range[0], t[0]), fit.t_range[1], 50)
            unit = "" if fit.kind != "exp" else " (exp)"
            ax.loglog(tt, fit.predict(tt), "--", color=line.get_color(),
                      label=f"fit: rate {fit.rate:.3g}{unit}, R²={fit.r2:.3f}")
    ax.set_xlabel("t")
    ax.set_ylabel("L(p(t)) − L(p(t_final))" if any(f is not None and f.kind != "risk" for f in fits) else "L(p(t))")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax
