"""Correctors: bring a predicted point back onto the path.

Every corrector solves the same bordered problem

    F(y) = 0,    b · y = c,

where ``b = tangent`` (pseudo-arclength: the hyperplane through the prediction
orthogonal to the tangent) or ``b = e_lam`` (natural parameterisation: λ fixed). It
returns a :class:`CorrectorResult`; accepting or rejecting the step is the
controller's job, not the corrector's.

- :class:`NewtonCorrector`: dense Newton with the contraction test of
  :func:`pathtrack.kernels.steprules.newton_verdict`.
- :class:`NewtonKrylovCorrector`: the same iteration, linear solves by GMRES on
  Jacobian-vector products.
- :class:`MinimizationCorrector`: for gradient homotopies ``H = ∇_p L``, minimises
  ``L(·, lam)`` at fixed λ (L-BFGS or momentum gradient descent), optionally stopping
  as soon as the problem's acceptance test passes.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np

from .kernels.steprules import CONTINUE, newton_verdict
from .linalg import SingularJacobianError, bordered_gmres, bordered_solve
from .optim import Adam, Momentum
from .options import TrackerOptions
from .problem import NonFiniteError, RealSystem
from .status import CorrectorCode

__all__ = ["CorrectorResult", "Corrector", "NewtonCorrector", "NewtonKrylovCorrector", "MinimizationCorrector",
           "make_corrector"]


class CorrectorResult(NamedTuple):
    """What a corrector reports.

    Attributes
    ----------
    code : CorrectorCode
    y : ndarray
        The corrected point (the last iterate when not converged).
    n_iters : int
        Newton (or minimiser) iterations.
    residual : float
        ‖F(y)‖₂ (Newton) or ‖∇L‖∞ (minimisers) at ``y``.
    contraction : float
        Largest observed ‖Δy_k‖/‖Δy_{k-1}‖ (NaN when fewer than two iterations).
    """

    code: CorrectorCode
    y: np.ndarray
    n_iters: int
    residual: float
    contraction: float


class Corrector:
    """Base class. ``correct(system, y_pred, b, c)`` returns a :class:`CorrectorResult`.

    Class attributes declare what the corrector can do; the tracker reads only these,
    never the class.
    """

    #: Whether the corrector can move λ (pseudo-arclength); minimisers cannot.
    supports_arclength = True
    #: Whether ``correct`` solves the bordered system for any border ``b`` (and takes
    #: ``max_iters``), so the tracker also uses it to land on ``lam_end``, refine the start
    #: and correct event trial points; otherwise the tracker uses a dense Newton for those.
    solves_bordered = True
    #: Whether it minimises a loss at fixed λ: the tracker refines the start with it and sets
    #: its ``accept`` hook to the problem's acceptance test.
    minimises = False
    #: Whether ``CorrectorResult.contraction`` and ``n_iters`` are Newton's (counted against
    #: ``max_newton_iters``), so the step controller may scale the step by them.
    reports_contraction = False

    def __init__(self, options: TrackerOptions):
        self.options = options

    def correct(self, system: RealSystem, y_pred: np.ndarray, b: np.ndarray, c: float) -> CorrectorResult:
        raise NotImplementedError

    def _newton_loop(self, system: RealSystem, y_pred: np.ndarray, b: np.ndarray, c: float,
                     solve: Callable[[np.ndarray, np.ndarray], np.ndarray], max_iters: Optional[int] = None):
        """Newton iteration shared by the dense and Krylov correctors; ``solve(y, rhs)`` solves A z = rhs."""
        o = self.options
        max_iters = max_iters or o.max_newton_iters
        y = y_pred.copy()
        norm_prev = np.inf
        theta = np.nan
        try:
            for k in range(max_iters):
                f = system.F(y)
                rhs = np.append(-f, c - b @ y)
                try:
                    dy = solve(y, rhs)
                except SingularJacobianError:
                    return CorrectorResult(CorrectorCode.singular, y, k, float(np.linalg.norm(f)), theta)
                y = y + dy
                norm_dx = float(np.linalg.norm(dy))
                if k > 0:
                    theta = max(0.0 if np.isnan(theta) else theta, norm_dx / norm_prev)
                verdict = newton_verdict(k, norm_dx, norm_prev, float(np.linalg.norm(y)), o.newton_tol,
                                         o.max_contraction, max_iters)
                norm_prev = norm_dx
                if verdict != CONTINUE:
                    residual = float(np.linalg.norm(system.F(y))) if verdict == 0 else float(np.linalg.norm(f))
                    return CorrectorResult(CorrectorCode(verdict), y, k + 1, residual, theta)
        except NonFiniteError:
            return CorrectorResult(CorrectorCode.nonfinite, y, max_iters, np.inf, theta)
        return CorrectorResult(CorrectorCode.max_iters, y, max_iters, np.nan, theta)  # pragma: no cover


class NewtonCorrector(Corrector):
    """Dense Newton on the bordered system with HC.jl's contraction test."""

    reports_contraction = True

    def correct(self, system, y_pred, b, c, max_iters=None):
        max_cond = self.options.max_cond

        def solve(y, rhs):
            return bordered_solve(system.jacobian(y), b, rhs[:-1], rhs[-1], max_cond)

        return self._newton_loop(system, y_pred, b, c, solve, max_iters)


class NewtonKrylovCorrector(Corrector):
    """Matrix-free Newton: GMRES on Jacobian-vector products (``Problem.jvp``)."""

    reports_contraction = True

    def correct(self, system, y_pred, b, c, max_iters=None):
        o = self.options

        def solve(y, rhs):
            return bordered_gmres(lambda v: system.jvp(y, v), b, rhs[:-1], rhs[-1], o.krylov_tol, o.krylov_maxiter)

        return self._newton_loop(system, y_pred, b, c, solve, max_iters)


class MinimizationCorrector(Corrector):
    """Minimise the loss at fixed λ (gradient homotopies ``H = ∇_p L``).

    Parameters
    ----------
    method : {'lbfgs', 'gd', 'adam'}
    accept : callable ``accept(x) -> bool`` or None
        With ``stop_on_accept``, the minimiser stops as soon as it returns True.
    """

    supports_arclength = False
    solves_bordered = False
    minimises = True

    def __init__(self, options: TrackerOptions, method: str = "lbfgs"):
        super().__init__(options)
        self.method = method
        self.accept: Optional[Callable[[np.ndarray, float], bool]] = None

    def correct(self, system, y_pred, b, c, max_iters=None):
        lam = float(c) if b[-1] != 0 else float(y_pred[-1])
        x0 = y_pred[:-1].copy()
        if self._accepts(x0, lam):  # the prediction already passes: nothing to correct
            return CorrectorResult(CorrectorCode.converged, np.append(x0, lam), 0, np.nan, np.nan)
        try:
            if self.method == "gd":
                x, n_it, gnorm, code = self._gd(system, x0, lam, max_iters)
            elif self.method == "adam":
                x, n_it, gnorm, code = self._adam(system, x0, lam, max_iters)
            else:
                x, n_it, gnorm, code = self._lbfgs(system, x0, lam, max_iters)
        except NonFiniteError:
            return CorrectorResult(CorrectorCode.nonfinite, y_pred, 0, np.inf, np.nan)
        return CorrectorResult(code, np.append(x, lam), n_it, gnorm, np.nan)

    def _accepts(self, x, lam) -> bool:
        return bool(self.options.stop_on_accept and self.accept is not None and self.accept(x, lam))

    def _lbfgs(self, system, x0, lam, max_iters):
        from scipy.optimize import minimize

        o = self.options
        last = {}

        def fun(x):
            f, g = system.loss_and_grad(x, lam)
            last["g"] = g
            return f, g

        def callback(intermediate_result):
            if self._accepts(intermediate_result.x, lam):
                raise StopIteration  # scipy ends the run and reports this iterate

        res = minimize(fun, x0, jac=True, method="L-BFGS-B", callback=callback,
                       options={"maxiter": max_iters or o.min_maxiter, "gtol": o.min_gtol, "ftol": 0.0})
        gnorm = float(np.max(np.abs(last["g"]))) if "g" in last else np.inf
        done = gnorm <= o.min_gtol or self._accepts(res.x, lam)
        code = CorrectorCode.converged if done else CorrectorCode.max_iters
        return res.x, int(res.nit), gnorm, code

    def _gd(self, system, x, lam, max_iters):
        opt = Momentum(x, self.options.gd_lr, self.options.gd_momentum)
        return self._descend(system, x, lam, max_iters, opt.update)

    def _adam(self, system, x, lam, max_iters):
        opt = Adam(x, self.options.gd_lr)
        return self._descend(system, x, lam, max_iters, opt.update)

    def _descend(self, system, x, lam, max_iters, step):
        """First-order loop shared by 'gd' and 'adam': ``x += step(g)`` until converged or accepted."""
        o = self.options
        gnorm = np.inf
        n = max_iters or o.min_maxiter
        for k in range(n):
            _, g = system.loss_and_grad(x, lam)
            gnorm = float(np.max(np.abs(g)))
            if gnorm <= o.min_gtol or self._accepts(x, lam):
                return x, k, gnorm, CorrectorCode.converged
            x = x + step(g)
        if self._accepts(x, lam):
            return x, n, gnorm, CorrectorCode.converged
        return x, n, gnorm, CorrectorCode.max_iters


def make_corrector(options: TrackerOptions, system: RealSystem) -> Corrector:
    """Instantiate the corrector named by ``options.corrector`` (resolving ``'auto'``)."""
    name = options.corrector
    if name == "auto":
        if system.m <= options.dense_max_n or system.is_sparse:  # a sparse LU factors any size
            name = "newton"
        elif system.problem.is_gradient:
            name = "lbfgs"
        else:
            name = "newton-krylov"
    if name == "newton":
        return NewtonCorrector(options)
    if name == "newton-krylov":
        return NewtonKrylovCorrector(options)
    return MinimizationCorrector(options, method=name)
