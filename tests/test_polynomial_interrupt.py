"""Stopping a long `pathtrack solve` with Ctrl-C, and refusing jobs with too many paths.

The interrupt test runs the real command in a subprocess and sends it SIGINT.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import Status
from pathtrack.cli import main
from pathtrack.polynomial import INTERRUPTED, solve
from pathtrack.polynomial import solver as solver_mod


def _start_solve(*args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "pathtrack.cli", "solve", *args, "--progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_stops_solve_within_seconds_with_a_partial_summary():
    # cyclic:7: 5040 paths, 15-30 s on 2 cores
    proc = _start_solve("cyclic:7", "--json")
    err_chunks = []
    started = threading.Event()

    def read_err():
        for chunk in iter(lambda: proc.stderr.read(1), ""):
            err_chunks.append(chunk)
            if "path" in "".join(err_chunks[-200:]):  # the progress bar is up: tracking has begun
                started.set()

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    assert started.wait(60), "".join(err_chunks)
    time.sleep(1.0)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out = proc.stdout.read()
        proc.wait(timeout=10)
    finally:
        proc.kill()
    elapsed = time.monotonic() - t
    reader.join(5)
    assert proc.returncode == 130, (proc.returncode, "".join(err_chunks)[-2000:])
    assert elapsed < 5.0
    s = json.loads(out)
    assert s["complete"] is False and 0 < s["n_interrupted"] < 5040
    assert s["n_regular"] + s["n_at_infinity"] + s["n_failed"] + s["n_interrupted"] == 5040
    assert s["n_regular"] + s["n_at_infinity"] > 0  # what was done is kept


def test_stop_request_marks_unfinished_paths_interrupted(monkeypatch):
    # The stop flag is checked between chunks: request it after the first chunk.
    real = solver_mod._track

    def stop_after_first_chunk(*args, **kw):
        stop = kw.get("stop", args[9] if len(args) > 9 else None)

        class Bar:
            def update(self, n):
                stop.request_stop()

        return real(*args[:9], stop=stop, bar=Bar())

    monkeypatch.setattr(solver_mod, "_track", stop_after_first_chunk)
    res = solve("x^200 - 1;", workers=1)
    assert 0 < res.n_interrupted < 200 and not res.is_complete
    interrupted = res.path_kind == INTERRUPTED
    assert (res.path_status[interrupted] == int(Status.interrupted)).all()
    assert res.n_regular == np.sum(~interrupted) and res.n_failed == 0
    assert res.failed_paths() == {}
    assert res.summary()["n_interrupted"] == res.n_interrupted


def test_huge_job_is_refused_with_a_one_line_error(tmp_path):
    f = tmp_path / "q.phc"
    f.write_text("3\n x^200 - 1;\n y^200 - 1;\n z^200 - 1;\n")  # 8e6 paths
    r = CliRunner().invoke(main, ["solve", str(f)])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "8000000 paths" in r.output and "--max-paths" in r.output
    r = CliRunner().invoke(main, ["solve", "random:30:5"])  # 9e20 paths: refused before anything is built
    assert r.exit_code == 2 and r.output.count("\n") == 1
    f.write_text("1\n x^5 - 1;\n")
    assert CliRunner().invoke(main, ["solve", str(f), "--max-paths", "4"]).exit_code == 2
    assert CliRunner().invoke(main, ["solve", str(f), "--max-paths", "5"]).exit_code == 0


def test_large_job_warns_and_memory_beyond_the_machine_is_refused(monkeypatch):
    monkeypatch.setattr(solver_mod, "LARGE_JOB_PATHS", 10)
    with pytest.warns(RuntimeWarning, match="16 paths"):
        res = solve("x^4 - 1; y^4 - 1")
    assert res.n_regular == 16
    with pytest.raises(ValueError, match="memory"):
        solve("x^100 - 1; y^100 - 1; z^100 - 1; w^100 - 1; v^100 - 1; u^100 - 1; t^100 - 1")  # 1e14 paths
    assert solver_mod.job_size([5] * 30)[0] == 5**30  # exact, no int64 overflow
