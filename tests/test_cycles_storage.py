"""Cycle branches on disk: written orbit by orbit, a SIGKILL keeps every stored orbit, --resume continues."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack.cli import main
from pathtrack.io import CyclesFile, StorageError, open_file
from pathtrack.periodic import continue_cycles, resume_cycles
from pathtrack.status import Status
from problems.brusselator import Brusselator

PATHTRACK = [sys.executable, "-m", "pathtrack.cli"]
OPTS = {"ntst": 20, "max_ds": 0.004, "lam_max": 2.2}  # about 150 orbits: long enough to be killed midway


def _cli_opts():
    return [a for k, v in OPTS.items() for a in ("-o", f"{k}={v}")]


@pytest.fixture(scope="module")
def bru_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bru") / "bru.h5")
    assert CliRunner().invoke(main, ["run", "brusselator", "--out", path]).exit_code == 0
    return path


def _wait_for_orbits(path, proc, rows, timeout=120.0):
    """Read the file while the run writes it (SWMR) until it holds ``rows`` orbits."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        assert proc.poll() is None, "the run ended before it could be killed"
        if os.path.exists(path):
            try:
                f = CyclesFile(path)
                if len(f.orbits["lam"]) >= rows:
                    return f
            except StorageError:
                pass  # created but not yet laid out
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {rows} orbits in {timeout} s")


def test_sigkill_keeps_every_stored_orbit_and_resume_reaches_the_uninterrupted_end(tmp_path, bru_path):
    cyc = str(tmp_path / "cyc.h5")
    proc = subprocess.Popen([*PATHTRACK, "run", "brusselator", "--from", f"{bru_path}:hopf1", *_cli_opts(),
                             "--out", cyc], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        live = _wait_for_orbits(cyc, proc, 10)
        assert live.status == "running" and live.checkpoint is not None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    killed = CyclesFile(cyc)  # opens although the writer never closed it
    k = len(killed.orbits["lam"])
    assert killed.status == "running" and k >= 10 and killed.checkpoint["n_orbits"] == k
    assert k == killed.checkpoint["n_accepted"] + 1  # the checkpoint counts every stored orbit
    ref = continue_cycles(Brusselator(), (np.array([1.0, 2.0]), 2.0), **OPTS)
    assert ref.status is Status.success and len(ref.lam) > k + 20  # the kill came midway
    # every stored orbit is the uninterrupted run's orbit of that row (the subprocess's BLAS threads
    # differ from this process's: the last bits of the Newton iterates do, up to 4e-11 seen)
    np.testing.assert_allclose(killed.orbits["lam"], ref.lam[:k], rtol=0, atol=1e-9)
    np.testing.assert_allclose(killed.orbits["profile"], ref.profile[:k], rtol=0, atol=1e-8)
    np.testing.assert_allclose(killed.orbits["multipliers"], ref.multipliers[:k], rtol=0, atol=1e-7)
    # --resume continues in the same file and reaches the uninterrupted run's end, orbit for orbit
    res = subprocess.run([*PATHTRACK, "run", "brusselator", "--resume", cyc, "--json"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["status"] == "success" and summary["n_accepted"] == ref.n_accepted
    done = open_file(cyc)
    assert done.status == "success" and int(done.attrs["resumed"]) == 1 and done.checkpoint is not None
    assert len(done.orbits["lam"]) == len(ref.lam)
    np.testing.assert_allclose(done.orbits["lam"], ref.lam, rtol=0, atol=1e-9)
    np.testing.assert_allclose(done.orbits["period"], ref.period, rtol=0, atol=1e-8)
    # a finished branch is not resumed again
    res = subprocess.run([*PATHTRACK, "run", "brusselator", "--resume", cyc], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2 and "status 'success'" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_resume_after_max_steps_keeps_special_points_and_refuses_other_options(tmp_path):
    """API: a branch stopped by max_steps past its period doubling resumes to the same end and points."""
    from problems.rossler import Rossler
    from scipy.optimize import brentq

    pb = Rossler()

    def max_re(lam):
        e = np.linalg.eigvals(pb.dH_dp(pb.equilibrium(lam), lam))
        return e[np.abs(e.imag) > 1e-9].real.max()

    lam_h = brentq(max_re, -0.2, 0.3, xtol=1e-14)
    kw = dict(ntst=20, lam_max=0.15, initial_ds=0.01, max_ds=0.5)
    ref = continue_cycles(pb, (pb.equilibrium(lam_h), lam_h), **kw)
    (pd,) = ref.events("pd")
    cut = pd.step  # stop at the step that located the doubling (before the branch's end)
    assert ref.n_steps > cut
    path = str(tmp_path / "ros.h5")
    part = continue_cycles(pb, (pb.equilibrium(lam_h), lam_h), max_steps=cut, out=path, **kw)
    assert part.status is Status.max_steps_reached and len(part.events("pd")) == 1
    stored = CyclesFile(path)
    assert stored.status == "max_steps_reached" and [d["kind"] for d in stored.points["json"]] == ["pd"]
    with pytest.raises(StorageError, match="only max_steps"):
        from pathtrack.io import CycleWriter
        from pathtrack.options import TrackerOptions
        CycleWriter.resume(path, pb, TrackerOptions.resolve(stored.options).replace(max_ds=0.4))
    full = resume_cycles(pb, path, max_steps=10_000)
    assert full.status is Status.success and len(full.lam) == len(ref.lam)
    np.testing.assert_allclose(full.lam, ref.lam, rtol=0, atol=1e-10)
    assert [sp.kind for sp in full.special_points] == [sp.kind for sp in ref.special_points]
    assert full.events("pd")[0].lam == pytest.approx(pd.lam, abs=1e-12)
    done = CyclesFile(path)
    assert [sp["kind"] for sp in done.special_points] == [sp.kind for sp in ref.special_points]
    np.testing.assert_allclose(done.points["p"][0], pd.p, rtol=0, atol=1e-12)


def test_period_doubling_switch_from_the_cli_matches_the_api(tmp_path):
    """``pathtrack run rossler --from CYCLES:pd1`` starts the doubled branch, as switch_period_doubling does."""
    from pathtrack.periodic import switch_period_doubling
    from problems.rossler import Rossler

    runner = CliRunner()
    path, cyc, dbl = (str(tmp_path / f"{n}.h5") for n in ("ros", "cyc", "dbl"))
    assert runner.invoke(main, ["run", "rossler", "--out", path]).exit_code == 0
    opts = ["-o", "ntst=20", "-o", "lam_max=0.15", "-o", "initial_ds=0.01", "-o", "max_ds=0.5"]
    assert runner.invoke(main, ["run", "rossler", "--from", f"{path}:hopf1", *opts, "--out", cyc]).exit_code == 0
    opts2 = ["-o", "ntst=40", "-o", "lam_max=0.16", "-o", "initial_ds=0.01", "-o", "max_ds=0.5"]
    res = runner.invoke(main, ["run", "rossler", "--from", f"{cyc}:pd1", *opts2, "--out", dbl, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    f = CyclesFile(dbl)
    assert summary["status"] == "success" and f.status == "success"
    first = CyclesFile(cyc).special_points[0]
    assert f.orbits["period"][0] == pytest.approx(2 * first["period"], rel=1e-4)
    # the API on the same branch gives the same doubled branch
    pb = Rossler()
    hopf = CyclesFile(cyc).hopf
    branch = continue_cycles(pb, (np.asarray(hopf["p"]), hopf["lam"]), ntst=20, lam_max=0.15, initial_ds=0.01,
                             max_ds=0.5)
    r2 = switch_period_doubling(pb, branch, 0, ntst=40, lam_max=0.16, initial_ds=0.01, max_ds=0.5)
    np.testing.assert_allclose(f.orbits["lam"], r2.lam, rtol=0, atol=1e-9)
    (pd2,) = [d for d in f.special_points if d["kind"] == "pd"]
    assert pd2["lam"] == pytest.approx(r2.events("pd")[0].lam, abs=1e-9)
    # the second doubling, against AUTO-07p's at NTST = 100 (see test_periodic): 1e-6 at NTST = 40
    assert pd2["lam"] == pytest.approx(0.14299724791, abs=1e-6)
    assert pd2["period"] == pytest.approx(11.96478219, abs=1e-5)
    # one-line errors: no such doubling, a path file given for pdK
    for args, match in ((["--from", f"{cyc}:pd2"], "1 period doubling"),
                        (["--from", f"{path}:pd1"], "not a pathtrack cycles file"),
                        (["--from", f"{cyc}:ns1"], "pdK")):
        res = runner.invoke(main, ["run", "rossler", *args])
        assert res.exit_code == 2 and match in res.output and len(res.output.strip().splitlines()) == 1, res.output
