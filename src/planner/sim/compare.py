"""Paired comparison of two scenarios run on the same calls (common random numbers)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from planner.scenario.loading import bind_region
from planner.scenario.model import Scenario
from planner.scenario.parameters import deep_merge, default_values
from planner.sim.kpis import interval, summarise
from planner.sim.run import Results
from planner.sim.summary import Figures, RunSummary


def paired_differences(a: Results, b: Results) -> pd.DataFrame:
    """KPI of B minus KPI of A, replication by replication, with a 95 % interval.

    Both must have run with the same seed and replications; then replication r of each met the
    same calls and the differences are paired, which gives far tighter intervals than two
    independent runs.
    """
    if list(a.per_replication["replication"]) != list(b.per_replication["replication"]):
        raise ValueError("scenarios must be run with the same replications to be paired")
    if a.scenario.run.seed != b.scenario.run.seed:
        raise ValueError("scenarios must be run with the same seed to be paired")
    return paired_table(a.per_replication, b.per_replication)


def paired_table(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Paired differences of two per-replication KPI tables run under one seed (from a run or
    from the results store): B − A on the replications both have, with each one's mean."""
    ia, ib = a.set_index("replication"), b.set_index("replication")
    common = ia.index.intersection(ib.index)
    if common.empty:
        raise ValueError("the two scenarios have no replication in common to pair")
    keys = [k for k in ia.columns if k in ib.columns]
    diff = ib.loc[common, keys] - ia.loc[common, keys]
    table = summarise(diff.reset_index())
    # the means over the same replications as the differences, so that b − a = difference
    sa = summarise(ia.loc[common].reset_index()).set_index("kpi")["mean"]
    sb = summarise(ib.loc[common].reset_index()).set_index("kpi")["mean"]
    table.insert(3, "a", table["kpi"].map(sa))
    table.insert(4, "b", table["kpi"].map(sb))
    return table.rename(columns={"mean": "difference"})


def police_hours_freed(a: Results, b: Results) -> tuple[float, float, float]:
    """Officer-hours a year that B frees compared with A (positive = freed), with interval."""
    d = a.per_replication["police_officer_hours"] - b.per_replication["police_officer_hours"]
    return interval(d.to_numpy())


def with_baseline(results: Results, baseline: Results) -> RunSummary:
    """A run's summary carrying its paired baseline: what the report and appraisal read."""
    today = Figures(baseline.kpis, baseline.per_replication)
    return dataclasses.replace(results.summary(), baseline=today)


def baseline_data(data: dict[str, Any]) -> dict[str, Any]:
    """Today's service for a scenario's data (its overrides or a whole scenario): police respond
    as now, and there is no psychiatric ambulance. The fleet's table is emptied rather than kept,
    so scenarios that differ only in their fleet share one baseline (a sweep simulates it once).
    The one definition of today's service: ``baseline_of`` is this rule on a scenario."""
    dispatch = data.get("dispatch")
    kept = dispatch if isinstance(dispatch, dict) else {}
    return {**data, "dispatch": {**kept, "policy": "baseline"}, "fleet": {"units": []}}


def baseline_of(scenario: Scenario) -> Scenario:
    """Today's service on the same calls, in the same region (``baseline_data``)."""
    data = baseline_data(scenario.model_dump(by_alias=True))
    today = Scenario.model_validate(deep_merge(default_values(), data))
    return bind_region(today, scenario.geodata) if scenario.region.kind == "geodata" else today


CALL_FIELDS = ("region.kind", "region.name", "region.population", "run.horizon_days")
"""Besides the whole [demand] section, what decides which calls a scenario meets (with its seed):
two scenarios that differ in any of these cannot be compared call by call."""


def calls_differ(a: Scenario, b: Scenario) -> list[tuple[str, Any, Any]]:
    """The fields, with A's and B's values, in which two scenarios meet different calls (another
    region or demand, or a run of another length); empty when the differences can be paired.
    A geodata region's population is its own, so ``region.population`` counts only for an
    abstract region."""
    da, db = a.model_dump(), b.model_dump()  # no field of these sections has an alias
    paths = [*CALL_FIELDS, *(f"demand.{k}" for k in da["demand"])]
    if a.region.kind == b.region.kind == "geodata":
        paths.remove("region.population")
    elif a.region.kind == b.region.kind == "abstract":
        paths.remove("region.name")
    out = []
    for path in paths:
        section, key = path.split(".")
        va, vb = da[section][key], db[section][key]
        if va != vb:
            out.append((path, va, vb))
    return out
