"""Files are replaced atomically: a kill or an exception during a write never loses the previous file
and leaves no temporary file behind (or one that the next open removes)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from _h5util import run_to_file
from pathtrack.io import StorageError, TrainFile, h5, load, open_file
from pathtrack.status import Status

WRITE_TRAIN = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from pathtrack.io import h5, write_train
    from pathtrack.status import Status

    def write(path, scale, force):
        write_train(path, network={"widths": [2, 3, 2], "activation": "relu", "temperature": 1.0,
                                   "dtype": "float64"}, config={"epochs": 1}, params=scale * np.arange(12.0),
                    curves={"epoch": np.arange(2.0), "loss": np.ones(2), "pr": np.ones(2),
                            "wall_time": np.zeros(2)}, status=Status.success, message="", wall_time=1.0,
                    counters={"n_steps": 1}, force=force)
""")

KILLED_WRITE = WRITE_TRAIN + textwrap.dedent("""
    array = h5.array
    def array_then_die(group, name, data):
        array(group, name, data)
        if name == "params":  # half the datasets are written
            os.kill(os.getpid(), signal.SIGKILL)
    h5.array = array_then_die
    write(sys.argv[1], 2.0, force=True)
""")


def _train(path, scale=1.0, force=False):
    ns = {}
    exec(WRITE_TRAIN, ns)
    ns["write"](str(path), scale, force)


def _dead_pid():
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_sigkill_during_a_forced_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "t.h5"
    _train(path)
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    leftovers = [n for n in os.listdir(tmp_path) if n != "t.h5"]
    assert len(leftovers) == 1 and leftovers[0].startswith("t.h5.write-") and leftovers[0].endswith(".tmp")
    with TrainFile(path) as f:  # the previous file, intact
        assert np.array_equal(f.params, np.arange(12.0))
    assert os.listdir(tmp_path) == ["t.h5"]  # opening it removed the dead writer's temporary file


def test_an_exception_during_a_write_keeps_the_previous_file_and_no_tmp(tmp_path, monkeypatch):
    path = tmp_path / "t.h5"
    _train(path)

    def fail(group, name, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(h5, "array", fail)
    with pytest.raises(KeyboardInterrupt):
        _train(path, 2.0, force=True)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["t.h5"]
    with TrainFile(path) as f:
        assert np.array_equal(f.params, np.arange(12.0))
    _train(path, 2.0, force=True)
    with TrainFile(path) as f:
        assert np.array_equal(f.params, 2.0 * np.arange(12.0))
    with pytest.raises(FileExistsError, match="--force"):
        _train(path)


def test_stale_tmp_files_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    path = tmp_path / "run.h5"
    run_to_file(path, "pitchfork")
    dead, alive = _dead_pid(), os.getppid()
    for tag in h5.TMP_TAGS:
        (tmp_path / f"run.h5.{tag}-{dead}.tmp").write_bytes(b"x")
    (tmp_path / f"run.h5.compact-{alive}.tmp").write_bytes(b"x")
    (tmp_path / f"other.h5.compact-{dead}.tmp").write_bytes(b"x")  # another file's: not ours to remove
    with load(path):
        pass
    assert sorted(os.listdir(tmp_path)) == sorted(["run.h5", f"run.h5.compact-{alive}.tmp",
                                                   f"other.h5.compact-{dead}.tmp"])
    (tmp_path / f"run.h5.resume-{dead}.tmp").write_bytes(b"x")
    open_file(path).close()
    assert not (tmp_path / f"run.h5.resume-{dead}.tmp").exists()


def test_interrupt_during_the_final_rewrite_leaves_no_tmp_and_a_resumable_file(tmp_path, monkeypatch):
    path = tmp_path / "run.h5"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(h5, "copy_tree", interrupted)
    try:  # the tracker takes a Ctrl-C in an observer as a stop request; either way the file must be sound
        run_to_file(path, "pitchfork")
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.h5"]
    with load(path) as f:  # the run's own file, closed and complete up to its last step
        assert f.status == "running" and f.has_steps and f.num_steps > 1


def test_a_run_that_fails_before_its_first_step_is_a_finished_file(tmp_path):
    path = tmp_path / "bad.h5"
    result, _, _ = run_to_file(path, "pitchfork", params={"lam_bp": 0.0}, lam_min=1.0, lam_max=2.0)
    assert result.status is Status.invalid_start
    with load(path) as f:
        assert f.status == "invalid_start" and f.finished and not f.has_steps
        assert f.summary()["state"] == "finished"
    assert os.listdir(tmp_path) == ["bad.h5"]


def test_write_into_a_missing_directory_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError, match="cannot create HDF5 file"):
        _train(tmp_path / "missing" / "t.h5")
    assert os.listdir(tmp_path) == []
