"""The analyst's entry point: ``simulate(scenario)`` runs replications and gathers results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.demand import CallStream, cell_weights, generate_calls
from planner.engine import Engine
from planner.events import REASONS, TRANSPORT_MODES
from planner.kpis import (
    Period,
    by_group,
    overtime_minutes,
    replication_kpis,
    summarise,
    utilisation_by_hour,
)
from planner.scenario import Run, Scenario, scenario_from_dict
from planner.world import World, build_world


@dataclass(frozen=True)
class Results:
    """What a simulation returns: KPI table with intervals, per-replication KPIs, the event log."""

    scenario: Scenario
    kpis: pd.DataFrame  # kpi, label, unit, mean, ci_low, ci_high
    per_replication: pd.DataFrame  # one row per replication, one column per KPI
    log: pd.DataFrame  # one row per call and replication
    utilisation: np.ndarray  # 168 hours of week, mean over replications
    by_zone: pd.DataFrame
    by_hour: pd.DataFrame

    def kpi(self, key: str) -> float:
        return float(self.kpis.set_index("kpi").loc[key, "mean"])

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``planner run`` writes)."""
        return {
            "scenario": self.scenario.scenario.name,
            "replications": len(self.per_replication),
            "seed": self.scenario.run.seed,
            "kpis": self.kpis.replace({np.nan: None}).to_dict(orient="records"),
            "per_replication": self.per_replication.replace({np.nan: None}).to_dict(orient="list"),
            "utilisation_by_hour_of_week": [None if np.isnan(u) else u for u in self.utilisation],
        }


def _log_frame(
    scenario: Scenario,
    world: World,
    calls: CallStream,
    cols: dict[str, list[Any]],
    replication: int,
    on_duty: np.ndarray,
) -> pd.DataFrame:
    """The event log as a table: the call's attributes, the engine's columns, and what follows
    from them alone (names for codes, response and queue times, officer-hours, overtime)."""
    sits = [scenario.situations[k] for k in calls.kinds]
    eligible_kind = np.array([s.health_first_eligible for s in sits])[calls.kind]
    frame = pd.DataFrame(
        {
            "replication": replication,
            "call": np.arange(len(calls)),
            "t_arrival": calls.t,
            "hour_of_week": (calls.t // 60).astype(int) % 168,
            "zone": world.cell_zone[calls.cell],
            "cell": calls.cell,
            "kind": np.array(calls.kinds)[calls.kind],
            "channel": np.array(calls.channels)[calls.channel],
            "eligible_kind": eligible_kind,
            "police_needed": calls.police_needed,
            "flagged": calls.flagged,
            **{k: np.asarray(v) for k, v in cols.items()},
        }
    )
    frame["reason"] = np.array([str(r) for r in REASONS])[frame["reason"].to_numpy(int)]
    frame["transport_mode"] = np.array([str(m) for m in TRANSPORT_MODES])[
        frame["transport_mode"].to_numpy(int)
    ]
    frame["health_first"] = frame["unit"] >= 0
    frame["response_minutes"] = frame["t_first_on_scene"] - frame["t_arrival"]
    frame["queue_minutes"] = np.where(
        frame["health_first"], frame["t_dispatch"] - frame["t_health_alerted"], np.nan
    )
    frame["officer_hours"] = frame["patrol_minutes"] / 60.0 * scenario.police.officers_per_patrol
    frame["overtime_minutes"] = overtime_minutes(
        on_duty,
        frame["unit"].to_numpy(),
        frame["t_dispatch"].to_numpy(float),
        frame["t_unit_free"].to_numpy(float),
    )
    return frame


def fleet_on_duty(scenario: Scenario) -> np.ndarray:
    """(units, 168) flags: is unit u on shift in hour h of the week?"""
    shifts = scenario.fleet.shifts
    rows = [shifts[u.shift].on_duty() for u in scenario.fleet.units]
    return np.array(rows, dtype=bool).reshape(len(rows), 168)


def period_of(scenario: Scenario) -> Period:
    run = scenario.run
    return Period(
        run.warmup_days * 1440.0,
        run.horizon_days * 1440.0,
        fleet_on_duty(scenario),
        scenario.costs.police_fte_hours,
        scenario.police.officers_per_patrol,
    )


def run_replication(
    scenario: Scenario, replication: int, world: World | None = None
) -> tuple[pd.DataFrame, dict[str, float], np.ndarray]:
    """One replication: (event log, KPIs, utilisation by hour of week)."""
    world = world or build_world(scenario)
    rates = cell_weights(scenario, world.cell_population, world.cell_zone)
    calls = generate_calls(scenario, rates, replication)
    engine = Engine(scenario, world, calls)
    log = engine.run()
    period = period_of(scenario)
    frame = _log_frame(scenario, world, calls, log.cols, replication, period.on_duty)
    return frame, replication_kpis(frame, period), utilisation_by_hour(frame, period)


def simulate(
    scenario: Scenario | dict[str, Any],
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run a scenario's replications (defaults from its [run] section) and gather the results.

    Replication r uses the streams of (seed, r): two scenarios with the same demand and seed
    face the same calls, so their differences are paired (common random numbers).
    """
    if isinstance(scenario, dict):
        scenario = scenario_from_dict(scenario)
    run = scenario.run
    if replications is not None or seed is not None:
        run = replace_run(scenario, replications, seed)
        scenario = scenario.model_copy(update={"run": run})
    world = build_world(scenario)
    logs, kpis, utils = [], [], []
    for r in range(run.replications):
        frame, k, u = run_replication(scenario, r, world)
        logs.append(frame)
        kpis.append({"replication": r, **k})
        utils.append(u)
        if progress:
            progress(r + 1, run.replications)
    return gather(scenario, logs, kpis, utils)


def replace_run(scenario: Scenario, replications: int | None, seed: int | None) -> Run:
    data = scenario.run.model_dump()
    if replications is not None:
        data["replications"] = replications
    if seed is not None:
        data["seed"] = seed
    return Run.model_validate(data)


def gather(
    scenario: Scenario,
    logs: list[pd.DataFrame],
    kpis: list[dict[str, float]],
    utils: list[np.ndarray],
) -> Results:
    log = pd.concat(logs, ignore_index=True)
    per_rep = pd.DataFrame(kpis)
    warm = scenario.run.warmup_days * 1440.0
    util = np.full(168, np.nan)
    if utils:
        stacked = np.vstack(utils)
        seen = ~np.isnan(stacked).all(axis=0)  # hours with no unit on duty stay NaN
        util[seen] = np.nanmean(stacked[:, seen], axis=0)
    return Results(
        scenario=scenario,
        kpis=summarise(per_rep),
        per_replication=per_rep,
        log=log,
        utilisation=util,
        by_zone=by_group(log, warm, "zone"),
        by_hour=by_group(log.assign(hour=log["hour_of_week"] % 24), warm, "hour"),
    )


__all__ = ["Results", "run_replication", "simulate"]
