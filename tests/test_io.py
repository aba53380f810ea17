"""pathtrack.io: one header for every file, HDF5 1.10 files (h5dump), inspect of every kind, older layouts.

Also the Result base shared by track / solve / gradient_flow / train, the tracker presets,
and the compiled polynomial tracker's status codes against Status.
"""

import json
import shutil
import subprocess

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from _h5util import CtrlCAt, run_to_file
from pathtrack import Status, TrackerOptions, track
from pathtrack.cli import main
from pathtrack.driver import PathResult
from pathtrack.flow import FlowResult, gradient_flow
from pathtrack.io import PathWriter, StorageError, TrainFile, load, open_file
from pathtrack.io.schema import HEADER_ATTRS, HEADER_FINISH_ATTRS
from pathtrack.nn import Network
from pathtrack.nn.train import TrainResult, load_result, save_result, train
from pathtrack.options import OptionsError
from pathtrack.problem import Problem
from pathtrack.polynomial import SolveOptions, SolveResult, solve
from pathtrack.polynomial import kernels
from pathtrack.registry import make_problem
from pathtrack.results import Result


class Bowl(Problem):
    """L(p) = ‖p − (0, 1, 2)‖² / 2."""

    name = "bowl"
    is_gradient = True

    def loss(self, p, lam):
        return 0.5 * float(np.sum((p - np.arange(3.0)) ** 2))

    def H(self, p, lam):
        return p - np.arange(3.0)

    def dH_dp(self, p, lam):
        return np.eye(3)


def _train_result():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    return train(Network([4, 5, 3], "switch", 2.0, "float64"), X, y, epochs=2, batch_size=20,
                 X_test=X[:10], y_test=y[:10], progress=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One file of each kind pathtrack writes."""
    d = tmp_path_factory.mktemp("io")
    out = {"path": d / "run.h5", "resumed": d / "resumed.h5", "solve": d / "solve.h5", "train": d / "train.h5"}
    r = CliRunner().invoke(main, ["run", "pitchfork", "--out", str(out["path"]), "--json"])
    assert r.exit_code == 0, r.output
    _, problem, options = run_to_file(out["resumed"], "linear-complex", observers=[CtrlCAt(6)])
    writer, state, start = PathWriter.resume(str(out["resumed"]), problem, options)
    assert track(problem, start.p, start.lam, options=options, observers=[writer], resume=state).success
    solve("katsura:3", seed=0).to_hdf5(str(out["solve"]))
    save_result(out["train"], _train_result(), attrs={"dataset": "synthetic"})
    return out


@pytest.mark.parametrize("kind", ["path", "resumed", "solve", "train"])
def test_h5dump_reads_every_kind_of_file(files, kind):
    """Debian's h5dump (HDF5 1.10) opens the files: they are written in the 1.10 format."""
    h5dump = shutil.which("h5dump")
    if h5dump is None:
        pytest.skip("h5dump is not on PATH (Debian package hdf5-tools)")
    r = subprocess.run([h5dump, "-H", str(files[kind])], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "HDF5" in r.stdout and "format" in r.stdout


@pytest.mark.parametrize("kind", ["path", "resumed", "solve", "train"])
def test_every_kind_has_the_common_header(files, kind):
    with h5py.File(files[kind], "r") as f:
        missing = [k for k in HEADER_ATTRS + HEADER_FINISH_ATTRS if k not in f.attrs]
        assert not missing
        assert f.attrs["status"] == "success" and f.attrs["finished"]
        assert isinstance(json.loads(f.attrs["counters"]), dict)
        # the superblock of a 1.10-format file is version 2 or 3 (the 2.0 format writes newer objects)
    with open(files[kind], "rb") as fh:
        assert fh.read(9)[8] in (2, 3)


@pytest.mark.parametrize("kind,what", [("path", "tracked path"), ("solve", "polynomial solve"),
                                       ("train", "training run")])
def test_inspect_says_what_each_file_is(files, kind, what):
    runner = CliRunner()
    r = runner.invoke(main, ["inspect", str(files[kind])])
    assert r.exit_code == 0, r.output
    assert f"kind      {what}" in r.output and "success" in r.output
    info = json.loads(runner.invoke(main, ["inspect", str(files[kind]), "--json"]).output)
    assert info["kind"] == what and info["status"] == "success"
    if kind == "solve":
        assert info["n_paths"] == 8 and info["n_regular"] == 8 and info["counters"]["n_paths"] == 8
    if kind == "train":
        assert info["network"]["widths"] == [4, 5, 3] and info["config"]["dataset"] == "synthetic"
        assert info["n_epochs"] == 2 and info["counters"] == {"n_epochs": 2, "n_steps": 4}


def test_open_file_refuses_foreign_and_newer_files(tmp_path, files):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h:
        h["x"] = np.arange(3)
    with pytest.raises(StorageError, match="not a pathtrack file"):
        open_file(path)
    r = CliRunner().invoke(main, ["inspect", str(path)])
    assert r.exit_code == 2 and r.output.startswith("Error: ") and r.output.count("\n") == 1
    newer = tmp_path / "newer.h5"
    newer.write_bytes(files["train"].read_bytes())
    with h5py.File(newer, "r+") as h:
        h.attrs["schema_version"] = 3
    with pytest.raises(StorageError, match="pathtrack-train schema_version 3 is not supported"):
        open_file(newer)
    with pytest.raises(StorageError, match="not a pathtrack path file"):
        load(files["train"])


def test_schema_1_training_and_solve_files_still_open(tmp_path):
    """The layouts written before the common header: 'pathtrack.nn.train' and 'pathtrack.solve/1'."""
    res = _train_result()
    old = tmp_path / "old_train.h5"
    with h5py.File(old, "w") as f:
        f.attrs.update({"format": "pathtrack.nn.train", "format_version": 1, "widths": np.array([4, 5, 3]),
                        "activation": "switch", "temperature": 2.0, "dtype": "float64", "optimizer": "adam",
                        "n_steps": 4, "dataset": "synthetic"})
        f["params"] = res.p
        for name in ("epoch", "loss", "pr", "wall_time", "test_pr"):
            f[f"curves/{name}"] = getattr(res, name)
    back = load_result(old)
    assert back.net.widths == [4, 5, 3] and back.config["dataset"] == "synthetic" and back.success
    np.testing.assert_array_equal(back.p, res.p)
    np.testing.assert_array_equal(back.test_pr, res.test_pr)
    with TrainFile(old) as f:
        assert f.schema_version == 1
    sol = solve("katsura:3", seed=0)
    old_solve = tmp_path / "old_solve.h5"
    with h5py.File(old_solve, "w") as f:
        f.attrs.update({"format": "pathtrack.solve/1", "system": "katsura:3", "variables": json.dumps(["a"]),
                        "equations": json.dumps(["a"]), "seed": 0, "gamma": sol.gamma,
                        "summary": json.dumps(sol.summary()), "options": json.dumps(sol.options.to_dict()),
                        "kind_names": json.dumps(["regular", "singular", "at_infinity", "failed"])})
        for key, value in (("paths/endpoints", sol.path_endpoints), ("paths/status", sol.path_status),
                           ("paths/kind", sol.path_kind), ("paths/winding", sol.path_winding),
                           ("paths/n_steps", sol.path_steps), ("solutions/regular", sol.solutions),
                           ("solutions/residual", sol.residuals), ("solutions/cond", sol.conds),
                           ("solutions/singular", sol.singular_solutions),
                           ("solutions/multiplicity", sol.multiplicities), ("solutions/winding", sol.singular_winding)):
            f[key] = value
    r = CliRunner().invoke(main, ["inspect", str(old_solve), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["schema_version"] == 1 and info["n_regular"] == sol.n_regular and info["kind"] == "polynomial solve"


def test_result_base_is_shared():
    path = track(make_problem("pitchfork"))
    flow = gradient_flow(Bowl(), np.zeros(3))
    trained = _train_result()
    solved = solve("katsura:3", seed=0)
    for res, cls in ((path, PathResult), (flow, FlowResult), (trained, TrainResult), (solved, SolveResult)):
        assert isinstance(res, cls) and isinstance(res, Result)
        assert isinstance(res.status, Status) and isinstance(res.message, str) and res.message
        assert res.total_time > 0 and isinstance(res.counters, dict) and res.counters
        assert res.success == (res.status is Status.success)
    assert flow.nfev == flow.counters["n_H_evals"] and flow.wall_time == flow.total_time
    assert solved.wall_time == solved.total_time and solved.n_retracked == solved.counters["n_retracked"]
    assert solved.success and solved.counters["n_paths"] == 8


def test_presets():
    base = TrackerOptions()
    assert TrackerOptions.preset("default") == base
    fast, safe = TrackerOptions.preset("fast"), TrackerOptions.preset("conservative", max_steps=7)
    assert fast.grow_factor >= 3.0 and fast.max_ds == base.max_ds
    assert safe.max_ds == base.max_ds / 4 and safe.max_angle < base.max_angle and safe.max_steps == 7
    with pytest.raises(OptionsError, match="unknown preset 'slow'"):
        base.with_preset("slow")
    r = CliRunner().invoke(main, ["run", "pitchfork", "-o", "preset=conservative", "-o", "max_steps=500", "--json"])
    assert r.exit_code == 0, r.output
    default = track(make_problem("pitchfork"))
    assert json.loads(r.output)["n_accepted"] > default.n_accepted
    r = CliRunner().invoke(main, ["run", "pitchfork", "-o", "preset=slow"])
    assert r.exit_code == 2 and "unknown preset" in r.output


def test_solve_options_share_tracker_options():
    opts = SolveOptions(max_ds=0.1, max_winding=8)
    assert isinstance(opts.tracker, TrackerOptions)
    assert opts.max_ds == opts.tracker.max_ds == 0.1 and opts.max_winding == 8
    with pytest.raises(OptionsError, match="max_contraction must lie in"):
        SolveOptions(max_contraction=1.5)
    with pytest.raises(OptionsError, match="max_ds <= 1"):
        SolveOptions(max_ds=2.0)
    with pytest.raises(OptionsError, match="unknown solve option"):
        SolveOptions(lam_end=1.0)
    tight = opts.with_preset("conservative")
    assert tight.max_ds == 0.025 and tight.max_steps == 4 * opts.max_steps and tight.max_winding == 8
    assert tight.tracker == opts.tracker.with_preset("conservative")
    assert set(opts.to_dict()) >= {"max_ds", "max_newton_iters", "endgame_radius", "max_retracks"}


def test_compiled_tracker_status_codes_are_status_values():
    names = {"SUCCESS": Status.success, "MAX_STEPS_REACHED": Status.max_steps_reached,
             "DS_TOO_SMALL": Status.ds_too_small, "NEWTON_FAILED": Status.newton_failed,
             "SINGULAR_JACOBIAN": Status.singular_jacobian, "NONFINITE": Status.nonfinite}
    for name, status in names.items():
        value = getattr(kernels, name)
        assert type(value) is int and value == int(status), name
