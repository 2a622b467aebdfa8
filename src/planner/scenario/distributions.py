"""Service-time and delay distributions, in minutes.

Each is a small validated model with ``mean``, ``variance``, ``median`` and ``sample(rng, size)``;
the scenario chooses one by ``dist = "..."``. Lognormal and gamma take the mean and standard
deviation a planner can estimate rather than shape parameters nobody can picture.
``variance`` and ``median`` are the exact values of the distribution ``sample`` draws from (the
gamma's median has no closed form: it is the inverse of the regularised incomplete gamma function
at 1/2, from scipy). An empirical distribution's median is the smallest value whose cumulative
weight reaches 1/2, or the midpoint between it and the next value when it reaches exactly 1/2
(so an unweighted list has the median ``numpy.median`` gives).

Every figure is bounded by the domain, so that no number a file can hold makes sampling fail (a
shape parameter that overflows, a NaN where a time should be): a mean, standard deviation, fixed
value or empirical value is at most ``MAX_MINUTES`` (7 days); a lognormal's or gamma's standard
deviation lies between ``MIN_CV`` and ``MAX_CV`` times its mean; empirical weights are finite and
so is their sum. ``LIMITS`` says so in words, in the schema and in ``planner params``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MINUTES = 10_080.0
"""Longest time (7 days, in minutes) a mean, standard deviation or value may be: longer than any
step of a crisis call, and small enough that nothing derived from it overflows."""
MAX_CV = 10.0
"""A lognormal's or gamma's standard deviation is at most MAX_CV × its mean ..."""
MIN_CV = 0.001
"""... and at least MIN_CV × its mean: a gamma's shape parameter, (mean / sd)², then lies between
0.01 and 1,000,000 (for a time without spread, use fixed)."""
LIMITS = (
    f"minutes: mean, sd, value and values <= {MAX_MINUTES:,.0f} (7 days); lognormal and gamma "
    f"sd from mean / {round(1 / MIN_CV):,} to {MAX_CV:g} × mean; weights finite, finite sum"
)
"""The bounds of every distribution, in words (``planner params`` and the schema show them)."""

Time = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_MINUTES,
        allow_inf_nan=False,
        description=f"minutes, 0 to {MAX_MINUTES:,.0f} (7 days)",
        json_schema_extra={"unit": "min"},
    ),
]
PositiveTime = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_MINUTES,
        allow_inf_nan=False,
        description=f"minutes, more than 0 and at most {MAX_MINUTES:,.0f} (7 days)",
        json_schema_extra={"unit": "min"},
    ),
]
Weight = Annotated[
    float,
    Field(ge=0, allow_inf_nan=False, description="relative weight of the value (finite, >= 0)"),
]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"limits": LIMITS})

    @property
    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def median(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def law(self) -> Any:
        """The law as scipy's frozen continuous distribution (its ``pdf``, ``cdf``, ``ppf``),
        or None for one of steps (fixed, empirical)."""
        return None

    def quantile(self, q: np.ndarray) -> np.ndarray:
        """The times below which shares ``q`` of the draws fall."""
        law = self.law()
        assert law is not None, "overridden where there is no continuous law"
        out: np.ndarray = law.ppf(np.asarray(q, dtype=float))
        return out


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: Time

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def median(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return np.full(np.shape(q), self.value)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean_: PositiveTime = Field(alias="mean")

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2

    @property
    def median(self) -> float:
        return self.mean_ * math.log(2.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    def law(self) -> Any:
        from scipy import stats

        return stats.expon(scale=self.mean_)


SD_DESCRIPTION = (
    f"standard deviation, minutes: between mean / {round(1 / MIN_CV):,} and {MAX_CV:g} × mean, "
    f"at most {MAX_MINUTES:,.0f}"
)


class _Spread(_Dist):
    """What lognormal and gamma share: a mean and a standard deviation within ``LIMITS``
    (the fields are each subclass's own, so ``dist`` stays the first of them)."""

    if TYPE_CHECKING:
        mean_: float
        sd: float

    @model_validator(mode="after")
    def _sd_within_bounds(self) -> _Spread:
        if self.sd > MAX_CV * self.mean_:
            raise ValueError(
                f"sd: at most {MAX_CV:g} × mean ({MAX_CV * self.mean_:.6g}), got {self.sd:.6g}"
            )
        if self.sd < MIN_CV * self.mean_:
            raise ValueError(
                f"sd: at least mean / {round(1 / MIN_CV):,} ({MIN_CV * self.mean_:.6g}), got "
                f'{self.sd:.6g} (for a time without spread, use dist = "fixed")'
            )
        return self

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.sd**2


class Lognormal(_Spread):
    dist: Literal["lognormal"]
    mean_: PositiveTime = Field(alias="mean")
    sd: PositiveTime = Field(description=SD_DESCRIPTION)

    @property
    def median(self) -> float:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.exp(math.log(self.mean_) - sigma2 / 2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    def law(self) -> Any:
        from scipy import stats

        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(self.mean_) - sigma2 / 2))


class Gamma(_Spread):
    dist: Literal["gamma"]
    mean_: PositiveTime = Field(alias="mean")
    sd: PositiveTime = Field(description=SD_DESCRIPTION)

    @property
    def median(self) -> float:
        from scipy.special import gammaincinv  # no closed form; scipy is a dependency anyway

        shape = (self.mean_ / self.sd) ** 2
        return float(gammaincinv(shape, 0.5)) * self.mean_ / shape

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.mean_ / shape, size)

    def law(self) -> Any:
        from scipy import stats

        shape = (self.mean_ / self.sd) ** 2
        return stats.gamma(shape, scale=self.mean_ / shape)


class Empirical(_Dist):
    dist: Literal["empirical"]
    values: tuple[Time, ...] = Field(min_length=1)
    weights: tuple[Weight, ...] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            total = sum(self.weights)
            if not math.isfinite(total):
                raise ValueError(
                    "weights: their sum is too large to be a number (they are relative: "
                    "scale them down)"
                )
            if total <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights)  # floats already: Weight is a float field
        shares: np.ndarray = w / w.sum()
        return shares

    @property
    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else v @ p)

    @property
    def variance(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        if p is None:
            return float(v.var())
        return float(((v - v @ p) ** 2) @ p)

    @property
    def median(self) -> float:
        v = np.asarray(self.values, dtype=float)
        w = np.ones(v.size) if self.weights is None else np.asarray(self.weights, dtype=float)
        keep = w > 0  # a value of weight 0 is never drawn, so it cannot be the median
        v, w = v[keep], w[keep]
        order = np.argsort(v, kind="stable")
        v, cum = v[order], np.cumsum(w[order])
        half = cum[-1] / 2.0
        # the first value whose cumulative weight reaches half, allowing for rounding in cumsum
        i = int(np.searchsorted(cum, half * (1.0 - 1e-12), side="left"))
        if math.isclose(cum[i], half, rel_tol=1e-12) and i + 1 < v.size:
            return float((v[i] + v[i + 1]) / 2.0)  # the median is the whole gap: its midpoint
        return float(v[i])

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values), size=size, p=self._p())  # Time: floats

    def quantile(self, q: np.ndarray) -> np.ndarray:
        """The smallest value whose cumulative weight reaches each share (a step function)."""
        v = np.asarray(self.values, dtype=float)
        p = self._p()
        w = np.full(v.size, 1.0 / v.size) if p is None else p
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order])
        at = np.searchsorted(cum, np.asarray(q, dtype=float) * (1 - 1e-12), side="left")
        out: np.ndarray = v[order][np.minimum(at, v.size - 1)]
        return out


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Empirical, Field(discriminator="dist")
]
