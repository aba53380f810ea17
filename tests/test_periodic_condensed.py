"""The condensed collocation solve (pathtrack.kernels.collocation) against a sparse LU of the whole system."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from pathtrack import Event, Status
from pathtrack.periodic import continue_cycles
from pathtrack.periodic.collocation import BatchedRHS, CollocationSystem
from pathtrack_problems.brusselator import Brusselator
from pathtrack_problems.rossler import Rossler


def _system(pb, n, ntst, ncol, seed=0):
    """A collocation system on a non-uniform mesh at a perturbed orbit-like point, with a random border."""
    rng = np.random.default_rng(seed)
    mesh = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0.0, 1.0, ntst - 1)]))
    sysm = CollocationSystem(BatchedRHS(pb, n), mesh, ncol)
    base = np.ones(n) if n == 2 else np.array([0.1, -0.2, 0.3])
    sysm.rhs.probe(base, 0.1)
    wave = np.column_stack([np.cos(2 * np.pi * sysm.times + k) for k in range(n)])
    U = base + 0.3 * wave + 0.01 * rng.standard_normal((sysm.n_nodes, n))
    y = sysm.pack(U, 6.1, 0.12 if n == 3 else 2.1)
    sysm.set_reference(y + 0.01 * rng.standard_normal(sysm.size))
    return sysm, y, rng.standard_normal(sysm.size), rng.standard_normal(sysm.size)


@pytest.mark.parametrize("ntst, ncol", [(2, 2), (7, 4), (30, 7), (60, 3)])
def test_condensed_solve_agrees_with_a_sparse_lu_of_the_whole_bordered_system(ntst, ncol):
    for pb, n in ((Rossler(), 3), (Brusselator(A=1.0), 2)):
        sysm, y, border, rhs = _system(pb, n, ntst, ncol)
        z = sysm.solve(y, border, rhs)
        ref = spla.spsolve(sysm.jacobian(y, border), rhs)
        assert np.max(np.abs(z - ref)) <= 1e-10 * np.max(np.abs(ref))
        # the factorisation is reused for another right-hand side with the same border
        rhs2 = np.roll(rhs, 5)
        z2 = sysm.resolve_last(border, rhs2)
        assert np.max(np.abs(z2 - spla.spsolve(sysm.jacobian(y, border), rhs2))) <= 1e-10 * np.max(np.abs(z2))
        assert sysm.resolve_last(border.copy(), rhs2) is None  # another border: no reuse


@pytest.mark.parametrize("ntst, ncol", [(3, 2), (25, 4), (80, 6)])
def test_monodromy_from_condensed_blocks_equals_the_variational_solve(ntst, ncol):
    sysm, y, _, _ = _system(Rossler(), 3, ntst, ncol, seed=1)
    M = sysm.monodromy(y)
    ref = sysm.variational(y)[-1]
    assert np.max(np.abs(M - ref)) <= 1e-11 * max(1.0, np.max(np.abs(ref)))


def test_singular_collocation_block_is_reported_not_a_traceback():
    from pathtrack.linalg import SingularJacobianError

    sysm, y, border, rhs = _system(Rossler(), 3, 5, 3)
    with pytest.raises(SingularJacobianError):
        sysm.solve(y, np.zeros_like(border), rhs)  # a zero border row: the bordered matrix is singular


def test_interrupted_cycle_run_with_progress_keeps_its_orbits(tmp_path):
    import signal

    from pathtrack.io import open_file

    calls = []

    def ctrl_c_on_fifth(p, lam):  # Ctrl-C while the fifth orbit's test functions are computed
        calls.append(lam)
        if len(calls) == 5:
            signal.raise_signal(signal.SIGINT)
        return 1.0

    out = str(tmp_path / "cyc.h5")
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the suite runs in a background job
    r = continue_cycles(Brusselator(), (np.array([1.0, 2.0]), 2.0), ntst=20, max_ds=0.05, progress=True,
                        out=out, events=[Event("ctrl-c", ctrl_c_on_fifth)])
    # the step under way is finished and stored: the first orbit and four steps
    assert r.status is Status.interrupted and len(r.lam) == r.n_accepted + 1 == 5
    f = open_file(out)
    assert f.status == "interrupted" and len(f.orbits["lam"]) == 5
    np.testing.assert_allclose(f.orbits["period"], r.period)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is restored


def test_each_collocation_kernel_has_one_specialisation():
    from pathtrack.kernels import collocation as kc

    for pb, n, ncol in ((Rossler(), 3, 4), (Brusselator(A=1.0), 2, 3)):
        sysm, y, border, rhs = _system(pb, n, 6, ncol)
        sysm.solve(y, border, rhs)
        sysm.monodromy(y + 1e-3)  # not the factorisation's point: condensed afresh
        sysm.monodromy_last()
        sysm.newton_step(y, border, 0.5)
        sysm.adapted_mesh([y])
        sysm.F(y)
        sysm.deviations(y, y)
        sysm.l2_norm(y)
    # the ones Python calls
    kernels = {name: getattr(kc, name) for name in ("factor", "solve", "monodromy", "chain", "newton_step",
                                                    "mesh_monitor", "at_gauss", "residual", "phase_row",
                                                    "measures", "deviations")}
    counts = {name: len(f.signatures) for name, f in kernels.items()}
    assert set(counts.values()) == {1}, counts


@pytest.mark.parametrize("ntst, ncol", [(2, 2), (9, 4), (30, 7)])
def test_newton_step_is_one_bordered_solve_of_the_residual(ntst, ncol):
    for pb, n in ((Rossler(), 3), (Brusselator(A=1.0), 2)):
        sysm, y, border, _ = _system(pb, n, ntst, ncol, seed=2)
        c = float(border @ y) + 0.3
        y_new, norm_dy, norm_y, res = sysm.newton_step(y, border, c)
        F = sysm.F(y)
        dy = sysm.solve(y, border, np.append(-F, c - border @ y))
        assert np.max(np.abs(y_new - (y + dy))) <= 1e-10 * np.max(np.abs(dy))
        assert norm_dy == pytest.approx(np.linalg.norm(dy), rel=1e-10)
        assert norm_y == pytest.approx(np.linalg.norm(y + dy), rel=1e-12)
        assert res == pytest.approx(np.linalg.norm(F), rel=1e-12)
        # its factorisation serves the tangent (same border) and the monodromy matrix at y
        newton = sysm.newton_step(y, border, c)[0]
        e = np.zeros(sysm.size)
        e[-1] = 1.0
        z = sysm.resolve_last(border, e)
        assert np.max(np.abs(z - spla.spsolve(sysm.jacobian(y, border), e))) <= 1e-10 * np.max(np.abs(z))
        M_last = sysm.monodromy(y)  # reused: the factorisation was at y
        sysm.last_factor = None
        assert np.array_equal(M_last, sysm.monodromy(y))  # the same pivots, the same blocks
        assert np.array_equal(newton, y_new)


def test_adapted_mesh_kernel_is_de_boors_monitor():
    sysm, y, _, _ = _system(Rossler(), 3, 17, 4, seed=3)
    c, N, h, lead = sysm.ncol, sysm.ntst, sysm.h, sysm.basis.lead
    U = sysm.split(y)[0]
    # the monitor in NumPy: ncol-th derivatives, their jumps at the (periodic) interval ends
    d = np.einsum("i,jia->ja", lead, U[sysm.node_idx]) / h[:, None] ** c
    jump = np.abs(np.roll(d, -1, axis=0) - d) / (0.5 * (h + np.roll(h, -1)))[:, None]
    monitor = np.max(0.5 * (jump + np.roll(jump, 1, axis=0)), axis=1)
    density = monitor ** (1.0 / (c + 1))
    density = np.maximum(density, 1e-3 * density.max())
    cum = np.concatenate([[0.0], np.cumsum(density * h)])
    ref = np.interp(np.linspace(0.0, 1.0, N + 1), cum / cum[-1], sysm.mesh)
    assert np.max(np.abs(sysm.adapted_mesh([y]) - ref)) <= 1e-13
