"""Conventional training (Adam, SGD), its HDF5 files and the ``pathtrack train`` command."""

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack.cli import main
from pathtrack.datasets import load_mnist
from pathtrack.nn import Network
from pathtrack.nn.train import load_result, save_result, train


@pytest.fixture(scope="module")
def mnist2000(data_dir):
    return load_mnist("train", data_dir=data_dir, subset=2000, seed=0)


def test_adam_switch_reaches_high_training_pr(mnist2000):
    net = Network([784, 32, 10], "switch")
    result = train(net, mnist2000.X, mnist2000.y, optimizer="adam", lr=1e-2, batch_size=100, epochs=10, seed=0)
    # measured: PR 0.088 at the start, 0.985 after 10 epochs (float32 and float64 alike), ~0.4 s
    assert result.pr[0] < 0.2
    assert result.pr[-1] >= 0.975
    assert result.loss[-1] < 0.25 * result.loss[0]
    assert result.epoch.tolist() == list(range(11)) and result.wall_time.shape == (11,)
    assert result.config["n_steps"] == 10 * 20


def test_training_is_seeded(mnist2000):
    X, y = mnist2000.X[:300], mnist2000.y[:300]
    runs = [train(Network([784, 8, 10], "relu", dtype=np.float32), X, y, lr=1e-2, batch_size=32, epochs=2, seed=s)
            for s in (1, 1, 2)]
    assert np.array_equal(runs[0].p, runs[1].p)
    assert not np.array_equal(runs[0].p, runs[2].p)


@pytest.mark.parametrize("batch_size, lr, epochs", [(None, 0.5, 10), (64, 0.2, 5)])
def test_sgd_momentum_lowers_the_loss(mnist2000, batch_size, lr, epochs):
    X, y = mnist2000.X[:500], mnist2000.y[:500]
    result = train(Network([784, 16, 10], "tanh"), X, y, optimizer="sgd", lr=lr, momentum=0.9,
                   batch_size=batch_size, epochs=epochs, init="uniform", init_scale=0.1, seed=0)
    assert result.config["batch_size"] == (0 if batch_size is None else 64)
    assert result.loss[-1] < 0.7 * result.loss[0]
    assert result.pr[-1] > result.pr[0] + 0.3


def test_bad_training_arguments(mnist2000):
    net = Network([784, 4, 10])
    with pytest.raises(ValueError, match="optimizer must be one of sgd, adam"):
        train(net, mnist2000.X, mnist2000.y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr must be a positive number"):
        train(net, mnist2000.X, mnist2000.y, lr=-1.0)
    with pytest.raises(ValueError, match="p0 must have shape"):
        train(net, mnist2000.X, mnist2000.y, p0=np.zeros(3))


def test_save_and_load_round_trip(mnist2000, tmp_path):
    net = Network([784, 8, 10], "switch", temperature=3.0)
    result = train(net, mnist2000.X[:200], mnist2000.y[:200], epochs=1, batch_size=50, X_test=mnist2000.X[:50],
                   y_test=mnist2000.y[:50])
    path = tmp_path / "run.h5"
    save_result(path, result, attrs={"dataset": "mnist"})
    with pytest.raises(FileExistsError, match="run.h5 exists"):
        save_result(path, result)
    back = load_result(path)
    assert back.net.widths == [784, 8, 10] and back.net.activation == "switch" and back.net.temperature == 3.0
    assert np.array_equal(back.p, result.p) and np.array_equal(back.pr, result.pr)
    assert np.array_equal(back.test_pr, result.test_pr)
    assert back.config["optimizer"] == "adam" and back.config["dataset"] == "mnist"
    save_result(path, result, force=True)


def test_cli_train_writes_file_and_refuses_overwrite(data_dir, tmp_path):
    out = tmp_path / "cli.h5"
    args = ["train", "mnist", "--hidden", "16", "--epochs", "4", "--subset", "500", "--lr", "0.01",
            "--batch-size", "50", "--seed", "3", "--data-dir", str(data_dir), "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("network   [784, 16, 10] switch")
    assert lines[-1] == f"written   {out}"
    final_pr = float(lines[-2].split()[2])
    assert final_pr > 0.8  # measured 0.872
    with h5py.File(out) as f:
        assert f.attrs["format"] == "pathtrack-train" and json.loads(f.attrs["config"])["subset"] == 500
        assert f["curves/pr"].shape == (5,) and f["curves/pr"][-1] == pytest.approx(final_pr, abs=1e-4)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert again.output.strip() == f"Error: {out} exists; use --force to overwrite it"
    assert CliRunner().invoke(main, args + ["--force", "--epochs", "0"]).exit_code == 0


def test_cli_train_user_errors(tmp_path):
    bad = CliRunner().invoke(main, ["train", "mnist", "--hidden", "10,x"])
    assert bad.exit_code == 2 and "--hidden expects comma-separated integers" in bad.output
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"not the file")
    broken = CliRunner().invoke(main, ["train", "mnist", "--data-dir", str(tmp_path), "--epochs", "1"])
    assert broken.exit_code == 2
    assert len(broken.output.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte.gz: md5" in broken.output
