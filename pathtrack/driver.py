"""Driver and result: ``track()`` runs a :class:`~pathtrack.tracker.Tracker` and returns a :class:`PathResult`.

``track`` is the scipy-``solve_ivp``-like entry point: it takes a problem (and
optionally a start point and options), runs the tracker with an in-memory recorder
plus any observers (HDF5 writer, progress bar), and returns an immutable result
with per-step columns, the status with its message, counters and special points.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .events import Event, SpecialPoint
from .options import OptionsError, TrackerOptions
from .problem import Problem, ProblemError, StartPoint
from .results import Result
from .tracker import Observer, StepRecord, Tracker, TrackerState

__all__ = ["PathResult", "PathFailed", "track", "Recorder", "ProgressBar", "run_problem"]


class PathFailed(RuntimeError):
    """Raised by ``track(..., raise_on_failure=True)`` when a path fails; carries the result."""

    def __init__(self, result: "PathResult"):
        super().__init__(f"{result.status.name}: {result.message}")
        self.result = result


@dataclass(frozen=True)
class PathResult(Result):
    """A tracked path (a :class:`~pathtrack.results.Result`).

    Attributes
    ----------
    status : Status
    message : str
        The status message, with what to change.
    end_reason : str
        Detail: ``'lam_end'``, ``'box'``, ``'closed_loop'``, the event name, or the last rejection.
    lam, s, ds : ndarray, shape (k,)
        λ, arclength and the step size used, per accepted step (row 0 is the start).
    p : ndarray, shape (k', n)
        Solution vectors, every ``store_p_every`` accepted steps (rows ``p_steps``).
    p_steps : ndarray of int
        Accepted-step indices of the rows of ``p``.
    tangent : ndarray, shape (k', m+1)
        Unit tangents in the real view ``(Re p, Im p, lam)``, at the rows ``p_steps``.
    n_newton_iters, residual, contraction, sigma_min, det_sign, wall_time : ndarray, shape (k,)
        Per-step corrector work and diagnostics: ``sigma_min`` is the smallest singular value
        of ``dH_dp`` (zero at folds and branch points), ``det_sign`` the sign of the bordered
        determinant ``det [J; tangent^T]`` (flips at branch points).
    metrics : dict of ndarray
        The problem's own per-step metrics, plus the engine's spectral columns when they
        apply (``hessian_index``, ``hessian_min_eig``; ``n_unstable``, ``max_re_eig``).
    rejected : list of dict
        ``{index, lam, ds, reason}`` for every rejected attempt.
    special_points : list of SpecialPoint
    n_accepted, n_rejected, n_steps, n_newton_iters_total : int
        Cumulative: a resumed path counts the steps before the resume too.
    counters : dict
        ``n_H_evals``, ``n_jac_evals``, ``n_jvp_evals``, ``n_grad_evals``, cumulative like
        the step counts.
    total_time : float
        Wall-clock seconds of the whole run.
    lam_start : float or None
        λ of the path's start point (on resume, of the original start, not of the resume
        point); None only where no start was set up.
    state : TrackerState
        The final tracker state (resume from it with ``track(..., resume=result.state)``).
    diagnostics_off : dict
        ``{test or column: why}`` for every test function (``fold``, ``bp``,
        ``index_change``, ``hopf``) or diagnostic column (``sigma_min``) that did not run.
    """

    problem: str
    end_reason: str
    lam: np.ndarray
    s: np.ndarray
    ds: np.ndarray
    p: np.ndarray
    p_steps: np.ndarray
    tangent: np.ndarray
    n_newton_iters: np.ndarray
    residual: np.ndarray
    contraction: np.ndarray
    sigma_min: np.ndarray
    det_sign: np.ndarray
    wall_time: np.ndarray
    metrics: Dict[str, np.ndarray]
    rejected: List[Dict[str, Any]]
    special_points: List[SpecialPoint]
    n_accepted: int
    n_rejected: int
    n_steps: int
    n_newton_iters_total: int
    options: TrackerOptions
    state: Optional[TrackerState] = field(repr=False, default=None)
    diagnostics_off: Dict[str, str] = field(default_factory=dict)
    lam_start: Optional[float] = None

    @property
    def p_end(self) -> np.ndarray:
        return self.state.y[:-1] if self.p.size == 0 else self.p[-1]

    @property
    def lam_end(self) -> float:
        return float(self.lam[-1]) if self.lam.size else float("nan")

    def events(self, kind: Optional[str] = None) -> List[SpecialPoint]:
        return [sp for sp in self.special_points if kind is None or sp.kind == kind]

    def summary(self) -> Dict[str, Any]:
        """The JSON summary printed by ``pathtrack run --json``.

        Fields: ``problem``, ``status`` (a :class:`Status` name), ``message`` (what to
        change), ``end_reason``; ``lam_start`` (λ of the original start, also after a
        resume), ``lam_end`` (λ of the last accepted point; NaN without one), ``s_end``
        (arclength there); the counters ``n_accepted``, ``n_rejected``, ``n_steps``,
        ``n_newton_iters``, ``n_H_evals``, ``n_jac_evals``, ``n_jvp_evals`` and
        ``n_grad_evals``, all cumulative over resumed sessions; ``wall_time`` (seconds
        of this session); ``events`` (the special points located in this session);
        ``diagnostics_off`` (``{test: why}`` for each test function or diagnostic
        that did not run).
        """
        lam_start = self.lam_start if self.lam_start is not None else (float(self.lam[0]) if self.lam.size else None)
        return {
            "problem": self.problem, "status": self.status.name, "message": self.message,
            "end_reason": self.end_reason, "n_accepted": self.n_accepted, "n_rejected": self.n_rejected,
            "n_steps": self.n_steps, "lam_start": lam_start,
            "lam_end": self.lam_end, "s_end": float(self.s[-1]) if self.s.size else 0.0,
            "wall_time": self.total_time, "events": [sp.to_dict() for sp in self.special_points],
            **self.counters, "n_newton_iters": self.n_newton_iters_total,
            "diagnostics_off": dict(self.diagnostics_off),
        }

    def __str__(self) -> str:
        return (f"PathResult({self.problem}: {self.status.name}, {self.n_accepted} accepted / {self.n_rejected} "
                f"rejected, lam {self.lam[0] if self.lam.size else float('nan'):.6g} -> {self.lam_end:.6g})")


class Recorder(Observer):
    """Collects accepted steps into columns (the in-memory :class:`PathResult`)."""

    _SCALARS = ("lam", "s", "ds", "n_newton_iters", "residual", "contraction", "sigma_min", "det_sign",
                "wall_time")

    def __init__(self, store_p_every: int = 1):
        self.store_p_every = store_p_every
        self.cols: Dict[str, list] = {k: [] for k in self._SCALARS}
        self.p: list = []
        self.p_steps: list = []
        self.tangent: list = []
        self.metrics: Dict[str, list] = {}
        self.rejected: list = []

    def on_start(self, tracker, record):
        self._add(record)

    def on_step(self, tracker, record: StepRecord):
        if record.accepted:
            self._add(record)
        else:
            self.rejected.append({"index": record.index, "lam": record.lam, "ds": record.ds,
                                  "reason": str(record.reason)})

    def _add(self, r: StepRecord) -> None:
        k = len(self.cols["lam"])
        for name in self._SCALARS:
            self.cols[name].append(getattr(r, name))
        for name, v in r.metrics.items():
            self.metrics.setdefault(name, [np.nan] * k).append(v)
        for name, col in self.metrics.items():
            if len(col) < k + 1:
                col.append(np.nan)
        if k % self.store_p_every == 0:
            self.p.append(r.p)
            self.p_steps.append(k)
            self.tangent.append(r.tangent)

    def result(self, tracker: Tracker, total_time: float) -> PathResult:
        st = tracker.state
        cols = {k: np.asarray(v, dtype=int if k == "n_newton_iters" else float) for k, v in self.cols.items()}
        # keep the final point even when it falls between p rows
        if st is not None and self.p_steps and self.p_steps[-1] != len(self.cols["lam"]) - 1 and st.n_accepted:
            self.p.append(tracker.system.p_of(st.y).copy())
            self.p_steps.append(len(self.cols["lam"]) - 1)
            self.tangent.append(st.tangent.copy())
        counters = tracker.system.counters() if tracker.system else {}
        return PathResult(
            problem=getattr(tracker.problem, "name", type(tracker.problem).__name__), status=st.status,
            message=st.status.message, end_reason=st.end_reason, p=np.array(self.p), p_steps=np.array(self.p_steps),
            tangent=np.array(self.tangent), metrics={k: np.asarray(v, dtype=float) for k, v in self.metrics.items()},
            rejected=list(self.rejected), special_points=list(tracker.special_points), n_accepted=st.n_accepted,
            n_rejected=st.n_rejected, n_steps=st.n_steps, n_newton_iters_total=st.n_newton_iters, counters=counters,
            total_time=total_time, options=tracker.options, state=st, diagnostics_off=dict(tracker.diagnostics_off),
            lam_start=float(tracker.y_start[-1]) if getattr(tracker, "y_start", None) is not None else None, **cols)


class ProgressBar(Observer):
    """A tqdm bar over accepted steps showing λ, ds and rejections.

    ``disable=None`` lets tqdm disable it off a terminal.
    """

    def __init__(self, disable: Optional[bool] = None):
        self.disable = disable
        self.bar = None

    def on_start(self, tracker, record):
        from tqdm.auto import tqdm
        self.bar = tqdm(unit="step", disable=self.disable, leave=False, dynamic_ncols=True)

    def on_step(self, tracker, record):
        if self.bar is None or not record.accepted:
            return
        st = tracker.state
        self.bar.update(1)
        self.bar.set_postfix_str(f"lam={record.lam:.6g} ds={st.ds:.3g} rejected={st.n_rejected}", refresh=False)

    def on_finish(self, tracker):
        if self.bar is not None:
            self.bar.refresh()  # show the final λ even when the run outpaced tqdm's refresh interval
            self.bar.close()


def track(problem: Problem, p0=None, lam0: Optional[float] = None, *, options: Optional[TrackerOptions] = None,
          events: Sequence[Event] = (), observers: Sequence[Observer] = (), resume: Optional[TrackerState] = None,
          progress: bool = False, raise_on_failure: bool = False, detect_bifurcations: bool = True,
          orient_like=None, stop_at=None, **option_overrides) -> PathResult:
    """Track the solution path of ``problem`` from a start point.

    Parameters
    ----------
    problem : Problem
    p0, lam0 : array_like and float, optional
        Start point; default ``problem.start()`` (the first one if several).
    options : TrackerOptions or mapping, optional
        Default: the problem's ``default_options``; a mapping ``{name: value}`` goes on top
        of them. ``option_overrides`` are applied on top of either.
    events : sequence of Event
        User test functions.
    observers : sequence of Observer
        E.g. an HDF5 writer.
    resume : TrackerState, optional
        Continue from a saved state instead of the start.
    progress : bool
        Show a progress bar.
    raise_on_failure : bool
        Raise :class:`PathFailed` instead of returning a failed result.
    orient_like : array_like, optional
        Orient the start tangent along this vector of the real space ``(x, lam)`` instead
        of by ``options.direction`` (see :meth:`Tracker.init`).
    stop_at : callable ``stop_at(point) -> bool``, optional
        End the path at a located special point for which it returns True (see :class:`Tracker`).

    Returns
    -------
    PathResult
    """
    options = TrackerOptions.resolve(options, problem.default_options, **option_overrides)
    start = None if p0 is None else StartPoint(np.asarray(p0), float(problem.lam_start if lam0 is None else lam0))
    recorder = Recorder(options.store_p_every)
    obs: List[Observer] = [recorder, *observers]
    if progress:
        obs.append(ProgressBar())
    tracker = Tracker(problem, options, events=events, observers=obs, detect_bifurcations=detect_bifurcations,
                      stop_at=stop_at)
    t0 = time.perf_counter()
    tracker.init(start, resume=resume, orient_like=orient_like)
    tracker.track()
    result = recorder.result(tracker, time.perf_counter() - t0)
    if raise_on_failure and result.status.is_failure:
        raise PathFailed(result)
    return result


def _earlier_session(path: str):
    """The events up to the checkpoint and the evaluation counters of a file to resume.

    Read before the file is reopened for writing; a file that cannot be read gives
    nothing here, and ``PathWriter.resume`` says what is wrong with it.
    """
    from .io import load

    try:
        with load(path) as f:
            events = f.events[:f.checkpoint().n_events]
            counters = {str(k): int(v) for k, v in json.loads(f.attrs.get("counters", "{}")).items()}
    except Exception:  # noqa: BLE001 (reported by PathWriter.resume)
        return [], {}
    return events, counters


def build_options(problem: Problem, option_texts: Dict[str, str]) -> TrackerOptions:
    """The problem's default options, retuned by ``preset=NAME`` if given, with the other ``KEY=VALUE`` texts on top."""
    texts = dict(option_texts)
    base = TrackerOptions(**problem.default_options).with_preset(texts.pop("preset", "default"))
    return TrackerOptions.from_strings(texts, base=base)


def run_problem(name: str, params: Dict[str, Any], option_texts: Dict[str, str], *, out: Optional[str] = None,
                force: bool = False, resume: Optional[str] = None, progress: bool = False) -> Dict[str, Any]:
    """What ``pathtrack run`` does: build, track, optionally store; return the JSON summary."""
    from .registry import make_problem

    problem = make_problem(name, **params)
    options = build_options(problem, option_texts)
    observers: List[Observer] = []
    resume_state = None
    start = None
    earlier_events: List[Dict[str, Any]] = []
    created = None
    if resume is not None or out is not None:
        from .io import PathWriter
        if resume is not None:
            earlier_events, earlier_counters = _earlier_session(resume)
            writer, resume_state, start = PathWriter.resume(resume, problem, options)
            out = resume
            if not resume_state.counters:  # a checkpoint without counters: the last session's totals
                resume_state.counters = earlier_counters
        else:
            writer = created = PathWriter.create(out, problem, options, force=force)
        observers.append(writer)
    t0 = time.perf_counter()
    try:
        result = track(problem, None if start is None else start.p, None if start is None else start.lam,
                       options=options, observers=observers, resume=resume_state, progress=progress)
    except (OptionsError, ProblemError):
        if created is not None and not created.closed:  # refused before the first step: leave no file
            created.close()
            os.unlink(out)
        raise
    summary = result.summary()
    summary["events"] = earlier_events + summary["events"]
    summary["metrics_end"] = {k: float(v[-1]) for k, v in result.metrics.items() if len(v)}
    if problem.has("report") and result.n_accepted:
        summary["report"] = {k: float(v) for k, v in problem.report(result.p_end, result.lam_end).items()}
    summary["wall_time"] = time.perf_counter() - t0
    summary["out"] = out
    return summary
