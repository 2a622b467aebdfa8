"""The results store: an embedded DuckDB file of sweeps, scenarios, replications and KPIs.

A thin shell over DuckDB. Why a database rather than folders of files: a sweep writes thousands
of replications, a crash must leave either all of a replication or none of it, and a re-run must
find what is done in one query. Each finished replication is one transaction (its row, its KPIs
and, if kept, its calls), and the primary key (scenario hash, seed, replication) makes a
duplicate impossible. A replication stored without its call log is replaced whole, in one
transaction, when a `--keep-logs` sweep runs it again. DuckDB lets one process write a file at
a time; readers open it read-only when no sweep is writing.

Tables:
  runs          one row per `planner sweep` invocation (the sweep file's text and hash, times,
                status, planned / skipped / done counts, executor)
  scenarios     hash (``sweep.scenario_hash``: the merged scenario and the model it ran on)
                -> name, TOML text (what the sweep set), hash of its baseline
  run_scenarios which scenarios a run asked for, in order
  replications  (hash, seed, replication) -> run, executor, worker, seconds, finished,
                has_log (its calls are in `calls`), planner_version
  kpis          (hash, seed, replication, kpi) -> value, position (column order)
  calls         the call log of each replication stored with has_log

Schema versions: 2 added replications.has_log and .planner_version. Opening an older store for
writing upgrades it in one transaction (`planner store upgrade`); read-only, it is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from planner.kpis import summarise
from planner.version import planner_version

DEFAULT_PATH = Path("planner.duckdb")
"""The store `planner sweep`, `planner report --store` and `planner store` use unless told."""
SCHEMA_VERSION = 2

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
    has_log BOOLEAN DEFAULT FALSE, planner_version VARCHAR,
    PRIMARY KEY (hash, seed, replication));
CREATE TABLE IF NOT EXISTS kpis (
    hash VARCHAR, seed UBIGINT, replication INTEGER, kpi VARCHAR, value DOUBLE, position INTEGER,
    PRIMARY KEY (hash, seed, replication, kpi));
"""


def _schema_1_to_2(con: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """Record per replication whether its call log is stored (a version 1 store has one for a
    replication if any of its calls is there) and the planner that ran it (its run's)."""
    con.execute("ALTER TABLE replications ADD COLUMN has_log BOOLEAN DEFAULT FALSE")
    con.execute("ALTER TABLE replications ADD COLUMN planner_version VARCHAR")
    con.execute(
        "UPDATE replications SET planner_version = runs.planner_version FROM runs "
        "WHERE runs.run_id = replications.run_id"
    )
    if "calls" in tables:
        con.execute(
            "UPDATE replications SET has_log = TRUE WHERE (hash, seed, replication) "
            "IN (SELECT DISTINCT hash, seed, replication FROM calls)"
        )


_MIGRATIONS = {1: _schema_1_to_2}
"""What takes a store from a schema version to the next (all run in one transaction)."""


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


class Store:
    """One open store. ``Store.open(path, read_only=True)`` for reading (the dashboard, report)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.upgraded_from: int | None = None  # the schema version opening upgraded, if any

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

    def _tables(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

    def _check_schema(self) -> None:
        tables = self._tables()
        if self.read_only or "meta" in tables:
            if "meta" not in tables:
                raise StoreError(f"{self.path}: not a planner store (no meta table)")
            row = self._one("SELECT value FROM meta WHERE key = 'schema'")
            found = row[0] if row else "?"
            if found == str(SCHEMA_VERSION):
                return
            older = found.isdigit() and int(found) in _MIGRATIONS
            if older and self.read_only:
                raise StoreError(
                    f"{self.path}: store schema {found} is older than this planner's "
                    f"{SCHEMA_VERSION}; run `planner store upgrade --store {self.path}` once"
                )
            if not older:
                raise StoreError(
                    f"{self.path}: store schema {found}, this planner reads {SCHEMA_VERSION}"
                )
            self._upgrade(int(found), tables)
            return
        if tables:
            raise StoreError(f"{self.path}: a DuckDB file, but not a planner store")
        self.con.execute("BEGIN")
        self.con.execute(_SCHEMA)
        self.con.execute("INSERT INTO meta VALUES ('schema', ?)", [str(SCHEMA_VERSION)])
        self.con.execute("COMMIT")

    def _upgrade(self, version: int, tables: set[str]) -> None:
        """Take the store to SCHEMA_VERSION in one transaction: all of it, or nothing."""
        with self._transaction():
            for v in range(version, SCHEMA_VERSION):
                _MIGRATIONS[v](self.con, tables)
            self.con.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema'", [str(SCHEMA_VERSION)]
            )
        self.upgraded_from = version

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
                    planner_version(),
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

    def stored(self, hashes: Iterable[str], seed: int) -> dict[tuple[str, int, int], bool]:
        """The (hash, seed, replication) of these scenarios already stored, each with whether
        its call log is stored too."""
        wanted = pd.DataFrame({"hash": list(hashes)})
        self.con.register("wanted", wanted)
        rows = self.con.execute(
            "SELECT r.hash, r.seed, r.replication, r.has_log FROM replications r "
            "JOIN wanted w USING (hash) WHERE r.seed = ?",
            [seed],
        ).fetchall()
        self.con.unregister("wanted")
        return {(h, int(s), int(r)): bool(log) for h, s, r, log in rows}

    def done(
        self, hashes: Iterable[str], seed: int, with_logs: bool = False
    ) -> set[tuple[str, int, int]]:
        """Which (hash, seed, replication) of these scenarios need not run again: those stored
        (``with_logs``: stored with their call log)."""
        return {i for i, logged in self.stored(hashes, seed).items() if logged or not with_logs}

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
        replace: bool = False,
    ) -> None:
        """Store one finished replication in one transaction: all of it, or (on any error or
        a kill) none of it. A replication already stored is an error, unless ``replace``: then
        its row, KPIs and calls are replaced in the same transaction (a kill leaves the old
        replication whole)."""
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
        key = [hash, seed, replication]
        # an upsert rather than DELETE then INSERT: DuckDB before 1.2 refuses to insert a key
        # deleted earlier in the same transaction
        insert = "INSERT OR REPLACE" if replace else "INSERT"
        with self._transaction():
            row = [run_id, executor, worker, seconds, _now(), log is not None, planner_version()]
            self.con.execute(
                f"{insert} INTO replications (hash, seed, replication, run_id, executor, worker, "
                "seconds, finished, has_log, planner_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*key, *row],
            )
            if replace:
                self.con.execute(
                    "DELETE FROM kpis WHERE hash = ? AND seed = ? AND replication = ? "
                    "AND NOT list_contains(?, kpi)",
                    [*key, list(kpis)],
                )
                if "calls" in self._tables():
                    self.con.execute(
                        "DELETE FROM calls WHERE hash = ? AND seed = ? AND replication = ?", key
                    )
            self.con.register("new_kpis", k)
            self.con.execute(
                f"{insert} INTO kpis BY NAME SELECT hash, seed, replication, kpi, value, position "
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

    def logged(self, hash: str, seed: int) -> tuple[set[int], set[int]]:
        """(replications stored, those of them stored with their call log)."""
        rows = self.con.execute(
            "SELECT replication, has_log FROM replications WHERE hash = ? AND seed = ?",
            [hash, seed],
        ).fetchall()
        return {int(r) for r, _ in rows}, {int(r) for r, log in rows if log}

    def has_calls(self, hash: str, seed: int, replications: Iterable[int] | None = None) -> bool:
        """Is the call log of every one of these replications (default: all stored) stored?"""
        stored, logged = self.logged(hash, seed)
        wanted = stored if replications is None else set(replications)
        return bool(wanted) and wanted <= logged

    def calls(
        self,
        hash: str,
        seed: int | None = None,
        columns: Sequence[str] | None = None,
        replications: Iterable[int] | None = None,
    ) -> pd.DataFrame | None:
        """The call log (as ``Results.log``) of these stored replications of a scenario (default
        all), or None unless every one of them has its log: a map or table drawn from some
        replications only would pass for all of them."""
        seed = self.seed_of(hash, seed)
        wanted = None if replications is None else sorted(set(replications))
        if not self.has_calls(hash, seed, wanted):
            return None
        cols = "* EXCLUDE (hash, seed)" if columns is None else ", ".join(f'"{c}"' for c in columns)
        which = "" if wanted is None else "AND list_contains(?, replication)"
        return self.con.execute(
            f"SELECT {cols} FROM calls WHERE hash = ? AND seed = ? {which} "
            "ORDER BY replication, call",
            [hash, seed, *([] if wanted is None else [wanted])],
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
