"""Key figures from the event log, per replication, with 95 % intervals across replications.

Every KPI is a function of the event log alone, so a figure can never disagree with what
happened in the simulation. Calls that arrive during the warm-up are simulated but not counted.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # the t quantile (what scipy.stats.t.ppf computes)

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_YEAR
from planner.sim.events import FALLBACK_REASONS, Reason, TransportMode
from planner.sim.patrols import PatrolRecord


@dataclass(frozen=True)
class Period:
    """What a replication's KPIs are counted over: the years after warm-up and the fleet's duty.

    ``on_duty`` holds one row per unit, 168 hours of the week (Monday 00-01 first), 1 when the
    unit is on shift in that hour.
    """

    warmup: float  # minutes
    horizon: float  # minutes
    on_duty: np.ndarray
    police_fte_hours: float
    officers_per_patrol: int
    car_officers: int = 0  # police officers in each unit (co-response), on duty with it

    @property
    def years(self) -> float:
        return (self.horizon - self.warmup) / MINUTES_PER_YEAR

    @property
    def units(self) -> int:
        return int(self.on_duty.shape[0])


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    better: str  # "higher" | "lower" | ""
    compute: Callable[[pd.DataFrame, Period], float]
    counted_calls: bool = True  # False: a time average over the whole log after the warm-up


def _share(mask: pd.Series, among: pd.Series) -> float:
    n = int(among.sum())
    return float((mask & among).sum() / n) if n else math.nan


def _q(series: pd.Series, q: float) -> float:
    return float(series.quantile(q))  # NaN for no calls


def _police_car_officer_hours(d: pd.DataFrame, p: Period) -> float:
    """Officer-hours from scene end to handover end on police-car transports by police alone."""
    alone = (d["unit"] < 0) & (d["transport_mode"] == TransportMode.POLICE_CAR)
    minutes = (d["t_handover_end"] - d["t_scene_end"])[alone]
    return float(minutes.sum()) / 60.0 * p.officers_per_patrol


def _officer_hours(d: pd.DataFrame, p: Period) -> float:
    """Police officer-hours a year: the patrols' on the calls, and the officers riding in the
    fleet's units (co-response) for every hour the units are on duty after the warm-up."""
    hours = float(d["officer_hours"].sum()) / p.years
    if p.car_officers and p.units:
        units = np.arange(p.units)
        end = on_duty_minutes(p.on_duty, units, np.full(p.units, p.horizon))
        start = on_duty_minutes(p.on_duty, units, np.full(p.units, p.warmup))
        hours += float((end - start).sum()) / 60.0 * p.car_officers / p.years
    return hours


def _civil(d: pd.DataFrame) -> pd.Series:
    """Calls met by police in civil clothes and car (a log from before the lever: none)."""
    return d["civil"] if "civil" in d else pd.Series(False, index=d.index)


def _uniformed(d: pd.DataFrame) -> pd.Series:
    """Calls met by police in uniform (police came, not in civil clothes): the log's column,
    or made from its others."""
    if "uniformed" in d:
        return d["uniformed"]
    return d["police_involved"] & ~_civil(d)


def _marked_car(d: pd.DataFrame) -> pd.Series:
    """Patients driven in a marked police car (not by police in civil clothes and car): the
    log's column, or made from its others."""
    if "marked_police_car" in d:
        return d["marked_police_car"]
    return (d["transport_mode"] == TransportMode.POLICE_CAR) & ~_civil(d)


def _per_unit_year(total: float, p: Period) -> float:
    return total / p.units / p.years if p.units else math.nan


KPIS: tuple[Kpi, ...] = (
    Kpi("calls_per_year", "Crisis calls", "per year", "", lambda d, p: len(d) / p.years),
    Kpi(
        "response_median",
        "Response time, median",
        "min",
        "lower",
        lambda d, p: _q(d["response_minutes"], 0.5),
    ),
    Kpi(
        "response_p90",
        "Response time, 90th percentile",
        "min",
        "lower",
        lambda d, p: _q(d["response_minutes"], 0.9),
    ),
    Kpi(
        "share_health_first",
        "Eligible calls met health-first",
        "share",
        "higher",
        lambda d, p: _share(d["health_first"], d["eligible_kind"]),
    ),
    Kpi(
        "unit_missions_per_year",
        "Psychiatric ambulance missions",
        "per year",
        "",
        lambda d, p: float(d["health_first"].sum()) / p.years,
    ),
    Kpi(
        "share_police_in_unit_missions",
        "Unit missions that needed police",
        "share",
        "lower",
        lambda d, p: _share(d["police_involved"], d["health_first"]),
    ),
    Kpi(
        "police_officer_hours",
        "Police officer-hours",
        "h per year",
        "lower",
        lambda d, p: _officer_hours(d, p),
    ),
    Kpi(
        "police_patrol_hours",
        "Police patrol-hours",
        "h per year",
        "lower",
        lambda d, p: float(d["patrol_minutes"].sum()) / 60.0 / p.years,
    ),
    Kpi(
        "police_fte",
        "Police FTE",
        "FTE",
        "lower",
        lambda d, p: _officer_hours(d, p) / p.police_fte_hours,
    ),
    Kpi(
        "patrol_hours_per_police_mission",
        "Patrol-hours per call police attend",
        "h",
        "",
        lambda d, p: (
            float(d.loc[d["patrol_minutes"] > 0, "patrol_minutes"].mean()) / 60.0
            if (d["patrol_minutes"] > 0).any()
            else math.nan
        ),
    ),
    Kpi(
        "share_police_involved",
        "Share of calls met by uniformed police",
        "share",
        "lower",
        lambda d, p: float(_uniformed(d).mean()) if len(d) else math.nan,
    ),
    Kpi(
        "share_police_car",
        "Transported patients driven in a police car",
        "share",
        "lower",
        lambda d, p: _share(_marked_car(d), d["transport_mode"] != TransportMode.NONE),
    ),
    Kpi(
        "police_encounters_per_year",
        "Encounters with uniformed police",
        "per year",
        "lower",
        lambda d, p: float(_uniformed(d).sum()) / p.years,
    ),
    Kpi(
        "civil_police_encounters_per_year",
        "Encounters with police in civil clothes",
        "per year",
        "",
        lambda d, p: float((d["police_involved"] & _civil(d)).sum()) / p.years,
    ),
    Kpi(
        "police_car_transports_per_year",
        "Patients driven in a police car",
        "per year",
        "lower",
        lambda d, p: float(_marked_car(d).sum()) / p.years,
    ),
    Kpi(
        "ambulance_transports_per_year",
        "Patients driven by ordinary ambulance",
        "per year",
        "",
        lambda d, p: float((d["transport_mode"] == TransportMode.AMBULANCE).sum()) / p.years,
    ),
    Kpi(
        "fallbacks_per_year",
        "Eligible calls that fell back to police",
        "per year",
        "lower",
        lambda d, p: (
            float(
                (d["eligible_kind"] & ~d["health_first"] & d["reason"].isin(FALLBACK_REASONS)).sum()
            )
            / p.years
        ),
    ),
    Kpi(
        "fallbacks_no_unit_free",
        "... of which waited too long (no unit free)",
        "per year",
        "lower",
        lambda d, p: float((d["reason"] == Reason.WAITED_TOO_LONG).sum()) / p.years,
    ),
    Kpi(
        "queue_wait_mean",
        "Wait for a unit, mean (unit missions)",
        "min",
        "lower",
        lambda d, p: (
            float(d.loc[d["health_first"], "queue_minutes"].mean())
            if d["health_first"].any()
            else math.nan
        ),
    ),
    Kpi(
        "unit_utilisation",
        "Unit utilisation on shift",
        "share",
        "",
        lambda d, p: on_shift_utilisation(d, p),
        counted_calls=False,
    ),
    Kpi(
        "overtime_hours_per_unit",
        "Overtime: busy after the shift, per unit",
        "h per year",
        "lower",
        lambda d, p: _per_unit_year(float(d["overtime_minutes"].sum()) / 60.0, p),
    ),
    Kpi(
        "overtime_unit_hours",
        "Overtime: busy after the shift, all units",
        "h per year",
        "lower",
        lambda d, p: float(d["overtime_minutes"].sum()) / 60.0 / p.years,
    ),
    Kpi(
        "police_car_officer_hours",
        "Police officer-hours on police-car transports of calls police handle alone",
        "h per year",
        "lower",
        lambda d, p: _police_car_officer_hours(d, p) / p.years,
    ),
    Kpi(
        "share_missions_overtime",
        "Unit missions that end after the shift",
        "share",
        "lower",
        lambda d, p: _share(d["overtime_minutes"] > 0, d["health_first"]),
    ),
)
KPI_BY_KEY = {k.key: k for k in KPIS}


def replication_kpis(log: pd.DataFrame, period: Period) -> dict[str, float]:
    """The KPIs of one replication's log (rows of that replication only).

    Calls that arrive in the warm-up are not counted; utilisation counts busy time after it.
    """
    t = log["t_arrival"].to_numpy()
    if np.all(t[1:] >= t[:-1]):  # in order of arrival, as a replication writes it: a slice
        counted = log.iloc[int(np.searchsorted(t, period.warmup)) :]  # the first at warm-up's end
    else:
        counted = log[t >= period.warmup]
    return {k.key: k.compute(counted if k.counted_calls else log, period) for k in KPIS}


PATROL_KPIS: dict[str, tuple[str, str, str]] = {
    "p1_response_median": ("urgent assignments (P1): response, median", "min", "lower"),
    "p1_response_p90": ("urgent assignments (P1): response, 90th percentile", "min", "lower"),
    "p1_within_target": ("urgent assignments (P1): share within the target", "share", "higher"),
    "p1_waited": ("urgent assignments (P1) that waited for a free patrol", "share", "lower"),
    "p2_waited": ("ordinary assignments (P2) that waited for a free patrol", "share", "lower"),
    "patrol_utilisation": ("patrols' busy share of their time on duty", "share", ""),
    "mission_patrol_hours": ("patrol-hours on psychiatric calls", "h per year", "lower"),
}
"""KPIs of each police district's patrols (``police.model = "patrols"``), keyed
``<key>.<district>`` (``p1_response_p90.oslo``): label (after the district's name), unit, and
which way is better. Counted over the assignments and calls that arrive after the warm-up."""


def patrol_kpis(
    records: Sequence[PatrolRecord], log: pd.DataFrame, period: Period
) -> dict[str, float]:
    """``PATROL_KPIS`` of each district of one replication: its P1 assignments' response (from
    alert to a patrol on scene) and the share within its target, the P1 and P2 assignments that
    waited for a free patrol, its patrols' busy share of the time they were on duty (after the
    warm-up, to the end of the horizon), and the patrol-hours its psychiatric calls took (the
    call log's ``patrol_minutes`` of the calls in the district, by the calls' ``district``)."""
    out: dict[str, float] = {}
    counted_log = log[log["t_arrival"] >= period.warmup]
    for r in records:
        name = r.district.name
        counted = r.work.t >= period.warmup
        p1 = counted & (r.work.priority == 1)
        p2 = counted & (r.work.priority == 2)
        response = r.response[p1]
        response = response[~np.isnan(response)]
        waited = r.first_start > r.work.t  # NaN (never taken) compares False: not counted
        taken = ~np.isnan(r.first_start)
        out[f"p1_response_median.{name}"] = _quantile(response, 0.5)
        out[f"p1_response_p90.{name}"] = _quantile(response, 0.9)
        out[f"p1_within_target.{name}"] = (
            float(np.mean(response <= r.district.target)) if response.size else math.nan
        )
        out[f"p1_waited.{name}"] = _mean_of(waited, p1 & taken)
        out[f"p2_waited.{name}"] = _mean_of(waited, p2 & taken)
        used, on = _patrol_minutes_by_hour(r, period)
        # busy over on-duty patrol-minutes (a patrol finishing work after its rota counts busy)
        out[f"patrol_utilisation.{name}"] = (
            float(used.sum() / on.sum()) if on.sum() > 0 else math.nan
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            by_hour = np.where(on > 0, used / on, np.nan)
        for hour, share in enumerate(by_hour.tolist()):
            out[f"patrol_utilisation_h{hour:02d}.{name}"] = share
        mine = counted_log["district"] == name
        minutes = float(counted_log.loc[mine, "patrol_minutes"].sum())
        out[f"mission_patrol_hours.{name}"] = minutes / 60.0 / period.years
    return out


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if values.size else math.nan


def _mean_of(flags: np.ndarray, among: np.ndarray) -> float:
    n = int(among.sum())
    return float(flags[among].sum() / n) if n else math.nan


def _patrol_minutes_by_hour(r: PatrolRecord, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """(busy, on-duty) patrol-minutes of a district in each hour of the day (00-01 first), each
    summed over the days from the warm-up's end to the horizon."""
    a, b = period.warmup, period.horizon
    first, last = int(a // 60), math.ceil(b / 60)
    edges = np.clip(np.arange(first, last + 1) * 60.0, a, b)
    hours = np.arange(first, last)
    duty = np.asarray(r.district.on_duty, dtype=float)[hours % HOURS_PER_WEEK] * np.diff(edges)
    on = np.bincount(hours % 24, weights=duty, minlength=24)
    # busy patrols at each minute: +1 at each stretch's start, -1 at its end, cut at the hours
    start, end = np.clip(r.busy_start, a, b), np.clip(r.busy_end, a, b)
    times = np.concatenate([start, end, edges])
    steps = np.concatenate([np.ones(start.size), -np.ones(end.size), np.zeros(edges.size)])
    order = np.argsort(times, kind="stable")
    t, busy = times[order], np.cumsum(steps[order])
    minutes = busy[:-1] * np.diff(t)  # busy patrol-minutes of each piece
    hour = (np.minimum(t[:-1], b - 1e-9) // 60).astype(int) % 24
    return np.bincount(hour, weights=minutes, minlength=24), on


def kpi_label(key: str) -> tuple[str, str]:
    """A KPI's label and unit: ``KPIS``' own, or a district's patrol KPI (``PATROL_KPIS``),
    or the key itself and no unit."""
    if key in KPI_BY_KEY:
        k = KPI_BY_KEY[key]
        return k.label, k.unit
    base, _, district = key.partition(".")
    if district and base in PATROL_KPIS:
        label, unit, _better = PATROL_KPIS[base]
        return f"Police district {district}: {label}", unit
    if district and (hour := by_hour_of(base)) is not None:
        return (
            f"Police district {district}: patrols' busy share, {hour:02d}-{hour + 1:02d}",
            "share",
        )
    return key, ""


def by_hour_of(base: str) -> int | None:
    """The hour of day of a patrols' by-hour KPI (``patrol_utilisation_h07``: 7), else None."""
    prefix = "patrol_utilisation_h"
    if base.startswith(prefix) and base[len(prefix) :].isdigit():
        return int(base[len(prefix) :])
    return None


COHORTS = ("frequent", "once")
"""The callers a call may come from: the cohort of frequent callers, and people who call once
(``[callers]``; a call's ``caller`` is -1 for the latter)."""
COHORT_KPIS = (
    "calls_per_year",
    "response_median",
    "response_p90",
    "share_health_first",
    "share_police_involved",
    "police_encounters_per_year",
    "police_car_transports_per_year",
    "police_officer_hours",
)
"""The KPIs split by cohort: what a call costs and meets, counted over one cohort's calls."""


def cohort_kpis(log: pd.DataFrame, period: Period) -> dict[tuple[str, str], float]:
    """``COHORT_KPIS`` of each cohort's counted calls of one replication's log, by (cohort, KPI
    key); a figure of a cohort with no calls is NaN (a rate, 0)."""
    counted = log[log["t_arrival"] >= period.warmup]
    frequent = counted["caller"] >= 0
    period = dataclasses.replace(period, car_officers=0)  # the calls' own officer-hours
    out = {}
    for cohort, rows in zip(COHORTS, (frequent, ~frequent), strict=True):
        part = counted[rows]
        for key in COHORT_KPIS:
            out[cohort, key] = KPI_BY_KEY[key].compute(part, period)
    return out


def summarise_cohorts(per_rep: Sequence[Mapping[tuple[str, str], float]]) -> pd.DataFrame:
    """The cohorts' KPI table: one row per cohort and KPI, its mean over replications and 95 %
    interval (``cohort``, then ``summarise``'s columns)."""
    rows = []
    for cohort in COHORTS:
        for key in COHORT_KPIS:
            mean, lo, hi = interval(np.array([r[cohort, key] for r in per_rep], dtype=float))
            k = KPI_BY_KEY[key]
            rows.append(
                {
                    "cohort": cohort,
                    "kpi": key,
                    "label": k.label,
                    "unit": k.unit,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    columns = ["cohort", "kpi", "label", "unit", "mean", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


class Estimate(NamedTuple):
    """A figure's mean over replications and its 95 % interval; ``low`` and ``high`` are NaN
    when there is no interval (one replication). A tuple, so ``mean, low, high = e`` reads it;
    in JSON it is the list ``[mean, low, high]``."""

    mean: float
    low: float
    high: float

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    @classmethod
    def of(cls, row: pd.Series) -> Estimate:
        """From a row of a KPI or effects table (columns ``mean``, ``ci_low``, ``ci_high``)."""
        return cls(float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]))


def interval(values: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean and a t-interval across replications (a single replication has no interval)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    mean = float(v.mean())
    if v.size < 2:
        return Estimate(mean, math.nan, math.nan)
    half = float(stdtrit(v.size - 1, 0.5 + level / 2) * v.std(ddof=1) / np.sqrt(v.size))
    return Estimate(mean, mean - half, mean + half)


def summarise(per_rep: pd.DataFrame) -> pd.DataFrame:
    """KPI table: one row per KPI with mean, 95 % interval, unit and label."""
    rows = []
    for key in per_rep.columns:
        if key == "replication":
            continue
        mean, lo, hi = interval(per_rep[key].to_numpy())
        label, unit = kpi_label(key)
        rows.append(
            {"kpi": key, "label": label, "unit": unit, "mean": mean, "ci_low": lo, "ci_high": hi}
        )
    return pd.DataFrame(rows)


def on_duty_minutes(on_duty: np.ndarray, unit: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Minutes unit ``unit[i]`` has been on shift from time 0 to ``t[i]`` (weeks repeat)."""
    if len(t) == 0:
        return np.zeros(0)
    duty = np.asarray(on_duty)  # (units, 168) flags: sums and products of them are exact
    cum = np.concatenate([np.zeros((len(duty), 1)), np.cumsum(duty, axis=1) * 60.0], axis=1)
    weeks, within = np.divmod(np.asarray(t), 168 * 60.0)  # minutes: floats
    hour = np.minimum((within // 60).astype(int), 167)
    minutes: np.ndarray = (
        weeks * cum[unit, 168] + cum[unit, hour] + (within - hour * 60.0) * duty[unit, hour]
    )
    return minutes


def overtime_minutes(
    on_duty: np.ndarray, unit: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Minutes of each mission [start, end] that fall outside its unit's shift (0 for none)."""
    out = np.zeros(len(unit))
    busy = np.asarray(unit) >= 0
    if busy.any():
        u, a, b = np.asarray(unit)[busy], np.asarray(start)[busy], np.asarray(end)[busy]
        on = on_duty_minutes(on_duty, u, b) - on_duty_minutes(on_duty, u, a)
        out[busy] = np.maximum((b - a) - on, 0.0)
    return out


def _busy_until(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Busy minutes from 0 to each ``t`` of one unit whose missions [start, end] do not overlap."""
    order = np.argsort(start)
    a, b = start[order], end[order]
    done = np.concatenate([[0.0], np.cumsum(b - a)])
    k = np.searchsorted(a, t, side="right")  # missions begun by t
    last = np.maximum(k - 1, 0)
    partial = np.where(k > 0, np.minimum(t, b[last]) - a[last], 0.0)
    return done[last] + partial


def busy_by_hour(log: pd.DataFrame, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """(busy on shift, on-shift minutes) of the fleet, each summed by hour of week.

    Busy time counts only within the unit's own shift and after the warm-up, so busy / on shift
    cannot exceed 1; busy time after a shift ends is overtime (``overtime_minutes``).
    """
    busy, duty = np.zeros(168), np.zeros(168)
    first, last = int(period.warmup // 60), int(np.ceil(period.horizon / 60))
    edges = np.clip(np.arange(first, last + 1) * 60.0, period.warmup, period.horizon)
    slot_hour = np.arange(first, last) % HOURS_PER_WEEK
    length = np.diff(edges)
    # the three columns taken, not a copy of the whole log; a call no unit met (-1) is no unit's
    unit = log["unit"].to_numpy()
    a, b = log["t_dispatch"].to_numpy(float), log["t_unit_free"].to_numpy(float)
    for u in range(period.units):
        on = np.asarray(period.on_duty[u])[slot_hour]  # flags, as weights 0 and 1
        duty += np.bincount(slot_hour, weights=length * on, minlength=168)
        mine = unit == u
        if mine.any():
            # a running sum of mission lengths: clip the rounding of its differences to the slot
            per_slot = np.clip(np.diff(_busy_until(a[mine], b[mine], edges)), 0.0, length)
            busy += np.bincount(slot_hour, weights=per_slot * on, minlength=168)
    return busy, duty


def utilisation_by_hour(log: pd.DataFrame, period: Period) -> np.ndarray:
    """Share of on-shift unit time spent on missions, for each of the 168 hours of the week."""
    busy, duty = busy_by_hour(log, period)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(duty > 0, busy / duty, np.nan)


def on_shift_utilisation(log: pd.DataFrame, period: Period) -> float:
    """Share of all on-shift unit time spent on missions (at most 1)."""
    busy, duty = busy_by_hour(log, period)
    return float(busy.sum() / duty.sum()) if duty.sum() > 0 else math.nan


def by_group(log: pd.DataFrame, warmup: float, column: str) -> pd.DataFrame:
    """Median and 90th percentile response time by a column, with intervals over replications."""
    return group_intervals(group_rows(log, warmup, column), column)


def group_rows(log: pd.DataFrame, warmup: float, column: str) -> pd.DataFrame:
    """Per replication and value of a column: median, 90th percentile and count of the counted
    calls' response times. Rows of several logs concatenated in replication order are the rows
    of their concatenated log, so a long run can keep these instead of its log."""
    counted = log[log["t_arrival"] >= warmup]
    times = counted.groupby(["replication", column])["response_minutes"]
    figures = {"median": times.median(), "p90": times.quantile(0.9), "calls": times.size()}
    return pd.DataFrame(figures).reset_index()


def group_intervals(per: pd.DataFrame, column: str) -> pd.DataFrame:
    """``by_group``'s table from ``group_rows``' rows: means and intervals over replications."""
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
