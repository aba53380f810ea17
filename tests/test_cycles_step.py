"""What one cycle step reports: the corrector's residual at its returned point, the compile notice of the
collocation kernels, and the cheap forms of remeshing and of the multipliers' counts."""

import io
import sys
import time

import numpy as np
import pytest

from pathtrack import compilenotice
from pathtrack import events as ev
from pathtrack.options import TrackerOptions
from pathtrack.periodic import continuation, continue_cycles
from pathtrack.periodic.collocation import BatchedRHS, CollocationSystem
from pathtrack.periodic.continuation import CycleCorrector
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.rossler import Rossler


def _orbit_system(ntst=8, ncol=4):
    """The Brusselator (A = 1) near its Hopf point λ = 2: a system and an orbit-like point on it."""
    sysm = CollocationSystem(BatchedRHS(Brusselator(A=1.0), 2), np.linspace(0.0, 1.0, ntst + 1), ncol)
    sysm.rhs.probe(np.array([1.0, 2.0]), 2.05)
    wave = 0.1 * np.column_stack([np.cos(2 * np.pi * sysm.times), np.sin(2 * np.pi * sysm.times)])
    y = sysm.pack(np.array([1.0, 2.0]) + wave, 2 * np.pi, 2.05)
    sysm.set_reference(y)
    return sysm, y


def test_corrector_residual_is_the_residual_at_the_returned_point():
    pb = Brusselator(A=1.0)
    r = continue_cycles(pb, (np.array([1.0, 2.0]), 2.0), ntst=8, ncol=4, max_ds=0.1, max_steps=3)
    sysm = CollocationSystem(BatchedRHS(pb, 2), r.mesh[-1], 4)
    sysm.rhs.probe(r.profile[-1][0], r.lam[-1])
    y = sysm.pack(r.profile[-1], r.period[-1], r.lam[-1])
    sysm.set_reference(y)
    y = y + 1e-3 * np.cos(np.arange(sysm.size))  # off the orbit: Newton takes a few iterations
    border = np.zeros(sysm.size)
    border[-1] = 1.0  # λ held
    res = CycleCorrector(TrackerOptions(max_newton_iters=12)).correct(sysm, y, border, float(y[-1]))
    assert res.code.name == "converged" and res.n_iters >= 2
    at_y = float(np.linalg.norm(sysm.F(res.y)))
    assert res.residual == pytest.approx(at_y, rel=1e-12, abs=1e-300)
    # not the last Jacobian's iterate: Newton's residual there is larger by orders of magnitude
    before = sysm.newton_step(y, border, float(y[-1]))[3]
    assert res.residual < 1e-6 * before


def test_cycle_compile_notice_is_the_solvers_one_second_notice(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert compilenotice.COMPILE_NOTICE_SECONDS == 1.0
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(compilenotice, "_announced", set())
    monkeypatch.setattr(compilenotice, "COMPILE_NOTICE_SECONDS", 0.01)
    monkeypatch.setattr(continuation, "_collocation_compiled", lambda: True)
    with continuation._compile_notice():  # loaded or cached: no compile to announce
        time.sleep(0.1)
    assert err.getvalue() == ""
    monkeypatch.setattr(continuation, "_collocation_compiled", lambda: False)
    with continuation._compile_notice():
        time.sleep(0.2)
    assert err.getvalue() == ("pathtrack: compiling the collocation kernels of cycle continuation (first run only; "
                              "later runs load it from Numba's cache)...\n")


def test_kernels_count_as_compiled_once_a_cycle_system_has_run():
    sysm, y = _orbit_system()
    sysm.newton_step(y, sysm.weights() * y, 1.0)
    assert continuation._collocation_compiled()


def test_remesh_of_several_orbits_is_each_orbit_remeshed_alone():
    sysm, y = _orbit_system(ntst=9, ncol=3)
    z = y[::-1].copy()
    new = np.sort(np.concatenate([[0.0, 1.0], np.random.default_rng(1).uniform(0, 1, 11)]))
    both = sysm.remesh(np.stack([y, z]), new)
    for row, orbit in zip(both, (y, z)):
        alone = sysm.remesh(orbit, new)
        assert alone.shape == row.shape == (12 * 3 * 2 + 1 * 2 + 2,)
        assert np.array_equal(row, alone)
        t = continuation.CollocationSystem(sysm.rhs, new, 3).times
        assert np.array_equal(alone[:-2].reshape(-1, 2), sysm.interpolate(orbit, t))


@pytest.mark.parametrize("mu", [[1.0 + 0j, -0.5, 0.2], [0.3 + 0.9j, 0.3 - 0.9j, 1.0 - 1e-9],
                                [1.1, 0.999, 1.001], [np.nan + 0j] * 3, [], [2.0 + 0j]])
def test_nontrivial_multipliers_and_the_unstable_count_match_numpy(mu):
    mu = np.asarray(mu, dtype=complex)
    k = int(np.argmin(np.abs(mu - 1.0))) if mu.size else 0
    ref = np.delete(mu, k) if mu.size else mu
    got = ev.nontrivial_multipliers(mu)
    assert got.dtype == complex and np.array_equal(got, ref, equal_nan=True)
    assert ev.n_outside(mu) == int(np.sum(np.abs(ref) > 1.0 + 1e-6))


def test_a_problem_with_all_three_batch_methods_is_called_directly():
    rhs = BatchedRHS(Rossler(), 3)
    rhs.probe(np.array([0.1, -0.2, 0.3]), 0.1)
    X = np.random.default_rng(0).normal(size=(12, 3))
    f, fu, fl = rhs.all(X, 0.13)
    assert np.array_equal(f, rhs.f(X, 0.13)) and np.array_equal(fu, rhs.fu(X, 0.13))
    assert np.array_equal(fl, rhs.flam(X, 0.13))
    assert rhs.n_evals == 24  # f's evaluations, as counted by f
