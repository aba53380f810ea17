"""Periodic orbits of ODE problems: branches of cycles from Hopf points, by orthogonal collocation.

- :mod:`~pathtrack.periodic.collocation`: the collocation equations, their sparse bordered
  Jacobian, the monodromy matrix and mesh adaptation;
- :mod:`~pathtrack.periodic.hopf`: Hopf points (eigenvectors, frequency, first Lyapunov
  coefficient);
- :mod:`~pathtrack.periodic.continuation`: :func:`continue_cycles` and :class:`CycleResult`;
- :mod:`~pathtrack.periodic.infinite_period`: the approach to a homoclinic orbit (or SNIC) read
  off the branch, and the accuracy test of the multipliers.
"""

from .continuation import CycleResult, CycleTracker, continue_cycles, resume_cycles, switch_period_doubling
from .hopf import HopfPoint, hopf_point

__all__ = ["continue_cycles", "resume_cycles", "switch_period_doubling", "CycleResult", "CycleTracker", "HopfPoint",
           "hopf_point"]
