"""bench_deng.py's direct route as a chain of correctors, with caps and a progress log."""

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import bench_deng  # noqa: E402


def test_parse_chain():
    assert bench_deng.parse_chain("", "lbfgs", 50) == [("lbfgs", 50, 0)]
    assert bench_deng.parse_chain("lbfgs:2000@60, lm:100,newton-cg@3", "lbfgs", 50) == [
        ("lbfgs", 2000, 60), ("lm", 100, 0), ("newton-cg", 50, 3)]
    with pytest.raises(ValueError, match="METHOD"):
        bench_deng.parse_chain("lbfgs:many", "lbfgs", 50)


def test_bad_chain_is_a_one_line_exit():
    with pytest.raises(SystemExit, match="bad --chain stage"):
        bench_deng.main(["--rows", "", "--chain", "lm@x"])


def test_chain_hands_over_logs_and_stops_at_work_cap(data_dir, tmp_path, monkeypatch):
    from pathtrack.driver import build_options
    from pathtrack_problems.deng import DengMNIST

    monkeypatch.setenv("PATHTRACK_CACHE", str(tmp_path))
    pb = DengMNIST(hidden=32, subset=2000, seed=0, pretrain_epochs=5, test=False)
    wrong0 = pb.homotopy.n_wrong(pb.p0, 1.0)
    assert wrong0 > 5
    opts = build_options(pb, {"krylov_maxiter": "5", "min_active_set": "3"})
    log_path = tmp_path / "curve.txt"
    with open(log_path, "w") as log:
        p, n_grad, wall, fewest, counts = bench_deng._direct(pb, opts, 1000, math.inf, None,
                                                             f"lbfgs:400@{wrong0 - 3},lm:30", 60, log,
                                                             str(tmp_path / "snap.npy"))
    rows = np.loadtxt(log_path, comments="#", ndmin=2)
    wrong, stage = rows[:, 6], rows[:, 7]
    assert wrong[0] == wrong0 and wrong[-1] == pb.homotopy.n_wrong(p, 1.0)
    assert fewest == wrong.min() < wrong0
    # the lm stage ran after the hand-over: Gauss-Newton products counted, the work cap (60) held
    assert stage[0] == 0 and stage[-1] == 1 and np.all(wrong[stage == 1] <= wrong0 - 3)
    assert counts["gnvps"] > 0 and n_grad == counts["grads"] == rows[-1, 1]
    # the snapshot is the last checked iterate: its count is one the log recorded
    assert pb.homotopy.n_wrong(np.load(tmp_path / "snap.npy"), 1.0) in set(wrong.astype(int))
    work = counts["grads"] + counts["hvps"] + counts["gnvps"]
    assert 60 <= work <= 60 + 3 * 5 + 3 or fewest == 0


def test_lp_stage_makes_separable_features_all_correct(data_dir, tmp_path, monkeypatch):
    from pathtrack.driver import build_options
    from pathtrack_problems.deng import DengMNIST

    monkeypatch.setenv("PATHTRACK_CACHE", str(tmp_path))
    # one epoch on 100 images: many wrong, too few for every class to have a partner (no data family)
    pb = DengMNIST(hidden=24, subset=100, seed=0, pretrain_epochs=1, test=False, homotopy="margin")
    assert pb.homotopy.n_wrong(pb.p0, 1.0) > 50
    q, status, info = pb.exact_output_layer(pb.p0)
    assert status == "separable" and info["n_wrong"] == 0
    assert pb.verify(q) == 1.0  # float32, data reloaded from disk
    np.testing.assert_array_equal(q[:-24 * 10 - 10], pb.p0[:-24 * 10 - 10])  # the hidden layer is kept
    # as a stage of the direct route's chain it ends the run at once
    p, n_grad, _, fewest, counts = bench_deng._direct(pb, build_options(pb, {}), 100, math.inf, None, "lp")
    assert fewest == 0 and n_grad == 0 and counts["lp"]["status"] == "separable"
    assert pb.verify(p) == 1.0


def test_edge_scan_rows_and_table_labels():
    import argparse

    args = argparse.Namespace(smallest="", rows=None, routes="a,b", no_adam=False, homotopies="data")
    bench_deng._edge_defaults(args)
    assert (args.rows, args.smallest, args.routes, args.no_adam) == ("15relu", "15,12,10", "b,a", True)
    assert bench_deng.ROWS["15relu"] == dict(hidden=15, activation="relu", temperature=100.0)
    b = {"pr": 1.0 - 3 / 60000, "grad_evals": 40, "wall": 9.0, "fewest_wrong": 3, "real_wrong": 3,
         "test": 0.91}
    rows = [{"n": 15, "activation": "relu", "n_images": 60000, "test0": 0.95, "b": b},
            {"n": 12, "activation": "switch", "n_images": 60000, "test0": 0.93, "b": dict(b, pr=1.0, real_wrong=0)}]
    lines = bench_deng.edge_table(rows).splitlines()
    assert lines[2].startswith("| 15 relu | (b) direct | 99.9950% (3) | — | 40 |")
    assert lines[3].startswith("| 12 | (b) direct | 100.0000% (0) | 1, success |")



def test_stored_width_15_network_has_every_training_image_right(data_dir):
    """docs/deng.md's n = 15 end point: PR recomputed from the stored parameters, data loaded from disk."""
    from pathtrack_problems.deng import verify_pr

    p = np.load(os.path.join(os.path.dirname(__file__), "..", "docs", "examples", "deng-n15-switch-pr100.npy"))
    assert p.shape == (784 * 15 + 15 + 15 * 10 + 10,)
    net = dict(widths=[784, 15, 10], activation="switch", temperature=1.0, data_dir=str(data_dir))
    assert verify_pr(p, dtype=np.dtype(np.float32), **net) == 1.0  # as trained: all 60,000 images
    assert verify_pr(p, dtype=np.dtype(np.float64), **net) == 1.0
    assert verify_pr(p, dtype=np.dtype(np.float32), split="test", **net) == pytest.approx(0.9126, abs=5e-5)
