"""The other λ-families of deng-mnist (margin, temperature, width): derivatives, and small runs to a verified 100% PR."""

import numpy as np
import pytest

from pathtrack import ProblemError, Status, track
from pathtrack.nn import LossFunction, Network
from pathtrack_problems.deng import DengMNIST
from pathtrack_problems.deng.families import FocusFamily, MarginFamily, TemperatureFamily, WidthFamily

TINY = dict(hidden=16, activation="switch", subset=600, seed=0, pretrain_epochs=5, test=False)


def _toy(n_hidden=6, n=60, seed=0):
    rng = np.random.default_rng(seed)
    net = Network([8, n_hidden, 3], activation="switch", dtype="float64")
    X, y = rng.random((n, 8)), rng.integers(0, 3, n)
    return net, X, y, rng.standard_normal(net.n_params)


def _check_derivatives(fam, p, lam, rng):
    v = rng.standard_normal(p.size)
    h = 1e-6
    f, g = fam.loss_and_grad(p, lam)
    fd = (fam.loss(p + h * v, lam) - fam.loss(p - h * v, lam)) / (2 * h)
    assert g @ v == pytest.approx(fd, rel=1e-5, abs=1e-8)
    Hv = fam.hvp(p, lam, v)
    fd2 = (fam.loss_and_grad(p + h * v, lam)[1] - fam.loss_and_grad(p - h * v, lam)[1]) / (2 * h)
    np.testing.assert_allclose(Hv, fd2, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("lam", [0.0, 0.4, 1.0])
def test_family_gradients_and_hvps_match_finite_differences(lam):
    rng = np.random.default_rng(1)
    net, X, y, p = _toy()
    _check_derivatives(MarginFamily(net, X, y, p, kappa=0.5), p, lam, rng)
    _check_derivatives(TemperatureFamily(net, X, y, p, tau_start=1.0, tau_end=0.1), p, lam, rng)
    _check_derivatives(WidthFamily(net, X, y, p, n_drop=2, kappa=0.5), p, lam, rng)
    _check_derivatives(FocusFamily(net, X, y, p, kappa=0.5, weight=30.0), p, lam, rng)


def test_width_family_at_lambda_one_is_the_narrow_network():
    net, X, y, p = _toy(n_hidden=7)
    fam = WidthFamily(net, X, y, p, n_drop=3, kappa=0.5)
    assert fam.drop.size == 3 and fam.keep.size == 4 and not set(fam.drop) & set(fam.keep)
    q = fam.params_of(p)
    narrow = Network([8, 4, 3], activation="switch", dtype="float64")
    z_narrow = LossFunction(narrow, X, y).logits(q)
    z_wide = LossFunction(net, X, y).logits(fam.effective_params(p, 1.0))
    np.testing.assert_allclose(z_narrow, z_wide, rtol=1e-12, atol=1e-12)
    # the dropped neurons get no gradient at λ = 1: they have left the network
    g = fam.loss_and_grad(p, 1.0)[1]
    assert np.all(net.weights(g, 1)[fam.drop, :] == 0.0)


def test_acceptance_passes_at_the_start_and_means_100_percent_at_the_end():
    net, X, y, p = _toy()
    n_wrong0 = int(np.sum(LossFunction(net, X, y).margins(p) <= 0))
    assert n_wrong0 > 0
    for fam in (MarginFamily(net, X, y, p, kappa=0.5), TemperatureFamily(net, X, y, p, tau_start=1, tau_end=0.1),
                WidthFamily(net, X, y, p, n_drop=1, kappa=0.5), FocusFamily(net, X, y, p, kappa=0.5, weight=10)):
        assert fam.all_correct(p, 0.0)
        assert not fam.all_correct(p, 1.0)  # p errs: at λ = 1 only 100% PR passes
    assert MarginFamily(net, X, y, p, kappa=0.5).threshold(1.0) == 0.0
    assert TemperatureFamily(net, X, y, p, tau_start=1, tau_end=0.1).budget(0.5) == n_wrong0 // 2


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory, data_dir):
    import os
    old = os.environ.get("PATHTRACK_CACHE")
    os.environ["PATHTRACK_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        del os.environ["PATHTRACK_CACHE"]
    else:
        os.environ["PATHTRACK_CACHE"] = old


def test_focus_family_weighs_p0s_hard_images_by_lambda():
    net, X, y, p = _toy()
    m0 = LossFunction(net, X, y).margins(p)
    fam = FocusFamily(net, X, y, p, kappa=0.5, weight=41.0, hard_margin=0.2)
    np.testing.assert_array_equal(fam.hard, np.flatnonzero(m0 <= 0.2))
    assert 0 < fam.hard.size < y.size
    w = fam._weights(0.25)
    assert np.all(w[fam.hard] == 11.0) and np.sum(w == 1.0) == y.size - fam.hard.size
    # at λ the loss is the hinge loss with those weights, i.e. plain hinge + (c − 1)·hinge on the hard set
    plain = LossFunction(net, X, y, loss="margin", kappa=0.5, weights=np.ones(y.size))
    hard = LossFunction(net, X, y, loss="margin", kappa=0.5, subset=fam.hard, weights=np.ones(fam.hard.size))
    assert fam.loss(p, 0.25) == pytest.approx(plain.loss(p) + 10.0 * hard.loss(p), rel=1e-12)
    assert fam.loss(p, 0.0) == pytest.approx(plain.loss(p), rel=1e-12)
    with pytest.raises(ValueError, match="focus weight"):
        FocusFamily(net, X, y, p, kappa=0.5, weight=0.5)


@pytest.mark.parametrize("homotopy", ["margin", "temperature", "width", pytest.param("focus", marks=pytest.mark.slow)])
def test_each_family_reaches_a_verified_100_percent(tiny_cache, homotopy):
    pb = DengMNIST(**TINY, homotopy=homotopy, n_drop=3)
    assert pb.pr0 < 1.0
    r = track(pb)
    assert r.status is Status.success, (r.status, r.end_reason)
    assert r.lam[-1] == 1.0 and r.n_accepted >= 2
    # what the path reports at λ = 1 agrees with the recomputation from disk
    assert r.metrics["pr"][-1] == 1.0 and r.metrics["n_wrong"][-1] == 0
    assert pb.verify(r.p_end) == 1.0
    assert np.all(np.diff(r.lam) > 0) and r.counters["n_grad_evals"] > 0
    if homotopy == "width":
        assert pb.params_of(r.p_end).size == pb.net.n_params < r.p_end.size


def test_family_parameters_are_checked(tiny_cache, tmp_path):
    with pytest.raises(ProblemError, match="homotopy must be one of"):
        DengMNIST(**TINY, homotopy="depth")
    with pytest.raises(ProblemError, match="focus_weight must be >= 1"):
        DengMNIST(**TINY, homotopy="focus", focus_weight=0.1)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros(7))
    with pytest.raises(ProblemError, match="start .* holds shape"):
        DengMNIST(**TINY, start=str(bad))
