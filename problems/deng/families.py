"""Other λ-families for ``deng-mnist``: continuation in the margin, the temperature and the width.

Each family is a loss L(p, λ) on the *real* training data with an acceptance test that
p0 passes at λ = 0 and that at λ = 1 is a 100% positive rate (PR); the tracker continues
p from λ = 0 to 1 exactly as it does Deng's data homotopy (:class:`.homotopy.DataHomotopy`,
whose interface they share: loss, gradient, HVP, ∂λ∇L, acceptance test, statistics).

- :class:`MarginFamily`: the squared-hinge objective with the margin moving from below
  p0's smallest margin to the target κ; accepted while every margin exceeds a threshold
  that moves from that start to 0.
- :class:`TemperatureFamily`: the summed cross-entropy τ·CE(z/τ), with τ moving
  geometrically from the pretraining temperature to a small τ1 (the loss tends to the
  hinge max(0, max_{j≠y} z_j − z_y) as τ → 0); accepted while the number of wrong images
  is within a budget that shrinks linearly from p0's to 0.
- :class:`FocusFamily`: the squared-hinge objective with the weight of a hard set (the
  images whose margin at p0 is below a threshold: the violators) raised from 1 to W
  along λ; the same shrinking error budget.
- :class:`WidthFamily`: a wider network whose ``n_drop`` least useful hidden neurons have
  their outgoing weights scaled by 1 − λ, so at λ = 1 it *is* the narrower network; the
  squared-hinge objective, and the same shrinking error budget.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Tuple

import numpy as np

from pathtrack.nn import LossFunction, Network

__all__ = ["FAMILIES", "FocusFamily", "MarginFamily", "TemperatureFamily", "WidthFamily", "drop_order"]

FAMILIES = ("data", "margin", "temperature", "width", "focus")


class _RealDataFamily:
    """Shared part: one summed loss over all the real data, and its PR statistics."""

    def __init__(self, net: Network, X: np.ndarray, y: np.ndarray, *, loss: str, kappa: float,
                 make_loss: Callable[..., LossFunction] = LossFunction):
        self.net = net
        self.lf = make_loss(net, X, y, loss=loss, kappa=kappa, weights=np.ones(y.shape[0]))
        self.n_total = int(y.shape[0])
        self._lam = None
        self.n_grad_evals = 0

    def _set(self, lam: float) -> None:
        """Move the loss to ``lam`` (subclasses); called only when λ changes."""
        raise NotImplementedError

    def effective_params(self, p: np.ndarray, lam: float) -> np.ndarray:
        """The parameters the network is evaluated at for (p, λ); p itself but for the width family."""
        return p

    def at(self, lam: float) -> LossFunction:
        lam = float(lam)
        if lam != self._lam:
            self._set(lam)
            self._lam = lam
            self.lf.set_weights(self._weights(lam))
        return self.lf

    def _weights(self, lam: float) -> np.ndarray:
        return np.ones(self.lf.n_samples)

    def loss(self, p: np.ndarray, lam: float) -> float:
        return float(self.at(lam).loss(self.effective_params(p, lam)))

    def loss_and_grad(self, p: np.ndarray, lam: float) -> Tuple[float, np.ndarray]:
        self.n_grad_evals += 1
        f, g = self.at(lam).loss_and_grad(self.effective_params(p, lam))
        return float(f), np.asarray(g, dtype=np.float64)

    def hvp(self, p: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        return np.asarray(self.at(lam).hvp(self.effective_params(p, lam), v), dtype=np.float64)

    def dgrad_dlam(self, p: np.ndarray, lam: float, eps: float = 1e-4) -> np.ndarray:
        """∂λ ∇L by central differences."""
        lo, hi = max(0.0, lam - eps), min(1.0, lam + eps)
        return (self.loss_and_grad(p, hi)[1] - self.loss_and_grad(p, lo)[1]) / (hi - lo)

    def margins(self, p: np.ndarray, lam: float) -> np.ndarray:
        return self.lf.margins(self.effective_params(p, lam))

    def params_of(self, p: np.ndarray) -> np.ndarray:
        """Parameters of the target network at λ = 1 (what is verified and tested)."""
        return np.asarray(p)

    def stats(self, p: np.ndarray, lam: float) -> Dict[str, float]:
        m = self.margins(p, lam)
        n_wrong = int(np.sum(m <= 0))
        return {"pr": 1.0 - n_wrong / self.n_total, "n_wrong": float(n_wrong), "min_margin": float(m.min())}


class _ErrorBudget:
    """Acceptance by a budget of wrong images, floor((1 − λ)·n0), that reaches 0 at λ = 1."""

    n_wrong0: int

    def budget(self, lam: float) -> int:
        return 0 if lam >= 1.0 else int(math.floor((1.0 - lam) * self.n_wrong0))

    def all_correct(self, p: np.ndarray, lam: float) -> bool:
        return int(np.sum(self.margins(p, lam) <= 0)) <= self.budget(lam)

    def n_wrong(self, p: np.ndarray, lam: float) -> int:
        """Wrong images beyond the budget: what the acceptance test still lacks (0: it passes)."""
        return max(0, int(np.sum(self.margins(p, lam) <= 0)) - self.budget(lam))


class MarginFamily(_RealDataFamily):
    """Squared hinge with margin κ(λ)·raw = a(λ) + κ, a(λ) = (1 − λ)·a0 the acceptance threshold.

    a0 lies just below p0's smallest margin (negative when p0 errs), so p0 passes at
    λ = 0 and the hinge is active only near the worst images; at λ = 1 the objective is
    the direct route's and the test is 100% PR.
    """

    def __init__(self, net, X, y, p0, *, kappa: float, make_loss=LossFunction):
        super().__init__(net, X, y, loss="margin", kappa=kappa, make_loss=make_loss)
        self.kappa_end = float(kappa)
        m0 = self.lf.margins(p0)
        self.a0 = min(float(m0.min()), 0.0) - 1e-3 * max(1.0, abs(float(m0.min())))

    def threshold(self, lam: float) -> float:
        return (1.0 - float(lam)) * self.a0

    def _set(self, lam: float) -> None:
        self.lf.kappa = self.threshold(lam) + self.kappa_end  # at() then resets the cached forward pass

    def all_correct(self, p: np.ndarray, lam: float) -> bool:
        return bool(np.all(self.margins(p, lam) > self.threshold(lam)))

    def n_wrong(self, p: np.ndarray, lam: float) -> int:
        """Images whose margin is not above the threshold a(λ) (0: the acceptance test passes)."""
        return int(np.sum(self.margins(p, lam) <= self.threshold(lam)))


class TemperatureFamily(_ErrorBudget, _RealDataFamily):
    """Σ τ·CE(z/τ) with τ(λ) = T·τ0^(1−λ)·τ1^λ; the per-sample gradient in z is s − e_y, at most O(1)."""

    def __init__(self, net, X, y, p0, *, tau_start: float, tau_end: float, make_loss=LossFunction):
        super().__init__(net, X, y, loss="cross_entropy", kappa=1.0, make_loss=make_loss)
        self.T = net.temperature
        self.tau_start, self.tau_end = float(tau_start), float(tau_end)
        self.n_wrong0 = int(np.sum(self.lf.margins(p0) <= 0))

    def tau(self, lam: float) -> float:
        return self.T * self.tau_start ** (1.0 - lam) * self.tau_end ** lam

    def _set(self, lam: float) -> None:
        self.lf.set_temperature(self.tau(lam))

    def _weights(self, lam: float) -> np.ndarray:
        return np.full(self.lf.n_samples, self.tau(lam))


class FocusFamily(_ErrorBudget, _RealDataFamily):
    """Squared hinge Σ c_i(λ)·max(0, κ − m_i)², c_i = 1 + λ·(W − 1) on the hard set, 1 elsewhere.

    The hard set is fixed at p0: the images whose margin there is at most ``hard_margin``
    (0: the misclassified ones). The hinge asks every image for a margin κ, but a 100% PR
    needs only a positive one, so the thousands of correct images with 0 < m < κ hold
    slack; raising the violators' weight lets the minimiser spend that slack on them
    instead of balancing them against it. Accepted while the number of wrong images is
    within the budget floor((1 − λ)·n0).
    """

    def __init__(self, net, X, y, p0, *, kappa: float, weight: float, hard_margin: float = 0.0,
                 make_loss=LossFunction):
        if not (math.isfinite(weight) and weight >= 1.0):
            raise ValueError(f"focus weight must be a finite number >= 1, got {weight}")
        super().__init__(net, X, y, loss="margin", kappa=kappa, make_loss=make_loss)
        m0 = self.lf.margins(p0)
        self.hard = np.flatnonzero(m0 <= hard_margin)
        self.weight = float(weight)
        self.n_wrong0 = int(np.sum(m0 <= 0))

    def _set(self, lam: float) -> None:
        pass

    def _weights(self, lam: float) -> np.ndarray:
        w = np.ones(self.lf.n_samples)
        w[self.hard] = 1.0 + lam * (self.weight - 1.0)
        return w


def drop_order(lf: LossFunction, net: Network, p: np.ndarray) -> np.ndarray:
    """Hidden neurons ordered by how few images become wrong when each one alone is removed."""
    damage = np.empty(net.widths[1], np.int64)
    for k in range(net.widths[1]):
        q = np.array(p, copy=True)
        net.weights(q, 1)[k, :] = 0.0
        damage[k] = int(np.sum(lf.margins(q) <= 0))
    return np.argsort(damage, kind="stable")


class WidthFamily(_ErrorBudget, _RealDataFamily):
    """A width-``n + n_drop`` network shrinking to width n: the dropped neurons' outgoing weights × (1 − λ).

    The tracker's p are the wide network's parameters; at λ = 1 the dropped neurons add
    nothing to the logits, and :meth:`params_of` extracts the narrow network's p exactly.
    """

    def __init__(self, net_wide: Network, X, y, p0, *, n_drop: int, kappa: float, make_loss=LossFunction):
        super().__init__(net_wide, X, y, loss="margin", kappa=kappa, make_loss=make_loss)
        n_wide = net_wide.widths[1]
        if not 1 <= n_drop < n_wide:
            raise ValueError(f"n_drop must lie in 1..{n_wide - 1}, got {n_drop}")
        p0 = np.asarray(p0, dtype=net_wide.dtype)
        order = drop_order(self.lf, net_wide, p0)
        self.drop = np.sort(order[:n_drop])
        self.keep = np.sort(order[n_drop:])
        self._mask = np.zeros(net_wide.n_params, bool)  # entries scaled by 1 − λ
        net_wide.weights(self._mask, 1)[self.drop, :] = True
        self._scale = np.ones(net_wide.n_params)
        self._scale_lam = 0.0
        self.n_wrong0 = int(np.sum(self.lf.margins(p0) <= 0))

    def _set(self, lam: float) -> None:
        pass

    def scale(self, lam: float) -> np.ndarray:
        if lam != self._scale_lam:
            self._scale[self._mask] = 1.0 - lam
            self._scale_lam = lam
        return self._scale

    def effective_params(self, p: np.ndarray, lam: float) -> np.ndarray:
        return np.asarray(p) * self.scale(float(lam))

    def loss_and_grad(self, p, lam):
        f, g = super().loss_and_grad(p, lam)
        return f, g * self.scale(float(lam))

    def hvp(self, p, lam, v):
        s = self.scale(float(lam))
        return super().hvp(p, lam, s * np.asarray(v)) * s

    def params_of(self, p: np.ndarray) -> np.ndarray:
        wide = self.net
        narrow = Network([wide.widths[0], self.keep.size, wide.widths[2]], activation=wide.activation,
                         temperature=wide.temperature, dtype=wide.dtype)
        p = np.asarray(p)
        q = np.empty(narrow.n_params, dtype=p.dtype)
        narrow.weights(q, 0)[...] = wide.weights(p, 0)[:, self.keep]
        narrow.biases(q, 0)[...] = wide.biases(p, 0)[self.keep]
        narrow.weights(q, 1)[...] = wide.weights(p, 1)[self.keep, :]
        narrow.biases(q, 1)[...] = wide.biases(p, 1)
        return q
