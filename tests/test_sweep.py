"""Sweeps and the results store: expansion, identical results on every executor, crash-resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest

from planner.scenario import parameters
from planner.scenario.loading import ScenarioError, load_scenario
from planner.scenario.parameters import default_values
from planner.sim.compare import baseline_of
from planner.sim.kpis import KPIS, PATROL_KPIS
from planner.sim.run import simulate
from planner.store.database import Store, StoredScenario, StoreError
from planner.sweep.grid import expand, load_sweep, planner_version, run_item, scenario_hash

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
        assert s.hash == scenario_hash(s.scenario)  # of the merged scenario, not only the text
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
    assert len(a) == 20 * (len(KPIS) + len(PATROL_KPIS) + 24)  # and Vest's patrols', by hour too
    pd.testing.assert_frame_equal(a, b)
    with Store.open(dask, read_only=True) as s:
        workers = s.con.execute("SELECT DISTINCT worker FROM replications").fetchall()
    assert len(workers) == 2  # both Dask workers ran items


def test_unreachable_scheduler_is_one_line(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("planner.sweep.executors.DASK_CONNECT_SECONDS", 1)
    r = cli("sweep", CHECK, "--store", tmp_path / "s.duckdb", "--scheduler", "tcp://127.0.0.1:9")
    assert r.code == 2 and len(r.err.splitlines()) == 1
    assert "cannot reach a Dask scheduler at tcp://127.0.0.1:9" in r.err
    assert not (tmp_path / "s.duckdb").exists()


# -- the store ---------------------------------------------------------------------------------


def test_a_failed_replication_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    plan = load_sweep(CHECK)
    s0 = plan.scenarios[0]
    item = run_item(s0.model, s0.hash, plan.seed, 0, keep_log=True)
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
    assert "planner sweep" not in html  # no instructions in a decision document
    # what the figures are: the stored scenario, its replications and seed (no path)
    stored = plan.scenarios[0].hash[:12]
    assert f"read from the results store (scenario {stored}, " in html
    assert str(bare) not in html
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
        keys = s.con.execute("SELECT hash, seed, replication FROM replications").fetchall()
        statuses = s.runs()["status"].tolist()
        per_scenario = s.scenarios()["replications"].tolist()
    n = len(keys)
    assert n == total and per_scenario == [30, 30]
    assert {(h, int(seed), r) for h, seed, r in keys} == set(load_sweep(sweep).work_items())
    assert statuses == ["done", "interrupted"]
    crashed, uninterrupted = _kpis(store), _kpis(clean)
    pd.testing.assert_frame_equal(crashed, uninterrupted)
    assert np.isfinite(crashed["value"]).sum() > 0.8 * len(crashed)
    with capsys.disabled():
        print(
            f"\ncrash-resume: killed after {stored}/{total} stored; the re-run ran "
            f"{total - stored}; {n} replications, none duplicated, values equal to a clean run"
        )


# -- seed and replications: read from the base as `planner run` reads them --------------------

SMALL_SWEEP = """
[sweep]
name = "small"
base = "{base}"
{sweep}
[base.run]
horizon_days = 20
warmup_days = 1
{run}
[grid]
policy = ["health-first"]
"""


def _small(tmp_path: Path, sweep: str = "", run: str = "", name: str = "sweep.toml") -> Path:
    f = tmp_path / name
    text = SMALL_SWEEP.format(base=ROOT / "simulations" / "bergen.toml", sweep=sweep, run=run)
    f.write_text(text, "utf-8")
    return f


def test_base_run_numbers_written_as_text_or_float_run_and_resume(cli, tmp_path: Path) -> None:
    """Found in review: `replications = 2.0` or "2" in [base.run] was a TypeError traceback, and
    `seed = "7"` stored work a re-run did not recognise, then a duplicate-key traceback."""
    f = _small(tmp_path, run='seed = "7"\nreplications = 2.0')
    store = tmp_path / "s.duckdb"
    r = cli("sweep", f, "--store", store, "--workers", "1")
    assert r.code == 0, r.err
    assert "2 scenarios × 2 replications = 4; 0 already in" in r.err
    again = cli("sweep", f, "--store", store, "--workers", "1")
    assert again.code == 0, again.err
    assert "4 already in" in again.err and "running 0 on" in again.err
    assert "Traceback" not in r.err + again.err
    with Store.open(store, read_only=True) as s:
        keys = s.con.execute("SELECT hash, seed, replication FROM replications").fetchall()
    # the same scenarios, seed and items as with the numbers written as whole numbers
    plain = load_sweep(_small(tmp_path, run="seed = 7\nreplications = 2", name="plain.toml"))
    assert {(h, int(seed), rep) for h, seed, rep in keys} == set(plain.work_items())


@pytest.mark.parametrize(
    ("run", "field"),
    [
        ("replications = true", "run.replications"),
        ("replications = 2.5", "run.replications"),
        ('replications = "two"', "run.replications"),
        ("seed = false", "run.seed"),
        ('seed = "7x"', "run.seed"),
        ("seed = -1.0", "run.seed"),
    ],
)
def test_base_run_numbers_that_are_not_whole_numbers_are_one_line(
    cli, tmp_path: Path, run: str, field: str
) -> None:
    f = _small(tmp_path, run=run)
    r = cli("sweep", f, "--store", tmp_path / "s.duckdb", "--workers", "1")
    assert r.code == 2 and len(r.err.splitlines()) == 1, r.err
    assert r.err.startswith(f"{f}: base: {field}: "), r.err
    assert not (tmp_path / "s.duckdb").exists()


def test_sweep_without_replications_runs_what_planner_run_would(tmp_path: Path) -> None:
    """Found in review: a sweep that set no replications ran 1, not the scenario's default."""
    base = load_scenario(ROOT / "simulations" / "bergen.toml")
    assert base.run.replications == default_values()["run"]["replications"] != 1
    plan = load_sweep(_small(tmp_path))
    assert (plan.replications, plan.seed) == (base.run.replications, base.run.seed)
    plan = load_sweep(_small(tmp_path, run="replications = 3\nseed = 5"))
    assert (plan.replications, plan.seed) == (3, 5)
    plan = load_sweep(_small(tmp_path, sweep="replications = 4\nseed = 6", run="replications = 3"))
    assert (plan.replications, plan.seed) == (4, 6)


# -- call logs per replication -----------------------------------------------------------------


def _report_html(cli, store: Path, scenario: str, out: Path) -> str:
    r = cli("report", "--store", store, "--scenario", scenario, "--lang", "en", "--out", out)
    assert r.code == 0, r.err
    return out.read_text("utf-8")


def test_keep_logs_runs_again_what_was_stored_without_its_log(cli, tmp_path: Path) -> None:
    """Found in review: a --keep-logs re-run did not add the logs of replications stored without
    them, and the store report drew its map from the 2 of 4 replications that had one."""
    store = tmp_path / "s.duckdb"
    two = _small(tmp_path, sweep="replications = 2\nseed = 5", name="two.toml")
    four = _small(tmp_path, sweep="replications = 4\nseed = 5", name="four.toml")
    assert cli("sweep", two, "--store", store, "--workers", "1", "--keep-logs").code == 0
    assert cli("sweep", four, "--store", store, "--workers", "1").code == 0
    plan = load_sweep(four)
    service = plan.scenarios[0]
    html = _report_html(cli, store, service.hash[:8], tmp_path / "partial.html")
    assert "No map: the results store holds no call log" in html  # not a map of 2 of the 4
    with Store.open(store, read_only=True) as s:
        assert s.logged(service.hash, 5) == ({0, 1, 2, 3}, {0, 1})
        assert s.calls(service.hash) is None  # not the log of some replications passed as all
        assert len(s.calls(service.hash, replications=[0, 1])) > 0  # type: ignore[arg-type]
    before = _kpis(store)

    r = cli("sweep", four, "--store", store, "--workers", "1", "--keep-logs")
    assert r.code == 0, r.err
    assert "4 already in" in r.err and "running 4 on local:1 (run 3); 4 of them again" in r.err
    pd.testing.assert_frame_equal(_kpis(store), before)  # same seed, same figures
    with Store.open(store, read_only=True) as s:
        for sc in plan.scenarios:
            assert s.logged(sc.hash, 5) == ({0, 1, 2, 3}, {0, 1, 2, 3})
        calls = s.calls(service.hash)
        assert calls is not None and set(calls["replication"]) == {0, 1, 2, 3}
        [(dupes,)] = s.con.execute(
            "SELECT count(*) - count(DISTINCT (hash, seed, replication, call)) FROM calls"
        ).fetchall()
        versions = s.con.execute("SELECT DISTINCT planner_version FROM replications").fetchall()
        assert s.runs()["done"].tolist() == [4, 4, 4]
    assert dupes == 0 and versions == [(planner_version(),)]
    direct = run_item(service.model, service.hash, 5, 3, keep_log=True).log
    assert len(calls[calls["replication"] == 3]) == len(direct)
    html = _report_html(cli, store, service.hash[:8], tmp_path / "full.html")
    assert "No map" not in html and html.count("data:image/png") == 3
    again = cli("sweep", four, "--store", store, "--workers", "1", "--keep-logs")
    assert "8 already in" in again.err and "running 0 on" in again.err


def test_a_failed_replacement_keeps_the_old_replication_whole(tmp_path: Path, monkeypatch) -> None:
    plan = load_sweep(CHECK)
    s0 = plan.scenarios[0]
    item = run_item(s0.model, s0.hash, plan.seed, 0, keep_log=True)
    key: dict[str, Any] = dict(hash=s0.hash, seed=plan.seed, replication=0, executor="test")
    with Store.open(tmp_path / "s.duckdb") as store:
        run = store.begin_run(
            sweep_name="t", sweep_file="t.toml", sweep_text="", seed=plan.seed, replications=1,
            executor="test", keep_logs=True,
            scenarios=[StoredScenario(s0.hash, "x", s0.toml, None)],
        )  # fmt: skip
        store.add_replication(run, **key, kpis=item.kpis, seconds=1.0, worker="old")
        kpis = store.per_replication(s0.hash)

        def replace_with_log() -> None:  # as a --keep-logs re-run does
            store.add_replication(
                run, **key, kpis=item.kpis, seconds=2.0, worker="new", log=item.log, replace=True
            )

        def broken(*a: object) -> None:
            raise OSError("disk full")  # after the new row and KPIs went in

        monkeypatch.setattr(store, "_insert_calls", broken)
        with pytest.raises(OSError):
            replace_with_log()
        rows = store.con.execute("SELECT worker, has_log FROM replications").fetchall()
        assert rows == [("old", False)]
        pd.testing.assert_frame_equal(store.per_replication(s0.hash), kpis)
        assert store.calls(s0.hash) is None
        monkeypatch.undo()
        replace_with_log()
        rows = store.con.execute("SELECT worker, has_log FROM replications").fetchall()
        assert rows == [("new", True)]
        pd.testing.assert_frame_equal(store.per_replication(s0.hash), kpis)
        assert len(store.calls(s0.hash)) == len(item.log)  # type: ignore[arg-type]
        assert store.counts()["kpis"] == len(item.kpis)


SCHEMA_1 = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE run_ids START 1;
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    sweep_name VARCHAR, sweep_file VARCHAR, sweep_text VARCHAR, sweep_hash VARCHAR,
    seed UBIGINT, replications INTEGER, executor VARCHAR, keep_logs BOOLEAN,
    planned INTEGER, skipped INTEGER, done INTEGER,
    started TIMESTAMP, finished TIMESTAMP, status VARCHAR, planner_version VARCHAR);
CREATE TABLE scenarios (hash VARCHAR PRIMARY KEY, name VARCHAR, toml VARCHAR, baseline_hash VARCHAR);
CREATE TABLE run_scenarios (
    run_id INTEGER, hash VARCHAR, position INTEGER, label VARCHAR, PRIMARY KEY (run_id, hash));
CREATE TABLE replications (
    hash VARCHAR, seed UBIGINT, replication INTEGER, run_id INTEGER, executor VARCHAR,
    worker VARCHAR, seconds DOUBLE, finished TIMESTAMP, PRIMARY KEY (hash, seed, replication));
CREATE TABLE kpis (
    hash VARCHAR, seed UBIGINT, replication INTEGER, kpi VARCHAR, value DOUBLE, position INTEGER,
    PRIMARY KEY (hash, seed, replication, kpi));
CREATE TABLE calls (hash VARCHAR, seed UBIGINT, replication INTEGER, call INTEGER, zone VARCHAR);
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO runs (run_id, sweep_name, status, planner_version) VALUES (1, 'old', 'done', '0.0.9');
INSERT INTO scenarios VALUES ('h1', 'old: base', '', NULL);
INSERT INTO replications (hash, seed, replication, run_id) VALUES ('h1', 3, 0, 1), ('h1', 3, 1, 1);
INSERT INTO kpis VALUES ('h1', 3, 0, 'k', 1.0, 0), ('h1', 3, 1, 'k', 2.0, 0);
INSERT INTO calls VALUES ('h1', 3, 1, 0, '0301'), ('h1', 3, 1, 1, '0301');
"""


def test_a_schema_1_store_is_upgraded_in_one_step(cli, tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA_1)
    with pytest.raises(StoreError, match=r"store schema 1 is older than this planner's 3; run "):
        Store.open(path, read_only=True)
    r = cli("report", "--store", path, "--scenario", "h1")
    assert r.code == 2 and len(r.err.splitlines()) == 1 and "planner store upgrade" in r.err
    r = cli("store", "upgrade", "--store", path)
    assert r.code == 0 and "upgraded from schema 1 at schema 3" in " ".join(r.out.split())
    with Store.open(path, read_only=True) as s:
        assert s.logged("h1", 3) == ({0, 1}, {1})  # only replication 1's calls were stored
        assert s.con.execute("SELECT DISTINCT planner_version FROM replications").fetchall() == [
            ("0.0.9",)
        ]
        assert s.per_replication("h1")["k"].tolist() == [1.0, 2.0]
    assert "already at schema 3" in cli("store", "upgrade", "--store", path).out
    r = cli("store", "upgrade", "--store", tmp_path / "absent.duckdb")
    assert r.code == 2 and "no such store" in r.err and not (tmp_path / "absent.duckdb").exists()


# -- the scenario hash: everything a result depends on ------------------------------------------


def test_scenario_hash_is_the_same_in_another_process(tmp_path: Path) -> None:
    code = (
        "import sys; from planner.sweep.grid import load_sweep; "
        "print(' '.join(s.hash for s in load_sweep(sys.argv[1]).scenarios))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(CHECK)], capture_output=True, text=True, check=True
    )
    assert other.stdout.split() == [s.hash for s in load_sweep(CHECK).scenarios]


def test_scenario_hash_changes_with_a_default_the_geodata_or_the_planner(
    tmp_path: Path, monkeypatch
) -> None:
    """Found in review: the hash covered only the sweep's TOML, so after an upgrade that changed
    a default a resume would have mixed two models' replications under one hash."""
    import shutil

    from planner.geo import geodata
    from planner.sweep import grid as sweep

    before = load_sweep(CHECK).scenarios
    raw = parameters._raw()
    changed = {**raw, "costs": {**raw["costs"]}}
    changed["costs"]["police_officer_hour"] = {
        **raw["costs"]["police_officer_hour"],
        "value": 800.0,
    }
    monkeypatch.setattr(parameters, "_raw", lambda: changed)
    after = load_sweep(CHECK).scenarios
    assert [s.toml for s in after] == [s.toml for s in before]  # the same text for people
    assert after[0].scenario.costs.police_officer_hour == 800.0
    assert not {s.hash for s in after} & {s.hash for s in before}
    monkeypatch.undo()

    for name in ("same", "edited"):
        shutil.copytree(geodata.geodata_dir() / "bergen", tmp_path / name / "bergen")
    with (tmp_path / "edited" / "bergen" / "road_edges.csv").open("a") as f:
        f.write("\n")
    hashes = []
    for name in ("same", "edited"):
        monkeypatch.setattr(geodata, "geodata_dir", lambda name=name: tmp_path / name)
        hashes.append([s.hash for s in load_sweep(CHECK).scenarios])
    assert hashes[0] == [s.hash for s in before]  # a copy of the same files: the same hash
    assert not set(hashes[1]) & set(hashes[0])
    monkeypatch.undo()

    monkeypatch.setattr(sweep, "planner_version", lambda: "99.0")
    assert not {s.hash for s in load_sweep(CHECK).scenarios} & {s.hash for s in before}


# -- a worker that dies --------------------------------------------------------------------------


def test_a_killed_worker_stops_the_sweep_in_one_line(tmp_path: Path) -> None:
    """Found in review: an OOM-killed worker gave a BrokenProcessPool traceback."""
    sweep = _sweep_file(tmp_path, CRASH_SWEEP.format(base=ROOT / "simulations" / "bergen.toml"))
    store, total = tmp_path / "s.duckdb", 2 * 30
    proc = _start(sweep, store)
    assert proc.stderr is not None
    lines: list[str] = []
    started = time.monotonic()
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if "stored" in line and int(line.split("stored ")[1].split("/")[0]) >= 6:
            break
        assert time.monotonic() - started < 120, "the sweep never got going"
    workers = [
        p
        for p in psutil.Process(proc.pid).children(recursive=True)
        if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
    ]
    assert len(workers) == 1, workers
    workers[0].send_signal(signal.SIGKILL)
    _, rest = proc.communicate(timeout=60)
    lines += rest.splitlines()
    assert proc.returncode == 1, lines
    assert not any("Traceback" in ln for ln in lines), lines
    said = [ln for ln in lines if not ln.startswith("sweep crash: stored ")]
    assert len(said) == 2 and said[0].startswith(f"{sweep}: 2 scenarios × 30 replications"), said
    last = said[1]
    assert last.startswith("sweep stopped: a worker process died (killed by SIGKILL"), last
    assert last.endswith(
        f" of {total} replications are stored; run the same command again to resume"
    )
    stored = int(last.split("; ")[-2].split(" of ")[0])

    with Store.open(store, read_only=True) as s:  # readable, and as the message says
        keys = s.con.execute("SELECT hash, seed, replication FROM replications").fetchall()
        assert s.counts()["kpis"] == (len(KPIS) + len(PATROL_KPIS) + 24) * len(keys)  # and Vest's
        assert s.runs()["status"].tolist() == ["failed"]
    assert 6 <= len(keys) == stored < total
    expected = set(load_sweep(sweep).work_items())
    assert {(h, int(seed), r) for h, seed, r in keys} <= expected

    resumed = subprocess.run(
        [sys.executable, "-m", "planner", "sweep", str(sweep), "--store", str(store),
         "--workers", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{stored} already in {store}, skipped; running {total - stored} on" in resumed.stderr
    with Store.open(store, read_only=True) as s:
        keys = s.con.execute("SELECT hash, seed, replication FROM replications").fetchall()
        assert s.runs()["status"].tolist() == ["done", "failed"]
    assert {(h, int(seed), r) for h, seed, r in keys} == expected and len(keys) == total
