"""Police patrols as a finite resource: each district's patrols, their other work, and the
psychiatric missions that compete with it for them (``police.model = "patrols"``).

A district has a number of patrols on duty in each hour of the week (``police.patrols`` times
``police.duty_profile``). Its other work arrives as a Poisson stream of assignments of three
priorities (``police.work_shares``): urgent P1, ordinary P2 and low-priority P3, at a rate that
follows the patrols on duty so that their other work takes ``police.other_work_utilisation`` of
their time, each holding a patrol for an exponential time of mean ``police.other_job`` minutes
(its drive included). A psychiatric mission asks for a patrol at the minute police are alerted,
in the priority of its situation's urgency (``police.mission_priority``), and holds it for the
whole of its story — drive, scene, transport, guarding at the receiving facility — which the
engine tells once the patrol is known (``Mission.assigned``).

Who gets a patrol that comes free (``Patrols``): the waiting work in order of priority, then of
asking, as SimPy's ``PriorityResource`` orders requests by ``(priority, time)``; work a patrol
was taken from resumes before anything else of its priority. A P1 assignment that finds no
patrol free takes one from the other work of the lowest priority it may (``police.preempt``),
the one begun last; that work waits for the next patrol, with the minutes it had left. A
psychiatric mission is never interrupted, and neither is P1 work. Patrols come on and off duty
on the hour; a patrol busy when its district has more on duty than its rota says finishes its
work and goes off duty then.

The patrols model is a queue of its own, run beside SimPy by the engine (``Engine``): it is
brought up to each minute SimPy is about to act at, and stops after each mission it gives a
patrol, so that what follows from the patrol — a unit freed, a log written — comes in order.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_DAY, MINUTES_PER_HOUR
from planner.scenario.model import Scenario
from planner.sim.world import World

INF = math.inf
PRIORITIES: tuple[Literal["p1", "p2", "p3"], ...] = ("p1", "p2", "p3")
"""The priorities of police work, most urgent first (1, 2, 3)."""
PREEMPT_FROM = {"p2": 2, "p3": 3, "none": 4}
"""``police.preempt`` as the most urgent priority P1 may take a patrol from (4: none)."""


@dataclass(frozen=True)
class District:
    """A police district's patrols: how many are on duty in each hour of the week (Monday
    00-01 first), the response target for its urgent assignments, the most urgent priority
    of other work a P1 assignment may take a patrol from (4: none), and the stations its
    patrols drive from with each one's patrols on duty by hour (``stations``: the world's
    station indices; empty, one station of its own, numbered as the district is)."""

    name: str
    on_duty: tuple[int, ...]
    target: float  # minutes from alert to on scene, P1
    preempt_from: int
    stations: tuple[int, ...] = ()
    station_duty: tuple[tuple[int, ...], ...] = ()  # [station][hour of week]

    @property
    def mean_on_duty(self) -> float:
        return sum(self.on_duty) / HOURS_PER_WEEK


def split_duty(on_duty: tuple[int, ...], shares: tuple[float, ...]) -> tuple[tuple[int, ...], ...]:
    """The patrols on duty in each hour shared out among stations in proportion to ``shares``,
    by largest remainder (ties to the first station), so that every hour's patrols add up."""
    total = sum(shares)
    weights = [s / total for s in shares] if total else [1.0 / len(shares)] * len(shares)
    out: list[list[int]] = [[] for _ in shares]
    for n in on_duty:
        quota = [n * w for w in weights]
        whole = [math.floor(q) for q in quota]
        rest = sorted(range(len(quota)), key=lambda k: (whole[k] - quota[k], k))
        for k in rest[: n - sum(whole)]:
            whole[k] += 1
        for k, w in enumerate(whole):
            out[k].append(w)
    return tuple(tuple(row) for row in out)


def duty_by_hour(patrols: int, profile: tuple[float, ...]) -> tuple[int, ...]:
    """Patrols on duty in each of the 168 hours of the week: ``patrols`` times the hour of
    day's factor over the factors' mean, rounded half up (a district of 0 patrols has none)."""
    mean = sum(profile) / len(profile)
    day = [math.floor(patrols * f / mean + 0.5) for f in profile]
    return tuple(day[h % 24] for h in range(HOURS_PER_WEEK))


def districts_of(scenario: Scenario, world: World) -> tuple[District, ...]:
    """The world's police districts, in its order, with the scenario's rota and targets."""
    police = scenario.police
    out = []
    for d, (name, erlang) in enumerate(zip(world.district_names, world.districts, strict=True)):
        on_duty = duty_by_hour(erlang.patrols, police.duty_profile)
        shares = world.station_shares(d)
        out.append(
            District(
                name,
                on_duty,
                police.p1_target_by_district.get(name, police.p1_target_minutes),
                PREEMPT_FROM[police.preempt],
                tuple(shares),
                split_duty(on_duty, tuple(shares.values())) if shares else (),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Stations:
    """Where patrols drive from: for each demand cell the stations of its district nearest
    first (``order``, the world's station indices), and the drives from each station
    (``drive[profile, station, cell]``, with the traffic profile of each hour of the week,
    ``peak``). A patrol is sent from the nearest station with one free."""

    order: list[list[int]]
    drive: np.ndarray
    peak: np.ndarray
    cell_district: np.ndarray

    @classmethod
    def of(cls, world: World) -> Stations:
        return cls(world.station_order, world.station_to_cell, world.peak, world.cell_district)


@dataclass(frozen=True)
class PoliceWork:
    """One district's other assignments in one replication, in order of arrival (minutes from
    the start of the run)."""

    t: np.ndarray
    priority: np.ndarray  # 1, 2 or 3
    work: np.ndarray  # minutes the assignment holds a patrol, its drive included
    mobilisation: np.ndarray  # minutes from a patrol assigned to it to the patrol on its way
    cell: np.ndarray | None = None  # the demand cell it is in (None: every one in cell 0)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def cells(self) -> np.ndarray:
        """Each assignment's demand cell (all 0 when ``cell`` is None)."""
        return self.cell if self.cell is not None else np.zeros(len(self.t), dtype=int)


def police_work(
    scenario: Scenario,
    world: World,
    districts: tuple[District, ...],
    rng: np.random.Generator,
) -> tuple[PoliceWork, ...]:
    """Every district's other assignments over the run horizon, from its own child of ``rng``
    (one stream per district, so a change to one district leaves the others' work as it was).

    In hour h a district's assignments arrive at ``u x n(h) / m`` a minute (``u`` the other
    work's share of patrol time, ``n(h)`` patrols on duty, ``m`` the mean assignment), so the
    offered work is ``u`` of the patrols on duty in every hour. Each is placed in a demand cell
    of the district in proportion to its people; its response is the police mobilisation and
    the drive from the station of the patrol that takes it (``PatrolRecord.reach``)."""
    police = scenario.police
    horizon = scenario.run.horizon_days * MINUTES_PER_DAY
    hours = int(np.ceil(scenario.run.horizon_days * 24))
    shares = np.array([police.work_shares.get(p, 0.0) for p in PRIORITIES])
    out = []
    for d_idx, (district, g) in enumerate(zip(districts, rng.spawn(len(districts)), strict=True)):
        arrivals, within, prio, work, place, mob = g.spawn(6)
        duty = np.asarray(district.on_duty, dtype=float)[np.arange(hours) % HOURS_PER_WEEK]
        per_hour = police.other_work_utilisation * duty / police.other_job * MINUTES_PER_HOUR
        counts = arrivals.poisson(per_hour)
        start = np.repeat(np.arange(hours, dtype=float) * MINUTES_PER_HOUR, counts)
        t = np.sort(start + within.random(start.size) * MINUTES_PER_HOUR)
        t = t[t < horizon]
        n = t.size
        priority = prio.choice(3, size=n, p=shares / shares.sum()) + 1
        cells = np.flatnonzero(world.cell_district == d_idx)
        people = world.cell_population[cells]
        if cells.size and people.sum() > 0:
            cell = cells[place.choice(cells.size, size=n, p=people / people.sum())]
        else:
            cell = np.zeros(n, dtype=int)
        mobilisation = police.mobilisation.sample(mob, n)
        out.append(
            PoliceWork(t, priority, work.exponential(police.other_job, n), mobilisation, cell)
        )
    return tuple(out)


class Mission:
    """A psychiatric mission's request for a patrol of ``district`` (its index) to demand cell
    ``cell``: asked at minute ``t`` in ``priority``; ``assigned(minute)`` is told the minute a
    patrol is given to it (its ``station`` set before) and returns the minute the patrol is
    free again (the mission's story, which the engine knows once the patrol is), or ``inf`` if
    that is not known yet: ``Patrols.release`` tells it."""

    __slots__ = ("assigned", "cell", "district", "priority", "station", "t")

    def __init__(
        self,
        t: float,
        district: int,
        priority: int,
        assigned: Callable[[float], float],
        cell: int = 0,
    ) -> None:
        self.t, self.district, self.priority, self.assigned = t, district, priority, assigned
        self.cell, self.station = cell, -1


def _told(minute: float) -> float:
    raise RuntimeError(f"a mission given a patrol again at minute {minute}")  # pragma: no cover


Job = int | Mission
"""What a patrol works on: a background assignment (its index in arrival order) or a mission."""


@dataclass(frozen=True)
class PatrolRecord:
    """What a district's patrols did in one replication: for each of its other assignments the
    minute a patrol first took it (NaN if none did before the run ended) and the minutes from
    then to the patrol on scene (``reach``: its mobilisation and the drive from its station),
    and every stretch of time a patrol was busy, on other work or on a mission
    (``busy_start``, ``busy_end``)."""

    district: District
    work: PoliceWork
    first_start: np.ndarray
    busy_start: np.ndarray
    busy_end: np.ndarray
    reach: np.ndarray | None = None  # None: the mobilisation alone

    @property
    def response(self) -> np.ndarray:
        """Minutes from each assignment's alert to a patrol on scene (NaN if never taken)."""
        reach = self.work.mobilisation if self.reach is None else self.reach
        r: np.ndarray = self.first_start - self.work.t + reach
        return r


class Patrols:
    """Every district's patrols through one replication: in each, a queue of three priorities
    served by the patrols of its stations (``District.station_duty`` on duty at each), fed by
    its other work and by the engine's missions; the districts run on one clock, so that their
    events come in one order. A patrol is sent from the station nearest the work that has one
    free (``Stations``; without them, each district's patrols are at one station of its own).

    ``request`` a patrol for a mission at a minute not before the patrols' own (``now``);
    ``advance(until)`` runs the patrols to that minute and returns True when it stopped early,
    just after giving a patrol to a mission (its ``assigned`` has been called). Sort key of a
    district's waiting work: priority, then minute of asking, then order of asking; work taken
    off a patrol by a P1 assignment goes first among its priority."""

    def __init__(
        self,
        districts: tuple[District, ...],
        works: tuple[PoliceWork, ...],
        horizon: float,
        stations: Stations | None = None,
    ) -> None:
        self.districts, self.works, self.stations = districts, works, stations
        self.now = 0.0
        t = np.concatenate([w.t for w in works]) if works else np.zeros(0)
        of = np.concatenate([np.full(len(w), d) for d, w in enumerate(works)]) if works else t
        order = np.argsort(t, kind="stable")  # by minute; at one minute, by district
        self._order = order
        self._arrival = t[order].tolist()
        self._district: list[int] = of[order].astype(int).tolist()
        prio = np.concatenate([w.priority for w in works]) if works else t
        left = np.concatenate([w.work for w in works]) if works else t
        cell = np.concatenate([w.cells for w in works]) if works else t
        self._priority: list[int] = prio[order].astype(int).tolist()
        self._left: list[float] = left[order].tolist()  # minutes left, for work taken off
        self._cell: list[int] = cell[order].astype(int).tolist()
        self._first = [math.nan] * len(t)
        self._first_slot = [-1] * len(t)
        self._k = 0  # next assignment to arrive
        self._preempt_from = [d.preempt_from for d in districts]
        # the stations' patrols, one slot each: its world station, district and rota
        self._station: list[int] = []  # world station index (the district's, for one of its own)
        rotas: list[tuple[int, ...]] = []
        owner: list[int] = []
        for d, district in enumerate(districts):
            if district.stations:
                self._station += district.stations
                rotas += district.station_duty
                owner += [d] * len(district.stations)
            else:
                self._station.append(d)
                rotas.append(district.on_duty)
                owner.append(d)
        slot_of = {(o, g): k for k, (o, g) in enumerate(zip(owner, self._station, strict=True))}
        # a district's slots in its order (where patrols are sent from without stations)
        self._own = own = [
            [k for k, o in enumerate(owner) if o == d] for d in range(len(districts))
        ]
        # [cell]: the slots of the cell's district, nearest first; without stations, none
        self._near: list[list[int]] | None = None
        if stations is not None:
            self._near = [
                [slot_of[d, g] for g in row if (d, g) in slot_of] or own[d]
                for row, d in zip(stations.order, stations.cell_district.tolist(), strict=True)
            ]
        # each assignment's slots, nearest first
        near = self._near
        self._rows = (
            [near[c] for c in self._cell] if near is not None else [own[d] for d in self._district]
        )
        # the minutes a rota changes, the slot and its patrols on duty from then
        hours = math.ceil(horizon / MINUTES_PER_HOUR)
        self._cap = [r[0] for r in rotas]
        self._turns = _rota_turns(rotas, owner, hours)
        self._ti = 0
        self._busy = [0] * len(rotas)  # by slot
        self._free = [0] * len(districts)  # patrols on duty and free, by district
        for k, d in enumerate(owner):
            self._free[d] += self._cap[k]
        self._done: list[tuple[float, int, Job]] = []  # heap: (end, token, job)
        # a background assignment's token while a patrol has it (-1 when none has), the minute
        # it began there and the slot of the patrol; a mission's minute it began, its token
        # and slot (missions are never interrupted)
        self._live = [-1] * len(t)
        self._began = [0.0] * len(t)
        self._slot = [0] * len(t)
        self._missions: dict[Mission, tuple[float, int, int]] = {}
        # by district and priority: work begun that P1 may take a patrol from, (token, job)
        self._taken: list[tuple[list[tuple[int, int]], ...]] = [([], [], [], []) for _ in districts]
        self._queues: list[tuple[deque[Job], ...]] = [
            (deque(), deque(), deque(), deque()) for _ in districts
        ]
        self._queued = [0] * len(districts)
        self._asked: list[tuple[float, int, Mission]] = []  # heap: missions not yet due
        self._token = itertools.count()
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._of: list[int] = []  # the district of each busy stretch
        self._unfinished: int | None = None  # a district left dispatching after a mission
        # no event of the patrols before this minute (as of the last ``advance``, ``request``
        # and ``release``): a call to ``advance`` short of it has nothing to do
        self._next = -INF

    def request(self, mission: Mission) -> None:
        if mission.t < self.now:
            raise ValueError(
                f"a patrol asked for at minute {mission.t} after the patrols' minute {self.now}"
            )
        heapq.heappush(self._asked, (mission.t, next(self._token), mission))
        self._next = min(self._next, mission.t)

    def release(self, mission: Mission, end: float) -> None:
        """A mission given a patrol whose ``assigned`` said ``inf`` (its story not known then)
        frees it at ``end``, a minute not before the patrols' own."""
        began, _, slot = self._missions[mission]
        if not end >= self.now:
            raise ValueError(f"a patrol freed at minute {end}, before the patrols' {self.now}")
        token = next(self._token)
        self._missions[mission] = (began, token, slot)
        heapq.heappush(self._done, (end, token, mission))
        self._next = min(self._next, end)

    # --- the queue --------------------------------------------------------------------------
    def _nearest_free(self, row: list[int]) -> int:
        """The first slot of ``row`` (a district's, nearest first) with a patrol free (one is)."""
        busy, cap = self._busy, self._cap
        for k in row:
            if busy[k] < cap[k]:
                return k
        raise AssertionError(f"no station of {row} has a patrol free")  # pragma: no cover

    def _start(self, d: int, job: Job, now: float) -> bool:
        """Give a patrol of district ``d`` to ``job`` at ``now``; True if it is a mission."""
        token = next(self._token)
        if isinstance(job, Mission):
            near = self._near
            k = self._nearest_free(near[job.cell] if near is not None else self._own[d])
            self._busy[k] += 1
            self._free[d] -= 1
            job.station = self._station[k]
            end = job.assigned(now)
            # told once: let go of the story (a closure that often holds the mission itself, a
            # cycle the collector would have to find), so the run's objects go as they are done
            job.assigned = _told
            if not end >= now:
                raise ValueError(f"a mission frees its patrol at {end}, before it began at {now}")
            self._missions[job] = (now, token, k)
            heapq.heappush(self._done, (end, token, job))
            return True
        k = self._nearest_free(self._rows[job])
        self._busy[k] += 1
        self._free[d] -= 1
        self._live[job], self._began[job], self._slot[job] = token, now, k
        heapq.heappush(self._done, (now + self._left[job], token, job))
        if self._first[job] != self._first[job]:  # NaN: first taken now
            self._first[job], self._first_slot[job] = now, k
        p = self._priority[job]
        if p >= self._preempt_from[d]:
            self._taken[d][p].append((token, job))
        return False

    def _dispatch(self, d: int, now: float) -> bool:
        """District ``d``'s free patrols take its waiting work, most urgent first; True (and
        stop) after a mission."""
        queues = self._queues[d]
        while self._queued[d] and self._free[d]:
            queue = queues[1] or queues[2] or queues[3]
            self._queued[d] -= 1
            if self._start(d, queue.popleft(), now):
                self._unfinished = d
                return True
        self._unfinished = None
        return False

    def _take_off(self, d: int, now: float) -> bool:
        """A P1 assignment that found no patrol free takes one from other work it may (the one
        begun last of the lowest priority, at a station not over its rota); True if it found
        one, the patrol then counted free."""
        busy, cap = self._busy, self._cap
        for p in (3, 2):
            if p < self._preempt_from[d]:
                break
            taken = self._taken[d][p]
            kept = []  # work at a station with more patrols busy than on duty: left on
            while taken:
                token, job = taken.pop()
                if self._live[job] != token:
                    continue  # finished, or taken off before
                k = self._slot[job]
                if busy[k] > cap[k]:
                    kept.append((token, job))
                    continue
                taken.extend(reversed(kept))
                self._live[job] = -1
                began = self._began[job]
                self._starts.append(began)
                self._ends.append(now)
                self._of.append(d)
                self._left[job] = began + self._left[job] - now
                self._queues[d][p].appendleft(job)
                self._queued[d] += 1
                busy[k] -= 1
                self._free[d] += 1
                return True
            taken.extend(reversed(kept))
        return False

    def advance(self, until: float) -> bool:
        """Run the patrols to minute ``until`` (every event at or before it); True when it
        stopped early, at the minute a mission was given a patrol.

        The loop is the queue's hot path (some 250,000 assignments a year in the default
        region): an assignment that finds a patrol free is started here, the rest by
        ``_start``, ``_take_off`` and ``_dispatch``."""
        if until < self._next:  # nothing to do (and no district left dispatching)
            self.now = until
            return False
        self._next = -INF  # until it returns short of an event
        if self._unfinished is not None and self._dispatch(self._unfinished, self.now):
            return True
        arrival, done, asked, turns = self._arrival, self._done, self._asked, self._turns
        n, nturns = len(arrival), len(turns)
        district, priority, left, first = self._district, self._priority, self._left, self._first
        busy, cap, free, queued = self._busy, self._cap, self._free, self._queued
        live, began, slot, rows = self._live, self._began, self._slot, self._rows
        first_slot = self._first_slot
        taken, preempt_from, missions = self._taken, self._preempt_from, self._missions
        add_start, add_end, add_of = self._starts.append, self._ends.append, self._of.append
        push, pop, token = heapq.heappush, heapq.heappop, self._token.__next__
        k, ti = self._k, self._ti
        t_arrive = arrival[k] if k < n else INF
        t_turn = turns[ti][0] if ti < nturns else INF
        try:
            while True:
                t_done = done[0][0] if done else INF
                t_ask = asked[0][0] if asked else INF
                t = t_done
                if t_turn < t:
                    t = t_turn
                if t_ask < t:
                    t = t_ask
                if t_arrive < t:
                    t = t_arrive
                if t > until or t == INF:
                    if until < INF:
                        self.now = until
                    self._next = t
                    return False
                self.now = t
                if t_done == t:
                    _, tok, job = pop(done)
                    if isinstance(job, int):
                        if live[job] != tok:
                            continue  # taken off this patrol before
                        live[job] = -1
                        d, start, s = district[job], began[job], slot[job]
                    else:
                        start, live_token, s = missions[job]
                        if live_token != tok:
                            continue  # its end was not known then
                        del missions[job]
                        d = job.district
                    add_start(start)
                    add_end(t)
                    add_of(d)
                    b = busy[s] - 1
                    busy[s] = b
                    if b < cap[s]:
                        free[d] += 1
                        if queued[d] and self._dispatch(d, t):
                            return True
                elif t_turn == t:
                    _, d, changes = turns[ti]
                    ti += 1
                    t_turn = turns[ti][0] if ti < nturns else INF
                    for s, new in changes:  # a station's patrols free: those on duty not busy
                        b, old = busy[s], cap[s]
                        free[d] += (new if new > b else b) - (old if old > b else b)
                        cap[s] = new
                    if queued[d] and self._dispatch(d, t):
                        return True
                elif t_ask == t:
                    mission = pop(asked)[2]
                    d, p = mission.district, mission.priority
                    if free[d] or (p == 1 and self._take_off(d, t)):
                        return self._start(d, mission, t)
                    self._queues[d][p].append(mission)
                    queued[d] += 1
                else:
                    job = k
                    k += 1
                    t_arrive = arrival[k] if k < n else INF
                    d, p = district[job], priority[job]
                    if free[d] or (p == 1 and self._take_off(d, t)):
                        row = rows[job]
                        s = row[0]
                        if busy[s] >= cap[s]:  # the nearest station has none free
                            for s in row:  # the first with a patrol free
                                if busy[s] < cap[s]:
                                    break
                        busy[s] += 1
                        free[d] -= 1
                        live[job] = tok = token()
                        began[job] = first[job] = t
                        slot[job] = first_slot[job] = s
                        push(done, (t + left[job], tok, job))
                        if p >= preempt_from[d]:
                            taken[d][p].append((tok, job))
                    else:
                        self._queues[d][p].append(job)
                        queued[d] += 1
        finally:
            self._k, self._ti = k, ti

    def records(self) -> tuple[PatrolRecord, ...]:
        """What each district's patrols did, the run over (call once ``advance`` has run past
        every event; work still under way then ends at its end)."""
        starts, ends, of = list(self._starts), list(self._ends), list(self._of)
        for end, _token, job in self._done:
            if isinstance(job, Mission):
                began, live_token, _slot = self._missions.get(job, (math.nan, -1, -1))
                if live_token != _token:
                    continue
                starts.append(began)
                of.append(job.district)
            elif self._live[job] == _token:
                starts.append(self._began[job])
                of.append(self._district[job])
            else:
                continue
            ends.append(end)
        first = np.empty(len(self._first))
        first[self._order] = self._first  # back to each district's order
        reach = self._reach(first)
        a, b, o = np.array(starts, dtype=float), np.array(ends, dtype=float), np.array(of)
        out, at = [], 0
        for d, (district, work) in enumerate(zip(self.districts, self.works, strict=True)):
            mine = o == d
            out.append(
                PatrolRecord(
                    district,
                    work,
                    first[at : at + len(work)],
                    a[mine],
                    b[mine],
                    None if reach is None else reach[at : at + len(work)],
                )
            )
            at += len(work)
        return tuple(out)

    def _reach(self, first: np.ndarray) -> np.ndarray | None:
        """Each assignment's minutes from its patrol first sent to it to on scene: the
        mobilisation and the drive from the patrol's station, in the traffic of that minute
        (NaN if never taken; None without stations: the mobilisation alone)."""
        if self.stations is None or not len(first):
            return None
        slot = np.empty(len(first), dtype=int)
        slot[self._order] = self._first_slot
        station = np.array(self._station)[np.maximum(slot, 0)]
        cell = np.concatenate([w.cells for w in self.works])
        hour = np.nan_to_num(first // MINUTES_PER_HOUR).astype(int) % HOURS_PER_WEEK
        drive = self.stations.drive[self.stations.peak[hour], station, cell]
        mobilisation = np.concatenate([w.mobilisation for w in self.works])
        r: np.ndarray = np.where(slot >= 0, mobilisation + drive, math.nan)
        return r


Turn = tuple[float, int, tuple[tuple[int, int], ...]]
"""A change of a district's rotas: (minute, district, each rota that changes then and its
patrols on duty from then)."""


def _rota_turns(rotas: list[tuple[int, ...]], owner: list[int], hours: int) -> list[Turn]:
    """Each change of the rotas (patrols on duty by hour of the week, rota ``k`` a station of
    district ``owner[k]``) within the first ``hours`` hours of the run, one ``Turn`` a district
    and minute, in order of minute, then of district (its rotas in order)."""
    if not rotas or hours < 2:
        return []
    week = np.asarray(rotas, dtype=int)  # (rota, hour of week)
    changed = week != np.roll(week, 1, axis=1)  # at hour h: differs from h - 1
    by_hour: list[list[tuple[int, tuple[tuple[int, int], ...]]]] = []
    for hw in range(HOURS_PER_WEEK):
        by_district: dict[int, list[tuple[int, int]]] = {}
        for k in np.flatnonzero(changed[:, hw]).tolist():
            by_district.setdefault(owner[k], []).append((k, int(week[k, hw])))
        by_hour.append([(d, tuple(c)) for d, c in sorted(by_district.items())])
    out: list[Turn] = [
        (h * 60.0, d, c) for h in range(1, hours) for d, c in by_hour[h % HOURS_PER_WEEK]
    ]
    return out


__all__ = [
    "PRIORITIES",
    "District",
    "Mission",
    "PatrolRecord",
    "Patrols",
    "PoliceWork",
    "Stations",
    "districts_of",
    "duty_by_hour",
    "police_work",
    "split_duty",
]
