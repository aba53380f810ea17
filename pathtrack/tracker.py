"""The predictor-corrector tracker: the only place that decides termination.

Structure (after HomotopyContinuation.jl): :class:`TrackerOptions` holds the user's
limits, :class:`TrackerState` everything that changes per step (and everything a
resume needs), and :class:`Tracker` the fixed composition of problem, predictor,
corrector, step controller and observers. ``Tracker.step()`` attempts one step and
returns whether it was accepted; ``Tracker.track()`` loops until
:meth:`Tracker._check_terminated` sets a final :class:`~pathtrack.status.Status`.

One step, in order:

1. predict from the accepted point along the tangent (or chord);
2. correct onto the path with the bordered corrector (tangent border for
   pseudo-arclength, λ border for natural);
3. if λ reached ``lam_end`` or left the box, land exactly there (correction at fixed λ);
4. compute the new tangent and its turn from the old one;
5. hand the corrector's report and these checks (:class:`~pathtrack.stepcontrol.StepGuards`,
   with the problem's acceptance test) to :meth:`StepController.adapt`, which accepts or
   rejects with a :class:`~pathtrack.status.RejectReason` and sets the next ``ds``;
6. accept: update state, evaluate metrics and test functions, locate events with
   :class:`~pathtrack.events.EventLocator`; or reject and retry from the same point.

The tracker reads what predictors and correctors can do from their capability
attributes (``needs_tangent``, ``uses_history``, ``minimises``, ``solves_bordered`` ...),
never from their classes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence

import numpy as np

from . import events as ev
from .corrector import Corrector, CorrectorResult, NewtonCorrector, make_corrector
from .interrupt import deferred_sigint
from .linalg import (SVD_MAX_N, SingularJacobianError, TangentInfo, bordered_det, norm2, refine_branch_point,
                     tangent_dense, tangent_matrix_free)
from .normalform import normal_form
from .options import OptionsError, TrackerOptions
from .predictor import Predictor, make_predictor
from .problem import NonFiniteError, Problem, RealSystem, StartPoint, check_problem, normalize_starts
from .status import CorrectorCode, RejectReason, Status
from .stepcontrol import StepController, StepDecision, StepGuards

__all__ = ["TrackerState", "StepRecord", "Observer", "Tracker"]


@dataclass
class TrackerState:
    """Everything that changes from step to step, and everything a resume needs.

    ``y = (x, lam)`` is the real view of the last accepted point (``x = [Re p, Im p]``
    for complex problems); ``tangent`` is its unit tangent in the same space. Counters
    (``n_*``, ``counters``, ``wall_time``) are cumulative over resumed sessions.
    """

    y: np.ndarray
    tangent: np.ndarray
    ds: float
    s: float = 0.0
    y_prev: Optional[np.ndarray] = None
    lam_direction: int = 1
    n_steps: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    n_consecutive: int = 0
    n_newton_iters: int = 0
    n_events: int = 0
    status: Status = Status.running
    end_reason: str = ""
    last_reject_reason: RejectReason = RejectReason.none
    event_values: Dict[str, float] = field(default_factory=dict)
    ref_log_abs_det: float = np.nan
    wall_time: float = 0.0
    counters: Dict[str, int] = field(default_factory=dict)  # evaluations: RealSystem.counters()

    @property
    def lam(self) -> float:
        return float(self.y[-1])

    def to_checkpoint(self) -> Dict[str, Any]:
        """Arrays and plain scalars (for HDF5); inverse of :meth:`from_checkpoint`."""
        d = dataclasses.asdict(self)
        d["status"] = int(self.status)
        d["last_reject_reason"] = int(self.last_reject_reason)
        d["y_prev"] = np.array([]) if self.y_prev is None else self.y_prev
        d["event_values"] = dict(self.event_values)
        return d

    @classmethod
    def from_checkpoint(cls, d: Dict[str, Any]) -> "TrackerState":
        d = dict(d)
        d["status"] = Status(int(d["status"]))
        d["last_reject_reason"] = RejectReason.parse(d.get("last_reject_reason", 0))
        y_prev = np.asarray(d.get("y_prev", []), dtype=float)
        d["y_prev"] = y_prev if y_prev.size else None
        d["y"] = np.asarray(d["y"], dtype=float)
        d["tangent"] = np.asarray(d["tangent"], dtype=float)
        d["event_values"] = {str(k): float(v) for k, v in dict(d.get("event_values", {})).items()}
        d["counters"] = {str(k): int(v) for k, v in dict(d.get("counters", {})).items()}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class StepRecord:
    """One step attempt, accepted or rejected, with its diagnostics (what observers see)."""

    index: int  # attempt number (0 is the start point)
    accepted: bool
    reason: RejectReason  # none when accepted
    lam: float
    s: float
    ds: float
    p: Optional[np.ndarray]
    tangent: Optional[np.ndarray]
    n_newton_iters: int
    residual: float
    contraction: float
    sigma_min: float = np.nan
    cond: float = np.nan
    det_sign: float = np.nan
    wall_time: float = 0.0
    metrics: Dict[str, float] = field(default_factory=dict)
    step: int = -1  # accepted-step index (-1 for rejected attempts)


class Observer:
    """Receives the tracker's progress: recorders, HDF5 writers and progress bars subclass this."""

    def on_start(self, tracker: "Tracker", record: StepRecord) -> None:
        """The start point (accepted step 0)."""

    def on_step(self, tracker: "Tracker", record: StepRecord) -> None:
        """Every attempted step, accepted or rejected."""

    def on_event(self, tracker: "Tracker", point: ev.SpecialPoint) -> None:
        """A located special point."""

    def on_finish(self, tracker: "Tracker") -> None:
        """The final status is set."""


class _Trial(NamedTuple):
    """A corrected trial point and the measurements the controller judges."""

    res: CorrectorResult  # the step's correction (what the step size is adapted from)
    shown: CorrectorResult  # the correction recorded with the step: the landing's when it landed
    guards: StepGuards
    y: np.ndarray
    info: Optional[TangentInfo] = None
    end_reason: str = ""


class _Outcome:
    """What one step attempt produced; read only by ``_check_terminated``."""

    __slots__ = ("accepted", "reason", "too_small", "end_reason", "terminal_event")

    def __init__(self, accepted=False, reason=RejectReason.none, too_small=False, end_reason="",
                 terminal_event=False):
        self.accepted, self.reason, self.too_small = accepted, reason, too_small
        self.end_reason, self.terminal_event = end_reason, terminal_event


class Tracker:
    """Predictor-corrector path tracker for a :class:`~pathtrack.problem.Problem`.

    Parameters
    ----------
    problem : Problem
    options : TrackerOptions, optional
        Defaults: ``TrackerOptions(**problem.default_options)``.
    events : sequence of Event, optional
        User test functions, added to ``problem.events()``.
    observers : sequence of Observer
    detect_bifurcations : bool
        Evaluate the fold test (pseudo-arclength, any size) and the branch-point test
        (up to ``dense_max_n`` real unknowns). What does not run is named, with why, in
        :attr:`diagnostics_off` after :meth:`init`.
    predictor : Predictor, optional
        In place of the one ``options.predictor`` names; the tracker reads its capability
        attributes (``needs_tangent``, ``uses_history``, ``needs_natural``, ``needs_gradient``).
    corrector : Corrector, optional
        In place of the one ``options.corrector`` names; likewise read through
        ``supports_arclength``, ``solves_bordered``, ``minimises``, ``reports_contraction`` and
        ``takes_jacobian``.
    stop_at : callable ``stop_at(point) -> bool``, optional
        Makes a located special point terminal (status ``event_terminated``) when it returns
        True: a bifurcation diagram ends a branch where it reaches a point already explored.
    """

    def __init__(self, problem: Problem, options: Optional[TrackerOptions] = None, *,
                 events: Sequence[ev.Event] = (), observers: Sequence[Observer] = (),
                 detect_bifurcations: bool = True, predictor: Optional[Predictor] = None,
                 corrector: Optional[Corrector] = None,
                 stop_at: Optional[Callable[[ev.SpecialPoint], bool]] = None):
        self.problem = problem
        self.stop_at = stop_at
        self.options = TrackerOptions.resolve(options, problem.default_options)
        self.user_events: List[ev.Event] = list(problem.events()) + list(events)
        self.observers: List[Observer] = list(observers)
        self.detect_bifurcations = detect_bifurcations
        self.controller = StepController(self.options)
        self.predictor = predictor if predictor is not None else make_predictor(self.options.predictor)
        self._predictor, self._corrector = predictor, corrector  # user instances, or None
        self.state: Optional[TrackerState] = None
        self.system: Optional[RealSystem] = None
        self.special_points: List[ev.SpecialPoint] = []
        self._stop_requested = False
        self._start_tangent: Optional[np.ndarray] = None  # for the closed-loop test
        self._has_accept = problem.has("accept")
        self._has_metrics = problem.has("metrics")
        #: ``{test or column: why it does not run}``, filled by :meth:`init`.
        self.diagnostics_off: Dict[str, str] = {}
        #: The bound on ‖p‖ beyond which the path ends ``unbounded`` (set by :meth:`init`).
        self.max_norm = np.inf

    # ------------------------------------------------------------------ setup
    def init(self, start: Optional[StartPoint] = None, *, resume: Optional[TrackerState] = None,
             orient_like: Optional[np.ndarray] = None) -> TrackerState:
        """Prepare the path from ``start`` (refining it onto the path) or from a resumed state.

        ``orient_like`` (a vector in the real space ``(x, lam)``) orients the start tangent
        along it instead of by ``direction``: a branch leaving a branch point along a computed
        tangent may move λ either way, or not at first order at all.
        """
        o = self.options
        self._orient_like = None if orient_like is None else np.asarray(orient_like, dtype=float)
        if start is None:
            start = normalize_starts(self.problem)[0]
        else:
            start = normalize_starts(self.problem, [start])[0]
        check_problem(self.problem, start, check_derivatives=resume is None)
        self.system = RealSystem(self.problem, start.p.shape[0])
        self.predictor.bind(self.system, self.options)
        self.corrector = self._corrector if self._corrector is not None else make_corrector(o, self.system)
        self._check_combination()
        self.controller.bind(self.corrector)
        if self.corrector.minimises and self._has_accept:
            self.corrector.accept = lambda x, lam: self._accepts(np.append(x, lam))
        if self.corrector.minimises:  # optional progress hooks: early exit and the active-set stage
            pb, p_of = self.problem, self.system.p_of
            if pb.has("n_violations"):
                self.corrector.count = lambda x, lam: pb.n_violations(p_of(np.append(x, lam)), lam)
            if pb.has("violations"):
                self.corrector.violations = lambda x, lam: pb.violations(p_of(np.append(x, lam)), lam)
        # landing, refining and event location need a solver of the bordered system at any border
        self._newton = self.corrector if self.corrector.solves_bordered else NewtonCorrector(o)
        # chord Newton: the corrections of a step reuse the Jacobian the tangent came from
        self._chord = bool(o.chord_newton and getattr(self.corrector, "takes_jacobian", False)
                           and getattr(self._newton, "takes_jacobian", False)
                           and self.system.m <= o.dense_max_n and not self.system.is_sparse)
        self._chord_point = None  # (y, its augmented Jacobian) of the last accepted point
        self.locator = ev.EventLocator(self.user_events, self.system.p_of)
        self._set_box(start.lam)
        self.diagnostics_off = self._diagnostics_off()
        self.max_norm = self._max_norm(start.p)
        self._t_start = time.perf_counter()
        if resume is not None:
            self.state = resume
            self.state.status = Status.running
            self.system.add_counts(resume.counters)
            self.y_start = self.system.to_y(start.p, start.lam)
            return self.state
        return self._init_fresh(start)

    def _check_combination(self) -> None:
        o = self.options
        corrector = o.corrector if self._corrector is None else type(self.corrector).__name__
        predictor = o.predictor if self._predictor is None else type(self.predictor).__name__
        if not self.corrector.supports_arclength and o.parameterisation == "arclength":
            raise OptionsError(f"corrector {corrector!r} minimises at fixed λ; use parameterisation='natural'")
        if self.predictor.needs_natural and o.parameterisation == "arclength":
            raise OptionsError(f"predictor {predictor!r} needs parameterisation='natural'")
        if self.predictor.needs_gradient and not self.problem.is_gradient:
            raise OptionsError(f"predictor {predictor!r} is for gradient homotopies (H = ∇_p L); "
                               "use 'tangent' or 'secant'")

    def lam_box(self, lam0: float):
        """``(lam_end, lam_min, lam_max)`` of a path of this tracker starting at λ = ``lam0``."""
        self._set_box(lam0)
        return self.lam_end, self.lam_lo, self.lam_hi

    def _set_box(self, lam0: float) -> None:
        o, pb = self.options, self.problem
        name = getattr(pb, "name", type(pb).__name__)

        def pick(option, default):
            if option is not None:
                return float(option), "tracker option"
            if default is not None:
                return float(default), f"problem {name!r}"
            return None, ""

        lam_end, end_from = pick(o.lam_end, pb.lam_end)
        lo, lo_from = pick(o.lam_min, pb.lam_min)
        hi, hi_from = pick(o.lam_max, pb.lam_max)
        for key, value, origin in (("lam_end", lam_end, end_from), ("lam_min", lo, lo_from),
                                   ("lam_max", hi, hi_from)):
            if value is not None and np.isnan(value):
                raise OptionsError(f"{key} ({origin}) is NaN")
        if lo is None:
            lo, lo_from = min(lam0, lam_end), "start and lam_end"
        if hi is None:
            hi, hi_from = max(lam0, lam_end), "start and lam_end"
        if lo > hi:  # an empty box: no start can lie in it, so do not blame the start
            raise OptionsError(f"empty λ-box: lam_min = {lo:g} ({lo_from}) is above lam_max = {hi:g} ({hi_from}); "
                               "lower lam_min or raise lam_max")
        self.lam_end, self.lam_lo, self.lam_hi = float(lam_end), float(lo), float(hi)
        if o.direction != 0:
            self.direction = o.direction
        else:
            self.direction = 1 if lam_end > lam0 else (-1 if lam_end < lam0 else 1)

    def _diagnostics_off(self) -> Dict[str, str]:
        """The test functions and diagnostic columns that cannot run here, each with why."""
        o, pb, m = self.options, self.problem, self.system.m
        off: Dict[str, str] = {}
        if not self.detect_bifurcations:
            off[ev.FOLD] = off[ev.BRANCH_POINT] = "detect_bifurcations=False"
        else:
            if o.parameterisation != "arclength":
                off[ev.FOLD] = ("parameterisation='natural' stops at a fold instead of passing it; "
                                "use parameterisation='arclength' to locate folds")
            if not self._dense():
                off[ev.BRANCH_POINT] = (f"{m} real unknowns > dense_max_n = {o.dense_max_n}: the branch-point "
                                        "test needs the determinant of the dense bordered Jacobian; raise "
                                        "dense_max_n to run it")
        if self.system.is_sparse:
            off["sigma_min"] = "sparse Jacobian: sigma_min(dH_dp) is computed for dense Jacobians only"
        elif not self._dense() or m + 1 > SVD_MAX_N:
            off["sigma_min"] = (f"{m} real unknowns: sigma_min(dH_dp) is computed up to {SVD_MAX_N - 1} "
                                f"unknowns within dense_max_n = {o.dense_max_n}")
        if (pb.is_gradient or pb.is_ode_rhs) and self._spectral_mode() == "off":
            test = ev.INDEX_CHANGE if pb.is_gradient else ev.HOPF
            if o.eig_diagnostics == "off":
                off[test] = "eig_diagnostics='off'"
            elif self.system.is_complex:
                off[test] = "eigenvalue diagnostics are for real problems only"
            elif self.system.is_sparse:
                off[test] = "sparse Jacobian: eigenvalue diagnostics are computed for dense Jacobians only"
            else:
                off[test] = (f"{m} real unknowns: eig_diagnostics='auto' computes eigenvalues densely up to "
                             f"{SVD_MAX_N - 1} unknowns; set eig_diagnostics="
                             + ("'lanczos'" if pb.is_gradient else "'dense'") + " to run it")
        return off

    def _max_norm(self, p0: np.ndarray) -> float:
        """``options.max_norm``, or by default 1e3·max(‖p0‖, √n)."""
        if self.options.max_norm is not None:
            return float(self.options.max_norm)
        n = p0.shape[0]
        norm0 = float(np.linalg.norm(p0)) if np.all(np.isfinite(p0)) else 0.0
        return 1e3 * max(norm0, float(np.sqrt(n)))

    def _init_fresh(self, start: StartPoint) -> TrackerState:
        o = self.options
        sysm = self.system
        y0 = sysm.to_y(start.p, start.lam)
        self.state = TrackerState(y=y0, tangent=np.zeros_like(y0), ds=o.initial_ds, lam_direction=self.direction)
        self.y_start = y0
        if not np.all(np.isfinite(y0)):
            return self._finish_init(Status.invalid_start, "start point is not finite")
        if not (self.lam_lo - 1e-14 <= start.lam <= self.lam_hi + 1e-14):
            return self._finish_init(Status.invalid_start,
                                     f"start λ={start.lam} lies outside the λ-box [{self.lam_lo}, {self.lam_hi}]")
        try:
            f0 = sysm.F(y0)
        except NonFiniteError:
            return self._finish_init(Status.invalid_start, "H is not finite at the start point")
        if np.linalg.norm(f0) > o.start_tol:
            e_lam = np.zeros_like(y0)
            e_lam[-1] = 1.0
            res = self._refine(y0, e_lam, start.lam)
            if res.code != CorrectorCode.converged:
                status = Status.invalid_start if res.code == CorrectorCode.nonfinite else Status.newton_failed
                return self._finish_init(status, f"start refinement failed ({res.code.name})")
            y0 = res.y
            self.corrector.end_step(True)
        self.state.y = y0
        self.y_start = y0
        try:
            info = self._tangent(y0, None)
        except SingularJacobianError as exc:
            return self._finish_init(Status.singular_jacobian, str(exc))
        except NonFiniteError as exc:
            return self._finish_init(Status.invalid_start, str(exc))
        if self._orient_like is not None and float(info.tangent @ self._orient_like) < 0.0:
            info = info._replace(tangent=-info.tangent, det_sign=-info.det_sign)
            self.state.lam_direction = -self.state.lam_direction
        self.state.tangent = info.tangent
        if self._has_accept and not self._accepts(y0):
            return self._finish_init(Status.invalid_start, "the problem's acceptance test fails at the start point")
        pinfo = self._point_info(y0, info.tangent, info)
        self.state.ref_log_abs_det = pinfo.log_abs_det
        self.state.event_values = self._event_values(pinfo)
        rec = self._record(0, True, RejectReason.none, y0, info, ds=0.0, res=None, t_wall=0.0, pinfo=pinfo, step=0)
        for obs in self.observers:
            obs.on_start(self, rec)
        return self.state

    def _refine(self, y, b, c):
        """Correct the start at fixed λ with a generous budget (the start need not be close).

        Gradient homotopies refine with their minimiser, which stops as soon as the
        acceptance test passes; Newton would need a dense Hessian.
        """
        if self.corrector.minimises:
            return self.corrector.correct(self.system, y, b, c)
        return self._newton.correct(self.system, y, b, c, max_iters=4 * self.options.max_newton_iters)

    def _finish_init(self, status: Status, why: str) -> TrackerState:
        self.state.status = status
        self.state.end_reason = why
        for obs in self.observers:
            obs.on_finish(self)
        return self.state

    # ------------------------------------------------------------------ pieces
    def _dense(self) -> bool:
        """Whether the augmented Jacobian is factored (dense up to ``dense_max_n``, sparse at any size)."""
        return self.system.m <= self.options.dense_max_n or self.system.is_sparse

    def _needs_tangent(self) -> bool:
        return self.predictor.needs_tangent or self.options.parameterisation == "arclength" or self._dense()

    def _tangent(self, y: np.ndarray, t_prev: Optional[np.ndarray]) -> TangentInfo:
        o = self.options
        if self._dense():
            return tangent_dense(self.system.jacobian(y), t_prev, self.direction, o.max_cond)
        if not self._needs_tangent():
            # no tangent needed: carry the chord direction (or e_lam at the start)
            if t_prev is None or self.state is None or self.state.y is None:
                t = np.zeros_like(y)
                t[-1] = self.direction
                return TangentInfo(t, np.nan, np.nan)
            d = y - self.state.y
            nd = np.linalg.norm(d)
            return TangentInfo(d / nd if nd > 0 else t_prev, np.nan, np.nan)
        return tangent_matrix_free(lambda v: self.system.jvp(y, v), self.system.m, t_prev, self.direction,
                                   o.krylov_tol, o.krylov_maxiter)

    def _accepts(self, y: np.ndarray) -> bool:
        return bool(self.problem.accept(self.system.p_of(y), float(y[-1])))

    def _point_info(self, y: np.ndarray, tangent: np.ndarray, tinfo: Optional[TangentInfo] = None) -> ev.PointInfo:
        """Test-function inputs at ``y``; ``tinfo`` is the :class:`TangentInfo` ``tangent`` came from."""
        info = ev.PointInfo(y=y, tangent=tangent, p=self.system.p_of(y), lam=float(y[-1]))
        m = self.system.m
        if self._dense():
            info.J = self.system.jacobian(y)  # cached: the tangent was computed from it
            if self.detect_bifurcations:
                if tinfo is not None and math.isfinite(tinfo.det_sign):  # free, from the tangent's LU
                    info.det_sign, info.log_abs_det = tinfo.det_sign, tinfo.log_abs_det
                else:
                    info.det_sign, info.log_abs_det = bordered_det(info.J, tangent)
        mode = self._spectral_mode()
        if mode == "dense":
            Jx = info.J[:, :-1] if info.J is not None else self.system.dF_dx(y)
            ev.dense_spectrum(info, Jx, self.problem.is_gradient)
        elif mode == "lanczos":
            zero = np.zeros(1)
            ev.lanczos_spectrum(info, lambda v: self.system.jvp(y, np.concatenate([v, zero])), m)
        return info

    def _spectral_mode(self) -> str:
        """'dense', 'lanczos' or 'off': how to get the Hessian index or the stability eigenvalues."""
        pb, mode, m = self.problem, self.options.eig_diagnostics, self.system.m
        if (mode == "off" or self.system.is_complex or self.system.is_sparse
                or not (pb.is_gradient or pb.is_ode_rhs)):
            return "off"
        if mode == "auto":
            return "dense" if m + 1 <= min(SVD_MAX_N, self.options.dense_max_n) else "off"
        if mode == "lanczos" and not pb.is_gradient:
            return "dense"  # Lanczos needs a symmetric operator; stability needs all eigenvalues
        return mode

    def _event_values(self, info: ev.PointInfo) -> Dict[str, float]:
        vals: Dict[str, float] = {}
        if ev.FOLD not in self.diagnostics_off:  # the tangent's λ-component: any size
            vals[ev.FOLD] = ev.fold_value(info)
        if ev.BRANCH_POINT not in self.diagnostics_off:
            vals[ev.BRANCH_POINT] = ev.bp_value(info, self.state.ref_log_abs_det)
        vals.update(info.tests)
        for e in self.user_events:
            vals[e.name] = float(e.fn(info.p, info.lam))
        return vals

    # ------------------------------------------------------------------ stepping
    def step(self) -> bool:
        """Attempt one step; return True when it was accepted."""
        st = self.state
        if st is None:
            raise RuntimeError("call init() before step()")
        if not st.status.is_running:
            return False
        t0 = time.perf_counter()
        st.n_steps += 1
        try:
            outcome = self._attempt(t0)
        except KeyboardInterrupt:
            self._stop_requested = True
            outcome = _Outcome(reason=RejectReason.interrupted)
        st.wall_time += time.perf_counter() - t0
        self._check_terminated(outcome)
        return outcome.accepted

    def _attempt(self, t0: float) -> _Outcome:
        sysm = self.system
        n_grad, n_jvp = sysm.n_grad_evals, sysm.n_jvp_evals
        trial = self._trial()
        st = self.state
        decision = self.controller.adapt(st.ds, trial.res, trial.guards, st.n_consecutive)
        self.corrector.end_step(decision.accept)  # an L-BFGS memory carried between steps keeps or drops its pairs
        if not decision.accept:
            sysm.n_wasted_grad_evals += sysm.n_grad_evals - n_grad
            sysm.n_wasted_jvp_evals += sysm.n_jvp_evals - n_jvp
            sysm.n_early_exits += int(not np.isnan(trial.res.predicted_iters))
            return self._reject(t0, trial.shown, decision, trial.y)
        y, y_new, info, end_reason = st.y, trial.y, trial.info, trial.end_reason
        if not end_reason and self._closes_loop(y, y_new, info.tangent):
            end_reason = "closed_loop"
            y_new = self.y_start.copy()  # the start is on the path: end exactly there
            info = self._tangent(y_new, st.tangent)
        return self._accept(t0, trial.shown, decision, y_new, info, end_reason)

    def _trial(self) -> "_Trial":
        """Predict, correct, land, and measure the corrected point; stop at the first failed measurement."""
        o, st, sysm = self.options, self.state, self.system
        y, t = st.y, st.tangent
        landing_lam = None
        if o.parameterisation == "natural":
            target = st.lam + st.lam_direction * st.ds
            stop = self._stop_between(st.lam, target)
            if stop is not None:  # land exactly on lam_end or the box edge
                target = landing_lam = stop
            dlam = target - st.lam
            direction = t
            if self.predictor.uses_history and st.y_prev is not None:
                d = y - st.y_prev
                direction = d / np.linalg.norm(d)
            h = dlam / direction[-1] if abs(direction[-1]) > 1e-12 else dlam
            y_pred = self._predict(y, t, h)
            y_pred[-1] = target
            b = np.zeros_like(y)
            b[-1] = 1.0
            c = target
        else:
            y_pred = self._predict(y, t, st.ds)
            b, c = t, float(t @ y_pred)
        res = self.corrector.correct(sysm, y_pred, b, c, **self._chord_kw(y))
        if res.code != CorrectorCode.converged:
            return _Trial(res, res, StepGuards(), y_pred)
        jump = self._jump_ratio(y, y_pred, res.y)
        y_new, shown, landed = res.y, res, None
        end_reason = ""
        if landing_lam is not None:
            end_reason = self._end_reason(landing_lam)
        elif o.parameterisation == "arclength":
            edge = self._stop_between(float(y[-1]), float(y_new[-1]))
            if edge is not None:
                theta = (edge - y[-1]) / (y_new[-1] - y[-1])
                e_lam = np.zeros_like(y)
                e_lam[-1] = 1.0
                guess = y + theta * (y_new - y)
                guess[-1] = edge
                shown = self._newton.correct(sysm, guess, e_lam, edge, **self._chord_kw(y))
                landed = shown.code == CorrectorCode.converged
                if not landed:
                    return _Trial(res, shown, StepGuards(landing_converged=False, jump_ratio=jump), guess)
                y_new = shown.y
                end_reason = self._end_reason(edge)
        try:
            info = self._tangent(y_new, t)
        except SingularJacobianError:
            return _Trial(res, shown, StepGuards(landed, tangent_failure=RejectReason.singular, jump_ratio=jump),
                          y_new)
        except NonFiniteError:
            return _Trial(res, shown, StepGuards(landed, tangent_failure=RejectReason.nonfinite, jump_ratio=jump),
                          y_new)
        # the path-jumping guard needs true tangents; a minimiser's chord is no tangent
        cos_angle = float(info.tangent @ t) if self._needs_tangent() else None
        acceptance_test = (lambda: self._accepts(y_new)) if self._has_accept else None
        guards = StepGuards(landed, cos_angle=cos_angle, acceptance_test=acceptance_test, jump_ratio=jump)
        return _Trial(res, shown, guards, y_new, info, end_reason)

    def _chord_kw(self, y: np.ndarray) -> Dict[str, np.ndarray]:
        """``{"jacobian": J(y)}`` for a chord correction from the accepted point ``y``, or ``{}``."""
        if not self._chord:
            return {}
        if self._chord_point is None or self._chord_point[0] is not y:
            self._chord_point = (y, self.system.jacobian(y))  # cached: the tangent at y came from it
        return {"jacobian": self._chord_point[1]}

    def _jump_ratio(self, y: np.ndarray, y_pred: np.ndarray, y_corr: np.ndarray) -> Optional[float]:
        """‖corrector move‖ / ‖predictor move‖, or None where the ratio says nothing.

        A predictor that follows the path to first order leaves the corrector a move of
        O(step²) on a continuous path, so the ratio vanishes with the step; across a jump
        of H it grows like 1/step. Minimisers and zeroth-order predictors move p by O(step)
        by design.
        """
        if self.corrector.minimises or not getattr(self.predictor, "follows_path", True):
            return None
        step = norm2(y_pred - y)
        if step == 0.0:
            return None
        return norm2(y_corr - y_pred) / step

    def _stop_between(self, lam_a: float, lam_b: float) -> Optional[float]:
        """The first stopping value of λ (lam_end, or a box edge) strictly passed when going a → b.

        Starting exactly on lam_end does not count: a path that starts there stops when
        it comes back (Bratu's upper branch).
        """
        if lam_b > self.lam_hi:
            first = self.lam_hi
        elif lam_b < self.lam_lo:
            first = self.lam_lo
        else:
            first = None
        e = self.lam_end
        if lam_a != e and (lam_a - e) * (lam_b - e) <= 0.0:
            if first is None or abs(e - lam_a) <= abs(first - lam_a):
                first = e
        return first

    def _end_reason(self, lam: float) -> str:
        return "lam_end" if lam == self.lam_end else "box"

    def _predict(self, y, t, h):
        tangent_fn = lambda yy, tref: self._tangent(yy, tref).tangent  # noqa: E731 (RK4 only)
        return self.predictor.predict(y, t, h, self.state.y_prev, tangent_fn)

    def _closes_loop(self, y: np.ndarray, y_new: np.ndarray, t_new: np.ndarray) -> bool:
        """The chord y→y_new passes (almost) through the start, heading the same way."""
        st = self.state
        if not self.options.close_loop or st.n_accepted < 4 or self.options.parameterisation != "arclength":
            return False
        d = y_new - y
        nd2 = float(d @ d)
        if nd2 == 0.0:
            return False
        theta = float((self.y_start - y) @ d) / nd2
        if not 0.0 <= theta <= 1.0:
            return False
        dist = float(np.linalg.norm(y + theta * d - self.y_start))
        t0 = self._start_tangent
        aligned = t0 is None or float(t_new @ t0) > 0.9
        return aligned and dist <= 0.05 * np.sqrt(nd2) + 1e-9

    def _reject(self, t0: float, res: CorrectorResult, decision: StepDecision, y_try: np.ndarray) -> _Outcome:
        st = self.state
        st.n_rejected += 1
        st.n_newton_iters += res.n_iters
        st.last_reject_reason = decision.reason
        st.ds, st.n_consecutive = decision.ds, decision.n_consecutive
        rec = StepRecord(index=st.n_steps, accepted=False, reason=decision.reason, lam=float(y_try[-1]), s=st.s,
                         ds=st.ds, p=None, tangent=None, n_newton_iters=res.n_iters, residual=res.residual,
                         contraction=res.contraction, wall_time=time.perf_counter() - t0)
        for obs in self.observers:
            obs.on_step(self, rec)
        return _Outcome(accepted=False, reason=decision.reason, too_small=decision.too_small)

    def _accept(self, t0: float, res: CorrectorResult, decision: StepDecision, y_new: np.ndarray,
                info: TangentInfo, end_reason: str) -> _Outcome:
        st = self.state
        if st.n_accepted == 0:
            self._start_tangent = st.tangent.copy()
        y_old, t_old = st.y, st.tangent
        ds_used = st.ds
        st.y_prev, st.y, st.tangent = y_old, y_new, info.tangent
        st.s += norm2(y_new - y_old)
        st.n_accepted += 1
        st.n_newton_iters += res.n_iters
        st.ds, st.n_consecutive = decision.ds, decision.n_consecutive
        pinfo = self._point_info(y_new, info.tangent, info)
        new_values = self._event_values(pinfo)
        terminal = self._locate_events(y_old, t_old, y_new, st.event_values, new_values)
        st.event_values = new_values
        rec = self._record(st.n_steps, True, RejectReason.none, y_new, info, ds_used, res,
                           time.perf_counter() - t0, pinfo, step=st.n_accepted)
        for obs in self.observers:
            obs.on_step(self, rec)
        return _Outcome(accepted=True, end_reason=end_reason, terminal_event=terminal)

    def _record(self, index, accepted, reason, y, info, ds, res, t_wall, pinfo, step) -> StepRecord:
        p = self.system.p_of(y)
        metrics = dict(pinfo.spectral)
        if self._has_metrics:
            metrics.update(self.problem.metrics(p, float(y[-1])))
        return StepRecord(index=index, accepted=accepted, reason=reason, lam=float(y[-1]), s=self.state.s, ds=ds,
                          p=np.array(p), tangent=info.tangent.copy(),
                          n_newton_iters=res.n_iters if res else 0,
                          residual=res.residual if res else float(np.linalg.norm(self.system.F(y))),
                          contraction=res.contraction if res else np.nan, sigma_min=info.sigma_min, cond=info.cond,
                          det_sign=pinfo.det_sign, wall_time=t_wall,
                          metrics={k: float(v) for k, v in metrics.items()}, step=step)

    # ------------------------------------------------------------------ events
    def _locate_events(self, y_a, t_a, y_b, vals_a, vals_b) -> bool:
        """Locate the sign changes between two accepted points and report them; True if one is terminal."""
        st = self.state

        # with chord_newton each trial's chord uses the Jacobian of the trial before (y_a's at first), which
        # its tangent was computed from: as the trials close in, the chord contracts like Newton, so located
        # points keep Newton's accuracy without a Jacobian per iterate
        chord_kw = self._chord_kw(y_a)

        def correct(guess, b):  # trial tangents are oriented like the one at y_a
            res = self._newton.correct(self.system, guess, b, float(b @ guess), **chord_kw)
            if res.code != CorrectorCode.converged:
                return None
            try:
                tinfo = self._tangent(res.y, t_a)  # the whole TangentInfo: its LU gives the bp test
            except SingularJacobianError:
                return res.y, None  # on the path, where the tangent is undefined: a branch point
            if chord_kw:
                chord_kw["jacobian"] = self.system.jacobian(res.y)  # cached: the tangent came from it
            return res.y, tinfo

        terminal = False
        found = self.locator.locate_all(y_a, y_b, vals_a, vals_b, correct, self._test_value, st.s,
                                        st.n_accepted + 1)
        for point, is_terminal in found:
            if point.kind in (ev.BRANCH_POINT, ev.INDEX_CHANGE):
                self._polish_branch_point(point, t_a)
            if self._normal_form_kinds(point.kind):
                point.extra.update(normal_form(self.problem, point.kind, point.p, point.lam))
            is_terminal = is_terminal or (self.stop_at is not None and bool(self.stop_at(point)))
            self.special_points.append(point)
            st.n_events += 1
            for obs in self.observers:
                obs.on_event(self, point)
            if is_terminal:
                terminal = True
                self._terminal_point = point
        return terminal

    def _normal_form_kinds(self, kind: str) -> bool:
        """Whether a located point of ``kind`` gets its normal-form coefficients (real problems; a
        fold's and a branch point's cost dense SVDs, so only up to ``SVD_MAX_N`` unknowns)."""
        if self.system.is_complex:
            return False
        if kind in getattr(self.problem, "normal_form_kinds", ()):
            return True  # codimension-2 points of fold and Hopf curves (pathtrack.twoparam)
        if kind == ev.HOPF:
            return self._dense()
        return kind in (ev.FOLD, ev.BRANCH_POINT, ev.INDEX_CHANGE) and not self.system.is_sparse \
            and self.system.m + 1 <= SVD_MAX_N

    def _polish_branch_point(self, point: ev.SpecialPoint, t_a: np.ndarray) -> None:
        """Refine a located branch point in place (:func:`~pathtrack.linalg.refine_branch_point`).

        The sign change of the determinant brackets it, but the trial points next to it are
        corrected in a hyperplane that also cuts the crossing branch, where Newton may fail;
        the located point can then be off by a fraction of the step. Factored Jacobians only:
        dense up to :data:`~pathtrack.linalg.SVD_MAX_N` unknowns, sparse at any size (secant
        on the determinant along the path, :func:`~pathtrack.sparse.refine_branch_point_sparse`).
        """
        sysm = self.system
        if sysm.is_sparse:
            from .sparse import refine_branch_point_sparse

            # no singularity test: the points converge to where [J; bᵀ] is singular
            newton = NewtonCorrector(self.options.replace(max_cond=1e300))

            def correct(guess, b, c):
                res = newton.correct(sysm, guess, b, c)
                return res.y if res.code == CorrectorCode.converged else None

            y_bp = refine_branch_point_sparse(sysm, sysm.to_y(point.p, point.lam), t_a, correct)
            point.p, point.lam = sysm.p_of(y_bp).copy(), float(y_bp[-1])
            return
        if not self._dense() or sysm.m + 1 > SVD_MAX_N:
            return
        y = sysm.to_y(point.p, point.lam)
        try:
            y_bp = refine_branch_point(sysm, y)
        except (NonFiniteError, np.linalg.LinAlgError):
            return
        point.p, point.lam = sysm.p_of(y_bp).copy(), float(y_bp[-1])

    def _test_value(self, name: str, y: np.ndarray, tinfo: TangentInfo) -> float:
        user = self.locator.events.get(name)
        if user is not None:
            return float(user.fn(self.system.p_of(y), float(y[-1])))
        return self._event_values(self._point_info(y, tinfo.tangent, tinfo)).get(name, np.nan)

    # ------------------------------------------------------------------ termination
    def request_stop(self) -> None:
        """Ask the tracker to stop after the current step (status ``interrupted``)."""
        self._stop_requested = True

    def _check_terminated(self, outcome: _Outcome) -> None:
        """The single place where a path's final status is decided."""
        st, o = self.state, self.options
        status, why = Status.running, ""
        norm_p = self._norm_p() if outcome.accepted else 0.0
        if outcome.accepted and outcome.terminal_event:
            status, why = Status.event_terminated, self._terminal_point.kind
        elif outcome.accepted and outcome.end_reason:
            status, why = Status.success, outcome.end_reason
        elif outcome.accepted and norm_p > self.max_norm:
            status, why = Status.unbounded, f"‖p‖ = {norm_p:.3g} > max_norm = {self.max_norm:.3g}"
        elif outcome.too_small:
            status, why = outcome.reason.status, f"last rejection: {outcome.reason}"
        elif self._stop_requested:
            status, why = Status.interrupted, "stop requested"
        elif st.n_steps >= o.max_steps:
            status, why = Status.max_steps_reached, f"{st.n_steps} steps"
        if status is not Status.running:
            st.status, st.end_reason = status, why
            st.counters = self.system.counters()
            for obs in self.observers:
                obs.on_finish(self)

    def _norm_p(self) -> float:
        return norm2(self.system.p_of(self.state.y))  # np.linalg.norm's value, bit for bit (complex: its own)

    def track(self) -> Status:
        """Step until the path ends; Ctrl-C ends it with status ``interrupted``.

        In the main thread the first Ctrl-C only *requests* a stop, honoured between two
        steps, so an accepted step is never half-reported to observers; a second Ctrl-C
        interrupts at once.
        """
        if self.state is None:
            self.init()
        with deferred_sigint(self):
            try:
                while self.state.status.is_running:
                    self.step()
            except KeyboardInterrupt:
                if self.state.status.is_running:
                    self._stop_requested = True
                    self._check_terminated(_Outcome(reason=RejectReason.interrupted))
        return self.state.status

    def __iter__(self) -> Iterator[TrackerState]:
        """Yield the state after every accepted step."""
        if self.state is None:
            self.init()
        while self.state.status.is_running:
            if self.step():
                yield self.state
