"""The step controller decides acceptance and the next step from the corrector's report and the guards."""

import itertools
import math

import numpy as np
import pytest

from pathtrack.corrector import CorrectorResult
from pathtrack.kernels.steprules import adapt_step_size, next_step_size
from pathtrack.options import TrackerOptions
from pathtrack.status import CorrectorCode, RejectReason
from pathtrack.stepcontrol import StepController, StepGuards

OPTIONS = TrackerOptions(max_contraction=0.5, max_newton_iters=10, grow_factor=2.0, shrink_factor=0.5, grow_after=2,
                         min_ds=1e-6, max_ds=1.0, initial_ds=0.1)


def _converged(n_iters, contraction):
    return CorrectorResult(CorrectorCode.converged, np.zeros(2), n_iters, 1e-12, contraction)


def test_slow_contraction_shrinks_a_converged_step():
    d = StepController(OPTIONS).adapt(0.1, _converged(4, 0.4), StepGuards(), n_consecutive=1)
    assert d.accept and d.reason is RejectReason.none and not d.too_small
    assert d.ds == pytest.approx(0.1 * math.sqrt(0.25 * 0.5 / 0.4))  # ds·sqrt(θ̄/θ), θ̄ = 0.125
    assert d.n_consecutive == 0


def test_fast_contraction_grows_after_consecutive_successes():
    ctl = StepController(OPTIONS)
    first = ctl.adapt(0.1, _converged(3, 1e-3), StepGuards(), n_consecutive=0)
    assert first.accept and first.ds == 0.1 and first.n_consecutive == 1
    second = ctl.adapt(first.ds, _converged(3, 1e-3), StepGuards(), n_consecutive=first.n_consecutive)
    assert second.ds == pytest.approx(0.2) and second.n_consecutive == 0


def test_moderate_contraction_grows_by_less_than_grow_factor():
    d = StepController(OPTIONS).adapt(0.1, _converged(3, 0.0625), StepGuards(), n_consecutive=1)
    assert d.ds == pytest.approx(0.1 * math.sqrt(2.0))


def test_many_iterations_hold_the_step_even_when_contraction_is_fast():
    d = StepController(OPTIONS).adapt(0.1, _converged(6, 1e-3), StepGuards(), n_consecutive=1)
    assert d.accept and d.ds == pytest.approx(0.1)


def test_correctors_without_contraction_get_the_plain_rule():
    ctl = StepController(OPTIONS, uses_contraction=False)
    d = ctl.adapt(0.1, _converged(9, 0.45), StepGuards(), n_consecutive=1)
    assert d.accept and d.ds == pytest.approx(0.2)

    class Minimiser:
        reports_contraction = False

    ctl = StepController(OPTIONS)
    ctl.bind(Minimiser())
    assert not ctl.uses_contraction


def test_diverged_correction_shrinks_by_its_contraction_within_bounds():
    ctl = StepController(OPTIONS)
    mild = ctl.adapt(0.1, CorrectorResult(CorrectorCode.diverged, np.zeros(2), 3, 1.0, 0.6), n_consecutive=1)
    assert not mild.accept and mild.reason is RejectReason.diverged
    assert mild.ds == pytest.approx(0.1 * math.sqrt(0.125 / 0.6)) and mild.n_consecutive == 0
    wild = ctl.adapt(0.1, CorrectorResult(CorrectorCode.diverged, np.zeros(2), 2, 1.0, 50.0))
    assert wild.ds == pytest.approx(0.1 * 0.25)  # never below shrink_factor²
    singular = ctl.adapt(0.1, CorrectorResult(CorrectorCode.singular, np.zeros(2), 0, 1.0, np.nan))
    assert singular.reason is RejectReason.singular and singular.ds == pytest.approx(0.05)


def test_guards_are_judged_in_order_and_the_acceptance_test_last():
    ctl = StepController(OPTIONS)
    res = _converged(3, 1e-3)
    calls = []

    def test():
        calls.append(1)
        return False

    assert ctl.adapt(0.1, res, StepGuards(landing_converged=False, acceptance_test=test)).reason is RejectReason.landing
    assert ctl.adapt(0.1, res, StepGuards(tangent_failure=RejectReason.nonfinite, cos_angle=-1.0)).reason \
        is RejectReason.nonfinite
    assert ctl.adapt(0.1, res, StepGuards(cos_angle=-1.0, acceptance_test=test)).reason is RejectReason.angle
    assert not calls  # an earlier failure spares the problem's test
    d = ctl.adapt(0.1, res, StepGuards(landing_converged=True, cos_angle=1.0, acceptance_test=test))
    assert d.reason is RejectReason.acceptance_test and calls == [1]
    assert d.ds == pytest.approx(0.05)  # a guard's rejection shrinks by shrink_factor
    assert ctl.adapt(0.1, res, StepGuards(cos_angle=math.cos(OPTIONS.max_angle * 0.9))).accept


def test_too_small_below_min_ds():
    d = StepController(OPTIONS).adapt(1.5e-6, _converged(3, 1e-3), StepGuards(cos_angle=-1.0))
    assert not d.accept and d.too_small and d.ds < OPTIONS.min_ds


def test_next_step_size_is_the_rule_without_an_estimate():
    """The compiled polynomial tracker calls next_step_size: it must keep the plain rule exactly."""
    for ds, accepted, n, grow_after in itertools.product([1e-9, 0.03, 0.4, 0.9], [True, False], [0, 1, 2, 4],
                                                         [1, 2, 3]):
        plain = next_step_size(ds, accepted, n, 2.0, 0.5, grow_after, 1e-8, 1.0)
        if accepted:
            n_new = n + 1
            want_ds = min(ds * 2.0, 1.0) if n_new >= grow_after else ds
            want = (want_ds, 0 if n_new >= grow_after else n_new, 0)
        else:
            want = (ds * 0.5, 0, 1 if ds * 0.5 < 1e-8 else 0)
        assert plain == pytest.approx(want)
        assert plain == adapt_step_size(ds, accepted, n, math.inf, 2.0, 0.5, grow_after, 1e-8, 1.0)


def test_jump_guard_after_the_turn_and_before_the_acceptance_test():
    ctl = StepController(OPTIONS)
    res = _converged(1, math.nan)
    calls = []

    def test():
        calls.append(1)
        return True

    far = OPTIONS.max_jump * 1.5
    assert ctl.adapt(0.1, res, StepGuards(cos_angle=-1.0, jump_ratio=far)).reason is RejectReason.angle
    d = ctl.adapt(0.1, res, StepGuards(cos_angle=1.0, jump_ratio=far, acceptance_test=test))
    assert d.reason is RejectReason.jump and not d.accept and not calls
    assert ctl.adapt(0.1, res, StepGuards(cos_angle=1.0, jump_ratio=0.5 * OPTIONS.max_jump)).accept
    tiny = StepController(OPTIONS).adapt(1.5e-6, res, StepGuards(jump_ratio=1e5))
    assert tiny.too_small and tiny.reason.status.name == "discontinuous"
    off = StepController(OPTIONS.replace(max_jump=math.inf))
    assert off.adapt(0.1, res, StepGuards(jump_ratio=1e300)).accept
