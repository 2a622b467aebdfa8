"""Repeat callers from a log's person keys: how many calls the people who call again make, and
how unequal they are — the ``[callers]`` section of a scenario, fitted.

The model (``sim.demand.frequent_callers``): most calls are made by people who call once; a
share ``s`` by a cohort of ``N`` people whose rates are gamma of mean ``mu`` a year and shape
``k``. Over a log of ``T`` years a person of the cohort calls ``c`` times, negative binomial of
mean ``m = mu T`` and shape ``k``. A person seen twice or more is of the cohort; a person seen
once may be either. So the fit is:

- ``k`` and ``m`` by maximum likelihood from the counts of the people seen twice or more, each
  count's law the negative binomial given ``c >= 2``;
- ``N = n2 / P(c >= 2)``, with ``n2`` the people seen twice or more (the cohort's people seen
  once or not at all are those the law says);
- ``s = N m / calls``, ``mu = m / T``.

Intervals: the 2.5 and 97.5 percentiles of the same fit to logs of people resampled (a
bootstrap of the people, with a generator of a fixed seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import gammaln

from planner.sim.kpis import Estimate

MIN_REPEATERS = 30
"""People seen twice or more below which the cohort is not fitted."""
BOOTSTRAP = 200
"""Resampled logs for the intervals."""
SHAPE_BOUNDS = (0.01, 1000.0)
"""The gamma shapes the fit may choose (the scenario's bounds of frequent_rate_shape)."""
SEED = 20_150_101
"""The bootstrap's seed: the same log gives the same intervals."""


@dataclass(frozen=True)
class RepeatCallers:
    """What a log's person keys say of repeat callers. ``people``: distinct keys; ``repeaters``:
    seen twice or more, making ``repeat_calls`` of the ``calls`` with a key; ``cohort``: the
    people of the cohort the fit implies (``repeaters`` over the chance to be seen twice)."""

    people: int
    repeaters: int
    calls: int
    repeat_calls: int
    years: float
    cohort: float
    share: Estimate  # of the calls, by the cohort
    calls_per_year: Estimate  # a person of the cohort, on average
    shape: Estimate  # of the gamma law of the cohort's rates


def _log_law(counts: np.ndarray, k: float, m: float) -> tuple[np.ndarray, float]:
    """The negative binomial of mean ``m`` and shape ``k``: log P(c) of each count, and
    P(c >= 2) (written out: scipy's frozen laws cost a hundred times more a call)."""
    p = k / (k + m)
    log_p, log_q = math.log(p), math.log1p(-p)
    log_pmf = gammaln(counts + k) - gammaln(k) - gammaln(counts + 1) + k * log_p + counts * log_q
    p0 = math.exp(k * log_p)
    return log_pmf, 1.0 - p0 - p0 * k * (1.0 - p)


def _point(
    counts: np.ndarray, weights: np.ndarray, start: tuple[float, ...] = (0.3, 1.0, 5.0)
) -> tuple[float, float]:
    """(k, m) by maximum likelihood from the counts (each >= 2) and how many people have each,
    from each shape of ``start`` (the likelihood is flat in k when k is large)."""
    lo, hi = (math.log(b) for b in SHAPE_BOUNDS)

    def loss(theta: np.ndarray) -> float:
        k, m = math.exp(min(max(theta[0], lo), hi)), math.exp(min(theta[1], 20.0))
        log_pmf, tail = _log_law(counts, k, m)
        if not tail > 0:
            return math.inf
        return float(-(weights * (log_pmf - math.log(tail))).sum())

    mean = float((counts * weights).sum() / weights.sum())
    best = None
    for k0 in start:
        r = optimize.minimize(loss, np.array([math.log(k0), math.log(mean)]), method="Nelder-Mead")
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    return math.exp(min(max(best.x[0], lo), hi)), math.exp(min(best.x[1], 20.0))


def _cohort(
    counts: np.ndarray, weights: np.ndarray, start: tuple[float, ...] = (0.3, 1.0, 5.0)
) -> tuple[float, float, float]:
    """(k, m, N) from the histogram of the people seen twice or more."""
    k, m = _point(counts, weights, start)
    return k, m, float(weights.sum()) / _log_law(counts[:1], k, m)[1]


def fit_repeat_callers(per_person: np.ndarray, years: float) -> RepeatCallers | None:
    """The fit to the calls of each person (``per_person``: one count >= 1 per key) over a log
    of ``years``; None with fewer than ``MIN_REPEATERS`` people seen twice or more."""
    per_person = np.asarray(per_person, dtype=np.int64)
    if years <= 0 or (per_person < 1).any():
        raise ValueError("a fit of repeat callers needs a log of some length and counts >= 1")
    values, people_with = np.unique(per_person, return_counts=True)
    again = values >= 2
    repeaters = int(people_with[again].sum())
    if repeaters < MIN_REPEATERS:
        return None
    calls = int(per_person.sum())
    k, m, n = _cohort(values[again], people_with[again])

    rng = np.random.Generator(np.random.PCG64(SEED))
    draws = rng.multinomial(len(per_person), people_with / len(per_person), size=BOOTSTRAP)
    boot = []
    for w in draws:
        rep = w[again]
        if rep.sum() < 2:
            continue
        bk, bm, bn = _cohort(values[again], rep, (k,))  # from the log's own shape
        boot.append((bn * bm / int((values * w).sum()), bm / years, bk))
    b = np.array(boot)

    def figure(value: float, column: int) -> Estimate:
        lo, hi = np.percentile(b[:, column], [2.5, 97.5])
        return Estimate(value, float(lo), float(hi))

    return RepeatCallers(
        people=len(per_person),
        repeaters=repeaters,
        calls=calls,
        repeat_calls=int((values[again] * people_with[again]).sum()),
        years=years,
        cohort=n,
        share=figure(min(1.0, n * m / calls), 0),
        calls_per_year=figure(m / years, 1),
        shape=figure(k, 2),
    )
