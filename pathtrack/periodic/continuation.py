"""Continuation of a branch of periodic orbits from a Hopf point: :func:`continue_cycles`.

The loop is the engine's, applied to the collocation system of
:mod:`pathtrack.periodic.collocation`: predict along the tangent, correct by Newton on the
bordered system (pseudo-arclength in ``(orbit, T, λ)`` with the inner product
``∫₀¹ u·v dt + T_a T_b + λ_a λ_b``), judge the attempt with the engine's
:class:`~pathtrack.stepcontrol.StepController`, and at each accepted orbit compute the
Floquet multipliers and locate sign changes of the cycle test functions (``lpc``, ``pd``,
``ns``; :func:`pathtrack.events.floquet_tests`) with the engine's
:class:`~pathtrack.events.EventLocator`. The phase condition of each step is taken
against the previous orbit. Every ``mesh_adapt_every`` accepted steps the mesh is
re-distributed to equidistribute the error estimate.

Start (:func:`first_orbit`): the orbit predicted from the Hopf point's eigenvector at a
small amplitude, with λ from the first Lyapunov coefficient, is corrected with the
amplitude fixed (border: the eigen-profile), which gives the first orbit whichever side
the branch lies on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .. import events as ev
from ..compilenotice import compile_notice
from ..corrector import Corrector, CorrectorResult
from ..kernels.steprules import CONTINUE, newton_verdict
from ..linalg import SingularJacobianError, eigvals
from ..options import TrackerOptions
from ..problem import NonFiniteError, Problem
from ..results import Result
from ..status import CorrectorCode, RejectReason, Status
from ..stepcontrol import StepController, StepGuards
from .collocation import BatchedRHS, CollocationSystem
from .hopf import HopfPoint, hopf_point
from .infinite_period import (CONVERGED, MIN_PERIOD_GROWTH, MIN_SLOW_FRACTION, REFIT_GROWTH,
                              InfinitePeriodFit, fit_infinite_period, floquet_accurate, slow_fraction)

__all__ = ["CycleResult", "CycleCorrector", "CycleTracker", "continue_cycles", "resume_cycles", "switch_period_doubling"]


class CycleCorrector(Corrector):
    """Newton on the bordered collocation system, by condensation of parameters.

    The engine's iteration and verdict (:func:`~pathtrack.kernels.steprules.newton_verdict`:
    ``‖Δy‖ ≤ newton_tol·(1 + ‖y‖)``, the contraction test), one compiled call an iteration
    (:meth:`CollocationSystem.newton_step`). ``residual`` is ``‖G(y)‖₂`` at the returned ``y``
    (collocation, periodicity and phase rows; :meth:`CollocationSystem.residual_norm`): one
    evaluation of ``f`` more than the iterations, a few per cent of a step.
    """

    reports_contraction = True

    def correct(self, system: CollocationSystem, y_pred: np.ndarray, b: np.ndarray, c: float,
                max_iters: Optional[int] = None) -> CorrectorResult:
        o = self.options
        max_iters = max_iters or o.max_newton_iters
        y, norm_prev, theta = y_pred, np.inf, np.nan
        for k in range(max_iters):
            try:
                y_new, norm_dx, norm_y, _ = system.newton_step(y, b, c)
            except SingularJacobianError:
                return CorrectorResult(CorrectorCode.singular, y, k, _residual(system, y), theta)
            except NonFiniteError:
                return CorrectorResult(CorrectorCode.nonfinite, y, max_iters, np.inf, theta)
            y = y_new
            if k > 0:
                theta = max(0.0 if np.isnan(theta) else theta, norm_dx / norm_prev)
            verdict = newton_verdict(k, norm_dx, norm_prev, norm_y, o.newton_tol, o.max_contraction, max_iters)
            norm_prev = norm_dx
            if verdict != CONTINUE:
                return CorrectorResult(CorrectorCode(verdict), y, k + 1, _residual(system, y), theta)
        return CorrectorResult(CorrectorCode.max_iters, y, max_iters, _residual(system, y), theta)  # pragma: no cover


def _residual(system: CollocationSystem, y: np.ndarray) -> float:
    """``‖G(y)‖₂``, or ``inf`` where it is not finite."""
    try:
        return system.residual_norm(y)
    except NonFiniteError:
        return np.inf


@dataclass(frozen=True, kw_only=True)
class CycleResult(Result):
    """A branch of periodic orbits (a :class:`~pathtrack.results.Result`).

    Attributes
    ----------
    problem : str
    end_reason : str
    hopf : HopfPoint
        The start.
    lam, period, l2, amplitude, s, ds : ndarray, shape (k,)
        Per accepted orbit: λ, period, AUTO's L2 norm ``sqrt(∫₀¹|u|²)``, the largest
        half peak-to-peak of a component, arclength and step used.
    multipliers : ndarray of complex, shape (k, n)
        Floquet multipliers (eigenvalues of the monodromy matrix), by decreasing modulus.
    n_unstable : ndarray of int, shape (k,)
        Non-trivial multipliers outside the unit circle (0: a stable orbit).
    mesh : ndarray, shape (k, ntst + 1)
    profile : ndarray, shape (k, ntst·ncol + 1, n)
        The orbits at the mesh's collocation nodes (``u(t)`` for ``t`` from 0 to 1).
    n_newton_iters, wall_time : ndarray, shape (k,)
    special_points : list of SpecialPoint
        ``lpc``, ``pd``, ``ns`` (and user events), each with ``extra['period']`` and ``extra['l2']``;
        ``lpc``, ``pd`` and ``ns`` also with the critical multiplier (``mu_re``, ``mu_im ≥ 0``).
        ``pd`` and ``ns`` are not tested where the multipliers are inaccurate (the trivial one
        more than 0.05 from 1, as AUTO's test; ``end_reason`` says from which period).
    point_meshes : list of ndarray
        The mesh of each special point's orbit (``p`` holds its node values and period).
    n_accepted, n_rejected, n_steps : int
    ntst, ncol : int
    parameters, options : dict
        The problem's parameters and the options used (what the HDF5 file stores).
    infinite_period : InfinitePeriodFit or None
        The branch's last fit showing the approach to an infinite-period orbit (its ``lam_star``,
        the law and the period it was made at; :mod:`pathtrack.periodic.infinite_period`), None
        where the branch never showed one. Files keep it in ``end_reason`` only.
    """

    problem: str = ""
    end_reason: str = ""
    hopf: Optional[HopfPoint] = None
    lam: np.ndarray = field(default_factory=lambda: np.zeros(0))
    period: np.ndarray = field(default_factory=lambda: np.zeros(0))
    l2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    amplitude: np.ndarray = field(default_factory=lambda: np.zeros(0))
    s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    multipliers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), complex))
    n_unstable: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    mesh: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    profile: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    n_newton_iters: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    wall_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    special_points: List[ev.SpecialPoint] = field(default_factory=list)
    point_meshes: List[np.ndarray] = field(default_factory=list)
    n_accepted: int = 0
    n_rejected: int = 0
    n_steps: int = 0
    ntst: int = 0
    ncol: int = 0
    parameters: Dict[str, object] = field(default_factory=dict)
    options: Dict[str, object] = field(default_factory=dict)
    infinite_period: Optional[InfinitePeriodFit] = None

    def to_hdf5(self, path: str, force: bool = False) -> None:
        """Write the branch (format ``pathtrack-cycles``: ``pathtrack inspect`` and ``plot`` read it)."""
        from ..io import write_cycles
        write_cycles(path, self, force=force)

    def events(self, kind: str) -> List[ev.SpecialPoint]:
        """The special points of one kind."""
        return [sp for sp in self.special_points if sp.kind == kind]

    def orbit(self, i: int, t: Optional[np.ndarray] = None) -> np.ndarray:
        """Orbit ``i`` at its nodes, or interpolated at times ``t`` in [0, 1]."""
        if t is None:
            return self.profile[i]
        sysm = CollocationSystem(BatchedRHS(None, self.profile.shape[2]), self.mesh[i], self.ncol)
        return sysm.interpolate(sysm.pack(self.profile[i], self.period[i], self.lam[i]), t)


class CycleTracker:
    """Predictor-corrector continuation of periodic orbits from a Hopf point.

    Parameters
    ----------
    problem : Problem
        With ``is_ode_rhs = True``.
    hopf : HopfPoint
    options : TrackerOptions
        ``ntst``, ``ncol``, ``mesh_adapt_every``, ``max_period`` and the step control
        (``initial_ds`` is also the amplitude, in the L2 norm, of the first orbit).
    events : sequence of Event
        User test functions ``fn(p, lam)``, called with ``p`` the node profile and period.
    writer : CycleWriter, optional
        Stores each accepted orbit as it is computed (:class:`pathtrack.io.CycleWriter`).
    progress : bool
        Show a tqdm bar over accepted orbits (λ, period, step, rejections), off a terminal
        disabled by tqdm, as path runs do.
    """

    def __init__(self, problem: Problem, hopf: HopfPoint, options: TrackerOptions,
                 events: Sequence[ev.Event] = (), start=None, writer=None, progress: bool = False):
        self.problem, self.hopf, self.options, self.writer = problem, hopf, options, writer
        self.progress = progress
        self.start = None if start is None else start[:2]  # (y, direction) on the mesh start[2]
        self.n = len(hopf.p)
        self.rhs = BatchedRHS(problem, self.n)
        self.rhs.probe(hopf.p, hopf.lam)
        mesh = np.linspace(0.0, 1.0, options.ntst + 1) if start is None else start[2]
        self.system = CollocationSystem(self.rhs, mesh, options.ncol)
        self.corrector = CycleCorrector(options)
        self.controller = StepController(options)
        self.controller.bind(self.corrector)
        self.locator = ev.EventLocator(list(events), lambda y: y[:-1])
        self.user_events = list(events)
        self.special_points: List[ev.SpecialPoint] = []
        self.point_meshes: List[np.ndarray] = []  # the mesh of each special point's orbit
        self.status, self.end_reason = Status.running, ""
        self.rows: Dict[str, list] = {k: [] for k in ("lam", "period", "l2", "amplitude", "s", "ds",
                                                      "multipliers", "n_unstable", "mesh", "profile",
                                                      "n_newton_iters", "wall_time")}
        self.n_steps = self.n_accepted = self.n_rejected = self.n_consecutive = 0
        self.lam_lo, self.lam_hi = self._box()
        self.max_period = options.max_period if options.max_period is not None else 20.0 * hopf.period
        # the approach to an infinite-period orbit, from the branch itself (infinite_period.py): the last
        # fit that showed it, and whether the multipliers pass AUTO's accuracy test (the period at which
        # they first failed it)
        self._fit, self._floquet_ok, self._inaccurate_from = None, True, None
        self._fit_period = 0.0  # the period of the last orbit fitted

    def _box(self):
        o, pb = self.options, self.problem
        lo = o.lam_min if o.lam_min is not None else pb.lam_min
        hi = o.lam_max if o.lam_max is not None else pb.lam_max
        ends = [float(pb.lam_start), float(pb.lam_end), self.hopf.lam]
        return (min(ends) if lo is None else float(lo)), (max(ends) if hi is None else float(hi))

    # ------------------------------------------------------------------ start
    def init(self) -> None:
        """Correct the first orbit at the amplitude ``initial_ds`` and compute its tangent."""
        sysm, hp, o = self.system, self.hopf, self.options
        if self.start is not None:  # a branch switch: the predicted orbit and its direction are given
            self._start_from(*self.start)
            return
        rho = o.initial_ds / np.sqrt(2.0)  # ‖2 Re(ρ q e^{2πit})‖_L2 = √2 ρ
        lam1 = hp.amplitude_lam(rho)
        phase = np.exp(2j * np.pi * sysm.times)
        eigen = 2.0 * np.real(np.outer(phase, hp.q))  # (n_nodes, n)
        U = hp.p + (lam1 - hp.lam) * hp.dx_dlam + rho * eigen
        self._start_from(sysm.pack(U, hp.period, lam1), sysm.pack(eigen, 0.0, 0.0))

    def _start_from(self, y: np.ndarray, direction: np.ndarray) -> None:
        """Correct the predicted first orbit ``y``, its projection on ``direction`` held; tangent along it."""
        t0 = time.perf_counter()
        sysm, o = self.system, self.options
        sysm.set_reference(y)
        b = sysm.weights() * direction
        res = self.corrector.correct(sysm, y, b, float(b @ y), max_iters=4 * o.max_newton_iters)
        if res.code != CorrectorCode.converged:
            self._finish(Status.newton_failed, f"first orbit did not converge ({res.code.name})")
            return
        y = res.y
        try:
            t = self._tangent(y, direction)
        except (SingularJacobianError, NonFiniteError) as exc:
            self._finish(Status.singular_jacobian, f"no tangent at the first orbit: {exc}")
            return
        self.y, self.t, self.ds, self.s = y, t, o.initial_ds, 0.0
        mu = self._multipliers(y)
        self._floquet_ok = floquet_accurate(mu, True)
        self.values = self._test_values(y, t, mu, self._floquet_ok)
        self._record(y, mu, 0.0, res.n_iters, time.perf_counter() - t0)
        if self.writer is not None:
            self.writer.on_start(self)

    def _tangent(self, y: np.ndarray, t_prev: np.ndarray, border: Optional[np.ndarray] = None) -> np.ndarray:
        """Unit tangent (in the continuation's inner product) at ``y``, oriented along ``t_prev``.

        ``border``: the array ``w·t_prev`` of a Newton correction that just converged to ``y``;
        its last factorisation (one iterate before ``y``, within ``newton_tol``) is reused.
        """
        sysm = self.system
        w = sysm.weights()
        rhs = np.zeros(sysm.size)
        rhs[-1] = 1.0
        z = sysm.resolve_last(border, rhs) if border is not None else None
        if z is None:
            sysm.set_reference(y)
            z = sysm.solve(y, w * t_prev, rhs)
        return z / np.sqrt(z @ (w * z))

    # ------------------------------------------------------------------ one step
    def step(self) -> bool:
        """Attempt one step; True when it was accepted."""
        t_start = time.perf_counter()
        o, sysm = self.options, self.system
        self.n_steps += 1
        y, t, ds = self.y, self.t, self.ds
        w = sysm.weights()
        y_pred = y + ds * t
        sysm.set_reference(y)
        b = w * t
        res = self.corrector.correct(sysm, y_pred, b, float(b @ y_pred))
        guards, t_new, y_new = StepGuards(), None, res.y
        if res.code == CorrectorCode.converged:
            edge, k = self._edge(float(y[-1]), float(y_new[-1])), -1
            if edge is None and y_new[-2] > self.max_period >= y[-2]:  # the orbit of period max_period ends it
                edge, k = self.max_period, -2
            landed = None
            if edge is not None:  # land exactly on the box edge (λ fixed) or on max_period (T fixed)
                e_k = np.zeros_like(y)
                e_k[k] = 1.0
                theta = (edge - y[k]) / (y_new[k] - y[k])
                guess = y + theta * (y_new - y)
                guess[k] = edge
                land = self.corrector.correct(sysm, guess, e_k, edge)
                landed = land.code == CorrectorCode.converged
                y_new = land.y
            try:
                reuse = b if landed is None else None  # a landing moved y_new off the Newton's point
                t_new = self._tangent(y_new, t, reuse) if landed is not False else None
                cos = None if t_new is None else float(t_new @ b)  # b = w·t
                tangent_failure = RejectReason.none
            except SingularJacobianError:
                cos, tangent_failure = None, RejectReason.singular
            except NonFiniteError:
                cos, tangent_failure = None, RejectReason.nonfinite
            d, e = y_pred - y, y_new - y_pred
            jump = math.sqrt(e @ (w * e)) / math.sqrt(d @ (w * d))
            guards = StepGuards(landing_converged=landed, tangent_failure=tangent_failure, cos_angle=cos,
                                jump_ratio=jump)
        decision = self.controller.adapt(ds, res, guards, self.n_consecutive)
        self.ds, self.n_consecutive = decision.ds, decision.n_consecutive
        if not decision.accept:
            self.n_rejected += 1
            sysm.set_reference(y)
            self._check_terminated(False, decision.reason if decision.too_small else None, "")
            return False
        through = self._through_hopf(y, y_new)
        if through is not None:  # the step passed through a zero-amplitude orbit: the branch ends there
            self._finish(Status.hopf_end, f"orbit amplitude vanishes near lam = {through:.6g}")
            return False
        dy = y_new - y
        s_new = self.s + math.sqrt(dy @ (w * dy))
        mu = self._multipliers(y_new, factored=True)  # the tangent's factorisation: at y_new or one iterate before
        accurate = floquet_accurate(mu, self._floquet_ok)
        values = self._test_values(y_new, t_new, mu, accurate)
        if not accurate and self._approaching_infinite_period(float(y_new[-2]), float(y_new[-1])):
            values[ev.LPC] = np.nan  # λ is flat to rounding there: the sign of dλ/ds is noise, not a fold
        found = self._locate(y, t, y_new, self.values, values, self.s, s_new, self.n_accepted + 1)
        end = ("max_period" if y_new[-2] >= self.max_period * (1 - 1e-12) else "box") if guards.landing_converged \
            else ""
        # the orbit counts with its record, after its tests: an interrupt during them leaves no trace of it
        self.y, self.t, self.values, self.s = y_new, t_new, values, s_new
        self._set_floquet_accuracy(accurate, float(y_new[-2]))
        self._add_points(found)
        self._record(y_new, mu, ds, res.n_iters, time.perf_counter() - t_start)
        self.n_accepted += 1
        if o.mesh_adapt_every and self.n_accepted % o.mesh_adapt_every == 0 and not end:
            self._adapt_mesh()
        self._check_terminated(True, None, end)
        if self.writer is not None:
            self.writer.on_orbit(self)
        return True

    def _through_hopf(self, y_a: np.ndarray, y_b: np.ndarray) -> Optional[float]:
        """λ where the amplitude vanishes between two orbits, or None.

        A step through a zero-amplitude orbit (a Hopf point) continues with the orbit
        mirrored about its mean (``u − ū → −(u − ū)``, the half-period shift that the
        phase condition cannot tell apart), so the deviations from the means of the two
        orbits are anti-correlated; elsewhere they are close to parallel.
        """
        ca, cb, cab = self.system.deviations(y_a, y_b)
        if cab >= 0.0:
            return None
        ra, rb = np.sqrt(ca), np.sqrt(cb)  # amplitude +ra, then −rb: zero at the fraction ra/(ra+rb)
        return float(y_a[-1] + ra / (ra + rb) * (y_b[-1] - y_a[-1]))

    def _edge(self, lam_a: float, lam_b: float) -> Optional[float]:
        if lam_b > self.lam_hi >= lam_a:
            return self.lam_hi
        if lam_b < self.lam_lo <= lam_a:
            return self.lam_lo
        return None

    def _adapt_mesh(self) -> None:
        sysm = self.system
        new = sysm.adapted_mesh([self.y])
        y, t = sysm.remesh(np.stack([self.y, self.t]), new)
        sysm.set_mesh(new)
        # the tangent interpolated onto the new mesh, normalised, as AUTO's ADAPT does: re-solving
        # for it costs a condensation, and the next step's corrector absorbs the difference
        self.t = t / np.sqrt(t @ (sysm.weights() * t))
        self.y = y
        sysm.set_reference(y)

    # ------------------------------------------------------------------ tests and events
    def _test_values(self, y: np.ndarray, t: np.ndarray, mu: np.ndarray, accurate: bool) -> Dict[str, float]:
        """The test functions at an orbit; ``pd`` and ``ns`` NaN (no sign change) where the multipliers
        are inaccurate (:func:`~pathtrack.periodic.infinite_period.floquet_accurate`)."""
        vals = {ev.LPC: float(t[-1])}
        tests = ev.floquet_tests(mu)
        vals.update(tests if accurate else dict.fromkeys(tests, np.nan))
        for e in self.user_events:
            vals[e.name] = float(e.fn(y[:-1], float(y[-1])))
        return vals

    def _set_floquet_accuracy(self, accurate: bool, T: float) -> None:
        """Record the accuracy test of the orbit of period ``T`` (and the period where it first failed)."""
        if self._floquet_ok and not accurate and self._inaccurate_from is None:
            self._inaccurate_from = T
        self._floquet_ok = accurate

    def _multipliers(self, y: np.ndarray, factored: bool = False) -> np.ndarray:
        """Floquet multipliers by decreasing modulus (NaN where the collocation block is singular).

        ``factored``: from the last factorisation, which the caller knows is at ``y`` or at the
        Newton iterate before it (:meth:`CollocationSystem.monodromy_last`).
        """
        try:
            M = self.system.monodromy_last() if factored else None
            if M is None:
                M = self.system.monodromy(y)
        except (SingularJacobianError, NonFiniteError):
            return np.full(self.n, np.nan + 0j)
        mu = eigvals(M)
        return mu[np.argsort(-np.abs(mu))]

    def _locate(self, y_a, t_a, y_b, vals_a, vals_b, s_a: float, s_b: float, step: int) -> list:
        """The special points between the orbits ``y_a`` and ``y_b`` (arclength ``s_a``, ``s_b``):
        ``(point, mesh, terminal)`` each, not yet added to the branch."""
        sysm = self.system
        w = sysm.weights()

        def correct(guess, b):
            sysm.set_reference(y_a)
            res = self.corrector.correct(sysm, guess, b, float(b @ guess))
            if res.code != CorrectorCode.converged:
                return None
            return res.y, ()  # the tangent: only lpc's test needs it, and computes it (a whole solve)

        def test_value(name, y, t):
            if name == ev.LPC:
                try:
                    t = self._tangent(y, t_a)
                except SingularJacobianError:
                    return 0.0  # the bordered system is singular: a branch point, the zero
                finally:
                    sysm.set_reference(y_a)
                return float(t[-1])
            if name in (ev.PD, ev.NS):
                return ev.floquet_tests(self._multipliers(y))[name]
            user = self.locator.events.get(name)
            return np.nan if user is None else float(user.fn(y[:-1], float(y[-1])))

        found = []
        located = self.locator.locate_all(y_a, y_b, vals_a, vals_b, correct, test_value, s_b, step)
        for point, terminal in located:
            y_p = np.append(point.p, point.lam)
            point.s = s_a + float(np.sqrt((y_p - y_a) @ (w * (y_p - y_a))))  # the branch's arclength
            point.extra["period"] = float(point.p[-1])
            point.extra["l2"] = sysm.l2_norm(y_p)
            if point.kind in (ev.PD, ev.NS, ev.LPC):
                mu = self._multipliers(y_p)
                point.extra["mu_re"], point.extra["mu_im"] = _critical(point.kind, mu)
            found.append((point, sysm.mesh.copy(), terminal))
        return found

    def _add_points(self, found: list) -> None:
        for point, mesh, terminal in found:
            self.special_points.append(point)
            self.point_meshes.append(mesh)
            if terminal:
                self._terminal = point.kind

    # ------------------------------------------------------------------ bookkeeping
    def _record(self, y: np.ndarray, mu: np.ndarray, ds: float, n_iters: int, wall: float) -> None:
        sysm, r = self.system, self.rows
        U, T, lam = sysm.split(y)
        l2, amplitude, self._max_abs = sysm.measures(y)
        r["lam"].append(lam)
        r["period"].append(T)
        r["l2"].append(l2)
        r["amplitude"].append(amplitude)
        r["s"].append(self.s)
        r["ds"].append(ds)
        r["multipliers"].append(mu)
        r["n_unstable"].append(ev.n_outside(mu))
        r["mesh"].append(sysm.mesh.copy())
        r["profile"].append(U.copy())
        r["n_newton_iters"].append(n_iters)
        r["wall_time"].append(wall)

    def _finish(self, status: Status, why: str) -> None:
        self.status, self.end_reason = status, why

    def _check_terminated(self, accepted: bool, too_small: Optional[RejectReason], end: str) -> None:
        """The one place that ends a cycle branch."""
        o = self.options
        status, why = Status.running, ""
        if accepted:
            T = self.rows["period"][-1]
            norm = self._max_abs  # of the orbit just recorded
            fit = self._update_fit()
            if getattr(self, "_terminal", None):
                status, why = Status.event_terminated, self._terminal
            elif end == "max_period" or T > self.max_period:  # the period diverges: an infinite-period orbit
                status, why = Status.homoclinic, (f"period reached max_period = {self.max_period:.6g} at lam = "
                                                  f"{self.rows['lam'][-1]:.12g}, max |u| = {norm:.6g}"
                                                  + (f"; {self._fit.describe()}" if self._fit is not None else ""))
            elif end:
                status, why = Status.success, end
            elif o.max_norm is not None and norm > o.max_norm:
                status, why = Status.unbounded, f"max |u| = {norm:.3g} > max_norm = {o.max_norm:.3g}"
            elif o.max_period is None and fit is not None and fit.converged:  # max_period given: go on to it
                growth, lam = T / self.rows["period"][0], self.rows["lam"][-1]
                status, why = Status.homoclinic, (f"period {T:.6g} ({growth:.3g} times the first orbit's) "
                                                  f"while lam converges, at lam = {lam:.12g}, "
                                                  f"max |u| = {norm:.6g}; {fit.describe()}")
        if status is Status.running:
            T, lam = self.rows["period"][-1], self.rows["lam"][-1]
            if too_small is not None and self._approaching_infinite_period(T, lam):
                status, why = Status.homoclinic, (f"step control failed (last rejection: {too_small}) at "
                                                  f"period {T:.6g}, lam = {lam:.12g}; {self._fit.describe()}")
            elif too_small is not None:
                status, why = too_small.status, f"last rejection: {too_small}"
            elif self.n_steps >= o.max_steps:
                status, why = Status.max_steps_reached, f"{self.n_steps} steps"
        if status is not Status.running:
            if self._inaccurate_from is not None and status is not Status.success:
                why += (f"; Floquet multipliers inaccurate from period {self._inaccurate_from:.6g} on "
                        "(pd and ns not tested there)")
            self._finish(status, why)

    def _update_fit(self):
        """The infinite-period fit of the orbits so far (:func:`fit_infinite_period`), kept as the branch's
        last one when it shows the approach and the last orbit is slow on most of its period; else None
        (also where the period grew by less than ``REFIT_GROWTH`` since the last fit)."""
        r = self.rows
        T = r["period"][-1]
        if T < MIN_PERIOD_GROWTH * r["period"][0] or T < (1.0 + REFIT_GROWTH) * self._fit_period:
            return None
        self._fit_period = T
        fit = fit_infinite_period(r["period"], r["lam"], r["amplitude"])
        if fit is None:
            return None
        U, _, lam = self.system.split(self.y)  # the last orbit, on the mesh of node_weights (adapted or not)
        try:
            speed = np.sqrt(np.sum(self.rhs.f(U, lam) ** 2, axis=1))
        except NonFiniteError:
            return None
        if slow_fraction(speed, self.system.node_weights) < MIN_SLOW_FRACTION:
            return None
        self._fit = fit
        return fit

    def _approaching_infinite_period(self, T: float, lam: float) -> bool:
        """Whether an orbit of period ``T`` at ``lam`` still approaches the infinite-period orbit of the
        branch's last fit: the period has grown since, and λ stayed within the distance to λ* estimated then
        (or within ``CONVERGED`` of the branch's λ-extent: a coarse mesh's branch wanders by more)."""
        fit = self._fit
        return fit is not None and T >= fit.period and \
            abs(lam - fit.lam_star) <= max(fit.remaining, CONVERGED * fit.extent)

    def checkpoint(self) -> Dict[str, object]:
        """What a resume continues from: the last orbit ``y``, its tangent and mesh, step and counters."""
        return {"y": self.y, "tangent": self.t, "mesh": self.system.mesh, "values": dict(self.values),
                "ds": float(self.ds), "s": float(self.s), "wall_time": float(np.sum(self.rows["wall_time"])),
                "n_steps": self.n_steps, "n_accepted": self.n_accepted, "n_rejected": self.n_rejected,
                "n_consecutive": self.n_consecutive, "n_H_evals": int(self.rhs.n_evals)}

    def restore(self, stored) -> None:
        """Continue from a :class:`~pathtrack.io.CyclesFile`'s checkpoint, its orbits and special points kept."""
        cp, o, pts = stored.checkpoint, stored.orbits, stored.points
        self.system.set_mesh(np.asarray(cp["mesh"], dtype=float))
        self.y, self.t = np.array(cp["y"], dtype=float), np.array(cp["tangent"], dtype=float)
        self.ds, self.s = float(cp["ds"]), float(cp["s"])
        self.n_steps, self.n_accepted, self.n_rejected, self.n_consecutive = (
            int(cp[k]) for k in ("n_steps", "n_accepted", "n_rejected", "n_consecutive"))
        self.rhs.n_evals = int(cp["n_H_evals"])
        self.values = {k: float(v) for k, v in zip(cp["value_names"], cp["values"])}
        for name in self.rows:
            self.rows[name] = list(o[name])
        for mu, T in zip(self.rows["multipliers"], self.rows["period"]):  # the accuracy test, replayed
            self._set_floquet_accuracy(floquet_accurate(mu, self._floquet_ok), float(T))
        for d, p, mesh in zip(pts["json"], pts["p"], pts["mesh"]):
            d = dict(d)
            base = {k: d.pop(k) for k in ("kind", "lam", "s", "step", "value_a", "value_b")}
            self.special_points.append(ev.SpecialPoint(p=np.asarray(p), extra=d, **base))
            self.point_meshes.append(np.asarray(mesh))
        self.system.set_reference(self.y)

    def request_stop(self) -> None:
        """Ask the branch to stop after the current step (status ``interrupted``)."""
        self._stop_requested = True

    def track(self) -> Status:
        """Step until the branch ends; Ctrl-C ends it with status ``interrupted``.

        As the path tracker's: in the main thread the first Ctrl-C only requests a stop,
        honoured between two steps, so the accepted orbits are stored whole; a second
        Ctrl-C interrupts at once.
        """
        from ..interrupt import deferred_sigint

        t0 = time.perf_counter()
        bar = None
        self._stop_requested = False
        try:
            if self.progress:
                from tqdm.auto import tqdm
                bar = tqdm(unit="orbit", disable=None, leave=False, dynamic_ncols=True,
                           initial=self.n_accepted)
            with _compile_notice():
                if not hasattr(self, "y") and self.status.is_running:
                    self.init()
            with deferred_sigint(self):
                while self.status.is_running:
                    if self.step() and bar is not None:
                        bar.update(1)
                        bar.set_postfix_str(f"lam={self.y[-1]:.6g} T={self.y[-2]:.6g} ds={self.ds:.3g} "
                                            f"rejected={self.n_rejected}", refresh=False)
                    if self._stop_requested and self.status.is_running:
                        self._finish(Status.interrupted, "stop requested")
        except KeyboardInterrupt:  # the orbits stored so far stay; the file is finished and resumable
            self._finish(Status.interrupted, "interrupted")
        finally:
            if bar is not None:
                bar.refresh()
                bar.close()
            if self.writer is not None and self.status.is_running:  # an error escaped: the file stays resumable
                self.writer.close()
            elif self.writer is not None:
                self.writer.on_finish(self, time.perf_counter() - t0)
        return self.status

    def result(self, total_time: float) -> CycleResult:
        r = self.rows
        k = len(r["lam"])
        n, o = self.n, self.options
        arr = {name: np.asarray(r[name], dtype=float) for name in ("lam", "period", "l2", "amplitude", "s",
                                                                    "ds",
                                                                    "wall_time")}
        return CycleResult(
            status=self.status, message=self.status.message, total_time=total_time,
            counters={"n_H_evals": self.rhs.n_evals}, problem=getattr(self.problem, "name", ""),
            end_reason=self.end_reason, hopf=self.hopf, **arr,
            multipliers=np.array(r["multipliers"], dtype=complex).reshape(k, n),
            n_unstable=np.asarray(r["n_unstable"], dtype=int),
            mesh=np.array(r["mesh"], dtype=float).reshape(k, o.ntst + 1),  # k = 0: the first orbit failed
            profile=np.array(r["profile"], dtype=float).reshape(k, o.ntst * o.ncol + 1, n),
            n_newton_iters=np.asarray(r["n_newton_iters"], dtype=int),
            special_points=list(self.special_points), point_meshes=list(self.point_meshes),
            n_accepted=self.n_accepted, n_rejected=self.n_rejected, n_steps=self.n_steps, ntst=o.ntst,
            ncol=o.ncol, parameters=dict(getattr(self.problem, "params", {})),
            options=o.to_dict(), infinite_period=self._fit)


def _compile_notice():
    """The compile notice (:func:`pathtrack.compilenotice.compile_notice`) of the collocation kernels: on
    a terminal, when the first orbit is still being computed after ``COMPILE_NOTICE_SECONDS`` (one
    second) and Numba is compiling them (none loaded in this process and none in its cache); otherwise
    a context that says nothing.
    """
    import contextlib
    import sys

    if not sys.stderr.isatty() or _collocation_compiled():
        return contextlib.nullcontext()
    return compile_notice("the collocation kernels of cycle continuation", True)


def _collocation_compiled() -> bool:
    """Whether the first kernel a cycle run calls is loaded in this process or in Numba's cache (a load
    takes a fraction of what a compile does, and is no compile to announce)."""
    from ..kernels import collocation as kc

    if kc.newton_step.signatures:
        return True
    try:  # Numba's index of the cached code; empty when the source changed since it was written
        return bool(kc.newton_step._cache._cache_file._load_index())
    except Exception:  # another Numba's cache layout: say nothing rather than something wrong
        return True


def _critical(kind: str, mu: np.ndarray):
    """The multiplier crossing the unit circle at a located ``pd`` or ``ns`` (the trivial one at ``lpc``)."""
    nt = ev.nontrivial_multipliers(mu)
    if kind == ev.PD:
        m = nt[np.argmin(np.abs(nt + 1.0))]
    elif kind == ev.NS:
        cand = nt[np.abs(nt.imag) > 0] if np.any(np.abs(nt.imag) > 0) else nt
        m = cand[np.argmin(np.abs(np.abs(cand) - 1.0))]
    else:
        m = nt[np.argmin(np.abs(nt - 1.0))] if nt.size else np.nan
    return float(np.real(m)), float(np.abs(np.imag(m)))


def continue_cycles(problem: Problem, start: Union[HopfPoint, ev.SpecialPoint, tuple], *,
                    options: Optional[TrackerOptions] = None, events: Sequence[ev.Event] = (),
                    out: Optional[str] = None, force: bool = False, progress: bool = False,
                    **option_overrides) -> CycleResult:
    """Continue the branch of periodic orbits born at a Hopf point.

    Parameters
    ----------
    problem : Problem
        An ODE right-hand side (``is_ode_rhs = True``), real.
    start : HopfPoint, SpecialPoint or (p, lam)
        The Hopf point: a located ``hopf`` special point of a path, or a point.
    options : TrackerOptions or mapping, optional
        Default: the problem's ``default_options``; ``option_overrides`` go on top.
        ``ntst``/``ncol`` set the mesh, ``initial_ds`` the L2 amplitude of the first orbit,
        ``lam_min``/``lam_max`` the box the branch ends on.
    out : str, optional
        Write the branch to this HDF5 file orbit by orbit (:class:`~pathtrack.io.CycleWriter`):
        a run killed midway leaves every orbit accepted before the kill, and
        :func:`resume_cycles` continues it. ``force`` overwrites an existing file.
    progress : bool
        Show a progress bar (orbits, λ, period) on a terminal.

    Returns
    -------
    CycleResult

    Raises
    ------
    ProblemError
        Not an ODE right-hand side, or the start is not a Hopf point (one line).
    OptionsError
        ``ntst < 2``, ``ncol`` outside 2..7, or another invalid option.
    """
    o = TrackerOptions.resolve(options, {k: v for k, v in problem.default_options.items()
                                         if k not in ("parameterisation",)}, **option_overrides)
    if isinstance(start, HopfPoint):
        hp = start
    elif isinstance(start, ev.SpecialPoint):
        hp = hopf_point(problem, start.p, start.lam)
    else:
        p, lam = start
        hp = hopf_point(problem, p, lam)
    return _run(CycleTracker(problem, hp, o, events, writer=_writer(out, problem, o, force),
                             progress=progress))


def _writer(out: Optional[str], problem: Problem, options: TrackerOptions, force: bool):
    if out is None:
        return None
    from ..io import CycleWriter
    return CycleWriter.create(out, problem, options, force=force)


def _run(tracker: CycleTracker) -> CycleResult:
    t0 = time.perf_counter()
    tracker.track()
    return tracker.result(time.perf_counter() - t0)


def resume_cycles(problem: Problem, path: str, *, events: Sequence[ev.Event] = (),
                  max_steps: Optional[int] = None, progress: bool = False) -> CycleResult:
    """Continue a cycle branch from the checkpoint of its file (killed, interrupted or out of steps).

    The file goes on being written; the result holds the whole branch, the stored orbits
    and special points included. ``max_steps`` (total steps) is the only option that may change.

    Raises
    ------
    StorageError
        Not a resumable cycle file of this problem (one line).
    """
    from ..io import CycleWriter, CyclesFile

    o = TrackerOptions.resolve(CyclesFile(path).options)
    if max_steps is not None:
        o = o.replace(max_steps=int(max_steps))
    writer, stored = CycleWriter.resume(path, problem, o)
    try:
        hp = hopf_point(problem, np.asarray(stored.hopf["p"], dtype=float), float(stored.hopf["lam"]))
        tracker = CycleTracker(problem, hp, o, events, start=None, writer=writer, progress=progress)
        tracker.restore(stored)
    except BaseException:
        writer.close()
        raise
    return _run(tracker)


def switch_period_doubling(problem: Problem, branch: CycleResult, point: Union[int, ev.SpecialPoint] = 0, *,
                           options: Optional[TrackerOptions] = None, events: Sequence[ev.Event] = (),
                           out: Optional[str] = None, force: bool = False, progress: bool = False,
                           **option_overrides) -> CycleResult:
    """Continue the branch of doubled-period orbits that bifurcates at a period doubling of ``branch``.

    At the located ``pd`` point (period ``T``, multiplier −1 with eigenvector ``v₀``) the
    variational solution ``v(t)`` with ``v(1) = −v(0)`` is read off the collocation system.
    The orbit is traversed twice on a mesh of ``[0, 1]`` (period ``2T``) and the
    perturbation ``v`` on the first pass, ``−v`` on the second (so it closes up), scaled to
    the L2 amplitude ``initial_ds``, is added; that orbit is corrected with its projection on
    the perturbation held, and the branch is continued away from the period doubling.

    Parameters
    ----------
    branch : CycleResult
        A branch with a located ``pd`` point.
    point : int or SpecialPoint
        Which ``pd`` point (its index among ``branch.events('pd')``), or the point itself.
    options, events, out, force, progress, option_overrides
        As for :func:`continue_cycles` (the doubled branch's mesh has ``ntst`` intervals).

    Raises
    ------
    OptionsError
        No such period doubling on ``branch``.
    """
    from ..options import OptionsError

    pds = branch.events(ev.PD)
    if isinstance(point, ev.SpecialPoint):
        sp = point
    elif 0 <= int(point) < len(pds):
        sp = pds[int(point)]
    else:
        raise OptionsError(f"the branch has {len(pds)} period doubling(s); no pd point {point!r}")
    if sp.kind != ev.PD or not any(q is sp for q in branch.special_points):
        raise OptionsError("switch_period_doubling needs a 'pd' special point of the given branch")
    mesh = branch.point_meshes[next(i for i, q in enumerate(branch.special_points) if q is sp)]
    o = TrackerOptions.resolve(options, {k: v for k, v in problem.default_options.items()
                                         if k not in ("parameterisation",)}, **option_overrides)
    start = _doubled_start(problem, sp, mesh, branch.ncol, branch.profile.shape[2], o)
    return _run(CycleTracker(problem, branch.hopf, o, events, start=start,
                             writer=_writer(out, problem, o, force), progress=progress))


def _doubled_start(problem: Problem, sp: ev.SpecialPoint, mesh: np.ndarray, ncol: int, n: int,
                   o: TrackerOptions):
    """``(y, direction, mesh)``: the first orbit of the doubled branch at a ``pd`` point and its direction."""
    rhs = BatchedRHS(problem, n)
    rhs.probe(sp.p[:n], sp.lam)
    sysm = CollocationSystem(rhs, mesh, ncol)
    y = np.append(sp.p, sp.lam)
    Y = sysm.variational(y)
    mu, vecs = np.linalg.eig(Y[-1])
    v0 = np.real(vecs[:, np.argmin(np.abs(mu + 1.0))])
    V = Y @ v0  # v(t) at the nodes; v(1) = −v(0)
    U = sysm.split(y)[0]
    twice = CollocationSystem(rhs, np.concatenate([mesh / 2, 0.5 + mesh[1:] / 2]), ncol)
    U2, W2 = np.concatenate([U, U[1:]]), np.concatenate([V, -V[1:]])
    W2 /= np.sqrt(twice.node_weights @ np.sum(W2 * W2, axis=1))
    y2 = twice.pack(U2 + o.initial_ds * W2, 2 * float(sp.p[-1]), sp.lam)
    d2 = twice.pack(W2, 0.0, 0.0)
    new_mesh = np.linspace(0.0, 1.0, o.ntst + 1)
    return twice.remesh(y2, new_mesh), twice.remesh(d2, new_mesh), new_mesh


def hopf_from_file(path: str, label: str):
    """The ``(p, lam, problem)`` of a Hopf point stored in a path file: ``label`` ``hopf1`` (or ``HB1``) is the first.

    Raises
    ------
    OptionsError
        A malformed label, or no such event in the file (the message lists the file's Hopf points).
    """
    from ..io import load
    from ..options import OptionsError

    kind, k = _label(path, label)
    if kind != ev.HOPF:
        raise OptionsError(f"--from {path}:{label}: a period doubling is read from a cycle file, not a path file")
    with load(path) as f:
        rows = [i for i, e in enumerate(f.events) if e["kind"] == ev.HOPF]
        if k > len(rows):
            raise OptionsError(f"--from {path}:{label}: the file has {len(rows)} Hopf point(s)"
                               + (f" (hopf1..hopf{len(rows)})" if rows else ""))
        i = rows[k - 1]
        problem = str(f.attrs.get("problem", ""))
        return np.asarray(f.event_p(i), dtype=float), float(f.events[i]["lam"]), problem


def _label(path: str, label: str):
    """``(kind, K)`` of an ``--from`` label: ``hopfK``/``HBK`` (a Hopf point) or ``pdK`` (a period doubling)."""
    import re

    from ..options import OptionsError

    m = re.fullmatch(r"(hopf|hb|pd)(\d+)", label.strip().lower())
    if m is None or int(m.group(2)) < 1:
        raise OptionsError(f"--from {path}:{label}: EVENT must be hopfK or HBK (a Hopf point of a path file) "
                           "or pdK (a period doubling of a cycle file; K = 1 for the first)")
    return (ev.PD if m.group(1) == "pd" else ev.HOPF), int(m.group(2))


def pd_from_file(path: str, label: str):
    """The ``K``-th period doubling of a cycle file (``label`` ``pdK``): ``(point, mesh, ncol, n, hopf, problem)``.

    Raises
    ------
    OptionsError
        No such period doubling (the message says how many the file has), or a file without
        the points' orbits (written before cycles schema 2).
    """
    from ..io import CyclesFile
    from ..options import OptionsError

    _, k = _label(path, label)
    f = CyclesFile(path)
    rows = [i for i, d in enumerate(f.points["json"]) if d.get("kind") == ev.PD]
    if not f.points["json"] and f.special_points:
        raise OptionsError(f"--from {path}:{label}: the file does not store its special points' orbits "
                           "(written by an older pathtrack); compute the branch again")
    if k > len(rows):
        raise OptionsError(f"--from {path}:{label}: the file has {len(rows)} period doubling(s)"
                           + (f" (pd1..pd{len(rows)})" if rows else ""))
    i = rows[k - 1]
    d = dict(f.points["json"][i])
    base = {key: d.pop(key) for key in ("kind", "lam", "s", "step", "value_a", "value_b")}
    sp = ev.SpecialPoint(p=np.asarray(f.points["p"][i], dtype=float), extra=d, **base)
    n = f.orbits["profile"].shape[2]
    return sp, np.asarray(f.points["mesh"][i], dtype=float), int(f.attrs["ncol"]), n, f.hopf, f.problem


def run_cycles(name: str, params: Dict[str, object], option_texts: Dict[str, str], source: Optional[str], *,
               out: Optional[str] = None, force: bool = False, resume: Optional[str] = None,
               progress: bool = False) -> Dict[str, object]:
    """What ``pathtrack run PROBLEM --from FILE:hopfK|pdK`` (or ``--resume CYCLEFILE``) does: the summary.

    ``hopfK``: the branch born at a Hopf point of a path file; ``pdK``: the doubled branch at a
    period doubling of a cycle file. With ``out`` the branch is written orbit by orbit;
    ``resume`` continues a cycle file (only ``max_steps`` may be given). ``progress``: a
    progress bar over the orbits.
    """
    from ..driver import build_options
    from ..options import OptionsError
    from ..registry import make_problem

    problem = make_problem(name, **params)
    if resume is not None:
        extra = set(option_texts) - {"max_steps"}
        if extra:
            raise OptionsError(f"--resume {resume}: only max_steps may be set on resume, not {', '.join(sorted(extra))}")
        max_steps = build_options(problem, option_texts).max_steps if option_texts else None
        result = resume_cycles(problem, resume, max_steps=max_steps, progress=progress)
        out = resume
    else:
        path, sep, label = str(source).rpartition(":")
        if not sep or not path:
            raise OptionsError(f"--from {source!r}: expected FILE:EVENT, e.g. path.h5:hopf1")
        options = build_options(problem, option_texts)
        kind, _ = _label(path, label)
        if kind == ev.PD:
            sp, mesh, ncol, n, hopf, stored = pd_from_file(path, label)
        else:
            p, lam, stored = hopf_from_file(path, label)
        if stored and stored != name:
            raise OptionsError(f"--from {source}: the file's {'branch' if kind == ev.PD else 'path'} is of problem "
                               f"{stored!r}, not {name!r}")
        if kind == ev.PD:
            o = TrackerOptions.resolve(options)
            hp = hopf_point(problem, np.asarray(hopf["p"], dtype=float), float(hopf["lam"]))
            start = _doubled_start(problem, sp, mesh, ncol, n, o)
            result = _run(CycleTracker(problem, hp, o, start=start, writer=_writer(out, problem, o, force),
                                       progress=progress))
        else:
            result = continue_cycles(problem, (p, lam), options=options, out=out, force=force,
                                     progress=progress)
    k = len(result.lam)
    last = (lambda col: float(col[-1]) if k else float("nan"))  # noqa: E731
    return {"problem": name, "status": result.status.name, "message": result.message,
            "end_reason": result.end_reason, "n_accepted": result.n_accepted, "n_rejected": result.n_rejected,
            "n_steps": result.n_steps, "lam_start": float(result.lam[0]) if k else None,
            "lam_end": last(result.lam), "hopf_lam": result.hopf.lam, "wall_time": result.total_time,
            "metrics_end": {"period": last(result.period), "l2": last(result.l2),
                            "n_unstable": last(result.n_unstable)},
            "events": [sp.to_dict() for sp in result.special_points], "out": out}
