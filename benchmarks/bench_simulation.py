"""Simulation speed: one simulated year of the default scenario, and M/M/c throughput vs Ciw."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from planner import load_scenario, scenario_from_dict  # noqa: E402
from planner.sim.run import run_replication  # noqa: E402
from planner.sim.world import build_world  # noqa: E402


def default_year(reps: int = 5) -> None:
    scenario = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    t0 = time.perf_counter()
    world = build_world(scenario)
    built = time.perf_counter() - t0
    times, calls = [], 0
    for r in range(reps):
        t = time.perf_counter()
        log, _k, _u = run_replication(scenario, r, world)
        times.append(time.perf_counter() - t)
        calls = len(log)
    print(f"default scenario (oslo_akershus.toml): world (travel tables) built in {built:.2f} s")
    print(
        f"  one simulated year per replication: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s over {reps} replications ({calls:,} calls a year)"
    )


def mmc_vs_ciw(
    lam_per_hour: float = 2.0, mean: float = 60.0, servers: int = 3, reps: int = 5
) -> None:
    from test_theory import mmc_scenario

    scenario = scenario_from_dict(mmc_scenario(lam_per_hour, mean, servers, reps=1, days=365))
    world = build_world(scenario)
    ours = []
    for r in range(reps):
        t = time.perf_counter()
        log, _k, _u = run_replication(scenario, r, world)
        ours.append(len(log) / (time.perf_counter() - t))
    print(f"M/M/{servers} (lambda {lam_per_hour}/h, mean service {mean} min), one year:")
    print(
        f"  planner: {statistics.median(ours):,.0f} calls/s (median of {reps}; full pipeline: "
        "call stream, engine, event log, KPIs)"
    )
    try:
        import ciw
    except ImportError:
        print("  Ciw: not installed (pip install '.[bench]')")
        return
    theirs = []
    for r in range(reps):
        net = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(lam_per_hour / 60.0)],
            service_distributions=[ciw.dists.Exponential(1.0 / mean)],
            number_of_servers=[servers],
        )
        ciw.seed(r)
        t = time.perf_counter()
        sim = ciw.Simulation(net)
        sim.simulate_until_max_time(365 * 1440.0)
        n = len(sim.get_all_records())
        theirs.append(n / (time.perf_counter() - t))
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(
        f"  Ciw {ciw.__version__}: {statistics.median(theirs):,.0f} customers/s; "
        f"planner is {ratio:.1f}x as fast"
    )


if __name__ == "__main__":
    default_year()
    mmc_vs_ciw()
