"""The discrete-event engine: psychiatric ambulance units, shifts, queueing and police fallback.

SimPy runs the contested part — units that are free or busy, on or off duty, and calls that wait
for them. Everything a call does once a responder is chosen is a fixed sequence of durations
(drive, scene, transport, handover, drive back) drawn in advance, so each call's story is a
pure function of the call, the unit and the roads (``unit_response``, ``police_response``):
the engine only decides who goes when, holds the unit for the time the story says, and keeps
the calls that wait (``WaitingCalls``).

Police come from a station of the call's district and are free once back there. With
``police.model = "erlang"`` a patrol's availability for a psychiatric call comes from an M/M/c
model of their other work (see ``world.PoliceDistrict``), psychiatric calls being a small share
of police work, and it comes from the district's nearest station; with ``"patrols"`` each
station's patrols are a resource the calls and the district's other work compete for
(``patrols.Patrols``), and a patrol comes from the nearest station with one free.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import numpy as np
import simpy

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_DAY, MINUTES_PER_HOUR
from planner.scenario.model import Scenario
from planner.sim.demand import CallStream
from planner.sim.events import MODE_CODE, REASON_CODE, Reason, TransportMode
from planner.sim.patrols import (
    Mission,
    PatrolRecord,
    Patrols,
    PoliceWork,
    Stations,
    districts_of,
)
from planner.sim.world import Drives, World, police_waits

URGENCY_RANK = {"acute": 0, "urgent": 1, "planned": 2}
Story = Callable[[float, int], float]
"""A call's story once a patrol is given to it: told the minute and the patrol's station, it
logs the call and returns the minute the patrol is free again."""
NAN = math.nan


@dataclass
class Unit:
    """A psychiatric ambulance unit: its base (an index into the world's bases), its shifts
    (on duty in each of the 168 hours of the week) and whether it is on a mission now."""

    index: int
    base: int
    on_duty: list[bool]
    busy: bool = False


class Waiting(NamedTuple):
    """A call waiting for a unit. Ordered by its first three fields: ``WaitingCalls``' key."""

    rank: int  # urgency: 0 acute, 1 urgent, 2 planned (URGENCY_RANK)
    queued: float  # minute it began to wait
    seq: int  # order of arrival among calls queued at the same minute
    call: int
    deadline: float  # minute it goes to police if no unit has taken it


class WaitingCalls:
    """The calls waiting for a unit, in the order a unit that comes free takes them.

    Sort key ``(rank, queued, seq)``: acute before urgent before planned, then first come first
    served, then the order of queueing (as SimPy's ``PriorityRequest.key`` is ``(priority, time,
    not preempt)``). A free unit takes the first call in that order it can reach in time
    (``take``); calls past their deadline leave for police first (``expired``), found in the
    order of their deadlines without a look at the others."""

    def __init__(self) -> None:
        self._queue: list[Waiting] = []  # in key order
        self._deadlines: list[tuple[float, int, Waiting]] = []  # a heap: (deadline, seq, entry)
        self._gone: set[int] = set()  # seqs taken from the queue, still in the heap
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, call: int, rank: int, now: float, deadline: float) -> None:
        entry = Waiting(rank, now, next(self._seq), call, deadline)
        bisect.insort(self._queue, entry)
        heapq.heappush(self._deadlines, (deadline, entry.seq, entry))

    def expired(self, now: float, at_deadline: bool = False) -> list[Waiting]:
        """Take out and return every call whose deadline is before ``now`` (or at it too, when
        ``at_deadline``: a timer set for the deadline has come)."""
        out = []
        while self._deadlines and (
            self._deadlines[0][0] < now or (at_deadline and self._deadlines[0][0] == now)
        ):
            _, seq, entry = heapq.heappop(self._deadlines)
            if seq in self._gone:
                self._gone.discard(seq)
                continue
            del self._queue[bisect.bisect_left(self._queue, entry)]
            out.append(entry)
        return out

    def take(self, reaches: Callable[[int], bool]) -> Waiting | None:
        """Take out the first call in key order that ``reaches(call)`` says can be reached."""
        for k, entry in enumerate(self._queue):
            if reaches(entry.call):
                del self._queue[k]
                self._gone.add(entry.seq)
                return entry
        return None

    def drain(self) -> list[Waiting]:
        """Take out every call still waiting, in key order."""
        out, self._queue = self._queue, []
        self._deadlines.clear()
        self._gone.clear()
        return out


@dataclass(frozen=True, slots=True)
class CallSheet:
    """What the engine reads of each call, one Python list per fact (the names are the call
    stream's): it reads them one call at a time, and an item of a list is read in half the
    time of an item of a numpy array. With each call's wait for a free patrol, drawn here
    once (it does not depend on when police are alerted)."""

    cell: list[int]
    police_needed: list[bool]
    flagged: list[bool]
    transport: list[bool]
    medical: list[bool]
    force_transport: list[bool]
    police_car_today: list[bool]
    on_scene: list[float]
    police_alone: list[float]
    handover_ambulance: list[float]
    handover_police: list[float]
    unit_mobilisation: list[float]
    police_mobilisation: list[float]
    backup_check: list[float]
    police_wait: list[float]  # minutes from police alerted to a patrol free and sent

    @classmethod
    def of(
        cls, calls: CallStream, world: World, guarding: dict[str, float] | None = None
    ) -> CallSheet:
        """``guarding``: a factor on the police's handover (their wait or guarding) at each
        receiving facility named (``facilities.guarding_factor``)."""
        facts = {
            f.name: getattr(calls, f.name).tolist() for f in fields(cls) if f.name != "police_wait"
        }
        district = world.cell_district[calls.cell]
        waits = police_waits(world.districts, district, calls.police_wait_u).tolist()
        if guarding:
            factor = np.array([guarding.get(f, 1.0) for f in world.facility_ids])
            at = factor[world.cell_facility[calls.cell]]
            facts["handover_police"] = (calls.handover_police * at).tolist()
        return cls(**facts, police_wait=waits)


class EventLog:
    """The engine's record of each call, one row per call: the single source of every KPI.

    The engine hands it each call's outcome once (police alone, or a unit's response) and it
    keeps the records as they are; ``columns`` writes them into one array per column."""

    COLUMNS: ClassVar[dict[str, Any]] = {
        "unit": -1,
        "reason": 0,  # position in events.Reason
        "t_health_alerted": NAN,  # the health service (AMK) knows of the call
        "t_police_alerted": NAN,  # police are alerted (NaN when they never come)
        "t_dispatch": NAN,
        "t_first_on_scene": NAN,
        "t_unit_on_scene": NAN,
        "t_police_on_scene": NAN,
        "t_scene_end": NAN,
        "transport_mode": 0,  # position in events.TransportMode
        "t_handover_end": NAN,
        "t_unit_free": NAN,
        "patrol_minutes": 0.0,
        "unit_minutes": 0.0,
        "police_involved": False,
        "backup": False,
    }

    def __init__(self, t_health_alerted: list[float]) -> None:
        self._t_health = t_health_alerted
        self._police: list[tuple[int, int, PoliceResponse]] = []  # (call, reason code, record)
        self._units: list[tuple[int, int, UnitResponse]] = []  # (call, unit, record)

    def police_alone(self, i: int, reason: Reason, r: PoliceResponse) -> None:
        self._police.append((i, REASON_CODE[reason], r))

    def unit_response(self, i: int, unit: int, r: UnitResponse) -> None:
        self._units.append((i, unit, r))

    def columns(self) -> dict[str, np.ndarray]:
        """One array per column of ``COLUMNS``, in its order, each call's row as recorded."""
        n = len(self._t_health)
        cols = {k: np.full(n, v) for k, v in self.COLUMNS.items()}
        cols["t_health_alerted"] = np.array(self._t_health)  # floats
        if self._police:
            i, reason, records = zip(*self._police)  # noqa: B905 - triples: one length
            at, r = np.array(i), _by_field(records)
            cols["reason"][at] = reason
            cols["t_police_alerted"][at] = cols["t_dispatch"][at] = r["alerted"]
            cols["t_first_on_scene"][at] = cols["t_police_on_scene"][at] = r["on_scene"]
            cols["t_scene_end"][at] = r["scene_end"]
            cols["transport_mode"][at] = r["mode"]
            cols["t_handover_end"][at] = r["handover_end"]
            cols["patrol_minutes"][at] = r["released"] - r["assigned"]
            cols["police_involved"][at] = True
        if self._units:
            i, unit, records = zip(*self._units)  # noqa: B905 - triples: one length
            at, u = np.array(i), _by_field(records)
            cols["unit"][at] = unit
            cols["t_police_alerted"][at] = u["police_alerted"]
            cols["t_dispatch"][at] = u["dispatched"]
            # police are on scene before the crew only when alerted at triage (backup comes
            # after the crew); fmin ignores the NaN of a call without police
            cols["t_first_on_scene"][at] = np.fmin(u["unit_on_scene"], u["police_on_scene"])
            cols["t_unit_on_scene"][at] = u["unit_on_scene"]
            cols["t_police_on_scene"][at] = u["police_on_scene"]
            cols["t_scene_end"][at] = u["scene_end"]
            cols["transport_mode"][at] = u["mode"]
            cols["t_handover_end"][at] = u["handover_end"]
            cols["t_unit_free"][at] = u["free"]
            cols["unit_minutes"][at] = u["free"] - u["dispatched"]
            assigned = u["police_assigned"]
            cols["patrol_minutes"][at] = np.where(
                np.isnan(assigned), 0.0, u["police_free"] - assigned
            )
            cols["police_involved"][at] = u["police_involved"]
            cols["backup"][at] = u["backup"]
        return cols


def _by_field(
    records: tuple[PoliceResponse, ...] | tuple[UnitResponse, ...],
) -> dict[str, np.ndarray]:
    """The records' values, one array per field (a transport mode as its code)."""
    out = {}
    by_field = zip(*records)  # noqa: B905 - records of one NamedTuple: one length
    for name, values in zip(records[0]._fields, by_field):  # noqa: B905 - a value per field
        # numpy takes the type from the values: floats, flags, and a mode's integer code
        out[name] = np.array([MODE_CODE[m] for m in values] if name == "mode" else values)
    return out


# --- what responders do once chosen: the timeline of a call, as pure functions ---------------


class PoliceResponse(NamedTuple):
    """Police handle a call alone: minutes from the start of the run."""

    alerted: float
    assigned: float  # a patrol is free and sent
    on_scene: float
    scene_end: float
    mode: TransportMode
    handover_end: float  # NaN unless the patient goes in the police car
    released: float  # the patrol is free again


class UnitResponse(NamedTuple):
    """A unit meets a call (police with it when triage flagged the call or the crew needs
    them): minutes from the start of the run."""

    dispatched: float
    unit_on_scene: float
    police_alerted: float  # NaN when police never come
    police_assigned: float
    police_on_scene: float
    police_leave: float
    police_free: float  # the patrol is back at its station
    scene_end: float
    mode: TransportMode
    handover_end: float
    free: float  # the unit is back at its base, or free after the handover and drive back
    police_involved: bool
    backup: bool  # police came because the crew found they were needed


def police_on_scene(
    calls: CallSheet, drives: Drives, i: int, cell: int, assigned: float, station: int
) -> float:
    """The minute a patrol of ``station`` assigned to call ``i`` (in ``cell``) at ``assigned``
    is on scene."""
    drive = drives.station_to_cell[drives.profile(assigned)][station][cell]
    return assigned + calls.police_mobilisation[i] + drive


def police_response(
    calls: CallSheet,
    drives: Drives,
    i: int,
    cell: int,
    start: float,
    assigned: float,
    station: int,
) -> PoliceResponse:
    """Police alone, alerted at ``start``, a patrol of ``station`` assigned at ``assigned``:
    they come, stay, and drive the patient in their car unless the patient needs an ordinary
    ambulance or goes by one today; then the patrol waits with the patient at the facility
    (the handover, or guarding), and is free once it has driven back to its station."""
    on_scene = police_on_scene(calls, drives, i, cell, assigned, station)
    end = on_scene + calls.police_alone[i]
    mode = TransportMode.NONE
    handover_end = NAN
    if calls.transport[i]:
        if calls.medical[i] or not calls.police_car_today[i]:
            mode = TransportMode.AMBULANCE
        else:
            mode = TransportMode.POLICE_CAR
            handover_end = (
                end + drives.cell_to_facility[drives.profile(end)][cell] + calls.handover_police[i]
            )
    released = _back_at_station(drives, cell, station, end, handover_end)
    return PoliceResponse(start, assigned, on_scene, end, mode, handover_end, released)


def _back(
    drives: Drives,
    from_facility: list[list[list[float]]],
    from_cell: list[list[list[float]]],
    cell: int,
    to: int,
    left: float,
    handover_end: float,
) -> float:
    """The minute a responder is back at ``to`` (``from_facility[profile][facility][to]``,
    ``from_cell[profile][cell][to]``): from its cell's receiving facility after its handover
    there ending at ``handover_end``, or from the scene it left at ``left`` (``handover_end``
    NaN: it drove no patient)."""
    if handover_end == handover_end:
        facility = drives.cell_facility[cell]
        return handover_end + from_facility[drives.profile(handover_end)][facility][to]
    return left + from_cell[drives.profile(left)][cell][to]


def _back_at_base(
    drives: Drives, cell: int, base: int, scene_end: float, handover_end: float
) -> float:
    """The minute a unit is back at ``base`` (``_back``)."""
    return _back(
        drives, drives.facility_to_base, drives.cell_to_base, cell, base, scene_end, handover_end
    )


def _back_at_station(
    drives: Drives, cell: int, station: int, left: float, handover_end: float
) -> float:
    """The minute a patrol is back at ``station``, free for other work (``_back``)."""
    return _back(
        drives, drives.facility_to_station, drives.cell_to_station, cell, station, left,
        handover_end,
    )  # fmt: skip


def police_alert(calls: CallSheet, i: int, unit_on_scene: float, triage_alert: float) -> float:
    """The minute police are alerted to call ``i``, met by a unit on scene at ``unit_on_scene``:
    at ``triage_alert`` if triage flagged it, when the crew finds it needs them if not, and
    never (NaN) if neither."""
    if calls.flagged[i]:
        return triage_alert
    return unit_on_scene if calls.police_needed[i] else NAN


def unit_response(
    calls: CallSheet,
    drives: Drives,
    i: int,
    cell: int,
    base: int,
    dispatched: float,
    eta: float,
    alerted: float,
    assigned: float,
    station: int,
    co_response: bool = False,
) -> UnitResponse:
    """A unit from ``base`` sent at ``dispatched``, on scene ``eta`` minutes later; police
    alerted at ``alerted`` (``police_alert``; NaN when they never come) and a patrol of
    ``station`` assigned at ``assigned``, free once back there. The crew stays until the scene
    is done (with police there if they are needed), transports the patient itself unless an
    ordinary ambulance or a police car must, and drives back to base.

    A ``co_response`` unit has a police officer in it: police are on scene with the crew on
    every call, no patrol is sent (the officer gains entry and restrains, as a street-triage
    officer does), and the unit drives every patient who needs no ordinary ambulance itself."""
    unit_on_scene = dispatched + eta
    end = unit_on_scene + calls.on_scene[i]
    police_there = police_leave = police_free = NAN
    needed, flagged = calls.police_needed[i], calls.flagged[i]
    if co_response:
        mode, handover_end = TransportMode.NONE, NAN
        if calls.transport[i]:
            drive = drives.cell_to_facility[drives.profile(end)][cell]
            if calls.medical[i]:
                mode = TransportMode.AMBULANCE
            else:
                mode = TransportMode.CO_RESPONSE_CAR
                handover_end = end + drive + calls.handover_ambulance[i]
        free = _back_at_base(drives, cell, base, end, handover_end)
        return UnitResponse(
            dispatched, unit_on_scene, NAN, NAN, unit_on_scene, NAN, NAN, end, mode,
            handover_end, free, True, False,
        )  # fmt: skip
    if flagged or needed:
        police_there = police_on_scene(calls, drives, i, cell, assigned, station)
        check = calls.backup_check[i]
        if needed:
            end = max(end, police_there + check)
            police_leave = end
        else:  # police stay until the crew is there, then check and leave
            police_leave = max(police_there, unit_on_scene) + check
    mode, handover_end = TransportMode.NONE, NAN
    if calls.transport[i]:
        drive = drives.cell_to_facility[drives.profile(end)][cell]
        if calls.medical[i]:
            mode = TransportMode.AMBULANCE
        elif calls.force_transport[i]:
            mode = TransportMode.POLICE_CAR
            handover_end = end + drive + calls.handover_police[i]
            police_leave = handover_end
        else:
            mode = TransportMode.PSYCH_AMBULANCE
            handover_end = end + drive + calls.handover_ambulance[i]
    free = _back_at_base(
        drives, cell, base, end, handover_end if mode is TransportMode.PSYCH_AMBULANCE else NAN
    )
    if flagged or needed:
        police_free = _back_at_station(
            drives, cell, station, police_leave,
            handover_end if mode is TransportMode.POLICE_CAR else NAN,
        )  # fmt: skip
    return UnitResponse(
        dispatched,
        unit_on_scene,
        alerted,
        assigned,
        police_there,
        police_leave,
        police_free,
        end,
        mode,
        handover_end,
        free,
        flagged or needed,
        needed and not flagged,
    )


@dataclass(frozen=True)
class FleetReach:
    """How a fleet's bases reach a world's cells, in the lists dispatch reads (``cell``: a
    demand cell; ``profile``: 0 off-peak, 1 rush hour). The same for every replication of the
    fleet, so built once for it (``fleet_reach``); never changed."""

    eta_rows: list[list[list[float]]]  # [profile][unit][cell]: the drive from the unit's base
    nearest: list[list[list[int]]]  # [profile][cell]: the units by that drive (ties by index)
    quickest: list[list[list[float]]]  # [duty pattern][profile][cell]: least of any on duty
    pattern: list[int]  # [hour of week]: the duty pattern then (which units are on duty)


@lru_cache(maxsize=4)
def fleet_reach(
    world: World, bases: tuple[int, ...], on_duty: tuple[tuple[bool, ...], ...]
) -> FleetReach:
    """``FleetReach`` of units at ``bases`` (indices into the world's), each on duty in the
    hours of the week its ``on_duty`` flags say."""
    base = np.array(bases, dtype=int)
    drives = [world.base_to_cell[prof][base] for prof in (0, 1)]  # [profile](unit, cell)
    duty = np.array(on_duty, dtype=bool).reshape(-1, HOURS_PER_WEEK)
    patterns, which = np.unique(duty.T, axis=0, return_inverse=True)
    return FleetReach(
        eta_rows=[d.tolist() for d in drives],
        # a stable sort: ties by index, NaN (no road) last
        nearest=[
            np.argsort(d, axis=0, kind="stable").T.tolist() if len(base) else [] for d in drives
        ],
        quickest=[
            [np.fmin.reduce(d[on], axis=0).tolist() if on.any() else [] for d in drives]
            for on in patterns
        ],
        pattern=which.reshape(-1).tolist(),
    )


class Engine:
    """One replication: a SimPy environment over one call stream, the fleet's units in it, and
    with ``police.model = "patrols"`` the districts' patrols and their other work (``work``,
    one per district; None: none)."""

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        calls: CallStream,
        work: tuple[PoliceWork, ...] | None = None,
    ) -> None:
        self.scenario, self.world, self.calls = scenario, world, calls
        self.env = simpy.Environment()
        self.sheet = CallSheet.of(calls, world, dict(scenario.facilities.guarding_factor))
        self.drives = world.drives
        base_index = {b: i for i, b in enumerate(world.base_ids)}
        shifts = scenario.fleet.shifts
        self.units = [
            Unit(i, base_index.get(u.base, 0), shifts[u.shift].on_duty())
            for i, u in enumerate(scenario.fleet.units)
        ]
        self.waiting = WaitingCalls()
        # plain Python lists: scalar indexing of numpy arrays is slow in the hot loop
        self.cell, self.mob = self.sheet.cell, self.sheet.unit_mobilisation
        sits = [scenario.situations[k] for k in calls.kinds]
        rank = np.array([URGENCY_RANK[s.urgency] for s in sits])[calls.kind]  # ints
        self.rank: list[int] = rank.tolist()
        d = scenario.dispatch
        self.max_wait: list[float] = np.where(
            rank == 2, float(d.max_wait_planned_minutes), float(d.max_wait_minutes)
        ).tolist()
        eligible_kind = np.array([s.health_first_eligible for s in sits])  # flags
        self.eligible: list[bool] = (eligible_kind[calls.kind] & scenario.units_are_active).tolist()
        joint = scenario.call_handling.joint_notification
        police_first = [ch == "police_112" for ch in calls.channels]
        h, p = calls.handling, np.where(joint, 0.0, calls.pass_on)
        by_police = np.array(police_first)[calls.channel]
        self.t_health = (calls.t + h + np.where(by_police, p, 0.0)).tolist()
        self.t_police = (calls.t + h + np.where(by_police, 0.0, p)).tolist()
        self.log = EventLog(self.t_health)
        self.peak: list[int] = self.drives.peak
        self.limit = scenario.dispatch.max_response_minutes
        self.on_duty_count = [sum(u.on_duty[h] for u in self.units) for h in range(168)]
        # the units that come on (off) duty at each hour of the week, and how many on-duty
        # units are free as of hour ``_hour`` (hours since the start): kept up to date as units
        # go busy and free (``_to_hour``, ``_busy``), so a call that finds every unit busy is
        # told at once, without a look at each unit
        self._turns = [
            (
                [u for u in self.units if u.on_duty[h] and not u.on_duty[h - 1]],
                [u for u in self.units if u.on_duty[h - 1] and not u.on_duty[h]],
            )
            for h in range(168)
        ]
        self._hour = 0
        self._free = self.on_duty_count[0]
        reach = fleet_reach(
            world, tuple(u.base for u in self.units), tuple(tuple(u.on_duty) for u in self.units)
        )
        self.eta_rows, self.nearest = reach.eta_rows, reach.nearest
        self._quickest, self._pattern = reach.quickest, reach.pattern
        self.co_response = scenario.dispatch.policy == "co-response"
        self.patrols: Patrols | None = None
        if scenario.police.model == "patrols":
            districts = districts_of(scenario, world)
            if work is None:  # patrols with no other work
                none = PoliceWork(np.zeros(0), np.zeros(0, dtype=int), np.zeros(0), np.zeros(0))
                work = tuple(none for _ in districts)
            horizon = scenario.run.horizon_days * MINUTES_PER_DAY
            self.patrols = Patrols(districts, work, horizon, Stations.of(world))
            priority = scenario.police.mission_priority
            by_kind = np.array([priority[s.urgency] for s in sits])
            self.priority: list[int] = by_kind[calls.kind].tolist()
            self.district: list[int] = world.cell_district[calls.cell].tolist()
            # a flagged call's patrol, sent at triage before the call's story is known: the
            # minute it was given a patrol, or the story waiting for that minute
            self._early: dict[int, Mission] = {}
            self._early_at: dict[int, float] = {}
            self._story: dict[int, Story] = {}

    # --- the story of a call -------------------------------------------------------------
    # SimPy runs what units do: a unit sent on a call is free again at a timeout, and a shift
    # that begins is a timeout of the shift process. The calls come from their sorted stream
    # rather than from a timeout each: before a call is taken, SimPy runs every event due by
    # then (at the same minute, a unit freed or a shift begun comes before the call), so the
    # story is the same at less than half the events.
    def run(self) -> EventLog:
        reason = Reason.BASELINE if not self.scenario.units_are_active else Reason.NOT_ELIGIBLE
        for i in range(len(self.calls)):
            if not self.eligible[i]:
                self._police_alone(i, self.t_police[i], reason)
            elif not self.on_duty_count[int(self.t_health[i]) // MINUTES_PER_HOUR % 168]:
                # shifts are known at call taking: police are sent as if no service existed
                self._police_alone(i, self.t_police[i], Reason.NO_UNIT_ON_DUTY)
        order = sorted(
            (
                i
                for i in range(len(self.calls))
                if self.eligible[i]
                and self.on_duty_count[int(self.t_health[i]) // MINUTES_PER_HOUR % 168]
            ),
            key=self.t_health.__getitem__,
        )
        env, now = self.env, 0.0
        env.process(self._shift_starts())
        if self.patrols is not None:
            for i in order:  # triage sends police to a flagged call at once, whoever meets it
                if self.sheet.flagged[i] and not self.co_response:
                    self._early[i] = m = Mission(
                        self.t_police[i],
                        self.district[i],
                        self.priority[i],
                        functools.partial(self._early_assigned, i),
                        self.cell[i],
                    )
                    self.patrols.request(m)
            for i in order:
                now += self.t_health[i] - now
                self._until(now)
                self._call_arrives(i, now)
            self._until(math.inf)
            return self.log
        for i in order:
            # the minute counted on from the previous call's, as a SimPy clock adds a delay
            now += self.t_health[i] - now
            while env.peek() <= now:
                env.step()
            self._call_arrives(i, now)
        env.run()
        for entry in self.waiting.drain():  # calls still waiting when the run ends
            self._expire(entry)
        return self.log

    def _until(self, when: float) -> None:
        """SimPy and the patrols run together to minute ``when``: the patrols are brought up to
        each minute SimPy acts at before it does (and a patrol given to a mission may set SimPy
        an earlier minute to act at: a unit the patrol frees)."""
        env, patrols = self.env, self.patrols
        assert patrols is not None
        while True:
            nxt = env.peek()
            if patrols.advance(min(nxt, when)):
                continue  # a mission was given a patrol: look again at what SimPy does next
            if nxt <= when and nxt < math.inf:
                env.step()
            else:
                return

    def _early_assigned(self, i: int, minute: float) -> float:
        self._early_at[i] = minute
        story = self._story.pop(i, None)
        return story(minute, self._early[i].station) if story is not None else math.inf

    def _with_patrol(self, i: int, story: Story) -> None:
        """Call ``i``'s story, told the minute its patrol sent at triage was given one and the
        patrol's station (now, if it has been; else when it is) and returning the minute the
        patrol is free."""
        assert self.patrols is not None
        if i in self._early_at:
            mission = self._early[i]
            self.patrols.release(mission, story(self._early_at[i], mission.station))
        else:
            self._story[i] = story

    def _request(self, i: int, t: float, story: Story) -> None:
        """Ask for a patrol for call ``i`` at minute ``t``, told ``story`` once it has one."""
        assert self.patrols is not None

        def assigned(minute: float) -> float:
            return story(minute, mission.station)

        mission = Mission(t, self.district[i], self.priority[i], assigned, self.cell[i])
        self.patrols.request(mission)

    def patrol_records(self) -> tuple[PatrolRecord, ...]:
        """What each district's patrols did (``police.model = "patrols"``; after ``run``)."""
        return self.patrols.records() if self.patrols is not None else ()

    def _at(self, now: float, when: float, then: Callable[[], None]) -> None:
        """Call ``then`` at minute ``when``, counted from ``now`` as a SimPy clock counts a
        delay (``now + (when - now)``).

        SimPy's clock may be behind ``now`` (a call's minute is not one of its events): it is
        given the delay from its own minute, and lands on the same minute exactly once it is
        past half of it (the subtraction is then exact), that is after a run's first hours;
        before, within a unit in the last place."""
        delay = when - now
        if delay < 0:
            raise ValueError(f"negative delay {delay} at t = {now}")
        self.env.timeout(now + delay - self.env.now).callbacks.append(lambda _e: then())

    def _call_arrives(self, i: int, now: float) -> None:
        hour = int(now) // MINUTES_PER_HOUR % HOURS_PER_WEEK
        chosen = self._quickest_free(i, hour, now)
        if chosen is None:
            return self._to_police(i, Reason.OUT_OF_REACH, now)
        if chosen >= 0:
            return self._send(i, self.units[chosen], now)
        # No timer for the deadline: a waiting call is checked when a unit could take it, and one
        # past its deadline goes to police as of that deadline (police need no engine state).
        deadline = now + self.max_wait[i]
        self.waiting.add(i, self.rank[i], now, deadline)
        if self.patrols is not None:  # police are asked at the deadline, not when found late
            self._at(now, deadline, lambda: self._deadline_passes(deadline))
        return None

    def _deadline_passes(self, now: float) -> None:
        for entry in self.waiting.expired(now, at_deadline=True):
            self._expire(entry)

    def _quickest_free(self, i: int, hour: int, now: float) -> int | None:
        """The free on-duty unit that reaches call ``i`` first within the dispatch limit (the
        lowest index of those with the same ETA); -1 if every on-duty unit within the limit is
        busy; None if none is within it.

        The units are looked at in order of their drive to the call's cell (``nearest``), so
        the search stops at the first free one, or at the first beyond the limit: its cost
        does not grow with the fleet while the nearest units are free."""
        prof, cell, mob, limit = self.peak[hour], self.cell[i], self.mob[i], self.limit
        if self._hour < int(now) // MINUTES_PER_HOUR:
            self._to_hour(int(now) // MINUTES_PER_HOUR)
        if not self._free:  # every unit on duty is busy: within reach of one?
            # mob + the quickest drive is the least of mob + each drive (rounding is monotone)
            return -1 if mob + self._quickest[self._pattern[hour]][prof][cell] <= limit else None
        drive, units = self.eta_rows[prof], self.units
        reachable, best, best_eta = False, -1, NAN
        for u in self.nearest[prof][cell]:
            eta = mob + drive[u][cell]
            if not eta <= limit or eta > best_eta:  # beyond the limit (or NaN), or slower
                break
            unit = units[u]
            if not unit.on_duty[hour]:
                continue
            reachable = True
            if not unit.busy and (best < 0 or u < best):
                # drives in order; mob + drive can round two drives to one ETA: lowest index
                best, best_eta = u, eta
        return best if reachable else None

    def _to_hour(self, hour: int) -> None:
        """``_free`` (the units on duty and free) brought up to ``hour`` (hours since the
        start), as units came on and off duty at each hour since."""
        while self._hour < hour:
            self._hour += 1
            on, off = self._turns[self._hour % HOURS_PER_WEEK]
            self._free += sum(not u.busy for u in on) - sum(not u.busy for u in off)

    def _busy(self, unit: Unit, busy: bool, now: float) -> None:
        """A unit goes busy (or free) at ``now``: the count of free on-duty units follows
        (brought up to the hour first, while the unit's state is still the one the past hours
        saw)."""
        hours = int(now) // MINUTES_PER_HOUR
        if self._hour < hours:
            self._to_hour(hours)
        if unit.on_duty[hours % HOURS_PER_WEEK] and unit.busy != busy:
            self._free += -1 if busy else 1
        unit.busy = busy

    def _to_police(self, i: int, reason: Reason, now: float) -> None:
        self._police_alone(i, max(now, self.t_police[i]), reason)

    def _send(self, i: int, unit: Unit, now: float) -> None:
        self._busy(unit, True, now)
        eta = self._eta(unit, i, now)
        sheet, patrols = self.sheet, self.patrols
        station = 0
        if self.co_response:  # the officer rides with the crew: no patrol
            alerted = assigned = NAN
        elif patrols is None:
            alerted = police_alert(sheet, i, now + eta, self.t_police[i])
            assigned = alerted + sheet.police_wait[i]  # NaN when police never come
            if assigned < math.inf:  # not NaN (police never come) nor inf (no patrol)
                station = self._nearest_station(i, assigned)
        else:
            alerted = police_alert(sheet, i, now + eta, self.t_police[i])
            if alerted == alerted:  # police come: the rest waits for a patrol
                needed = sheet.police_needed[i]
                if not needed:  # sent along, not needed: the crew does not wait for them
                    # (its free minute the same whenever the patrol comes: say, now)
                    cell, base = self.cell[i], unit.base
                    near = self._nearest_station(i, now)
                    r = unit_response(sheet, self.drives, i, cell, base, now, eta, now, now, near)
                    self._at(now, now + (r.free - now), lambda: self._release(unit))

                def assigned_to(minute: float, station: int) -> float:
                    r = self._unit_story(i, unit, now, eta, alerted, minute, station)
                    if needed:  # the crew waits for the patrol: free once the story says
                        self._at(self.env.now, r.free, lambda: self._release(unit))
                    return r.police_free

                if i in self._early:  # flagged: the patrol sent at triage
                    self._with_patrol(i, assigned_to)
                else:  # backup, asked for when the crew finds it needs police
                    self._request(i, alerted, assigned_to)
                return
            assigned = NAN
        r = self._unit_story(i, unit, now, eta, alerted, assigned, station)
        # free after its busy minutes, as the log has them (free - now)
        self._at(now, now + (r.free - now), lambda: self._release(unit))

    def _unit_story(
        self,
        i: int,
        unit: Unit,
        now: float,
        eta: float,
        alerted: float,
        assigned: float,
        station: int,
    ) -> UnitResponse:
        r = unit_response(
            self.sheet,
            self.drives,
            i,
            self.cell[i],
            unit.base,
            now,
            eta,
            alerted,
            assigned,
            station,
            self.co_response,
        )
        self.log.unit_response(i, unit.index, r)
        return r

    # --- dispatch ------------------------------------------------------------------------
    def _eta(self, unit: Unit, i: int, now: float) -> float:
        prof = self.peak[int(now) // MINUTES_PER_HOUR % HOURS_PER_WEEK]
        return self.mob[i] + self.eta_rows[prof][unit.index][self.cell[i]]

    def _expire(self, entry: Waiting) -> None:
        self._police_alone(
            entry.call, max(entry.deadline, self.t_police[entry.call]), Reason.WAITED_TOO_LONG
        )

    def _nearest_station(self, i: int, minute: float) -> int:
        """The nearest police station of call ``i``'s district, in the traffic of ``minute``:
        the one a patrol comes from and goes back to in the erlang model."""
        return self.drives.nearest_station[self.drives.profile(minute)][self.cell[i]]

    def _police_alone(self, i: int, start: float, reason: Reason) -> None:
        cell = self.cell[i]
        if self.patrols is None:
            assigned = start + self.sheet.police_wait[i]
            station = self._nearest_station(i, assigned) if assigned < math.inf else 0
            r = police_response(self.sheet, self.drives, i, cell, start, assigned, station)
            self.log.police_alone(i, reason, r)
            return

        early = i in self._early
        alerted = self.t_police[i] if early else start

        def assigned_to(minute: float, station: int) -> float:
            r = police_response(self.sheet, self.drives, i, cell, alerted, minute, station)
            if r.released < start:  # sent at triage, the patrol waited for a unit till now
                r = r._replace(released=start)
            self.log.police_alone(i, reason, r)
            return r.released

        if early:
            self._with_patrol(i, assigned_to)
        else:
            self._request(i, start, assigned_to)

    def _release(self, unit: Unit) -> None:
        now = self.env.now
        self._busy(unit, False, now)
        if self.waiting and unit.on_duty[int(now) // MINUTES_PER_HOUR % HOURS_PER_WEEK]:
            self._take_waiting(unit, now)

    def _take_waiting(self, unit: Unit, now: float) -> None:
        limit = self.limit
        for entry in self.waiting.expired(now):
            self._expire(entry)
        taken = self.waiting.take(lambda call: self._eta(unit, call, now) <= limit)
        if taken is not None:
            self._send(taken.call, unit, now)

    def _shift_starts(self) -> Generator[simpy.Event, Any, None]:
        """At each hour a unit comes on duty, let it take a waiting call."""
        if not self.units:
            return
        horizon = self.scenario.run.horizon_days * MINUTES_PER_DAY
        starts = [
            [u for u in self.units if u.on_duty[h] and not u.on_duty[(h - 1) % HOURS_PER_WEEK]]
            for h in range(168)
        ]
        hour = 1
        while hour * 60.0 < horizon:
            yield self.env.timeout(hour * 60.0 - self.env.now)
            for u in starts[hour % HOURS_PER_WEEK]:
                if not u.busy and self.waiting:
                    self._take_waiting(u, self.env.now)
            hour += 1
            while hour * 60.0 < horizon and not starts[hour % HOURS_PER_WEEK]:
                hour += 1
