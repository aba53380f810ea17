"""Extended-precision Newton (mpmath) to tell regular roots apart where double precision cannot.

Two regular roots ``δ`` apart have Jacobians with condition numbers about ``1/δ``; Newton in
double precision reaches them only to about ``κ·eps``, which is also how close it gets to a
double root before it stalls (linear convergence, accuracy ``sqrt(eps)``). In more digits the
two behave differently: at a regular root Newton converges quadratically far below double's
rounding level, at a multiple root it keeps halving the step. :func:`refine`
makes that test; the solver uses it before it splits a cluster of paths that the endgame
merged into distinct regular roots.

mpmath is pure Python and slow: this is meant for a handful of points.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

#: Decimal digits of the extended-precision Newton.
DIGITS = 50
#: Newton iterations in extended precision: from double's accuracy of an ill-conditioned root
#: (1e-4 or better) quadratic convergence passes MP_STEP_TOL within five.
MP_ITERS = 6
#: A root is regular when the last extended-precision Newton step is below this, relative to ‖x‖:
#: far below double's rounding (which is as close as a stalled Newton gets to a multiple root)
#: and above the 50-digit rounding.
MP_STEP_TOL = 1e-30
#: A root is regular only where the Jacobian's condition number there (1-norm, in DIGITS digits) is
#: below this: Newton also converges at once onto a positive-dimensional component (``x*y = 0,
#: x*(y - 1) = 0``: one step lands on the line ``x = 0``), where the Jacobian is singular.
MP_MAX_COND = 1e25


def _eval(x, packed, mp):
    """``F(x)`` and its Jacobian in mpmath arithmetic, from a :class:`~pathtrack.polynomial.system.PackedSystem`."""
    coef, toff, var, exp, eoff = packed.arrays()
    n = len(x)
    F = [mp.mpc(0) for _ in range(len(eoff) - 1)]
    J = mp.matrix(len(eoff) - 1, n)
    for e in range(len(eoff) - 1):
        for t in range(eoff[e], eoff[e + 1]):
            c = mp.mpc(complex(coef[t]))
            vs, es = var[toff[t]:toff[t + 1]], exp[toff[t]:toff[t + 1]]
            powers = [x[v] ** int(k) for v, k in zip(vs, es)]
            term = c
            for pw in powers:
                term *= pw
            F[e] += term
            for a, (v, k) in enumerate(zip(vs, es)):
                d = c * int(k) * x[v] ** (int(k) - 1)
                for b, pw in enumerate(powers):
                    if b != a:
                        d *= pw
                J[e, v] += d
    return mp.matrix(F), J


def refine(x: np.ndarray, packed, max_iters: int = MP_ITERS):
    """Newton in :data:`DIGITS`-digit arithmetic from ``x`` (a root found in double precision),
    at most ``max_iters`` iterations.

    Returns the root rounded to complex128 when Newton converges quadratically to a regular
    root (its last step below :data:`MP_STEP_TOL`·(1 + ‖x‖), its Jacobian's condition number
    below :data:`MP_MAX_COND`), else None. The rounded root is
    accurate to double's last digit whatever the Jacobian's condition number.
    """
    import mpmath

    mp = mpmath.mp
    with mpmath.workdps(DIGITS):
        y = [mp.mpc(complex(v)) for v in x]
        scale = 1.0 + float(np.linalg.norm(x))
        for _ in range(max_iters):
            F, J = _eval(y, packed, mp)
            try:
                dx = mp.lu_solve(J, -F)
            except ZeroDivisionError:  # numerically singular even in extended precision
                return None
            y = [yi + di for yi, di in zip(y, dx)]
            if float(mp.norm(dx)) <= MP_STEP_TOL * scale:
                return np.array([complex(v) for v in y]) if _well_conditioned(y, packed) else None
        return None


def _well_conditioned(y, packed) -> bool:
    """Whether the Jacobian at ``y`` (mpmath numbers) has a 1-norm condition number below
    :data:`MP_MAX_COND` in the working precision."""
    import mpmath

    mp = mpmath.mp
    _, J = _eval(y, packed, mp)
    try:
        inv = mp.inverse(J)
    except ZeroDivisionError:
        return False
    return float(mp.mnorm(J, 1) * mp.mnorm(inv, 1)) < MP_MAX_COND


#: Decimal digits of :func:`track_linear`'s re-track of a path's last segment.
TRACK_DIGITS = 32
#: Newton corrections per step of :func:`track_linear`; a step needing more is halved.
TRACK_NEWTON_ITERS = 4
#: Each Newton correction of an accepted step is at most this fraction of the one before, and the
#: first at most ``TRACK_MAX_FIRST`` (relative to ``1 + ‖x‖``): the guards against path jumping.
TRACK_CONTRACTION = 0.25
TRACK_MAX_FIRST = 0.05
#: Corrector tolerance of :func:`track_linear`, relative to ``1 + ‖x‖``: far below double's rounding.
TRACK_TOL = 1e-16


def _terms(packed, mp):
    """The terms of each equation as ``(coefficient, [(variable, exponent), ...])``, coefficients in mpmath."""
    coef, toff, var, exp, eoff = packed.arrays()
    return [[(mp.mpc(complex(coef[t])), [(int(v), int(k)) for v, k in zip(var[toff[t]:toff[t + 1]],
                                                                          exp[toff[t]:toff[t + 1]])])
             for t in range(eoff[e], eoff[e + 1])] for e in range(len(eoff) - 1)]


def _eval_terms(x, terms, mp):
    """``F(x)`` and the rows of its Jacobian (lists of mpmath numbers) from :func:`_terms`."""
    n = len(x)
    F, J = [], []
    for eq in terms:
        f, row = mp.mpc(0), [mp.mpc(0)] * n
        for c, vk in eq:
            powers = [x[v] ** k for v, k in vk]
            term = c
            for pw in powers:
                term *= pw
            f += term
            for a, (v, k) in enumerate(vk):
                d = c * k * x[v] ** (k - 1)
                for b, pw in enumerate(powers):
                    if b != a:
                        d *= pw
                row[v] += d
        F.append(f)
        J.append(row)
    return F, J


def _homotopy_rows(x, t, F, G, gamma, patch, mp):
    """``[H_x; patch]`` and ``[H; patch·x - 1]``, and ``H_t``, of ``H = (1-t)·gamma·G + t·F`` in mpmath
    (``F``, ``G``: :func:`_terms` of packed homogeneous systems)."""
    vF, JF = _eval_terms(x, F, mp)
    vG, JG = _eval_terms(x, G, mp)
    cg = (1 - t) * gamma
    n = len(x) - 1
    A = mp.matrix(n + 1, n + 1)
    H = mp.matrix(n + 1, 1)
    Ht = mp.matrix(n + 1, 1)
    for i in range(n):
        for j in range(n + 1):
            A[i, j] = cg * JG[i][j] + t * JF[i][j]
        H[i] = cg * vG[i] + t * vF[i]
        Ht[i] = vF[i] - gamma * vG[i]
    s = mp.mpc(-1)
    for j in range(n + 1):
        A[n, j] = patch[j]
        s += patch[j] * x[j]
    H[n] = s
    return A, H, Ht


def track_linear(x, t0: float, F, G, gamma: complex, patch: np.ndarray, max_steps: int = 2000,
                 min_dt: float = 1e-24, deadline: Optional[float] = None,
                 should_stop: Optional[Callable[[], bool]] = None):
    """Track ``x`` (projective, on ``patch·x = 1``) along ``H = (1-t)·gamma·G + t·F`` from ``t0`` to 1
    in :data:`TRACK_DIGITS`-digit arithmetic; ``F``, ``G`` are packed homogeneous systems.

    Where double precision runs out (a regular root of large norm sits near the solutions at
    infinity, so ``H_x`` at the end of the path is too ill-conditioned for double's Newton),
    an Euler predictor and a guarded Newton corrector in more digits still follow the path.
    Returns the endpoint at ``t = 1`` (complex128) when every step converged, else None (a path
    that goes to infinity ends at a singular point, where the steps shrink below ``min_dt``).
    Also None once ``time.monotonic()`` passes ``deadline`` or ``should_stop()`` is true, checked
    every step, so a slow path can neither hang a solve nor delay an interrupt.
    """
    import mpmath

    mp = mpmath.mp
    with mpmath.workdps(TRACK_DIGITS):
        F, G = _terms(F, mp), _terms(G, mp)
        y = mp.matrix([mp.mpc(complex(v)) for v in x])
        g = mp.mpc(complex(gamma))
        a = [mp.mpc(complex(v)) for v in patch]
        t = mp.mpf(t0)
        dt = mp.mpf((1.0 - t0) / 64)
        n_ok = 0
        for _ in range(max_steps):
            if (deadline is not None and time.monotonic() > deadline) or (should_stop is not None and should_stop()):
                return None
            if t >= 1:
                return np.array([complex(v) for v in y])
            dt = min(dt, 1 - t)
            try:
                A, _, Ht = _homotopy_rows(list(y), t, F, G, g, a, mp)
                Ht[len(y) - 1] = 0
                tangent = mp.lu_solve(A, -Ht)
            except ZeroDivisionError:
                return None
            z = y + tangent * dt
            t1 = t + dt
            ok, prev = False, None
            for _k in range(TRACK_NEWTON_ITERS):
                try:
                    A, H, _ = _homotopy_rows(list(z), t1, F, G, g, a, mp)
                    dz = mp.lu_solve(A, -H)
                except ZeroDivisionError:
                    break
                size = 1 + mp.norm(z)
                step = mp.norm(dz)
                if (prev is None and step > TRACK_MAX_FIRST * size) or (prev is not None and step > TRACK_CONTRACTION * prev):
                    break
                z = z + dz
                prev = step
                if step <= TRACK_TOL * size:
                    ok = True
                    break
            if ok:
                y, t = z, t1
                n_ok += 1
                if n_ok >= 3:
                    dt, n_ok = dt * 2, 0
            else:
                dt, n_ok = dt / 2, 0
                if dt < min_dt:
                    return None
        return None
