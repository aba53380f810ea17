"""Minimisation correctors (L-BFGS, Newton–CG, Levenberg–Marquardt), their early exit and
active-set stage, and the step controller's memory of rejections."""

import math

import numpy as np
import pytest

from pathtrack import Status
from pathtrack.driver import Recorder
from pathtrack.tracker import Tracker
from pathtrack.corrector import CorrectorResult, MinimizationCorrector, make_corrector, steihaug_cg
from pathtrack.nn import LossFunction, Network
from pathtrack.options import OptionsError, TrackerOptions
from pathtrack.problem import Problem, RealSystem
from pathtrack.status import CorrectorCode, RejectReason
from pathtrack.stepcontrol import StepController, StepGuards

def _correct(problem, x0, method, lam=0.0, **opts):
    """One correction at fixed λ from ``x0``; returns (result, counters)."""
    o = TrackerOptions(**{"min_maxiter": 200, "min_gtol": 1e-10, "krylov_maxiter": 50, **opts})
    system = RealSystem(problem, x0.size)
    corr = make_corrector(o.replace(corrector=method), system)
    if problem.has("accept"):
        corr.accept = lambda x, lam: problem.accept(x, lam)
    if problem.has("n_violations"):
        corr.count = problem.n_violations
    if problem.has("violations"):
        corr.violations = problem.violations
    b = np.zeros(x0.size + 1)
    b[-1] = 1.0
    return corr.correct(system, np.append(x0, lam), b, lam), system.counters()


class Quadratic(Problem):
    """L = ½ (p − c)ᵀ A (p − c) = ½‖R(p − c)‖², A = RᵀR: minimiser c, Gauss–Newton = Hessian = A."""

    name = "quadratic"
    is_gradient = True

    def __init__(self, n=30, **params):
        super().__init__(**params)
        rng = np.random.default_rng(1)
        self.R = rng.standard_normal((n, n)) + 3 * np.eye(n)
        self.A = self.R.T @ self.R
        self.c = rng.standard_normal(n)

    def loss(self, p, lam):
        d = p - self.c
        return 0.5 * float(d @ self.A @ d)

    def loss_and_grad(self, p, lam):
        return self.loss(p, lam), self.A @ (p - self.c)

    def H(self, p, lam):
        return self.A @ (p - self.c)

    def jvp(self, p, lam, v):
        return self.A @ v

    def gnvp(self, p, lam, v):
        return self.A @ v


class Rosenbrock(Problem):
    """Σ r² with r = (10(x_{i+1} − x_i²), 1 − x_i): minimiser (1, …, 1); Gauss–Newton 2JᵀJ."""

    name = "rosenbrock"
    is_gradient = True

    def _r_J(self, p):
        n = p.size
        r = np.concatenate([10 * (p[1:] - p[:-1] ** 2), 1 - p[:-1]])
        J = np.zeros((2 * (n - 1), n))
        i = np.arange(n - 1)
        J[i, i], J[i, i + 1] = -20 * p[:-1], 10
        J[n - 1 + i, i] = -1
        return r, J

    def loss_and_grad(self, p, lam):
        r, J = self._r_J(p)
        return float(r @ r), 2 * J.T @ r

    def loss(self, p, lam):
        return self.loss_and_grad(p, lam)[0]

    def H(self, p, lam):
        return self.loss_and_grad(p, lam)[1]

    def jvp(self, p, lam, v):  # exact Hessian: 2JᵀJ + 2 Σ r_k ∇²r_k
        r, J = self._r_J(p)
        out = 2 * J.T @ (J @ v)
        n = p.size
        out[:-1] += 2 * r[:n - 1] * (-20 * v[:-1])
        return out

    def gnvp(self, p, lam, v):
        _, J = self._r_J(p)
        return 2 * J.T @ (J @ v)


class TinyNet(Problem):
    """A 4-12-3 network on 60 random inputs labelled by another such network, margin loss:
    its residuals can all reach zero.

    The acceptance test is 100% training PR; ``n_violations`` counts the misclassified
    samples and ``violations`` linearises their margins.
    """

    name = "tiny-net"
    is_gradient = True

    def __init__(self, n_samples=60, seed=0, **params):
        super().__init__(**params)
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((n_samples, 4))
        self.net = Network([4, 12, 3], activation="switch", dtype=np.float64)
        teacher = 3 * self.net.init_params("glorot", 0.5, seed + 100)
        self.y = LossFunction(self.net, self.X, np.zeros(n_samples, int)).logits(teacher).argmax(axis=1)
        self.lf = LossFunction(self.net, self.X, self.y, loss="margin", kappa=1.0, weights=np.ones(n_samples))
        self.p0 = self.net.init_params("glorot", 0.5, seed)

    def loss_and_grad(self, p, lam):
        return self.lf.loss_and_grad(p)

    def loss(self, p, lam):
        return self.lf.loss(p)

    def H(self, p, lam):
        return self.lf.grad(p)

    def jvp(self, p, lam, v):
        return self.lf.hvp(p, v)

    def gnvp(self, p, lam, v):
        return self.lf.gnvp(p, v)

    def accept(self, p, lam):
        return bool(np.all(self.lf.margins(p) > 0))

    def n_violations(self, p, lam):
        return int(np.sum(self.lf.margins(p) <= 0))


def test_steihaug_cg_solves_inside_and_stops_on_the_boundary():
    rng = np.random.default_rng(0)
    R = rng.standard_normal((8, 8)) + 3 * np.eye(8)
    B, g = R.T @ R, rng.standard_normal(8)
    s, Bs, n = steihaug_cg(lambda v: B @ v, g, np.inf, 1e-12, 50)
    np.testing.assert_allclose(B @ s, -g, atol=1e-9)
    np.testing.assert_allclose(Bs, B @ s, atol=1e-9)
    assert n <= 16  # CG: about n products in exact arithmetic
    s, Bs, _ = steihaug_cg(lambda v: B @ v, g, 1e-3, 1e-12, 50)
    assert np.linalg.norm(s) == pytest.approx(1e-3)
    np.testing.assert_allclose(Bs, B @ s, atol=1e-12)
    # negative curvature: follow it to the boundary
    s, _, _ = steihaug_cg(lambda v: -v, g, 2.0, 1e-12, 50)
    assert np.linalg.norm(s) == pytest.approx(2.0) and float(g @ s) < 0


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "lm"])
def test_correctors_find_the_quadratics_minimiser(method):
    pb = Quadratic()
    res, counts = _correct(pb, np.zeros(30), method, min_gtol=1e-6)
    assert res.code is CorrectorCode.converged
    np.testing.assert_allclose(res.y[:-1], pb.c, atol=1e-5)
    if method != "lbfgs":  # a few Newton steps, not dozens of gradients
        assert counts["n_grad_evals"] <= 20


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "lm"])
def test_correctors_find_rosenbrocks_minimiser(method):
    res, counts = _correct(Rosenbrock(), np.full(6, -1.0), method, min_maxiter=300)
    assert res.code is CorrectorCode.converged, res
    np.testing.assert_allclose(res.y[:-1], np.ones(6), atol=1e-5)
    key = {"lbfgs": "n_grad_evals", "newton-cg": "n_jvp_evals", "lm": "n_gnvp_evals"}[method]
    assert counts[key] > 0


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "lm"])
def test_correctors_bring_a_tiny_network_to_zero_violations(method):
    pb = TinyNet()
    assert pb.n_violations(pb.p0, 0.0) > 5
    res, _ = _correct(pb, pb.p0, method, min_maxiter=300, min_exit_ratio=math.inf)
    assert res.code is CorrectorCode.converged
    assert pb.n_violations(res.y[:-1], 0.0) == 0 and pb.accept(res.y[:-1], 0.0)


def test_lm_needs_a_gauss_newton_product():
    class NoGN(Problem):
        name = "no-gn"
        is_gradient = True

        def loss(self, p, lam):
            return float(p @ p)

    with pytest.raises(OptionsError, match="gnvp"):
        make_corrector(TrackerOptions(corrector="lm"), RealSystem(NoGN(), 3))


class Stubborn(Problem):
    """Violations fall by one every 20 gradients and never below 40: no budget is enough.

    The loss Σp never reaches a stationary point, so only the budget or the early exit ends a run.
    """

    name = "stubborn"
    is_gradient = True

    def __init__(self, **params):
        super().__init__(**params)
        self.k = 0

    def loss_and_grad(self, p, lam):
        self.k += 1
        return float(np.sum(p)), np.ones_like(p)

    def loss(self, p, lam):
        return float(np.sum(p))

    def H(self, p, lam):
        return np.ones_like(p)

    def accept(self, p, lam):
        return False

    def n_violations(self, p, lam):
        return max(40, 100 - self.k // 20)


def test_early_exit_gives_up_and_predicts_the_need():
    res, counts = _correct(Stubborn(), np.zeros(5), "gd", min_maxiter=100)
    assert res.code is CorrectorCode.max_iters
    assert res.n_iters <= 40  # judged after 2 tenths of the budget, gave up by the fourth
    assert counts["n_grad_evals"] == res.n_iters
    assert res.predicted_iters > 100
    off, _ = _correct(Stubborn(), np.zeros(5), "gd", min_maxiter=100, min_exit_ratio=math.inf)
    assert off.n_iters == 100 and math.isnan(off.predicted_iters)


def test_active_set_stage_fixes_the_last_violators():
    class Linear(Problem):
        """Constraints a_i·p > 1 with a far too weak descent: only the active-set step gets there."""

        name = "linear"
        is_gradient = True

        def __init__(self, **params):
            super().__init__(**params)
            self.A = np.random.default_rng(3).standard_normal((5, 20))

        def loss_and_grad(self, p, lam):
            return 0.0, np.zeros_like(p)  # flat: the minimiser alone cannot move

        def loss(self, p, lam):
            return 0.0

        def H(self, p, lam):
            return np.zeros_like(p)

        def accept(self, p, lam):
            return self.n_violations(p, lam) == 0

        def n_violations(self, p, lam):
            return int(np.sum(self.A @ p <= 1.0))

        def violations(self, p, lam):
            bad = self.A @ p <= 1.0
            return 2.0 - self.A[bad] @ p, self.A[bad]

    pb = Linear()
    res, _ = _correct(pb, np.zeros(20), "gd", min_maxiter=50, min_gtol=1e-300, min_active_set=10)
    assert res.code is CorrectorCode.converged and pb.accept(res.y[:-1], 0.0)
    off, _ = _correct(pb, np.zeros(20), "gd", min_maxiter=50, min_gtol=1e-300, min_active_set=0,
                      min_exit_ratio=math.inf)
    assert not pb.accept(off.y[:-1], 0.0)


# -- the step controller's memory -------------------------------------------------------------

def _minimiser_result(accept, n_iters=20):
    code = CorrectorCode.converged if accept else CorrectorCode.max_iters
    return CorrectorResult(code, np.zeros(2), n_iters, 0.0, np.nan)


def _run_controller(memory, n_attempts=60, ds_ok=0.3):
    """Steps pass iff ds <= ds_ok; returns (accepted, rejected) over n_attempts."""
    o = TrackerOptions(grow_after=1, min_maxiter=150, max_ds=1.0, min_ds=1e-4, initial_ds=0.25, step_memory=memory)
    ctl = StepController(o)

    class Minimiser:
        minimises = True

    ctl.bind(Minimiser())
    ds, n_cons, n_acc = 0.25, 0, 0
    for _ in range(n_attempts):
        d = ctl.adapt(ds, _minimiser_result(ds <= ds_ok), StepGuards(), n_cons)
        n_acc += d.accept
        ds, n_cons = d.ds, d.n_consecutive
    return n_acc, n_attempts - n_acc


def test_memory_ends_the_accept_reject_alternation():
    acc_plain, rej_plain = _run_controller(memory=False)
    acc_mem, rej_mem = _run_controller(memory=True)
    assert rej_plain >= acc_plain - 1  # doubling after each success: every other attempt fails
    assert rej_mem <= 6 and acc_mem >= 54


def test_no_growth_straight_after_a_rejection():
    o = TrackerOptions(grow_after=1, max_ds=1.0, initial_ds=0.25, step_memory=True)
    ctl = StepController(o, uses_contraction=False)
    d = ctl.adapt(0.5, _minimiser_result(False), StepGuards(), 3)
    assert not d.accept and d.ds == pytest.approx(0.25)
    d = ctl.adapt(0.25, _minimiser_result(True), StepGuards(), d.n_consecutive)
    assert d.accept and 0.25 <= d.ds < 0.5  # grows only part of the way back to the failed 0.5


def test_expensive_success_holds_and_early_exit_shrinks_by_its_prediction():
    o = TrackerOptions(grow_after=1, min_maxiter=100, max_ds=1.0, initial_ds=0.25, step_memory=False)
    ctl = StepController(o)

    class Minimiser:
        minimises = True

    ctl.bind(Minimiser())
    held = ctl.adapt(0.25, _minimiser_result(True, n_iters=80), StepGuards(), 0)
    assert held.accept and held.ds == pytest.approx(0.25)
    grown = ctl.adapt(0.25, _minimiser_result(True, n_iters=10), StepGuards(), 0)
    assert grown.ds == pytest.approx(0.5)
    gave_up = CorrectorResult(CorrectorCode.max_iters, np.zeros(2), 30, 0.0, np.nan, 400.0)
    d = ctl.adapt(0.25, gave_up, StepGuards(), 0)
    assert not d.accept and d.reason is RejectReason.max_iters
    assert d.ds == pytest.approx(0.125)  # sqrt(100/400) = 0.5, within [shrink², shrink]
    hopeless = CorrectorResult(CorrectorCode.max_iters, np.zeros(2), 30, 0.0, np.nan, math.inf)
    assert ctl.adapt(0.25, hopeless, StepGuards(), 0).ds == pytest.approx(0.25 * 0.25)


class Wall(Problem):
    """A gradient homotopy whose steps longer than 0.2 in λ fail: wasted work is counted."""

    name = "wall"
    is_gradient = True
    lam_start, lam_end = 0.0, 1.0

    def loss_and_grad(self, p, lam):
        return 0.5 * float((p - lam) @ (p - lam)), p - lam

    def loss(self, p, lam):
        return self.loss_and_grad(p, lam)[0]

    def H(self, p, lam):
        return p - lam

    def start(self):
        from pathtrack.problem import StartPoint
        return StartPoint(np.zeros(3), 0.0)

    def accept(self, p, lam):
        return True


def test_tracker_counts_wasted_gradients_and_rejections():
    import pathtrack.corrector as C

    class Limited(C.MinimizationCorrector):
        """Fails steps longer than 0.2 after spending 5 gradients."""

        def correct(self, system, y_pred, b, c, max_iters=None):
            if abs(c - self.last) > 0.2 + 1e-12:
                for _ in range(5):
                    system.loss_and_grad(y_pred[:-1], c)
                return CorrectorResult(CorrectorCode.max_iters, y_pred, 5, 1.0, np.nan)
            self.last = c
            return super().correct(system, y_pred, b, c, max_iters)

    results = {}
    for memory in (False, True):
        o = TrackerOptions(parameterisation="natural", predictor="constant", corrector="lbfgs", initial_ds=0.1,
                           max_ds=1.0, grow_after=1, step_memory=memory)
        corr = Limited(o)
        corr.last = 0.0
        recorder = Recorder()
        tracker = Tracker(Wall(), o, corrector=corr, observers=[recorder])
        tracker.track()
        r = recorder.result(tracker, 0.0)
        assert r.status is Status.success
        results[memory] = r
        assert r.counters["n_wasted_grad_evals"] == 5 * r.n_rejected
    assert results[True].n_rejected < results[False].n_rejected


@pytest.fixture(scope="module")
def deng_cache(tmp_path_factory):
    """One p0 cache for both correctors: the network is pretrained once."""
    return str(tmp_path_factory.mktemp("deng-cache"))


@pytest.mark.slow
@pytest.mark.parametrize("corrector", ["lm", "newton-cg"])
def test_deng_plugin_reaches_verified_100_percent_with_second_order_correctors(corrector, data_dir, deng_cache,
                                                                                monkeypatch):
    from pathtrack import track
    from pathtrack_problems.deng import DengMNIST

    monkeypatch.setenv("PATHTRACK_CACHE", deng_cache)
    pb = DengMNIST(hidden=32, subset=2000, seed=0, pretrain_epochs=5, test=False, corrector=corrector)
    assert pb.pr0 < 1.0
    r = track(pb, krylov_maxiter=20)
    assert r.status is Status.success, (r.status, r.end_reason)
    assert pb.verify(r.p_end) == 1.0
    key = "n_gnvp_evals" if corrector == "lm" else "n_jvp_evals"
    assert r.counters[key] > 0


def test_lbfgs_memory_is_an_option():
    """``min_memory`` is L-BFGS's history: on a 30-variable quadratic a longer one needs fewer gradients."""
    pb = Quadratic()
    counts = {}
    for m in (5, 30):
        res, c = _correct(pb, np.zeros(30), "lbfgs", min_maxiter=2000, min_memory=m)
        assert res.code is CorrectorCode.converged, res
        np.testing.assert_allclose(res.y[:-1], pb.c, atol=1e-5)
        counts[m] = c["n_grad_evals"]
    assert counts[30] < counts[5]
    with pytest.raises(OptionsError, match="min_memory must be a positive integer"):
        TrackerOptions(min_memory=0)


class MovingQuadratic(Quadratic):
    """``½ (p − c − λe)ᵀ A (p − c − λe)``: the same curvature at every λ, the minimiser moving with λ."""

    name = "moving-quadratic"
    lam_start, lam_end = 0.0, 1.0

    def __init__(self, n=12, **params):
        super().__init__(n, **params)
        self.e = np.random.default_rng(2).standard_normal(n)

    def loss_and_grad(self, p, lam):
        d = p - self.c - lam * self.e
        return 0.5 * float(d @ self.A @ d), self.A @ d

    def loss(self, p, lam):
        return self.loss_and_grad(p, lam)[0]

    def H(self, p, lam):
        return self.A @ (p - self.c - lam * self.e)

    def jvp(self, p, lam, v):
        return self.A @ v

    def dH_dlam(self, p, lam):
        return -self.A @ self.e

    def start(self):
        from pathtrack.problem import StartPoint
        return StartPoint(self.c.copy(), 0.0)


def test_lbfgs_carried_memory_is_opt_in_and_saves_iterations_at_the_next_lambda():
    """``min_carry_memory``: the pairs of an accepted correction start the next one (fewer
    iterations at λ + Δλ than from an empty memory); a rejected one's are dropped unless 'all'.
    Off by default, where the corrector keeps no pairs (scipy's L-BFGS-B, unchanged)."""
    assert TrackerOptions().min_carry_memory == "off"
    with pytest.raises(OptionsError, match="min_carry_memory must be one of"):
        TrackerOptions(min_carry_memory="yes")
    pb = MovingQuadratic()
    e_lam = np.zeros(pb.c.size + 1)
    e_lam[-1] = 1.0

    def two_corrections(carry, accepted=True, fresh=False):
        o = TrackerOptions(corrector="lbfgs", min_maxiter=500, min_gtol=1e-8, min_memory=20, min_carry_memory=carry)
        system = RealSystem(pb, pb.c.size)
        corr = make_corrector(o, system)
        first = corr.correct(system, np.append(np.zeros(pb.c.size), 0.0), e_lam, 0.0)
        corr.end_step(accepted)
        kept = len(corr._pairs)
        if fresh:
            corr._pairs = []
        second = corr.correct(system, np.append(first.y[:-1], 0.1), e_lam, 0.1)
        assert first.code is second.code is CorrectorCode.converged
        np.testing.assert_allclose(second.y[:-1], pb.c + 0.1 * pb.e, atol=1e-6)
        return kept, second.n_iters

    kept_off, _ = two_corrections("off")
    assert kept_off == 0
    kept, warm = two_corrections("accepted")
    _, cold = two_corrections("accepted", fresh=True)
    assert kept > 0 and warm < 0.5 * cold, (warm, cold)
    assert two_corrections("accepted", accepted=False) == (0, cold)  # a rejection drops its pairs
    assert two_corrections("all", accepted=False) == (kept, warm)    # unless 'all' keeps them


def test_tracker_tells_the_corrector_which_steps_were_accepted():
    """Tracked with a carried memory, a gradient homotopy keeps the pairs of its accepted steps
    and spends fewer gradients than the same L-BFGS with a fresh memory at every step."""
    import pathtrack.corrector as C

    class Forgetful(C.MinimizationCorrector):
        def end_step(self, accepted):
            self._pairs = []

    grads = {}
    for cls in (C.MinimizationCorrector, Forgetful):
        o = TrackerOptions(parameterisation="natural", predictor="constant", corrector="lbfgs", initial_ds=0.125,
                           max_ds=0.125, min_gtol=1e-8, min_memory=20, min_carry_memory="accepted",
                           eig_diagnostics="off")
        corr = cls(o)
        recorder = Recorder()
        tracker = Tracker(MovingQuadratic(), o, corrector=corr, observers=[recorder])
        tracker.track()
        r = recorder.result(tracker, 0.0)
        assert r.status is Status.success and r.n_accepted == 8
        assert (len(corr._pairs) > 0) == (cls is C.MinimizationCorrector)
        grads[cls] = r.counters["n_grad_evals"]
    assert grads[C.MinimizationCorrector] < 0.5 * grads[Forgetful], grads
