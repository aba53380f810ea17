"""Finnoff: seeded generators, tanh-network gradients, the SGD kernel, and the training methods."""

import numpy as np
import pytest

from pathtrack import Status
from pathtrack_problems.finnoff import GENERATORS, Finnoff, TanhNet, make_dataset, sgd_epochs, sgd_steps

from _scripts import load_script

_compare = load_script("docs/examples/finnoff_compare.py")
batch_gd, constant_sgd, data_homotopy, lbfgs_direct = (_compare.batch_gd, _compare.constant_sgd,
                                                       _compare.data_homotopy, _compare.lbfgs_direct)


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_seeded_and_standardised(name):
    a, b = make_dataset(name, seed=3, n_train=50, n_test=4000), make_dataset(name, seed=3, n_train=50, n_test=4000)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    c = make_dataset(name, seed=4, n_train=50)
    assert not np.allclose(a.y_train, c.y_train)
    assert a.x_train.shape == (50, 5 if name == "rbf" else 10)
    assert abs(a.y_test.mean()) < 0.1 and a.y_test.std() == pytest.approx(1.0, abs=0.1)
    clean = make_dataset(name, seed=3, n_train=50, noise=0.0)
    resid = a.y_train - clean.y_train  # the same inputs, so this is the noise
    np.testing.assert_array_equal(a.x_train, clean.x_train)
    assert resid.std() == pytest.approx(0.2, rel=0.3)


def test_generator_formulas():
    d = make_dataset("product", seed=0, n_train=30, noise=0.0)
    raw = d.x_train[:, 0] * d.x_train[:, 1] * d.x_train[:, 2]
    slope, icpt = np.polyfit(raw, d.y_train, 1)
    np.testing.assert_allclose(d.y_train, slope * raw + icpt, atol=1e-12)  # an affine standardisation of x0 x1 x2
    s = make_dataset("sines", seed=0, n_train=30, noise=0.0)
    raw = np.sin(np.pi * s.x_train[:, :5]).sum(axis=1)
    slope, icpt = np.polyfit(raw, s.y_train, 1)
    np.testing.assert_allclose(s.y_train, slope * raw + icpt, atol=1e-12)


def test_gradient_matches_finite_differences():
    pb = Finnoff(generator="rbf", n_train=40)
    p = pb.start().p + 0.3 * np.random.default_rng(0).normal(size=pb.net.n_params)
    g = pb.H(p, 0.6)
    eps = 1e-6
    fd = np.array([(pb.loss(p + eps * e, 0.6) - pb.loss(p - eps * e, 0.6)) / (2 * eps)
                   for e in np.eye(len(p))])
    np.testing.assert_allclose(g, fd, atol=1e-8)


def test_sgd_kernel_equals_per_sample_gradient_steps():
    net = TanhNet(d=4, units=3)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (7, 4)), rng.normal(size=7)
    p0 = net.init(rng) + 0.1
    got = sgd_epochs(net, p0, x, y, 0.05, 2, np.random.default_rng(9))
    ref, order_rng = p0.copy(), np.random.default_rng(9)
    for _ in range(2):
        for i in order_rng.permutation(7):
            ref -= 0.05 * net.loss_and_grad(ref, x[i:i + 1], y[i:i + 1])[1]
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_training_methods_from_the_same_start():
    pb = Finnoff(generator="teacher", n_train=80, seed=2)
    p0 = pb.start().p
    init = pb.metrics(p0, 1.0)["train_mse"]
    gd = batch_gd(pb, p0, lr=0.5, epochs=300)
    sgd = constant_sgd(pb, p0, lr=0.01, epochs=100, seed=0)
    hom = data_homotopy(pb, p0)
    direct = lbfgs_direct(pb, p0)
    for r in (gd, sgd, hom, direct):
        assert r.train_mse < 0.5 * init, r
        assert np.isfinite(r.test_mse)
    assert hom.note == ""  # the path reached lam = 1
    assert np.max(np.abs(pb.H(hom.p, 1.0))) <= 1e-4  # the corrector's tolerance at the end
    assert hom.grad_evals > 0 and gd.grad_evals == 300


def test_homotopy_path_is_tracked_by_the_engine():
    from pathtrack import track
    pb = Finnoff(generator="sines", n_train=60, seed=1)
    r = track(pb)
    assert r.status is Status.success and r.lam_end == 1.0
    assert r.metrics["train_mse"].shape == r.lam.shape
    assert np.all(np.diff(r.lam) > 0)


def test_registered_as_plugin():
    from pathtrack.registry import make_problem
    pb = make_problem("finnoff", generator="product", n_train=20)
    assert isinstance(pb, Finnoff) and pb.net.n_params == 10 * 10 + 21


def test_sample_grads_average_to_the_batch_gradient_and_hessian_matches_directional_differences():
    net = TanhNet(d=3, units=4)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (25, 3)), rng.normal(size=25)
    p = net.init(rng) + 0.2 * rng.normal(size=net.n_params)
    G = net.sample_grads(p, x, y)
    np.testing.assert_allclose(G.mean(axis=0), net.loss_and_grad(p, x, y)[1], atol=1e-14)
    for i in (0, 7):
        np.testing.assert_allclose(G[i], net.loss_and_grad(p, x[i:i + 1], y[i:i + 1])[1], atol=1e-14)
    H = net.hessian(p, x, y)
    np.testing.assert_array_equal(H, H.T)
    v = rng.normal(size=net.n_params)
    eps = 1e-4  # a second, independent difference: the gradient's change along v to O(eps²)
    hv = (net.loss_and_grad(p + eps * v, x, y)[1] - net.loss_and_grad(p - eps * v, x, y)[1]) / (2 * eps)
    np.testing.assert_allclose(H @ v, hv, rtol=1e-5, atol=1e-7)


def test_sgd_steps_take_the_given_samples_in_turn_with_replacement():
    net = TanhNet(d=2, units=3)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-1, 1, (6, 2)), rng.normal(size=6)
    p0 = net.init(rng)
    order = np.array([2, 2, 5, 0, 2])
    ref = p0.copy()
    for i in order:
        ref -= 0.1 * net.loss_and_grad(ref, x[i:i + 1], y[i:i + 1])[1]
    np.testing.assert_allclose(sgd_steps(net, p0, x, y, 0.1, order), ref, rtol=1e-12, atol=1e-14)


def test_stable_gd_stays_below_two_over_lambda_max_and_armijo_descends():
    pb = Finnoff(generator="teacher", n_train=60, seed=1)
    p0 = pb.start().p
    lam = _compare.lambda_max(pb, p0)[0]
    eigs = np.linalg.eigvalsh(pb.net.hessian(p0, pb.data.x_train, pb.data.y_train))
    assert lam == pytest.approx(np.abs(eigs).max(), rel=1e-3)  # power iteration against the dense spectrum
    gd = _compare.gd_stable(pb, p0, budget=2000, check=200)
    assert float(gd.note.split("=")[1]) < 2.0 and gd.grad_evals >= 2000
    arm = _compare.gd_armijo(pb, p0, budget=500)
    init = pb.loss(p0, 1.0)
    assert pb.loss(arm.p, 1.0) < 0.5 * init and arm.grad_evals == 500
    verdict = _compare.classify(pb, _compare.lbfgs_direct(pb, p0, gtol=1e-8, maxiter=5000).p)
    assert verdict["verdict"] == "local minimum" and verdict["eig_min"] > -1e-6 * verdict["eig_max"]
    assert _compare.classify(pb, p0)["verdict"] == "not converged"


def test_paired_statistics_against_a_closed_form():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 1.5, 2.0, 4.5])
    got = _compare.paired(a, b)
    d = a - b
    half = 3.182446305284263 * d.std(ddof=1) / 2  # t_{0.975, 3}
    assert got["mean"] == pytest.approx(d.mean()) and got["hi"] - got["mean"] == pytest.approx(half)
    assert got["wins"] == 1 and 0 < got["p"] <= 1
