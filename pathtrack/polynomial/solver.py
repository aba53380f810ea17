"""All isolated solutions of a square polynomial system by the total-degree homotopy.

:func:`solve` homogenises the system, builds the start system ``x_i^{d_i} - x_0^{d_i}`` with
its ``∏ d_i`` start points on a random affine patch, and tracks every path with the
compiled tracker of :mod:`pathtrack.polynomial.kernels` (in parallel over threads, or
chunked over any executor with ``map``, e.g. a ``dask.distributed`` Client). Endpoints are
classified as finite regular, finite singular (with multiplicity and winding number), at
infinity, or failed; finite regular ones are refined by Newton and deduplicated, and paths
that crossed (two paths, one regular endpoint) are tracked again more carefully.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ..compilenotice import compile_notice as _compile_notice
from ..options import OptionsError, TrackerOptions, resolve_options
from ..results import Result
from ..status import Status
from .families import family, is_family_spec
from .localdim import jacobian_corank, local_dimension, too_few_paths
from .parse import from_sympy, parse_polynomials, parse_system, read_phc
from .scaling import AUTO_MIN_GAIN, Scaling, balance
from .start import total_degree_start
from .system import PolynomialSystem

if TYPE_CHECKING:  # imported where a polyhedral start is asked for: a total-degree solve does without
    from .polyhedral import MixedSubdivision

__all__ = ["solve", "SolveOptions", "SolveResult", "as_system", "KIND_NAMES"]

# Endpoint kinds, stored as small integers in SolveResult.path_kind and the HDF5 file.
REGULAR, SINGULAR, AT_INFINITY, FAILED, INTERRUPTED = 0, 1, 2, 3, 4
KIND_NAMES = ("regular", "singular", "at_infinity", "failed", "interrupted")


#: The :class:`~pathtrack.options.TrackerOptions` fields the compiled tracker reads.
TRACKER_FIELDS = ("initial_ds", "min_ds", "max_ds", "max_steps", "grow_factor", "shrink_factor", "grow_after",
                  "newton_tol", "max_newton_iters", "max_contraction", "max_angle")
#: Tracker settings of :func:`solve` where they differ from ``TrackerOptions()``: steps are fractions
#: of the ``t`` segment, and few, loose Newton iterations make a step far from the path fail fast.
SOLVE_TRACKER_DEFAULTS = dict(initial_ds=0.05, min_ds=1e-12, max_ds=0.2, max_steps=2000, grow_after=3,
                              newton_tol=1e-7, max_newton_iters=3, max_contraction=0.3, max_angle=1.0)


def solve_tracker_options(**changes: Any) -> TrackerOptions:
    """The tracker settings :func:`solve` uses by default, with ``changes``."""
    return TrackerOptions(**SOLVE_TRACKER_DEFAULTS).replace(**changes)


@dataclass(frozen=True, init=False)
class SolveOptions:
    """Tracker and endgame settings of :func:`solve` (validated, immutable).

    ``SolveOptions(max_ds=0.05, max_winding=8)`` takes the tracker fields of
    :class:`~pathtrack.options.TrackerOptions` (:data:`TRACKER_FIELDS`, validated there) and
    the endgame fields below as keywords; ``options.max_ds`` reads them back.

    Parameters
    ----------
    tracker : TrackerOptions, optional
        Step control of the compiled tracker (default :func:`solve_tracker_options`): ``initial_ds``,
        ``min_ds``, ``max_ds`` are fractions of the tracked segment of ``t`` (``0 -> 1 -
        endgame_radius`` has length about 1), ``max_steps`` counts step attempts per segment, and
        ``grow_factor``, ``shrink_factor``, ``grow_after``, ``newton_tol``, ``max_newton_iters``,
        ``max_contraction``, ``max_angle`` mean what they mean for :func:`pathtrack.track`.
    endgame_radius : float
        ``1 - t`` where the endgame zone starts.
    endgame_ratio : float
        Factor by which the Cauchy radius shrinks between rounds.
    min_endgame_radius : float
        Smallest Cauchy radius; a path whose estimates never agree fails with ``ds_too_small``, one
        that never settled into its series' regime (no loop was run) with ``no_endgame_regime``.
    endgame_tol : float
        Two Cauchy estimates agree when they differ by at most ``endgame_tol·(1 + ‖x‖)``.
    n_cauchy_samples : int
        Sample points per loop round the circle.
    max_winding : int
        Largest winding number tried.
    max_cond : float
        Bound on ``1/σ_min`` of the row-scaled Jacobian (each equation divided by its own
        scale, so that the test does not depend on how equations are scaled) above which a
        finite endpoint is called singular.
    infinity_tol : float
        An endpoint (direct, or the Cauchy endgame's estimate) is at infinity when
        ``|x_0| ≤ infinity_tol·‖x‖`` (``x_0`` homogenising). The endgame also ends a path at
        infinity when the valuation of ``x_0`` stays positive without decaying over the radii.
    final_tol : float
        Newton tolerance of the final refinement.
    direct_steps : int
        Step budget for finishing a path from the endgame zone straight to ``t = 1``.
    dedup_tol : float
        Relative distance below which two endpoints are the same solution.
    max_retracks : int
        Rounds of re-tracking crossed or failed paths, each with the tracker settings of the
        round before retuned by the ``'conservative'`` preset
        (:meth:`~pathtrack.options.TrackerOptions.with_preset`).
    deep_endgame_radius : float
        ``1 - t`` where the endgame starts when a path called at infinity by the valuation of
        ``x_0`` alone (its endpoint's ``|x_0|`` still above ``infinity_tol·‖x‖``) is tracked
        again; while such rounds find finite endpoints, the next one starts 100 times closer to
        ``t = 1`` (down to ``1e-13``). A regular root of large norm looks like a diverging path
        until ``1 - t`` is small: chandra6's roots of norm ``10^4`` below ``1e-3``.
    max_extended_seconds : float
        Wall-time budget of the extended-precision stage for suspect paths, all of them together;
        0 (the default) skips the stage. A suspect path that neither the 50-digit Newton from where
        the tracker stops (run first, whatever the budget) nor this stage settled counts as failed, so the result says it is incomplete rather than waiting or
        guessing. The stage is 32-digit mpmath, minutes per path (discret3s: about 450 steps).
    scaling : {'auto', True, False}
        Balance the coefficients by scaling equations and variables with powers of two before
        tracking (:func:`pathtrack.polynomial.scaling.balance`), and map the solutions back.
        ``'auto'`` scales when that lowers the root-mean-square of ``log10|coefficient|`` by at
        least :data:`~pathtrack.polynomial.scaling.AUTO_MIN_GAIN` decades.
    """

    tracker: TrackerOptions
    endgame_radius: float = 0.05
    endgame_ratio: float = 0.25
    min_endgame_radius: float = 1e-10
    endgame_tol: float = 1e-6
    n_cauchy_samples: int = 16
    max_winding: int = 32
    max_cond: float = 1e10
    infinity_tol: float = 1e-7
    final_tol: float = 1e-13
    direct_steps: int = 200
    dedup_tol: float = 1e-6
    max_retracks: int = 3
    deep_endgame_radius: float = 1e-8
    max_extended_seconds: float = 0.0
    scaling: Any = "auto"

    def __init__(self, tracker: Optional[TrackerOptions] = None, **changes: Any) -> None:
        own = [f for f in dataclasses.fields(self) if f.name != "tracker"]
        names = {f.name for f in own}
        unknown = sorted(set(changes) - names - set(TRACKER_FIELDS))
        if unknown:
            raise OptionsError(f"unknown solve option(s) {unknown}; valid: "
                               f"{', '.join([*TRACKER_FIELDS, *sorted(names)])}")
        tracker = tracker if tracker is not None else solve_tracker_options()
        tracker = tracker.replace(**{k: v for k, v in changes.items() if k not in names})
        object.__setattr__(self, "tracker", tracker)
        for f in own:
            object.__setattr__(self, f.name, changes.get(f.name, f.default))
        self._validate()

    @classmethod
    def resolve(cls, options: Any = None) -> "SolveOptions":
        """Options from what a caller passed: None, a SolveOptions or a mapping of option names to values.

        Raises
        ------
        TypeError
            For anything else, saying what is expected.
        OptionsError
            For unknown names or invalid values.
        """
        return resolve_options(cls, options, lambda given: cls(**given))

    def __getattr__(self, name: str) -> Any:
        if name in TRACKER_FIELDS:  # only reached for names that are not fields of SolveOptions
            return getattr(self.__dict__["tracker"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _validate(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "tracker":
                if not isinstance(v, TrackerOptions):
                    raise OptionsError(f"tracker must be a TrackerOptions, got {type(v).__name__}")
            elif f.name == "scaling":
                if not (v is True or v is False or (isinstance(v, str) and v == "auto")):
                    raise OptionsError(f"scaling must be 'auto', True or False, got {v!r}")
            elif f.type in ("int", int):
                if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (0 if f.name == "max_retracks" else 1):
                    raise OptionsError(f"{f.name} must be a positive integer, got {v!r}")
            elif f.name == "max_extended_seconds":
                if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                    raise OptionsError(f"{f.name} must be a finite number >= 0, got {v!r}")
            elif not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise OptionsError(f"{f.name} must be a positive finite number, got {v!r}")
        if self.tracker.max_ds > 1.0:  # steps are fractions of the t segment
            raise OptionsError(f"need min_ds <= initial_ds <= max_ds <= 1, got {self.min_ds}, {self.initial_ds}, "
                               f"{self.max_ds}")
        for name in ("endgame_radius", "endgame_ratio", "deep_endgame_radius"):
            if not getattr(self, name) < 1.0:
                raise OptionsError(f"{name} must lie in (0, 1), got {getattr(self, name)}")
        if self.min_endgame_radius >= self.endgame_radius:
            raise OptionsError("min_endgame_radius must be smaller than endgame_radius")

    def replace(self, **changes: Any) -> "SolveOptions":
        """A copy with ``changes`` (tracker or endgame fields, or ``tracker``) applied and validated."""
        own = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "tracker"}
        tracker = changes.pop("tracker", self.tracker)
        return SolveOptions(tracker, **{**own, **changes})

    def with_preset(self, name: str) -> "SolveOptions":
        """These options with the tracker settings retuned by preset ``name`` (``'conservative'``: re-tracking)."""
        return self.replace(tracker=self.tracker.with_preset(name))

    def to_dict(self) -> Dict[str, Any]:
        """The tracker fields the compiled tracker reads and the endgame fields, flat (as stored in files)."""
        return {**{k: getattr(self.tracker, k) for k in TRACKER_FIELDS},
                **{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "tracker"}}

    def to_array(self) -> np.ndarray:
        """The float64 options vector read by :func:`pathtrack.polynomial.kernels.track_batch`."""
        from . import kernels as k

        a = np.empty(k.N_OPTIONS)
        a[k.O_INITIAL_DS], a[k.O_MIN_DS], a[k.O_MAX_DS] = self.initial_ds, self.min_ds, self.max_ds
        a[k.O_MAX_STEPS], a[k.O_GROW], a[k.O_SHRINK] = self.max_steps, self.grow_factor, self.shrink_factor
        a[k.O_GROW_AFTER], a[k.O_NEWTON_TOL], a[k.O_MAX_NEWTON] = self.grow_after, self.newton_tol, self.max_newton_iters
        a[k.O_MAX_CONTRACTION], a[k.O_MAX_ANGLE] = self.max_contraction, self.max_angle
        a[k.O_EG_RADIUS], a[k.O_EG_RATIO], a[k.O_EG_MIN_RADIUS] = (self.endgame_radius, self.endgame_ratio,
                                                                 self.min_endgame_radius)
        a[k.O_EG_TOL], a[k.O_N_SAMPLES], a[k.O_MAX_WINDING] = self.endgame_tol, self.n_cauchy_samples, self.max_winding
        a[k.O_MAX_COND], a[k.O_INFINITY_TOL], a[k.O_FINAL_TOL] = self.max_cond, self.infinity_tol, self.final_tol
        a[k.O_DIRECT_STEPS] = self.direct_steps
        return a


@dataclass(frozen=True)
class SolveResult(Result):
    """Solutions and per-path outcomes of :func:`solve` (a :class:`~pathtrack.results.Result`).

    ``status`` is ``success`` when no path failed, else the most frequent failure's status,
    and ``message`` counts the failures.

    Attributes
    ----------
    system : PolynomialSystem
        The (affine) system solved.
    solutions : ndarray, shape (n_regular, n)
        Distinct finite regular solutions, Newton-refined.
    residuals, conds : ndarray, shape (n_regular,)
        ``‖F(x)‖`` of :attr:`system` at each of them, and the 2-norm condition number of the
        Jacobian of the system that was tracked (the balanced one when :attr:`scaling` is set).
    singular_solutions : ndarray, shape (n_singular, n)
        Distinct finite singular endpoints (Cauchy-endgame estimates).
    multiplicities, singular_winding : ndarray, shape (n_singular,)
        Paths ending at each singular point, and the winding number observed.
    singular_dimension : ndarray of int, shape (n_singular,)
        Local dimension of the solutions at each singular point
        (:func:`~pathtrack.polynomial.localdim.local_dimension`): 0 for an isolated (multiple) root,
        ``d >= 1`` for a point of a positive-dimensional component, which is no isolated root;
        -1 where it was not tested (parameter homotopies). See :attr:`n_isolated_singular` and
        :attr:`n_positive_dimensional`.
    path_endpoints : ndarray, shape (n_paths, n + 1)
        Projective endpoints (column 0 is the homogenising coordinate).
    path_status : ndarray of int
        :class:`pathtrack.Status` value of each path.
    path_kind : ndarray of int
        Index into :data:`KIND_NAMES` (regular, singular, at_infinity, failed).
    path_winding, path_steps : ndarray of int
        Winding number (1 for paths finished without the Cauchy endgame) and steps taken.
    counters : dict
        ``n_paths``, ``n_steps`` (over all paths), ``n_path_crossings`` (paths that reached a
        regular endpoint shared with another path, before re-tracking) and ``n_retracked``
        (paths tracked again with the ``'conservative'`` preset: crossed or failed); the last
        two also as attributes. ``n_suspect_infinity``: paths called at infinity whose deep
        endgame failed off infinity; ``n_extended_precision``: those of them settled in extended
        precision, by Newton near where the tracker stops (``_settle_by_newton``) or by the
        re-track (the others are failed paths). ``n_tail``: paths called at
        infinity at an endpoint off infinity that were followed towards ``s = 1 - t = 0`` in ``s``
        itself (``kernels.tail_batch``), ``n_tail_regular`` the regular roots found so and
        ``n_tail_crossed`` those that ended at a root another path had (made suspect),
        ``n_tail_away`` those whose tail failed farther from infinity than the endgame's endpoint
        (made suspect).
        ``n_suspect_kept_at_infinity`` (only where more than ``MAX_EXTENDED_PATHS`` paths were
        suspect): suspect paths kept at infinity by ``_headed_for_infinity``; the other suspect
        paths are failed.
    total_time : float
        Wall-clock seconds; also as ``wall_time``.
    scaling : Scaling or None
        The scaling of equations and variables the paths were tracked on, or None when the
        system was tracked as given (``SolveOptions.scaling``). Endpoints, solutions and
        residuals are always those of :attr:`system`; ``conds`` and the endpoint decisions
        are made on the scaled system.
    start : str
        The start system tracked from: ``'total_degree'`` or ``'polyhedral'``.
    mixed_volume : int or None
        The mixed volume of the supports with the origin added (the number of polyhedral paths),
        when it was computed. With the polyhedral start, ``counters`` also hold ``n_cells``
        (mixed cells) and ``n_start_steps`` (steps of the stage-1 paths to the random system).
    certificate : CertifyResult or None
        With ``solve(..., certify=True)``, the Krawczyk certificates of :attr:`solutions` on
        :attr:`system` (:func:`pathtrack.polynomial.certify`); its counts are in :meth:`summary`.
    """

    system: Any
    solutions: np.ndarray
    residuals: np.ndarray
    conds: np.ndarray
    singular_solutions: np.ndarray
    multiplicities: np.ndarray
    singular_winding: np.ndarray
    path_endpoints: np.ndarray
    path_status: np.ndarray
    path_kind: np.ndarray
    path_winding: np.ndarray
    path_steps: np.ndarray
    seed: int
    gamma: complex
    options: SolveOptions = field(default_factory=SolveOptions)
    scaling: Optional[Scaling] = None
    start: str = "total_degree"
    mixed_volume: Optional[int] = None
    certificate: Any = None
    singular_dimension: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    n_path_crossings = property(lambda self: int(self.counters.get("n_path_crossings", 0)))
    n_retracked = property(lambda self: int(self.counters.get("n_retracked", 0)))
    wall_time = property(lambda self: self.total_time)

    @property
    def n_paths(self) -> int:
        return int(self.path_kind.shape[0])

    @property
    def n_regular(self) -> int:
        return int(self.solutions.shape[0])

    @property
    def n_singular(self) -> int:
        return int(self.singular_solutions.shape[0])

    @property
    def n_positive_dimensional(self) -> int:
        """Distinct singular endpoints on positive-dimensional components (local dimension >= 1)."""
        return int(np.sum(self.singular_dimension >= 1))

    @property
    def n_isolated_singular(self) -> int:
        """Singular endpoints that are not on a positive-dimensional component: isolated multiple roots."""
        return self.n_singular - self.n_positive_dimensional

    @property
    def n_at_infinity(self) -> int:
        return int(np.sum(self.path_kind == AT_INFINITY))

    @property
    def n_failed(self) -> int:
        return int(np.sum(self.path_kind == FAILED))

    @property
    def n_interrupted(self) -> int:
        """Paths not tracked to the end because the run was stopped (status ``interrupted``)."""
        return int(np.sum(self.path_kind == INTERRUPTED))

    @property
    def n_unresolved_crossings(self) -> int:
        """Regular paths beyond one per regular solution: crossings that re-tracking did not undo."""
        return int(np.sum(self.path_kind == REGULAR)) - self.n_regular

    @property
    def is_complete(self) -> bool:
        """True when every path ended and is accounted for: no failed or interrupted path and no
        unresolved crossing. Otherwise solutions may be missing from the counts."""
        return self.n_failed == 0 and self.n_interrupted == 0 and self.n_unresolved_crossings == 0

    def failed_paths(self) -> Dict[int, str]:
        """Index and :class:`Status` name of every failed path (interrupted ones are counted only)."""
        idx = np.nonzero(self.path_kind == FAILED)[0]
        return {int(i): Status(int(self.path_status[i])).name for i in idx}

    def real_solutions(self, tol: float = 1e-8) -> np.ndarray:
        """Regular solutions whose imaginary parts are all below ``tol·(1 + ‖x‖)``."""
        if self.n_regular == 0:
            return np.empty((0, self.system.n_variables))
        scale = 1.0 + np.linalg.norm(self.solutions, axis=1)
        keep = np.max(np.abs(self.solutions.imag), axis=1) <= tol * scale
        return self.solutions[keep].real

    def failures(self) -> Dict[str, int]:
        """Count of failed paths by :class:`Status` name."""
        codes = self.path_status[self.path_kind == FAILED]
        return {Status(int(c)).name: int(n) for c, n in zip(*np.unique(codes, return_counts=True))}

    def summary(self, with_solutions: bool = False) -> Dict[str, Any]:
        """Counts and timing as a JSON-ready dict (``solutions`` as ``[[re, im], ...]`` rows when asked)."""
        out: Dict[str, Any] = {
            "system": self.system.name, "variables": list(self.system.variables), "n_paths": self.n_paths,
            "n_regular": self.n_regular, "n_singular": self.n_singular, "n_isolated_singular": self.n_isolated_singular,
            "n_positive_dimensional": self.n_positive_dimensional, "n_at_infinity": self.n_at_infinity,
            "n_failed": self.n_failed, "n_path_crossings": self.n_path_crossings, "n_retracked": self.n_retracked,
            "failures": self.failures(), "wall_time": self.wall_time, "seed": self.seed,
            "n_interrupted": self.n_interrupted, "n_unresolved_crossings": self.n_unresolved_crossings,
            "complete": self.is_complete, "failed_paths": self.failed_paths(),
            "scaling": self.scaling.to_dict() if self.scaling is not None else None,
            "start": self.start, "mixed_volume": self.mixed_volume,
            # paths whose deep endgame failed off infinity, and those settled in extended precision
            "n_suspect_infinity": int(self.counters.get("n_suspect_infinity", 0)),
            "n_extended_precision": int(self.counters.get("n_extended_precision", 0)),
        }
        if self.certificate is not None:
            out.update(self.certificate.summary())
        if with_solutions:
            out["solutions"] = [[[float(z.real), float(z.imag)] for z in row] for row in self.solutions]
            out["singular_solutions"] = [[[float(z.real), float(z.imag)] for z in row]
                                         for row in self.singular_solutions]
            out["multiplicities"] = self.multiplicities.tolist()
            out["singular_dimension"] = self.singular_dimension.tolist()
            if self.certificate is not None:
                out["certificates"] = self.certificate.per_solution()
        return out

    def __repr__(self) -> str:
        dim = f" ({self.n_positive_dimensional} on positive-dimensional components)" if self.n_positive_dimensional else ""
        extra = "".join(f", {n} {what}" for n, what in ((self.n_interrupted, "interrupted"),
                                                        (self.n_unresolved_crossings, "unresolved crossings")) if n)
        return (f"SolveResult({self.system.name or 'system'}: {self.n_paths} paths -> {self.n_regular} regular, "
                f"{self.n_singular} singular{dim}, {self.n_at_infinity} at infinity, {self.n_failed} failed{extra}; "
                f"{self.wall_time:.3g} s)")

    def to_hdf5(self, path: str, force: bool = False) -> None:
        """Write endpoints and solutions to a ``pathtrack-solve`` HDF5 file (layout in ``docs/hdf5_format.md``).

        Raises ``FileExistsError`` when ``path`` exists and ``force`` is false.
        """
        from ..io import SOLVE_FORMAT, write_result

        write_result(
            path, SOLVE_FORMAT, status=self.status, message=self.message, wall_time=self.total_time,
            counters=self.counters, force=force,
            attrs={"system": self.system.name, "variables": list(self.system.variables),
                   "equations": list(self.system.to_strings()), "seed": self.seed, "gamma": self.gamma,
                   "summary": self.summary(), "options": self.options.to_dict(), "kind_names": list(KIND_NAMES)},
            datasets={"paths/endpoints": self.path_endpoints, "paths/status": self.path_status,
                      "paths/kind": self.path_kind, "paths/winding": self.path_winding,
                      "paths/n_steps": self.path_steps, "solutions/regular": self.solutions,
                      "solutions/residual": self.residuals, "solutions/cond": self.conds,
                      "solutions/singular": self.singular_solutions, "solutions/multiplicity": self.multiplicities,
                      "solutions/winding": self.singular_winding,
                      **(self.certificate.datasets() if self.certificate is not None else {})})


def as_system(system: Any, variables: Optional[Sequence[str]] = None):
    """Accept a PolynomialSystem, a family spec (``'katsura:8'``), a PHCpack file path, a
    ``;``-separated string, a list of strings or of SymPy expressions."""
    if isinstance(system, PolynomialSystem):
        return system
    if isinstance(system, (str, os.PathLike)):
        text = os.fspath(system)
        if is_family_spec(text):
            return family(text)
        if os.path.exists(text):
            return read_phc(text)
        if ";" in text or "\n" in text:
            return parse_system(text, variables)
        raise ValueError(f"{text!r} is neither a family like 'katsura:8', an existing file, nor a "
                         "';'-separated list of polynomials")
    items = list(system)
    if items and all(isinstance(s, str) for s in items):
        return parse_polynomials(items, variables)
    return from_sympy(items, variables)


def _track_chunk(kernel, rows, args):
    """One chunk of paths: ``kernels.<kernel>(*rows, *args)``, then its endgame kernel (same arguments) on
    the rows that need one, so that a run compiles the endgame only when a path needs it. Also the
    executor task (module-level so it pickles)."""
    from . import kernels

    track = getattr(kernels, kernel)
    with _compile_notice(f"the polynomial tracker {kernel}", not track.signatures):  # solve compiled it before
        out = track(*rows, *args)
    need = np.flatnonzero(out[1] == kernels.NEEDS_ENDGAME)
    if len(need):
        endgame = getattr(kernels, kernels.ENDGAME_KERNEL[kernel])
        with _compile_notice("the endgame of singular and diverging paths", not endgame.signatures):
            part = endgame(out[0][need], *(a[need] for a in rows[1:]), *args)
        steps = out[4][need] + part[4]  # the endgame's steps come on top of those to its start
        for dst, src in zip(out, part):
            dst[need] = src
        out[4][need] = steps
    return out


class _NoBar:
    """What :func:`solve` updates when no progress bar is shown: tqdm's calls, doing nothing."""

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, desc: str) -> None:
        pass

    def reset(self, total: int) -> None:
        pass


def _compile_kernels(packed, kernel: str, args: tuple, opts: "SolveOptions", notice: bool) -> None:
    """Compile the kernels :func:`solve` calls, or load them from Numba's cache, by calling each on no rows.

    With ``notice``, a compile that is still running after
    :data:`pathtrack.compilenotice.COMPILE_NOTICE_SECONDS`
    (an empty or stale Numba cache: the first run) says so on stderr, once.
    """
    from . import kernels
    from .kernels import refine_batch, term_sizes_batch

    track = getattr(kernels, kernel)
    with _compile_notice(f"the polynomial tracker {kernel}", notice and not track.signatures):
        n = packed.n_variables  # unknowns of the affine system
        track(np.empty((0, n + 1), dtype=np.complex128), *args)
        none = np.empty((0, n), dtype=np.complex128)
        refine_batch(none, *packed.arrays(), packed.max_exp, opts.final_tol, 5)
        term_sizes_batch(none, *packed.arrays(), packed.max_exp)


def _progress_bar(total: int, progress: Optional[bool]):
    """A tqdm bar over paths (``None``: only on a terminal); without one tqdm is not imported."""
    if progress is False:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="path", desc="solve", disable=None if progress is None else not progress,
                leave=False, dynamic_ncols=True)


class _StopFlag:
    """Stop request checked between chunks of paths (``request_stop`` is what SIGINT calls)."""

    def __init__(self) -> None:
        self._stop_requested = False

    def request_stop(self) -> None:
        self._stop_requested = True

    @property
    def requested(self) -> bool:
        return self._stop_requested


#: Suspect paths (deep endgame failed off infinity) get the extended-precision stage, and become failed
#: paths where it does not settle them, only when there are at most this many (pure Python, up to
#: minutes per path); of more, those that pass :func:`_headed_for_infinity` stay at infinity and the
#: others are failed.
MAX_EXTENDED_PATHS = 8

# Rounds of the deep endgame (SolveOptions.deep_endgame_radius) shrink its radius by this factor
# while they find finite endpoints, down to the radius below which t = 1 - radius keeps too few
# digits in double precision.
DEEP_ENDGAME_FACTOR = 1e-2
MIN_DEEP_ENDGAME_RADIUS = 1e-13

# Local tracking runs in chunks sized to take about this long, so that a stop request (Ctrl-C)
# is honoured within about this time and the progress bar moves.
CHUNK_SECONDS = 0.25
MAX_CHUNK_PER_THREAD = 16


def _track(starts, F, G, gamma, patch, opt, max_exp, executor, workers, stop=None, bar=None):
    """Track every start from ``G`` to ``F`` (:func:`kernels.track_batch`); see :func:`_track_kernel`."""
    return _track_kernel(starts, "track_batch", (F, G, gamma, patch, opt, max_exp), executor, workers, stop, bar)


def _track_kernel(starts, kernel, args, executor, workers, stop=None, bar=None, per_row=()):
    """Track every start with ``kernels.<kernel>(starts, *per_row, *args)``, in chunks on threads or ``executor``.

    ``per_row`` are arrays with one row per start (sliced with ``starts``). Rows not reached
    before ``stop`` is requested keep their start point and get status ``interrupted``.
    Returns ``(ends, codes, kinds, winding, steps, ratio)``.
    """
    n_paths = len(starts)
    ends = starts.copy()
    codes = np.full(n_paths, int(Status.interrupted), dtype=np.int64)
    kinds, winding, steps = (np.zeros(n_paths, dtype=np.int64) for _ in range(3))
    ratio = np.zeros(n_paths)
    out = (ends, codes, kinds, winding, steps, ratio)
    if n_paths == 0:
        return out
    if executor is not None:
        from ..multistart import _executor_workers, _is_dask_client  # the executor handling multistart uses

        n_chunks = max(1, min(n_paths, 4 * (workers or _executor_workers(executor))))
        chunks = [tuple(a[rows] for a in (starts, *per_row)) for rows in np.array_split(np.arange(n_paths), n_chunks)]
        names, rest = [kernel] * len(chunks), [args] * len(chunks)
        if _is_dask_client(executor):
            futures = executor.map(_track_chunk, names, chunks, rest, pure=False)
            parts = executor.gather(futures)
        else:  # concurrent.futures.Executor and friends
            parts = list(executor.map(_track_chunk, names, chunks, rest))
        for dst, i in zip(out, range(6)):
            dst[:] = np.concatenate([part[i] for part in parts])
        if bar is not None:
            bar.update(n_paths)
        return out
    def track_rows(*rows):
        return _track_chunk(kernel, rows, args)

    threads = min(workers or _default_threads(), n_paths)
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        i, chunk = 0, threads
        while i < n_paths and not (stop is not None and stop.requested):
            j = min(n_paths, i + chunk)
            t = time.perf_counter()
            if pool is None:
                part = track_rows(starts[i:j], *(a[i:j] for a in per_row))
            else:  # the kernels release the GIL: one slice of the chunk per thread
                slices = np.array_split(np.arange(i, j), threads)
                parts = list(pool.map(lambda rows: track_rows(starts[rows], *(a[rows] for a in per_row)),
                                      [rows for rows in slices if len(rows)]))
                part = tuple(np.concatenate([q[k] for q in parts]) for k in range(6))
            dt = time.perf_counter() - t
            for dst, src in zip(out, part):
                dst[i:j] = src
            if bar is not None:
                bar.update(j - i)
            # paths per chunk: about CHUNK_SECONDS of work, a multiple of the threads, growing at most 2x
            # and at most MAX_CHUNK_PER_THREAD per thread, as the cost of paths varies along the list
            per_path = dt / (j - i)
            chunk = min(2 * chunk, int(CHUNK_SECONDS / per_path) if per_path > 0 else 2 * chunk,
                        MAX_CHUNK_PER_THREAD * threads)
            chunk = max(threads, chunk - chunk % threads)
            i = j
    finally:
        if pool is not None:
            pool.shutdown()
    return out


def _default_threads() -> int:
    """Threads for local tracking: the CPUs this process may use (``NUMBA_NUM_THREADS`` caps it)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    cap = os.environ.get("NUMBA_NUM_THREADS", "")
    return max(1, min(n, int(cap))) if cap.isdigit() and int(cap) > 0 else max(1, n)


def _clusters(points: np.ndarray, tol) -> np.ndarray:
    """Label points so that points within ``tol·(1 + ‖x‖)`` of each other share a label; ``tol``
    is a number or one per point (a pair then uses the larger of its two)."""
    from .neighbours import close_pairs

    k = len(points)
    labels = np.arange(k)
    if k < 2:
        return labels
    tols = np.broadcast_to(np.asarray(tol, dtype=float), (k,))
    norms = np.linalg.norm(points, axis=1)
    pairs = close_pairs(np.hstack([points.real, points.imag]), tols.max() * (1.0 + norms.max()))

    def find(i):
        while labels[i] != i:
            labels[i] = labels[labels[i]]
            i = labels[i]
        return i

    for i, j in pairs:
        if np.linalg.norm(points[i] - points[j]) <= max(tols[i], tols[j]) * (1.0 + max(norms[i], norms[j])):
            labels[find(i)] = find(j)
    return np.array([find(i) for i in range(k)])


# A job tracking more paths than this warns before it starts (the CLI refuses it without --yes).
LARGE_JOB_PATHS = 10**6


def job_size(degrees: Sequence[int]) -> Tuple[int, int]:
    """Paths (the Bézout number, an exact integer) and bytes of memory for the start and end
    points of the total-degree homotopy of a system with these degrees."""
    n_paths = math.prod(int(d) for d in degrees)
    # starts, ends and the meshgrid of start coordinates, complex; five int64/float64 per path
    return n_paths, n_paths * (16 * (len(degrees) + 1) * 3 + 40)


def _check_job_size(degrees, max_paths: Optional[int], mixed_volume: Optional[int] = None) -> None:
    """Refuse a job above ``max_paths`` or beyond the machine's memory; warn about a large one.

    The job has one path per unit of ``mixed_volume`` when given (polyhedral start), else one per
    Bézout root.
    """
    import warnings

    n_paths, n_bytes = job_size(degrees)
    why = f"Bézout number of degrees {list(map(int, degrees))}"
    if mixed_volume is not None:
        n_bytes = n_bytes // max(n_paths, 1) * mixed_volume
        n_paths, why = mixed_volume, "mixed volume"
    count = str(n_paths) if n_paths < 10**12 else f"{n_paths:.3g}"
    what = f"{count} paths ({why}), about {_bytes(n_bytes)} of memory"
    if max_paths is not None and n_paths > max_paths:
        raise ValueError(f"{what}: above the limit of {max_paths} paths (CLI: raise it with --max-paths N or "
                         "lift it with --yes)")
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = None
    if physical and n_bytes > physical:
        raise ValueError(f"{what}: more than this machine's {_bytes(physical)}")
    if n_paths > LARGE_JOB_PATHS:
        warnings.warn(f"solve: starting {what}", RuntimeWarning, stacklevel=3)


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"


def solve(system: Any, seed: int = 0, workers: Optional[int] = None, executor: Any = None,
          options: Optional[SolveOptions] = None, variables: Optional[Sequence[str]] = None,
          progress: Optional[bool] = False, max_paths: Optional[int] = None,
          start: str = "total_degree", certify: bool = False) -> SolveResult:
    """Find all isolated solutions of a square polynomial system (total-degree or polyhedral homotopy).

    Parameters
    ----------
    system : PolynomialSystem, str, path or list
        The system, a family spec (``'katsura:8'``), a PHCpack input file, a ``;``-separated
        string, a list of polynomial strings, or a list of SymPy expressions.
    seed : int
        Seeds ``gamma`` and the affine patch; results are reproducible for a given seed.
    workers : int, optional
        Threads for local tracking (default: all cores); with ``executor``, a hint for chunking.
    executor : optional
        A ``dask.distributed.Client`` or any ``concurrent.futures.Executor``; paths are tracked in
        chunks on it. Per-path results do not depend on the executor.
    options : SolveOptions, optional
        Tracker and endgame settings.
    progress : bool or None
        A tqdm bar over paths; ``None`` shows it only on a terminal.
    max_paths : int, optional
        Refuse (``ValueError``) a system with more paths than this. Without it a job above
        :data:`LARGE_JOB_PATHS` paths only warns (``RuntimeWarning``); one whose start and end
        points would not fit in the machine's memory is always refused.
    start : {'total_degree', 'polyhedral', 'auto'}
        The start system. ``'total_degree'`` (the default) tracks one path per Bézout root of
        ``x_i^{d_i} - 1``; ``'polyhedral'`` one per unit of the mixed volume of the supports
        with the origin added (:mod:`pathtrack.polynomial.polyhedral`), in two stages: from the
        mixed cells' binomial systems to a random system ``C`` with those supports, then the
        linear homotopy from ``C``. ``'auto'`` takes the one with fewer paths; it does not compute
        the mixed volume when it equals the Bézout number by construction (every support holds
        each ``x_j^{d_i}``), and gives up on it when the mixed cells take more work than
        :data:`AUTO_MV_WORK_PER_PATH` per total-degree path (a count, not a time: the choice
        does not depend on the machine) or once the cells found add up to the Bézout number.
    certify : bool
        Certify the regular solutions with :func:`pathtrack.polynomial.certify` (needs
        python-flint: ``CertifyUnavailable``, an ``ImportError``, names the extra to install,
        before any path is tracked); the result's ``certificate`` holds the certificates.

    Returns
    -------
    SolveResult
        Local tracking runs in chunks of paths; in the main thread the first Ctrl-C (SIGINT)
        stops it after the current chunk, and the result then marks the paths not tracked as
        ``interrupted`` (see :attr:`SolveResult.is_complete`). A second Ctrl-C raises
        ``KeyboardInterrupt``.
    """
    from ..interrupt import deferred_sigint

    t0 = time.perf_counter()
    if certify:
        from .certify import certify as certify_solutions, require_flint

        require_flint()
    opts = SolveOptions.resolve(options)
    sys_ = as_system(system, variables)
    if sys_.n_equations != sys_.n_variables:
        raise ValueError(f"the system must be square: {sys_.n_equations} equations in {sys_.n_variables} unknowns")
    degrees = sys_.degrees
    if (degrees < 1).any():
        raise ValueError(f"equation(s) {np.nonzero(degrees < 1)[0].tolist()} are constant; nothing to solve")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if start not in START_KINDS:
        raise ValueError(f"start must be one of {', '.join(START_KINDS)}, got {start!r}")
    subdivision = _choose_start(sys_, start, seed)
    _check_job_size(degrees, max_paths, None if subdivision is None else subdivision.mixed_volume)
    rng = np.random.default_rng(seed)
    gamma = complex(np.exp(2j * np.pi * rng.uniform()))
    n = sys_.n_variables
    patch = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
    patch /= np.linalg.norm(patch)

    scaling = _choose_scaling(sys_, opts.scaling)
    work = scaling.apply(sys_) if scaling is not None else sys_
    hom = work.homogenize().packed()
    F = hom.arrays()
    if subdivision is None:
        start_system, starts = total_degree_start(degrees, patch)
        n_paths, max_exp = len(starts), max(hom.max_exp, start_system.packed().max_exp)
    else:  # the start system C is made in stage 1; its constant terms become x_0^{d_i}
        n_paths, max_exp = subdivision.mixed_volume, max(hom.max_exp, int(degrees.max()))

    if executor is None:
        _compile_kernels(sys_.packed(), "track_batch", (F, F, gamma, patch, opts.to_array(), max_exp), opts,
                         notice=progress is not False and sys.stderr.isatty())
    stop = _StopFlag()
    bar = _progress_bar(n_paths, progress)
    more = {}
    with bar, deferred_sigint(stop):
        if subdivision is not None:  # stage 1: from the mixed cells to the random system C
            from .polyhedral import polyhedral_start

            bar.set_description("start")
            poly = polyhedral_start(
                work, patch, seed, opts, subdivision=subdivision,
                track=lambda kernel, x, per_row, args, o: _track_kernel(
                    x, kernel, (*args, patch, o.to_array(), max_exp), executor, workers, stop, bar, per_row))
            start_system, starts = poly.system, poly.starts
            more = {"n_cells": poly.n_cells, "n_start_steps": poly.n_steps}
            bar.set_description("solve")
            bar.reset(total=n_paths)
        G = start_system.packed().arrays()
        track = _without_start(starts, None if subdivision is None else poly.status,
                               lambda rows, opt: _track(starts[rows], F, G, gamma, patch, opt, max_exp, executor,
                                                        workers, stop, bar))
        finish = _extended_finish(starts, opts, track, hom, start_system.packed(), gamma, patch, stop)
        tail = _tail_finish(starts, opts, track, F, G, gamma, patch, max_exp, stop)
        out = _track_and_classify([(work, np.arange(len(starts)))], starts, opts, stop, bar, track, finish, tail)
    ends, codes, kinds, winding, steps, (cls,), (n_crossings,), retracked, deep, suspect, recovered = out[:11]
    more.update(n_deep_endgame=int(deep.sum()), n_suspect_infinity=int(suspect.sum()),
                n_extended_precision=int(recovered.sum()), **out[11])
    # a singular endpoint is an isolated root or a point of a component: tested on the tracked system
    cls["sing_dim"] = local_dimension(work, cls["singular"], seed=seed, multiplicity=cls["multiplicity"])
    if scaling is not None:
        ends, cls = _unscale(sys_, scaling, ends, cls, opts)
    certificate = certify_solutions(sys_, cls["regular"]) if certify else None
    result = _solve_result(sys_, ends, codes, winding, steps, cls, n_crossings, int(retracked.sum()), more, seed=seed,
                           gamma=gamma, options=opts, scaling=scaling, total_time=time.perf_counter() - t0,
                           start="total_degree" if subdivision is None else "polyhedral",
                           mixed_volume=None if subdivision is None else subdivision.mixed_volume,
                           certificate=certificate)
    if (opts.scaling == "auto" and scaling is None and result.n_failed and not result.n_interrupted
            and not stop.requested and not balance(sys_).is_identity):
        # Paths that fail unscaled can succeed balanced: discret3s (seeds 0 and 1) fails 1 and 2
        # paths unscaled and finds all 128 roots balanced. The balanced answer is kept only when
        # it fails fewer paths and loses no solution the first one found (cassou balanced finds 6
        # of its 10 regular roots).
        retry = solve(sys_, seed=seed, workers=workers, executor=executor, options=opts.replace(scaling=True),
                      progress=progress, max_paths=max_paths, start=start, certify=certify)
        if (retry.n_failed < result.n_failed and retry.n_regular >= result.n_regular
                and retry.n_singular >= result.n_singular):
            retry.counters["n_scaling_retry"] = 1
            return dataclasses.replace(retry, total_time=retry.total_time + result.total_time)
    return result


def _extended_finish(starts, opts: SolveOptions, track, F, G, gamma: complex, patch: np.ndarray, stop):
    """``finish(rows)`` for :func:`_track_and_classify`: each path tracked in double to ``t = 1 -
    endgame_radius`` (where it went well the first time), then to ``t = 1`` by
    :func:`pathtrack.polynomial.precision.track_linear`; NaN rows where that fails."""
    from . import kernels as k

    def finish(rows):
        from . import precision  # only where a suspect path is re-tracked

        opt = opts.to_array()
        opt[k.O_DIRECT_STEPS] = 0  # stop at t = 1 - r: no direct segment and no endgame radius
        opt[k.O_EG_MIN_RADIUS] = 2.0 * opts.endgame_radius
        e, c, kind, *_ = track(rows, opt)
        reached = (c == int(Status.ds_too_small)) & (kind == k.END_CAUCHY)  # stopped at t = 1 - r, as asked
        out = np.full((len(rows), starts.shape[1]), np.nan, dtype=np.complex128)
        deadline = time.monotonic() + opts.max_extended_seconds
        for i in range(len(rows)):
            if stop.requested or not reached[i] or not np.isfinite(e[i]).all():
                continue
            y = precision.track_linear(e[i], 1.0 - opts.endgame_radius, F, G, gamma, patch, deadline=deadline,
                                       should_stop=lambda: stop.requested)
            if y is not None:
                out[i] = y
        return out

    return finish


#: The tail stage (:func:`_tail_finish`) follows a path down to ``s = 1 - t`` below this, where the start
#: system's share ``s·|G|`` of ``H`` is below double's rounding of ``F`` unless ``|G|/|F|`` exceeds
#: ``10^16`` at the endpoint (pb601's roots of norm 30: about ``10^10``).
TAIL_MIN_S = 1e-32
#: ... and stops one once ``|x_0| < TAIL_INFINITY_FACTOR·infinity_tol·‖x‖``, where an endpoint is at infinity.
TAIL_INFINITY_FACTOR = 1.0
#: Newton tolerance of the tail's corrector, relative to ``‖x‖`` (the endpoint is refined afterwards).
TAIL_TOL = 1e-9


def _tail_finish(starts, opts: SolveOptions, track, F, G, gamma: complex, patch: np.ndarray, max_exp: int, stop):
    """``tail(rows, radius=None)`` for :func:`_track_and_classify`: each path tracked by the compiled tracker to
    ``t = 1 - radius`` (default ``deep_endgame_radius``), then towards ``s = 1 - t = 0`` by
    :func:`pathtrack.polynomial.kernels.tail_batch`, which holds ``s`` exactly. Returns the projective
    endpoints, NaN rows where either stage failed, the last points (where the tail stopped,
    failed or not; NaN rows where the compiled tracker failed), and where the compiled tracker
    stopped on the rows it failed (NaN rows elsewhere).

    The tracker's ``t`` keeps ``s`` only to about ``1e-16/s`` relative accuracy, so it cannot
    follow a path below ``s ≈ 1e-13``; yet a regular root at which ``|G|`` is ``10^10`` times the
    size of ``F``'s terms (a root of large norm in one coordinate) is reached only where ``s·|G|``
    falls below ``F``'s rounding.
    """
    from . import kernels as k

    def tail(rows, radius=None):
        radius = opts.deep_endgame_radius if radius is None else radius
        opt = opts.to_array()
        opt[k.O_DIRECT_STEPS] = 0  # stop at t = 1 - radius, as _extended_finish does
        opt[k.O_EG_RADIUS], opt[k.O_EG_MIN_RADIUS] = radius, 2.0 * radius
        e, c, kind, *_ = track(rows, opt)
        reached = (c == int(Status.ds_too_small)) & (kind == k.END_CAUCHY) & np.isfinite(e).all(axis=1)
        out = np.full(e.shape, np.nan, dtype=np.complex128)
        last = out.copy()
        stopped = np.where((~reached & np.isfinite(e).all(axis=1))[:, None], e, np.nan)
        if stop.requested or not reached.any():
            return out, last, stopped
        # s of the t the tracker stopped at, exactly. Followed from further out, where a path is not
        # yet smooth in log(s), the tail's geometric steps can jump paths (pb601, seed 6).
        s0 = np.full(int(reached.sum()), 1.0 - (1.0 - radius))
        with _compile_notice("the tail stage of diverging paths", not k.tail_batch.signatures):
            ends, outcome, _ = k.tail_batch(e[reached], s0, F, G, gamma, patch, np.int64(max_exp),
                                            TAIL_INFINITY_FACTOR * opts.infinity_tol, TAIL_MIN_S, TAIL_TOL)
        done = np.nonzero(reached)[0][outcome != k.TAIL_FAILED]
        out[done] = ends[outcome != k.TAIL_FAILED]
        last[reached] = ends
        return out, last, stopped

    return tail


def _without_start(starts: np.ndarray, status: Optional[np.ndarray], track):
    """``track(rows, opt)`` that leaves out the rows whose start point is missing (NaN, ``status[row]`` says why).

    Such a row (a failed stage-1 path of the polyhedral start) keeps its start and that status,
    whatever round of re-tracking asks for it.
    """
    if status is None:
        return track
    missing = status != int(Status.success)

    def run(rows, opt):
        ends = starts[rows].copy()
        codes = status[rows].copy()
        kinds, winding, steps = (np.zeros(len(rows), dtype=np.int64) for _ in range(3))
        out = (ends, codes, kinds, winding, steps, np.zeros(len(rows)))
        todo = np.nonzero(~missing[rows])[0]
        if len(todo):
            for dst, src in zip(out, track(rows[todo], opt)):
                dst[todo] = src
        return out

    return run


def _solve_result(system, ends, codes, winding, steps, cls, n_crossings: int, n_retracked: int,
                  more_counters: Optional[Dict[str, int]] = None, **fields: Any) -> SolveResult:
    """The :class:`SolveResult` of classified paths (``fields``: seed, gamma, options, scaling, total_time...)."""
    return SolveResult(
        system=system, solutions=cls["regular"], residuals=cls["residual"], conds=cls["cond"],
        singular_solutions=cls["singular"], multiplicities=cls["multiplicity"], singular_winding=cls["sing_winding"],
        singular_dimension=cls.get("sing_dim", np.full(len(cls["singular"]), -1, dtype=np.int64)),
        path_endpoints=ends, path_status=codes, path_kind=cls["kind"], path_winding=winding, path_steps=steps,
        counters={"n_paths": int(len(codes)), "n_steps": int(np.sum(steps)), "n_path_crossings": n_crossings,
                  "n_retracked": n_retracked, **(more_counters or {})},
        **fields, **_overall_status(codes, cls["kind"], len(cls["regular"])))


def _track_and_classify(groups, starts, opts: SolveOptions, stop, bar, track, finish=None, tail=None):
    """Track every start, classify the endpoints and re-track crossed or failed paths.

    ``groups`` is a list of ``(system, rows)``: the endpoints of ``starts[rows]`` are
    solutions of ``system`` (one group for :func:`solve`; one per target of a parameter
    homotopy). ``track(rows, opt)`` tracks ``starts[rows]`` with the options vector ``opt`` and
    returns the kernels' ``(ends, codes, kinds, winding, steps, ratio)``; each re-track round uses
    the settings of the round before retuned by the ``'conservative'`` preset, for the paths of
    all groups at once. Returns ``(ends, codes, kinds, winding, steps, classifications,
    crossings, retracked, deep)``: one :func:`_classify` dict and one count of crossed paths (before
    re-tracking) per group, how often each path was re-tracked, and how often each went through
    the deep endgame (a path called at infinity whose endpoint is finite is tracked again with the
    endgame starting at ``deep_endgame_radius``, shrinking by ``DEEP_ENDGAME_FACTOR`` while that
    turns such paths into regular roots).

    A path whose deep endgame fails at a point off infinity may be headed for a regular root of
    large norm that double precision cannot reach (discret3s: norm ``10^5``, ``cond 10^9``). Such
    a path is *suspect*: ``finish(rows)``, where given, re-tracks its last segment in extended
    precision (:func:`pathtrack.polynomial.precision.track_linear`) and returns projective
    endpoints at ``t = 1`` (NaN rows where that failed); a new regular root or a point at
    infinity settles it. Before that (whatever the budget), :func:`_settle_by_newton` looks for
    the regular root such a path was headed for with extended-precision Newton from where the
    compiled tracker gets to, cheaply. A suspect path left unsettled is a failed path (``ds_too_small``), so
    that the result is not a success: it is never counted at infinity on trust. More than
    :data:`MAX_EXTENDED_PATHS` suspect paths are taken for a positive-dimensional solution set at
    infinity: each keeps the verdict at infinity only where :func:`_headed_for_infinity` holds for
    its endpoint, and is failed otherwise. ``suspect``
    (returned last) marks the paths that were suspect, ``recovered`` those settled by ``finish``.
    """
    ends, codes, kinds, winding, steps, _ = track(np.arange(len(starts)), opts.to_array())

    def classify(g):
        work, rows = groups[g]
        c = _classify(work, ends[rows], codes[rows], kinds[rows], winding[rows], opts)
        codes[rows[c["unsolved"]]] = int(Status.newton_failed)
        return c

    cls = [classify(g) for g in range(len(groups))]

    def adopt(rows, values, accept):
        """Give paths ``rows`` the outcome ``values`` (ends, codes, kinds, winding) and reclassify;
        keep it where ``accept(kind, crossed)`` holds for the path, else restore the old one.
        Returns the mask of rows kept."""
        arrays = (ends, codes, kinds, winding)
        before = tuple(a[rows].copy() for a in arrays)
        for a, v in zip(arrays, values):
            a[rows] = v
        touched = [g for g, (_, r) in enumerate(groups) if np.isin(r, rows).any()]
        for g in touched:
            cls[g] = classify(g)
        crossed = np.zeros(len(starts), dtype=bool)
        for (_, r), c in zip(groups, cls):
            crossed[np.asarray(r)[c["crossed"]]] = True
        back = ~accept(_kinds(groups, cls, len(starts))[rows], crossed[rows])
        if back.any():
            for a, old in zip(arrays, before):
                a[rows[back]] = old[back]
            for g in touched:
                cls[g] = classify(g)
        return ~back

    deep = np.zeros(len(starts), dtype=np.int64)
    suspect = np.zeros(len(starts), dtype=bool)
    radius = opts.deep_endgame_radius
    again = None  # rows that ended no_endgame_regime: only they go deeper when no root was found
    while radius >= MIN_DEEP_ENDGAME_RADIUS and not stop.requested:
        # Paths that looked like diverging ones may be headed for regular roots of large norm,
        # which show up only at smaller radii: go deeper while that finds any.
        soft = [np.asarray(rows)[_soft_infinite(ends[rows], c["kind"], opts)] for (_, rows), c in zip(groups, cls)]
        soft = np.sort(np.concatenate(soft)).astype(np.int64)
        if again is not None:
            soft = np.intersect1d(soft, again)
        if len(soft) == 0:
            break
        deep_opts = opts.replace(endgame_radius=radius,
                                 min_endgame_radius=min(opts.min_endgame_radius, 1e-3 * radius))
        bar.set_description("deep endgame")
        bar.reset(total=len(soft))
        e2, c2, k2, w2, s2, _ = track(soft, deep_opts.to_array())
        deep[soft] += 1
        steps[soft] += s2
        failed = (c2 != int(Status.success)) & (c2 != int(Status.interrupted))
        # no regime above this round's smallest radius: the path's series may start below it, so it is
        # judged by the next round (a failure there, or no round left, makes it suspect). Marking it
        # now made 322 of cyclic:7's paths suspect (seed 0), against 143 without regime rules.
        deeper = c2 == int(Status.no_endgame_regime)
        last = radius * DEEP_ENDGAME_FACTOR < MIN_DEEP_ENDGAME_RADIUS
        suspect[soft[failed & (~deeper | last) & _finite_points(e2, opts)]] = True
        take = _finite_ends(e2, c2, k2, opts)  # otherwise the first verdict, at infinity, stands
        if not take.any() and not deeper.any():
            break
        again = None
        if take.any():
            rows_taken = soft[take]
            # only regular roots emerge late like that; any other outcome keeps the first verdict
            kept = adopt(rows_taken, (e2[take], c2[take], k2[take], w2[take]), lambda kind, crossed: kind == REGULAR)
            suspect[rows_taken[kept]] = False
        else:
            again = soft[deeper]
        radius *= DEEP_ENDGAME_FACTOR
    n_tail = {}
    inward = np.full(ends.shape, np.nan, dtype=np.complex128)  # where a suspect path's tail failed nearer infinity
    stalled = inward.copy()  # where the compiled tracker failed nearer infinity, before the tail began
    if tail is not None and not stop.requested:
        n_tail = _settle_by_tail(groups, cls, ends, opts, suspect, tail, adopt, bar, inward, stalled)
    crossings = [int(len(c["crossed"])) for c in cls]
    retracked = np.zeros(len(starts), dtype=np.int64)
    tight = opts
    for _round in range(opts.max_retracks):
        redo = [np.asarray(rows)[np.union1d(c["crossed"], np.nonzero(c["kind"] == FAILED)[0]).astype(np.int64)]
                for (_, rows), c in zip(groups, cls)]
        touched = [g for g in range(len(groups)) if len(redo[g])]
        redo = np.sort(np.concatenate(redo)).astype(np.int64) if redo else np.empty(0, dtype=np.int64)
        if len(redo) == 0 or stop.requested:
            break
        tight = tight.with_preset("conservative")
        bar.set_description("re-track")
        bar.reset(total=len(redo))
        e2, c2, k2, w2, s2, _ = track(redo, tight.to_array())
        done = c2 != int(Status.interrupted)  # a stopped round keeps the earlier outcome of the rest
        redo = redo[done]
        retracked[redo] += 1
        ends[redo], codes[redo], kinds[redo], winding[redo] = e2[done], c2[done], k2[done], w2[done]
        steps[redo] += s2[done]
        for g in touched:
            cls[g] = classify(g)
    if tail is not None and not stop.requested:
        n_tail.update(_settle_failed_by_tail(groups, cls, ends, winding, opts, tail, adopt, bar))
    kind_now = _kinds(groups, cls, len(starts))
    suspect &= kind_now == AT_INFINITY  # a re-track round may have settled it
    recovered = np.zeros(len(starts), dtype=bool)
    at_infinity = np.zeros(len(starts), dtype=bool)  # kept at infinity by _headed_for_infinity
    rows = np.nonzero(suspect)[0]
    if len(rows) > MAX_EXTENDED_PATHS:
        # Many deep endgames failing off infinity is what a positive-dimensional set of solutions at
        # infinity does (cyclic:7: about 150 of 4116 paths at infinity, with all 924 roots found).
        # Too many for extended precision: a path keeps the verdict at infinity only where the
        # double-precision tests of _headed_for_infinity pass at the point of it nearest infinity
        # and Newton from the endpoint finds no root that no other path reached; any other is
        # failed. That point is where the tail failed nearer infinity than the endgame's endpoint
        # (gaukwa3, seed 0: 11 paths, |x_0|/‖x‖ 0.05 to 0.07 at the endpoint and 0.0016 there), or
        # where the compiled tracker stopped on its way to the tail, nearer infinity (reimer5, seed 0:
        # 80 paths, 0.05 to 0.09 at the endpoint and about 0.005 there). The branch below does not
        # take the latter: a path to a regular root of large norm stops so too (discret3s unscaled,
        # seed 0: at |x_0|/‖x‖ = 3e-5, its root at 7e-6, where the top-degree forms vanish as well).
        judged = np.where(np.isfinite(inward[rows]).all(axis=1)[:, None], inward[rows], stalled[rows])
        toward = np.isfinite(judged).all(axis=1)
        judged = np.where(toward[:, None], judged, ends[rows])
        for (work, grows), c in zip(groups, cls):
            mine = np.isin(rows, grows)
            if mine.any():
                at_infinity[rows[mine]] = _headed_for_infinity(work, judged[mine], c["regular"], opts) \
                    & ~_headed_for_root(work, ends[rows[mine]], c["regular"], opts)
        ends[rows[toward & at_infinity[rows]]] = judged[toward & at_infinity[rows]]
        n_tail["n_suspect_kept_at_infinity"] = int(at_infinity.sum())
    elif len(rows) and not stop.requested:
        settled = _settle_by_newton(groups, rows, opts, track, adopt, bar)
        recovered[rows[settled]] = True
        rows = rows[~settled]
        if len(rows) and (finish is None or opts.max_extended_seconds <= 0):
            # No extended precision: a suspect path that Newton did not settle, and whose tail took it
            # nearer infinity than the endgame's endpoint before failing, stays at infinity where that
            # last point passes _headed_for_infinity (redcyc7, seed 0: six paths from |x_0|/‖x‖ = 0.011
            # to 7e-6, towards a singular point at infinity where the tail's Newton stalls); any other
            # is failed, as before.
            toward = rows[np.isfinite(inward[rows]).all(axis=1)]
            for (work, grows), c in zip(groups, cls):
                mine = toward[np.isin(toward, grows)]
                if len(mine):
                    at_infinity[mine] = _headed_for_infinity(work, inward[mine], c["regular"], opts)
            ends[rows[at_infinity[rows]]] = inward[rows[at_infinity[rows]]]
            n_tail["n_suspect_kept_at_infinity"] = int(at_infinity.sum())
            if tail is not None:
                _settle_by_earlier_tail(groups, cls, rows[~at_infinity[rows] & ~np.isfinite(inward[rows]).all(axis=1)],
                                        ends, at_infinity, opts, tail, bar, n_tail)
    if len(rows) <= MAX_EXTENDED_PATHS and len(rows) and finish is not None and not stop.requested \
            and opts.max_extended_seconds > 0:
        bar.set_description("extended precision")
        e2 = finish(rows)
        good = np.isfinite(e2).all(axis=1)
        at_inf = good & ~_finite_points(np.where(np.isfinite(e2), e2, 0.0), opts)
        recovered[rows[at_inf]] = True  # the path does go to infinity
        take = rows[good & ~at_inf]
        if len(take):
            # only a regular root that no other path reached settles the path
            kept = adopt(take, (e2[good & ~at_inf], int(Status.success), 0, 1),  # 0: kernels.END_DIRECT
                         lambda kind, crossed: (kind == REGULAR) & ~crossed)
            recovered[take[kept]] = True
    unsettled = np.nonzero(suspect & ~recovered & ~at_infinity)[0]
    if not stop.requested:
        unsettled = _settle_left_on_component(groups, cls, len(starts), unsettled, opts, track, adopt, bar, n_tail)
    if len(unsettled):
        codes[unsettled] = int(Status.ds_too_small)
        for g in [g for g, (_, r) in enumerate(groups) if np.isin(r, unsettled).any()]:
            cls[g] = classify(g)
    return ends, codes, kinds, winding, steps, cls, crossings, retracked, deep, suspect, recovered, n_tail


def _settle_by_earlier_tail(groups, cls, rows: np.ndarray, ends: np.ndarray, at_infinity: np.ndarray,
                            opts: SolveOptions, tail, bar, counters: Dict[str, int]) -> None:
    """Start the tail stage of the suspect paths ``rows`` whose compiled tracker failed before its
    start (``1 - t = deep_endgame_radius``) further out: at ``1 - t`` of ``deep_endgame_radius·100^k``
    (below ``endgame_radius``), the nearest first, where the compiled tracker gets to. A path goes
    to infinity (``at_infinity`` and its endpoint, the tail's last point, updated in place; counted
    in ``counters["n_suspect_earlier_tail"]``) when that tail takes ``|x_0|`` below
    ``infinity_tol·‖x‖`` (the tail's own test, as in :func:`_settle_by_tail`) and Newton from the
    endgame's endpoint reaches no regular root that no other path reached (:func:`_headed_for_root`).
    The first radius whose tail ends either way decides; a tail that reached a finite point leaves
    the path suspect.

    extcyc6, seed 0: one path whose endgame ends at ``|x_0|/‖x‖ = 9e-6``; the compiled tracker stops
    at ``1 - t ≈ 8e-4`` (``|x_0|/‖x‖ = 1.5e-6``) on its way to ``1e-8`` and to ``1e-6``; from ``1e-4``
    the tail fails (``|x_0|/‖x‖`` stays at ``1.3e-7``: Newton does not converge to ``TAIL_TOL`` so near
    the singular solutions at infinity), from ``1e-2`` it ends at ``8e-8``.
    """
    counters["n_suspect_earlier_tail"] = 0
    radius = opts.deep_endgame_radius * 100.0
    todo = np.asarray(rows, dtype=np.int64)
    while len(todo) and radius < opts.endgame_radius:
        bar.set_description("earlier tail")
        e2 = tail(todo, radius)[0]
        ended = np.isfinite(e2).all(axis=1)
        infinite = ended.copy()
        infinite[ended] = ~_finite_points(e2[ended], opts)
        for (work, grows), c in zip(groups, cls):
            mine = infinite & np.isin(todo, grows)
            if mine.any():
                infinite[mine] = ~_headed_for_root(work, ends[todo[mine]], c["regular"], opts)
        at_infinity[todo[infinite]] = True
        ends[todo[infinite]] = e2[infinite]
        counters["n_suspect_earlier_tail"] += int(infinite.sum())
        todo = todo[~ended]
        radius *= 100.0


#: :func:`_settle_on_component` tracks a path to ``s = 1 - t`` equal to each of these radii ...
COMPONENT_RADII = (1e-8, 1e-10, 1e-12)
#: ... and takes it as converged at the smaller of the last two consecutive radii it reaches when
#: its distance to the limit is at most this, relative to ``1 + ‖x‖``: the distance between its
#: points there, or, where it reached all three radii and the steps between them shrink (ratio
#: ``q < 1``, a Puiseux series in ``s^(1/w)``), the last step times ``q/(1 - q)`` if smaller.
#: cohn2, seed 0: steps of 2e-7 to 6e-6 between 1e-10 and 1e-12 on its 14 such paths (its paths to
#: infinity move by 0.5 to 0.7); redcyc7, seed 2: steps of 1.8e-3 then 1.8e-4 (``x - x* ~ s^(1/2)``),
#: 2e-5 from the limit.
COMPONENT_CONVERGED_TOL = 1e-4


def _settle_left_on_component(groups, cls, n_paths: int, unsettled: np.ndarray, opts: SolveOptions, track, adopt,
                              bar, counters: Dict[str, int]) -> np.ndarray:
    """The suspect paths ``unsettled`` and the failed paths, less those :func:`_settle_on_component`
    shows to end on a positive-dimensional component (they become singular endpoints); counts them
    in ``counters["n_failed_on_component"]``. Returns the suspect paths still unsettled."""
    kind = _kinds(groups, cls, n_paths)
    rows = np.union1d(unsettled, np.nonzero(kind == FAILED)[0]).astype(np.int64)
    counters["n_failed_on_component"] = 0
    if len(rows) == 0:
        return unsettled
    settled = _settle_on_component(groups, cls, rows, opts, track, adopt, bar)
    counters["n_failed_on_component"] = int(settled.sum())
    return np.setdiff1d(unsettled, rows[settled])


def _settle_on_component(groups, cls, rows: np.ndarray, opts: SolveOptions, track, adopt, bar) -> np.ndarray:
    """Which of the failed or suspect paths ``rows`` end at a point of a positive-dimensional
    component of the solutions (boolean mask); ``adopt`` makes each such path a singular endpoint
    there (its dimension is reported with the singular solutions).

    Each path is tracked in double to ``s = 1 - t`` equal to each of :data:`COMPONENT_RADII`. It
    is settled so only when every one of these tests holds at the point ``x`` it reaches at the
    smaller of the last two consecutive radii it gets to:

    - it has converged: its distance to the limit, from its points at those radii, is within
      :data:`COMPONENT_CONVERGED_TOL` (a path to infinity, or still far from its limit, moves);
    - ``x`` solves ``F`` as a finite endpoint must in :func:`_classify` (scaled residual below
      ``sqrt(endgame_tol)·(1 + ‖x‖)``);
    - Newton from ``x`` does not converge to a regular root (:func:`_headed_for_root` with no root
      excluded): a path to an isolated regular root is never settled here;
    - :func:`pathtrack.polynomial.localdim.local_dimension` finds solutions of dimension at least
      1 through ``x``: random hyperplanes moved off ``x`` still meet them, which no isolated root does.

    cohn2 (scaled, seed 0): 14 paths whose deep endgame failed at ``|x_0|/‖x‖`` 0.06 to 0.22
    (the valuation of ``x_0`` first called them infinite: it falls from 0.34 at ``s = 1e-2`` and
    levels off below ``1e-6``) converge to points of its 2-dimensional components. cohn2, seed 3:
    one more, whose tracker stops short of ``1e-12`` (judged at ``1e-8`` and ``1e-10``). redcyc7,
    seed 2: one path that converges as ``s^(1/2)`` to a point of a 1-dimensional component.
    """
    from . import kernels as k
    from .kernels import eval_system_alloc, term_sizes_batch

    points = []
    for radius in COMPONENT_RADII:
        opt = opts.to_array()
        opt[k.O_DIRECT_STEPS] = 0  # stop at t = 1 - radius, as _tail_finish does
        opt[k.O_EG_RADIUS], opt[k.O_EG_MIN_RADIUS] = radius, 2.0 * radius
        bar.set_description("component test")
        e, c, kind, *_ = track(rows, opt)
        ok = (c == int(Status.ds_too_small)) & (kind == k.END_CAUCHY) & np.isfinite(e).all(axis=1)
        ok[ok] = _finite_points(e[ok], opts)
        points.append(np.where(ok[:, None], e, np.nan))
    with np.errstate(all="ignore"):
        X = [q[:, 1:] / q[:, :1] for q in points]
        got = [np.isfinite(x).all(axis=1) for x in X]
        xb = np.full(X[0].shape, np.nan, dtype=np.complex128)
        dist = np.full(len(rows), np.inf)
        for i in reversed(range(len(X) - 1)):  # the deepest pair of consecutive radii reached
            pair = got[i] & got[i + 1] & ~np.isfinite(xb).all(axis=1)
            xb[pair] = X[i + 1][pair]
            dist[pair] = np.linalg.norm(X[i + 1][pair] - X[i][pair], axis=1)
            if i > 0:  # a third point before them: the steps' ratio bounds what is left
                three = pair & got[i - 1]
                q = dist[three] / np.linalg.norm(X[i][three] - X[i - 1][three], axis=1)
                dist[three] = np.where(q < 1.0, np.minimum(dist[three], dist[three] * q / (1.0 - q)), dist[three])
        size = 1.0 + np.linalg.norm(xb, axis=1)
        cand = np.isfinite(xb).all(axis=1) & (dist <= COMPONENT_CONVERGED_TOL * size)
    settled = np.zeros(len(rows), dtype=bool)
    for (work, grows), c in zip(groups, cls):
        mine = np.nonzero(cand & np.isin(rows, grows))[0]
        if len(mine) == 0:
            continue
        p = work.packed()
        arrays = (*p.arrays(), p.max_exp)
        x = xb[mine]
        evals = [eval_system_alloc(y, *arrays) for y in x]
        vals, jacs = np.array([v for v, _ in evals]), np.array([j for _, j in evals])
        scale = _row_scales(x, jacs, term_sizes_batch(x, *arrays))
        solves = _scaled_residuals(vals, scale) <= math.sqrt(opts.endgame_tol) * size[mine]
        mine, x = mine[solves], x[solves]
        if len(mine) == 0:
            continue
        ends = np.hstack([np.ones((len(x), 1)), x])
        free = ~_headed_for_root(work, ends, np.empty((0, x.shape[1]), dtype=np.complex128), opts)
        mine, x, ends = mine[free], x[free], ends[free]
        if len(mine) == 0:
            continue
        on = local_dimension(work, x, seed=0) >= 1
        for i, end in zip(mine[on], ends[on]):
            settled[i] = adopt(rows[i:i + 1], (end[None, :] / np.linalg.norm(end), int(Status.success),
                                              k.END_CAUCHY, 0), lambda kd, crossed: kd == SINGULAR)[0]
    return settled


#: :func:`_settle_by_newton` tracks a suspect path in double to ``s = 1 - t`` equal to these radii ...
NEWTON_SETTLE_RADII = (1e-10, 1e-12)
#: ... and runs this many extended-precision Newton iterations from the point reached.
NEWTON_SETTLE_ITERS = 12
#: The root found must persist (:func:`_persists`) under this perturbation, within this distance:
#: looser than the tail's test, since these roots are ill-conditioned (discret3s's roots of norm
#: ``1.5e5`` move by ``1e-3`` relative under ``1e-12``); rose's 48 roots that the rounding of its
#: coefficients made (norm ``10^5``) still move by O(1) and fail it.
NEWTON_SETTLE_PERTURBATION = 1e-13
NEWTON_SETTLE_PERSIST_TOL = 1e-2


def _settle_by_newton(groups, rows, opts: SolveOptions, track, adopt, bar) -> np.ndarray:
    """Settle suspect paths ``rows`` that were headed for a regular root of large norm: each is
    tracked in double to ``s = 1 - t`` of :data:`NEWTON_SETTLE_RADII` in turn, and Newton in
    extended precision (:func:`pathtrack.polynomial.precision.refine`) from the point reached
    must reach a regular root within :data:`HEADED_ROOT_DISTANCE`·(1 + ‖x‖) of it that persists
    (:func:`_persists`) and that no other path reached (``adopt`` then makes the path regular).
    Returns the mask of ``rows`` settled so.

    Such a root's Jacobian is too ill-conditioned for double's Newton on the last stretch of the
    path, so the deep endgame fails near it (discret3s unscaled, seed 1: two paths fail at
    ``|x_0|/‖x‖ ≈ 6e-6`` and ``s = 1e-12``, within 7% of two roots of norm ``1.5e5`` that no
    other path reached). Only paths that are suspect pay for it: a few tracks and one
    extended-precision Newton (about a second) per radius and path.
    """
    from . import kernels as k
    from . import precision

    settled = np.zeros(len(rows), dtype=bool)
    for radius in NEWTON_SETTLE_RADII:
        todo = np.nonzero(~settled)[0]
        if len(todo) == 0:
            break
        bar.set_description("extended Newton")
        opt = opts.to_array()
        opt[k.O_DIRECT_STEPS] = 0  # stop at t = 1 - radius, as _tail_finish does
        opt[k.O_EG_RADIUS], opt[k.O_EG_MIN_RADIUS] = radius, 2.0 * radius
        e = track(rows[todo], opt)[0]
        # where the tracker stopped, at that radius or failing before it: only the root found counts
        near = np.isfinite(e).all(axis=1)
        near[near] = _finite_points(e[near], opts)
        for i in np.nonzero(near)[0]:
            row = rows[todo[i]]
            work = next(w for w, grows in groups if np.isin(row, grows))
            x = e[i, 1:] / e[i, 0]
            with np.errstate(all="ignore"):
                y = precision.refine(x, work.packed(), NEWTON_SETTLE_ITERS)
            if y is None or np.linalg.norm(y - x) > HEADED_ROOT_DISTANCE * (1.0 + np.linalg.norm(x)) \
                    or not _persists(work, y[None, :], NEWTON_SETTLE_PERTURBATION, NEWTON_SETTLE_PERSIST_TOL)[0]:
                continue
            end = np.concatenate([[1.0], y])[None, :]
            settled[todo[i]] = adopt(np.array([row]), (end, int(Status.success), 0, 1),  # 0: kernels.END_DIRECT
                                     lambda kind, crossed: (kind == REGULAR) & ~crossed)[0]
    return settled


def _settle_by_tail(groups, cls, ends, opts: SolveOptions, suspect, tail, adopt, bar,
                    inward: Optional[np.ndarray] = None, stalled: Optional[np.ndarray] = None) -> Dict[str, int]:
    """Follow the paths called at infinity whose endpoints are not (or that are suspect) to ``s = 1 - t``
    far below what the compiled tracker resolves (``tail``, :func:`_tail_finish`), and take a regular
    root that no other path reached. A path whose tail reaches a root another path has is a
    crossing: it is made suspect (so it is settled in extended precision or counted failed),
    never counted at infinity on trust; so is a path whose tail failed farther from infinity than the
    endgame's endpoint. Returns counters ``n_tail`` (paths followed) and ``n_tail_regular`` (roots
    found so), ``n_tail_crossed``, ``n_tail_away``; updates ``suspect`` in place, and gives the
    suspect paths the point nearer infinity than the endgame's endpoint where the tail failed
    (``inward``) or, where the compiled tracker failed before the tail began, where it stopped
    (``stalled``)."""
    kind = _kinds(groups, cls, len(ends))
    rows = np.nonzero((kind == AT_INFINITY) & (_finite_points(ends, opts) | suspect))[0]
    if len(rows) == 0:
        return {"n_tail": 0, "n_tail_regular": 0, "n_tail_crossed": 0, "n_tail_away": 0}
    bar.set_description("tail")
    bar.reset(total=len(rows))
    e2, last, *more = tail(rows)
    reached = np.isfinite(e2).all(axis=1)
    good = reached.copy()
    good[reached] = _finite_points(e2[reached], opts)
    for work, grows in groups:  # a root that the rounding of the coefficients made is no root
        mine = good & np.isin(rows, grows)
        if mine.any():
            good[mine] = _persists(work, e2[mine, 1:] / e2[mine, :1])
    take = rows[good]
    suspect[rows[reached & ~good]] = False  # followed to |x_0| far below infinity_tol·‖x‖: it goes to infinity
    # A tail that failed after moving the path away from infinity (its last point farther from it
    # than the endgame's endpoint) contradicts the endgame's verdict, which rests on the valuation of
    # x_0 at radii down to 1e-8 only: the path is suspect, never counted at infinity on trust.
    # comb3000 unscaled, seed 3: 4 paths, |x_0|/‖x‖ 0.001 at the endgame and 0.23 where the tail
    # failed, whose roots are among the 6 not found; cyclic:7, seed 0: none of 1158 failed tails.
    # where the tail's last point is nearer infinity than the endgame's endpoint, or farther (NaN: neither)
    gap = np.full(len(rows), np.nan)
    finite = np.isfinite(last).all(axis=1)
    gap[finite] = _infinity_gap(last[finite]) - _infinity_gap(ends[rows[finite]])
    away = ~reached & ~suspect[rows] & (gap > 0)
    suspect[rows[away]] = True
    verdict = {}

    def accept(kind, crossed):
        verdict["kind"], verdict["crossed"] = kind, crossed
        return (kind == REGULAR) & ~crossed

    kept = adopt(take, (e2[good], int(Status.success), 0, 1), accept) if len(take) else np.zeros(0, dtype=bool)
    crossed = take[~kept & (verdict["kind"] == REGULAR) & verdict["crossed"]] if len(take) else take
    suspect[take[kept]] = False
    suspect[crossed] = True
    # A path left at infinity and not suspect reports the tail's last point where that is nearer
    # infinity than the endgame's, which calls a path infinite from the valuation of x_0 alone
    # (cyclic:7, seed 0: |x_0|/‖x‖ above 1e-3 on 3998 of its 4116 paths at infinity before this).
    if inward is not None:  # suspect paths whose tail failed nearer infinity: their last points
        closer = ~reached & suspect[rows] & (gap < 0)
        inward[rows[closer]] = last[closer]
    if stalled is not None and more:  # where the compiled tracker stopped, failing before the tail
        stopped = more[0]
        ok = ~finite & np.isfinite(stopped).all(axis=1)
        closer = np.zeros(len(rows), dtype=bool)
        closer[ok] = suspect[rows[ok]] & (_infinity_gap(stopped[ok]) < _infinity_gap(ends[rows[ok]]))
        stalled[rows[closer]] = stopped[closer]
    nearer = (_kinds(groups, cls, len(ends))[rows] == AT_INFINITY) & ~suspect[rows] & (gap < 0)
    ends[rows[nearer]] = last[nearer]
    return {"n_tail": int(len(rows)), "n_tail_regular": int(kept.sum()), "n_tail_crossed": int(len(crossed)),
            "n_tail_away": int(away.sum())}


def _settle_failed_by_tail(groups, cls, ends, winding, opts: SolveOptions, tail, adopt, bar) -> Dict[str, int]:
    """Follow the failed paths (re-tracked as well) whose endpoints are finite with ``tail``
    (:func:`_tail_finish`) to ``s = 1 - t`` below :data:`TAIL_MIN_S`, where ``H`` is ``F`` to double's
    rounding. A path whose ``|x_0|`` fell below ``infinity_tol·‖x‖`` on the way goes to infinity. One
    that ends at a regular root no other path reached (and that persists, :func:`_persists`) is that
    root. One that ends nearer infinity than its endpoint (``|x_0|/‖x‖`` smaller) at a point where
    :func:`_headed_for_infinity` holds goes to infinity: top-degree forms within ``|x_0|`` of zero at
    ``s ≈ 0`` and no regular root that Newton converges to nearby. Any other stays failed.

    Such paths are those whose Cauchy endgame never agreed at a finite point (cassou balanced,
    seed 0: two paths, winding 4, the Cauchy estimates at ``‖x‖ ≈ 2e4``, whose tails end at
    ``|x_0|/‖x‖ ≈ 6e-7``, 90 times nearer infinity). Returns counters ``n_failed_tail`` (paths
    followed), ``n_failed_tail_infinity`` and ``n_failed_tail_regular`` (paths settled so)."""
    from .kernels import END_DIRECT, END_INFINITY

    kind = _kinds(groups, cls, len(ends))
    known = np.isfinite(ends).all(axis=1)
    known[known] = _finite_points(ends[known], opts)
    rows = np.nonzero((kind == FAILED) & known)[0]
    out = {"n_failed_tail": int(len(rows)), "n_failed_tail_infinity": 0, "n_failed_tail_regular": 0}
    if len(rows) == 0:
        return out
    bar.set_description("tail of failed paths")
    bar.reset(total=len(rows))
    e2, *_ = tail(rows)
    reached = np.isfinite(e2).all(axis=1)
    finite = reached.copy()
    finite[reached] = _finite_points(e2[reached], opts)
    infinite = reached & ~finite  # |x_0| fell below infinity_tol·‖x‖ on the way
    root = np.zeros(len(rows), dtype=bool)
    headed = np.zeros(len(rows), dtype=bool)
    for (work, grows), c in zip(groups, cls):
        mine = finite & np.isin(rows, grows)
        if mine.any():
            root[mine] = _persists(work, e2[mine, 1:] / e2[mine, :1])
        inward = mine & ~root
        inward[inward] = _infinity_gap(e2[inward]) < _infinity_gap(ends[rows[inward]])
        if inward.any():
            headed[inward] = _headed_for_infinity(work, e2[inward], c["regular"], opts)
    if root.any():
        kept = adopt(rows[root], (e2[root], int(Status.success), END_DIRECT, 1),
                     lambda k, crossed: (k == REGULAR) & ~crossed)
        out["n_failed_tail_regular"] = int(kept.sum())
    going = infinite | headed
    if going.any():
        kept = adopt(rows[going], (e2[going], int(Status.success), END_INFINITY, winding[rows[going]]),
                     lambda k, crossed: k == AT_INFINITY)
        out["n_failed_tail_infinity"] = int(kept.sum())
    return out


#: :func:`_persists` perturbs every coefficient by this relative amount, far above double's rounding ...
PERSIST_PERTURBATION = 1e-12
#: ... and a root persists when Newton on the perturbed system moves it by at most this, relative.
PERSIST_TOL = 1e-6


def _persists(system, points: np.ndarray, perturbation: float = PERSIST_PERTURBATION,
              tol: float = PERSIST_TOL) -> np.ndarray:
    """Which ``points`` (approximate roots of ``system``) stay roots when every coefficient is
    perturbed by ``perturbation`` (:data:`PERSIST_PERTURBATION`) relative (random, fixed seed): Newton on the perturbed
    system moves them by at most ``tol`` (:data:`PERSIST_TOL`)·‖x‖ (boolean mask).

    Followed to ``s = 1e-32``, a path can end at a root that only the rounding of the coefficients
    made: rose's coefficients are fractions such as 20/7, and in double precision 48 of its 80
    paths to infinity end at roots of norm about ``10^4`` instead (``eps^(-1/4)``), where Newton with
    the exact rational coefficients does not converge. A perturbation of ``1e-12`` moves such a
    root by O(1) and a genuine one by about ``1e-12`` times its condition number (pb601's roots of
    norm 30: ``3e-12``).
    """
    from .kernels import refine_batch

    rng = np.random.default_rng(0)
    coefs = tuple(c * (1.0 + perturbation * (rng.standard_normal(len(c)) + 1j * rng.standard_normal(len(c))))
                  for c in system.coefficients)
    p = PolynomialSystem(system.variables, system.exponents, coefs, system.name).packed()
    with np.errstate(all="ignore"):
        moved, *_ = refine_batch(points, *p.arrays(), p.max_exp, 1e-14, 20)
        d = np.linalg.norm(moved - points, axis=1)
    return np.isfinite(d) & (d <= tol * np.linalg.norm(points, axis=1))


#: A suspect path stays at infinity (:func:`_headed_for_infinity`) only where ``|x_0|`` of its unit
#: endpoint is below this (cyclic:7's suspect paths: 0.001 to 0.009) ...
TOP_FORM_MAX_X0 = 0.05
#: ... and the top-degree forms at it are at most this many times ``|x_0|``, each relative to its
#: equation's coefficients (cyclic:7: at most 0.04).
TOP_FORM_FACTOR = 1.0
#: Newton iterations (double) from a suspect endpoint's affine point ``x`` in that test, and how far
#: from ``x`` (relative to ``1 + ‖x‖``) a root it reaches is the one the path was headed for.
HEADED_NEWTON_ITERS = 8
HEADED_ROOT_DISTANCE = 0.1


def _headed_for_infinity(work, ends: np.ndarray, regular: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """Which projective endpoints ``(x_0, x)`` of suspect paths of the homogenised ``work`` are
    consistent with a path to infinity (boolean mask); the others are failed paths.

    Scaled to unit norm, with ``ε = |x_0|``, the top-degree forms of equation ``i`` at ``x`` equal
    ``-(ε·F_{d-1}(x) + ...)`` on the path, so relative to the 1-norm of the equation's
    coefficients they are ``O(ε)``: the endpoint must have ``ε`` at most :data:`TOP_FORM_MAX_X0`
    and top-degree forms within :data:`TOP_FORM_FACTOR`·ε of zero. That holds at a finite root of
    norm ``1/ε`` as well, so in addition Newton from the affine point ``x/x_0`` must not reach a
    regular root within :data:`HEADED_ROOT_DISTANCE` of it (scaled residual below ``endgame_tol``,
    condition below ``max_cond``, as in :func:`_classify`) that no other path reached: such a path was headed for a root that would
    otherwise be lost.
    """
    from .kernels import eval_system_alloc

    if len(ends) == 0:
        return np.zeros(0, dtype=bool)
    hom = work.homogenize().packed()
    coef_norms = np.array([np.abs(c).sum() for c in work.coefficients])
    with np.errstate(all="ignore"):
        unit = ends / np.linalg.norm(ends, axis=1)[:, None]
        eps = np.abs(unit[:, 0])
        top = unit.copy()
        top[:, 0] = 0.0
        values = np.array([eval_system_alloc(x, *hom.arrays(), hom.max_exp)[0] for x in top])
        rel = np.max(np.abs(values) / coef_norms, axis=1)
    ok = np.isfinite(eps) & np.isfinite(rel)
    ok &= (eps <= TOP_FORM_MAX_X0) & (rel <= TOP_FORM_FACTOR * np.maximum(eps, opts.infinity_tol))
    if ok.any():
        ok[np.nonzero(ok)[0][_headed_for_root(work, ends[ok], regular, opts)]] = False
    return ok


def _headed_for_root(work, ends: np.ndarray, regular: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """Which projective endpoints ``(x_0, x)`` (``x_0 != 0``) of paths of ``work`` were headed for a regular
    root that no other path reached (boolean mask): Newton (double, :data:`HEADED_NEWTON_ITERS`
    iterations) from the affine point ``x/x_0`` reaches, within :data:`HEADED_ROOT_DISTANCE`·(1 + ‖x‖)
    of it, a point with scaled residual below ``endgame_tol`` and condition below ``max_cond`` (as in
    :func:`_classify`) that is not one of ``regular``."""
    from .kernels import refine_batch, term_sizes_batch

    if len(ends) == 0:
        return np.zeros(0, dtype=bool)
    p = work.packed()
    with np.errstate(all="ignore"):
        x = ends[:, 1:] / ends[:, :1]
        X, _, J, vals = refine_batch(x, *p.arrays(), p.max_exp, opts.final_tol, HEADED_NEWTON_ITERS)
        scale = _row_scales(X, J, term_sizes_batch(X, *p.arrays(), p.max_exp))
        size = 1.0 + np.linalg.norm(X, axis=1)
        root = (_scaled_residuals(vals, scale) <= opts.endgame_tol * size) \
            & (_term_scaled_cond(J, scale) < opts.max_cond) \
            & (np.linalg.norm(X - x, axis=1) <= HEADED_ROOT_DISTANCE * (1.0 + np.linalg.norm(x, axis=1)))
        # ... where Newton converged: its next step is below endgame_tol·(1 + ‖X‖). On a path to
        # infinity the scaled residual is small too (reimer5, seed 0: 2e-6 at ‖x‖ = 1200, where
        # the tail stopped), but there Newton's first step, of size ‖x‖, raises it and is refused.
        if root.any():
            steps = np.full(len(X), np.inf)
            try:
                steps[root] = np.linalg.norm(np.linalg.solve(J[root], vals[root][:, :, None])[:, :, 0], axis=1)
            except np.linalg.LinAlgError:  # one exactly singular J must not decide the other rows
                for i in np.flatnonzero(root):
                    try:
                        steps[i] = np.linalg.norm(np.linalg.solve(J[i], vals[i]))
                    except np.linalg.LinAlgError:
                        pass  # no Newton step: not converged
            root &= np.isfinite(steps) & (steps <= opts.endgame_tol * size)
    if root.any() and len(regular):
        root &= ~_near(np.vstack([X, regular]), np.arange(len(X) + len(regular)) >= len(X),
                       opts.dedup_tol)[:len(X)]
    return root


def _kinds(groups, cls, n_paths: int) -> np.ndarray:
    """The endpoint kind of every path, gathered from the groups' classifications."""
    kind = np.empty(n_paths, dtype=np.int64)
    for (_, rows), c in zip(groups, cls):
        kind[np.asarray(rows)] = c["kind"]
    return kind


#: Start systems :func:`solve` accepts.
START_KINDS = ("auto", "polyhedral", "total_degree")
#: ``start='auto'`` stops computing mixed cells after this many feasibility tests per total-degree
#: path (:func:`~pathtrack.polynomial.polyhedral.mixed_cells`' ``max_work``; a test takes about 10 µs,
#: a total-degree path about 3 ms) and tracks the total-degree homotopy instead. On seed 0 the corpus
#: systems (total degree <= 300) whose mixed volume is below their Bézout number need at most 49
#: tests per path (fourbar), except trinks (56), des22_24 (121) and s9_1 (181); katsura:10, whose
#: mixed volume is its Bézout number, needs more than 200 to show it.
AUTO_MV_WORK_PER_PATH = 60


def _choose_start(system: PolynomialSystem, start: str, seed: int) -> Optional[MixedSubdivision]:
    """The mixed cells to start from, or None for the total-degree start (see ``solve``'s ``start``)."""
    if start == "total_degree":
        return None
    from .polyhedral import WorkLimitExceeded, mixed_cells, supports_of

    supports = supports_of(system)
    bezout = system.bezout_number
    if start == "auto":
        # Newton polytope = d_i·simplex when the support holds every x_j^{d_i}: then MV = Bézout number
        full = all(all(((pts == d * np.eye(len(supports), dtype=np.int64)[j]).all(axis=1)).any()
                       for j in range(len(supports))) for pts, d in zip(supports, system.degrees))
        if full:
            return None
        try:
            subdivision = mixed_cells(supports, seed=seed, max_work=AUTO_MV_WORK_PER_PATH * bezout, max_volume=bezout)
        except WorkLimitExceeded:
            return None
        return subdivision if subdivision.mixed_volume < bezout else None
    return mixed_cells(supports, seed=seed)


def _finite_points(ends: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """Which projective endpoints lie off infinity: ``|x_0| > infinity_tol·‖x‖`` (boolean mask)."""
    return np.abs(ends[:, 0]) > opts.infinity_tol * np.linalg.norm(ends, axis=1)


def _infinity_gap(ends: np.ndarray) -> np.ndarray:
    """``|x_0|/‖x‖`` of each projective endpoint: 0 at infinity, scale-free in the patch."""
    return np.abs(ends[:, 0]) / np.linalg.norm(ends, axis=1)


def _soft_infinite(ends: np.ndarray, kind: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """Paths called at infinity whose endpoint is not, so that only the valuation of ``x_0`` over
    the endgame's radii called them infinite (indices)."""
    return np.nonzero((kind == AT_INFINITY) & _finite_points(ends, opts))[0]


def _finite_ends(ends: np.ndarray, codes: np.ndarray, kinds: np.ndarray, opts: SolveOptions) -> np.ndarray:
    """Which tracked paths ended at a finite point (boolean mask)."""
    from .kernels import END_INFINITY

    return (codes == int(Status.success)) & (kinds != END_INFINITY) & _finite_points(ends, opts)


def _choose_scaling(system, mode) -> Optional[Scaling]:
    """The scaling ``SolveOptions.scaling`` asks for, or None to track ``system`` as given."""
    if mode is False:
        return None
    scaling = balance(system)
    if scaling.is_identity or (mode == "auto" and scaling.gain < AUTO_MIN_GAIN):
        return None
    return scaling


def _unscale(system, scaling: Scaling, ends: np.ndarray, cls: Dict[str, Any], opts: SolveOptions):
    """Endpoints and solutions of the scaled system mapped back to ``system``; the regular ones
    are refined by Newton on ``system`` and their residuals are ``system``'s."""
    from .kernels import refine_batch

    p = system.packed()
    regular = scaling.unscale(cls["regular"]).reshape(-1, system.n_variables)
    regular, res, _, _ = refine_batch(regular, *p.arrays(), p.max_exp, opts.final_tol, 3)
    singular = scaling.unscale(cls["singular"]).reshape(-1, system.n_variables)
    return scaling.unscale(ends, homogeneous=True), {**cls, "regular": regular, "residual": res,
                                                     "singular": singular}


def _overall_status(codes: np.ndarray, kind: np.ndarray, n_regular: int) -> Dict[str, Any]:
    """``status`` and ``message`` of a solve: ``success`` only when the result is complete.

    Interrupted paths give ``interrupted``; failed paths the most frequent failure, with the
    count; unresolved crossings (regular paths beyond one per regular solution) are named in
    the message.
    """
    failed = codes[kind == FAILED]
    n_interrupted = int(np.sum(kind == INTERRUPTED))
    if n_interrupted:
        return {"status": Status.interrupted, "message": f"{n_interrupted} of {codes.size} paths not tracked "
                                                          f"(interrupted), {failed.size} failed"}
    n_crossed = int(np.sum(kind == REGULAR)) - n_regular
    if failed.size == 0 and n_crossed == 0:
        return {"status": Status.success, "message": Status.success.message}
    if failed.size == 0:
        return {"status": Status.path_crossing, "message": f"{n_crossed} unresolved path crossing(s): "
                                                           f"{Status.path_crossing.message}"}
    values, counts = np.unique(failed, return_counts=True)
    worst = Status(int(values[np.argmax(counts)]))
    return {"status": worst, "message": f"{failed.size} of {codes.size} paths failed, most with {worst.name}: "
                                        f"{worst.message}"}


def _row_scales(X: np.ndarray, jacs: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``D_i`` at each point: the larger of row ``i``'s largest ``|J_ij|`` and ``T_i/(1 + ‖x‖)``,
    ``T_i`` the size of the terms of equation ``i`` (:func:`kernels.term_sizes`).

    Dividing equation ``i`` by ``D_i`` makes residuals and Jacobians independent of how the
    equations are scaled; the floor keeps a row that vanishes at a singular root measured
    against the terms that cancel in ``F``.
    """
    floor = sizes / (1.0 + np.linalg.norm(X, axis=1))[:, None]
    return np.maximum(np.max(np.abs(jacs), axis=2), floor)


def _term_scaled_cond(jacs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``1/σ_min(D⁻¹J)`` at each point, ``D`` from :func:`_row_scales`.

    The 2-norm condition number of ``J`` does not see a Jacobian that is small as a whole
    (for one unknown it is always 1): at a double root of ``(x-1)^2 (x+1)`` it calls ``x = 1``
    regular. Measured against the terms that cancel in ``F``, a vanishing row is singular.
    Unlike ``cond(J)``, it does not grow when equations are multiplied by different factors.
    """
    if len(jacs) == 0:
        return np.empty(0)
    with np.errstate(all="ignore"):
        scaled = np.where(scale[:, :, None] > 0, jacs / scale[:, :, None], 0.0)
        smin = np.linalg.svd(scaled, compute_uv=False)[:, -1]
        kappa = 1.0 / smin
    return np.where(np.isfinite(kappa), kappa, np.inf)


def _scaled_residuals(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``‖D⁻¹F(x)‖`` per point from the residual vectors ``values`` (rows of ``F(x)``, as
    :func:`~pathtrack.polynomial.kernels.refine_batch` returns them): units of ``x``, whatever the
    equations' scales."""
    with np.errstate(all="ignore"):
        r = np.linalg.norm(np.where(scale > 0, values / np.where(scale > 0, scale, 1.0),
                                    np.where(values == 0, 0.0, np.inf)), axis=1)
    return np.where(np.isfinite(r), r, np.inf)


def _near(points: np.ndarray, anchors: np.ndarray, tol: float) -> np.ndarray:
    """Which ``points`` lie within ``tol·(1 + ‖x‖)`` of some ``points[anchors]`` (boolean mask)."""
    out = np.zeros(len(points), dtype=bool)
    if not anchors.any():
        return out
    from .neighbours import nearest_distances

    a = points[anchors]
    scale = 1.0 + np.maximum(np.linalg.norm(points, axis=1), np.linalg.norm(a, axis=1).max())
    d = nearest_distances(np.hstack([points.real, points.imag]), np.hstack([a.real, a.imag]))
    return d <= tol * scale


#: Relative distance below which two roots refined in extended precision are the same.
MP_DISTINCT_TOL = 1e-12
#: Newton starts per singular cluster that :func:`_split_clusters` tries: offsets of
#: ``(1 + ‖x‖)·10^-k`` for these ``k``, in 8 complex directions along the near-null vector.
SPLIT_OFFSET_EXPONENTS = range(2, 10)
SPLIT_DIRECTIONS = 8
#: Extended-precision Newton steps per start there: from double's estimate next to a root 1e-8
#: from another, Newton first halves its step (as at a double root), then converges (rose).
SPLIT_MP_ITERS = 10


def _split_clusters(refined, res, jacs, conds, regular, packed, opts: SolveOptions):
    """Where ``m`` paths met at one singular-looking point, look for distinct regular roots next
    to it, and give each path one of them (in place; ``regular`` marks them). Returns two masks:
    ``split``, the paths given a root (accurate to double's last digit, told apart with
    :data:`MP_DISTINCT_TOL` rather than ``dedup_tol``), and ``lost``, the paths whose endpoint is
    neither (to be re-tracked, else failed).

    Two regular roots closer together than about ``sqrt`` of the smallest endgame radius look,
    to the endgame, like one double root (rose has four such pairs, ``10^-7`` apart): the two
    paths wind round each other and the Cauchy estimate is their midpoint. Newton from points
    around it along the near-null vector of the Jacobian finds such roots; a true multiple root
    has no regular roots next to it, and Newton's stall points near it are told apart from
    regular roots by extended-precision Newton (:func:`pathtrack.polynomial.precision.refine`).
    The Cauchy estimate of ``m`` paths that end at ``m`` nearby points is their mean, so once
    ``r`` roots are found, the mean of the others, ``(m·centre - Σ roots)/(m - r)``, starts the
    next Newton (for a pair, the point opposite the first root).

    With a generic ``gamma`` each regular root attracts one path, so ``r`` regular roots found
    next to ``m`` paths (none of them reached by another path) account for ``r`` of the paths.
    The other ``m - r`` stay a singular point of multiplicity ``m - r`` where that is 2 or more; a
    single path left over cannot end at a multiple point alone, and is ``lost``.

    A path that is alone at its point but not regular only because the endgame gave it a winding
    number above 1 is the endgame's mistake where the Jacobian there is well conditioned (a cycle
    of winding number ``w`` needs ``w`` paths): see :func:`_settle_lone`.
    """
    from .kernels import eval_system_alloc, refine_batch, term_sizes_batch

    split = np.zeros(len(regular), dtype=bool)
    lost = np.zeros(len(regular), dtype=bool)
    cand = np.nonzero(~regular)[0]
    if len(cand) == 0:
        return split, lost
    labels = _clusters(refined[cand], math.sqrt(opts.dedup_tol))
    arrays = packed.arrays()
    for label in np.unique(labels):
        members = cand[labels == label]
        m = len(members)
        if m < 2:
            _settle_lone(members[0], refined, res, jacs, conds, regular, split, lost, packed, opts)
            continue
        x = refined[members[0]]
        with np.errstate(all="ignore"):
            _, jac = eval_system_alloc(x, *arrays, packed.max_exp)
            if not np.isfinite(jac).all():
                continue
            _, sv, vh = np.linalg.svd(jac)
        if _on_component(m, jac, sv):
            continue
        v = vh[-1].conj()
        size = 1.0 + np.linalg.norm(x)
        offsets = [size * 10.0 ** -k * np.exp(2j * np.pi * d / SPLIT_DIRECTIONS)
                   for k in SPLIT_OFFSET_EXPONENTS for d in range(SPLIT_DIRECTIONS)]
        starts = x[None, :] + np.array(offsets)[:, None] * v[None, :]
        X, r, J, _ = refine_batch(starts, *arrays, packed.max_exp, opts.final_tol, 30)
        with np.errstate(all="ignore"):
            near = np.linalg.norm(X - x, axis=1) <= math.sqrt(opts.dedup_tol) * size
            kappa = _term_scaled_cond(J, _row_scales(X, J, term_sizes_batch(X, *arrays, packed.max_exp)))
        ok = near & (kappa < opts.max_cond) & np.isfinite(r)
        if not ok.any():
            continue
        # double precision places these roots only to about kappa·eps: tell them apart in more digits
        X = list(X[ok][np.unique(_clusters(X[ok], opts.final_tol), return_index=True)[1]])
        roots = np.empty((0, len(x)), dtype=np.complex128)
        taken = refined[regular]  # roots other paths reached: not these paths'
        n_stalled = 0
        centre = refined[members].mean(axis=0)
        from . import precision

        while X:  # until m distinct regular roots, or more stall points than a true multiple root leaves
            y = precision.refine(X.pop(0), packed, SPLIT_MP_ITERS)
            if y is None:
                n_stalled += 1
            elif not _near(np.vstack([roots, y]), np.arange(len(roots) + 1) < len(roots), MP_DISTINCT_TOL)[-1] \
                    and not _near(np.vstack([taken, y]), np.arange(len(taken) + 1) < len(taken), opts.dedup_tol)[-1]:
                roots = np.vstack([roots, y])
                if len(roots) < m:
                    X.insert(0, (m * centre - roots.sum(axis=0)) / (m - len(roots)))
            if len(roots) == m or n_stalled > 4 * m:
                break
        for k, y in zip(members, roots):
            val, jac = eval_system_alloc(y, *arrays, packed.max_exp)
            refined[k], res[k], jacs[k], conds[k] = y, np.linalg.norm(val), jac, np.linalg.cond(jac)
        split[members[:len(roots)]] = True
        regular[members[:len(roots)]] = True
        if len(roots) == m - 1:
            lost[members[-1]] = True
    return split, lost


def _on_component(m: int, jac: np.ndarray, singular_values: np.ndarray) -> bool:
    """Whether ``m`` paths meeting at a point whose Jacobian is ``jac`` put it on a positive-dimensional
    component (:func:`~pathtrack.polynomial.localdim.too_few_paths`): no regular roots are split
    off there, which took about 10 s of 50-digit Newton per pair of cyclic:8's paths that met on
    its curve, all failing."""
    return bool(too_few_paths(m, jacobian_corank(jac, singular_values)))


def _settle_lone(k, refined, res, jacs, conds, regular, split, lost, packed, opts: SolveOptions) -> None:
    """Path ``k`` ended alone at a point it did not reach as a regular root: where the row-scaled
    Jacobian there is well conditioned (:func:`_term_scaled_cond` below ``max_cond``), only its
    winding number above 1 kept it from being regular, and a lone path cannot reach a multiple
    point. Newton in extended precision (:func:`pathtrack.polynomial.precision.refine`) decides,
    in place: a regular root that no other path reached makes it regular (``split``, like the
    roots :func:`_split_clusters` finds), anything else makes it ``lost`` (re-tracked, else
    failed), never a singular point of multiplicity 1. An ill-conditioned point stays singular
    (a positive-dimensional set of solutions is left that way)."""
    from . import precision
    from .kernels import eval_system_alloc, term_sizes_batch

    x = refined[k:k + 1]
    kappa = _term_scaled_cond(jacs[k:k + 1], _row_scales(x, jacs[k:k + 1],
                                                         term_sizes_batch(x, *packed.arrays(), packed.max_exp)))
    if not kappa[0] < opts.max_cond:
        return
    y = precision.refine(refined[k], packed)
    taken = refined[regular]
    if y is None or _near(np.vstack([taken, y]), np.arange(len(taken) + 1) < len(taken), opts.dedup_tol)[-1]:
        lost[k] = True
        return
    val, jac = eval_system_alloc(y, *packed.arrays(), packed.max_exp)
    refined[k], res[k], jacs[k], conds[k] = y, np.linalg.norm(val), jac, np.linalg.cond(jac)
    regular[k] = split[k] = True


#: At most this many regular endpoints per group within ``dedup_tol`` are refined in extended precision.
MAX_MP_GROUP = 8


def _resolve_close_regular(refined, regular, split, packed, opts: SolveOptions) -> None:
    """Regular endpoints within ``dedup_tol`` of each other are one root reached by several paths
    (a crossing) or distinct roots closer together than double precision resolves at their
    condition number (``(x - 1)(x - 1 - 1e-7)``). Newton in extended precision decides: where
    it takes every endpoint of a group to a different regular root, those roots replace them
    and ``split`` marks them, in place."""
    idx = np.nonzero(regular & ~split)[0]
    if len(idx) < 2:
        return
    labels = _clusters(refined[idx], opts.dedup_tol)
    values, counts = np.unique(labels, return_counts=True)
    for label in values[(counts > 1) & (counts <= MAX_MP_GROUP)]:
        from . import precision

        members = idx[labels == label]
        roots = [precision.refine(refined[k], packed) for k in members]
        if any(y is None for y in roots):
            continue
        roots = np.array(roots)
        if len(np.unique(_clusters(roots, MP_DISTINCT_TOL))) == len(members):
            refined[members] = roots
            split[members] = True


def _classify(sys_, ends, codes, kinds, winding, opts: SolveOptions) -> Dict[str, Any]:
    """Sort endpoints into regular / singular / at infinity / failed; refine and deduplicate."""
    from .kernels import END_INFINITY, refine_batch, term_sizes_batch

    n_paths, n1 = ends.shape
    kind = np.full(n_paths, FAILED, dtype=np.int64)
    kind[codes == int(Status.interrupted)] = INTERRUPTED
    ok = codes == int(Status.success)
    norms = np.linalg.norm(ends, axis=1)
    infinite = ok & ((np.abs(ends[:, 0]) <= opts.infinity_tol * norms) | (kinds == END_INFINITY))
    kind[infinite] = AT_INFINITY
    finite = np.nonzero(ok & ~infinite)[0]
    affine = ends[finite, 1:] / ends[finite, :1]
    p = sys_.packed()
    refined, res, jacs, values = refine_batch(affine, *p.arrays(), p.max_exp, opts.final_tol, 5)
    with np.errstate(all="ignore"):
        conds = np.linalg.cond(jacs) if len(finite) else np.empty(0)
    conds = np.where(np.isfinite(conds), conds, np.inf)
    scale = _row_scales(refined, jacs, term_sizes_batch(refined, *p.arrays(), p.max_exp))
    # An endpoint that does not solve F (relative to its equations' terms) is no solution of
    # either kind; its path failed and is re-tracked.
    solved = _scaled_residuals(values, scale) <= math.sqrt(opts.endgame_tol) * (1.0 + np.linalg.norm(refined,
                                                                                                       axis=1))
    unsolved = finite[~solved]
    kind[unsolved] = FAILED
    finite, refined, res, jacs, conds, scale = (a[solved] for a in (finite, refined, res, jacs, conds, scale))
    kappa = _term_scaled_cond(jacs, scale)
    regular = (winding[finite] == 1) & (kappa < opts.max_cond)
    # A path reaching a multiple root analytically (winding number 1) lands within about the root's
    # accuracy, eps^(1/m), and can look regular there; it shares the point with a singular path.
    regular &= ~_near(refined, ~regular, math.sqrt(opts.dedup_tol))
    split, lost = _split_clusters(refined, res, jacs, conds, regular, p, opts)
    unsolved = np.concatenate([unsolved, finite[lost]])
    kind[finite[lost]] = FAILED
    kind[finite[regular]] = REGULAR
    kind[finite[~regular & ~lost]] = SINGULAR
    # regular: one path per solution; a second path reaching it crossed over on the way
    _resolve_close_regular(refined, regular, split, p, opts)
    reg_pts, reg_paths = refined[regular], finite[regular]
    labels = _clusters(reg_pts, np.where(split[regular], MP_DISTINCT_TOL, opts.dedup_tol))
    _, first, counts = np.unique(labels, return_index=True, return_counts=True)
    crossed = reg_paths[np.isin(labels, np.unique(labels)[counts > 1])]
    order = np.sort(first)
    # singular: paths ending together give the multiplicity
    sing_pts, sing_paths = refined[~regular & ~lost], finite[~regular & ~lost]
    slab = _clusters(sing_pts, math.sqrt(opts.dedup_tol))
    uniq, sfirst, scounts = np.unique(slab, return_index=True, return_counts=True)
    sorder = np.argsort(sfirst)
    return {
        "kind": kind, "crossed": crossed, "unsolved": unsolved,
        "regular": reg_pts[order], "residual": res[regular][order], "cond": conds[regular][order],
        "singular": sing_pts[sfirst[sorder]], "multiplicity": scounts[sorder].astype(np.int64),
        "sing_winding": winding[sing_paths[sfirst[sorder]]].astype(np.int64) if len(sing_paths) else
        np.empty(0, dtype=np.int64),
    }
