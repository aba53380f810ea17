"""HTA plugin: derivatives against finite differences, the paper's n = 2 table row, the CLI one-start run."""

import itertools
import json

import autograd.numpy as anp
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack.cli import main
from pathtrack.driver import track
from pathtrack.problem import ProblemError
from pathtrack.events import hessian_spectrum
from pathtrack_problems.hta import HTAProblem, HTATestFunction, bfgs_start, hta_solve, hta_start, make_split
from pathtrack_problems.hta.kernels import tf_grad, tf_hess, tf_value

from _scripts import load_script

RNG = np.random.default_rng(12345)


def fd_grad(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def fd_jac(g, x, h=1e-6):
    return np.column_stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def paper_f(x, k=10.0, A=1.0):
    """The test function written out independently of the kernels (autograd-able)."""
    n = x.shape[0]
    y = 1 + (x - 1) / 4
    return anp.pi / n * (k * anp.sin(anp.pi * y[0]) ** 2
                         + anp.sum((y[:-1] - A) ** 2 * (1 + k * anp.sin(anp.pi * y[1:]) ** 2)) + (y[-1] - A) ** 2)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_tf_value_gradient_hessian_against_finite_differences(n):
    for x in RNG.uniform(-10, 10, size=(5, n)):
        f = lambda z: tf_value(z, 10.0, 1.0)  # noqa: E731
        assert f(x) == pytest.approx(paper_f(x), rel=1e-13)
        np.testing.assert_allclose(tf_grad(x, 10.0, 1.0), fd_grad(f, x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(tf_hess(x, 10.0, 1.0), fd_jac(lambda z: tf_grad(z, 10.0, 1.0), x),
                                   rtol=1e-6, atol=1e-6)
    assert tf_value(np.ones(n), 10.0, 1.0) == pytest.approx(0.0, abs=1e-30)
    np.testing.assert_allclose(tf_grad(np.ones(n), 10.0, 1.0), 0.0, atol=1e-14)


@pytest.mark.parametrize("split", ["halves", "alternate", "random"])
def test_coupled_homotopy_derivatives_against_finite_differences(split):
    pb = HTATestFunction(n=3, split=split, seed=3, anchor=0.5)
    for lam in (0.0, 0.37, 1.0):
        p = RNG.uniform(-4, 4, 6)
        np.testing.assert_allclose(pb.H(p, lam), fd_grad(lambda q: pb.loss(q, lam), p), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(pb.dH_dp(p, lam), fd_jac(lambda q: pb.H(q, lam), p), rtol=1e-6, atol=1e-5)
        dlam = (pb.H(p, lam + 1e-6) - pb.H(p, lam - 1e-6)) / 2e-6
        np.testing.assert_allclose(pb.dH_dlam(p, lam), dlam, rtol=1e-5, atol=1e-5)
        v = RNG.standard_normal(6)
        np.testing.assert_allclose(pb.jvp(p, lam, v), pb.dH_dp(p, lam) @ v, rtol=1e-12, atol=1e-12)
    assert pb.L(0.0) == pytest.approx(100.0) and pb.L(1.0) == pytest.approx(0.01) and pb.L(0.5) == pytest.approx(1.0)


def test_autograd_default_matches_analytic_derivatives():
    analytic = HTATestFunction(n=3, anchor=0.0)
    auto = HTAProblem(paper_f, 3, anchor=0.0)
    p = RNG.uniform(-4, 4, 6)
    np.testing.assert_allclose(auto.H(p, 0.3), analytic.H(p, 0.3), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(auto.dH_dp(p, 0.3), analytic.dH_dp(p, 0.3), rtol=1e-11, atol=1e-11)
    v = RNG.standard_normal(6)
    auto.hess = None  # the Hessian-vector product path (large problems)
    np.testing.assert_allclose(auto.jvp(p, 0.3, v), analytic.jvp(p, 0.3, v), rtol=1e-11, atol=1e-11)


def test_splits():
    np.testing.assert_array_equal(make_split(5, "halves"), [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(make_split(5, "alternate"), [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(make_split(6, "layers", blocks=[2, 3, 1]), [1, 1, 0, 0, 0, 0])
    r = make_split(10, "random", seed=7)
    assert r.sum() == 5 and np.array_equal(r, make_split(10, "random", seed=7))
    assert not np.array_equal(r, make_split(10, "random", seed=8))
    with pytest.raises(ProblemError, match="leaves"):
        make_split(4, [True] * 4)
    with pytest.raises(ProblemError, match="split must be"):
        make_split(4, "thirds")


def test_all_36_starts_of_n2_reach_the_global_minimum_and_bfgs_finds_24():
    pb = HTATestFunction(n=2)
    starts = [np.array(s, float) for s in itertools.product(range(6), repeat=2)]
    results = [hta_solve(pb, s) for s in starts]
    assert all(r.success for r in results)
    for r in results:
        np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-6)
        assert r.f < 1e-12
        assert r.lam[-1] == 1.0
        assert r.max_hess_index == 0  # every accepted point is a minimum of F (not a saddle)
        assert np.all(np.diff(r.metrics["L"]) <= 0)  # L decreases monotonically, 100 -> 0.01
        assert r.metrics["L"][-1] == pytest.approx(0.01)
    assert sum(r.n_jumps > 0 for r in results) > 0  # some paths pass a fold by an L-BFGS jump
    assert sum(bfgs_start(s)["global"] for s in starts) == 24  # the paper's quasi-Newton count


def test_hta_start_summary_is_plain_data():
    out = hta_start(np.array([5.0, 0.0]))
    assert out["global"] and out["status"] == "success" and out["n_grad_evals"] > 0
    json.dumps({k: v for k, v in out.items() if k != "x"})


def test_path_metrics_record_gap_hessian_index_and_work():
    pb = HTATestFunction(n=2, start=[0.0, 3.0])  # a start whose path has no fold
    r = track(pb)
    assert r.success
    m = r.metrics
    assert set(m) >= {"L", "f_theta", "f_eta", "gap", "hess_index", "n_grad_evals", "n_hess_evals", "dist_global"}
    assert m["gap"][-1] < m["gap"][0]  # theta and eta merge as L -> L_min
    assert np.all(np.diff(m["n_grad_evals"]) > 0)
    assert hessian_spectrum(np.diag([1.0, -2.0, -3.0]))[1] == 2


def test_cli_runs_one_start():
    r = CliRunner().invoke(main, ["run", "hta-testfn", "--set", "n=4", "--set", "start=5,4,5,5", "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["status"] == "success" and s["lam_start"] == 0.0 and s["lam_end"] == 1.0
    bad = CliRunner().invoke(main, ["run", "hta-testfn", "--set", "n=4", "--set", "start=5,4"])
    assert bad.exit_code == 2 and "start has 2 values but n = 4" in bad.output


@pytest.mark.slow
def test_hta_trains_a_small_network_with_lbfgs_corrector_and_counts_its_work(data_dir):
    from pathtrack.nn import LossFunction, Network
    from pathtrack_problems.hta.network import NetworkObjective, train_hta

    bench = load_script("benchmarks/bench_hta_nn.py")
    xtr, ytr, xte, yte = bench.load_data(200, 200, data_dir)
    assert xtr.shape == (200, 784) and 0.0 <= xtr.min() and xtr.max() <= 1.0 and set(ytr) == set(range(10))
    net = Network([784, 4, 10], activation="tanh")
    f = NetworkObjective(LossFunction(net, xtr, ytr))
    w0 = net.init_params("glorot", seed=0)
    w, evals, diag = train_hta(f, w0, polish_maxiter=30, min_maxiter=100)
    assert diag["status"] == "success" and diag["gap_end"] < 1e-2  # theta and eta merged at L_min
    assert f(w) < f(w0) - 1.0 and f.loss.accuracy(w) > 0.7
    w_b, used = bench.train_lbfgs(f, w0, evals)
    assert used <= evals + 25  # scipy may overrun maxfun by a line search
    assert f.loss.accuracy(w_b) > 0.7


def test_network_objective_adds_weight_decay_to_the_loss_and_its_derivatives():
    from pathtrack.nn import LossFunction, Network
    from pathtrack_problems.hta.network import NetworkObjective

    X, y = RNG.uniform(0, 1, (12, 5)), np.arange(12) % 3
    net = Network([5, 4, 3], activation="tanh")
    loss = LossFunction(net, X, y)
    f = NetworkObjective(loss, weight_decay=0.3)
    w, v = RNG.standard_normal(net.n_params), RNG.standard_normal(net.n_params)
    assert f.n == net.n_params and f.blocks == [5 * 4 + 4, 4 * 3 + 3]
    assert f(w) == pytest.approx(loss.loss(w) + 0.3 * w @ w, rel=1e-14)
    np.testing.assert_allclose(f.grad(w), fd_grad(f, w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(f.hvp(w, v), fd_jac(f.grad, w) @ v, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="float64"):
        NetworkObjective(LossFunction(Network([5, 4, 3], dtype=np.float32), X, y))


def test_docs_example_runs(capsys):
    from pathlib import Path
    import re
    text = (Path(__file__).resolve().parents[1] / "docs" / "hta.md").read_text()
    exec(compile(re.findall(r"```python\n(.*?)```", text, re.S)[0], "hta.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("[1. 1. 1. 1.]") and out.rstrip().endswith("0 0.0")
