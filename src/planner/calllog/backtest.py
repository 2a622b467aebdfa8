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

from planner.calllog.fit import hour_of_week, minutes_between
from planner.calllog.schema import KINDS

ALPHA = 0.01
"""The p-value below which a figure is said to differ from the simulation."""
MIN_TIMES = 30


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


def backtest(
    held_out: pd.DataFrame,
    simulated: Sequence[pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
    zones: Sequence[str],
    accepted_share: float = 1.0,
) -> list[Verdict]:
    """Every figure of the held-out calls (``start`` <= call time < ``end``) against the
    simulated replications' calls over the same period. ``accepted_share``: the share of the
    log's calls the check accepted (the rest rejected for their data): the simulated counts
    are of every call, so they are compared at that share."""
    from scipy import stats

    def within(frame: pd.DataFrame) -> pd.DataFrame:
        t = frame["call_time"]
        return frame[(t >= start) & (t < end)].reset_index(drop=True)

    log = within(held_out)
    sims = [within(s) for s in simulated]
    out: list[Verdict] = []

    volume = np.array([len(s) for s in sims], dtype=float) * accepted_share
    lo, hi = np.quantile(volume, [0.05, 0.95])
    out.append(
        Verdict(
            "calls in the period",
            f"{len(log):,}",
            f"{lo:,.0f} – {hi:,.0f} (90 %)",
            "",
            None,
            bool(lo <= len(log) <= hi),
        )
    )

    sim_hours = np.array([np.bincount(hour_of_week(s["call_time"]), minlength=168) for s in sims])
    out.append(
        _chi_square(
            "calls by hour of the week",
            np.bincount(hour_of_week(log["call_time"]), minlength=168).astype(float),
            sim_hours.astype(float),
            "hours",
        )
    )
    zone_index = {z: i for i, z in enumerate(zones)}

    def by_zone(frame: pd.DataFrame) -> np.ndarray:
        idx = frame["zone_code"].map(zone_index).dropna().astype(int).to_numpy()
        return np.bincount(idx, minlength=len(zones)).astype(float)

    out.append(
        _chi_square(
            "calls by zone",
            by_zone(log),
            np.array([by_zone(s) for s in sims]),
            "zones",
        )
    )

    def on_scene(frame: pd.DataFrame, kind: str, who: str) -> np.ndarray:
        rows = frame["kind"] == kind
        if who == "psych_unit":
            alone = ~frame["police_involved"].fillna(False).astype(bool)
            rows &= (frame["responder"] == "psych_unit") & alone
        else:
            rows &= frame["responder"] == "police"
        minutes = minutes_between(frame, "t_on_scene", "t_scene_end")
        return np.asarray(minutes[rows].dropna(), dtype=float)

    for who, name in (
        ("psych_unit", "a unit's time on scene"),
        ("police", "police alone, time on scene"),
    ):
        for k in KINDS:
            x = on_scene(log, k, who)
            if len(x) < MIN_TIMES:
                continue
            y = np.concatenate([on_scene(s, k, who) for s in sims])
            test = stats.ks_2samp(x, y)
            out.append(
                Verdict(
                    f"{name}: {k}",
                    f"median {np.median(x):.1f} min (n {len(x):,})",
                    f"median {np.median(y):.1f} min",
                    f"KS {test.statistic:.3f}",
                    float(test.pvalue),
                    float(test.pvalue) >= ALPHA,
                )
            )

    weeks = pd.date_range(start.normalize(), end, freq="7D", tz=start.tz)
    if len(weeks) >= 3:
        edges = weeks.as_unit("ns").asi8

        def weekly(frame: pd.DataFrame) -> np.ndarray:
            ns = frame["call_time"].dt.as_unit("ns").astype("int64").to_numpy()
            return np.histogram(ns, bins=edges)[0].astype(float)

        obs = weekly(log)
        sim = np.sort(np.array([weekly(s) for s in sims]), axis=0) * accepted_share
        r = len(sims)
        cut = int(0.05 * (r + 1))  # the range: the (c+1)-th to the (r-c)-th of r replications
        inside = int(((obs >= sim[cut]) & (obs <= sim[r - 1 - cut])).sum())
        # a week the model describes falls in that range with chance (r - 2c - 1) / (r + 1)
        target = (r - 2 * cut - 1) / (r + 1)
        test = stats.binomtest(inside, len(obs), target)
        out.append(
            Verdict(
                "weeks inside the simulation's 90 % range",
                f"{inside} of {len(obs)} ({inside / len(obs):.0%})",
                f"{target:.0%} expected of {r} replications",
                "binomial test",
                float(test.pvalue),
                float(test.pvalue) >= ALPHA,
            )
        )

    police = log["police_involved"].fillna(False).astype(bool) & log["police_minutes"].notna()
    if police.sum() >= MIN_TIMES:
        mean = float(log.loc[police, "police_minutes"].mean())
        means = [
            float(s.loc[s["police_involved"].astype(bool), "police_minutes"].mean()) for s in sims
        ]
        lo_p, hi_p = np.quantile(means, [0.05, 0.95])
        out.append(
            Verdict(
                "police minutes per call with police",
                f"{mean:.1f}",
                f"{lo_p:.1f} – {hi_p:.1f} (90 %)",
                "",
                None,
                bool(lo_p <= mean <= hi_p),
            )
        )
    return out
