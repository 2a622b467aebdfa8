"""Memory stays bounded: the call log streamed to Parquet, the same figures, an estimate before a
run and a refusal of one the machine cannot hold or finish, progress lines in a log."""

from __future__ import annotations

import gc
import io
import itertools
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from planner import load_scenario, scenario_from_dict
from planner.cli.progress import progress
from planner.scenario.model import Scenario
from planner.sim import budget
from planner.sim.budget import (
    BASE_BYTES,
    KEPT_BYTES_PER_CALL,
    SECONDS_PER_CALL,
    SECONDS_PER_REPLICATION,
    STREAM_BYTES,
    WORKING_BYTES_PER_CALL,
    RunNeeds,
    available_memory,
    estimate_run,
    expected_calls,
    refusal,
    run_refusal,
)
from planner.sim.demand import cell_weights, generate_calls
from planner.sim.event_log import DiscardLog, ParquetLog
from planner.sim.run import Results, simulate
from planner.sim.world import build_world

ROOT = Path(__file__).resolve().parent.parent
OSLO = ROOT / "simulations" / "oslo_akershus.toml"

SMALL: dict[str, Any] = {
    "scenario": {"name": "memory"},
    "region": {"kind": "abstract", "population": 700_000, "travel_minutes": 14.0},
    "dispatch": {"policy": "health-first"},
    "fleet": {
        "units": [
            {"name": "Day", "base": "a", "shift": "day"},
            {"name": "Evening", "base": "a", "shift": "evening"},
        ]
    },
    "run": {"horizon_days": 40.0, "warmup_days": 5.0, "replications": 3, "seed": 5},
}


def _short_oslo(days: float, replications: int) -> Scenario:
    s = load_scenario(OSLO)
    run = s.run.model_copy(update={"horizon_days": days, "replications": replications})
    return s.model_copy(update={"run": run})


def _assert_same_figures(a: Results, b: Results) -> None:
    for name in ("kpis", "per_replication", "by_zone", "by_hour"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.utilisation.dtype == b.utilisation.dtype
    assert np.array_equal(a.utilisation, b.utilisation, equal_nan=True)
    assert a.summary().to_json() == b.summary().to_json()


# --- streaming gives the same figures and the same table -------------------------------------


@pytest.mark.parametrize("rows", [None, 700])  # default row groups; one group per replication
def test_streamed_run_has_the_figures_and_table_of_the_in_memory_run(
    tmp_path: Path, rows: int | None
) -> None:
    scenario = _short_oslo(days=21.0, replications=3)
    kept = simulate(scenario)
    kept.log.to_parquet(tmp_path / "kept.parquet", index=False)  # what `planner run` wrote
    path = tmp_path / "streamed.parquet"
    if rows is None:
        streamed = simulate(scenario, log_to=path)
    else:
        with ParquetLog(path, row_group_rows=rows) as sink:
            streamed = simulate(scenario, log_to=sink)
        # about 950 calls a replication, more than 700: each replication is one row group
        assert pq.ParquetFile(path).num_row_groups == 3
    _assert_same_figures(kept, streamed)
    table, expected = pq.read_table(path), pq.read_table(tmp_path / "kept.parquet")
    assert table.num_rows == len(kept.log) > 2_000
    assert table.equals(expected, check_metadata=True)
    pd.testing.assert_frame_equal(pd.read_parquet(path), kept.log, check_exact=True)
    # Results.log: no rows, the log's columns and types
    assert streamed.log.empty
    assert streamed.log.dtypes.to_dict() == kept.log.dtypes.to_dict()


def test_discarded_log_gives_the_same_figures() -> None:
    # 11 replications: the group rows kept are merged at several levels (1 + 2 + 8)
    scenario = scenario_from_dict(SMALL | {"run": SMALL["run"] | {"horizon_days": 15.0}})
    kept, dropped = simulate(scenario, 11), simulate(scenario, 11, log_to=DiscardLog())
    assert len(kept.by_hour) == 24 and len(dropped.per_replication) == 11
    _assert_same_figures(kept, dropped)
    assert dropped.log.empty and list(dropped.log.columns) == list(kept.log.columns)


def test_a_run_that_fails_leaves_no_log_file(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"

    def stop(done: int, _total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    # one row group a replication: rows are in the file when the run stops
    with pytest.raises(KeyboardInterrupt), ParquetLog(path, row_group_rows=1) as sink:
        simulate(scenario_from_dict(SMALL), log_to=sink, progress=stop)
    assert not path.exists()
    with pytest.raises(KeyboardInterrupt):
        simulate(scenario_from_dict(SMALL), log_to=path, progress=stop)
    assert not path.exists()


# --- memory does not grow with replications -----------------------------------------------


def _traced(scenario: Scenario, sink: Any, replications: int) -> list[tuple[int, int]]:
    """(current, peak) bytes traced after each replication (current: after collecting)."""
    seen: list[tuple[int, int]] = []

    def record(_done: int, _total: int) -> None:
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()  # frames of the replication just done may wait in reference cycles
        seen.append((tracemalloc.get_traced_memory()[0], peak))

    simulate(scenario, replications, log_to=sink, progress=record)
    return seen


def test_memory_does_not_grow_with_replications(tmp_path: Path) -> None:
    scenario = scenario_from_dict(SMALL | {"run": SMALL["run"] | {"horizon_days": 25.0}})
    log_bytes = int(simulate(scenario, 1).log.memory_usage(deep=True).sum())  # warms caches too
    assert log_bytes > 120_000  # about 590 calls
    tracemalloc.start()
    try:
        with ParquetLog(tmp_path / "e.parquet", row_group_rows=300) as sink:
            streamed = _traced(scenario, sink, 6)
        kept = _traced(scenario, None, 6)
    finally:
        tracemalloc.stop()
    # from the 2nd to the 6th replication; kept in memory, each adds its log (the measure works)
    assert kept[5][0] - kept[1][0] > 4 * 0.8 * log_bytes
    assert kept[5][1] - kept[1][1] > 3 * log_bytes
    # streamed, what stays is KPIs and group rows: a few kB a replication, whatever its calls
    assert streamed[5][0] - streamed[1][0] < 4 * 15_000 < 4 * 0.15 * log_bytes
    # the peak is one replication at work: more replications only vary its size a little
    assert streamed[5][1] - streamed[1][1] < 1.5 * log_bytes


# --- the estimate and the refusal ------------------------------------------------------------


def test_expected_calls_follow_the_demand_model() -> None:
    # abstract region: population × rate / 1,000 × growth × years; 73 days = 0.2 year
    s = scenario_from_dict(
        SMALL
        | {
            "region": {"kind": "abstract", "population": 730_000, "travel_minutes": 14.0},
            "demand": {"rate_per_1000_per_year": 10.0, "growth_per_year": 0.0},
            "run": {"horizon_days": 73.0, "warmup_days": 5.0, "replications": 1, "seed": 1},
        }
    )
    assert expected_calls(s) == pytest.approx(730_000 * 10 / 1000 * 0.2, rel=1e-12)
    # Oslo over 52 whole weeks: the mean of 30 drawn replications is within 4 standard errors
    oslo = _short_oslo(days=364.0, replications=1)
    expected = expected_calls(oslo)
    world = build_world(oslo)
    rates = cell_weights(oslo, world.cell_population, world.cell_zone)
    counts = [len(generate_calls(oslo, rates, r)) for r in range(30)]
    assert 14_000 < expected < 20_000
    assert abs(np.mean(counts) - expected) < 4 * np.sqrt(expected / 30)


def test_estimate_is_flat_in_replications_when_streamed() -> None:
    one = estimate_run(10_000, 10, simulations=2)
    many = estimate_run(10_000, 100_000, simulations=2)
    assert (
        one.peak_bytes
        == many.peak_bytes
        == BASE_BYTES + 10_000 * WORKING_BYTES_PER_CALL + STREAM_BYTES
    )
    assert one.seconds == pytest.approx((10_000 * SECONDS_PER_CALL + SECONDS_PER_REPLICATION) * 20)
    assert many.seconds == pytest.approx(one.seconds * 10_000)
    kept = estimate_run(10_000, 40, simulations=2, streamed=False)
    assert kept.peak_bytes == pytest.approx(
        BASE_BYTES + 10_000 * WORKING_BYTES_PER_CALL + 10_000 * 40 * 2 * KEPT_BYTES_PER_CALL
    )
    assert many == RunNeeds(100_000, 10_000, many.peak_bytes, many.seconds)


GB = 10**9


def test_refusal_names_memory_time_and_what_is_free() -> None:
    # Oslo's 17,600 calls, 100,000 replications with the baseline, the log kept in memory
    kept = estimate_run(17_600, 100_000, simulations=2, streamed=False)
    assert refusal(kept, 22 * GB, asked="--replications 100000") == (
        "--replications 100000: about 2.1 TB of memory and 27 h; this machine has 22 GB free; "
        "pass --force to run anyway"
    )
    # streamed, memory is 378 MB whatever the count, but 27 h is over the 8 h limit
    streamed = estimate_run(17_600, 100_000, simulations=2)
    assert refusal(streamed, 22 * GB) == (
        "100,000 replications: about 378 MB of memory and 27 h, longer than the 8 h a run may "
        "take unasked; pass --force to run anyway"
    )
    # 10,000 replications take 2.7 h and fit: no refusal, also when free memory is unknown
    assert refusal(estimate_run(17_600, 10_000, simulations=2), 22 * GB) is None
    assert refusal(estimate_run(17_600, 10_000, simulations=2), None) is None
    assert refusal(streamed, None) is not None


def test_refusal_keeps_a_fifth_of_free_memory() -> None:
    e = RunNeeds(10, 1_000.0, 800e6, 1.0)
    assert refusal(e, 1_000_000_000) is None  # exactly 80 %
    assert refusal(e, 999_999_999) == (
        "10 replications: about 800 MB of memory and 1 s; this machine has 1,000 MB free; "
        "pass --force to run anyway"
    )
    assert refusal(RunNeeds(10, float("inf"), float("inf"), float("inf")), 22 * GB) == (
        "10 replications: more memory and time than can be estimated; this machine has 22 GB "
        "free; pass --force to run anyway"
    )
    slow = RunNeeds(10, 1_000.0, 800e6, 100.0)
    assert refusal(slow, None, time_limit=60.0, hint="say --force") == (
        "10 replications: about 800 MB of memory and 2 min, longer than the 1 min a run may "
        "take unasked; say --force"
    )


def test_available_memory_reads_meminfo_and_the_container_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   23068672 kB\n", "ascii")
    no_cgroup = tmp_path / "none"
    assert available_memory(meminfo, no_cgroup) == 23068672 * 1024
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("max\n", "ascii")
    (cgroup / "memory.current").write_text("1000000000\n", "ascii")
    assert available_memory(meminfo, cgroup) == 23068672 * 1024  # no limit
    (cgroup / "memory.max").write_text("8000000000\n", "ascii")
    assert available_memory(meminfo, cgroup) == 7_000_000_000
    # no MemAvailable: the free pages; a system that says nothing: unknown
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(budget.os, "sysconf", lambda name: pages[name])
    assert available_memory(tmp_path / "missing", no_cgroup) == 4_096_000

    def unsupported(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(budget.os, "sysconf", unsupported)
    assert available_memory(tmp_path / "missing", no_cgroup) is None
    assert available_memory(tmp_path / "missing", cgroup) == 7_000_000_000


def test_run_refusal_of_a_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "available_memory", lambda: 22 * GB)
    oslo = load_scenario(OSLO)
    assert run_refusal(oslo, 10, simulations=2) is None
    reason = run_refusal(oslo, 100_000, simulations=2, asked="--replications 100000")
    assert reason is not None
    assert reason.startswith("--replications 100000: about ")
    assert reason.endswith(
        ", longer than the 8 h a run may take unasked; pass --force to run anyway"
    )


# --- progress lines off a terminal -----------------------------------------------------------


def _lines(label: str, total: int, ticks: int, lines: bool = True) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=40)
    clock = itertools.count(0.0, 0.5)  # the start, then half a second per item
    with progress(
        console, label, total, "replications", lines=lines, clock=lambda: next(clock)
    ) as tick:
        for _ in range(ticks):
            tick()
    return out.getvalue().splitlines()


def test_progress_lines_read_exactly() -> None:
    label = "simulating [bold]:smile: a file name longer than the console.toml"
    assert _lines(label, 3, 3) == [
        f"{label}: replications 1/3 (33%), 2.0/s, ETA 0:00:01",
        f"{label}: replications 2/3 (67%), 2.0/s, ETA 0:00:00",
        f"{label}: replications 3/3 (100%), 2.0/s, ETA 0:00:00",
    ]
    # 40 items: the first, then every 2 (5 %), the last
    shown = [line.split(" ")[2] for line in _lines("run", 40, 40)]
    assert shown == ["1/40"] + [f"{n}/40" for n in range(2, 41, 2)]
    assert _lines("run", 40, 40, lines=False) == []


# --- the command line: refused before it starts, progress in a log ----------------------------


def _planner(*args: str, cwd: Path) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
        check=False,
    )


@pytest.mark.shell
def test_a_run_too_long_for_the_machine_is_refused_in_one_line_before_it_starts(
    tmp_path: Path,
) -> None:
    scenario = Path(__file__).resolve().parents[1] / "simulations" / "oslo_akershus.toml"
    done = _planner("run", str(scenario), "--replications", "100000", "--out", "r", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("--replications 100000: about ")
    assert lines[0].endswith("; pass --force to run anyway")
    assert " h" in lines[0]  # the time it would take, in hours
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a staging folder


@pytest.mark.shell
def test_progress_of_a_run_is_plain_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[1] / "simulations" / "mmc_check.toml").read_text()
    (tmp_path / "s.toml").write_text(text)
    done = _planner("run", "s.toml", "--replications", "4", "--out", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if x.startswith("simulating s.toml: ")]
    done_counts = [x.split(" replications ")[1].split(" ")[0] for x in lines]
    assert done_counts == ["1/4", "2/4", "3/4", "4/4"]
