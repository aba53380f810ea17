"""Automatic bifurcation diagrams: the tree, closing at known points, the file, kill -9 and resume, the plot."""

import json
import os
import signal
import subprocess
import sys
import time

import autograd.numpy as anp
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import FunctionProblem, Status
from pathtrack.cli import main
from pathtrack.diagram import diagram
from pathtrack.io import DiagramFile, load
from pathtrack.options import OptionsError
from pathtrack_problems.pitchfork import Pitchfork
from pathtrack_problems.predprey import PredatorPrey

PATHTRACK = [sys.executable, "-m", "pathtrack.cli"]

#: AUTO-07p 0.9.2 (Debian package auto-07p) on the predator-prey model of problems/predprey.py
#: (the model of AUTO's demo pp2), continued in PAR(1) from u = 0 at PAR(1) = 0 with ISW=1,
#: MXBF=10 (automatic branch switching), EPSL=EPSU=1e-10, EPSS=1e-8, DS=0.01, DSMAX=0.05;
#: the values are PAR(1) of the labelled points in its s-file (11 significant digits), read by
#: benchmarks/auto/pp/parse_s.py. The model and constants files are benchmarks/auto/pp/.
AUTO_PP = {"BP1": 0.59999999698, "BP2": 0.82190434537, "LP": 0.83292932223, "HB": 0.67159384926}


def _points(result, kind):
    return [sp for b in result.branches for sp in b.result.special_points if sp.kind == kind]


def test_pitchfork_diagram_tree_and_branches():
    r = diagram(Pitchfork(), depth=2)
    assert r.success and r.n_branches == 3
    root, *kids = r.branches
    assert root.parent == -1 and [k.parent for k in kids] == [0, 0] and [k.depth for k in kids] == [1, 1]
    signs = set()
    for k in kids:
        assert k.result.success and k.result.lam_end == pytest.approx(2.0)
        p1, lam = k.result.p[:, 0], k.result.lam[k.result.p_steps]
        np.testing.assert_allclose(p1 ** 2, lam - 0.5, atol=1e-9)  # p₁ = ±√(λ − λ*)
        signs.add(np.sign(p1[-1]))
    assert signs == {-1.0, 1.0}


def test_branch_between_two_known_points_is_closed_not_tracked_twice():
    """p (λ² + p − 1) = 0: the parabola p = 1 − λ² joins the two branch points λ = ±1 of p = 0."""
    # a start off the lattice of steps that would land exactly on λ = -1, where J is singular
    pb = FunctionProblem(lambda p, lam: anp.array([p[0] * (lam ** 2 + p[0] - 1.0)]), np.array([0.0]), -1.97,
                         lam_end=2.0)
    r = diagram(pb, depth=3, options={"parameterisation": "arclength", "max_ds": 0.1})
    assert r.success
    bps = sorted(sp.lam for sp in r.branches[0].result.events("bp"))
    assert bps == pytest.approx([-1.0, 1.0], abs=1e-8)
    # root, then at λ = -1 both halves of the parabola; the one through its top arrives at λ = 1
    # and closes there; at λ = 1 only the half going down is new
    assert r.n_branches == 4
    closed = [b for b in r.branches if b.result.status is Status.event_terminated]
    assert len(closed) == 1
    stop = closed[0].result.special_points[-1]  # the path ends at the accepted step after it
    assert stop.kind == "bp" and stop.lam == pytest.approx(1.0, abs=1e-12) and abs(stop.p[0]) < 1e-12
    for b in r.branches[1:]:
        lam = b.result.lam[b.result.p_steps]
        np.testing.assert_allclose(b.result.p[:, 0], 1.0 - lam ** 2, atol=1e-9)
    lam_ends = sorted(round(b.result.lam_end, 9) for b in r.branches[1:] if b.result.success)
    assert lam_ends == [-1.97, 2.0]


def test_predprey_points_match_closed_forms_and_auto():
    pb = PredatorPrey()
    r = diagram(pb, depth=2)
    bp1, bp2 = pb.branch_points()
    bps = sorted({round(sp.lam, 12) for sp in _points(r, "bp")})
    assert bps == pytest.approx([bp1, bp2], abs=1e-11)
    (fold,) = _points(r, "fold")
    (hopf,) = _points(r, "hopf")
    # independent checks: at the fold of u₂ = 0, dλ/du₁ = 0 of λ(u₁) = p₂u₁(1 − u₁)/(1 − e^(−p₃u₁));
    # at the Hopf point of u₁ = 1/p₄ the trace of dH_dp vanishes
    u1 = fold.p[0]
    lam_of = lambda u: 3 * u * (1 - u) / (1 - np.exp(-5 * u))  # noqa: E731
    assert (lam_of(u1 + 1e-6) - lam_of(u1 - 1e-6)) / 2e-6 == pytest.approx(0.0, abs=1e-6)
    assert np.trace(pb.dH_dp(hopf.p, hopf.lam)) == pytest.approx(0.0, abs=1e-9)
    assert hopf.p[0] == pytest.approx(1.0 / 3.0, abs=1e-12)
    # the bifurcation equation at λ = p₂/p₃ on u = 0: a = p₂ − λp₃²/2, b = p₃, c = 0 (docs/bifurcation.md)
    (first,) = [sp for sp in _points(r, "bp") if abs(sp.lam - bp1) < 1e-9]
    np.testing.assert_allclose([first.extra[k] for k in "abc"], [3.0 - 0.6 * 25 / 2, 5.0, 0.0], atol=1e-8)
    assert first.extra["type"] == "transcritical" and hopf.extra["l1"] < 0
    # AUTO agrees to its printed 11 digits (its BP1 is 3e-9 off the exact 0.6)
    assert bp1 == pytest.approx(AUTO_PP["BP1"], abs=5e-9)
    assert bp2 == pytest.approx(AUTO_PP["BP2"], abs=1e-10)
    assert fold.lam == pytest.approx(AUTO_PP["LP"], abs=1e-10)
    assert hopf.lam == pytest.approx(AUTO_PP["HB"], abs=5e-9)


def test_diagram_file_holds_every_branch_as_a_path(tmp_path):
    out = str(tmp_path / "pf.h5")
    r = diagram(Pitchfork(), depth=1, out=out)
    with load(out) as f:
        assert isinstance(f, DiagramFile) and f.status == "success" and f.depth == 1
        assert list(f.tree["branch"]) == [0, 1, 2] and list(f.tree["parent"]) == [-1, 0, 0]
        assert list(f.tree["n_children"]) == [2, 0, 0] and list(f.tree["origin_event"]) == [-1, 0, 0]
        for b, pf in zip(r.branches, f.branches):
            np.testing.assert_array_equal(pf.lam, b.result.lam)
            np.testing.assert_array_equal(pf.p[:], b.result.p)
            assert pf.status == b.result.status.name
        assert [e["kind"] for e in f.branches[0].events] == ["bp"]
        assert f.explorer["pending"] == []
    res = CliRunner().invoke(main, ["inspect", out, "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["kind"] == "bifurcation diagram" and info["n_branches"] == 3
    png = str(tmp_path / "pf.png")
    res = CliRunner().invoke(main, ["plot", out, "--kind", "diagram", "--y", "p[0]", "--out", png])
    assert res.exit_code == 0, res.output
    assert os.path.getsize(png) > 1000


def test_bad_input_is_one_line_exit_2(tmp_path):
    for depth in (0, -1, 1.5, "2", True):
        with pytest.raises(OptionsError, match="depth must be a positive integer"):
            diagram(Pitchfork(), depth=depth)
    runner = CliRunner()
    for depth in ("0", "x", "-3", "1.5"):
        res = runner.invoke(main, ["diagram", "pitchfork", "--depth", depth])
        assert res.exit_code == 2 and res.output.count("\n") == 1 and "positive integer" in res.output
    out = str(tmp_path / "pf.h5")
    diagram(Pitchfork(), depth=1, out=out)
    res = runner.invoke(main, ["plot", out, "--kind", "steps"])
    assert res.exit_code == 2 and "--kind diagram" in res.output
    res = runner.invoke(main, ["diagram", "pitchfork", "--resume", out])
    assert res.exit_code == 2 and "nothing left to do" in res.output


@pytest.mark.slow
def test_kill_9_loses_at_most_the_branch_in_progress_and_resume_finishes(tmp_path):
    path = str(tmp_path / "pp.h5")
    args = ["diagram", "predprey", "--depth", "2"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen(PATHTRACK + args + ["--out", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    stored = 0
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                with DiagramFile(path) as f:
                    stored = len(f.branches)
            except Exception:  # noqa: BLE001 (not created yet)
                stored = 0
            if stored >= 2:
                break
            time.sleep(0.2)
        if proc.poll() is None:  # a live writer's diagram is not resumed under it
            res = CliRunner().invoke(main, ["diagram", "predprey", "--resume", path])
            assert res.exit_code == 2 and "is being written by process" in res.output
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert stored >= 2, ("the run ended before it could be killed: "
                         + proc.stderr.read().decode(errors="replace").strip()[-300:])
    with load(path) as f:
        assert f.status == "running" and 2 <= len(f.branches) < 5 and f.explorer["pending"]
    resumed = subprocess.run(PATHTRACK + ["diagram", "predprey", "--resume", path, "--json"], capture_output=True,
                             text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    ref = diagram(PredatorPrey(), depth=2)
    with load(path) as f:
        assert f.status == "success" and len(f.branches) == ref.n_branches == 5
        assert list(f.tree["parent"]) == [b.parent for b in ref.branches]
        for pf, b in zip(f.branches, ref.branches):
            assert [e["kind"] for e in pf.events] == [sp.kind for sp in b.result.special_points]
            np.testing.assert_allclose([e["lam"] for e in pf.events], [sp.lam for sp in b.result.special_points],
                                       atol=1e-12)
            assert pf.num_steps == b.result.lam.size


def test_branches_are_appended_not_the_file_rewritten(tmp_path, monkeypatch):
    """Each branch is appended to the open SWMR file: one copy of the file when it finishes, none per branch."""
    from pathtrack.io import h5

    copies = []
    real_rewrite = h5.rewrite
    monkeypatch.setattr(h5, "rewrite", lambda path, edit, compress=True: (copies.append(path),
                                                                        real_rewrite(path, edit, compress)))
    out = str(tmp_path / "pf.h5")
    r = diagram(Pitchfork(), depth=2, out=out)
    assert r.n_branches == 3 and copies.count(out) == 1  # finish() only (each branch's own file is finished too)
    with load(out) as f:
        assert int(f.attrs["schema_version"]) == 3 and list(f.tree["n_children"]) == [2, 0, 0]
        (bp,) = f.branches[0].events
        # the symmetric pitchfork of the plugin, with its bifurcation equation stored with the point
        assert bp["kind"] == "bp" and bp["type"] == "pitchfork" and bp["kernel_dim"] == 2
        assert abs(bp["a"]) < 1e-8 and bp["b"] > 0
        for pf, b in zip(f.branches, r.branches):
            np.testing.assert_array_equal(pf.lam, b.result.lam)
            assert pf.checkpoint().n_accepted == b.result.n_accepted


def _as_schema_1(src: str, dst: str, status: str) -> None:
    """Write the diagram ``src`` in the layout of diagram schema 1: each branch a path file's group."""
    import h5py

    with DiagramFile(src) as d, h5py.File(dst, "w", libver=("v110", "v110")) as h:
        for k, v in d.attrs.items():
            h.attrs[k] = v
        h.attrs.update(schema_version=1, status=status)
        for c in ("branch", "parent", "origin_event", "depth", "n_children"):
            h.create_dataset(f"tree/{c}", data=d.tree[c], maxshape=(None,), chunks=(256,))
        for b, mem in zip(d.tree["branch"], d._memory):
            g = h.create_group(f"branches/{int(b):04d}")
            for k, v in mem.attrs.items():
                g.attrs[k] = v
            for name in mem:
                mem.copy(mem[name], g, name)


def test_schema_1_diagram_still_opens_and_resumes_into_tables(tmp_path):
    first = str(tmp_path / "stopped.h5")
    r = diagram(Pitchfork(), depth=1, out=first, max_branches=2)  # stops with one branch left to track
    assert r.status is Status.max_steps_reached and r.n_branches == 2
    old = str(tmp_path / "v1.h5")
    _as_schema_1(first, old, "max_steps_reached")
    with load(old) as f:
        assert int(f.attrs["schema_version"]) == 1 and len(f.branches) == 2 and f.explorer["pending"]
        assert [e["kind"] for e in f.branches[0].events] == ["bp"]
    done = diagram(Pitchfork(), resume=old)
    assert done.success and done.n_branches == 3
    ref = diagram(Pitchfork(), depth=1)
    with load(old) as f:
        assert int(f.attrs["schema_version"]) == 3 and f.status == "success" and len(f.branches) == 3
        for pf, b in zip(f.branches, ref.branches):
            np.testing.assert_array_equal(pf.lam, b.result.lam)


def test_fold_curve_stored_in_the_diagram_file(tmp_path):
    from pathtrack.twoparam import continue_curve
    from test_normalform import Cusp

    out = str(tmp_path / "cusp.h5")
    pb = Cusp()
    r = diagram(pb, depth=1, out=out, options={"parameterisation": "arclength", "max_ds": 0.1})
    ((k, fold),) = [(i, sp) for i, sp in enumerate(r.branches[0].result.special_points) if sp.kind == "fold"]
    curve = continue_curve(pb, fold, "mu", direction=-1, lam_min=-0.1, lam_max=0.1, out=out, parent=(0, k))
    assert curve.success and [sp.kind for sp in curve.special_points] == ["cusp"]
    with load(out) as f:
        assert len(f.branches) == 1 and len(f.curves) == 1
        assert f.curve_info == [{"curve": 0, "curve_kind": "fold", "par2": "mu", "parent_branch": 0,
                                 "parent_event": k}]
        np.testing.assert_array_equal(f.curves[0].lam, curve.lam)
        assert f.curves[0].events[0]["kind"] == "cusp"
        assert f.branches[0].events[k]["a"] == pytest.approx(fold.extra["a"])
    res = CliRunner().invoke(main, ["inspect", out, "--json"])
    assert res.exit_code == 0, res.output
    (c,) = json.loads(res.output)["curves"]
    assert c["curve_kind"] == "fold" and c["par2_end"] == pytest.approx(-0.1) and c["events"][0]["kind"] == "cusp"
    png = str(tmp_path / "tp.png")
    res = CliRunner().invoke(main, ["plot", out, "--kind", "twoparam", "--out", png])
    assert res.exit_code == 0 and os.path.getsize(png) > 1000, res.output
    # a diagram still written (or killed) gets no curve
    running = str(tmp_path / "running.h5")
    _as_schema_1(out, running, "running")
    with pytest.raises(Exception, match="add the curve when it has finished"):
        continue_curve(pb, fold, "mu", direction=-1, lam_min=-0.1, lam_max=0.1, out=running, parent=(0, k))
