"""What a run will ask of the machine, known before it starts: peak memory, time, and a refusal.

The estimate is the demand model's expected calls per replication times bytes and seconds per
call (and per replication) measured on the default scenario. Memory with the call log streamed
to disk (``simulate(log_to=...)``) does not grow with replications; kept in memory it does. The
check refuses, in one line, a run that would not fit in the memory free now or would take longer
than ``TIME_LIMIT_SECONDS`` — unless the user asks for it anyway.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from planner.calendar import DAYS_PER_YEAR
from planner.scenario.model import Scenario
from planner.sim.demand import cell_weights
from planner.sim.world import World, build_world

# Measured in fresh processes (peak RSS from resource.getrusage, as benchmarks/bench_memory.py
# does) on the 2-core development machine (shared, so times are on the slow side), running
# simulations/oslo_akershus.toml (about 17,600 calls a year) and the same at 10 × the rate
# (175,000 calls a year) for 1 to 40 replications:
BASE_BYTES = 300e6
"""Python with numpy, pandas, pyarrow and SimPy, and the Oslo/Akershus world: 280 MB."""
WORKING_BYTES_PER_CALL = 1_600.0
"""One replication in flight (call stream, engine lists, log frame, its Arrow table): 1.1 to
1.6 kB a call above the base, the higher figure once freed memory is reused for later ones."""
STREAM_BYTES = 50e6
"""The Parquet writer's buffered row group (``event_log.ROW_GROUP_ROWS`` rows) and allocator
slack: streaming 20 to 40 replications of 17,600 calls peaked 58 to 66 MB above the base."""
KEPT_BYTES_PER_CALL = 600.0
"""Each call of a log kept in memory to the end and written with ``to_parquet``: peak RSS grew
by 583 to 605 bytes a call from 5 to 40 replications (about 10 MB a replication of Oslo)."""
SECONDS_PER_CALL = 25e-6
"""Simulation time a call: 0.44 to 0.65 s a replication of 17,600 calls, 3.3 s for 175,000."""
PATROL_SECONDS_PER_CALL = 55e-6
"""The same with the police districts' patrols simulated (``police.model = "patrols"``): 0.93 s a
replication-year of the default scenario's 18,000 calls and its districts' 240,000 other
assignments (benchmarks/bench_patrols.py), 52 to 55 µs a call."""
SECONDS_PER_REPLICATION = 0.05
"""Time a replication takes whatever its calls (KPIs, utilisation hour by hour, the world's
streams): 1,000 replications of 30 days (1,450 calls) and their baseline took 172 s."""

TIME_LIMIT_SECONDS = 8 * 3600.0
"""Longer than a working day (or a night) is not asked for by accident: such a run is refused
unless forced, and is better spread over workers by `planner sweep`. The default scenario with
its baseline, the patrols simulated, takes about 2 s a replication, so 10,000 replications
(5.8 h) run unasked and 100,000 (58 h) do not."""
MEMORY_SHARE = 0.8
"""Share of the memory free now that a run may be estimated to use: the rest covers the
estimate's error and whatever else the machine is doing."""


@dataclass(frozen=True)
class RunNeeds:
    """What a run is expected to need."""

    replications: int
    calls_per_replication: float
    peak_bytes: float
    seconds: float


def expected_calls(scenario: Scenario, world: World | None = None) -> float:
    """Calls one replication is expected to have: the demand model's calls a year, summed over
    the cells (``demand.cell_weights``), times the horizon in years. The hour-of-week weights
    have mean 1, so this is exact for a horizon of whole weeks."""
    world = world or build_world(scenario)
    rates = cell_weights(scenario, world.cell_population, world.cell_zone)
    return float(rates.sum()) * scenario.run.horizon_days / DAYS_PER_YEAR


def estimate_run(
    calls_per_replication: float,
    replications: int,
    simulations: int = 1,
    streamed: bool = True,
    seconds_per_call: float = SECONDS_PER_CALL,
) -> RunNeeds:
    """Peak memory and time of ``simulations`` simulations of ``replications`` each, one after
    the other, on the same calls (`planner run` with a baseline: 2). ``streamed``: the call log
    goes to disk (or nowhere); otherwise every simulation's log is kept until the end.
    ``seconds_per_call``: ``seconds_per_call_of`` the scenario."""
    calls = calls_per_replication
    peak = BASE_BYTES + calls * WORKING_BYTES_PER_CALL
    if streamed:
        peak += STREAM_BYTES
    else:
        peak += calls * replications * simulations * KEPT_BYTES_PER_CALL
    seconds = (calls * seconds_per_call + SECONDS_PER_REPLICATION) * replications * simulations
    return RunNeeds(replications, calls, peak, seconds)


def seconds_per_call_of(scenario: Scenario) -> float:
    """A replication's time a call: more when the police districts' patrols are simulated."""
    return PATROL_SECONDS_PER_CALL if scenario.police.model == "patrols" else SECONDS_PER_CALL


def available_memory(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """Bytes of memory free for a new run: Linux's MemAvailable, lowered to what the cgroup
    (a container's limit) leaves; elsewhere the free pages; None if the system does not say."""
    free = _meminfo_available(meminfo)
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            free = None
    limit = _cgroup_left(cgroup)
    if limit is not None:
        free = limit if free is None else min(free, limit)
    return free


def _meminfo_available(path: Path) -> int | None:
    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == "MemAvailable":
            parts = rest.split()
            if parts and parts[0].isdigit():
                scale = 1024 if parts[1:] == ["kB"] else 1
                return int(parts[0]) * scale
    return None


def _cgroup_left(root: Path) -> int | None:
    """memory.max − memory.current of a cgroup v2 (None without a limit)."""
    try:
        limit = (root / "memory.max").read_text("ascii").strip()
        used = (root / "memory.current").read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not (limit.isdigit() and used.isdigit()):
        return None  # "max": no limit
    return max(int(limit) - int(used), 0)


def refusal(
    estimate: RunNeeds,
    available: int | None,
    asked: str | None = None,
    time_limit: float = TIME_LIMIT_SECONDS,
    hint: str = "pass --force to run anyway",
) -> str | None:
    """One line saying why a run should not start unasked, or None if it may.

    ``asked`` names what was asked for (default "N replications"); ``available`` is the memory
    free in bytes (None: unknown, only time is checked).
    """
    what = asked or f"{estimate.replications:,} replications"
    memory, time = format_bytes(estimate.peak_bytes), format_duration(estimate.seconds)
    need = f"about {memory} of memory and {time}"
    if not (math.isfinite(estimate.peak_bytes) and math.isfinite(estimate.seconds)):
        need = "more memory and time than can be estimated"
    if available is not None and not estimate.peak_bytes <= MEMORY_SHARE * available:
        return f"{what}: {need}; this machine has {format_bytes(available)} free; {hint}"
    if not estimate.seconds <= time_limit:
        return (
            f"{what}: {need}, longer than the {format_duration(time_limit)} a run may take "
            f"unasked; {hint}"
        )
    return None


def workers_that_fit(
    calls_per_replication: float, run: RunNeeds, available: int | None, wanted: int
) -> int:
    """How many of ``wanted`` worker processes fit in the memory free beside the run itself
    (``run``): each holds the model and one replication at a time (``estimate_run(calls, 1)``).
    At least 1; ``wanted`` if the free memory is not known."""
    if available is None:
        return wanted
    each = estimate_run(calls_per_replication, 1).peak_bytes
    room = MEMORY_SHARE * available - run.peak_bytes
    return max(1, min(wanted, int(room // each)))


WORTH_WORKERS_SECONDS = 10.0
"""A run expected to take longer than this, one replication after another, is given a worker
process per core (starting them costs a second or two)."""


def auto_workers(scenario: Scenario, replications: int | None = None, simulations: int = 1) -> int:
    """How many worker processes a run of ``scenario`` is given unasked (``simulate(workers=
    "auto")``, ``planner run`` without ``--workers``): one per core when the run is expected to
    take over ``WORTH_WORKERS_SECONDS`` one replication after another, as many as fit in the
    memory free beside it; else 1 (here). ``simulations``: scenarios run on the same calls (a
    run and its baseline, 2)."""
    from planner.processes import default_workers

    calls = expected_calls(scenario)
    reps = replications or scenario.run.replications
    run = estimate_run(calls, reps, simulations, seconds_per_call=seconds_per_call_of(scenario))
    if run.seconds <= WORTH_WORKERS_SECONDS:
        return 1
    return workers_that_fit(calls, run, available_memory(), default_workers())


def run_refusal(
    scenario: Scenario,
    replications: int,
    simulations: int = 1,
    asked: str | None = None,
    streamed: bool = True,
) -> str | None:
    """``refusal`` for a scenario on this machine (the shell of the check: it reads the
    region's world and the free memory)."""
    calls = expected_calls(scenario)
    estimate = estimate_run(
        calls, replications, simulations, streamed, seconds_per_call_of(scenario)
    )
    return refusal(estimate, available_memory(), asked)


def format_bytes(n: float) -> str:
    """2.1 TB, 22 GB, 350 MB (powers of 1,000)."""
    if not math.isfinite(n):
        return "unbounded memory"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            v = n / size
            return f"{_short(v)} {unit}"
    return f"{n:.0f} bytes"


def _short(v: float) -> str:
    """One decimal below 10 (none if it is 0), whole numbers above: 2.1, 8, 24, 1,200."""
    return f"{v:.1f}".removesuffix(".0") if v < 9.95 else f"{v:,.0f}"


def format_duration(seconds: float) -> str:
    """24 h, 2.5 h, 8 h, 45 min, 20 s."""
    if not math.isfinite(seconds):
        return "unbounded time"
    if seconds >= 3600:
        return f"{_short(seconds / 3600)} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


__all__ = [
    "RunNeeds",
    "available_memory",
    "estimate_run",
    "expected_calls",
    "format_bytes",
    "format_duration",
    "refusal",
    "run_refusal",
    "workers_that_fit",
]
