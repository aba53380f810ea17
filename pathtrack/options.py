"""Tracker options: one frozen, validated dataclass of user-facing limits and choices.

Every field is documented below and validated in ``__post_init__`` with a message
that says what to change. Options are immutable; derive a variant with
:meth:`TrackerOptions.replace`. The CLI builds them from ``KEY=VALUE`` strings with
:meth:`TrackerOptions.from_strings`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass
from typing import Any, Mapping, Optional

__all__ = ["TrackerOptions", "OptionsError", "PARAMETERISATIONS", "PREDICTORS", "CORRECTORS", "PRESETS"]

PARAMETERISATIONS = ("arclength", "natural")
PREDICTORS = ("tangent", "secant", "rk4", "constant", "hessian", "hermite")
CORRECTORS = ("auto", "newton", "newton-krylov", "lbfgs", "gd", "adam", "newton-cg", "lm")
EIG_DIAGNOSTICS = ("auto", "dense", "lanczos", "off")
#: What the ``'lbfgs'`` corrector carries from one correction to the next (:attr:`TrackerOptions.min_carry_memory`).
CARRY_MEMORY = ("off", "accepted", "all")
#: Names of :meth:`TrackerOptions.with_preset`'s tunings.
PRESETS = ("default", "fast", "conservative")


class OptionsError(ValueError):
    """An invalid option value; the message names the field and a valid range."""



def resolve_options(cls, options: Any, from_mapping):
    """``options`` if it is a ``cls``, ``from_mapping(dict)`` for None or a mapping of field values.

    Raises
    ------
    TypeError
        For anything else, saying what is expected.
    """
    if options is None or isinstance(options, Mapping):
        return from_mapping(dict(options or {}))
    if not isinstance(options, cls):
        raise TypeError(f"options must be a {cls.__name__} or a mapping of option names to values "
                        f"(e.g. {{'max_ds': 0.05}}), got {type(options).__name__}")
    return options

@dataclass(frozen=True)
class TrackerOptions:
    """User-facing limits and choices of the path tracker.

    Parameters
    ----------
    parameterisation : {'arclength', 'natural'}
        ``'arclength'`` (Keller's pseudo-arclength, bordered by the tangent) goes round
        folds; ``'natural'`` fixes λ at each step and cannot pass a fold.
    predictor : {'tangent', 'secant', 'rk4', 'constant', 'hessian', 'hermite'}
        Euler step along the tangent, secant through the last two points (tangent at
        the first step), classical RK4 on the Davidenko equation, no prediction
        (the corrector starts from the last point; for minimisation correctors), for
        gradient homotopies at natural parameterisation the damped implicit-function
        step ``−(∇²L + μI)⁻¹ ∂_λ∇L`` by MINRES on Hessian-vector products, or the cubic
        through the last two points and their tangents (Euler at the first step; the
        default of two-parameter curves).
    predictor_damping : float
        μ of the ``'hessian'`` predictor relative to the Hessian's scale along ∂_λ∇L.
    corrector : {'auto', 'newton', 'newton-krylov', 'lbfgs', 'gd', 'adam', 'newton-cg', 'lm'}
        Dense Newton with a contraction test, matrix-free Newton–Krylov (GMRES),
        or a minimisation corrector for gradient homotopies (L-BFGS, gradient
        descent with momentum, full-batch Adam, trust-region Newton–CG (Steihaug) on
        Hessian-vector products, or Levenberg–Marquardt on the problem's Gauss–Newton-vector
        products, ``Problem.gnvp``). ``'auto'`` picks dense Newton up to ``dense_max_n``
        unknowns, then L-BFGS for gradient problems and Newton–Krylov otherwise.
    lam_end : float or None
        Target λ: the path ends (successfully) where it first reaches it, landing
        exactly on it. A path that starts on ``lam_end`` ends when it comes back.
        ``None`` takes the problem's ``lam_end``.
    lam_min, lam_max : float or None
        The λ-box. The path ends (successfully) where it leaves the box, landing
        exactly on its edge. ``None`` takes the problem's bounds, or else the
        interval between the start and ``lam_end``.
    direction : {-1, 0, 1}
        Initial direction of λ; 0 means towards ``lam_end``.
    initial_ds, min_ds, max_ds : float
        Step sizes: arclength for ``'arclength'``, abs(Δλ) for ``'natural'``. When
        :meth:`replace` (and so ``-o``) changes ``min_ds`` or ``max_ds`` but not
        ``initial_ds``, ``initial_ds`` is clipped into the new range.
    max_steps : int
        Maximum number of step attempts (accepted plus rejected).
    grow_factor, shrink_factor : float
        Largest step growth after ``grow_after`` consecutive successes (less when Newton
        contracts slowly); shrink on rejection (down to ``shrink_factor²`` when Newton diverged).
    grow_after : int
        Consecutive accepted steps needed before the step grows.
    max_newton_iters : int
        Newton iteration cap per step.
    newton_tol : float
        Converged when ‖Δy‖ ≤ newton_tol·(1 + ‖y‖).
    max_contraction : float
        Reject the step when a Newton update is not at least this much smaller than
        the one before (‖Δy_k‖ / ‖Δy_{k-1}‖ > max_contraction), as HC.jl does. The step
        size aims at a contraction of ``max_contraction/4`` (:class:`~pathtrack.stepcontrol.StepController`).
    max_angle : float
        Path-jumping guard: reject steps whose tangent turns by more than this
        angle (radians) from the previous one.
    max_jump : float
        Discontinuity guard: reject a step whose corrector moves the predicted point by
        more than ``max_jump`` times the length of the predicted step (rejection
        ``jump``). On a continuous path the ratio shrinks with the step; a path whose
        step underflows on this rejection ends ``discontinuous``. ``inf`` disables it.
    max_norm : float or None
        The path ends ``unbounded`` where ‖p‖ exceeds this bound. ``None``:
        ``1e3·max(‖p0‖, √n)`` for the start ``p0`` of ``n`` unknowns (entries may grow to a
        thousand times their start size, or to 1e3 from a start near zero). ``inf``
        disables the test.
    start_tol : float
        Residual ‖H‖ above which the start point is refined by Newton at fixed λ.
    max_cond : float
        Condition estimate above which the augmented Jacobian is called singular.
    krylov_tol, krylov_maxiter : float, int
        Relative tolerance and iteration cap of GMRES inside Newton–Krylov.
    min_gtol : float
        Gradient tolerance ‖∇L‖∞ of the minimisation correctors (scipy's ``gtol``).
    min_maxiter : int
        Iteration cap of the minimisation correctors per step.
    min_memory : int
        Correction pairs kept by the ``'lbfgs'`` corrector (scipy's ``maxcor``).
    min_carry_memory : {'off', 'accepted', 'all'}
        Whether the ``'lbfgs'`` corrector starts each correction with the curvature pairs
        that the previous ones gathered, instead of an empty memory (the objectives at λ and
        λ + Δλ differ little). ``'off'`` (default): scipy's L-BFGS-B, a fresh memory every
        correction. ``'accepted'``: pathtrack's own L-BFGS (two-loop recursion, the same
        Wolfe constants as L-BFGS-B), keeping the pairs of accepted steps only; a rejected
        attempt's pairs are dropped. ``'all'``: the same, also keeping a rejected attempt's pairs.
    gd_lr, gd_momentum : float
        Learning rate of the ``'gd'`` and ``'adam'`` correctors, and heavy-ball momentum
        of ``'gd'`` (Adam uses β₁ = 0.9, β₂ = 0.999).
    stop_on_accept : bool
        Minimisation correctors stop as soon as the problem's acceptance test
        passes (e.g. 100% training accuracy) instead of running to ``min_gtol``.
    min_exit_ratio : float
        Early exit of the minimisation correctors on problems that count the failures of
        their acceptance test (``Problem.n_violations``): every tenth of ``min_maxiter``
        the corrector extrapolates the count's decrease over the last fifth linearly, and
        gives up (a rejection that reports ``predicted_iters``) once the iterations it
        would need exceed ``min_exit_ratio·min_maxiter``. ``inf`` disables it.
    min_active_set : int
        Final exact stage of the minimisation correctors on problems that report their
        violated constraints (``Problem.violations``): when at most this many remain, a
        least-norm step on their linearisation is tried before the next iteration (0: never).
    step_memory : bool
        The step controller learns from rejections: no growth straight after one, and a
        size that failed is retried only after ever more consecutive successes
        (:class:`~pathtrack.stepcontrol.StepController`). Off by default: the memory is not part
        of a checkpoint, so a resumed run with it may take other steps than an uninterrupted one
        (``deng-mnist`` turns it on).
    dense_max_n : int
        Largest ``n`` for which dense Jacobians are formed.
    eig_diagnostics : {'auto', 'dense', 'lanczos', 'off'}
        Hessian index (gradient problems) or stability eigenvalues (``is_ode_rhs``
        problems) at every step: ``'auto'`` computes them densely for small problems only;
        ``'lanczos'`` uses ``eigsh`` on Hessian-vector products (large gradient problems).
    close_loop : bool
        End successfully when the path returns to its start (closed curves).
    store_p_every : int
        Keep ``p`` in memory every k accepted steps (scalar columns keep every step).
    ntst, ncol : int
        Periodic orbits (:mod:`pathtrack.periodic`): mesh intervals (at least 2) and Gauss
        collocation points per interval (2 to 7, as AUTO).
    mesh_adapt_every : int
        Periodic orbits: re-distribute the mesh every this many accepted steps (0: never).
    max_period : float or None
        Periodic orbits: the branch ends ``homoclinic`` where the period exceeds this bound
        while the orbit stays bounded. ``None``: 20 times the period at the start.
    chord_newton : bool
        The dense Newton corrector keeps the Jacobian of the last accepted point (where the
        tangent was computed from it) for every iterate of the next step: a chord method,
        one Jacobian per step instead of one per iterate, converging linearly to the same
        point. Where it does not converge the step is corrected again by full Newton from the
        same prediction. Event location's trial points are corrected alike, each with the
        Jacobian of the trial before. Off by default; two-parameter curves
        (:mod:`pathtrack.twoparam`), whose Jacobian costs several evaluations of ``H``, turn it on.
    """

    parameterisation: str = "arclength"
    predictor: str = "tangent"
    predictor_damping: float = 1e-2
    corrector: str = "auto"
    lam_end: Optional[float] = None
    lam_min: Optional[float] = None
    lam_max: Optional[float] = None
    direction: int = 0
    initial_ds: float = 0.05
    min_ds: float = 1e-10
    max_ds: float = 0.5
    max_steps: int = 10_000
    grow_factor: float = 2.0
    shrink_factor: float = 0.5
    grow_after: int = 2
    max_newton_iters: int = 10
    newton_tol: float = 1e-10
    max_contraction: float = 0.5
    max_angle: float = 0.6
    max_jump: float = 1.0
    max_norm: Optional[float] = None
    start_tol: float = 1e-9
    max_cond: float = 1e13
    krylov_tol: float = 1e-10
    krylov_maxiter: int = 200
    min_gtol: float = 1e-8
    min_maxiter: int = 500
    min_memory: int = 10
    min_carry_memory: str = "off"
    gd_lr: float = 1e-2
    gd_momentum: float = 0.9
    stop_on_accept: bool = True
    min_exit_ratio: float = 1.0
    min_active_set: int = 0
    step_memory: bool = False
    dense_max_n: int = 2000
    eig_diagnostics: str = "auto"
    close_loop: bool = True
    store_p_every: int = 1
    ntst: int = 20
    ncol: int = 4
    mesh_adapt_every: int = 3
    max_period: Optional[float] = None
    chord_newton: bool = False

    def __post_init__(self) -> None:
        self._check_choice("parameterisation", PARAMETERISATIONS)
        self._check_choice("predictor", PREDICTORS)
        self._check_choice("corrector", CORRECTORS)
        self._check_choice("eig_diagnostics", EIG_DIAGNOSTICS)
        self._check_choice("min_carry_memory", CARRY_MEMORY)
        if self.direction not in (-1, 0, 1):
            raise OptionsError(f"direction must be -1, 0 or 1, got {self.direction!r}")
        for name in ("lam_end", "lam_min", "lam_max"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise OptionsError(f"{name} must be finite or None, got {v!r}")
        if self.lam_min is not None and self.lam_max is not None and not self.lam_min < self.lam_max:
            raise OptionsError(f"lam_min ({self.lam_min}) must be smaller than lam_max ({self.lam_max})")
        positive = ("initial_ds", "min_ds", "max_ds", "newton_tol", "start_tol", "max_cond", "krylov_tol",
                    "min_gtol", "gd_lr", "max_angle", "predictor_damping")
        for name in positive:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise OptionsError(f"{name} must be a positive finite number, got {v!r}")
        if not self.min_ds <= self.initial_ds <= self.max_ds:
            raise OptionsError(
                f"need min_ds <= initial_ds <= max_ds, got {self.min_ds} <= {self.initial_ds} <= {self.max_ds}; "
                "adjust one of them")
        for name in ("max_steps", "max_newton_iters", "grow_after", "krylov_maxiter", "min_maxiter", "min_memory",
                     "dense_max_n", "store_p_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise OptionsError(f"{name} must be a positive integer, got {v!r}")
        if not self.grow_factor >= 1.0:
            raise OptionsError(f"grow_factor must be >= 1, got {self.grow_factor}")
        if not 0.0 < self.shrink_factor < 1.0:
            raise OptionsError(f"shrink_factor must lie in (0, 1), got {self.shrink_factor}")
        if not 0.0 < self.max_contraction < 1.0:
            raise OptionsError(f"max_contraction must lie in (0, 1), got {self.max_contraction}")
        if not (_is_real(self.min_exit_ratio) and self.min_exit_ratio > 0):  # inf allowed: disabled
            raise OptionsError(f"min_exit_ratio must be a positive number (inf disables the early exit), "
                               f"got {self.min_exit_ratio!r}")
        if not isinstance(self.min_active_set, int) or isinstance(self.min_active_set, bool) \
                or self.min_active_set < 0:
            raise OptionsError(f"min_active_set must be a non-negative integer, got {self.min_active_set!r}")
        if not 0.0 <= self.gd_momentum < 1.0:
            raise OptionsError(f"gd_momentum must lie in [0, 1), got {self.gd_momentum}")
        if not (isinstance(self.max_jump, (int, float)) and self.max_jump > 0):  # inf allowed: disabled
            raise OptionsError(f"max_jump must be a positive number (inf disables the test), got {self.max_jump!r}")
        if self.max_norm is not None and not (isinstance(self.max_norm, (int, float)) and self.max_norm > 0):
            raise OptionsError(f"max_norm must be a positive number, inf or None, got {self.max_norm!r}")
        if not isinstance(self.ntst, int) or isinstance(self.ntst, bool) or self.ntst < 2:
            raise OptionsError(f"ntst must be an integer >= 2 (mesh intervals), got {self.ntst!r}")
        if not isinstance(self.ncol, int) or isinstance(self.ncol, bool) or not 2 <= self.ncol <= 7:
            raise OptionsError(f"ncol must be an integer from 2 to 7 (collocation points), got {self.ncol!r}")
        if not isinstance(self.mesh_adapt_every, int) or isinstance(self.mesh_adapt_every, bool) \
                or self.mesh_adapt_every < 0:
            raise OptionsError(f"mesh_adapt_every must be a non-negative integer, got {self.mesh_adapt_every!r}")
        if self.max_period is not None and not (_is_number(self.max_period) and self.max_period > 0):
            raise OptionsError(f"max_period must be a positive finite number or None, got {self.max_period!r}")
        if not isinstance(self.chord_newton, bool):
            raise OptionsError(f"chord_newton must be True or False, got {self.chord_newton!r}")
        if self.max_angle > math.pi:
            raise OptionsError(f"max_angle is in radians and must be <= pi, got {self.max_angle}")

    def _check_choice(self, name: str, choices: tuple) -> None:
        v = getattr(self, name)
        if v not in choices:
            raise OptionsError(f"{name} must be one of {', '.join(map(repr, choices))}; got {v!r}")

    # -- construction helpers -------------------------------------------------------------------
    def with_preset(self, name: str) -> "TrackerOptions":
        """These options retuned by the named preset (as HC.jl's DEFAULT, FAST and CONSERVATIVE parameters).

        A preset scales the step-control fields of the options it is applied to, so it
        keeps a problem's own scale (its ``max_ds``) and can be applied repeatedly:

        ``'default'``
            The options unchanged.
        ``'fast'``
            The step grows by at least a factor 3 (``grow_factor``) after ``grow_after`` accepted
            steps, so it recovers sooner from a shrink; ``max_ds`` and the guards stay. On the
            bundled problems it saves up to 6% of the evaluations of ``H``; raising ``max_ds``
            or growing after every step saved more on smooth paths but lost the closed ellipse
            (no loop closure, 10 folds) and reported spurious branch points on ``linear-complex``.
        ``'conservative'``
            Shorter steps and stricter guards against path jumping: ``max_ds`` divided by 4,
            ``initial_ds`` at most half the new ``max_ds``, ``max_contraction`` halved (at most
            0.25), ``max_angle`` halved (at most 0.5 rad), at most 3 Newton iterations (a step
            that needs more is rejected and shortened rather than pulled onto a possibly other
            path), ``grow_after`` at least 3, ``newton_tol`` divided by 100 and four times the
            ``max_steps`` budget. :func:`pathtrack.polynomial.solve` re-tracks crossed and failed
            paths with this preset, once more per round.

        Measured (accepted steps / evaluations of ``H``, default -> fast -> conservative):
        pitchfork 21/47 -> 20/45 -> 71/147, bratu1d (n=40) 43/210 -> 41/203 -> 150/638,
        ellipse 51/271 -> 51/273 -> 196/818, linear-complex 28/122 -> 24/119 -> 51/194,
        brusselator 13/32 -> 12/30 -> 42/90; every run succeeds with the same special points.
        """
        if name == "default":
            return self
        if name == "fast":
            return self.replace(grow_factor=max(self.grow_factor, 3.0))
        if name == "conservative":
            max_ds = self.max_ds / 4
            return self.replace(max_ds=max_ds, initial_ds=min(self.initial_ds, max_ds) / 2,
                                max_contraction=min(self.max_contraction / 2, 0.25),
                                max_angle=min(self.max_angle / 2, 0.5), max_newton_iters=min(self.max_newton_iters, 3),
                                grow_after=max(self.grow_after, 3), newton_tol=self.newton_tol / 100,
                                max_steps=self.max_steps * 4)
        raise OptionsError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")

    @classmethod
    def preset(cls, name: str, **changes: Any) -> "TrackerOptions":
        """The default options retuned by preset ``name`` (see :meth:`with_preset`), then ``changes``."""
        return cls().with_preset(name).replace(**changes)

    def replace(self, **changes: Any) -> "TrackerOptions":
        """Return a copy with ``changes`` applied (validated).

        A change of ``min_ds`` or ``max_ds`` without one of ``initial_ds`` clips
        ``initial_ds`` into the new range (the inherited first step is no choice of the
        caller's); an explicit inconsistent triple is still refused.
        """
        unknown = set(changes) - set(self.field_names())
        if unknown:
            raise OptionsError(f"unknown tracker option(s) {sorted(unknown)}; valid: {', '.join(self.field_names())}")
        if "initial_ds" not in changes and ({"min_ds", "max_ds"} & set(changes)):
            lo, hi = changes.get("min_ds", self.min_ds), changes.get("max_ds", self.max_ds)
            if _is_number(lo) and _is_number(hi) and lo <= hi:  # else validation names the culprit
                changes["initial_ds"] = min(max(self.initial_ds, lo), hi)
        return dataclasses.replace(self, **changes)

    @classmethod
    def resolve(cls, options: Any = None, defaults: Optional[Mapping[str, Any]] = None,
                **overrides: Any) -> "TrackerOptions":
        """Options from what a caller passed: None, a TrackerOptions or a mapping of field values.

        ``defaults`` (a problem's ``default_options``) is the base of None and of a mapping;
        ``overrides`` go on top of everything.

        Raises
        ------
        TypeError
            For anything else, saying what is expected.
        OptionsError
            For unknown names or invalid values.
        """
        options = resolve_options(cls, options, lambda given: cls(**dict(defaults or {})).replace(**given))
        return options.replace(**overrides) if overrides else options

    @classmethod
    def field_names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_strings(cls, values: Mapping[str, str], base: Optional["TrackerOptions"] = None) -> "TrackerOptions":
        """Build options from ``{name: text}`` pairs, converting each text by the field's type."""
        base = base or cls()
        hints = typing.get_type_hints(cls)
        converted = {}
        for key, text in values.items():
            if key not in hints:
                raise OptionsError(f"unknown tracker option {key!r}; valid: {', '.join(cls.field_names())}")
            try:
                converted[key] = _convert(key, text, hints[key])
            except OptionsError as exc:
                raise OptionsError(f"option {key}: {exc}") from None
        return base.replace(**converted)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrackerOptions":
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.field_names()}
        return cls(**known)


def _is_real(v: Any) -> bool:
    """A number that is not NaN (inf allowed)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _convert(key: str, text: str, hint: Any) -> Any:
    """Convert CLI text to the annotated type of option ``key``; the error names the text, not the key."""
    if not isinstance(text, str):
        return text
    args = typing.get_args(hint)
    optional = type(None) in args
    target = next((a for a in args if a is not type(None)), hint) if args else hint
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    try:
        if target is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if target is int:
            return int(text)
        if target is float:
            return float(text)
        return target(text)
    except ValueError:
        raise OptionsError(f"cannot read {text!r} as {getattr(target, '__name__', target)}") from None


# Shared with the CLI and with plugins that expose typed parameters.
convert_text = _convert
