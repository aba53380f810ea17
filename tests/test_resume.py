"""Crash safety and resume: SIGKILL mid-path, SWMR reads while writing, Ctrl-C, refusals."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from _h5util import CtrlCAt, as_schema_1, run_to_file
from pathtrack.driver import run_problem, track
from pathtrack.hdf5 import SCHEMA_VERSION, PathWriter, StorageError, load
from pathtrack.options import TrackerOptions
from pathtrack.registry import make_problem

PATHTRACK = [sys.executable, "-m", "pathtrack.cli"]
BRATU = {"n": 40}


def _cli(*args, **kw):
    return subprocess.run([*PATHTRACK, *args], capture_output=True, text=True, timeout=120, **kw)


def _wait_for_rows(path, proc, rows, timeout=60.0):
    """Poll the file (SWMR read while the run writes it) until it holds ``rows`` steps."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        assert proc.poll() is None, "the run ended before it could be killed"
        if os.path.exists(path):
            try:
                with load(path) as f:
                    if f.has_steps and f.num_steps >= rows:
                        return f.num_steps, f.status, f.writer_alive(), f.summary()["state"]
            except StorageError:
                pass  # created but not yet laid out
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {rows} steps in {timeout} s")


def test_sigkill_then_resume_reaches_the_uninterrupted_end(tmp_path):
    path = str(tmp_path / "killed.h5")
    proc = subprocess.Popen([*PATHTRACK, "run", "bratu1d", "--set", "n=40", "-o", "max_ds=0.05", "--out", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rows, status, alive, state = _wait_for_rows(path, proc, 40)
        # read while the writer is active (SWMR): it is running and recognised as being written
        assert status == "running" and alive and state == "being written"
        live = _cli("inspect", path, "--json")
        assert live.returncode == 0, live.stderr
        assert json.loads(live.stdout)["status"] == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with load(path) as f:
        assert f.status == "running" and not f.writer_alive()
        assert "resume" in f.summary()["state"]
        n_rows = f.num_steps
        assert n_rows >= rows
        st = f.checkpoint()
        assert 40 <= st.n_accepted + 1 <= n_rows  # the checkpoint never runs ahead of the stored steps
        lam_before = f.lam[: st.n_accepted + 1].copy()
        assert np.all(np.isfinite(lam_before)) and lam_before[0] == pytest.approx(0.05)
        np.testing.assert_array_equal(f.p_at(st.n_accepted), st.y[:-1])
    # the uninterrupted reference run, in process
    problem = make_problem("bratu1d", **BRATU)
    options = TrackerOptions(**problem.default_options).replace(max_ds=0.05)
    ref = track(problem, options=options)
    assert ref.success and ref.n_accepted > st.n_accepted + 10
    resumed = _cli("run", "bratu1d", "--set", "n=40", "-o", "max_ds=0.05", "--resume", path, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "success"
    with load(path) as f:
        assert f.status == "success" and int(f.attrs["resumed"]) == 1
        np.testing.assert_array_equal(f.lam[: len(lam_before)], lam_before)
        assert len(f.lam) == ref.n_accepted + 1
        np.testing.assert_allclose(f.lam, ref.lam, rtol=0, atol=1e-10)
        np.testing.assert_allclose(f.p[-1], ref.p_end, rtol=0, atol=1e-10)
        assert [e["kind"] for e in f.events] == ["fold"]
        assert f.events[0]["lam"] == pytest.approx(ref.special_points[0].lam, abs=1e-10)
    again = _cli("run", "bratu1d", "--set", "n=40", "-o", "max_ds=0.05", "--resume", path)
    assert again.returncode == 2 and "nothing left to do" in again.stderr
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr


def _interrupted_file(path, at_step):
    res, problem, options = run_to_file(path, "linear-complex", observers=[CtrlCAt(at_step)])
    assert res.status.name == "interrupted"
    return problem, options


def test_resume_after_ctrl_c_in_process(tmp_path):
    path = str(tmp_path / "int.h5")
    problem, options = _interrupted_file(path, 10)
    ref = track(problem, options=options)
    writer, state, start = PathWriter.resume(path, problem, options)
    assert state.n_accepted == 10 and state.status.name == "interrupted"
    res = track(problem, start.p, start.lam, options=options, observers=[writer], resume=state)
    assert res.success
    with load(path) as f:
        assert f.status == "success"
        np.testing.assert_allclose(f.lam, ref.lam, atol=1e-12, rtol=0)
        np.testing.assert_allclose(f.p[-1], ref.p_end, atol=1e-12, rtol=0)
        assert list(f.rejected["reason"]) == [r["reason"] for r in ref.rejected]
        np.testing.assert_array_equal(f.rejected["index"], [r["index"] for r in ref.rejected])


def test_resume_of_a_schema_1_file(tmp_path):
    path = str(tmp_path / "int.h5")
    problem, options = _interrupted_file(path, 10)
    ref = track(problem, options=options)
    as_schema_1(path)
    with load(path) as f:
        assert len(f.rejected["reason"]) > 0  # the rows carried over are old-style strings
    writer, state, start = PathWriter.resume(path, problem, options)
    res = track(problem, start.p, start.lam, options=options, observers=[writer], resume=state)
    assert res.success
    with load(path) as f:
        assert f.attrs["schema_version"] == SCHEMA_VERSION
        assert list(f.rejected["reason"]) == [r["reason"] for r in ref.rejected]


def test_resume_refuses_other_problem_parameters_options(tmp_path):
    path = str(tmp_path / "int.h5")
    problem, options = _interrupted_file(path, 5)
    with pytest.raises(StorageError, match="problem linear-complex"):
        PathWriter.resume(path, make_problem("linear-complex", seed=1), options)
    with pytest.raises(StorageError, match="problem linear-complex"):
        PathWriter.resume(path, make_problem("pitchfork"), options)
    with pytest.raises(StorageError, match="differ: max_ds"):
        PathWriter.resume(path, problem, options.replace(max_ds=0.3))
    # max_steps may change (that is how a max_steps_reached run is continued)
    writer, state, _ = PathWriter.resume(path, problem, options.replace(max_steps=50_000))
    writer.close()
    with load(path) as f:
        assert json.loads(f.attrs["options"])["max_steps"] == 50_000


def test_resume_refuses_a_successful_file_and_a_missing_one(tmp_path):
    path = str(tmp_path / "done.h5")
    _, problem, options = run_to_file(path, "pitchfork")
    with pytest.raises(StorageError, match="nothing left to do"):
        PathWriter.resume(path, problem, options)
    with pytest.raises(FileNotFoundError):
        PathWriter.resume(str(tmp_path / "none.h5"), problem, options)


def test_run_problem_resume_through_the_driver(tmp_path):
    path = str(tmp_path / "int.h5")
    _interrupted_file(path, 8)
    summary = run_problem("linear-complex", {}, {}, resume=path)
    assert summary["status"] == "success" and summary["out"] == path
    with pytest.raises(StorageError, match="other tracker options"):
        run_problem("linear-complex", {}, {"max_ds": "0.1"}, resume=path)
