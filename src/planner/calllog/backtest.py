"""Backtest: the calls a log recorded over a held-out period against the same period simulated
many times from the calibrated scenario, figure by figure, each with a plain verdict.

- the volume: the held-out calls against the replications' 90 % range;
- calls per hour of the week and per zone: Pearson's chi-square of the log's counts against
  the simulation's mean shares (the volume set aside), over the replications' own dispersion
  (calls of one frequent caller come from one home: counts vary more than independent calls'),
  its p-value with K - 1 degrees of freedom;
- times on scene per kind (a psychiatric unit's without police; police alone): the two-sample
  Kolmogorov-Smirnov test of the log's times against the simulated ones;
- weekly counts: the share of the log's whole weeks whose count is inside the replications'
  90 % range for that week — close to 90 % if the model is right (a binomial test says how
  close is close);
- police minutes per call with police: the log's mean against the replications' 90 % range.

A figure "agrees" when its test's p-value is at least ``ALPHA`` (or it is inside the range),
and "differs" otherwise. Pure: the calls, the simulated calls (``synth.calls_of`` of each
replication) and the period in, the figures out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.calllog.fit import hour_of_week, time_samples

ALPHA = 0.01
"""The p-value below which a figure is said to differ from the simulation."""
MIN_TIMES = 30
Z90 = 1.6448536269514722
"""The standard normal's 95th percentile: a 90 % range is ±Z90 standard errors."""


@dataclass(frozen=True)
class Verdict:
    figure: str
    observed: str
    simulated: str
    statistic: str
    p_value: float | None
    agrees: bool

    @property
    def word(self) -> str:
        return "agrees" if self.agrees else "differs"


def dispersion(per_replication: np.ndarray) -> float:
    """How much more the replications' counts (one row each) vary than a multinomial's: the
    mean of each one's Pearson chi-square against the mean shares of the others, over its
    degrees of freedom (1 for counts that vary as independent calls' do; more when calls come
    in clusters, as a frequent caller's do). At least 1."""
    r = len(per_replication)
    if r < 3:
        return 1.0
    total = per_replication.sum(axis=0)
    ratios = []
    for i in range(r):
        others = total - per_replication[i]
        keep = others > 0
        o = per_replication[i, keep]
        e = others[keep] / others[keep].sum() * o.sum()
        df = int(keep.sum()) - 1
        if df > 0 and o.sum() > 0:
            ratios.append(float(((o - e) ** 2 / e).sum()) / df)
    return max(1.0, float(np.mean(ratios))) if ratios else 1.0


def _chi_square(
    figure: str, observed: np.ndarray, per_replication: np.ndarray, labels: str
) -> Verdict:
    """Pearson's chi-square of the log's counts against the replications' mean shares, scaled
    by the replications' own ``dispersion`` (a quasi-Poisson test): the simulation's clusters
    of calls are not taken for a difference."""
    from scipy import stats

    expected_share = per_replication.sum(axis=0)
    keep = expected_share > 0
    o, share = observed[keep], expected_share[keep] / expected_share[keep].sum()
    e = share * o.sum()
    chi2 = float(((o - e) ** 2 / e).sum())
    phi = dispersion(per_replication)
    df = int(keep.sum()) - 1
    p = float(stats.chi2.sf(chi2 / phi, df))
    outside = int((observed[~keep] > 0).sum())
    note = f"; {outside} {labels} the simulation never has" if outside else ""
    scaled = f", over dispersion {phi:.2f}" if phi > 1 else ""
    return Verdict(
        figure,
        f"{int(o.sum()):,} calls",
        f"{df + 1} {labels}",
        f"χ² {chi2:,.1f}{scaled}, df {df}{note}",
        p,
        p >= ALPHA and not outside,
    )


@dataclass(frozen=True)
class Backtest:
    """The verdicts, and what the report draws: each whole week's calls in the log against the
    replications' 90 % range (``weeks``: start, observed, low, high), and each hour of the
    week's (``hours``: hour, observed, simulated — the replications' mean, at the log's
    volume)."""

    verdicts: list[Verdict]
    weeks: pd.DataFrame
    hours: pd.DataFrame

    def agreeing(self) -> int:
        return sum(v.agrees for v in self.verdicts)


def backtest(
    held_out: pd.DataFrame,
    simulated: Sequence[pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
    zones: Sequence[str],
    accepted_share: float = 1.0,
    rate_error: float = 0.0,
) -> Backtest:
    """Every figure of the held-out calls (``start`` <= call time < ``end``) against the
    simulated replications' calls over the same period. ``accepted_share``: the share of the
    log's calls the check accepted (the rest rejected for their data): the simulated counts
    are of every call, so they are compared at that share. ``rate_error``: the fitted rate's
    relative standard error, which the volume's range carries besides the simulation's own
    spread (the replications all run at the fitted rate)."""

    def within(frame: pd.DataFrame) -> pd.DataFrame:
        t = frame["call_time"]
        return frame[(t >= start) & (t < end)].reset_index(drop=True)

    log = within(held_out)
    sims = [within(s) for s in simulated]
    hours = np.array([np.bincount(hour_of_week(s["call_time"]), minlength=168) for s in sims])
    observed_hours = np.bincount(hour_of_week(log["call_time"]), minlength=168).astype(float)
    sim_zones = np.array([_by_zone(s, zones) for s in sims])
    verdicts = [
        _volume(log, sims, accepted_share, rate_error),
        _chi_square("calls by hour of the week", observed_hours, hours.astype(float), "hours"),
        _chi_square("calls by zone", _by_zone(log, zones), sim_zones, "zones"),
        *_times_on_scene(log, sims),
    ]
    weeks = _weeks(log, sims, start, end, accepted_share)
    if weeks is not None:
        verdicts.append(_weeks_verdict(weeks, len(sims)))
    police = _police_minutes(log, sims)
    if police is not None:
        verdicts.append(police)
    mean = hours.mean(axis=0)
    scaled = mean / mean.sum() * observed_hours.sum() if mean.sum() else mean
    return Backtest(
        verdicts,
        weeks if weeks is not None else pd.DataFrame(columns=["start", "observed", "low", "high"]),
        pd.DataFrame({"hour": np.arange(168), "observed": observed_hours, "simulated": scaled}),
    )


def _volume(
    log: pd.DataFrame, sims: Sequence[pd.DataFrame], accepted_share: float, rate_error: float
) -> Verdict:
    """The held-out calls against the replications' 90 % range, each side widened by the
    fitted rate's error: ``m ± sqrt(d² + (1.645 e m)²)``, with ``m`` the replications' median,
    ``d`` the distance from it to the side, ``e`` the relative error (the two independent)."""
    volume = np.array([len(s) for s in sims], dtype=float) * accepted_share
    lo, mid, hi = np.quantile(volume, [0.05, 0.5, 0.95])
    extra = (Z90 * rate_error * mid) ** 2
    lo, hi = mid - np.sqrt((mid - lo) ** 2 + extra), mid + np.sqrt((hi - mid) ** 2 + extra)
    carried = f", the fitted rate's ±{rate_error:.1%} carried" if rate_error else ""
    return Verdict(
        "calls in the period",
        f"{len(log):,}",
        f"{lo:,.0f} – {hi:,.0f} (90 %{carried})",
        "",
        None,
        bool(lo <= len(log) <= hi),
    )


def _by_zone(frame: pd.DataFrame, zones: Sequence[str]) -> np.ndarray:
    zone_index = {z: i for i, z in enumerate(zones)}
    idx = frame["zone_code"].map(zone_index).dropna().astype(int).to_numpy()
    return np.bincount(idx, minlength=len(zones)).astype(float)


def _times_on_scene(log: pd.DataFrame, sims: Sequence[pd.DataFrame]) -> list[Verdict]:
    """The two-sample KS test of each time the fit chose a law for (``fit.time_samples``)."""
    from scipy import stats

    simulated = [time_samples(s) for s in sims]
    out = []
    for path, (_, x) in time_samples(log).items():
        if len(x) < MIN_TIMES:
            continue
        y = np.concatenate([t[path][1] for t in simulated])
        if len(y) == 0:
            continue
        test = stats.ks_2samp(x, y)
        kind, what = path.split(".")[1:]
        name = "a unit's time on scene" if what == "on_scene" else "police alone, time on scene"
        out.append(
            Verdict(
                f"{name}: {kind}",
                f"median {np.median(x):.1f} min (n {len(x):,})",
                f"median {np.median(y):.1f} min",
                f"KS {test.statistic:.3f}",
                float(test.pvalue),
                float(test.pvalue) >= ALPHA,
            )
        )
    return sorted(out, key=lambda v: not v.figure.startswith("a unit"))  # units' first


def _weeks(
    log: pd.DataFrame,
    sims: Sequence[pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
    accepted_share: float,
) -> pd.DataFrame | None:
    """Each whole week's calls in the log, and the replications' range for it: the (c+1)-th
    to the (r-c)-th of the r replications' counts, c = floor(0.05 (r + 1)). None under 3 weeks."""
    weeks = pd.date_range(start.normalize(), end, freq="7D", tz=start.tz)
    if len(weeks) < 3:
        return None
    edges = weeks.as_unit("ns").asi8

    def weekly(frame: pd.DataFrame) -> np.ndarray:
        ns = frame["call_time"].dt.as_unit("ns").astype("int64").to_numpy()
        return np.histogram(ns, bins=edges)[0].astype(float)

    sim = np.sort(np.array([weekly(s) for s in sims]), axis=0) * accepted_share
    r = len(sims)
    cut = int(0.05 * (r + 1))
    return pd.DataFrame(
        {"start": weeks[:-1], "observed": weekly(log), "low": sim[cut], "high": sim[r - 1 - cut]}
    )


def _weeks_verdict(weeks: pd.DataFrame, r: int) -> Verdict:
    from scipy import stats

    obs = weeks["observed"].to_numpy()
    inside = int(((obs >= weeks["low"]) & (obs <= weeks["high"])).sum())
    # a week the model describes falls in that range with chance (r - 2c - 1) / (r + 1)
    cut = int(0.05 * (r + 1))
    target = (r - 2 * cut - 1) / (r + 1)
    test = stats.binomtest(inside, len(obs), target)
    return Verdict(
        "weeks inside the simulation's 90 % range",
        f"{inside} of {len(obs)} ({inside / len(obs):.0%})",
        f"{target:.0%} expected of {r} replications",
        "binomial test",
        float(test.pvalue),
        float(test.pvalue) >= ALPHA,
    )


def _police_minutes(log: pd.DataFrame, sims: Sequence[pd.DataFrame]) -> Verdict | None:
    police = log["police_involved"].fillna(False).astype(bool) & log["police_minutes"].notna()
    if police.sum() < MIN_TIMES:
        return None
    mean = float(log.loc[police, "police_minutes"].mean())
    means = [float(s.loc[s["police_involved"].astype(bool), "police_minutes"].mean()) for s in sims]
    lo, hi = np.quantile(means, [0.05, 0.95])
    return Verdict(
        "police minutes per call with police",
        f"{mean:.1f}",
        f"{lo:.1f} – {hi:.1f} (90 %)",
        "",
        None,
        bool(lo <= mean <= hi),
    )
