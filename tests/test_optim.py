"""The one implementation of the first-order optimiser steps (pathtrack.optim)."""

import numpy as np
import pytest

from pathtrack.optim import Adam, Momentum


def test_adam_matches_kingma_ba_algorithm_1():
    """The folded step equals the paper's bias-corrected moments with eps scaled by sqrt(1 - β₂ᵗ)."""
    rng = np.random.default_rng(0)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    p = rng.standard_normal(5)
    ref, m, v = p.copy(), np.zeros(5), np.zeros(5)
    opt = Adam(p, lr, b1, b2, eps)
    for t in range(1, 30):
        g = rng.standard_normal(5)
        opt.step(p, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        ref -= lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - b2 ** t))
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-14)
    assert opt.n_steps == 29


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_and_step_agree_and_keep_the_dtype(dtype):
    for cls, kwargs in ((Adam, {"lr": 1e-2}), (Momentum, {"lr": 1e-2, "momentum": 0.5})):
        p = np.linspace(-1, 1, 4, dtype=dtype)
        q = p.copy()
        a, b = cls(p, **kwargs), cls(q, **kwargs)
        for _ in range(3):
            g = (2 * p).astype(dtype)
            q = q + b.update(g)
            a.step(p, g)
        assert p.dtype == dtype and q.dtype == dtype and a.update(p).dtype == dtype
        if dtype == np.float64:
            np.testing.assert_array_equal(p, q)
        else:  # update() rounds the step to float32 before adding; step() rounds the sum once
            np.testing.assert_allclose(p, q, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda p: Adam(p, lr=0.05), lambda p: Momentum(p, lr=0.05, momentum=0.9)])
def test_steps_minimise_a_quadratic(make):
    scales = np.array([1.0, 4.0, 0.25])
    p = np.array([3.0, -2.0, 1.0])
    opt = make(p)
    for _ in range(2000):
        opt.step(p, scales * p)
    np.testing.assert_allclose(p, 0.0, atol=1e-3)


def test_momentum_zero_is_gradient_descent():
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    Momentum(p, lr=0.1, momentum=0.0).step(p, g)
    np.testing.assert_array_equal(p, [0.95, 2.1])
