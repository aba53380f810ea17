"""Close pairs and nearest distances among endpoints, without importing ``scipy.spatial`` for few points.

``scipy.spatial`` (with the ``scipy.linalg`` it imports) took longer to import than a warm
``solve`` of a small system takes to track its paths. Up to :data:`MAX_DIRECT` points the
distances are computed directly, a block of rows at a time; beyond, a k-d tree answers, and its
import is small beside the tracking of that many paths. Both give the same pairs: a pair is
closer than ``r`` or not whichever way it is found.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_DIRECT", "close_pairs", "nearest_distances"]

#: Point counts (for :func:`nearest_distances`: of points and of anchors) up to which distances are
#: computed directly instead of with ``scipy.spatial.cKDTree``.
MAX_DIRECT = 1024

_BLOCK = 32  # rows per block: a block's differences take 32 x 1024 x (2 n) floats


def close_pairs(points: np.ndarray, r: float) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, of rows of the real array ``points`` at Euclidean distance at
    most ``r``, shape ``(m, 2)`` (as ``cKDTree.query_pairs(r, output_type="ndarray")``, sorted)."""
    k = len(points)
    if k > MAX_DIRECT:
        from scipy.spatial import cKDTree

        pairs = cKDTree(points).query_pairs(r, output_type="ndarray")
        return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    found = []
    for a in range(0, k, _BLOCK):
        rows = points[a:a + _BLOCK]
        d = np.sqrt(((rows[:, None, :] - points[None, a:, :]) ** 2).sum(axis=-1))
        i, j = np.nonzero(np.triu(d <= r, k=1))  # column c is row a + c; only j > i
        found.append(np.stack([i + a, j + a], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.intp)


def nearest_distances(points: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of the real array ``points`` to its nearest row of ``anchors``
    (not empty), as ``cKDTree(anchors).query(points)[0]``."""
    if max(len(points), len(anchors)) > MAX_DIRECT:
        from scipy.spatial import cKDTree

        return cKDTree(anchors).query(points)[0]
    out = np.empty(len(points))
    for a in range(0, len(points), _BLOCK):
        rows = points[a:a + _BLOCK]
        out[a:a + _BLOCK] = np.sqrt(((rows[:, None, :] - anchors[None, :, :]) ** 2).sum(axis=-1)).min(axis=1)
    return out
