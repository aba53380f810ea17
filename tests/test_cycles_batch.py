"""Cycle steps: the right-hand side at all collocation points in one call, the compiled residual and
measures, and what a cycle run reports when a plugin's batch methods are wrong or an interrupt lands."""

import autograd
import numpy as np
import pytest

from pathtrack import Event, ProblemError, Status
from pathtrack.io import CyclesFile
from pathtrack.linalg import SingularJacobianError
from pathtrack.periodic import continue_cycles
from pathtrack.periodic.collocation import BatchedRHS, CollocationSystem
from pathtrack.problem import NonFiniteError, Problem
from pathtrack_problems.ab_reaction import ABReaction
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.lorenz import Lorenz
from pathtrack_problems.normal_forms import HopfNormalForm, SnicCircle
from pathtrack_problems.predprey import PredatorPrey
from pathtrack_problems.rossler import Rossler

PLUGINS = [Rossler(), Brusselator(A=1.5), PredatorPrey(), Lorenz(), ABReaction(),
           HopfNormalForm(l1=1.0, l2=-1.0), HopfNormalForm(lam2=0.5), SnicCircle(a=0.7)]


@pytest.mark.parametrize("pb", PLUGINS, ids=lambda pb: pb.name)
def test_bundled_batch_methods_agree_with_autograd_of_H(pb):
    n = len(pb.start().p) if not isinstance(pb, (HopfNormalForm, SnicCircle)) else 2
    P = np.random.default_rng(3).normal(size=(7, n))
    lam = 0.37
    np.testing.assert_array_equal(pb.H_batch(P, lam), [pb.H(p, lam) for p in P])
    jac = [autograd.jacobian(lambda q: pb._H_array(q, lam))(p) for p in P]
    np.testing.assert_allclose(pb.dH_dp_batch(P, lam), jac, rtol=1e-13, atol=1e-13)
    dlam = [autograd.jacobian(lambda t: pb._H_array(p, t))(lam) for p in P]
    np.testing.assert_allclose(pb.dH_dlam_batch(P, lam), dlam, rtol=1e-13, atol=1e-13)
    rhs = BatchedRHS(pb, n)
    rhs.probe(P[0], lam)  # the checks of a cycle run pass
    assert all(rhs.own.values())


class PointwiseBrusselator(Problem):
    """The Brusselator (A = 1) for one point at a time (``float``), no batch methods: an old plugin."""

    is_ode_rhs = True
    A = 1.0

    def H(self, p, lam):
        u, v = float(p[0]), float(p[1])
        return np.array([self.A - (lam + 1.0) * u + u * u * v, lam * u - u * u * v])

    def dH_dp(self, p, lam):
        u, v = float(p[0]), float(p[1])
        return np.array([[-(lam + 1.0) + 2 * u * v, u * u], [lam - 2 * u * v, -u * u]])

    def dH_dlam(self, p, lam):
        return np.array([-float(p[0]), float(p[0])])


def test_a_plugin_without_batch_methods_gives_the_same_branch_point_by_point():
    start, opts = (np.array([1.0, 2.0]), 2.0), dict(ntst=6, ncol=3, max_ds=0.05, lam_max=2.1)
    old = PointwiseBrusselator()
    rhs = BatchedRHS(old, 2)
    rhs.probe(np.array([1.0, 2.0]), 2.0)
    assert not rhs.vectorised and not any(rhs.own.values())  # the Problem's defaults, row by row
    a, b = continue_cycles(old, start, **opts), continue_cycles(Brusselator(), start, **opts)
    assert a.status is b.status is Status.success and a.n_steps == b.n_steps
    np.testing.assert_allclose(a.profile, b.profile, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.period, b.period, rtol=1e-13)


class WrongShape(Brusselator):
    def H_batch(self, P, lam):
        return super().H_batch(P, lam)[:, :1]


class Disagrees(Brusselator):
    def dH_dlam_batch(self, P, lam):
        return -super().dH_dlam_batch(P, lam)


class Raises(Brusselator):
    def dH_dp_batch(self, P, lam):
        return P[:, 5]  # a plugin's bug: there is no column 5


def test_wrong_batch_methods_are_one_line_problem_errors():
    start = (np.array([1.0, 2.0]), 2.0)
    wrong = r"H_batch returned shape \(2, 1\) for 2 points, expected \(2, 2\)"
    with pytest.raises(ProblemError, match=wrong) as exc:
        continue_cycles(WrongShape(), start, ntst=5)
    assert "\n" not in str(exc.value)
    with pytest.raises(ProblemError, match="dH_dlam_batch disagrees with dH_dlam") as exc:
        continue_cycles(Disagrees(), start, ntst=5)
    assert "\n" not in str(exc.value)
    with pytest.raises(ProblemError, match=r"dH_dp_batch\(P, lam\) raised IndexError") as exc:
        continue_cycles(Raises(), start, ntst=5)
    assert "\n" not in str(exc.value)


class NaNAbove(Brusselator):
    """f, or only f_u, is NaN where u > 1.5."""

    def __init__(self, what, **params):
        super().__init__(**params)
        self.what = what

    def H_batch(self, P, lam):
        out = super().H_batch(P, lam)
        return np.where(P[:, :1] > 1.5, np.nan, out) if self.what == "H" else out

    def dH_dp_batch(self, P, lam):
        out = super().dH_dp_batch(P, lam)
        return np.where(P[:, :1, None] > 1.5, np.nan, out) if self.what == "dH_dp" else out


def _orbit_system(pb, ntst=8, ncol=4):
    sysm = CollocationSystem(BatchedRHS(pb, 2), np.linspace(0.0, 1.0, ntst + 1), ncol)
    sysm.rhs.probe(np.array([1.0, 2.0]), 2.0)
    t = 2 * np.pi * sysm.times
    y = sysm.pack(np.column_stack([1.0 + np.cos(t), 2.0 + np.sin(t)]), 6.3, 2.0)
    sysm.set_reference(y)
    return sysm, y


def test_non_finite_rhs_raises_non_finite_in_residual_solve_and_monodromy():
    sysm, y = _orbit_system(NaNAbove("H"))
    with pytest.raises(NonFiniteError):
        sysm.F(y)
    with pytest.raises(NonFiniteError):
        sysm.solve(y, sysm.weights() * y, np.ones(sysm.size))
    sysm, y = _orbit_system(NaNAbove("dH_dp"))
    assert np.all(np.isfinite(sysm.F(y)))
    for call in (lambda: sysm.solve(y, sysm.weights() * y, np.ones(sysm.size)), lambda: sysm.monodromy(y)):
        with pytest.raises(NonFiniteError):
            call()
    sysm, y = _orbit_system(Brusselator())
    with pytest.raises(SingularJacobianError):  # a finite but singular system is not a NaN
        sysm.solve(y, np.zeros(sysm.size), np.ones(sysm.size))


def test_residual_phase_row_and_measures_match_their_definitions():
    pb = Brusselator()
    rng = np.random.default_rng(5)
    mesh = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 29)]))
    sysm = CollocationSystem(BatchedRHS(pb, 2), mesh, 4)
    sysm.rhs.probe(np.array([1.0, 2.0]), 2.0)
    t = 2 * np.pi * sysm.times
    U = np.column_stack([1.0 + 0.5 * np.cos(t), 2.0 + 0.25 * np.sin(t)])
    y = sysm.pack(U, 6.3, 2.0)
    V = np.column_stack([np.sin(t), -np.cos(t)])  # v' = 2π(cos, sin): ∫ u·v' = 2π·0.5·½ + 2π·0.25·½
    sysm.set_reference(sysm.pack(V, 1.0, 0.0))
    F = sysm.F(y)
    # collocation: u' − T f at the Gauss points, from the basis directly
    B, h, idx = sysm.basis, np.diff(mesh), sysm.node_idx
    Z = np.einsum("ki,jia->jka", B.L, U[idx]).reshape(-1, 2)
    dZ = (np.einsum("ki,jia->jka", B.D, U[idx]) / h[:, None, None]).reshape(-1, 2)
    np.testing.assert_allclose(F[:sysm.n_colloc], (dZ - 6.3 * pb.H_batch(Z, 2.0)).ravel(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(F[sysm.n_colloc:-1], U[0] - U[-1])
    # phase: Σ_j U_jᵀ (Lᵀ diag(w) D) V_j, exact for the piecewise polynomials; the circle's value to 1e-5
    assert F[-1] == pytest.approx(sum(np.sum(U[i] * (B.phase @ V[i])) for i in idx), rel=1e-13)
    assert F[-1] == pytest.approx(2 * np.pi * 0.375, rel=1e-5)
    l2, amplitude, max_abs = sysm.measures(y)
    assert l2 == pytest.approx(np.sqrt(sysm.node_weights @ np.sum(U * U, axis=1)), rel=1e-14)
    assert l2 == pytest.approx(np.sqrt(1 + 0.125 + 4 + 0.03125), rel=1e-5)  # mean of |u|² over a period
    assert sysm.l2_norm(y) == l2
    assert amplitude == pytest.approx(0.5, rel=1e-3) and max_abs == np.max(np.abs(U))
    ca, cb, cab = sysm.deviations(y, sysm.pack(1.0 - (U - [1.0, 2.0]), 6.3, 2.0))  # mirrored about the mean
    assert ca == pytest.approx(0.125 + 0.03125, rel=1e-5) and cb == pytest.approx(ca, rel=1e-12)
    assert cab == pytest.approx(-ca, rel=1e-12)
    # two points remeshed at once, as each alone
    new = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 29)]))
    both = sysm.remesh(np.stack([y, 2 * y]), new)
    np.testing.assert_array_equal(both[0], sysm.remesh(y, new))
    np.testing.assert_array_equal(both[1], sysm.remesh(2 * y, new))


def test_an_interrupt_during_an_orbits_tests_counts_only_the_stored_orbits(tmp_path):
    calls = []

    def second_ctrl_c(p, lam):  # a KeyboardInterrupt (a second Ctrl-C) while the 4th step's tests run
        calls.append(lam)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return 1.0

    out = str(tmp_path / "cyc.h5")
    r = continue_cycles(Brusselator(), (np.array([1.0, 2.0]), 2.0), ntst=10, max_ds=0.05, out=out,
                        events=[Event("ctrl-c", second_ctrl_c)])
    assert r.status is Status.interrupted and r.n_accepted == 3 and len(r.lam) == r.n_accepted + 1
    f = CyclesFile(out)
    assert len(f.orbits["lam"]) == 4 and int(f.checkpoint["n_accepted"]) == 3
    assert float(f.checkpoint["s"]) == r.s[-1]


def test_the_batch_example_of_writing_a_problem_runs():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "writing_a_problem.md").read_text()
    block = text[text.index("## 6."):]
    scope = {}
    exec(compile(re.findall(r"```python\n(.*?)```", block, re.S)[0], "writing_a_problem.md", "exec"), scope)
    pb = scope["HopfCircles"]()
    r = continue_cycles(pb, (np.zeros(2), 0.0), lam_max=0.5, ntst=10)
    assert r.status is Status.success and r.lam[-1] == pytest.approx(0.5)
    np.testing.assert_allclose(r.l2, np.sqrt(r.lam), rtol=1e-6)
    np.testing.assert_allclose(r.period, 2 * np.pi, rtol=1e-6)
