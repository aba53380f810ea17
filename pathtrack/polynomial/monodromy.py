"""Monodromy solve: all solutions of a generic member of a parametrized family from one seed solution.

Loops in parameter space permute the solutions of ``F(x; q*)``: tracking the known solutions
along ``q* -> q1 -> q2 -> q*`` (random complex ``q1``, ``q2``; three parameter homotopies, each
with the compiled tracker of :func:`~pathtrack.polynomial.track_parameters`) ends at
solutions of ``F(x; q*)`` that may be new. For an irreducible incidence variety the loops
generate the whole monodromy group, so repeating them finds every solution of the generic
fiber. The run stops when the solutions pass the linear trace test (:func:`trace_residual`,
for systems with an equation of degree 1 in the unknowns), when an expected count is reached,
or, as a heuristic as in HomotopyContinuation.jl, after a number of loops in a row without a
new solution; :class:`MonodromyResult` says which rule stopped it and the last trace residual.
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
from .system import PolynomialSystem

__all__ = ["monodromy_solve", "MonodromyResult", "seed_pair", "trace_residual", "STOP_RULES", "TRACE_TOL"]

#: Why a monodromy run stopped: ``trace_test`` (the solutions passed the linear trace test),
#: ``loops_without_new`` (that many loops in a row found nothing new), ``target_count`` (the
#: expected number of solutions was reached) or ``max_loops``.
STOP_RULES = ("trace_test", "loops_without_new", "target_count", "max_loops")
#: Default ``trace_tol``: a complete solution set has a trace residual of rounding size (about
#: 1e-13 measured), a set missing one solution one of the size of that solution's curvature.
TRACE_TOL = 1e-8


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
    trace_residual : float or None
        The last :func:`trace_residual` computed (``inf`` when the solutions could not be moved
        along the slices), None when the trace test does not apply or was not run.
    counters : dict
        ``n_loops``, ``n_paths`` (over all legs), ``n_steps``, ``n_failed`` (paths of a leg that
        did not end at a regular solution: that solution is not carried further in that loop),
        ``n_trace_tests``.
    """

    system: Any
    q: np.ndarray
    solutions: np.ndarray
    stop_rule: str
    n_found: List[int]
    seed: int
    options: SolveOptions = field(default_factory=SolveOptions)
    trace_residual: Optional[float] = None

    @property
    def n_solutions(self) -> int:
        return int(len(self.solutions))

    @property
    def n_loops(self) -> int:
        return int(self.counters.get("n_loops", 0))

    def summary(self) -> Dict[str, Any]:
        return {"system": self.system.name, "variables": list(self.system.variables),
                "parameters": list(self.system.parameters), "n_solutions": self.n_solutions,
                "stop_rule": self.stop_rule, "trace_residual": self.trace_residual, "n_loops": self.n_loops,
                "n_found": list(self.n_found),
                **{k: v for k, v in self.counters.items() if k != "n_loops"}, "wall_time": self.total_time,
                "seed": self.seed, "status": self.status.name}

    def __repr__(self) -> str:
        return (f"MonodromyResult({self.system.name or 'system'}: {self.n_solutions} solutions after {self.n_loops} "
                f"loops, stopped by {self.stop_rule}; {self.total_time:.3g} s)")


def seed_pair(psys: ParametrizedSystem, seed: Optional[int] = 0):
    """A point ``x*`` and parameters ``q*`` with ``F(x*; q*) = 0``, for parameters that enter affinely.

    ``x*`` is random on the unit torus; ``F(x*; q) = A q + b`` is then linear in ``q`` and ``q*`` is its
    least-norm solution plus a random point of the null space of ``A`` (where ``m > n``). Raises ``ValueError`` when the parameters do not enter affinely or do not
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
    # plus a random point of the solutions' null space: the least-norm one can be special (for
    # ``b*x + c*y + d`` it is b = c = d = 0, which deletes the equation)
    null = np.linalg.svd(A)[2][n:].conj().T
    if null.shape[1]:
        z = rng.standard_normal(null.shape[1]) + 1j * rng.standard_normal(null.shape[1])
        q = q + null @ z * (max(1.0, float(np.linalg.norm(q))) / np.sqrt(2 * null.shape[1]))
    return x, q


def monodromy_solve(system: Any, parameters: Optional[Sequence[str]] = None, seed_solution: Any = None,
                    q: Any = None, seed: int = 0, max_loops_without_new: int = 10,
                    target_count: Optional[int] = None, max_loops: int = 100, workers: Optional[int] = None,
                    executor: Any = None, options: Optional[SolveOptions] = None, trace_test: Optional[bool] = None,
                    trace_tol: float = TRACE_TOL) -> MonodromyResult:
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
    trace_test : bool, optional
        After each loop that found nothing new, test the known solutions with
        :func:`trace_residual` (once per count) and stop when it is at most ``trace_tol``.
        None (default): where the test applies (an equation of degree 1 in the unknowns);
        True raises ``ValueError`` where it does not.
    trace_tol : float
        Largest trace residual of a complete solution set.
    """
    t0 = time.perf_counter()
    psys = as_parametrized(system, parameters)
    _square(psys)
    opts = SolveOptions.resolve(options)
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
    if trace_test not in (None, True, False):
        raise ValueError(f"trace_test must be None, True or False, got {trace_test!r}")
    if not (isinstance(trace_tol, (int, float)) and np.isfinite(trace_tol) and trace_tol > 0):
        raise ValueError(f"trace_tol must be a positive number, got {trace_tol!r}")
    applies = _linear_equation(psys.at(q_star)) is not None
    if trace_test and not applies:
        raise ValueError("trace_test: no equation of degree 1 in the unknowns, so the linear trace test does not "
                         "apply; leave trace_test=None")
    use_trace = applies if trace_test is None else trace_test
    rng = np.random.default_rng([seed, 1])
    scale = max(1.0, float(np.linalg.norm(q_star)) / np.sqrt(psys.n_parameters))
    n_found, quiet, n_loops = [len(known)], 0, 0
    counters = {"n_paths": 0, "n_steps": 0, "n_failed": 0, "n_trace_tests": 0}
    stop_rule = "max_loops"
    residual, tested = None, -1
    while n_loops < max_loops:
        if target_count is not None and len(known) >= target_count:
            stop_rule = "target_count"
            break
        if use_trace and quiet >= 1 and tested != len(known):  # once per count: a repeat would only cost
            residual = trace_residual(psys, known, q_star, seed=seed + n_loops, workers=workers, executor=executor,
                                      options=opts)
            counters["n_trace_tests"] += 1
            tested = len(known)
            if residual <= trace_tol:
                stop_rule = "trace_test"
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
        if residual is not None and residual <= trace_tol and tested == len(known):
            stop_rule = "trace_test"
        elif target_count is not None and len(known) >= target_count:
            stop_rule = "target_count"
        elif quiet >= max_loops_without_new:
            stop_rule = "loops_without_new"
    status = Status.max_steps_reached if stop_rule == "max_loops" else Status.success
    message = (f"{len(known)} solutions after {n_loops} loops; stopped by {stop_rule}"
               + (f" ({max_loops_without_new} loops without a new solution)" if stop_rule == "loops_without_new"
                  else "") + (f"; trace residual {residual:.3g}" if residual is not None else ""))
    return MonodromyResult(system=psys, q=q_star, solutions=known, stop_rule=stop_rule, n_found=n_found, seed=seed,
                           options=opts, status=status, message=message, counters={"n_loops": n_loops, **counters},
                           total_time=time.perf_counter() - t0,
                           trace_residual=None if residual is None else float(residual))


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


# -- trace test -----------------------------------------------------------------------------------
def trace_residual(system: Any, solutions: Any, q: Any, parameters: Optional[Sequence[str]] = None, seed: int = 0,
                   workers: Optional[int] = None, executor: Any = None,
                   options: Optional[SolveOptions] = None) -> float:
    """Linear trace test of solutions of ``F(x; q)``: about 0 when they are all the isolated solutions.

    ``F(x; q)`` needs an equation ``ℓ(x) = a_0 + a·x`` of degree 1 in the unknowns: its solutions
    are then the points of the curve ``C`` (the other equations) on the hyperplane ``ℓ = 0``. The
    solutions are moved, by parameter homotopies in ``(a_0, a)``, to a random hyperplane ``L``
    and to two parallel ones, ``L ± s`` (Leykin–Rodriguez–Sottile). The sum of the points of
    ``C`` on a hyperplane of a parallel pencil (the trace) is affine in the offset when the
    points are all of them (or all those of some components of ``C``), and not affine when some
    are missing. Returns the second difference of the traces,
    ``‖T(s) + T(-s) - 2 T(0)‖ / (1 + Σ_i ‖x_i‖)``; ``inf`` when a path along the slices did
    not end at a distinct regular solution. Raises ``ValueError`` when no equation has degree 1.

    The random hyperplane makes the pencil generic: a hyperplane of the system itself may meet
    ``C`` at infinity, and then a complete set fails the test.
    """
    psys = as_parametrized(system, parameters)
    _square(psys)
    opts = SolveOptions.resolve(options)
    q = psys.check_parameters(q, "q")
    from .parameter import start_points

    points = start_points(solutions, psys.n_variables, "solutions")
    target = psys.at(q)
    k = _linear_equation(target)
    if k is None:
        raise ValueError("no equation of degree 1 in the unknowns: the linear trace test does not apply")
    family, a_start = _slice_family(target, k)
    points = _refined_starts(family, points, a_start, opts)
    n_pts = len(points)
    if n_pts == 0:
        return float("inf")
    rng = np.random.default_rng([seed, 2])
    a_gen = rng.standard_normal(len(a_start)) + 1j * rng.standard_normal(len(a_start))
    a_gen *= np.linalg.norm(a_start) / np.linalg.norm(a_gen)
    rows = np.arange(n_pts)
    moved = _track_pairs(family, points, np.tile(a_start, (n_pts, 1)), np.tile(a_gen, (n_pts, 1)), [rows],
                         a_gen[None, :], seed, workers, executor, opts, False)[0]
    if moved.n_regular != n_pts:
        return float("inf")
    base = moved.solutions
    shift = np.zeros_like(a_gen)
    shift[0] = 0.5 * np.linalg.norm(a_gen) * np.exp(2j * np.pi * rng.uniform())
    ends = np.array([a_gen + shift, a_gen - shift])
    both = _track_pairs(family, np.vstack([base, base]), np.tile(a_gen, (2 * n_pts, 1)),
                        np.repeat(ends, n_pts, axis=0), [rows, rows + n_pts], ends, seed + 1, workers, executor, opts,
                        False)
    if any(r.n_regular != n_pts for r in both):
        return float("inf")
    second = both[0].solutions.sum(axis=0) + both[1].solutions.sum(axis=0) - 2.0 * base.sum(axis=0)
    return float(np.linalg.norm(second) / (1.0 + np.linalg.norm(base, axis=1).sum()))


def _linear_equation(system: PolynomialSystem) -> Optional[int]:
    """Index of the last equation of degree 1 with a term in some unknown, None when there is none."""
    ks = [i for i, d in enumerate(system.degrees) if d == 1]
    return ks[-1] if ks else None


def _slice_family(system: PolynomialSystem, k: int):
    """``system`` with equation ``k`` (degree 1) replaced by ``a_0 + Σ a_j x_j``, the ``a`` parameters.

    Returns the :class:`ParametrizedSystem` and the ``a`` of equation ``k``.
    """
    n = system.n_variables
    names = [f"a{j}" for j in range(n + 1)]
    while set(names) & set(system.variables):  # never clash with an unknown
        names = [name + "_" for name in names]
    exps, coefs = [], []
    for i, (e, c) in enumerate(zip(system.exponents, system.coefficients)):
        if i == k:
            lin = np.zeros((n + 1, 2 * n + 1), dtype=np.int64)
            lin[np.arange(n + 1), n + np.arange(n + 1)] = 1  # the parameter a_j
            lin[np.arange(1, n + 1), np.arange(n)] = 1  # times x_j (a_0 alone)
            exps.append(lin)
            coefs.append(np.ones(n + 1, dtype=np.complex128))
        else:
            exps.append(np.hstack([e, np.zeros((len(e), n + 1), dtype=np.int64)]))
            coefs.append(c)
    a = np.zeros(n + 1, dtype=np.complex128)
    for row, c in zip(system.exponents[k], system.coefficients[k]):
        j = int(np.argmax(row)) + 1 if row.any() else 0
        a[j] += c
    joint = PolynomialSystem(tuple(system.variables) + tuple(names), tuple(exps), tuple(coefs), system.name)
    return ParametrizedSystem(joint, tuple(names)), a
