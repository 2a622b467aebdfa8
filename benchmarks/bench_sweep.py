"""Sweep throughput: replication-years per second on this machine, local processes and Dask.

The sweep is the default Oslo/Akershus scenario and today's service on the same calls (the
baseline a sweep adds), REPLICATIONS each: one replication is one simulated year (365 days,
the warm-up week included). Timed from the first submitted item to the last stored one, so
worker start-up and the store's writes are in the figure, as a user of `planner sweep` sees it.
The store's own cost is timed separately: one replication's transaction with and without its
call log.

    python benchmarks/bench_sweep.py [REPLICATIONS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from planner.store.database import Store, StoredScenario
from planner.sweep.executors import Pool, dask_pool, local_pool, run_items
from planner.sweep.grid import ItemResult, Sweep, load_sweep, run_item

ROOT = Path(__file__).resolve().parent.parent


def _sweep(folder: Path, replications: int) -> Sweep:
    f = folder / "bench.toml"
    f.write_text(
        f'[sweep]\nname = "bench"\nbase = "{ROOT / "simulations" / "oslo_akershus.toml"}"\n'
        f"replications = {replications}\nseed = 1\n",
        "utf-8",
    )
    return load_sweep(f)


def _open(path: Path, plan: Sweep, executor: str) -> tuple[Store, int]:
    store = Store.open(path)
    run = store.begin_run(
        sweep_name=plan.name,
        sweep_file="bench.toml",
        sweep_text="",
        seed=plan.seed,
        replications=plan.replications,
        executor=executor,
        keep_logs=False,
        scenarios=[
            StoredScenario(s.hash, s.label, s.toml, s.baseline_hash) for s in plan.scenarios
        ],
    )
    return store, run


def _store(store: Store, run: int, r: ItemResult, executor: str) -> None:
    store.add_replication(
        run, hash=r.hash, seed=r.seed, replication=r.replication, kpis=r.kpis,
        seconds=r.seconds, executor=executor, worker=r.worker, log=r.log,
    )  # fmt: skip


def timed(
    name: str, pool_cm: AbstractContextManager[Pool], plan: Sweep, folder: Path
) -> tuple[str, float, int]:
    items = plan.work_items()
    years = sum(s.scenario.run.horizon_days / 365.0 for s in plan.scenarios) * plan.replications
    store, run = _open(folder / f"{name.replace(' ', '_')}.duckdb", plan, name)
    with store, pool_cm as pool:
        started = time.perf_counter()
        done = 0
        for r in run_items(pool, plan, items, keep_logs=False):
            _store(store, run, r, pool.name)
            done += 1
        wall = time.perf_counter() - started
    assert done == len(items)
    return name, years / wall, done


def store_overhead(plan: Sweep, folder: Path, n: int = 20) -> Iterator[tuple[str, float]]:
    s = plan.scenarios[0]
    results = [run_item(s.model, s.hash, plan.seed, r, keep_log=True) for r in range(n)]
    for keep in (False, True):
        store, run = _open(folder / f"overhead_{keep}.duckdb", plan, "bench")
        with store:
            started = time.perf_counter()
            for r in results:
                _store(store, run, r if keep else ItemResult(**{**r.__dict__, "log": None}), "x")
            what = f"with its {len(results[0].log)} calls" if keep else "KPIs only"
            yield f"store one replication ({what})", (time.perf_counter() - started) / n


def main() -> None:
    from distributed import LocalCluster

    replications = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = _sweep(folder, replications)
        print(
            f"sweep: {len(plan.scenarios)} scenarios (Oslo/Akershus default + baseline) × "
            f"{replications} replications of one simulated year"
        )
        rows = [
            timed("local, 1 worker", local_pool(1), plan, folder),
            timed("local, 2 workers", local_pool(2), plan, folder),
        ]
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            rows.append(
                timed("dask, 2 workers", dask_pool(cluster.scheduler_address), plan, folder)
            )
        for name, rate, done in rows:
            print(f"{name:<18} {rate:6.2f} replication-years / s  ({done} replications)")
        for name, seconds in store_overhead(plan, folder):
            print(f"{name:<45} {seconds * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
