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

Located cusp, Bogdanov–Takens and (on Hopf curves) generalised Hopf points carry their normal-form
coefficients in ``extra`` (:meth:`_CurveProblem.point_normal_form`, :mod:`pathtrack.normalform`).

The Jacobian of the augmented system is the plugin's ``[H_p, H_λ]`` bordered by ``g_z = −w·(∂H_p/∂z) v``
(Govaerts' formula, as in MatCont), with ``∂H_p/∂z`` one central difference of the plugin's Jacobian
along ``v`` or ``z`` (the plugin is rebuilt with each value of μ, so autograd cannot see μ, and
μ-derivatives are central differences too); dense and for real problems only. The cusp test is
``−g_p·v``, so it comes with the Jacobian. Each point's bordered solve, Jacobian and test values
are computed once and kept for the last few points: Newton, the tangent and the test functions
ask for them at the same point.
"""

from __future__ import annotations

from collections import OrderedDict
from numbers import Real
from typing import Dict, Optional

import numpy as np
import scipy.linalg
from scipy.linalg.lapack import dgetrf as _getrf, dgetri as _getri

from .events import FOLD, Event, SpecialPoint
from .kernels import curveload
# LAPACK's LU directly: an exactly singular matrix gives non-finite solutions, which the tracker reports
from .linalg import eig as _eig, lu_factor as _lu, norm2, solve as _solve_dense
from .normalform import lyapunov_levels, memoized_jacobian
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


class _CurveProblem(Problem):
    """What the fold and Hopf systems share: the plugin at μ, one evaluation per point, μ-derivatives.

    Newton asks for ``H`` and the Jacobian, the tangent and the test functions for the Jacobian
    again at the accepted point: the bordered solve (``_solve``) and the whole Jacobian with its
    μ column (``_derivatives``) are computed once per ``(q, μ)`` and kept for the last few points.
    """

    _KEEP = 8  # points kept: a Newton correction, its tangent and a located event's trials

    def _setup(self, base: Problem, par2: str, kind: str, lam_min, lam_max) -> None:
        self.base, self.par2 = base, par2
        self._batched = base.has("dH_dp_batch")  # the plugin rebuilt at any μ is of the same class
        self.mu0 = check_par2(base, par2)
        self.name = f"{kind}:{base.name}:{par2}"
        self.params = {**base.params}
        self._cache: Dict[float, Problem] = {float(self.mu0): base}
        self._points: "OrderedDict[tuple, _CurvePoint]" = OrderedDict()
        self.lam_start = self.mu0
        self.lam_min, self.lam_max = lam_min, lam_max
        self.lam_end = lam_max if lam_max is not None else self.mu0 + 1.0
        # the compiled bordered inverse and l1 where the install built them, else None: the NumPy code
        self._kernels = curveload.load()

    def at(self, mu: float) -> Problem:
        """The plugin with ``par2 = mu`` (the last 64 are kept)."""
        mu = float(mu)
        pb = self._cache.get(mu)
        if pb is None:
            if len(self._cache) > 64:
                self._cache = {float(self.mu0): self.base}
            pb = self._cache[mu] = type(self.base)(**{**self.base.params, self.par2: mu})
        return pb

    def _fd_step(self, z: float) -> float:
        return 1e-6 * max(1.0, abs(z))

    def start(self):
        return self._start

    #: Located points of these kinds get normal-form coefficients (the tracker asks :meth:`point_normal_form`)
    normal_form_kinds = ()

    def point_normal_form(self, kind: str, q, mu) -> dict:
        """The coefficients of a located codimension-2 point of ``kind`` at ``q = (p, λ, …)``, ``par2 = mu``:
        ``c`` at a cusp, ``a`` and ``b`` at a Bogdanov–Takens point, ``l1`` and ``l2`` at a generalised
        Hopf point (:mod:`pathtrack.normalform`, for the plugin at that value of ``par2``)."""
        from . import normalform as nf

        q = np.asarray(q, dtype=float)
        pb, x, lam = self.at(mu), q[:self.n], float(q[self.n])
        if kind == CUSP:
            return {"c": nf.cusp_coefficient(pb, x, lam)["c"]}
        if kind == BOGDANOV_TAKENS:
            return nf.bogdanov_takens_coefficients(pb, x, lam)
        if kind == GENERALISED_HOPF:
            out = nf.second_lyapunov(pb, x, lam)
            return {"l1": out["l1"], "l2": out["l2"]}
        return {}

    def _point(self, q, mu) -> "_CurvePoint":
        q = np.asarray(q, dtype=float)
        key = (q.tobytes(), float(mu))
        pt = self._points.get(key)
        if pt is None:
            pb, n = self.at(mu), self.n
            x, lam = q[:n].copy(), float(q[n])
            A = np.ascontiguousarray(pb.dH_dp(x, lam), dtype=float)  # as the compiled kernels take it
            pt = _CurvePoint(pb, x, lam, q[n + 1:].copy(), float(mu), A)
            pt.solve = self._solve(pt)
            self._points[key] = pt
            if len(self._points) > self._KEEP:
                self._points.popitem(last=False)
        return pt

    def _Hx(self, pt: "_CurvePoint") -> np.ndarray:
        if pt.Hx is None:
            pt.Hx = np.asarray(pt.pb.H(pt.x, pt.lam), dtype=float)
        return pt.Hx

    def _dA(self, pt: "_CurvePoint", u: np.ndarray) -> np.ndarray:
        """``∂H_p/∂u``, the derivative of the plugin's Jacobian along ``u``: one central difference."""
        h = self._fd_step(norm2(pt.x)) / max(norm2(u), 1e-300)
        jac = pt.pb.dH_dp
        return (np.asarray(jac(pt.x + h * u, pt.lam), dtype=float)
                - np.asarray(jac(pt.x - h * u, pt.lam), dtype=float)) / (2 * h)

    def _dA_along(self, pt: "_CurvePoint", dirs) -> list:
        """:meth:`_dA` along each of ``dirs``; with the plugin's ``dH_dp_batch`` all the differenced
        Jacobians come from one call (the same points and steps)."""
        if not self._batched:
            return [self._dA(pt, u) for u in dirs]
        step = self._fd_step(norm2(pt.x))
        hs = [step / max(norm2(u), 1e-300) for u in dirs]
        P = np.array([pt.x + sign * h * u for h, u in zip(hs, dirs) for sign in (1.0, -1.0)])
        jacs = np.asarray(pt.pb.dH_dp_batch(P, pt.lam), dtype=float)
        return [(jacs[2 * k] - jacs[2 * k + 1]) / (2 * h) for k, h in enumerate(hs)]

    def _dA_dlam(self, pt: "_CurvePoint") -> np.ndarray:
        hl = self._fd_step(pt.lam)
        return (np.asarray(pt.pb.dH_dp(pt.x, pt.lam + hl), dtype=float)
                - np.asarray(pt.pb.dH_dp(pt.x, pt.lam - hl), dtype=float)) / (2 * hl)

    def _d_dmu(self, pt: "_CurvePoint"):
        """``(H_μ, ∂H_p/∂μ)``: central differences over plugins rebuilt at ``μ ± h``."""
        h = self._fd_step(pt.mu)
        plus, minus = self.at(pt.mu + h), self.at(pt.mu - h)
        H_mu = (np.asarray(plus.H(pt.x, pt.lam), dtype=float) - np.asarray(minus.H(pt.x, pt.lam), dtype=float)) / (2 * h)
        A_mu = (np.asarray(plus.dH_dp(pt.x, pt.lam), dtype=float)
                - np.asarray(minus.dH_dp(pt.x, pt.lam), dtype=float)) / (2 * h)
        return H_mu, A_mu

    def _jacobian_with_mu(self, q, mu) -> np.ndarray:
        pt = self._point(q, mu)
        if pt.J is None:
            pt.J = self._derivatives(pt)
            pt.J.flags.writeable = False  # shared: the tracker's augmented Jacobian is this array
        return pt.J

    def augmented_jacobian(self, q, mu) -> np.ndarray:
        """``[dH_dp, dH_dlam]`` as one read-only array: the tracker takes it whole (no split and reassembly)."""
        return self._jacobian_with_mu(q, mu)

    def dH_dp(self, q, mu):
        """The Jacobian in ``q`` from the bordered formulas (:meth:`_derivatives`)."""
        return self._jacobian_with_mu(q, mu)[:, :-1].copy()

    def dH_dlam(self, q, mu):
        """The derivative in μ = ``par2`` (the Jacobian's last column)."""
        return self._jacobian_with_mu(q, mu)[:, -1].copy()


class _CurvePoint:
    """One evaluation point of a curve system: the plugin there and what was computed at it."""

    __slots__ = ("pb", "x", "lam", "rest", "mu", "A", "Hx", "solve", "J", "l1", "eig")

    def __init__(self, pb, x, lam, rest, mu, A):
        self.pb, self.x, self.lam, self.rest, self.mu, self.A = pb, x, lam, rest, mu, A
        self.Hx = self.solve = self.J = self.l1 = self.eig = None


def _bordered_inverse(M: np.ndarray) -> np.ndarray:
    """``M⁻¹`` of a small bordered matrix (LAPACK getrf, getri): its border columns are the solves
    ``M [v; g] = e`` and its border rows the transposed ones, from one call where they took a solve each.
    All NaN where ``M`` is exactly singular, which the tracker reports as non-finite."""
    lu, piv, info = _getrf(M, overwrite_a=1)  # M is the caller's scratch copy
    inv, info_inv = _getri(lu, piv, overwrite_lu=1)
    if info != 0 or info_inv != 0:
        inv = np.full_like(M, np.nan)
    return inv


class FoldProblem(_CurveProblem):
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
        self._setup(base, par2, "fold", lam_min, lam_max)
        # the BT test needs an ODE plugin; the fold system itself is no ODE right-hand side, so the
        # tracker computes no eigenvalues of its Jacobian (they mean nothing for the curve)
        self.has_bt = bool(base.is_ode_rhs)
        p, lam = np.asarray(fold[0], dtype=float), float(fold[1])
        self.n = p.shape[0]
        u_mat, _, vt = scipy.linalg.svd(base.dH_dp(p, lam))
        self.b, self.c = u_mat[:, -1].copy(), vt[-1].copy()  # left and right null vectors at the fold
        self._border = np.zeros((self.n + 1, self.n + 1))  # [[·, b], [cᵀ, 0]]: the bordered matrix but H_p
        self._border[:-1, -1], self._border[-1, :-1] = self.b, self.c
        self._b_col, self._c_col = self.b.reshape(-1, 1), self.c.reshape(-1, 1)  # the kernel's B and C
        self._start = StartPoint(np.append(p, lam), self.mu0)

    def _solve(self, pt: _CurvePoint):
        """``(v, w, g)`` of the bordered system at the point: its last column and row of ``M⁻¹``."""
        n = self.n
        if self._kernels is not None:
            inv = self._kernels.bordered_inverse(pt.A, self._b_col, self._c_col, 0.0, False)
        else:
            M = self._border.copy()
            M[:n, :n] = pt.A
            inv = _bordered_inverse(M)
        return inv[:n, n], inv[n, :n], inv[n, n]

    def H(self, q, mu):
        pt = self._point(q, mu)
        out = np.empty(self.n + 1)  # np.append without its checks
        out[:-1], out[-1] = self._Hx(pt), pt.solve[2]
        return out

    def _derivatives(self, pt: _CurvePoint) -> np.ndarray:
        """``[[H_p, H_λ, H_μ], [g_p, g_λ, g_μ]]`` with ``g_z = −w·(∂H_p/∂z) v`` (differentiating the bordered solve).

        ``w·H_pp[v, ·]`` is ``(∂H_p/∂v)ᵀw`` by the symmetry of ``H_pp``: two Jacobians of the plugin
        for ``g_p``, two for ``g_λ`` and two plugins at ``μ ± h`` for the μ column, where
        differencing the fold system column by column cost two bordered solves per unknown.
        """
        n = self.n
        v, w, _ = pt.solve
        H_mu, A_mu = self._d_dmu(pt)
        J = np.zeros((n + 1, n + 2))
        J[:n, :n] = pt.A
        J[:n, n] = np.asarray(pt.pb.dH_dlam(pt.x, pt.lam), dtype=float)
        J[:n, n + 1] = H_mu
        J[n, :n] = -w.dot(self._dA(pt, v))  # (∂H_p/∂v)ᵀw; ndarray.dot: matmul's dispatch costs more on 2 × 2
        J[n, n] = -w.dot(self._dA_dlam(pt).dot(v))
        J[n, n + 1] = -w.dot(A_mu.dot(v))
        return J

    # -- codimension-2 test functions ---------------------------------------------------------------
    def cusp_value(self, q, mu) -> float:
        """``w·H_pp[v, v]``: the fold's quadratic coefficient, zero at a cusp; ``−g_p·v``, free with the Jacobian."""
        pt = self._point(q, mu)
        v = pt.solve[0]
        return float(-(self._jacobian_with_mu(q, mu)[self.n, :self.n] @ v))

    def bt_value(self, q, mu) -> float:
        """``w·v``: zero where the zero eigenvalue of ``H_p`` is double (Bogdanov–Takens)."""
        v, w, _ = self._point(q, mu).solve
        return float(w @ v)

    normal_form_kinds = (CUSP, BOGDANOV_TAKENS)

    def events(self):
        out = [Event(CUSP, self.cusp_value)]
        if self.has_bt:
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
#: Largest difference step of ``l1`` on Hopf curves (unit eigenvector directions)
L1_STEP = 0.03
#: Above this ``|l1|`` the two-step Richardson value is kept (its error, ~1e-7 here, cannot flip the sign)
L1_REFINE = 1e-4
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


class HopfProblem(_CurveProblem):
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
        self._setup(base, par2, "hopf", lam_min, lam_max)
        p, lam = np.asarray(hopf[0], dtype=float), float(hopf[1])
        self.n = n = p.shape[0]
        A = np.asarray(base.dH_dp(p, lam), dtype=float)
        omega, _ = hopf_pair(A)
        kappa = omega * omega
        u_mat, _, vt = scipy.linalg.svd(A @ A + kappa * np.eye(n))
        self.B, self.C = u_mat[:, -2:].copy(), vt[-2:].T.copy()
        self._border = np.zeros((n + 2, n + 2))  # [[·, B], [Cᵀ, 0]]: the bordered matrix but A² + κI
        self._border[:n, n:], self._border[n:, :n] = self.B, self.C.T
        q0 = np.concatenate([p, [lam, kappa]])
        self._start = StartPoint(q0, self.mu0)
        self.entries = self._best_entries(q0)

    def _solve(self, pt: _CurvePoint):
        """``(V, W, G)``: ``[[A² + κI, B], [Cᵀ, 0]] [V; G] = [0; I₂]`` and the transposed solve ``W`` (one LU)."""
        n = self.n
        if self._kernels is not None:
            inv = self._kernels.bordered_inverse(pt.A, self.B, self.C, float(pt.rest[0]), True)
        else:
            M = self._border.copy()
            M[:n, :n] = pt.A.dot(pt.A)
            M.ravel()[:(n + 2) * n:n + 3] += float(pt.rest[0])  # + κI on the diagonal of the top-left block
            inv = _bordered_inverse(M)
        return inv[:n, n:], inv[n:, :n].T, inv[n:, n:]

    def _all_g(self, q, mu) -> np.ndarray:
        return self._point(q, mu).solve[2].ravel()

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
        pt = self._point(q, mu)
        G = pt.solve[2]
        (i1, j1), (i2, j2) = self.entries
        out = np.empty(self.n + 2)
        out[:-2], out[-2], out[-1] = self._Hx(pt), G[i1, j1], G[i2, j2]
        return out

    def _derivatives(self, pt: _CurvePoint) -> np.ndarray:
        """The Jacobian in ``(p, λ, κ, μ)``: ``[[H_p, H_λ, 0, H_μ], [∂G_ij/∂(p, λ, κ, μ)]]`` for the two chosen entries.

        Differentiating the bordered solve, ``∂G_ij/∂z = −w_iᵀ (A A_z + A_z A + κ_z I) v_j``
        (``v_j``, ``w_i`` the columns of ``V`` and ``W``, ``A_z = ∂H_p/∂z``). In ``p`` that is
        ``−[(∂H_p/∂v_j)ᵀ Aᵀw_i + (∂H_p/∂(A v_j))ᵀ w_i]`` by the symmetry of ``H_pp``: two
        directional differences of the plugin's Jacobian per column ``j`` used, where differencing
        the Hopf system column by column cost two bordered solves and two plugin evaluations per
        unknown.
        """
        n, A = self.n, pt.A
        V, W, _ = pt.solve
        H_mu, A_mu = self._d_dmu(pt)
        A_lam = self._dA_dlam(pt)
        J = np.zeros((n + 2, n + 3))
        J[:n, :n] = A
        J[:n, n] = np.asarray(pt.pb.dH_dlam(pt.x, pt.lam), dtype=float)
        J[:n, n + 2] = H_mu
        cols = sorted({j for _, j in self.entries})
        dirs = self._dA_along(pt, [u for j in cols for u in (V[:, j], A.dot(V[:, j]))])
        along = {j: (dirs[2 * k], dirs[2 * k + 1]) for k, j in enumerate(cols)}  # j -> (∂H_p/∂v_j, ∂H_p/∂(A v_j))
        for row, (i, j) in enumerate(self.entries, start=n):
            d_v, d_av = along[j]
            w, v = W[:, i], V[:, j]
            Atw, Av = w.dot(A), A.dot(v)  # ndarray.dot: matmul's dispatch costs more on these sizes
            J[row, :n] = -(Atw.dot(d_v) + w.dot(d_av))
            J[row, n] = -(Atw.dot(A_lam.dot(v)) + w.dot(A_lam.dot(Av)))
            J[row, n + 1] = -w.dot(v)
            J[row, n + 2] = -(Atw.dot(A_mu.dot(v)) + w.dot(A_mu.dot(Av)))
        return J

    # -- along the curve ---------------------------------------------------------------------------
    def l1_value(self, q, mu) -> float:
        """The first Lyapunov coefficient at the Hopf point ``q``; NaN on the neutral-saddle part (κ ≤ 0)."""
        pt = self._point(q, mu)  # metrics and the GH test ask at the same point: compute once
        if pt.l1 is None:
            pt.l1 = self._l1_at(pt)
        return pt.l1

    def _l1_at(self, pt: _CurvePoint) -> float:
        kappa = float(pt.rest[0])
        if not kappa > 0:
            return float("nan")
        pb, x, lam, A = pt.pb, pt.x, pt.lam, pt.A
        if self._batched:  # every stencil point in one vectorised call
            jac_batch = lambda P: pb.dH_dp_batch(P, lam)  # noqa: E731
        else:  # one Jacobian per distinct point: the steps h and h/2 share four
            jac = memoized_jacobian(lambda y: np.asarray(pb.dH_dp(y, lam), dtype=float))
            jac_batch = lambda P: [jac(y) for y in P]  # noqa: E731
        omega = np.sqrt(kappa)
        eigs, right = self._eig(pt)
        k = int(np.argmin(np.abs(eigs - 1j * omega)))
        qv = right[:, k]
        # the adjoint vector from the same decomposition: row k of right⁻¹ is a left eigenvector of iω,
        # its conjugate one of −iω, scaled so that p̄ᵀq = 1
        e = np.zeros(self.n, dtype=complex)
        e[k] = 1.0
        pv = np.conj(_solve_dense(right.T.copy(), e))
        pv = pv / np.conj(np.vdot(pv, qv))
        # Richardson over h, h/2 and, near l1 = 0, h/4 (errors O(h²), O(h⁴) removed): with one step
        # the rounding error of the second differences, ~ε/h², and the O(h²) error cannot both be
        # under the 1e-11 that locating GH to 1e-10 needs; h = 0.03 measured best on ab-reaction's
        # curve. Away from 0 (|l1| > L1_REFINE) the two-step value is within ~1e-7 of it: the sign
        # and the l1 column need no third step.
        kernel = None if self._kernels is None else self._kernels.l1_levels
        levels = lyapunov_levels(jac_batch, x, A, qv, pv, omega, (L1_STEP, L1_STEP / 2), kernel)
        two_step = (4.0 * levels[1] - levels[0]) / 3.0
        if abs(two_step) > L1_REFINE:
            return two_step
        levels += lyapunov_levels(jac_batch, x, A, qv, pv, omega, (L1_STEP / 4,), kernel)
        for j in (1, 2):
            levels = [(4 ** j * fine - coarse) / (4 ** j - 1) for coarse, fine in zip(levels, levels[1:])]
        return levels[0]

    def _eig(self, pt: _CurvePoint):
        """Eigenvalues and right eigenvectors of ``H_p`` at the point, once for ``l1`` and the ZH test."""
        if pt.eig is None:
            pt.eig = _eig(pt.A)
        return pt.eig

    def zh_value(self, q, mu) -> float:
        """The product of the eigenvalues of ``H_p`` other than ``±√−κ``: zero where a real one crosses 0 (zero-Hopf)."""
        if self.n <= 2:
            return 1.0  # no eigenvalue beside the pair: the empty product, and no zero-Hopf point
        eigs = self._eig(self._point(q, mu))[0]
        others = np.argsort(np.abs(eigs * eigs + float(q[-1])))[2:]
        return float(np.prod(eigs[others]).real)

    def bt_value(self, q, mu) -> float:
        """``κ = ω²``: zero where the Hopf pair merges into a double zero eigenvalue (Bogdanov–Takens)."""
        return float(q[-1])

    def metrics(self, q, mu):
        kappa = float(q[-1])
        return {"omega": float(np.sqrt(kappa)) if kappa > 0 else float("nan"), "l1": self.l1_value(q, mu)}

    normal_form_kinds = (BOGDANOV_TAKENS, GENERALISED_HOPF)

    def events(self):
        return [Event(BOGDANOV_TAKENS, self.bt_value), Event(ZERO_HOPF, self.zh_value),
                Event(GENERALISED_HOPF, self.l1_value)]


def curve_options(mu0: float, direction: int, options=None, lam_min: Optional[float] = None,
                  lam_max: Optional[float] = None):
    """``(lo, hi, options)``: the ``par2`` range (default value ± 1) and the tracker options of a two-parameter curve."""
    lo = mu0 - 1.0 if lam_min is None else float(lam_min)
    hi = mu0 + 1.0 if lam_max is None else float(lam_max)
    opts = {"parameterisation": "arclength", "lam_min": lo, "lam_max": hi, "lam_end": hi if direction > 0 else lo,
            "direction": 1 if direction > 0 else -1, "initial_ds": 0.01, "max_ds": 0.05, "chord_newton": True,
            "predictor": "hermite"}
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
