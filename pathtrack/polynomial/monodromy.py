"""Monodromy solve: all solutions of a generic member of a parametrized family from one seed solution.

Loops in parameter space permute the solutions of ``F(x; q*)``: tracking the known solutions
along ``q* -> q1 -> q2 -> q*`` (random complex ``q1``, ``q2``; three parameter homotopies, each
with the compiled tracker of :func:`~pathtrack.polynomial.track_parameters`) ends at
solutions of ``F(x; q*)`` that may be new. For an irreducible incidence variety the loops
generate the whole monodromy group, so repeating them finds every solution of the generic
fiber. Without a trace test the end is a heuristic, as in HomotopyContinuation.jl: the run
stops after a number of loops in a row without a new solution, or when an expected count is
reached; :class:`MonodromyResult` says which rule stopped it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..results import Result
from ..status import Status
from .parameter import _refined_starts, _square, _track_pairs
from .parametric import ParametrizedSystem, as_parametrized
from .solver import SolveOptions, _clusters

__all__ = ["monodromy_solve", "MonodromyResult", "seed_pair", "STOP_RULES"]

#: Why a monodromy run stopped: ``loops_without_new`` (that many loops in a row found nothing new),
#: ``target_count`` (the expected number of solutions was reached) or ``max_loops``.
STOP_RULES = ("loops_without_new", "target_count", "max_loops")


@dataclass(frozen=True)
class MonodromyResult(Result):
    """Solutions of ``F(x; q)`` at ``q`` found by :func:`monodromy_solve` (a :class:`~pathtrack.results.Result`).

    ``status`` is ``success`` when a stopping rule other than ``max_loops`` ended the run.

    Attributes
    ----------
    system : ParametrizedSystem
    q : ndarray, shape (m,)
        The parameters of the fiber solved (the seed's); use as ``q0`` with ``solutions`` as start
        solutions of :func:`~pathtrack.polynomial.solve_parameters`.
    solutions : ndarray, shape (k, n)
        Distinct solutions of ``F(x; q)`` found.
    stop_rule : str
        One of :data:`STOP_RULES`.
    n_found : list of int
        Solutions known after each loop.
    counters : dict
        ``n_loops``, ``n_paths`` (over all legs), ``n_steps``, ``n_failed`` (paths of a leg that
        did not end at a regular solution: that solution is not carried further in that loop).
    """

    system: Any
    q: np.ndarray
    solutions: np.ndarray
    stop_rule: str
    n_found: List[int]
    seed: int
    options: SolveOptions = field(default_factory=SolveOptions)

    @property
    def n_solutions(self) -> int:
        return int(len(self.solutions))

    @property
    def n_loops(self) -> int:
        return int(self.counters.get("n_loops", 0))

    def summary(self) -> Dict[str, Any]:
        return {"system": self.system.name, "variables": list(self.system.variables),
                "parameters": list(self.system.parameters), "n_solutions": self.n_solutions,
                "stop_rule": self.stop_rule, "n_loops": self.n_loops, "n_found": list(self.n_found),
                **{k: v for k, v in self.counters.items() if k != "n_loops"}, "wall_time": self.total_time,
                "seed": self.seed, "status": self.status.name}

    def __repr__(self) -> str:
        return (f"MonodromyResult({self.system.name or 'system'}: {self.n_solutions} solutions after {self.n_loops} "
                f"loops, stopped by {self.stop_rule}; {self.total_time:.3g} s)")


def seed_pair(psys: ParametrizedSystem, seed: Optional[int] = 0):
    """A point ``x*`` and parameters ``q*`` with ``F(x*; q*) = 0``, for parameters that enter affinely.

    ``x*`` is random on the unit torus; ``F(x*; q) = A q + b`` is then linear in ``q`` and ``q*`` is its
    least-norm solution. Raises ``ValueError`` when the parameters do not enter affinely or do not
    determine the equations at ``x*`` (``A`` of rank below ``n``).
    """
    if not psys.affine_in_parameters():
        raise ValueError("the parameters do not enter affinely: give a seed solution and its parameters")
    rng = np.random.default_rng(seed)
    n, m = psys.n_variables, psys.n_parameters
    x = np.exp(2j * np.pi * rng.uniform(size=n))  # modulus 1: a tiny x* puts q* near the branch locus's cusps
    names = psys.joint.variables
    point = dict(zip(psys.variables, x))
    point.update({p: 0.0 for p in psys.parameters})
    b, jac = psys.joint.evaluate_with_jacobian([point[v] for v in names])
    A = jac[:, [names.index(p) for p in psys.parameters]]
    if np.linalg.matrix_rank(A) < n:
        raise ValueError(f"the {m} parameters do not determine the {n} equations at a random point "
                         f"(rank {np.linalg.matrix_rank(A)}): give a seed solution and its parameters")
    q = np.linalg.lstsq(A, -b, rcond=None)[0]
    return x, q


def monodromy_solve(system: Any, parameters: Optional[Sequence[str]] = None, seed_solution: Any = None,
                    q: Any = None, seed: int = 0, max_loops_without_new: int = 10,
                    target_count: Optional[int] = None, max_loops: int = 100, workers: Optional[int] = None,
                    executor: Any = None, options: Optional[SolveOptions] = None) -> MonodromyResult:
    """All solutions of ``F(x; q)`` at one generic ``q``, from one or more seed solutions, by monodromy loops.

    Parameters
    ----------
    system : ParametrizedSystem or anything :func:`~pathtrack.polynomial.solve` accepts
        With ``parameters`` unless it is a :class:`ParametrizedSystem`.
    seed_solution : array_like, shape (n,) or (k, n), optional
        Known solutions of ``F(x; q)``. Without them :func:`seed_pair` makes one (parameters
        entering affinely), and ``q`` is chosen with it.
    q : array_like, shape (m,), optional
        The parameters of ``seed_solution`` (required with it).
    seed : int
        Seeds the seed pair, the loops' random parameters and the projective patch.
    max_loops_without_new : int
        Stop after this many loops in a row that found no new solution.
    target_count : int, optional
        Stop as soon as this many solutions are known (e.g. a known root count).
    max_loops : int
        Stop after this many loops whatever happened (status ``max_steps_reached``).
    workers, executor, options
        As for :func:`~pathtrack.polynomial.solve`.
    """
    t0 = time.perf_counter()
    psys = as_parametrized(system, parameters)
    _square(psys)
    opts = options or SolveOptions()
    for name, value, low in (("max_loops_without_new", max_loops_without_new, 1), ("max_loops", max_loops, 1),
                             ("target_count", target_count, 1)):
        if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if seed_solution is None:
        if q is not None:
            raise ValueError("q is the parameter value of seed_solution: give both or neither")
        x_star, q_star = seed_pair(psys, seed)
        known = _refined_starts(psys, x_star[None, :], q_star, opts)
    else:
        if q is None:
            raise ValueError("q: give the parameters at which seed_solution solves the system")
        from .parameter import start_points

        q_star = psys.check_parameters(q, "q")
        known = _refined_starts(psys, start_points(seed_solution, psys.n_variables, "seed_solution"), q_star, opts)
        known = known[_first_of_clusters(known, opts.dedup_tol)]
    rng = np.random.default_rng([seed, 1])
    scale = max(1.0, float(np.linalg.norm(q_star)) / np.sqrt(psys.n_parameters))
    n_found, quiet, n_loops = [len(known)], 0, 0
    counters = {"n_paths": 0, "n_steps": 0, "n_failed": 0}
    stop_rule = "max_loops"
    while n_loops < max_loops:
        if target_count is not None and len(known) >= target_count:
            stop_rule = "target_count"
            break
        if quiet >= max_loops_without_new:
            stop_rule = "loops_without_new"
            break
        n_loops += 1
        q1, q2 = _corners(rng, q_star, scale)
        points = known
        for qa, qb in ((q_star, q1), (q1, q2), (q2, q_star)):
            k = len(points)
            if k == 0:
                break
            res = _track_pairs(psys, points, np.tile(qa, (k, 1)), np.tile(qb, (k, 1)), [np.arange(k)], qb[None, :],
                               seed + n_loops, workers, executor, opts, False)[0]
            counters["n_paths"] += k
            counters["n_steps"] += int(res.counters["n_steps"])
            counters["n_failed"] += k - res.n_regular
            points = res.solutions
        merged = np.vstack([known, points]) if len(points) else known
        keep = _first_of_clusters(merged, opts.dedup_tol)
        new = len(keep) - len(known)
        known = merged[keep]
        quiet = 0 if new > 0 else quiet + 1
        n_found.append(len(known))
    else:
        if target_count is not None and len(known) >= target_count:
            stop_rule = "target_count"
        elif quiet >= max_loops_without_new:
            stop_rule = "loops_without_new"
    status = Status.max_steps_reached if stop_rule == "max_loops" else Status.success
    message = (f"{len(known)} solutions after {n_loops} loops; stopped by {stop_rule}"
               + (f" ({max_loops_without_new} loops without a new solution)" if stop_rule == "loops_without_new"
                  else ""))
    return MonodromyResult(system=psys, q=q_star, solutions=known, stop_rule=stop_rule, n_found=n_found, seed=seed,
                           options=opts, status=status, message=message, counters={"n_loops": n_loops, **counters},
                           total_time=time.perf_counter() - t0)


def _corners(rng, q_star: np.ndarray, scale: float):
    """Two random complex parameter points: the other corners of a loop from ``q*``."""
    return tuple(scale * (rng.standard_normal(q_star.shape) + 1j * rng.standard_normal(q_star.shape))
                 for _ in range(2))


def _first_of_clusters(points: np.ndarray, tol: float) -> np.ndarray:
    """Indices of the first point of each cluster (points within ``tol·(1 + ‖x‖)`` of each other), in order."""
    if len(points) == 0:
        return np.empty(0, dtype=np.int64)
    _, first = np.unique(_clusters(points, tol), return_index=True)
    return np.sort(first)
