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

__all__ = ["track_parameters", "solve_parameters", "ParameterSolveResult", "start_points", "random_parameters",
           "REAL_TOL", "read_targets", "parse_complex"]


def random_parameters(n_parameters: int, seed: Optional[int] = 0) -> np.ndarray:
    """A random complex parameter value (standard normal real and imaginary parts): a generic ``q0``."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n_parameters) + 1j * rng.standard_normal(n_parameters)


def start_points(start_solutions: Any, n_variables: int, what: str = "start solutions") -> np.ndarray:
    """Start solutions as a complex ``(k, n_variables)`` array.

    ``start_solutions`` is an array (one solution per row; a 1-D array is one solution), a
    :class:`SolveResult` (its regular solutions), or the path of a ``pathtrack-solve`` or
    ``pathtrack-parameters`` HDF5 file (the regular solutions of a solve, the start solutions of
    a parameter run).
    A wrong width or a NaN raises ``ValueError`` naming the input.
    """
    if isinstance(start_solutions, SolveResult):
        start_solutions = start_solutions.solutions
    elif isinstance(start_solutions, (str, os.PathLike)):
        from ..io import open_file

        f = open_file(os.fspath(start_solutions))
        key = "start/solutions" if "start/solutions" in f.data else "solutions/regular"
        if key not in f.data:
            raise ValueError(f"{os.fspath(start_solutions)}: a {f.format} file holds no solutions")
        what = f"{what} from {os.fspath(start_solutions)}"
        start_solutions = f.data[key]
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
    _, _, jacs, values = refine_batch(starts, *p.arrays(), p.max_exp, opts.final_tol, 0)  # J and F at the starts
    scale = _row_scales(starts, jacs, term_sizes_batch(starts, *p.arrays(), p.max_exp))
    # judged before polishing: Newton from a point near another root would polish it into that root
    bad = ~(_scaled_residuals(values, scale) <= np.sqrt(opts.endgame_tol) * (1 + np.linalg.norm(starts, axis=1)))
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
    ends, codes, kinds, winding, steps, cls, crossings, retracked, deep, suspect, _ = out[:11]
    wall = time.perf_counter() - t0
    total_steps = max(1, int(np.sum(steps)))
    return [_solve_result(target, ends[rows], codes[rows], winding[rows], steps[rows], c, n_cross,
                          int(retracked[rows].sum()), {"n_deep_endgame": int(deep[rows].sum()),
                                                       "n_suspect_infinity": int(suspect[rows].sum())}, seed=seed,
                          gamma=complex("nan"), options=opts,
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
    opts = SolveOptions.resolve(options)
    starts = _refined_starts(psys, start_points(start_solutions, psys.n_variables), q0, opts)
    _check_workers(workers)
    k = len(starts)
    return _track_pairs(psys, starts, np.tile(q0, (k, 1)), np.tile(q1, (k, 1)), [np.arange(k)], q1[None, :], seed,
                        workers, executor, opts, progress)[0]


def _check_workers(workers) -> None:
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")


#: Imaginary parts below this times ``1 + ‖x‖`` make a solution real (``only_real``).
REAL_TOL = 1e-8


@dataclass(frozen=True)
class ParameterSolveResult(Result):
    """Solutions of ``F(x; q)`` at each target ``q`` (:func:`solve_parameters`; a :class:`~pathtrack.results.Result`).

    ``status`` is ``success`` when every target's :class:`SolveResult` is; otherwise the
    status of the first target that is not, and ``message`` counts them.

    Attributes
    ----------
    system : ParametrizedSystem
    q0 : ndarray, shape (m,)
        The start parameters.
    start_solutions : ndarray, shape (k, n)
        The solutions of ``F(x; q0)`` tracked to every target (one path each per target).
    targets : ndarray, shape (T, m)
        The target parameter values, in the order given.
    results : tuple of SolveResult
        One per target: endpoints, statuses and classified solutions of ``F(x; targets[i])``.
        ``total_time`` of each is its share of the run, in proportion to its steps.
    start_result : SolveResult or None
        The total-degree solve of ``F(x; q0)`` when :func:`solve_parameters` made the start.
    only_real, only_nonsingular : bool
        The filters :meth:`solutions` applies by default.
    counters : dict
        ``n_targets``, ``n_paths`` (tracked from ``q0``, over all targets), ``n_steps``,
        ``n_path_crossings``, ``n_retracked``, and ``n_start_paths`` (paths of the start solve, 0
        when the start solutions were given).
    """

    system: Any
    q0: np.ndarray
    start_solutions: np.ndarray
    targets: np.ndarray
    results: tuple
    seed: int
    options: SolveOptions = field(default_factory=SolveOptions)
    start_result: Optional[SolveResult] = None
    only_real: bool = False
    only_nonsingular: bool = True

    @property
    def n_targets(self) -> int:
        return len(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> SolveResult:
        return self.results[i]

    def solutions(self, i: int, only_real: Optional[bool] = None, only_nonsingular: Optional[bool] = None) -> np.ndarray:
        """Solutions at target ``i``: the regular ones, with the singular ones unless ``only_nonsingular``;
        only the real ones (as a float array, imaginary parts below :data:`REAL_TOL`·(1 + ‖x‖)) when
        ``only_real``. The filters default to the result's own."""
        only_real = self.only_real if only_real is None else only_real
        only_nonsingular = self.only_nonsingular if only_nonsingular is None else only_nonsingular
        r = self.results[i]
        sols = r.solutions if only_nonsingular else np.vstack([r.solutions, r.singular_solutions])
        if not only_real:
            return sols
        keep = np.max(np.abs(sols.imag), axis=1, initial=0.0) <= REAL_TOL * (1.0 + np.linalg.norm(sols, axis=1))
        return sols[keep].real

    def counts(self, only_real: Optional[bool] = None, only_nonsingular: Optional[bool] = None) -> np.ndarray:
        """Number of :meth:`solutions` at each target."""
        return np.array([len(self.solutions(i, only_real, only_nonsingular)) for i in range(self.n_targets)],
                        dtype=np.int64)

    @property
    def is_complete(self) -> bool:
        """True when every target's result is complete (:attr:`SolveResult.is_complete`)."""
        return all(r.is_complete for r in self.results)

    def summary(self) -> Dict[str, Any]:
        """Counts and timing as a JSON-ready dict (per-target counts as lists)."""
        return {
            "system": self.system.name, "variables": list(self.system.variables),
            "parameters": list(self.system.parameters), "q0": [[float(z.real), float(z.imag)] for z in self.q0],
            "n_start_solutions": int(len(self.start_solutions)), "n_targets": self.n_targets,
            "n_paths": int(self.counters.get("n_paths", 0)), "n_steps": int(self.counters.get("n_steps", 0)),
            "n_regular": [r.n_regular for r in self.results], "n_singular": [r.n_singular for r in self.results],
            "n_real": self.counts(only_real=True, only_nonsingular=True).tolist(),
            "n_failed": [r.n_failed for r in self.results], "complete": self.is_complete,
            "only_real": self.only_real, "only_nonsingular": self.only_nonsingular,
            "n_start_paths": int(self.counters.get("n_start_paths", 0)), "wall_time": self.total_time,
            "seed": self.seed, "status": self.status.name,
        }

    def to_hdf5(self, path: str, force: bool = False) -> None:
        """Write a ``pathtrack-parameters`` HDF5 file (layout in ``docs/hdf5_format.md``).

        The start solutions and ``q0`` are stored, so the file is a start for a later run
        (``solve_parameters(..., start_solutions=path)``). Raises ``FileExistsError`` when
        ``path`` exists and ``force`` is false.
        """
        from ..io import PARAMETER_FORMAT, write_result
        from .solver import KIND_NAMES

        sols, singular = [], []
        for r in self.results:  # what solutions(i) keeps, as complex rows, with a singular flag
            pts = r.solutions if self.only_nonsingular else np.vstack([r.solutions, r.singular_solutions])
            flag = np.arange(len(pts)) >= r.n_regular
            if self.only_real:
                real = np.max(np.abs(pts.imag), axis=1, initial=0.0) <= REAL_TOL * (1.0 + np.linalg.norm(pts, axis=1))
                pts, flag = pts[real], flag[real]
            sols.append(pts)
            singular.append(flag)
        n = self.system.n_variables
        cat = (lambda arrays, shape, dtype: np.concatenate(arrays).astype(dtype) if arrays else np.empty(shape, dtype))
        r0 = self.results
        write_result(
            path, PARAMETER_FORMAT, status=self.status, message=self.message, wall_time=self.total_time,
            counters=self.counters, force=force,
            attrs={"system": self.system.name, "variables": list(self.system.variables),
                   "parameters": list(self.system.parameters), "equations": list(self.system.joint.to_strings()),
                   "seed": self.seed, "q0": [[float(z.real), float(z.imag)] for z in self.q0],
                   "summary": self.summary(), "options": self.options.to_dict(), "kind_names": list(KIND_NAMES),
                   "only_real": int(self.only_real), "only_nonsingular": int(self.only_nonsingular)},
            datasets={
                "start/solutions": self.start_solutions, "targets/values": self.targets,
                "targets/status": np.array([int(r.status) for r in r0], dtype=np.int64),
                "targets/n_regular": np.array([r.n_regular for r in r0], dtype=np.int64),
                "targets/n_singular": np.array([r.n_singular for r in r0], dtype=np.int64),
                "targets/n_failed": np.array([r.n_failed for r in r0], dtype=np.int64),
                "paths/target": np.repeat(np.arange(len(r0)), [r.n_paths for r in r0]).astype(np.int64),
                "paths/endpoints": cat([r.path_endpoints for r in r0], (0, n + 1), np.complex128),
                "paths/status": cat([r.path_status for r in r0], (0,), np.int64),
                "paths/kind": cat([r.path_kind for r in r0], (0,), np.int64),
                "paths/winding": cat([r.path_winding for r in r0], (0,), np.int64),
                "paths/n_steps": cat([r.path_steps for r in r0], (0,), np.int64),
                "solutions/target": np.repeat(np.arange(len(sols)), [len(s) for s in sols]).astype(np.int64),
                "solutions/points": cat(sols, (0, n), np.complex128),
                "solutions/singular": cat(singular, (0,), np.int64)})

    def __repr__(self) -> str:
        n = [r.n_regular for r in self.results]
        span = f"{min(n)}..{max(n)}" if n else "-"
        return (f"ParameterSolveResult({self.system.name or 'system'}: {len(self.start_solutions)} start solutions -> "
                f"{self.n_targets} targets, {span} regular solutions each, {sum(r.n_failed for r in self.results)} "
                f"failed paths; {self.total_time:.3g} s)")


def _targets(psys: ParametrizedSystem, targets: Any) -> np.ndarray:
    """Target parameter values as a complex ``(T, m)`` array; a wrong width or NaN names the row."""
    try:
        arr = np.asarray(targets, dtype=np.complex128)
    except (TypeError, ValueError):
        raise ValueError("targets: not an array of numbers") from None
    m = psys.n_parameters
    if arr.ndim == 1 and m == 1:
        arr = arr[:, None]
    elif arr.ndim == 1 and arr.shape[0] == m:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != m:
        raise ValueError(f"targets: expected rows of {m} value(s) for {', '.join(psys.parameters)}, got shape "
                         f"{arr.shape}")
    if len(arr) == 0:
        raise ValueError("targets: no target parameter values")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ValueError(f"targets: row(s) {np.nonzero(bad)[0][:10].tolist()} are not finite")
    return arr


def solve_parameters(system: Any, targets: Any, parameters: Optional[Sequence[str]] = None,
                     start_solutions: Any = None, q0: Any = None, seed: int = 0, workers: Optional[int] = None,
                     executor: Any = None, options: Optional[SolveOptions] = None, progress: Optional[bool] = False,
                     only_real: bool = False, only_nonsingular: bool = True,
                     max_paths: Optional[int] = None) -> ParameterSolveResult:
    """All isolated solutions of ``F(x; q)`` at every target ``q``, by one solve and a parameter homotopy.

    Parameters
    ----------
    system : ParametrizedSystem or anything :func:`solve` accepts
        With ``parameters`` (names, or one comma-separated string) unless it is a
        :class:`ParametrizedSystem`.
    targets : array_like, shape (T, m)
        Target parameter values (a 1-D array for one parameter, or one target).
    start_solutions : array, SolveResult or path, optional
        Solutions of ``F(x; q0)`` (see :func:`start_points`; a ``pathtrack-parameters`` file
        also gives ``q0``). Without them ``F(x; q0)`` is solved by :func:`solve` (total degree)
        at ``q0``, by default a random complex point (seeded): then every isolated solution of a
        generic member of the family has a start.
    q0 : array_like, shape (m,), optional
        The start parameters (required with ``start_solutions`` unless the file holds them).
    seed : int
        Seeds ``q0``, the start solve and the projective patch.
    workers, executor, options, progress, max_paths
        As for :func:`solve`: the paths of all targets are tracked together, in chunks on
        threads or on ``executor`` (a ``dask.distributed`` Client or any
        ``concurrent.futures.Executor``).
    only_real, only_nonsingular : bool
        Default filters of :meth:`ParameterSolveResult.solutions` (and of the stored solutions).

    Returns
    -------
    ParameterSolveResult
    """
    t0 = time.perf_counter()
    psys = as_parametrized(system, parameters)
    _square(psys)
    opts = SolveOptions.resolve(options)
    _check_workers(workers)
    Q = _targets(psys, targets)
    start_result = None
    if start_solutions is None:
        q0 = random_parameters(psys.n_parameters, seed) if q0 is None else psys.check_parameters(q0, "q0")
        start_result = solve(psys.at(q0), seed=seed, workers=workers, executor=executor, options=opts,
                             progress=progress, max_paths=max_paths)
        starts = start_result.solutions
    else:
        if isinstance(start_solutions, (str, os.PathLike)) and q0 is None:
            q0 = _stored_q0(start_solutions)
        if q0 is None:
            raise ValueError("q0: give the parameter values at which the start solutions solve the system")
        q0 = psys.check_parameters(q0, "q0")
        starts = _refined_starts(psys, start_points(start_solutions, psys.n_variables), q0, opts)
    k, T = len(starts), len(Q)
    groups = [np.arange(i * k, (i + 1) * k) for i in range(T)]
    results = _track_pairs(psys, np.tile(starts, (T, 1)), np.tile(q0, (k * T, 1)), np.repeat(Q, k, axis=0), groups,
                           Q, seed, workers, executor, opts, progress)
    bad = [i for i, r in enumerate(results) if r.status != Status.success]
    if start_result is not None and not start_result.is_complete:
        status, message = start_result.status, f"the start solve at q0 is incomplete: {start_result.message}"
    elif bad:
        status = results[bad[0]].status
        message = f"{len(bad)} of {T} targets incomplete, first target {bad[0]}: {results[bad[0]].message}"
    else:
        status, message = Status.success, Status.success.message
    counters = {"n_targets": T, "n_paths": k * T, "n_steps": int(sum(r.counters["n_steps"] for r in results)),
                "n_path_crossings": int(sum(r.n_path_crossings for r in results)),
                "n_retracked": int(sum(r.n_retracked for r in results)),
                "n_start_paths": start_result.n_paths if start_result is not None else 0}
    return ParameterSolveResult(system=psys, q0=q0, start_solutions=starts, targets=Q, results=tuple(results),
                                seed=seed, options=opts, start_result=start_result, only_real=only_real,
                                only_nonsingular=only_nonsingular, status=status, message=message,
                                counters=counters, total_time=time.perf_counter() - t0)


def _stored_q0(path) -> Optional[np.ndarray]:
    """``q0`` stored in a ``pathtrack-parameters`` file, None for other files."""
    from ..io import open_file

    f = open_file(os.fspath(path))
    q0 = getattr(f, "q0", None)
    return None if q0 is None else np.asarray(q0, dtype=np.complex128)


def parse_complex(text: str, what: str) -> complex:
    """One number as text: ``1.5``, ``-2e-3``, ``1+2j``, ``(1-2j)`` or ``3i``; anything else raises ``ValueError``."""
    t = text.strip().replace(" ", "")
    if t.endswith(("i", "I")):
        t = t[:-1] + "j"
    try:
        value = complex(t)
    except ValueError:
        raise ValueError(f"{what}: {text.strip()!r} is not a number") from None
    if not (np.isfinite(value.real) and np.isfinite(value.imag)):
        raise ValueError(f"{what}: {text.strip()!r} is not finite")
    return value


def read_targets(path: "os.PathLike[str] | str", parameters: Sequence[str]) -> np.ndarray:
    """Target parameter values from a text file: one target per line, values separated by commas or blanks.

    Values are real or complex numbers (``1+2j``). A first line of names (the parameters in any
    order) orders the columns; lines starting with ``#`` and blank lines are skipped. A wrong
    number of values, a non-number, NaN or inf raises ``ValueError`` naming the file and line.
    """
    path = os.fspath(path)
    params = list(parameters)
    order = list(range(len(params)))
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the targets ({getattr(exc, 'strerror', None) or exc})") from None
    for number, line in enumerate(lines, 1):
        fields = [f for f in line.replace(",", " ").split()]
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{path} line {number}"
        if not rows and all(f in params for f in fields) and len(set(fields)) == len(fields):
            if sorted(fields) != sorted(params):
                raise ValueError(f"{where}: the header names {fields}, expected the parameters {params}")
            order = [fields.index(p) for p in params]
            continue
        if len(fields) != len(params):
            raise ValueError(f"{where}: expected {len(params)} value(s) ({', '.join(params)}), got {len(fields)}")
        values = [parse_complex(f, where) for f in fields]
        rows.append([values[k] for k in order])
    if not rows:
        raise ValueError(f"{path}: no target parameter values")
    return np.array(rows, dtype=np.complex128)
