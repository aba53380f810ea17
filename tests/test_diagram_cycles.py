"""Cycle branches in a bifurcation diagram: stored with their Hopf point, resumed after a kill, plotted."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import Status
from pathtrack.cli import main
from pathtrack.diagram import diagram
from pathtrack.io import DiagramFile, DiagramWriter, load
from pathtrack.options import OptionsError
from pathtrack.periodic import continue_cycles
from pathtrack_problems.normal_forms import HopfNormalForm
from pathtrack_problems.pitchfork import Pitchfork

#: The Bautin normal form (l1 > 0 > l2): a subcritical Hopf point at λ = 0, unstable orbits up to the
#: fold of cycles at μ = l1²/(4 l2) = −0.25, stable ones after it, to the box edge λ = 1.
BAUTIN = {"l1": 1.0, "l2": -1.0}
CYCLE_OPTS = {"ntst": 10, "ncol": 3, "max_ds": 0.1}
ARRAYS = ("lam", "period", "l2", "amplitude", "s", "n_unstable", "multipliers", "mesh", "profile")


@pytest.fixture(scope="module")
def bautin(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cyc") / "bautin.h5")
    r = diagram(HopfNormalForm(**BAUTIN), depth=1, out=out, cycles=CYCLE_OPTS)
    return r, out


def _assert_same_orbits(stored, ref) -> None:
    for name in ARRAYS:
        got = stored.orbits[name] if hasattr(stored, "orbits") else getattr(stored, name)
        np.testing.assert_allclose(got, getattr(ref, name), rtol=0, atol=1e-12, err_msg=name)


def test_cycle_branch_stored_with_its_hopf_point_same_as_a_direct_run(bautin):
    r, out = bautin
    assert r.status is Status.success and r.message == "1 branches, 1 cycle branch(es)"
    ((c),) = r.cycles
    hopf = r.branches[0].result.special_points[c.event]
    assert (c.id, c.branch, hopf.kind) == (0, 0, "hopf")
    assert (r.cycle_options.lam_min, r.cycle_options.lam_max) == (-1.0, 1.0)  # the diagram's box
    ref = continue_cycles(HopfNormalForm(**BAUTIN), (hopf.p, hopf.lam), options=r.cycle_options)
    assert ref.end_reason == "box" and [sp.kind for sp in ref.special_points] == ["lpc"]
    _assert_same_orbits(c.result, ref)
    with load(out) as f:
        assert int(f.attrs["schema_version"]) == 3 and f.status == "success"
        assert f.cycle_info == [{"cycle": 0, "parent_branch": 0, "parent_event": c.event}]
        assert f.branches[0].events[c.event]["kind"] == "hopf"
        assert f.cycle_options.ntst == 10 and f.cycle_options.lam_min is None  # as asked; the box is cut at use
        (stored,) = f.cycles
        assert json.dumps(stored.options, sort_keys=True) == r.cycle_options.to_json()
        _assert_same_orbits(stored, ref)
        assert stored.status == "success" and stored.hopf["lam"] == ref.hopf.lam
        assert [sp["kind"] for sp in stored.special_points] == ["lpc"] and len(stored.points["json"]) == 1
    res = CliRunner().invoke(main, ["inspect", out, "--json"])
    assert res.exit_code == 0, res.output
    (info,) = json.loads(res.output)["cycles"]
    assert (info["parent_branch"], info["parent_event"], info["status"], info["end_reason"]) == (0, c.event,
                                                                                                "success", "box")
    assert info["n_orbits"] == len(ref.lam) and info["special_points"][0]["kind"] == "lpc"
    text = CliRunner().invoke(main, ["inspect", out]).output
    assert "cycles    0 from branch 0 event 0 (hopf at lam = 0): success (box)" in text


def test_plot_draws_cycles_solid_where_stable_dashed_where_not(bautin, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pathtrack.plotting import plot_diagram

    r, out = bautin
    c = r.cycles[0].result
    lpc = c.special_points[0].lam
    with load(out) as d:
        fig, ax = plt.subplots()
        plot_diagram(d, None, ax)
    color = "C1"  # the first color after the diagram's one branch
    lines = [ln for ln in ax.lines if ln.get_color() == color]
    dashed = np.concatenate([ln.get_xdata() for ln in lines if ln.get_linestyle() == "--"])
    solid = np.concatenate([ln.get_xdata() for ln in lines if ln.get_linestyle() == "-"])
    unstable = c.lam[c.n_unstable > 0]
    assert set(unstable) <= set(dashed) and not set(c.lam[c.n_unstable == 0][1:]) & set(dashed)
    assert dashed.max() <= 0.0 and dashed.min() > lpc - 0.05  # from the Hopf point to the fold of cycles
    assert solid.max() == pytest.approx(1.0) and set(c.lam[c.n_unstable == 0]) <= set(solid)
    assert {t.get_text() for t in ax.texts} == {"HB", "LPC"}
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"stable", "unstable", "LPC: fold of cycles"}
    for y, top in (("period", c.period.max()), ("amplitude", c.amplitude.max()), ("max", None), ("p[0]", None)):
        ax.clear()
        with load(out) as d:
            plot_diagram(d, y, ax)
        cyc = [ln for ln in ax.lines if ln.get_color() == color]
        assert len(cyc) == 2 and {ln.get_linestyle() for ln in cyc} == {"-", "--"}, y  # one run of each
        if top is not None:
            assert max(ln.get_ydata().max() for ln in cyc) == pytest.approx(top), y
    plt.close(fig)
    runner = CliRunner()
    png = str(tmp_path / "d.png")
    res = runner.invoke(main, ["plot", out, "--kind", "orbits", "--out", png, "--dpi", "20"])
    assert res.exit_code == 0 and os.path.getsize(png) > 200, res.output
    # a cycles file drawn as a diagram
    cyc = str(tmp_path / "c.h5")
    c.to_hdf5(cyc)
    res = runner.invoke(main, ["plot", cyc, "--kind", "diagram", "--out", png, "--dpi", "20"])
    assert res.exit_code == 0 and os.path.getsize(png) > 200, res.output


@pytest.mark.slow
def test_kill_during_the_cycle_branches_then_resume_keeps_the_orbits(bautin, tmp_path, monkeypatch):
    """The process dies as it stores the cycle branch (after the equilibrium branch is committed); resume
    continues the Hopf point and stores the same orbits."""
    r, _ = bautin
    out = str(tmp_path / "killed.h5")

    def die(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(DiagramWriter, "add_cycles", die)
    with pytest.raises(SystemExit):
        diagram(HopfNormalForm(**BAUTIN), depth=1, out=out, cycles=CYCLE_OPTS)
    monkeypatch.undo()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with h5py.File(out, "r+") as h:  # as a killed writer leaves it: another process's pid, gone
        h.attrs["writer_pid"] = int(dead.stdout)
    with load(out) as f:
        assert f.status == "running" and len(f.branches) == 1 and f.cycles == [] and f.explorer["pending"] == []
    res = CliRunner().invoke(main, ["diagram", "hopf-normal-form", "--set", "l1=1", "--set", "l2=-1", "--resume",
                                    out, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert [c["cycle"] for c in summary["cycles"]] == [0] and summary["message"] == "1 branches, 1 cycle branch(es)"
    with load(out) as f:
        assert f.status == "success" and len(f.cycles) == 1 and f.cycle_info[0]["parent_branch"] == 0
        _assert_same_orbits(f.cycles[0], r.cycles[0].result)
    res = CliRunner().invoke(main, ["diagram", "hopf-normal-form", "--set", "l1=1", "--set", "l2=-1", "--resume", out])
    assert res.exit_code == 2 and "nothing left to do" in res.output


def test_schema_2_diagram_still_reads(bautin, tmp_path):
    _, out = bautin
    old = str(tmp_path / "v2.h5")
    with h5py.File(out, "r") as src, h5py.File(old, "w") as h:
        for k, v in src.attrs.items():
            if k != "cycle_options":
                h.attrs[k] = v
        h.attrs["schema_version"] = 2
        for name in ("tree", "tables"):
            src.copy(src[name], h, name)
    with load(old) as f:
        assert f.cycle_options is None and f.cycles == [] and len(f.branches) == 1
    res = CliRunner().invoke(main, ["plot", old, "--kind", "orbits"])
    assert res.exit_code == 2 and "--cycles" in res.output and res.output.count("\n") == 1


def test_bad_cycle_options_are_one_line_errors(bautin, tmp_path):
    _, out = bautin
    runner = CliRunner()
    cases = [(["diagram", "hopf-normal-form", "-c", "ntst=10"], "add --cycles"),
             (["diagram", "hopf-normal-form", "--cycles", "-c", "ntst=1"], "ntst"),
             (["diagram", "hopf-normal-form", "--cycles", "-c", "nosuch=1"], "nosuch"),
             (["diagram", "pitchfork", "--cycles"], "not an ODE right-hand side"),
             (["diagram", "hopf-normal-form", "--cycles", "--resume", out], "cannot be combined"),
             (["plot", out, "--kind", "cycles"], "--kind diagram"),
             (["plot", out, "--kind", "diagram", "--y", "p[7]"], "out of range")]
    for args, text in cases:
        res = runner.invoke(main, args)
        assert res.exit_code == 2 and text in res.output and res.output.count("\n") == 1, (args, res.output)
    with pytest.raises(OptionsError, match="not an ODE right-hand side"):
        diagram(Pitchfork(), cycles=True)


@pytest.mark.slow
def test_kill_9_in_a_cycle_branch_loses_only_it_and_resume_finishes(tmp_path):
    import signal
    import time

    path = str(tmp_path / "k.h5")
    opts = ["-c", "ntst=10", "-c", "ncol=3", "-c", "max_ds=0.01"]
    args = ["diagram", "hopf-normal-form", "--set", "l1=1", "--set", "l2=-1"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pathtrack.cli", *args, "--cycles", *opts, "--out", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    tmp = f"{path}.cycle-{proc.pid}.tmp"
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not os.path.exists(tmp):
            time.sleep(0.005)
        in_cycles = proc.poll() is None and os.path.exists(tmp)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert in_cycles, "the run ended before it could be killed: " + proc.stderr.read().decode(errors="replace")[-300:]
    with load(path) as f:
        assert f.status == "running" and len(f.branches) == 1 and f.cycles == []
    resumed = subprocess.run([sys.executable, "-m", "pathtrack.cli", *args, "--resume", path], capture_output=True,
                             text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert not os.path.exists(tmp)  # the killed process's temporary file is removed
    ref = diagram(HopfNormalForm(**BAUTIN), depth=1, cycles={"ntst": 10, "ncol": 3, "max_ds": 0.01})
    with load(path) as f:
        assert f.status == "success" and len(f.cycles) == 1
        _assert_same_orbits(f.cycles[0], ref.cycles[0].result)


def test_a_cycle_branch_whose_first_orbit_fails_is_stored_and_reported(tmp_path):
    out = str(tmp_path / "fail.h5")
    r = diagram(HopfNormalForm(), depth=1, out=out, cycles={"ntst": 10, "initial_ds": 50.0, "max_ds": 60.0,
                                                             "max_newton_iters": 1, "newton_tol": 1e-15})
    assert r.status is Status.success and r.message.endswith("failed: cycle branch 0 newton_failed")
    assert r.cycles[0].result.profile.shape == (0, 10 * 4 + 1, 2)
    with load(out) as f:
        (c,) = f.cycles
        assert c.status == "newton_failed" and len(c.orbits["lam"]) == 0
        assert f.summary()["cycles"][0]["hopf_lam"] == r.branches[0].result.special_points[0].lam
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pathtrack.plotting import plot_diagram

    fig, ax = plt.subplots()
    with load(out) as d:
        plot_diagram(d, None, ax)  # the branch without orbits draws nothing
    assert {ln.get_color() for ln in ax.lines} == {"C0", "k"}
    plt.close(fig)


@pytest.mark.slow
def test_interrupt_in_a_cycle_branch_ends_the_diagram_interrupted_and_resume_finishes(bautin, tmp_path, monkeypatch):
    import dataclasses

    import pathtrack.periodic as periodic

    r, _ = bautin
    out = str(tmp_path / "int.h5")
    real = periodic.continue_cycles

    def interrupted(*args, **kwargs):  # as Ctrl-C during the branch leaves it
        return dataclasses.replace(real(*args, **kwargs), status=Status.interrupted)

    monkeypatch.setattr(periodic, "continue_cycles", interrupted)
    first = diagram(HopfNormalForm(**BAUTIN), depth=1, out=out, cycles=CYCLE_OPTS)
    monkeypatch.undo()
    assert first.status is Status.interrupted and first.cycles == []
    with load(out) as f:
        assert f.status == "interrupted" and f.cycles == [] and len(f.branches) == 1
    assert not [n for n in os.listdir(tmp_path) if ".cycle-" in n]  # the branch's temporary file is removed
    done = diagram(HopfNormalForm(**BAUTIN), resume=out)
    assert done.status is Status.success and [c.id for c in done.cycles] == [0]
    with load(out) as f:
        _assert_same_orbits(f.cycles[0], r.cycles[0].result)
