"""Orthogonal collocation of periodic orbits ``u' = T f(u, λ)`` on ``[0, 1]`` (AUTO's discretisation).

The period is scaled out, so an orbit of period ``T`` is a 1-periodic solution of
``u' = T f(u, λ)``. ``[0, 1]`` is cut into ``ntst`` mesh intervals; on each the orbit is
the polynomial of degree ``ncol`` that interpolates its values at ``ncol + 1``
equidistant nodes (the last node of an interval is the first of the next), and the ODE
holds at the ``ncol`` Gauss–Legendre points of the interval. The unknowns are

    y = (u at the ntst·ncol + 1 nodes (node-major, n components each), T, λ),

and the equations ``G(y) = 0`` are the collocation equations, periodicity
``u(0) − u(1) = 0`` and the integral phase condition ``∫₀¹ u(t)·v'(t) dt = 0`` against
a reference orbit ``v`` (the previous orbit of the branch). A continuation step borders
``G`` with one more row (pseudo-arclength). The bordered system is solved by condensation
of parameters (:mod:`pathtrack.kernels.collocation`, as AUTO): every interval's interior
unknowns are eliminated, then the interval end nodes one after the other, leaving a dense
system of ``2n + 2`` equations; cost and storage grow linearly with ``ntst``. The sparse
bordered matrix itself (:meth:`CollocationSystem.jacobian`) is kept for checks.

The monodromy matrix is the product of the condensed intervals' maps from left to right end
node at fixed ``T`` and ``λ`` (AUTO's FLOQUET). :meth:`CollocationSystem.variational` gives
every node's derivative with respect to ``u(0)`` from the sparse collocation block
(``A = [A₀ | A_r]`` split into the columns of ``u(0)`` and of all later nodes, ``A_r X = −A₀``).

Right-hand sides are evaluated for all collocation points at once (:class:`BatchedRHS`): by
the problem's ``H_batch``, ``dH_dp_batch`` and ``dH_dlam_batch`` when it defines them, else by
``H``, ``dH_dp`` and ``dH_dlam`` when they broadcast over a trailing axis (``p`` of shape
``(n, M)``), both checked against single-point calls; otherwise point by point.
"""

from __future__ import annotations

import functools
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..linalg import SingularJacobianError, norm2
from ..problem import NonFiniteError, Problem, ProblemError

__all__ = ["CollocationBasis", "BatchedRHS", "CollocationSystem"]


class CollocationBasis:
    """Lagrange basis on ``ncol + 1`` equidistant nodes of ``[0, 1]``, at the ``ncol`` Gauss points.

    Attributes
    ----------
    nodes : ndarray, shape (ncol + 1,)
    gauss, gauss_w : ndarray, shape (ncol,)
        Gauss–Legendre points and weights on ``[0, 1]``.
    L, D : ndarray, shape (ncol, ncol + 1)
        ``L[k, i] = l_i(z_k)``, ``D[k, i] = l_i'(z_k)``.
    node_w : ndarray, shape (ncol + 1,)
        ``∫₀¹ l_i``: integrates the interval's polynomial exactly (Newton–Cotes).
    phase : ndarray, shape (ncol + 1, ncol + 1)
        ``Lᵀ diag(gauss_w) D``: ``u_jᵀ phase v_j = ∫ u·v'`` over one interval (exact).
    """

    def __init__(self, ncol: int):
        self.ncol = ncol
        self.nodes = np.linspace(0.0, 1.0, ncol + 1)
        g, w = np.polynomial.legendre.leggauss(ncol)
        self.gauss, self.gauss_w = 0.5 * (g + 1.0), 0.5 * w
        # coefficients of l_i in the monomial basis: columns of the inverse Vandermonde matrix
        C = np.linalg.inv(np.vander(self.nodes, increasing=True))  # C[p, i]
        powers = np.arange(ncol + 1)
        self.coef = C
        self.L = self.eval(self.gauss)
        self.D = np.vander(self.gauss, ncol + 1, increasing=True)[:, :-1] @ (C[1:] * powers[1:, None])
        self.node_w = C.T @ (1.0 / (powers + 1.0))
        self.lead = C[ncol] * float(np.prod(np.arange(1, ncol + 1)))  # l_i^(ncol): ncol! × leading coef.
        self.phase = self.L.T @ (self.gauss_w[:, None] * self.D)

    def eval(self, s: np.ndarray) -> np.ndarray:
        """``l_i(s)`` for local coordinates ``s`` in [0, 1], shape ``(len(s), ncol + 1)``."""
        return np.vander(np.asarray(s, dtype=float), self.ncol + 1, increasing=True) @ self.coef


@functools.lru_cache(maxsize=None)
def _basis(ncol: int) -> CollocationBasis:
    """The basis of ``ncol``, made once per process: every cycle run's systems share it (none writes to
    it; not flagged read-only, which would compile the kernels once more for read-only arrays)."""
    return CollocationBasis(ncol)


#: The problem's batch method of each right-hand-side quantity.
_BATCH = {"H": "H_batch", "dH_dp": "dH_dp_batch", "dH_dlam": "dH_dlam_batch"}


class BatchedRHS:
    """``f``, ``f_u`` and ``f_λ`` of a problem at many points ``X`` (shape ``(M, n)``) at once.

    Each comes from the problem's own batch method when it defines one (``H_batch``,
    ``dH_dp_batch``, ``dH_dlam_batch``, checked by :meth:`probe` against its single-point
    method); otherwise from the single-point method called on all points at once when it
    broadcasts over a trailing axis (``p`` of shape ``(n, M)``, likewise checked); otherwise
    point by point (:class:`~pathtrack.problem.Problem`'s default batch methods).
    """

    def __init__(self, problem: Problem, n: int):
        self.problem, self.n = problem, n
        self.n_evals = 0
        self.vectorised = False
        self.own = {k: problem is not None and problem.has(b) for k, b in _BATCH.items()}
        # the problem's three batch methods, bound once, when it has them all (:meth:`all`)
        self._own_fns = tuple(getattr(problem, b) for b in _BATCH.values()) if all(self.own.values()) else None

    def probe(self, x: np.ndarray, lam: float) -> None:
        """Check the problem's batch methods, and use broadcasting calls for the others when they agree
        with single-point calls at two points near ``x``.

        Raises
        ------
        ProblemError
            A batch method of the problem returns the wrong shape or disagrees with its single-point method.
        """
        X = np.stack([x, x * (1 + 1e-3) + 1e-3])
        pb = self.problem
        for what, batch in _BATCH.items():
            if self.own[what]:
                one = getattr(pb, "_H_array" if what == "H" else what)
                single = np.array([one(p, lam) for p in X], dtype=float)
                try:
                    got = self._call(what, X, lam)
                except (ProblemError, NonFiniteError):
                    raise
                except Exception as exc:  # the plugin's own bug: say whose, in one line
                    raise ProblemError(f"problem {getattr(pb, 'name', '?')!r}: {batch}(P, lam) raised "
                                       f"{type(exc).__name__}: {exc}") from exc
                scale = max(1.0, float(np.max(np.abs(single))))
                if not np.allclose(got, single, rtol=1e-9, atol=1e-12 * scale):
                    raise ProblemError(f"problem {getattr(pb, 'name', '?')!r}: {batch} disagrees with {what} "
                                       f"at p = {X[1].tolist()}, lam = {lam}")
        if all(self.own.values()):
            return
        try:
            self.vectorised = True
            f, fu, fl = self.f(X, lam), self.fu(X, lam), self.flam(X, lam)
            self.vectorised = False
            single = (self.f(X[1:], lam)[0], self.fu(X[1:], lam)[0], self.flam(X[1:], lam)[0])
            ok = all(np.allclose(a[1], b, rtol=1e-12, atol=1e-14) for a, b in zip((f, fu, fl), single))
        except Exception:  # a right-hand side written for one point only
            ok = False
        self.vectorised = ok

    def _call(self, what: str, X: np.ndarray, lam: float, check: bool = True) -> np.ndarray:
        """``what`` (``H``, ``dH_dp`` or ``dH_dlam``) at the points ``X``: point axis first, checked."""
        pb, n = self.problem, self.n
        if self.own[what] or not self.vectorised:
            a = getattr(pb, _BATCH[what])(X, lam)
        else:
            a = self._broadcast(what, X.T, lam)
            a = np.moveaxis(np.asarray(a, dtype=float), -1, 0)  # the point axis first
        a = np.ascontiguousarray(a, dtype=float)
        shape = (X.shape[0], n, n) if what == "dH_dp" else (X.shape[0], n)
        if a.shape != shape:
            called = _BATCH[what] if self.own[what] or not self.vectorised else what
            raise ProblemError(f"problem {getattr(pb, 'name', '?')!r}: {called} returned shape "
                               f"{a.shape} for {X.shape[0]} points, expected {shape}")
        if check and not np.isfinite(a).all():
            raise NonFiniteError(f"{what} is not finite")
        return a

    def _broadcast(self, what: str, P: np.ndarray, lam: float):
        """The single-point method on all points at once (``P`` of shape ``(n, M)``)."""
        pb = self.problem
        if what == "H":
            return pb.H(P, lam)
        if what == "dH_dp":
            if pb.has("dH_dp"):
                return pb.dH_dp(P, lam)
            import autograd
            import autograd.numpy as anp
            # each column of H depends on its own column of p only: differentiate the row sums
            return autograd.jacobian(lambda Q: anp.sum(pb._H_array(Q, lam), axis=1))(P.copy())
        if pb.has("dH_dlam"):
            return pb.dH_dlam(P, lam)
        from autograd import make_jvp  # forward mode: one pass for all M·n outputs
        return make_jvp(lambda t: pb._H_array(P, t))(float(lam))(1.0)[1]

    def all(self, X: np.ndarray, lam: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(f, f_u, f_λ)`` at the points ``X``, unchecked for NaN or inf (the kernels check them).

        The problem's own batch methods, called directly when it has all three and they return
        contiguous float arrays of the right shapes (a Newton iteration's evaluations); otherwise
        as :meth:`f`, :meth:`fu` and :meth:`flam` with ``check=False``.
        """
        fns = self._own_fns
        if fns is not None:
            M, n = X.shape[0], self.n
            f, fu, fl = fns[0](X, lam), fns[1](X, lam), fns[2](X, lam)
            if (type(f) is np.ndarray and type(fu) is np.ndarray and type(fl) is np.ndarray
                    and f.dtype == fu.dtype == fl.dtype == np.float64 and f.shape == fl.shape == (M, n)
                    and fu.shape == (M, n, n) and f.flags.c_contiguous and fu.flags.c_contiguous
                    and fl.flags.c_contiguous):
                self.n_evals += M
                return f, fu, fl
        return self.f(X, lam, check=False), self.fu(X, lam, check=False), self.flam(X, lam, check=False)

    def f(self, X: np.ndarray, lam: float, check: bool = True) -> np.ndarray:
        """``f`` at the points ``X``, shape ``(M, n)``; ``check``: raise NonFiniteError on NaN or inf."""
        self.n_evals += X.shape[0]
        return self._call("H", X, lam, check)

    def fu(self, X: np.ndarray, lam: float, check: bool = True) -> np.ndarray:
        """``f_u`` at the points ``X``, shape ``(M, n, n)``."""
        return self._call("dH_dp", X, lam, check)

    def flam(self, X: np.ndarray, lam: float, check: bool = True) -> np.ndarray:
        """``f_λ`` at the points ``X``, shape ``(M, n)``."""
        return self._call("dH_dlam", X, lam, check)


class CollocationSystem:
    """The collocation equations of periodic orbits of a problem on one mesh.

    Parameters
    ----------
    rhs : BatchedRHS
    mesh : ndarray, shape (ntst + 1,)
        Increasing, from 0 to 1.
    ncol : int
    """

    def __init__(self, rhs: BatchedRHS, mesh: np.ndarray, ncol: int):
        from ..kernels import collocation as kc  # Numba loads with the first system, not on import

        self._kc = kc
        self.rhs, self.n = rhs, rhs.n
        self.basis = _basis(ncol)
        self.ncol = ncol
        self.set_mesh(mesh)
        self.ref_row: Optional[np.ndarray] = None

    # -- layout ----------------------------------------------------------------------------------
    def set_mesh(self, mesh: np.ndarray) -> None:
        mesh = np.asarray(mesh, dtype=float)
        self.last_factor = None
        self.ref_row = None
        self._last_f = None  # (y, Z, dZ, f): Newton evaluates F and the Jacobian at one y
        self._newton_args = None  # newton_step's arguments on this mesh, made on first use
        n, c, N = self.n, self.ncol, len(mesh) - 1
        if N != getattr(self, "ntst", None):  # a new layout (an adapted mesh keeps the old one)
            self.ntst = N
            self.n_nodes = N * c + 1
            self.n_u = self.n_nodes * n
            self.size = self.n_u + 2  # (u, T, λ)
            self.n_colloc = N * c * n
            # node indices of interval j: j*c .. j*c + c
            self.node_idx = np.arange(N)[:, None] * c + np.arange(c + 1)[None, :]  # (N, c+1)
            self._patterns = None  # the sparse patterns of jacobian() and variational(), made on first use
            self._work = self._mono_work = None  # the kernels' arrays, made on first use
        self.mesh = mesh
        self.h = mesh[1:] - mesh[:-1]  # np.diff, without its checks
        self._times = None
        w = np.zeros(self.n_nodes)
        w[:-1].reshape(N, c)[:] = self.h[:, None] * self.basis.node_w[None, :c]
        w[c::c] += self.h * self.basis.node_w[c]  # the right end of interval j is the left end of j+1
        self.node_weights = w  # ∫₀¹ of the piecewise polynomial through node values: Σ w_g u_g
        weights = np.empty(self.size)
        weights[:-2].reshape(self.n_nodes, n)[:] = w[:, None]
        weights[-2:] = 1.0
        weights.setflags(write=False)
        self._weights = weights

    @property
    def times(self) -> np.ndarray:
        """The nodes' times in [0, 1], shape ``(n_nodes,)`` (made on first use per mesh)."""
        if self._times is None:
            self._times = _node_times(self.mesh, self.basis.nodes)
        return self._times

    def _sparse_patterns(self):
        """Sparsity of the bordered Jacobian and of the monodromy's block, fixed per mesh."""
        if self._patterns is not None:
            return self._patterns
        n, c, N = self.n, self.ncol, self.ntst
        # the collocation block: rows (j, k, a), columns (node_idx[j, i], b)
        j, k, a, i, b = np.meshgrid(np.arange(N), np.arange(c), np.arange(n), np.arange(c + 1), np.arange(n),
                                    indexing="ij")
        rows = ((j * c + k) * n + a).ravel()
        cols = (self.node_idx[j, i] * n + b).ravel()
        nc, nu = self.n_colloc, self.n_u
        rows_T, per = np.arange(nc), np.arange(n)
        r = np.concatenate([rows, rows_T, rows_T, nc + per, nc + per,
                            np.full(nu, nc + n), np.full(self.size, nc + n + 1)])
        cidx = np.concatenate([cols, np.full(nc, nu), np.full(nc, nu + 1), per, nu - n + per,
                               np.arange(nu), np.arange(self.size)])
        # the monodromy's block: collocation rows, columns of every node but the first
        later = cols >= n
        self._patterns = (_csc_pattern(r, cidx, (self.size, self.size)), rows, cols, ~later,
                          _csc_pattern(rows[later], cols[later] - n, (nc, nu - n)))
        return self._patterns

    def _at_gauss(self, y: np.ndarray):
        """``(Z, dZ, f)``: the orbit of ``y``, its derivative and ``f`` at the Gauss points, kept for a
        next call at ``y``."""
        last = self._last_f
        if last is not None and last[0] == y.tobytes():  # the same point (cheaper than np.array_equal)
            return last[1], last[2], last[3]
        U, _, lam = self.split(y)
        Z, dZ = self._gauss(U)
        f = self.rhs.f(Z, lam, check=False)  # the residual and factor kernels check that it is finite
        self._last_f = (y.tobytes(), Z, dZ, f)
        return Z, dZ, f

    def _gauss(self, U: np.ndarray):
        """The orbit and its derivative at the Gauss points, each of shape ``(ntst·ncol, n)``."""
        kc = self._kc
        Z, dZ = np.empty((2, self.ntst * self.ncol, self.n))
        kc.at_gauss(self.basis.L, self.basis.D, self.h, np.ascontiguousarray(U, dtype=float), Z, dZ)
        return Z, dZ

    def _workspace(self, monodromy: bool = False) -> tuple:
        """The arrays :func:`~pathtrack.kernels.collocation.condense` fills, allocated once per mesh.

        ``monodromy``: the arrays of :func:`~pathtrack.kernels.collocation.monodromy` instead,
        which leaves the last Newton factorisation (:meth:`resolve_last`) intact.
        """
        work = self._mono_work if monodromy else self._work
        if work is not None:
            return work
        N, c, n = self.ntst, self.ncol, self.n
        m, q = (c - 1) * n, c * n
        if monodromy:
            work = (np.empty((N, m), dtype=np.int64), np.empty((N, n, 2 * n + 2)), np.empty((q, m + 2 * n)),
                    np.empty((n, 2 * n)), np.empty((n, n)), np.empty((n, n)))
            self._mono_work = work
        else:
            work = (np.zeros((2, self.size)), np.empty((N, q, m)), np.empty((N, m), dtype=np.int64),
                    np.empty((N, m, 2 * n + 2)), np.empty((N, n, 2 * n + 2)), np.empty((2, (N + 1) * n + 2)),
                    np.empty((q, m + 2 * n + 2)), np.empty((N, 2 * n + 2, 3 * n + 2)),
                    np.zeros((N, n), dtype=np.int64), np.empty((2 * n + 2, 2 * n + 2)),
                    np.empty(2 * n + 2, dtype=np.int64))
            self._work = work
            self._solve_work = (np.empty((N, q)), np.empty((N, m)), np.empty((N, n)), np.empty(2 * n + 2))
            # newton_step's own: Z, dZ, the collocation and end right-hand sides, the update's node values
            self._newton_work = (np.empty((N * c, n)), np.empty((N * c, n)), np.empty((N, q)), np.empty((3, max(n, 2))),
                                 np.empty((self.n_nodes, n)), np.empty(3))
        return work

    def weights(self) -> np.ndarray:
        """Weights of the inner product of the continuation: ``∫₀¹ u·v dt + T_a T_b + λ_a λ_b``."""
        return self._weights

    def split(self, y: np.ndarray) -> Tuple[np.ndarray, float, float]:
        """``(U, T, λ)`` with ``U`` of shape ``(n_nodes, n)``."""
        return y[:self.n_u].reshape(self.n_nodes, self.n), float(y[-2]), float(y[-1])

    def pack(self, U: np.ndarray, T: float, lam: float) -> np.ndarray:
        return np.concatenate([np.asarray(U, dtype=float).ravel(), [T, lam]])

    def gauss_values(self, U: np.ndarray) -> np.ndarray:
        """The orbit at the Gauss points, shape ``(ntst·ncol, n)``."""
        return self._gauss(U)[0]

    # -- phase condition -------------------------------------------------------------------------
    def phase_row(self, U_ref: np.ndarray) -> np.ndarray:
        """Row ``r`` with ``r·U = ∫₀¹ u·v'`` for the reference orbit ``v`` (node values ``U_ref``)."""
        row = np.empty((self.n_nodes, self.n))
        self._kc.phase_row(self.basis.phase, np.ascontiguousarray(U_ref, dtype=float), row)
        return row.ravel()

    def set_reference(self, y_ref: np.ndarray) -> None:
        """Phase condition against the orbit of ``y_ref``."""
        key = y_ref[:self.n_u].tobytes()  # cheaper than np.array_equal at these sizes
        if self.ref_row is not None and key == self._ref_u:
            return  # the same orbit again (a step's corrections all refer to its start)
        self._ref_u = key
        self.ref_row = self.phase_row(self.split(y_ref)[0])

    # -- equations -------------------------------------------------------------------------------
    def F(self, y: np.ndarray) -> np.ndarray:
        """Collocation, periodicity and phase residuals, length ``size − 1``."""
        kc = self._kc
        U, T, _ = self.split(y)
        _, dZ, f = self._at_gauss(y)
        out = np.empty(self.size - 1)
        if kc.residual(dZ, f, T, np.ascontiguousarray(U), self.ref_row, out) != kc.OK:
            raise NonFiniteError("collocation residual is not finite")
        return out

    def residual_norm(self, y: np.ndarray) -> float:
        """``‖F(y)‖₂`` (:meth:`F`), with ``f`` from the same call as a Newton iteration's.

        Raises
        ------
        NonFiniteError
            The residual is not finite.
        """
        (L, D, h, Z, dZ), _, _, _, _, n_nodes, _ = self._newton_arguments()
        kc, U = self._kc, y[:-2].reshape(n_nodes, self.n)
        kc.at_gauss(L, D, h, U, Z, dZ)
        out = self._residual_out
        if kc.residual(dZ, self.rhs.f(Z, float(y[-1]), check=False), float(y[-2]), U, self.ref_row, out) != kc.OK:
            raise NonFiniteError("collocation residual is not finite")
        return norm2(out)

    def colloc_blocks(self, y: np.ndarray, with_params: bool = True):
        """Values of the collocation block (COO order of :meth:`_sparse_patterns`), and ``∂/∂T``, ``∂/∂λ``."""
        U, T, lam = self.split(y)
        Z = self.gauss_values(U)
        N, c, n = self.ntst, self.ncol, self.n
        fu = self.rhs.fu(Z, lam).reshape(N, c, n, n)
        B = self.basis
        eye = np.eye(n)
        # V[j,k,a,i,b] = D[k,i]/h_j δ_ab − T L[k,i] f_u[j,k,a,b]
        V = (B.D[None, :, None, :, None] / self.h[:, None, None, None, None]) * eye[None, None, :, None, :] \
            - T * B.L[None, :, None, :, None] * fu[:, :, :, None, :]
        if not with_params:
            return V.ravel(), None, None
        f = self.rhs.f(Z, lam)
        return V.ravel(), -f.ravel(), -T * self.rhs.flam(Z, lam).ravel()

    def jacobian(self, y: np.ndarray, border: np.ndarray) -> sp.csc_matrix:
        """The bordered Jacobian ``[∂G/∂y; borderᵀ]``, square, sparse."""
        vals, dT, dlam = self.colloc_blocks(y)
        n = self.n
        v = np.concatenate([vals, dT, dlam, np.ones(n), -np.ones(n), self.ref_row, border])
        return _csc(v, self._sparse_patterns()[0])

    def solve(self, y: np.ndarray, border: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """Solve ``[∂G/∂y; borderᵀ] z = rhs`` by condensation of parameters.

        Each interval's interior unknowns, then the end nodes ``u_1 … u_ntst−1``, are eliminated
        (:func:`pathtrack.kernels.collocation.factor`); the ``2n + 2`` system left in ``u(0)``,
        ``u(1)``, ``T``, ``λ`` is solved densely and the rest follows by back-substitution. The
        elimination is kept for :meth:`resolve_last`.
        """
        self.last_factor = None  # a failed factorisation leaves the workspace half overwritten
        self.last_factor = (self._factor(y, border), border)
        self._factored_at = y.copy()
        return self._solve_factored(self.last_factor[0], rhs)

    def newton_step(self, y: np.ndarray, border: np.ndarray, c: float) -> Tuple[np.ndarray, float, float, float]:
        """One Newton iteration on ``G(y) = 0``, ``border·y = c``: ``(y + Δy, ‖Δy‖₂, ‖y + Δy‖₂, ‖G(y)‖₂)``.

        The same iterate as ``y + solve(y, border, −[G(y); border·y − c])``, with ``f``, ``f_u`` and
        ``f_λ`` evaluated once and the residual, condensation and solve in one compiled call
        (:func:`pathtrack.kernels.collocation.newton_step`). The elimination is kept for
        :meth:`resolve_last` and :meth:`monodromy_last`.

        Raises
        ------
        NonFiniteError
            The residual, ``f``, ``f_u`` or ``f_λ`` is not finite.
        SingularJacobianError
            A zero pivot, or an update that is not finite.
        """
        kc = self._kc
        gauss_args, shape, shape_u, work, out, n_nodes, factor = self._newton_arguments()
        L, D, h, Z, dZ = gauss_args
        lam = float(y[-1])
        kc.at_gauss(L, D, h, y[:-2].reshape(n_nodes, self.n), Z, dZ)
        # contiguous (BatchedRHS): one kernel specialisation; the kernel checks that they are finite
        f, fu, flam = self.rhs.all(Z, lam)
        y_new = np.empty(self.size)
        code = kc.newton_step(D, L, h, fu.reshape(shape_u), f.reshape(shape), flam.reshape(shape), dZ, y,
                              self.ref_row, border, float(c), *work, y_new, out)
        self._last_f = None
        self.last_factor = (factor, border) if code == kc.OK else None
        self._factored_at = y.copy()
        if code == kc.NONFINITE:
            raise NonFiniteError("collocation residual, f, f_u or f_λ is not finite")
        if code != kc.OK:
            raise SingularJacobianError("collocation Jacobian is singular")
        return y_new, float(out[0]), float(out[1]), float(out[2])

    def _newton_arguments(self) -> tuple:
        """The arguments of :meth:`newton_step`'s kernels that do not change between iterations, per mesh."""
        if self._newton_args is None:
            work = self._workspace()
            Z, dZ, r, r_ends, dU, out = self._newton_work
            N, n = self.ntst, self.n
            self._newton_args = ((self.basis.L, self.basis.D, self.h, Z, dZ), (N, self.ncol, n), (N, self.ncol, n, n),
                                 work + (r, r_ends, dU) + self._solve_work[1:], out, self.n_nodes,
                                 work[1:4] + (work[0],) + work[7:])
            self._residual_out = np.empty(self.size - 1)
        return self._newton_args

    def resolve_last(self, border: np.ndarray, rhs: np.ndarray) -> Optional[np.ndarray]:
        """Solve with the last factorisation if it was bordered by ``border`` (the same array), else None."""
        last = getattr(self, "last_factor", None)
        if last is None or last[1] is not border:
            return None
        return self._solve_factored(last[0], rhs)

    def _factor(self, y: np.ndarray, border: np.ndarray):
        """Condense the bordered Jacobian at ``y`` and eliminate the end nodes: the kernel's factor arrays.

        They are the mesh's workspace, overwritten by the next factorisation.
        """
        kc = self._kc
        T, lam = float(y[-2]), float(y[-1])
        Z, _, f = self._at_gauss(y)
        N, c, n = self.ntst, self.ncol, self.n
        # contiguous (BatchedRHS): one kernel specialisation; the kernel checks that they are finite
        fu = self.rhs.fu(Z, lam, check=False).reshape(N, c, n, n)
        work = self._workspace()
        dense = work[0]
        dense[0, :self.n_u] = 0.0 if self.ref_row is None else self.ref_row
        dense[1] = border
        code = kc.factor(self.basis.D, self.basis.L, self.h, T, fu, f.reshape(N, c, n),
                         self.rhs.flam(Z, lam, check=False).reshape(N, c, n), *work)
        self._raise_for(code)
        return work[1:4] + (dense,) + work[7:]

    def _raise_for(self, code: int) -> None:
        """The exception of a condensation kernel's status code (none for ``OK``)."""
        if code == self._kc.NONFINITE:
            raise NonFiniteError("f, f_u or f_λ at the collocation points is not finite")
        if code != self._kc.OK:
            raise SingularJacobianError("collocation Jacobian is singular (zero pivot in the condensation)")

    def _solve_factored(self, factor, rhs: np.ndarray) -> np.ndarray:
        n, nc = self.n, self.n_colloc
        r, Xr, R, v = self._solve_work
        r.ravel()[:] = rhs[:nc]  # the kernel overwrites its collocation right-hand side
        z = np.empty(self.size)
        code = self._kc.solve(*factor, r, np.ascontiguousarray(rhs[nc:nc + n], dtype=float),
                              np.ascontiguousarray(rhs[-2:], dtype=float),
                              z[:self.n_u].reshape(self.n_nodes, n), z[self.n_u:], Xr, R, v)
        if code != self._kc.OK:
            raise SingularJacobianError("collocation Jacobian is numerically singular")
        return z

    # -- stability -------------------------------------------------------------------------------
    def monodromy(self, y: np.ndarray) -> np.ndarray:
        """``∂u(1)/∂u(0)`` from the condensed collocation Jacobian at fixed ``T`` and ``λ``, shape ``(n, n)``.

        The condensed block of interval ``j`` maps its left end node to its right one,
        ``u_j+1 = −B_j⁻¹ A_j u_j`` (AUTO's FLOQUET); the monodromy matrix is the product of
        these maps (:func:`pathtrack.kernels.collocation.monodromy`). When the last factorisation
        was at ``y`` its condensed blocks are these (the same pivots): they are reused.
        """
        if self.last_factor is not None and np.array_equal(y, self._factored_at):
            return self.monodromy_last()
        kc = self._kc
        _, T, lam = self.split(y)
        Z = self._at_gauss(y)[0]
        N, c, n = self.ntst, self.ncol, self.n
        fu = self.rhs.fu(Z, lam, check=False).reshape(N, c, n, n)
        work = self._workspace(monodromy=True)
        self._raise_for(kc.monodromy(self.basis.D, self.basis.L, self.h, float(T), fu, *work))
        return work[-2].copy()

    def monodromy_last(self) -> Optional[np.ndarray]:
        """The monodromy matrix from the condensed blocks of the last factorisation, or None when there is none.

        After a Newton correction that converged to ``y`` it is the Jacobian at the iterate
        before ``y`` (within ``newton_tol``), as AUTO's Floquet multipliers are: no second
        condensation at ``y``.
        """
        if self.last_factor is None:
            return None
        work = self._workspace(monodromy=True)
        self._raise_for(self._kc.chain(self._work[4], work[3], work[4], work[5]))
        return work[4].copy()

    def variational(self, y: np.ndarray) -> np.ndarray:
        """``∂u(t_g)/∂u(0)`` at every node ``g`` (fixed ``T``, ``λ``), shape ``(n_nodes, n, n)``."""
        vals, _, _ = self.colloc_blocks(y, with_params=False)
        n = self.n
        A0 = np.zeros((self.n_colloc, n))
        _, rows, cols, first, mono_pattern = self._sparse_patterns()
        A0[rows[first], cols[first]] = vals[first]
        Ar = _csc(vals[~first], mono_pattern)
        try:
            X = spla.splu(Ar).solve(-A0)
        except RuntimeError as exc:
            raise SingularJacobianError(f"collocation block is singular ({exc})") from None
        return np.concatenate([np.eye(n), X]).reshape(self.n_nodes, n, n)

    # -- measures of an orbit --------------------------------------------------------------------
    def l2_norm(self, y: np.ndarray) -> float:
        """AUTO's L2 norm: ``sqrt(∫₀¹ |u(t)|² dt)`` by the node quadrature of the mesh."""
        return self.measures(y)[0]

    def measures(self, y: np.ndarray) -> Tuple[float, float, float]:
        """``(L2 norm, amplitude, max |u|)`` of the orbit: :meth:`l2_norm`, the largest half peak-to-peak
        of a component over the nodes, the largest ``|u|`` of a component."""
        out = np.empty(3)
        self._kc.measures(np.ascontiguousarray(self.split(y)[0]), self.node_weights, out)
        return float(out[0]), float(out[1]), float(out[2])

    def deviations(self, y_a: np.ndarray, y_b: np.ndarray) -> Tuple[float, float, float]:
        """``(⟨da, da⟩, ⟨db, db⟩, ⟨da, db⟩)`` of the deviations ``u − ū`` of two orbits on this mesh from
        their means, in the inner product ``∫₀¹ u·v dt``."""
        out = np.empty(3)
        Ua, Ub = (np.ascontiguousarray(self.split(y)[0]) for y in (y_a, y_b))
        self._kc.deviations(Ua, Ub, self.node_weights, out)
        return float(out[0]), float(out[1]), float(out[2])

    def interpolate(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The orbit's piecewise polynomial at times ``t`` in [0, 1], shape ``(len(t), n)``."""
        t = np.ascontiguousarray(t, dtype=float).ravel()
        out = np.empty((len(t), self.n))
        U = np.ascontiguousarray(self.split(y)[0], dtype=float)
        self._kc.interpolate(self.mesh, self.basis.coef, U, t, out)
        return out

    # -- mesh adaptation -------------------------------------------------------------------------
    def adapted_mesh(self, ys) -> np.ndarray:
        """A mesh equidistributing the local error estimate of the orbits ``ys`` (de Boor's monitor, as AUTO).

        On each interval the ``ncol``-th derivative of the collocation polynomial is a
        constant; the error of degree-``ncol`` collocation is ``~ h^(ncol+1) |u^(ncol+1)|``,
        and ``u^(ncol+1)`` is estimated by differences of the neighbours' ``ncol``-th
        derivatives. The new mesh puts equal parts of ``∫ |u^(ncol+1)|^(1/(ncol+1))`` in
        every interval.
        """
        c, N, h = self.ncol, self.ntst, self.h
        monitor, d = np.zeros(N), np.empty((N, self.n))
        for y in ys:
            self._kc.mesh_monitor(self.basis.lead, np.ascontiguousarray(self.split(y)[0]), h, d, monitor)
        density = monitor ** (1.0 / (c + 1))
        density = np.maximum(density, 1e-3 * max(density.max(), 1e-300))  # keep every interval finite
        cum = np.concatenate([[0.0], np.cumsum(density * h)])
        cum /= cum[-1]
        new = np.interp(np.arange(N + 1) * (1.0 / N), cum, self.mesh)  # np.linspace but the last (set below)
        new[0], new[-1] = 0.0, 1.0
        return new

    def remesh(self, y: np.ndarray, new_mesh: np.ndarray) -> np.ndarray:
        """``y``'s orbit (on the current mesh) at the nodes of ``new_mesh``; T and λ unchanged.

        ``y`` may be several points, one a row (shape ``(k, size)``): all at the cost of one.
        """
        t = _node_times(np.asarray(new_mesh, dtype=float), self.basis.nodes)
        Y = np.atleast_2d(y)
        k, n, G = Y.shape[0], self.n, self.n_nodes
        # all the orbits side by side, one interpolation: the same arithmetic per column as one by one
        U = np.ascontiguousarray(Y[:, :-2].reshape(k, G, n).transpose(1, 0, 2).reshape(G, k * n))
        at_t = np.empty((len(t), k * n))
        self._kc.interpolate(self.mesh, self.basis.coef, U, t, at_t)
        out = np.empty((k, len(t) * n + 2))
        out[:, :-2] = at_t.reshape(len(t), k, n).transpose(1, 0, 2).reshape(k, -1)
        out[:, -2:] = Y[:, -2:]
        return out if np.ndim(y) == 2 else out[0]


def _csc_pattern(rows: np.ndarray, cols: np.ndarray, shape: tuple):
    """``(permutation, indices, indptr, shape)``: COO entries (no duplicates) in CSC order."""
    order = np.lexsort((rows, cols))
    counts = np.bincount(cols, minlength=shape[1])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return order, rows[order].astype(np.int32), indptr, shape


def _csc(values: np.ndarray, pattern) -> sp.csc_matrix:
    order, indices, indptr, shape = pattern
    return sp.csc_matrix((values[order], indices, indptr), shape=shape)


def _node_times(mesh: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    h = mesh[1:] - mesh[:-1]
    t = np.empty(len(h) * (len(nodes) - 1) + 1)  # filled in place: np.diff and np.append cost more here
    np.add(mesh[:-1, None], h[:, None] * nodes[None, :-1], out=t[:-1].reshape(len(h), len(nodes) - 1))
    t[-1] = 1.0
    return t
