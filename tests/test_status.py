"""Every status code is reachable, and every message says what to change."""

import numpy as np
import pytest

from pathtrack import FunctionProblem, Status
from pathtrack.status import CorrectorCode, RejectReason
from pathtrack.driver import PathFailed, track
from pathtrack.events import Event
from pathtrack.tracker import Observer
from pathtrack_problems.bratu import Bratu1D
from pathtrack_problems.linear import ComplexLinear
from pathtrack_problems.pitchfork import Pitchfork

REACHED = set()


def _check(result, status):
    assert result.status is status, f"{result.status.name}: {result.end_reason}"
    REACHED.add(status)
    return result


def test_success():
    _check(track(Bratu1D(n=20)), Status.success)


def test_max_steps_reached():
    r = _check(track(Bratu1D(n=20), max_steps=5), Status.max_steps_reached)
    assert r.n_steps == 5 and "max_steps" in r.message


def test_ds_too_small():
    _check(track(Bratu1D(n=20), parameterisation="natural", min_ds=1e-6), Status.ds_too_small)


def test_newton_failed_when_start_cannot_be_refined():
    # x² + λ² = 1 has no real solution at λ = 2
    pb = FunctionProblem(lambda p, lam: p ** 2 + lam ** 2 - 1.0, [0.5], 2.0, lam_end=0.0)
    r = _check(track(pb), Status.newton_failed)
    assert r.n_accepted == 0


def test_singular_jacobian_at_branch_point_start():
    r = _check(track(Pitchfork(lam_bp=0.5, lam_start=0.5)), Status.singular_jacobian)
    assert "rank deficient" in r.end_reason


def test_nonfinite_along_path():
    def H(p, lam):
        return p - lam if lam < 0.3 else np.full_like(p, np.nan)

    pb = FunctionProblem(H, [0.0], 0.0, lam_end=1.0, dH_dp=lambda p, lam: np.eye(1),
                         dH_dlam=lambda p, lam: -np.ones(1))
    r = _check(track(pb, parameterisation="natural", min_ds=1e-5), Status.nonfinite)
    assert r.lam[-1] == pytest.approx(0.3, abs=1e-4)


@pytest.mark.parametrize("p0", [[np.nan], [np.inf]])
def test_invalid_start(p0):
    pb = FunctionProblem(lambda p, lam: p - lam, p0, 0.0)
    _check(track(pb), Status.invalid_start)


def test_invalid_start_outside_box():
    pb = FunctionProblem(lambda p, lam: p - lam, [5.0], 5.0, lam_end=1.0)
    r = _check(track(pb, lam_min=0.0, lam_max=1.0), Status.invalid_start)
    assert "outside" in r.end_reason


def test_event_terminated_at_located_point():
    hit = Event("hit", lambda p, lam: lam - 0.37, terminal=True)
    r = _check(track(ComplexLinear(), events=[hit]), Status.event_terminated)
    assert r.events("hit")[0].lam == pytest.approx(0.37, abs=1e-10)


class _StopAfter(Observer):
    def __init__(self, k):
        self.k = k

    def on_step(self, tracker, record):
        if record.accepted and tracker.state.n_accepted >= self.k:
            raise KeyboardInterrupt


def test_interrupted_by_ctrl_c_keeps_accepted_steps():
    r = _check(track(Bratu1D(n=20), observers=[_StopAfter(3)]), Status.interrupted)
    assert r.n_accepted >= 3 and len(r.lam) == r.n_accepted + 1


def test_path_crossing_of_a_solve_with_careless_steps():
    # Long steps with the path-jumping guard off and no re-tracking: paths jump onto each other,
    # and the result says so instead of reporting success with too few solutions.
    from pathtrack.polynomial import SolveOptions, solve

    opts = SolveOptions(max_ds=0.5, initial_ds=0.5, max_angle=3.0, max_retracks=0, max_contraction=0.9,
                        max_newton_iters=6)
    r = _check(solve("cyclic:5", seed=0, options=opts), Status.path_crossing)
    assert r.n_unresolved_crossings > 0 and not r.is_complete and r.n_regular < 70
    assert "unresolved path crossing" in r.message


def _jump_problem(step_fn, p0):
    """H = p - step(λ): a jump in H that a tangent never sees (the derivative is 0 or 1)."""
    return FunctionProblem(lambda p, lam: p - step_fn(lam), [p0], 0.0, dH_dp=lambda p, lam: np.eye(1),
                           dH_dlam=lambda p, lam: np.zeros(1))


@pytest.mark.parametrize("step_fn, p0, lam_jump", [
    (lambda lam: np.sign(lam - 0.5), -1.0, 0.5),
    (lambda lam: np.floor(10 * lam), 0.0, 0.1),
])
def test_discontinuous_h_is_not_tracked_across_its_jump(step_fn, p0, lam_jump):
    r = _check(track(_jump_problem(step_fn, p0)), Status.discontinuous)
    assert r.lam_end == pytest.approx(lam_jump, abs=1e-6) and r.lam_end <= lam_jump
    assert r.p_end[0] == p0  # stopped on the branch it started on
    assert "last rejection: jump" in r.end_reason and "max_jump" in r.message
    assert {rej["reason"] for rej in r.rejected} >= {"jump"}


def test_path_to_infinity_ends_unbounded_not_at_max_steps():
    # p (λ - 1/2) = 1: p → -∞ as λ → 1/2
    pb = FunctionProblem(lambda p, lam: p * (lam - 0.5) - 1.0, [-2.0], 0.0, dH_dp=lambda p, lam: np.eye(1) * (lam - 0.5),
                         dH_dlam=lambda p, lam: np.asarray(p, dtype=float))
    r = _check(track(pb), Status.unbounded)
    assert r.n_steps < pb.default_options.get("max_steps", 10_000)
    assert abs(r.p_end[0]) > 1e3 * 2.0 and 0.49 < r.lam_end < 0.5  # default max_norm: 1e3·max(‖p0‖, √n)
    assert "max_norm" in r.message and "max_norm" in r.end_reason
    r = track(pb, max_norm=100.0)
    assert r.status is Status.unbounded and 100.0 < abs(r.p_end[0]) < 101.0


@pytest.mark.parametrize("pb, event", [
    (FunctionProblem(lambda p, lam: p - np.tanh(50 * (lam - 0.5)), [np.tanh(-25.0)], 0.0,
                     dH_dp=lambda p, lam: np.eye(1),
                     dH_dlam=lambda p, lam: -50 * np.ones(1) / np.cosh(50 * (lam - 0.5)) ** 2), None),
    (Bratu1D(), "fold"),
    (Pitchfork(lam_bp=0.5), "bp"),
])
def test_steep_but_smooth_paths_still_succeed(pb, event):
    r = track(pb)
    assert r.status is Status.success, r.end_reason
    assert r.n_rejected < r.n_accepted  # a too long step may be refused as a jump; a shorter one passes
    if event:
        assert [sp.kind for sp in r.special_points] == [event]


def test_box_too_large_when_certifying_a_point_far_from_a_root():
    from pathtrack.polynomial import certify

    r = _check(certify(["x^2 - 2"], [[1.5]]), Status.box_too_large)
    assert r.n_certified == 0 and r.radii[0] == 0 and "max_radius" in r.message


def test_cycle_branch_to_infinite_period_ends_homoclinic():
    from pathtrack_problems.normal_forms import SnicCircle
    from pathtrack.periodic import continue_cycles
    r = _check(continue_cycles(SnicCircle(), (np.zeros(2), 0.0), ntst=20, max_ds=2.0, max_period=20.0),
               Status.homoclinic)
    assert r.period[-1] == pytest.approx(20.0, abs=1e-10) and "max_period" in r.message


def test_cycle_branch_back_to_an_equilibrium_ends_hopf_end():
    from pathtrack_problems.normal_forms import HopfNormalForm
    from pathtrack.periodic import continue_cycles
    r = _check(continue_cycles(HopfNormalForm(lam2=0.5), (np.zeros(2), 0.0), ntst=10, max_ds=0.1), Status.hopf_end)
    assert 0.45 < r.lam[-1] < 0.5


def test_no_endgame_regime_when_the_series_begin_below_the_smallest_radius():
    # 0.001·x^2 = 0, y^2 = 1 (seed 1): the paths' series converge only below 1 - t ≈ 0.001
    from pathtrack.polynomial import SolveOptions, solve

    opts = SolveOptions(scaling=False, min_endgame_radius=2e-3, max_retracks=0)
    r = _check(solve(["0.001*x^2", "y^2 - 1"], seed=1, options=opts), Status.no_endgame_regime)
    assert r.n_failed == 4 and "min_endgame_radius" in r.message


def test_every_status_reached():
    expected = set(Status) - {Status.running}
    missing = expected - REACHED
    assert not missing, f"statuses never reached by a test: {sorted(s.name for s in missing)}"


def test_messages_say_what_to_change():
    for s in Status:
        assert s.message and s.message.endswith(".")
    for s in (Status.max_steps_reached, Status.ds_too_small, Status.newton_failed, Status.nonfinite):
        assert any(w in s.message for w in ("Increase", "increase", "decrease", "Try", "restrict", "reduce"))
    assert Status.success.is_success and Status.ds_too_small.is_failure
    assert not Status.interrupted.is_failure and Status.interrupted.is_resumable


def test_every_reject_reason_maps_to_a_status():
    for reason in RejectReason:
        assert isinstance(reason.status, Status) and not reason.status.is_running and not reason.status.is_success
    assert RejectReason.singular.status is Status.singular_jacobian
    assert RejectReason.nonfinite.status is Status.nonfinite
    assert RejectReason.landing.status is Status.newton_failed
    assert RejectReason.angle.status is Status.ds_too_small
    assert RejectReason.jump.status is Status.discontinuous


def test_new_members_keep_the_codes_compiled_trackers_mirror():
    from pathtrack.polynomial import kernels
    assert [int(s) for s in Status][:13] == list(range(13))  # appended members leave these codes
    assert [int(s) for s in Status] == list(range(len(Status)))
    assert (kernels.SUCCESS, kernels.MAX_STEPS_REACHED, kernels.DS_TOO_SMALL, kernels.NEWTON_FAILED,
            kernels.SINGULAR_JACOBIAN, kernels.NONFINITE) == (1, 2, 3, 4, 5, 6)
    assert Status(int(Status.success)).name == "success" and Status.unbounded == 10 and Status.discontinuous == 11
    assert Status.path_crossing == 12


def test_reject_reasons_print_their_names_and_match_corrector_codes():
    assert [str(r) for r in RejectReason][1:] == ["max_iters", "diverged", "singular", "nonfinite", "landing", "angle",
                                                  "acceptance_test", "interrupted", "jump"]
    assert f"last rejection: {RejectReason.angle}" == "last rejection: angle"
    for code in CorrectorCode:
        if code not in (CorrectorCode.converged, CorrectorCode.rejected):
            assert RejectReason.from_corrector(code).name == code.name
    with pytest.raises(ValueError):
        RejectReason.from_corrector(CorrectorCode.converged)
    assert RejectReason.parse("angle") is RejectReason.angle and RejectReason.parse("") is RejectReason.none
    assert RejectReason.parse(7) is RejectReason.acceptance_test
    with pytest.raises(ValueError, match="unknown reject reason"):
        RejectReason.parse("sideways")


def test_raise_on_failure():
    with pytest.raises(PathFailed, match="max_steps_reached") as info:
        track(Bratu1D(n=20), max_steps=3, raise_on_failure=True)
    assert info.value.result.n_steps == 3


def test_sigint_requests_a_clean_stop_between_steps():
    import os
    import signal

    class _SendSigint(Observer):
        def on_step(self, tracker, record):
            if record.accepted and tracker.state.n_accepted == 3:
                os.kill(os.getpid(), signal.SIGINT)

    rec_steps = []

    class _Count(Observer):
        def on_step(self, tracker, record):
            if record.accepted:
                rec_steps.append(record.step)

    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the suite runs in a background job
    r = _check(track(Bratu1D(n=20), observers=[_SendSigint(), _Count()]), Status.interrupted)
    assert r.n_accepted == len(rec_steps) == len(r.lam) - 1  # every accepted step fully reported
    assert signal.getsignal(signal.SIGINT) is before
