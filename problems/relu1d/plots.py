"""Figures for ReLU1D: realisations of the critical points, and 1-D landscape slices."""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from .critical import CriticalClass
from .model import ReLU1D

__all__ = ["plot_critical_realisations", "landscape_slice", "plot_slice"]


def plot_critical_realisations(problem: ReLU1D, classes: List[CriticalClass], ax=None):
    """The target and the realisation function of every critical class, labelled by risk and index."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(problem.a, problem.b, 801)
    ax.plot(x, problem.target(x), "k", lw=2.5, alpha=0.35, label="target")
    for i, cls in enumerate(classes):
        idx = ",".join(map(str, cls.indices))
        ax.plot(x, problem.realisation(cls.representative.p, x), label=f"#{i}: L={cls.risk:.5f}, index {idx}")
    ax.set_xlabel("x")
    ax.set_ylabel("N(x)")
    ax.legend(fontsize=7)
    return ax


def landscape_slice(problem: ReLU1D, p_a, p_b, s=None, lam: float = 1.0):
    """Risk along the segment ``p(s) = (1 − s) p_a + s p_b``; returns ``(s, L(p(s)))``."""
    s = np.linspace(-0.25, 1.25, 301) if s is None else np.asarray(s, dtype=float)
    p_a, p_b = np.asarray(p_a, dtype=float), np.asarray(p_b, dtype=float)
    return s, np.array([problem.loss((1 - si) * p_a + si * p_b, lam) for si in s])


def plot_slice(s, risk, labels=("p_a", "p_b"), ax=None, title: Optional[str] = None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(s, risk)
    for si, lab in zip((0.0, 1.0), labels):
        ax.axvline(si, color="gray", ls=":")
        ax.annotate(lab, (si, np.interp(si, s, risk)), textcoords="offset points", xytext=(4, 6), fontsize=8)
    ax.set_xlabel("s   (p = (1 − s) p_a + s p_b)")
    ax.set_ylabel("risk")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
