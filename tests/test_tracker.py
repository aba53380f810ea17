"""The tracker on problems with known answers: folds, branch points, closed loops, complex paths."""

import numpy as np
import pytest
from scipy.optimize import brentq

from pathtrack import FunctionProblem, Problem, Status, StartPoint, TrackerOptions
from pathtrack.driver import track
from pathtrack_problems.bratu import LAMBDA_STAR, Bratu1D, refined_fold
from pathtrack_problems.ellipse import Ellipse
from pathtrack_problems.linear import ComplexLinear
from pathtrack_problems.pitchfork import Pitchfork


def bratu_upper_branch(problem: Bratu1D, lam: float) -> np.ndarray:
    """Discrete upper-branch solution at ``lam``, by Newton from the continuous closed form.

    u(x) = -2 ln[cosh((x - 1/2) θ/2) / cosh(θ/4)] with θ = sqrt(2λ) cosh(θ/4); the larger
    root θ is the upper branch. Independent of the tracker.
    """
    g = lambda th: th - np.sqrt(2 * lam) * np.cosh(th / 4)  # noqa: E731
    theta = brentq(g, 4.0, 40.0)
    x = np.linspace(problem.h, 1 - problem.h, problem.n)
    u = -2 * np.log(np.cosh((x - 0.5) * theta / 2) / np.cosh(theta / 4))
    for _ in range(50):
        du = np.linalg.solve(problem.dH_dp(u, lam), -problem.H(u, lam))
        u = u + du
        if np.linalg.norm(du) < 1e-13 * np.linalg.norm(u):
            break
    return u


def test_bratu_passes_fold_and_returns_on_upper_branch():
    pb = Bratu1D()
    r = track(pb)
    assert r.status is Status.success, r.message
    assert r.end_reason == "lam_end"
    assert r.lam.max() > 3.5 and r.lam.max() < LAMBDA_STAR  # went up to (but not beyond) the fold
    assert r.lam_end == pytest.approx(0.05, abs=1e-14) and r.lam_end < 0.1
    u_ref = bratu_upper_branch(pb, 0.05)
    assert np.max(u_ref) > 5  # really the upper branch
    np.testing.assert_allclose(r.p_end, u_ref, rtol=1e-8, atol=1e-8)
    assert r.n_rejected == 0 or r.n_rejected < r.n_accepted


def test_bratu_fold_matches_discrete_and_refined_fold():
    pb = Bratu1D()
    r = track(pb)
    folds = r.events("fold")
    assert len(folds) == 1
    _, lam_fold = pb.fold_point()
    assert folds[0].lam == pytest.approx(lam_fold, abs=1e-8)
    lam_refined, discrete = refined_fold()
    assert lam_refined == pytest.approx(LAMBDA_STAR, abs=1e-8)
    assert discrete[1] == pytest.approx(lam_fold, abs=1e-12)  # n = 100 is the default mesh
    assert abs(lam_fold - LAMBDA_STAR) < 2e-4  # O(h^2) discretisation error


def test_pitchfork_branch_point_at_analytic_lambda():
    r = track(Pitchfork(lam_bp=0.5))
    assert r.status is Status.success
    bps = r.events("bp")
    assert len(bps) == 1
    assert bps[0].lam == pytest.approx(0.5, abs=1e-8)
    assert not r.events("fold")


def test_ellipse_closes_loop_with_two_folds():
    pb = Ellipse(a=2.0, b=1.0)
    r = track(pb)
    assert r.status is Status.success and r.end_reason == "closed_loop"
    folds = sorted(sp.lam for sp in r.events("fold"))
    assert folds == pytest.approx([-1.0, 1.0], abs=1e-9)
    np.testing.assert_allclose(r.p_end, [2.0], atol=1e-12)
    # every stored point is on the ellipse, and arclength ≈ the ellipse perimeter (Ramanujan)
    np.testing.assert_allclose((r.p[:, 0] / 2) ** 2 + r.lam[r.p_steps] ** 2, 1.0, atol=1e-9)
    a, b = 2.0, 1.0
    h = ((a - b) / (a + b)) ** 2
    perimeter = np.pi * (a + b) * (1 + 3 * h / (10 + np.sqrt(4 - 3 * h)))
    assert r.s[-1] == pytest.approx(perimeter, rel=2e-2)


def test_complex_linear_reaches_exact_solution():
    pb = ComplexLinear(n=6, seed=3)
    r = track(pb)
    assert r.status is Status.success
    assert r.p.dtype == np.complex128
    np.testing.assert_allclose(r.p_end, pb.exact_end(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("predictor", ["tangent", "secant", "rk4"])
def test_predictors_all_follow_bratu(predictor):
    pb = Bratu1D(n=40)
    r = track(pb, predictor=predictor)
    assert r.status is Status.success, r.message
    _, lam_fold = pb.fold_point()
    assert r.events("fold")[0].lam == pytest.approx(lam_fold, abs=1e-8)
    np.testing.assert_allclose(r.p_end, bratu_upper_branch(pb, 0.05), rtol=1e-8, atol=1e-8)


def test_rk4_takes_fewer_steps_than_euler():
    pb = Bratu1D(n=40)
    euler = track(pb, predictor="tangent", max_ds=2.0)
    rk4 = track(pb, predictor="rk4", max_ds=2.0)
    assert rk4.n_steps <= euler.n_steps


def test_natural_parameterisation_cannot_pass_a_fold():
    r = track(Bratu1D(n=30), parameterisation="natural", min_ds=1e-6)
    assert r.status is Status.ds_too_small
    assert r.lam.max() == pytest.approx(Bratu1D(n=30).fold_point()[1], abs=1e-4)
    assert "parameterisation='arclength'" in r.message


def test_newton_krylov_matches_dense_newton():
    pb = Bratu1D(n=60)
    dense = track(pb)
    krylov = track(pb, corrector="newton-krylov", dense_max_n=10)
    assert krylov.status is Status.success, krylov.message
    assert krylov.counters["n_jvp_evals"] > 0 and krylov.counters["n_jac_evals"] == 0
    np.testing.assert_allclose(krylov.p_end, dense.p_end, rtol=1e-7, atol=1e-7)


class QuarticGradient(Problem):
    """L(p, λ) = Σ ½(p_i − λ c_i)² + ¼ κ p_i⁴: a gradient homotopy with a unique minimiser per λ."""

    name = "quartic-gradient"
    is_gradient = True
    lam_start, lam_end = 0.0, 1.0
    default_options = {"parameterisation": "natural", "predictor": "secant", "max_ds": 0.25}

    def __init__(self, n=5, kappa=0.3, threshold=None):
        super().__init__()
        self.c = np.linspace(-2.0, 3.0, n)
        self.kappa = kappa
        self.threshold = threshold

    def loss(self, p, lam):
        import autograd.numpy as anp
        return anp.sum(0.5 * (p - lam * self.c) ** 2 + 0.25 * self.kappa * p ** 4)

    def start(self):
        return StartPoint(np.zeros(len(self.c)), 0.0)

    def exact(self, lam):
        out = []
        for ci in self.c:  # p + κ p³ = λ c has exactly one real root
            roots = np.roots([self.kappa, 0.0, 1.0, -lam * ci])
            out.append(roots[np.argmin(abs(roots.imag))].real)
        return np.array(out)


@pytest.mark.parametrize("corrector", ["lbfgs", "gd", "adam", "newton"])
def test_gradient_homotopy_correctors(corrector):
    pb = QuarticGradient()
    opts = {"corrector": corrector, "min_gtol": 1e-10, "min_maxiter": 5000, "gd_lr": 0.2 if corrector == "gd" else 0.01,
            "gd_momentum": 0.5}
    r = track(pb, **opts)
    assert r.status is Status.success, r.message
    np.testing.assert_allclose(r.p_end, pb.exact(1.0), atol=1e-8)
    if corrector != "newton":
        assert r.counters["n_grad_evals"] > 0


def test_minimisation_corrector_refuses_arclength():
    from pathtrack import OptionsError
    with pytest.raises(OptionsError, match="natural"):
        track(QuarticGradient(), corrector="lbfgs", parameterisation="arclength")


class ThresholdGradient(QuarticGradient):
    """Accept only points whose gradient norm is below a loose threshold (a stand-in for '100% PR')."""

    def accept(self, p, lam):
        return float(np.linalg.norm(self.H(p, lam))) < 1e-3

    def metrics(self, p, lam):
        return {"loss": float(self.loss(p, lam)), "gnorm": float(np.linalg.norm(self.H(p, lam)))}


def test_acceptance_test_gates_every_step_and_stops_minimiser_early():
    pb = ThresholdGradient()
    early = track(pb, corrector="lbfgs", min_gtol=1e-10, stop_on_accept=True)
    full = track(pb, corrector="lbfgs", min_gtol=1e-10, stop_on_accept=False)
    assert early.status is Status.success and full.status is Status.success
    assert np.all(early.metrics["gnorm"] < 1e-3)
    assert early.metrics["loss"].shape == early.lam.shape
    assert early.counters["n_grad_evals"] < full.counters["n_grad_evals"]


def test_acceptance_test_rejections_are_recorded():
    pb = FunctionProblem(lambda p, lam: p - lam, [0.0], 0.0, lam_end=1.0,
                         accept=lambda p, lam: not (0.3 < lam < 0.7))
    r = track(pb, parameterisation="natural", max_ds=0.1, initial_ds=0.1, min_ds=1e-3)
    assert r.status is Status.ds_too_small  # the window cannot be crossed
    assert any(rej["reason"] == "acceptance_test" for rej in r.rejected)
    assert not np.any((r.lam > 0.3) & (r.lam < 0.7))
    assert r.lam[-1] == pytest.approx(0.3, abs=2e-3)


def test_iteration_yields_accepted_states():
    from pathtrack.tracker import Tracker
    tr = Tracker(Ellipse())
    lams = [st.lam for st in tr]
    assert tr.state.status is Status.success
    assert len(lams) == tr.state.n_accepted


def test_resume_from_state_reaches_same_end():
    pb = Bratu1D(n=30)
    full = track(pb)
    part = track(pb, max_steps=10)
    assert part.status is Status.max_steps_reached and part.status.is_resumable
    rest = track(pb, resume=part.state, max_steps=10_000)
    assert rest.status is Status.success
    np.testing.assert_allclose(rest.p_end, full.p_end, rtol=1e-9, atol=1e-9)


def test_options_defaults_from_problem_and_overrides():
    r = track(Bratu1D(n=20), max_ds=0.3)
    assert r.options.max_ds == 0.3 and r.options.direction == 1
    assert TrackerOptions().parameterisation == "arclength"


def test_arclength_stops_where_it_first_reaches_lam_end():
    r = track(Ellipse(a=2.0, b=1.0), lam_end=0.5)
    assert r.status is Status.success and r.end_reason == "lam_end"
    assert r.lam_end == 0.5
    np.testing.assert_allclose(r.p_end, [2.0 * np.sqrt(0.75)], rtol=1e-12)
    assert not r.events("fold")


def test_progress_bar_shows_steps(capsys):
    from pathtrack.driver import ProgressBar
    r = track(Bratu1D(n=10), observers=[ProgressBar(disable=False)])
    assert r.status is Status.success
    err = capsys.readouterr().err
    assert "step" in err and "lam=" in err
    assert track(Bratu1D(n=10), progress=True).status is Status.success  # off a terminal: silent



def test_minimiser_refines_a_large_start_without_a_dense_jacobian():
    pb = QuarticGradient(n=50)
    p0 = np.full(50, 0.3)  # off the path: the start needs refining at λ = 0
    r = track(pb, p0, 0.0, corrector="lbfgs", predictor="constant", dense_max_n=10, min_gtol=1e-7)
    assert r.status is Status.success, r.message
    assert r.counters["n_jac_evals"] == 0  # above dense_max_n: refined by minimising, not by dense Newton
    np.testing.assert_allclose(r.p[0], 0.0, atol=1e-6)
    np.testing.assert_allclose(r.p_end, pb.exact(1.0), atol=1e-6)


def test_hessian_predictor_follows_the_implicit_function_slope():
    """The damped MINRES step predicts the next minimiser to second order; standing still to first."""
    from pathtrack import OptionsError
    from pathtrack.predictor import HessianPredictor
    from pathtrack.problem import RealSystem

    pb = QuarticGradient(n=50)
    common = dict(corrector="lbfgs", dense_max_n=10, min_gtol=1e-7, max_ds=0.1, initial_ds=0.1, krylov_maxiter=30)
    const = track(pb, predictor="constant", **common)
    hess = track(pb, predictor="hessian", predictor_damping=1e-6, **common)
    for r in (const, hess):
        assert r.status is Status.success, r.message
        np.testing.assert_allclose(r.p_end, pb.exact(1.0), atol=1e-6)
    assert hess.counters["n_jvp_evals"] > 0 and const.counters["n_jvp_evals"] == 0
    assert hess.counters["n_grad_evals"] <= const.counters["n_grad_evals"]
    # dx/dλ = c / (1 + 3κp²) at the minimiser p(λ)
    pred = HessianPredictor()
    pred.bind(RealSystem(pb, 50), TrackerOptions(predictor="hessian", predictor_damping=1e-8, krylov_tol=1e-10))
    lam, dlam = 0.5, 0.1
    p = pb.exact(lam)
    y = np.append(p, lam)
    np.testing.assert_allclose(pred.slope(y), pb.c / (1 + 3 * pb.kappa * p ** 2), rtol=1e-4)  # MINRES to 1e-6
    t = np.zeros(51)
    t[-1] = 1.0
    y_next = pred.predict(y, t, dlam, None, None)
    assert y_next[-1] == lam + dlam
    err_hess = np.linalg.norm(y_next[:-1] - pb.exact(lam + dlam))
    err_const = np.linalg.norm(p - pb.exact(lam + dlam))
    assert err_hess < 0.1 * err_const  # O(Δλ²) against O(Δλ): 0.034 against 0.65 here
    assert pred.n_fallbacks == 0
    with pytest.raises(OptionsError, match="gradient homotopies"):
        track(Ellipse(), predictor="hessian", parameterisation="natural")


# -- user components: the tracker reads capabilities, never classes --------------------------------
from pathtrack.corrector import Corrector, MinimizationCorrector  # noqa: E402
from pathtrack.driver import Recorder  # noqa: E402
from pathtrack.linalg import bordered_solve  # noqa: E402
from pathtrack.predictor import Predictor, SecantPredictor  # noqa: E402
from pathtrack.tracker import Tracker  # noqa: E402


def _run(problem, options, **components):
    recorder = Recorder(options.store_p_every)
    tracker = Tracker(problem, options, observers=[recorder], **components)
    tracker.init()
    tracker.track()
    return recorder.result(tracker, 0.0), tracker


class ChordPredictor(Predictor):
    """A user's secant-like predictor: along the chord through the last two accepted points."""

    needs_tangent = False
    uses_history = True

    def __init__(self):
        self.steps = []  # the arclength steps h the tracker asked for

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        self.steps.append(h)
        d = tangent if y_prev is None else (y - y_prev) / np.linalg.norm(y - y_prev)
        return y + h * d


class FrozenPredictor(Predictor):
    """Declares that it is for the natural parameterisation only."""

    needs_tangent = False
    needs_natural = True

    def predict(self, y, tangent, h, y_prev, tangent_fn):
        return y.copy()


class CountingNewton(Corrector):
    """A user's dense Newton corrector (not a NewtonCorrector subclass) that counts its calls."""

    reports_contraction = True

    def __init__(self, options):
        super().__init__(options)
        self.n_calls = 0

    def correct(self, system, y_pred, b, c, max_iters=None):
        self.n_calls += 1
        solve = lambda y, rhs: bordered_solve(system.jacobian(y), b, rhs[:-1], rhs[-1], self.options.max_cond)  # noqa: E731
        return self._newton_loop(system, y_pred, b, c, solve, max_iters)


class WrappedMinimiser(Corrector):
    """A user's minimiser, declared as one; it delegates to L-BFGS."""

    supports_arclength = False
    solves_bordered = False
    minimises = True

    def __init__(self, options):
        super().__init__(options)
        self.inner = MinimizationCorrector(options, "lbfgs")
        self.accept = None

    def correct(self, system, y_pred, b, c, max_iters=None):
        self.inner.accept = self.accept
        return self.inner.correct(system, y_pred, b, c, max_iters)


def test_user_secant_like_predictor_tracks_like_the_builtin_secant():
    pb = QuarticGradient()
    options = TrackerOptions(**pb.default_options).replace(corrector="newton")
    class RecordingSecant(SecantPredictor):
        def predict(self, y, tangent, h, y_prev, tangent_fn):
            steps.append(h)
            return super().predict(y, tangent, h, y_prev, tangent_fn)

    steps = []
    builtin, _ = _run(pb, options, predictor=RecordingSecant())
    user, tracker = _run(pb, options, predictor=ChordPredictor())
    assert user.status is Status.success and tracker.predictor.__class__ is ChordPredictor
    # the natural λ step is measured along the chord, as for the built-in secant
    assert tracker.predictor.steps == steps and len(steps) > 3
    np.testing.assert_array_equal(user.lam, builtin.lam)
    np.testing.assert_array_equal(user.n_newton_iters, builtin.n_newton_iters)
    np.testing.assert_allclose(user.p_end, pb.exact(1.0), atol=1e-8)


def test_user_predictor_needing_natural_refuses_arclength():
    from pathtrack import OptionsError
    options = TrackerOptions(parameterisation="arclength")
    with pytest.raises(OptionsError, match="FrozenPredictor.*natural"):
        _run(Bratu1D(n=20), options, predictor=FrozenPredictor())


def test_user_newton_corrector_lands_and_locates_events():
    pb = Bratu1D(n=30)
    options = TrackerOptions(**pb.default_options)
    builtin, _ = _run(pb, options)
    corrector = CountingNewton(options)
    user, _ = _run(pb, options, corrector=corrector)
    assert user.status is Status.success and user.end_reason == "lam_end"
    np.testing.assert_array_equal(user.lam, builtin.lam)
    assert user.events("fold")[0].lam == builtin.events("fold")[0].lam
    # one call per attempt, plus the landing and the trial points of the fold's location
    assert corrector.n_calls > user.n_steps + 5


def test_user_minimiser_gets_the_acceptance_hook_and_refines_the_start():
    pb = ThresholdGradient()
    options = TrackerOptions(**pb.default_options).replace(min_gtol=1e-10, stop_on_accept=True)
    builtin, _ = _run(pb, options.replace(corrector="lbfgs"))
    corrector = WrappedMinimiser(options)
    user, _ = _run(pb, options, corrector=corrector)
    assert corrector.accept is not None
    assert user.status is Status.success
    np.testing.assert_array_equal(user.lam, builtin.lam)
    assert user.counters["n_grad_evals"] == builtin.counters["n_grad_evals"]
    with pytest.raises(Exception, match="WrappedMinimiser.*natural"):
        _run(pb, options.replace(parameterisation="arclength", predictor="tangent"), corrector=corrector)


def test_fold_found_at_every_size_and_bp_reported_off_beyond_dense_max_n():
    """The fold test needs only the tangent: it runs matrix-free too; what cannot run says why."""
    pb = Bratu1D(n=60)
    dense = track(pb)
    free = track(pb, dense_max_n=40)  # Newton–Krylov: no dense Jacobian, no bordered determinant
    assert free.status is Status.success
    assert [sp.kind for sp in free.special_points] == ["fold"]
    assert free.events("fold")[0].lam == pytest.approx(dense.events("fold")[0].lam, abs=1e-7)
    assert "bp" in free.diagnostics_off and "dense_max_n = 40" in free.diagnostics_off["bp"]
    assert "fold" not in free.diagnostics_off and "bp" not in dense.diagnostics_off
    assert free.summary()["diagnostics_off"] == free.diagnostics_off
    nat = track(pb, parameterisation="natural", min_ds=1e-6)
    assert "arclength" in nat.diagnostics_off["fold"]
    off = track(Pitchfork(lam_bp=0.5), detect_bifurcations=False)
    assert off.special_points == [] and set(off.diagnostics_off) >= {"fold", "bp"}


@pytest.mark.slow
def test_bratu_fold_with_400_unknowns_matches_the_discrete_fold():
    pb = Bratu1D(n=400)
    r = track(pb)
    assert r.status is Status.success
    assert [sp.kind for sp in r.special_points] == ["fold"]
    assert r.events("fold")[0].lam == pytest.approx(pb.fold_point()[1], abs=1e-8)
    assert set(r.diagnostics_off) == {"sigma_min"}  # σ_min is computed below 400 unknowns only


@pytest.mark.slow
def test_branch_point_determinant_from_the_tangent_lu_beyond_400_unknowns():
    """Pitchfork plus 450 decoupled unknowns: the bp test runs on the bordered LU of the tangent."""

    class BigPitchfork(Problem):
        name = "big-pitchfork"
        lam_start, lam_end = -1.0, 2.0

        def H(self, p, lam):
            return np.concatenate([[(lam - 0.5) * p[0] - p[0] ** 3], p[1:] - lam])

        def dH_dp(self, p, lam):
            J = np.eye(p.shape[0])
            J[0, 0] = lam - 0.5 - 3 * p[0] ** 2
            return J

        def dH_dlam(self, p, lam):
            return np.concatenate([[p[0]], -np.ones(p.shape[0] - 1)])

        def start(self):
            return StartPoint(np.concatenate([[0.0], np.full(450, -1.0)]), -1.0)

    r = track(BigPitchfork(), max_ds=0.25)
    assert r.status is Status.success
    assert [sp.kind for sp in r.special_points] == ["bp"]
    assert r.events("bp")[0].lam == pytest.approx(0.5, abs=1e-8)


def test_options_as_a_mapping_or_a_type_error():
    r = track(Pitchfork(), options={"max_ds": 0.05})
    assert r.status is Status.success and r.options.max_ds == 0.05
    assert r.options.initial_ds == 0.05  # the problem's defaults underneath
    assert track(Bratu1D(n=20), options={"max_ds": 0.01}, max_steps=3).options.initial_ds == 0.01
    with pytest.raises(TypeError, match="TrackerOptions or a mapping"):
        track(Pitchfork(), options=[("max_ds", 0.05)])


def test_h_returning_a_list_is_converted_and_an_untraceable_h_named():
    r = track(FunctionProblem(lambda p, lam: [p[0] - lam, p[1] + lam ** 2], [0.0, 0.0], 0.0))
    assert r.status is Status.success
    np.testing.assert_allclose(r.p_end, [1.0, -1.0], atol=1e-9)
    import math
    from pathtrack.problem import ProblemError
    with pytest.raises(ProblemError, match="problem 'untraceable'.*autograd could not compute dH_dp") as info:
        track(FunctionProblem(lambda p, lam: np.array([math.sin(p[0]) - lam]), [0.0], 0.0, name="untraceable"))
    assert "\n" not in str(info.value)


def test_nan_parameter_and_empty_box_are_refused_up_front():
    from pathtrack.options import OptionsError
    from pathtrack.problem import ProblemError
    with pytest.raises(ProblemError, match="parameter 'lam_bp' is NaN"):
        Pitchfork(lam_bp=float("nan"))
    with pytest.raises(OptionsError, match=r"empty λ-box: lam_min = 5 \(problem 'bratu1d'\) is above lam_max = 4"):
        track(Bratu1D(lam_min=5.0))
    with pytest.raises(OptionsError, match=r"lam_min = 2 \(tracker option\) is above lam_max = 1 \(start and lam_end\)"):
        track(FunctionProblem(lambda p, lam: p - lam, [0.0], 0.0), lam_min=2.0)
