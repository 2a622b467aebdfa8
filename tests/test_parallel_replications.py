"""Replications run side by side (``simulate(executor=...)``) give the figures of a serial run,
bit for bit: the same KPIs, intervals, log, tables by zone and hour and utilisation, and the
same progress; a failed replication stops the run; few replications wait to be gathered. And
the dashboard's worker processes: none on one core, a killed pool replaced by a run here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_simulation import SMALL as SIMULATION_SMALL

from planner import scenario_from_dict
from planner.sim.run import IN_FLIGHT, Results, simulate
from planner.sweep.executors import local_pool

SMALL = {  # test_simulation's small scenario, over a shorter run with more replications
    **SIMULATION_SMALL,
    "run": {"replications": 7, "horizon_days": 60, "warmup_days": 7, "seed": 11},
}


def _same(a: Results, b: Results) -> None:
    for name in ("kpis", "per_replication", "log", "by_zone", "by_hour"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    np.testing.assert_array_equal(a.utilisation, b.utilisation)


@pytest.fixture(scope="module")
def serial() -> Results:
    return simulate(scenario_from_dict(SMALL))


def test_threads_give_the_serial_figures(serial: Results) -> None:
    with ThreadPoolExecutor(3) as pool:
        _same(serial, simulate(scenario_from_dict(SMALL), executor=pool))
    assert len(serial.per_replication) == 7
    assert serial.log["replication"].drop_duplicates().tolist() == list(range(7))


@pytest.mark.shell
def test_worker_processes_give_the_serial_figures(serial: Results) -> None:
    with local_pool(2) as pool:
        _same(serial, simulate(scenario_from_dict(SMALL), executor=pool.executor))


@pytest.mark.shell
def test_simulate_starts_its_own_worker_processes_when_asked(serial: Results) -> None:
    _same(serial, simulate(scenario_from_dict(SMALL), workers=2))


def test_workers_run_the_replications_on_the_pool_simulate_starts(
    serial: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pool's workers as threads (what runs where is the same; no process to spawn)
    from planner import processes

    started: list[int] = []
    ran: list[int] = []

    class Pool(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            ran.append(args[1])  # run_replication(scenario, replication)
            return super().submit(fn, *args, **kwargs)

    def pool(workers: int) -> ThreadPoolExecutor:
        started.append(workers)
        return Pool(workers)

    monkeypatch.setattr(processes, "process_pool", pool)
    s = scenario_from_dict(SMALL)
    _same(serial, simulate(s, workers=3))
    assert ran == list(range(7))  # every replication went to the pool
    told: list[tuple[int, int]] = []
    path = tmp_path / "calls.parquet"
    got = simulate(s, 4, 5, lambda d, t: told.append((d, t)), path, workers=2)
    assert started == [3, 2] and ran == [*range(7), *range(4)]
    assert told == [(1, 4), (2, 4), (3, 4), (4, 4)]  # its progress, and its count of them
    assert got.scenario.run.seed == 5 and got.log.empty  # its seed; its log streamed
    _same(simulate(s, 4, 5), dataclasses.replace(got, log=pd.read_parquet(path)))
    simulate(s, 2, workers=1)  # one: here, no pool
    assert started == [3, 2]
    # "auto" starts as many as the budget says (2 on this machine's 2 cores, for a long run)
    from planner.sim import budget

    monkeypatch.setattr(budget, "auto_workers", lambda scenario: 2)
    _same(serial, simulate(s, workers="auto"))
    assert started == [3, 2, 2]


def test_auto_workers_run_a_short_run_here(
    serial: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner import processes

    def no_pool(workers: int) -> None:
        raise AssertionError(f"a short run started {workers} processes")

    monkeypatch.setattr(processes, "process_pool", no_pool)
    _same(serial, simulate(scenario_from_dict(SMALL), workers="auto"))


@pytest.mark.shell
def test_auto_workers_start_as_many_processes_as_budget_says(
    serial: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner import processes
    from planner.sim import budget

    started: list[int] = []
    real_pool = processes.process_pool

    def pool(workers: int) -> Any:
        started.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(budget, "auto_workers", lambda s: 2)  # as for a long run on 2 cores
    monkeypatch.setattr(processes, "process_pool", pool)
    _same(serial, simulate(scenario_from_dict(SMALL), workers="auto"))
    assert started == [2]


def test_workers_are_a_whole_number_of_processes_and_not_beside_a_pool() -> None:
    s = scenario_from_dict(SMALL)
    _same(simulate(s, 2), simulate(s, 2, workers=1))  # one process: here, as without
    with pytest.raises(ValueError, match=r"workers: at least 1 process \(got 0\)"):
        simulate(s, workers=0)
    with pytest.raises(TypeError, match=r"workers: a whole number of processes, 'auto' or None"):
        simulate(s, workers=True)
    with pytest.raises(TypeError, match=r"\(got 'AUTO'\)"):
        simulate(s, workers="AUTO")  # type: ignore[arg-type]
    with (
        ThreadPoolExecutor(1) as pool,
        pytest.raises(
            ValueError, match=r"^give workers or executor, not both: an executor is a pool already$"
        ),
    ):
        simulate(s, executor=pool, workers=1)
    with pytest.raises(TypeError, match=r"\(got 2\.0\)"):
        simulate(s, workers=2.0)  # type: ignore[arg-type]
    both = r"^give workers or executor, not both: an executor is a pool already$"
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match=both):
        simulate(s, executor=pool, workers=2)


def test_a_streamed_log_is_the_same(tmp_path: Path, serial: Results) -> None:
    with ThreadPoolExecutor(2) as pool:
        simulate(scenario_from_dict(SMALL), log_to=tmp_path / "calls.parquet", executor=pool)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "calls.parquet"), serial.log, check_exact=True
    )


def test_a_streamed_log_runs_on_the_executor_too(tmp_path: Path) -> None:
    pool = _Recording()
    simulate(scenario_from_dict(SMALL), log_to=tmp_path / "calls.parquet", executor=pool)
    assert len(pool.futures) == 7  # every replication went to the executor


def test_progress_comes_in_order() -> None:
    told: list[tuple[int, int]] = []
    with ThreadPoolExecutor(2) as pool:
        simulate(
            scenario_from_dict(SMALL),
            replications=5,
            executor=pool,
            progress=lambda done, total: told.append((done, total)),
        )
    assert told == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


class _Recording(Executor):
    """Runs each item when it is submitted; counts how many were given ahead of the one being
    gathered; fails item ``fail`` (if set)."""

    def __init__(self, fail: int | None = None) -> None:
        self.futures: list[Future[Any]] = []
        self.fail = fail

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        f: Future[Any] = Future()
        self.futures.append(f)
        if len(self.futures) - 1 == self.fail:
            f.set_exception(RuntimeError("replication failed"))
        elif self.fail is None or len(self.futures) - 1 < self.fail:
            f.set_result(fn(*args, **kwargs))
        # after the failed one: left pending, as in a pool still working on them
        return f


def test_few_replications_wait_to_be_gathered() -> None:
    seen: list[int] = []
    pool = _Recording()
    simulate(
        scenario_from_dict(SMALL),
        executor=pool,
        progress=lambda done, total: seen.append(len(pool.futures)),
    )
    # replication r is gathered once r + IN_FLIGHT have been given out (all, at the end)
    assert IN_FLIGHT == 4
    assert seen == [4, 5, 6, 7, 7, 7, 7]


def test_a_failed_replication_stops_the_run_and_cancels_the_rest() -> None:
    pool = _Recording(fail=1)
    with pytest.raises(RuntimeError, match="replication failed"):
        simulate(scenario_from_dict(SMALL), executor=pool)
    assert len(pool.futures) == IN_FLIGHT + 1  # replication 1 is gathered after 0..4 went out
    assert [f.cancelled() for f in pool.futures] == [False, False, True, True, True]


# -- the dashboard's workers ------------------------------------------------------------------


def test_no_worker_processes_on_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.dashboard import state

    monkeypatch.setattr(state, "default_workers", lambda: 1)
    monkeypatch.setattr(state, "_pool", [])
    monkeypatch.setattr(state, "_warming", [])  # another test's dashboard may have started some
    assert state.workers() is None
    state.warm(scenario_from_dict(SMALL))  # nothing to start
    assert state.ready(timeout=0) is False


class _Broken(Executor):
    def __init__(self) -> None:
        self.shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        f: Future[Any] = Future()
        f.set_exception(BrokenProcessPool("a worker was killed"))
        return f

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shut = True


def test_a_killed_pool_is_replaced_by_a_run_here(
    monkeypatch: pytest.MonkeyPatch, serial: Results
) -> None:
    from planner.dashboard import state

    broken = _Broken()
    monkeypatch.setattr(state, "_pool", [broken])
    monkeypatch.setattr(state, "default_workers", lambda: 2)
    state.clear_cache()
    res = state.simulated(scenario_from_dict(SMALL), "scenario")
    _same(serial, res)
    assert broken.shut
    assert state._pool == []  # the next run starts new workers
    state.clear_cache()


@pytest.mark.shell  # the dashboard's scripts, not the core: out of mutation runs
@pytest.mark.parametrize("script", ["src/planner/dashboard/entry/dashboard.py", "app.py"])
def test_a_worker_does_not_draw_the_dashboard(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker started while Streamlit runs the script imports it as "__mp_main__" (Streamlit's
    __main__ then); drawing the app there cost each worker seconds and filled the log."""
    import runpy

    from planner.dashboard import app

    drawn: list[str] = []
    monkeypatch.setattr(app, "main", lambda: drawn.append(script))
    path = str(Path(__file__).resolve().parent.parent / script)
    runpy.run_path(path, run_name="__mp_main__")
    assert drawn == []
    runpy.run_path(path, run_name="__main__")  # as Streamlit runs it
    assert drawn == [script]


# -- the command line's --workers ----------------------------------------------------------------


@pytest.mark.shell
def test_planner_run_with_workers_writes_the_serial_results_byte_for_byte(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    sims = Path(__file__).resolve().parent.parent / "simulations"
    for n in ("1", "2"):
        res = cli("run", sims / "mmc_check.toml", "--replications", "4", "--workers", n,
                  "--out", tmp_path / n)  # fmt: skip
        assert res.code == 0, res.err
    for name in ("summary.json", "kpis.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "1" / "events.parquet"),
        pd.read_parquet(tmp_path / "2" / "events.parquet"),
        check_exact=True,
    )


def test_the_default_workers_are_one_per_core_only_for_a_long_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planner.cli import common
    from planner.sim import budget

    monkeypatch.setattr("planner.processes.default_workers", lambda: 2)
    monkeypatch.setattr(budget, "available_memory", lambda: None)  # memory not known
    s = scenario_from_dict(SMALL)
    seconds = budget.estimate_run(budget.expected_calls(s), 7, 1).seconds
    assert seconds < budget.WORTH_WORKERS_SECONDS  # a short run: here, one after another
    assert common.workers_for(None, s, None, 1) == 1 == budget.auto_workers(s)
    reps = int(7 * 2 * budget.WORTH_WORKERS_SECONDS / seconds)  # twice as long as the bound
    assert common.workers_for(None, s, reps, 1) == 2 == budget.auto_workers(s, reps)
    # a run and its baseline: twice the work, so half the replications pay for the workers
    assert budget.auto_workers(s, reps // 2 + 1, 2) == 2
    assert budget.auto_workers(s, reps // 2 - 1, 1) == 1
    assert common.workers_for(1, s, reps, 1) == 1  # asked for: here
    assert common.workers_for(3, s, None, 1) == 3  # asked for: three


def test_workers_are_as_many_as_fit_in_the_memory_free_beside_the_run() -> None:
    from planner.sim.budget import RunNeeds, workers_that_fit

    # each worker: 300 MB of model + 10,000 calls x 1,600 bytes + 50 MB of stream = 366 MB;
    # 80 % of 2 GB free is 1,600 MB, less the run's own 400 MB: room for 3 (1,098 MB), not 4
    run = RunNeeds(10, 10_000.0, 400e6, 60.0)
    assert workers_that_fit(10_000.0, run, 2_000_000_000, 8) == 3
    assert workers_that_fit(10_000.0, run, 2_000_000_000, 2) == 2
    assert workers_that_fit(10_000.0, run, 500_000_000, 8) == 1  # none fit: the run stays here
    assert workers_that_fit(10_000.0, run, None, 8) == 8  # memory not known


@pytest.mark.shell
def test_more_workers_than_fit_in_memory_are_refused_in_one_line(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.sim import budget

    monkeypatch.setattr(budget, "available_memory", lambda: 1_000_000_000)  # 1 GB free
    sims = Path(__file__).resolve().parent.parent / "simulations"
    res = cli("run", sims / "mmc_check.toml", "--workers", "4", "--out", tmp_path / "x")
    assert res.code == 2 and res.out == ""
    # mmc_check: 2 calls an hour for 365 days, 17,520 calls; a worker 300 MB + 17,520 x 1,600
    # bytes + 50 MB = 378 MB, four of them 1.5 GB; beside the run's 378 MB in 80 % of 1 GB, none
    assert res.err.strip().splitlines() == [
        "--workers 4: 4 worker processes need about 1.5 GB beside the run; this machine has "
        "1 GB free; use --workers 1, or pass --force"
    ]
    assert not (tmp_path / "x").exists()
