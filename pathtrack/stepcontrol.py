"""Step-size controller, kept apart from the corrector (as in diffrax).

The corrector *estimates* (converged or not, iterations, contraction); the controller
*decides* the next step size. The rules themselves are the jitted functions in
:mod:`pathtrack.kernels.steprules`, shared with compiled trackers; this class only binds
them to a :class:`~pathtrack.options.TrackerOptions`.
"""

from __future__ import annotations

from typing import Tuple

from .kernels.steprules import STEP_TOO_SMALL, next_step_size, turn_ok
from .options import TrackerOptions

__all__ = ["StepController"]


class StepController:
    """Grow after consecutive successes, shrink and retry on failure, within [min_ds, max_ds]."""

    def __init__(self, options: TrackerOptions):
        self.options = options

    def adapt(self, ds: float, accepted: bool, n_consecutive: int) -> Tuple[float, int, bool]:
        """Return ``(new_ds, new_n_consecutive, too_small)``."""
        o = self.options
        new_ds, n_cons, code = next_step_size(float(ds), bool(accepted), int(n_consecutive), o.grow_factor,
                                              o.shrink_factor, o.grow_after, o.min_ds, o.max_ds)
        return float(new_ds), int(n_cons), code == STEP_TOO_SMALL

    def turn_ok(self, cos_angle: float) -> bool:
        """Path-jumping guard on the angle between successive tangents."""
        return bool(turn_ok(float(cos_angle), self.options.max_angle))
