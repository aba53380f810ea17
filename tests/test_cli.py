"""The command line: version, problem listing, run --json, and one-line errors with exit status 2."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from pathtrack import __version__
from pathtrack.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_problems_json_lists_builtins():
    r = invoke("problems", "--json")
    rows = {row["name"]: row for row in json.loads(r.output)}
    assert {"bratu1d", "ellipse", "pitchfork", "linear-complex"} <= set(rows)
    assert all(row["description"] for row in rows.values())


def test_run_bratu_json_reports_success_and_fold():
    r = invoke("run", "bratu1d", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    for key in ("problem", "status", "n_accepted", "n_rejected", "lam_start", "lam_end", "wall_time", "events"):
        assert key in summary
    assert summary["status"] == "success" and summary["problem"] == "bratu1d"
    assert summary["lam_end"] < 0.1 and summary["lam_start"] == pytest.approx(0.05)
    assert [e["kind"] for e in summary["events"]] == ["fold"]


def test_run_with_set_and_option():
    r = invoke("run", "pitchfork", "--set", "lam_bp=0.25", "-o", "max_ds=0.1", "--json")
    summary = json.loads(r.output)
    assert summary["status"] == "success"
    assert summary["events"][0]["kind"] == "bp" and summary["events"][0]["lam"] == pytest.approx(0.25, abs=1e-8)


def test_run_human_summary():
    r = invoke("run", "ellipse")
    assert r.exit_code == 0 and "status    success" in r.output and "fold" in r.output


@pytest.mark.parametrize("args, message", [
    (["run", "nope"], "unknown problem 'nope'"),
    (["run", "bratu1d", "--set", "n=abc"], "cannot read 'abc' as int"),
    (["run", "bratu1d", "--set", "zzz=1"], "has no parameter 'zzz'"),
    (["run", "bratu1d", "--set", "n"], "expects KEY=VALUE"),
    (["run", "bratu1d", "-o", "max_ds=-1"], "max_ds must be a positive"),
    (["run", "bratu1d", "-o", "bogus=1"], "unknown tracker option 'bogus'"),
    (["run", "ellipse", "--set", "a=-1"], "a and b must be positive"),
])
def test_user_errors_are_one_line_exit_2(args, message):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_failed_path_exits_1():
    r = invoke("run", "bratu1d", "-o", "max_steps=3", "--json")
    assert r.exit_code == 1 and json.loads(r.output)["status"] == "max_steps_reached"


def test_entry_point_plugin_from_throwaway_package(tmp_path):
    """A user package registers a problem and a system family via entry points; `problems`, `run` and
    `solve` see them."""
    src = tmp_path / "src"
    (src / "myplug").mkdir(parents=True)
    (src / "myplug" / "__init__.py").write_text(textwrap.dedent('''
        import numpy as np
        from pathtrack import Problem, StartPoint

        class Parabola(Problem):
            description = "throw-away test plugin p^2 = lam"
            parameters = {"shift": 1.0}
            lam_start, lam_end = 1.0, 4.0

            def H(self, p, lam):
                return p ** 2 - lam * self.params["shift"]

            def start(self):
                return StartPoint(np.array([1.0]), 1.0)

        def roots_of_unity(n, shift=0):
            from pathtrack.polynomial import parse_polynomials
            if n < 1:
                raise ValueError("n must be at least 1")
            return parse_polynomials([f"x^{n} - {1 + shift}", "y - x"])
    '''))
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "myplug-throwaway"
        version = "0.0.1"
        [project.entry-points."pathtrack.problems"]
        parabola-test = "myplug:Parabola"
        [project.entry-points."pathtrack.systems"]
        unity-test = "myplug:roots_of_unity"
        [tool.setuptools]
        packages = ["myplug"]
    '''))
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(src)]
    try:  # offline-friendly when the venv can build wheels itself; else pip fetches setuptools
        import wheel  # noqa: F401
        pip.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "pathtrack.cli"]
    out = subprocess.run(cli + ["problems", "--json"], env=env, capture_output=True, text=True, timeout=120)
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["parabola-test"]["description"] == "throw-away test plugin p^2 = lam"
    out = subprocess.run(cli + ["run", "parabola-test", "--set", "shift=1", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    summary = json.loads(out.stdout)
    assert summary["status"] == "success" and summary["lam_end"] == pytest.approx(4.0)
    out = subprocess.run(cli + ["solve", "unity-test:4", "--json"], env=env, capture_output=True, text=True,
                         timeout=300)
    summary = json.loads(out.stdout)
    assert summary["n_paths"] == 4 and summary["n_regular"] == 4 and summary["n_failed"] == 0
    out = subprocess.run(cli + ["solve", "unity-test:x"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "unity-test:n[:shift]" in out.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "pitchfork", "--out", "missing/x.h5"], "directory"),
    (["solve", "katsura:2", "--out", "missing/x.h5"], "directory"),
    (["train", "mnist", "--out", "missing/x.h5"], "directory"),
    (["run", "pitchfork", "--resume", "a.h5", "--out", "b.h5"], "--out cannot be combined with it"),
    (["train", "mnist", "--hidden", ""], "--hidden expects comma-separated integers, at least one and all positive"),
    (["train", "mnist", "--hidden", "100,0"], "--hidden expects comma-separated integers, at least one and all positive"),
    (["run", "deng-mnist", "--set", "hidden=abc"], "--set hidden=abc: cannot read 'abc' as int"),
])
def test_file_and_argument_errors_before_any_computation(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert message in r.output and "option hidden" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()
    if "missing/x.h5" in args:
        assert f"--out missing/x.h5: directory {tmp_path / 'missing'} does not exist" in r.output


def test_existing_out_names_the_cli_flag(tmp_path):
    out = tmp_path / "x.h5"
    out.write_bytes(b"keep")
    for args in (["run", "pitchfork"], ["solve", "katsura:2"]):
        r = CliRunner().invoke(main, [*args, "--out", str(out)])
        assert r.exit_code == 2 and "use --force to overwrite it" in r.output and "force=True" not in r.output
    assert out.read_bytes() == b"keep"


def test_plot_to_an_unsupported_image_type(tmp_path):
    path = tmp_path / "p.h5"
    assert invoke("run", "pitchfork", "--out", str(path)).exit_code == 0
    for name, what in (("x.txt", ".txt"), ("x", "(no extension)")):
        r = CliRunner().invoke(main, ["plot", str(path), "--out", str(tmp_path / name)])
        assert r.exit_code == 2, r.output
        assert f"unsupported image type {what}; use one of " in r.output and ".png" in r.output and ".pdf" in r.output
        assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / name).exists()


@pytest.mark.parametrize("value, error", [("1e308", "OverflowError"), ("1e-320", "ZeroDivisionError")])
def test_arithmetic_errors_of_a_problem_are_one_line(value, error):
    r = CliRunner().invoke(main, ["run", "ellipse", "--set", f"a={value}", "--set", f"b={value}"])
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"Error: ellipse: {error} in the problem's functions") and r.output.count("\n") == 1


def test_summary_of_a_run_that_never_started():
    r = invoke("run", "pitchfork", "--set", "lam_bp=nan")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.startswith("problem   pitchfork\nstatus    ")
