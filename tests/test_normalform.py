"""Normal-form coefficients of folds and branch points against closed forms, stored with the points."""

import autograd.numpy as anp
import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import FunctionProblem, Problem, StartPoint, track
from pathtrack.branching import BranchSwitchError
from pathtrack.cli import main
from pathtrack.io import PathWriter, load
from pathtrack.normalform import branch_point_coefficients, fold_coefficients, normal_form
from pathtrack.options import TrackerOptions


def _scalar(f, n=1):
    return FunctionProblem(f, np.zeros(n), 0.0, lam_end=1.0)


class Cusp(Problem):
    """H = μ + λp − p³: folds at λ = 3p², μ = −2p³."""

    name = "cusp-normal-form"
    parameters = {"mu": 0.1}
    lam_start, lam_end, lam_min, lam_max = 1.5, 0.0, 0.0, 1.5

    def H(self, p, lam):
        return anp.stack([self.params["mu"] + lam * p[0] - p[0] ** 3])

    def start(self):
        return StartPoint(np.array([-1.2]), 1.5)


def test_fold_of_x2_minus_lambda_and_the_cusp():
    # x² − λ: w = −1 makes b = w·H_λ = 1; a = ½ w·2 = −1 (the branch x² = λ − λ* lies on λ > λ*)
    nf = fold_coefficients(_scalar(lambda p, lam: anp.array([p[0] ** 2 - lam])), [0.0], 0.0)
    assert nf["a"] == pytest.approx(-1.0, abs=1e-10) and nf["b"] == pytest.approx(1.0, abs=1e-12)
    assert nf["sigma"] < 1e-12
    # the cusp λ + μx − x³ at μ = 0: a = 0, cubic = −1; at μ > 0 its folds x = ±√(μ/3) have a = −3x
    cusp = fold_coefficients(_scalar(lambda p, lam: anp.array([lam - p[0] ** 3])), [0.0], 0.0)
    assert abs(cusp["a"]) < 1e-10 and cusp["b"] == pytest.approx(1.0) and cusp["cubic"] == pytest.approx(-1.0, abs=1e-8)
    mu = 0.3
    for x in (np.sqrt(mu / 3), -np.sqrt(mu / 3)):
        nf = fold_coefficients(_scalar(lambda p, lam: anp.array([lam + mu * p[0] - p[0] ** 3])), [x], x ** 3 - mu * x)
        assert nf["a"] == pytest.approx(-3 * x, abs=1e-8) and nf["b"] == pytest.approx(1.0, abs=1e-12)


def test_fold_cubic_includes_the_slaved_unknowns_at_a_cusp_in_two_unknowns():
    # H = (λ − xy − s x²/2 + c₀x³, y − x² + s x/2): on H₂ = 0, H₁ = λ + (c₀ − 1)x³, a cusp at the origin.
    # The kernel is v ∝ (1, −s/2), w = (1, 0), so x = v_x ξ + O(ξ²) and cubic = (c₀ − 1)v_x³; the
    # third derivative alone gives c₀v_x³ + (3/2)s v_x²v_y, which misses the y = x² term.
    from pathtrack.normalform import cusp_coefficient

    c0 = 0.7
    for s in (0.0, 1.0):
        pb = _scalar(lambda p, lam: anp.array([lam - p[0] * p[1] - 0.5 * s * p[0] ** 2 + c0 * p[0] ** 3,
                                               p[1] - p[0] ** 2 + 0.5 * s * p[0]]), n=2)
        v_x = 1.0 / np.sqrt(1.0 + 0.25 * s * s)
        nf = fold_coefficients(pb, [0.0, 0.0], 0.0)
        assert abs(nf["a"]) < 1e-10 and nf["b"] == pytest.approx(1.0, abs=1e-12)
        assert nf["cubic"] == pytest.approx((c0 - 1.0) * v_x ** 3, abs=1e-8)
        # cusp_coefficient normalises p·q = 1 instead of ‖w‖ = 1: c = cubic/(w·v)
        assert cusp_coefficient(pb, [0.0, 0.0], 0.0)["c"] == pytest.approx((c0 - 1.0) * v_x ** 2, abs=1e-8)


def test_branch_point_equations_in_closed_form():
    cases = {  # H: (a, b, c) of g = a ξ² + b ξ μ + c μ², and the type
        "transcritical": (lambda p, lam: anp.array([lam * p[0] - p[0] ** 2]), (-1.0, 1.0, 0.0)),
        "pitchfork": (lambda p, lam: anp.array([lam * p[0] - p[0] ** 3]), (0.0, 1.0, 0.0)),
        "general": (lambda p, lam: anp.array([2 * p[0] ** 2 + lam * p[0] - 3 * lam ** 2]), (2.0, 1.0, -3.0)),
    }
    for name, (H, abc) in cases.items():
        nf = branch_point_coefficients(_scalar(H), [0.0], 0.0)
        np.testing.assert_allclose([nf["a"], nf["b"], nf["c"]], abc, atol=1e-8, err_msg=name)
        assert nf["type"] == ("pitchfork" if name == "pitchfork" else "transcritical") and nf["kernel_dim"] == 2
    # a symmetry-breaking pitchfork in two unknowns (Z2: x1 → −x1)
    H2 = lambda p, lam: anp.array([lam * p[0] - p[0] ** 3 + p[0] * p[1], p[1] - p[0] ** 2])  # noqa: E731
    nf = branch_point_coefficients(_scalar(H2, 2), [0.0, 0.0], 0.0)
    np.testing.assert_allclose([nf["a"], nf["b"], nf["c"]], [0.0, 1.0, 0.0], atol=1e-8)
    assert nf["type"] == "pitchfork"
    # not a branch point: an exception naming the kernel dimension; normal_form reports only it
    fold = _scalar(lambda p, lam: anp.array([p[0] ** 2 - lam]))
    with pytest.raises(BranchSwitchError, match="kernel dimension 1") as exc:
        branch_point_coefficients(fold, [0.0], 0.0)
    assert exc.value.kernel_dim == 1
    assert normal_form(fold, "bp", [0.0], 0.0) == {"kernel_dim": 1}


def test_coefficients_are_stored_with_the_points_and_shown_by_inspect(tmp_path):
    path = str(tmp_path / "cusp.h5")
    pb = Cusp()
    opts = TrackerOptions.resolve({"parameterisation": "arclength", "max_ds": 0.1}, pb.default_options)
    r = track(pb, options=opts, observers=[PathWriter.create(path, pb, opts)])
    (fold,) = r.events("fold")
    x = -(0.1 / 2) ** (1 / 3)  # the fold's p: λ = 3p², μ = −2p³
    assert fold.extra["a"] == pytest.approx(3 * x, abs=1e-8) and fold.extra["b"] == pytest.approx(-x, abs=1e-8)
    assert fold.extra["cubic"] == pytest.approx(1.0, abs=1e-6)
    with load(path) as f:
        assert f.schema_version == 4
        (ev,) = f.events
        assert {k: ev[k] for k in fold.extra} == fold.extra
        assert f.event_extras == [fold.extra]
    res = CliRunner().invoke(main, ["inspect", path])
    assert res.exit_code == 0 and f"a={fold.extra['a']:.10g}" in res.output, res.output
    # a path file of schema 3 (no /events/extra) still opens: its events have no coefficients
    with h5py.File(path, "r+") as h:
        del h["events/extra"]
        h.attrs["schema_version"] = 3
    with load(path) as f:
        assert f.schema_version == 3 and f.event_extras == [{}] and f.events[0]["kind"] == "fold"
        assert "a" not in f.events[0]
