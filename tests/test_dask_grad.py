"""Full-batch losses sharded over dask workers give the single-process answers (pathtrack.nn.distributed)."""

import subprocess
import sys

import numpy as np
import pytest

from pathtrack import ProblemError, track
from pathtrack.datasets import load_mnist
from pathtrack.nn import LossFunction, Network
from pathtrack.nn.distributed import SchedulerError, ShardedLossFunction, connect

distributed = pytest.importorskip("distributed")  # the test extra installs it; the option is optional


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers in this process (worker processes take seconds to start)."""
    from pathtrack.nn import distributed as nn_distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as c:
        yield c.scheduler_address
        nn_distributed._close_clients()  # the clients connect() opened to this cluster


@pytest.fixture(scope="module")
def mnist(data_dir):
    data = load_mnist("train", data_dir=data_dir, subset=400, seed=0)
    return data.X.astype(np.float64), data.y


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("loss", ["cross_entropy", "margin"])
def test_sharded_loss_gradient_hvp_gnvp_equal_single_process(cluster, mnist, loss):
    X, y = mnist
    rng = np.random.default_rng(0)
    net = Network([784, 20, 10], activation="switch", dtype=np.float64)
    p = net.init_params("glorot", seed=1) + 0.05 * rng.standard_normal(net.n_params)
    v = rng.standard_normal(net.n_params)
    w = rng.random(y.size)
    ref = LossFunction(net, X, y, loss=loss, kappa=0.5, weights=w)
    sh = ShardedLossFunction(net, X, y, client=cluster, loss=loss, kappa=0.5, weights=w)
    assert len(set(sh.workers)) == 2 and sh.n_samples == 400
    f0, g0 = ref.loss_and_grad(p)
    f1, g1 = sh.loss_and_grad(p)
    assert abs(f1 - f0) <= 1e-10 * abs(f0) and _rel(g1, g0) <= 1e-10
    assert abs(sh.loss(p) - f0) <= 1e-10 * abs(f0)
    assert _rel(sh.hvp(p, v), ref.hvp(p, v)) <= 1e-10
    assert _rel(sh.gnvp(p, v), ref.gnvp(p, v)) <= 1e-10
    # per-sample outputs come back in row order
    assert _rel(sh.margins(p), ref.margins(p)) <= 1e-10 and sh.accuracy(p) == ref.accuracy(p)
    assert _rel(sh.per_sample_losses(p), ref.per_sample_losses(p)) <= 1e-10
    idx = np.array([399, 0, 200, 199, 57])
    for a, b in zip(sh.rows(idx), ref.rows(idx)):
        np.testing.assert_array_equal(a, b)
    # state changes reach every shard: weights, margin, temperature
    sh.set_weights(None)
    ref.set_weights(None)
    sh.kappa = ref.kappa = 2.0
    ref.set_weights(None)  # LossFunction's own kappa needs its cached pass dropped
    sh.set_temperature(3.0)
    ref.set_temperature(3.0)
    assert abs(sh.loss(p) - ref.loss(p)) <= 1e-10 * abs(ref.loss(p))
    assert _rel(sh.grad(p), ref.grad(p)) <= 1e-10
    # the same sum, term by term, on every call
    assert np.array_equal(sh.grad(p), sh.grad(p))


@pytest.mark.slow  # a deng-mnist run twice (8-14 s under load)
def test_deng_run_with_scheduler_takes_the_same_steps(cluster, data_dir, tmp_path, monkeypatch):
    from pathtrack_problems.deng import DengMNIST

    monkeypatch.setenv("PATHTRACK_CACHE", str(tmp_path))
    # Levenberg–Marquardt: gradients and Gauss–Newton products; the first steps of the data homotopy
    tiny = dict(hidden=32, subset=600, seed=0, pretrain_epochs=5, test=False, dtype="float64", corrector="lm")
    local_pb = DengMNIST(**tiny)
    local = track(local_pb, max_steps=2)
    pb = DengMNIST(**tiny, scheduler=cluster)
    assert isinstance(pb.homotopy.fixed, ShardedLossFunction)
    remote = track(pb, max_steps=2)
    assert remote.status is local.status and remote.n_accepted == local.n_accepted == 2
    assert remote.n_rejected == local.n_rejected and remote.counters == local.counters
    np.testing.assert_allclose(remote.lam, local.lam, rtol=1e-12)
    np.testing.assert_array_equal(remote.metrics["n_wrong"], local.metrics["n_wrong"])
    np.testing.assert_allclose(remote.p_end, local.p_end, rtol=1e-6, atol=1e-8)
    assert remote.metrics["pr"][-1] == 1.0  # on D_λ, at the last accepted λ
    # the active-set stage's rows: the violators' margins and gradients, fetched from their shards
    p = local.p_end  # at λ = 1 a few of the moving images are still wrong
    (gap0, J0), (gap1, J1) = local_pb.violations(p, 1.0), pb.violations(p, 1.0)
    assert gap0.size == pb.n_violations(p, 1.0) > 0
    np.testing.assert_allclose(gap1, gap0, rtol=1e-12)
    np.testing.assert_allclose(J1, J0, rtol=1e-12, atol=1e-15)


def test_train_with_scheduler_gives_the_single_process_curves(cluster, mnist):
    from pathtrack.nn.train import train

    X, y = mnist
    net = Network([784, 16, 10], dtype=np.float64)
    kw = dict(optimizer="adam", lr=1e-2, epochs=3, batch_size=None, seed=0, progress=False)
    local = train(net, X, y, **kw)
    remote = train(net, X, y, scheduler=cluster, **kw)
    np.testing.assert_allclose(remote.loss, local.loss, rtol=1e-10)
    np.testing.assert_array_equal(remote.pr, local.pr)
    np.testing.assert_allclose(remote.p, local.p, rtol=1e-8, atol=1e-12)


def test_bad_scheduler_is_a_one_line_error(data_dir, monkeypatch):
    from click.testing import CliRunner

    from pathtrack.cli import main
    from pathtrack_problems.deng import DengMNIST

    r = CliRunner().invoke(main, ["train", "mnist", "--subset", "100", "--scheduler", "local:two"])
    assert r.exit_code == 2 and "expected local:N" in r.output and "Traceback" not in r.output
    with pytest.raises(ProblemError, match="is not an address"):
        DengMNIST(hidden=8, subset=100, scheduler="no such host")
    with pytest.raises(SchedulerError, match="unknown address scheme"):
        connect("ftp://example.org:8786")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(SchedulerError, match="needs the 'distributed' package"):
        connect("tcp://127.0.0.1:8786")


def test_pathtrack_nn_does_not_import_distributed():
    code = ("import sys, pathtrack, pathtrack.nn, pathtrack.nn.train, pathtrack.nn.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
