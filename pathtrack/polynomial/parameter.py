"""Parameter homotopies: the solutions of ``F(x; q0)`` tracked to ``F(x; q1)`` for many ``q1``.

A system whose coefficients depend on parameters (:class:`~pathtrack.polynomial.ParametrizedSystem`)
is solved once at a random complex ``q0`` (:func:`~pathtrack.polynomial.solve`, total degree);
for a generic ``q0`` that gives every isolated solution of a generic member of the family. Each
solution is then tracked along ``H(x, t) = F(x; (1-t)·q0 + t·q1)`` to each target ``q1`` with
the compiled tracker of :func:`~pathtrack.polynomial.solve` (same projective frame, step
control, path-jumping guard and Cauchy endgame: :func:`kernels.track_parameter_batch`), so a
target costs as many paths as the family has solutions, not the Bézout number. The paths of
all targets are tracked together, in chunks over threads or any executor, and classified
per target as :func:`solve` classifies its endpoints.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..results import Result
from ..status import Status
from .parametric import ParametrizedSystem, as_parametrized
from .solver import (SolveOptions, SolveResult, _compile_kernels, _progress_bar, _solve_result, _StopFlag,
                     _track_and_classify, _track_kernel, solve)

__all__ = ["track_parameters", "solve_parameters", "ParameterSolveResult", "start_points", "random_parameters"]


def random_parameters(n_parameters: int, seed: Optional[int] = 0) -> np.ndarray:
    """A random complex parameter value (standard normal real and imaginary parts): a generic ``q0``."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n_parameters) + 1j * rng.standard_normal(n_parameters)


def start_points(start_solutions: Any, n_variables: int, what: str = "start solutions") -> np.ndarray:
    """Start solutions as a complex ``(k, n_variables)`` array.

    ``start_solutions`` is an array (one solution per row; a 1-D array is one solution), a
    :class:`SolveResult` (its regular solutions), or the path of a ``pathtrack-solve`` or
    ``pathtrack-parameters`` HDF5 file (its regular solutions; of the first target for the latter).
    A wrong width or a NaN raises ``ValueError`` naming the input.
    """
    if isinstance(start_solutions, SolveResult):
        start_solutions = start_solutions.solutions
    elif isinstance(start_solutions, (str, os.PathLike)):
        from ..io import open_file

        f = open_file(os.fspath(start_solutions))
        if "solutions/regular" not in f.data:
            raise ValueError(f"{os.fspath(start_solutions)}: a {f.format} file holds no solutions")
        what = f"{what} from {os.fspath(start_solutions)}"
        start_solutions = f.data["solutions/regular"]
    try:
        arr = np.asarray(start_solutions, dtype=np.complex128)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: not an array of numbers") from None
    if arr.ndim == 1 and arr.shape[0] == n_variables:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_variables:
        raise ValueError(f"{what}: expected solutions with {n_variables} coordinates (shape (k, {n_variables})), "
                         f"got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: row(s) {np.nonzero(~np.isfinite(arr).all(axis=1))[0].tolist()} are not finite")
    return arr


def _refined_starts(psys: ParametrizedSystem, starts: np.ndarray, q0: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """The start solutions polished by Newton on ``F(x; q0)``; any that is no solution there raises ``ValueError``.

    A start off the path would fail (or worse, converge to another path), so it is refused up
    front, judged as :func:`solve` judges endpoints (residual relative to the size of the terms).
    """
    from .kernels import refine_batch, term_sizes_batch
    from .solver import _row_scales, _scaled_residuals

    p = psys.at(q0).packed()
    _, _, jacs = refine_batch(starts, *p.arrays(), p.max_exp, opts.final_tol, 0)  # Jacobians at the starts
    scale = _row_scales(starts, jacs, term_sizes_batch(starts, *p.arrays(), p.max_exp))
    # judged before polishing: Newton from a point near another root would polish it into that root
    bad = ~(_scaled_residuals(starts, p, scale) <= np.sqrt(opts.endgame_tol) * (1 + np.linalg.norm(starts, axis=1)))
    if bad.any():
        rows = np.nonzero(bad)[0]
        raise ValueError(f"start solution(s) {rows[:10].tolist()}{' ...' if len(rows) > 10 else ''} do not solve "
                         f"F(x; q0) at q0 = {np.round(q0, 6).tolist()}")
    return refine_batch(starts, *p.arrays(), p.max_exp, opts.final_tol, 5)[0]


def _square(psys: ParametrizedSystem) -> None:
    if psys.n_equations != psys.n_variables:
        raise ValueError(f"the system must be square: {psys.n_equations} equations in {psys.n_variables} unknowns "
                         f"{psys.variables} (parameters {psys.parameters})")


def _patch(n_variables: int, seed: int) -> np.ndarray:
    """The random affine patch ``a·x = 1`` of the projective frame (seeded)."""
    rng = np.random.default_rng(seed)
    patch = rng.standard_normal(n_variables + 1) + 1j * rng.standard_normal(n_variables + 1)
    return patch / np.linalg.norm(patch)


def _track_pairs(psys: ParametrizedSystem, starts: np.ndarray, Q0: np.ndarray, Q1: np.ndarray,
                 groups: Sequence[np.ndarray], ends_at: np.ndarray, seed: int, workers, executor, opts: SolveOptions,
                 progress) -> List:
    """Track row ``i`` of ``starts`` (affine) from ``F(x; Q0[i])`` to ``F(x; Q1[i])``.

    ``groups`` are row sets whose paths end at one parameter value each, ``ends_at[g]``
    (``Q1[rows]`` of each group); every group is classified
    (and its crossed or failed paths re-tracked) as :func:`solve` does, and becomes one
    :class:`SolveResult`, whose ``total_time`` is the group's share of the run, in proportion to
    its steps. Returns the results, in the order of ``groups``.
    """
    from ..interrupt import deferred_sigint

    t0 = time.perf_counter()
    patch = _patch(psys.n_variables, seed)
    packed = psys.packed()
    coef = packed.coefficients
    proj = np.hstack([np.ones((len(starts), 1), dtype=np.complex128), starts])
    with np.errstate(all="ignore"):
        proj = proj / (proj @ patch)[:, None]
    Q0 = np.ascontiguousarray(Q0, dtype=np.complex128)
    Q1 = np.ascontiguousarray(Q1, dtype=np.complex128)
    targets = [psys.at(q) for q in ends_at]

    def args(opt):
        return (packed.monomials, coef.arrays(), coef.max_exp, patch, opt, packed.max_exp)

    if executor is None:
        import sys

        _compile_kernels(targets[0].packed(), "track_parameter_batch",
                         (Q0[:0], Q1[:0], *args(opts.to_array())), opts,
                         notice=progress is not False and sys.stderr.isatty())
    stop = _StopFlag()
    bar = _progress_bar(len(proj), progress)
    with bar, deferred_sigint(stop):
        out = _track_and_classify(
            list(zip(targets, groups)), proj, opts, stop, bar,
            lambda rows, opt: _track_kernel(proj[rows], "track_parameter_batch", args(opt), executor, workers, stop,
                                            bar, per_row=(Q0[rows], Q1[rows])))
    ends, codes, kinds, winding, steps, cls, crossings, retracked = out
    wall = time.perf_counter() - t0
    total_steps = max(1, int(np.sum(steps)))
    return [_solve_result(target, ends[rows], codes[rows], winding[rows], steps[rows], c, n_cross,
                          int(retracked[rows].sum()), seed=seed, gamma=complex("nan"), options=opts,
                          total_time=wall * float(np.sum(steps[rows])) / total_steps)
            for target, rows, c, n_cross in zip(targets, groups, cls, crossings)]


def track_parameters(system: Any, start_solutions: Any, q0: Any, q1: Any, parameters: Optional[Sequence[str]] = None,
                     seed: int = 0, workers: Optional[int] = None, executor: Any = None,
                     options: Optional[SolveOptions] = None, progress: Optional[bool] = False) -> SolveResult:
    """Track solutions of ``F(x; q0)`` to the solutions of ``F(x; q1)`` along ``F(x; (1-t)·q0 + t·q1)``.

    Parameters
    ----------
    system : ParametrizedSystem or anything :func:`solve` accepts
        With ``parameters`` naming the parameters unless it is a :class:`ParametrizedSystem`.
    start_solutions : array, SolveResult or path
        Solutions of ``F(x; q0)`` (see :func:`start_points`).
    q0, q1 : sequence of complex
        Start and target parameter values. ``q0 = 0`` is allowed when ``F(x; 0)`` has the start
        solutions as regular roots (e.g. a binomial start system of a polyhedral homotopy written
        with one parameter ``t``: coefficients ``c·t^w``, ``q0 = 0``, ``q1 = 1``).
    seed : int
        Seeds the random affine patch of the projective frame.
    workers, executor, options, progress
        As for :func:`solve`. ``options.scaling`` does not apply: the system is tracked as given.

    Returns
    -------
    SolveResult
        For ``F(x; q1)``: one path per start solution, classified as :func:`solve` classifies
        (``gamma`` is NaN: a parameter homotopy has none).
    """
    psys = as_parametrized(system, parameters)
    _square(psys)
    q0 = psys.check_parameters(q0, "q0")
    q1 = psys.check_parameters(q1, "q1")
    opts = options or SolveOptions()
    starts = _refined_starts(psys, start_points(start_solutions, psys.n_variables), q0, opts)
    _check_workers(workers)
    k = len(starts)
    return _track_pairs(psys, starts, np.tile(q0, (k, 1)), np.tile(q1, (k, 1)), [np.arange(k)], q1[None, :], seed,
                        workers, executor, opts, progress)[0]


def _check_workers(workers) -> None:
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
