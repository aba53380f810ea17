"""Step-size and Newton-acceptance rules, compiled once and shared.

These are the *only* definitions of the rules. The Python tracker calls them through
:mod:`pathtrack.stepcontrol` and :mod:`pathtrack.corrector`; compiled trackers (the
polynomial solver) call them directly from ``@njit`` code. jit-compiled; scalars only;
returns codes.
"""

import math

from numba import njit

# Newton verdict codes; values match pathtrack.status.CorrectorCode, plus CONTINUE.
CONTINUE = -1
CONVERGED = 0
MAX_ITERS = 1
DIVERGED = 2
SINGULAR = 3
NONFINITE = 4

# Step-control codes.
STEP_OK = 0
STEP_TOO_SMALL = 1


@njit(cache=True)
def newton_verdict(k, norm_dx, norm_dx_prev, norm_y, newton_tol, max_contraction, max_iters):
    """Judge Newton iteration ``k`` (0-based) from the size of its update.

    Converged when ‖Δy_k‖ ≤ newton_tol·(1 + ‖y‖). Diverged when the contraction ratio
    ‖Δy_k‖/‖Δy_{k-1}‖ exceeds ``max_contraction`` (the a-priori test of HC.jl: a path
    that does not contract fast is probably being left). Returns a code.
    """
    if not math.isfinite(norm_dx):
        return NONFINITE
    if norm_dx <= newton_tol * (1.0 + norm_y):
        return CONVERGED
    if k > 0 and norm_dx > max_contraction * norm_dx_prev:
        return DIVERGED
    if k + 1 >= max_iters:
        return MAX_ITERS
    return CONTINUE


@njit(cache=True)
def next_step_size(ds, accepted, n_consecutive, grow_factor, shrink_factor, grow_after, min_ds, max_ds):
    """Backtracking step control.

    On acceptance, grow by ``grow_factor`` after ``grow_after`` consecutive successes
    (then count again), capped at ``max_ds``. On rejection, shrink by ``shrink_factor``;
    below ``min_ds`` report ``STEP_TOO_SMALL``.

    Returns
    -------
    (new_ds, new_n_consecutive, code)
    """
    if accepted:
        n_consecutive += 1
        if n_consecutive >= grow_after:
            ds = min(ds * grow_factor, max_ds)
            n_consecutive = 0
        return min(ds, max_ds), n_consecutive, STEP_OK
    ds = ds * shrink_factor
    if ds < min_ds:
        return ds, 0, STEP_TOO_SMALL
    return ds, 0, STEP_OK


@njit(cache=True)
def turn_ok(cos_angle, max_angle):
    """Path-jumping guard: True when successive tangents turn by at most ``max_angle``."""
    if not math.isfinite(cos_angle):
        return False
    c = min(1.0, max(-1.0, cos_angle))
    return math.acos(c) <= max_angle
