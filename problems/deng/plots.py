"""Deng's Fig. 2: output vectors of digits 1, 2, 3 on their class axes, seen along (1, 1, 1)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["project_111", "plot_output_triangle"]

# An orthonormal basis of the plane orthogonal to (1, 1, 1).
_E1 = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
_E2 = np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0)


def project_111(points3: np.ndarray) -> np.ndarray:
    """Project 3-D points onto the plane orthogonal to (1, 1, 1); returns (n, 2) coordinates."""
    return np.column_stack([points3 @ _E1, points3 @ _E2])


def plot_output_triangle(outputs_by_model: Sequence[np.ndarray], y: np.ndarray, titles: Sequence[str],
                         digits=(1, 2, 3), out=None, max_points: int = 1500, seed: int = 0):
    """Side-by-side panels, one per model, of the softmax outputs of the training images of ``digits``.

    Each image's 10-dimensional output is restricted to the three class axes of ``digits``
    and viewed along (1, 1, 1): perfectly classified images sit at the triangle's corners.

    Parameters
    ----------
    outputs_by_model : list of (n, 10) arrays
        Softmax outputs of every training image under each model (e.g. p0 and the final p).
    y : (n,) int array
    titles : list of str
    out : path, optional
        Save the figure there (PNG).
    """
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, len(outputs_by_model), figsize=(5 * len(outputs_by_model), 5), squeeze=False)
    corners = project_111(np.eye(3))
    colors = ("tab:blue", "tab:orange", "tab:green")
    for ax, outputs, title in zip(axes[0], outputs_by_model, titles):
        ax.plot(*np.vstack([corners, corners[:1]]).T, color="0.6", lw=0.8)
        for d, color in zip(digits, colors):
            idx = np.flatnonzero(y == d)
            if idx.size > max_points:
                idx = rng.choice(idx, max_points, replace=False)
            xy = project_111(outputs[np.ix_(idx, list(digits))])
            pred_ok = outputs[idx].argmax(axis=1) == d
            ax.scatter(*xy[pred_ok].T, s=4, color=color, alpha=0.5, label=f"digit {d}")
            ax.scatter(*xy[~pred_ok].T, s=30, color=color, marker="x", linewidths=1.2)
        for (cx, cy), d in zip(corners, digits):
            ax.annotate(str(d), (cx, cy), fontsize=14, ha="center", va="center",
                        xytext=(1.12 * cx, 1.12 * cy))
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.axis("off")
    axes[0][0].legend(loc="lower left", fontsize=8, markerscale=3)
    fig.suptitle("softmax outputs on the class axes of digits 1, 2, 3, viewed along (1, 1, 1); x = misclassified")
    fig.tight_layout()
    if out is not None:
        fig.savefig(out, dpi=100)
    return fig
