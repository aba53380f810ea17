"""`pathtrack plot`: every kind writes a non-blank PNG; bad inputs are one-line errors."""

import matplotlib.image as mpimg
import numpy as np
import pytest
from click.testing import CliRunner

from _h5util import run_to_file
from pathtrack.cli import main
from pathtrack.driver import track
from pathtrack.hdf5 import PathWriter, load
from pathtrack.options import TrackerOptions
from pathtrack.plotting import KINDS, branch_values
from pathtrack.problem import FunctionProblem


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    run_to_file(d / "bratu.h5", "bratu1d", {"n": 20})
    run_to_file(d / "lin.h5", "linear-complex")
    problem = FunctionProblem(lambda p, lam: p ** 3 + p - lam, np.zeros(1), 0.0, lam_end=2.0,
                              dH_dp=lambda p, lam: np.diag(3 * p ** 2 + 1), dH_dlam=lambda p, lam: -np.ones(1),
                              metrics=lambda p, lam: {"loss": float(p[0] ** 2), "grad": float(3 * p[0] ** 2)})
    options = TrackerOptions(max_ds=0.2)
    track(problem, options=options, observers=[PathWriter.create(str(d / "metrics.h5"), problem, options)])
    return d


def _check_png(path, min_size=(200, 300)):
    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] >= min_size[0] and img.shape[1] >= min_size[1]
    assert float(np.std(img[..., :3])) > 0.01  # not blank
    return img


@pytest.mark.parametrize("name", ["bratu", "lin", "metrics"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_writes_a_png(files, name, kind):
    out = files / f"{name}_{kind}.png"
    r = CliRunner().invoke(main, ["plot", str(files / f"{name}.h5"), "--kind", kind, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"written   {out}" in r.output
    img = _check_png(out)
    assert img.shape[:2] == ((480 if kind == "branch" else 600), 640)


def test_default_output_name_and_y_choices(files):
    runner = CliRunner()
    r = runner.invoke(main, ["plot", str(files / "bratu.h5")])
    assert r.exit_code == 0, r.output
    _check_png(files / "bratu.branch.png")
    for y in ("p[3]", "p[-1]", "norm"):
        out = files / f"bratu_y{y.replace('[', '').replace(']', '')}.png"
        r = runner.invoke(main, ["plot", str(files / "bratu.h5"), "--y", y, "--out", str(out)])
        assert r.exit_code == 0, r.output
        _check_png(out)
    r = runner.invoke(main, ["plot", str(files / "metrics.h5"), "--y", "loss", "--out", str(files / "m.png")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["plot", str(files / "metrics.h5"), "--kind", "metrics", "--y", "grad",
                             "--out", str(files / "m2.png")])
    assert r.exit_code == 0, r.output


def test_branch_values_are_the_norms_and_components(files):
    with load(files / "bratu.h5") as f:
        lam, vals, label, of_point = branch_values(f, None)
        np.testing.assert_allclose(vals, np.linalg.norm(f.p[:], axis=1))
        np.testing.assert_array_equal(lam, f.lam[f.p_steps])
        assert of_point(f.event_p(0)) == pytest.approx(np.linalg.norm(f.event_p(0)))
        _, comp, label, _ = branch_values(f, "p[2]")
        np.testing.assert_array_equal(comp, f.p[:][:, 2])
        assert label == "p[2]"


@pytest.mark.parametrize("args, message", [
    (["--y", "p[99]"], "out of range"),
    (["--y", "nonsense"], "expected 'norm'"),
    (["--kind", "metrics", "--y", "loss"], "not a metric"),
])
def test_bad_y_is_a_one_line_error(files, args, message):
    r = CliRunner().invoke(main, ["plot", str(files / "bratu.h5"), *args, "--out", str(files / "no.png")])
    assert r.exit_code == 2 and message in r.output and r.output.count("\n") == 1, r.output
    assert not (files / "no.png").exists()


def test_corrupt_and_missing_files_are_one_line_errors(files, tmp_path):
    bad = tmp_path / "trunc.h5"
    bad.write_bytes((files / "bratu.h5").read_bytes()[:3000])
    for path in (bad, tmp_path / "missing.h5"):
        r = CliRunner().invoke(main, ["plot", str(path), "--out", str(tmp_path / "x.png")])
        assert r.exit_code == 2 and r.output.startswith("Error: ") and r.output.count("\n") == 1, r.output


def test_unwritable_output_is_a_one_line_error(files, tmp_path):
    r = CliRunner().invoke(main, ["plot", str(files / "bratu.h5"), "--out", str(tmp_path / "nodir" / "x.png")])
    assert r.exit_code == 2 and r.output.startswith("Error: cannot write"), r.output
