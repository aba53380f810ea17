"""Finnoff (1993): four noisy regression generators fitted by a 10-unit tanh network."""

from .data import GENERATORS, Dataset, make_dataset
from .model import Finnoff, TanhNet, sgd_epochs

__all__ = ["Finnoff", "TanhNet", "sgd_epochs", "make_dataset", "Dataset", "GENERATORS"]
