"""Compiled kernels for polynomial systems: evaluation, the projective path tracker and its endgame.

Arrays in, status codes out; :mod:`pathtrack.polynomial.solver` validates and allocates. A system is the
packed sparse form of :class:`pathtrack.polynomial.PolynomialSystem` (``coef, term_offsets,
var, exp, eq_offsets``). Every monomial reads its powers from one table ``P[j, k] = x_j**k``
filled once per point, so powers are shared by all terms of all equations, and the
Jacobian reuses each term's prefix/suffix products.

The tracker works in projective space: the system is homogenised (variable 0) and the
random affine patch ``a·x = 1`` is appended as the last equation, so paths going to
infinity stay bounded. The homotopy is ``H(x, t) = (1-t)·gamma·G(x) + t·F(x)``
(:func:`track_batch`) or ``F(x; (1-t)·q0 + t·q1)`` for a system with parameters
(:func:`track_parameter_batch`), or ``Σ_a c_a t^{w_a} x^a`` from a mixed cell's binomial system
(:func:`track_toric_batch`); all are kinds of one tracker (see "homotopy kinds"). Step
acceptance, Newton verdicts and the path-jumping guard are the shared rules of
:mod:`pathtrack.kernels.steprules`.

Compilation is what a first ``solve`` waits for, so it is kept small. Only the entry points
(``track_batch``, ``track_parameter_batch``, ``track_toric_batch``, their endgames ``endgame_batch``,
``endgame_parameter_batch``, ``endgame_toric_batch``, and ``tail_batch``, ``refine_batch``,
``term_sizes_batch``, ``eval_system_alloc``) are cached on disk: a cached entry point holds its callees'
code, so a warm ``solve`` loads three functions, and only calls compile the kinds they use. The
endgame of singular and diverging endpoints is an entry point of its own, called by the solver for
the paths a batch kernel leaves at ``t = 1 - eg_radius`` (:data:`NEEDS_ENDGAME`), so a system whose
paths all end regular never compiles it. Helpers with one
caller, and ``newton``, are inlined at Numba-IR level (``inline="always"``) instead of compiled on
their own. The other helpers are compiled without Numba's Python and C entry wrappers (only kernels
call them, and they link the helper's code in): with the wrappers a cold ``solve katsura:5``
emitted a third more machine code (46.2k against 34.6k lines of assembly over all compiled
functions). Each call site of a helper is a copy for LLVM to optimise, so ``track_segment`` calls
``_tangent`` from one loop over its RK4 stages. The batch kernels release the GIL
and run serially (``prange`` is ``range`` without ``parallel=True``): the solver spreads
paths over Python threads, which costs no parallel-lowering compile (measured 8 s of 35 s).
Kernel bodies copy arrays with loops (:func:`_copy`), not slice assignments or array
expressions: each of those makes Numba compile a shape-mismatch error formatter or an
array-expression kernel into its caller (10 of 24 CPU seconds of the first compile). A
constant passed between jitted functions keeps its literal type and makes a second compile
of the callee, so flags are passed as ``bool(...)`` and ``np.int64(...)``. Every kernel uses
NumPy's error model: no ``ZeroDivisionError`` checks (divisions are guarded, or by validated
positive options).
"""

import cmath
import math
from collections import namedtuple

import numpy as np
from numba import njit, prange, types
from numba.core.registry import CPUDispatcher
from numba.extending import overload

from ..kernels.steprules import (CONTINUE, CONVERGED, SINGULAR, STEP_TOO_SMALL, newton_verdict, next_step_size,
                                 register_for_numba, turn_ok)
from ..status import Status
from .cacheload import install as install_cache_load

register_for_numba()
install_cache_load([__name__])  # a warm solve loads these from the cache without preparing a compiler


class _HelperDispatcher(CPUDispatcher):
    """A kernel helper: callable from jitted code only, which links its LLVM code in, so it is compiled
    without Numba's Python and C entry wrappers (most of a helper's own compile). Called from Python
    (which would jump to the missing wrapper) it raises ``TypeError``."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__name__} is a helper of the compiled kernels: call it from a jitted "
                        "function")


def _helper(fn):
    return _HelperDispatcher(fn, {}, {"nopython": True, "boundscheck": None, "error_model": "numpy",
                                      "no_cpython_wrapper": True, "no_cfunc_wrapper": True})  # as njit, less the wrappers

# An entry point, called from Python: cached, without the GIL, and without the C-callable wrapper
# (no caller takes its address).
_entry = njit(cache=True, nogil=True, error_model="numpy", no_cfunc_wrapper=True)

# Path status codes, taken from pathtrack.status.Status (plain ints: Numba compiles them in as constants).
SUCCESS = int(Status.success)
MAX_STEPS_REACHED = int(Status.max_steps_reached)
DS_TOO_SMALL = int(Status.ds_too_small)
NEWTON_FAILED = int(Status.newton_failed)
SINGULAR_JACOBIAN = int(Status.singular_jacobian)
NONFINITE = int(Status.nonfinite)
NO_ENDGAME_REGIME = int(Status.no_endgame_regime)

# How a successful path ended.
END_DIRECT = 0      # tracked to t = 1 and Newton converged there
END_CAUCHY = 1      # Cauchy endgame: two successive radii agree
END_INFINITY = 2    # endgame: the homogenising coordinate x_0 tends to 0 (valuation or Cauchy estimate)

# The code of a path that reached t = 1 - eg_radius and has no regular endpoint: the batch kernels leave it
# there for their endgame kernel (ENDGAME_KERNEL), which is compiled only once a path needs it; most
# systems' paths all end regular, and the endgame was a quarter of the first compile (docs/solving_systems.md,
# "First run and warm start"). Not a Status: the solver never reports it.
NEEDS_ENDGAME = -1

# Layout of the float64 options vector (filled by pathtrack.polynomial.SolveOptions.to_array).
O_INITIAL_DS = 0
O_MIN_DS = 1
O_MAX_DS = 2
O_MAX_STEPS = 3
O_GROW = 4
O_SHRINK = 5
O_GROW_AFTER = 6
O_NEWTON_TOL = 7
O_MAX_NEWTON = 8
O_MAX_CONTRACTION = 9
O_MAX_ANGLE = 10
O_EG_RADIUS = 11
O_EG_RATIO = 12
O_EG_MIN_RADIUS = 13
O_EG_TOL = 14
O_N_SAMPLES = 15
O_MAX_WINDING = 16
O_MAX_COND = 17
O_INFINITY_TOL = 18
O_FINAL_TOL = 19
O_DIRECT_STEPS = 20
N_OPTIONS = 21


# -- linear algebra -------------------------------------------------------------------------------
@_helper
def _norm(v):
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i].real * v[i].real + v[i].imag * v[i].imag
    return math.sqrt(s)


@_helper
def _copy(src, dst):
    """``dst[:] = src`` for vectors, as a loop: a slice assignment makes Numba compile its shape-mismatch
    error formatter into every caller, seconds of a cold start."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@_helper
def lu_solve(A, b, out):
    """Solve ``A out = b`` by Gaussian elimination with partial pivoting, overwriting ``A`` and ``b``.

    Returns the pivot ratio ``min|U_ii| / max|U_ii|`` (a cheap inverse-condition hint; 0 when
    singular or non-finite) instead of raising, so a path fails with a code, not an exception.
    """
    n = A.shape[0]
    umax = 0.0
    umin = np.inf
    for k in range(n):
        p = k
        best = abs(A[k, k])
        for i in range(k + 1, n):
            v = abs(A[i, k])
            if v > best:
                best = v
                p = i
        if not (best > 0.0) or not math.isfinite(best):
            return 0.0
        umax = max(umax, best)
        umin = min(umin, best)
        if p != k:
            for j in range(k, n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
        inv = 1.0 / A[k, k]
        for i in range(k + 1, n):
            f = A[i, k] * inv
            if f != 0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
                b[i] -= f * b[k]
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= A[i, j] * out[j]
        out[i] = s / A[i, i]
    return umin / umax


# -- evaluation -----------------------------------------------------------------------------------
@_helper
def fill_powers(x, P):
    """``P[j, k] = x_j**k``: the power table every monomial reads."""
    for j in range(x.shape[0]):
        P[j, 0] = 1.0
        for k in range(1, P.shape[1]):
            P[j, k] = P[j, k - 1] * x[j]


@_helper
def eval_system(P, coef, toff, var, exp, eoff, pre, val, jac):
    """Values and Jacobian of a packed system from a filled power table ``P``."""
    n_eq = eoff.shape[0] - 1
    for e in range(n_eq):
        val[e] = 0.0
        for j in range(jac.shape[1]):
            jac[e, j] = 0.0
        for t in range(eoff[e], eoff[e + 1]):
            a = toff[t]
            b = toff[t + 1]
            prod = coef[t]
            for q in range(a, b):  # prefix products: coef * prod of earlier factors
                pre[q - a] = prod
                prod *= P[var[q], exp[q]]
            val[e] += prod
            suf = 1.0 + 0.0j
            for q in range(b - 1, a - 1, -1):  # d/dx_v: prefix * suffix * k x_v^(k-1)
                v = var[q]
                k = exp[q]
                jac[e, v] += pre[q - a] * suf * (k * P[v, k - 1])
                suf *= P[v, k]


@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def eval_system_alloc(x, coef, toff, var, exp, eoff, max_exp):
    """``F(x)`` and its Jacobian at one point, allocating the outputs (for Python callers)."""
    n = x.shape[0]
    P = np.empty((n, max_exp + 1), dtype=np.complex128)
    fill_powers(x, P)
    val = np.empty(eoff.shape[0] - 1, dtype=np.complex128)
    jac = np.empty((eoff.shape[0] - 1, n), dtype=np.complex128)
    eval_system(P, coef, toff, var, exp, eoff, np.empty(n, dtype=np.complex128), val, jac)
    return val, jac


# -- homotopy kinds -------------------------------------------------------------------------------
# The tracker below is written once for every homotopy. A kind is the named tuple ``hd`` of its
# read-only data; four functions, resolved from the type of ``hd`` at compile time (Numba's
# ``overload``), say what the homotopy is:
#   kind_path(hd, p)                  the data of path ``p`` of a batch (what the next three get);
#   kind_scratch(hd)                  per-path scratch arrays (``ws[10]``);
#   kind_rows(x, t, hd, ws, want_dt)  rows ``0..n-1`` of ``A = H_x`` and ``rhs = -H`` (``-H_t`` when want_dt);
#   kind_sizes(t, hd, ws)             ``ws[9][i]`` = the size of the terms of ``H_i`` (as term_sizes) at the
#                                     point of the last kind_rows call.
# Each entry point builds one kind, so Numba compiles (and caches) only that kind's tracker.
# The kinds live in this file: Numba's cache of an entry point is checked against this file only.

#: ``H(x, t) = (1-t)·gamma·G(x) + t·F(x)``, ``F`` and ``G`` packed homogeneous systems.
LinearHomotopy = namedtuple("LinearHomotopy", ("F", "G", "gamma"))
#: ``H(x, t) = F(x; q0 + t·(q1 - q0))``: ``X = (term_offsets, var, exp, eq_offsets)`` of the homogeneous
#: system's monomials in ``x``; ``C`` the packed system in the parameters ``q`` whose "equation" ``k`` is
#: the coefficient of monomial ``k`` (so ``∂H/∂t = Σ_k C_k'(q)·(q1 - q0) x^α_k``); ``max_qexp`` sizes its powers.
ParameterHomotopy = namedtuple("ParameterHomotopy", ("X", "C", "q0", "q1", "max_qexp"))
#: A batch of parameter homotopies: path ``p`` runs from ``Q0[p]`` to ``Q1[p]``.
ParameterHomotopies = namedtuple("ParameterHomotopies", ("X", "C", "Q0", "Q1", "max_qexp"))


def kind_path(hd, p):
    """The homotopy data of path ``p`` of a batch (jitted code only)."""
    raise NotImplementedError("kind_path is resolved by Numba in jitted code")


def kind_scratch(hd):
    """Per-path scratch arrays of the homotopy kind of ``hd`` (jitted code only)."""
    raise NotImplementedError("kind_scratch is resolved by Numba in jitted code")


def kind_rows(x, t, hd, ws, want_dt):
    """Rows of ``H_x`` and ``-H`` (or ``-H_t``) for the kind of ``hd`` (jitted code only)."""
    raise NotImplementedError("kind_rows is resolved by Numba in jitted code")


def kind_sizes(t, hd, ws):
    """Term sizes of each row of ``H`` for the kind of ``hd`` (jitted code only)."""
    raise NotImplementedError("kind_sizes is resolved by Numba in jitted code")


def _same_path(hd, p):
    return hd


def _linear_scratch(hd):
    return np.empty(hd.F[4].shape[0] - 1, dtype=np.float64)  # the term sizes of F, beside those of G in ws[9]


def _linear_rows(x, t, hd, ws, want_dt):
    F, G, gamma = hd
    P, pre, vF, JF, vG, JG, A, rhs = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7]
    fill_powers(x, P)
    eval_system(P, F[0], F[1], F[2], F[3], F[4], pre, vF, JF)
    eval_system(P, G[0], G[1], G[2], G[3], G[4], pre, vG, JG)
    n = vF.shape[0]
    cg = (1.0 - t) * gamma
    for i in range(n):
        for j in range(n + 1):
            A[i, j] = cg * JG[i, j] + t * JF[i, j]
        if want_dt:
            rhs[i] = -(vF[i] - gamma * vG[i])
        else:
            rhs[i] = -(cg * vG[i] + t * vF[i])


def _linear_sizes(t, hd, ws):
    F, G, gamma = hd
    P, S, sF = ws[0], ws[9], ws[10]
    term_sizes(P, G[0], G[1], G[2], G[3], G[4], S)
    term_sizes(P, F[0], F[1], F[2], F[3], F[4], sF)
    for i in range(S.shape[0]):
        S[i] = abs(1.0 - t) * abs(gamma) * S[i] + abs(t) * sF[i]


@njit(inline="always", error_model="numpy")
def _moving_coefficient_rows(x, coef, dcoef, toff, var, exp, eoff, ws, want_dt):
    """Rows of a homotopy that is one monomial system whose coefficients move with ``t``:
    ``A = H_x`` and ``rhs = -H`` from the coefficients ``coef`` at ``t``, or ``rhs = -H_t`` from their
    ``t``-derivatives ``dcoef`` when ``want_dt`` (the parameter and toric kinds)."""
    P, pre, vF, JF, vG, JG, A, rhs = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7]
    fill_powers(x, P)
    eval_system(P, coef, toff, var, exp, eoff, pre, vF, JF)
    n = vF.shape[0]
    for i in range(n):
        for j in range(n + 1):
            A[i, j] = JF[i, j]
    if want_dt:
        eval_system(P, dcoef, toff, var, exp, eoff, pre, vG, JG)
        for i in range(n):
            rhs[i] = -vG[i]
    else:
        for i in range(n):
            rhs[i] = -vF[i]


def _parameter_path(hd, p):
    return ParameterHomotopy(hd.X, hd.C, hd.Q0[p], hd.Q1[p], hd.max_qexp)


def _parameter_scratch(hd):
    m = hd.q0.shape[0]
    n_terms = hd.X[3][hd.X[3].shape[0] - 1]
    c = np.complex128
    return (np.empty(m, dtype=c), np.empty((m, hd.max_qexp + 1), dtype=c), np.empty(m, dtype=c),  # q, Pq, pre
            np.empty(n_terms, dtype=c), np.empty((n_terms, m), dtype=c), np.empty(n_terms, dtype=c))  # c, c_q, c_t


def _parameter_rows(x, t, hd, ws, want_dt):
    X, C, q0, q1 = hd.X, hd.C, hd.q0, hd.q1
    q, Pq, preq, cval, cjac, dcoef = ws[10]
    for j in range(q.shape[0]):
        q[j] = q0[j] + t * (q1[j] - q0[j])
    fill_powers(q, Pq)
    eval_system(Pq, C[0], C[1], C[2], C[3], C[4], preq, cval, cjac)  # coefficients and their q-gradients
    if want_dt:  # H_t: the monomials with coefficients dc_k/dt = c_k'(q)·(q1 - q0)
        for k in range(cval.shape[0]):
            d = 0.0j
            for j in range(q.shape[0]):
                d += cjac[k, j] * (q1[j] - q0[j])
            dcoef[k] = d
    _moving_coefficient_rows(x, cval, dcoef, X[0], X[1], X[2], X[3], ws, want_dt)


def _parameter_sizes(t, hd, ws):
    X = hd.X
    term_sizes(ws[0], ws[10][3], X[0], X[1], X[2], X[3], ws[9])


#: ``H_i(x, t) = Σ_a c_a t^{w_a} x^a`` (the polyhedral start, :mod:`pathtrack.polynomial.polyhedral`): ``C`` a
#: packed homogeneous system, ``w[k] >= 0`` the real power of ``t`` on its term ``k`` (0 on a mixed
#: cell's edges, at least 1 elsewhere, so ``H_t`` is finite at ``t = 0``), ``tpar`` the schedule
#: ``t(u)`` of :func:`toric_time`; the tracker's parameter is ``u``.
ToricHomotopy = namedtuple("ToricHomotopy", ("C", "w", "tpar"))
#: A batch of toric homotopies: path ``p`` has the powers ``W[p]`` and schedule ``Tpar[p]`` of its cell.
ToricHomotopies = namedtuple("ToricHomotopies", ("C", "W", "Tpar"))

# Layout of ``tpar``: t(u) is linear from 0 on [0, T_A], then log-linear in sigma = -log t from
# T_SIGMA_HI down to T_SIGMA_LO on [T_A, T_B], then linear up to 1.
T_A = 0
T_B = 1
T_SIGMA_HI = 2
T_SIGMA_LO = 3
N_TPAR = 4


@njit(inline="always", error_model="numpy")
def toric_time(u, tpar):
    """``t(u)`` and ``dt/du`` of the toric kind.

    A term ``t^w`` changes where ``-log t`` is about ``1/w``: with powers from 1 to thousands
    that is spread over decades of ``-log t``, so ``u`` runs through them log-uniformly, and
    ``t`` is already close to 1 in the endgame zone near ``u = 1``.
    """
    a, b, hi, lo = tpar[T_A], tpar[T_B], tpar[T_SIGMA_HI], tpar[T_SIGMA_LO]
    if u.real <= a:
        return u / a * math.exp(-hi), complex(math.exp(-hi) / a)
    if u.real <= b:
        lam = math.log(lo / hi) / (b - a)
        sigma = hi * cmath.exp(lam * (u - a))
        t = cmath.exp(-sigma)
        return t, -t * sigma * lam
    t_b = math.exp(-lo)
    return t_b + (u - b) / (1.0 - b) * (1.0 - t_b), complex((1.0 - t_b) / (1.0 - b))


def _toric_path(hd, p):
    return ToricHomotopy(hd.C, hd.W[p], hd.Tpar[p])


def _toric_scratch(hd):
    m = hd.w.shape[0]
    return np.empty(m, dtype=np.complex128), np.empty(m, dtype=np.complex128)  # c·t^w, d(c·t^w)/du


def _toric_rows(x, t, hd, ws, want_dt):
    # the tracker's t is the schedule's u; tt = t(u) is the power series' parameter
    C, w = hd.C, hd.w
    ct, cdt = ws[10]
    tt, dt = toric_time(t, hd.tpar)
    log_t = cmath.log(tt) if tt != 0 else 0.0j
    coef = C[0]
    for k in range(coef.shape[0]):
        if w[k] == 0.0:
            ct[k] = coef[k]
            cdt[k] = 0.0
        elif tt == 0:
            ct[k] = 0.0
            cdt[k] = coef[k] * dt if w[k] == 1.0 else 0.0
        else:
            q = cmath.exp(w[k] * log_t)
            ct[k] = coef[k] * q
            cdt[k] = coef[k] * (w[k] * q / tt * dt)
    _moving_coefficient_rows(x, ct, cdt, C[1], C[2], C[3], C[4], ws, want_dt)


def _toric_sizes(t, hd, ws):
    C = hd.C
    term_sizes(ws[0], ws[10][0], C[1], C[2], C[3], C[4], ws[9])


#: named-tuple class -> (path, scratch, rows, sizes), each compiled by Numba for the kind that calls it
_KINDS = {LinearHomotopy: (_same_path, _linear_scratch, _linear_rows, _linear_sizes),
          ParameterHomotopy: (None, _parameter_scratch, _parameter_rows, _parameter_sizes),
          ParameterHomotopies: (_parameter_path, None, None, None),
          ToricHomotopy: (None, _toric_scratch, _toric_rows, _toric_sizes),
          ToricHomotopies: (_toric_path, None, None, None)}


def _kind_impl(hd, which):
    if isinstance(hd, types.NamedTuple) and hd.instance_class in _KINDS:
        return _KINDS[hd.instance_class][which]
    return None


@overload(kind_path, jit_options={"error_model": "numpy"})
def _ov_kind_path(hd, p):
    return _kind_impl(hd, 0)


@overload(kind_scratch, jit_options={"error_model": "numpy"})
def _ov_kind_scratch(hd):
    return _kind_impl(hd, 1)


@overload(kind_rows, jit_options={"error_model": "numpy"})
def _ov_kind_rows(x, t, hd, ws, want_dt):
    return _kind_impl(hd, 2)


@overload(kind_sizes, jit_options={"error_model": "numpy"})
def _ov_kind_sizes(t, hd, ws):
    return _kind_impl(hd, 3)


@njit(inline="always", error_model="numpy")
def _workspace(n1, max_exp, hd):
    c = np.complex128
    return (np.empty((n1, max_exp + 1), dtype=c), np.empty(n1, dtype=c),          # P, pre
            np.empty(n1 - 1, dtype=c), np.empty((n1 - 1, n1), dtype=c),            # vF, JF
            np.empty(n1 - 1, dtype=c), np.empty((n1 - 1, n1), dtype=c),            # vG, JG
            np.empty((n1, n1), dtype=c), np.empty(n1, dtype=c), np.empty(n1, dtype=c),  # A, rhs, sol
            np.empty(n1 - 1, dtype=np.float64), kind_scratch(hd))                  # term sizes, kind's own


@_helper
def homotopy(x, t, hd, patch, ws, want_dt):
    """Fill ``A = [H_x; a]`` and ``rhs = -[H; a·x-1]`` (or ``-[H_t; 0]`` when ``want_dt``) at ``(x, t)``."""
    kind_rows(x, t, hd, ws, want_dt)
    _patch_row(x, patch, ws[6], ws[7], want_dt)


@_helper
def _patch_row(x, patch, A, rhs, want_dt):
    """The last row of ``A`` and ``rhs``: the affine patch ``a·x = 1`` (its derivative in the parameter is 0)."""
    n = A.shape[0] - 1
    s = -1.0 + 0.0j
    for j in range(n + 1):
        A[n, j] = patch[j]
        s += patch[j] * x[j]
    rhs[n] = 0.0 if want_dt else -s


@_helper
def _tangent(x, t, dtdu, hd, patch, ws, out):
    """``dx/du`` along a segment with ``dt/du = dtdu``; returns False where the Jacobian is singular."""
    homotopy(x, t, hd, patch, ws, bool(True))
    if lu_solve(ws[6], ws[7], ws[8]) == 0.0:
        return False
    for i in range(out.shape[0]):
        out[i] = ws[8][i] * dtdu
    return True


@njit(inline="always", error_model="numpy")
def newton(x, t, hd, patch, ws, tol, max_contraction, max_iters):
    """Newton at fixed ``t``, updating ``x`` in place; returns (steprules verdict, pivot ratio)."""
    prev = np.inf
    ratio = 0.0
    for k in range(max_iters):
        homotopy(x, t, hd, patch, ws, bool(False))
        ratio = lu_solve(ws[6], ws[7], ws[8])
        if ratio == 0.0:
            return SINGULAR, 0.0
        dx = ws[8]
        for i in range(x.shape[0]):
            x[i] += dx[i]
        ndx = _norm(dx)
        verdict = newton_verdict(k, ndx, prev, _norm(x), tol, max_contraction, max_iters)
        if verdict != CONTINUE:
            return verdict, ratio
        prev = ndx
    return CONTINUE, ratio


# -- tracking -------------------------------------------------------------------------------------
@njit(inline="always", error_model="numpy")
def _turn_resolved_ok(k1, kn, h, resolution, max_angle):
    """Path-jumping guard: ``turn_ok`` on the tangents ``k1`` (step start) and ``kn`` (step end).

    The angle between tangents means something only where the path moves by more than the
    corrector resolves over the step. On a (nearly) stationary path, e.g. a target that is a
    multiple of the start system, ``H_t`` is rounding noise at every point and so are the
    tangents' directions: comparing them would reject every step and end the path in
    ``ds_too_small``. When ``h·max(‖k1‖, ‖kn‖)`` is below ``resolution`` (the Newton
    tolerance in units of ``x``) the step is accepted without the test.
    """
    n1 = k1.shape[0]
    a = _norm(k1)
    b = _norm(kn)
    if h * max(a, b) <= resolution:
        return True
    if not (a > 0.0 and b > 0.0):
        return False  # one end stands still, the other moves by more than the tolerance: a jump
    dot = 0.0
    for i in range(n1):
        dot += (k1[i].conjugate() * kn[i]).real
    return turn_ok(dot / (a * b), max_angle)


@_helper
def track_segment(x, ta, tb, hd, patch, opt, ws, max_steps, tmp, ds):
    """Track ``x`` from ``t = ta`` to ``t = tb`` along the straight segment (complex ``t``).

    RK4 on the Davidenko equation predicts, Newton corrects; the step (a fraction of the
    segment) follows ``next_step_size``, acceptance ``newton_verdict`` and ``turn_ok``.
    ``ds`` is the first step tried. Returns ``(status code, steps taken, next step size)``;
    ``x`` holds the last accepted point.
    """
    k1, k2, k3, k4, xp, kn = tmp
    stages = (k1, k2, k3, k4, kn)  # stage s writes stages[s + 1]
    n1 = x.shape[0]
    dtdu = tb - ta
    if not _tangent(x, ta, dtdu, hd, patch, ws, k1):
        return SINGULAR_JACOBIAN, 0, ds
    u = 0.0
    n_consecutive = 0
    n_steps = 0
    tol = opt[O_NEWTON_TOL]
    max_newton = int(opt[O_MAX_NEWTON])
    while u < 1.0:
        if n_steps >= max_steps:
            return MAX_STEPS_REACHED, n_steps, ds
        n_steps += 1
        h = min(ds, 1.0 - u)
        last = h >= 1.0 - u
        un = 1.0 if last else u + h
        tn = tb if last else ta + un * dtdu
        t_half = ta + (u + 0.5 * h) * dtdu
        ok = True
        # One call site of _tangent for the three RK4 stages and the tangent after Newton (kn, for the
        # path-jumping guard): each call site is a copy of the Jacobian evaluation and LU to compile.
        for s in range(4):
            t_s = tn
            if s < 3:
                c = h if s == 2 else 0.5 * h
                src = stages[s]
                for i in range(n1):
                    xp[i] = x[i] + c * src[i]
                if s < 2:
                    t_s = t_half
            else:
                for i in range(n1):
                    xp[i] = x[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
                verdict, _ = newton(xp, tn, hd, patch, ws, tol, opt[O_MAX_CONTRACTION], max_newton)
                if verdict != CONVERGED:
                    ok = False
                    break
            if not _tangent(xp, t_s, dtdu, hd, patch, ws, stages[s + 1]):
                ok = False
                break
        if ok:  # path-jumping guard on the turn of the tangent
            ok = _turn_resolved_ok(k1, kn, h, tol * (1.0 + _norm(xp)), opt[O_MAX_ANGLE])
        if ok:
            for i in range(n1):
                x[i] = xp[i]
                k1[i] = kn[i]
            u = un
        ds, n_consecutive, code = next_step_size(ds, ok, n_consecutive, opt[O_GROW], opt[O_SHRINK],
                                                 int(opt[O_GROW_AFTER]), opt[O_MIN_DS], opt[O_MAX_DS])
        if code == STEP_TOO_SMALL:
            return DS_TOO_SMALL, n_steps, ds
    return SUCCESS, n_steps, ds


@njit(inline="always", error_model="numpy")
def cauchy_loops(x, r, hd, patch, opt, ws, tmp, est):
    """Circle ``t = 1 - r·e^{iθ}`` until the path closes; ``est`` = mean of the samples = x(t=1).

    The mean of ``c·K`` equispaced samples is the constant term of the Puiseux series in
    ``s^{1/c}`` (Cauchy's integral by the trapezoid rule). Returns (ok, winding number c, steps).
    ``x`` is restored to its value on entry, whatever the outcome.
    """
    n_samples = int(opt[O_N_SAMPLES])
    max_winding = int(opt[O_MAX_WINDING])
    x_start = x.copy()
    for i in range(est.shape[0]):
        est[i] = 0.0
    n_steps = 0
    dtheta = 2.0 * math.pi / n_samples
    max_steps = int(opt[O_MAX_STEPS])
    ds = 0.5  # segments are short arcs; the step carries over from one to the next
    for c in range(1, max_winding + 1):
        for k in range(n_samples):
            for i in range(est.shape[0]):
                est[i] += x[i]
            ta = 1.0 - r * complex(math.cos(k * dtheta), math.sin(k * dtheta))
            k2 = (k + 1) % n_samples
            tb = 1.0 - r * complex(math.cos(k2 * dtheta), math.sin(k2 * dtheta))
            code, steps, ds = track_segment(x, ta, tb, hd, patch, opt, ws, max_steps, tmp, min(1.0, ds))
            n_steps += steps
            if code != SUCCESS:
                _copy(x_start, x)
                return False, c, n_steps
        d = 0.0
        for i in range(x.shape[0]):
            d += abs(x[i] - x_start[i]) ** 2
        if math.sqrt(d) <= 1e3 * opt[O_NEWTON_TOL] * (1.0 + _norm(x_start)):
            for i in range(est.shape[0]):
                est[i] /= c * n_samples
            _copy(x_start, x)
            return True, c, n_steps
    # Not closed: a loop that encircles a branch point other than t = 1 permutes the sheets, so x
    # now lies on another path. Go back to this one, or the endgame would finish someone else's.
    _copy(x_start, x)
    return False, max_winding, n_steps


@_helper
def term_sizes(P, coef, toff, var, exp, eoff, out):
    """``out[e] = Σ_t |c_t|·|x^α_t|`` over the terms of equation ``e``, from a filled power table ``P``.

    The size of the numbers that cancel in ``F_e(x)``: its rounding error is about ``eps`` times
    this, whatever the Jacobian does.
    """
    for e in range(eoff.shape[0] - 1):
        s = 0.0
        for t in range(eoff[e], eoff[e + 1]):
            m = abs(coef[t])
            for q in range(toff[t], toff[t + 1]):
                m *= abs(P[var[q], exp[q]])
            s += m
        out[e] = s


@_helper
def _row_scaled(x, t, hd, patch, ws):
    """Fill ``A`` and ``rhs`` as :func:`homotopy` does, each row of ``H`` divided by its scale.

    Rows of a degree-d equation scale like ``‖x‖^(d-1)`` while the patch row does not, so on a
    patch where ``‖x‖`` is large the raw residual and pivot ratio mislead; scaled, ``rhs`` is
    about a Newton step (units of ``x``) and the pivot ratio no longer depends on ``‖x‖``.
    The scale of a row is its largest ``|A_ij|``, but at least the size of the terms of the
    equation divided by ``‖x‖`` (same units): at a singular root ``H_x`` vanishes while ``H``
    keeps its rounding error, so dividing by ``H_x`` alone would turn that error into a large
    residual and make the singular Jacobian look regular (for one unknown ``H_x`` is, by
    Euler's relation, always proportional to the same vector).
    """
    homotopy(x, t, hd, patch, ws, bool(False))
    kind_sizes(t, hd, ws)
    A, rhs, S = ws[6], ws[7], ws[9]
    n = A.shape[0] - 1
    nx = _norm(x)
    for i in range(A.shape[0]):
        m = 0.0
        for j in range(A.shape[1]):
            m = max(m, abs(A[i, j]))
        if i < n and nx > 0.0:
            m = max(m, S[i] / nx)
        if m > 0.0:
            for j in range(A.shape[1]):
                A[i, j] /= m
            rhs[i] /= m


@njit(inline="always", error_model="numpy")
def _residual(x, t, hd, patch, ws):
    """Row-scaled residual ``‖H(x, t)‖`` (comparable with ``‖x‖``)."""
    _row_scaled(x, t, hd, patch, ws)
    return _norm(ws[7])


@njit(inline="always", error_model="numpy")
def _pivot_ratio(x, t, hd, patch, ws):
    """Pivot ratio of the row-scaled ``[H_x; a]`` at ``(x, t)``: the regularity test of an endpoint."""
    _row_scaled(x, t, hd, patch, ws)
    return lu_solve(ws[6], ws[7], ws[8])


@njit(inline="always", error_model="numpy")
def _path_workspace(n1, max_exp, hd):
    """The scratch arrays of one path: :func:`_workspace` and :func:`track_segment`'s ``tmp``."""
    c = np.complex128
    return _workspace(n1, max_exp, hd), (np.empty(n1, c), np.empty(n1, c), np.empty(n1, c), np.empty(n1, c),
                                         np.empty(n1, c), np.empty(n1, c))


@njit(inline="always", error_model="numpy")
def track_path(x, hd, patch, opt, max_exp):
    """Track one path from ``t = 0`` to ``t = 1``; ``x`` becomes the endpoint where it is regular.

    Returns ``(status code, end kind, winding number, steps, pivot ratio at the end)``. A path whose
    endpoint is not regular returns :data:`NEEDS_ENDGAME` with ``x`` at ``t = 1 - eg_radius``,
    where :func:`endgame_path` goes on from.
    """
    n1 = x.shape[0]
    ws, tmp = _path_workspace(n1, max_exp, hd)
    max_steps = int(opt[O_MAX_STEPS])
    r = opt[O_EG_RADIUS]
    code, n_steps, ds = track_segment(x, 0.0 + 0.0j, 1.0 - r + 0.0j, hd, patch, opt, ws, max_steps, tmp,
                                      opt[O_INITIAL_DS])
    if code != SUCCESS:
        return code, END_DIRECT, 0, n_steps, 0.0
    x_eg = x.copy()
    # Regular endpoints: finish the path and polish at t = 1; cheap, and most paths end here.
    # It goes all the way (min_ds), as some regular paths (cyclic:7) look like diverging ones,
    # x_0 ~ s^(1/7), down to s ~ 1e-7, where the endgame's valuation would call them infinite.
    ds_direct = min(opt[O_MAX_DS], max(opt[O_INITIAL_DS], ds * (1.0 - r) / r))  # same step in t as before
    code, steps, _ = track_segment(x, 1.0 - r + 0.0j, 1.0 + 0.0j, hd, patch, opt, ws,
                                   int(opt[O_DIRECT_STEPS]), tmp, ds_direct)
    n_steps += steps
    if code == SUCCESS:
        verdict, _ = newton(x, 1.0 + 0.0j, hd, patch, ws, opt[O_FINAL_TOL], 0.9, np.int64(8))
        if verdict == CONVERGED:
            ratio = _pivot_ratio(x, 1.0 + 0.0j, hd, patch, ws)
            if ratio * opt[O_MAX_COND] > 1.0:
                return SUCCESS, END_DIRECT, 1, n_steps, ratio
    _copy(x_eg, x)
    return NEEDS_ENDGAME, END_DIRECT, 0, n_steps, 0.0


@njit(inline="always", error_model="numpy")
def endgame_path(x, hd, patch, opt, max_exp):
    """The endgame of a path whose endpoint is not regular, from ``x`` at ``t = 1 - eg_radius``
    (where :func:`track_path` left it); same outputs, ``steps`` counting the endgame's own.
    """
    # Singular or diverging endpoint. At radii r, r·ratio, ... estimate the valuation of the
    # homogenising coordinate, |x_0|/‖x‖ ~ r^v: v > 0 and settled means the path goes to
    # infinity (cheap: no loops). Where v looks finite and the path is in its series' regime,
    # run Cauchy loops until two radii agree; their estimate is the endpoint, at infinity when
    # its x_0 vanishes. Before that regime (a singularity of the homotopy near s = 1 - t = r,
    # e.g. 0.001·x^2 = 0 puts a branch point at |s| ≈ 0.001) neither test means anything:
    # the endgame goes deeper, and ends NO_ENDGAME_REGIME at min radius if the regime never came.
    n1 = x.shape[0]
    ws, tmp = _path_workspace(n1, max_exp, hd)
    c = np.complex128
    max_steps = int(opt[O_MAX_STEPS])
    r = opt[O_EG_RADIUS]
    n_steps = 0
    est = np.empty(n1, c)
    prev = np.empty(n1, c)
    x_prev = x.copy()
    have_prev = False
    prev_winding = 0
    winding = 0
    q_prev = -1.0
    v_prev = np.nan
    v_prev2 = np.nan
    d_prev = np.nan
    e_prev = np.nan
    n_loops = 0
    n_radii = 0
    v_min = 1.0 / (4.0 * opt[O_MAX_WINDING])
    log_ratio = -math.log(opt[O_EG_RATIO])
    code = DS_TOO_SMALL  # the endgame's "step" is its radius: reaching min radius is this failure
    ds = opt[O_INITIAL_DS]
    while r >= opt[O_EG_MIN_RADIUS]:
        n_radii += 1
        nx = _norm(x)
        q = abs(x[0]) / nx if nx > 0.0 else 0.0
        v = np.nan
        if q_prev > 0.0 and q > 0.0:
            v = math.log(q_prev / q) / log_ratio
        # In the regime x(s) - x(0) ~ a·s^e (e = m/c), so the moves d between radii shrink by
        # ratio^e per radius: e > 0, tending to m/c. Before it the moves can grow (e < 0: seed 1
        # of 0.001·x^2 = 0, y^2 = 1 while the path swings round the branch point near s = 0.001,
        # e = -1.0, -1.1, -2.3 when the coefficient is 1e-6). Two estimates of e within 25 %, or
        # a move within ten Newton tolerances (the point is resolved), count as the regime (two
        # shrinking moves alone gave redcyc6 and discret3s wrong counts on some seeds).
        d = np.nan
        e = np.nan
        if n_radii > 1:
            d = 0.0
            for i in range(n1):
                d += abs(x[i] - x_prev[i]) ** 2
            d = math.sqrt(d)
            if d > 0.0 and d_prev > 0.0:
                e = math.log(d_prev / d) / log_ratio
        steady = d <= 10.0 * opt[O_NEWTON_TOL] * (1.0 + nx) or (e > 0.0 and e_prev > 0.0
                                                                and abs(e - e_prev) <= 0.25 * e)
        # v estimates the Puiseux exponent of x_0 in s = 1 - t: 0 at a finite endpoint, k/c > 0
        # at infinity. Near a finite endpoint v decays to 0 like r^(1/c), shrinking by a factor
        # ratio^(1/c) per radius (below 0.95 unless c > 27, ratio 1/4); towards infinity it settles on k/c,
        # from below when the Puiseux series' later terms slow the decay of x_0 (high c), its
        # rises shrinking. So x_0 -> 0 when v stays positive and does not shrink like that: over
        # two radii and with a small |x_0| (a finite root would need coordinates beyond 100), else
        # over three whose rises do not grow (a rising v that speeds up is the path swinging round
        # a nearby singularity: 0.008, 0.042, 0.162 on the path above, which ends at a finite root).
        keeps = v > v_min and v_prev > v_min and v >= 0.95 * v_prev
        settles = v - v_prev <= max(v_prev - v_prev2, 0.0) + 0.05 * v
        if keeps and (q < 1e-2 or (v_prev2 > v_min and v_prev >= 0.95 * v_prev2 and settles)):
            return SUCCESS, END_INFINITY, winding, n_steps, 0.0
        if q <= opt[O_INFINITY_TOL] ** 2:  # a finite root would need a norm beyond 1/infinity_tol^2
            return SUCCESS, END_INFINITY, winding, n_steps, 0.0
        # Looks finite at two radii in a row, in the regime: estimate the endpoint. One radius is not
        # enough, as v is still far from its limit at the first radii; a loop that fails to close
        # costs max_winding turns, which was a third of cyclic:7's work.
        if not (v > v_min) and v_prev <= v_min and steady:
            n_loops += 1
            ok, winding, steps = cauchy_loops(x, r, hd, patch, opt, ws, tmp, est)
            n_steps += steps
            if ok:
                ne = _norm(est)
                if have_prev and winding == prev_winding:
                    dd = 0.0
                    for i in range(n1):
                        dd += abs(est[i] - prev[i]) ** 2
                    # the mean of two sheets round an interior branch point also repeats, but is
                    # not a solution: demand a small residual at t = 1 too
                    if (math.sqrt(dd) <= opt[O_EG_TOL] * (1.0 + ne)
                            and _residual(est, 1.0 + 0.0j, hd, patch, ws) <= opt[O_EG_TOL] * (1.0 + ne)):
                        _copy(est, x)
                        if abs(est[0]) <= opt[O_INFINITY_TOL] * ne:  # the limit point lies at infinity
                            return SUCCESS, END_INFINITY, winding, n_steps, 0.0
                        return SUCCESS, END_CAUCHY, winding, n_steps, 0.0
                _copy(est, prev)
                prev_winding = winding
                have_prev = True
        q_prev = q
        v_prev2 = v_prev
        v_prev = v
        d_prev = d
        e_prev = e
        _copy(x, x_prev)
        r_next = r * opt[O_EG_RATIO]
        code2, steps, ds = track_segment(x, 1.0 - r + 0.0j, 1.0 - r_next + 0.0j, hd, patch, opt, ws,
                                         max_steps, tmp, ds)
        n_steps += steps
        if code2 != SUCCESS:
            code = code2
            break
        r = r_next
    if code == DS_TOO_SMALL and n_radii > 0 and n_loops == 0:
        code = NO_ENDGAME_REGIME  # (n_radii = 0: asked to stop at t = 1 - r, as the solver's later stages do)
    if have_prev:
        _copy(prev, x)
    return code, END_CAUCHY, winding, n_steps, 0.0


def _rows_of(path):
    """The loop of a batch kernel: ``path`` (:func:`track_path` or :func:`endgame_path`) on every row of
    ``starts`` along the homotopy ``kind_path(hd, row)``; each path is independent."""

    @njit(inline="always", error_model="numpy")
    def rows(starts, hd, patch, opt, max_exp):
        n_paths = starts.shape[0]
        ends = starts.copy()
        codes = np.empty(n_paths, dtype=np.int64)
        kinds = np.empty(n_paths, dtype=np.int64)
        winding = np.empty(n_paths, dtype=np.int64)
        steps = np.empty(n_paths, dtype=np.int64)
        ratio = np.empty(n_paths, dtype=np.float64)
        for p in prange(n_paths):
            x = starts[p].copy()
            code, kind, w, s, q = path(x, kind_path(hd, p), patch, opt, max_exp)
            _copy(x, ends[p])
            codes[p] = code
            kinds[p] = kind
            winding[p] = w
            steps[p] = s
            ratio[p] = q
        return ends, codes, kinds, winding, steps, ratio

    return rows


_track_rows = _rows_of(track_path)
_endgame_rows = _rows_of(endgame_path)


@_entry
def track_batch(starts, F, G, gamma, patch, opt, max_exp):
    """Track every row of ``starts`` from ``G`` to ``F`` (:data:`LinearHomotopy`); the solver runs slices on threads.

    Returns ``(ends, codes, kinds, winding, steps, ratio)``, one entry per row. A row whose endpoint
    is not regular gets code :data:`NEEDS_ENDGAME` and its point at ``t = 1 - eg_radius``, from where
    :func:`endgame_batch` (same arguments) finishes it.
    """
    return _track_rows(starts, LinearHomotopy(F, G, gamma), patch, opt, max_exp)


@_entry
def endgame_batch(starts, F, G, gamma, patch, opt, max_exp):
    """The endgame of :func:`track_batch`'s :data:`NEEDS_ENDGAME` rows, from their points at ``t = 1 - eg_radius``."""
    return _endgame_rows(starts, LinearHomotopy(F, G, gamma), patch, opt, max_exp)


@_entry
def track_parameter_batch(starts, Q0, Q1, X, C, max_qexp, patch, opt, max_exp):
    """Track row ``p`` of ``starts`` from ``F(x; Q0[p])`` to ``F(x; Q1[p])`` (:data:`ParameterHomotopy`).

    ``Q0``, ``Q1`` are complex ``(n_rows, m)``; ``X``, ``C``, ``max_qexp`` are those of
    :data:`ParameterHomotopy`. Same step control, endgame and outputs as :func:`track_batch`.
    A start at ``q = 0`` works (e.g. a binomial start system whose other coefficients vanish there).
    """
    return _track_rows(starts, ParameterHomotopies(X, C, Q0, Q1, max_qexp), patch, opt, max_exp)


@_entry
def endgame_parameter_batch(starts, Q0, Q1, X, C, max_qexp, patch, opt, max_exp):
    """The endgame of :func:`track_parameter_batch`'s :data:`NEEDS_ENDGAME` rows (same arguments)."""
    return _endgame_rows(starts, ParameterHomotopies(X, C, Q0, Q1, max_qexp), patch, opt, max_exp)


@_entry
def track_toric_batch(starts, W, Tpar, C, patch, opt, max_exp):
    """Track row ``p`` of ``starts`` along :data:`ToricHomotopy` ``(C, W[p], Tpar[p])`` from ``u = 0`` to 1.

    Row ``p`` is a root of its mixed cell's binomial system (``C`` at ``t = 0``) on the patch;
    it ends at a root of ``C``. Same step control, endgame and outputs as :func:`track_batch`.
    """
    return _track_rows(starts, ToricHomotopies(C, W, Tpar), patch, opt, max_exp)


@_entry
def endgame_toric_batch(starts, W, Tpar, C, patch, opt, max_exp):
    """The endgame of :func:`track_toric_batch`'s :data:`NEEDS_ENDGAME` rows (same arguments)."""
    return _endgame_rows(starts, ToricHomotopies(C, W, Tpar), patch, opt, max_exp)


#: batch kernel -> the kernel that finishes its NEEDS_ENDGAME rows, called with the same arguments
ENDGAME_KERNEL = {"track_batch": "endgame_batch", "track_parameter_batch": "endgame_parameter_batch",
                  "track_toric_batch": "endgame_toric_batch"}


# Outcomes of tail_batch, per path.
TAIL_REACHED = 0    # followed to s below min_s
TAIL_INFINITY = 1   # |x_0| fell below infinity_tol·‖x‖ on the way
TAIL_FAILED = 2     # a step failed at every allowed ratio (a singular point on the way)
#: A failed tail step moves its ratio ``rho`` towards 1 (``rho -> sqrt(rho)``) until it exceeds this. Steps of
#: ``s -> 0.9·s`` are too coarse where a path passes near another one at a scale below ``0.1·s``: on cassou
#: (total degree, seed 2) four slowly diverging paths stop at ``s ≈ 7e-16`` with ``rho`` capped at 0.9, and
#: reach ``s = 1e-32`` with ``rho`` up to 0.999.
TAIL_MAX_RATIO = 0.999
#: Step attempts per path of the tail (fine steps near such a point need more of them).
TAIL_MAX_STEPS = 1000


@_helper
def _tail_rows(x, s, F, G, gamma, patch, P, pre, vF, JF, vG, JG, A, b, want_ds):
    """Row-scaled ``A = [H_x; patch]`` and ``b = -[H; patch·x - 1]`` (``-[H_s; 0]`` when ``want_ds``)
    of ``H = s·gamma·G + (1-s)·F`` at ``(x, s)``, with ``s`` itself, not ``1 - t``, as the parameter."""
    fill_powers(x, P)
    eval_system(P, F[0], F[1], F[2], F[3], F[4], pre, vF, JF)
    eval_system(P, G[0], G[1], G[2], G[3], G[4], pre, vG, JG)
    n = vF.shape[0]
    sg = s * gamma
    r = 1.0 - s
    for i in range(n):
        m = 0.0
        for j in range(n + 1):
            A[i, j] = sg * JG[i, j] + r * JF[i, j]
            m = max(m, abs(A[i, j]))
        b[i] = -(gamma * vG[i] - vF[i]) if want_ds else -(sg * vG[i] + r * vF[i])
        if m > 0.0:  # Newton steps in units of x, whatever the equations' sizes
            for j in range(n + 1):
                A[i, j] /= m
            b[i] /= m
    _patch_row(x, patch, A, b, want_ds)


@_entry
def tail_batch(starts, s0, F, G, gamma, patch, max_exp, infinity_tol, min_s, tol):
    """Follow each row of ``starts`` (projective, at ``s = 1 - t = s0[row]``) along ``H = s·gamma·G + (1-s)·F``
    towards ``s = 0``, ``s`` shrinking geometrically (``s -> rho·s``), held exactly.

    Euler's predictor in ``log s`` (in which a path is smooth, analytic or a Puiseux series) and
    Newton's corrector (to ``tol·‖x‖``, contracting); ``rho`` grows after easy steps and moves
    towards 1 after a failed one. Returns ``(ends, outcome, steps)``: ``TAIL_REACHED`` at ``s <
    min_s``, ``TAIL_INFINITY`` once ``|x_0| < infinity_tol·‖x‖``, else ``TAIL_FAILED``.
    """
    n_paths, n1 = starts.shape
    n = n1 - 1
    c = np.complex128
    ends = starts.copy()
    outcome = np.full(n_paths, TAIL_FAILED, dtype=np.int64)
    steps = np.zeros(n_paths, dtype=np.int64)
    P = np.empty((n1, max_exp + 1), c)
    pre = np.empty(n1, c)
    vF, vG = np.empty(n, c), np.empty(n, c)
    JF, JG = np.empty((n, n1), c), np.empty((n, n1), c)
    A = np.empty((n1, n1), c)
    b, d, y, z = np.empty(n1, c), np.empty(n1, c), np.empty(n1, c), np.empty(n1, c)
    for p in range(n_paths):
        for i in range(n1):
            y[i] = starts[p, i]
        s = s0[p]
        rho = 0.1
        for _ in range(TAIL_MAX_STEPS):
            if s < min_s:
                outcome[p] = TAIL_REACHED
                break
            s1 = s * rho
            h = math.log(rho)
            steps[p] += 1
            _tail_rows(y, s, F, G, gamma, patch, P, pre, vF, JF, vG, JG, A, b, True)
            if lu_solve(A, b, d) == 0.0:
                break
            for i in range(n1):
                z[i] = y[i] + h * s * d[i]
            ok = False
            prev = np.inf
            k = 0
            for k in range(5):
                _tail_rows(z, s1, F, G, gamma, patch, P, pre, vF, JF, vG, JG, A, b, False)
                if lu_solve(A, b, d) == 0.0:
                    break
                step = _norm(d)
                if not (step <= 0.5 * prev):  # also catches NaN
                    break
                for i in range(n1):
                    z[i] += d[i]
                prev = step
                if step <= tol * _norm(z):
                    ok = True
                    break
            if not ok:
                rho = math.sqrt(rho)
                if rho > TAIL_MAX_RATIO:
                    break
                continue
            _copy(z, y)
            s = s1
            if abs(y[0]) < infinity_tol * _norm(y):
                outcome[p] = TAIL_INFINITY
                break
            if k <= 2:
                rho = max(rho ** 1.5, 1e-4)
        _copy(y, ends[p])
    return ends, outcome, steps


@_entry
def refine_batch(X, coef, toff, var, exp, eoff, max_exp, tol, max_iters):
    """Newton on the affine square system for every row of ``X``; returns the refined rows, their
    residual norms, Jacobians and residual vectors ``F(x)``.

    A Newton step is kept only while it lowers the residual, so singular points are not pushed away.
    """
    k, n = X.shape
    out = X.copy()
    res = np.empty(k, dtype=np.float64)
    jacs = np.empty((k, n, n), dtype=np.complex128)
    vals = np.empty((k, n), dtype=np.complex128)
    c = np.complex128
    P = np.empty((n, max_exp + 1), dtype=c)  # one workspace for all rows: the loop is serial
    pre, val, xt, dx, b = np.empty(n, c), np.empty(n, c), np.empty(n, c), np.empty(n, c), np.empty(n, c)
    J, A = np.empty((n, n), c), np.empty((n, n), c)
    for p in prange(k):
        x = out[p]  # refined in place
        fill_powers(x, P)
        eval_system(P, coef, toff, var, exp, eoff, pre, val, J)
        r = _norm(val)
        for it in range(max_iters):
            for i in range(n):  # loops, not array expressions: each of those is a compile of its own
                b[i] = -val[i]
                for j in range(n):
                    A[i, j] = J[i, j]
            if lu_solve(A, b, dx) == 0.0:
                break
            for i in range(n):
                xt[i] = x[i] + dx[i]
            fill_powers(xt, P)
            eval_system(P, coef, toff, var, exp, eoff, pre, val, J)
            rn = _norm(val)
            if not (rn < r or rn == 0.0):
                break
            _copy(xt, x)
            r = rn
            if _norm(dx) <= tol * (1.0 + _norm(x)):
                break
        fill_powers(x, P)
        eval_system(P, coef, toff, var, exp, eoff, pre, val, J)
        res[p] = _norm(val)
        _copy(val, vals[p])
        for i in range(n):
            for j in range(n):
                jacs[p, i, j] = J[i, j]
    return out, res, jacs, vals


@_entry
def term_sizes_batch(X, coef, toff, var, exp, eoff, max_exp):
    """:func:`term_sizes` at every row of ``X`` (affine points); returns shape ``(k, n_equations)``."""
    k, n = X.shape
    out = np.empty((k, eoff.shape[0] - 1), dtype=np.float64)
    P = np.empty((n, max_exp + 1), dtype=np.complex128)
    for p in prange(k):
        fill_powers(X[p], P)
        term_sizes(P, coef, toff, var, exp, eoff, out[p])
    return out
