"""`pathtrack solve` command line."""

import json

import h5py
from click.testing import CliRunner

from pathtrack.cli import main


def test_json_counts_and_solutions():
    r = CliRunner().invoke(main, ["solve", "cyclic:5", "--seed", "1", "--json", "--solutions"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for key in ("n_paths", "n_regular", "n_singular", "n_at_infinity", "n_failed", "wall_time", "solutions"):
        assert key in out
    assert (out["n_paths"], out["n_regular"], out["n_failed"]) == (120, 70, 0)
    assert len(out["solutions"]) == 70 and len(out["solutions"][0]) == 5


def test_phc_file_text_output_and_hdf5(tmp_path):
    src = tmp_path / "circle.phc"
    src.write_text("2\n x^2 + 4*y^2 - 4;\n x*y - 0.5;\n")
    out = tmp_path / "e.h5"
    runner = CliRunner()
    r = runner.invoke(main, ["solve", str(src), "--workers", "1", "--out", str(out), "--solutions"])
    assert r.exit_code == 0, r.output
    assert "regular     4" in r.output and "solution 4:" in r.output
    with h5py.File(out, "r") as f:
        assert f["solutions/regular"].shape == (4, 2)
    again = runner.invoke(main, ["solve", str(src), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(main, ["solve", str(src), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output


def test_bad_file_gives_one_line_error(tmp_path):
    src = tmp_path / "bad.phc"
    src.write_text("2\n x^2 + y;\n x*y +* 3;\n")
    r = CliRunner().invoke(main, ["solve", str(src)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "line 3, column 7" in lines[0] and "Traceback" not in r.output


def test_unknown_system_and_bad_family():
    runner = CliRunner()
    r = runner.invoke(main, ["solve", "no-such-thing"])
    assert r.exit_code == 2 and "neither a file nor a family" in r.output
    r = runner.invoke(main, ["solve", "katsura:x"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
