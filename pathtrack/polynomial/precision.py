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


def refine(x: np.ndarray, packed):
    """Newton in :data:`DIGITS`-digit arithmetic from ``x`` (a root found in double precision).

    Returns the root rounded to complex128 when Newton converges quadratically to a regular
    root (its last step below :data:`MP_STEP_TOL`·(1 + ‖x‖)), else None. The rounded root is
    accurate to double's last digit whatever the Jacobian's condition number.
    """
    import mpmath

    mp = mpmath.mp
    with mpmath.workdps(DIGITS):
        y = [mp.mpc(complex(v)) for v in x]
        scale = 1.0 + float(np.linalg.norm(x))
        for _ in range(MP_ITERS):
            F, J = _eval(y, packed, mp)
            try:
                dx = mp.lu_solve(J, -F)
            except ZeroDivisionError:  # numerically singular even in extended precision
                return None
            y = [yi + di for yi, di in zip(y, dx)]
            if float(mp.norm(dx)) <= MP_STEP_TOL * scale:
                return np.array([complex(v) for v in y])
        return None
