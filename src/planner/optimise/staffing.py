"""How many units each hour of the week, and the cheapest roster of shifts that provides them.

Step 1 (queueing): in each of the 168 hours, the fewest units c for which an M/M/c queue with that
hour's calls and the mean mission time keeps the chance that a call waits at or below a target
(Erlang C). Step 2 (integer programme, SCIP): choose how many shifts of each allowed pattern
(length, start hour, day) to run so every hour has its units, at least cost. Shifts that run past
midnight on Sunday wrap into Monday: the week repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from planner.calendar import HOURS_PER_WEEK
from planner.scenario.model import WEEKDAYS
from planner.sim.world import erlang_c

NIGHT_HOURS = frozenset(range(0, 6)) | {22, 23}


class InfeasibleRoster(ValueError):
    """No roster of the allowed shifts meets the hourly requirement within the limits."""


def units_needed(calls_per_hour: np.ndarray, mission_minutes: float, p_wait: float) -> np.ndarray:
    """Fewest units per hour so that P(wait) <= p_wait in an M/M/c queue (0 where no calls)."""
    if not 0.0 < p_wait < 1.0:
        raise ValueError("p_wait must be in (0, 1)")
    out = np.zeros(len(calls_per_hour), dtype=int)
    for h, lam in enumerate(calls_per_hour):
        offered = lam * mission_minutes / 60.0
        if offered <= 0:
            continue
        c = 1  # the fewest units whose P(wait) is within the bound (1 while c <= offered)
        while erlang_c(c, offered) > p_wait:
            c += 1
        out[h] = c
    return out


@dataclass(frozen=True)
class ShiftPattern:
    day: int  # 0 = Monday
    start_hour: int
    hours: int

    def covers(self) -> list[int]:
        """Hours of the week (0-167) this shift is on duty, wrapping past Sunday."""
        first = self.day * 24 + self.start_hour
        return [(first + i) % HOURS_PER_WEEK for i in range(self.hours)]

    def night_hours(self) -> int:
        return sum(1 for h in self.covers() if h % 24 in NIGHT_HOURS)


@dataclass(frozen=True)
class Roster:
    shifts: dict[ShiftPattern, int]  # pattern -> how many run
    required: np.ndarray  # 168 units needed
    cost_per_week: float
    optimal: bool

    @property
    def on_duty(self) -> np.ndarray:
        """Units on duty in each hour of the week."""
        out = np.zeros(168, dtype=int)
        for pattern, n in self.shifts.items():
            for h in pattern.covers():
                out[h] += n
        return out

    @property
    def unit_hours_per_week(self) -> int:
        return sum(p.hours * n for p, n in self.shifts.items())

    def table(self) -> list[dict[str, object]]:
        """The weekly roster, a row per shift that runs, in time order."""
        return [
            {
                "day": WEEKDAYS[p.day],
                "start": f"{p.start_hour:02d}:00",
                "hours": p.hours,
                "units": n,
            }
            for p, n in sorted(self.shifts.items(), key=lambda kv: (kv[0].day, kv[0].start_hour))
        ]


@dataclass(frozen=True)
class RosterModel:
    """The cheapest roster of shifts that puts enough units on duty in every hour of the week.

    Shift patterns ``p`` are every (day, start hour, length) allowed. The integer programme::

        minimise    Σ_p  c_p · n_p
        subject to  Σ_{p on duty in hour h} n_p  ≥  r_h        for every hour h with r_h > 0
                    Σ_{p a night shift starting on day d} n_p  ≤  N   for every day d (if N is set)
                    n_p ∈ {0, 1, …, max_h r_h}

    where ``r_h`` is the units required in hour ``h`` (``required``), ``n_p`` how many units run
    pattern ``p``, ``c_p = unit_hour_cost · (hours_p + night_premium · night_hours_p)`` (night:
    22–06) and ``N`` is ``max_night_shifts_per_day`` (rosters with fewer night shifts are easier
    to staff). Its LP relaxation is tight, so SCIP (bundled with OR-Tools) proves optimality in
    milliseconds.
    """

    required: np.ndarray  # 168 units needed
    patterns: tuple[ShiftPattern, ...]
    cost: tuple[float, ...]  # c_p, per pattern
    max_night_shifts_per_day: int | None

    @classmethod
    def from_requirement(
        cls,
        required: np.ndarray,
        *,
        lengths: tuple[int, ...] = (8, 10, 12),
        start_hours: tuple[int, ...] = tuple(range(24)),
        unit_hour_cost: float = 1.0,
        night_premium: float = 0.0,
        max_night_shifts_per_day: int | None = None,
    ) -> RosterModel:
        required = np.asarray(required, dtype=int)
        if required.shape != (168,) or (required < 0).any():
            raise ValueError("required must be 168 non-negative unit counts")
        # each pattern once (a repeated length would give one pattern two variables)
        patterns = tuple(
            ShiftPattern(d, s, L)
            for d in range(len(WEEKDAYS))
            for s in sorted(set(start_hours))
            for L in dict.fromkeys(lengths)
        )
        cost = tuple(unit_hour_cost * (p.hours + night_premium * p.night_hours()) for p in patterns)
        return cls(required, patterns, cost, max_night_shifts_per_day)

    def solve(self, time_limit: float = 30.0) -> Roster:
        """The optimal roster (or the best found in ``time_limit`` seconds, ``optimal=False``)."""
        required, patterns = self.required, self.patterns
        solver = pywraplp.Solver.CreateSolver("SCIP")
        if solver is None:  # pragma: no cover - SCIP ships with OR-Tools
            raise RuntimeError("OR-Tools was built without SCIP")  # pragma: no mutate (unreachable)
        top = int(required.max())
        n = {p: solver.IntVar(0, top, f"n{i}") for i, p in enumerate(patterns)}
        covering: list[list[ShiftPattern]] = [[] for _ in required]  # the patterns on in each hour
        for p in patterns:
            for h in p.covers():
                covering[h].append(p)
        for h in np.flatnonzero(required).tolist():
            solver.Add(sum(n[p] for p in covering[h]) >= int(required[h]))
        if self.max_night_shifts_per_day is not None:
            for d in range(len(WEEKDAYS)):
                night = [p for p in patterns if p.day == d and p.night_hours() > 0]
                solver.Add(sum(n[p] for p in night) <= self.max_night_shifts_per_day)
        cost = dict(zip(patterns, self.cost, strict=True))
        solver.Minimize(sum(cost[p] * n[p] for p in patterns))
        solver.SetTimeLimit(int(time_limit * 1000))
        status = solver.Solve()
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            raise InfeasibleRoster(
                "no roster of the allowed shifts covers every hour within the night-shift limit"
            )
        chosen = {p: round(v.solution_value()) for p, v in n.items()}
        chosen = {p: k for p, k in chosen.items() if k > 0}
        return Roster(
            shifts=chosen,
            required=required,
            cost_per_week=float(sum(cost[p] * k for p, k in chosen.items())),
            optimal=status == pywraplp.Solver.OPTIMAL,
        )


def assign_to_vehicles(roster: Roster) -> list[list[ShiftPattern]]:
    """Split the roster's shifts among vehicles so no vehicle runs two shifts at once.

    Vehicle 0 is the one on duty most hours (it gets the best base). First-fit on shifts in order
    of start time, which is optimal for intervals on a line; the week's wrap past Sunday night
    can cost at most one extra vehicle.
    """
    busy: list[set[int]] = []
    plan: list[list[ShiftPattern]] = []
    instances = [p for p, k in roster.shifts.items() for _ in range(k)]
    instances.sort(key=lambda p: (p.day, p.start_hour, -p.hours))
    for p in instances:
        hours = set(p.covers())
        for v, taken in enumerate(busy):
            if not taken & hours:
                taken |= hours
                plan[v].append(p)
                break
        else:
            busy.append(hours)
            plan.append([p])
    order = sorted(range(len(plan)), key=lambda v: -len(busy[v]))
    return [sorted(plan[v], key=lambda p: (p.day, p.start_hour)) for v in order]
