"""The engine's cost per call as the fleet grows, beside a bare SimPy M/M/c loop in the same run.

For 4, 32 and 96 units (spread over the region's candidate bases, shifts in turn) the demand
grows with the fleet and the horizon shrinks, so every run has about the same number of calls
and the same load per unit; only the engine's run is timed (CPU time of ``Engine.run``), not
the call stream or the log. The peer is what a modeller would write by hand: SimPy's own
``Resource`` with c servers and a process per customer, no dispatch, no police, no log.

Run from the project root: ``python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from planner import load_scenario
from planner.geo.geodata import load_region
from planner.scenario.loading import scenario_from_dict
from planner.scenario.model import Scenario
from planner.sim.demand import cell_weights, generate_calls
from planner.sim.engine import Engine
from planner.sim.world import build_world

ROOT = Path(__file__).resolve().parent.parent
FLEETS = (4, 32, 96)
CALLS = 18_000  # about a year of the default scenario's crisis calls, in every run
REPS = 3


def fleet_scenario(units: int) -> Scenario:
    base = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    bases = load_region(base.region.name).base_ids
    shifts = ["day", "evening", "late", "night"]
    data: dict[str, Any] = base.model_dump(mode="json", by_alias=True)
    data["fleet"]["units"] = [
        {"name": f"u{k}", "base": bases[k % len(bases)], "shift": shifts[k % len(shifts)]}
        for k in range(units)
    ]
    scale = units / 4
    data["demand"]["rate_per_1000_per_year"] = base.demand.rate_per_1000_per_year * scale
    data["run"]["horizon_days"] = round(base.run.horizon_days / scale, 3)
    data["run"]["warmup_days"] = 0
    return scenario_from_dict(data)


def engine_seconds_per_call(scenario: Scenario) -> tuple[float, int]:
    world = build_world(scenario)
    rates = cell_weights(scenario, world.cell_population, world.cell_zone)
    per_call = []
    n = 0
    for r in range(REPS):
        calls = generate_calls(scenario, rates, r)
        engine = Engine(scenario, world, calls)
        started = time.process_time()
        engine.run()
        per_call.append((time.process_time() - started) / len(calls))
        n = len(calls)
    return statistics.median(per_call), n


def bare_simpy_seconds_per_call(servers: int, calls: int = CALLS, seed: int = 1) -> float:
    """M/M/c with SimPy's Resource: load 0.8, a process per customer."""
    rng = np.random.default_rng(seed)
    mean_service = 116.0
    gaps = rng.exponential(mean_service / (0.8 * servers), calls)
    services = rng.exponential(mean_service, calls)
    env = simpy.Environment()
    desk = simpy.Resource(env, servers)

    def customer(k: int) -> Any:
        with desk.request() as req:
            yield req
            yield env.timeout(services[k])

    def arrivals() -> Any:
        for k in range(calls):
            yield env.timeout(gaps[k])
            env.process(customer(k))

    env.process(arrivals())
    started = time.process_time()
    env.run()
    return (time.process_time() - started) / calls


def main() -> None:
    print(f"engine CPU per call ({REPS} replications each, median), and bare SimPy M/M/c:")
    ours: dict[int, float] = {}
    for units in FLEETS:
        seconds, n = engine_seconds_per_call(fleet_scenario(units))
        ours[units] = seconds
        bare = statistics.median(bare_simpy_seconds_per_call(units, seed=s) for s in range(REPS))
        print(
            f"  {units:>3} units: planner {seconds * 1e6:5.1f} µs/call ({n:,} calls), "
            f"bare SimPy M/M/{units} {bare * 1e6:5.1f} µs/call: planner/SimPy {seconds / bare:.2f}"
        )
    print(f"  96 units / 4 units: {ours[96] / ours[4]:.2f} (the promise: at most 1.3)")


if __name__ == "__main__":
    main()
