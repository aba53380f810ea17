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
    numeric = [k for k, v in problem.params.items()
               if isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(float(v))]
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
    lo, hi, opts = curve_options(check_par2(problem, par2), direction, options, lam_min, lam_max)
    fp = FoldProblem(problem, par2, fold, lam_min=lo, lam_max=hi)
    return track(fp, options=opts, **track_kw)


# ------------------------------------------------------------------------------------- Hopf curves
ZERO_HOPF = "zh"
GENERALISED_HOPF = "gh"
__all__ += ["HopfProblem", "continue_hopf", "continue_curve", "hopf_pair", "curve_options", "ZERO_HOPF", "GENERALISED_HOPF"]


def hopf_pair(A: np.ndarray):
    """``(ω, q)``: the eigenvalue pair ``±iω`` of ``A`` nearest the imaginary axis and the eigenvector of ``iω``.

    Raises OptionsError when ``A`` has no complex pair (the point is no Hopf point).
    """
    eigs, right = scipy.linalg.eig(A)
    scale = max(1.0, float(np.abs(eigs).max()))
    pair = np.flatnonzero(eigs.imag > 1e-8 * scale)
    if pair.size == 0:
        raise OptionsError("not a Hopf point: the Jacobian has no complex eigenvalue pair there")
    k = pair[np.argmin(np.abs(eigs.real[pair]))]
    return float(eigs[k].imag), right[:, k]


class HopfProblem(Problem):
    """The minimally augmented Hopf system of ``base`` as a plugin: unknowns ``(p, λ, κ)``, parameter μ = ``par2``.

    With ``A = H_p`` and ``κ = ω²``, Govaerts' system (MatCont's ``hopf`` curve) is

        H(p, λ; μ) = 0,    g_{i₁j₁}(p, λ, κ; μ) = 0,    g_{i₂j₂}(p, λ, κ; μ) = 0,

    where ``G`` (2×2) comes from the bordered solve ``[[A² + κI, B], [Cᵀ, 0]] [V; G] = [0; I₂]``
    (``B``, ``C``: left and right null spaces of ``A² + κI`` at the start): ``A² + κI`` has rank
    ``n − 2``, that is ``±i√κ`` are eigenvalues of ``A``, exactly where ``G = 0``. The two entries
    of ``G`` are those that make the system's Jacobian best conditioned at the start. No
    bialternate product and no complex arithmetic: the system is ``n + 2`` real equations.

    Through a Bogdanov–Takens point ``κ`` changes sign and the curve continues as a curve of
    neutral saddles (``±√−κ`` real), as in MatCont; ``ω`` and ``l1`` are NaN there.

    Parameters
    ----------
    base : Problem
        A real ODE plugin (``is_ode_rhs``); rebuilt as ``type(base)(**{**base.params, par2: μ})``.
    par2 : str
        A numeric entry of ``base.parameters``.
    hopf : (p, λ)
        A Hopf point of ``base`` at its own value of ``par2``.
    """

    def __init__(self, base: Problem, par2: str, hopf, *, lam_min=None, lam_max=None):
        super().__init__()
        if np.issubdtype(np.dtype(base.dtype), np.complexfloating) or not base.is_ode_rhs:
            raise ProblemError(f"problem {base.name!r}: Hopf continuation is for real ODE plugins (is_ode_rhs)")
        self.base, self.par2 = base, par2
        self.mu0 = check_par2(base, par2)
        self.name = f"hopf:{base.name}:{par2}"
        self.params = {**base.params}
        self._cache: Dict[float, Problem] = {float(self.mu0): base}
        self._l1_key, self._l1 = None, float("nan")
        p, lam = np.asarray(hopf[0], dtype=float), float(hopf[1])
        self.n = n = p.shape[0]
        A = np.asarray(base.dH_dp(p, lam), dtype=float)
        omega, _ = hopf_pair(A)
        kappa = omega * omega
        u_mat, _, vt = scipy.linalg.svd(A @ A + kappa * np.eye(n))
        self.B, self.C = u_mat[:, -2:].copy(), vt[-2:].T.copy()
        q0 = np.concatenate([p, [lam, kappa]])
        self.entries = self._best_entries(q0)
        self._start = StartPoint(q0, self.mu0)
        self.lam_start = self.mu0
        self.lam_min, self.lam_max = lam_min, lam_max
        self.lam_end = lam_max if lam_max is not None else self.mu0 + 1.0

    at = FoldProblem.at
    _fd_step = FoldProblem._fd_step
    dH_dlam = FoldProblem.dH_dlam
    start = FoldProblem.start

    def dH_dp(self, q, mu):
        """Central differences of :meth:`H`, column by column (the fold system's bordered Jacobian
        does not apply to the Hopf system's ``G``)."""
        q = np.asarray(q, dtype=float)
        cols = []
        for i in range(q.shape[0]):
            h = self._fd_step(q[i])
            e = np.zeros_like(q)
            e[i] = h
            cols.append((self.H(q + e, mu) - self.H(q - e, mu)) / (2 * h))
        return np.column_stack(cols)

    def _G(self, A: np.ndarray, kappa: float) -> np.ndarray:
        n = self.n
        M = np.zeros((n + 2, n + 2))
        M[:n, :n] = A @ A + kappa * np.eye(n)
        M[:n, n:], M[n:, :n] = self.B, self.C.T
        rhs = np.zeros((n + 2, 2))
        rhs[n:] = np.eye(2)
        return np.linalg.solve(M, rhs)[n:]

    def _all_g(self, q, mu) -> np.ndarray:
        pb, x, lam = self.at(mu), np.asarray(q[:-2], dtype=float), float(q[-2])
        return self._G(np.asarray(pb.dH_dp(x, lam), dtype=float), float(q[-1])).ravel()

    def _best_entries(self, q0):
        """The pair of entries of ``G`` whose equations give the best-conditioned Jacobian at ``q0`` (MatCont's choice)."""
        n, mu = self.n, self.mu0
        cols = []
        for i in range(n + 3):  # (p, λ, κ, μ)
            z = np.append(q0, mu)
            h = self._fd_step(z[i])
            zp, zm = z.copy(), z.copy()
            zp[i] += h
            zm[i] -= h
            fp = np.concatenate([np.asarray(self.at(zp[-1]).H(zp[:n], zp[n]), dtype=float), self._all_g(zp[:-1], zp[-1])])
            fm = np.concatenate([np.asarray(self.at(zm[-1]).H(zm[:n], zm[n]), dtype=float), self._all_g(zm[:-1], zm[-1])])
            cols.append((fp - fm) / (2 * h))
        J = np.column_stack(cols)
        best, best_sigma = None, -1.0
        for a in range(4):
            for b in range(a + 1, 4):
                sigma = np.linalg.svd(J[list(range(n)) + [n + a, n + b]], compute_uv=False)[-1]
                if sigma > best_sigma:
                    best, best_sigma = (divmod(a, 2), divmod(b, 2)), sigma
        return best

    def H(self, q, mu):
        q = np.asarray(q, dtype=float)
        pb, x, lam = self.at(mu), q[:-2], float(q[-2])
        G = self._G(np.asarray(pb.dH_dp(x, lam), dtype=float), float(q[-1]))
        (i1, j1), (i2, j2) = self.entries
        return np.concatenate([np.asarray(pb.H(x, lam), dtype=float), [G[i1, j1], G[i2, j2]]])

    # -- along the curve ---------------------------------------------------------------------------
    def _jacobian(self, q, mu) -> np.ndarray:
        return np.asarray(self.at(mu).dH_dp(np.asarray(q[:-2], dtype=float), float(q[-2])), dtype=float)

    def l1_value(self, q, mu) -> float:
        """The first Lyapunov coefficient at the Hopf point ``q``; NaN on the neutral-saddle part (κ ≤ 0)."""
        key = (np.asarray(q, dtype=float).tobytes(), float(mu))
        if key != self._l1_key:  # metrics and the GH test ask at the same point: compute once
            self._l1_key, self._l1 = key, self._l1_at(q, mu)
        return self._l1

    def _l1_at(self, q, mu) -> float:
        from .normalform import lyapunov_coefficient

        kappa = float(q[-1])
        if not kappa > 0:
            return float("nan")
        pb, x, lam = self.at(mu), np.asarray(q[:-2], dtype=float), float(q[-2])
        jac = lambda y: np.asarray(pb.dH_dp(y, lam), dtype=float)  # noqa: E731
        A = jac(x)
        omega = np.sqrt(kappa)
        eigs, right = scipy.linalg.eig(A)
        qv = right[:, int(np.argmin(np.abs(eigs - 1j * omega)))]
        left_vals, left = scipy.linalg.eig(A.T)
        pv = left[:, int(np.argmin(np.abs(left_vals + 1j * omega)))]
        pv = pv / np.conj(np.vdot(pv, qv))  # p̄ᵀq = 1
        # Richardson on the difference step: the O(h²) error of the forms would move GH by ~1e-7
        h = 1e-3 * max(1.0, float(np.linalg.norm(x)))
        coarse = lyapunov_coefficient(jac, x, A, qv, pv, omega, h)
        fine = lyapunov_coefficient(jac, x, A, qv, pv, omega, h / 2)
        return (4.0 * fine - coarse) / 3.0

    def zh_value(self, q, mu) -> float:
        """The product of the eigenvalues of ``H_p`` other than ``±√−κ``: zero where a real one crosses 0 (zero-Hopf)."""
        eigs = scipy.linalg.eigvals(self._jacobian(q, mu))
        others = np.argsort(np.abs(eigs * eigs + float(q[-1])))[2:]
        return float(np.prod(eigs[others]).real)

    def bt_value(self, q, mu) -> float:
        """``κ = ω²``: zero where the Hopf pair merges into a double zero eigenvalue (Bogdanov–Takens)."""
        return float(q[-1])

    def metrics(self, q, mu):
        kappa = float(q[-1])
        return {"omega": float(np.sqrt(kappa)) if kappa > 0 else float("nan"), "l1": self.l1_value(q, mu)}

    def events(self):
        return [Event(BOGDANOV_TAKENS, self.bt_value), Event(ZERO_HOPF, self.zh_value),
                Event(GENERALISED_HOPF, self.l1_value)]


def curve_options(mu0: float, direction: int, options=None, lam_min: Optional[float] = None,
                  lam_max: Optional[float] = None):
    """``(lo, hi, options)``: the ``par2`` range (default value ± 1) and the tracker options of a two-parameter curve."""
    lo = mu0 - 1.0 if lam_min is None else float(lam_min)
    hi = mu0 + 1.0 if lam_max is None else float(lam_max)
    opts = {"parameterisation": "arclength", "lam_min": lo, "lam_max": hi, "lam_end": hi if direction > 0 else lo,
            "direction": 1 if direction > 0 else -1, "initial_ds": 0.01, "max_ds": 0.05}
    if isinstance(options, dict):
        opts.update(options)
    elif options is not None:
        opts = options
    return lo, hi, opts


def continue_curve(problem: Problem, point, par2: str, *, kind: Optional[str] = None, direction: int = 1,
                   options=None, lam_min: Optional[float] = None, lam_max: Optional[float] = None,
                   out: Optional[str] = None, force: bool = False, parent=(-1, -1), **track_kw):
    """Follow a fold or a Hopf point of ``problem`` in ``par2``: :func:`continue_fold` or :func:`continue_hopf`.

    ``point`` is a located SpecialPoint (its kind chooses the curve) or ``(p, λ)`` with ``kind``
    ``'fold'`` or ``'hopf'``. With ``out`` the curve is written as a path file (the problem name
    ``fold:PROBLEM:PAR2`` or ``hopf:PROBLEM:PAR2`` says what it is), which ``pathtrack inspect``
    reads and ``pathtrack plot --kind twoparam`` draws. When ``out`` is an existing diagram file
    the curve is added to it instead, as ``/curves/NNNN`` in the same layout, with ``parent``
    ``(branch, event)``: the branch and the row of its events the point is.
    """
    from .driver import track
    from .events import HOPF
    from .options import TrackerOptions

    curves = {FOLD: FoldProblem, HOPF: HopfProblem}
    if isinstance(point, SpecialPoint):
        kind, point = point.kind, (point.p, point.lam)
    if kind not in curves:
        raise OptionsError(f"two-parameter continuation starts at a fold or a Hopf point, not at a {kind!r} point")
    lo, hi, opts = curve_options(check_par2(problem, par2), direction, options, lam_min, lam_max)
    curve_problem = curves[kind](problem, par2, point, lam_min=lo, lam_max=hi)
    observers = list(track_kw.pop("observers", ()))
    into_diagram = out is not None and _is_diagram(out)
    if into_diagram:
        from .io import DiagramWriter

        DiagramWriter.curves_stored(out)  # refuses a diagram still written, before the curve is computed
    if out is not None:
        from .io import PathWriter
        from .io.h5 import tmp_path

        opts = TrackerOptions.resolve(opts, curve_problem.default_options)
        target = tmp_path(out, "curve") if into_diagram else out
        observers.append(PathWriter.create(target, curve_problem, opts, force=force or into_diagram))
    result = track(curve_problem, options=opts, observers=observers, **track_kw)
    if into_diagram:
        import os

        from .io import DiagramWriter

        try:
            DiagramWriter.add_curve(out, target, kind, par2, int(parent[0]), int(parent[1]))
        finally:
            if os.path.exists(target):
                os.unlink(target)
    return result


def _is_diagram(path: str) -> bool:
    """Whether ``path`` is an existing pathtrack diagram file (its ``format`` attribute)."""
    import os

    from .io import DIAGRAM_FORMAT, StorageError
    from .io.reader import _format

    try:
        return os.path.exists(path) and _format(path) == DIAGRAM_FORMAT
    except (StorageError, OSError):
        return False


def continue_hopf(problem: Problem, hopf, par2: str, *, direction: int = 1, options=None,
                  lam_min: Optional[float] = None, lam_max: Optional[float] = None, **track_kw):
    """Follow a Hopf point of ``problem`` as its parameter ``par2`` varies (pseudo-arclength on :class:`HopfProblem`).

    Parameters and return value as :func:`continue_fold`, from a located Hopf point (kind ``'hopf'``).
    Rows of the result's ``p`` are ``(p, λ, κ)`` with ``κ = ω²``; its metrics ``omega`` and ``l1``
    give the frequency and the first Lyapunov coefficient at every point; its special points are
    ``bt`` (Bogdanov–Takens: κ = 0), ``zh`` (zero-Hopf: a real eigenvalue crosses 0) and ``gh``
    (generalised Hopf, Bautin: ``l1`` changes sign).
    """
    from .events import HOPF

    if isinstance(hopf, SpecialPoint) and hopf.kind != HOPF:
        raise OptionsError(f"Hopf continuation starts at a Hopf point, not at a {hopf.kind!r} point")
    return continue_curve(problem, hopf, par2, kind=HOPF, direction=direction, options=options, lam_min=lam_min,
                          lam_max=lam_max, **track_kw)
