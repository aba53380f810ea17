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

Right-hand sides are evaluated for all collocation points at once when the problem's
``H``, ``dH_dp`` and ``dH_dlam`` broadcast over a trailing axis (``p`` of shape
``(n, M)``), which is checked against single-point calls; otherwise point by point.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..linalg import SingularJacobianError
from ..problem import NonFiniteError, Problem

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
        self.phase = self.L.T @ (self.gauss_w[:, None] * self.D)

    def eval(self, s: np.ndarray) -> np.ndarray:
        """``l_i(s)`` for local coordinates ``s`` in [0, 1], shape ``(len(s), ncol + 1)``."""
        return np.vander(np.asarray(s, dtype=float), self.ncol + 1, increasing=True) @ self.coef


class BatchedRHS:
    """``f``, ``f_u`` and ``f_λ`` of a problem at many points ``X`` (shape ``(M, n)``) at once."""

    def __init__(self, problem: Problem, n: int):
        self.problem, self.n = problem, n
        self.n_evals = 0
        self.vectorised = False

    def probe(self, x: np.ndarray, lam: float) -> None:
        """Use broadcasting calls when they agree with single-point calls at two points near ``x``."""
        X = np.stack([x, x * (1 + 1e-3) + 1e-3])
        try:
            self.vectorised = True
            f, fu, fl = self.f(X, lam), self.fu(X, lam), self.flam(X, lam)
            self.vectorised = False
            single = (self.f(X[1:], lam)[0], self.fu(X[1:], lam)[0], self.flam(X[1:], lam)[0])
            ok = all(np.allclose(a[1], b, rtol=1e-12, atol=1e-14) for a, b in zip((f, fu, fl), single))
        except Exception:  # a right-hand side written for one point only
            ok = False
        self.vectorised = ok

    def _check(self, a: np.ndarray, shape: tuple, what: str) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        if a.shape != shape:
            raise ValueError(f"{what} has shape {a.shape}, expected {shape}")
        if not np.isfinite(a).all():
            raise NonFiniteError(f"{what} is not finite")
        return a

    def _eval(self, what: str, X: np.ndarray, tail: tuple, batched, single) -> np.ndarray:
        """``batched(P)`` on all points (trailing point axis) if vectorised, else ``single(x)`` per point."""
        if self.vectorised:
            a = np.asarray(batched(X.T), dtype=float)
            a = a.transpose((a.ndim - 1,) + tuple(range(a.ndim - 1)))  # the point axis first
        else:
            a = np.array([single(x) for x in X], dtype=float)
        return self._check(a, (X.shape[0],) + tail, what)

    def f(self, X: np.ndarray, lam: float) -> np.ndarray:
        self.n_evals += X.shape[0]
        pb = self.problem
        return self._eval("H", X, (self.n,), lambda P: pb.H(P, lam), lambda x: pb.H(x, lam))

    def fu(self, X: np.ndarray, lam: float) -> np.ndarray:
        pb = self.problem

        def batched(P):
            if pb.has("dH_dp"):
                return pb.dH_dp(P, lam)
            import autograd
            import autograd.numpy as anp
            # each column of H depends on its own column of p only: differentiate the row sums
            return autograd.jacobian(lambda Q: anp.sum(pb._H_array(Q, lam), axis=1))(P.copy())

        return self._eval("dH_dp", X, (self.n, self.n), batched, lambda x: pb.dH_dp(x, lam))

    def flam(self, X: np.ndarray, lam: float) -> np.ndarray:
        pb = self.problem

        def batched(P):
            if pb.has("dH_dlam"):
                return pb.dH_dlam(P, lam)
            from autograd import make_jvp  # forward mode: one pass for all M·n outputs
            return make_jvp(lambda t: pb._H_array(P, t))(float(lam))(1.0)[1]

        return self._eval("dH_dlam", X, (self.n,), batched, lambda x: pb.dH_dlam(x, lam))


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
        self.rhs, self.n = rhs, rhs.n
        self.basis = CollocationBasis(ncol)
        self.ncol = ncol
        self.set_mesh(mesh)
        self.ref_row: Optional[np.ndarray] = None

    # -- layout ----------------------------------------------------------------------------------
    def set_mesh(self, mesh: np.ndarray) -> None:
        mesh = np.asarray(mesh, dtype=float)
        self.last_factor = None
        self.mesh, self.ntst = mesh, len(mesh) - 1
        self.h = np.diff(mesh)
        n, c, N = self.n, self.ncol, self.ntst
        self.n_nodes = N * c + 1
        self.n_u = self.n_nodes * n
        self.size = self.n_u + 2  # (u, T, λ)
        self.times = _node_times(mesh, self.basis.nodes)
        # node indices of interval j: j*c .. j*c + c
        self.node_idx = np.arange(N)[:, None] * c + np.arange(c + 1)[None, :]  # (N, c+1)
        w = np.zeros(self.n_nodes)
        np.add.at(w, self.node_idx, self.h[:, None] * self.basis.node_w[None, :])
        self.node_weights = w  # ∫₀¹ of the piecewise polynomial through node values: Σ w_g u_g
        self._weights = np.concatenate([np.repeat(w, n), [1.0, 1.0]])
        self._weights.setflags(write=False)
        self.n_colloc = N * c * n
        self.ref_row = None
        self._patterns = None  # the sparse patterns of jacobian() and variational(), made on first use
        self._last_f = None  # (y, Z, f): Newton evaluates F and the Jacobian at one y

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
        """``(Z, f)``: the orbit of ``y`` and ``f`` at the Gauss points, kept for a next call at ``y``."""
        last = self._last_f
        if last is not None and np.array_equal(last[0], y):
            return last[1], last[2]
        U, _, lam = self.split(y)
        Z = self.gauss_values(U)
        f = self.rhs.f(Z, lam)
        self._last_f = (y.copy(), Z, f)
        return Z, f

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
        return self._per_interval(self.basis.L, U).reshape(-1, self.n)

    # -- phase condition -------------------------------------------------------------------------
    def phase_row(self, U_ref: np.ndarray) -> np.ndarray:
        """Row ``r`` with ``r·U = ∫₀¹ u·v'`` for the reference orbit ``v`` (node values ``U_ref``)."""
        contrib = self._per_interval(self.basis.phase, U_ref)  # (N, c+1, n)
        c = self.ncol
        row = np.zeros((self.n_nodes, self.n))
        row[:-1].reshape(self.ntst, c, self.n)[:] = contrib[:, :c]
        row[c::c] += contrib[:, c]  # the right end of interval j is the left end of j+1
        return row.ravel()

    def _per_interval(self, M: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``M @ U[node_idx[j]]`` for every interval ``j``, shape ``(ntst, len(M), n)``.

        One BLAS product on the gathered node values (a batched matmul over the intervals
        costs several times more at these sizes).
        """
        G = U[self.node_idx.T]  # (c+1, N, n)
        out = M @ G.reshape(self.ncol + 1, -1)
        return out.reshape(len(M), self.ntst, self.n).transpose(1, 0, 2)

    def set_reference(self, y_ref: np.ndarray) -> None:
        """Phase condition against the orbit of ``y_ref``."""
        self.ref_row = self.phase_row(self.split(y_ref)[0])

    # -- equations -------------------------------------------------------------------------------
    def F(self, y: np.ndarray) -> np.ndarray:
        """Collocation, periodicity and phase residuals, length ``size − 1``."""
        U, T, lam = self.split(y)
        dU = self._per_interval(self.basis.D, U) / self.h[:, None, None]
        col = dU.reshape(-1, self.n) - T * self._at_gauss(y)[1]
        out = np.concatenate([col.ravel(), U[0] - U[-1], [self.ref_row @ y[:self.n_u]]])
        if not np.all(np.isfinite(out)):
            raise NonFiniteError("collocation residual is not finite")
        return out

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
        self.last_factor = (self._factor(y, border), border)
        return self._solve_factored(self.last_factor[0], rhs)

    def resolve_last(self, border: np.ndarray, rhs: np.ndarray) -> Optional[np.ndarray]:
        """Solve with the last factorisation if it was bordered by ``border`` (the same array), else None."""
        last = getattr(self, "last_factor", None)
        if last is None or last[1] is not border:
            return None
        return self._solve_factored(last[0], rhs)

    def _factor(self, y: np.ndarray, border: Optional[np.ndarray], reduced: bool = True):
        """Condense the bordered Jacobian at ``y``; with ``reduced``, also eliminate the end nodes.

        Returns the kernel's factor arrays, or (``reduced`` False) the condensed blocks
        ``[A_j | B_j | C_j]``, shape ``(ntst, n, 2n + 2)``.
        """
        from ..kernels import collocation as kc

        _, T, lam = self.split(y)
        Z, f = self._at_gauss(y)
        N, c, n = self.ntst, self.ncol, self.n
        m, q = (c - 1) * n, c * n
        # contiguous arrays: one specialisation of each kernel (the problem's arrays may be transposed views)
        fu = np.ascontiguousarray(self.rhs.fu(Z, lam).reshape(N, c, n, n))
        if reduced:
            f = np.ascontiguousarray(f.reshape(N, c, n))
            flam = np.ascontiguousarray(self.rhs.flam(Z, lam).reshape(N, c, n))
        else:  # the condensed u-blocks do not depend on the parameter columns
            f = flam = np.zeros((N, c, n))
        dense = np.zeros((2, self.size))
        if self.ref_row is not None:
            dense[0, :self.n_u] = self.ref_row
        if border is not None:
            dense[1] = border
        LU, piv, X = np.empty((N, q, m)), np.empty((N, m), dtype=np.int64), np.empty((N, m, 2 * n + 2))
        red, dense_red = np.empty((N, n, 2 * n + 2)), np.empty((2, (N + 1) * n + 2))
        args = (self.basis.D, self.basis.L, self.h, float(T), fu, f, flam, dense, LU, piv, X, red, dense_red,
                np.empty((q, m + 2 * n + 2)))
        if not reduced:
            code = kc.condense(*args)
            out = red
        else:
            E, piv2 = np.empty((N, 2 * n + 2, 3 * n + 2)), np.zeros((N, n), dtype=np.int64)
            Fm, fpiv = np.empty((2 * n + 2, 2 * n + 2)), np.empty(2 * n + 2, dtype=np.int64)
            code = kc.factor(*args, E, piv2, Fm, fpiv)
            out = (LU, piv, X, dense, E, piv2, Fm, fpiv)
        if code != kc.OK or not np.all(np.isfinite(red)):
            raise SingularJacobianError("collocation Jacobian is singular (zero pivot in the condensation)")
        return out

    def _solve_factored(self, factor, rhs: np.ndarray) -> np.ndarray:
        from ..kernels import collocation as kc

        N, n, nc = self.ntst, self.n, self.n_colloc
        r = np.array(rhs[:nc], dtype=float).reshape(N, -1)
        z = np.empty(self.size)
        kc.solve(*factor, r, np.array(rhs[nc:nc + n], dtype=float), np.array(rhs[-2:], dtype=float),
                 z[:self.n_u].reshape(self.n_nodes, n), z[self.n_u:],
                 np.empty((N, (self.ncol - 1) * n)), np.empty((N, n)), np.empty(2 * n + 2))
        return self._checked(z)

    @staticmethod
    def _checked(z: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(z)):
            raise SingularJacobianError("collocation Jacobian is numerically singular")
        return z

    # -- stability -------------------------------------------------------------------------------
    def monodromy(self, y: np.ndarray) -> np.ndarray:
        """``∂u(1)/∂u(0)`` from the condensed collocation Jacobian at fixed ``T`` and ``λ``, shape ``(n, n)``.

        The condensed block of interval ``j`` maps its left end node to its right one,
        ``u_j+1 = −B_j⁻¹ A_j u_j`` (AUTO's FLOQUET); the monodromy matrix is the product of
        these maps, taken pairwise (``log₂ ntst`` batched products).
        """
        red = self._factor(y, None, reduced=False)
        n = self.n
        G = -np.linalg.solve(red[:, :, n:2 * n], red[:, :, :n])
        while len(G) > 1:
            k = len(G) // 2 * 2
            G = np.concatenate([G[1:k:2] @ G[0:k:2], G[k:]])
        return G[0]

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
        U = self.split(y)[0]
        return float(np.sqrt(self.node_weights @ np.sum(U * U, axis=1)))

    def interpolate(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The orbit's piecewise polynomial at times ``t`` in [0, 1], shape ``(len(t), n)``."""
        U = self.split(y)[0]
        t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
        j = np.clip(np.searchsorted(self.mesh, t, side="right") - 1, 0, self.ntst - 1)
        s = (t - self.mesh[j]) / self.h[j]
        Lv = self.basis.eval(s)  # (len(t), c+1)
        return np.einsum("mi,mia->ma", Lv, U[self.node_idx[j]])

    # -- mesh adaptation -------------------------------------------------------------------------
    def adapted_mesh(self, ys) -> np.ndarray:
        """A mesh equidistributing the local error estimate of the orbits ``ys`` (de Boor's monitor, as AUTO).

        On each interval the ``ncol``-th derivative of the collocation polynomial is a
        constant; the error of degree-``ncol`` collocation is ``~ h^(ncol+1) |u^(ncol+1)|``,
        and ``u^(ncol+1)`` is estimated by differences of the neighbours' ``ncol``-th
        derivatives. The new mesh puts equal parts of ``∫ |u^(ncol+1)|^(1/(ncol+1))`` in
        every interval.
        """
        c, N = self.ncol, self.ntst
        # ncol-th derivative of l_i: c! times the leading coefficient
        lead = self.basis.coef[c] * float(np.prod(np.arange(1, c + 1)))
        monitor = np.zeros(N)
        for y in ys:
            U = self.split(y)[0]
            d = np.einsum("i,jia->ja", lead, U[self.node_idx]) / self.h[:, None] ** c  # (N, n)
            dn = np.roll(d, -1, axis=0)  # periodic neighbour
            hm = 0.5 * (self.h + np.roll(self.h, -1))
            jump = np.abs(dn - d) / hm[:, None]  # at the right end of interval j
            der = 0.5 * (jump + np.roll(jump, 1, axis=0))  # interval average
            monitor = np.maximum(monitor, np.max(der, axis=1))
        density = monitor ** (1.0 / (c + 1))
        density = np.maximum(density, 1e-3 * max(density.max(), 1e-300))  # keep every interval finite
        cum = np.concatenate([[0.0], np.cumsum(density * self.h)])
        cum /= cum[-1]
        new = np.interp(np.linspace(0.0, 1.0, N + 1), cum, self.mesh)
        new[0], new[-1] = 0.0, 1.0
        return new

    def remesh(self, y: np.ndarray, new_mesh: np.ndarray) -> np.ndarray:
        """``y``'s orbit (on the current mesh) at the nodes of ``new_mesh``; T and λ unchanged."""
        U = self.interpolate(y, _node_times(np.asarray(new_mesh, dtype=float), self.basis.nodes))
        return np.concatenate([U.ravel(), y[-2:]])


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
    h = np.diff(mesh)
    t = (mesh[:-1, None] + h[:, None] * nodes[None, :-1]).ravel()
    return np.append(t, 1.0)
