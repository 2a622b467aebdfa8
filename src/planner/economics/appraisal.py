"""What the service costs and what it buys, appraised as Norwegian public practice asks.

Everything is computed from one flat table of named inputs (``inputs``) by one vectorised
function (``evaluate``): the point estimate, the tornado and the Monte Carlo analysis all pass
through the same arithmetic, so they cannot drift apart. Inputs named ``costs.*`` and
``appraisal.*`` are the scenario's parameters; ``service.*`` are the design (unit-hours, vehicles,
bases); ``sim.*`` are simulated yearly quantities against the baseline on the same calls.

Appraisal follows circular R-109 and the DFØ guide: yearly flows at the end of years
1..horizon, a real discount rate (stepped down after 40 and 75 years), and a tax-financing cost
on net public expenditure. Benefits that have no agreed price (fewer patients driven in police
cars, fewer uniformed encounters) are counted, never priced.
"""

from __future__ import annotations

import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from planner.calendar import HOURS_PER_YEAR, WEEKS_PER_YEAR
from planner.scenario.model import Costs, Scenario
from planner.scenario.parameters import lookup
from planner.sim.kpis import Estimate, interval

WORKDAYS_PER_WEEK = 5.0  # a public holiday takes a fifth of a full-time week

Values = Mapping[str, Any]  # name -> float or numpy array (broadcast together)


# -- staffing arithmetic ----------------------------------------------------------------------


def annual_hours_per_fte(c: Costs | Values) -> Any:
    """Contracted hours a full-time post works in a year, after leave and public holidays."""
    g = _getter(c)
    return g("weekly_hours") * (
        WEEKS_PER_YEAR - g("leave_weeks") - g("public_holidays") / WORKDAYS_PER_WEEK
    )


def fte_per_seat(c: Costs | Values) -> Any:
    """Full-time posts needed to keep one seat filled around the clock, all year.

    Absence must be covered too, so only (1 - absence) of the contracted hours staff the seat.
    """
    g = _getter(c)
    return HOURS_PER_YEAR / (annual_hours_per_fte(c) * (1.0 - g("absence_rate")))


def person_year_cost(monthly_wage: Any, c: Costs | Values) -> Any:
    """What one full-time post costs the employer: pay, shift supplements and social costs."""
    g = _getter(c)
    return monthly_wage * 12.0 * (1.0 + g("shift_supplement")) * (1.0 + g("social_cost_rate"))


def crew_mix(crew: Any, c: Costs | Values) -> tuple[Any, Any]:
    """(nurses, paramedics) in a unit of ``crew`` persons: paramedics first, the rest nurses."""
    paramedics = np.minimum(_getter(c)("crew_paramedics"), crew)
    return crew - paramedics, paramedics


def crew_hour_pay(c: Costs | Values, crew: Any) -> Any:
    """NOK per hour one unit is on duty in pay alone: its crew's posts and absence cover."""
    g = _getter(c)
    nurses, paramedics = crew_mix(crew, c)
    per_year = nurses * person_year_cost(g("nurse_monthly_wage"), c) + (
        paramedics * person_year_cost(g("paramedic_monthly_wage"), c)
    )
    return per_year / (annual_hours_per_fte(c) * (1.0 - g("absence_rate")))


def overtime_hour_pay(c: Costs | Values, crew: Any) -> Any:
    """NOK per hour a unit's crew works past its shift: ordinary hourly pay (monthly pay over
    the contracted hours) with the overtime supplement and social costs; no absence cover."""
    g = _getter(c)
    nurses, paramedics = crew_mix(crew, c)
    monthly = nurses * g("nurse_monthly_wage") + paramedics * g("paramedic_monthly_wage")
    hourly = monthly * 12.0 / (g("weekly_hours") * WEEKS_PER_YEAR)
    return hourly * (1.0 + g("overtime_supplement")) * (1.0 + g("social_cost_rate"))


def unit_hour_cost(c: Costs | Values, crew: Any) -> Any:
    """NOK per hour one unit is on duty: pay with absence cover, plus overhead."""
    return crew_hour_pay(c, crew) * (1.0 + _getter(c)("overhead_rate"))


def _getter(c: Costs | Values) -> Any:
    if isinstance(c, Costs):
        return lambda k: getattr(c, k)
    return lambda k: c[k] if k in c else c[f"costs.{k}"]


# -- the design's quantities ------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """What a scenario's fleet amounts to over a year."""

    unit_hours: float  # unit-hours on duty a year
    crew_hours: float  # person-hours on duty a year
    vehicles: int
    bases: int
    crew: float  # persons per unit, weighted by hours on duty


def service(scenario: Scenario) -> Service:
    fleet = scenario.fleet
    unit_hours = crew_hours = 0.0
    for u in fleet.units:
        shift = fleet.shifts[u.shift]
        hours = shift.hours * len(shift.days) * WEEKS_PER_YEAR
        unit_hours += hours
        crew_hours += hours * (u.crew or fleet.crew)
    return Service(
        unit_hours=unit_hours,
        crew_hours=crew_hours,
        vehicles=len({u.vehicle or f"unit:{u.name}" for u in fleet.units}),
        bases=len({u.base for u in fleet.units}),
        crew=crew_hours / unit_hours if unit_hours else float(fleet.crew),
    )


def service_cost(scenario: Scenario) -> float:
    """NOK a year the scenario's service costs (staff, overhead, vehicles, bases)."""
    return float(evaluate(inputs(scenario))["cost_per_year"])


# -- simulated effects against the baseline ---------------------------------------------------

#: yearly quantity name -> (KPI in the baseline minus KPI in the scenario) or scenario KPI.
_FREED = {
    "officer_hours_freed": "police_officer_hours",
    "patrol_hours_freed": "police_patrol_hours",
    "police_car_transports_avoided": "police_car_transports_per_year",
    "police_encounters_avoided": "police_encounters_per_year",
    "police_car_officer_hours_freed": "police_car_officer_hours",
}
_OWN = {
    "health_first_responses": "unit_missions_per_year",
    "calls": "calls_per_year",
    "overtime_unit_hours": "overtime_unit_hours",
}


def effects(scenario_reps: pd.DataFrame, baseline_reps: pd.DataFrame) -> pd.DataFrame:
    """Per replication: what the scenario frees or avoids against the baseline on the same calls."""
    if list(scenario_reps["replication"]) != list(baseline_reps["replication"]):
        raise ValueError("scenario and baseline must share replications to be paired")
    out = pd.DataFrame({"replication": scenario_reps["replication"].to_numpy()})
    for name, kpi in _FREED.items():
        out[name] = baseline_reps[kpi].to_numpy() - scenario_reps[kpi].to_numpy()
    for name, kpi in _OWN.items():
        out[name] = scenario_reps[kpi].to_numpy()
    # never priced: what the patrols freed do for urgent police work, by police district
    for col in scenario_reps.columns:
        base, _, district = col.partition(".")
        if district and base in _P1_GAINS and col in baseline_reps:
            sign = _P1_GAINS[base][1]
            gained = scenario_reps[col].to_numpy() - baseline_reps[col].to_numpy()
            out[f"{_P1_GAINS[base][0]}.{district}"] = sign * gained
    return out


_P1_GAINS = {
    "p1_response_p90": ("p1_p90_minutes_gained", -1.0),
    "p1_within_target": ("p1_within_target_gained", 1.0),
}
"""A patrols run's P1 KPIs and what the scenario gains on each against the baseline (minutes
off the 90th percentile of the response; share points within the target), by district."""


def effects_table(per_rep: pd.DataFrame, police_fte_hours: float) -> pd.DataFrame:
    """Mean and 95 % interval of each simulated effect (police FTE added)."""
    rows = []
    frame = per_rep.assign(police_fte_freed=per_rep["officer_hours_freed"] / police_fte_hours)
    for col in frame.columns.drop("replication"):
        m, lo, hi = interval(frame[col].to_numpy())
        rows.append({"effect": col, "mean": m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


# -- inputs and the one evaluation ------------------------------------------------------------

_COST_KEYS = (
    "nurse_monthly_wage",
    "paramedic_monthly_wage",
    "crew_paramedics",
    "shift_supplement",
    "social_cost_rate",
    "weekly_hours",
    "leave_weeks",
    "public_holidays",
    "absence_rate",
    "vehicle_per_year",
    "base_per_year",
    "overhead_rate",
    "overtime_supplement",
    "police_officer_hour",
    "police_fte_hours",
)
_APPRAISAL_KEYS = (
    "discount_rate",
    "tax_financing_cost",
    "horizon_years",
    "benefit_growth_per_year",
)


def inputs(scenario: Scenario, per_rep_effects: pd.DataFrame | None = None) -> dict[str, float]:
    """The flat table of named inputs for ``evaluate``: parameters, design and effects (means)."""
    x: dict[str, float] = {f"costs.{k}": float(getattr(scenario.costs, k)) for k in _COST_KEYS}
    a = scenario.appraisal
    x |= {f"appraisal.{k}": float(getattr(a, k)) for k in _APPRAISAL_KEYS}
    s = service(scenario)
    x |= {
        "service.unit_hours": s.unit_hours,
        "service.crew": s.crew,
        "service.vehicles": float(s.vehicles),
        "service.bases": float(s.bases),
        "sim.police_hours_factor": 1.0,
        # the share simulated, and the share the sensitivity analysis may set instead
        "sim.police_car_share_simulated": scenario.dispatch.police_car_share_today,
        "dispatch.police_car_share_today": scenario.dispatch.police_car_share_today,
    }
    if per_rep_effects is not None:
        for col in per_rep_effects.columns.drop("replication"):
            x[f"sim.{col}"] = float(per_rep_effects[col].mean())
    return x


def annuity_factor(rate: Any, years: Any) -> Any:
    """Present value of 1 NOK a year at the end of years 1..years."""
    return _growing_annuity(rate, years, 0.0)


def _growing_annuity(rate: Any, years: Any, growth: Any) -> Any:
    rate, years, growth = (np.asarray(v, dtype=float) for v in (rate, years, growth))
    t = np.arange(1, int(np.max(years)) + 1, dtype=float)
    shape = np.broadcast(rate, years, growth).shape
    r, n, g = (np.broadcast_to(v, shape)[..., None] for v in (rate, years, growth))
    flows = np.where(t <= n, (1.0 + g) ** (t - 1.0) * discount_factor(r, t), 0.0)
    return flows.sum(axis=-1)


def discount_factor(rate: Any, t: Any) -> Any:
    """Present value of 1 NOK at the end of year t: R-109/2021 discounts years 1-40 at the rate,
    years 41-75 at one percentage point less and later years at two less (4, 3 and 2 %)."""
    r, t = np.asarray(rate, dtype=float), np.asarray(t, dtype=float)
    first, middle = np.minimum(t, 40.0), np.clip(t - 40.0, 0.0, 35.0)
    late = np.maximum(t - 75.0, 0.0)
    return (
        (1.0 + r) ** -first
        * (1.0 + np.maximum(r - 0.01, 0.0)) ** -middle
        * (1.0 + np.maximum(r - 0.02, 0.0)) ** -late
    )


def evaluate(x: Values) -> dict[str, Any]:
    """Costs, priced benefits and the R-109 appraisal from the inputs (arrays broadcast)."""
    c = {k: x[f"costs.{k}"] for k in _COST_KEYS}
    unit_hours, crew = x["service.unit_hours"], x["service.crew"]
    productive = annual_hours_per_fte(c) * (1.0 - c["absence_rate"])
    fte = unit_hours * crew / productive
    staff = unit_hours * crew_hour_pay(c, crew)
    overhead = staff * c["overhead_rate"]
    vehicles = x["service.vehicles"] * c["vehicle_per_year"]
    bases = x["service.bases"] * c["base_per_year"]
    overtime = x.get("sim.overtime_unit_hours", 0.0) * overtime_hour_pay(c, crew)
    cost = staff + overhead + vehicles + bases + overtime

    # police-car transports of calls police handle alone scale with the share that go in a
    # police car (each transport's time does not depend on it), so a share other than the one
    # simulated moves the hours freed on them in proportion
    simulated = np.asarray(x.get("sim.police_car_share_simulated", 1.0), dtype=float)
    share = np.asarray(x.get("dispatch.police_car_share_today", simulated), dtype=float)
    car_scale = np.where(simulated > 0, share / np.where(simulated > 0, simulated, 1.0), 1.0)
    car_hours = x.get("sim.police_car_officer_hours_freed", 0.0)
    freed = x.get("sim.officer_hours_freed", 0.0) + (car_scale - 1.0) * car_hours
    hours = freed * x["sim.police_hours_factor"]
    police_value = hours * c["police_officer_hour"]
    benefit = police_value

    r, n = x["appraisal.discount_rate"], x["appraisal.horizon_years"]
    annuity = annuity_factor(r, n)
    grown = _growing_annuity(r, n, x["appraisal.benefit_growth_per_year"])
    pv_cost = cost * annuity
    tax = x["appraisal.tax_financing_cost"] * pv_cost
    pv_benefit = benefit * grown
    npv = pv_benefit - pv_cost - tax
    responses = x.get("sim.health_first_responses", np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        break_even_price = (pv_cost + tax) / (hours * grown)
        break_even_hours = (pv_cost + tax) / (c["police_officer_hour"] * grown)
        per_response = cost / responses
    return {
        "fte": fte,
        "fte_per_seat": HOURS_PER_YEAR / productive,
        "staff_cost": staff,
        "overhead_cost": overhead,
        "vehicle_cost": vehicles,
        "base_cost": bases,
        "overtime_cost": overtime,
        "cost_per_year": cost,
        "police_hours_freed": hours,
        "police_fte_freed": hours / c["police_fte_hours"],
        "police_value_per_year": police_value,
        "benefit_per_year": benefit,
        "annuity_factor": annuity,
        "pv_cost": pv_cost,
        "tax_financing_cost": tax,
        "pv_benefit": pv_benefit,
        "npv": npv,
        "annual_net_cost": -npv / annuity,
        "break_even_police_hour": break_even_price,
        "break_even_police_hours": break_even_hours,
        "cost_per_health_first_response": per_response,
    }


# -- uncertainty ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    name: str
    label: str
    label_nb: str
    low: float
    high: float
    unit: str
    source: str


@cache
def ranges() -> tuple[Range, ...]:
    """The uncertain inputs and their stated ranges (``data/uncertainty.toml``)."""
    text = resources.files("planner.data").joinpath("uncertainty.toml").read_text("utf-8")
    out = []
    for name, r in tomllib.loads(text)["ranges"].items():
        p = lookup(name)
        out.append(
            Range(
                name=name,
                label=r["label"],
                label_nb=r.get("label_nb", r["label"]),
                low=float(r["low"]),
                high=float(r["high"]),
                unit=r.get("unit") or (p.unit if p else ""),
                source=r["source"],
            )
        )
    return tuple(out)


def tornado(x: Values, over: tuple[Range, ...] | None = None) -> pd.DataFrame:
    """NPV with each uncertain input at its low and its high end, the others at their values.

    Sorted widest first: the inputs whose uncertainty matters most for the decision.
    """
    base = float(evaluate(x)["npv"])
    rows = []
    for r in over or ranges():
        lo = float(evaluate({**x, r.name: r.low})["npv"])
        hi = float(evaluate({**x, r.name: r.high})["npv"])
        rows.append(
            {
                "input": r.name,
                "label": r.label,
                "low": r.low,
                "high": r.high,
                "value": float(x[r.name]),
                "npv_low": lo,
                "npv_high": hi,
                "swing": abs(hi - lo),
                "npv_base": base,
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)


def _stream(seed: int, name: str) -> np.random.Generator:
    """One stream per input: adding or dropping an input leaves the others' draws unchanged."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def draw(r: Range, mode: float, n: int, seed: int) -> np.ndarray:
    """Triangular over [low, high] peaking at the input's value (uniform unless strictly inside)."""
    rng = _stream(seed, r.name)
    if r.low < mode < r.high:
        return rng.triangular(r.low, mode, r.high, size=n)
    return rng.uniform(r.low, r.high, size=n)


def monte_carlo(
    x: Values,
    per_rep_effects: pd.DataFrame | None = None,
    draws: int = 10_000,
    seed: int = 20261122,
    over: tuple[Range, ...] | None = None,
) -> pd.DataFrame:
    """Probabilistic sensitivity analysis: every uncertain input drawn at once, ``draws`` times.

    Simulation noise enters by drawing a replication for each draw (its effects taken together,
    so their correlation is kept). Draws depend only on the seed and each input's name, so two
    designs analysed with one seed see the same parameter draws (common random numbers).
    """
    sample: dict[str, Any] = dict(x)
    for r in over or ranges():
        sample[r.name] = draw(r, float(x[r.name]), draws, seed)
    if per_rep_effects is not None and len(per_rep_effects) > 1:
        pick = _stream(seed, "sim.replication").integers(len(per_rep_effects), size=draws)
        for col in per_rep_effects.columns.drop("replication"):
            sample[f"sim.{col}"] = per_rep_effects[col].to_numpy(dtype=float)[pick]
    out = evaluate(sample)
    keys = ("cost_per_year", "benefit_per_year", "npv", "annual_net_cost")
    return pd.DataFrame({k: np.broadcast_to(out[k], (draws,)) for k in keys})


def probability_positive(mc: pd.DataFrame) -> float:
    return float((mc["npv"] > 0).mean())


# -- from results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Appraisal:
    """A scenario's economics: the point estimate with intervals, tornado and Monte Carlo."""

    inputs: dict[str, float]
    point: dict[str, float]
    effects: pd.DataFrame  # effect, mean, ci_low, ci_high
    per_rep: pd.DataFrame
    by_replication: pd.DataFrame  # the appraisal of each replication's effects
    tornado: pd.DataFrame
    monte_carlo: pd.DataFrame

    def interval(self, key: str) -> Estimate:
        """A result's mean and 95 % interval over replications (simulation noise only)."""
        return interval(self.by_replication[key].to_numpy())

    @property
    def probability_positive(self) -> float:
        return probability_positive(self.monte_carlo)


def appraise(
    scenario: Scenario,
    scenario_reps: pd.DataFrame,
    baseline_reps: pd.DataFrame,
    draws: int = 10_000,
    seed: int | None = None,
) -> Appraisal:
    """The whole economic case for a simulated scenario against its baseline."""
    per_rep = effects(scenario_reps, baseline_reps)
    x = inputs(scenario, per_rep)
    point = {k: float(v) for k, v in evaluate(x).items()}
    columns = per_rep.columns.drop("replication")
    sims = {f"sim.{c}": per_rep[c].to_numpy(dtype=float) for c in columns}
    each = evaluate({**x, **sims})
    return Appraisal(
        inputs=x,
        point=point,
        effects=effects_table(per_rep, scenario.costs.police_fte_hours),
        per_rep=per_rep,
        by_replication=pd.DataFrame(
            {k: np.broadcast_to(v, (len(per_rep),)) for k, v in each.items()}
        ),
        tornado=tornado(x),
        monte_carlo=monte_carlo(
            x, per_rep, draws=draws, seed=scenario.run.seed if seed is None else seed
        ),
    )


@dataclass(frozen=True)
class Headline:
    """The figures a decision turns on, each with its interval where simulation noise applies.

    ``planner run`` writes it to ``economics.json`` (``to_json``: an estimate is the list
    ``[mean, low, high]``); the report, the dashboard and the command line read it here."""

    vehicles: int
    bases: int
    unit_hours_per_week: float
    fte: float
    fte_per_seat: float
    cost_per_year: float  # NOK a year
    police_hours_freed: Estimate  # officer-hours a year
    police_fte_freed: Estimate
    patrol_hours_freed: Estimate
    share_health_first: Estimate
    police_car_transports_avoided: Estimate  # a year
    police_encounters_avoided: Estimate  # a year
    share_police_car: Estimate
    response_median: Estimate  # minutes
    response_p90: Estimate  # minutes
    police_value_per_year: float  # NOK
    npv: Estimate  # NOK over the horizon
    annual_net_cost: Estimate  # NOK a year
    break_even_police_hour: Estimate  # NOK an hour
    cost_per_health_first_response: Estimate  # NOK
    probability_npv_positive: float
    horizon_years: int
    # never priced, police.model = "patrols" only: by police district, the minutes the 90th
    # percentile of the urgent (P1) police response is shorter, and the share of P1 responses
    # within the district's target gained
    p1_p90_minutes_gained: dict[str, Estimate] = field(default_factory=dict)
    p1_within_target_gained: dict[str, Estimate] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def written(v: Any) -> Any:
            if isinstance(v, Estimate):
                return list(v)
            if isinstance(v, dict):
                return {k: list(e) for k, e in v.items()}
            return v

        return {f.name: written(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Headline:
        """Read ``to_json``'s dict back (every field present; an estimate as three numbers)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.type == "Estimate":
                values[f.name] = Estimate(*map(float, data[f.name]))
            elif f.type == "dict[str, Estimate]":  # written since the patrols model; else none
                got = data.get(f.name, {})
                values[f.name] = {k: Estimate(*map(float, v)) for k, v in got.items()}
            else:
                values[f.name] = data[f.name]
        return cls(**values)


def headline(scenario: Scenario, appraisal: Appraisal, kpis: pd.DataFrame) -> Headline:
    """The headline of a run: its service, what it costs, what it frees and what it is worth."""
    k = kpis.set_index("kpi")
    eff = appraisal.effects.set_index("effect")

    def kpi(key: str) -> Estimate:
        return Estimate.of(k.loc[key])

    def effect(key: str) -> Estimate:
        return Estimate.of(eff.loc[key])

    s = service(scenario)
    p = appraisal.point
    return Headline(
        vehicles=s.vehicles,
        bases=s.bases,
        unit_hours_per_week=s.unit_hours / WEEKS_PER_YEAR,
        fte=p["fte"],
        fte_per_seat=p["fte_per_seat"],
        cost_per_year=p["cost_per_year"],
        police_hours_freed=effect("officer_hours_freed"),
        police_fte_freed=effect("police_fte_freed"),
        patrol_hours_freed=effect("patrol_hours_freed"),
        share_health_first=kpi("share_health_first"),
        police_car_transports_avoided=effect("police_car_transports_avoided"),
        police_encounters_avoided=effect("police_encounters_avoided"),
        share_police_car=kpi("share_police_car"),
        response_median=kpi("response_median"),
        response_p90=kpi("response_p90"),
        police_value_per_year=p["police_value_per_year"],
        npv=appraisal.interval("npv"),
        annual_net_cost=appraisal.interval("annual_net_cost"),
        break_even_police_hour=appraisal.interval("break_even_police_hour"),
        cost_per_health_first_response=appraisal.interval("cost_per_health_first_response"),
        probability_npv_positive=appraisal.probability_positive,
        horizon_years=scenario.appraisal.horizon_years,
        p1_p90_minutes_gained=_by_district(eff, "p1_p90_minutes_gained"),
        p1_within_target_gained=_by_district(eff, "p1_within_target_gained"),
    )


def _by_district(eff: pd.DataFrame, name: str) -> dict[str, Estimate]:
    """The effects ``<name>.<district>`` of an effects table (indexed by effect), by district."""
    prefix = f"{name}."
    return {
        str(key)[len(prefix) :]: Estimate.of(row)
        for key, row in eff.iterrows()
        if str(key).startswith(prefix)
    }


__all__ = [
    "Appraisal",
    "Headline",
    "annual_hours_per_fte",
    "annuity_factor",
    "appraise",
    "evaluate",
    "fte_per_seat",
    "headline",
    "inputs",
    "monte_carlo",
    "service",
    "service_cost",
    "tornado",
    "unit_hour_cost",
]
