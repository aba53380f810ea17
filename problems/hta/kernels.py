"""Numba kernels of the HTA paper's n-dimensional test function: value, gradient, Hessian.

f(x) = (π/n)·{ k·sin²(πy₁) + Σ_{i<n} (y_i − A)²·[1 + k·sin²(πy_{i+1})] + (y_n − A)² },
y_i = 1 + (x_i − 1)/4.  Unique global minimum f = 0 at x = (1, …, 1) (for A = 1).

Derivatives are taken in y and scaled by dy/dx = 1/4 (gradient) and 1/16 (Hessian).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def tf_value(x, k, A):
    n = x.shape[0]
    c = np.pi / n
    y = 1.0 + (x - 1.0) / 4.0
    v = k * np.sin(np.pi * y[0]) ** 2 + (y[n - 1] - A) ** 2
    for i in range(n - 1):
        v += (y[i] - A) ** 2 * (1.0 + k * np.sin(np.pi * y[i + 1]) ** 2)
    return c * v


@njit(cache=True)
def tf_grad(x, k, A):
    n = x.shape[0]
    c = np.pi / n
    y = 1.0 + (x - 1.0) / 4.0
    g = np.zeros(n)
    g[0] += k * np.pi * np.sin(2.0 * np.pi * y[0])
    for i in range(n - 1):
        u = y[i] - A
        s = np.sin(np.pi * y[i + 1]) ** 2
        g[i] += 2.0 * u * (1.0 + k * s)
        g[i + 1] += u * u * k * np.pi * np.sin(2.0 * np.pi * y[i + 1])
    g[n - 1] += 2.0 * (y[n - 1] - A)
    return g * (c / 4.0)


@njit(cache=True)
def tf_hess(x, k, A):
    n = x.shape[0]
    c = np.pi / n
    y = 1.0 + (x - 1.0) / 4.0
    h = np.zeros((n, n))
    h[0, 0] += k * 2.0 * np.pi ** 2 * np.cos(2.0 * np.pi * y[0])
    for i in range(n - 1):
        u = y[i] - A
        s = np.sin(np.pi * y[i + 1]) ** 2
        ds = np.pi * np.sin(2.0 * np.pi * y[i + 1])
        d2s = 2.0 * np.pi ** 2 * np.cos(2.0 * np.pi * y[i + 1])
        h[i, i] += 2.0 * (1.0 + k * s)
        h[i, i + 1] += 2.0 * u * k * ds
        h[i + 1, i] += 2.0 * u * k * ds
        h[i + 1, i + 1] += u * u * k * d2s
    h[n - 1, n - 1] += 2.0
    return h * (c / 16.0)


@njit(cache=True)
def coupled_grad(theta, eta, g_theta, g_eta, m1, anchor, L):
    """∇_Θ F for Θ = (θ, η), given ∇f(θ) and ∇f(η); ``m1`` is 1.0 on θ1 (pinned in θ), 0.0 on θ2."""
    n = theta.shape[0]
    out = np.empty(2 * n)
    for i in range(n):
        d = theta[i] - eta[i]
        out[i] = g_theta[i] + 2.0 * L * m1[i] * (theta[i] - anchor[i]) + 2.0 / L * d
        out[n + i] = g_eta[i] + 2.0 * L * (1.0 - m1[i]) * (eta[i] - anchor[i]) - 2.0 / L * d
    return out


@njit(cache=True)
def coupled_hess(h_theta, h_eta, m1, L):
    """∇²_Θ F from ∇²f(θ) and ∇²f(η)."""
    n = h_theta.shape[0]
    out = np.zeros((2 * n, 2 * n))
    out[:n, :n] = h_theta
    out[n:, n:] = h_eta
    for i in range(n):
        out[i, i] += 2.0 * L * m1[i] + 2.0 / L
        out[n + i, n + i] += 2.0 * L * (1.0 - m1[i]) + 2.0 / L
        out[i, n + i] -= 2.0 / L
        out[n + i, i] -= 2.0 / L
    return out
