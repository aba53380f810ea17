"""The small dense kernels of the curve systems: direct LAPACK eig/solve and the batched l1 stencil."""

import numpy as np
import pytest

from pathtrack import linalg
from pathtrack.normalform import lyapunov_coefficient, lyapunov_levels


def test_eig_and_solve_agree_with_numpy_to_rounding():
    rng = np.random.default_rng(3)
    for n in (2, 3, 5):
        for _ in range(20):
            A = rng.standard_normal((n, n))
            w, v = linalg.eig(A)
            w_np, v_np = np.linalg.eig(A)
            assert np.allclose(w, w_np, rtol=1e-13, atol=1e-14) and np.allclose(v, v_np, rtol=1e-12, atol=1e-13)
            assert np.allclose(A @ v, v * w, atol=1e-12)  # complex pairs assembled as vr[:, j] ± i vr[:, j+1]
            b = rng.standard_normal(n) + 1j * rng.standard_normal(n)
            C = A + 1j * rng.standard_normal((n, n))
            assert np.allclose(linalg.solve(C, b), np.linalg.solve(C, b), rtol=1e-12, atol=1e-13)
            assert np.allclose(linalg.lu_solve(linalg.lu_factor(C), b, trans=1), np.linalg.solve(C.T, b),
                               rtol=1e-12, atol=1e-13)
            assert np.allclose(linalg.solve(A, b.real), np.linalg.solve(A, b.real), rtol=1e-12, atol=1e-13)


def _field(x):
    """A Jacobian in three unknowns with nonzero first and second derivatives and a complex pair at the test point."""
    u, v, w = x
    return np.array([[2 * u * v, u * u - 2.0, 0.3],
                     [1.0 + np.exp(u) * w, 3 * v * v, np.exp(u)],
                     [w * w, 1.0 + u, 2 * u * w - 1.0]])


def test_batched_l1_levels_equal_the_one_point_at_a_time_coefficient():
    x = np.array([0.1, -0.2, 0.3])
    A = _field(x)
    w, v = np.linalg.eig(A)
    k = int(np.argmax(w.imag))
    q = v[:, k]
    e = np.zeros(3, dtype=complex)
    e[k] = 1.0
    p = np.conj(np.linalg.solve(v.T, e))
    p = p / np.conj(np.vdot(p, q))
    omega = float(w[k].imag)
    steps = (0.03, 0.015, 0.0075)
    batched = lyapunov_levels(lambda P: np.array([_field(y) for y in P]), x, A, q, p, omega, steps)
    one_by_one = [lyapunov_coefficient(_field, x, A, q, p, omega, h) for h in steps]
    assert batched == pytest.approx(one_by_one, rel=1e-12)
    # the differences converge like h²: Richardson's combinations of successive steps agree closely
    r1, r2 = ((4 * f - c) / 3 for c, f in zip(batched, batched[1:]))
    assert abs(r1 - r2) < 1e-3 * abs(batched[0] - batched[1])
