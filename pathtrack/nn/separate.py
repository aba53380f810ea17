"""An exact final stage for classifiers: the output layer by linear programming.

With the hidden layers fixed, making every sample correct is a linear feasibility problem
in the output layer ``(W, b)``: ``(w_y − w_j)·h_i + (b_y − b_j) ≥ δ`` for every sample
``i`` and class ``j ≠ y_i``, where ``h_i`` are the last hidden layer's features. The
constraints are homogeneous in ``(W, b)``, so any δ > 0 may be taken as 1 after rescaling.

:func:`separate` solves it with scipy's HiGHS by constraint generation: a working set of
sample–class pairs (the violators and the smallest margins of a warm start), one LP on
it, a check of all ``m (C − 1)`` pairs, the violated pairs added, repeat. Phase 1
minimises the sum of per-sample slacks ``ξ_i ≥ 0`` (the L1 multi-class hinge of Crammer
and Singer). A zero optimum proves the features separable; phase 2 then minimises
``Σ|W|`` with every margin ≥ δ, a bounded, larger-margin answer. A positive optimum
proves that *no* output layer separates these features; the phase-1 layer is returned
as the convex method's best, with its count of wrong samples.

:func:`fewest_wrong` goes on from there: the hinge minimises slacks, not the count, so a
mixed-integer LP (big M, one binary per hard sample) looks for the layer with the fewest
wrong samples.

Plain arrays in and out; nothing here knows of a particular model or data set.
"""

from __future__ import annotations

import time
from typing import Dict, Optional, Tuple

import numpy as np

__all__ = ["separate", "fewest_wrong", "pair_margins"]


def pair_margins(H: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Margins ``z_y − z_j`` of every sample against every class (``+inf`` at ``j = y``), float64.

    Parameters
    ----------
    H : (m, k) features; y : (m,) labels; W : (k, C); b : (C,)
    """
    Z = np.asarray(H, np.float64) @ np.asarray(W, np.float64) + np.asarray(b, np.float64)
    rows = np.arange(Z.shape[0])
    M = Z[rows, y][:, None] - Z
    M[rows, y] = np.inf
    return M


def _check_inputs(H, y, n_classes, W0, b0):
    H = np.asarray(H, np.float64)
    y = np.asarray(y)
    if H.ndim != 2 or H.shape[0] == 0:
        raise ValueError(f"H must be a non-empty (m, k) array of features, got shape {H.shape}")
    if y.shape != (H.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be {H.shape[0]} integer labels, got shape {y.shape}, dtype {y.dtype}")
    if int(n_classes) < 2 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..n_classes-1 with n_classes >= 2, got {y.min()}..{y.max()}, "
                         f"n_classes={n_classes}")
    if not np.isfinite(H).all():
        raise ValueError("H contains NaN or inf")
    if (W0 is None) != (b0 is None):
        raise ValueError("give both W0 and b0 or neither")
    if W0 is not None and (np.shape(W0) != (H.shape[1], n_classes) or np.shape(b0) != (n_classes,)):
        raise ValueError(f"W0, b0 must have shapes ({H.shape[1]}, {n_classes}), ({n_classes},); "
                         f"got {np.shape(W0)}, {np.shape(b0)}")
    return H, y.astype(np.int64)


def _pair_rows(H, y, C, pi, pj, n_var, extra_col, extra_val):
    """Sparse rows ``(w_y − w_j)·h_i + b_y − b_j + extra_val·x[extra_col]`` over ``[W (k·C), b (C), ...]``."""
    from scipy.sparse import coo_matrix

    k = H.shape[1]
    n_rows, n_w = pi.size, k * C
    h, yi, cols = H[pi], y[pi], np.arange(k)
    r = np.repeat(np.arange(n_rows), 2 * k + 3)
    c = np.concatenate([cols[None, :] * C + yi[:, None], cols[None, :] * C + pj[:, None], (n_w + yi)[:, None],
                        (n_w + pj)[:, None], np.asarray(extra_col)[:, None]], axis=1)
    v = np.concatenate([h, -h, np.ones((n_rows, 1)), -np.ones((n_rows, 1)), np.asarray(extra_val)[:, None]], axis=1)
    return coo_matrix((v.ravel(), (r, c.ravel())), shape=(n_rows, n_var)).tocsr()


class _PairLP:
    """The LP on a working set of pairs: variables ``[W (k·C), b (C), ξ (one per working sample), t (k·C)]``."""

    def __init__(self, H, y, n_classes, margin):
        self.H, self.y, self.C, self.margin = H, y, int(n_classes), float(margin)
        self.k = H.shape[1]
        self.pairs_i = np.zeros(0, np.int64)
        self.pairs_j = np.zeros(0, np.int64)
        self.slot = -np.ones(H.shape[0], np.int64)  # sample -> its slack's index (−1: not in the set)
        self.n_lp = 0
        self.lp_time = 0.0

    def add(self, i, j) -> int:
        """Add pairs not yet in the set; return how many were new."""
        key = self.pairs_i * self.C + self.pairs_j
        new = np.setdiff1d(np.unique(i * self.C + j), key, assume_unique=True)
        if new.size == 0:
            return 0
        ni, nj = new // self.C, new % self.C
        self.pairs_i = np.concatenate([self.pairs_i, ni])
        self.pairs_j = np.concatenate([self.pairs_j, nj])
        fresh = np.unique(ni[self.slot[ni] < 0])
        self.slot[fresh] = np.arange(fresh.size) + int((self.slot >= 0).sum())
        return int(new.size)

    def solve(self, phase: int, time_limit: float):
        """Phase 1: min Σξ; phase 2: min Σt with ξ = 0 and t ≥ |W|. Returns (W, b, ξ per sample, objective, ok)."""
        from scipy.optimize import linprog
        from scipy.sparse import coo_matrix, vstack

        k, C = self.k, self.C
        n_w, n_s = k * C, int((self.slot >= 0).sum())
        n_var = n_w + C + n_s + n_w
        pi, pj = self.pairs_i, self.pairs_j
        n_rows = pi.size
        # −[(w_y − w_j)·h + b_y − b_j + ξ_i] ≤ −δ
        A = -_pair_rows(self.H, self.y, C, pi, pj, n_var, n_w + C + self.slot[pi], np.ones(n_rows))
        b_ub = np.full(n_rows, -self.margin)
        bounds = [(None, None)] * (n_w + C) + [(0, None if phase == 1 else 0)] * n_s + [(0, None)] * n_w
        cost = np.zeros(n_var)
        if phase == 1:
            cost[n_w + C:n_w + C + n_s] = 1.0
        else:  # t ≥ W and t ≥ −W
            cost[n_w + C + n_s:] = 1.0
            eye = np.arange(n_w)
            rows, cols = np.concatenate([eye, eye]), np.concatenate([eye, n_w + C + n_s + eye])
            A = vstack([A] + [coo_matrix((np.concatenate([np.full(n_w, sign), -np.ones(n_w)]), (rows, cols)),
                                         shape=(n_w, n_var)) for sign in (1.0, -1.0)])  # ±W − t ≤ 0
            b_ub = np.concatenate([b_ub, np.zeros(2 * n_w)])
        if phase == 1:  # t is unused: pin it to 0 so the LP stays bounded
            bounds[n_w + C + n_s:] = [(0, 0)] * n_w
        t0 = time.perf_counter()
        res = linprog(cost, A_ub=A.tocsr(), b_ub=b_ub, bounds=bounds, method="highs",
                      options={"time_limit": max(1.0, float(time_limit)), "presolve": True})
        self.lp_time += time.perf_counter() - t0
        self.n_lp += 1
        if res.status != 0 or res.x is None:
            return None, None, None, np.nan, res.message
        x = res.x
        W = x[:n_w].reshape(k, C)
        b = x[n_w:n_w + C]
        xi = np.zeros(self.H.shape[0])
        inset = self.slot >= 0
        xi[inset] = x[n_w + C + self.slot[inset]]
        return W, b, xi, float(res.fun), ""


def separate(H, y, n_classes: int, *, W0=None, b0=None, margin: float = 1.0, n_init: int = 4000,
             max_add: int = 20000, max_rounds: int = 60, phase2: bool = False, tol: float = 1e-6,
             max_time: float = 600.0) -> Tuple[Optional[np.ndarray], Optional[np.ndarray], str, Dict]:
    """The output layer that classifies every sample right with margin δ, or the L1-hinge best.

    Parameters
    ----------
    H : (m, k) array
        Features of the samples (the last hidden layer's activations), any float type;
        the LP and the checks run in float64.
    y : (m,) int array
        Labels in ``0..n_classes-1``.
    n_classes : int
    W0, b0 : arrays (k, n_classes), (n_classes,), optional
        The current output layer: its violators and smallest margins (relative to its
        largest margin) seed the working set. Without it, ``n_init`` samples spread over
        the data set do.
    margin : float
        δ of the constraints (the problem is scale-invariant: it sets the scale of W).
    n_init : int
        Pairs in the first working set (besides every violator of W0).
    max_add : int
        At most this many violated pairs (the most violated first) join per round.
    max_rounds : int
        LP solves per phase at most.
    phase2 : bool
        When separable, also minimise ``Σ|W|`` at margin δ.
    tol : float
        Relative slack of the checks: a pair counts as violated below ``δ (1 − tol)``.
    max_time : float
        Wall-time budget in seconds (LPs and checks) over both phases.

    Returns
    -------
    W, b : arrays or None
        The output layer (float64); None only when the first LP failed (``info['message']``).
    status : str
        ``'separable'``: phase 1 ended with every pair of every sample at margin ≥ δ(1 − tol)
        (checked on all samples, not only the working set), so every sample is right.
        ``'inseparable'``: the phase-1 optimum on a working set is positive; it bounds the full
        problem's optimum from below, so no output layer separates these features; ``W, b``
        minimise the hinge (over all pairs when ``info['checked']``, else over the last working set).
        ``'limit'``: rounds or time ran out before phase 1 settled either way. ``'failed'``: the
        first LP failed. Only ``'separable'`` claims anything about the count; ``info['n_wrong']``
        is always recomputed from ``W, b`` on every sample.
    info : dict
        ``n_wrong`` (samples with ``z_y ≤ max_{j≠y} z_j`` in float64), ``min_margin``,
        ``hinge`` (the last phase-1 optimum), ``checked`` (phase 1 passed the check of all
        pairs), ``n_rounds``, ``n_lp``, ``n_pairs`` (final working set), ``lp_time`` and
        ``wall`` (seconds), ``message`` (why an LP or the loop stopped early).
    """
    H, y = _check_inputs(H, y, n_classes, W0, b0)
    if not (np.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be positive, got {margin}")
    t0 = time.perf_counter()
    m, C = H.shape[0], int(n_classes)
    lp = _PairLP(H, y, C, margin)
    if W0 is not None:  # the warm start's violators and smallest margins
        M = pair_margins(H, y, W0, b0)
        flat = np.argsort(M, axis=None)[:min(int(n_init), m * (C - 1))]  # never the (i, y_i) entries
        bad = np.argwhere(M <= 0)
        lp.add(np.concatenate([flat // C, bad[:, 0]]), np.concatenate([flat % C, bad[:, 1]]))
    else:  # every pair of n_init / (C − 1) samples spread over the data
        idx = np.linspace(0, m - 1, min(m, max(1, int(n_init) // (C - 1)))).astype(np.int64)
        i, j = np.repeat(idx, C), np.tile(np.arange(C), idx.size)
        keep = j != y[i]
        lp.add(i[keep], j[keep])
    info = {"n_rounds": 0, "hinge": np.nan, "message": "", "checked": False}
    found = {}  # phase -> (W, b): the last solution of that phase that passed the check of all pairs
    last = None
    for phase in (1, 2):
        if phase == 2 and not (phase2 and 1 in found and info["hinge"] <= tol * margin):
            break
        for _ in range(int(max_rounds)):
            info["n_rounds"] += 1
            W, b, xi, obj, msg = lp.solve(phase, max_time - (time.perf_counter() - t0))
            if W is None:
                info["message"] = msg
                break
            last = (W, b)
            if phase == 1:
                info["hinge"] = obj  # a lower bound of the full problem's optimum
            short = margin * (1.0 - tol) - (pair_margins(H, y, W, b) + xi[:, None])
            bad = np.argwhere(short > 0)
            if bad.size == 0:
                found[phase] = (W, b)
                break
            order = np.argsort(-short[bad[:, 0], bad[:, 1]])[:int(max_add)]
            lp.add(bad[order, 0], bad[order, 1])
            if time.perf_counter() - t0 > max_time:
                info["message"] = "time limit"
                break
        if phase not in found:
            break
    info["checked"] = 1 in found
    W, b = found.get(2, found.get(1, last)) if (found or last) else (None, None)
    base = {"n_lp": lp.n_lp, "n_pairs": int(lp.pairs_i.size), "lp_time": lp.lp_time}
    if W is None:
        info.update(base, n_wrong=m, min_margin=np.nan, wall=time.perf_counter() - t0)
        return None, None, "failed", info
    row_min = pair_margins(H, y, W, b).min(axis=1)
    if info["hinge"] > tol * margin:
        status = "inseparable"  # the restricted LP's optimum bounds the full one from below
    elif 1 in found and np.all(row_min >= margin * (1.0 - tol)):
        status = "separable"
    else:
        status = "limit"
    info.update(base, n_wrong=int(np.sum(row_min <= 0)), min_margin=float(row_min.min()),
                wall=time.perf_counter() - t0)
    return W, b, status, info


def fewest_wrong(H, y, n_classes: int, *, W0=None, b0=None, n_candidates: int = 120, margin: float = 1.0,
                 max_rounds: int = 4, max_time: float = 600.0, tol: float = 1e-6, **lp_kwargs):
    """An output layer with as few wrong samples as a mixed-integer LP finds in ``max_time``.

    The L1 hinge of :func:`separate` minimises slacks, not the count. Here the count is the
    objective: the ``n_candidates`` samples with the smallest margins under the hinge layer
    each get a binary ``z_i`` that may drop their constraints (big M), every other sample
    keeps margin ≥ δ, and HiGHS's branch and bound minimises ``Σ z_i``, with ``|W|, |b|``
    boxed at twice the hinge layer's largest entry (which bounds M). Non-candidate pairs
    violated by a solution join the working set and the MILP runs again (``max_rounds``).

    Parameters
    ----------
    H, y, n_classes, W0, b0, margin, tol
        As in :func:`separate` (which runs first: separable features end there).
    n_candidates : int
        Samples that may be wrong (binary variables).
    max_rounds : int
        MILP solves at most.
    max_time : float
        Wall-time budget in seconds over the hinge LP and the MILPs.
    **lp_kwargs
        Further arguments of :func:`separate`.

    Returns
    -------
    W, b, status, info
        The layer with the fewest wrong samples (counted in float64 on every sample) among
        ``W0``, the hinge layer and each MILP solution; ``status`` is ``separate``'s. ``info``
        is ``separate``'s, updated: ``n_wrong`` (of the returned layer), ``n_wrong_hinge``,
        ``n_milp``, ``milp_time``, ``milp_bound`` (HiGHS's lower bound on ``Σ z_i``: the fewest
        wrong candidates any boxed layer with every other sample at margin δ can have) and
        ``milp_optimal`` (the last MILP proved its optimum and no pair outside was violated).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    W, b, status, info = separate(H, y, n_classes, W0=W0, b0=b0, margin=margin, tol=tol,
                                  max_time=max_time, **lp_kwargs)
    info = dict(info, n_wrong_hinge=info["n_wrong"], n_milp=0, milp_time=0.0, milp_bound=np.nan,
                milp_optimal=False)
    if status != "inseparable" or W is None:
        return W, b, status, info
    H, y = _check_inputs(H, y, n_classes, W0, b0)
    m, C, k = H.shape[0], int(n_classes), H.shape[1]
    best = (info["n_wrong"], W, b)
    if W0 is not None:
        n0 = int(np.sum(pair_margins(H, y, W0, b0).min(axis=1) <= 0))
        if n0 < best[0]:
            best = (n0, np.asarray(W0, np.float64), np.asarray(b0, np.float64))
    M = pair_margins(H, y, W, b)
    cand = np.argsort(M.min(axis=1))[:min(int(n_candidates), m)]
    slot = -np.ones(m, np.int64)
    slot[cand] = np.arange(cand.size)
    pi, pj = np.nonzero((M < 3.0 * margin) | (slot >= 0)[:, None])
    keep = pj != y[pi]
    pi, pj = pi[keep], pj[keep]
    box = 2.0 * max(np.abs(W).max(), np.abs(b).max())
    big = margin + 2.0 * (k + 1) * box  # no boxed layer has a margin below −big + δ
    n_w = k * C
    n_var = n_w + C + cand.size
    lower = np.concatenate([np.full(n_w + C, -box), np.zeros(cand.size)])
    upper = np.concatenate([np.full(n_w + C, box), np.ones(cand.size)])
    integrality = np.concatenate([np.zeros(n_w + C), np.ones(cand.size)])
    cost = np.concatenate([np.zeros(n_w + C), np.ones(cand.size)])
    for _ in range(int(max_rounds)):
        left = max_time - (time.perf_counter() - t0)
        if left < 1.0:
            break
        z = slot[pi] >= 0
        A = _pair_rows(H, y, C, pi, pj, n_var, np.where(z, n_w + C + slot[pi], 0), np.where(z, big, 0.0))
        t1 = time.perf_counter()
        res = milp(cost, constraints=LinearConstraint(A, lb=np.full(pi.size, margin)),
                   bounds=Bounds(lower, upper), integrality=integrality, options={"time_limit": left})
        info["milp_time"] += time.perf_counter() - t1
        info["n_milp"] += 1
        if res.x is None:
            info["message"] = str(res.message)
            break
        info["milp_bound"] = float(getattr(res, "mip_dual_bound", np.nan))
        Wm, bm = res.x[:n_w].reshape(k, C), res.x[n_w:n_w + C]
        Mm = pair_margins(H, y, Wm, bm)
        n_wrong = int(np.sum(Mm.min(axis=1) <= 0))
        if n_wrong < best[0]:
            best = (n_wrong, Wm, bm)
        bad = np.argwhere((Mm < margin * (1.0 - tol)) & (slot < 0)[:, None])
        info["milp_optimal"] = res.status == 0 and bad.size == 0
        if bad.size == 0:
            break
        pi, pj = np.concatenate([pi, bad[:, 0]]), np.concatenate([pj, bad[:, 1]])
    info.update(n_wrong=best[0], min_margin=float(pair_margins(H, y, best[1], best[2]).min()),
                wall=time.perf_counter() - t0)
    return best[1], best[2], status, info
