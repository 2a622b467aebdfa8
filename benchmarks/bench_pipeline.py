"""The whole pipeline's throughput: ``simulate()`` of the default scenario end to end (the call
stream, the engine, the event log, the KPIs, the tables by zone and hour), one replication after
another and on one worker process per core, beside a bare SimPy M/M/4 loop in the same run.

Calls per second of wall time: ``simulate`` counts every call of every replication; the world
(travel tables) is built before it, as a second run of the same region finds it. With worker
processes, two figures: started inside the timing (``simulate(workers=...)``, as ``planner run``
starts them), and a pool already started and warm (``simulate(executor=...)``, as the
dashboard and a sweep keep theirs). The issue's promise: end to end at least as many calls per
second as the bare SimPy loop's.

Run from the project root: ``python benchmarks/bench_pipeline.py [replications]`` (default 40).
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd
from bench_engine import bare_simpy_seconds_per_call

from planner import load_scenario, simulate
from planner.processes import default_workers, process_pool
from planner.sim.event_log import DiscardLog
from planner.sim.run import prepare

ROOT = Path(__file__).resolve().parent.parent


class CountedLog(DiscardLog):
    """Keeps no rows, counts them: every call of every replication, warm-up included."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, frame: pd.DataFrame) -> None:
        super().write(frame)
        self.calls += len(frame)


def calls_per_second(
    replications: int, workers: int, pool: Executor | None = None
) -> tuple[float, int]:
    scenario = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    simulate(scenario, 1, log_to=DiscardLog())  # the world built here, as in any later run
    if pool is not None:  # warm: every worker has imported planner and built the world
        for f in [pool.submit(prepare, scenario) for _ in range(workers * 2)]:
            f.result()
    log = CountedLog()
    started = time.perf_counter()
    if pool is None:
        simulate(scenario, replications, log_to=log, workers=workers)
    else:
        simulate(scenario, replications, log_to=log, executor=pool)
    return log.calls / (time.perf_counter() - started), log.calls


def main() -> None:
    replications = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    bare = 1.0 / statistics.median(bare_simpy_seconds_per_call(4, seed=s) for s in range(3))
    print(f"bare SimPy M/M/4 loop: {bare:,.0f} calls/s (CPU time, median of 3)")
    cores = default_workers()
    for workers in sorted({1, cores}):
        rate, calls = calls_per_second(replications, workers)
        how = "here" if workers == 1 else f"on {workers} processes started in the timing"
        print(
            f"simulate() default scenario, {replications} replications ({calls:,} calls) "
            f"{how}: {rate:,.0f} calls/s = {rate / bare:.2f} x bare SimPy"
        )
        if workers > 1:
            with process_pool(workers) as pool:
                rate, calls = calls_per_second(replications, workers, pool)
            print(
                f"simulate() default scenario, {replications} replications ({calls:,} calls) "
                f"on {workers} warm processes: {rate:,.0f} calls/s = {rate / bare:.2f} x bare SimPy"
            )


if __name__ == "__main__":
    main()
