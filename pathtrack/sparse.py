"""Sparse linear algebra of the augmented system: bordered LU, determinant sign, kernels.

For a problem whose ``dH_dp`` returns a ``scipy.sparse`` matrix (``Problem.sparse_jacobian``)
the augmented Jacobian ``J = [dF_dx, dF_dlam]`` is kept sparse, and every bordered system
``[J; bᵀ] z = r`` is solved with one sparse LU (SuperLU, ``splu``) of the bordered matrix
itself. Factoring the bordered matrix rather than eliminating the border block by block
keeps the solve well conditioned at folds, where ``dF_dx`` is singular but ``[J; tᵀ]`` is
not, and the same factors give the sign of ``det [J; tᵀ]`` for the branch-point test.
Kernel vectors at a branch point come from a few steps of inverse (subspace) iteration on
that LU. No dense ``m × m`` matrix is ever formed.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

__all__ = ["issparse", "augmented", "bordered_matrix", "bordered_splu", "splu_slogdet", "sparse_bordered_solve",
           "sparse_tangent", "near_kernel", "left_kernel", "norm_estimate", "sparse_kernel_basis"]


def issparse(J) -> bool:
    return scipy.sparse.issparse(J)


def augmented(Jx, f_lam: np.ndarray):
    """``[dF_dx, dF_dlam]`` as a CSC matrix of shape ``(m, m+1)``."""
    return scipy.sparse.hstack([scipy.sparse.csc_matrix(Jx), scipy.sparse.csc_matrix(f_lam[:, None])],
                               format="csc")


def bordered_matrix(J, b: np.ndarray):
    """``[J; bᵀ]`` (square, CSC)."""
    return scipy.sparse.vstack([J, scipy.sparse.csr_matrix(b[None, :])], format="csc")


def bordered_splu(J, b: np.ndarray, max_cond: float, check_pivots: bool = True):
    """Sparse LU of ``[J; bᵀ]``; a singular matrix (by its pivots) raises SingularJacobianError.

    Without ``check_pivots`` only an exactly singular matrix raises: reading the pivots
    copies ``U`` out of SuperLU, which costs a third of the factorisation.
    """
    from .linalg import SingularJacobianError

    try:
        lu = _splu(bordered_matrix(J, b))
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        raise SingularJacobianError(f"bordered matrix is singular ({exc})") from exc
    if not check_pivots:
        return lu
    d = np.abs(lu.U.diagonal())
    if not d.min() > d.max() / max_cond:
        raise SingularJacobianError(f"bordered matrix is singular (pivot ratio {d.min() / max(d.max(), 1e-300):.3g})")
    return lu


def _splu(M):
    """SuperLU with a minimum-degree ordering of ``Mᵀ + M``: the dense border row and column
    are eliminated last, and the fill is about half of COLAMD's on a 5-point Laplacian."""
    return scipy.sparse.linalg.splu(M, permc_spec="MMD_AT_PLUS_A")


def _parity(perm: np.ndarray) -> int:
    """+1 or -1: the sign of a permutation, from its cycle count (O(n))."""
    perm = np.asarray(perm)
    seen = np.zeros(perm.shape[0], dtype=bool)
    n_even_cycles = 0
    for i in range(perm.shape[0]):
        if seen[i]:
            continue
        length = 0
        j = i
        while not seen[j]:
            seen[j] = True
            j = perm[j]
            length += 1
        n_even_cycles += (length % 2 == 0)
    return -1 if n_even_cycles % 2 else 1


def splu_slogdet(lu) -> Tuple[float, float]:
    """``(sign, log|det|)`` of the matrix factored by ``splu`` (``Pr A Pc = L U``, unit ``L``)."""
    d = lu.U.diagonal()
    sign = float(np.prod(np.sign(d))) * _parity(lu.perm_r) * _parity(lu.perm_c)
    return sign, float(np.sum(np.log(np.abs(d))))


def sparse_bordered_solve(J, b: np.ndarray, r: np.ndarray, c: float, max_cond: float) -> np.ndarray:
    """Solve ``[J; bᵀ] z = [r; c]`` with a sparse LU (Newton's solves: a near-singular matrix
    shows as a non-finite or diverging step, which the corrector's contraction test rejects)."""
    from .linalg import SingularJacobianError

    z = bordered_splu(J, b, max_cond, check_pivots=False).solve(np.append(r, c))
    if not np.all(np.isfinite(z)):
        raise SingularJacobianError("bordered matrix is singular (non-finite solution)")
    return z


def sparse_tangent(J, b: np.ndarray, max_cond: float):
    """Unit tangent from ``[J; bᵀ] z = e`` and ``(sign, log|det [J; tᵀ]|)`` from the same LU.

    Returns ``(t, det_sign, log_abs_det)`` with ``t = z/|z|`` not yet oriented.
    """
    lu = bordered_splu(J, b, max_cond)
    m1 = J.shape[1]
    e = np.zeros(m1)
    e[-1] = 1.0
    z = lu.solve(e)
    norm_z = float(np.linalg.norm(z))
    sign, log_abs_det = splu_slogdet(lu)
    return z / norm_z, sign, log_abs_det + np.log(norm_z)  # b·t = 1/|z|


def _factor_nearly_singular(M):
    """splu of a matrix that may be singular to working precision: shift it by a rounding-level amount."""
    try:
        return _splu(M)
    except RuntimeError:
        shift = 1e-14 * norm_estimate(M)
        return _splu(M + shift * scipy.sparse.identity(M.shape[0], format="csc"))


def near_kernel(J, b: np.ndarray, k: int = 3, n_iters: int = 4, seed: int = 0):
    """The ``k`` smallest singular values of ``M = [J; bᵀ]`` and their right vectors, by subspace iteration.

    Inverse subspace iteration with ``MᵀM`` on the LU of ``M`` followed by a Rayleigh–Ritz step on the
    ``(m+1) × k`` matrix ``M V``: converges quickly to the near-null space, which is all a
    branch point needs (the kernel of ``J`` orthogonal to ``b``).

    Returns
    -------
    sv : ndarray, shape (k,)
        Approximate smallest singular values of ``M``, ascending.
    V : ndarray, shape (m+1, k)
        The corresponding orthonormal right vectors.
    """
    M = bordered_matrix(J, b)
    lu = _factor_nearly_singular(M)
    m1 = M.shape[0]
    V = np.random.default_rng(seed).standard_normal((m1, k))
    for _ in range(n_iters):  # (MᵀM)⁻¹ = M⁻¹ M⁻ᵀ: singular vectors, not eigenvectors
        V = np.column_stack([lu.solve(lu.solve(V[:, i].copy(), trans="T")) for i in range(k)])
        V, _ = np.linalg.qr(V)
    W = M @ V
    _, s, vt = np.linalg.svd(W, full_matrices=False)
    order = np.argsort(s)
    return s[order], V @ vt[order].T


def left_kernel(J, b: np.ndarray, n_iters: int = 4, seed: int = 1) -> np.ndarray:
    """Unit ``ψ`` (length m) with ``Jᵀψ ≈ 0``: inverse iteration with ``[J; bᵀ]ᵀ``, whose null vector is ``(ψ, 0)``."""
    M = bordered_matrix(J, b)
    lu = _factor_nearly_singular(M)
    w = np.random.default_rng(seed).standard_normal(M.shape[0])
    for _ in range(n_iters):
        w = lu.solve(w, trans="T")
        w /= np.linalg.norm(w)
    psi = w[:-1]
    return psi / np.linalg.norm(psi)


def norm_estimate(M) -> float:
    """``sqrt(‖M‖₁ ‖M‖∞)``, an upper bound of the 2-norm within a factor √n, without densifying."""
    return float(np.sqrt(scipy.sparse.linalg.norm(M, 1) * scipy.sparse.linalg.norm(M, np.inf)))


def sparse_kernel_basis(J, b: Optional[np.ndarray], scale: float, rank_tol: float):
    """Kernel of the augmented ``J`` at a branch point, without dense matrices.

    With a border ``b`` in the kernel (the parent's tangent), the near-null space of
    ``[J; bᵀ]`` completes it; otherwise a random border gives one kernel vector ``v₁`` and
    ``[J; v₁ᵀ]`` the second.

    Returns
    -------
    kernel_dim : int
        ``1 +`` the number of near-null singular values of ``[J; bᵀ]`` (relative to ``scale``).
    rel : ndarray
        Those singular values over ``scale``.
    phi : ndarray, shape (m+1, 2) or None
        Orthonormal kernel basis when ``kernel_dim == 2``.
    """
    m1 = J.shape[1]
    if b is None or not np.any(b):
        b = np.random.default_rng(2).standard_normal(m1)
    b = b / np.linalg.norm(b)
    sv, V = near_kernel(J, b)
    rel = sv / scale
    kernel_dim = 1 + int(np.sum(rel <= rank_tol))
    if kernel_dim != 2:
        return kernel_dim, rel, None
    v1 = V[:, 0]
    _, V2 = near_kernel(J, v1, k=1)
    v2 = V2[:, 0]
    v2 = v2 - (v2 @ v1) * v1
    return kernel_dim, rel, np.column_stack([v1, v2 / np.linalg.norm(v2)])


def refine_branch_point_sparse(system, y: np.ndarray, b: np.ndarray, correct, max_iters: int = 12) -> np.ndarray:
    """The branch point near ``y`` on the path: secant iteration on ``det [J(y(σ)); bᵀ]``.

    ``y(σ)`` is the point of the path in the hyperplane ``b·y = σ`` (``correct(guess, b, σ)``
    returns it, or None), ``b`` the tangent before the point. The determinant is smooth along
    the path and changes sign at a simple branch point; unlike the event location, its LU is
    not refused as singular close to the root, so the secant converges to rounding level
    (the Gauss–Newton refinement of dense problems needs ``m + 1`` Jacobians per iteration).
    Returns ``y`` unchanged when a correction fails or the iteration wanders off.
    """
    def g(sigma):
        guess = y + (sigma - float(b @ y)) * b
        y_s = correct(guess, b, sigma)
        if y_s is None:
            raise FloatingPointError("correction failed")
        try:
            lu = _splu(bordered_matrix(system.jacobian(y_s), b))
        except RuntimeError:  # exactly singular: this is the branch point
            return 0.0, y_s
        sign, logdet = splu_slogdet(lu)
        return sign * np.exp(logdet - ref), y_s

    ref = splu_slogdet(_splu(bordered_matrix(system.jacobian(y), b)))[1]
    s0 = float(b @ y)
    h = 1e-7 * max(1.0, float(np.linalg.norm(y)))
    try:
        (g0, y0), (g1, y1) = g(s0), g(s0 + h)
        s1 = s0 + h
        for _ in range(max_iters):
            if g1 == 0.0 or g1 == g0:
                break
            s2 = s1 - g1 * (s1 - s0) / (g1 - g0)
            s0, g0, y0 = s1, g1, y1
            s1 = s2
            g1, y1 = g(s1)
            if abs(s1 - s0) <= 4e-16 * (1.0 + abs(s1)):
                break
    except (FloatingPointError, np.linalg.LinAlgError, RuntimeError):
        return y
    if not np.all(np.isfinite(y1)) or np.linalg.norm(y1 - y) > 1e-3 * (1.0 + np.linalg.norm(y)):
        return y
    return y1
