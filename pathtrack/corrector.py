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
  ``L(·, lam)`` at fixed λ (L-BFGS, momentum gradient descent, Adam, trust-region
  Newton–CG or Levenberg–Marquardt), optionally stopping as soon as the problem's
  acceptance test passes, giving up early when it cannot pass within its budget.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import numpy as np

from .kernels.steprules import CONTINUE, newton_verdict
from .linalg import SingularJacobianError, _bordered_lu, bordered_gmres, bordered_solve, lu_solve, norm2
from .optim import Adam, Momentum
from .options import OptionsError, TrackerOptions
from .problem import NonFiniteError, RealSystem
from .status import CorrectorCode

__all__ = ["CorrectorResult", "Corrector", "NewtonCorrector", "NewtonKrylovCorrector", "MinimizationCorrector",
           "make_corrector", "steihaug_cg",
           "lbfgs_direction", "wolfe_search"]


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
    predicted_iters : float
        A minimiser that gave up early: the iterations it extrapolated it would need in
        all to pass the acceptance test (``inf``: no progress). NaN otherwise.
    """

    code: CorrectorCode
    y: np.ndarray
    n_iters: int
    residual: float
    contraction: float
    predicted_iters: float = float("nan")


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
    #: Whether ``correct`` takes ``jacobian=``, a fixed augmented Jacobian for a chord iteration
    #: (option ``chord_newton``).
    takes_jacobian = False

    def __init__(self, options: TrackerOptions):
        self.options = options

    def correct(self, system: RealSystem, y_pred: np.ndarray, b: np.ndarray, c: float) -> CorrectorResult:
        raise NotImplementedError

    def end_step(self, accepted: bool) -> None:
        """Told by the tracker whether the last correction's step was accepted (a no-op here)."""

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
                rhs = np.empty(f.shape[0] + 1)  # np.append(-f, c - b @ y) without its checks
                rhs[:-1], rhs[-1] = -f, c - b @ y
                try:
                    dy = solve(y, rhs)
                except SingularJacobianError:
                    return CorrectorResult(CorrectorCode.singular, y, k, norm2(f), theta)
                y = y + dy
                norm_dx = norm2(dy)
                if k > 0:
                    theta = max(0.0 if math.isnan(theta) else theta, norm_dx / norm_prev)
                verdict = newton_verdict(k, norm_dx, norm_prev, norm2(y), o.newton_tol,
                                         o.max_contraction, max_iters)
                norm_prev = norm_dx
                if verdict != CONTINUE:
                    residual = norm2(system.F(y)) if verdict == 0 else norm2(f)
                    return CorrectorResult(CorrectorCode(verdict), y, k + 1, residual, theta)
        except NonFiniteError:
            return CorrectorResult(CorrectorCode.nonfinite, y, max_iters, np.inf, theta)
        return CorrectorResult(CorrectorCode.max_iters, y, max_iters, np.nan, theta)  # pragma: no cover


class NewtonCorrector(Corrector):
    """Dense Newton on the bordered system with HC.jl's contraction test."""

    reports_contraction = True
    takes_jacobian = True

    def correct(self, system, y_pred, b, c, max_iters=None, jacobian=None):
        """Newton from ``y_pred``; with ``jacobian`` (option ``chord_newton``) a chord iteration on
        that fixed augmented Jacobian first, full Newton only where the chord does not converge."""
        max_cond = self.options.max_cond
        if jacobian is not None:
            chord = self._chord(system, y_pred, b, c, jacobian, max_iters)
            if chord.code in (CorrectorCode.converged, CorrectorCode.nonfinite):
                return chord

        def solve(y, rhs):
            return bordered_solve(system.jacobian(y), b, rhs[:-1], rhs[-1], max_cond)

        res = self._newton_loop(system, y_pred, b, c, solve, max_iters)
        return res if jacobian is None else res._replace(n_iters=res.n_iters + chord.n_iters)

    def _chord(self, system, y_pred, b, c, jacobian, max_iters):
        """The chord iteration: one LU of ``[jacobian; bᵀ]`` for every iterate."""
        try:
            lu = _bordered_lu(jacobian, b, self.options.max_cond)
        except SingularJacobianError:
            return CorrectorResult(CorrectorCode.singular, y_pred, 0, np.nan, np.nan)
        return self._newton_loop(system, y_pred, b, c, lambda y, rhs: lu_solve(lu, rhs), max_iters)


class NewtonKrylovCorrector(Corrector):
    """Matrix-free Newton: GMRES on Jacobian-vector products (``Problem.jvp``)."""

    reports_contraction = True

    def correct(self, system, y_pred, b, c, max_iters=None):
        o = self.options

        def solve(y, rhs):
            return bordered_gmres(lambda v: system.jvp(y, v), b, rhs[:-1], rhs[-1], o.krylov_tol, o.krylov_maxiter)

        return self._newton_loop(system, y_pred, b, c, solve, max_iters)


_ACCEPT, _GIVE_UP, _JUMP = "accept", "give_up", "jump"


class _Progress:
    """Early-exit bookkeeping of a minimiser: the violation count every ``every`` iterations.

    Gives up when the count's decrease over the last two checks (a fifth of the budget),
    extrapolated linearly, would need more than ``ratio·budget`` iterations in all.
    Progress on hard instances slows down, so the linear extrapolation is optimistic and
    an early exit only drops runs that the budget could not have finished either.
    """

    def __init__(self, budget: int, ratio: float):
        self.budget, self.ratio = budget, ratio
        self.every = max(2, budget // 10)
        self.history: list = []
        self.predicted = float("nan")

    def gives_up(self, k: int, count: int) -> bool:
        self.history.append((k, count))
        if len(self.history) < 3:
            return False
        k0, c0 = self.history[-3]
        rate = (c0 - count) / (k - k0)
        predicted = k + count / rate if rate > 0 else np.inf
        if predicted > self.ratio * self.budget:
            self.predicted = float(predicted)
            return True
        return False


class MinimizationCorrector(Corrector):
    """Minimise the loss at fixed λ (gradient homotopies ``H = ∇_p L``).

    Methods: ``'lbfgs'`` (scipy's L-BFGS-B), ``'gd'`` (momentum), ``'adam'``,
    ``'newton-cg'`` (trust-region Newton–CG with Steihaug's truncated CG on
    Hessian-vector products) and ``'lm'`` (Levenberg–Marquardt: CG on
    ``(G + μI) s = −∇L`` with ``G`` the problem's Gauss–Newton-vector product, μ
    updated by Nielsen's rule from the ratio of actual to predicted decrease).
    An iteration of the last two costs one gradient plus its CG products.

    Two hooks, set by the tracker when the problem defines them, work for every method:

    - ``count(x, lam) -> int`` (``Problem.n_violations``): every tenth of the budget
      the corrector extrapolates the count and gives up early when it cannot reach 0
      within ``min_exit_ratio`` budgets (:class:`_Progress`); the result reports
      ``predicted_iters``.
    - ``violations(x, lam) -> (gap, J)`` (``Problem.violations``): with at most
      ``min_active_set`` violations left, the least-norm step ``s`` with ``J s = gap``
      (the linearised violated constraints met with their margin) is taken when it
      lowers the count; L-BFGS restarts from there with the rest of its budget.

    Parameters
    ----------
    method : {'lbfgs', 'gd', 'adam', 'newton-cg', 'lm'}
    accept : callable ``accept(x, lam) -> bool`` or None
        With ``stop_on_accept``, the minimiser stops as soon as it returns True.
    """

    supports_arclength = False
    solves_bordered = False
    minimises = True

    def __init__(self, options: TrackerOptions, method: str = "lbfgs"):
        super().__init__(options)
        self.method = method
        self.accept: Optional[Callable[[np.ndarray, float], bool]] = None
        self.count: Optional[Callable[[np.ndarray, float], int]] = None
        self.violations: Optional[Callable[[np.ndarray, float], tuple]] = None
        self._progress: Optional[_Progress] = None
        self._radius = np.nan  # Newton–CG's trust radius, carried from one correction to the next
        self.n_active_set_steps = 0
        # L-BFGS curvature pairs (s, y) carried between corrections (``min_carry_memory``):
        # those of the accepted steps, and those the last correction ended with
        self._pairs: list = []
        self._last_pairs: list = []

    def end_step(self, accepted: bool) -> None:
        """Keep the last correction's L-BFGS pairs for the next one if its step was accepted
        (or always, with ``min_carry_memory='all'``)."""
        if accepted or self.options.min_carry_memory == "all":
            self._pairs = self._last_pairs

    def correct(self, system, y_pred, b, c, max_iters=None):
        lam = float(c) if b[-1] != 0 else float(y_pred[-1])
        x0 = y_pred[:-1].copy()
        if self._accepts(x0, lam):  # the prediction already passes: nothing to correct
            return CorrectorResult(CorrectorCode.converged, np.append(x0, lam), 0, np.nan, np.nan)
        budget = max_iters or self.options.min_maxiter
        watch = self.count is not None and (np.isfinite(self.options.min_exit_ratio) or self.options.min_active_set)
        self._progress = _Progress(budget, self.options.min_exit_ratio) if watch else None
        lbfgs = self._lbfgs if self.options.min_carry_memory == "off" else self._lbfgs_carried
        run = {"gd": self._gd, "adam": self._adam, "newton-cg": self._newton_cg, "lm": self._lm}.get(self.method,
                                                                                                      lbfgs)
        try:
            x, n_it, gnorm, code = run(system, x0, lam, budget)
        except NonFiniteError:
            return CorrectorResult(CorrectorCode.nonfinite, y_pred, 0, np.inf, np.nan)
        predicted = np.nan
        if code != CorrectorCode.converged and self._progress is not None:
            predicted = self._progress.predicted
        return CorrectorResult(code, np.append(x, lam), n_it, gnorm, np.nan, predicted)

    def _accepts(self, x, lam) -> bool:
        return bool(self.options.stop_on_accept and self.accept is not None and self.accept(x, lam))

    def _check(self, k: int, x: np.ndarray, lam: float):
        """Between iterations: ``(_ACCEPT, x)``, ``(_GIVE_UP, x)``, ``(_JUMP, x_new)`` or None to go on."""
        if self._accepts(x, lam):
            return _ACCEPT, x
        prog = self._progress
        if prog is None or k % prog.every:
            return None
        count = int(self.count(x, lam))
        if 0 < count <= self.options.min_active_set and self.violations is not None:
            x_new = self._active_set_step(x, lam, count)
            if x_new is not None:
                return (_ACCEPT, x_new) if self._accepts(x_new, lam) else (_JUMP, x_new)
        if prog.gives_up(k, count):
            return _GIVE_UP, x
        return None

    def _active_set_step(self, x, lam, count):
        """The least-norm step meeting the linearised violated constraints, if it lowers their count."""
        gap, J = self.violations(x, lam)
        gap, J = np.asarray(gap, dtype=np.float64), np.atleast_2d(np.asarray(J, dtype=np.float64))
        if gap.size == 0:
            return None
        s = np.linalg.lstsq(J, gap, rcond=None)[0]
        for t in (1.0, 0.5):
            x_try = (x + t * s).astype(x.dtype, copy=False)
            if int(self.count(x_try, lam)) < count:
                self.n_active_set_steps += 1
                return x_try
        return None

    def _lbfgs(self, system, x0, lam, budget):
        from scipy.optimize import minimize

        o = self.options
        last = {}
        x, used, n_run = x0, 0, 0
        stop = self._check(0, x, lam)  # the count at the start (the acceptance test was checked)
        if stop is not None and stop[0] == _ACCEPT:
            return stop[1], 0, np.nan, CorrectorCode.converged
        x = x if stop is None else stop[1]

        def fun(x):
            f, g = system.loss_and_grad(x, lam)
            last["g"] = g
            return f, g

        def callback(intermediate_result):
            nonlocal stop, n_run
            n_run += 1
            stop = self._check(used + n_run, intermediate_result.x, lam)
            if stop is not None:
                raise StopIteration  # scipy ends the run and reports this iterate

        while True:  # one scipy run, or more when an active-set step restarts it
            stop, n_run = None, 0
            res = minimize(fun, x, jac=True, method="L-BFGS-B", callback=callback,
                           options={"maxiter": budget - used, "gtol": o.min_gtol, "ftol": 0.0,
                                    "maxcor": o.min_memory})
            used += int(res.nit)
            x = res.x if stop is None else stop[1]
            if stop is None or stop[0] != _JUMP or used >= budget:
                break
        gnorm = float(np.max(np.abs(last["g"]))) if "g" in last else np.inf
        if stop is not None and stop[0] == _GIVE_UP:
            return x, used, gnorm, CorrectorCode.max_iters
        done = (stop is not None and stop[0] == _ACCEPT) or gnorm <= o.min_gtol or self._accepts(x, lam)
        return x, used, gnorm, CorrectorCode.converged if done else CorrectorCode.max_iters

    def _lbfgs_carried(self, system, x, lam, budget):
        """L-BFGS that starts from the pairs kept by :meth:`end_step` (``min_carry_memory``).

        Two-loop recursion with the scaling ``sᵀy/yᵀy`` of the newest pair, a line search for
        the weak Wolfe conditions with L-BFGS-B's constants (1e-3, 0.9), a first step of length
        1/‖g‖ along −g when the memory is empty, and the same checks between iterations as
        :meth:`_lbfgs` (acceptance, early exit, active-set jumps).
        """
        o = self.options
        pairs = list(self._pairs)
        x = np.asarray(x, dtype=np.float64)
        stop = self._check(0, x, lam)
        if stop is not None and stop[0] == _ACCEPT:
            self._last_pairs = pairs
            return stop[1], 0, np.nan, CorrectorCode.converged
        x = x if stop is None else np.asarray(stop[1], dtype=np.float64)

        def fg(x):
            f, g = system.loss_and_grad(x, lam)
            return float(f), np.asarray(g, dtype=np.float64)

        f, g = fg(x)
        gnorm = float(np.max(np.abs(g)))
        code = CorrectorCode.max_iters
        k = 0
        while k < budget:
            if gnorm <= o.min_gtol:
                code = CorrectorCode.converged
                break
            d = -lbfgs_direction(g, pairs)
            gd = float(g @ d)
            if not gd < 0.0:  # not a descent direction: the memory misleads, start afresh
                pairs, d, gd = [], -g, -float(g @ g)
            t0 = 1.0 if pairs else 1.0 / max(float(np.linalg.norm(d)), 1e-300)
            found = wolfe_search(fg, x, f, gd, d, t0)
            if found is None and pairs:  # retry once along −g with an empty memory
                pairs, d = [], -g
                found = wolfe_search(fg, x, f, -float(g @ g), d, 1.0 / max(float(np.linalg.norm(g)), 1e-300))
            if found is None:
                break  # no decrease along −g either (scipy's ABNORMAL_TERMINATION_IN_LNSRCH)
            t, f_new, g_new = found
            s_k, y_k = t * d, g_new - g
            if float(s_k @ y_k) > np.finfo(float).eps * float(y_k @ y_k):  # L-BFGS-B's curvature test
                pairs.append((s_k, y_k))
                del pairs[:-o.min_memory]
            x, f, g = x + s_k, f_new, g_new
            gnorm = float(np.max(np.abs(g)))
            k += 1
            stop = self._check(k, x, lam)
            if stop is not None:
                if stop[0] != _JUMP:
                    code = CorrectorCode.converged if stop[0] == _ACCEPT else CorrectorCode.max_iters
                    break
                x = np.asarray(stop[1], dtype=np.float64)
                f, g = fg(x)
                gnorm = float(np.max(np.abs(g)))
        else:
            code = CorrectorCode.converged if gnorm <= o.min_gtol or self._accepts(x, lam) else code
        self._last_pairs = pairs
        return x, k, gnorm, code

    def _gd(self, system, x, lam, budget):
        opt = Momentum(x, self.options.gd_lr, self.options.gd_momentum)
        return self._descend(system, x, lam, budget, opt.update)

    def _adam(self, system, x, lam, budget):
        opt = Adam(x, self.options.gd_lr)
        return self._descend(system, x, lam, budget, opt.update)

    def _descend(self, system, x, lam, budget, step):
        """First-order loop shared by 'gd' and 'adam': ``x += step(g)`` until converged or accepted."""
        o = self.options
        gnorm = np.inf
        for k in range(budget):
            stop = self._check(k, x, lam)
            if stop is not None and stop[0] != _JUMP:
                return self._stopped(stop, k, gnorm)
            x = x if stop is None else stop[1]
            _, g = system.loss_and_grad(x, lam)
            gnorm = float(np.max(np.abs(g)))
            if gnorm <= o.min_gtol:
                return x, k, gnorm, CorrectorCode.converged
            x = x + step(g)
        if self._accepts(x, lam):
            return x, budget, gnorm, CorrectorCode.converged
        return x, budget, gnorm, CorrectorCode.max_iters

    @staticmethod
    def _stopped(stop, k, gnorm):
        code = CorrectorCode.converged if stop[0] == _ACCEPT else CorrectorCode.max_iters
        return stop[1], k, gnorm, code

    def _newton_cg(self, system, x, lam, budget):
        """Trust-region Newton–CG: Steihaug's CG on the Hessian, radius from the decrease ratio."""
        def model(x, g):
            if not np.isfinite(self._radius):  # Cauchy step length along −g as the first radius
                gHg = float(g @ system.hvp(x, lam, g))
                gg = float(g @ g)
                self._radius = gg ** 1.5 / gHg if gHg > 0 else np.sqrt(gg)
            s, Bs, _ = steihaug_cg(lambda v: system.hvp(x, lam, v), g, self._radius, self._cg_tol(g),
                                   self.options.krylov_maxiter)
            return s, Bs

        def update(rho, s):
            if rho < 0.25:
                self._radius = 0.25 * float(np.linalg.norm(s))
            elif rho > 0.75 and np.linalg.norm(s) >= 0.99 * self._radius:
                self._radius *= 2.0

        return self._second_order(system, x, lam, budget, model, update)

    def _lm(self, system, x, lam, budget):
        """Levenberg–Marquardt: CG on ``(G + μI) s = −∇L``; μ by Nielsen's rule."""
        damping = {"mu": np.nan, "nu": 2.0}

        def model(x, g):
            if not np.isfinite(damping["mu"]):  # 1e-3 of G's scale along the gradient
                gGg = float(g @ system.gnvp(x, lam, g))
                damping["mu"] = 1e-3 * max(gGg / float(g @ g), 1e-12)
            mu = damping["mu"]
            s, As, _ = steihaug_cg(lambda v: system.gnvp(x, lam, v) + mu * v, g, np.inf, self._cg_tol(g),
                                   self.options.krylov_maxiter)
            return s, As - mu * s  # the model's curvature is G's, not G + μI's

        def update(rho, s):
            if rho > 0:
                damping["mu"] *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
                damping["nu"] = 2.0
            else:
                damping["mu"] *= damping["nu"]
                damping["nu"] *= 2.0

        return self._second_order(system, x, lam, budget, model, update)

    def _cg_tol(self, g):
        """CG stops at ``η‖g‖``, ``η = min(0.1, sqrt(‖g‖/‖g₀‖))``: superlinear near the minimiser
        (Nocedal & Wright, 7.1), measured against the correction's first gradient ``g₀`` so
        that the loss's scale does not matter."""
        gn = float(np.linalg.norm(g))
        if not self._g0 > 0:
            self._g0 = gn
        return min(0.1, np.sqrt(gn / self._g0)) * gn

    def _second_order(self, system, x, lam, budget, model, update):
        """Outer loop of 'newton-cg' and 'lm': step ``s`` of the quadratic model, kept when ρ > 1e-4."""
        o = self.options
        f, g = system.loss_and_grad(x, lam)
        gnorm = float(np.max(np.abs(g)))
        self._g0 = np.nan
        for k in range(budget):
            stop = self._check(k, x, lam)
            if stop is not None and stop[0] != _JUMP:
                return self._stopped(stop, k, gnorm)
            if stop is not None:
                x = stop[1]
                f, g = system.loss_and_grad(x, lam)
            gnorm = float(np.max(np.abs(g)))
            if gnorm <= o.min_gtol:
                return x, k, gnorm, CorrectorCode.converged
            s, Bs = model(x, g)
            predicted = -(float(g @ s) + 0.5 * float(s @ Bs))
            x_try = (x + s).astype(x.dtype, copy=False)
            f_try, g_try = system.loss_and_grad(x_try, lam)
            rho = (f - f_try) / predicted if predicted > 0 else -1.0
            update(rho, s)
            if rho > 1e-4:
                x, f, g = x_try, f_try, g_try
        if self._accepts(x, lam):
            return x, budget, gnorm, CorrectorCode.converged
        return x, budget, gnorm, CorrectorCode.max_iters


def lbfgs_direction(g: np.ndarray, pairs: list) -> np.ndarray:
    """``H g`` for the L-BFGS inverse-Hessian approximation of ``pairs`` (oldest first), by the
    two-loop recursion with ``H₀ = (sᵀy/yᵀy)·I`` from the newest pair (Nocedal & Wright, Alg. 7.4)."""
    q = np.array(g, dtype=np.float64)
    if not pairs:
        return q
    rho = [1.0 / float(s @ y) for s, y in pairs]
    alpha = np.empty(len(pairs))
    for i in range(len(pairs) - 1, -1, -1):
        s, y = pairs[i]
        alpha[i] = rho[i] * float(s @ q)
        q -= alpha[i] * y
    s, y = pairs[-1]
    q *= float(s @ y) / float(y @ y)
    for i, (s, y) in enumerate(pairs):
        beta = rho[i] * float(y @ q)
        q += (alpha[i] - beta) * s
    return q


def wolfe_search(fg: Callable[[np.ndarray], tuple], x: np.ndarray, f: float, gd: float, d: np.ndarray,
                 t: float, c1: float = 1e-3, c2: float = 0.9, max_evals: int = 20):
    """Step ``t`` along ``d`` meeting the weak Wolfe conditions, by bracketing.

    Doubles ``t`` while the slope is too steep, and inside a bracket takes the minimiser
    of the quadratic through ``f``, the slope at the bracket's low end and ``f(t)``,
    kept within its middle 80%. ``gd`` is the slope ``g·d < 0`` at ``t = 0``.

    Returns
    -------
    (t, f(x + t d), ∇f(x + t d)) or None when ``max_evals`` evaluations found no such step.
    """
    lo, f_lo, gd_lo, hi, f_hi = 0.0, f, gd, np.inf, np.inf
    for _ in range(max_evals):
        f_t, g_t = fg(x + t * d)
        gd_t = float(g_t @ d)
        if not np.isfinite(f_t) or f_t > f + c1 * t * gd:
            hi, f_hi = t, f_t
        elif gd_t < c2 * gd:
            lo, f_lo, gd_lo = t, f_t, gd_t
        else:
            return t, f_t, g_t
        if np.isfinite(hi):
            w = hi - lo
            denom = 2.0 * ((f_hi - f_lo) - gd_lo * w) if np.isfinite(f_hi) else 0.0
            quad = lo - gd_lo * w * w / denom if denom > 0 else lo + 0.5 * w
            t = min(max(quad, lo + 0.1 * w), hi - 0.1 * w)
        else:
            t *= 2.0
    return None


def steihaug_cg(matvec: Callable[[np.ndarray], np.ndarray], g: np.ndarray, radius: float, tol: float,
                maxiter: int):
    """Steihaug's truncated CG for ``min g·s + ½ sᵀBs`` subject to ``‖s‖ ≤ radius``.

    Stops at the boundary, along a direction of non-positive curvature, at a residual
    below ``tol`` or after ``maxiter`` products. ``radius = inf`` is plain CG on ``B s = −g``.

    Returns
    -------
    (s, Bs, n_products)
        The step, ``B s`` (accumulated, no extra product) and the products used.
    """
    s = np.zeros_like(g, dtype=np.float64)
    Bs = np.zeros_like(s)
    r = np.asarray(g, dtype=np.float64).copy()
    d = -r
    rr = float(r @ r)
    for j in range(maxiter):
        if np.sqrt(rr) <= tol:
            return s, Bs, j
        Bd = np.asarray(matvec(d), dtype=np.float64)
        dBd = float(d @ Bd)
        if dBd <= 0.0:
            tau = _to_boundary(s, d, radius) if np.isfinite(radius) else 0.0
            return s + tau * d, Bs + tau * Bd, j + 1
        alpha = rr / dBd
        if np.isfinite(radius) and np.linalg.norm(s + alpha * d) >= radius:
            tau = _to_boundary(s, d, radius)
            return s + tau * d, Bs + tau * Bd, j + 1
        s = s + alpha * d
        Bs = Bs + alpha * Bd
        r = r + alpha * Bd
        rr_new = float(r @ r)
        d = -r + (rr_new / rr) * d
        rr = rr_new
    return s, Bs, maxiter


def _to_boundary(s, d, radius):
    """The τ ≥ 0 with ‖s + τd‖ = radius."""
    a, b, c = float(d @ d), 2.0 * float(s @ d), float(s @ s) - radius * radius
    return (-b + np.sqrt(max(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)


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
    if name == "lm" and not system.problem.has("gnvp"):
        raise OptionsError(f"corrector 'lm' needs the problem's Gauss–Newton-vector product; "
                           f"problem {system.problem.name!r} defines no gnvp(p, lam, v)")
    return MinimizationCorrector(options, method=name)
