"""The discrete-event engine: psychiatric ambulance units, shifts, queueing and police fallback.

SimPy runs the contested part — units that are free or busy, on or off duty, and calls that wait
for them. Everything a call does once a responder is chosen is a fixed sequence of durations
(drive, scene, transport, handover, drive back) drawn in advance, so each call's story is a
short generator: ask for a unit, hold it for the computed time, give it back.

Police are not simulated as individual patrols: their availability for a psychiatric call comes
from an M/M/c model of their other work (see ``world.PoliceDistrict``), psychiatric calls being a
small share of police work.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import simpy

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_DAY, MINUTES_PER_HOUR
from planner.scenario.model import Scenario
from planner.sim.demand import CallStream
from planner.sim.events import MODE_CODE, REASON_CODE, Reason, TransportMode
from planner.sim.world import World, police_wait

URGENCY_RANK = {"acute": 0, "urgent": 1, "planned": 2}
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

    def expired(self, now: float) -> list[Waiting]:
        """Take out and return every call whose deadline is before ``now``."""
        out = []
        while self._deadlines and self._deadlines[0][0] < now:
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


class EventLog:
    """Column arrays, one row per call; the single source of every KPI."""

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

    def __init__(self, n: int) -> None:
        self.cols: dict[str, list[Any]] = {k: [v] * n for k, v in self.COLUMNS.items()}

    def police_alone(self, i: int, reason: Reason, r: PoliceResponse) -> None:
        alerted, assigned, on_scene, scene_end, mode, handover_end, released = r
        col = self.cols
        col["reason"][i] = REASON_CODE[reason]
        col["t_police_alerted"][i] = alerted
        col["t_dispatch"][i] = alerted
        col["t_first_on_scene"][i] = on_scene
        col["t_police_on_scene"][i] = on_scene
        col["t_scene_end"][i] = scene_end
        col["transport_mode"][i] = MODE_CODE[mode]
        col["t_handover_end"][i] = handover_end
        col["patrol_minutes"][i] = released - assigned
        col["police_involved"][i] = True

    def unit_response(self, i: int, unit: int, r: UnitResponse) -> None:
        # the record's fields as locals: a call's row is written in the engine's inner loop
        (dispatched, unit_on_scene, police_alerted, police_assigned, police_on_scene,
         police_leave, scene_end, mode, handover_end, free, involved, backup) = r  # fmt: skip
        col = self.cols
        col["unit"][i] = unit
        col["t_police_alerted"][i] = police_alerted
        col["t_dispatch"][i] = dispatched
        # police are on scene before the crew only when alerted at triage (backup comes after
        # the crew); fmin ignores the NaN of a call without police
        col["t_first_on_scene"][i] = float(np.fmin(unit_on_scene, police_on_scene))
        col["t_unit_on_scene"][i] = unit_on_scene
        col["t_police_on_scene"][i] = police_on_scene
        col["t_scene_end"][i] = scene_end
        col["transport_mode"][i] = MODE_CODE[mode]
        col["t_handover_end"][i] = handover_end
        col["t_unit_free"][i] = free
        col["unit_minutes"][i] = free - dispatched
        col["patrol_minutes"][i] = (
            0.0 if math.isnan(police_assigned) else police_leave - police_assigned
        )
        col["police_involved"][i] = involved
        col["backup"][i] = backup


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
    scene_end: float
    mode: TransportMode
    handover_end: float
    free: float  # the unit is back at its base, or free after the handover and drive back
    police_involved: bool
    backup: bool  # police came because the crew found they were needed


def police_arrival(
    calls: CallStream, world: World, i: int, cell: int, start: float
) -> tuple[float, float]:
    """(time a patrol is assigned, time it is on scene) for call ``i`` in ``cell``, police
    alerted at ``start``."""
    wait = police_wait(world.districts[int(world.cell_district[cell])], calls.police_wait_u[i])
    assigned = start + wait
    drive = float(world.police_to_cell[world.profile(assigned), cell])
    return assigned, assigned + float(calls.police_mobilisation[i]) + drive


def police_response(
    calls: CallStream, world: World, i: int, cell: int, start: float
) -> PoliceResponse:
    """Police alone, alerted at ``start``: they come, stay, and drive the patient in their car
    unless the patient needs an ordinary ambulance or goes by one today."""
    assigned, on_scene = police_arrival(calls, world, i, cell, start)
    end = on_scene + float(calls.police_alone[i])
    mode = TransportMode.NONE
    handover_end = NAN
    if calls.transport[i]:
        if calls.medical[i] or not calls.police_car_today[i]:
            mode = TransportMode.AMBULANCE
        else:
            mode = TransportMode.POLICE_CAR
            handover_end = (
                end
                + float(world.cell_to_facility[world.profile(end), cell])
                + float(calls.handover_police[i])
            )
    released = handover_end if mode is TransportMode.POLICE_CAR else end
    return PoliceResponse(start, assigned, on_scene, end, mode, handover_end, released)


def unit_response(
    calls: CallStream,
    world: World,
    i: int,
    cell: int,
    base: int,
    dispatched: float,
    eta: float,
    triage_alert: float,
) -> UnitResponse:
    """A unit from ``base`` sent at ``dispatched``, on scene ``eta`` minutes later; police
    alerted at ``triage_alert`` if triage flagged the call, else when the crew finds it needs
    them. The crew stays until the scene is done (with police there if they are needed),
    transports the patient itself unless an ordinary ambulance or a police car must, and drives
    back to base."""
    unit_on_scene = dispatched + eta
    end = unit_on_scene + float(calls.on_scene[i])
    police_on_scene = police_assigned = police_leave = alerted = NAN
    needed, flagged = bool(calls.police_needed[i]), bool(calls.flagged[i])
    if flagged or needed:
        alerted = triage_alert if flagged else unit_on_scene
        police_assigned, police_on_scene = police_arrival(calls, world, i, cell, alerted)
        check = float(calls.backup_check[i])
        if needed:
            end = max(end, police_on_scene + check)
            police_leave = end
        else:  # police stay until the crew is there, then check and leave
            police_leave = max(police_on_scene, unit_on_scene) + check
    mode, handover_end = TransportMode.NONE, NAN
    if calls.transport[i]:
        drive = float(world.cell_to_facility[world.profile(end), cell])
        if calls.medical[i]:
            mode = TransportMode.AMBULANCE
        elif calls.force_transport[i]:
            mode = TransportMode.POLICE_CAR
            handover_end = end + drive + float(calls.handover_police[i])
            police_leave = handover_end
        else:
            mode = TransportMode.PSYCH_AMBULANCE
            handover_end = end + drive + float(calls.handover_ambulance[i])
    if mode is TransportMode.PSYCH_AMBULANCE:
        facility = int(world.cell_facility[cell])
        back = world.facility_to_base[world.profile(handover_end), facility, base]
        free = handover_end + float(back)
    else:
        free = end + float(world.cell_to_base[world.profile(end), cell, base])
    return UnitResponse(
        dispatched,
        unit_on_scene,
        alerted,
        police_assigned,
        police_on_scene,
        police_leave,
        end,
        mode,
        handover_end,
        free,
        flagged or needed,
        needed and not flagged,
    )


class Engine:
    """One replication: a SimPy environment over one call stream."""

    def __init__(self, scenario: Scenario, world: World, calls: CallStream) -> None:
        self.scenario, self.world, self.calls = scenario, world, calls
        self.env = simpy.Environment()
        self.log = EventLog(len(calls))
        base_index = {b: i for i, b in enumerate(world.base_ids)}
        shifts = scenario.fleet.shifts
        self.units = [
            Unit(i, base_index.get(u.base, 0), shifts[u.shift].on_duty())
            for i, u in enumerate(scenario.fleet.units)
        ]
        self.waiting = WaitingCalls()
        # plain Python lists: scalar indexing of numpy arrays is slow in the hot loop
        self.cell: list[int] = calls.cell.tolist()
        self.mob: list[float] = calls.unit_mobilisation.tolist()
        sits = [scenario.situations[k] for k in calls.kinds]
        self.rank = [URGENCY_RANK[sits[k].urgency] for k in calls.kind.tolist()]
        self.max_wait = [
            scenario.dispatch.max_wait_planned_minutes
            if r == 2
            else scenario.dispatch.max_wait_minutes
            for r in self.rank
        ]
        eligible_kind = [s.health_first_eligible for s in sits]
        active = scenario.units_are_active
        self.eligible = [active and eligible_kind[k] for k in calls.kind.tolist()]
        joint = scenario.call_handling.joint_notification
        police_first = [ch == "police_112" for ch in calls.channels]
        h, p = calls.handling, np.where(joint, 0.0, calls.pass_on)
        by_police = np.array(police_first)[calls.channel]
        self.t_health = (calls.t + h + np.where(by_police, p, 0.0)).tolist()
        self.t_police = (calls.t + h + np.where(by_police, 0.0, p)).tolist()
        self.peak: list[int] = world.peak.tolist()
        self.eta_rows: list[list[list[float]]] = [
            [world.base_to_cell[prof, u.base].tolist() for u in self.units] for prof in (0, 1)
        ]
        bases = np.array([u.base for u in self.units], dtype=int)
        self.on_duty_count = [sum(u.on_duty[h] for u in self.units) for h in range(168)]
        # the units that come on (off) duty at each hour of the week, and how many on-duty
        # units are free as of hour ``_hour`` (hours since the start): kept up to date as units
        # go busy and free (``_free_on_duty``), so a call that finds every unit busy is told at
        # once, without a look at each unit
        self._turns = [
            (
                [u for u in self.units if u.on_duty[h] and not u.on_duty[h - 1]],
                [u for u in self.units if u.on_duty[h - 1] and not u.on_duty[h]],
            )
            for h in range(168)
        ]
        self._hour = 0
        self._free = self.on_duty_count[0]
        # per hour of the week: the quickest drive to each cell of any unit then on duty, so
        # whether a call is within reach is known without a look at each unit
        duty = np.array([u.on_duty for u in self.units], dtype=bool).reshape(-1, 168)
        patterns, which = np.unique(duty.T, axis=0, return_inverse=True)
        self._pattern: list[int] = which.reshape(-1).tolist()
        self._reach = [
            [
                np.fmin.reduce(world.base_to_cell[prof][bases[on]], axis=0).tolist()
                if on.any()
                else []
                for prof in (0, 1)
            ]
            for on in patterns
        ]
        # per traffic profile and cell, every unit's index by its drive from base to the cell
        # (ties by index: a stable sort); NaN drives last
        self.nearest = [
            np.argsort(world.base_to_cell[prof][bases], axis=0, kind="stable").T.tolist()
            if len(bases)
            else []
            for prof in (0, 1)
        ]

    # --- the story of a call -------------------------------------------------------------
    # Calls and units move by callbacks on SimPy timeouts rather than by one generator process
    # per call: the story is the same (arrive, find a unit or queue or go to police, hold the
    # unit, free it), at a third of the events.
    def run(self) -> EventLog:
        reason = Reason.BASELINE if not self.scenario.units_are_active else Reason.NOT_ELIGIBLE
        self.log.cols["t_health_alerted"] = list(self.t_health)
        for i in range(len(self.calls)):
            if not self.eligible[i]:
                self._police_alone(i, self.t_police[i], reason)
        self._order = sorted(
            (i for i in range(len(self.calls)) if self.eligible[i]), key=self.t_health.__getitem__
        )
        self._next = 0
        self._next_arrival()
        self.env.process(self._shift_starts())
        self.env.run()
        for entry in self.waiting.drain():  # calls still waiting when the run ends
            self._expire(entry)
        return self.log

    def _at(self, when: float, then: Callable[[], None]) -> None:
        delay = when - self.env.now
        if delay < 0:
            raise ValueError(f"negative delay {delay} at t = {self.env.now}")
        self.env.timeout(delay).callbacks.append(lambda _e: then())

    def _next_arrival(self) -> None:
        if self._next < len(self._order):
            i = self._order[self._next]
            self._next += 1
            self._at(self.t_health[i], lambda: self._call_arrives(i))

    def _call_arrives(self, i: int) -> None:
        self._next_arrival()
        now = self.env.now
        hour = int(now) // MINUTES_PER_HOUR % HOURS_PER_WEEK
        if not self.on_duty_count[hour]:
            # shifts are known at call taking: police are sent as if no service existed
            return self._police_alone(i, self.t_police[i], Reason.NO_UNIT_ON_DUTY)
        chosen = self._quickest_free(i, hour)
        if chosen is None:
            return self._to_police(i, Reason.OUT_OF_REACH)
        if chosen >= 0:
            return self._send(i, self.units[chosen])
        # No timer for the deadline: a waiting call is checked when a unit could take it, and one
        # past its deadline goes to police as of that deadline (police need no engine state).
        self.waiting.add(i, self.rank[i], now, now + self.max_wait[i])
        return None

    def _quickest_free(self, i: int, hour: int) -> int | None:
        """The free on-duty unit that reaches call ``i`` first within the dispatch limit (the
        lowest index of those with the same ETA); -1 if every on-duty unit within the limit is
        busy; None if none is within it.

        The units are looked at in order of their drive to the call's cell (``nearest``), so
        the search stops at the first free one, or at the first beyond the limit: its cost
        does not grow with the fleet while the nearest units are free."""
        prof, cell, mob = self.peak[hour], self.cell[i], self.mob[i]
        limit = self.scenario.dispatch.max_response_minutes
        if not self._free_on_duty():  # every unit on duty is busy: within reach of one?
            # mob + the quickest drive is the least of mob + each drive (rounding is monotone)
            return -1 if mob + self._reach[self._pattern[hour]][prof][cell] <= limit else None
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

    def _free_on_duty(self) -> int:
        """How many units are on duty and free now (``_free`` brought up to the hour)."""
        hour = int(self.env.now) // 60
        while self._hour < hour:
            self._hour += 1
            on, off = self._turns[self._hour % HOURS_PER_WEEK]
            self._free += sum(not u.busy for u in on) - sum(not u.busy for u in off)
        return self._free

    def _busy(self, unit: Unit, busy: bool) -> None:
        """A unit goes busy (or free): the count of free on-duty units follows (brought up to
        the hour first, while the unit's state is still the one the past hours saw)."""
        self._free_on_duty()
        if unit.on_duty[self._hour_now()] and unit.busy != busy:
            self._free += -1 if busy else 1
        unit.busy = busy

    def _hour_now(self) -> int:
        return int(self.env.now) // MINUTES_PER_HOUR % HOURS_PER_WEEK

    def _to_police(self, i: int, reason: Reason) -> None:
        self._police_alone(i, max(self.env.now, self.t_police[i]), reason)

    def _send(self, i: int, unit: Unit) -> None:
        self._busy(unit, True)
        now = self.env.now
        r = unit_response(
            self.calls,
            self.world,
            i,
            self.cell[i],
            unit.base,
            now,
            self._eta(unit, i, now),
            self.t_police[i],
        )
        self.log.unit_response(i, unit.index, r)
        # free after its busy minutes, as the log has them (free - now)
        self._at(now + (r.free - now), lambda: self._release(unit))

    # --- dispatch ------------------------------------------------------------------------
    def _eta(self, unit: Unit, i: int, now: float) -> float:
        prof = self.peak[int(now) // MINUTES_PER_HOUR % HOURS_PER_WEEK]
        return self.mob[i] + self.eta_rows[prof][unit.index][self.cell[i]]

    def _expire(self, entry: Waiting) -> None:
        self._police_alone(
            entry.call, max(entry.deadline, self.t_police[entry.call]), Reason.WAITED_TOO_LONG
        )

    def _police_alone(self, i: int, start: float, reason: Reason) -> None:
        r = police_response(self.calls, self.world, i, self.cell[i], start)
        self.log.police_alone(i, reason, r)

    def _release(self, unit: Unit) -> None:
        self._busy(unit, False)
        if self.waiting and unit.on_duty[self._hour_now()]:
            self._take_waiting(unit)

    def _take_waiting(self, unit: Unit) -> None:
        now, limit = self.env.now, self.scenario.dispatch.max_response_minutes
        for entry in self.waiting.expired(now):
            self._expire(entry)
        taken = self.waiting.take(lambda call: self._eta(unit, call, now) <= limit)
        if taken is not None:
            self._send(taken.call, unit)

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
                    self._take_waiting(u)
            hour += 1
            while hour * 60.0 < horizon and not starts[hour % HOURS_PER_WEEK]:
                hour += 1
