"""Fuzzing damaged files: truncation, flipped bytes, deleted objects and attributes.

Every damaged file must either raise StorageError (the CLI: a one-line ``Error:`` and
exit 2) or, when the damage hit bytes nothing refers to, read back exactly the
original data: never a crash, a hang, another exception or silently wrong values.
"""

import faulthandler
import json
import subprocess
import sys
import textwrap

import h5py
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _h5util import read_everything, run_to_file, same
from pathtrack.cli import main
from pathtrack.hdf5 import StorageError, load

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from pathtrack.driver import track
    from pathtrack.hdf5 import PathWriter
    from pathtrack.registry import make_problem
    from pathtrack.options import TrackerOptions

    class Kill:
        def on_start(self, tracker, record): pass
        def on_event(self, tracker, point): pass
        def on_finish(self, tracker): pass
        def on_step(self, tracker, record):
            if record.accepted and record.step == 12:
                os.kill(os.getpid(), signal.SIGKILL)

    problem = make_problem("linear-complex")
    options = TrackerOptions(**problem.default_options)
    writer = PathWriter.create(sys.argv[1], problem, options, flush_interval=0.0)
    track(problem, options=options, observers=[writer, Kill()])
""")


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    finished = d / "finished.h5"
    run_to_file(finished, "linear-complex")
    killed = d / "killed.h5"
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, str(killed)], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    out = {}
    for name, path in (("finished", finished), ("killed", killed)):
        out[name] = (path.read_bytes(), read_everything(path))
    with load(killed) as f:
        assert f.status == "running" and f.num_steps == 13  # the kill came after step 12 was flushed
    return out


@pytest.fixture(autouse=True)
def no_hang():
    faulthandler.dump_traceback_later(120, exit=True)  # a hang fails the run instead of stalling it
    yield
    faulthandler.cancel_dump_traceback_later()


def _damaged_reads(path, expected, must_fail=False):
    """Reading ``path`` gives StorageError or exactly ``expected``; the CLI agrees."""
    try:
        got = read_everything(path)
    except StorageError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        failed = True
    else:
        assert same(got, expected), "damaged file read back different data without an error"
        failed = False
    assert not (must_fail and not failed), "damage went unnoticed"
    # inspect reads less than read_everything (not the p rows), so it may miss damage there;
    # then it must print exactly the original summary
    r = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    if r.exit_code == 2:
        assert failed and r.output.startswith("Error: ") and r.output.count("\n") == 1, r.output
    else:
        assert r.exit_code == 0, r.output
        info = {k: v for k, v in json.loads(r.output).items() if k not in ("last_checkpoint_age_s", "state", "file")}
        assert same(info, json.loads(json.dumps(expected["summary"])))
    return failed


@FUZZ
@given(which=st.sampled_from(["finished", "killed"]), frac=st.floats(0.0, 1.0, exclude_max=True))
def test_truncated_files(originals, tmp_path, which, frac):
    data, expected = originals[which]
    path = tmp_path / "trunc.h5"
    path.write_bytes(data[:int(frac * len(data))])
    # a closed file is checked against its recorded size: any cut is an error
    _damaged_reads(path, expected, must_fail=(which == "finished"))


@FUZZ
@given(which=st.sampled_from(["finished", "killed"]),
       flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)), min_size=1,
                      max_size=6))
def test_flipped_bytes(originals, tmp_path, which, flips):
    data, expected = originals[which]
    buf = bytearray(data)
    for frac, mask in flips:
        buf[int(frac * len(buf))] ^= mask
    path = tmp_path / "flip.h5"
    path.write_bytes(bytes(buf))
    _damaged_reads(path, expected)


def _objects(path):
    names, attrs = [], []
    with h5py.File(path, "r") as h:
        h.visit(names.append)
        attrs += [("/", k) for k in h.attrs]
        h.visititems(lambda n, o: attrs.extend((n, k) for k in o.attrs))
    return names, attrs


def test_every_object_and_attribute_is_checked(originals, tmp_path):
    """Deleting any one dataset, group or attribute of a finished file is reported."""
    data, expected = originals["finished"]
    src = tmp_path / "orig.h5"
    src.write_bytes(data)
    names, attrs = _objects(src)
    assert len(names) > 30 and len(attrs) > 15
    for target in [("obj", n) for n in names] + [("attr", a) for a in attrs]:
        path = tmp_path / "del.h5"
        path.write_bytes(data)
        with h5py.File(path, "r+") as h:
            if target[0] == "obj":
                del h[target[1]]
            else:
                del h[target[1][0]].attrs[target[1][1]]
        assert _damaged_reads(path, expected, must_fail=True), target


@FUZZ
@given(key=st.sampled_from(["format", "schema_version", "parameters", "options", "status", "n", "p_dtype",
                            "n_accepted"]),
       value=st.one_of(st.text(max_size=12), st.integers(-5, 10 ** 6), st.floats(allow_nan=True)))
def test_garbled_root_attributes(originals, tmp_path, key, value):
    data, expected = originals["finished"]
    path = tmp_path / "attr.h5"
    path.write_bytes(data)
    with h5py.File(path, "r+") as h:
        old = h.attrs[key]
        h.attrs[key] = value
        unchanged = str(old) == str(value)
    _damaged_reads(path, expected, must_fail=not unchanged)


def test_cli_subprocess_reports_damage_in_one_line(originals, tmp_path):
    data, _ = originals["finished"]
    path = tmp_path / "cut.h5"
    path.write_bytes(data[: len(data) // 2])
    r = subprocess.run([sys.executable, "-m", "pathtrack.cli", "plot", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
