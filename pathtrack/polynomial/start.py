"""Start systems for :func:`pathtrack.polynomial.solve`.

A start system is a :class:`~pathtrack.polynomial.system.PolynomialSystem` in the homogenised
variables ``(x_0, x_1, ..., x_n)`` whose solutions are known in closed form, together with
those solutions on the random affine patch ``patch·x = 1``.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from .system import PolynomialSystem

__all__ = ["total_degree_start"]


def total_degree_start(degrees: np.ndarray, patch: np.ndarray) -> Tuple[PolynomialSystem, np.ndarray]:
    """The total-degree start system ``x_i^{d_i} - x_0^{d_i}`` and its ``∏ d_i`` roots.

    Parameters
    ----------
    degrees : (n,) int array
        Degree of each target equation.
    patch : (n + 1,) complex array
        The affine patch; every returned root satisfies ``patch·x = 1``.

    Returns
    -------
    system : PolynomialSystem
        The start system in the ``n + 1`` homogeneous variables ``v0..vn``.
    roots : (∏ d_i, n + 1) complex array
        Its solutions: ``x_0 = 1`` and ``x_i`` a ``d_i``-th root of unity, scaled onto the patch.
    """
    degrees = np.asarray(degrees, dtype=np.int64)
    n = len(degrees)
    exps, coefs = [], []
    for i, d in enumerate(degrees):
        e = np.zeros((2, n + 1), dtype=np.int64)
        e[0, i + 1] = d
        e[1, 0] = d
        exps.append(e)
        coefs.append(np.array([1.0, -1.0], dtype=np.complex128))
    system = PolynomialSystem(tuple(f"v{j}" for j in range(n + 1)), tuple(exps), tuple(coefs), "start")

    axes = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    grid = np.meshgrid(*axes, indexing="ij")
    roots = np.ones((int(np.prod(degrees)), n + 1), dtype=np.complex128)
    for j, g in enumerate(grid):
        roots[:, j + 1] = g.reshape(-1)
    return system, roots / (roots @ patch)[:, None]
