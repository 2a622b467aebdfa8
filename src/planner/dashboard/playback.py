"""A simulated day, played back: one replication's calls, units and police on a moving map.

The dashboard's answer to "show me what this means". Three layers, kept apart so that every
position and time the animation shows can be tested as plain Python:

* ``day_of`` reads one day out of a run's call log into typed records: the calls of the day
  (where, when they came, when help was there, whether they waited for a free unit), each
  unit's legs (base → call → receiving facility → base) and each police visit, all in minutes
  from the day's midnight and positions as longitude/latitude;
* ``playback_html`` turns a ``Day`` into one self-contained HTML page: plain JavaScript drawing
  on a canvas, its data one JSON blob in the page. It loads nothing from anywhere (no tiles,
  no fonts, no scripts), so it works in the dashboard's iframe and from a saved file alike;
* ``render`` draws it in Streamlit with a day picker.

Movement is drawn as straight lines between places at the times the log gives: a unit drives
from its base to the call between dispatch and arrival on scene (mobilisation included), stays
until the scene ends, then drives the patient to the receiving facility until the handover
ends (drive and handover together) or drives straight back to base until it is free. A
police patrol comes from the nearest police station of the call's district, driving the
emergency drive time the simulation used, and leaves when its part is done: the log gives that
time exactly except when the police came along at triage and were not needed, where it is
estimated (see ``_police_visit``).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from planner.calendar import MINUTES_PER_DAY
from planner.dashboard.text import Words
from planner.geo.region import Region
from planner.report import maps
from planner.scenario.model import Scenario
from planner.sim.run import Results, fleet_on_duty

if TYPE_CHECKING:
    from planner.dashboard.model import Run

SPEEDS = (1, 2, 5, 10, 20)
"""Playback speeds offered: at 1× one simulated minute passes every 50 ms of real time (a day in
72 seconds), at 20× a day takes under four seconds."""
MS_PER_MINUTE = 50.0
HEIGHT = 660
"""Pixels the page needs: what ``render`` asks of the iframe."""
KM_PER_DEGREE = 111.195  # of latitude, and of longitude at the equator (mean Earth radius)
UNIT_COLOURS = (
    "#1f6fb2",
    "#2a9d3c",
    "#8e44ad",
    "#00838f",
    "#8d5524",
    "#c2185b",
    "#7a7d00",
    "#546e7a",
    "#3949ab",
    "#00695c",
)
"""One colour per unit, in turn; none red or orange, which mark calls and the queue."""

Activity = Literal["to_call", "on_scene", "to_facility", "to_base"]
Status = Literal["to_call", "on_scene", "to_facility", "to_base", "at_base", "off_duty"]


# -- what a day is made of --------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A position on the map as longitude and latitude (WGS 84, degrees)."""

    lon: float
    lat: float


def between(a: Point, b: Point, share: float) -> Point:
    """The point ``share`` of the way from ``a`` to ``b`` on a straight line in degrees (over a
    few tens of kilometres the same as the planar map's straight line)."""
    return Point(a.lon + (b.lon - a.lon) * share, a.lat + (b.lat - a.lat) * share)


@dataclass(frozen=True)
class Place:
    """A facility drawn on the map: a base, a receiving facility or a police station."""

    id: str
    name: str
    kind: str  # "base", "receiving" or "police"
    at: Point


@dataclass(frozen=True)
class Leg:
    """One stretch of a responder's day: from ``origin`` at ``start`` to ``destination`` at
    ``end`` (minutes from the day's midnight), moving at an even pace; on scene both are the
    call's position."""

    start: float
    end: float
    origin: Point
    destination: Point
    activity: Activity
    call: int  # the call's number in the log

    def at(self, minute: float) -> Point:
        """Where the responder is at ``minute`` (held at the ends outside the leg)."""
        span = self.end - self.start
        share = 1.0 if span <= 0 else min(max((minute - self.start) / span, 0.0), 1.0)
        return between(self.origin, self.destination, share)

    def covers(self, minute: float) -> bool:
        return self.start <= minute < self.end


@dataclass(frozen=True)
class UnitDay:
    """A psychiatric ambulance unit through the day: its base, the hours it is on duty and its
    legs in time order. Between legs it stands at its base."""

    index: int  # position in scenario.fleet.units, as the log's ``unit``
    name: str
    base: Place
    on_duty: tuple[bool, ...]  # 24 flags: on duty in hour h of this day
    legs: tuple[Leg, ...]

    def leg_at(self, minute: float) -> Leg | None:
        return next((leg for leg in self.legs if leg.covers(minute)), None)

    def position(self, minute: float) -> Point:
        leg = self.leg_at(minute)
        return leg.at(minute) if leg else self.base.at

    def status(self, minute: float) -> Status:
        """What the unit is doing: a leg's activity, else waiting at base or off duty."""
        leg = self.leg_at(minute)
        if leg is not None:
            return leg.activity
        hour = min(max(int(minute // 60), 0), 23)
        return "at_base" if self.on_duty[hour] else "off_duty"


@dataclass(frozen=True)
class PoliceVisit:
    """A police patrol's part in one call: from the station to the call, on scene, and with the
    patient to the receiving facility when police drove them. Outside its legs the patrol is
    at other work and not drawn."""

    call: int
    station: Place
    legs: tuple[Leg, ...]

    def position(self, minute: float) -> Point | None:
        leg = next((leg for leg in self.legs if leg.covers(minute)), None)
        return leg.at(minute) if leg else None


@dataclass(frozen=True)
class CallMark:
    """A call as the map shows it, times in minutes from the day's midnight.

    It appears at ``arrival``, is drawn hollow until the first responder is on scene and filled
    until the scene ends (``done``). ``queue`` is when it waited for a unit that was busy (from
    when the health service knew of it until a unit was sent or police took over), if it did.
    Non-finite times (police who never come, in a district without patrols) are ``inf``.
    """

    call: int
    at: Point
    zone: str
    kind: str
    arrival: float
    first_on_scene: float
    done: float
    queue: tuple[float, float] | None
    by_unit: bool  # met by a psychiatric ambulance unit (health first)
    police: bool  # police took part

    def waiting(self, minute: float) -> bool:
        """In the queue for a unit at ``minute``."""
        return self.queue is not None and self.queue[0] <= minute < self.queue[1]


@dataclass(frozen=True)
class Day:
    """One replication's day as the playback shows it.

    ``calls`` holds every call with something happening during the day, including calls of
    the evening before still being dealt with after midnight; ``calls_today`` counts those that
    came in during the day itself.
    """

    replication: int
    day: int  # days from the simulation's start (day 0 is a Monday)
    start: float  # the day's midnight, in minutes from the simulation's start
    calls: tuple[CallMark, ...]
    units: tuple[UnitDay, ...]
    police: tuple[PoliceVisit, ...]
    bases: tuple[Place, ...]  # the bases the fleet uses
    receiving: tuple[Place, ...]  # the receiving facilities of the zones' catchments
    stations: tuple[Place, ...]  # police stations

    @property
    def weekday(self) -> int:
        """0 for Monday to 6 for Sunday (the simulation starts on a Monday at 00:00)."""
        return self.day % 7

    @property
    def calls_today(self) -> int:
        return sum(1 for c in self.calls if 0.0 <= c.arrival < MINUTES_PER_DAY)

    def queue_length(self, minute: float) -> int:
        """Calls waiting for a free unit at ``minute``."""
        return sum(1 for c in self.calls if c.waiting(minute))

    def calls_so_far(self, minute: float) -> int:
        """Calls that came in between midnight and ``minute``."""
        return sum(1 for c in self.calls if 0.0 <= c.arrival <= minute)


# -- reading a day out of the log -------------------------------------------------------------


def full_days(scenario: Scenario) -> range:
    """The days wholly after the warm-up and before the horizon, numbered from the start."""
    first = math.ceil(scenario.run.warmup_days - 1e-9)
    last = math.floor(scenario.run.horizon_days + 1e-9)  # exclusive
    return range(first, max(first, last))


def day_counts(log: pd.DataFrame, scenario: Scenario, replication: int = 0) -> pd.Series:
    """Calls that came in on each full day after the warm-up, by day number (zeros kept)."""
    days = full_days(scenario)
    rep = log[log["replication"] == replication]
    counted = (rep["t_arrival"].to_numpy(float) // MINUTES_PER_DAY).astype(int)
    counts = pd.Series(counted).value_counts()
    return pd.Series([int(counts.get(d, 0)) for d in days], index=list(days), dtype=int)


def busiest_day(log: pd.DataFrame, scenario: Scenario, replication: int = 0) -> int:
    """The full day after the warm-up with the most calls; the first of them on a tie."""
    counts = day_counts(log, scenario, replication)
    if counts.empty:
        raise ValueError("the run has no full day after its warm-up")
    return int(counts.index[int(np.argmax(counts.to_numpy()))])


def day_of(results: Results, region: Region, day: int | None = None, replication: int = 0) -> Day:
    """The playback of one day of one replication: ``day`` (days from the start; default the
    busiest full day after the warm-up, see ``busiest_day``)."""
    log, scenario = results.log, results.scenario
    if log.empty:
        raise ValueError("the run kept no call log (it was streamed to a file or discarded)")
    if scenario.region.kind != "geodata":
        raise ValueError("an abstract region has no map to play a day on")
    if day is None:
        day = busiest_day(log, scenario, replication)
    return _read_day(log, scenario, region, int(day), replication)


def _read_day(
    log: pd.DataFrame, scenario: Scenario, region: Region, day: int, replication: int
) -> Day:
    start = day * MINUTES_PER_DAY
    rep = log[log["replication"] == replication]
    last = rep[["t_scene_end", "t_handover_end", "t_unit_free"]].max(axis=1, skipna=True)
    rows = rep[
        (rep["t_arrival"] < start + MINUTES_PER_DAY) & (last.fillna(rep["t_arrival"]) >= start)
    ]
    facilities = region.facilities.set_index("id")
    cell_lon = region.cells["lon"].to_numpy(float)
    cell_lat = region.cells["lat"].to_numpy(float)

    def place(fid: str) -> Place:
        row = facilities.loc[fid]
        at = Point(float(row["lon"]), float(row["lat"]))
        return Place(fid, _short_name(row["name"], fid), str(row["kind"]), at)

    zones = region.zones.set_index("zone_code")
    catchment = zones["facility"].to_dict() | dict(scenario.facilities.catchment_overrides)
    district = zones["police_district"].to_dict()
    stations = tuple(place(i) for i in region.police_station_ids)
    station_district = {
        s.id: str(d) if isinstance(d, str) else None
        for s, d in zip(
            stations, facilities.loc[[s.id for s in stations], "police_district"], strict=True
        )
    }
    units_active = scenario.units_are_active
    fleet = scenario.fleet.units if units_active else []
    bases = {u.base: place(u.base) for u in fleet}
    receiving = tuple(place(f) for f in sorted(set(catchment.values())) if f in facilities.index)
    police_drive = _police_drive(scenario)

    calls: list[CallMark] = []
    legs: dict[int, list[Leg]] = {i: [] for i in range(len(fleet))}
    visits: list[PoliceVisit] = []
    for r in rows.itertuples(index=False):
        cell = int(r.cell)
        at = Point(float(cell_lon[cell]), float(cell_lat[cell]))
        zone = str(r.zone)
        to = place(str(catchment[zone])) if zone in catchment else None
        calls.append(_call_mark(r, at, start, scenario))
        unit = int(r.unit)
        if unit >= 0 and unit in legs:
            legs[unit] += _unit_legs(r, at, bases[fleet[unit].base].at, to, start)
        if bool(r.police_involved) and math.isfinite(float(r.t_police_on_scene)):
            own = [s for s in stations if station_district[s.id] == district.get(zone)]
            station = _nearest(at, own) or _nearest(at, stations)
            if station is not None:
                drive, back = police_drive(cell, float(r.t_police_alerted))
                visits.append(_police_visit(r, at, station, to, drive, start, back))
    on_duty = fleet_on_duty(scenario) if fleet else np.zeros((0, 168), dtype=bool)
    hours = slice(day % 7 * 24, day % 7 * 24 + 24)
    units = tuple(
        UnitDay(
            i,
            u.name,
            bases[u.base],
            tuple(bool(f) for f in on_duty[i, hours]),
            tuple(sorted(legs[i], key=lambda leg: leg.start)),
        )
        for i, u in enumerate(fleet)
    )
    return Day(
        replication=replication,
        day=day,
        start=start,
        calls=tuple(sorted(calls, key=lambda c: (c.arrival, c.call))),
        units=units,
        police=tuple(visits),
        bases=tuple(bases.values()),
        receiving=receiving,
        stations=stations,
    )


LABEL_CHARACTERS = 30


def _short_name(name: object, fallback: str) -> str:
    """A facility's name as a map label (``maps.short_name``), at most ``LABEL_CHARACTERS``."""
    return maps.short_name(name, fallback, LABEL_CHARACTERS)


def _nearest(at: Point, places: Sequence[Place]) -> Place | None:
    """The place closest to ``at`` as the crow flies (on the map's planar projection)."""
    if not places:
        return None
    scale = math.cos(math.radians(at.lat))

    def dist2(p: Place) -> float:
        return ((p.at.lon - at.lon) * scale) ** 2 + (p.at.lat - at.lat) ** 2

    return min(places, key=dist2)


def _police_drive(scenario: Scenario) -> Callable[[int, float], tuple[float, float]]:
    """Minutes a patrol drives to a cell, as the simulation drew them, and back: the world's
    emergency drive from the nearest station of the cell's district and its normal drive back
    there, at the hour police were alerted."""
    from planner.sim.world import build_world

    drives = build_world(scenario).drives

    def drive(cell: int, alerted: float) -> tuple[float, float]:
        profile = drives.profile(alerted if math.isfinite(alerted) else 0.0)
        station = drives.nearest_station[profile][cell]
        return drives.police_to_cell[profile][cell], drives.cell_to_station[profile][cell][station]

    return drive


def _max_wait(scenario: Scenario, kind: str) -> float:
    """How long a call of this kind may wait for a unit before police take it (engine rule)."""
    sit = scenario.situations.get(kind)
    d = scenario.dispatch
    return d.max_wait_planned_minutes if sit and sit.urgency == "planned" else d.max_wait_minutes


def _call_mark(r: Any, at: Point, start: float, scenario: Scenario) -> CallMark:
    alerted = float(r.t_health_alerted)
    queue: tuple[float, float] | None = None
    if int(r.unit) >= 0:
        if float(r.t_dispatch) > alerted:
            queue = (alerted - start, float(r.t_dispatch) - start)
    elif str(r.reason) == "waited_too_long":
        # waited from when the health service knew of it to its deadline, then police took it
        until = min(float(r.t_police_alerted), alerted + _max_wait(scenario, str(r.kind)))
        if until > alerted:
            queue = (alerted - start, until - start)
    first = float(r.t_first_on_scene)
    done = float(r.t_scene_end)
    return CallMark(
        call=int(r.call),
        at=at,
        zone=str(r.zone),
        kind=str(r.kind),
        arrival=float(r.t_arrival) - start,
        first_on_scene=first - start if math.isfinite(first) else math.inf,
        done=done - start if math.isfinite(done) else math.inf,
        queue=queue,
        by_unit=int(r.unit) >= 0,
        police=bool(r.police_involved),
    )


def _unit_legs(r: Any, at: Point, base: Point, to: Place | None, start: float) -> list[Leg]:
    """Base → call, on scene, then call → facility → base with a patient, else call → base."""
    call = int(r.call)
    dispatch, on_scene = float(r.t_dispatch) - start, float(r.t_unit_on_scene) - start
    end, free = float(r.t_scene_end) - start, float(r.t_unit_free) - start
    legs = [
        Leg(dispatch, on_scene, base, at, "to_call", call),
        Leg(on_scene, end, at, at, "on_scene", call),
    ]
    if str(r.transport_mode) == "psych_ambulance" and to is not None:
        handover = float(r.t_handover_end) - start
        legs += [
            Leg(end, handover, at, to.at, "to_facility", call),
            Leg(handover, free, to.at, base, "to_base", call),
        ]
    else:
        legs.append(Leg(end, free, at, base, "to_base", call))
    return legs


def _police_visit(
    r: Any,
    at: Point,
    station: Place,
    to: Place | None,
    drive: float,
    start: float,
    back: float = 0.0,
) -> PoliceVisit:
    """The patrol's legs. It reaches the call at the logged time, leaving the station the
    drive time before (never before police were alerted). It leaves when the scene ends, or
    with the patient when police drove them in, or — for police who came along at triage and
    were not needed — when their patrol time runs out: the patrol's minutes in the log count
    from its assignment, taken here as when it left the station (so about the mobilisation
    later than in the simulation, which the log does not keep)."""
    call = int(r.call)
    on_scene = float(r.t_police_on_scene) - start
    alerted = float(r.t_police_alerted) - start
    depart = max(on_scene - drive, alerted) if math.isfinite(drive) else on_scene
    end = float(r.t_scene_end) - start
    legs = [Leg(depart, on_scene, station.at, at, "to_call", call)]
    if str(r.transport_mode) == "police_car" and to is not None:
        legs += [
            Leg(on_scene, end, at, at, "on_scene", call),
            Leg(end, float(r.t_handover_end) - start, at, to.at, "to_facility", call),
        ]
        return PoliceVisit(call, station, tuple(legs))
    if int(r.unit) >= 0 and not bool(r.police_needed):
        leave = max(depart + float(r.patrol_minutes) - back, on_scene)  # less its drive back
    else:
        leave = end
    legs.append(Leg(on_scene, leave, at, at, "on_scene", call))
    return PoliceVisit(call, station, tuple(legs))


# -- the page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """A simple planar map: kilometres east and north of a centre, longitude scaled by the
    cosine of the centre's latitude (equirectangular). Across a county the error is far below
    what a straight-line drive already leaves out."""

    lon0: float
    lat0: float

    def xy(self, p: Point) -> tuple[float, float]:
        scale = math.cos(math.radians(self.lat0))
        return (
            (p.lon - self.lon0) * scale * KM_PER_DEGREE,
            (p.lat - self.lat0) * KM_PER_DEGREE,
        )

    @classmethod
    def around(cls, region: Region) -> Projection:
        lon0, lat0, lon1, lat1 = (float(v) for v in region.zones.total_bounds)
        return cls((lon0 + lon1) / 2, (lat0 + lat1) / 2)


JS_WORDS = (
    "playback_weekday_0",
    "playback_weekday_1",
    "playback_weekday_2",
    "playback_weekday_3",
    "playback_weekday_4",
    "playback_weekday_5",
    "playback_weekday_6",
    "playback_play",
    "playback_pause",
    "playback_status_to_call",
    "playback_status_on_scene",
    "playback_status_to_facility",
    "playback_status_to_base",
    "playback_status_at_base",
    "playback_status_off_duty",
)
"""Words the script needs as the clock moves (the rest are written into the page)."""


def _km(v: float) -> float | None:
    """A coordinate or minute for the JSON: rounded (10 m, under a second), None if infinite."""
    return round(v, 2) if math.isfinite(v) else None


def _leg_row(leg: Leg, proj: Projection) -> list[Any]:
    x0, y0 = proj.xy(leg.origin)
    x1, y1 = proj.xy(leg.destination)
    return [_km(leg.start), _km(leg.end), _km(x0), _km(y0), _km(x1), _km(y1), leg.activity]


def _rings(geometry: Any, proj: Projection, tolerance: float) -> list[list[float]]:
    """A zone's outline rings, simplified, as flat [x0, y0, x1, y1, ...] lists in km."""
    shape = geometry.simplify(tolerance, preserve_topology=True)
    polygons = list(shape.geoms) if hasattr(shape, "geoms") else [shape]
    out: list[list[float]] = []
    for poly in polygons:
        if poly.is_empty or not hasattr(poly, "exterior"):
            continue
        for ring in (poly.exterior, *poly.interiors):
            flat: list[float] = []
            for lon, lat, *_ in ring.coords:
                x, y = proj.xy(Point(lon, lat))
                flat += [round(x, 2), round(y, 2)]
            out.append(flat)
    return out


def _bounds(points: Iterable[tuple[float, float]], minimum: float = 12.0) -> list[float] | None:
    """[x0, y0, x1, y1] around the points with a margin, at least ``minimum`` km across."""
    pts = [p for p in points if all(math.isfinite(v) for v in p)]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = max(x1 - x0, y1 - y0) * 0.08 + 1.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = max((x1 - x0) / 2 + pad, minimum / 2)
    half_h = max((y1 - y0) / 2 + pad, minimum / 2)
    return [round(v, 2) for v in (cx - half_w, cy - half_h, cx + half_w, cy + half_h)]


def page_data(day: Day, region: Region, w: Words) -> dict[str, Any]:
    """What the script draws, as JSON-ready lists: coordinates in km on ``Projection``, times
    in minutes from the day's midnight (None for never)."""
    proj = Projection.around(region)
    label_at = region.zones.representative_point()
    zones = [
        {
            "name": str(z.zone_name),
            "rings": _rings(z.geometry, proj, 0.001),
            "label": [_km(v) for v in proj.xy(Point(p.x, p.y))],
        }
        for z, p in zip(region.zones.itertuples(), label_at, strict=True)
    ]

    def place(p: Place) -> dict[str, Any]:
        x, y = proj.xy(p.at)
        return {"name": p.name, "kind": p.kind, "x": _km(x), "y": _km(y)}

    calls = []
    for c in day.calls:
        x, y = proj.xy(c.at)
        calls.append(
            {
                "id": c.call,
                "x": _km(x),
                "y": _km(y),
                "a": _km(c.arrival),
                "s": _km(c.first_on_scene),
                "e": _km(c.done),
                "q": [_km(c.queue[0]), _km(c.queue[1])] if c.queue else None,
                "u": c.by_unit,
            }
        )
    units = []
    for u in day.units:
        bx, by = proj.xy(u.base.at)
        units.append(
            {
                "name": u.name,
                "colour": UNIT_COLOURS[u.index % len(UNIT_COLOURS)],
                "base": [_km(bx), _km(by)],
                "duty": list(u.on_duty),
                "legs": [_leg_row(leg, proj) for leg in u.legs],
            }
        )
    police = [{"legs": [_leg_row(leg, proj) for leg in v.legs]} for v in day.police]
    today = [proj.xy(c.at) for c in day.calls if 0 <= c.arrival < MINUTES_PER_DAY]
    seen = today + [proj.xy(b.at) for b in day.bases]
    lon0, lat0, lon1, lat1 = (float(v) for v in region.zones.total_bounds)
    whole = _bounds([proj.xy(Point(lon0, lat0)), proj.xy(Point(lon1, lat1))], 0.0)
    return {
        "lang": w.lang,
        "day": day.day,
        "weekday": day.weekday,
        "words": {k: w(k) for k in JS_WORDS},
        "speeds": list(SPEEDS),
        "msPerMinute": MS_PER_MINUTE,
        "view": _bounds(seen) or whole,
        "region": whole,
        "zones": zones,
        "places": [place(p) for p in (*day.bases, *day.receiving, *day.stations)],
        "calls": calls,
        "units": units,
        "police": police,
    }


def script_json(data: dict[str, Any]) -> str:
    """JSON to sit inside a <script> element: "</" written "<\\/" (the same string to JSON) so
    that no name can close the element, and the two line separators JavaScript once refused."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def playback_html(day: Day, region: Region, w: Words) -> str:
    """The whole page: markup, style, script and data in one string; it asks for nothing else."""
    e = html.escape
    speeds = "".join(
        f'<button type="button" class="speed{" on" if s == 1 else ""}" data-speed="{s}" '
        f'aria-pressed="{"true" if s == 1 else "false"}">{s}×</button>'
        for s in SPEEDS
    )
    # a service without units has no units, bases or queue for them to explain
    unitless = {"playback_legend_queued", "playback_legend_unit", "playback_legend_base"}
    legend = "".join(
        f'<li><svg width="22" height="16" aria-hidden="true">{icon}</svg>{e(w(key))}</li>'
        for key, icon in _LEGEND
        if day.units or key not in unitless
    )
    no_units = "" if day.units else f'<p class="note">{e(w("playback_no_units"))}</p>'
    fields = {
        "__LANG__": e(w.lang),
        "__TITLE__": e(w("playback_title")),
        "__PLAY__": e(w("playback_play")),
        "__SPEED__": e(w("playback_speed")),
        "__TIME__": e(w("playback_time")),
        "__RESET__": e(w("playback_reset_view")),
        "__HINT__": e(w("playback_hint")),
        "__QUEUE__": e(w("playback_queue")),
        "__SO_FAR__": e(w("playback_calls_so_far")),
        "__BY_UNIT__": e(w("playback_met_by_unit")),
        "__UNITS__": e(w("playback_units")),
        "__LEGEND_TITLE__": e(w("playback_legend")),
        "__DAY__": e(w("playback_day_label", day=day.day + 1)),
        "__WEEKDAY__": e(w(f"playback_weekday_{day.weekday}")),
        "__MAP__": e(w("playback_map")),
        "__SPEEDS__": speeds,
        "__LEGEND__": legend,
        "__NO_UNITS__": no_units,
    }
    page = _PAGE
    for token, value in fields.items():
        page = page.replace(token, value)
    # the data last, so that nothing in it can be taken for a token
    return page.replace("__DATA__", script_json(page_data(day, region, w)))


# legend entries: a text key and the little drawing beside it (made by us, no user text)
_LEGEND = (
    (
        "playback_legend_call_waiting",
        '<circle cx="11" cy="8" r="5" fill="#fff" stroke="#d62839" stroke-width="2"/>',
    ),
    (
        "playback_legend_call_helped",
        '<circle cx="11" cy="8" r="5" fill="#d62839" stroke="#fff" stroke-width="1"/>',
    ),
    (
        "playback_legend_queued",
        '<circle cx="11" cy="8" r="6" fill="none" stroke="#f28c00" stroke-width="2.5" '
        'stroke-dasharray="3 2"/>',
    ),
    (
        "playback_legend_unit",
        '<circle cx="11" cy="8" r="6.5" fill="#1f6fb2" stroke="#fff" stroke-width="1.5"/>',
    ),
    (
        "playback_legend_police",
        '<rect x="5" y="2" width="12" height="12" fill="#14213d" stroke="#fff"/>',
    ),
    (
        "playback_legend_base",
        '<rect x="5" y="3" width="11" height="11" rx="2" fill="#fff" stroke="#1f3f8f" '
        'stroke-width="2"/>',
    ),
    (
        "playback_legend_facility",
        '<path d="M11 2v12M5 8h12" stroke="#b03a2e" stroke-width="3.5"/>',
    ),
    (
        "playback_legend_station",
        '<rect x="7" y="4" width="8" height="8" fill="none" stroke="#14213d" stroke-width="1.5"/>',
    ),
)


_PAGE = """<!doctype html>
<html lang="__LANG__">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; height: 100%; font: 13px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: #1d2430; background: #fff; }
#playback { display: flex; flex-direction: column; height: 100%; padding: 4px; gap: 6px; }
.bar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.bar button { font: inherit; padding: 4px 10px; border: 1px solid #9aa5b1; border-radius: 4px;
  background: #fff; cursor: pointer; color: #1d2430; }
.bar button:hover { background: #eef2f6; }
.bar button.on { background: #1f3f8f; border-color: #1f3f8f; color: #fff; }
#play { min-width: 92px; font-weight: 600; }
.speeds { display: flex; gap: 2px; align-items: center; }
.speeds span { margin-right: 4px; color: #4a5563; }
#slider { flex: 1; min-width: 160px; }
.main { display: flex; flex: 1; min-height: 0; gap: 8px; }
.mapbox { position: relative; flex: 1; min-width: 280px; border: 1px solid #c9d3dd;
  border-radius: 4px; overflow: hidden; background: #cfe3f3; }
#map { display: block; width: 100%; height: 100%; cursor: grab; touch-action: none; }
#map.drag { cursor: grabbing; }
.hint { position: absolute; left: 6px; bottom: 4px; font-size: 11px; color: #3d4a5a;
  background: rgba(255,255,255,.75); padding: 1px 5px; border-radius: 3px; }
#reset { position: absolute; right: 6px; top: 6px; font: inherit; font-size: 12px;
  padding: 3px 8px; border: 1px solid #9aa5b1; border-radius: 4px; background: #fff;
  cursor: pointer; }
.side { width: 250px; flex: none; overflow-y: auto; padding-right: 2px; }
.clockbox { border: 1px solid #c9d3dd; border-radius: 4px; padding: 6px 10px; }
#clock { font-size: 34px; font-weight: 700; font-variant-numeric: tabular-nums;
  letter-spacing: .5px; line-height: 1.1; }
#weekday { font-size: 15px; font-weight: 600; text-transform: capitalize; }
.dayno { color: #5b6675; font-size: 12px; }
.figures { margin: 6px 0 0; display: grid; grid-template-columns: 1fr auto; gap: 1px 8px; }
.figures dd { margin: 0; font-weight: 700; text-align: right;
  font-variant-numeric: tabular-nums; }
.figures dt.queue, .figures dd.queue { color: #b35c00; }
h2 { font-size: 13px; margin: 10px 0 4px; }
ul { list-style: none; margin: 0; padding: 0; }
#units li { display: flex; gap: 6px; align-items: baseline; padding: 1px 0; }
#units .dot { width: 10px; height: 10px; border-radius: 50%; flex: none;
  transform: translateY(1px); }
#units .name { font-weight: 600; }
#units .status { color: #4a5563; font-size: 12px; }
#units li.off { opacity: .55; }
#legend li { display: flex; align-items: center; gap: 4px; padding: 1px 0; }
#legend svg { flex: none; }
.note { color: #4a5563; font-size: 12px; margin: 4px 0; }
</style>
</head>
<body>
<div id="playback" data-minute="0" data-playing="false" data-speed="1" data-ready="false">
  <div class="bar">
    <button type="button" id="play" aria-pressed="false">__PLAY__</button>
    <div class="speeds" role="group" aria-label="__SPEED__"><span>__SPEED__</span>__SPEEDS__</div>
    <input type="range" id="slider" min="0" max="1440" step="1" value="0"
      aria-label="__TIME__">
  </div>
  <div class="main">
    <div class="mapbox">
      <canvas id="map" role="img" aria-label="__MAP__"></canvas>
      <button type="button" id="reset">__RESET__</button>
      <div class="hint">__HINT__</div>
    </div>
    <div class="side">
      <div class="clockbox">
        <div id="clock" aria-live="off">00:00</div>
        <div id="weekday">__WEEKDAY__</div>
        <div class="dayno">__DAY__</div>
        <dl class="figures">
          <dt class="queue">__QUEUE__</dt><dd class="queue" id="queue">0</dd>
          <dt>__SO_FAR__</dt><dd id="sofar">0</dd>
          <dt>__BY_UNIT__</dt><dd id="byunit">0</dd>
        </dl>
      </div>
      <h2>__UNITS__</h2>
      __NO_UNITS__
      <ul id="units"></ul>
      <h2>__LEGEND_TITLE__</h2>
      <ul id="legend">__LEGEND__</ul>
    </div>
  </div>
</div>
<script type="application/json" id="playback-data">__DATA__</script>
<script>
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("playback-data").textContent);
  const W = D.words;
  const DAY = 1440;
  const root = document.getElementById("playback");
  const canvas = document.getElementById("map");
  const ctx = canvas.getContext("2d");
  const clock = document.getElementById("clock");
  const slider = document.getElementById("slider");
  const playButton = document.getElementById("play");
  const never = (v) => (v === null ? Infinity : v);

  // -- state ---------------------------------------------------------------------------------
  let minute = 0, playing = false, speed = 1, last = null;
  let view = D.view.slice();            // [x0, y0, x1, y1] in km shown (aspect kept on draw)
  let frame = null;                     // screen transform of the last draw

  // -- numbers and words ---------------------------------------------------------------------
  function fmt(n) {
    const sep = D.lang === "nb" ? " " : ",";
    const s = String(Math.round(n)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, sep);
    return s.replace("-", "\\u2212");
  }
  function hhmm(m) {
    const t = Math.floor(Math.min(Math.max(m, 0), DAY - 1));
    return String(Math.floor(t / 60)).padStart(2, "0") + ":" + String(t % 60).padStart(2, "0");
  }

  // -- where everyone is ---------------------------------------------------------------------
  function legAt(legs, m) {
    for (const l of legs) if (l[0] <= m && m < l[1]) return l;
    return null;
  }
  function along(l, m) {
    const span = l[1] - l[0];
    const s = span <= 0 ? 1 : Math.min(Math.max((m - l[0]) / span, 0), 1);
    return [l[2] + (l[4] - l[2]) * s, l[3] + (l[5] - l[3]) * s];
  }
  function unitState(u, m) {
    const l = legAt(u.legs, m);
    if (l) return { at: along(l, m), status: l[6], leg: l };
    const hour = Math.min(Math.max(Math.floor(m / 60), 0), 23);
    return { at: u.base, status: u.duty[hour] ? "at_base" : "off_duty", leg: null };
  }
  function queued(c, m) { return c.q !== null && c.q[0] <= m && m < never(c.q[1]); }
  function queueAt(m) { return D.calls.filter((c) => queued(c, m)).length; }
  function active(c, m) { return c.a <= m && m < never(c.e); }

  // -- drawing -------------------------------------------------------------------------------
  function size() {
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    return { w: r.width, h: r.height, dpr };
  }
  let box = size();
  function transform() {
    const [x0, y0, x1, y1] = view;
    const k = Math.min(box.w / (x1 - x0), box.h / (y1 - y0));
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    return { k, sx: (x) => box.w / 2 + (x - cx) * k, sy: (y) => box.h / 2 - (y - cy) * k };
  }
  function ringPath(flat, t) {
    ctx.moveTo(t.sx(flat[0]), t.sy(flat[1]));
    for (let i = 2; i < flat.length; i += 2) ctx.lineTo(t.sx(flat[i]), t.sy(flat[i + 1]));
    ctx.closePath();
  }
  const labelled = [], named = [];
  function freeFor(x, y, w, h) {
    for (const b of labelled) {
      if (x < b[2] && b[0] < x + w && y < b[3] && b[1] < y + h) return false;
    }
    labelled.push([x, y, x + w, y + h]);
    return true;
  }
  // a name beside a mark at (x, y): the first of a few places around it where no other name
  // or mark is; left out where there is none, and where the same name is already close by
  // (a base and a receiving facility on one site share it)
  function label(text, x, y, bold, colour, centred) {
    ctx.font = (bold ? "600 " : "") + "11px system-ui, 'DejaVu Sans', Arial, sans-serif";
    const w = ctx.measureText(text).width;
    if (named.some((n) => n[0] === text && Math.abs(n[1] - x) + Math.abs(n[2] - y) < 60)) return;
    const spots = centred ? [[x - w / 2, y + 4]] : [
      [x + 10, y + 4], [x + 9, y - 7], [x + 9, y + 15],
      [x - 10 - w, y + 4], [x - w / 2, y - 11], [x - w / 2, y + 20],
    ];
    const inside = (l, b) => l >= 2 && l + w <= box.w - 2 && b >= 12 && b <= box.h - 2;
    const spot = spots.find(([l, b]) => inside(l, b) && freeFor(l - 2, b - 10, w + 4, 14));
    if (!spot) return;
    named.push([text, x, y]);
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.lineJoin = "round";
    ctx.strokeText(text, spot[0], spot[1]);
    ctx.fillStyle = colour; ctx.fillText(text, spot[0], spot[1]);
  }
  function draw() {
    const t = transform();
    frame = t;
    ctx.setTransform(box.dpr, 0, 0, box.dpr, 0, 0);
    ctx.fillStyle = "#cfe3f3";                                    // water, behind the land
    ctx.fillRect(0, 0, box.w, box.h);
    ctx.beginPath();
    for (const z of D.zones) for (const r of z.rings) ringPath(r, t);
    ctx.fillStyle = "#f4f1e8"; ctx.fill("evenodd");
    ctx.lineWidth = 0.8; ctx.strokeStyle = "#a9a393"; ctx.stroke();
    labelled.length = 0;
    named.length = 0;
    for (const p of D.places) freeFor(t.sx(p.x) - 7, t.sy(p.y) - 7, 14, 14);   // labels avoid marks
    const m = minute;
    // places: stations, receiving facilities, bases (bases named first, they matter most)
    for (const p of D.places) {
      const x = t.sx(p.x), y = t.sy(p.y);
      if (p.kind === "police") {
        ctx.lineWidth = 1.5; ctx.strokeStyle = "#14213d"; ctx.strokeRect(x - 4, y - 4, 8, 8);
      } else if (p.kind === "receiving") {
        ctx.lineWidth = 3.5; ctx.strokeStyle = "#b03a2e";
        ctx.beginPath(); ctx.moveTo(x, y - 6); ctx.lineTo(x, y + 6);
        ctx.moveTo(x - 6, y); ctx.lineTo(x + 6, y); ctx.stroke();
      } else {
        ctx.fillStyle = "#fff"; ctx.strokeStyle = "#1f3f8f"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.roundRect(x - 6, y - 6, 12, 12, 2); ctx.fill(); ctx.stroke();
      }
    }
    for (const p of D.places) {
      if (p.kind === "base") label(p.name, t.sx(p.x), t.sy(p.y), true, "#1f3f8f");
    }
    for (const p of D.places) {
      if (p.kind === "receiving") label(p.name, t.sx(p.x), t.sy(p.y), false, "#8a2b22");
    }
    if (t.k > 9) {
      for (const z of D.zones) {
        if (z.label[0] === null) continue;
        label(z.name, t.sx(z.label[0]), t.sy(z.label[1]), false, "#8c8577", true);
      }
    }
    // routes still to drive, faint, under everything that moves
    const states = D.units.map((u) => unitState(u, m));
    D.units.forEach((u, i) => {
      const s = states[i];
      if (!s.leg || s.status === "on_scene") return;
      ctx.setLineDash([5, 4]); ctx.lineWidth = 1.6; ctx.strokeStyle = u.colour;
      ctx.beginPath(); ctx.moveTo(t.sx(s.at[0]), t.sy(s.at[1]));
      ctx.lineTo(t.sx(s.leg[4]), t.sy(s.leg[5])); ctx.stroke(); ctx.setLineDash([]);
    });
    // calls
    const pulse = 0.5 + 0.5 * Math.sin(performance.now() / 180);
    for (const c of D.calls) {
      if (!active(c, m)) continue;
      const x = t.sx(c.x), y = t.sy(c.y);
      const age = m - c.a;
      if (age >= 0 && age < 12) {                                 // a new call rings out
        ctx.lineWidth = 2; ctx.strokeStyle = "rgba(214,40,57," + (1 - age / 12) + ")";
        ctx.beginPath(); ctx.arc(x, y, 6 + age * 2.2, 0, 2 * Math.PI); ctx.stroke();
      }
      if (queued(c, m)) {
        ctx.lineWidth = 2.5; ctx.strokeStyle = "#f28c00"; ctx.setLineDash([3, 2]);
        ctx.beginPath(); ctx.arc(x, y, 9 + 3 * pulse, 0, 2 * Math.PI);
        ctx.stroke(); ctx.setLineDash([]);
      }
      ctx.beginPath(); ctx.arc(x, y, 5.5, 0, 2 * Math.PI);
      if (m >= never(c.s)) {
        ctx.fillStyle = "#d62839"; ctx.fill();
        ctx.lineWidth = 1; ctx.strokeStyle = "#fff"; ctx.stroke();
      } else {
        ctx.fillStyle = "#fff"; ctx.fill();
        ctx.lineWidth = 2; ctx.strokeStyle = "#d62839"; ctx.stroke();
      }
    }
    // police
    for (const p of D.police) {
      const l = legAt(p.legs, m);
      if (!l) continue;
      const [px, py] = along(l, m);
      const off = l[6] === "on_scene" ? 7 : 0;               // beside the unit on scene
      const x = t.sx(px) + off, y = t.sy(py) - off;
      ctx.fillStyle = "#14213d"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
      ctx.fillRect(x - 5, y - 5, 10, 10); ctx.strokeRect(x - 5, y - 5, 10, 10);
    }
    // units; those waiting at one base side by side
    const atBase = new Map();
    D.units.forEach((u, i) => {
      const s = states[i];
      if (s.status === "off_duty") return;
      let x = t.sx(s.at[0]), y = t.sy(s.at[1]);
      if (s.status === "at_base") {
        const key = u.base.join(",");
        const n = atBase.get(key) || 0;
        atBase.set(key, n + 1);
        x += -10 + 15 * n; y += 14;
      } else if (s.status === "on_scene") {
        x -= 7; y -= 7;
      }
      ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI);
      ctx.fillStyle = u.colour; ctx.fill();
      ctx.lineWidth = 1.5; ctx.strokeStyle = "#fff"; ctx.stroke();
      ctx.fillStyle = "#fff"; ctx.font = "700 10px system-ui, 'DejaVu Sans', Arial, sans-serif";
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(String(i + 1), x, y + 0.5);
      ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
    });
    // the side panel
    clock.textContent = hhmm(m);
    root.dataset.minute = String(Math.floor(m * 100) / 100);  // down, as the clock: 22.999 is 00:22
    slider.value = String(Math.floor(m));
    let q = 0, so = 0, bu = 0;
    for (const c of D.calls) {
      if (queued(c, m)) q += 1;
      if (c.a >= 0 && c.a <= m) { so += 1; if (c.u) bu += 1; }
    }
    document.getElementById("queue").textContent = fmt(q);
    document.getElementById("sofar").textContent = fmt(so);
    document.getElementById("byunit").textContent = fmt(bu);
    D.units.forEach((u, i) => {
      const li = unitRows[i];
      li.className = states[i].status === "off_duty" ? "off" : "";
      li.querySelector(".status").textContent = W["playback_status_" + states[i].status];
    });
  }

  // -- the unit list, built once ---------------------------------------------------------------
  const unitRows = D.units.map((u, i) => {
    const li = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = "dot"; dot.style.background = u.colour;
    const text = document.createElement("span");
    const name = document.createElement("span");
    name.className = "name"; name.textContent = (i + 1) + " " + u.name;  // text, never HTML
    const status = document.createElement("div");
    status.className = "status";
    text.append(name, status);
    li.append(dot, text);
    document.getElementById("units").append(li);
    return li;
  });

  // -- time ----------------------------------------------------------------------------------
  function setPlaying(on) {
    playing = on && minute < DAY;
    playButton.textContent = playing ? W.playback_pause : W.playback_play;
    playButton.setAttribute("aria-pressed", String(playing));
    root.dataset.playing = String(playing);
    last = null;
    if (playing) requestAnimationFrame(tick);
  }
  function tick(now) {
    if (!playing) return;
    if (last !== null) {
      const dt = Math.min(now - last, 1000);
      minute = Math.min(minute + dt * speed / D.msPerMinute, DAY);
    }
    last = now;
    draw();
    if (minute >= DAY) { setPlaying(false); return; }
    requestAnimationFrame(tick);
  }
  function seek(m) { minute = Math.min(Math.max(m, 0), DAY); draw(); }
  playButton.addEventListener("click", () => {
    if (!playing && minute >= DAY) minute = 0;
    setPlaying(!playing);
  });
  for (const b of document.querySelectorAll("button.speed")) {
    b.addEventListener("click", () => {
      speed = Number(b.dataset.speed);
      root.dataset.speed = String(speed);
      for (const o of document.querySelectorAll("button.speed")) {
        o.classList.toggle("on", o === b);
        o.setAttribute("aria-pressed", String(o === b));
      }
    });
  }
  slider.addEventListener("input", () => seek(Number(slider.value)));

  // -- zoom and pan ----------------------------------------------------------------------------
  function fitted() {                          // the view as drawn: the canvas' aspect
    const t = transform();
    const hw = box.w / 2 / t.k, hh = box.h / 2 / t.k;
    const cx = (view[0] + view[2]) / 2, cy = (view[1] + view[3]) / 2;
    return [cx - hw, cy - hh, cx + hw, cy + hh];
  }
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const f = fitted(), t = transform();
    const r = canvas.getBoundingClientRect();
    const px = (ev.clientX - r.left) / t.k + f[0];
    const py = f[3] - (ev.clientY - r.top) / t.k;
    const z = Math.exp(Math.sign(ev.deltaY) * 0.18);
    const width = (f[2] - f[0]) * z;
    if (width < 2 || width > 3 * (D.region[2] - D.region[0])) return;
    view = [px - (px - f[0]) * z, py - (py - f[1]) * z, px + (f[2] - px) * z, py + (f[3] - py) * z];
    draw();
  }, { passive: false });
  let dragging = null;
  canvas.addEventListener("pointerdown", (ev) => {
    dragging = [ev.clientX, ev.clientY, fitted()];
    canvas.setPointerCapture(ev.pointerId); canvas.classList.add("drag");
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!dragging) return;
    const k = transform().k, f = dragging[2];
    const dx = (ev.clientX - dragging[0]) / k, dy = (ev.clientY - dragging[1]) / k;
    view = [f[0] - dx, f[1] + dy, f[2] - dx, f[3] + dy];
    draw();
  });
  const stopDrag = () => { dragging = null; canvas.classList.remove("drag"); };
  canvas.addEventListener("pointerup", stopDrag);
  canvas.addEventListener("pointercancel", stopDrag);
  document.getElementById("reset").addEventListener("click", () => {
    view = D.view.slice();
    draw();
  });
  window.addEventListener("resize", () => { box = size(); draw(); });
  // a steady redraw while paused keeps the queue's rings pulsing without moving the clock
  setInterval(() => { if (!playing) draw(); }, 250);

  // for tests and for anyone curious: read the state, jump in time
  window.playback = {
    seek, play: () => setPlaying(true), pause: () => setPlaying(false),
    state: () => ({ minute, playing, speed, queue: queueAt(minute) }),
    unit: (i) => {
      const s = unitState(D.units[i], minute);
      return { x: s.at[0], y: s.at[1], status: s.status };
    },
    toScreen: (x, y) => (frame ? [frame.sx(x), frame.sy(y)] : null),
    format: fmt,
  };
  draw();
  root.dataset.ready = "true";
})();
</script>
</body>
</html>
"""


# -- Streamlit ---------------------------------------------------------------------------------


def render(run: Run, w: Words, key: str = "playback") -> None:
    """Draw the playback of a run in Streamlit: a heading, a day picker (default the busiest
    full day after the warm-up of replication 0), for a service a choice between it and today's
    service on the same calls (the run's baseline), and the page in an iframe ``HEIGHT`` pixels
    high. ``key`` prefixes the widgets' keys, should the page draw two playbacks.

    The iframe is ``st.iframe`` with the page as its ``srcdoc``: the same as
    ``streamlit.components.v1.html``, which Streamlit 1.67 marks as deprecated in its favour."""
    import streamlit as st

    from planner.dashboard import state
    from planner.geo.geodata import load_region
    from planner.words import number

    st.subheader(w("playback_title"))
    scenario, results = run.scenario, run.results
    if scenario.region.kind != "geodata":
        st.info(w("playback_needs_geodata"))
        return
    if results.log.empty:
        st.info(w("playback_needs_log"))
        return
    counts = day_counts(results.log, scenario)
    if counts.empty:
        st.info(w("playback_no_full_day"))
        return
    busiest = int(counts.idxmax())  # the first of the busiest on a tie, as busiest_day
    days = list(counts.index)

    def option(d: int) -> str:
        text = w(
            "playback_day_option",
            weekday=w(f"playback_weekday_{d % 7}"),
            day=number(d + 1, w.lang),
            calls=number(int(counts[d]), w.lang),
        )
        text = text[:1].upper() + text[1:]  # "tirsdag, …" opens the line
        return text + (" · " + w("playback_busiest") if d == busiest else "")

    left, right = st.columns([2, 1])
    with left:
        # keyed by the run too: a new run starts again from its own busiest day
        chosen = st.selectbox(
            w("playback_day"),
            days,
            index=days.index(busiest),
            format_func=option,
            key=state.worded(f"{key}_day_{run.key}"),
        )
    shown = results
    if run.baseline is not None:
        with right:
            which = st.radio(
                w("playback_service"),
                ["scenario", "baseline"],
                format_func=lambda k: w(f"playback_service_{k}"),
                key=state.worded(f"{key}_service"),
                horizontal=True,
            )
        if which == "baseline":
            shown = run.baseline
    st.caption(w("playback_caption"))
    region = load_region(scenario.region.name)
    page = playback_html(day_of(shown, region, int(chosen)), region, w)
    st.iframe(page, height=HEIGHT, alt=w("playback_map"))


__all__ = [
    "CallMark",
    "Day",
    "Leg",
    "Place",
    "Point",
    "PoliceVisit",
    "Projection",
    "UnitDay",
    "between",
    "busiest_day",
    "day_counts",
    "day_of",
    "full_days",
    "page_data",
    "playback_html",
    "render",
    "script_json",
]
