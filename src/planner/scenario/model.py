"""The scenario: a typed, validated, immutable description of one service design.

A scenario file states only what differs from ``data/defaults.toml``; the two are merged and then
validated as a whole, so a typo or an out-of-range figure is caught before anything runs.
Unknown keys are errors: a misspelt parameter must never silently fall back to its default.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from planner.calendar import DAYS_PER_YEAR, HOURS_PER_WEEK
from planner.limits import MAX_REPLICATIONS, MAX_SEED
from planner.scenario.distributions import LIMITS as DISTRIBUTION_LIMITS
from planner.scenario.distributions import Distribution
from planner.scenario.parameters import lookup

if TYPE_CHECKING:
    from planner.geo.region import Region as GeoRegion

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Minutes = Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROFILE_NAMES = ("evening-weighted", "flat")
MAX_CALLS_PER_REPLICATION = 5_000_000
"""Most calls one replication may be expected to have (some 280 years of the default region's
calls): more would need gigabytes for the event log and hours for the engine, so a scenario that
asks for more is refused before it runs, naming the fields that make the number."""


K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A table of a scenario: a dict that refuses every change once made (``replaced`` in
    ``planner.scenario.loading`` makes a changed scenario, validated again). It pickles, copies
    and compares as a dict, and is written to TOML and JSON as one."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "a scenario's tables cannot be changed; make a changed scenario with "
            "planner.scenario.loading.replaced(scenario, {...})"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        return self  # its keys and values are immutable too


Table = Annotated[Mapping[K, V], AfterValidator(FrozenDict)]
"""A scenario's table (TOML's table, JSON's object), read-only once validated."""


def _describe(path: str) -> dict[str, Any]:
    p = lookup(path)
    if p is None:
        return {}
    extra = {"unit": p.unit, "source": p.source}
    return {"description": (p.doc or p.unit), "json_schema_extra": extra}


def _field(path: str, **kw: Any) -> Any:
    """A field documented from the registry; defaults come from the merged defaults tree."""
    return Field(**_describe(path), **kw)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def shares_of_one(v: Mapping[str, float]) -> Mapping[str, float]:
    """A table of shares (of calls to each channel, of police work to each priority): they must
    sum to 1."""
    total = sum(v.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"shares must sum to 1, got {total:.6g}")
    return v


def some_hour(v: tuple[float, ...]) -> tuple[float, ...]:
    """Factors by hour of day (patrols on duty, the pass-on's length): not all of them 0."""
    if not sum(v) > 0:
        raise ValueError("at least one hour of the day must have a factor above 0")
    return v


class ScenarioInfo(_Section):
    name: Annotated[str, StringConstraints(max_length=200)] = _field("scenario.name")
    description: Annotated[str, StringConstraints(max_length=5000)] = _field("scenario.description")
    sources: Table[str, Annotated[str, StringConstraints(max_length=1000)]] = _field(
        "scenario.sources"
    )

    @field_validator("sources")
    @classmethod
    def _sources_name_parameters(cls, v: Mapping[str, str]) -> Mapping[str, str]:
        unknown = [k for k in v if lookup(k) is None]
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not a parameter (planner params lists them), so it has no "
                "source to give"
            )
        return v


class Region(_Section):
    kind: Literal["geodata", "abstract"] = _field("region.kind")
    name: Key = _field("region.name")
    population: int = _field("region.population", ge=1, le=50_000_000)
    travel_minutes: Minutes = _field("region.travel_minutes")


class Demand(_Section):
    rate_per_1000_per_year: float = _field(
        "demand.rate_per_1000_per_year", gt=0, le=1000, allow_inf_nan=False
    )
    base_year: int = _field("demand.base_year", ge=2000, le=2100)
    year: int = _field("demand.year", ge=2000, le=2100)
    growth_per_year: float = _field("demand.growth_per_year", ge=-0.5, le=1.0, allow_inf_nan=False)
    zone_rate_factors: Table[str, Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]] = (
        _field("demand.zone_rate_factors")
    )
    hour_of_week_profile: (
        Literal["evening-weighted", "flat"]
        | tuple[Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)], ...]
    ) = _field("demand.hour_of_week_profile")

    @field_validator("hour_of_week_profile")
    @classmethod
    def _profile_shape(cls, v: Any) -> Any:
        if isinstance(v, tuple):
            if len(v) != 168:
                raise ValueError(f"needs 168 hourly weights (24 x 7), got {len(v)}")
            if sum(v) <= 0:
                raise ValueError("weights must not all be zero")
        return v

    @property
    def growth_factor(self) -> float:
        return float((1.0 + self.growth_per_year) ** (self.year - self.base_year))


class Callers(_Section):
    """Who calls: most calls come from people who call once, a share from a cohort of frequent
    callers — people of heterogeneous rates (gamma) who call from home — whose calls case
    management (ACT/FACT teams, a named contact) may cut."""

    frequent_share: float = _field("callers.frequent_share", ge=0, le=0.95, allow_inf_nan=False)
    frequent_calls_per_year: float = _field(
        "callers.frequent_calls_per_year", gt=0, le=365, allow_inf_nan=False
    )
    frequent_rate_shape: float = _field(
        "callers.frequent_rate_shape", ge=0.01, le=1000, allow_inf_nan=False
    )
    case_management_cut: Probability = _field("callers.case_management_cut")


class Situation(_Section):
    label: Name
    share: Probability
    urgency: Literal["acute", "urgent", "planned"]
    health_first_eligible: bool
    on_scene: Distribution
    p_transport: Probability
    p_police_needed: Probability
    police_alone: Distribution


class Triage(_Section):
    screening_sensitivity: Probability = _field("triage.screening_sensitivity")
    screening_false_positive: Probability = _field("triage.screening_false_positive")


Channel = Literal["police_112", "amk_113", "health_service"]


class CallHandling(_Section):
    channel_shares: Table[Channel, Probability] = _field("call_handling.channel_shares")
    handling: Distribution = _field("call_handling.handling")
    pass_on: Distribution = _field("call_handling.pass_on")
    joint_notification: bool = _field("call_handling.joint_notification")
    pass_on_by_hour: tuple[Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)], ...] = _field(
        "call_handling.pass_on_by_hour", min_length=24, max_length=24
    )

    @field_validator("pass_on_by_hour")
    @classmethod
    def _some_hour(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        return some_hour(v)

    @field_validator("channel_shares")
    @classmethod
    def _sum_to_one(cls, v: Mapping[str, float]) -> Mapping[str, float]:
        return shares_of_one(v)


class Shift(_Section):
    start_hour: int = Field(ge=0, le=23, description="hour of day the shift starts, 0-23")
    hours: float = Field(gt=0, le=24, allow_inf_nan=False, description="length, h")
    days: tuple[Weekday, ...] = Field(min_length=1, max_length=7, description="days it starts")

    @field_validator("days")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("a day is listed twice")
        return v

    def on_duty(self) -> list[bool]:
        """168 flags, Monday 00-01 first: is a unit on this shift on duty in that hour?"""
        flags = [False] * 168
        for day in self.days:
            start = WEEKDAYS.index(day) * 24 + self.start_hour
            for h in range(math.ceil(self.hours)):
                flags[(start + h) % HOURS_PER_WEEK] = True
        return flags


class Unit(_Section):
    name: Name
    base: Key
    shift: Key
    crew: int | None = Field(default=None, ge=1, le=6, description="persons; default fleet.crew")
    vehicle: Key | None = Field(
        default=None,
        description="units naming the same vehicle share it at different times (costed once); "
        "default: the unit has its own",
    )


class Fleet(_Section):
    shifts: Table[Key, Shift] = _field("fleet.shifts")
    units: tuple[Unit, ...] = _field("fleet.units", max_length=200)
    crew: int = _field("fleet.crew", ge=1, le=6)
    mobilisation: Distribution = _field("fleet.mobilisation")

    @model_validator(mode="after")
    def _units_refer_to_shifts(self) -> Fleet:
        names = [u.name for u in self.units]
        if len(set(names)) != len(names):
            raise ValueError("unit names must be unique")
        for i, u in enumerate(self.units):
            if u.shift not in self.shifts:
                raise ValueError(
                    f"units[{i}].shift {u.shift!r} is not a defined shift "
                    f"({', '.join(sorted(self.shifts))})"
                )
        return self


class Police(_Section):
    officers_per_patrol: int = _field("police.officers_per_patrol", ge=1, le=8)
    patrols: Table[Key, Annotated[int, Field(ge=1, le=2000)]] = _field("police.patrols")
    other_work_utilisation: float = _field(
        "police.other_work_utilisation", ge=0, le=0.99, allow_inf_nan=False
    )
    mobilisation: Distribution = _field("police.mobilisation")
    travel_factor: float = _field("police.travel_factor", gt=0, le=5, allow_inf_nan=False)
    other_job: float = _field("police.other_job", gt=0, le=1440, allow_inf_nan=False)
    model: Literal["erlang", "patrols"] = _field("police.model")
    co_response_officers: int = _field("police.co_response_officers", ge=1, le=4)
    civil_share: Probability = _field("police.civil_share")
    duty_profile: tuple[Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)], ...] = _field(
        "police.duty_profile", min_length=24, max_length=24
    )
    work_shares: Table[Literal["p1", "p2", "p3"], Probability] = _field("police.work_shares")
    preempt: Literal["p2", "p3", "none"] = _field("police.preempt")
    mission_priority: Table[
        Literal["acute", "urgent", "planned"], Annotated[int, Field(ge=1, le=3)]
    ] = _field("police.mission_priority")
    p1_target_minutes: float = _field("police.p1_target_minutes", gt=0, le=240, allow_inf_nan=False)
    p1_target_by_district: Table[Key, Annotated[float, Field(gt=0, le=240)]] = _field(
        "police.p1_target_by_district"
    )

    @field_validator("duty_profile")
    @classmethod
    def _some_patrols(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        return some_hour(v)

    @field_validator("work_shares")
    @classmethod
    def _shares_whole(cls, v: Mapping[str, float]) -> Mapping[str, float]:
        return shares_of_one(v)


class Facilities(_Section):
    handover_ambulance: Distribution = _field("facilities.handover_ambulance")
    handover_police: Distribution = _field("facilities.handover_police")
    catchment_overrides: Table[str, Key] = _field("facilities.catchment_overrides")
    guarding_factor: Table[Key, Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]] = (
        _field("facilities.guarding_factor")
    )


class Dispatch(_Section):
    policy: Literal["baseline", "health-first", "co-response"] = _field("dispatch.policy")
    max_response_minutes: float = _field(
        "dispatch.max_response_minutes", gt=0, le=1440, allow_inf_nan=False
    )
    max_wait_minutes: float = _field(
        "dispatch.max_wait_minutes", ge=0, le=1440, allow_inf_nan=False
    )
    max_wait_planned_minutes: float = _field(
        "dispatch.max_wait_planned_minutes", ge=0, le=10080, allow_inf_nan=False
    )
    police_transport_when_force: Probability = _field("dispatch.police_transport_when_force")
    police_car_share_today: Probability = _field("dispatch.police_car_share_today")
    backup_check: Distribution = _field("dispatch.backup_check")
    ordinary_ambulance_share: Probability = _field("dispatch.ordinary_ambulance_share")


class Travel(_Section):
    emergency_speed_factor: float = _field(
        "travel.emergency_speed_factor", ge=1, le=3, allow_inf_nan=False
    )
    rush_hour_factor: float = _field("travel.rush_hour_factor", ge=1, le=4, allow_inf_nan=False)
    rush_hours: tuple[Annotated[int, Field(ge=0, le=23)], ...] = _field(
        "travel.rush_hours", max_length=24
    )
    emergency_rush_damping: Probability = _field("travel.emergency_rush_damping")


class Costs(_Section):
    nurse_monthly_wage: Money = _field("costs.nurse_monthly_wage")
    paramedic_monthly_wage: Money = _field("costs.paramedic_monthly_wage")
    crew_paramedics: int = _field("costs.crew_paramedics", ge=0, le=6)
    shift_supplement: float = _field("costs.shift_supplement", ge=0, le=2, allow_inf_nan=False)
    social_cost_rate: float = _field("costs.social_cost_rate", ge=0, le=2, allow_inf_nan=False)
    weekly_hours: float = _field("costs.weekly_hours", ge=10, le=60, allow_inf_nan=False)
    leave_weeks: float = _field("costs.leave_weeks", ge=0, le=20, allow_inf_nan=False)
    public_holidays: float = _field("costs.public_holidays", ge=0, le=30, allow_inf_nan=False)
    absence_rate: float = _field("costs.absence_rate", ge=0, le=0.5, allow_inf_nan=False)
    vehicle_per_year: Money = _field("costs.vehicle_per_year")
    base_per_year: Money = _field("costs.base_per_year")
    overhead_rate: float = _field("costs.overhead_rate", ge=0, le=2, allow_inf_nan=False)
    overtime_supplement: float = _field(
        "costs.overtime_supplement", ge=0, le=3, allow_inf_nan=False
    )
    police_officer_hour: Money = _field("costs.police_officer_hour")
    police_fte_hours: float = _field("costs.police_fte_hours", ge=500, le=3000, allow_inf_nan=False)
    price_year: int = _field("costs.price_year", ge=2000, le=2100)


class Appraisal(_Section):
    discount_rate: float = _field("appraisal.discount_rate", ge=0, le=0.2, allow_inf_nan=False)
    tax_financing_cost: Probability = _field("appraisal.tax_financing_cost")
    horizon_years: int = _field("appraisal.horizon_years", ge=1, le=100)
    first_year: int = _field("appraisal.first_year", ge=2000, le=2100)
    benefit_growth_per_year: float = _field(
        "appraisal.benefit_growth_per_year", ge=-0.5, le=1.0, allow_inf_nan=False
    )


class Optimise(_Section):
    threshold_minutes: float = _field(
        "optimise.threshold_minutes", gt=0, le=240, allow_inf_nan=False
    )
    p_wait_target: float = _field("optimise.p_wait_target", gt=0, lt=1, allow_inf_nan=False)
    shift_lengths: tuple[Annotated[int, Field(ge=1, le=24)], ...] = _field(
        "optimise.shift_lengths", min_length=1, max_length=24
    )
    shift_starts: tuple[Annotated[int, Field(ge=0, le=23)], ...] = _field(
        "optimise.shift_starts", min_length=1, max_length=24
    )
    night_premium: float = _field("optimise.night_premium", ge=0, le=5, allow_inf_nan=False)
    max_night_shifts_per_day: int = _field("optimise.max_night_shifts_per_day", ge=0, le=200)
    max_units: int = _field("optimise.max_units", ge=1, le=60)
    max_rounds: int = _field("optimise.max_rounds", ge=1, le=50)
    max_units_per_base: int = _field("optimise.max_units_per_base", ge=0, le=60)


class Run(_Section):
    horizon_days: float = _field("run.horizon_days", ge=1, le=3650, allow_inf_nan=False)
    warmup_days: float = _field("run.warmup_days", ge=0, le=365, allow_inf_nan=False)
    replications: int = _field("run.replications", ge=1, le=MAX_REPLICATIONS)
    seed: int = _field("run.seed", ge=0, lt=MAX_SEED + 1)

    @field_validator("replications", "seed", mode="before")
    @classmethod
    def _not_true_or_false(cls, v: Any) -> Any:
        # pydantic reads true as 1; a count or seed written as a truth value is a mistake
        if isinstance(v, bool):
            raise ValueError("must be a whole number, not true or false")
        return v


class Scenario(_Section):
    """One service design and the world it meets; see ``planner schema`` for every field.

    A scenario may expect at most 5,000,000 calls in one replication (the region's population
    × demand.rate_per_1000_per_year / 1,000 × growth from demand.base_year to demand.year ×
    demand.zone_rate_factors × run.horizon_days / 365)."""

    model_config = ConfigDict(
        json_schema_extra={"max_calls_per_replication": MAX_CALLS_PER_REPLICATION}
    )

    scenario: ScenarioInfo
    region: Region
    demand: Demand
    callers: Callers
    situations: Table[Key, Situation] = Field(min_length=1, max_length=30)
    triage: Triage
    call_handling: CallHandling
    fleet: Fleet
    police: Police
    facilities: Facilities
    dispatch: Dispatch
    travel: Travel
    costs: Costs
    appraisal: Appraisal
    optimise: Optimise
    run: Run
    _geodata: Any = PrivateAttr(default=None)  # a planner.geo.region.Region, see ``geodata``

    @field_validator("situations")
    @classmethod
    def _shares_sum_to_one(cls, v: Mapping[str, Situation]) -> Mapping[str, Situation]:
        total = sum(s.share for s in v.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"situation shares must sum to 1, got {total:.6g}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        # what the region's files say (bases, districts, zones, the calls its people make) is
        # checked by the loader against the region (planner.scenario.loading.bind_region)
        if self.run.warmup_days >= self.run.horizon_days:
            raise ValueError("run.warmup_days must be shorter than run.horizon_days")
        if self.region.kind != "geodata":
            self.check_volume({"A": float(self.region.population)})
        return self

    @property
    def geodata(self) -> GeoRegion:
        """The region's built geodata, given to the scenario by the loader that read it."""
        if self._geodata is None:
            raise LookupError(
                f"region {self.region.name!r}: this scenario was not given its geodata; "
                "read it with planner.load_scenario or planner.scenario_from_dict"
            )
        region: GeoRegion = self._geodata
        return region

    def content(self, leave_out: Iterable[str] = ()) -> dict[str, Any]:
        """The whole validated scenario as JSON data (defaults included), in the model's own
        order (the order of a table, situations say, can change what is simulated), without
        the dotted paths in ``leave_out`` (a section, ``"optimise"``, or a field of one,
        ``"run.seed"``)."""
        data = self.model_dump(mode="json", by_alias=True)
        if not data["scenario"]["sources"]:  # as before sources were written: the same hash
            del data["scenario"]["sources"]
        for path in leave_out:
            *parents, last = path.split(".")
            node = data
            for key in parents:
                node = node[key]
            node.pop(last, None)
        return data

    def content_hash(
        self, leave_out: Iterable[str] = (), also: Mapping[str, Any] | None = None
    ) -> str:
        """sha256 of ``content(leave_out)`` and ``also`` (what else the figures depend on, such
        as the model's own code): the one way a scenario is named by what it holds."""
        text = json.dumps(
            {"scenario": self.content(leave_out), **(also or {})}, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def expected_calls(self, zone_population: dict[str, float]) -> float:
        """Calls one replication is expected to have, given each zone's population."""
        d = self.demand
        weighted = sum(p * d.zone_rate_factors.get(z, 1.0) for z, p in zone_population.items())
        per_year = weighted * d.rate_per_1000_per_year / 1000.0 * d.growth_factor
        return per_year * self.run.horizon_days / DAYS_PER_YEAR

    def check_volume(self, zone_population: dict[str, float]) -> None:
        """Refuse a scenario that expects more calls in one replication than one may hold."""
        calls = self.expected_calls(zone_population)
        if calls <= MAX_CALLS_PER_REPLICATION:
            return
        d = self.demand
        fields = [
            "demand.rate_per_1000_per_year",
            "demand.growth_per_year",
            "demand.year",
            *(["demand.zone_rate_factors"] if d.zone_rate_factors else []),
            *(["region.population"] if self.region.kind != "geodata" else []),
            "run.horizon_days",
        ]
        raise ValueError(
            f"{', '.join(fields)}: about {calls:.3g} calls expected in one replication, more "
            f"than the {MAX_CALLS_PER_REPLICATION:,} one replication may hold (rate "
            f"{d.rate_per_1000_per_year:g} per 1,000 a year, growth × {d.growth_factor:.3g} "
            f"from {d.base_year} to {d.year}, over {self.run.horizon_days:g} days)"
        )

    @property
    def units_are_active(self) -> bool:
        return self.dispatch.policy != "baseline" and bool(self.fleet.units)


def field_limits(path: str) -> str:
    """The bounds a parameter's value must keep, in words, e.g. '>= 1, <= 3650' (what
    ``planner params`` shows; the schema has them as minimum and maximum)."""
    section, *rest = path.split(".")
    top = Scenario.model_fields.get(section)
    if top is None or not rest:
        return ""
    model: Any = Situation if section == "situations" else top.annotation
    rest = rest[1:] if section == "situations" else rest
    if len(rest) != 1 or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    field = model.model_fields.get(rest[0])
    if field is None:
        return ""
    if field.discriminator == "dist":
        return DISTRIBUTION_LIMITS
    own = _bounds(field.metadata)
    inner = _bounds(_nested_metadata(field.annotation))
    return "; ".join([*([own] if own else []), *([f"each {inner}"] if inner else [])])


_BOUND_WORDS = {
    "ge": ">=",
    "gt": ">",
    "le": "<=",
    "lt": "<",
    "min_length": "length >=",
    "max_length": "length <=",
}


def _bounds(metadata: list[Any]) -> str:
    words = []
    for item in metadata:
        for attr, word in _BOUND_WORDS.items():
            value = getattr(item, attr, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                words.append(f"{word} {_number(value)}")
    return ", ".join(words)


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not value.is_integer() or abs(value) >= 1e9:
        return f"{value:g}"
    return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))


def _nested_metadata(annotation: Any) -> list[Any]:
    """The constraints on the items of a list or the values of a table (its Annotated args)."""
    out: list[Any] = []
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated:
            for meta in get_args(arg)[1:]:
                out.extend(getattr(meta, "metadata", [meta]))
        else:
            out.extend(_nested_metadata(arg))
    return out
