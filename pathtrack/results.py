"""The base of every result pathtrack returns: how it ended, why, what it cost.

:class:`Result` carries the fields every computation has; :class:`~pathtrack.driver.PathResult`
(``track``), :class:`~pathtrack.polynomial.SolveResult` (``solve``),
:class:`~pathtrack.flow.FlowResult` (``gradient_flow``) and
:class:`~pathtrack.nn.train.TrainResult` (``train``) add their own. The same fields are
the common header of the HDF5 files (:mod:`pathtrack.io.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

from .status import Status

__all__ = ["Result"]


@dataclass(frozen=True, kw_only=True)
class Result:
    """How a computation ended.

    Attributes
    ----------
    status : Status
    message : str
        What the status means and what to change (``Status.message`` unless the solver says more).
    counters : dict of str to int
        Work done: ``n_*`` counts of evaluations, steps or paths.
    total_time : float
        Wall-clock seconds of the whole computation (per-step times are the subclasses' columns).
    """

    status: Status
    message: str = ""
    counters: Dict[str, int] = field(default_factory=dict)
    total_time: float = 0.0

    @property
    def success(self) -> bool:
        """Whether the computation reached its goal (``status`` is ``success``)."""
        return self.status.is_success
