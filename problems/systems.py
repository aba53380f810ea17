"""Benchmark families of polynomial systems: ``katsura:n``, ``cyclic:n``, ``noon:n``, ``eco:n``, ``reimer:n``,
``random:n:d[:seed]``.

Each is registered in the ``pathtrack.systems`` entry-point group, so that
``pathtrack.solve("katsura:8")`` and ``pathtrack solve cyclic:7`` find it; a user's family is
registered the same way. Definitions follow the PHCpack demo database (Verschelde's
collection).
"""

from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np

from pathtrack.polynomial import PolynomialSystem

__all__ = ["katsura", "cyclic", "noon", "eco", "reimer", "random_dense"]


def _at_least(family: str, n: int, minimum: int) -> None:
    if n < minimum:
        raise ValueError(f"{family}:{n}: n must be at least {minimum}")


def _system(name: str, n_vars: int, eqs: List[Dict[Tuple[int, ...], complex]], prefix: str = "x") -> PolynomialSystem:
    """Build from ``{exponent tuple: coefficient}`` per equation."""
    exps = [np.array(list(e.keys()), dtype=np.int64).reshape(-1, n_vars) for e in eqs]
    coefs = [np.array(list(e.values()), dtype=np.complex128) for e in eqs]
    return PolynomialSystem(tuple(f"{prefix}{j}" for j in range(n_vars)), tuple(exps), tuple(coefs), name)


def _mono(n: int, powers: Dict[int, int]) -> Tuple[int, ...]:
    e = [0] * n
    for j, k in powers.items():
        e[j] += k
    return tuple(e)


def _prod(n: int, *factors: int) -> Tuple[int, ...]:
    """Exponent tuple of the product of variables ``factors`` (repeats allowed)."""
    e = [0] * n
    for j in factors:
        e[j] += 1
    return tuple(e)


def _acc(eq: Dict[Tuple[int, ...], complex], mono: Tuple[int, ...], c: complex) -> None:
    eq[mono] = eq.get(mono, 0) + c


def katsura(n: int) -> PolynomialSystem:
    """Katsura-n: n+1 unknowns ``x0..xn``, 2^n isolated regular solutions (all paths finite)."""
    _at_least("katsura", n, 1)
    m = n + 1
    eqs = []
    for k in range(n):  # sum_{l=-n}^{n} x_|l| x_|k-l| - x_k = 0
        eq: Dict[Tuple[int, ...], complex] = {}
        for l in range(-n, n + 1):
            a, b = abs(l), abs(k - l)
            if b <= n:
                _acc(eq, _prod(m, a, b), 1)
        _acc(eq, _mono(m, {k: 1}), -1)
        eqs.append(eq)
    lin: Dict[Tuple[int, ...], complex] = {_mono(m, {0: 1}): 1, _mono(m, {}): -1}
    for j in range(1, m):
        lin[_mono(m, {j: 1})] = 2
    eqs.append(lin)
    return _system(f"katsura:{n}", m, eqs)


def cyclic(n: int) -> PolynomialSystem:
    """Cyclic n-roots: total degree n!, 70 / 156 / 924 isolated solutions for n = 5 / 6 / 7."""
    _at_least("cyclic", n, 2)
    eqs = []
    for k in range(1, n):
        eq: Dict[Tuple[int, ...], complex] = {}
        for i in range(n):
            _acc(eq, _prod(n, *[(i + j) % n for j in range(k)]), 1)
        eqs.append(eq)
    eqs.append({tuple([1] * n): 1, tuple([0] * n): -1})
    return _system(f"cyclic:{n}", n, eqs)


def noon(n: int) -> PolynomialSystem:
    """Noonburg's neural network: ``x_i (sum_{j!=i} x_j^2) - 1.1 x_i + 1``; total degree 3^n (noon5: 233)."""
    _at_least("noon", n, 2)
    eqs = []
    for i in range(n):
        eq: Dict[Tuple[int, ...], complex] = {}
        for j in range(n):
            if j != i:
                _acc(eq, _mono(n, {i: 1, j: 2}), 1)
        _acc(eq, _mono(n, {i: 1}), -1.1)
        _acc(eq, _mono(n, {}), 1)
        eqs.append(eq)
    return _system(f"noon:{n}", n, eqs)


def eco(n: int) -> PolynomialSystem:
    """Morgan's economics problem eco-n: 2^(n-2) solutions, total degree 2*3^(n-2).

    ``(x_k + sum_{i=1}^{n-k-1} x_i x_{i+k}) x_n - k = 0`` for k = 1..n-1 and ``sum_{k<n} x_k + 1 = 0``.
    """
    _at_least("eco", n, 3)
    eqs = []
    last = n - 1  # 0-based index of x_n
    for k in range(1, n):
        eq: Dict[Tuple[int, ...], complex] = {}
        _acc(eq, _prod(n, k - 1, last), 1)
        for i in range(1, n - k):
            _acc(eq, _prod(n, i - 1, i + k - 1, last), 1)
        _acc(eq, _mono(n, {}), -k)
        eqs.append(eq)
    lin: Dict[Tuple[int, ...], complex] = {_mono(n, {}): 1}
    for k in range(n - 1):
        lin[_mono(n, {k: 1})] = 1
    eqs.append(lin)
    return _system(f"eco:{n}", n, eqs)


def reimer(n: int) -> PolynomialSystem:
    """Reimer-n: ``2 sum_i (-1)^(i+1) x_i^(j+1) - 1 = 0`` for j = 1..n; total degree (n+1)!."""
    _at_least("reimer", n, 1)
    eqs = []
    for j in range(1, n + 1):
        eq: Dict[Tuple[int, ...], complex] = {_mono(n, {}): -1}
        for i in range(n):
            _acc(eq, _mono(n, {i: j + 1}), 2.0 * (-1) ** i)
        eqs.append(eq)
    return _system(f"reimer:{n}", n, eqs)


# random:n:d builds C(n+d, d) terms per equation; beyond this many in all it refuses at once.
MAX_RANDOM_TERMS = 10**6


def _exponents(n: int, d: int):
    """Exponent tuples of the monomials of degree <= d in n unknowns, in lexicographic order."""
    if n == 0:
        yield ()
        return
    for k in range(d + 1):
        for rest in _exponents(n - 1, d - k):
            yield (k, *rest)


def random_dense(n: int, d: int, seed: int = 0) -> PolynomialSystem:
    """Dense polynomials of degree ``d`` in ``n`` unknowns, complex normal coefficients: d^n regular roots."""
    _at_least("random", n, 1)
    if d < 1:
        raise ValueError(f"random:{n}:{d}: d must be at least 1")
    n_terms = math.comb(n + d, d)  # monomials of degree <= d in n unknowns
    if n * n_terms > MAX_RANDOM_TERMS:
        raise ValueError(f"random:{n}:{d} has {n_terms} terms per equation ({n * n_terms} in all, above "
                         f"{MAX_RANDOM_TERMS}) and {d}^{n} = {d ** n:.3g} paths")
    rng = np.random.default_rng(seed)
    monos = list(_exponents(n, d))
    eqs = []
    for _ in range(n):
        c = (rng.standard_normal(len(monos)) + 1j * rng.standard_normal(len(monos))) / np.sqrt(2)
        eqs.append(dict(zip(monos, c)))
    return _system(f"random:{n}:{d}:{seed}", n, eqs)
