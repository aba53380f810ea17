"""Branch switching at simple branch points, checked on normal forms with closed-form branches."""

import autograd.numpy as anp
import numpy as np
import pytest

from pathtrack import FunctionProblem, Problem, StartPoint, track
from pathtrack.branching import BranchSwitchError, analyse_branch_point, parent_tangent_at, switch_branch


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _same_line(t, want, tol=1e-8):
    """``t`` and ``want`` span the same line (tangents are defined up to sign)."""
    return min(np.linalg.norm(t - want), np.linalg.norm(t + want)) < tol


def _bp_and_analysis(problem, **options):
    result = track(problem, **options)
    assert result.success, result.message
    bps = result.events("bp")
    assert len(bps) == 1
    analysis = analyse_branch_point(problem, bps[0], parent_tangent=parent_tangent_at(result, bps[0]))
    return result, bps[0], analysis


def test_transcritical_tangents_and_branches():
    """p' = λp − p²: branches p = 0 and p = λ cross at the origin."""
    pb = FunctionProblem(lambda p, lam: anp.array([lam * p[0] - p[0] ** 2]), np.array([0.0]), -1.0, lam_end=1.0)
    result, bp, a = _bp_and_analysis(pb, parameterisation="arclength")
    assert abs(bp.lam) < 1e-10
    assert a.kernel_dim == 2
    assert _same_line(a.tangents[a.parent], _unit([0.0, 1.0]))
    (new,) = a.new_tangents
    assert _same_line(new, _unit([1.0, 1.0]))
    assert a.kinds.count("transcritical") == 1
    children = switch_branch(pb, result, bp)
    assert len(children) == 2
    ends = sorted(float(c.lam[-1]) for c in children)
    assert ends == pytest.approx([-1.0, 1.0])  # both halves reach the λ-box edges
    for c in children:
        assert c.success
        np.testing.assert_allclose(c.p[:, 0], c.lam[c.p_steps], atol=1e-9)  # every point on p = λ


class _Z2Rotated(Problem):
    """A Z2-symmetric pitchfork in rotated coordinates p = R q, with a second unknown that bends.

    In q: G₁ = q₁ (λ − a − q₁² + q₂²), G₂ = q₂ − λ − q₁². The trivial branch q₁ = 0, q₂ = λ meets
    the symmetry-breaking branch at λ* with λ*² + λ* − a = 0, where its tangent is q̇ = (1, 0), λ̇ = 0.
    """

    name = "z2-rotated"
    a, angle = 0.3, 0.7

    def __init__(self):
        super().__init__()
        c, s = np.cos(self.angle), np.sin(self.angle)
        self.R = np.array([[c, -s], [s, c]])
        self.lam_start, self.lam_end = -0.5, 1.0

    def H(self, p, lam):
        R = self.R
        q1 = R[0, 0] * p[0] + R[1, 0] * p[1]
        q2 = R[0, 1] * p[0] + R[1, 1] * p[1]
        g1 = q1 * (lam - self.a - q1 ** 2 + q2 ** 2)
        g2 = q2 - lam - q1 ** 2
        return anp.stack([R[0, 0] * g1 + R[0, 1] * g2, R[1, 0] * g1 + R[1, 1] * g2])

    def start(self):
        return StartPoint(self.R @ np.array([0.0, self.lam_start]), self.lam_start)


def test_symmetry_breaking_pitchfork_in_two_unknowns():
    pb = _Z2Rotated()
    result, bp, a = _bp_and_analysis(pb)
    lam_star = (-1.0 + np.sqrt(1.0 + 4.0 * pb.a)) / 2.0
    assert bp.lam == pytest.approx(lam_star, abs=1e-10)
    parent = np.append(pb.R @ np.array([0.0, 1.0]), 1.0)
    assert _same_line(a.tangents[a.parent], _unit(parent))
    (new,) = a.new_tangents
    assert _same_line(new, _unit(np.append(pb.R @ np.array([1.0, 0.0]), 0.0)))
    assert a.kinds[1 - a.parent] == "pitchfork"
    children = switch_branch(pb, result, bp)
    assert len(children) == 2
    q1_signs = set()
    for c in children:
        assert c.success, c.message
        q = c.p @ pb.R  # rows q = Rᵀ p
        lam = c.lam[c.p_steps]
        np.testing.assert_allclose(q[:, 1], lam + q[:, 0] ** 2, atol=1e-9)
        np.testing.assert_allclose(lam - pb.a - q[:, 0] ** 2 + q[:, 1] ** 2, 0.0, atol=1e-9)
        q1_signs.add(np.sign(q[-1, 0]))
    assert q1_signs == {-1.0, 1.0}  # the two mirror images


class _GradientPitchfork(Problem):
    """L = λp²/2 − p⁴/4: ∇L = λp − p³; at λ = 0 the maximum p = 0 becomes a minimum (index change)
    and the maxima p = ±√λ are born."""

    name = "gradient-pitchfork"
    is_gradient = True
    lam_start, lam_end = -1.0, 1.0

    def loss(self, p, lam):
        return anp.sum(lam * p ** 2 / 2.0 - p ** 4 / 4.0)

    def start(self):
        return StartPoint(np.array([0.0]), -1.0)


def test_hessian_index_change_is_switched_like_a_branch_point():
    pb = _GradientPitchfork()
    result = track(pb, parameterisation="arclength", corrector="newton")
    assert result.success, result.message
    (ic,) = result.events("index_change")
    a = analyse_branch_point(pb, ic, parent_tangent=parent_tangent_at(result, ic))
    assert a.kernel_dim == 2
    (new,) = a.new_tangents
    assert _same_line(new, np.array([1.0, 0.0]))
    children = switch_branch(pb, result, ic)
    for c in children:
        assert c.success
        np.testing.assert_allclose(c.p[:, 0] ** 2, c.lam[c.p_steps], atol=1e-9)  # p = ±√λ: the saddles
        lam, p = c.lam[c.p_steps], c.p[:, 0]
        np.testing.assert_array_equal(c.metrics["hessian_index"][c.p_steps], (lam - 3 * p ** 2 < 0).astype(float))


def test_fold_is_not_switched():
    """The perturbed pitchfork λp − p³ + ε has folds, no branch point: switching there is refused."""
    pb = FunctionProblem(lambda p, lam: anp.array([lam * p[0] - p[0] ** 3 + 0.01]), np.array([-1.0]), 1.0,
                         lam_end=1.0)
    result = track(pb, p0=np.array([-1.2]), lam0=1.0, parameterisation="arclength", lam_min=-1.0, lam_max=1.0,
                   direction=-1)
    folds = result.events("fold")
    assert folds and not result.events("bp")
    with pytest.raises(BranchSwitchError, match="kernel dimension 1"):
        analyse_branch_point(pb, folds[0])
    with pytest.raises(BranchSwitchError, match="not a branch point"):
        switch_branch(pb, result, folds[0])


def test_degenerate_and_higher_kernels_are_reported_not_guessed():
    # H = (p₁² − λ², p₂² − λ²)·... at the origin: J = 0, kernel dimension 3
    pb = FunctionProblem(lambda p, lam: anp.array([p[0] ** 2 - lam ** 2, p[1] ** 2 - lam ** 2]),
                         np.array([1.0, 1.0]), 1.0)
    with pytest.raises(BranchSwitchError, match="kernel dimension 3"):
        analyse_branch_point(pb, (np.zeros(2), 0.0))
    # H = λp − p³ − λ³ ... a cubic contact: second derivatives vanish at the origin
    cubic = FunctionProblem(lambda p, lam: anp.array([lam ** 2 * p[0] - p[0] ** 3]), np.array([0.0]), -1.0)
    with pytest.raises(BranchSwitchError, match="degenerate branch point"):
        analyse_branch_point(cubic, (np.zeros(1), 0.0))


def test_cli_switch_at_a_path_files_event(tmp_path):
    from click.testing import CliRunner

    from pathtrack.cli import main

    runner = CliRunner()
    pf, bratu = str(tmp_path / "pf.h5"), str(tmp_path / "bratu.h5")
    assert runner.invoke(main, ["run", "pitchfork", "--out", pf]).exit_code == 0
    res = runner.invoke(main, ["switch", pf, "--event", "0", "--json"])
    assert res.exit_code == 0, res.output
    import json
    branches = json.loads(res.output)["branches"]
    assert len(branches) == 2 and all(b["status"] == "success" and b["lam_end"] == 2.0 for b in branches)
    res = runner.invoke(main, ["switch", pf, "--event", "1"])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "has 1 event(s)" in res.output
    assert runner.invoke(main, ["run", "bratu1d", "--set", "n=20", "--out", bratu]).exit_code == 0
    res = runner.invoke(main, ["switch", bratu, "--event", "0"])  # the fold
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "not a branch point" in res.output and "kernel dimension 1" in res.output
