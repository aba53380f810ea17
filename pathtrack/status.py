"""Termination status of a tracked path, and the corrector's own verdicts.

`Status` is the single vocabulary for how a path ended. Each member carries a
message that says what happened *and what to change*, in the spirit of
optimistix's ``RESULTS``. The tracker is the only place that assigns one.

`CorrectorCode` is the small integer code returned by correctors and jitted
kernels. `RejectReason` says why the step controller refused a step attempt; its
:attr:`RejectReason.status` is the `Status` a path ends with when the step size
underflows after that rejection.
"""

from __future__ import annotations

import enum

__all__ = ["Status", "CorrectorCode", "RejectReason"]


class _NamedIntEnum(enum.IntEnum):
    """An IntEnum that prints (``str``, f-strings with or without a format spec) as its name."""

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


class Status(_NamedIntEnum):
    """How a path ended.

    Attributes
    ----------
    running
        The path is still being tracked.
    success
        The path reached ``lam_end`` (or left the λ-box, or closed a loop).
    max_steps_reached
        ``max_steps`` steps were taken without reaching the end.
    ds_too_small
        Backtracking drove the step size below ``min_ds``.
    newton_failed
        The corrector could not converge where it had no freedom to shrink the
        step: refining the start point or landing exactly on ``lam_end``.
    singular_jacobian
        The augmented Jacobian ``[dH_dp, dH_dlam]`` lost rank.
    nonfinite
        ``H`` or a derivative returned NaN or inf along the path.
    invalid_start
        The start point is not on the path (or not finite) and could not be refined.
    event_terminated
        A terminal event fired.
    interrupted
        The run was interrupted (Ctrl-C or a stop request); it can be resumed.
    unbounded
        ‖p‖ grew past ``max_norm``: the path goes to infinity (an asymptote in λ).
    discontinuous
        The step size underflowed on ``jump`` rejections: H jumps (is discontinuous) here.
    path_crossing
        (polynomial solve) Two paths still reached the same regular solution after re-tracking,
        so a solution may be missing from the count.
    box_too_large
        (certification) The root near a solution, if there is one, lies outside the largest
        box allowed around it, so the solution was not certified.
    homoclinic
        (periodic orbits) The period grows without bound while the orbit stays bounded: the
        branch approaches a homoclinic orbit (or a saddle-node on the cycle). Recognised from
        the branch (λ converging as the period grows) or where the period passes ``max_period``.
    hopf_end
        (periodic orbits) The orbit shrank to an equilibrium: the branch ended at a Hopf point.
    no_endgame_regime
        (polynomial solve) Down to the smallest endgame radius, the path's point series never
        settled (neither a stable valuation at infinity nor converging Cauchy estimates).

    New members are appended: compiled trackers mirror the values.
    """

    running = 0
    success = 1
    max_steps_reached = 2
    ds_too_small = 3
    newton_failed = 4
    singular_jacobian = 5
    nonfinite = 6
    invalid_start = 7
    event_terminated = 8
    interrupted = 9
    unbounded = 10
    discontinuous = 11
    path_crossing = 12
    box_too_large = 13
    homoclinic = 14
    hopf_end = 15
    no_endgame_regime = 16

    @property
    def message(self) -> str:
        """A one-paragraph explanation with the remedy."""
        return _MESSAGES[self]

    @property
    def is_success(self) -> bool:
        return self is Status.success

    @property
    def is_running(self) -> bool:
        return self is Status.running

    @property
    def is_failure(self) -> bool:
        """True for every end that is neither success, a terminal event, an interruption nor a cycle
        branch's own end (``homoclinic``, ``hopf_end``)."""
        return self not in (Status.running, Status.success, Status.event_terminated, Status.interrupted,
                            Status.homoclinic, Status.hopf_end)

    @property
    def is_resumable(self) -> bool:
        """True when continuing from the last accepted point may make progress."""
        return self in (Status.interrupted, Status.max_steps_reached)

    @classmethod
    def from_name(cls, name: str) -> "Status":
        try:
            return cls[name]
        except KeyError:
            raise ValueError(f"unknown status {name!r}; expected one of {[m.name for m in cls]}") from None


_MESSAGES = {
    Status.running: "The path is still being tracked.",
    Status.success: "The path reached its end.",
    Status.max_steps_reached: (
        "The tracker took max_steps steps without reaching lam_end. Increase `max_steps`, or allow longer "
        "steps with a larger `max_ds`; resume the run to continue from where it stopped."
    ),
    Status.ds_too_small: (
        "Step size fell below `min_ds` after repeated rejections. The path may be near a singularity "
        "(a fold with natural parameterisation, a branch point, or a path crossing). Try "
        "parameterisation='arclength', decrease `min_ds`, relax `max_contraction` or `max_angle`, or use a "
        "different corrector."
    ),
    Status.newton_failed: (
        "The corrector did not converge where the step could not be shortened (refining the start point, "
        "or landing on lam_end). Increase `max_newton_iters`, loosen `newton_tol`, or supply a start point "
        "closer to the path."
    ),
    Status.singular_jacobian: (
        "The augmented Jacobian [dH_dp, dH_dlam] is singular (rank deficient), so the tangent is not "
        "defined: the point is a branch point or the problem is degenerate. Start slightly off the "
        "singular point, perturb the problem, or check dH_dp and dH_dlam."
    ),
    Status.nonfinite: (
        "H or its derivatives returned NaN or inf. Check the problem for overflow (e.g. exp of large "
        "values), restrict the λ range with `lam_min`/`lam_max`, or reduce `max_ds`."
    ),
    Status.invalid_start: (
        "The start point cannot begin a path: it is not finite, lies outside the λ-box, H is not finite "
        "there, or the problem's acceptance test refuses it (end_reason says which). Supply another start "
        "point, or check the problem's parameters and the λ-box."
    ),
    Status.event_terminated: "A terminal event fired; the path stopped at the located event.",
    Status.interrupted: (
        "The run was interrupted. Every accepted step is kept; resume from the checkpoint to continue."
    ),
    Status.unbounded: (
        "‖p‖ grew past `max_norm`: the path goes to infinity, typically as λ approaches an asymptote. "
        "Restrict the λ range with `lam_min`/`lam_max` to stop before it, or increase `max_norm` if the "
        "solution is legitimately this large."
    ),
    Status.discontinuous: (
        "The corrector kept landing far from the prediction however small the step (rejections `jump`): "
        "H (or its derivative) is discontinuous here, so no continuous path goes on. Check H for sign, "
        "floor, abs or branch switches; restrict the λ range with `lam_min`/`lam_max` to stop before the "
        "jump, or increase `max_jump` if the path is legitimately this steep."
    ),
    Status.path_crossing: (
        "Paths crossed: two paths reached the same regular solution even after re-tracking with the "
        "'conservative' preset, so another solution may be missing. Solve again with another `seed`, or "
        "raise `max_retracks`."
    ),
    Status.box_too_large: (
        "The Newton step from the solution is larger than the largest box allowed (`max_radius`, relative "
        "to 1 + max|x|): the point is not close enough to a root to certify. Refine it (solve again, or "
        "Newton steps in higher precision), or raise `max_radius`."
    ),
    Status.homoclinic: (
        "The period of the orbits grows without bound while the orbits stay bounded: the branch approaches "
        "a homoclinic orbit (or a saddle-node on the cycle), where the period is infinite. Either lam "
        "converged as the period grew (the end reason gives lam*, extrapolated from the last orbits), or "
        "the period reached `max_period` (the branch ends on the orbit of that period). Set `max_period` "
        "(with a finer mesh, `ntst`) to follow it further."
    ),
    Status.hopf_end: (
        "The orbits shrank to an equilibrium: the cycle branch ended at a Hopf point. Start the other way, "
        "or continue the equilibria from there."
    ),
    Status.no_endgame_regime: (
        "The endgame went down to `min_endgame_radius` without the path settling into its Puiseux series "
        "(the valuation at infinity kept changing, or the differences of its points never shrank at a steady "
        "rate): a nearby singularity of the homotopy delays the series' regime. Lower `min_endgame_radius`, "
        "or solve again with another seed."
    ),
}


class CorrectorCode(enum.IntEnum):
    """Integer verdicts returned by correctors and jitted kernels."""

    converged = 0
    max_iters = 1
    diverged = 2  # contraction test failed
    singular = 3
    nonfinite = 4
    rejected = 5  # converged, but a guard (angle, acceptance test) refused the point


class RejectReason(_NamedIntEnum):
    """Why a step attempt was rejected (``none`` for an accepted one).

    The corrector's failures keep their :class:`CorrectorCode` values, so
    ``RejectReason(int(code))`` is the reason for a failed correction. ``str()`` gives
    the member's name, which is what summaries, messages and files show.

    Attributes
    ----------
    none
        The step was accepted.
    max_iters, diverged, singular, nonfinite
        The corrector did not converge (see :class:`CorrectorCode`).
    landing
        The correction at fixed λ onto ``lam_end`` or the box edge did not converge.
    angle
        The tangent turned by more than ``max_angle`` (path jumping).
    acceptance_test
        The problem's ``accept(p, lam)`` refused the corrected point.
    interrupted
        Ctrl-C arrived during the attempt.
    jump
        The corrector moved the predicted point by more than ``max_jump`` times the
        predictor's step: on a continuous path this ratio vanishes with the step, so
        when it persists down to ``min_ds`` H is discontinuous.
    """

    none = 0
    max_iters = 1
    diverged = 2
    singular = 3
    nonfinite = 4
    landing = 5
    angle = 6
    acceptance_test = 7
    interrupted = 8
    jump = 9

    @property
    def status(self) -> Status:
        """The final status when the step size falls below ``min_ds`` after this rejection."""
        return _REJECT_STATUS[self]

    @classmethod
    def from_corrector(cls, code: CorrectorCode) -> "RejectReason":
        """The reason for a correction that ended with ``code`` (not ``converged``)."""
        if code in (CorrectorCode.converged, CorrectorCode.rejected):
            raise ValueError(f"corrector code {CorrectorCode(code).name!r} is no corrector failure")
        return cls(int(code))

    @classmethod
    def parse(cls, value) -> "RejectReason":
        """A member from its code, its name or ``''`` (none)."""
        if isinstance(value, str):
            if value == "":
                return cls.none
            try:
                return cls[value]
            except KeyError:
                raise ValueError(f"unknown reject reason {value!r}; expected one of "
                                 f"{[m.name for m in cls]}") from None
        return cls(int(value))


# Rejections the step size cannot cure have their own status; the rest mean ds_too_small.
_REJECT_STATUS = {
    RejectReason.none: Status.ds_too_small,
    RejectReason.max_iters: Status.ds_too_small,
    RejectReason.diverged: Status.ds_too_small,
    RejectReason.singular: Status.singular_jacobian,
    RejectReason.nonfinite: Status.nonfinite,
    RejectReason.landing: Status.newton_failed,
    RejectReason.angle: Status.ds_too_small,
    RejectReason.acceptance_test: Status.ds_too_small,
    RejectReason.interrupted: Status.interrupted,
    RejectReason.jump: Status.discontinuous,
}
