"""Tampered or corrupted results stores (issue 13): refused in one line, or repaired by a sweep.

A store file that is not DuckDB, is cut short or fails a block checksum, whose tables or columns
are missing or of another type, or whose stored scenario TOML is invalid, is refused by every
command in one line naming the file and what is wrong, exit code 2, no traceback, and a command
refusing it leaves it byte for byte as it was. A store whose KPI rows (or replication rows) were
deleted is found by a count check: `planner report --store` refuses the scenario, `planner store
list` lists the store and says so (exit code 2), and `planner sweep` runs exactly those
replications again, giving the figures they had.

One small sweep (Bergen, two days, three replications, a service and its baseline) is run once
into a store each test copies and damages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from planner.store.database import SCHEMA_VERSION, Store, damage_lines
from planner.sweep.grid import load_sweep

ROOT = Path(__file__).resolve().parent.parent
SEED = 5
SWEEP = f"""
[sweep]
name = "tiny"
base = "{ROOT / "simulations" / "bergen.toml"}"
replications = 3
seed = {SEED}

[base.run]
horizon_days = 2
warmup_days = 0

[grid]
policy = ["health-first"]
"""
SERVICE = "tiny: policy=health-first"


def _again(made: dict[str, Path]) -> str:
    """How a line on damage ends: the sweep file of the run that asked for the scenario."""
    return f"(`planner sweep {made['sweep']}` runs them again)"


def _planner(*args: object) -> int:
    """``planner ARGS`` in this process, through the real entry point: its exit code."""
    from planner.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["planner", *map(str, args)])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The sweep file, a store it was swept into, and one swept with --keep-logs."""
    folder = tmp_path_factory.mktemp("made")
    sweep = folder / "sweep.toml"
    sweep.write_text(SWEEP, "utf-8")
    stores = {"sweep": sweep, "plain": folder / "plain.duckdb", "logs": folder / "logs.duckdb"}
    for name, extra in (("plain", []), ("logs", ["--keep-logs"])):
        assert _planner("sweep", sweep, "--store", stores[name], "--workers", "1", *extra) == 0
    yield stores


@pytest.fixture
def copy(made: dict[str, Path], tmp_path: Path) -> Any:
    """A copy of a made store in this test's folder, damaged by ``tamper`` (SQL or bytes)."""

    def make(tamper: str | bytes | None = None, which: str = "plain") -> Path:
        p = tmp_path / "store.duckdb"
        shutil.copy(made[which], p)
        if isinstance(tamper, bytes):
            p.write_bytes(tamper)
        elif tamper is not None:
            with duckdb.connect(str(p)) as con:
                con.execute(tamper)
        return p

    return make


def _hashes(made: dict[str, Path]) -> tuple[str, str]:
    plan = load_sweep(made["sweep"])
    service, today = plan.scenarios
    assert service.scenario.scenario.name == SERVICE and today.baseline_hash is None
    return service.hash, today.hash


def _kpis(path: Path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT hash, seed, replication, kpi, value, position FROM kpis ORDER BY ALL"
        ).df()


def _refused(r: Any, line: str) -> None:
    """Exit code 2 and exactly this one line on stderr."""
    assert "Traceback" not in r.err, r.err[-2000:]
    assert r.err.splitlines() == [line], r.err[-2000:]
    assert r.code == 2, (r.code, r.err)


def _commands(store: Path, sweep: Path, out: Path) -> dict[str, list[object]]:
    return {
        "list": ["store", "list", "--store", store],
        "report": ["report", "--store", store, "--scenario", SERVICE, "--out", out],
        "sweep": ["sweep", sweep, "--store", store, "--workers", "1"],
        "upgrade": ["store", "upgrade", "--store", store],
    }


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def _all_refuse(cli: Any, store: Path, sweep: Path, line: str, commands: list[str]) -> None:
    """Each command is refused with the line, and nothing in the store's folder changes."""
    before = _folder(store.parent)
    out = store.parent / "report.html"
    for name in commands:
        _refused(cli(*_commands(store, sweep, out)[name]), line)
        assert _folder(store.parent) == before, name  # no byte of the store, no .wal, no report


# -- files that are not a whole DuckDB store ------------------------------------------------------

ALL = ["list", "report", "sweep", "upgrade"]


def _cut(data: bytes, keep: int) -> bytes:
    return data[:keep]


def _every_block_garbled(data: bytes) -> bytes:
    out = bytearray(data)
    for start in range(3 * 4096 + 64, len(out) - 64, 262_144):
        out[start : start + 32] = b"\xaa" * 32
    return bytes(out)


def _used_need(path: Path) -> int:
    """The bytes a store's blocks in use need, as DuckDB reports them for the whole file."""
    with duckdb.connect(str(path), read_only=True) as con:
        [(size, used)] = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size()"
        ).fetchall()
    return 3 * 4096 + size * used


def test_a_truncated_store_is_refused_unchanged(cli, made, copy) -> None:
    good = made["plain"].read_bytes()
    need = _used_need(made["plain"])
    for keep in (len(good) // 2, len(good) - 1000):
        p = copy(_cut(good, keep))
        line = f"{p}: damaged store: the file is cut short ({keep:,} bytes, its blocks in use need {need:,})"
        _all_refuse(cli, p, made["sweep"], line, ALL)
    # only the headers: DuckDB itself finds the first block missing
    p = copy(good[:4096])
    _all_refuse(
        cli, p, made["sweep"], f"{p}: damaged store: the file is cut short (truncated)", ALL
    )


@pytest.mark.parametrize(
    ("kind", "content", "says"),
    [
        ("random bytes", os.urandom(300_000), "not a planner store (not a DuckDB database file)"),
        ("zero bytes", b"\0" * 300_000, "not a planner store (not a DuckDB database file)"),
        (
            "a text file",
            b"[sweep]\nname = 'x'\n" * 100,
            "not a planner store (not a DuckDB database file)",
        ),
        ("an empty file", b"", "not a planner store (an empty file)"),
    ],
)
def test_a_file_that_is_not_duckdb_is_refused_unchanged(
    cli, made, copy, kind, content, says
) -> None:
    p = copy(content)
    _all_refuse(cli, p, made["sweep"], f"{p}: {says}", ALL)


def test_a_garbled_store_is_refused_unchanged(cli, made, copy) -> None:
    p = copy(_every_block_garbled(made["plain"].read_bytes()))
    line = f"{p}: damaged store: a block of the file fails its checksum (corrupted)"
    _all_refuse(cli, p, made["sweep"], line, ALL)


def test_a_block_found_garbled_only_when_read_is_refused_unchanged(cli, made, copy) -> None:
    """The KPIs' data block garbled: the store opens, and the first read of it is refused."""
    with duckdb.connect(str(made["plain"]), read_only=True) as con:
        [(block,)] = con.execute(
            "SELECT DISTINCT block_id FROM pragma_storage_info('kpis') "
            "WHERE column_name = 'value' AND segment_type = 'DOUBLE'"
        ).fetchall()
    data = bytearray(made["plain"].read_bytes())
    start = 3 * 4096 + block * 262_144 + 1_000
    data[start : start + 16] = b"\xaa" * 16
    p = copy(bytes(data))
    with Store.open(p, read_only=True) as s:  # opens: the catalog is whole
        assert len(s.runs()) == 1
    line = f"{p}: damaged store: a block of the file fails its checksum (corrupted)"
    _all_refuse(cli, p, made["sweep"], line, ["list", "report", "sweep"])


def test_what_is_not_a_store_file_is_refused(cli, made, tmp_path: Path) -> None:
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    _all_refuse(cli, folder, made["sweep"], f"{folder}: is a folder, not a store file", ALL)
    link = tmp_path / "null.duckdb"
    link.symlink_to("/dev/null")
    line = f"{link}: is not a regular file (a device or socket)"
    _all_refuse(cli, link, made["sweep"], line, ALL)
    assert Path("/dev/null").is_char_device()


def test_a_named_pipe_as_store_is_refused_at_once(made, tmp_path: Path) -> None:
    """In a child process with a time limit: opening a FIFO would wait for a writer for ever."""
    fifo = tmp_path / "pipe.duckdb"
    os.mkfifo(fifo)
    for args in (["store", "list"], ["sweep", made["sweep"], "--workers", "1"]):
        r = subprocess.run(
            [sys.executable, "-m", "planner", *map(str, args), "--store", str(fifo)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (r.returncode, r.stderr) == (2, f"{fifo}: is not a regular file (a named pipe)\n")


# -- tables and columns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ("DROP TABLE kpis", "damaged store: no table kpis"),
        (
            "ALTER TABLE kpis DROP COLUMN position",
            "damaged store: table kpis has no column position",
        ),
        (
            "ALTER TABLE kpis DROP COLUMN position; ALTER TABLE runs DROP COLUMN status",
            "damaged store: table kpis has no column position (and 1 more)",
        ),
        (
            "ALTER TABLE kpis ALTER value TYPE VARCHAR",
            "damaged store: column kpis.value is VARCHAR, not DOUBLE",
        ),
        (
            "ALTER TABLE replications ALTER kpi_count TYPE VARCHAR",
            "damaged store: column replications.kpi_count is VARCHAR, not INTEGER",
        ),
        (
            "ALTER TABLE runs ADD COLUMN x INTEGER",
            "damaged store: table runs has a column x it should not",
        ),
        (
            "CREATE TABLE k2 AS SELECT * FROM kpis; DROP TABLE kpis; ALTER TABLE k2 RENAME TO kpis",
            "damaged store: table kpis has no primary key (hash, seed, replication, kpi)",
        ),
        (
            "CREATE TABLE calls (hash VARCHAR, seed UBIGINT, replication BIGINT)",
            "damaged store: table calls has no column call",
        ),
        ("DROP SEQUENCE run_ids", "damaged store: no sequence run_ids"),
        ("DROP TABLE meta", "a DuckDB file, but not a planner store (no meta table)"),
        ("UPDATE meta SET value = '9'", f"store schema 9, this planner reads {SCHEMA_VERSION}"),
    ],
)
def test_tables_or_columns_missing_or_of_another_type(cli, made, copy, tamper, says) -> None:
    p = copy(tamper)
    _all_refuse(cli, p, made["sweep"], f"{p}: {says}", ALL)


def test_an_older_store_with_a_table_missing_is_refused_unchanged(cli, made, copy) -> None:
    """A schema 2 store (before kpi_count) without its kpis table: the upgrade stops, all of it
    rolled back."""
    p = copy("ALTER TABLE replications DROP COLUMN kpi_count; UPDATE meta SET value = '2'")
    with duckdb.connect(str(p)) as con:
        con.execute("DROP TABLE kpis")
    line = f"{p}: damaged store (Catalog Error: Table with name kpis does not exist!)"
    _all_refuse(cli, p, made["sweep"], line, ["upgrade", "sweep"])


def test_an_older_store_is_upgraded_with_its_kpi_counts(cli, made, copy) -> None:
    """Schema 2 had no kpi_count: upgrading records each replication's as its scenario's
    most, so one replication already short of KPI rows is found."""
    p = copy(
        "ALTER TABLE replications DROP COLUMN kpi_count; UPDATE meta SET value = '2'; "
        "DELETE FROM kpis WHERE replication = 2 AND kpi = 'calls_per_year'"
    )
    r = cli("store", "upgrade", "--store", p)
    assert r.code == 0 and f"upgraded from schema 2 at schema {SCHEMA_VERSION}" in r.out
    service, today = _hashes(made)
    with Store.open(p, read_only=True) as s:
        [(n_kpis,)] = s.con.execute("SELECT count(DISTINCT kpi) FROM kpis").fetchall()
        counts = s.con.execute("SELECT DISTINCT kpi_count FROM replications").fetchall()
        assert counts == [(n_kpis,)]
        found = s.damaged()
        assert [(d.hash, d.replication, d.why) for d in found] == sorted(
            [(service, 2, "kpis"), (today, 2, "kpis")]
        )
    # without a run that names its sweep file, the line says what to run in words
    assert damage_lines(p, found[:1]) == [
        f"{p}: scenario {found[0].hash[:12]}, seed {SEED}: replication 2: KPI rows missing "
        "(`planner sweep` of its sweep file runs them again)"
    ]


# -- the stored scenario TOML --------------------------------------------------------------------


def _toml_error(text: str) -> str:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return str(exc)
    raise AssertionError("valid TOML")


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("x = = 1", f"not valid TOML: {_toml_error('x = = 1')}"),
        ("x = " + "9" * 5000, "not valid TOML: an integer has more than 4,300 digits"),
        (None, "no TOML stored"),
    ],
)
def test_invalid_stored_toml_is_named_and_a_sweep_puts_it_back(cli, made, copy, toml, says) -> None:
    service, _ = _hashes(made)
    p = copy()
    with duckdb.connect(str(p)) as con:
        con.execute("UPDATE scenarios SET toml = ? WHERE hash = ?", [toml, service])
    line = f"{p}: scenario {service[:12]}'s stored TOML: {says}"
    _all_refuse(cli, p, made["sweep"], line, ["report"])
    before = p.read_bytes()
    r = cli("store", "list", "--store", p)
    _refused(r, line)
    assert "runs in" in r.out and service[:12] in r.out  # listed, then said
    assert p.read_bytes() == before

    r = cli("sweep", made["sweep"], "--store", p, "--workers", "1")
    assert r.code == 0, r.err
    assert "6 already in" in r.err and "running 0" in r.err
    with duckdb.connect(str(made["plain"]), read_only=True) as con:
        [(original,)] = con.execute(
            "SELECT toml FROM scenarios WHERE hash = ?", [service]
        ).fetchall()
    with Store.open(p, read_only=True) as s:
        assert s.scenario(service).toml == original
    assert cli("store", "list", "--store", p).code == 0
    assert (
        cli("report", "--store", p, "--scenario", SERVICE, "--out", p.parent / "r.html").code == 0
    )


def test_stored_toml_that_is_not_a_scenario_is_refused_by_the_report(cli, made, copy) -> None:
    service, _ = _hashes(made)
    p = copy(f"UPDATE scenarios SET toml = 'run = 3' WHERE hash = '{service}'")
    line = (
        f"{p}: scenario {service[:12]}'s stored TOML is not a valid scenario: run: Input should "
        "be a valid dictionary or instance of Run (got 3)"
    )
    _all_refuse(cli, p, made["sweep"], line, ["report"])


# -- deleted rows: found by a count check, run again by a sweep ---------------------------------


def _damaged_store_is_said_then_repaired(
    cli: Any, made: dict[str, Path], p: Path, lines: list[str], rerun: int, which: str = "plain"
) -> None:
    out = p.parent / "report.html"
    before = _folder(p.parent)
    r = cli("store", "list", "--store", p)
    assert r.code == 2 and r.err.splitlines() == lines, r.err
    assert "runs in" in r.out  # the store is listed, and what is wrong is said
    _refused(cli("report", "--store", p, "--scenario", SERVICE, "--out", out), lines[0])
    assert _folder(p.parent) == before

    extra = ["--keep-logs"] if which == "logs" else []
    r = cli("sweep", made["sweep"], "--store", p, "--workers", "1", *extra)
    assert r.code == 0, r.err
    said = " ".join(r.err.split())
    assert (
        f"{6 - rerun} already in {p}, skipped; running {rerun} on local:1 (run 2); "
        f"{rerun} of them again, not whole in the store"
    ) in said, said
    pd.testing.assert_frame_equal(_kpis(p), _kpis(made[which]))  # the same seed: the same KPIs
    r = cli("store", "list", "--store", p)
    assert r.code == 0 and r.err == "", r.err
    with Store.open(p, read_only=True) as s:
        assert s.damaged(calls=True) == []
        assert s.runs()["done"].tolist() == [rerun, 6]
    assert cli("report", "--store", p, "--scenario", SERVICE, "--out", out).code == 0


def test_kpi_rows_deleted_for_one_replication(cli, made, copy) -> None:
    service, _ = _hashes(made)
    p = copy(f"DELETE FROM kpis WHERE hash = '{service}' AND replication = 1")
    lines = [
        f"{p}: scenario {service[:12]}, seed {SEED}: replication 1: KPI rows missing {_again(made)}"
    ]
    _damaged_store_is_said_then_repaired(cli, made, p, lines, rerun=1)


def test_one_kpi_deleted_from_every_replication(cli, made, copy) -> None:
    service, today = _hashes(made)
    p = copy("DELETE FROM kpis WHERE kpi = 'response_median'")
    lines = [
        f"{p}: scenario {h[:12]}, seed {SEED}: replications 0, 1, 2: KPI rows missing {_again(made)}"
        for h in sorted([service, today])
    ]
    _damaged_store_is_said_then_repaired(cli, made, p, lines, rerun=6)


def test_replication_rows_deleted_and_their_kpis_left(cli, made, copy) -> None:
    service, _ = _hashes(made)
    p = copy(f"DELETE FROM replications WHERE hash = '{service}' AND replication IN (0, 2)")
    says = "rows left without their replication"
    lines = [f"{p}: scenario {service[:12]}, seed {SEED}: replications 0, 2: {says} {_again(made)}"]
    _damaged_store_is_said_then_repaired(cli, made, p, lines, rerun=2)


def test_replications_a_finished_run_stored_deleted_whole(cli, made, copy) -> None:
    service, today = _hashes(made)
    p = copy(
        f"DELETE FROM replications WHERE hash = '{service}' AND replication = 2; "
        f"DELETE FROM kpis WHERE hash = '{service}' AND replication = 2; "
        f"DELETE FROM kpis WHERE hash = '{today}' AND replication = 0"
    )
    lines = [
        f"{p}: scenario {h[:12]}, seed {SEED}: {says} {_again(made)}"
        for h, says in sorted(
            [
                (service, "replication 2: stored by a finished run, now missing"),
                (today, "replication 0: KPI rows missing"),
            ]
        )
    ]
    _damaged_store_is_said_then_repaired(cli, made, p, lines, rerun=2)


def test_calls_left_without_their_replication_are_replaced_not_doubled(cli, made, copy) -> None:
    service, _ = _hashes(made)
    p = copy(
        f"DELETE FROM replications WHERE hash = '{service}' AND replication = 1; "
        f"DELETE FROM kpis WHERE hash = '{service}' AND replication = 1",
        which="logs",
    )
    lines = [
        f"{p}: scenario {service[:12]}, seed {SEED}: replication 1: stored by a finished run, "
        f"now missing {_again(made)}"
    ]
    _damaged_store_is_said_then_repaired(cli, made, p, lines, rerun=1, which="logs")
    with (
        duckdb.connect(str(p), read_only=True) as con,
        duckdb.connect(str(made["logs"]), read_only=True) as ref,
    ):
        query = "SELECT hash, seed, replication, count(*) FROM calls GROUP BY ALL ORDER BY ALL"
        assert con.execute(query).fetchall() == ref.execute(query).fetchall()
