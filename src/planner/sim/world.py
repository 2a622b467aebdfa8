"""The world a simulation runs in: demand cells, bases, facilities and travel-time tables.

Built once per (region, scenario geography) and reused across replications and scenarios; the
engine only indexes arrays. Travel tables are stacked [off-peak, peak] and picked by the hour of
week, so rush hours and emergency driving come from the road model, not from the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_HOUR
from planner.geo.region import Region
from planner.geo.travel import Places, TrafficRules, travel_model
from planner.scenario.model import Scenario

ABSTRACT_BASE = "base"
ABSTRACT_STATION = "station"


@dataclass(frozen=True)
class PoliceDistrict:
    """Police availability from an M/M/c model of the patrols' other workload."""

    patrols: int
    p_wait: float  # chance every patrol is busy with other work when a call comes
    mean_wait: float  # minutes until one is free, given that all are busy

    @classmethod
    def erlang(cls, patrols: int, utilisation: float, other_job: float) -> PoliceDistrict:
        """No patrol (0) is (0, 1.0, inf): every call waits, for ever."""
        offered = utilisation * patrols  # Erlangs of other work
        return cls(
            patrols,
            erlang_c(patrols, offered),
            other_job / (patrols - offered) if offered < patrols else math.inf,
        )


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), computed stably via Erlang B."""
    if offered >= servers:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1 - rho + rho * b)


@dataclass(frozen=True, eq=False)  # the same world is itself only (a key of caches)
class World:
    cell_zone: np.ndarray  # zone code of each demand cell
    cell_population: np.ndarray
    base_ids: tuple[str, ...]  # the bases the fleet uses, in order
    facility_ids: tuple[str, ...]  # receiving facilities
    cell_facility: np.ndarray  # index of each cell's receiving facility
    cell_district: np.ndarray  # index of each cell's police district
    districts: tuple[PoliceDistrict, ...]
    district_names: tuple[str, ...]
    peak: np.ndarray  # 168 ints: 1 in rush hours
    base_to_cell: np.ndarray  # [profile, base, cell] emergency driving
    cell_to_base: np.ndarray  # [profile, cell, base] normal driving back
    cell_to_facility: np.ndarray  # [profile, cell] normal driving to its receiving facility
    facility_to_base: np.ndarray  # [profile, facility, base] normal driving back
    police_to_cell: np.ndarray  # [profile, cell] emergency, nearest station in its district
    station_ids: tuple[str, ...]  # police stations, in order
    station_district: np.ndarray  # index of each station's police district
    station_to_cell: np.ndarray  # [profile, station, cell] emergency x police.travel_factor
    cell_to_station: np.ndarray  # [profile, cell, station] normal driving back
    facility_to_station: np.ndarray  # [profile, facility, station] normal driving back
    nearest_station: np.ndarray  # [profile, cell]: the nearest station of the cell's district

    @cached_property
    def drives(self) -> Drives:
        """The tables the engine reads one call at a time, as Python lists (built once per
        world: the world is cached, and its replications share them)."""
        return Drives(
            self.peak.tolist(),
            self.cell_facility.tolist(),
            self.cell_to_base.tolist(),
            self.cell_to_facility.tolist(),
            self.facility_to_base.tolist(),
            self.police_to_cell.tolist(),
            self.station_to_cell.tolist(),
            self.cell_to_station.tolist(),
            self.facility_to_station.tolist(),
            self.nearest_station.tolist(),
        )

    @cached_property
    def station_order(self) -> list[list[int]]:
        """[cell]: the stations of the cell's police district, nearest first off-peak (every
        station, for a district with none of its own; ties by index)."""
        drive = self.station_to_cell[0]  # (station, cell)
        out = []
        for cell, d in enumerate(self.cell_district.tolist()):
            own = np.flatnonzero(self.station_district == d)
            own = own if own.size else np.arange(len(self.station_ids))
            out.append(own[np.argsort(drive[own, cell], kind="stable")].tolist())
        return out

    def station_shares(self, district: int) -> dict[int, float]:
        """A district's stations and the share of its people each is nearest to (off-peak),
        the share of its patrols each keeps (an estimate: patrols spread as the people are).
        A district with no people of its own shares them equally."""
        order = self.station_order
        cells = np.flatnonzero(self.cell_district == district)
        own = np.flatnonzero(self.station_district == district).tolist()
        people = dict.fromkeys(own, 0.0)
        for cell in cells.tolist():
            first = order[cell][0]
            people[first] = people.get(first, 0.0) + float(self.cell_population[cell])
        total = sum(people.values())
        if not total:
            return {s: 1.0 / len(people) for s in people} if people else {}
        return {s: p / total for s, p in people.items()}


@dataclass(frozen=True, slots=True)
class Drives:
    """A world's drive tables as nested Python lists, indexed as the arrays they are made of
    (``cell_to_base[profile][cell][base]``): an item of a list is read in half the time of an
    item of a numpy array, and the engine reads a few for each call."""

    peak: list[int]  # 168: 1 in rush hours
    cell_facility: list[int]
    cell_to_base: list[list[list[float]]]  # [profile][cell][base] normal driving back
    cell_to_facility: list[list[float]]  # [profile][cell]
    facility_to_base: list[list[list[float]]]  # [profile][facility][base]
    police_to_cell: list[list[float]]  # [profile][cell] emergency
    station_to_cell: list[list[list[float]]]  # [profile][station][cell] emergency
    cell_to_station: list[list[list[float]]]  # [profile][cell][station] normal
    facility_to_station: list[list[list[float]]]  # [profile][facility][station] normal
    nearest_station: list[list[int]]  # [profile][cell]

    def profile(self, minute: float) -> int:
        """The traffic profile (0 off-peak, 1 rush hour) at a minute of the run: the peak of the
        hour of the week it falls in (0 = Monday 00:00–01:00)."""
        return self.peak[int(minute // MINUTES_PER_HOUR) % HOURS_PER_WEEK]


def _rules(s: Scenario) -> TrafficRules:
    t = s.travel
    return TrafficRules(
        t.emergency_speed_factor, t.rush_hour_factor, tuple(t.rush_hours), t.emergency_rush_damping
    )


def build_world(scenario: Scenario, bases: tuple[str, ...] | None = None) -> World:
    """The world for a scenario, cached on everything it depends on.

    ``bases`` replaces the fleet's bases: the optimiser asks for every candidate base at once.
    """
    base_ids = (
        bases if bases is not None else tuple(dict.fromkeys(u.base for u in scenario.fleet.units))
    )
    police = scenario.police
    if scenario.region.kind == "abstract":
        return _abstract_world(
            scenario.region.population,
            scenario.region.travel_minutes,
            base_ids or (ABSTRACT_BASE,),
            police.patrols.get("abstract", 10),
            police.other_work_utilisation,
            police.other_job,
            police.travel_factor,
        )
    return _geodata_world(
        scenario.geodata,
        base_ids,
        tuple(sorted(scenario.facilities.catchment_overrides.items())),
        _rules(scenario),
        tuple(sorted(police.patrols.items())),
        police.other_work_utilisation,
        police.other_job,
        police.travel_factor,
    )


@lru_cache(maxsize=8)
def _abstract_world(
    population: int,
    minutes: float,
    base_ids: tuple[str, ...],
    patrols: int,
    utilisation: float,
    other_job: float,
    police_travel_factor: float,
) -> World:
    nb = len(base_ids)
    const = np.full
    return World(
        cell_zone=np.array(["A"]),
        cell_population=np.array([float(population)]),
        base_ids=base_ids,
        facility_ids=("F",),
        cell_facility=np.zeros(1, dtype=int),
        cell_district=np.zeros(1, dtype=int),
        districts=(PoliceDistrict.erlang(patrols, utilisation, other_job),),
        district_names=("abstract",),
        peak=np.zeros(168, dtype=int),
        base_to_cell=const((2, nb, 1), minutes),
        cell_to_base=const((2, 1, nb), minutes),
        cell_to_facility=const((2, 1), minutes),
        facility_to_base=const((2, 1, nb), minutes),
        police_to_cell=const((2, 1), minutes * police_travel_factor),
        station_ids=(ABSTRACT_STATION,),
        station_district=np.zeros(1, dtype=int),
        station_to_cell=const((2, 1, 1), minutes * police_travel_factor),
        cell_to_station=const((2, 1, 1), minutes),
        facility_to_station=const((2, 1, 1), minutes),
        nearest_station=np.zeros((2, 1), dtype=int),
    )


def _places(frame: object) -> Places:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    return Places.of(frame["lat"], frame["lon"], frame["kommune"])


@lru_cache(maxsize=8)
def _geodata_world(
    region: Region,
    base_ids: tuple[str, ...],
    overrides: tuple[tuple[str, str], ...],
    rules: TrafficRules,
    patrols: tuple[tuple[str, int], ...],
    utilisation: float,
    other_job: float,
    police_travel_factor: float,
) -> World:
    travel = travel_model(region, rules)
    cells = region.cells
    fac = region.facilities.set_index("id")
    zones = region.zones.set_index("zone_code")
    catchment = zones["facility"].to_dict() | dict(overrides)
    facility_ids = tuple(sorted(set(catchment.values())))
    cell_places = _places(cells)
    bases = _places(fac.loc[list(base_ids)]) if base_ids else Places.of([], [], [])
    receiving = _places(fac.loc[list(facility_ids)])

    def stack(origins: Places, dests: Places, mode: str) -> np.ndarray:
        if len(origins) == 0 or len(dests) == 0:
            return np.zeros((2, len(origins), len(dests)))
        return np.stack(
            [travel.matrix(origins, dests, peak=p, mode=mode) for p in (False, True)]  # type: ignore[arg-type]
        )

    cell_facility = cells["zone_code"].map(catchment).map(facility_ids.index).to_numpy()
    to_fac = stack(cell_places, receiving, "normal")
    district_names = tuple(region.police_districts)
    cell_district = cells["zone_code"].map(zones["police_district"]).map(district_names.index)
    # police come from the nearest station of the cell's own district (of any, if it has none)
    stations = region.facilities[region.facilities["kind"] == "police"]
    station_places = _places(stations)
    from_station = stack(station_places, cell_places, "emergency") * police_travel_factor
    station_district = np.array(
        [
            district_names.index(d) if d in district_names else -1
            for d in stations["police_district"]
        ],
        dtype=int,
    )
    home = cell_district.to_numpy()
    masked = np.where(
        (station_district[None, :, None] == home[None, None, :])
        | ~(station_district[:, None] == home[None, :]).any(axis=0)[None, None, :],
        from_station,
        np.inf,
    )
    nearest = np.argmin(masked, axis=1)  # [profile, cell]: lowest index of ties
    police = np.take_along_axis(from_station, nearest[:, None, :], axis=1)[:, 0, :]
    defaults = dict(
        zip(region.districts["police_district"], region.districts["patrols"], strict=True)
    )
    chosen = defaults | dict(patrols)
    return World(
        cell_zone=cells["zone_code"].to_numpy(),
        cell_population=cells["population"].to_numpy(float),
        base_ids=base_ids,
        facility_ids=facility_ids,
        cell_facility=cell_facility,
        cell_district=cell_district.to_numpy(),
        districts=tuple(
            PoliceDistrict.erlang(int(chosen[d]), utilisation, other_job) for d in district_names
        ),
        district_names=district_names,
        peak=np.array([int(rules.is_peak(h)) for h in range(168)]),
        base_to_cell=stack(bases, cell_places, "emergency"),
        cell_to_base=stack(cell_places, bases, "normal"),
        cell_to_facility=np.take_along_axis(to_fac, cell_facility[None, :, None], axis=2)[:, :, 0],
        facility_to_base=stack(receiving, bases, "normal"),
        police_to_cell=police,
        station_ids=tuple(stations["id"]),
        station_district=station_district,
        station_to_cell=from_station,
        cell_to_station=stack(cell_places, station_places, "normal"),
        facility_to_station=stack(receiving, station_places, "normal"),
        nearest_station=nearest,
    )


def police_waits(
    districts: Sequence[PoliceDistrict], district: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Minutes until a patrol is free for each call: ``district`` its police district's index,
    ``u`` two uniforms of its own (common random numbers). Every patrol is busy with other work
    when the first is below the chance of it, and the wait is then exponential, drawn by
    inversion of the second; for ever in a district with no patrol.

    The logarithms are the platform's ``math.log``: numpy's vectorised one can differ in the
    last digit from one processor to another, and the same seed gives the same figures on any
    machine that runs a replication."""
    patrols = np.array([d.patrols for d in districts])[district]  # ints
    p_wait = np.array([d.p_wait for d in districts])[district]
    mean = np.array([d.mean_wait for d in districts])[district]
    wait = np.zeros(len(district))
    busy = np.flatnonzero(u[:, 0] < p_wait)
    wait[busy] = [
        -math.log(max(x, 1e-300)) * m
        for x, m in zip(u[busy, 1].tolist(), mean[busy].tolist())  # noqa: B905 - one mask
    ]
    wait[patrols == 0] = math.inf
    return wait
