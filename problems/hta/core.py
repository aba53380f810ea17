"""Chen & Hao's Homotopy Training Algorithm (HTA) as a coupled-penalty gradient homotopy.

The parameters θ of an objective f are split into θ = (θ1, θ2). With a copy η of θ,

    F(Θ, L) = f(θ) + L‖θ1 − θ̃1‖² + f(η) + L‖η2 − θ̃2‖² + (1/L)‖θ − η‖²,   Θ = (θ, η).

At large L the two copies are decoupled and each has half of its parameters pinned
to the anchors θ̃; at small L the coupling forces θ = η and the pins vanish, so the
end of the path is (nearly) a minimiser of f. The path H(Θ, λ) = ∇_Θ F = 0 is
tracked in λ ∈ [0, 1] with log L = (1 − λ)·log L_max + λ·log L_min, because L spans
decades.

:class:`HTAProblem` is the plugin for any f (autograd derivatives by default);
:func:`hta_solve` runs one start: Newton tracking (natural parameterisation, exact
Hessian) that jumps with the L-BFGS minimisation corrector where the minimum being
followed disappears (a fold), then polishes min f from θ.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
from scipy.optimize import minimize

from pathtrack.driver import PathResult, track
from pathtrack.events import hessian_spectrum
from pathtrack.options import TrackerOptions
from pathtrack.problem import Problem, ProblemError, StartPoint
from pathtrack.status import Status

from .kernels import coupled_grad, coupled_hess

__all__ = ["HTAProblem", "HTAResult", "make_split", "hta_solve"]

#: Above this many unknowns (2n) no dense Hessian is formed: no Newton, no Hessian index.
DENSE_MAX = 400


def make_split(n: int, split="halves", seed: int = 0, blocks=None, fraction: float = 0.5) -> np.ndarray:
    """The θ1 mask (1.0 on θ1, 0.0 on θ2) of ``n`` parameters.

    Parameters
    ----------
    split : {'halves', 'alternate', 'layers', 'random'} or array of bool
        ``'halves'``: the first ``n // 2`` parameters; ``'alternate'``: every other one;
        ``'layers'``: the first half of the ``blocks`` (layer sizes, summing to n);
        ``'random'``: a random ``fraction`` of them ("dropout" split), from ``seed``.
    """
    m = np.zeros(n)
    if not isinstance(split, str):
        m = np.asarray(split, dtype=bool).astype(float)
        if m.shape != (n,):
            raise ProblemError(f"hta: split mask must have shape ({n},), got {m.shape}")
    elif split == "halves":
        m[:n // 2] = 1.0
    elif split == "alternate":
        m[::2] = 1.0
    elif split == "layers":
        if blocks is None or sum(blocks) != n or len(blocks) < 2:
            raise ProblemError(f"hta: split='layers' needs blocks (layer sizes, >= 2) summing to {n}, got {blocks}")
        m[:int(np.sum(blocks[:len(blocks) // 2]))] = 1.0
    elif split == "random":
        rng = np.random.default_rng(seed)
        m[rng.permutation(n)[:max(1, int(round(fraction * n)))]] = 1.0
    else:
        raise ProblemError(f"hta: split must be 'halves', 'alternate', 'layers', 'random' or a mask, got {split!r}")
    if m.all() or not m.any():
        raise ProblemError(f"hta: split {split!r} leaves θ1 or θ2 empty for n = {n}")
    return m


class HTAProblem(Problem):
    """HTA coupled-penalty homotopy of an objective ``f`` of ``n`` parameters.

    Parameters
    ----------
    f : callable ``f(x) -> float``
        Written with ``autograd.numpy`` unless ``grad`` (and ``hess`` or ``hvp``) are given.
    n_params : int
        Number n of parameters of f (the homotopy has 2n unknowns).
    grad, hess, hvp : callables, optional
        ``∇f(x)``, ``∇²f(x)`` and ``∇²f(x)·v``; autograd by default.
    x0 : array, optional
        Start (initial guess) for :meth:`start`; Θ starts at (x0, x0).
    blocks : list of int, optional
        Layer sizes for ``split='layers'``.
    L_max, L_min, split, seed, anchor, fraction :
        Problem parameters (see ``parameters``); ``anchor`` is a scalar (θ̃ = anchor·1) or an array.
    """

    name = "hta"
    description = "Chen-Hao homotopy training: coupled-penalty homotopy in log L"
    is_gradient = True
    lam_start, lam_end, lam_min, lam_max = 0.0, 1.0, 0.0, 1.0
    parameters = {"L_max": 100.0, "L_min": 0.01, "split": "halves", "seed": 0, "anchor": 0.0, "fraction": 0.5,
                  "require_minimum": True}
    default_options = {"parameterisation": "natural", "corrector": "newton", "predictor": "tangent",
                       "initial_ds": 0.05, "max_ds": 0.2, "min_ds": 1e-4, "max_steps": 5000}

    def __init__(self, f: Callable, n_params: int, *, grad: Optional[Callable] = None, hess: Optional[Callable] = None,
                 hvp: Optional[Callable] = None, x0=None, blocks=None, **params):
        super().__init__(**params)
        self.n = int(n_params)
        L_max, L_min = float(self.params["L_max"]), float(self.params["L_min"])
        if not (0.0 < L_min < L_max and np.isfinite(L_max)):
            raise ProblemError(f"hta: need 0 < L_min < L_max < inf, got L_min={L_min}, L_max={L_max}")
        self.log_L_max, self.log_L_min = np.log(L_max), np.log(L_min)
        self.m1 = make_split(self.n, self.params["split"], int(self.params["seed"]), blocks,
                             float(self.params["fraction"]))
        anchor = np.asarray(self.params["anchor"], dtype=float)
        self.anchor = np.full(self.n, float(anchor)) if anchor.ndim == 0 else anchor.copy()
        if self.anchor.shape != (self.n,):
            raise ProblemError(f"hta: anchor must be a scalar or have shape ({self.n},), got {self.anchor.shape}")
        self.f = f
        if grad is None or (hess is None and hvp is None):
            import autograd
            import autograd.numpy as anp
            grad = grad or autograd.grad(f)
            if hess is None and hvp is None:
                hess = autograd.hessian(f) if self.n <= DENSE_MAX // 2 else None
                hvp = lambda x, v: autograd.grad(lambda z: anp.dot(grad(z), v))(x)  # noqa: E731
        self.grad, self.hess, self.hvp = grad, hess, hvp
        self.dense = self.hess is not None and 2 * self.n <= DENSE_MAX
        if not self.dense:
            # L-BFGS at fixed λ, run to its gradient tolerance: ``accept`` is a path-quality test
            # here, not a target that should stop the minimiser early
            self.default_options = {**self.default_options, "corrector": "lbfgs", "predictor": "constant",
                                    "dense_max_n": DENSE_MAX, "stop_on_accept": False}
        self.x0 = None if x0 is None else np.asarray(x0, dtype=float)
        self.n_grad_evals = 0  # evaluations of ∇f (two per ∇F)
        self.n_hess_evals = 0  # evaluations of ∇²f (or of ∇²f·v)

    # -- the homotopy in λ ------------------------------------------------------------------------
    def L(self, lam: float) -> float:
        return float(np.exp((1.0 - lam) * self.log_L_max + lam * self.log_L_min))

    def split_theta(self, p):
        return p[:self.n], p[self.n:]

    def loss(self, p, lam):
        th, et = self.split_theta(p)
        L = self.L(lam)
        a, m1 = self.anchor, self.m1
        return (self.f(th) + self.f(et) + L * np.sum(m1 * (th - a) ** 2) + L * np.sum((1 - m1) * (et - a) ** 2)
                + np.sum((th - et) ** 2) / L)

    def H(self, p, lam):
        th, et = self.split_theta(p)
        self.n_grad_evals += 2
        return coupled_grad(th, et, np.asarray(self.grad(th), float), np.asarray(self.grad(et), float), self.m1,
                            self.anchor, self.L(lam))

    def loss_and_grad(self, p, lam):
        return float(self.loss(p, lam)), self.H(p, lam)

    def dH_dp(self, p, lam):
        if not self.dense:
            raise ProblemError(f"hta: no dense Hessian for 2n = {2 * self.n} unknowns; use corrector 'lbfgs'")
        th, et = self.split_theta(p)
        self.n_hess_evals += 2
        return coupled_hess(np.asarray(self.hess(th), float), np.asarray(self.hess(et), float), self.m1,
                            self.L(lam))

    def dH_dlam(self, p, lam):
        th, et = self.split_theta(p)
        L = self.L(lam)
        d = th - et
        dF_dL = np.concatenate([2 * self.m1 * (th - self.anchor) - 2 * d / L ** 2,
                                2 * (1 - self.m1) * (et - self.anchor) + 2 * d / L ** 2])
        return dF_dL * L * (self.log_L_min - self.log_L_max)

    def jvp(self, p, lam, v):
        th, et = self.split_theta(p)
        vt, ve = self.split_theta(v)
        L = self.L(lam)
        self.n_hess_evals += 2
        if self.hvp is not None:
            ht, he = self.hvp(th, vt), self.hvp(et, ve)
        else:
            ht, he = self.hess(th) @ vt, self.hess(et) @ ve
        return np.concatenate([ht + 2 * L * self.m1 * vt + 2 / L * (vt - ve),
                               he + 2 * L * (1 - self.m1) * ve + 2 / L * (ve - vt)])

    # -- start, per-step metrics, acceptance --------------------------------------------------------
    def start(self):
        if self.x0 is None:
            raise ProblemError("hta: no start; pass x0 to the problem or to hta_solve")
        return self.start_from(self.x0)

    def start_from(self, x0) -> StartPoint:
        """Minimise F(·, λ = 0) from Θ = (x0, x0): a point on a path of minima at L = L_max."""
        x0 = np.asarray(x0, dtype=float)
        T0 = np.concatenate([x0, x0])
        if self.dense:
            res = minimize(self.loss_and_grad, T0, args=(0.0,), jac=True, hess=self.dH_dp, method="trust-exact",
                           options={"gtol": 1e-10})
        else:
            res = minimize(self.loss_and_grad, T0, args=(0.0,), jac=True, method="L-BFGS-B",
                           options={"gtol": 1e-6, "ftol": 0.0, "maxiter": 1000})
        return StartPoint(res.x, 0.0)

    def metrics(self, p, lam) -> Dict[str, float]:
        th, et = self.split_theta(p)
        out = {"L": self.L(lam), "f_theta": float(self.f(th)), "f_eta": float(self.f(et)),
               "gap": float(np.linalg.norm(th - et)),
               "hess_index": float(hessian_spectrum(self.dH_dp(p, lam))[1]) if self.dense else np.nan,
               "n_grad_evals": float(self.n_grad_evals), "n_hess_evals": float(self.n_hess_evals)}
        return out

    def accept(self, p, lam) -> bool:
        """With ``require_minimum`` (dense only): accept only points where ∇²F is positive definite."""
        if not (self.dense and self.params["require_minimum"]):
            return True
        try:
            np.linalg.cholesky(self.dH_dp(p, lam))
        except np.linalg.LinAlgError:
            return False
        return True

    # -- the end: polish min f from θ -------------------------------------------------------------
    def polish(self, x, maxiter: int = 2000):
        """Minimise f from ``x`` (trust-region Newton with the Hessian when dense, else L-BFGS, ``maxiter``)."""
        fg = lambda z: (float(self.f(z)), np.asarray(self.grad(z), float))  # noqa: E731
        if self.hess is not None and self.n <= DENSE_MAX:
            res = minimize(fg, x, jac=True, hess=self.hess, method="trust-exact", options={"gtol": 1e-10})
        else:
            res = minimize(fg, x, jac=True, method="L-BFGS-B", options={"gtol": 1e-8, "maxiter": maxiter, "maxfun": maxiter})
        return res


@dataclass
class HTAResult:
    """One HTA run: the polished minimiser and how the path got there.

    Attributes
    ----------
    x : ndarray
        Polished minimiser of f (``theta`` when ``polish=False``).
    f : float
        f(x).
    theta : ndarray
        θ at the end of the path (λ = 1, L = L_min).
    status : Status
        Of the last path segment.
    n_jumps : int
        Folds passed by an L-BFGS jump (the followed minimum vanished).
    segments : list of PathResult
        Newton segments and L-BFGS jumps, in order.
    lam, metrics : per accepted step over all segments, each segment's start row included
        (``metrics`` as in :meth:`HTAProblem.metrics`).
    n_grad_evals, n_hess_evals : int
        Evaluations of ∇f and ∇²f over the whole run, polishing included.
    wall_time : float
    """

    x: np.ndarray
    f: float
    theta: np.ndarray
    status: Status
    n_jumps: int
    segments: List[PathResult] = field(repr=False)
    lam: np.ndarray = field(repr=False)
    metrics: Dict[str, np.ndarray] = field(repr=False)
    n_grad_evals: int = 0
    n_hess_evals: int = 0
    wall_time: float = 0.0

    @property
    def success(self) -> bool:
        return self.status.is_success

    @property
    def max_hess_index(self) -> float:
        """Largest Hessian index met along the path (0: the path stayed on minima)."""
        h = self.metrics.get("hess_index", np.array([np.nan]))
        return float(np.nanmax(h)) if np.isfinite(h).any() else np.nan


#: Tracking failures that mean "the minimum being followed ends here" (a fold in natural parameterisation).
_FOLD_STATUSES = (Status.ds_too_small, Status.newton_failed, Status.singular_jacobian)


def hta_solve(problem: HTAProblem, x0=None, *, jump: float = 1e-3, jump_gtol: float = 1e-6, max_jumps: int = 100,
              polish: bool = True, polish_maxiter: int = 2000,
              options: Optional[TrackerOptions] = None, **overrides) -> HTAResult:
    """Run HTA from ``x0``: track λ from 0 to 1, jumping over folds with L-BFGS, then polish.

    Parameters
    ----------
    problem : HTAProblem
    x0 : array, optional
        Initial guess (default ``problem.x0``).
    jump : float
        Where Newton tracking fails at λ_f (the minimum followed vanishes), minimise F at
        λ_f + ``jump`` with the engine's L-BFGS corrector and resume tracking from there.
    jump_gtol : float
        Gradient tolerance of that jump. L-BFGS is slow on the ill-conditioned F (curvatures
        from 2/L to 2L), so it only needs to reach the new minimum's basin: the next Newton
        segment refines the start to ``start_tol``.
    polish : bool
        Minimise f from θ at the end (at most ``polish_maxiter`` iterations when by L-BFGS).
    options, overrides :
        Tracker options (default: the problem's ``default_options``).
    """
    t0 = time.perf_counter()
    g0, h0 = problem.n_grad_evals, problem.n_hess_evals
    opts = options or TrackerOptions(**problem.default_options)
    if overrides:
        opts = opts.replace(**overrides)
    start = problem.start_from(problem.x0 if x0 is None else x0)
    p, lam = start.p, start.lam
    segments: List[PathResult] = []
    n_jumps = 0
    while True:
        r = track(problem, p, lam, options=opts, detect_bifurcations=False)
        segments.append(r)
        if (r.success or r.status not in _FOLD_STATUSES or n_jumps >= max_jumps
                or opts.corrector in ("lbfgs", "gd")):
            break
        lam_j = min(r.lam_end + jump, problem.lam_max)
        j = track(problem, r.p_end, r.lam_end, options=opts.replace(
            corrector="lbfgs", predictor="constant", lam_end=lam_j, initial_ds=jump, max_ds=jump,
            min_ds=min(opts.min_ds, jump), stop_on_accept=False, min_gtol=jump_gtol,
            max_angle=np.pi), detect_bifurcations=False)  # a jump turns the path on purpose
        segments.append(j)
        n_jumps += 1
        if not j.success:
            r = j
            break
        p, lam = j.p_end, j.lam_end
        if lam >= problem.lam_max:
            r = j
            break
    theta = problem.split_theta(r.p_end)[0].copy()
    x, fx = theta, float(problem.f(theta))
    if polish:
        res = problem.polish(theta, polish_maxiter)
        x, fx = res.x, float(res.fun)
        problem.n_grad_evals += int(getattr(res, "njev", 0) or getattr(res, "nfev", 0) or 0)
        problem.n_hess_evals += int(getattr(res, "nhev", 0) or 0)
    keys = sorted({k for s in segments for k in s.metrics})
    metrics = {k: np.concatenate([s.metrics.get(k, np.full(s.lam.size, np.nan)) for s in segments]) for k in keys}
    return HTAResult(x=x, f=fx, theta=theta, status=r.status, n_jumps=n_jumps, segments=segments,
                     lam=np.concatenate([s.lam for s in segments]), metrics=metrics,
                     n_grad_evals=problem.n_grad_evals - g0, n_hess_evals=problem.n_hess_evals - h0,
                     wall_time=time.perf_counter() - t0)
