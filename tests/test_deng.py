"""Deng's data homotopy: CI-sized run to an independently verified 100% training PR."""

import numpy as np
import pytest

from pathtrack import Status, track
from pathtrack_problems.deng import DengMNIST, choose_partners
from pathtrack_problems.deng.homotopy import class_margins

SMALL = dict(hidden=32, activation="switch", subset=2000, seed=0, pretrain_epochs=5)


@pytest.fixture(scope="module")
def deng_cache(tmp_path_factory):
    """One p0 cache for the module: the runs with SMALL's network and data pretrain once (the cache key
    covers every training setting, and a cached p0 is the array the pretraining returned)."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def small_problem(deng_cache, data_dir):
    import os
    os.environ["PATHTRACK_CACHE"] = deng_cache
    return DengMNIST(**SMALL)


def test_partners_same_label_and_unique():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    logits = rng.standard_normal((300, 3))
    logits[np.arange(300), y] += 1.5  # mostly correct
    parts = choose_partners(logits, y, "margin")
    margins = class_margins(logits, y)
    assert np.all(margins[parts.erred] <= 0) and np.all(margins[parts.partner] > 0)
    assert np.all(y[parts.partner] == y[parts.erred])
    assert len(set(parts.partner.tolist())) == parts.partner.size
    # highest-margin first: every chosen partner beats every unchosen correct one of its class
    for c in range(3):
        chosen = parts.partner[y[parts.erred] == c]
        rest = np.setdiff1d(np.flatnonzero((margins > 0) & (y == c)), chosen)
        if chosen.size and rest.size:
            assert margins[chosen].min() >= margins[rest].max()
    rnd = choose_partners(logits, y, "random", seed=1)
    assert np.all(y[rnd.partner] == y[rnd.erred]) and not np.array_equal(rnd.partner, parts.partner)


def test_partner_fallback_keeps_partner_data_perfectly_classified():
    # class 1 has more errors than correct samples: the fallback must still give p0 a 100% PR on D̄
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    logits = np.array([[2, 0], [2, 0], [0, 3], [0, 2], [3, 0], [2, 0], [4, 0]], float)
    parts = choose_partners(logits, y)
    pred_of_partner = logits[parts.partner].argmax(axis=1)
    assert np.all(pred_of_partner == y[parts.erred])


def test_small_run_reaches_verified_100_percent(small_problem):
    pb = small_problem
    assert pb.pr0 < 1.0 and pb.partners.erred.size > 0
    r = track(pb)
    assert r.status is Status.success, (r.status, r.end_reason)
    assert r.lam[-1] == 1.0
    assert np.all(r.metrics["pr"] == 1.0) and np.all(r.metrics["n_wrong"] == 0)
    # independent check: data reloaded from disk, fresh network and loss
    assert pb.verify(r.p_end) == 1.0
    assert r.metrics["min_margin"][-1] > 0
    assert r.counters["n_grad_evals"] > 0


def test_label_variant_reaches_100_percent(data_dir, deng_cache, monkeypatch):
    monkeypatch.setenv("PATHTRACK_CACHE", deng_cache)
    pb = DengMNIST(**{**SMALL, "variant": "label", "test": False})
    r = track(pb)
    assert r.status is Status.success
    assert pb.verify(r.p_end) == 1.0


def test_bad_parameters_are_clear(data_dir):
    from pathtrack import ProblemError
    with pytest.raises(ProblemError, match="partner must be one of"):
        DengMNIST(**{**SMALL, "partner": "best"})


def test_fig2_plot(small_problem, tmp_path):
    import matplotlib.image as mpimg
    from pathtrack_problems.deng.plots import plot_output_triangle
    from pathtrack.nn import LossFunction
    pb = small_problem
    lf = LossFunction(pb.net, pb.X, pb.y)
    out = tmp_path / "fig2.png"
    plot_output_triangle([lf.outputs(pb.p0), lf.outputs(pb.p0)], pb.y, ["p0", "p0 again"], out=out)
    img = mpimg.imread(out)
    assert img.shape[0] > 300 and img.shape[1] > 600 and img.std() > 0.05


def test_cli_run_stores_path_and_reports_verified_pr(data_dir, deng_cache, tmp_path, monkeypatch):
    import json
    from click.testing import CliRunner
    from pathtrack.cli import main
    from pathtrack.hdf5 import load

    monkeypatch.setenv("PATHTRACK_CACHE", deng_cache)
    out = tmp_path / "deng.h5"
    args = ["run", "deng-mnist", "--set", "hidden=32", "--set", "subset=2000", "--set", "pretrain_epochs=5",
            "--out", str(out), "--json"]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    summary = json.loads(r.output)
    assert summary["status"] == "success" and summary["report"]["verified_pr"] == 1.0
    assert summary["metrics_end"]["pr"] == 1.0 and summary["metrics_end"]["n_wrong"] == 0
    with load(str(out)) as f:
        assert f.problem == "deng-mnist" and f.metrics["pr"][-1] == 1.0
        assert f.p.shape[1] == 784 * 32 + 32 + 32 * 10 + 10


def test_temperature_scale_makes_relu_net_at_T_the_unit_temperature_net():
    # scaling both layers by sqrt(T) (output bias by T) multiplies the logits by T exactly
    from pathtrack.nn import LossFunction, Network
    from pathtrack_problems.deng import temperature_scale

    T = 100.0
    net_T = Network([6, 5, 3], activation="relu", temperature=T, dtype="float64")
    net_1 = Network([6, 5, 3], activation="relu", temperature=1.0, dtype="float64")
    s = temperature_scale(net_T)
    assert s == pytest.approx(10.0)
    assert temperature_scale(Network([6, 5, 3], activation="switch", temperature=T)) == 1.0
    assert temperature_scale(net_1) == 1.0
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 6)), rng.integers(0, 3, 20)
    p = rng.standard_normal(net_1.n_params)
    q = p * s
    net_T.biases(q, 1)[...] *= s  # the output bias: s·s = T
    np.testing.assert_allclose(LossFunction(net_T, X, y).outputs(q), LossFunction(net_1, X, y).outputs(p),
                               rtol=1e-12)


def test_kappa_is_in_softmax_input_units(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATHTRACK_CACHE", str(tmp_path))
    pb = DengMNIST(**{**SMALL, "activation": "relu", "temperature": 10.0, "kappa": 0.5, "pretrain_epochs": 1,
                      "test": False})
    assert pb.homotopy.kappa == pytest.approx(5.0)
    assert pb.pretrain_scale == pytest.approx(10.0 ** 0.5)
