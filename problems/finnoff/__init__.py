"""Finnoff (1993): four noisy regression generators fitted by a 10-unit tanh network."""

from .data import GENERATORS, Dataset, make_dataset
from .model import Finnoff, TanhNet, sgd_epochs, sgd_steps

__all__ = ["Finnoff", "TanhNet", "sgd_epochs", "sgd_steps", "make_dataset", "Dataset", "GENERATORS"]
