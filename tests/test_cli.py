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


@pytest.mark.slow
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


def test_summary_of_a_run_that_never_started(capsys):
    # NaN parameters are refused up front (exit 2); a start that is not finite still ends the run
    # before its first step, and its text summary must print.
    import numpy as np

    from pathtrack import FunctionProblem
    from pathtrack.cli import _print_summary
    from pathtrack.driver import track

    assert invoke("run", "pitchfork", "--set", "lam_bp=nan").exit_code == 2
    summary = track(FunctionProblem(lambda p, lam: p - lam, [np.nan], 0.0)).summary()
    assert summary["status"] == "invalid_start"
    _print_summary(summary)
    out = capsys.readouterr().out
    assert out.startswith("problem   ") and "status    invalid_start" in out


def _strict(text):
    def fail(name):
        raise AssertionError(f"not JSON: bare {name}")
    return json.loads(text, parse_constant=fail)


def _pathtrack(*args, **kw):
    return subprocess.run([sys.executable, "-m", "pathtrack.cli", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def test_fold_found_with_400_unknowns_through_the_cli():
    r = _pathtrack("run", "bratu1d", "--set", "n=400", "--json")
    assert r.returncode == 0, r.stderr
    summary = _strict(r.stdout)
    assert [e["kind"] for e in summary["events"]] == ["fold"]
    assert summary["events"][0]["lam"] == pytest.approx(3.51381935, abs=1e-7)
    assert set(summary["diagnostics_off"]) == {"sigma_min"}


@pytest.mark.parametrize("args, names, blames_not", [
    (["run", "bratu1d", "--set", "lam_min=5"], ["lam_min = 5", "lam_max = 4"], "start"),
    (["run", "pitchfork", "--set", "lam_bp=nan"], ["--set lam_bp=nan", "NaN"], "start"),
    (["run", "bratu1d", "-o", "lam_min=5", "-o", "lam_max=4.5"], ["lam_min"], "start"),
    (["run", "bratu1d", "-o", "lam_end=nan"], ["lam_end"], "start"),
    (["run", "bratu1d", "-o", "max_ds=0.01", "-o", "initial_ds=0.05"], ["initial_ds", "max_ds"], "Traceback"),
    (["run", "bratu1d", "--set", "n=abc"], ["--set n=abc: cannot read 'abc' as int"], "option"),
])
def test_invalid_start_setup_is_a_one_line_error_naming_the_setting(args, names, blames_not):
    r = _pathtrack(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for name in names:
        assert name in lines[0]
    assert blames_not not in lines[0]


@pytest.mark.parametrize("args, status", [
    (["run", "bratu1d", "-o", "lam_min=5", "-o", "lam_max=6"], "invalid_start"),
    (["run", "bratu1d", "--set", "lam_min=3.9"], "newton_failed"),
    (["run", "bratu1d", "-o", "max_steps=2"], "max_steps_reached"),
])
def test_text_summary_prints_for_every_status(args, status):
    r = _pathtrack(*args)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"status    {status}" in r.stdout and "lambda    " in r.stdout
    js = _pathtrack(*args, "--json")
    assert _strict(js.stdout)["status"] == status


def test_json_output_has_no_bare_nan(tmp_path):
    r = invoke("run", "bratu1d", "-o", "lam_min=5", "-o", "lam_max=6", "--json")
    summary = _strict(r.output)
    assert summary["lam_end"] is None and summary["lam_start"] == pytest.approx(0.05)
    out = str(tmp_path / "b.h5")
    assert invoke("run", "pitchfork", "--out", out, "--json").exit_code == 0
    info = _strict(invoke("inspect", out, "--json").output)
    assert info["status"] == "success" and "diagnostics_off" in info
    _strict(invoke("problems", "--json").output)


def test_max_ds_below_the_default_initial_ds_is_accepted():
    r = invoke("run", "bratu1d", "-o", "max_ds=0.01", "-o", "max_steps=3", "--json")
    assert r.exit_code == 1 and _strict(r.output)["status"] == "max_steps_reached"


def test_existing_out_file_error_speaks_cli(tmp_path):
    out = tmp_path / "x.h5"
    out.write_bytes(b"keep")
    r = CliRunner().invoke(main, ["run", "pitchfork", "--out", str(out)])
    assert r.exit_code == 2 and "--force" in r.output and "force=True" not in r.output
    assert out.read_bytes() == b"keep"


def test_resume_summary_keeps_the_original_start_and_cumulative_counters(tmp_path):
    out = str(tmp_path / "r.h5")
    full = _strict(invoke("run", "bratu1d", "--set", "n=30", "--json").output)
    first = invoke("run", "bratu1d", "--set", "n=30", "-o", "max_steps=10", "--out", out, "--json")
    assert _strict(first.output)["status"] == "max_steps_reached"
    second = _strict(invoke("run", "bratu1d", "--set", "n=30", "--resume", out, "--json").output)
    assert second["status"] == "success"
    assert second["lam_start"] == pytest.approx(0.05) == full["lam_start"]
    for key in ("n_accepted", "n_rejected", "n_steps", "n_newton_iters", "n_H_evals", "n_jac_evals"):
        assert second[key] == full[key], key
    assert [e["kind"] for e in second["events"]] == ["fold"]


def test_diagnostics_off_stored_in_the_file(tmp_path):
    out = str(tmp_path / "b.h5")
    r = invoke("run", "bratu1d", "--set", "n=50", "-o", "dense_max_n=40", "--out", out, "--json")
    assert r.exit_code == 0 and "dense_max_n = 40" in _strict(r.output)["diagnostics_off"]["bp"]
    info = _strict(invoke("inspect", out, "--json").output)
    assert info["diagnostics_off"] == _strict(r.output)["diagnostics_off"]
    assert "off       bp: 50 real unknowns > dense_max_n = 40" in invoke("inspect", out).output
