"""The problem protocol: what a plugin defines, and how the engine sees it.

A plugin subclasses :class:`Problem` and defines ``H(p, lam)``. Everything else is
optional: analytic derivatives (``dH_dp``, ``dH_dlam``), a Jacobian-vector product
(``jvp``) for large ``n``, evaluation at many points at once (``H_batch``,
``dH_dp_batch``, ``dH_dlam_batch``, for ODE right-hand sides in cycle continuation), a
``loss`` for gradient homotopies (``H = ∇_p loss``), start points, per-step ``metrics``
and an ``accept`` test. Missing derivatives come
from autograd, so ``H`` should then be written with ``autograd.numpy``.

The engine never calls the plugin directly. :class:`RealSystem` wraps it, turns
complex unknowns into real ones (``[Re p, Im p]``), counts evaluations, and turns
NaN/inf into :class:`NonFiniteError`, so that predictors and correctors only ever
see a real map ``F: R^(m+1) -> R^m`` of ``y = (x, lam)``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import numpy as np

__all__ = ["Problem", "StartPoint", "ProblemError", "NonFiniteError", "RealSystem", "check_problem",
           "FunctionProblem"]


class ProblemError(ValueError):
    """A plugin is malformed (wrong shapes or dtypes, unknown parameter); the message names it."""


class NonFiniteError(FloatingPointError):
    """``H`` or a derivative returned NaN or inf."""


class StartPoint(NamedTuple):
    """A point ``(p, lam)`` on (or near) the solution path."""

    p: np.ndarray
    lam: float


class Problem:
    """Base class of homotopy plugins ``H(p, lam) = 0``.

    Attributes
    ----------
    name : str
        Registry name (the entry-point name for registered plugins).
    description : str
        One line shown by ``pathtrack problems``.
    dtype : numpy dtype
        ``np.float64`` or ``np.complex128``.
    holomorphic : bool
        For complex problems: ``H`` is complex-analytic in ``p``, so ``dH_dp`` is a
        complex matrix. Non-holomorphic complex problems must set it to False and
        let autograd differentiate the real and imaginary parts.
    is_gradient : bool
        ``H = ∇_p loss(p, lam)``; enables the minimisation correctors and the Hessian index.
    is_ode_rhs : bool
        ``H = f(u, λ)`` is the right-hand side of an ODE ``u' = f``: the tracker reports
        stability (eigenvalues of ``dH_dp``) at every step and locates Hopf points.
    sparse_jacobian : bool
        ``dH_dp`` returns a ``scipy.sparse`` matrix (real problems): the engine keeps the
        augmented Jacobian sparse and solves its bordered systems with a sparse LU, at any
        size, so folds, branch points and branch switching work as for dense problems.
    lam_start, lam_end : float
        Default start and target λ.
    lam_min, lam_max : float or None
        Default λ-box (None: between ``lam_start`` and ``lam_end``).
    parameters : dict
        ``{name: default}`` of the plugin's parameters, settable with ``--set``. The
        default's type converts command-line text.
    default_options : dict
        Tracker options this problem works best with; the user's options override them.
    """

    name: str = "unnamed"
    description: str = ""
    dtype: Any = np.float64
    holomorphic: bool = True
    is_gradient: bool = False
    is_ode_rhs: bool = False
    sparse_jacobian: bool = False
    lam_start: float = 0.0
    lam_end: float = 1.0
    lam_min: Optional[float] = None
    lam_max: Optional[float] = None
    parameters: Dict[str, Any] = {}
    default_options: Dict[str, Any] = {}

    def __init__(self, **params: Any) -> None:
        # (curve systems rebuild plugins at every point: kept cheap)
        parameters = self.parameters
        unknown = [key for key in params if key not in parameters]
        if unknown:
            raise ProblemError(
                f"problem {self.name!r}: unknown parameter(s) {sorted(unknown)}; "
                f"valid: {', '.join(parameters) or '(none)'}")
        for key, value in params.items():
            if type(value) is float:  # the common case, without the generic test's calls
                nan = value != value
            else:
                nan = any(_is_nan(v) for v in (value if isinstance(value, (list, tuple)) else (value,)))
            if nan:
                raise ProblemError(f"problem {self.name!r}: parameter {key!r} is NaN")
        self.params: Dict[str, Any] = {**parameters, **params}

    # -- required -------------------------------------------------------------------------------
    def H(self, p: np.ndarray, lam: float) -> np.ndarray:
        """Residual, shape ``(n,)``."""
        if self.has("loss"):
            return self._autograd_grad(p, lam)
        raise NotImplementedError(f"problem {self.name!r} must define H(p, lam) (or loss(p, lam))")

    # -- optional derivatives (autograd when not overridden) ------------------------------------
    def dH_dp(self, p: np.ndarray, lam: float) -> np.ndarray:
        """Jacobian ``∂H/∂p``, shape ``(n, n)``."""
        import autograd
        if np.iscomplexobj(p) and self.holomorphic:
            re = autograd.jacobian(lambda xr: _np_real(self._H_array(xr + 1j * p.imag, lam)))(p.real.copy())
            im = autograd.jacobian(lambda xr: _np_imag(self._H_array(xr + 1j * p.imag, lam)))(p.real.copy())
            return re + 1j * im
        return autograd.jacobian(lambda q: self._H_array(q, lam))(p)

    def dH_dlam(self, p: np.ndarray, lam: float) -> np.ndarray:
        """Derivative ``∂H/∂λ``, shape ``(n,)``."""
        import autograd
        if np.iscomplexobj(p):
            re = autograd.jacobian(lambda t: _np_real(self._H_array(p, t)))(float(lam))
            im = autograd.jacobian(lambda t: _np_imag(self._H_array(p, t)))(float(lam))
            return re + 1j * im
        return np.asarray(autograd.jacobian(lambda t: self._H_array(p, t))(float(lam)))

    def jvp(self, p: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        """``∂H/∂p · v`` without forming the Jacobian (for large ``n``)."""
        if self.has("dH_dp"):
            return self.dH_dp(p, lam) @ v
        from autograd import make_jvp
        return make_jvp(lambda q: self._H_array(q, lam))(p)(v)[1]

    # -- optional batched evaluation (an ODE right-hand side at many points: periodic orbits) ----
    def H_batch(self, P: np.ndarray, lam: float) -> np.ndarray:
        """``H`` at every row of ``P`` (shape ``(m, n)``), shape ``(m, n)``.

        Periodic-orbit continuation evaluates the right-hand side at all ``ntst·ncol``
        collocation points at once. This default calls ``H`` row by row; override it with a
        vectorised version (and ``dH_dp_batch``, ``dH_dlam_batch``) to make a cycle step cheap.
        """
        return np.array([self._H_array(x, lam) for x in P])

    def dH_dp_batch(self, P: np.ndarray, lam: float) -> np.ndarray:
        """``dH_dp`` at every row of ``P`` (shape ``(m, n)``), shape ``(m, n, n)``; default row by row."""
        return np.array([self.dH_dp(x, lam) for x in P])

    def dH_dlam_batch(self, P: np.ndarray, lam: float) -> np.ndarray:
        """``dH_dlam`` at every row of ``P`` (shape ``(m, n)``), shape ``(m, n)``; default row by row."""
        return np.array([self.dH_dlam(x, lam) for x in P])

    def _H_array(self, p, lam):
        """``H`` as an array autograd can differentiate (a list or tuple of entries is stacked)."""
        h = self.H(p, lam)
        if isinstance(h, (list, tuple)):
            import autograd.numpy as anp
            return anp.array(h)
        return h

    def loss(self, p: np.ndarray, lam: float) -> float:
        """Objective of a gradient homotopy (``H = ∇_p loss``)."""
        raise NotImplementedError(f"problem {self.name!r} defines no loss(p, lam)")

    def loss_and_grad(self, p: np.ndarray, lam: float):
        """``(loss, ∇_p loss)`` in one pass; override when a fused kernel exists."""
        return self.loss(p, lam), self.H(p, lam)

    def _autograd_grad(self, p, lam):
        import autograd
        return autograd.grad(lambda q: self.loss(q, lam))(p)

    # -- optional problem knowledge -------------------------------------------------------------
    def start(self):
        """Start point(s): a :class:`StartPoint` or a list of them."""
        raise NotImplementedError(f"problem {self.name!r} defines no start(); pass p0 and lam0 to track()")

    def metrics(self, p: np.ndarray, lam: float) -> Dict[str, float]:
        """Extra per-step scalars (stored as columns), e.g. loss or accuracy."""
        return {}

    def accept(self, p: np.ndarray, lam: float) -> bool:
        """Problem-defined acceptance test; a step is accepted only when it passes."""
        return True

    def gnvp(self, p: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        """The Gauss–Newton part of ``∇²_p loss`` times ``v`` (``JᵀJ v`` for ``loss = ½‖r‖²``).

        Optional; it enables ``corrector='lm'``.
        """
        raise NotImplementedError(f"problem {self.name!r} defines no gnvp(p, lam, v)")

    def n_violations(self, p: np.ndarray, lam: float) -> int:
        """How many constraints of the acceptance test fail at ``(p, lam)`` (0: it passes).

        Optional; minimisation correctors extrapolate it to give up early
        (``TrackerOptions.min_exit_ratio``).
        """
        raise NotImplementedError(f"problem {self.name!r} defines no n_violations(p, lam)")

    def violations(self, p: np.ndarray, lam: float):
        """The failing constraints ``c_i(p) > 0`` of the acceptance test, linearised.

        Returns ``(gap, J)``: ``gap[i] > 0`` how much ``c_i`` must rise to pass with a
        margin, ``J`` (k × n) the gradients ``∇_p c_i``. Optional; it enables the final
        active-set stage of the minimisation correctors (``TrackerOptions.min_active_set``).
        """
        raise NotImplementedError(f"problem {self.name!r} defines no violations(p, lam)")

    def report(self, p: np.ndarray, lam: float) -> Dict[str, float]:
        """Final checks for the run summary (e.g. an independently recomputed accuracy)."""
        return {}

    def events(self) -> list:
        """User-defined test functions (see :mod:`pathtrack.events`)."""
        return []

    # -- introspection ---------------------------------------------------------------------------
    def has(self, method: str) -> bool:
        """Whether the subclass overrides ``method`` (an analytic derivative, say)."""
        mine = getattr(type(self), method, None)
        base = getattr(Problem, method, None)
        return mine is not None and mine is not base

    def describe(self) -> Dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": dict(self.params)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def _is_nan(v) -> bool:
    return isinstance(v, (float, np.floating)) and v != v  # NaN only: np.isnan costs more than a plugin's H


def _np_real(z):
    import autograd.numpy as anp
    return anp.real(z)


def _np_imag(z):
    import autograd.numpy as anp
    return anp.imag(z)


class FunctionProblem(Problem):
    """Wrap plain callables as a problem (quick use without subclassing).

    Parameters
    ----------
    H : callable ``H(p, lam) -> (n,)``
    p0, lam0 : start point
    dH_dp, dH_dlam, loss : callables, optional
    """

    def __init__(self, H: Callable, p0, lam0: float, *, lam_end: float = 1.0, name: str = "function",
                 dH_dp: Optional[Callable] = None, dH_dlam: Optional[Callable] = None,
                 dtype: Any = None, metrics: Optional[Callable] = None, accept: Optional[Callable] = None):
        super().__init__()
        self.name = name
        self._H = H
        self._p0 = np.asarray(p0)
        self.dtype = dtype or (np.complex128 if np.iscomplexobj(self._p0) else np.float64)
        self.lam_start = float(lam0)
        self.lam_end = float(lam_end)
        self._dH_dp, self._dH_dlam = dH_dp, dH_dlam
        self._metrics, self._accept = metrics, accept

    def H(self, p, lam):
        return self._H(p, lam)

    def dH_dp(self, p, lam):
        return self._dH_dp(p, lam) if self._dH_dp else super().dH_dp(p, lam)

    def dH_dlam(self, p, lam):
        return self._dH_dlam(p, lam) if self._dH_dlam else super().dH_dlam(p, lam)

    def has(self, method: str) -> bool:
        if method == "dH_dp":
            return self._dH_dp is not None
        if method == "dH_dlam":
            return self._dH_dlam is not None
        return super().has(method)

    def start(self):
        return StartPoint(self._p0.astype(self.dtype), self.lam_start)

    def metrics(self, p, lam):
        return self._metrics(p, lam) if self._metrics else {}

    def accept(self, p, lam):
        return self._accept(p, lam) if self._accept else True


def _name(problem: Problem) -> str:
    return getattr(problem, "name", type(problem).__name__)


def normalize_starts(problem: Problem, starts=None) -> List[StartPoint]:
    """Return the start points as a list of :class:`StartPoint` with the problem's dtype."""
    if starts is None:
        starts = problem.start()
    if isinstance(starts, StartPoint) or (isinstance(starts, tuple) and len(starts) == 2
                                          and np.ndim(starts[1]) == 0):
        starts = [starts]
    out = []
    for s in starts:
        p, lam = s
        p = np.array(p, dtype=np.result_type(problem.dtype, np.asarray(p).dtype))
        if p.ndim != 1:
            raise ProblemError(f"problem {_name(problem)!r}: start p must be 1-D, got shape {p.shape}")
        out.append(StartPoint(p, float(lam)))
    return out


def check_problem(problem: Problem, start: StartPoint, *, check_derivatives: bool = True) -> None:
    """Validate shapes and dtypes of a plugin at its start point.

    Raises
    ------
    ProblemError
        Naming the plugin and what is wrong. Non-finite *values* are not raised
        here: the tracker reports them as ``invalid_start``.
    """
    name = _name(problem)
    p, lam = start
    n = p.shape[0]
    if n == 0:
        raise ProblemError(f"problem {name!r}: start p is empty")
    is_complex = np.issubdtype(np.dtype(problem.dtype), np.complexfloating)
    if np.iscomplexobj(p) and not is_complex:
        raise ProblemError(f"problem {name!r}: start p is complex but the problem's dtype is {problem.dtype}")
    try:
        h = np.asarray(problem.H(p, lam))
    except Exception as exc:  # the plugin's own bug: say whose
        raise ProblemError(f"problem {name!r}: H(p, lam) raised {type(exc).__name__}: {exc}") from exc
    if h.shape != (n,):
        raise ProblemError(f"problem {name!r}: H must return shape ({n},) for p of shape ({n},), got {h.shape}")
    if np.iscomplexobj(h) and not is_complex:
        raise ProblemError(f"problem {name!r}: H returned complex values but dtype is {problem.dtype}")
    if not check_derivatives:
        return
    # a small plain problem differentiated by autograd: the tracker will form dH_dp densely
    if (n <= 200 and isinstance(problem, Problem) and not problem.has("dH_dp") and not problem.has("jvp")
            and not problem.is_gradient):
        _check_autograd(problem, name, p, lam)
    if problem.has("dH_dp") and getattr(problem, "sparse_jacobian", False):
        if is_complex:
            raise ProblemError(f"problem {name!r}: sparse_jacobian is for real problems only")
        J = problem.dH_dp(p, lam)
        if not hasattr(J, "tocsc") or J.shape != (n, n):
            raise ProblemError(f"problem {name!r}: sparse_jacobian is set, so dH_dp must return a scipy.sparse "
                               f"matrix of shape ({n}, {n}), got {type(J).__name__} {getattr(J, 'shape', '')}")
    elif n <= 2000 and problem.has("dH_dp"):
        J = np.asarray(problem.dH_dp(p, lam))
        if J.shape != (n, n):
            raise ProblemError(f"problem {name!r}: dH_dp must return shape ({n}, {n}), got {J.shape}")
    if problem.has("dH_dlam"):
        d = np.asarray(problem.dH_dlam(p, lam))
        if d.shape != (n,):
            raise ProblemError(f"problem {name!r}: dH_dlam must return shape ({n},), got {d.shape}")
    if problem.has("jvp"):
        v = np.asarray(problem.jvp(p, lam, np.ones_like(p)))
        if v.shape != (n,):
            raise ProblemError(f"problem {name!r}: jvp must return shape ({n},), got {v.shape}")


def _check_autograd(problem: Problem, name: str, p: np.ndarray, lam: float) -> None:
    """Differentiate H once at the start, so that an H autograd cannot trace fails here, in one line."""
    for what, fn in (("dH_dp", problem.dH_dp), ("dH_dlam", problem.dH_dlam)):
        if what == "dH_dlam" and problem.has("dH_dlam"):
            continue
        try:
            fn(p, lam)
        except Exception as exc:
            raise ProblemError(f"problem {name!r}: autograd could not compute {what} "
                               f"({type(exc).__name__}: {exc}); write H with autograd.numpy "
                               "returning an array, or define dH_dp and dH_dlam") from exc


_SMALL = 32  # RealSystem._finite: up to this many values, a Python loop


class RealSystem:
    """The engine's real view of a problem: ``F(y) = 0`` with ``y = (x, lam)``.

    For complex problems ``x = [Re p, Im p]`` and ``F = [Re H, Im H]``. All evaluations
    are counted and checked for finiteness.
    """

    def __init__(self, problem: Problem, n: int):
        self.problem = problem
        self.n = n
        self.is_complex = np.issubdtype(np.dtype(problem.dtype), np.complexfloating)
        self.m = 2 * n if self.is_complex else n
        #: ``dH_dp`` is a scipy.sparse matrix: Jacobians stay sparse (:mod:`pathtrack.sparse`).
        self.is_sparse = bool(getattr(problem, "sparse_jacobian", False)) and not self.is_complex
        self.n_H_evals = 0
        self.n_jac_evals = 0
        self.n_jvp_evals = 0
        self.n_grad_evals = 0
        self.n_gnvp_evals = 0
        # spent in step attempts the controller rejected, and early exits (counted by the tracker)
        self.n_wasted_grad_evals = 0
        self.n_wasted_jvp_evals = 0
        self.n_early_exits = 0
        self._jac_cache = None
        # a problem that has [dH_dp, dH_dlam] whole (the curve systems of pathtrack.twoparam, which
        # compute it as one array) gives it without the split into two copies and the reassembly
        self._augmented = None if self.is_complex or self.is_sparse else getattr(problem, "augmented_jacobian", None)

    # -- conversions ---------------------------------------------------------------------------
    def to_y(self, p: np.ndarray, lam: float) -> np.ndarray:
        if self.is_complex:
            return np.concatenate([p.real, p.imag, [lam]]).astype(np.float64)
        return np.append(np.asarray(p, dtype=np.float64), lam)

    def p_of(self, y: np.ndarray) -> np.ndarray:
        if self.is_complex:
            return y[:self.n] + 1j * y[self.n:2 * self.n]
        return y[:-1]

    def _real(self, v: np.ndarray) -> np.ndarray:
        if self.is_complex:
            v = np.asarray(v, dtype=np.complex128)
            return np.concatenate([v.real, v.imag])
        return np.asarray(v, dtype=np.float64)

    @staticmethod
    def _finite(a: np.ndarray, what: str) -> np.ndarray:
        # a few floats are checked in Python: np.isfinite(a).all() costs several times more on them
        if a.size <= _SMALL and a.dtype == np.float64:
            finite = all(map(math.isfinite, a.ravel().tolist()))
        else:
            finite = np.isfinite(a).all()
        if not finite:
            raise NonFiniteError(f"{what} is not finite")
        return a

    # -- evaluations ---------------------------------------------------------------------------
    def F(self, y: np.ndarray) -> np.ndarray:
        self.n_H_evals += 1
        return self._finite(self._real(self.problem.H(self.p_of(y), float(y[-1]))), "H")

    def dF_dx(self, y: np.ndarray) -> np.ndarray:
        """Real ``m × m`` Jacobian with respect to ``x``."""
        self.n_jac_evals += 1
        if self.is_sparse:
            J = self.problem.dH_dp(self.p_of(y), float(y[-1])).tocsc()
            self._finite(J.data, "dH_dp")
            return J
        J = np.asarray(self.problem.dH_dp(self.p_of(y), float(y[-1])))
        if self.is_complex:
            B, C = J.real, J.imag
            J = np.block([[B, -C], [C, B]])
        return self._finite(np.asarray(J, dtype=np.float64), "dH_dp")

    def dF_dlam(self, y: np.ndarray) -> np.ndarray:
        return self._finite(self._real(self.problem.dH_dlam(self.p_of(y), float(y[-1]))), "dH_dlam")

    def jacobian(self, y: np.ndarray) -> np.ndarray:
        """Augmented real Jacobian ``[dF_dx, dF_dlam]``, shape ``(m, m+1)``.

        The last one is cached: the tangent, the diagnostics and the event tests all
        want it at the same accepted point. Callers must not modify it.
        """
        cached = self._jac_cache
        if cached is not None and cached[0].shape == y.shape:
            # short points compared as lists (the same == of every entry, without two NumPy calls)
            if cached[0].tolist() == y.tolist() if y.size <= _SMALL else (cached[0] == y).all():
                return cached[1]
        if self.is_sparse:
            from .sparse import augmented
            J = augmented(self.dF_dx(y), self.dF_dlam(y))
        elif self._augmented is not None:
            self.n_jac_evals += 1
            J = self._finite(np.asarray(self._augmented(y[:-1], float(y[-1])), dtype=np.float64), "dH_dp")
        else:
            Jx = self.dF_dx(y)
            J = np.empty((Jx.shape[0], Jx.shape[1] + 1))  # np.column_stack, without its checks
            J[:, :-1] = Jx
            J[:, -1] = np.reshape(self.dF_dlam(y), -1)
        self._jac_cache = (y.copy(), J)
        return J

    def jvp(self, y: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Augmented Jacobian times ``v`` (length m+1), matrix-free."""
        self.n_jvp_evals += 1
        p, lam = self.p_of(y), float(y[-1])
        vx = v[:-1]
        if self.is_complex:
            vx = vx[:self.n] + 1j * vx[self.n:]
        out = self._real(self.problem.jvp(p, lam, vx))
        if v[-1] != 0.0:
            out = out + v[-1] * self.dF_dlam(y)
        return self._finite(out, "jvp")

    def loss_and_grad(self, x: np.ndarray, lam: float):
        self.n_grad_evals += 1
        f, g = self.problem.loss_and_grad(self.p_of(np.append(x, lam)), lam)
        return float(f), self._real(g)

    def hvp(self, x: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        """Hessian-vector product of a gradient homotopy's loss at fixed λ (counted as a jvp)."""
        return self.jvp(np.append(x, lam), np.append(v, 0.0))

    def gnvp(self, x: np.ndarray, lam: float, v: np.ndarray) -> np.ndarray:
        """The problem's Gauss–Newton-vector product at fixed λ."""
        self.n_gnvp_evals += 1
        return self._finite(np.asarray(self.problem.gnvp(x, lam, v), dtype=np.float64), "gnvp")

    def add_counts(self, counts: Dict[str, int]) -> None:
        """Continue counting from ``counts`` (a :meth:`counters` dict of earlier sessions)."""
        for name, value in counts.items():
            if name in self.counters():
                setattr(self, name, getattr(self, name) + int(value))

    def counters(self) -> Dict[str, int]:
        return {"n_H_evals": self.n_H_evals, "n_jac_evals": self.n_jac_evals,
                "n_jvp_evals": self.n_jvp_evals, "n_grad_evals": self.n_grad_evals, "n_gnvp_evals": self.n_gnvp_evals,
                "n_wasted_grad_evals": self.n_wasted_grad_evals, "n_wasted_jvp_evals": self.n_wasted_jvp_evals,
                "n_early_exits": self.n_early_exits}


def problem_parameters(problem_cls) -> Dict[str, Any]:
    """The ``{name: default}`` parameters of a problem class or factory."""
    params = getattr(problem_cls, "parameters", None)
    if isinstance(params, dict):
        return dict(params)
    sig = inspect.signature(problem_cls)
    return {k: v.default for k, v in sig.parameters.items() if v.default is not inspect.Parameter.empty}

