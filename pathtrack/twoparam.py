"""Two-parameter continuation of folds, with a minimally augmented system.

A fold (limit point) of ``H(p, λ; μ) = 0`` in λ persists as μ, a second numeric parameter of
the plugin, varies: the fold curve in the (λ, μ) plane. As in MatCont and BifurcationKit it is
followed with the *minimally augmented* system

    H(p, λ; μ) = 0,    g(p, λ; μ) = 0,

where ``g`` comes from the bordered solve ``[[H_p, b], [cᵀ, 0]] [v; g] = [0; 1]`` (``b, c`` the
left and right null vectors at the start): ``g`` vanishes exactly where ``H_p`` is singular, and
the system has one unknown more than ``H`` only (no doubled system). :class:`FoldProblem` is that
system as a plugin, with unknowns ``(p, λ)`` and continuation parameter μ, so the ordinary
:func:`~pathtrack.track` follows the curve. Its test functions locate the codimension-2 points:

- ``cusp`` (CP): ``w·H_pp[v, v]``, the fold's quadratic normal-form coefficient, changes sign
  (``w`` from the transposed bordered solve, so ``w·b = 1``);
- ``bt`` (Bogdanov–Takens, ODE plugins ``is_ode_rhs``): ``w·v`` changes sign, where the zero
  eigenvalue of ``H_p`` becomes double with a Jordan block.

The Jacobian of the augmented system is the plugin's ``[H_p, H_λ]`` bordered by ``g_z = −w·(∂H_p/∂z) v``,
with ``∂H_p/∂z`` a central difference of ``H_p`` (the plugin is rebuilt with each value of μ, so
autograd cannot see μ, and μ-derivatives are central differences too); dense and for real
problems only.
"""

from __future__ import annotations

from numbers import Real
from typing import Dict, Optional

import numpy as np
import scipy.linalg

from .events import FOLD, Event, SpecialPoint
from .options import OptionsError
from .problem import Problem, ProblemError, StartPoint

__all__ = ["FoldProblem", "continue_fold", "check_par2", "CUSP", "BOGDANOV_TAKENS"]

CUSP = "cusp"
BOGDANOV_TAKENS = "bt"


def check_par2(problem: Problem, name: str) -> float:
    """The value of the numeric plugin parameter ``name``; anything else raises OptionsError naming the valid ones."""
    numeric = [k for k, v in problem.params.items() if isinstance(v, Real) and not isinstance(v, bool)]
    value = problem.params.get(name)
    if name not in numeric:
        raise OptionsError(f"--par2 {name!r} names no numeric parameter of problem {problem.name!r}; "
                           f"numeric: {', '.join(numeric) or '(none)'}")
    return float(value)


class FoldProblem(Problem):
    """The minimally augmented fold system of ``base`` as a plugin: unknowns ``(p, λ)``, parameter μ = ``par2``.

    Parameters
    ----------
    base : Problem
        A real plugin; it is rebuilt as ``type(base)(**{**base.params, par2: μ})`` for each μ.
    par2 : str
        A numeric entry of ``base.parameters``.
    fold : (p, λ)
        A fold of ``base`` at its own value of ``par2``; fixes the border vectors.
    """

    def __init__(self, base: Problem, par2: str, fold, *, lam_min=None, lam_max=None):
        super().__init__()
        if np.issubdtype(np.dtype(base.dtype), np.complexfloating):
            raise ProblemError(f"problem {base.name!r}: fold continuation is for real problems")
        self.base, self.par2 = base, par2
        self.mu0 = check_par2(base, par2)
        self.name = f"fold:{base.name}:{par2}"
        self.is_ode_rhs = bool(base.is_ode_rhs)
        self.params = {**base.params}
        self._cache: Dict[float, Problem] = {float(self.mu0): base}
        self._Hp_last = None
        p, lam = np.asarray(fold[0], dtype=float), float(fold[1])
        self.n = p.shape[0]
        u_mat, _, vt = scipy.linalg.svd(base.dH_dp(p, lam))
        self.b, self.c = u_mat[:, -1].copy(), vt[-1].copy()  # left and right null vectors at the fold
        self._start = StartPoint(np.append(p, lam), self.mu0)
        self.lam_start = self.mu0
        self.lam_min, self.lam_max = lam_min, lam_max
        self.lam_end = lam_max if lam_max is not None else self.mu0 + 1.0

    # -- the plugin at μ -------------------------------------------------------------------------
    def at(self, mu: float) -> Problem:
        mu = float(mu)
        pb = self._cache.get(mu)
        if pb is None:
            if len(self._cache) > 64:
                self._cache = {float(self.mu0): self.base}
            pb = self._cache[mu] = type(self.base)(**{**self.base.params, self.par2: mu})
        return pb

    def _bordered(self, Hp: np.ndarray):
        n = self.n
        A = np.zeros((n + 1, n + 1))
        A[:n, :n], A[:n, n], A[n, :n] = Hp, self.b, self.c
        rhs = np.zeros(n + 1)
        rhs[n] = 1.0
        lu = scipy.linalg.lu_factor(A, check_finite=False)  # one LU for both solves
        vg = scipy.linalg.lu_solve(lu, rhs, check_finite=False)
        wg = scipy.linalg.lu_solve(lu, rhs, trans=1, check_finite=False)
        return vg[:n], wg[:n], vg[n]  # v, w, g

    def _Hp(self, pb: Problem, x: np.ndarray, lam: float) -> np.ndarray:
        """``H_p`` of the plugin at μ; the last one is kept, since Newton asks for ``H`` and its
        Jacobian at the same point, and the test functions at the accepted one."""
        key = (id(pb), x.tobytes(), lam)
        if self._Hp_last is not None and self._Hp_last[0] == key:
            return self._Hp_last[1]
        Hp = np.asarray(pb.dH_dp(x, lam), dtype=float)
        self._Hp_last = (key, Hp)
        return Hp

    def H(self, q, mu):
        q = np.asarray(q, dtype=float)
        pb = self.at(mu)
        x, lam = q[:-1], float(q[-1])
        _, _, g = self._bordered(self._Hp(pb, x, lam))
        return np.append(np.asarray(pb.H(x, lam), dtype=float), g)

    def _fd_step(self, z: float) -> float:
        return 1e-6 * max(1.0, abs(z))

    def dH_dp(self, q, mu):
        """``[[H_p, H_λ], [g_p, g_λ]]`` with ``g_z = −w·(∂H_p/∂z) v`` (differentiating the bordered solve).

        ``w·H_pp[v, ·]`` is ``(H_p(x + hv) − H_p(x − hv))ᵀw / 2h`` by the symmetry of ``H_pp``: four
        Jacobians of the plugin and one bordered solve, where differencing ``H`` column by column
        cost two per unknown.
        """
        q = np.asarray(q, dtype=float)
        pb = self.at(mu)
        x, lam = q[:-1], float(q[-1])
        Hp = self._Hp(pb, x, lam)
        v, w, _ = self._bordered(Hp)
        h = self._fd_step(float(np.linalg.norm(x))) / max(float(np.linalg.norm(v)), 1e-300)
        g_x = -(np.asarray(pb.dH_dp(x + h * v, lam), dtype=float)
                - np.asarray(pb.dH_dp(x - h * v, lam), dtype=float)).T @ w / (2 * h)
        hl = self._fd_step(lam)
        g_lam = -w @ ((np.asarray(pb.dH_dp(x, lam + hl), dtype=float)
                       - np.asarray(pb.dH_dp(x, lam - hl), dtype=float)) @ v) / (2 * hl)
        J = np.zeros((self.n + 1, self.n + 1))
        J[:self.n, :self.n] = Hp
        J[:self.n, self.n] = np.asarray(pb.dH_dlam(x, lam), dtype=float)
        J[self.n, :self.n] = g_x
        J[self.n, self.n] = g_lam
        return J

    def dH_dlam(self, q, mu):
        h = self._fd_step(mu)
        return (self.H(q, mu + h) - self.H(q, mu - h)) / (2 * h)

    def start(self):
        return self._start

    # -- codimension-2 test functions ---------------------------------------------------------------
    def cusp_value(self, q, mu) -> float:
        """``w·H_pp[v, v]``: the fold's quadratic coefficient, zero at a cusp."""
        pb, x, lam = self.at(mu), np.asarray(q[:-1], dtype=float), float(q[-1])
        v, w, _ = self._bordered(self._Hp(pb, x, lam))
        h = 1e-4 * max(1.0, float(np.linalg.norm(x))) / max(float(np.linalg.norm(v)), 1e-300)
        hvv = (np.asarray(pb.H(x + h * v, lam), dtype=float) - 2 * np.asarray(pb.H(x, lam), dtype=float)
               + np.asarray(pb.H(x - h * v, lam), dtype=float)) / h ** 2
        return float(w @ hvv)

    def bt_value(self, q, mu) -> float:
        """``w·v``: zero where the zero eigenvalue of ``H_p`` is double (Bogdanov–Takens)."""
        pb, x, lam = self.at(mu), np.asarray(q[:-1], dtype=float), float(q[-1])
        v, w, _ = self._bordered(self._Hp(pb, x, lam))
        return float(w @ v)

    def events(self):
        out = [Event(CUSP, self.cusp_value)]
        if self.is_ode_rhs:
            out.append(Event(BOGDANOV_TAKENS, self.bt_value))
        return out


def continue_fold(problem: Problem, fold, par2: str, *, direction: int = 1, options=None,
                  lam_min: Optional[float] = None, lam_max: Optional[float] = None, **track_kw):
    """Follow a fold of ``problem`` as its parameter ``par2`` varies (pseudo-arclength on :class:`FoldProblem`).

    Parameters
    ----------
    problem : Problem
    fold : SpecialPoint or (p, λ)
        A located fold (kind ``'fold'``).
    par2 : str
        A numeric parameter of the plugin (its ``parameters``); bad names raise OptionsError.
    direction : {1, -1}
        Increase or decrease ``par2`` from its value; the curve ends on that edge of its range.
    lam_min, lam_max : float, optional
        The range of ``par2`` (default: its value ± 1).
    options : TrackerOptions or mapping, optional
        Tracker options of the fold curve (pseudo-arclength by default).

    Returns
    -------
    PathResult
        The fold curve: rows of ``p`` are ``(p, λ)``, ``lam`` is ``par2``; special points
        ``cusp`` (CP) and, for ODE plugins, ``bt`` (Bogdanov–Takens).
    """
    from .driver import track

    if isinstance(fold, SpecialPoint):
        if fold.kind != FOLD:
            raise OptionsError(f"fold continuation starts at a fold, not at a {fold.kind!r} point")
        fold = (fold.p, fold.lam)
    mu0 = check_par2(problem, par2)
    lo = mu0 - 1.0 if lam_min is None else float(lam_min)
    hi = mu0 + 1.0 if lam_max is None else float(lam_max)
    fp = FoldProblem(problem, par2, fold, lam_min=lo, lam_max=hi)
    opts = {"parameterisation": "arclength", "lam_min": lo, "lam_max": hi, "lam_end": hi if direction > 0 else lo,
            "direction": 1 if direction > 0 else -1, "initial_ds": 0.01, "max_ds": 0.05}
    if isinstance(options, dict):
        opts.update(options)
    elif options is not None:
        opts = options
    return track(fp, options=opts, **track_kw)
