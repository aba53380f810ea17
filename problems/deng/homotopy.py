"""Deng's data homotopy: partners, hybrid data D_λ, and its loss with derivatives.

Given trained parameters p0 that misclassify the part D_u of the data D, every erred
sample gets a correctly classified *partner* of the same label from D_t. The partner
data D̄ = D_t + D̄_u is classified perfectly by p0. The hybrid data

    D_λ = (1 − λ)·D̄ + λ·D

moves only the erred part, from the partners' images (λ = 0) to the real ones (λ = 1),
with the labels fixed. The ``label`` variant instead keeps the real images and moves
the labels of the erred samples, from p0's predictions to the true labels, as weights
(1 − λ, λ) on two labelled copies of each erred sample.
"""

from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional, Tuple

import numpy as np

from pathtrack.nn import LossFunction, Network

__all__ = ["Partners", "choose_partners", "class_margins", "DataHomotopy", "PARTNER_STRATEGIES", "VARIANTS"]

PARTNER_STRATEGIES = ("margin", "random")
VARIANTS = ("input", "label")


class Partners(NamedTuple):
    """Indices into the training data: the erred samples and their partners (same order)."""

    erred: np.ndarray
    partner: np.ndarray
    n_same_label: int


def class_margins(logits: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``z_c − max_{j≠c} z_j`` per row: positive where the row is classified as ``c``."""
    rows = np.arange(logits.shape[0])
    zc = logits[rows, c]
    other = logits.copy()
    other[rows, c] = -np.inf
    return zc - other.max(axis=1)


def choose_partners(logits: np.ndarray, y: np.ndarray, strategy: str = "margin", seed: int = 0) -> Partners:
    """Clone a partner for every misclassified sample, so that p0 classifies D̄ perfectly.

    A partner is a correctly classified sample of the erred sample's label, never
    repeated; ``'margin'`` takes the most confidently classified first, ``'random'``
    draws them at random (seeded). When a class runs out (small, poorly trained
    subsets), the partner is the image that p0 most confidently assigns to that label
    among the remaining samples, repeating one only as a last resort.
    """
    if strategy not in PARTNER_STRATEGIES:
        raise ValueError(f"partner strategy must be one of {PARTNER_STRATEGIES}, got {strategy!r}")
    margins = class_margins(logits, y)
    correct = margins > 0
    erred = np.flatnonzero(~correct)
    rng = np.random.default_rng(seed)
    used = np.zeros(y.shape[0], bool)
    partner = np.empty(erred.size, np.int64)
    pools: Dict[int, list] = {}
    for c in np.unique(y):
        idx = np.flatnonzero(correct & (y == c))
        order = np.argsort(-margins[idx], kind="stable") if strategy == "margin" else rng.permutation(idx.size)
        pools[int(c)] = list(idx[order][::-1])  # pop() from the end = best first
    n_same = 0
    for k, i in enumerate(erred):
        pool = pools.get(int(y[i]), [])
        while pool and used[pool[-1]]:
            pool.pop()
        if pool:
            j = pool.pop()
            n_same += 1
        else:
            # every correct image of this label is taken; only images p0 *misclassifies as*
            # y[i] still score > 0 for it
            score = class_margins(logits, np.full(y.shape[0], y[i]))
            score[used] = -np.inf
            j = int(np.argmax(score))
            if not score[j] > 0:  # nothing unused is classified as y[i]: repeat the best same-label one
                same = np.flatnonzero(correct & (y == y[i]))
                if same.size == 0:
                    raise ValueError(f"p0 classifies no training image as {y[i]}: no partner can be cloned")
                j = int(same[np.argmax(margins[same])])
        used[j] = True
        partner[k] = j
    return Partners(erred, partner, n_same)


class DataHomotopy:
    """The loss of a network on the hybrid data D_λ, with gradient, HVP and accuracy.

    The objective is a *sum* over samples (weights 1), so that each misclassified sample
    weighs as much as it does in the acceptance test; with the margin loss only the
    samples that are wrong or nearly wrong contribute.

    Parameters
    ----------
    net : Network
    X, y : arrays
        The real training data D.
    partners : Partners
    variant : {'input', 'label'}
    loss, kappa : see :class:`pathtrack.nn.LossFunction`
    y0 : int array, optional
        p0's predicted labels of the erred samples (the ``label`` variant's λ = 0 labels).
    make_loss : callable
        Builds the loss over the fixed (correctly classified) rows, the bulk of the data:
        :class:`~pathtrack.nn.LossFunction`, or a sharded one
        (:func:`pathtrack.nn.distributed.loss_function` with a scheduler).
    """

    def __init__(self, net: Network, X: np.ndarray, y: np.ndarray, partners: Partners, *, variant: str = "input",
                 loss: str = "margin", kappa: float = 0.5, y0: Optional[np.ndarray] = None,
                 make_loss: Callable[..., LossFunction] = LossFunction):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.net, self.variant, self.loss_name, self.kappa = net, variant, loss, kappa
        self.partners = partners
        erred = partners.erred
        keep = np.ones(y.shape[0], bool)
        keep[erred] = False
        self.n_total = y.shape[0]
        self.fixed = make_loss(net, X, y, loss=loss, kappa=kappa, subset=np.flatnonzero(keep),
                               weights=np.ones(int(keep.sum())))
        self.X_u = np.asarray(X[erred], dtype=net.dtype)
        self.y_u = np.asarray(y[erred])
        self.X_bar = np.asarray(X[partners.partner], dtype=net.dtype)
        self._lam = None
        self.moving: Optional[LossFunction] = None
        if variant == "label":
            if y0 is None:
                raise ValueError("the label variant needs y0, p0's predicted labels of the erred samples")
            Xl = np.vstack([self.X_u, self.X_u])
            yl = np.concatenate([np.asarray(y0), self.y_u])
            self.moving = LossFunction(net, Xl, yl, loss=loss, kappa=kappa)
        self.n_grad_evals = 0

    # -- the λ-dependent part -----------------------------------------------------------------
    def at(self, lam: float) -> LossFunction:
        """The loss over the moving (erred) part at ``lam``, rebuilt only when λ changes."""
        lam = float(lam)
        if lam != self._lam:
            if self.variant == "input":
                Xl = (1.0 - lam) * self.X_bar + lam * self.X_u
                self.moving = LossFunction(self.net, Xl, self.y_u, loss=self.loss_name, kappa=self.kappa,
                                           first_layer="dense")
                self.moving.set_weights(np.ones(self.moving.n_samples))
            else:
                m = self.X_u.shape[0]
                self.moving.set_weights(np.concatenate([np.full(m, 1.0 - lam), np.full(m, lam)]))
            self._lam = lam
        return self.moving

    def loss_and_grad(self, p: np.ndarray, lam: float) -> Tuple[float, np.ndarray]:
        self.n_grad_evals += 1
        f1, g1 = self.fixed.loss_and_grad(p)
        f2, g2 = self.at(lam).loss_and_grad(p)
        return f1 + f2, np.asarray(g1, dtype=np.float64) + g2

    def loss(self, p: np.ndarray, lam: float) -> float:
        """The objective alone: two forward passes, no backward pass."""
        return float(self.fixed.loss(p) + self.at(lam).loss(p))

    def hvp(self, p: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        return np.asarray(self.fixed.hvp(p, v), dtype=np.float64) + self.at(lam).hvp(p, v)

    def gnvp(self, p: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        """Gauss–Newton-vector product of the objective (for the margin loss, 2JᵀJ v on its residuals)."""
        return np.asarray(self.fixed.gnvp(p, v), dtype=np.float64) + self.at(lam).gnvp(p, v)

    def dgrad_dlam(self, p: np.ndarray, lam: float, eps: float = 1e-4) -> np.ndarray:
        """∂λ ∇L by central differences: only the small moving part depends on λ."""
        lo, hi = max(0.0, lam - eps), min(1.0, lam + eps)
        g_hi = self.at(hi).loss_and_grad(p)[1].astype(np.float64)
        g_lo = self.at(lo).loss_and_grad(p)[1].astype(np.float64)
        return (g_hi - g_lo) / (hi - lo)

    def params_of(self, p: np.ndarray) -> np.ndarray:
        """The network's parameters (the tracker's p themselves)."""
        return p

    def effective_params(self, p: np.ndarray, lam: float) -> np.ndarray:
        """The parameters the network is evaluated at for (p, λ): p itself."""
        return p

    # -- classification on D_λ --------------------------------------------------------------------
    def correct_moving(self, p: np.ndarray, lam: float) -> np.ndarray:
        """Per erred sample: classified as its λ-label (the ``label`` variant uses the heavier copy)."""
        mv = self.at(lam)
        margins = mv.margins(p)
        if self.variant == "input":
            return margins > 0
        m = self.X_u.shape[0]
        return margins[m:] > 0 if lam >= 0.5 else margins[:m] > 0

    def stats(self, p: np.ndarray, lam: float) -> Dict[str, float]:
        """PR, misclassified count and smallest margin on D_λ."""
        fixed_margins = self.fixed.margins(p)
        ok_moving = self.correct_moving(p, lam)
        n_wrong = int(np.sum(fixed_margins <= 0) + np.sum(~ok_moving))
        mv_margins = self.moving.margins(p)
        if self.variant == "label":
            m = self.X_u.shape[0]
            mv_margins = mv_margins[m:] if lam >= 0.5 else mv_margins[:m]
        min_margin = float(min(fixed_margins.min(), mv_margins.min() if mv_margins.size else np.inf))
        return {"pr": 1.0 - n_wrong / self.n_total, "n_wrong": float(n_wrong), "min_margin": min_margin}

    def n_wrong(self, p: np.ndarray, lam: float) -> int:
        """How many samples of D_λ are misclassified."""
        return int(np.sum(self.fixed.margins(p) <= 0) + np.sum(~self.correct_moving(p, lam)))

    def violations(self, p: np.ndarray, lam: float) -> Tuple[np.ndarray, np.ndarray]:
        """The misclassified samples of D_λ as linearised constraints ``m_i(p) > 0`` on their margins.

        Returns ``(gap, J)``: ``gap_i = κ/2 − m_i`` (the rise that makes sample i right with
        half the objective's margin) and ``J`` the rows ``∇_p m_i``, each read off the margin
        loss's gradient on that sample alone (``−2 h_i ∇m_i``, ``h_i = K − m_i > 0``).
        """
        mv = self.at(lam)
        bad = np.flatnonzero(~self.correct_moving(p, lam))
        if self.variant == "label" and lam >= 0.5:
            bad = bad + self.X_u.shape[0]  # the true-label copies
        parts = [(self.fixed, np.flatnonzero(self.fixed.margins(p) <= 0)), (mv, bad)]
        rows = [lf.rows(idx) for lf, idx in parts]
        X = np.vstack([Xi for Xi, _ in rows])
        y = np.concatenate([yi for _, yi in rows])
        if y.size == 0:
            return np.zeros(0), np.zeros((0, self.net.n_params))
        K = 1.0 + abs(self.kappa)
        rows = LossFunction(self.net, X, y, loss="margin", kappa=K, first_layer="dense")
        m = rows.margins(p)
        J = np.empty((y.size, self.net.n_params))
        for i in range(y.size):
            w = np.zeros(y.size)
            w[i] = 1.0
            rows.set_weights(w)
            J[i] = rows.grad(p) / (-2.0 * (K - m[i]))
        target = 0.5 * self.kappa if self.kappa > 0 else 1e-3
        return target - m, J

    def all_correct(self, p: np.ndarray, lam: float) -> bool:
        """The acceptance test: 100% positive rate on D_λ (moving part first: it is small)."""
        if not np.all(self.correct_moving(p, lam)):
            return False
        return bool(np.all(self.fixed.margins(p) > 0))
