"""First-order optimiser steps on a flat parameter vector: heavy-ball momentum and Adam.

One implementation serves every caller: the ``'gd'`` and ``'adam'`` minimisation
correctors (:mod:`pathtrack.corrector`), conventional training
(:func:`pathtrack.nn.train.train`) and the baselines of the benchmarks. Each class holds
its state (buffers shaped and typed like the parameters) and turns a gradient ``g`` into
a step; the caller owns the loop, the gradient and the stopping rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Momentum", "Adam"]


class Momentum:
    """Heavy-ball gradient descent: ``v ← momentum·v − lr·g``, ``p ← p + v``.

    Parameters
    ----------
    like : ndarray
        The parameter vector; the velocity gets its shape and dtype (zero at the start).
    lr : float
        Learning rate.
    momentum : float
        Decay of the velocity, in [0, 1); 0 is plain gradient descent.
    """

    def __init__(self, like: np.ndarray, lr: float, momentum: float = 0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = np.zeros_like(like)
        self.n_steps = 0

    def update(self, g: np.ndarray) -> np.ndarray:
        """Advance the state by the gradient ``g``; return the step to add to the parameters.

        The returned array is the optimiser's velocity buffer: copy it to keep it past the next call.
        """
        self.n_steps += 1
        self.v *= self.momentum
        self.v -= self.lr * g
        return self.v

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Update ``p`` in place by the gradient ``g``; return ``p``."""
        p += self.update(g)
        return p


class Adam:
    """Adam (Kingma & Ba, 2015) with the bias corrections folded into the step size.

    With moments ``m ← β₁m + (1 − β₁)g`` and ``v ← β₂v + (1 − β₂)g²`` after ``t`` steps,
    the step is ``−lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(sqrt(v) + eps)`` (the paper's Section 2,
    last paragraph: one scalar correction instead of two array divisions).

    Parameters
    ----------
    like : ndarray
        The parameter vector; the moments get its shape and dtype (zero at the start), so
        float32 parameters train in float32.
    lr : float
        Step size.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates.
    eps : float
        Guard added to ``sqrt(v)`` in the denominator.
    """

    def __init__(self, like: np.ndarray, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.m1 = np.zeros_like(like)
        self.m2 = np.zeros_like(like)
        self.n_steps = 0

    def _descent(self, g: np.ndarray) -> np.ndarray:
        """Advance the moments by ``g``; return ``−step`` (the multiple of m/(sqrt(v)+eps) to subtract)."""
        b1, b2 = self.beta1, self.beta2
        self.n_steps += 1
        self.m1 *= b1
        self.m1 += (1 - b1) * g
        self.m2 *= b2
        self.m2 += (1 - b2) * g * g
        step_size = self.lr * np.sqrt(1 - b2 ** self.n_steps) / (1 - b1 ** self.n_steps)
        return step_size * self.m1 / (np.sqrt(self.m2) + self.eps)

    def update(self, g: np.ndarray) -> np.ndarray:
        """Advance the state by the gradient ``g``; return the step to add to the parameters (a new array
        of the parameters' dtype)."""
        return (-self._descent(g)).astype(self.m1.dtype, copy=False)

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Update ``p`` in place by the gradient ``g``; return ``p``.

        The scalar step size is a float64, so float32 parameters get the update rounded once.
        """
        p -= self._descent(g)
        return p
