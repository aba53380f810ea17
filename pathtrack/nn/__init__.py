"""Neural networks as continuation problems: models with a flat parameter vector, losses with
fast derivatives (:mod:`pathtrack.kernels.nn`) and conventional training for comparison."""

from .model import ACTIVATIONS, LOSSES, LossFunction, Network

__all__ = ["Network", "LossFunction", "ACTIVATIONS", "LOSSES"]
