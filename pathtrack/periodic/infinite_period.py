"""The approach to an infinite-period orbit, read off a cycle branch; the accuracy of long-period multipliers.

Near a homoclinic orbit to a saddle the period diverges like ``T ≈ a − c·log|λ − λ*|``; near a
saddle-node on the cycle (SNIC) like ``T ≈ a·|λ − λ*|^(−1/q)`` (``q = 2``). In both λ converges
while ``T`` grows, so ``dλ/dT`` decays: exponentially, ``dλ/dT = (λ* − λ)/c``, or as a power,
``dλ/dT = q(λ* − λ)/T``. :func:`fit_infinite_period` fits ``log|dλ/dT|`` (secants of the last
orbits) against ``T`` and against ``log T``, keeps the better fit and extrapolates ``λ*``.

:func:`floquet_accurate` is AUTO's test of the multipliers (``FNSPBV``): they are inaccurate once
the trivial multiplier is more than 0.05 away from 1, and accurate again below 0.01. At long
periods the monodromy matrix has multipliers of order ``e^(±T)`` and that test fails first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["InfinitePeriodFit", "fit_infinite_period", "floquet_accurate", "slow_fraction"]

#: The period must have grown this many times over the branch's first orbit.
MIN_PERIOD_GROWTH = 3.0
#: The fit takes the last orbits whose period is within this fraction of the last one.
WINDOW = 0.2
#: At least this many orbits in the window.
MIN_ORBITS = 6
#: Largest root-mean-square deviation of ``log|dλ/dT|`` from the fitted law.
MAX_RESIDUAL = 0.05
#: ``|dλ/dT|`` (fitted) must fall by at least this factor over the window.
MIN_DECAY = 1.5
#: Bounded orbit: the amplitude changes by at most this fraction over the window.
MAX_AMPLITUDE_CHANGE = 0.05
#: Slow: speed ``|f(u)|`` below this fraction of the orbit's largest speed ...
SLOW_SPEED = 0.1
#: ... on at least this fraction of the period (the time spent near the equilibrium).
MIN_SLOW_FRACTION = 0.5
#: The tracker fits again once the period has grown by this fraction since its last fit (every
#: orbit where steps are long; every few where short steps move λ* by nothing measurable).
REFIT_GROWTH = 0.01
#: Converged: ``|λ* − λ|`` at most this fraction of the λ-extent of the branch.
CONVERGED = 1e-3
#: AUTO's bounds on ``|μ_trivial − 1|``: inaccurate above the first, accurate again below the second.
INACCURATE, ACCURATE_AGAIN = 5e-2, 1e-2


@dataclass(frozen=True)
class InfinitePeriodFit:
    """The extrapolation of a branch to its infinite-period orbit.

    Attributes
    ----------
    law : str
        ``'log'`` (a homoclinic orbit to a saddle: ``T ≈ a − c·log|λ − λ*|``) or ``'power'``
        (``T ≈ a·|λ − λ*|^(−1/q)``, a saddle-node on the cycle for ``q = 2``).
    lam_star : float
        The estimated λ where the period is infinite.
    rate : float
        ``c`` of the log law, ``q`` of the power law.
    period, lam : float
        The last orbit's.
    remaining : float
        ``|λ* − λ|`` at the last orbit.
    extent : float
        ``|λ − λ₀|``: how far the branch moved in λ from its first orbit.
    residual : float
        Root-mean-square deviation of ``log|dλ/dT|`` from the law.
    n_orbits : int
        Orbits in the fit.
    """

    law: str
    lam_star: float
    rate: float
    period: float
    lam: float
    remaining: float
    extent: float
    residual: float
    n_orbits: int

    @property
    def converged(self) -> bool:
        """λ is within ``CONVERGED`` of the branch's λ-extent of ``λ*``."""
        return self.remaining <= CONVERGED * self.extent

    def describe(self) -> str:
        """``lam* ≈ …`` and the law fitted, for an ending's message."""
        law = (f"T = a - {self.rate:.4g} log|lam - lam*|" if self.law == "log"
               else f"T = a |lam - lam*|^(-1/{self.rate:.3g})")
        return (f"lam* ~ {self.lam_star:.10g} (|lam - lam*| ~ {self.remaining:.2g} at period "
                f"{self.period:.6g}; fit {law} over the last {self.n_orbits} orbits)")


def fit_infinite_period(period, lam, amplitude) -> Optional[InfinitePeriodFit]:
    """The infinite-period extrapolation of a branch's accepted orbits, or None where they do not show one.

    Shown where the period has grown ``MIN_PERIOD_GROWTH`` times over the first orbit's, and over
    the last orbits (period within ``WINDOW`` of the last; at least ``MIN_ORBITS``) the period
    grows at every orbit, λ moves one way, the amplitude changes by at most
    ``MAX_AMPLITUDE_CHANGE`` (bounded orbits), and ``log|dλ/dT|`` follows the log or the power
    law to ``MAX_RESIDUAL`` while falling at least ``MIN_DECAY`` times; the extrapolated λ* must
    lie closer to the last orbit than the branch's first orbit does.

    Parameters
    ----------
    period, lam, amplitude : sequence of float
        Per accepted orbit, in branch order.
    """
    k = len(period)
    if k < MIN_ORBITS or not period[-1] >= MIN_PERIOD_GROWTH * period[0]:
        return None
    # called at every orbit of a long branch: few NumPy calls, the window found from the end in Python
    i, start = k - 1, (1.0 - WINDOW) * period[-1]
    while i > 0 and period[i - 1] >= start:
        i -= 1
    if k - i < MIN_ORBITS:
        return None
    A = [float(a) for a in amplitude[i:]]
    if not max(A) - min(A) <= MAX_AMPLITUDE_CHANGE * max(A):
        return None
    lam0 = float(lam[0])
    T, L = np.array(period[i:], dtype=float), np.array(lam[i:], dtype=float)
    dT, dL = T[1:] - T[:-1], L[1:] - L[:-1]
    if not (dT.min() > 0 and (dL.min() > 0 or dL.max() < 0)):
        return None
    y, mid = np.log(np.abs(dL / dT)), 0.5 * (T[1:] + T[:-1])
    n, sy = len(y), float(y.sum())
    best = None
    for law, x in (("log", mid), ("power", np.log(mid))):
        sx = float(x.sum())  # least squares of y = a + b·x, in closed form
        b = (n * float(x @ y) - sx * sy) / (n * float(x @ x) - sx * sx)
        a = (sy - b * sx) / n
        e = y - a - b * x
        residual = math.sqrt(float(e @ e) / n)
        slope = -b
        r_last = math.exp(a + b * (T[-1] if law == "log" else math.log(T[-1])))  # |dλ/dT| at the last orbit
        if not slope * (x[-1] - x[0]) >= math.log(MIN_DECAY):
            continue
        if law == "log":
            rate, remaining = 1.0 / slope, r_last / slope
        elif slope > 1:
            rate, remaining = slope - 1.0, r_last * T[-1] / (slope - 1.0)
        else:
            continue
        if best is None or residual < best[3]:
            best = (law, rate, remaining, residual)
    extent = abs(float(L[-1]) - lam0)
    if best is None or not (best[3] <= MAX_RESIDUAL and best[2] <= extent):
        return None
    law, rate, remaining, residual = best
    lam_star = float(L[-1] + math.copysign(remaining, dL[-1]))
    return InfinitePeriodFit(law=law, lam_star=lam_star, rate=float(rate), period=float(T[-1]),
                             lam=float(L[-1]), remaining=float(remaining), extent=extent, residual=residual,
                             n_orbits=k - i)


def slow_fraction(speed: np.ndarray, node_weights: np.ndarray) -> float:
    """The fraction of the period where the speed is below ``SLOW_SPEED`` times its largest value."""
    speed = np.asarray(speed, dtype=float)
    return float(np.sum(node_weights[speed < SLOW_SPEED * np.max(speed)]))


def floquet_accurate(multipliers: np.ndarray, was_accurate: bool) -> bool:
    """Whether the multipliers are accurate: AUTO's test of the trivial one, with its hysteresis.

    Inaccurate where no multiplier is within ``INACCURATE`` of 1 (or one is not finite); once
    inaccurate, accurate again where one is within ``ACCURATE_AGAIN``.
    """
    mu = np.asarray(multipliers, dtype=complex)
    if mu.size == 0 or not np.all(np.isfinite(mu)):
        return mu.size == 0
    gap = float(np.min(np.abs(mu - 1.0)))
    return gap <= (INACCURATE if was_accurate else ACCURATE_AGAIN)
