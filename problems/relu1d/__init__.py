"""One-hidden-layer ReLU networks on an interval: exact risk, gradient flows, critical points for H = 1."""

from .model import TARGETS, PiecewiseLinear, ReLU1D

__all__ = ["ReLU1D", "PiecewiseLinear", "TARGETS"]
