"""Size, place and roster a fleet, and check every proposal in the simulation.

The analytic models (Erlang C for staffing, MEXCLP for location, a shift-covering programme for
the roster) are fast but approximate: they ignore shift changes, police fallbacks and the real
road times of each mission. So each proposal is simulated; where the simulation shows eligible
calls missing a unit, the hours of week and the cells where they missed get more weight, and the
models are solved again, until the target is met, the budget is spent or the rounds run out.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner.calendar import HOURS_PER_YEAR, WEEKS_PER_YEAR, years_measured
from planner.economics.appraisal import service_cost, unit_hour_cost
from planner.optimise.coverage import CoverageModel, Placement
from planner.optimise.staffing import Roster, RosterModel, assign_to_vehicles, units_needed
from planner.scenario.loading import scenario_from_dict
from planner.scenario.model import WEEKDAYS, Scenario
from planner.scenario.parameters import deep_merge
from planner.sim.compare import baseline_of, police_hours_freed
from planner.sim.demand import cell_weights, hour_of_week_weights
from planner.sim.kpis import KPIS
from planner.sim.run import Results, simulate
from planner.sim.world import World, build_world

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """A goal on one KPI, e.g. ``share_health_first>=0.9``."""

    kpi: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Target:
        m = re.fullmatch(r"\s*([a-z_0-9]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", text)
        keys = [k.key for k in KPIS]
        if not m:
            raise ValueError(
                f"target {text!r}: write KPI>=VALUE or KPI<=VALUE, e.g. share_health_first>=0.9"
            )
        kpi, op, raw = m.groups()
        if kpi not in keys:
            raise ValueError(
                f"target {text!r}: unknown KPI {kpi!r}; choose one of {', '.join(keys)}"
            )
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"target {text!r}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"target {text!r}: the value must be finite")
        return cls(kpi, op, value)

    def met(self, results: Results) -> bool:
        return bool(_OPS[self.op](results.kpi(self.kpi), self.value))

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.value:g}"


@dataclass(frozen=True)
class Instance:
    """The region as the optimiser sees it: every candidate base, demand by cell and by hour."""

    scenario: Scenario
    world: World
    bases: tuple[str, ...]
    response: np.ndarray  # [cells, bases] minutes from alert to arrival, demand-weighted profiles
    calls_per_cell: np.ndarray  # eligible calls a year
    calls_per_hour: np.ndarray  # eligible calls an hour, for each of the 168 hours of week

    @property
    def calls_per_year(self) -> float:
        return float(self.calls_per_cell.sum())

    def coverage(self, weights: np.ndarray | None = None) -> CoverageModel:
        w = self.calls_per_cell if weights is None else weights
        threshold = self.scenario.optimise.threshold_minutes
        return CoverageModel.from_cost_matrix(self.response, w, threshold, self.bases)

    def mission_minutes(self, counts: dict[str, int] | None = None) -> float:
        """Mean minutes a unit is busy per mission, from the nearest (chosen) base.

        Mobilisation, drive out, time on scene, then either transport and handover and the drive
        back, or the drive back from the scene: the mean over the eligible kinds and the cells.
        """
        s, w = self.scenario, self.world
        cols = (
            np.arange(len(self.bases))
            if not counts
            else np.array([self.bases.index(b) for b in counts])
        )
        nearest = cols[np.argmin(self.response[:, cols], axis=1)]
        cells = np.arange(len(self.calls_per_cell))
        out = self.response[cells, nearest]
        back = w.cell_to_base[0][cells, nearest]
        via_facility = (
            w.cell_to_facility[0][cells]
            + s.facilities.handover_ambulance.mean
            + w.facility_to_base[0][w.cell_facility, nearest]
        )
        sits = [x for x in s.situations.values() if x.health_first_eligible]
        share = np.array([x.share for x in sits])
        share = share / share.sum()
        on_scene = float(sum(p * x.on_scene.mean for p, x in zip(share, sits, strict=True)))
        p_tr = float(sum(p * x.p_transport for p, x in zip(share, sits, strict=True)))
        per_cell = out + on_scene + p_tr * via_facility + (1 - p_tr) * back
        return float(np.average(per_cell, weights=self.calls_per_cell))


def instance(scenario: Scenario) -> Instance:
    """Candidate bases, response times and eligible demand of a scenario's region."""
    if scenario.region.kind != "geodata":
        raise ValueError("region: the optimiser needs a geodata region (oslo_akershus, bergen)")
    bases = tuple(scenario.geodata.base_ids)
    world = build_world(scenario, bases)
    hours = hour_of_week_weights(scenario.demand.hour_of_week_profile)
    hours = hours / hours.mean()
    peak_share = float(np.mean(hours * world.peak))
    drive = (1 - peak_share) * world.base_to_cell[0] + peak_share * world.base_to_cell[1]
    response = drive.T + scenario.fleet.mobilisation.mean
    sits = scenario.situations.values()
    eligible = sum(x.share for x in sits if x.health_first_eligible) / sum(x.share for x in sits)
    per_cell = cell_weights(scenario, world.cell_population, world.cell_zone) * eligible
    return Instance(
        scenario=scenario,
        world=world,
        bases=bases,
        response=response,
        calls_per_cell=per_cell,
        calls_per_hour=per_cell.sum() / HOURS_PER_YEAR * hours,
    )


@dataclass(frozen=True)
class Proposal:
    scenario: Scenario
    fleet: dict[str, Any]  # the [fleet] table that makes it a runnable scenario
    roster: Roster
    placement: Placement
    vehicles: list[str]  # base of each vehicle
    busy: float  # busy fraction used in the location model
    cost_per_year: (
        float  # NOK a year: staff, overhead, vehicles, bases (planner.economics.appraisal)
    )

    @property
    def bases(self) -> dict[str, int]:
        return self.placement.counts


def scenario_overrides(
    raw: dict[str, Any], proposal: Proposal, name: str, description: str
) -> dict[str, Any]:
    """A scenario file's overrides that run the proposal: the start file with its fleet.

    What ``planner optimize`` writes to optimised.toml and the dashboard opens from the frontier.
    """
    fleet = raw.get("fleet", {})
    return {
        **raw,
        "scenario": {**raw.get("scenario", {}), "name": name, "description": description},
        "dispatch": {**raw.get("dispatch", {}), "policy": "health-first"},
        "fleet": {
            **fleet,
            **proposal.fleet,
            "shifts": {**fleet.get("shifts", {}), **proposal.fleet["shifts"]},
        },
    }


def propose(
    inst: Instance,
    raw: dict[str, Any],
    required: np.ndarray,
    weights: np.ndarray | None = None,
) -> Proposal:
    """The cheapest roster for ``required``, its vehicles placed by MEXCLP, as a scenario."""
    s = inst.scenario
    o = s.optimise
    roster = RosterModel.from_requirement(
        required,
        lengths=tuple(o.shift_lengths),
        start_hours=tuple(o.shift_starts),
        unit_hour_cost=unit_hour_cost(s.costs, s.fleet.crew),
        night_premium=o.night_premium,
        max_night_shifts_per_day=o.max_night_shifts_per_day,
    ).solve()
    plans = assign_to_vehicles(roster)
    model = inst.coverage(weights)
    offered = inst.calls_per_year * inst.mission_minutes() / 60.0
    busy = min(0.95, offered / max(roster.unit_hours_per_week * WEEKS_PER_YEAR, 1.0))
    placement = model.solve(len(plans), busy, max_per_base=o.max_units_per_base or None)
    vehicles = model.order(placement, busy)
    shifts: dict[str, Any] = {}
    units: list[dict[str, Any]] = []
    for v, (base, plan) in enumerate(zip(vehicles, plans, strict=True)):
        groups: dict[tuple[int, int], list[str]] = {}
        for p in plan:
            groups.setdefault((p.start_hour, p.hours), []).append(WEEKDAYS[p.day])
        for (start, hours), days in sorted(groups.items()):
            name = f"v{v + 1}_{start:02d}_{hours}h"
            shifts[name] = {"start_hour": start, "hours": hours, "days": days}
            units.append(
                {
                    "name": f"PA {v + 1} {start:02d}-{(start + hours) % 24:02d}",
                    "base": base,
                    "shift": name,
                    "vehicle": f"v{v + 1}",
                }
            )
    fleet = {"shifts": shifts, "units": units}
    data = deep_merge(raw, {"dispatch": {"policy": "health-first"}})
    data.setdefault("fleet", {})
    data["fleet"] = {
        **data["fleet"],
        "units": units,
        "shifts": {**data["fleet"].get("shifts", {}), **shifts},
    }
    proposed = scenario_from_dict(data)
    return Proposal(
        scenario=proposed,
        fleet=fleet,
        roster=roster,
        placement=placement,
        vehicles=vehicles,
        busy=busy,
        cost_per_year=service_cost(proposed),
    )


@dataclass
class Round:
    number: int
    proposal: Proposal
    results: Results
    met: bool

    def row(self, target: Target | None) -> dict[str, Any]:
        r = self.results
        return {
            "round": self.number,
            "vehicles": len(self.proposal.vehicles),
            "unit_hours_per_week": self.proposal.roster.unit_hours_per_week,
            "cost_per_year": self.proposal.cost_per_year,
            "share_health_first": r.kpi("share_health_first"),
            "response_p90": r.kpi("response_p90"),
            **({"target": str(target), "met": self.met} if target else {}),
        }


@dataclass(frozen=True)
class Stop:
    """Why the loop ended. ``why`` names the case (the dashboard words it in bokmål from
    ``stop_<why>``); ``str()`` gives it in English, as the command line and the files say it.

    The cases: ``budget`` (round ``round`` would cost ``cost`` a year, above ``budget``),
    ``met`` (in round ``round``), ``met_then_missed`` (round ``round`` tried a smaller service),
    ``no_shortfall`` (not met, yet no eligible call missed a unit), ``max_units`` (not met with
    ``limit`` units), ``rounds_met`` / ``rounds`` (``limit`` rounds done, met or not).
    """

    why: Literal[
        "budget", "met", "met_then_missed", "no_shortfall", "max_units", "rounds_met", "rounds"
    ]
    target: Target
    round: int = 0
    cost: float = 0.0
    budget: float = 0.0
    limit: int = 0

    def __str__(self) -> str:
        t = self.target
        return {
            "budget": f"budget spent: round {self.round} would cost NOK {self.cost:,.0f} "
            f"a year, above the budget of NOK {self.budget:,.0f}",
            "met": f"target {t} met in round {self.round}",
            "met_then_missed": f"target {t} met; round {self.round} tried a smaller service "
            "and missed it",
            "no_shortfall": f"target {t} not met, and no eligible call missed a unit",
            "max_units": f"target {t} not met with {self.limit} units (optimise.max_units)",
            "rounds_met": f"target {t} met; stopped after {self.limit} rounds",
            "rounds": f"target {t} not met after {self.limit} rounds (optimise.max_rounds)",
        }[self.why]


@dataclass(frozen=True)
class RoundDone:
    """Progress of ``optimise``: a round simulated, of at most ``at_most``."""

    round: Round
    target: Target
    at_most: int

    def __str__(self) -> str:
        r, p = self.round, self.round.proposal
        return (
            f"round {r.number}: {len(p.vehicles)} vehicles, "
            f"{p.roster.unit_hours_per_week} unit-hours a week, "
            f"NOK {p.cost_per_year / 1e6:,.1f} M a year; "
            f"{self.target.kpi} = {r.results.kpi(self.target.kpi):.3g} "
            f"({'met' if r.met else 'not met'})"
        )


@dataclass(frozen=True)
class PointDone:
    """Progress of ``frontier``: the point of ``units`` units simulated, of ``of``; ``row`` is
    its row of the frontier table, so a caller stopped midway keeps the points so far."""

    units: int
    of: int
    row: dict[str, Any]
    proposal: Proposal

    def __str__(self) -> str:
        r = self.row
        return (
            f"{self.units} unit(s): {r['unit_hours_per_week']} unit-hours a week, "
            f"health-first {r['share_health_first']:.0%}, "
            f"police hours freed {r['police_hours_freed']:,.0f}"
        )


Progress = Callable[[RoundDone | PointDone], None]
"""Told after each simulated round or frontier point; ``str(event)`` is a line for a log."""


@dataclass
class Outcome:
    rounds: list[Round] = field(default_factory=list)
    stop: Stop | None = None  # why the loop ended

    @property
    def stopped(self) -> str:
        """Why the loop ended, in English words."""
        return str(self.stop) if self.stop else ""

    @property
    def best(self) -> Round:
        """The cheapest round that met the target, else the last one."""
        met = [r for r in self.rounds if r.met]
        return min(met, key=lambda r: r.proposal.cost_per_year) if met else self.rounds[-1]


def _shortfall(results: Results, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Eligible calls a year that no unit met, by hour of week and by cell."""
    log = results.log
    missed = log[log["eligible_kind"] & ~log["health_first"]]
    years = len(results.per_replication) * max(
        years_measured(results.scenario.run.horizon_days, results.scenario.run.warmup_days), 1e-9
    )
    by_hour = np.bincount(missed["hour_of_week"], minlength=168) / years
    by_cell = np.bincount(missed["cell"], minlength=cells)[:cells] / years
    return by_hour, by_cell


def optimise(
    raw: dict[str, Any],
    target: Target,
    budget: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Simulation-optimisation: propose, simulate, add capacity where it fell short, repeat."""
    say = progress or (lambda _m: None)
    scenario = scenario_from_dict(raw)
    inst = instance(scenario)
    o = scenario.optimise
    minutes = inst.mission_minutes()
    ladder = sorted({*_WAIT_LADDER, o.p_wait_target}, reverse=True)  # loose to strict
    level = ladder.index(o.p_wait_target)
    required = np.minimum(units_needed(inst.calls_per_hour, minutes, o.p_wait_target), o.max_units)
    weights = inst.calls_per_cell.copy()
    outcome = Outcome()
    descending = True  # while the target holds, try a looser wait level: the smallest service
    for number in range(1, o.max_rounds + 1):
        proposal = propose(inst, raw, required, weights)
        if budget is not None and proposal.cost_per_year > budget:
            outcome.stop = Stop(
                "budget", target, number, cost=proposal.cost_per_year, budget=budget
            )
            if not outcome.rounds:  # nothing affordable was simulated: still show the proposal
                outcome.rounds.append(
                    Round(number, proposal, _run(proposal, replications, seed), False)
                )
            return outcome
        results = _run(proposal, replications, seed)
        met = target.met(results)
        outcome.rounds.append(Round(number, proposal, results, met))
        say(RoundDone(outcome.rounds[-1], target, o.max_rounds))
        if met and descending and level > 0:
            level -= 1
            required = np.minimum(
                units_needed(inst.calls_per_hour, minutes, ladder[level]), o.max_units
            )
            continue
        if met:
            outcome.stop = Stop("met", target, number)
            return outcome
        if any(r.met for r in outcome.rounds):
            outcome.stop = Stop("met_then_missed", target, number)
            return outcome
        descending = False
        by_hour, by_cell = _shortfall(results, len(weights))
        short = by_hour > 0
        if not short.any():
            outcome.stop = Stop("no_shortfall", target, number)
            return outcome
        cut = np.quantile(by_hour[short], 0.5)
        grow = short & (by_hour >= cut) & (required < o.max_units)
        if not grow.any():
            outcome.stop = Stop("max_units", target, number, limit=o.max_units)
            return outcome
        required = required + grow.astype(int)
        weights = inst.calls_per_cell + by_cell
    met_any = any(r.met for r in outcome.rounds)
    outcome.stop = Stop(
        "rounds_met" if met_any else "rounds", target, o.max_rounds, limit=o.max_rounds
    )
    return outcome


def _run(proposal: Proposal, replications: int | None, seed: int | None) -> Results:
    return simulate(proposal.scenario, replications=replications, seed=seed)


_WAIT_LADDER = (0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001)


def frontier(
    raw: dict[str, Any],
    max_units: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[Proposal]]:
    """For 1..N units at the busiest hour: optimal bases and shifts, each simulated.

    N units at peak can keep the chance of waiting down to some level; the roster for N is the
    Erlang-C requirement at the strictest level N units can meet, capped at N.
    """
    say = progress or (lambda _m: None)
    scenario = scenario_from_dict(raw)
    inst = instance(scenario)
    top = max_units or scenario.optimise.max_units
    minutes = inst.mission_minutes()
    baseline = simulate(baseline_of(scenario), replications=replications, seed=seed)
    rows, proposals = [], []
    for n in range(1, top + 1):
        required = np.minimum(units_needed(inst.calls_per_hour, minutes, _WAIT_LADDER[0]), n)
        for p in _WAIT_LADDER:
            need = units_needed(inst.calls_per_hour, minutes, p)
            if need.max() > n:
                break
            required = need
        proposal = propose(inst, raw, required)
        res = simulate(proposal.scenario, replications=replications, seed=seed)
        freed, freed_lo, freed_hi = police_hours_freed(baseline, res)
        k = res.kpis.set_index("kpi")
        rows.append(
            {
                "units": n,
                "vehicles": len(proposal.vehicles),
                "unit_hours_per_week": proposal.roster.unit_hours_per_week,
                "bases": " ".join(f"{b}×{c}" if c > 1 else b for b, c in proposal.bases.items()),
                "cost_per_year": round(proposal.cost_per_year),
                "covered_share": proposal.placement.covered_share,
                "share_health_first": k.loc["share_health_first", "mean"],
                "share_health_first_low": k.loc["share_health_first", "ci_low"],
                "share_health_first_high": k.loc["share_health_first", "ci_high"],
                "response_p90": k.loc["response_p90", "mean"],
                "police_hours_freed": freed,
                "police_hours_freed_low": freed_lo,
                "police_hours_freed_high": freed_hi,
                "police_fte_freed": freed / scenario.costs.police_fte_hours,
            }
        )
        proposals.append(proposal)
        say(PointDone(n, top, rows[-1], proposal))
    return pd.DataFrame(rows), proposals
