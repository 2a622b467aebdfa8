"""The results store: an embedded DuckDB file of sweeps, scenarios, replications and KPIs.

A thin shell over DuckDB. Why a database rather than folders of files: a sweep writes thousands
of replications, a crash must leave either all of a replication or none of it, and a re-run must
find what is done in one query. Each finished replication is one transaction (its row, its KPIs
and, if kept, its calls), and the primary key (scenario hash, seed, replication) makes a
duplicate impossible. DuckDB lets one process write a file at a time; readers open it
read-only when no sweep is writing.

Tables:
  runs          one row per `planner sweep` invocation (the sweep file's text and hash, times,
                status, planned / skipped / done counts, executor)
  scenarios     hash (sha256 of the exact TOML) -> name, TOML text, hash of its baseline
  run_scenarios which scenarios a run asked for, in order
  replications  (hash, seed, replication) -> run, executor, worker, seconds, finished
  kpis          (hash, seed, replication, kpi) -> value, position (column order)
  calls         the call log of each replication, when the sweep ran with --keep-logs
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from planner.kpis import summarise

DEFAULT_PATH = Path("planner.duckdb")
"""The store `planner sweep`, `planner report --store` and `planner store` use unless told."""
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS run_ids START 1;
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    sweep_name VARCHAR, sweep_file VARCHAR, sweep_text VARCHAR, sweep_hash VARCHAR,
    seed UBIGINT, replications INTEGER, executor VARCHAR, keep_logs BOOLEAN,
    planned INTEGER, skipped INTEGER, done INTEGER,
    started TIMESTAMP, finished TIMESTAMP, status VARCHAR, planner_version VARCHAR);
CREATE TABLE IF NOT EXISTS scenarios (
    hash VARCHAR PRIMARY KEY, name VARCHAR, toml VARCHAR, baseline_hash VARCHAR);
CREATE TABLE IF NOT EXISTS run_scenarios (
    run_id INTEGER, hash VARCHAR, position INTEGER, label VARCHAR, PRIMARY KEY (run_id, hash));
CREATE TABLE IF NOT EXISTS replications (
    hash VARCHAR, seed UBIGINT, replication INTEGER, run_id INTEGER, executor VARCHAR,
    worker VARCHAR, seconds DOUBLE, finished TIMESTAMP,
    PRIMARY KEY (hash, seed, replication));
CREATE TABLE IF NOT EXISTS kpis (
    hash VARCHAR, seed UBIGINT, replication INTEGER, kpi VARCHAR, value DOUBLE, position INTEGER,
    PRIMARY KEY (hash, seed, replication, kpi));
"""


class StoreError(Exception):
    """A store that cannot be used as asked; the message is one line for the user."""


@dataclass(frozen=True)
class StoredScenario:
    hash: str
    name: str
    toml: str
    baseline_hash: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _version() -> str:
    try:
        return metadata.version("planner")
    except metadata.PackageNotFoundError:
        return "dev"


class Store:
    """One open store. ``Store.open(path, read_only=True)`` for reading (the dashboard, report)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = DEFAULT_PATH, read_only: bool = False) -> Store:
        """Open (or, for writing, create) a store; StoreError says in one line why it can't."""
        p = Path(path)
        if p.is_dir():
            raise StoreError(f"{p}: is a folder, not a store file")
        if read_only and not p.is_file():
            raise StoreError(f"{p}: no such store (run `planner sweep SWEEP.toml` first)")
        if not read_only and not p.parent.is_dir():
            raise StoreError(f"{p}: folder {p.parent} does not exist")
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreError(
                    f"{p}: in use by another process (a sweep still running?)"
                ) from None
            raise StoreError(f"{p}: not a planner store ({text.splitlines()[0]})") from None
        except duckdb.Error as exc:
            raise StoreError(f"{p}: not a planner store ({str(exc).splitlines()[0]})") from None
        store = cls(con, p, read_only)
        try:
            store._check_schema()
        except BaseException:
            con.close()
            raise
        return store

    def _check_schema(self) -> None:
        tables = {
            r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if self.read_only or "meta" in tables:
            if "meta" not in tables:
                raise StoreError(f"{self.path}: not a planner store (no meta table)")
            row = self._one("SELECT value FROM meta WHERE key = 'schema'")
            if row is None or row[0] != str(SCHEMA_VERSION):
                raise StoreError(
                    f"{self.path}: store schema {row[0] if row else '?'}, this planner reads "
                    f"{SCHEMA_VERSION}"
                )
            return
        if tables:
            raise StoreError(f"{self.path}: a DuckDB file, but not a planner store")
        self.con.execute("BEGIN")
        self.con.execute(_SCHEMA)
        self.con.execute("INSERT INTO meta VALUES ('schema', ?)", [str(SCHEMA_VERSION)])
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (one sweep at a time) --------------------------------------------------------

    def begin_run(
        self,
        *,
        sweep_name: str,
        sweep_file: str,
        sweep_text: str,
        seed: int,
        replications: int,
        executor: str,
        keep_logs: bool,
        scenarios: Sequence[StoredScenario],
    ) -> int:
        """Record a sweep's start and its scenarios; a run left 'running' by a killed process
        is marked 'interrupted' (only one process can have the file open for writing)."""
        with self._transaction():
            self.con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            (run_id,) = self._one("SELECT nextval('run_ids')") or (0,)
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, NULL, "
                "'running', ?)",
                [
                    run_id,
                    sweep_name,
                    sweep_file,
                    sweep_text,
                    hashlib.sha256(sweep_text.encode("utf-8")).hexdigest(),
                    seed,
                    replications,
                    executor,
                    keep_logs,
                    _now(),
                    _version(),
                ],
            )
            rows = pd.DataFrame(
                [(s.hash, s.name, s.toml, s.baseline_hash) for s in scenarios],
                columns=["hash", "name", "toml", "baseline_hash"],
            )
            self.con.register("new_scenarios", rows)
            self.con.execute(
                "INSERT INTO scenarios SELECT * FROM new_scenarios ON CONFLICT (hash) DO NOTHING"
            )
            self.con.unregister("new_scenarios")
            links = pd.DataFrame(
                {
                    "run_id": run_id,
                    "hash": [s.hash for s in scenarios],
                    "position": range(len(scenarios)),
                    "label": [s.name for s in scenarios],
                }
            )
            self.con.register("new_links", links)
            self.con.execute("INSERT INTO run_scenarios SELECT * FROM new_links")
            self.con.unregister("new_links")
        return int(run_id)

    def set_counts(self, run_id: int, planned: int, skipped: int) -> None:
        self.con.execute(
            "UPDATE runs SET planned = ?, skipped = ? WHERE run_id = ?", [planned, skipped, run_id]
        )

    def finish_run(self, run_id: int, status: str) -> None:
        self.con.execute(
            "UPDATE runs SET status = ?, finished = ?, done = (SELECT count(*) FROM replications "
            "WHERE run_id = ?) WHERE run_id = ?",
            [status, _now(), run_id, run_id],
        )

    def done(self, hashes: Iterable[str], seed: int) -> set[tuple[str, int, int]]:
        """Which (hash, seed, replication) of these scenarios are already stored."""
        wanted = pd.DataFrame({"hash": list(hashes)})
        self.con.register("wanted", wanted)
        rows = self.con.execute(
            "SELECT r.hash, r.seed, r.replication FROM replications r "
            "JOIN wanted w USING (hash) WHERE r.seed = ?",
            [seed],
        ).fetchall()
        self.con.unregister("wanted")
        return {(h, int(s), int(r)) for h, s, r in rows}

    def add_replication(
        self,
        run_id: int,
        *,
        hash: str,
        seed: int,
        replication: int,
        kpis: dict[str, float],
        seconds: float,
        executor: str,
        worker: str,
        log: pd.DataFrame | None = None,
    ) -> None:
        """Store one finished replication in one transaction: all of it, or (on any error or
        a kill) none of it."""
        k = pd.DataFrame(
            {
                "hash": hash,
                "seed": seed,
                "replication": replication,
                "kpi": list(kpis),
                "value": [float(v) for v in kpis.values()],
                "position": range(len(kpis)),
            }
        )
        with self._transaction():
            self.con.execute(
                "INSERT INTO replications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [hash, seed, replication, run_id, executor, worker, seconds, _now()],
            )
            self.con.register("new_kpis", k)
            self.con.execute(
                "INSERT INTO kpis BY NAME SELECT hash, seed, replication, kpi, value, position "
                "FROM new_kpis"
            )
            self.con.unregister("new_kpis")
            if log is not None:
                self._insert_calls(hash, seed, log)

    def _insert_calls(self, hash: str, seed: int, log: pd.DataFrame) -> None:
        self.con.register("new_calls", log)
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS calls AS "
            "SELECT ''::VARCHAR AS hash, 0::UBIGINT AS seed, * FROM new_calls LIMIT 0"
        )
        self.con.execute(
            "INSERT INTO calls BY NAME SELECT ? AS hash, ?::UBIGINT AS seed, * FROM new_calls",
            [hash, seed],
        )
        self.con.unregister("new_calls")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row, reading the result to its end (DuckDB keeps a half-read result
        open and refuses other work on the connection until it is finished)."""
        rows = self.con.execute(sql, list(params)).fetchall()
        return rows[0] if rows else None

    def _transaction(self) -> _Transaction:
        return _Transaction(self.con)

    # -- reading (the dashboard, `planner report --store`, `planner store list`) ---------------

    def runs(self) -> pd.DataFrame:
        """One row per sweep run, newest first: run_id, sweep_name, sweep_file, seed,
        replications, executor, planned, skipped, done, started, finished, status."""
        return self.con.execute(
            "SELECT run_id, sweep_name, sweep_file, sweep_hash, seed, replications, executor, "
            "keep_logs, planned, skipped, done, started, finished, status, planner_version "
            "FROM runs ORDER BY run_id DESC"
        ).df()

    def scenarios(self, run_id: int | None = None) -> pd.DataFrame:
        """Stored scenarios (all, or those a run asked for, in its order): hash, name, toml,
        baseline_hash, replications (stored, over all seeds), seeds."""
        where, params = ("", []) if run_id is None else ("WHERE l.run_id = ?", [run_id])
        source = (
            "scenarios s" if run_id is None else "run_scenarios l JOIN scenarios s USING (hash)"
        )
        order = "s.name, s.hash" if run_id is None else "l.position"
        frame = self.con.execute(
            f"SELECT s.hash, s.name, s.toml, s.baseline_hash, "
            f"(SELECT count(*) FROM replications r WHERE r.hash = s.hash) AS replications, "
            f"(SELECT list(DISTINCT r.seed ORDER BY r.seed) FROM replications r "
            f"WHERE r.hash = s.hash) AS seeds "
            f"FROM {source} {where} ORDER BY {order}",
            params,
        ).df()
        return frame.astype({"baseline_hash": object}).where(frame.notna(), None)

    def scenario(self, hash_or_name: str) -> StoredScenario:
        """A stored scenario by its hash, a unique prefix of it (≥ 6 characters) or its name."""
        rows = self.con.execute(
            "SELECT hash, name, toml, baseline_hash FROM scenarios "
            "WHERE hash = ? OR name = ? OR (length(?) >= 6 AND starts_with(hash, ?))",
            [hash_or_name, hash_or_name, hash_or_name, hash_or_name],
        ).fetchall()
        if not rows:
            raise StoreError(
                f"{self.path}: no scenario {hash_or_name!r} (see `planner store list`)"
            )
        if len(rows) > 1:
            raise StoreError(
                f"{self.path}: {hash_or_name!r} matches {len(rows)} scenarios; give the hash"
            )
        h, name, toml, base = rows[0]
        return StoredScenario(h, name, toml, base)

    def seed_of(self, hash: str, seed: int | None = None) -> int:
        """The seed to read a scenario's replications under: the given one, or the only one."""
        seeds = [
            int(s)
            for (s,) in self.con.execute(
                "SELECT DISTINCT seed FROM replications WHERE hash = ? ORDER BY seed", [hash]
            ).fetchall()
        ]
        if seed is not None:
            if seed not in seeds:
                raise StoreError(
                    f"{self.path}: scenario {hash[:12]} has no replications with seed {seed}"
                )
            return seed
        if len(seeds) != 1:
            raise StoreError(
                f"{self.path}: scenario {hash[:12]} has "
                + (
                    "no replications"
                    if not seeds
                    else f"replications under seeds {seeds}; choose one"
                )
            )
        return seeds[0]

    def per_replication(self, hash: str, seed: int | None = None) -> pd.DataFrame:
        """Shaped as ``Results.per_replication``: column "replication", then one column per KPI
        in the order the simulation returned them; one row per stored replication."""
        seed = self.seed_of(hash, seed)
        long = self.con.execute(
            "SELECT replication, kpi, value, position FROM kpis WHERE hash = ? AND seed = ? "
            "ORDER BY replication, position",
            [hash, seed],
        ).df()
        order = long.drop_duplicates("kpi").sort_values("position")["kpi"].tolist()
        wide = long.pivot(index="replication", columns="kpi", values="value")
        wide = wide[order].reset_index()
        wide.columns.name = None
        wide["replication"] = wide["replication"].astype("int64")
        return wide

    def summary(self, hash: str, seed: int | None = None) -> pd.DataFrame:
        """The KPI table with 95 % intervals (``planner.kpis.summarise``), as `planner run`."""
        return summarise(self.per_replication(hash, seed))

    def has_calls(self, hash: str, seed: int) -> bool:
        tables = {
            r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if "calls" not in tables:
            return False
        row = self._one("SELECT count(*) FROM calls WHERE hash = ? AND seed = ?", [hash, seed])
        return bool(row and row[0])

    def calls(
        self, hash: str, seed: int | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame | None:
        """The call log of a scenario's stored replications (as ``Results.log``), or None when
        the sweep did not keep logs."""
        seed = self.seed_of(hash, seed)
        if not self.has_calls(hash, seed):
            return None
        cols = "* EXCLUDE (hash, seed)" if columns is None else ", ".join(f'"{c}"' for c in columns)
        return self.con.execute(
            f"SELECT {cols} FROM calls WHERE hash = ? AND seed = ? ORDER BY replication, call",
            [hash, seed],
        ).df()

    def counts(self) -> dict[str, Any]:
        """Rows per table (for checks and `planner store list`)."""
        out: dict[str, Any] = {}
        for table in ("runs", "scenarios", "replications", "kpis"):
            (out[table],) = self._one(f"SELECT count(*) FROM {table}") or (0,)
        return out


class _Transaction:
    """BEGIN … COMMIT, or ROLLBACK on any exception (KeyboardInterrupt included)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.con.execute("COMMIT")
        else:
            self.con.execute("ROLLBACK")
