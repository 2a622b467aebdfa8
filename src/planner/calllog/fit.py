"""Fit a scenario's demand and time parameters to a checked call log: each parameter's value,
its uncertainty, how it was fitted and from how many calls.

What is fitted, and how (the formulas are in each function's docstring):

- the rate of calls per 1,000 inhabitants and its trend per year: a Poisson regression of the
  calls of each month on time (``rate_and_trend``);
- each zone's rate relative to the region's, shrunk towards 1 for small zones: a gamma prior
  on the zones' relative rates with its shape fitted to the zones' counts (empirical Bayes,
  ``zone_factors``);
- the hour-of-week profile: calls per hour of the week over the hours the log spans,
  smoothed over neighbouring hours, with an exact Poisson interval per hour (``hour_profile``);
- the shares of kinds and channels (Wilson intervals);
- times on scene (a psychiatric unit's, and police alone) per kind: exponential, lognormal,
  gamma and an empirical histogram fitted by maximum likelihood, chosen by AIC, with the
  Kolmogorov-Smirnov distance of the choice (``fit_time``);
- transport shares and the probability that police are needed, where the log can tell.

Pure: the accepted calls (``check.CheckedLog.calls``) and the region's populations in, a
``Calibration`` out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.calendar import DAYS_PER_YEAR, HOURS_PER_WEEK, MINUTES_PER_YEAR
from planner.calllog.repeat import MIN_REPEATERS, RepeatCallers, fit_repeat_callers
from planner.calllog.schema import CHANNELS, KINDS, TIMEZONE
from planner.sim.kpis import Estimate

Z95 = 1.959963984540054
MIN_TREND_YEARS = 1.5
"""The shortest log a trend per year is fitted to."""
MIN_TIMES = 30
"""Fewest times of a kind a distribution is fitted to; fewer leave the default."""


@dataclass(frozen=True)
class Fitted:
    """One parameter fitted: its scenario path and value, the default it replaces, its
    interval (or None), the method and calls it rests on, and how well it fits."""

    path: str
    value: Any
    default: Any
    low: Any = None
    high: Any = None
    n: int = 0
    method: str = ""
    fit: str = ""  # goodness of fit, where there is one

    def source(self, log: str, span: str) -> str:
        interval = ""
        if self.low is not None and not isinstance(self.low, list | dict):
            interval = f"; 95 % interval {_short(self.low)} to {_short(self.high)}"
        fit = f"; {self.fit}" if self.fit else ""
        return f"calibrated from {log} (n = {self.n:,}, {span}): {self.method}{interval}{fit}"


@dataclass(frozen=True)
class NotFitted:
    """A parameter the log cannot tell, and why (it keeps its default)."""

    path: str
    why: str


@dataclass(frozen=True)
class Calibration:
    fitted: tuple[Fitted, ...]
    not_fitted: tuple[NotFitted, ...]
    calls: int
    first: pd.Timestamp
    last: pd.Timestamp
    notes: tuple[str, ...] = field(default_factory=tuple)
    callers: RepeatCallers | None = None  # the fit of the frequent callers, if the log told it

    @property
    def span(self) -> str:
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"

    @property
    def years(self) -> float:
        """From the first call to the last, in the calendar's years of 365 days."""
        return years_between(self.first, self.last)

    def changes(self) -> dict[str, Any]:
        """The fitted values as the changes to a scenario (dotted paths)."""
        return {f.path: f.value for f in self.fitted}

    def by_path(self) -> dict[str, Fitted]:
        return {f.path: f for f in self.fitted}

    def rate_error(self) -> float:
        """The fitted rate's relative standard error, from its 95 % interval (0 if none)."""
        f = self.by_path().get("demand.rate_per_1000_per_year")
        if f is None or f.low is None or not f.value:
            return 0.0
        return float((f.high - f.low) / (2 * 1.959963984540054) / f.value)


def years_between(first: pd.Timestamp, last: pd.Timestamp) -> float:
    """The time from ``first`` to ``last`` in the calendar's years of 365 days."""
    return float((last - first).total_seconds()) / 60.0 / MINUTES_PER_YEAR


def calls_per_person(person_key: pd.Series) -> np.ndarray:
    """How many calls each person key of a log has (calls without a key left out)."""
    keyed = person_key.dropna()
    keyed = keyed[keyed.astype(str) != ""]
    counts: np.ndarray = keyed.value_counts().to_numpy()
    return counts


def _short(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


# --- demand -----------------------------------------------------------------------------------
def rate_and_trend(
    t: pd.Series, first: pd.Timestamp, last: pd.Timestamp
) -> tuple[float, float, float, float, float, float, int, bool]:
    """Calls a year at the middle of ``base_year`` (the year of the log's middle) and growth
    per year, with 95 % intervals: (rate, low, high, growth, low, high, base_year, trend).

    The calls of each whole or part month m, y_m ~ Poisson(e_m · exp(a + b τ_m)), where e_m is
    the month's length in years and τ_m its middle in years from the log's middle; a and b by
    Newton's method on the log-likelihood, their standard errors from its Hessian. Growth is
    exp(b) - 1; the rate at the middle of the base year exp(a + b (base_year + 0.5 - τ_0)).
    With under ``MIN_TREND_YEARS`` of log, b is not fitted (0, and the growth keeps its
    default)."""
    edges = pd.date_range(first.normalize(), last.normalize() + pd.Timedelta(days=1), freq="MS")
    edges = edges.union([first.normalize(), last.normalize() + pd.Timedelta(days=1)])
    ns = edges.as_unit("ns").asi8  # nanoseconds, as Timestamp.value
    counts = np.histogram(t.dt.as_unit("ns").astype("int64"), bins=ns)[0].astype(float)
    length = np.diff(ns) / 1e9 / 86400 / DAYS_PER_YEAR
    middle = (ns[:-1] + ns[1:]) / 2
    mid = (first.value + last.value) / 2
    tau = (middle - mid) / 1e9 / 86400 / DAYS_PER_YEAR
    years = float(length.sum())
    trend = years >= MIN_TREND_YEARS
    a, b = math.log(counts.sum() / years), 0.0
    cov = np.array([[1 / counts.sum(), 0.0], [0.0, 0.0]])
    if trend:
        x = np.column_stack([np.ones_like(tau), tau])
        beta = np.array([a, 0.0])
        for _ in range(50):
            mu = length * np.exp(x @ beta)
            grad = x.T @ (counts - mu)
            hess = x.T @ (x * mu[:, None])
            step = np.linalg.solve(hess, grad)
            beta = beta + step
            if np.abs(step).max() < 1e-12:
                break
        a, b = float(beta[0]), float(beta[1])
        cov = np.linalg.inv(x.T @ (x * (length * np.exp(x @ beta))[:, None]))
    mid_time = pd.Timestamp(mid, tz="UTC").tz_convert(TIMEZONE)
    base_year = mid_time.year
    year_mid = pd.Timestamp(f"{base_year}-07-02", tz=TIMEZONE)
    shift = (year_mid.value - mid) / 1e9 / 86400 / DAYS_PER_YEAR
    g = np.array([1.0, shift])
    log_rate = a + b * shift
    se = math.sqrt(float(g @ cov @ g))
    rate = math.exp(log_rate)
    se_b = math.sqrt(cov[1, 1])
    return (
        rate,
        math.exp(log_rate - Z95 * se),
        math.exp(log_rate + Z95 * se),
        math.expm1(b),
        math.expm1(b - Z95 * se_b),
        math.expm1(b + Z95 * se_b),
        base_year,
        trend,
    )


def zone_factors(
    counts: Mapping[str, int], population: Mapping[str, float], clumping: float = 1.0
) -> tuple[dict[str, float], dict[str, tuple[float, float]], float]:
    """Each zone's rate relative to the region's, shrunk towards 1: (factors, 95 % intervals,
    the prior's shape α).

    ``clumping`` (φ >= 1): how many calls a call brings with it on average when calls come in
    clusters — a frequent caller's, all from one home (``clumping_of``). The counts then vary
    φ times a Poisson count's, and the model below is fitted to y / φ and E / φ (quasi-Poisson):
    the same factors for large zones, wider intervals and more shrinkage for small ones.

    y_z ~ Poisson(E_z θ_z), E_z = N p_z / P the calls the zone would have at the region's rate,
    θ_z ~ Gamma(α, rate α) (mean 1). α maximises the marginal (negative binomial) likelihood of
    the counts; the posterior of θ_z is Gamma(y_z + α, E_z + α), its mean the factor. A zone
    with few expected calls is pulled towards 1, one with many keeps its own rate. The factors
    are then scaled so that the region's calls are as many as the log's."""
    from scipy import optimize, special, stats

    zones = [z for z in population if population[z] > 0]
    if not clumping >= 1.0:
        raise ValueError(f"clumping: at least 1 (got {clumping})")
    y = np.array([counts.get(z, 0) for z in zones], dtype=float) / clumping
    p = np.array([population[z] for z in zones], dtype=float)
    e = y.sum() * p / p.sum()

    def minus_loglik(log_alpha: float) -> float:
        a = math.exp(log_alpha)
        ll = (
            special.gammaln(y + a)
            - special.gammaln(a)
            + a * np.log(a / (a + e))
            + y * np.log(e / (a + e))
        )
        return -float(ll.sum())

    best = optimize.minimize_scalar(minus_loglik, bounds=(-5.0, 12.0), method="bounded")
    alpha = math.exp(float(best.x))
    shape, rate = y + alpha, e + alpha
    mean = shape / rate
    scale = y.sum() / float((e * mean).sum())
    lo = stats.gamma.ppf(0.025, shape, scale=1 / rate) * scale
    hi = stats.gamma.ppf(0.975, shape, scale=1 / rate) * scale
    factors = {z: float(m * scale) for z, m in zip(zones, mean, strict=True)}
    intervals = {z: (float(a), float(b)) for z, a, b in zip(zones, lo, hi, strict=True)}
    return factors, intervals, alpha


def clumping_of(person_key: pd.Series) -> float:
    """φ = Σ c² / Σ c over the people of a log, c a person's calls (a call without a key is a
    person of one call): the mean size of the cluster a call is in, 1 when no one calls twice."""
    c = calls_per_person(person_key).astype(float)
    alone = len(person_key) - int(c.sum())
    total = c.sum() + alone
    return float(((c**2).sum() + alone) / total) if total else 1.0


def hour_exposure(first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """How many times each hour of the week (local, Monday 00-01 first) occurs from ``first``
    to the end of ``last``'s day, counted hour by hour (the clocks' changes included)."""
    start = first.tz_convert(TIMEZONE).floor("h")
    end = (last.tz_convert(TIMEZONE) + pd.Timedelta(days=1)).normalize()
    hours = pd.date_range(start, end, freq="h", inclusive="left", tz=TIMEZONE)
    hw = hours.day_of_week * 24 + hours.hour
    return np.bincount(np.asarray(hw), minlength=HOURS_PER_WEEK).astype(float)


def hour_of_week(t: pd.Series) -> np.ndarray:
    """The hour of the week of each time on the local clock (0 = Monday 00:00-01:00)."""
    local = t.dt.tz_convert(TIMEZONE)
    return np.asarray(local.dt.day_of_week * 24 + local.dt.hour, dtype=int)


def hour_profile(t: pd.Series, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(profile, low, high): 168 weights with mean 1, and their 95 % intervals.

    The rate of hour h is c_h / e_h (calls in it over the times it occurs); the profile is that
    rate smoothed by the weights ¼, ½, ¼ over the hour before, itself and the hour after (round
    the week), over its mean. The interval is the exact (Garwood) Poisson interval of c_h, as a
    rate over the same mean."""
    from scipy import stats

    c = np.bincount(hour_of_week(t), minlength=HOURS_PER_WEEK).astype(float)
    raw = c / exposure
    smooth = 0.25 * np.roll(raw, 1) + 0.5 * raw + 0.25 * np.roll(raw, -1)
    scale = smooth.mean()
    low = np.where(c > 0, stats.chi2.ppf(0.025, 2 * c) / 2, 0.0) / exposure / scale
    high = stats.chi2.ppf(0.975, 2 * c + 2) / 2 / exposure / scale
    return smooth / scale, low, high


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson interval of a share k / n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / d
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / d
    return (max(0.0, centre - half), min(1.0, centre + half))


# --- times ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeFit:
    """A distribution fitted to minutes: its scenario value, AIC of every candidate, the KS
    distance of the chosen one."""

    value: dict[str, Any]
    aic: dict[str, float]
    ks: float
    n: int

    @property
    def chosen(self) -> str:
        return str(self.value["dist"])


HISTOGRAM_BINS = 20


def fit_time(minutes: np.ndarray) -> TimeFit:
    """Exponential, lognormal, gamma and an empirical histogram fitted by maximum likelihood
    to the minutes, the one of least AIC = 2k - 2 log L chosen (k: 1, 2, 2, and the histogram's
    bins less one).

    Exponential: mean = the sample mean. Lognormal: μ, σ the mean and sd (1/n) of log x;
    mean e^(μ + σ²/2), sd mean · sqrt(e^σ² - 1). Gamma: scipy's maximum likelihood with its
    location at 0. Histogram: the density of ``HISTOGRAM_BINS`` bins of equal counts (each value
    weighted by its bin's share), written as an empirical distribution of the bins' middles.
    Times of 0 (a log to the minute) count as a quarter of a minute."""
    from scipy import stats

    x = np.maximum(np.asarray(minutes, dtype=float), 0.25)
    n = len(x)
    aic: dict[str, float] = {}
    values: dict[str, dict[str, Any]] = {}
    cdfs: dict[str, Any] = {}

    m = float(x.mean())
    aic["exponential"] = 2 - 2 * float(stats.expon.logpdf(x, scale=m).sum())
    values["exponential"] = {"dist": "exponential", "mean": round(m, 3)}
    cdfs["exponential"] = stats.expon(scale=m).cdf

    lx = np.log(x)
    mu, sigma = float(lx.mean()), float(lx.std())
    aic["lognormal"] = 4 - 2 * float(stats.lognorm.logpdf(x, sigma, scale=math.exp(mu)).sum())
    lmean = math.exp(mu + sigma**2 / 2)
    values["lognormal"] = {
        "dist": "lognormal",
        "mean": round(lmean, 3),
        "sd": round(lmean * math.sqrt(math.expm1(sigma**2)), 3),
    }
    cdfs["lognormal"] = stats.lognorm(sigma, scale=math.exp(mu)).cdf

    shape, _loc, scale = stats.gamma.fit(x, floc=0)
    aic["gamma"] = 4 - 2 * float(stats.gamma.logpdf(x, shape, scale=scale).sum())
    values["gamma"] = {
        "dist": "gamma",
        "mean": round(shape * scale, 3),
        "sd": round(math.sqrt(shape) * scale, 3),
    }
    cdfs["gamma"] = stats.gamma(shape, scale=scale).cdf

    edges = np.unique(np.quantile(x, np.linspace(0, 1, HISTOGRAM_BINS + 1)))
    if len(edges) > 2:
        share, _ = np.histogram(x, bins=edges)
        density = share / n / np.diff(edges)
        at = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(share) - 1)
        with np.errstate(divide="ignore"):
            ll = float(np.log(density[at]).sum())
        aic["empirical"] = 2 * (len(share) - 1) - 2 * ll
        middles = (edges[:-1] + edges[1:]) / 2
        values["empirical"] = {
            "dist": "empirical",
            "values": [round(float(v), 3) for v in middles],
            "weights": [round(float(w) / n, 6) for w in share],
        }
        cum = np.concatenate([[0.0], np.cumsum(share) / n])
        cdfs["empirical"] = lambda v, e=edges, c=cum: np.interp(v, e, c)
    chosen = min(aic, key=aic.__getitem__)
    ks = float(stats.kstest(x, cdfs[chosen]).statistic)
    return TimeFit(values[chosen], aic, ks, n)


# --- the whole calibration --------------------------------------------------------------------
def calibrate(
    calls: pd.DataFrame,
    population: Mapping[str, float],
    defaults: Mapping[str, Any],
    until: pd.Timestamp | None = None,
    screening_false_positive: float = 0.0,
    unread: int = 0,
    catchments: Mapping[str, str] | None = None,
) -> Calibration:
    """Every parameter the log can tell, fitted to the calls up to ``until`` (a date, not
    included); ``defaults`` the values the fitted ones replace (dotted paths); ``catchments``
    each zone's receiving facility in the region (for the destinations). ``unread``: the
    rows the check rejected for their data (not duplicates), calls all the same: they count in
    the volume, spread over time and place as the accepted calls are."""
    n_all = len(calls)
    if until is not None:
        calls = calls[calls["call_time"] < until]
    calls = calls.reset_index(drop=True)
    if len(calls) == 0:
        raise ValueError("no accepted calls to fit (before --until)")
    t = calls["call_time"]
    first, last = t.min(), t.max()
    fitted: list[Fitted] = []
    missing: list[NotFitted] = []
    n = len(calls)

    def add(path: str, value: Any, **kw: Any) -> None:
        fitted.append(Fitted(path, value, defaults.get(path), **kw))

    rate, lo, hi, growth, g_lo, g_hi, base_year, trend = rate_and_trend(t, first, last)
    people = float(sum(population.values()))
    per_1000 = 1000.0 / people * (1 + unread / n_all)
    add(
        "demand.rate_per_1000_per_year",
        round(rate * per_1000, 4),
        low=round(lo * per_1000, 4),
        high=round(hi * per_1000, 4),
        n=n,
        method="Poisson regression of the calls of each month on time"
        + (f", {unread:,} calls rejected for their data counted in" if unread else "")
        + f", at the middle of {base_year}"
        + ("" if trend else f", no trend (under {MIN_TREND_YEARS:g} years)"),
    )
    add("demand.base_year", int(base_year), n=n, method="the year the rate is fitted at")
    if trend:
        add(
            "demand.growth_per_year",
            round(growth, 4),
            low=round(g_lo, 4),
            high=round(g_hi, 4),
            n=n,
            method="the same regression's trend, exp(b) - 1",
        )
    else:
        missing.append(
            NotFitted("demand.growth_per_year", f"the log spans under {MIN_TREND_YEARS:g} years")
        )

    counts = calls["zone_code"].value_counts().to_dict()
    phi = clumping_of(calls["person_key"])
    factors, intervals, alpha = zone_factors(counts, population, phi)
    add(
        "demand.zone_rate_factors",
        {z: round(f, 4) for z, f in factors.items()},
        low={z: round(a, 4) for z, (a, _) in intervals.items()},
        high={z: round(b, 4) for z, (_, b) in intervals.items()},
        n=n,
        method=f"empirical Bayes: gamma prior of shape {alpha:.3g} on the zones' relative rates"
        + (f", calls in clusters of {phi:.2f} on average (one person's)" if phi > 1 else ""),
    )

    profile, p_lo, p_hi = hour_profile(t, hour_exposure(first, last))
    add(
        "demand.hour_of_week_profile",
        [round(float(w), 4) for w in profile],
        low=[round(float(w), 4) for w in p_lo],
        high=[round(float(w), 4) for w in p_hi],
        n=n,
        method="calls per hour of the week over its hours in the log, smoothed ¼ ½ ¼",
    )

    kinds = calls["kind"].dropna()
    kinds = kinds[kinds.isin(KINDS)]
    if len(kinds):
        kc = kinds.value_counts()
        share = _shares(kc, KINDS)
        for k in KINDS:
            c = int(kc.get(k, 0))
            a, b = wilson(c, len(kinds))
            add(
                f"situations.{k}.share",
                share[k],
                low=round(a, 4),
                high=round(b, 4),
                n=len(kinds),
                method="share of the calls with a kind",
            )
    else:
        missing.append(NotFitted("situations.*.share", "no call has a kind"))
    channels = calls["channel"].dropna()
    channels = channels[channels.isin(CHANNELS)]
    if len(channels):
        shares = _shares(channels.value_counts(), CHANNELS)
        add(
            "call_handling.channel_shares",
            shares,
            n=len(channels),
            method="share of the calls with a channel",
        )
    else:
        missing.append(NotFitted("call_handling.channel_shares", "no call has a channel"))

    _times(calls, add, missing)
    _transport(calls, add, missing, screening_false_positive)
    years = years_between(first, last)
    callers = _repeat_callers(calls, years, n_all / (n_all + unread), add, missing)
    if catchments is not None:
        _destinations(calls, catchments, add, missing)
    missing.append(
        NotFitted(
            "facilities.handover_ambulance",
            "the log's handover end follows the drive to the facility, which it does not time",
        )
    )
    _screening(calls, screening_false_positive, add, missing)
    return Calibration(tuple(fitted), tuple(missing), n, first, last, callers=callers)


def _shares(counts: pd.Series, names: tuple[str, ...]) -> dict[str, float]:
    """Each name's share of the counts, to 4 decimals, the largest made up so they sum to 1
    exactly (as the scenario requires)."""
    total = int(counts.sum())
    share = {k: round(int(counts.get(k, 0)) / total, 4) for k in names}
    most = max(share, key=share.__getitem__)
    share[most] = round(1.0 - sum(v for k, v in share.items() if k != most), 6)
    return share


def minutes_between(calls: pd.DataFrame, a: str, b: str) -> pd.Series:
    """Minutes from each call's time ``a`` to its time ``b`` (NaN where either is missing)."""
    return (calls[b] - calls[a]).dt.total_seconds() / 60.0


def time_samples(calls: pd.DataFrame) -> dict[str, tuple[str, np.ndarray]]:
    """The minutes on scene of the log that each time parameter is fitted to: its path ->
    (whose, the minutes). A psychiatric unit's on its calls without police
    (``situations.K.on_scene``), police's on the calls they met alone (``police_alone``)."""
    on_scene = minutes_between(calls, "t_on_scene", "t_scene_end")
    involved = calls["police_involved"].fillna(False).astype(bool)
    unit_alone = (calls["responder"] == "psych_unit") & ~involved
    police = calls["responder"] == "police"
    out = {}
    for k in KINDS:
        of_kind = calls["kind"] == k
        for who, rows, path in (
            ("a psychiatric unit's, police not involved", unit_alone, f"situations.{k}.on_scene"),
            ("police alone", police, f"situations.{k}.police_alone"),
        ):
            out[path] = (who, on_scene[of_kind & rows].dropna().to_numpy())
    return out


def _times(calls: pd.DataFrame, add: Any, missing: list[NotFitted]) -> None:
    for path, (who, x) in time_samples(calls).items():
        if len(x) < MIN_TIMES:
            missing.append(NotFitted(path, f"{len(x)} times on scene ({who}): under {MIN_TIMES}"))
            continue
        f = fit_time(x)
        aics = ", ".join(f"{d} {a:,.0f}" for d, a in sorted(f.aic.items(), key=lambda i: i[1]))
        add(
            path,
            f.value,
            n=f.n,
            method=f"minutes from on scene to scene end ({who}); {f.chosen} by AIC ({aics})",
            fit=f"Kolmogorov-Smirnov distance {f.ks:.3f}",
        )


def _destinations(
    calls: pd.DataFrame, catchments: Mapping[str, str], add: Any, missing: list[NotFitted]
) -> None:
    """Where each zone's transported patients went: a zone whose patients went mostly (more
    than half of at least ``MIN_TIMES``) to a facility other than its catchment's gets that
    facility (``facilities.catchment_overrides``); the others keep the region's."""
    path = "facilities.catchment_overrides"
    moved = calls[calls["destination"].notna() & (calls["destination"].astype(str) != "<NA>")]
    if len(moved) == 0:
        missing.append(NotFitted(path, "no call has a destination"))
        return
    overrides: dict[str, str] = {}
    told, kept = 0, 0
    for zone, dest in moved.groupby("zone_code")["destination"]:
        if len(dest) < MIN_TIMES or str(zone) not in catchments:
            continue
        told += 1
        top = dest.astype(str).value_counts()
        if top.iloc[0] * 2 > len(dest) and top.index[0] != catchments[str(zone)]:
            overrides[str(zone)] = str(top.index[0])
        else:
            kept += 1
    if told == 0:
        missing.append(NotFitted(path, f"no zone has {MIN_TIMES} transported patients"))
        return
    add(
        path,
        overrides,
        n=len(moved),
        method=f"the facility most of a zone's transported patients went to: {kept} of {told} "
        f"zones with {MIN_TIMES} or more their catchment's, {len(overrides)} another's",
    )


def _screening(calls: pd.DataFrame, fp: float, add: Any, missing: list[NotFitted]) -> None:
    """Triage's risk screening, from when police were alerted on the calls a psychiatric unit
    met: before the first responder was on scene, at triage (flagged); after, called to the
    scene (needed, not flagged). With ``fp`` the share of the calls without need that triage
    flags, of ``n`` calls ``A`` flagged and ``L`` called later: ``N = (A + L - n fp) / (1 - fp)``
    needed police, and the screening caught ``1 - L / N`` of them: a lower bound, as a flagged
    call whose police were told (passed on from AMK) after a unit close by came counts in L."""
    path = "triage.screening_sensitivity"
    met = (calls["responder"] == "psych_unit") & calls["police_involved"].notna()
    involved = met & calls["police_involved"].fillna(False).astype(bool)
    alerted = calls["t_police_alerted"]
    timed = involved & alerted.notna() & calls["t_on_scene"].notna()
    if int(timed.sum()) < MIN_TIMES:
        why = f"{int(timed.sum())} calls a psychiatric unit met with police alerted at a known "
        missing.append(NotFitted(path, why + f"time: under {MIN_TIMES}"))
        return
    late = int((timed & (alerted >= calls["t_on_scene"])).sum())
    # calls with police but no alert time count as the timed ones do
    n = int(met.sum())
    scale = int(involved.sum()) / int(timed.sum())
    flagged = (int(timed.sum()) - late) * scale
    needed = (flagged + late * scale - n * fp) / (1 - fp)
    if not needed > late * scale:
        why = "the calls with police are no more than triage's false alarms"
        missing.append(NotFitted(path, why))
        return
    caught = round(needed - late * scale)
    a, b = wilson(caught, round(needed))
    add(
        path,
        round(1 - late * scale / needed, 4),
        low=round(a, 4),
        high=round(b, 4),
        n=int(timed.sum()),
        method=f"of the calls a psychiatric unit met, {late:,} of {int(timed.sum()):,} with police "
        "had them called to the scene after the first responder came, the rest alerted at "
        f"triage; less triage's false alarms ({fp:.0%} of the calls without need); a lower "
        "bound: a call whose police were told at triage but after a unit close by was on scene "
        "counts as missed",
    )


MAX_SPREAD = 10.0
"""A figure of the cohort whose interval's ends are further apart than this ratio is not
fitted (a short log: few people have had time to call again)."""


def _repeat_callers(
    calls: pd.DataFrame, years: float, kept: float, add: Any, missing: list[NotFitted]
) -> RepeatCallers | None:
    """The cohort of frequent callers, from the person keys (its fit, or None); ``kept``: the
    share of the calls the check accepted (a person's rejected calls are calls all the same:
    the rate is scaled up by it)."""
    per_person = calls_per_person(calls["person_key"])
    paths = (
        "callers.frequent_share",
        "callers.frequent_calls_per_year",
        "callers.frequent_rate_shape",
    )
    if len(per_person) == 0:
        for path in paths:
            missing.append(NotFitted(path, "no call has a person key"))
        return None
    fit = fit_repeat_callers(per_person, years) if years > 0 else None
    if fit is None:
        again = int((per_person >= 2).sum())
        for path in paths:
            missing.append(
                NotFitted(path, f"{again} people seen twice or more: under {MIN_REPEATERS}")
            )
        return None

    def scaled(f: Estimate) -> Estimate:
        return Estimate(*(min(365.0, v / kept) for v in f))

    seen = (
        f"{fit.repeaters:,} of {fit.people:,} people seen more than once, making "
        f"{fit.repeat_calls:,} of the {fit.calls:,} calls with a person key"
    )
    for path, figure, digits, what in (
        (paths[0], fit.share, 4, f"{seen}; the share a cohort of {fit.cohort:,.0f} people makes"),
        (paths[1], scaled(fit.calls_per_year), 3, "the cohort's mean calls a year"),
        (paths[2], fit.shape, 3, "the shape of the gamma law of the cohort's rates"),
    ):
        if not figure.high <= MAX_SPREAD * figure.low:
            missing.append(
                NotFitted(
                    path,
                    f"the log cannot tell it: its 95 % interval is {figure.low:.3g} to "
                    f"{figure.high:.3g} ({fit.repeaters:,} people seen twice or more)",
                )
            )
            continue
        add(
            path,
            round(figure.mean, digits),
            low=round(figure.low, digits),
            high=round(figure.high, digits),
            n=fit.calls,
            method=f"{what}; fitted to the calls of the people seen twice or more "
            "(negative binomial given two or more, maximum likelihood; docs/call-log.md)",
        )
    return fit


def _transport(calls: pd.DataFrame, add: Any, missing: list[NotFitted], fp: float) -> None:
    mode = calls["transport_mode"]
    given = mode.notna() & (mode != "<NA>")
    responder = calls["responder"]
    for k in KINDS:
        rows = given & (calls["kind"] == k)
        if rows.sum() < MIN_TIMES:
            missing.append(
                NotFitted(
                    f"situations.{k}.p_transport",
                    f"{int(rows.sum())} calls with a transport mode: under {MIN_TIMES}",
                )
            )
            continue
        c = int((mode[rows] != "none").sum())
        a, b = wilson(c, int(rows.sum()))
        add(
            f"situations.{k}.p_transport",
            round(c / int(rows.sum()), 4),
            low=round(a, 4),
            high=round(b, 4),
            n=int(rows.sum()),
            method="share of the calls transported",
        )
    unit_moved = given & (responder == "psych_unit") & (mode != "none")
    if unit_moved.sum() >= MIN_TIMES:
        c, m = int((mode[unit_moved] == "ambulance").sum()), int(unit_moved.sum())
        a, b = wilson(c, m)
        add(
            "dispatch.ordinary_ambulance_share",
            round(c / m, 4),
            low=round(a, 4),
            high=round(b, 4),
            n=m,
            method="share by ordinary ambulance of the patients a psychiatric unit met",
        )
        ordinary = c / m
    else:
        missing.append(
            NotFitted(
                "dispatch.ordinary_ambulance_share",
                "too few patients a psychiatric unit transported",
            )
        )
        ordinary = None
    police_moved = given & (responder == "police") & (mode != "none")
    if police_moved.sum() >= MIN_TIMES and ordinary is not None and ordinary < 1:
        c, m = int((mode[police_moved] == "police_car").sum()), int(police_moved.sum())
        a, b = wilson(c, m)
        scale = 1 / (1 - ordinary)
        add(
            "dispatch.police_car_share_today",
            round(min(1.0, c / m * scale), 4),
            low=round(min(1.0, a * scale), 4),
            high=round(min(1.0, b * scale), 4),
            n=m,
            method="share in a police car of the patients police alone transported, over the "
            "share not by ordinary ambulance",
        )
    else:
        missing.append(
            NotFitted(
                "dispatch.police_car_share_today", "too few patients police alone transported"
            )
        )
    involved = calls["police_involved"]
    for k in KINDS:
        rows = (responder == "psych_unit") & (calls["kind"] == k) & involved.notna()
        m = int(rows.sum())
        if m < MIN_TIMES:
            missing.append(
                NotFitted(
                    f"situations.{k}.p_police_needed",
                    f"{m} calls a psychiatric unit met: under {MIN_TIMES}",
                )
            )
            continue
        c = int(involved[rows].astype(bool).sum())
        a, b = wilson(c, m)

        def needed(share: float) -> float:
            return min(1.0, max(0.0, (share - fp) / (1 - fp)))

        add(
            f"situations.{k}.p_police_needed",
            round(needed(c / m), 4),
            low=round(needed(a), 4),
            high=round(needed(b), 4),
            n=m,
            method="share of a psychiatric unit's calls with police, less triage's false alarms "
            f"({fp:.0%} of the calls without need)",
        )


CALIBRATED_MARK = "# Written by planner calibrate"
"""How a calibrated scenario file begins: the file is ours (and may be replaced) when it does."""


def scenario_data(
    calibration: Calibration, base: Mapping[str, Any], log: str, name: str
) -> dict[str, Any]:
    """A scenario file's tables: ``base`` (what the user's scenario file says, or nothing) with
    every fitted value set and its source in ``[scenario.sources]``."""
    data: dict[str, Any] = _copy(base)
    sources: dict[str, str] = dict(data.get("scenario", {}).get("sources", {}))
    for f in calibration.fitted:
        node = data
        *parents, last = f.path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = f.value
        sources[f.path] = f.source(log, calibration.span)
    info = data.setdefault("scenario", {})
    info["name"] = name
    info.setdefault(
        "description",
        f"Demand and times fitted to {log} ({calibration.calls:,} calls, {calibration.span}).",
    )
    info["sources"] = sources
    return data


def _copy(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_copy(v) for v in x]
    return x
