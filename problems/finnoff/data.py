"""Finnoff's (1993) four regression generators, seeded.

Finnoff compared batch gradient descent with constant-rate stochastic gradient descent on
four kinds of noisy data fitted by a 10-unit tanh network. The paper's exact constants
are not reproduced here; these are the four *kinds* of generator with constants chosen
by us (documented in ``docs/flows.md``):

``sines``
    10 inputs ``x ~ U[−1, 1]¹⁰``; ``y = Σ_{i<5} sin(π x_i)`` (5 relevant inputs, 5 irrelevant).
``product``
    10 inputs ``x ~ U[−1, 1]¹⁰``; ``y = x_0 x_1 x_2`` (3 relevant inputs).
``rbf``
    5 inputs ``x ~ U[−1, 1]⁵``; ``y = Σ_{k<8} s_k exp(−‖x − m_k‖² / (2 σ²))`` with centres
    ``m_k ~ U[−1, 1]⁵``, ``σ = 0.5`` and signs ``s_k = ±1`` alternating.
``teacher``
    10 inputs ``x ~ U[−1, 1]¹⁰``; ``y`` = a random 10-unit tanh network with weights
    ``W ~ N(0, 4/d)``, ``b ~ N(0, 1)``, ``v ~ N(0, 1)``.

Every target is standardised to mean 0 and standard deviation 1 over a large reference
sample drawn with the generator's own seed, and Gaussian noise of standard deviation
``noise`` is added to the *training* targets. Test targets are noise-free, so the test
error measures the distance to the true function (noise-free NMSE, since the target has
unit variance).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["GENERATORS", "Dataset", "make_dataset"]

GENERATORS = ("sines", "product", "rbf", "teacher")
_DIMS = {"sines": 10, "product": 10, "rbf": 5, "teacher": 10}


class Dataset(NamedTuple):
    name: str
    x_train: np.ndarray
    y_train: np.ndarray  # noisy
    x_test: np.ndarray
    y_test: np.ndarray  # noise-free
    noise: float


def _target(name: str, rng: np.random.Generator):
    d = _DIMS[name]
    if name == "sines":
        return lambda x: np.sum(np.sin(np.pi * x[:, :5]), axis=1)
    if name == "product":
        return lambda x: x[:, 0] * x[:, 1] * x[:, 2]
    if name == "rbf":
        centres = rng.uniform(-1.0, 1.0, (8, d))
        signs = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
        return lambda x: np.exp(-np.sum((x[:, None, :] - centres) ** 2, axis=2) / (2 * 0.5 ** 2)) @ signs
    W = rng.normal(0.0, 2.0 / np.sqrt(d), (10, d))
    b = rng.normal(0.0, 1.0, 10)
    v = rng.normal(0.0, 1.0, 10)
    return lambda x: np.tanh(x @ W.T + b) @ v


def make_dataset(name: str, seed: int = 0, n_train: int = 200, n_test: int = 2000, noise: float = 0.2) -> Dataset:
    """Draw a training set (with noise) and a noise-free test set from generator ``name``."""
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {name!r}; one of {GENERATORS}")
    rng = np.random.default_rng([seed, GENERATORS.index(name)])
    d = _DIMS[name]
    f = _target(name, rng)
    ref = f(rng.uniform(-1.0, 1.0, (20_000, d)))
    mu, sd = ref.mean(), ref.std()
    x_train = rng.uniform(-1.0, 1.0, (n_train, d))
    x_test = rng.uniform(-1.0, 1.0, (n_test, d))
    y_train = (f(x_train) - mu) / sd + noise * rng.normal(size=n_train)
    y_test = (f(x_test) - mu) / sd
    return Dataset(name, x_train, y_train, x_test, y_test, noise)
