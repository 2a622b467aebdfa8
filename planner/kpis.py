"""Key figures from the event log, per replication, with 95 % intervals across replications.

Every KPI is a function of the event log alone, so a figure can never disagree with what
happened in the simulation. Calls that arrive during the warm-up are simulated but not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    better: str  # "higher" | "lower" | ""
    compute: Callable[[pd.DataFrame, float], float]


def _share(mask: pd.Series, among: pd.Series) -> float:
    n = int(among.sum())
    return float((mask & among).sum() / n) if n else float("nan")


def _q(series: pd.Series, q: float) -> float:
    return float(series.quantile(q)) if len(series) else float("nan")


FALLBACK_REASONS = ("no_unit_on_duty", "out_of_reach", "waited_too_long")
"""Why an eligible call went to police instead of a unit (the engine's reasons)."""

KPIS: tuple[Kpi, ...] = (
    Kpi("calls_per_year", "Crisis calls", "per year", "", lambda d, y: len(d) / y),
    Kpi(
        "response_median",
        "Response time, median",
        "min",
        "lower",
        lambda d, y: _q(d["response_minutes"], 0.5),
    ),
    Kpi(
        "response_p90",
        "Response time, 90th percentile",
        "min",
        "lower",
        lambda d, y: _q(d["response_minutes"], 0.9),
    ),
    Kpi(
        "share_health_first",
        "Eligible calls met health-first",
        "share",
        "higher",
        lambda d, y: _share(d["health_first"], d["eligible_kind"]),
    ),
    Kpi(
        "unit_missions_per_year",
        "Psychiatric ambulance missions",
        "per year",
        "",
        lambda d, y: float(d["health_first"].sum()) / y,
    ),
    Kpi(
        "share_police_in_unit_missions",
        "Unit missions that needed police",
        "share",
        "lower",
        lambda d, y: _share(d["police_involved"], d["health_first"]),
    ),
    Kpi(
        "police_officer_hours",
        "Police officer-hours",
        "h per year",
        "lower",
        lambda d, y: float(d["officer_hours"].sum()) / y,
    ),
    Kpi(
        "police_patrol_hours",
        "Police patrol-hours",
        "h per year",
        "lower",
        lambda d, y: float(d["patrol_minutes"].sum()) / 60.0 / y,
    ),
    Kpi(
        "share_police_involved",
        "Calls met by uniformed police",
        "share",
        "lower",
        lambda d, y: float(d["police_involved"].mean()) if len(d) else float("nan"),
    ),
    Kpi(
        "share_police_car",
        "Transported patients driven in a police car",
        "share",
        "lower",
        lambda d, y: _share(d["transport_mode"] == "police_car", d["transport_mode"] != "none"),
    ),
    Kpi(
        "police_encounters_per_year",
        "Calls met by uniformed police",
        "per year",
        "lower",
        lambda d, y: float(d["police_involved"].sum()) / y,
    ),
    Kpi(
        "police_car_transports_per_year",
        "Patients driven in a police car",
        "per year",
        "lower",
        lambda d, y: float((d["transport_mode"] == "police_car").sum()) / y,
    ),
    Kpi(
        "ambulance_transports_per_year",
        "Patients driven by ordinary ambulance",
        "per year",
        "",
        lambda d, y: float((d["transport_mode"] == "ambulance").sum()) / y,
    ),
    Kpi(
        "fallbacks_per_year",
        "Eligible calls that fell back to police",
        "per year",
        "lower",
        lambda d, y: (
            float(
                (d["eligible_kind"] & ~d["health_first"] & d["reason"].isin(FALLBACK_REASONS)).sum()
            )
            / y
        ),
    ),
    Kpi(
        "fallbacks_no_unit_free",
        "... of which waited too long (no unit free)",
        "per year",
        "lower",
        lambda d, y: float((d["reason"] == "waited_too_long").sum()) / y,
    ),
    Kpi(
        "queue_wait_mean",
        "Wait for a unit, mean (unit missions)",
        "min",
        "lower",
        lambda d, y: (
            float(d.loc[d["health_first"], "queue_minutes"].mean())
            if d["health_first"].any()
            else float("nan")
        ),
    ),
)
KPI_BY_KEY = {k.key: k for k in KPIS}


def replication_kpis(
    log: pd.DataFrame, warmup_minutes: float, horizon_minutes: float, police_fte_hours: float
) -> dict[str, float]:
    """The KPIs of one replication's log (rows of that replication only)."""
    counted = log[log["t_arrival"] >= warmup_minutes]
    years = (horizon_minutes - warmup_minutes) / (365.0 * 1440.0)
    out = {k.key: k.compute(counted, years) for k in KPIS}
    out["police_fte"] = out["police_officer_hours"] / police_fte_hours
    return out


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a t-interval across replications (a single replication has no interval)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (float("nan"),) * 3
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def summarise(per_rep: pd.DataFrame) -> pd.DataFrame:
    """KPI table: one row per KPI with mean, 95 % interval, unit and label."""
    rows = []
    labels = {k.key: (k.label, k.unit) for k in KPIS} | {"police_fte": ("Police FTE", "FTE")}
    for key in per_rep.columns:
        if key == "replication":
            continue
        mean, lo, hi = interval(per_rep[key].to_numpy())
        label, unit = labels.get(key, (key, ""))
        rows.append(
            {"kpi": key, "label": label, "unit": unit, "mean": mean, "ci_low": lo, "ci_high": hi}
        )
    return pd.DataFrame(rows)


def utilisation_by_hour(
    intervals: list[tuple[int, float, float]], on_duty: np.ndarray, warmup: float, horizon: float
) -> np.ndarray:
    """Share of on-duty unit time spent busy, for each of the 168 hours of the week."""
    busy: np.ndarray = np.zeros(168)
    if intervals:
        iv = np.asarray(intervals, dtype=float)
        a, b = np.maximum(iv[:, 1], warmup), np.minimum(iv[:, 2], horizon)
        # each interval adds whole hours between its first and last hour (a difference array)
        # plus its partial first and last hours
        edges = np.arange(np.floor(warmup / 60) * 60, horizon + 60, 60.0)
        keep = b > a
        starts = np.clip(np.searchsorted(edges, a[keep], side="right") - 1, 0, len(edges) - 2)
        ends = np.clip(np.searchsorted(edges, b[keep], side="right") - 1, 0, len(edges) - 2)
        per_hour = np.zeros(len(edges) - 1)
        # whole hours strictly between start and end hours
        same = starts == ends
        diff = np.zeros(len(edges))
        np.add.at(diff, starts[~same] + 1, 1.0)
        np.add.at(diff, ends[~same], -1.0)
        per_hour += np.cumsum(diff)[:-1] * 60.0
        np.add.at(per_hour, starts[same], (b[keep] - a[keep])[same])
        np.add.at(per_hour, starts[~same], (edges[starts[~same] + 1] - a[keep][~same]))
        np.add.at(per_hour, ends[~same], (b[keep][~same] - edges[ends[~same]]))
        hours = (edges[:-1] // 60).astype(int) % 168
        busy = np.bincount(hours, weights=per_hour, minlength=168)
    weeks = (horizon - warmup) / (168 * 60.0)
    duty = on_duty.sum(axis=0) * 60.0 * weeks
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(duty > 0, busy / duty, np.nan)


def by_group(log: pd.DataFrame, warmup: float, column: str) -> pd.DataFrame:
    """Median and 90th percentile response time by a column, with intervals over replications."""
    counted = log[log["t_arrival"] >= warmup]
    per = (
        counted.groupby(["replication", column])["response_minutes"]
        .agg(median="median", p90=lambda s: s.quantile(0.9), calls="size")
        .reset_index()
    )
    rows = []
    for g, part in per.groupby(column):
        m, mlo, mhi = interval(part["median"].to_numpy())
        p, plo, phi = interval(part["p90"].to_numpy())
        rows.append(
            {
                column: g,
                "calls": float(part["calls"].mean()),
                "median": m,
                "median_low": mlo,
                "median_high": mhi,
                "p90": p,
                "p90_low": plo,
                "p90_high": phi,
            }
        )
    return pd.DataFrame(rows)
