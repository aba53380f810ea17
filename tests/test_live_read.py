"""Live reading with real processes: a reader holding a path file never stops its writer.

The writer and the reader are separate processes, synchronised through their pipes
(no fixed sleeps): the reader attaches while the run writes, holds the file open
across the end of the run, and reads it afterwards.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pathtrack.io import load

PATHTRACK = [sys.executable, "-m", "pathtrack.cli"]
TIMEOUT = 180  # generous: the box may be loaded; nothing below waits for a fixed time

READER = textwrap.dedent("""
    import json, sys, time
    from pathtrack.io import StorageError, load

    path = sys.argv[1]
    t_end = time.monotonic() + 170
    while True:  # attach while the run writes its steps (SWMR)
        try:
            f = load(path)
            if f.status == "running" and f.has_steps:
                break
            f.close()
            if f.finished:
                sys.exit("the run ended before the reader attached")
        except (StorageError, FileNotFoundError):
            pass
        if time.monotonic() > t_end:
            sys.exit("the run never became readable")
        time.sleep(0.02)
    rows = f.num_steps
    print("attached", flush=True)
    sys.stdin.readline()  # hold the file open until the writer has ended
    out = {"rows_at_attach": rows, "lam": len(f.lam), "p0": f.p[0].tolist(), "state_held": f.summary()["state"]}
    f.refresh()
    out.update(status=f.status, rows=f.num_steps, state=f.summary()["state"])
    f.close()
    print(json.dumps(out), flush=True)
""")

GATED_WRITER = textwrap.dedent("""
    import sys
    from pathtrack.driver import track
    from pathtrack.io import PathWriter
    from pathtrack.options import TrackerOptions
    from pathtrack.registry import make_problem
    from pathtrack.tracker import Observer

    class Gate(Observer):
        def on_step(self, tracker, record):
            if record.accepted and record.step == 5:
                print("stepped", flush=True)
                sys.stdin.readline()

    problem = make_problem("bratu1d", n=40)
    options = TrackerOptions(**problem.default_options)
    writer = PathWriter.create(sys.argv[1], problem, options, flush_interval=0.0)
    print("created", flush=True)
    sys.stdin.readline()  # the file exists; the run has not started
    result = track(problem, options=options, observers=[writer, Gate()])
    print(result.status.name, flush=True)
""")


def _expect(proc, line, other=None):
    """Wait for ``proc`` to print ``line`` (``other``: a process whose errors explain a failure)."""
    got = proc.stdout.readline().strip()
    if got != line:
        errs = [p.stderr.read() for p in (proc, other) if p is not None and p.poll() is not None]
        raise AssertionError(f"expected {line!r}, got {got!r}; stderr: {errs}")


def _popen(args):
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _release(proc):
    out, err = proc.communicate("\n", timeout=TIMEOUT)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_reader_holding_the_file_across_ctrl_c_of_the_cli_writer(tmp_path, procs):
    path = str(tmp_path / "h.h5")
    writer = _popen([*PATHTRACK, "run", "bratu1d", "--set", "n=40", "-o", "initial_ds=0.002", "-o", "max_ds=0.002",
                     "-o", "max_steps=1000000",
                     "--out", path])
    procs.append(writer)
    reader = _popen([sys.executable, "-c", READER, path])
    procs.append(reader)
    _expect(reader, "attached", writer)
    assert writer.poll() is None, "the run ended before the reader attached"
    writer.send_signal(signal.SIGINT)  # Ctrl-C: the writer finishes the file while the reader holds it
    out, err = writer.communicate(timeout=TIMEOUT)
    assert "Traceback" not in err and "Error" not in err, err
    assert writer.returncode == 1, err  # interrupted is not success
    assert "status    interrupted" in out and f"written   {path}" in out, out
    seen = json.loads(_release(reader))
    assert seen["lam"] == seen["rows_at_attach"] >= 1  # the held version stays readable
    assert seen["state_held"].startswith("replaced on disk")
    assert seen["status"] == "interrupted" and seen["state"] == "finished" and seen["rows"] >= seen["rows_at_attach"]
    with load(path) as f:
        assert f.finished and f.status == "interrupted" and f.num_steps == int(f.attrs["n_accepted"]) + 1
    assert sorted(os.listdir(tmp_path)) == ["h.h5"]  # no temporary file left


def test_inspect_before_the_first_step_and_a_reader_across_the_end_of_the_run(tmp_path, procs):
    path = str(tmp_path / "g.h5")
    writer = _popen([sys.executable, "-c", GATED_WRITER, path])
    procs.append(writer)
    _expect(writer, "created")
    # before the first step: the file says the run is starting
    early = subprocess.run([*PATHTRACK, "inspect", path], capture_output=True, text=True, timeout=TIMEOUT)
    assert early.returncode == 0, early.stderr
    assert "status    running; starting (the run has not written its first step yet)" in early.stdout
    info = json.loads(subprocess.run([*PATHTRACK, "inspect", path, "--json"], capture_output=True, text=True,
                                     timeout=TIMEOUT).stdout)
    assert info["status"] == "running" and info["n_accepted"] == 0 and info["state"].startswith("starting")
    writer.stdin.write("\n")
    writer.stdin.flush()
    _expect(writer, "stepped")
    reader = _popen([sys.executable, "-c", READER, path])
    procs.append(reader)
    _expect(reader, "attached", writer)
    out = _release(writer)  # the run finishes normally while the reader holds the file
    assert out.strip() == "success"
    seen = json.loads(_release(reader))
    assert seen["lam"] == seen["rows_at_attach"] >= 6
    assert seen["status"] == "success" and seen["state"] == "finished" and seen["rows"] > seen["rows_at_attach"]
    assert sorted(os.listdir(tmp_path)) == ["g.h5"]
