"""The analyst's entry point: ``simulate(scenario)`` runs replications and gathers results."""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_DAY, MINUTES_PER_HOUR
from planner.scenario.loading import replaced, scenario_from_dict
from planner.scenario.model import Scenario
from planner.sim.demand import CallStream, cell_weights, generate_calls, streams
from planner.sim.engine import Engine
from planner.sim.event_log import LogSink, MemoryLog, ParquetLog
from planner.sim.events import MODE_CODE, REASONS, TRANSPORT_MODES, TransportMode
from planner.sim.kpis import (
    Period,
    cohort_kpis,
    group_intervals,
    group_rows,
    overtime_minutes,
    patrol_kpis,
    replication_kpis,
    summarise,
    summarise_cohorts,
    utilisation_by_hour,
)
from planner.sim.patrols import districts_of, police_work
from planner.sim.summary import Figures, RunSummary
from planner.sim.world import World, build_world


@dataclass(frozen=True)
class Results:
    """What a simulation returns: KPI table with intervals, per-replication KPIs, the event log.

    ``log`` has one row per call and replication; when the run streamed its log to a file or
    discarded it (``simulate(log_to=...)``) it is empty, with the log's columns and types.
    """

    scenario: Scenario
    kpis: pd.DataFrame  # kpi, label, unit, mean, ci_low, ci_high
    per_replication: pd.DataFrame  # one row per replication, one column per KPI
    log: pd.DataFrame  # one row per call and replication (empty when streamed or discarded)
    utilisation: np.ndarray  # 168 hours of week, mean over replications
    by_zone: pd.DataFrame
    by_hour: pd.DataFrame
    by_cohort: pd.DataFrame  # cohort, kpi, label, unit, mean, ci_low, ci_high (kpis.COHORT_KPIS)

    def kpi(self, key: str) -> float:
        return float(self.kpis.set_index("kpi").loc[key, "mean"])

    def summary(self) -> RunSummary:
        """The run's figures, typed (``to_json()`` is what ``planner run`` writes)."""
        return RunSummary(
            scenario=self.scenario.scenario.name,
            seed=self.scenario.run.seed,
            figures=Figures(self.kpis, self.per_replication),
            utilisation=self.utilisation,
        )


def _log_frame(
    scenario: Scenario,
    world: World,
    calls: CallStream,
    cols: dict[str, np.ndarray],
    replication: int,
    on_duty: np.ndarray,
) -> pd.DataFrame:
    """The event log as a table: the call's attributes, the engine's columns, and what follows
    from them alone (names for codes, response and queue times, officer-hours, overtime)."""
    sits = [scenario.situations[k] for k in calls.kinds]
    eligible_kind = np.array([s.health_first_eligible for s in sits])[calls.kind]
    frame = pd.DataFrame(
        {
            "replication": replication,
            "call": np.arange(len(calls)),
            "t_arrival": calls.t,
            "hour_of_week": (calls.t // MINUTES_PER_HOUR).astype(int) % HOURS_PER_WEEK,
            "zone": _named(world.cell_zone, calls.cell),
            "district": _named(world.district_names, world.cell_district[calls.cell]),
            "cell": calls.cell,
            "kind": _named(calls.kinds, calls.kind),
            "channel": _named(calls.channels, calls.channel),
            "eligible_kind": eligible_kind,
            "police_needed": calls.police_needed,
            "flagged": calls.flagged,
            "caller": calls.caller,
            **{k: _named(_CODED[k], v) if k in _CODED else np.asarray(v) for k, v in cols.items()},
        }
    )
    frame["health_first"] = frame["unit"] >= 0
    police, civil = cols["police_involved"], calls.civil
    frame["civil"] = police & civil  # police in civil clothes and car
    frame["uniformed"] = police & ~civil
    car = cols["transport_mode"] == MODE_CODE[TransportMode.POLICE_CAR]
    frame["marked_police_car"] = car & ~civil
    frame["response_minutes"] = frame["t_first_on_scene"] - frame["t_arrival"]
    frame["queue_minutes"] = np.where(
        frame["health_first"], frame["t_dispatch"] - frame["t_health_alerted"], np.nan
    )
    frame["officer_hours"] = frame["patrol_minutes"] / 60.0 * scenario.police.officers_per_patrol
    frame["overtime_minutes"] = overtime_minutes(
        on_duty,
        frame["unit"].to_numpy(),
        frame["t_dispatch"].to_numpy(float),
        frame["t_unit_free"].to_numpy(float),
    )
    return frame


_CODED: dict[str, tuple[str, ...]] = {
    "reason": tuple(str(r) for r in REASONS),
    "transport_mode": tuple(str(m) for m in TRANSPORT_MODES),
}
"""The engine's columns of codes, and the name of each code."""


def _named(names: Sequence[str] | np.ndarray, codes: Any) -> Any:
    """The name of each code, as a column of text: taken by Arrow from the few names, rather
    than built of one Python string per call (the same column, five times faster)."""
    import pyarrow as pa

    taken = pa.array(list(names)).take(pa.array(np.asarray(codes)))  # strings, by integers
    return pd.array(taken, dtype="str")


def fleet_on_duty(scenario: Scenario) -> np.ndarray:
    """(units, 168) flags: is unit u on shift in hour h of the week?"""
    shifts = scenario.fleet.shifts
    rows = [shifts[u.shift].on_duty() for u in scenario.fleet.units]
    return np.array(rows, dtype=bool).reshape(len(rows), 168)


def period_of(scenario: Scenario) -> Period:
    run = scenario.run
    return Period(
        run.warmup_days * MINUTES_PER_DAY,
        run.horizon_days * MINUTES_PER_DAY,
        fleet_on_duty(scenario),
        scenario.costs.police_fte_hours,
        scenario.police.officers_per_patrol,
        scenario.police.co_response_officers if co_response(scenario) else 0,
    )


def co_response(scenario: Scenario) -> bool:
    """Is the fleet co-response cars (a nurse and a police officer in each)?"""
    return scenario.dispatch.policy == "co-response" and scenario.units_are_active


def run_replication(
    scenario: Scenario, replication: int, world: World | None = None
) -> tuple[pd.DataFrame, dict[str, float], np.ndarray]:
    """One replication: (event log, KPIs, utilisation by hour of week)."""
    world = world or build_world(scenario)
    with collector_paused():
        rates = cell_weights(scenario, world.cell_population, world.cell_zone)
        calls = generate_calls(scenario, rates, replication)
        work = None
        if scenario.police.model == "patrols":
            rng = streams(scenario.run.seed, replication)["police_work"]
            work = police_work(scenario, world, districts_of(scenario, world), rng)
        # the engine and its records freed here, before the collector is on again
        engine = Engine(scenario, world, calls, work)
        columns = engine.run().columns()
        records = engine.patrol_records()
        del engine
        period = period_of(scenario)
        frame = _log_frame(scenario, world, calls, columns, replication, period.on_duty)
        kpis = replication_kpis(frame, period)
        if records:
            kpis |= patrol_kpis(records, frame, period)
        return frame, kpis, utilisation_by_hour(frame, period)


_pauses = 0  # replications running with the collector paused, in any thread
_collector_was_on = False
_pause_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a replication runs, and started again
    after it (unless it was off before the first of several at once, in threads).

    A replication makes a few hundred thousand small objects, and every few hundred of them
    the collector would walk the young ones, and now and then every object of the process (the
    modules, the world), to find cycles: a fifth of a replication's time. Its objects are freed
    as they go by their reference counts; only the engine itself is a cycle, collected after."""
    global _pauses, _collector_was_on
    with _pause_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


def simulate(
    scenario: Scenario | dict[str, Any],
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    log_to: Path | LogSink | None = None,
    executor: Executor | None = None,
    workers: int | Literal["auto"] | None = None,
) -> Results:
    """Run a scenario's replications (defaults from its [run] section) and gather the results.

    Replication r uses the streams of (seed, r): two scenarios with the same demand and seed
    face the same calls, so their differences are paired (common random numbers).

    ``log_to`` is where the call log goes: None keeps it all in ``Results.log`` (memory grows
    with replications); a path streams it to that Parquet file (removed if the run fails);
    a sink (``planner.sim.event_log``: ``DiscardLog()`` keeps nothing) receives it. Then only one
    replication's log is in memory at a time and ``Results.log`` is empty; every figure is the
    same as with the log in memory.

    ``executor`` (a ``concurrent.futures`` executor, such as the process pool of
    ``planner.sweep.executors.local_pool``) runs the replications side by side, a few ahead of the
    one being gathered; they are gathered in order, so every figure and the log are the same,
    bit for bit, as when they run one after another here.

    ``workers`` (> 1) runs them so on that many worker processes of this machine, started here
    and shut down at the end; ``"auto"``, on one per core when the run is long enough to pay
    for starting them and as many as fit in the memory free (``budget.auto_workers``); None or 1
    runs them here. Not with ``executor``, which is a pool already.
    """
    if workers is not None and workers != "auto":
        if isinstance(workers, bool) or not isinstance(workers, int):
            raise TypeError(
                f"workers: a whole number of processes, 'auto' or None (got {workers!r})"
            )
        if workers < 1:
            raise ValueError(f"workers: at least 1 process (got {workers})")
    if workers is not None and executor is not None:
        raise ValueError("give workers or executor, not both: an executor is a pool already")
    if isinstance(scenario, dict):
        scenario = scenario_from_dict(scenario)
    if replications is not None or seed is not None:
        scenario = replaced(scenario, run_changes(replications, seed))
    if workers == "auto":
        from planner.sim import budget

        workers = budget.auto_workers(scenario)
    if workers is not None and workers > 1:
        from planner import processes

        with processes.process_pool(workers) as pool:
            return simulate(scenario, progress=progress, log_to=log_to, executor=pool)
    if isinstance(log_to, Path):
        with ParquetLog(log_to) as sink:
            return _replicate(scenario, sink, progress, executor)
    return _replicate(scenario, MemoryLog() if log_to is None else log_to, progress, executor)


IN_FLIGHT = 4
"""Replications an executor is given ahead of the one being gathered: enough to keep a few
workers busy, few enough that the logs waiting to be gathered stay small."""

Replicated = tuple[pd.DataFrame, dict[str, float], np.ndarray]


def _replications(scenario: Scenario, executor: Executor | None) -> Iterator[Replicated]:
    """Each replication's (log, KPIs, utilisation), in order of replication."""
    total = scenario.run.replications
    if executor is None:
        world = build_world(scenario)
        for r in range(total):
            yield run_replication(scenario, r, world)
        return
    ahead: deque[Future[Replicated]] = deque()
    try:
        for r in range(total):
            ahead.append(executor.submit(run_replication, scenario, r))
            if len(ahead) >= IN_FLIGHT:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        for f in ahead:  # a replication failed, or the caller stopped gathering
            f.cancel()


def _replicate(
    scenario: Scenario,
    sink: LogSink,
    progress: Callable[[int, int], None] | None,
    executor: Executor | None = None,
) -> Results:
    total = scenario.run.replications
    parts = Replications(period_of(scenario), total)
    for r, (frame, k, u) in enumerate(_replications(scenario, executor)):
        parts.add(r, frame, k, u)
        sink.write(frame)
        del frame  # not alive during the next replication
        if progress:
            progress(r + 1, total)
    return gather(scenario, parts, sink.frame())


def prepare(scenario: Scenario) -> None:
    """Build the scenario's world, kept for the replications that follow (sent to a worker
    process ahead of a run, so its first replication does not wait for it)."""
    build_world(scenario)


def run_changes(replications: int | None, seed: int | None) -> dict[str, int]:
    """The changes to a scenario's [run] that a count or a seed given for one run asks for."""
    return {
        **({"run.replications": replications} if replications is not None else {}),
        **({"run.seed": seed} if seed is not None else {}),
    }


class Replications:
    """What is kept of each replication when its log is not: its KPIs, its utilisation by hour
    of week, its rows of ``kpis.group_rows`` by zone and by hour of day, and its KPIs by cohort
    of callers — about 2 kB and a row per zone and hour of day a replication, held in arrays
    rather than one object each."""

    def __init__(self, period: Period, total: int) -> None:
        self.period = period
        self.warmup = period.warmup  # minutes
        self.count = 0
        self._replication = np.zeros(total, dtype=np.int64)
        self._keys: tuple[str, ...] = ()
        self._kpis = np.empty((total, 0))
        self._utils = np.empty((total, 168))
        self._zone, self._hour = _Rows(), _Rows()
        self._cohorts: list[dict[tuple[str, str], float]] = []

    def add(
        self, replication: int, frame: pd.DataFrame, kpis: dict[str, float], util: np.ndarray
    ) -> None:
        i = self.count
        if i == 0:
            self._keys = tuple(kpis)
            self._kpis = np.empty((len(self._replication), len(self._keys)))
        self._replication[i] = replication
        self._kpis[i] = [kpis[k] for k in self._keys]
        self._utils[i] = util
        self.count += 1
        slim = frame[["replication", "t_arrival", "response_minutes", "zone"]]
        self._zone.add(group_rows(slim, self.warmup, "zone"))
        by_hour = slim.drop(columns="zone").assign(hour=frame["hour_of_week"] % 24)
        self._hour.add(group_rows(by_hour, self.warmup, "hour"))
        self._cohorts.append(cohort_kpis(frame, self.period))

    def per_replication(self) -> pd.DataFrame:
        """One row per replication, one column per KPI (as ``pd.DataFrame`` of the dicts)."""
        n = self.count
        columns = {k: self._kpis[:n, j] for j, k in enumerate(self._keys)}
        return pd.DataFrame({"replication": self._replication[:n], **columns})

    def utilisation(self) -> np.ndarray:
        """Mean over replications for each hour of the week (NaN where no unit is on duty)."""
        util = np.full(168, np.nan)
        if self.count:
            stacked = self._utils[: self.count]
            seen = ~np.isnan(stacked).all(axis=0)
            util[seen] = np.nanmean(stacked[:, seen], axis=0)
        return util

    def by_zone(self) -> pd.DataFrame:
        return group_intervals(self._zone.frame(), "zone")

    def by_hour(self) -> pd.DataFrame:
        return group_intervals(self._hour.frame(), "hour")

    def by_cohort(self) -> pd.DataFrame:
        return summarise_cohorts(self._cohorts)


class _Rows:
    """The rows of many small frames in the order added, without a frame's overhead (some kB
    however few its rows) for each: merged like a binary counter, so at most log2(n) frames are
    held and each row is copied log2(n) times."""

    def __init__(self) -> None:
        self._levels: list[pd.DataFrame | None] = []  # level i: 2**i frames' rows, or None
        self._empty: pd.DataFrame | None = None  # the columns, should no frame have rows

    def add(self, rows: pd.DataFrame) -> None:
        if self._empty is None:
            self._empty = rows.iloc[:0]
        if rows.empty:
            return
        carry = rows
        for i, held in enumerate(self._levels):
            if held is None:
                self._levels[i] = carry
                return
            carry = pd.concat([held, carry], ignore_index=True)  # held rows are older
            self._levels[i] = None
        self._levels.append(carry)

    def frame(self) -> pd.DataFrame:
        parts = [f for f in reversed(self._levels) if f is not None]  # oldest first
        if not parts:
            return self._empty if self._empty is not None else pd.DataFrame()
        return pd.concat(parts, ignore_index=True)  # numbered 0, 1, ... however many parts


def gather(scenario: Scenario, parts: Replications, log: pd.DataFrame) -> Results:
    """Results from what was kept of each replication (``log`` is only passed through)."""
    per_rep = parts.per_replication()
    return Results(
        scenario=scenario,
        kpis=summarise(per_rep),
        per_replication=per_rep,
        log=log,
        utilisation=parts.utilisation(),
        by_zone=parts.by_zone(),
        by_hour=parts.by_hour(),
        by_cohort=parts.by_cohort(),
    )


__all__ = ["Replications", "Results", "gather", "prepare", "run_replication", "simulate"]
