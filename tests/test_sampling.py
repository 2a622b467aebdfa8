"""Sampling checks: the distributions and the call stream against their closed forms.

In the manner of Ciw's tests/test_sampling.py, every sampler is checked by drawing from it, never
by reading its code: N draws from a seeded generator must have the mean, variance and median that
the stated parameterisation implies, computed here from first principles, and must pass a
goodness-of-fit test against the scipy distribution built here from the same parameters
(Kolmogorov-Smirnov for continuous kinds, chi-square on the counts for empirical ones).

Tolerances. Moments are allowed Z = 4 standard errors, where for N draws
    SE(mean)     = sigma / sqrt(N)
    SE(variance) = sigma^2 * sqrt((kurtosis - 1) / N)   (kurtosis = mu_4 / sigma^4, not excess)
    SE(median)   = 1 / (2 f(median) sqrt(N))            (f the density)
so a correct sampler fails one such check in about 16,000; goodness-of-fit tests need
p > P_MIN = 0.001. Every generator is seeded, so the outcome is fixed: these bounds say how
unlucky the fixed seeds would have to be for a correct sampler to fail.

The arrival process (planner.sim.demand) is a Poisson process whose rate is piecewise constant by
hour: rate_per_1000_per_year * population / 1000 * growth * zone factor * hour-of-week weight /
(365 * 24) calls an hour. Its hourly counts are independent Poisson variables, checked by a
chi-square over the 168 hours of the week; where the calls fall is checked by a chi-square over
zones and cells against population shares; the last, partial hour of a fractional horizon must
hold calls in proportion to the fraction of it that lies inside the horizon, and none after.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import planner
from planner.geo.geodata import load_region
from planner.scenario.distributions import Empirical, Exponential, Fixed, Gamma, Lognormal
from planner.sim.demand import CallStream, cell_weights, generate_calls
from planner.sim.world import build_world

N = 100_000
Z = 4.0  # standard errors allowed on a moment (see the module docstring)
P_MIN = 0.001  # smallest p-value a goodness-of-fit test may give
HOUR_OF_WEEK_TOML = Path(planner.__file__).parent / "data" / "hour_of_week.toml"

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def draws(sample: Sampler, seed: int) -> np.ndarray:
    x = np.asarray(sample(np.random.default_rng(seed), N), dtype=float)
    assert x.shape == (N,)
    return x


# --- the checks, shared by the tests and by the mutation tests that prove they have power ------


def check_continuous(x: np.ndarray, mean: float, var: float, law: Any) -> None:
    """Sample mean, variance, median and KS of ``x`` against the closed form and ``law``."""
    n = x.size
    # the closed forms must describe the scipy law we test against, or the test is incoherent
    assert law.mean() == pytest.approx(mean, rel=1e-9)
    assert law.var() == pytest.approx(var, rel=1e-9)
    median = float(law.median())
    kurtosis = float(law.stats(moments="k")) + 3.0
    se_mean = math.sqrt(var / n)
    se_var = var * math.sqrt((kurtosis - 1.0) / n)
    se_median = 1.0 / (2.0 * float(law.pdf(median)) * math.sqrt(n))
    assert abs(x.mean() - mean) < Z * se_mean, f"mean {x.mean():.6g}, expected {mean:.6g}"
    assert abs(x.var(ddof=1) - var) < Z * se_var, (
        f"variance {x.var(ddof=1):.6g}, expected {var:.6g}"
    )
    assert abs(np.median(x) - median) < Z * se_median, (
        f"median {np.median(x):.6g}, expected {median:.6g}"
    )
    p = stats.kstest(x, law.cdf).pvalue
    assert p > P_MIN, f"Kolmogorov-Smirnov p = {p:.3g}"


def exact_discrete(values: list[float], weights: list[float] | None) -> dict[float, float]:
    """The probability of each distinct value, as the stated (values, weights) define it."""
    w = [1.0] * len(values) if weights is None else list(weights)
    total = sum(w)
    p: dict[float, float] = {}
    for v, wi in zip(values, w, strict=True):
        p[float(v)] = p.get(float(v), 0.0) + wi / total
    return p


def check_discrete(x: np.ndarray, p: dict[float, float]) -> None:
    """Chi-square of the counts, and the sample mean, variance and median, against ``p``."""
    n = x.size
    support = np.array(sorted(v for v, pv in p.items() if pv > 0))
    prob = np.array([p[v] for v in support])
    never = [v for v, pv in p.items() if pv == 0]
    assert not np.isin(x, never).any(), "drew a value of weight 0"
    assert np.isin(x, support).all(), "drew a value that is not in the list"
    mean = float(prob @ support)
    var = float(prob @ (support - mean) ** 2)
    if support.size > 1:
        counts = np.array([(x == v).sum() for v in support])
        p_chi = stats.chisquare(counts, n * prob).pvalue
        assert p_chi > P_MIN, f"chi-square p = {p_chi:.3g}, counts {counts}, expected {n * prob}"
        mu4 = float(prob @ (support - mean) ** 4)
        assert abs(x.mean() - mean) < Z * math.sqrt(var / n)
        assert abs(x.var(ddof=1) - var) < Z * math.sqrt((mu4 - var**2) / n)
    else:
        assert (x == support[0]).all()
    # a discrete median is an atom: the sample median hits it exactly unless the cumulative
    # probability comes within a few standard errors of 1/2 at some value (the cases here do not)
    cum = np.cumsum(prob)
    assert np.all(np.abs(cum - 0.5) > 10 * math.sqrt(0.25 / n))
    assert np.median(x) == support[np.searchsorted(cum, 0.5)]


# --- exponential ---------------------------------------------------------------------------


@pytest.mark.parametrize("mean", [0.5, 7.0, 60.0])
def test_exponential(mean: float) -> None:
    d = Exponential(dist="exponential", mean=mean)
    law = stats.expon(scale=mean)
    check_continuous(draws(d.sample, 11), mean, mean**2, law)
    assert d.mean == mean
    assert d.variance == pytest.approx(mean**2, rel=1e-12)
    assert d.median == pytest.approx(mean * math.log(2), rel=1e-12)
    assert d.median == pytest.approx(law.median(), rel=1e-12)


# --- lognormal, given its mean m and standard deviation s -----------------------------------
# sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2/2; variance s^2, median e^mu

LOGNORMAL = [(60.0, 30.0), (3.0, 1.5), (60.0, 60.0), (6.0, 4.0), (25.0, 5.0)]


def lognormal_law(m: float, s: float) -> Any:
    sigma2 = math.log(1.0 + s**2 / m**2)
    mu = math.log(m) - sigma2 / 2.0
    return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(mu))


@pytest.mark.parametrize(("m", "s"), LOGNORMAL)
def test_lognormal(m: float, s: float) -> None:
    d = Lognormal(dist="lognormal", mean=m, sd=s)
    check_continuous(draws(d.sample, 12), m, s**2, lognormal_law(m, s))
    sigma2 = math.log(1.0 + s**2 / m**2)
    assert d.mean == m
    assert d.variance == pytest.approx(s**2, rel=1e-12)
    assert d.median == pytest.approx(math.exp(math.log(m) - sigma2 / 2.0), rel=1e-12)
    assert d.median == pytest.approx(m / math.sqrt(1.0 + s**2 / m**2), rel=1e-12)


# --- gamma, given its mean m and standard deviation s ---------------------------------------
# shape a = (m/s)^2, scale = s^2/m; variance s^2; the median has no closed form (scipy's)

GAMMA = [(30.0, 15.0), (10.0, 20.0), (60.0, 20.0), (5.0, 3.0)]


def gamma_law(m: float, s: float) -> Any:
    return stats.gamma(a=(m / s) ** 2, scale=s**2 / m)


@pytest.mark.parametrize(("m", "s"), GAMMA)
def test_gamma(m: float, s: float) -> None:
    d = Gamma(dist="gamma", mean=m, sd=s)
    law = gamma_law(m, s)
    check_continuous(draws(d.sample, 13), m, s**2, law)
    assert d.mean == m
    assert d.variance == pytest.approx(s**2, rel=1e-12)
    assert d.median == pytest.approx(float(law.median()), rel=1e-9)


# --- fixed and empirical --------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 2.0, 17.5])
def test_fixed(value: float) -> None:
    d = Fixed(dist="fixed", value=value)
    x = draws(d.sample, 14)
    assert (x == value).all()
    assert (d.mean, d.variance, d.median) == (value, 0.0, value)


EMPIRICAL: list[tuple[list[float], list[float] | None]] = [
    ([3.0, 7.0, 7.0, 12.0, 30.0], None),  # a repeated value counts twice
    ([12.0, 3.0, 30.0, 7.0, 9.0], None),  # unsorted
    ([4.5], None),
    ([5.0, 10.0, 20.0, 45.0, 90.0], [1.0, 2.0, 3.0, 0.5, 0.0]),  # 90 must never come
    ([20.0, 5.0, 5.0, 60.0], [0.15, 0.25, 0.2, 0.4]),  # 5 twice, 0.45 in all
    ([8.0, 2.0], [0.0, 3.0]),
]


@pytest.mark.parametrize(("values", "weights"), EMPIRICAL)
def test_empirical(values: list[float], weights: list[float] | None) -> None:
    d = Empirical(dist="empirical", values=values, weights=weights)
    p = exact_discrete(values, weights)
    check_discrete(draws(d.sample, 15), p)
    mean = sum(v * pv for v, pv in p.items())
    assert d.mean == pytest.approx(mean, rel=1e-12)
    assert d.variance == pytest.approx(sum(pv * (v - mean) ** 2 for v, pv in p.items()), abs=1e-12)
    support = sorted(v for v in p if p[v] > 0)
    cum = np.cumsum([p[v] for v in support])
    assert d.median == support[np.searchsorted(cum, 0.5)]


@pytest.mark.parametrize(
    ("values", "weights", "median"),
    [
        ([1.0, 2.0, 3.0, 4.0], None, 2.5),  # P(X <= 2) = 1/2 exactly: the gap's midpoint
        ([4.0, 1.0, 3.0, 2.0], [1.0, 1.0, 1.0, 1.0], 2.5),
        ([1.0, 2.0, 3.0], [1.0, 0.0, 1.0], 2.0),  # 2 is never drawn, but splits the mass
        ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], 0.25),  # 0.1 + 0.2 = 0.3000...04 in floating point
        ([1.0, 2.0], [0.3, 0.7], 2.0),
        ([1.0, 9.0, 9.0, 9.0], None, 9.0),
    ],
)
def test_empirical_median_at_a_tie(
    values: list[float], weights: list[float] | None, median: float
) -> None:
    d = Empirical(dist="empirical", values=values, weights=weights)
    assert d.median == pytest.approx(median, rel=1e-12)
    if weights is None:
        assert d.median == np.median(values)


# --- the checks have power: plausible mistakes in a sampler fail them ------------------------


def _lognormal_without_half_sigma2(m: float, s: float) -> Sampler:
    sigma = math.sqrt(math.log1p((s / m) ** 2))
    return lambda rng, n: rng.lognormal(math.log(m), sigma, n)


def _lognormal_cv_as_sigma(m: float, s: float) -> Sampler:
    # the small-sd approximation sigma = s/m: the right mean, too large a variance
    sigma = s / m
    return lambda rng, n: rng.lognormal(math.log(m) - sigma**2 / 2, sigma, n)


def _gamma_shape_scale_swapped(m: float, s: float) -> Sampler:
    shape = (m / s) ** 2
    return lambda rng, n: rng.gamma(m / shape, shape, n)


@pytest.mark.parametrize(
    ("broken", "law", "m", "s"),
    [
        (_lognormal_without_half_sigma2, lognormal_law, 60.0, 30.0),
        (_lognormal_without_half_sigma2, lognormal_law, 25.0, 5.0),
        (_lognormal_cv_as_sigma, lognormal_law, 3.0, 1.5),
        (_gamma_shape_scale_swapped, gamma_law, 30.0, 15.0),
        (_gamma_shape_scale_swapped, gamma_law, 60.0, 20.0),
        (_gamma_shape_scale_swapped, gamma_law, 5.0, 3.0),
    ],
)
def test_checks_reject_a_broken_sampler(
    broken: Callable[[float, float], Sampler],
    law: Callable[[float, float], Any],
    m: float,
    s: float,
) -> None:
    with pytest.raises(AssertionError):
        check_continuous(draws(broken(m, s), 12), m, s**2, law(m, s))


def test_checks_reject_a_broken_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """The very test above fails when the shipped class is broken (here, -sigma^2/2 dropped)."""

    def no_half_sigma2(self: Lognormal, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return rng.lognormal(math.log(self.mean_), math.sqrt(sigma2), size)

    monkeypatch.setattr(Lognormal, "sample", no_half_sigma2)
    with pytest.raises(AssertionError):
        test_lognormal(60.0, 30.0)


def test_checks_reject_ignored_or_reversed_weights() -> None:
    values, weights = [5.0, 10.0, 20.0, 45.0], [1.0, 2.0, 3.0, 0.5]
    p = exact_discrete(values, weights)
    ignored: Sampler = lambda rng, n: rng.choice(values, size=n)  # noqa: E731
    backwards: Sampler = lambda rng, n: rng.choice(values, size=n, p=np.array(weights)[::-1] / 6.5)  # noqa: E731
    for sample in (ignored, backwards):
        with pytest.raises(AssertionError):
            check_discrete(draws(sample, 15), p)


# --- the arrival process --------------------------------------------------------------------


def profile_weights(profile: str | Sequence[float]) -> np.ndarray:
    """168 hour-of-week weights, Monday 00-01 first, mean 1, read from the TOML profiles.

    The layout is the one planner.sim.demand documents: Monday to Thursday follow the ``weekday``
    day, Friday and Saturday the ``friday_saturday_night`` day, except that a night belongs to
    the evening before it: Friday 00-06 (Thursday night) is a weekday's, Sunday 00-06 (Saturday
    night) the late one's, and Sunday 06-24 a weekday's.
    """
    if not isinstance(profile, str):
        w = np.asarray(profile, dtype=float)
    else:
        p = tomllib.loads(HOUR_OF_WEEK_TOML.read_text("utf-8"))[profile]
        weekday, late = p["weekday"], p["friday_saturday_night"]
        assert len(weekday) == len(late) == 24
        friday = weekday[:6] + late[6:]
        sunday = late[:6] + weekday[6:]
        w = np.array(weekday * 4 + friday + late + sunday, dtype=float)
    assert w.shape == (168,)
    return w / w.mean()


def expected_per_hour(
    rate: float,
    population: float,
    base_year: int,
    year: int,
    growth: float,
    profile: str | list[float],
    hours: int,
) -> np.ndarray:
    """Expected calls in each whole hour 0 .. hours-1 of the run (population already factored)."""
    growth_factor = (1.0 + growth) ** (year - base_year)
    per_year = rate * population / 1000.0 * growth_factor
    return per_year / (365.0 * 24.0) * profile_weights(profile)[np.arange(hours) % 168]


def abstract_scenario(
    population: int, horizon_days: float, seed: int = 7, **demand: Any
) -> planner.Scenario:
    return planner.scenario_from_dict(
        {
            "region": {"kind": "abstract", "population": population},
            "demand": demand,
            "run": {"horizon_days": horizon_days, "warmup_days": 0.0, "seed": seed},
        }
    )


def abstract_calls(scenario: planner.Scenario, replication: int = 0) -> CallStream:
    world = build_world(scenario)
    return generate_calls(
        scenario, cell_weights(scenario, world.cell_population, world.cell_zone), replication
    )


def poisson_chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    """p-value of independent Poisson counts against their means (nothing fitted: df = bins)."""
    assert (expected > 5).all()
    stat = float((((observed - expected) ** 2) / expected).sum())
    return float(stats.chi2.sf(stat, df=expected.size))


ARRIVALS = [
    # population, demand section; 2,000 days (not whole weeks: some hours of the week come once
    # more than others, which the expected counts must follow)
    (1_000_000, {}),
    (
        1_000_000,
        {"base_year": 2020, "year": 2030, "growth_per_year": 0.05, "zone_rate_factors": {"A": 1.5}},
    ),
    (600_000, {"base_year": 2030, "year": 2025, "growth_per_year": -0.03}),
    (2_000_000, {"hour_of_week_profile": "flat", "rate_per_1000_per_year": 4.0}),
    (
        3_000_000,
        {"hour_of_week_profile": [1.0 + (h % 24 >= 18) * 2.0 + (h // 24 == 6) for h in range(168)]},
    ),
]


@pytest.mark.parametrize(("population", "demand"), ARRIVALS)
def test_counts_by_hour_of_week(population: int, demand: dict[str, Any]) -> None:
    horizon_days = 2000.0
    s = abstract_scenario(population, horizon_days, **demand)
    d = s.demand
    # the closed form from the stated parameters (the defaults where the case sets none)
    factor = demand.get("zone_rate_factors", {}).get("A", 1.0)
    hours = int(horizon_days * 24)
    per_hour = expected_per_hour(
        d.rate_per_1000_per_year,
        population * factor,
        d.base_year,
        d.year,
        d.growth_per_year,
        d.hour_of_week_profile,
        hours,
    )
    assert d.growth_factor == pytest.approx((1 + d.growth_per_year) ** (d.year - d.base_year))

    calls = abstract_calls(s)
    t = calls.t
    assert (t >= 0).all() and (t < horizon_days * 1440).all()
    # the total: Poisson with the horizon's summed rate
    total = per_hour.sum()
    assert abs(t.size - total) < Z * math.sqrt(total), f"{t.size} calls, expected {total:.0f}"
    # by hour of the week, pooled over the weeks
    how = (t // 60).astype(int) % 168
    observed = np.bincount(how, minlength=168)
    expected = np.bincount(np.arange(hours) % 168, weights=per_hour, minlength=168)
    p = poisson_chi_square(observed, expected)
    assert p > P_MIN, f"chi-square over the hours of the week: p = {p:.3g}"
    # and the hours of the run one by one (a rate that drifts over the run would show here)
    by_hour = np.bincount((t // 60).astype(int), minlength=hours)
    weeks = hours // 168
    by_week = by_hour[: weeks * 168].reshape(weeks, 168).sum(axis=1)
    expected_week = per_hour[: weeks * 168].reshape(weeks, 168).sum(axis=1)
    p = poisson_chi_square(by_week, expected_week)
    assert p > P_MIN, f"chi-square over the weeks of the run: p = {p:.3g}"


def test_the_profile_shapes_the_week() -> None:
    """Hours of weight zero get no call; the busiest hour of the profile is the busiest hour."""
    weights = [0.0] * 168
    weights[0] = 1.0  # Monday 00-01
    weights[100] = 3.0  # Friday 04-05
    weights[167] = 2.0  # Sunday 23-24
    s = abstract_scenario(1_000_000, 365.0, hour_of_week_profile=weights)
    how = (abstract_calls(s).t // 60).astype(int) % 168
    assert set(np.unique(how)) == {0, 100, 167}
    counts = np.bincount(how, minlength=168)
    assert counts[100] > counts[167] > counts[0]


# --- where the calls fall: the Oslo/Akershus geodata region ----------------------------------

ZONE_FACTORS = {"030101": 2.5, "030105": 0.0, "3201": 0.5}  # Gamle Oslo, Frogner, Bærum


@pytest.fixture(scope="module")
def oslo() -> tuple[planner.Scenario, Any, CallStream]:
    # every call of someone who calls once: each call's place its own draw (the frequent
    # callers call from home, a cluster: test_homes_of_the_frequent_callers)
    s = planner.scenario_from_dict(
        {
            "demand": {"zone_rate_factors": ZONE_FACTORS},
            "callers": {"frequent_share": 0.0},
            "run": {"horizon_days": 1500.0, "warmup_days": 0.0, "seed": 3},
        }
    )
    world = build_world(s)
    calls = generate_calls(s, cell_weights(s, world.cell_population, world.cell_zone), 0)
    return s, world, calls


def test_homes_of_the_frequent_callers(oslo: tuple[planner.Scenario, Any, CallStream]) -> None:
    """The cohort's people live where the calls are: their homes by zone against the zones'
    shares of the weighted population (chi-square), in a cohort of a hundred thousand."""
    from planner.sim.demand import frequent_callers

    s, world, _ = oslo
    rates = cell_weights(s, world.cell_population, world.cell_zone)
    callers = s.callers.model_copy(update={"frequent_share": 0.5, "frequent_calls_per_year": 1.0})
    cohort = frequent_callers(callers, 200_000.0, rates, np.random.default_rng(5))
    assert len(cohort) == 100_000
    zones = np.array(sorted(set(world.cell_zone)))
    zone_index = np.searchsorted(zones, world.cell_zone)
    weight = np.bincount(zone_index, weights=rates, minlength=zones.size)
    observed = np.bincount(zone_index[cohort.home], minlength=zones.size)
    live = weight > 0
    assert observed[~live].sum() == 0
    p = stats.chisquare(observed[live], len(cohort) * weight[live] / weight.sum()).pvalue
    assert p > P_MIN, f"chi-square over zones: p = {p:.3g}"
    # their rates: gamma of mean 1 and shape 1 (an exponential), by its first two moments
    assert cohort.rate.mean() == pytest.approx(1.0, abs=4 / math.sqrt(len(cohort)))
    assert cohort.rate.var() == pytest.approx(1.0, abs=0.05)


def test_the_world_has_the_regions_cells(oslo: tuple[planner.Scenario, Any, CallStream]) -> None:
    _, world, _ = oslo
    region = load_region("oslo_akershus")
    assert set(ZONE_FACTORS) <= set(region.zone_codes)
    assert list(world.cell_zone) == list(region.cells["zone_code"])
    assert np.array_equal(world.cell_population, region.cells["population"].to_numpy(float))
    by_zone = region.cells.groupby("zone_code")["population"].sum()
    assert by_zone.to_dict() == region.zones.set_index("zone_code")["population"].to_dict()


def test_cell_weights(oslo: tuple[planner.Scenario, Any, CallStream]) -> None:
    s, world, _ = oslo
    d = s.demand
    factor = np.array([ZONE_FACTORS.get(z, 1.0) for z in world.cell_zone])
    per_year = (
        world.cell_population
        * factor
        * d.rate_per_1000_per_year
        / 1000
        * (1 + d.growth_per_year) ** (d.year - d.base_year)
    )
    np.testing.assert_allclose(
        cell_weights(s, world.cell_population, world.cell_zone), per_year, rtol=1e-12
    )


def test_counts_by_zone(oslo: tuple[planner.Scenario, Any, CallStream]) -> None:
    s, world, calls = oslo
    d = s.demand
    zones = np.array(sorted(set(world.cell_zone)))
    assert zones.size == 38
    zone_index = np.searchsorted(zones, world.cell_zone)
    factor = np.array([ZONE_FACTORS.get(z, 1.0) for z in zones])
    population = np.bincount(zone_index, weights=world.cell_population, minlength=zones.size)
    share = population * factor / (population * factor).sum()

    # the total over the horizon (evening-weighted week, default rate and growth)
    hours = int(s.run.horizon_days * 24)
    per_hour = expected_per_hour(
        d.rate_per_1000_per_year,
        float((population * factor).sum()),
        d.base_year,
        d.year,
        d.growth_per_year,
        d.hour_of_week_profile,
        hours,
    )
    n = len(calls)
    assert abs(n - per_hour.sum()) < Z * math.sqrt(per_hour.sum())

    observed = np.bincount(zone_index[calls.cell], minlength=zones.size)
    none = factor == 0
    assert observed[none].sum() == 0, "calls in a zone of rate factor 0"
    # multinomial given the total: df = bins - 1
    p = stats.chisquare(observed[~none], n * share[~none]).pvalue
    assert p > P_MIN, f"chi-square over zones: p = {p:.3g}"


def test_counts_by_cell(oslo: tuple[planner.Scenario, Any, CallStream]) -> None:
    """Within zones too, each cell's share of the calls is its share of the weighted population."""
    _, world, calls = oslo
    factor = np.array([ZONE_FACTORS.get(z, 1.0) for z in world.cell_zone])
    expected = world.cell_population * factor
    expected = len(calls) * expected / expected.sum()
    observed = np.bincount(calls.cell, minlength=expected.size)
    assert observed[expected == 0].sum() == 0, "calls in a cell nobody lives in"
    big = expected >= 5  # chi-square needs expected counts of 5 or more: pool the rest
    assert big.sum() > 1000
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    p = stats.chisquare(obs, exp).pvalue
    assert p > P_MIN, f"chi-square over {big.sum()} cells: p = {p:.3g}"


# --- a fractional horizon: thinning of the last hour -----------------------------------------


@pytest.mark.parametrize("horizon_days", [10.3, 10.77, 7.01, 3.5 + 1 / 96])
def test_partial_last_hour(horizon_days: float) -> None:
    """All the week's calls come in the hour of the week in which the horizon falls.

    That hour of the week comes once in full (a week earlier) and once cut by the horizon: the
    cut one must hold the same rate times the fraction of the hour that lies inside, no call at
    or after the horizon, and its calls spread uniformly over that fraction.
    """
    horizon = horizon_days * 1440.0
    last = int(horizon // 60)  # the hour the horizon falls in
    fraction = horizon / 60 - last
    assert 0.005 < fraction < 0.995
    weights = [0.0] * 168
    weights[last % 168] = 1.0
    population, rate = 10_000_000, 100.0
    # the whole week's calls in that one hour: 168x its weekly share
    lam = rate * population / 1000 / (365 * 24) * 168
    s = abstract_scenario(
        population,
        horizon_days,
        rate_per_1000_per_year=rate,
        hour_of_week_profile=weights,
        base_year=2026,
        year=2026,
    )
    for replication in range(3):
        t = abstract_calls(s, replication).t
        assert t.size > 0 and (t < horizon).all(), "a call at or after the horizon"
        hour = (t // 60).astype(int)
        assert set(np.unique(hour)) <= {last - 168, last}
        full, cut = t[hour == last - 168], t[hour == last]
        if last >= 168:  # that hour of the week came in full a week before
            assert abs(full.size - lam) < Z * math.sqrt(lam)
            p = stats.kstest((full - (last - 168) * 60.0) / 60.0, "uniform").pvalue
            assert p > P_MIN, f"calls in a whole hour not uniform: p = {p:.3g}"
        assert abs(cut.size - fraction * lam) < Z * math.sqrt(fraction * lam), (
            f"{cut.size} calls in the last {fraction:.3f} h, expected {fraction * lam:.0f}"
        )
        start = last * 60.0
        p = stats.kstest((cut - start) / (horizon - start), "uniform").pvalue
        assert p > P_MIN, f"calls in the cut hour not uniform: p = {p:.3g}"


def test_horizon_thins_ordinary_demand() -> None:
    """With the usual week, no call is at or after the horizon and the last hour is thinned."""
    horizon_days = 10.3
    s = abstract_scenario(
        5_000_000, horizon_days, rate_per_1000_per_year=500.0, base_year=2026, year=2026
    )
    horizon = horizon_days * 1440.0
    last = int(horizon // 60)
    fraction = horizon / 60 - last
    rate = 500.0 * 5_000_000 / 1000 / (365 * 24) * profile_weights("evening-weighted")[last % 168]
    reps = 5
    cut = 0
    for replication in range(reps):
        t = abstract_calls(s, replication).t
        assert (t < horizon).all()
        cut += int((t >= last * 60.0).sum())
    mean = reps * rate * fraction
    assert abs(cut - mean) < Z * math.sqrt(mean), (
        f"{cut} calls in the cut hours, expected {mean:.0f}"
    )


# --- determinism and common random numbers --------------------------------------------------


def _same(a: CallStream, b: CallStream) -> bool:
    for f in dataclasses.fields(CallStream):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def test_same_seed_and_replication_give_the_same_calls() -> None:
    s = abstract_scenario(1_000_000, 60.0, seed=42)
    a, b = abstract_calls(s, 3), abstract_calls(s, 3)
    assert len(a) > 500
    assert _same(a, b)
    # a scenario rebuilt from the same dict is the same scenario
    assert _same(a, abstract_calls(abstract_scenario(1_000_000, 60.0, seed=42), 3))


def test_other_replications_and_seeds_give_other_calls() -> None:
    s = abstract_scenario(1_000_000, 60.0, seed=42)
    base = abstract_calls(s, 0)
    others = [abstract_calls(s, r) for r in (1, 2)]
    others.append(abstract_calls(abstract_scenario(1_000_000, 60.0, seed=43), 0))
    for other in others:
        assert not _same(base, other)
        k = min(len(base), len(other))
        assert not np.array_equal(base.t[:k], other.t[:k])
        assert not np.array_equal(base.on_scene[:k], other.on_scene[:k])


def _crn_case(change: dict[str, Any]) -> tuple[CallStream, CallStream]:
    base = {"run": {"horizon_days": 90.0, "warmup_days": 0.0, "seed": 5}}
    a = planner.scenario_from_dict(base)
    b = planner.scenario_from_dict({**base, **change})
    world = build_world(a)
    rates = cell_weights(a, world.cell_population, world.cell_zone)
    return generate_calls(a, rates, 1), generate_calls(b, rates, 1)


def test_the_stream_does_not_depend_on_the_service() -> None:
    """Common random numbers: the service design changes none of the calls."""
    a, b = _crn_case({"dispatch": {"policy": "baseline"}, "fleet": {"units": []}})
    assert _same(a, b)


def _only_on_scene_of_the_first_kind_differs(a: CallStream, b: CallStream) -> None:
    for f in dataclasses.fields(CallStream):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "on_scene":
            assert not np.array_equal(x[a.kind == 0], y[b.kind == 0])
            np.testing.assert_array_equal(x[a.kind != 0], y[b.kind != 0], err_msg="other kinds")
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)


def test_a_changed_service_time_changes_only_its_own_draws() -> None:
    kind = next(iter(planner.scenario_from_dict({}).situations))
    a, b = _crn_case({"situations": {kind: {"on_scene": {"mean": 30.0, "sd": 10.0}}}})
    _only_on_scene_of_the_first_kind_differs(a, b)


def test_a_changed_service_time_family_changes_only_its_own_draws() -> None:
    kind = next(iter(planner.scenario_from_dict({}).situations))
    a, b = _crn_case({"situations": {kind: {"on_scene": {"dist": "fixed", "value": 1.0}}}})
    _only_on_scene_of_the_first_kind_differs(a, b)
