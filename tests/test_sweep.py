"""Sweeps and the results store: expansion, identical results on every executor, crash-resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from planner.compare import baseline_of
from planner.scenario_file import ScenarioError
from planner.simulation import simulate
from planner.store import Store, StoredScenario, StoreError
from planner.sweep import expand, load_sweep, run_item, scenario_hash

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "simulations" / "sweep_check.toml"


def _kpis(path: Path) -> pd.DataFrame:
    """Every stored KPI value, in a fixed order (NaN compared equal by pandas' testing)."""
    with Store.open(path, read_only=True) as s:
        return s.con.execute(
            "SELECT hash, seed, replication, kpi, value FROM kpis "
            "ORDER BY hash, seed, replication, kpi"
        ).df()


def _sweep_file(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "sweep.toml"
    f.write_text(text, "utf-8")
    return f


# -- expansion -------------------------------------------------------------------------------


def test_check_sweep_expands_to_paired_scenarios_with_shared_baseline() -> None:
    plan = load_sweep(CHECK)
    labels = [s.label for s in plan.scenarios]
    assert labels == [
        "health-first, units=1",
        "health-first, units=2",
        "evening shifts, units=1",
        "evening shifts, units=2",
        "today's service",
    ]
    today = plan.scenarios[-1]
    assert all(s.baseline_hash == today.hash for s in plan.scenarios[:-1])
    assert today.scenario.dispatch.policy == "baseline" and not today.scenario.fleet.units
    for s in plan.scenarios:
        assert s.hash == scenario_hash(s.toml)  # the hash is of the exact stored text
        assert (s.scenario.run.seed, s.scenario.run.replications) == (7, 4)
        assert "seed" not in s.toml  # seed and replications live in the sweep, not the text
    assert [u.shift for u in plan.scenarios[3].scenario.fleet.units] == ["evening", "evening"]
    assert len(plan.work_items()) == 5 * 4


def test_shipped_sweeps_are_valid(cli) -> None:
    r = cli("validate", ROOT / "simulations" / "sweep_units.toml", CHECK)
    assert r.code == 0, r.err
    said = " ".join(r.out.split())  # as printed, without rich's line wrapping
    assert "sweep units — 14 scenarios × 10 replications = 140 work items, seed 1" in said
    assert "sweep check — 5 scenarios × 4 replications = 20 work items, seed 7" in said


def test_invalid_combination_is_named_before_anything_runs(tmp_path: Path) -> None:
    f = _sweep_file(
        tmp_path,
        f'[sweep]\nbase = "{ROOT / "simulations" / "bergen.toml"}"\n[grid]\nunits = [1, 2]\n',
    )
    with pytest.raises(ScenarioError) as exc:
        load_sweep(f)
    assert exc.value.problems == [
        f"{f}: scenario 'units=2': units: 2 units asked for, but the base fleet has 1"
    ]
    text = '[sweep]\nname = "s"\n[[variants]]\nname = "late"\n"fleet.shifts.late.start_hour" = 30\n'
    with pytest.raises(ScenarioError) as exc:
        expand(text.encode(), "s.toml", tmp_path)
    assert exc.value.problems[0].startswith(
        "s.toml: scenario 'late': fleet.shifts.late.start_hour: Input should be less than"
    )


def test_one_line_error_from_sweep_counts_the_rest(cli, tmp_path: Path) -> None:
    f = _sweep_file(tmp_path, "[sweep]\nreplications = 0\nseed = -1\nname = ''\n")
    r = cli("sweep", f, "--store", tmp_path / "s.duckdb")
    assert r.code == 2
    assert r.err.splitlines() == [
        f"{f}: sweep.name: String should have at least 1 character (got '') "
        f"(and 2 more problems: planner validate {f})"
    ]
    assert not (tmp_path / "s.duckdb").exists()
    v = cli("validate", f)
    assert v.code == 2 and len(v.err.splitlines()) == 3


# -- results: the same whatever runs them -----------------------------------------------------


def test_stored_replications_equal_a_direct_simulation(cli, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    r = cli("sweep", CHECK, "--store", store, "--workers", "2")
    assert r.code == 0, r.err
    assert "0 already in" in r.err and "running 20 on local:2" in r.err
    plan = load_sweep(CHECK)
    service, today = plan.scenarios[1], plan.scenarios[-1]
    with Store.open(store, read_only=True) as s:
        assert s.counts()["replications"] == 20
        got = s.per_replication(service.hash)
        got_today = s.per_replication(today.hash)
        summary = s.summary(service.hash)
        listed = s.scenarios()
    direct = simulate(service.scenario)
    pd.testing.assert_frame_equal(got, direct.per_replication)  # same shape, same values
    pd.testing.assert_frame_equal(summary, direct.kpis)
    pd.testing.assert_frame_equal(
        got_today, simulate(baseline_of(service.scenario)).per_replication
    )
    assert set(listed["replications"]) == {4}
    # a second run finds everything done and runs nothing
    again = cli("sweep", CHECK, "--store", store)
    assert again.code == 0 and "20 already in" in again.err and "running 0" in again.err


def test_local_and_dask_give_identical_values(cli, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local, dask = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    assert cli("sweep", CHECK, "--store", local, "--workers", "1").code == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        r = cli("sweep", CHECK, "--store", dask, "--scheduler", cluster.scheduler_address)
    assert r.code == 0, r.err
    assert f"on dask:{cluster.scheduler_address}" in r.err
    a, b = _kpis(local), _kpis(dask)
    assert len(a) == 20 * 17
    pd.testing.assert_frame_equal(a, b)
    with Store.open(dask, read_only=True) as s:
        workers = s.con.execute("SELECT DISTINCT worker FROM replications").fetchall()
    assert len(workers) == 2  # both Dask workers ran items


def test_unreachable_scheduler_is_one_line(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("planner.executors.DASK_CONNECT_SECONDS", 1)
    r = cli("sweep", CHECK, "--store", tmp_path / "s.duckdb", "--scheduler", "tcp://127.0.0.1:9")
    assert r.code == 2 and len(r.err.splitlines()) == 1
    assert "cannot reach a Dask scheduler at tcp://127.0.0.1:9" in r.err
    assert not (tmp_path / "s.duckdb").exists()


# -- the store ---------------------------------------------------------------------------------


def test_a_failed_replication_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    plan = load_sweep(CHECK)
    s0 = plan.scenarios[0]
    item = run_item(s0.toml, plan.seed, 0, keep_log=True)
    with Store.open(tmp_path / "s.duckdb") as store:
        run = store.begin_run(
            sweep_name="t",
            sweep_file="t.toml",
            sweep_text="",
            seed=plan.seed,
            replications=1,
            executor="test",
            keep_logs=True,
            scenarios=[StoredScenario(s0.hash, "x", s0.toml, None)],
        )

        def broken(*args: object) -> None:
            raise OSError("disk full")  # after the replication row and its KPIs went in

        monkeypatch.setattr(store, "_insert_calls", broken)
        with pytest.raises(OSError):
            store.add_replication(
                run, hash=s0.hash, seed=plan.seed, replication=0, kpis=item.kpis,
                seconds=1.0, executor="test", worker="w", log=item.log,
            )  # fmt: skip
        assert store.counts()["replications"] == 0 and store.counts()["kpis"] == 0
        assert store.done([s0.hash], plan.seed) == set()
        monkeypatch.undo()
        store.add_replication(
            run, hash=s0.hash, seed=plan.seed, replication=0, kpis=item.kpis,
            seconds=1.0, executor="test", worker="w", log=item.log,
        )  # fmt: skip
        assert store.counts()["kpis"] == len(item.kpis)
        assert len(store.calls(s0.hash)) == len(item.log)  # type: ignore[arg-type]
        with pytest.raises(Exception, match=r"(?i)constraint|duplicate"):
            store.add_replication(
                run, hash=s0.hash, seed=plan.seed, replication=0, kpis=item.kpis,
                seconds=1.0, executor="test", worker="w",
            )  # fmt: skip
        assert store.counts()["replications"] == 1


def test_store_errors_are_one_line(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    r = cli("sweep", CHECK, "--store", junk, "--workers", "1")
    assert r.code == 2 and len(r.err.splitlines()) == 1 and "not a planner store" in r.err
    r = cli("store", "list", "--store", tmp_path / "absent.duckdb")
    assert r.code == 2 and "no such store" in r.err
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_report_from_the_store_with_and_without_call_logs(cli, tmp_path: Path) -> None:
    plan = load_sweep(CHECK)
    kept, bare = tmp_path / "kept.duckdb", tmp_path / "bare.duckdb"
    assert cli("sweep", CHECK, "--store", kept, "--keep-logs", "--workers", "2").code == 0
    assert cli("sweep", CHECK, "--store", bare, "--workers", "2").code == 0
    name = plan.scenarios[0].scenario.scenario.name
    with_map = tmp_path / "with.html"
    r = cli("report", "--store", kept, "--scenario", name, "--lang", "en", "--out", with_map)
    assert r.code == 0, r.err
    html = with_map.read_text("utf-8")
    assert html.count("data:image/png") == 3  # map, tornado, Monte Carlo
    assert "No map" not in html
    no_map = tmp_path / "without.html"
    r = cli("report", "--store", bare, "--scenario", plan.scenarios[0].hash[:8], "--lang", "en",
            "--out", no_map)  # fmt: skip
    assert r.code == 0, r.err
    html = no_map.read_text("utf-8")
    assert "No map: the results store holds no call log" in html
    assert html.count("data:image/png") == 2
    assert name in html
    r = cli("report", "--store", bare, "--scenario", "check: today's service")
    assert r.code == 2 and "has no baseline in the store" in r.err


# -- crash and resume with a real process ----------------------------------------------------

CRASH_SWEEP = """
[sweep]
name = "crash"
base = "{base}"
replications = 30
seed = 11

[grid]
policy = ["health-first"]
"""


def _start(sweep: Path, store: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "sweep", str(sweep), "--store", str(store),
         "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=sweep.parent,
    )  # fmt: skip


def test_killed_sweep_resumes_with_only_the_missing_work(tmp_path: Path, capsys) -> None:
    sweep = _sweep_file(tmp_path, CRASH_SWEEP.format(base=ROOT / "simulations" / "bergen.toml"))
    store, clean = tmp_path / "crash.duckdb", tmp_path / "clean.duckdb"
    total = 2 * 30  # Bergen's one unit and today's service, 30 replications each

    proc = _start(sweep, store)
    assert proc.stderr is not None
    started = time.monotonic()
    for line in proc.stderr:  # progress lines: "sweep crash: stored N/60 ..."
        if "stored" in line and int(line.split("stored ")[1].split("/")[0]) >= 15:
            break
        assert time.monotonic() - started < 120, "the sweep never got going"
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers, "the sweep should run its replications in worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # its orphaned workers notice and end: nothing keeps running after the crash
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"workers left running after the sweep was killed: {alive}"

    with Store.open(store, read_only=True) as s:  # readable after the kill
        stored = s.counts()["replications"]
        assert s.runs()["status"].tolist() == ["running"]  # as the killed process left it
    assert 15 <= stored < total

    resumed = subprocess.run(
        [sys.executable, "-m", "planner", "sweep", str(sweep), "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{stored} already in {store}, skipped; running {total - stored} on" in resumed.stderr
    assert f"stored {total - stored}/{total - stored}" in resumed.stderr

    subprocess.run(
        [sys.executable, "-m", "planner", "sweep", str(sweep), "--store", str(clean)],
        capture_output=True,
        check=True,
    )
    with Store.open(store, read_only=True) as s:
        [(n, distinct)] = s.con.execute(
            "SELECT count(*), count(DISTINCT (hash, seed, replication)) FROM replications"
        ).fetchall()
        statuses = s.runs()["status"].tolist()
        per_scenario = s.scenarios()["replications"].tolist()
    assert n == distinct == total and per_scenario == [30, 30]
    assert statuses == ["done", "interrupted"]
    crashed, uninterrupted = _kpis(store), _kpis(clean)
    pd.testing.assert_frame_equal(crashed, uninterrupted)
    assert np.isfinite(crashed["value"]).sum() > 0.8 * len(crashed)
    with capsys.disabled():
        print(
            f"\ncrash-resume: killed after {stored}/{total} stored; the re-run ran "
            f"{total - stored}; {n} replications, none duplicated, values equal to a clean run"
        )
