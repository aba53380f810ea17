"""HDF5 path files: round trip against PathResult, events, rejected steps, p every k, overwrite, errors."""

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from _h5util import CtrlCAt, as_schema_1, read_everything, run_to_file, same
from pathtrack.cli import main
from pathtrack.driver import track
from pathtrack.hdf5 import FORMAT, SCHEMA_VERSION, PathWriter, StorageError, load
from pathtrack.options import TrackerOptions
from pathtrack.problem import FunctionProblem
from pathtrack.status import RejectReason

COLUMNS = ("lam", "s", "ds", "n_newton_iters", "residual", "contraction", "sigma_min", "det_sign", "wall_time")


def test_round_trip_matches_path_result(tmp_path):
    path = tmp_path / "pf.h5"
    res, problem, options = run_to_file(path, "pitchfork")
    assert res.success
    with load(path) as f:
        assert f.attrs["format"] == FORMAT and f.attrs["schema_version"] == SCHEMA_VERSION
        assert f.problem == "pitchfork" and f.parameters == problem.params
        assert f.options == options and f.status == "success" and f.finished
        assert f.attrs["end_reason"] == res.end_reason
        for name in COLUMNS:
            np.testing.assert_array_equal(getattr(f, name), getattr(res, name), err_msg=name)
        np.testing.assert_array_equal(f.p_steps, res.p_steps)
        np.testing.assert_array_equal(f.p[:], res.p)
        np.testing.assert_array_equal(f.tangent[:], res.tangent)
        np.testing.assert_array_equal(f.p[5], res.p[5])
        np.testing.assert_array_equal(f.p_at(7), res.p[7])
        assert int(f.attrs["n_accepted"]) == res.n_accepted and int(f.attrs["n_steps"]) == res.n_steps
        assert json.loads(f.attrs["counters"]) == res.counters
        st = f.checkpoint()
        np.testing.assert_array_equal(st.y, res.state.y)
        assert st.n_accepted == res.n_accepted and st.status == res.status
        assert f.summary()["state"] == "finished"


def test_metrics_and_complex_p_round_trip(tmp_path):
    problem = FunctionProblem(lambda p, lam: p - lam * (1 + 2j), np.zeros(2, complex), 0.0, lam_end=1.0,
                              dH_dp=lambda p, lam: np.eye(2, dtype=complex),
                              dH_dlam=lambda p, lam: -np.full(2, 1 + 2j),
                              metrics=lambda p, lam: {"loss": float(np.abs(p[0]) ** 2), "acc": lam})
    options = TrackerOptions(parameterisation="natural", max_ds=0.2)
    writer = PathWriter.create(str(tmp_path / "c.h5"), problem, options)
    res = track(problem, options=options, observers=[writer])
    assert res.success and set(res.metrics) == {"loss", "acc"}
    with load(tmp_path / "c.h5") as f:
        assert f.metrics_names == ["acc", "loss"]
        for k, v in res.metrics.items():
            np.testing.assert_array_equal(f.metrics[k], v)
        assert np.iscomplexobj(f.p[0])
        np.testing.assert_allclose(f.p[-1], [1 + 2j, 1 + 2j], rtol=1e-10)
        np.testing.assert_array_equal(f.start_point().p, res.p[0])


def test_store_p_every_keeps_scalars_every_step(tmp_path):
    path = tmp_path / "every.h5"
    res, _, _ = run_to_file(path, "pitchfork", store_p_every=4)
    with load(path) as f:
        n = res.n_accepted + 1
        assert len(f.lam) == n and len(f.s) == n
        expected = list(range(0, n, 4))
        if expected[-1] != n - 1:
            expected.append(n - 1)  # the final point is always kept
        assert f.p_steps.tolist() == expected == res.p_steps.tolist()
        np.testing.assert_array_equal(f.p[:], res.p)
        np.testing.assert_array_equal(f.p_at(8), res.p[2])
        with pytest.raises(KeyError, match="store_p_every=4"):
            f.p_at(5)
        assert f.p.shape == (len(expected), 2)


def test_fold_event_of_bratu(tmp_path):
    path = tmp_path / "bratu.h5"
    res, problem, _ = run_to_file(path, "bratu1d", {"n": 20})
    _, lam_fold = problem.fold_point()
    with load(path) as f:
        evs = f.events
        assert [e["kind"] for e in evs] == ["fold"]
        assert evs[0]["lam"] == pytest.approx(lam_fold, abs=1e-8)
        assert evs[0]["step"] == res.special_points[0].step and evs[0]["s"] == res.special_points[0].s
        np.testing.assert_array_equal(f.event_p(0), res.special_points[0].p)


def test_branch_point_event_of_pitchfork(tmp_path):
    path = tmp_path / "pf.h5"
    run_to_file(path, "pitchfork")
    with load(path) as f:
        evs = f.events
        assert [e["kind"] for e in evs] == ["bp"]
        assert evs[0]["lam"] == pytest.approx(0.5, abs=1e-9)
        np.testing.assert_allclose(f.event_p(0), [0.0, 0.5], atol=1e-9)


def test_rejected_steps_recorded_with_reasons(tmp_path):
    path = tmp_path / "lin.h5"
    res, _, _ = run_to_file(path, "linear-complex")
    assert res.n_rejected > 0
    with load(path) as f:
        rej = f.rejected
        assert len(rej["index"]) == res.n_rejected
        assert list(rej["reason"]) == [r["reason"] for r in res.rejected]
        assert "angle" in set(rej["reason"])
        np.testing.assert_array_equal(rej["index"], [r["index"] for r in res.rejected])
        np.testing.assert_array_equal(rej["ds"], [r["ds"] for r in res.rejected])
        # accepted and rejected attempts interleave: together they number every attempt
        assert sorted(f.index[1:].tolist() + rej["index"].tolist()) == list(range(1, res.n_steps + 1))
        assert f.summary()["rejected_reasons"] == {"angle": res.n_rejected}


def test_reject_reasons_are_stored_as_codes_with_their_names(tmp_path):
    path = tmp_path / "lin.h5"
    res, _, _ = run_to_file(path, "linear-complex")
    with h5py.File(path, "r") as h:
        ds = h["rejected/reason"]
        assert ds.dtype.kind == "i" and ds.dtype.itemsize == 1
        names = json.loads(ds.attrs["names"])
        assert names == {str(int(r)): r.name for r in RejectReason}
        assert [names[str(c)] for c in ds[...]] == [r["reason"] for r in res.rejected]


def test_schema_1_string_reasons_still_read(tmp_path):
    path = tmp_path / "lin.h5"
    res, _, _ = run_to_file(path, "linear-complex")
    before = read_everything(path)
    as_schema_1(path)
    with load(path) as f:
        assert f.attrs["schema_version"] == 1
        assert list(f.rejected["reason"]) == [r["reason"] for r in res.rejected]
        assert f.summary()["rejected_reasons"] == {"angle": res.n_rejected}
    after = read_everything(path)
    after["summary"]["schema_version"] = before["summary"]["schema_version"]
    assert same(before, after)
    out = CliRunner().invoke(main, ["inspect", str(path)])
    assert out.exit_code == 0 and f"angle: {res.n_rejected}" in out.output


def test_damaged_reason_names_are_a_storage_error(tmp_path):
    path = tmp_path / "lin.h5"
    run_to_file(path, "linear-complex")
    with h5py.File(path, "r+") as h:
        h["rejected/reason"].attrs["names"] = json.dumps({"0": "none"})
    with load(path) as f, pytest.raises(StorageError, match="rejected/reason"):
        f.rejected


def test_refuses_overwrite_without_force(tmp_path):
    path = tmp_path / "x.h5"
    _, problem, options = run_to_file(path, "pitchfork")
    with pytest.raises(FileExistsError, match="--force"):
        PathWriter.create(str(path), problem, options)
    runner = CliRunner()
    r = runner.invoke(main, ["run", "pitchfork", "--out", str(path)])
    assert r.exit_code == 2 and "--force" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["run", "pitchfork", "--out", str(path), "--force", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["out"] == str(path)
    with load(path) as f:
        assert f.status == "success" and f.problem == problem.name


def test_flush_interval_still_writes_everything_at_finish(tmp_path):
    path = tmp_path / "slowflush.h5"
    res, _, _ = run_to_file(path, "pitchfork", flush_interval=3600.0)
    with load(path) as f:
        np.testing.assert_array_equal(f.lam, res.lam)
        assert f.checkpoint().n_accepted == res.n_accepted


def test_interrupt_finalises_file(tmp_path):
    """Ctrl-C mid-path: the tracker stops with `interrupted`, the writer closes the file cleanly."""
    path = tmp_path / "int.h5"
    res, _, _ = run_to_file(path, "pitchfork", observers=[CtrlCAt(6)])
    assert res.status.name == "interrupted"
    with load(path) as f:
        assert f.status == "interrupted" and f.finished and f.attrs["finished"]
        assert len(f.lam) == res.n_accepted + 1 == 7
        np.testing.assert_array_equal(f.lam, res.lam)
        assert f.checkpoint().n_accepted == 6


def test_inspect_text_and_json(tmp_path):
    path = tmp_path / "pf.h5"
    res, _, _ = run_to_file(path, "pitchfork")
    runner = CliRunner()
    r = runner.invoke(main, ["inspect", str(path), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["problem"] == "pitchfork" and info["status"] == "success" and info["state"] == "finished"
    assert info["n_accepted"] == res.n_accepted and info["n_rejected"] == 0
    assert info["lam_min"] == -1.0 and info["lam_max"] == 2.0
    assert [e["kind"] for e in info["events"]] == ["bp"]
    r = runner.invoke(main, ["inspect", str(path)])
    assert r.exit_code == 0
    for text in ("pitchfork", "success", f"{res.n_accepted} accepted", "bp", "finished", "timing"):
        assert text in r.output


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all" * 10])
def test_unreadable_files_are_one_line_errors(tmp_path, content):
    path = tmp_path / "bad.h5"
    path.write_bytes(content)
    with pytest.raises(StorageError, match="not a readable HDF5 file"):
        load(path)
    r = CliRunner().invoke(main, ["inspect", str(path)])
    assert r.exit_code == 2 and r.output.startswith("Error: ") and r.output.count("\n") == 1


def test_foreign_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h:
        h["x"] = np.arange(3)
    with pytest.raises(StorageError, match="not a pathtrack path file"):
        load(path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "pf.h5"
    run_to_file(path, "pitchfork")
    with h5py.File(path, "r+") as h:
        h.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(StorageError, match="upgrade pathtrack"):
        load(path)


def test_read_everything_twice_is_stable(tmp_path):
    path = tmp_path / "pf.h5"
    run_to_file(path, "linear-complex")
    assert same(read_everything(path), read_everything(path))


def test_interrupt_between_counting_and_reporting_a_step(tmp_path):
    """Ctrl-C after the tracker counted step 6 but before the writer saw it: the file ends at step 5."""
    from pathtrack.registry import make_problem
    problem = make_problem("linear-complex")
    options = TrackerOptions(**problem.default_options)
    path = str(tmp_path / "ahead.h5")
    writer = PathWriter.create(path, problem, options, flush_interval=0.0)
    res = track(problem, options=options, observers=[CtrlCAt(6), writer])
    assert res.status.name == "interrupted" and res.state.n_accepted == 6
    with load(path) as f:
        assert f.status == "interrupted" and len(f.lam) == 6 and int(f.attrs["n_accepted"]) == 5
        st = f.checkpoint()
        assert st.n_accepted == 5 and st.status.name == "interrupted"
        np.testing.assert_array_equal(st.y[-1], f.lam[-1])
        assert len(f.rejected["index"]) == st.n_rejected
    ref = track(problem, options=options)
    writer, state, start = PathWriter.resume(path, problem, options)
    track(problem, start.p, start.lam, options=options, observers=[writer], resume=state)
    with load(path) as f:
        assert f.status == "success"
        np.testing.assert_allclose(f.lam, ref.lam, atol=1e-12, rtol=0)
