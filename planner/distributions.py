"""Service-time and delay distributions, in minutes.

Each is a small validated model with ``mean`` and ``sample(rng, size)``; the scenario chooses one
by ``dist = "..."``. Lognormal and gamma take the mean and standard deviation a planner can
estimate rather than shape parameters nobody can picture.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: float = Field(ge=0, allow_inf_nan=False)

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean_: PositiveFloat = Field(alias="mean", allow_inf_nan=False)

    @property
    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)


class Lognormal(_Dist):
    dist: Literal["lognormal"]
    mean_: PositiveFloat = Field(alias="mean", allow_inf_nan=False)
    sd: PositiveFloat = Field(allow_inf_nan=False)

    @property
    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(_Dist):
    dist: Literal["gamma"]
    mean_: PositiveFloat = Field(alias="mean", allow_inf_nan=False)
    sd: PositiveFloat = Field(allow_inf_nan=False)

    @property
    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.mean_ / shape, size)


class Empirical(_Dist):
    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else v @ p)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Empirical, Field(discriminator="dist")
]
