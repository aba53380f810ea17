"""Step-size controller, kept apart from the corrector (as in diffrax).

The corrector *estimates* (converged or not, iterations, contraction) and the tracker
*measures* the corrected point (landing, tangent, turn angle, the problem's acceptance
test); the controller *decides*: accept or reject, why, and the next step size. The
rules themselves are the functions of :mod:`pathtrack.kernels.steprules`, shared
with compiled trackers; this module binds them to a
:class:`~pathtrack.options.TrackerOptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

from .corrector import CorrectorResult
from .kernels.steprules import STEP_TOO_SMALL, adapt_step_size, contraction_factor, turn_ok, work_factor
from .options import TrackerOptions
from .status import CorrectorCode, RejectReason

__all__ = ["StepGuards", "StepDecision", "StepController"]


@dataclass(frozen=True)
class StepGuards:
    """The tracker's checks of a corrected point, judged by :meth:`StepController.adapt`.

    A check the tracker did not reach or that does not apply keeps its default.

    Attributes
    ----------
    landing_converged : bool or None
        Whether the correction at fixed λ onto ``lam_end`` or the box edge converged
        (None: no landing).
    tangent_failure : RejectReason
        ``singular`` or ``nonfinite`` when the tangent at the corrected point could not
        be computed; ``none`` otherwise.
    cos_angle : float or None
        Cosine of the angle between the old and the new tangent (None: not checked, the
        tracker carries no true tangent).
    acceptance_test : callable ``() -> bool`` or None
        The problem's acceptance test at the corrected point, called only when every
        other check passed.
    jump_ratio : float or None
        How far the corrector moved the predicted point, relative to the predicted
        step (None: not measured). Large at a tiny step means H jumps. Judged after the
        turn angle: on a smooth path the ratio is about half the turn angle, so a step
        the angle guard passes is refused as a jump only where the tangent missed a jump.
    """

    landing_converged: Optional[bool] = None
    tangent_failure: RejectReason = RejectReason.none
    cos_angle: Optional[float] = None
    acceptance_test: Optional[Callable[[], bool]] = None
    jump_ratio: Optional[float] = None


@dataclass(frozen=True)
class StepDecision:
    """What the controller decided about one step attempt.

    Attributes
    ----------
    accept : bool
    ds : float
        The step size of the next attempt.
    reason : RejectReason
        ``none`` when accepted.
    n_consecutive : int
        Consecutive successes counted towards the next growth.
    too_small : bool
        The rejected step cannot shrink further (``ds < min_ds``).
    """

    accept: bool
    ds: float
    reason: RejectReason
    n_consecutive: int
    too_small: bool


class StepController:
    """Accept or reject a step attempt and choose the next step size, within [min_ds, max_ds].

    A converged Newton correction scales the step by :func:`~pathtrack.kernels.steprules.contraction_factor`
    (HC.jl-style): a slowly contracting Newton, or one that needed many iterations,
    shrinks or holds the step; a fast one lets it grow after ``grow_after`` consecutive
    successes. A minimisation corrector (``minimises = True``) reports its work instead:
    :func:`~pathtrack.kernels.steprules.work_factor` holds the step after an expensive
    success and shrinks it by the extrapolated need of an early exit. Other correctors get the
    plain rule: grow after consecutive successes, shrink on rejection.

    With ``options.step_memory`` the controller also learns from rejections (its memory is
    this object's state, not part of a checkpoint). After a rejection at ``ds_failed`` the
    step may grow back to ``ds_failed`` only after ``n_required`` consecutive successes
    (``grow_after + 1`` at first, so never straight after the rejection); until then a
    growth stops at ``ds_failed·sqrt(shrink_factor)``, between the size that passed and the
    one that failed. A rejection again near ``ds_failed`` doubles ``n_required``; a success
    at ``ds_failed`` or above forgets it. So a path whose steps fail at 2Δλ and pass at Δλ
    settles between the two instead of alternating accept at Δλ, reject at 2Δλ.
    """

    def __init__(self, options: TrackerOptions, uses_contraction: bool = True):
        self.options = options
        self.uses_contraction = uses_contraction
        self.uses_work = False
        self.ds_failed = math.inf
        self.n_required = 0
        self.n_since_reject = 0

    def bind(self, corrector) -> None:
        """Read the corrector's capabilities: whether its contraction and iterations mean anything."""
        self.uses_contraction = bool(getattr(corrector, "reports_contraction", False))
        self.uses_work = bool(getattr(corrector, "minimises", False))

    def adapt(self, ds: float, corrector_result: CorrectorResult, guards: Optional[StepGuards] = None,
              n_consecutive: int = 0) -> StepDecision:
        """Judge one attempt from the corrector's report and the tracker's checks.

        Parameters
        ----------
        ds : float
            The step size of this attempt.
        corrector_result : CorrectorResult
        guards : StepGuards, optional
            Checks of the corrected point (only read when the correction converged).
        n_consecutive : int
            Consecutive successes before this attempt.
        """
        o = self.options
        reason = self.reject_reason(corrector_result, guards or StepGuards())
        accept = reason is RejectReason.none
        factor = math.inf
        if self.uses_contraction:
            factor = contraction_factor(int(corrector_result.n_iters), float(corrector_result.contraction),
                                        o.max_contraction, o.max_newton_iters)
        elif self.uses_work:
            factor = work_factor(int(corrector_result.n_iters), o.min_maxiter, accept,
                                 float(corrector_result.predicted_iters))
        new_ds, n_cons, code = adapt_step_size(float(ds), accept, int(n_consecutive), factor, o.grow_factor,
                                               o.shrink_factor, o.grow_after, o.min_ds, o.max_ds)
        if o.step_memory and code != STEP_TOO_SMALL:
            new_ds = self._remember(float(ds), accept, float(new_ds))
        return StepDecision(accept=accept, ds=float(new_ds), reason=reason, n_consecutive=int(n_cons),
                            too_small=code == STEP_TOO_SMALL)

    def _remember(self, ds: float, accept: bool, new_ds: float) -> float:
        """Apply and update the memory of the last failed step size; returns the next step size."""
        o = self.options
        if not accept:
            near = math.isfinite(self.ds_failed) and ds > self.ds_failed * o.shrink_factor
            self.n_required = 2 * self.n_required if near else o.grow_after + 1
            self.ds_failed = ds
            self.n_since_reject = 0
            return new_ds
        self.n_since_reject += 1
        if ds >= self.ds_failed:  # the size that failed passes now: forget it
            self.ds_failed, self.n_required = math.inf, 0
            return new_ds
        if new_ds >= self.ds_failed and self.n_since_reject < self.n_required:
            return max(ds, min(new_ds, self.ds_failed * math.sqrt(o.shrink_factor)))
        return new_ds

    def reject_reason(self, corrector_result: CorrectorResult, guards: StepGuards) -> RejectReason:
        """The first failed check, in the order the tracker performs them; ``none`` if all pass."""
        if corrector_result.code != CorrectorCode.converged:
            return RejectReason.from_corrector(corrector_result.code)
        if guards.landing_converged is False:
            return RejectReason.landing
        if guards.tangent_failure is not RejectReason.none:
            return guards.tangent_failure
        if guards.cos_angle is not None and not self.turn_ok(guards.cos_angle):
            return RejectReason.angle
        if guards.jump_ratio is not None and not self.jump_ok(guards.jump_ratio):
            return RejectReason.jump
        if guards.acceptance_test is not None and not guards.acceptance_test():
            return RejectReason.acceptance_test
        return RejectReason.none

    def jump_ok(self, jump_ratio: float) -> bool:
        """Discontinuity guard: the corrector moved at most ``max_jump`` times the predicted step."""
        return not jump_ratio > self.options.max_jump

    def turn_ok(self, cos_angle: float) -> bool:
        """Path-jumping guard on the angle between successive tangents."""
        return bool(turn_ok(float(cos_angle), self.options.max_angle))
