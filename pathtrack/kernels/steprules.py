"""Step-size and Newton-acceptance rules, defined once and shared.

These are the *only* definitions of the rules: plain Python on scalars, returning codes.
The Python tracker calls them through :mod:`pathtrack.stepcontrol` and
:mod:`pathtrack.corrector` as Python functions, so a path tracked in Python never imports
Numba. Compiled trackers (the polynomial solver) call the same functions from ``@njit``
code after :func:`register_for_numba`, which makes Numba compile them into their callers.
"""

import math

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

# Newton contraction the step size aims at, as a fraction of max_contraction (at the
# default max_contraction = 0.5 this is HC.jl's a = 0.125).
TARGET_CONTRACTION = 0.25
# A correction needing more than this fraction of max_newton_iters iterations is slow.
SLOW_ITERS = 0.5


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


def contraction_factor(n_iters, contraction, max_contraction, max_iters):
    """The step-size factor a converged Newton correction suggests.

    The contraction ``θ = ‖Δy_1‖/‖Δy_0‖`` of Newton from a prediction of error
    ``O(ds²)`` grows like ``ds²`` (Deuflhard), so the step that would contract at the
    target ``θ̄ = TARGET_CONTRACTION·max_contraction`` is ``ds·sqrt(θ̄/θ)``. One update
    gives no estimate (``θ`` is NaN): the factor is ``inf``. More than
    ``SLOW_ITERS·max_iters`` iterations cap the factor at 1: the step may not grow.
    """
    factor = math.inf
    if math.isfinite(contraction) and contraction > 0.0:
        factor = math.sqrt(TARGET_CONTRACTION * max_contraction / contraction)
    if n_iters > SLOW_ITERS * max_iters:
        factor = min(factor, 1.0)
    return factor


def work_factor(n_iters, max_iters, accepted, predicted_iters):
    """The step-size factor a minimisation corrector's work suggests.

    Accepted after more than ``SLOW_ITERS·max_iters`` iterations: 1 (the step may not grow:
    a larger one would probably exhaust the budget). Rejected with an extrapolated need
    of ``predicted_iters`` iterations (an early exit): ``sqrt(max_iters/predicted_iters)``,
    as if the work grew like ds²; :func:`adapt_step_size` clips it to
    ``[shrink_factor², shrink_factor]``. Otherwise ``inf`` (no estimate).
    """
    if accepted:
        return 1.0 if n_iters > SLOW_ITERS * max_iters else math.inf
    if predicted_iters > 0.0 and math.isfinite(predicted_iters):
        return math.sqrt(max_iters / predicted_iters)
    if predicted_iters > 0.0:  # no progress at all: shrink as much as allowed
        return 0.0
    return math.inf


def adapt_step_size(ds, accepted, n_consecutive, factor, grow_factor, shrink_factor, grow_after, min_ds, max_ds):
    """Backtracking step control scaled by the corrector's suggested ``factor``.

    Accepted with ``factor < 1`` (slow contraction): shrink to ``ds·max(factor,
    shrink_factor)`` and count again. Accepted otherwise: count; after ``grow_after``
    consecutive successes grow by ``min(factor, grow_factor)``, capped at ``max_ds``.
    Rejected: shrink by ``factor`` clipped to ``[shrink_factor², shrink_factor]``; below
    ``min_ds`` report ``STEP_TOO_SMALL``. With ``factor = inf`` (no estimate) this is
    :func:`next_step_size`.

    Returns
    -------
    (new_ds, new_n_consecutive, code)
    """
    if accepted:
        if factor < 1.0:
            return min(ds * max(factor, shrink_factor), max_ds), 0, STEP_OK
        n_consecutive += 1
        if n_consecutive >= grow_after:
            ds = min(ds * min(factor, grow_factor), max_ds)
            n_consecutive = 0
        return min(ds, max_ds), n_consecutive, STEP_OK
    ds = ds * max(min(factor, shrink_factor), shrink_factor * shrink_factor)
    if ds < min_ds:
        return ds, 0, STEP_TOO_SMALL
    return ds, 0, STEP_OK


def next_step_size(ds, accepted, n_consecutive, grow_factor, shrink_factor, grow_after, min_ds, max_ds):
    """Backtracking step control without corrector information.

    On acceptance, grow by ``grow_factor`` after ``grow_after`` consecutive successes
    (then count again), capped at ``max_ds``. On rejection, shrink by ``shrink_factor``;
    below ``min_ds`` report ``STEP_TOO_SMALL``.

    Returns
    -------
    (new_ds, new_n_consecutive, code)
    """
    return adapt_step_size(ds, accepted, n_consecutive, math.inf, grow_factor, shrink_factor, grow_after, min_ds,
                           max_ds)


def turn_ok(cos_angle, max_angle):
    """Path-jumping guard: True when successive tangents turn by at most ``max_angle``."""
    if not math.isfinite(cos_angle):
        return False
    c = min(1.0, max(-1.0, cos_angle))
    return math.acos(c) <= max_angle


_RULES = (newton_verdict, contraction_factor, work_factor, adapt_step_size, next_step_size, turn_ok)


def register_for_numba() -> None:
    """Make the rules callable from ``@njit`` code (idempotent; imports Numba).

    Each rule is registered with ``numba.extending.register_jitable`` and inlined at Numba-IR
    level into its caller: no separate compilation per rule, and no second specialisation
    when a caller passes an integer literal (``max_iters=8``).
    """
    global _registered
    if _registered:
        return
    from numba.extending import register_jitable

    for rule in _RULES:
        register_jitable(inline="always")(rule)
    _registered = True


_registered = False
