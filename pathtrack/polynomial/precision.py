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
#: Newton iterations in extended precision. From double's accuracy of a root with condition
#: number ``κ`` next to another root ``1/κ`` away, Newton first halves its step (as at a double
#: root) until it is closer to one of the two than to their midpoint, then converges quadratically.
MP_ITERS = 10
#: Newton's convergence looks linear once this many step ratios in a row lie in
#: [MP_LINEAR_RATIO, MP_LINEAR_MAX_RATIO] and differ by at most MP_LINEAR_SPREAD: at a root of
#: multiplicity ``m`` each step is ``(m - 1)/m`` of the one before. Ratios near 1 are a stall.
#: Two regular roots ``δ`` apart look the same from much further than ``δ``, so this only
#: estimates ``m`` for the test that decides (:func:`newton_verdict`).
MP_LINEAR_STEPS = 4
MP_LINEAR_RATIO = 0.3
MP_LINEAR_MAX_RATIO = 0.95
MP_LINEAR_SPREAD = 0.15
#: Iterations of the modified Newton ``x + m·dx`` that decides a multiple root, in
#: ``MP_MULTIPLE_DIGITS_PER_M·m + DIGITS`` digits (a root of multiplicity ``m`` is defined only to
#: about ``10^(-digits/m)``) ...
MP_MULTIPLE_ITERS = 12
MP_MULTIPLE_DIGITS_PER_M = 20
#: ... and the step, relative to ``1 + ‖x‖``, below which it has converged to a multiple root.
#: Near two regular roots ``δ`` apart, the modified step jumps across their midpoint and never gets
#: below ``δ/2``: roots closer than about this are taken for one multiple root.
MP_MULTIPLE_TOL = 1e-14
#: ... and each step's cosine with the one before is at least this.
MP_LINEAR_ALIGNMENT = 0.9
#: Where the Jacobian is singular even in extended precision, Newton starts again this far away
#: (relative to ``1 + ‖x‖``, a fixed random direction): from there a multiple root shows linear steps.
MP_NUDGE = 1e-9
#: A Newton step longer than this, relative to ``1 + ‖x‖``, leaves the point it started from: undecided.
MP_MAX_STEP = 1e-2
#: A root is regular when the last extended-precision Newton step is below this, relative to ‖x‖:
#: far below double's rounding (which is as close as a stalled Newton gets to a multiple root)
#: and above the 50-digit rounding.
MP_STEP_TOL = 1e-30


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


#: :func:`newton_verdict`'s outcomes.
REGULAR_ROOT, MULTIPLE_ROOT, UNDECIDED = "regular", "multiple", "undecided"


def newton_verdict(x: np.ndarray, packed, max_iters: int = MP_ITERS, decide_multiple: bool = True):
    """What Newton in :data:`DIGITS`-digit arithmetic from ``x`` (a root found in double precision) shows.

    Returns ``(verdict, root)``: :data:`REGULAR_ROOT` and the root rounded to complex128 when
    Newton converges quadratically (its last step below :data:`MP_STEP_TOL`·(1 + ‖x‖); the root is
    accurate to double's last digit whatever the Jacobian's condition number);
    :data:`MULTIPLE_ROOT` and None when it converges only linearly (:data:`MP_LINEAR_STEPS` steady
    step ratios in a row, as at a root of multiplicity ``m`` where each step is ``(m - 1)/m`` of the
    one before; where the Jacobian is singular at ``x`` itself, from a point :data:`MP_NUDGE` away)
    and the modified Newton ``x + m·dx`` for the ``m`` those ratios give then converges, to a step
    below :data:`MP_MULTIPLE_TOL`;
    :data:`UNDECIDED` and None otherwise (a Jacobian singular in extended precision twice, a step
    longer than :data:`MP_MAX_STEP`, or more than ``max_iters`` iterations). With
    ``decide_multiple=False`` linear convergence gives :data:`UNDECIDED` without the costly test.
    """
    import mpmath

    mp = mpmath.mp
    with mpmath.workdps(DIGITS):
        y = [mp.mpc(complex(v)) for v in x]
        scale = 1.0 + float(np.linalg.norm(x))
        prev, prev_dx, ratios, nudged = None, None, [], False
        for _ in range(max_iters):
            F, J = _eval(y, packed, mp)
            try:
                dx = mp.lu_solve(J, -F)
            except ZeroDivisionError:  # exactly singular (a multiple root given exactly): step off it once
                if nudged:
                    return UNDECIDED, None
                nudged = True
                off = np.array([1.0, 1j]) @ np.random.default_rng(0).standard_normal((2, len(y)))
                y = [yi + mp.mpc(complex(MP_NUDGE * scale * o)) for yi, o in zip(y, off)]
                prev, prev_dx, ratios = None, None, []
                continue
            y = [yi + di for yi, di in zip(y, dx)]
            step = float(mp.norm(dx))
            if step <= MP_STEP_TOL * scale:
                return REGULAR_ROOT, np.array([complex(v) for v in y])
            if step > MP_MAX_STEP * scale:  # left the point it was asked about (from a pair's midpoint)
                return UNDECIDED, None
            if prev is not None:
                ratio = step / prev
                # towards a multiple root each step points the way the last one did; a stall wanders
                along = float(mp.re(mp.fsum(a * mp.conj(b) for a, b in zip(dx, prev_dx)))) / (step * prev)
                steady = MP_LINEAR_RATIO <= ratio <= MP_LINEAR_MAX_RATIO and along >= MP_LINEAR_ALIGNMENT
                ratios = ratios + [ratio] if steady else []
                recent = ratios[-MP_LINEAR_STEPS:]
                if len(recent) == MP_LINEAR_STEPS and max(recent) - min(recent) <= MP_LINEAR_SPREAD:
                    if not decide_multiple:
                        return UNDECIDED, None
                    m = max(2, int(round(1.0 / (1.0 - float(np.mean(recent))))))
                    return (MULTIPLE_ROOT if _modified_newton_converges(y, m, packed, scale) else UNDECIDED), None
            prev, prev_dx = step, dx
        return UNDECIDED, None


def _modified_newton_converges(y, m: int, packed, scale: float) -> bool:
    """Whether Newton with steps ``m·dx`` (quadratic at a root of multiplicity ``m``) from ``y``
    (mpmath numbers) takes a step below :data:`MP_MULTIPLE_TOL`·``scale``, or reaches a point where
    ``‖F‖`` is below :data:`MP_STEP_TOL`·``scale``, within :data:`MP_MULTIPLE_ITERS` iterations."""
    import mpmath

    mp = mpmath.mp
    with mpmath.workdps(DIGITS + MP_MULTIPLE_DIGITS_PER_M * m):
        y = [mp.mpc(v) for v in y]
        for _ in range(MP_MULTIPLE_ITERS):
            F, J = _eval(y, packed, mp)
            if float(mp.norm(F)) <= MP_STEP_TOL * scale:  # solves F far below double, Jacobian near singular
                return True
            try:
                dx = mp.lu_solve(J, -F)
            except ZeroDivisionError:
                return False
            step = m * float(mp.norm(dx))
            if step <= MP_MULTIPLE_TOL * scale:
                return True
            if step > MP_MAX_STEP * scale:
                return False
            y = [yi + m * di for yi, di in zip(y, dx)]
        return False


def refine(x: np.ndarray, packed):
    """The regular root that Newton in :data:`DIGITS`-digit arithmetic from ``x`` converges to
    quadratically, rounded to complex128 (see :func:`newton_verdict`), else None."""
    verdict, root = newton_verdict(x, packed)
    return root if verdict == REGULAR_ROOT else None


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
