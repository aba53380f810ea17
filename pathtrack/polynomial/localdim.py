"""Local dimension of the solution set at singular endpoints: isolated root or point of a component.

A path of a homotopy can end at an isolated singular root (a multiple root) or at a point of a
positive-dimensional component of the solutions; both are finite endpoints where the Jacobian is
singular. They differ in whether the solution set goes on through the point. :func:`local_dimension`
tests that directly, as the local dimension tests of Bertini and HomotopyContinuation.jl do: it cuts
the solutions with ``k`` random affine hyperplanes moved off the point by a small distance and asks
Gauss-Newton on ``F(x) = 0`` plus the hyperplanes (their normals taken in the
Jacobian's kernel, where the tangents of a component lie) to converge to a solution. Through a point of a
component of dimension ``d`` a slice with ``k <= d`` hyperplanes still meets the solutions nearby
(Newton converges, quadratically on a reduced component); at an isolated root no solution lies on
the moved slice, and Newton stalls where ``F`` is of the size its lowest-order terms reach at that
distance (about ``offset**m`` for a root of multiplicity ``m`` along its kernel).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["local_dimension", "jacobian_corank", "too_few_paths", "LOCAL_DIM_OFFSET", "LOCAL_DIM_TOL"]

#: Distance of the hyperplanes from the point, relative to ``1 + ‖x‖``. An isolated root of
#: multiplicity ``m`` along its kernel leaves a relative residual of about ``offset**m`` on the
#: moved slice, above :data:`LOCAL_DIM_TOL` for ``m <= 5``.
LOCAL_DIM_OFFSET = 1e-2
#: Newton on the slice has met the solutions when ``‖D⁻¹F(x)‖`` is below this times ``1 + ‖x‖``
#: (``D`` the row scales of the solver's classification, ``solver._row_scales``: a distance in
#: ``x``, whatever the equations' scales); rounding leaves about ``1e-15``.
LOCAL_DIM_TOL = 1e-11
#: Gauss-Newton steps per slice: enough for linear convergence (a non-reduced component, where the
#: Jacobian of ``F`` plus the slice stays singular) from ``offset`` down to rounding.
LOCAL_DIM_ITERS = 40
#: Slices tried per dimension before the point is called isolated in that dimension.
LOCAL_DIM_TRIES = 2
#: Where Gauss-Newton from the point misses a slice, it is moved out to ``offset`` in these
#: stages (fractions of ``offset``), each started from the solution on the stage before.
LOCAL_DIM_STAGES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: Singular values of the Jacobian below this, relative to the largest, span its numerical kernel:
#: endpoints on a component are accurate to about ``1e-8`` or better.
KERNEL_TOL = 1e-6


def jacobian_corank(jac: np.ndarray, singular_values: Optional[np.ndarray] = None) -> int:
    """Numerical corank of a square Jacobian: its singular values below :data:`KERNEL_TOL` times the
    largest (``singular_values``, where already computed, in decreasing order)."""
    s = np.linalg.svd(jac, compute_uv=False) if singular_values is None else singular_values
    return int(np.sum(s <= KERNEL_TOL * max(s[0], 1e-300))) if len(s) else 0


def too_few_paths(multiplicity, corank) -> np.ndarray:
    """Whether ``multiplicity`` paths are too few for an isolated root whose Jacobian has this corank.

    An isolated root whose Jacobian has corank ``c`` has multiplicity at least ``c + 1`` (its
    local ring holds the constants and ``c`` independent linear forms of the kernel), and a
    homotopy with generic ``gamma`` sends exactly multiplicity-many paths to an isolated root. A
    point reached by ``m <= c`` paths is therefore on a positive-dimensional component, where any
    number of paths may end (cyclic:8: 288 pairs of paths at points of corank 2 or 3, seed 0).
    """
    return np.asarray(multiplicity) <= np.asarray(corank)


def local_dimension(system, points: np.ndarray, max_dim: Optional[int] = None, seed: int = 0,
                    offset: float = LOCAL_DIM_OFFSET, tol: float = LOCAL_DIM_TOL,
                    multiplicity: Optional[np.ndarray] = None) -> np.ndarray:
    """Estimate the local dimension of the solutions of ``system`` at each of ``points``.

    Parameters
    ----------
    system : PolynomialSystem
        A square (or overdetermined) affine system.
    points : ndarray, shape (k, n)
        Approximate solutions (singular endpoints).
    max_dim : int, optional
        Largest dimension tried (default ``n - 1``); the test also stops at the corank of the
        Jacobian (taken as at least 1), since a component's dimension is at most the corank.
    seed : int
        Seeds the random hyperplanes.
    offset, tol : float
        See :data:`LOCAL_DIM_OFFSET` and :data:`LOCAL_DIM_TOL`.
    multiplicity : ndarray of int, optional
        Paths of a generic homotopy that ended at each point. A point that the slices call
        isolated but that too few paths reached for its Jacobian's corank (:func:`too_few_paths`)
        gets dimension 1: at some points of cyclic:8's curve (corank 2, two paths each) Newton
        from every side returns to the point, so that the slices miss the curve.

    Returns
    -------
    ndarray of int, shape (k,)
        ``0`` for an isolated solution, ``d >= 1`` when ``d`` random hyperplanes moved off the
        point still meet the solutions next to it (the point lies on a component of dimension at
        least ``d``).
    """
    from .kernels import eval_system_alloc, term_sizes_batch
    from .solver import _row_scales, _scaled_residuals

    points = np.asarray(points, dtype=np.complex128).reshape(-1, system.n_variables)
    n = system.n_variables
    max_dim = n - 1 if max_dim is None else int(max_dim)
    p = system.packed()
    arrays = (*p.arrays(), p.max_exp)
    rng = np.random.default_rng(seed)

    def residual(x, val, jac):
        """``‖D⁻¹F(x)‖ / (1 + ‖x‖)``, ``D`` the solver's row scales: a relative distance, whatever the
        equations' scales, and defined where every term of an equation vanishes."""
        scale = _row_scales(x[None, :], jac[None], term_sizes_batch(x[None, :], *arrays))
        return float(_scaled_residuals(val[None, :], scale)[0]) / (1.0 + np.linalg.norm(x))

    def newton(x, x0, k, A, c, scale):
        """Gauss-Newton on ``F(x) = 0, A x = c`` from ``x``: the point reached and whether it solves
        both (within ``tol`` and ``1e-12·scale``) no farther than ``10·k·offset·scale`` from ``x0``."""
        for _ in range(LOCAL_DIM_ITERS):
            val, jac = eval_system_alloc(x, *arrays)
            if not np.all(np.isfinite(val)) or np.linalg.norm(x - x0) > 10 * k * offset * scale:
                return x, False
            if residual(x, val, jac) <= tol and np.linalg.norm(A @ x - c) <= 1e-12 * scale:
                return x, True
            M = np.vstack([jac, A])
            rhs = np.concatenate([val, A @ x - c])
            dx = np.linalg.lstsq(M, -rhs, rcond=None)[0]
            x = x + dx
            if np.linalg.norm(dx) <= 1e-15 * scale:
                break
        val, jac = eval_system_alloc(x, *arrays)
        return x, bool(np.all(np.isfinite(val)) and np.linalg.norm(x - x0) <= 10 * k * offset * scale
                       and residual(x, val, jac) <= tol and np.linalg.norm(A @ x - c) <= 1e-12 * scale)

    def meets(x0, k, kernel):
        """Whether ``k`` random hyperplanes at ``offset`` from ``x0``, their normals in the span of
        ``kernel`` (rows: conjugate null vectors of the Jacobian, where a component's tangents lie),
        meet the solutions near ``x0``."""
        scale = 1.0 + np.linalg.norm(x0)
        R = rng.standard_normal((k, len(kernel))) + 1j * rng.standard_normal((k, len(kernel)))
        A = R @ kernel
        A /= np.linalg.norm(A, axis=1)[:, None]
        u = np.exp(2j * np.pi * rng.uniform(size=k))
        if newton(x0.copy(), x0, k, A, A @ x0 + offset * scale * u, scale)[1]:
            return True
        # Where components cross (redcyc8's lines and planes of points with zero coordinates, corank
        # 4 or 5), Gauss-Newton from x0 onto the slice at the full offset stalls at residuals of
        # 1e-6 to 1e-4 on most slices; moving the slice out from LOCAL_DIM_STAGES[0]·offset, each
        # stage started from the last one's point scaled about x0 (exact on a line through x0),
        # reaches the solutions on it. Only the last stage, at the full offset, decides.
        x, prev = x0.copy(), None
        for stage in LOCAL_DIM_STAGES:
            delta = stage * offset
            start = x0 + (x - x0) * (delta / prev) if prev else x0.copy()
            x, ok = newton(start, x0, k, A, A @ x0 + delta * scale * u, scale)
            prev = delta
        return ok

    dims = np.zeros(len(points), dtype=np.int64)
    for i, x0 in enumerate(points):
        if not np.all(np.isfinite(x0)):
            continue
        _, jac = eval_system_alloc(x0, *arrays)
        _, s, vh = np.linalg.svd(jac)
        exact_corank = jacobian_corank(jac, s)
        corank = max(1, exact_corank)
        kernel = vh[n - corank:]
        d = 0
        # a slice can miss the solutions by bad luck (nearly parallel to the tangents): two tries.
        # Every k up to the corank is tried, not only up to the first miss: k slices that meet the
        # solutions show a dimension of at least k whatever smaller k did, and where components
        # cross (redcyc8: lines and planes of points with zero coordinates, corank 4 or 5)
        # Gauss-Newton on one slice can stall at a residual of 1e-6 where two slices meet them.
        for k in range(1, min(max_dim, corank) + 1):
            if any(meets(x0, k, kernel) for _ in range(LOCAL_DIM_TRIES)):
                d = k
        if d == 0 and multiplicity is not None and too_few_paths(multiplicity[i], exact_corank):
            d = 1
        dims[i] = d
    return dims
