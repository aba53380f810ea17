"""HTA applied to a :class:`pathtrack.nn.Network`: the objective and the settings for networks.

:class:`NetworkObjective` turns a :class:`pathtrack.nn.LossFunction` into the objective
``f(w) = loss(w) + weight_decay·‖w‖²`` with its gradient and Hessian-vector product;
:func:`train_hta` runs :func:`hta_solve` on it, split by layers, with the L-BFGS corrector
(a network's 2n unknowns are far above the dense-Hessian limit). Gradient work is
counted in evaluations of ∇f (one ∇F of the homotopy costs two).
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from pathtrack.nn import LossFunction

from .core import HTAProblem, hta_solve

__all__ = ["NetworkObjective", "train_hta"]


class NetworkObjective:
    """``f(w) = loss(w) + weight_decay·‖w‖²`` of a float64 network loss, with ∇f and ∇²f·v.

    Parameters
    ----------
    loss : LossFunction
        The data term (e.g. mean softmax cross-entropy); its network must be float64.
    weight_decay : float
        Coefficient of ``‖w‖²``.

    Attributes
    ----------
    n : int
        Number of parameters.
    blocks : list of int
        Parameters per layer (weights and biases), for ``split='layers'``.
    """

    def __init__(self, loss: LossFunction, weight_decay: float = 1e-4):
        net = loss.net
        if net.dtype != np.float64:
            raise ValueError(f"HTA needs a float64 network, got {net.dtype}")
        self.loss = loss
        self.weight_decay = float(weight_decay)
        self.n = net.n_params
        self.blocks: List[int] = [w.size + b.size for w, b in net.layers(np.zeros(net.n_params))]

    def __call__(self, w) -> float:
        return float(self.loss.loss(w)) + self.weight_decay * float(np.dot(w, w))

    def grad(self, w) -> np.ndarray:
        return self.loss.grad(w) + 2.0 * self.weight_decay * np.asarray(w)

    def hvp(self, w, v) -> np.ndarray:
        return self.loss.hvp(w, v) + 2.0 * self.weight_decay * np.asarray(v)


def train_hta(objective: NetworkObjective, w0, *, split: str = "layers", seed: int = 0, L_max: float = 100.0,
              L_min: float = 0.01, anchor=None, polish_maxiter: int = 200,
              **options) -> Tuple[np.ndarray, int, Dict]:
    """HTA from ``w0`` with the L-BFGS corrector; returns ``(w, ∇f evaluations, diagnostics)``.

    ``anchor=None`` pins each block to its initial weights ``w0``. The test function's
    θ̃ = 0 does not carry over: with every first-layer weight pinned at 0, a converged path
    keeps that layer at zero (a saddle of f) down to ``L_min``. ``options`` override the
    tracker options (defaults ``min_gtol=1e-3``, ``min_maxiter=200``, ``initial_ds=0.1``,
    ``max_ds=0.25``).
    """
    w0 = np.asarray(w0, dtype=float)
    anchor = w0 if anchor is None else anchor
    pb = HTAProblem(objective, objective.n, grad=objective.grad, hvp=objective.hvp, blocks=objective.blocks,
                    split=split, seed=seed, L_max=L_max, L_min=L_min, anchor=anchor)
    opts = {"min_gtol": 1e-3, "min_maxiter": 200, "initial_ds": 0.1, "max_ds": 0.25, **options}
    r = hta_solve(pb, w0, polish=True, polish_maxiter=polish_maxiter, **opts)
    return r.x, r.n_grad_evals, {"status": r.status.name, "steps": int(r.lam.size),
                                 "gap_end": float(r.metrics["gap"][-1]), "wall": r.wall_time}
