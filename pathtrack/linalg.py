"""Linear algebra of the augmented system: tangents, bordered solves, singularity tests.

The augmented Jacobian ``J = [dF_dx, dF_dlam]`` has shape ``(m, m+1)``; the tangent is
its unit null vector. Bordering ``J`` with a row ``b`` gives the square matrix
``A = [J; b^T]`` used both by the corrector (b = tangent for pseudo-arclength, e_lam
for natural) and by the branch-point test (``det A`` changes sign at a simple branch
point).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import math
import os
import sys
import warnings
from typing import NamedTuple, Optional

import numpy as np

__all__ = ["SingularJacobianError", "TangentInfo", "tangent_dense", "tangent_matrix_free", "bordered_solve",
           "bordered_gmres", "bordered_det", "refine_branch_point", "SVD_MAX_N", "norm2", "lu_factor", "lu_solve",
           "svdvals", "svd", "qr_full", "eigvals", "eig", "solve"]

#: Up to this size σ_min(dH_dp) is computed at every step, and the start tangent comes from a QR.
SVD_MAX_N = 400



def _load_flapack():
    """scipy's LAPACK wrappers, the extension module ``scipy.linalg._flapack`` (what
    ``scipy.linalg.lapack.get_lapack_funcs`` returns for float64), loaded without importing the
    ``scipy.linalg`` package: that import clones NumPy's namespace for scipy's array-API layer, which
    imports ``numpy.f2py``, ``numpy.testing`` and more, 0.38 of the ~1 CPU s of a warm ``pathtrack run
    bratu1d``; the extension alone costs 0.04 s. Where scipy's layout differs, the package import."""
    name = "scipy.linalg._flapack"
    if name in sys.modules:
        return sys.modules[name]
    try:
        import scipy

        folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_flapack" + suffix)
            if os.path.isfile(path):
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                sys.modules[name] = module  # a later import of scipy.linalg uses this one
                return module
    except (ImportError, OSError, AttributeError):
        pass
    import scipy.linalg.lapack
    return scipy.linalg.lapack._flapack


# LAPACK called directly: for the small systems of a tracker step scipy.linalg's wrappers
# (array checks, batching, the routine look-up) cost more than the factorisation itself
_flapack = _load_flapack()
_getrf, _getrs = _flapack.dgetrf, _flapack.dgetrs
_zgetrf, _zgetrs = _flapack.zgetrf, _flapack.zgetrs
_gesdd, _gesdd_lwork = _flapack.dgesdd, _flapack.dgesdd_lwork
_geqrf, _orgqr = _flapack.dgeqrf, _flapack.dorgqr
_geev = _flapack.dgeev
dgetri, zgetri = _flapack.dgetri, _flapack.zgetri  # inverses of small matrices (Lyapunov coefficients)
_SVDVALS_LWORK: dict = {}  # shape -> the workspace scipy.linalg.svdvals would ask for
_SVD_LWORK: dict = {}  # shape -> the workspace scipy.linalg.svd would ask for


class SingularJacobianError(np.linalg.LinAlgError):
    """The augmented Jacobian is rank deficient (its null space is not one-dimensional)."""


class TangentInfo(NamedTuple):
    tangent: np.ndarray
    sigma_min: float  # smallest singular value of dH_dp (NaN when not computed)
    cond: float  # reserved: condition estimate of the augmented J (NaN when not computed)
    det_sign: float = np.nan  # sign of det [J; tangent^T] (NaN when not computed)
    log_abs_det: float = np.nan  # log |det [J; tangent^T]|


def orient(t: np.ndarray, t_prev: Optional[np.ndarray], direction: int) -> np.ndarray:
    """Flip ``t`` to continue ``t_prev``, or (no previous tangent) to move λ in ``direction``."""
    if t_prev is not None:
        return -t if float(t @ t_prev) < 0.0 else t
    if direction != 0 and t[-1] * direction < 0.0:
        return -t
    return t


def tangent_dense(J: np.ndarray, t_prev: Optional[np.ndarray], direction: int, max_cond: float) -> TangentInfo:
    """Unit null vector of the dense augmented Jacobian ``J`` (m × (m+1)), oriented.

    Along the path the tangent solves the bordered system ``[J; t_prevᵀ] t = e`` (one LU);
    at the start, with no previous tangent, it is the last column of ``Q`` in ``Jᵀ = QR``.
    Up to :data:`SVD_MAX_N` unknowns, ``σ_min(dH_dp)`` is computed for diagnostics. The
    bordered determinant ``det [J; tᵀ]`` of the branch-point test comes with it at any
    size: from the same LU, as ``det [J; bᵀ] / (b·t)`` (the border ``b`` differs from
    ``t`` only by rows of ``J``).

    Raises
    ------
    SingularJacobianError
        When ``J`` is rank deficient relative to ``max_cond`` (a branch point, or a
        degenerate problem).
    """
    m = J.shape[0]
    if _sparse(J):
        return _tangent_sparse(J, t_prev, direction, max_cond)
    if t_prev is None and m + 1 <= SVD_MAX_N:
        q, r = qr_full(J.T)
        sv = svdvals(r[:m, :m]) if m > 0 else np.ones(1)
        if not sv[-1] > sv[0] / max_cond:
            cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
            raise SingularJacobianError(f"augmented Jacobian is rank deficient (cond ≈ {cond:.3g})")
        t = q[:, -1].copy()
        det_sign, log_abs_det = bordered_det(J, t)
    else:
        b = t_prev if t_prev is not None else _lam_row(m, direction)
        try:
            lu = _bordered_lu(J, b, max_cond)
        except SingularJacobianError:
            if t_prev is not None:
                raise
            # e_lam is a bad border at a fold: try a generic one
            lu = _bordered_lu(J, np.random.default_rng(0).standard_normal(m + 1), max_cond)
        z = lu_solve(lu, _last_unit(m + 1))
        norm_z = norm2(z)
        t = z / norm_z
        det_sign, log_abs_det = _lu_slogdet(lu)
        log_abs_det += np.log(norm_z)  # b·t = 1/|z|
    # σ_min of dH_dp (not of the augmented J): it vanishes at folds and branch points alike
    sigma_min = float(svdvals(J[:, :-1])[-1]) if m + 1 <= SVD_MAX_N else np.nan
    oriented = orient(t, t_prev, direction)
    if oriented is not t:  # the determinant is linear in its last row
        det_sign = -det_sign
    return TangentInfo(oriented, sigma_min, np.nan, float(det_sign), float(log_abs_det))


#: Up to this size the pivots of a small LU are judged in Python (:func:`_bordered_lu`, :func:`_lu_slogdet`)
_SMALL_N = 16
_UNIT: dict = {}


def _last_unit(n: int) -> np.ndarray:
    """The read-only unit vector ``e_n`` of length ``n`` (made once per size: getrs copies its right-hand side)."""
    e = _UNIT.get(n)
    if e is None:
        e = np.zeros(n)
        e[-1] = 1.0
        e.flags.writeable = False
        _UNIT[n] = e
    return e


def norm2(x) -> float:
    """``float(np.linalg.norm(x))`` of a vector, bit for bit: for a contiguous real one NumPy computes
    ``sqrt(x.dot(x))`` too, after checks that cost more than the dot product of a short vector."""
    if type(x) is np.ndarray and x.dtype == np.float64 and x.ndim == 1 and x.flags.c_contiguous:
        return math.sqrt(x.dot(x))
    return float(np.linalg.norm(x))


def eigvals(A: np.ndarray) -> np.ndarray:
    """Eigenvalues of a real square matrix: LAPACK's ``dgeev``, as ``np.linalg.eigvals`` calls it,
    without its wrapper (a third of a small cycle step); all NaN where it does not converge."""
    wr, wi, _, _, info = _geev(A, compute_vl=0, compute_vr=0)
    if info != 0:
        return np.full(A.shape[0], np.nan + 0j)
    return wr + 1j * wi


def eig(A: np.ndarray):
    """``(w, v)`` of a real square matrix as ``np.linalg.eig`` returns them (the same LAPACK ``dgeev``,
    unit right eigenvectors, a complex pair's as ``vr[:, j] ± i vr[:, j+1]``), without its wrapper, which
    costs several times the decomposition of a small matrix; NaN where it does not converge."""
    wr, wi, _, vr, info = _geev(A, compute_vl=0, compute_vr=1)
    if info != 0:
        return np.full(A.shape[0], np.nan + 0j), np.full(A.shape, np.nan + 0j)
    v = vr.astype(complex)
    for j, w in enumerate(wi.tolist()):  # a pair: columns j, j + 1 (a list: np.flatnonzero costs more here)
        if w > 0:
            im = 1j * vr[:, j + 1]
            v[:, j] = vr[:, j] + im
            v[:, j + 1] = vr[:, j] - im
    return wr + 1j * wi, v


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve(A, b)`` for one right-hand side by LAPACK's ``getrf``/``getrs``, real or complex;
    an exactly singular ``A`` gives non-finite values instead of an error."""
    return lu_solve(lu_factor(A), b)


def svdvals(A: np.ndarray) -> np.ndarray:
    """Singular values, descending: ``scipy.linalg.svdvals`` (the same LAPACK ``gesdd`` and workspace) without
    its per-call checks and workspace query, which cost more than the decomposition of a small matrix."""
    if A.dtype != np.float64 or A.ndim != 2 or A.size == 0:
        import scipy.linalg
        return scipy.linalg.svdvals(A, check_finite=False)
    lwork = _SVDVALS_LWORK.get(A.shape)  # inline: a call here costs ~1 µs of a 3×3 matrix's 8
    if lwork is None:
        lwork = _SVDVALS_LWORK[A.shape] = _svd_lwork(A.shape, 0)
    _u, sv, _vt, info = _gesdd(A, compute_uv=0, lwork=lwork, full_matrices=1)
    if info != 0:  # no convergence or a NaN: scipy's own error
        import scipy.linalg
        return scipy.linalg.svdvals(A, check_finite=False)
    return sv


def svd(A: np.ndarray):
    """``(U, s, Vt)``, full matrices: ``scipy.linalg.svd(A, check_finite=False)`` (LAPACK ``gesdd``, the same
    workspace), without importing ``scipy.linalg`` for a real matrix."""
    A = np.asarray(A)
    if A.dtype != np.float64 or A.ndim != 2 or A.size == 0:
        import scipy.linalg
        return scipy.linalg.svd(A, check_finite=False)
    lwork = _SVD_LWORK.get(A.shape)
    if lwork is None:
        lwork = _SVD_LWORK[A.shape] = _svd_lwork(A.shape, 1)
    u, s, vt, info = _gesdd(A, compute_uv=1, lwork=lwork, full_matrices=1)
    if info != 0:
        import scipy.linalg
        return scipy.linalg.svd(A, check_finite=False)  # scipy's error
    return u, s, vt


def _svd_lwork(shape, compute_uv: int) -> int:
    """``gesdd``'s workspace query, rounded as ``scipy.linalg.lapack._compute_lwork`` rounds a float64 one."""
    work, info = _gesdd_lwork(shape[0], shape[1], compute_uv=compute_uv, full_matrices=1)
    if info != 0:  # pragma: no cover
        raise ValueError(f"gesdd workspace query failed: {info}")
    return int(work.real)


def qr_full(A: np.ndarray):
    """``(Q, R)`` of a real ``A`` (M × N, M ≥ N): ``scipy.linalg.qr(A, mode="full", check_finite=False)``, the
    same LAPACK calls (``geqrf``, ``orgqr``) and workspace queries."""
    A = np.asarray(A, dtype=np.float64)
    M, N = A.shape
    if M < N:
        import scipy.linalg
        return scipy.linalg.qr(A, mode="full", check_finite=False)
    qr, tau = _lapack_call(_geqrf, "geqrf", A)
    R = np.triu(qr)
    qqr = np.empty((M, M), dtype=np.float64)
    qqr[:, :N] = qr
    Q, = _lapack_call(_orgqr, "orgqr", qqr, tau, overwrite_a=1)
    return Q, R


def _lapack_call(f, name, *args, **kwargs):
    """``f(*args)`` with its optimal workspace (a query first), as scipy.linalg's ``safecall``."""
    kwargs["lwork"] = f(*args, lwork=-1, **kwargs)[-2][0].real.astype(np.int_)
    ret = f(*args, **kwargs)
    if ret[-1] < 0:  # pragma: no cover (an argument error: not reachable with an ndarray)
        raise ValueError(f"illegal value in {-ret[-1]}th argument of internal {name}")
    return ret[:-2]


def _sparse(J) -> bool:
    """A scipy.sparse matrix (told without importing scipy.sparse, which dense runs never need)."""
    return not isinstance(J, np.ndarray) and hasattr(J, "tocsc")


def _tangent_sparse(J, t_prev: Optional[np.ndarray], direction: int, max_cond: float) -> TangentInfo:
    """:func:`tangent_dense` for a sparse ``J``: one sparse LU of ``[J; bᵀ]`` (σ_min is not computed)."""
    from .sparse import sparse_tangent

    m = J.shape[0]
    b = t_prev if t_prev is not None else _lam_row(m, direction)
    try:
        t, det_sign, log_abs_det = sparse_tangent(J, b, max_cond)
    except SingularJacobianError:
        if t_prev is not None:
            raise
        t, det_sign, log_abs_det = sparse_tangent(J, np.random.default_rng(0).standard_normal(m + 1), max_cond)
    oriented = orient(t, t_prev, direction)
    if oriented is not t:
        det_sign = -det_sign
    return TangentInfo(oriented, np.nan, np.nan, float(det_sign), float(log_abs_det))


def _lu_slogdet(lu) -> tuple:
    """``(sign, log|det|)`` from scipy's ``lu_factor`` output."""
    factors, piv = lu
    d = factors.diagonal()
    if d.shape[0] <= _SMALL_N and d.dtype == np.float64:  # the same sign, counted in Python
        n_swaps = sum(k != i for i, k in enumerate(piv.tolist()))
        sign = 1.0
        for v in d.tolist():
            sign *= (v > 0.0) - (v < 0.0) if v == v else math.nan
    else:
        n_swaps = int(np.count_nonzero(piv != np.arange(piv.shape[0])))
        sign = float(np.sign(d).prod())
    sign *= -1.0 if n_swaps % 2 else 1.0
    return sign, float(np.log(np.abs(d)).sum())


def _lam_row(m: int, direction: int) -> np.ndarray:
    b = np.zeros(m + 1)
    b[-1] = 1.0 if direction >= 0 else -1.0
    return b


def bordered_solve(J: np.ndarray, b: np.ndarray, r: np.ndarray, c: float, max_cond: float) -> np.ndarray:
    """Solve ``[J; b^T] z = [r; c]`` (sparse LU for a sparse ``J``); singular raises SingularJacobianError."""
    if _sparse(J):
        from .sparse import sparse_bordered_solve
        return sparse_bordered_solve(J, b, r, c, max_cond)
    rhs = np.empty(r.shape[0] + 1, dtype=np.result_type(r, c))
    rhs[:-1], rhs[-1] = r, c
    return lu_solve(_bordered_lu(J, b, max_cond), rhs)


def lu_factor(A: np.ndarray):
    """``(lu, piv)`` of a square matrix, as ``scipy.linalg.lu_factor`` (the same LAPACK ``getrf``).

    An exactly singular matrix is not an error here: its zero pivot is in ``lu``, for the caller to test."""
    if A.dtype == np.complex128:
        lu, piv, _info = _zgetrf(A)
        return lu, piv
    if A.dtype != np.float64:
        import scipy.linalg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            return scipy.linalg.lu_factor(A, check_finite=False)
    lu, piv, info = _getrf(A)
    if info < 0:  # pragma: no cover (an argument error: not reachable with an ndarray)
        raise ValueError(f"illegal value in argument {-info} of getrf")
    return lu, piv


def lu_solve(lu, rhs: np.ndarray, trans: int = 0) -> np.ndarray:
    """Solve with :func:`lu_factor`'s output, as ``scipy.linalg.lu_solve`` (LAPACK ``getrs``).

    One right-hand side at a time: with two, OpenBLAS's threaded triangular solve took milliseconds on a
    busy machine."""
    if lu[0].dtype == np.complex128:
        x, _info = _zgetrs(lu[0], lu[1], np.asarray(rhs, dtype=np.complex128), trans=trans)
        return x
    if lu[0].dtype != np.float64 or rhs.dtype != np.float64:
        import scipy.linalg
        return scipy.linalg.lu_solve(lu, rhs, trans=trans, check_finite=False)
    x, info = _getrs(lu[0], lu[1], rhs, trans=trans)
    if info < 0:  # pragma: no cover
        raise ValueError(f"illegal value in argument {-info} of getrs")
    return x


def _bordered_lu(J: np.ndarray, b: np.ndarray, max_cond: float):
    """LU factors of ``[J; b^T]``; singular (by LU pivots) raises SingularJacobianError."""
    A = np.empty((J.shape[0] + 1, J.shape[1]), dtype=np.result_type(J, b))  # np.vstack without its checks
    A[:-1], A[-1] = J, b
    try:  # singularity is reported below, with a message
        lu, piv = lu_factor(A)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise SingularJacobianError(str(exc)) from exc
    d = np.abs(lu.diagonal())  # np.diag's wrapper costs more than this on a small matrix
    if d.shape[0] <= _SMALL_N:  # in Python: two NumPy reductions cost more than the factorisation here
        pivots = d.tolist()
        regular = not any(map(math.isnan, pivots)) and min(pivots) > max(pivots) / max_cond  # NaN: d.min() is NaN
    else:
        regular = d.min() > d.max() / max_cond
    if not regular:
        raise SingularJacobianError(f"bordered matrix is singular (pivot ratio {d.min() / max(d.max(), 1e-300):.3g})")
    return lu, piv


def bordered_gmres(jvp, b: np.ndarray, r: np.ndarray, c: float, rtol: float, maxiter: int) -> np.ndarray:
    """Solve ``[J; b^T] z = [r; c]`` with GMRES, ``J`` given by ``jvp(v)`` (v of length m+1)."""
    from scipy.sparse.linalg import LinearOperator, gmres  # only large problems need it

    m1 = b.shape[0]

    def matvec(v):
        v = np.asarray(v).ravel()
        return np.append(jvp(v), b @ v)

    op = LinearOperator((m1, m1), matvec=matvec, dtype=np.float64)
    z, info = gmres(op, np.append(r, c), rtol=rtol, atol=0.0, maxiter=maxiter, restart=min(m1, 60))
    if info != 0:
        raise SingularJacobianError(f"GMRES did not converge (info={info}) on the bordered system")
    return z


def tangent_matrix_free(jvp, m: int, t_prev: Optional[np.ndarray], direction: int, rtol: float,
                        maxiter: int) -> TangentInfo:
    """Tangent from a bordered GMRES solve (large ``m``); σ_min is not available."""
    b = t_prev if t_prev is not None else _lam_row(m, direction)
    t = bordered_gmres(jvp, b, np.zeros(m), 1.0, rtol, maxiter)
    t = t / np.linalg.norm(t)
    return TangentInfo(orient(t, t_prev, direction), np.nan, np.nan)


def bordered_det(J: np.ndarray, t: np.ndarray):
    """``(sign, log|det|)`` of ``[J; t^T]``: its sign flips at simple branch points."""
    if _sparse(J):
        from .sparse import bordered_splu, splu_slogdet
        return splu_slogdet(bordered_splu(J, t, np.inf))
    return np.linalg.slogdet(np.vstack([J, t[None, :]]))


def refine_branch_point(system, y: np.ndarray, tol: float = 1e-13, max_iters: int = 20) -> np.ndarray:
    """The branch point near ``y``: Gauss–Newton on ``F(y) = 0, J(y)ᵀψ = 0, ψ·ψ = 1``.

    The system has one equation more than unknowns and is consistent at a branch point, so
    Gauss–Newton converges quadratically there. The located point comes from a sign change
    of a determinant between trial points corrected onto the path, which can be off by much
    more than the corrector's tolerance next to the crossing branch. Where the iteration does
    not converge (a fold: no ``ψ`` annihilates ``[J, F_λ]``) ``y`` is returned unchanged.
    Costs ``m + 1`` Jacobians per iteration: used up to :data:`SVD_MAX_N` unknowns.
    """
    m1 = y.shape[0]
    m = m1 - 1
    if m1 > SVD_MAX_N or getattr(system, "is_sparse", False):
        return y
    u_mat, _, _ = svd(system.jacobian(y))
    z = np.concatenate([y, u_mat[:, m - 1]])
    eye = np.eye(m1)
    for _ in range(max_iters):
        yy, psi = z[:m1], z[m1:]
        J = system.jacobian(yy)
        h = 1e-6 * max(1.0, float(np.linalg.norm(yy)))
        # d(Jᵀψ)/dy by central differences of J along each coordinate
        M = np.column_stack([(system.jacobian(yy + h * e).T @ psi - system.jacobian(yy - h * e).T @ psi) / (2 * h)
                             for e in eye])
        R = np.concatenate([system.F(yy), J.T @ psi, [psi @ psi - 1.0]])
        A = np.zeros((2 * m + 2, 2 * m + 1))
        A[:m, :m1] = J
        A[m:2 * m + 1, :m1] = M
        A[m:2 * m + 1, m1:] = J.T
        A[2 * m + 1, m1:] = 2 * psi
        dz = np.linalg.lstsq(A, -R, rcond=None)[0]
        z = z + dz
        if not np.all(np.isfinite(z)) or np.linalg.norm(z[:m1] - y) > 1e-2 * (1.0 + np.linalg.norm(y)):
            return y
        if np.linalg.norm(dz) <= tol * (1.0 + np.linalg.norm(z)):
            return z[:m1]
    return y
