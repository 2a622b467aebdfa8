"""Police patrols simulated (``police.model = "patrols"``): what a year of the default region
costs, beside the M/M/c formula it replaces, and the patrols' queue beside Ciw's.

1. One replication-year of ``simulations/oslo_akershus.toml`` (its calls, the engine, the log
   and the KPIs: ``run_replication``), CPU time on one core, with the patrols simulated and with
   the erlang formula, and the cost per crisis call of each.
2. The districts' other police work alone — about 240,000 P1/P2/P3 assignments a year on 30 and
   16 patrols, P1 taking a patrol from P3 work — through ``Patrols``, and through Ciw (the
   queueing library a modeller would pick for priority classes with pre-emption) built with
   the same servers, rates, priorities and "resume" pre-emption: assignments a second, and
   the ratio.

Run from the project root: ``python benchmarks/bench_patrols.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from planner import load_scenario
from planner.scenario.loading import replaced
from planner.sim.demand import streams
from planner.sim.patrols import Patrols, Stations, districts_of, police_work
from planner.sim.run import run_replication
from planner.sim.world import build_world

ROOT = Path(__file__).resolve().parent.parent
REPS = 3


def replication_year() -> None:
    base = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    print("1. one replication-year of the default scenario, CPU seconds (median of 3):")
    per = {}
    for model in ("erlang", "patrols"):
        s = replaced(base, {"police.model": model})
        world = build_world(s)
        run_replication(s, 0, world)  # warm: the world's lists, imports
        times, calls = [], 0
        for r in range(REPS):
            started = time.process_time()
            frame, _, _ = run_replication(s, r, world)
            times.append(time.process_time() - started)
            calls = len(frame)
        per[model] = statistics.median(times)
        print(
            f"  {model:8s} {per[model]:.2f} s a replication-year, "
            f"{per[model] / calls * 1e6:,.0f} µs a crisis call ({calls:,} calls)"
        )
    print(f"  patrols / erlang: {per['patrols'] / per['erlang']:.1f}x")


def queue_against_ciw() -> None:
    import ciw

    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    s = replaced(s, {"police.model": "patrols", "police.duty_profile": [1.0] * 24})
    world = build_world(s)
    districts = districts_of(s, world)
    horizon = s.run.horizon_days * 1440.0
    ours, n = [], 0
    for r in range(REPS):
        work = police_work(s, world, districts, streams(s.run.seed, r)["police_work"])
        n = sum(len(w) for w in work)
        started = time.process_time()
        patrols = Patrols(districts, work, horizon, Stations.of(world))
        while patrols.advance(np.inf):
            pass
        ours.append(time.process_time() - started)
    print("2. the districts' other work alone, one year (median of 3):")
    print(
        f"  planner Patrols: {n / statistics.median(ours):,.0f} assignments/s ({n:,} assignments)"
    )

    police = s.police
    shares = [police.work_shares[p] for p in ("p1", "p2", "p3")]
    theirs = []
    for r in range(REPS):
        rates = {}
        for k, share in enumerate(shares):
            rates[f"p{k + 1}"] = [
                ciw.dists.Exponential(
                    police.other_work_utilisation * d.on_duty[0] / police.other_job * share
                )
                for d in districts
            ]
        net = ciw.create_network(
            arrival_distributions=rates,
            service_distributions={
                p: [ciw.dists.Exponential(1.0 / police.other_job)] * len(districts) for p in rates
            },
            number_of_servers=[d.on_duty[0] for d in districts],
            routing={p: [[0.0] * len(districts) for _ in districts] for p in rates},
            priority_classes=({"p1": 0, "p2": 1, "p3": 2}, ["resume"] * len(districts)),
        )
        ciw.seed(r)
        sim = ciw.Simulation(net)
        started = time.process_time()
        sim.simulate_until_max_time(horizon)
        theirs.append(time.process_time() - started)
        done = len(sim.get_all_records())
    print(f"  Ciw {ciw.__version__}: {done / statistics.median(theirs):,.0f} assignments/s")
    print(f"  planner / Ciw: {statistics.median(theirs) / statistics.median(ours):.1f}x faster")
    print("  (Ciw's pre-emption lets P1 and P2 take a patrol from lower work; planner's P1 alone,")
    print("   from P3 alone by default: a little less work for Ciw's queue to reorder)")


if __name__ == "__main__":
    replication_year()
    queue_against_ciw()
