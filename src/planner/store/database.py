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
                has_log (its calls are in `calls`), planner_version, kpi_count (its KPI rows)
  kpis          (hash, seed, replication, kpi) -> value, position (column order)
  calls         the call log of each replication stored with has_log

Schema versions: 2 added replications.has_log and .planner_version; 3 added
replications.kpi_count. Opening an older store for writing upgrades it in one transaction
(`planner store upgrade`); read-only, it is refused.

A damaged or tampered store is refused in one line naming the file and what is wrong, never a
DuckDB traceback: a file that is not DuckDB, cut short or failing a block checksum, tables or
columns missing or of another type (checked on opening). A replication that is not whole — KPI
rows fewer than its kpi_count, KPI rows without their replication, or a replication a finished
run stored that is gone — is found by ``damaged`` (a count check); reading it is refused, and
``planner sweep`` runs it again. A store is first looked at read-only, so a command refusing it
leaves it as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import duckdb
import pandas as pd

from planner.limits import MAX_REPLICATIONS
from planner.sim.kpis import summarise
from planner.version import planner_version

DEFAULT_PATH = Path("planner.duckdb")
"""The store `planner sweep`, `planner report --store` and `planner store` use unless told."""
SCHEMA_VERSION = 3

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
    has_log BOOLEAN DEFAULT FALSE, planner_version VARCHAR, kpi_count INTEGER,
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


def _schema_2_to_3(con: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """Record per replication how many KPI rows it has: as many as the most any replication of
    its scenario has (the same planner wrote them all), so a replication short of rows shows."""
    con.execute("ALTER TABLE replications ADD COLUMN kpi_count INTEGER")
    con.execute(
        "UPDATE replications SET kpi_count = m.n FROM (SELECT hash, max(n) AS n FROM "
        "(SELECT hash, seed, replication, count(*) AS n FROM kpis GROUP BY ALL) "
        "GROUP BY hash) m WHERE m.hash = replications.hash"
    )


_MIGRATIONS = {1: _schema_1_to_2, 2: _schema_2_to_3}
"""What takes a store from a schema version to the next (all run in one transaction)."""


class StoreError(Exception):
    """A store that cannot be used as asked; the message is one line for the user."""


@dataclass(frozen=True)
class StoredScenario:
    hash: str
    name: str
    toml: str
    baseline_hash: str | None


Why = Literal["kpis", "stray", "absent"]


@dataclass(frozen=True)
class Damage:
    """A replication the store does not hold whole: ``kpis``, fewer KPI rows than it recorded
    (or none); ``stray``, KPI rows or calls without their replication; ``absent``, stored by a
    run that finished, and gone since."""

    hash: str
    seed: int
    replication: int
    why: Why


_SAYS: dict[Why, str] = {
    "kpis": "KPI rows missing",
    "stray": "rows left without their replication",
    "absent": "stored by a finished run, now missing",
}

# MAX_REPLICATIONS (planner.limits): most replications a sweep runs per scenario (as ``[sweep]
# replications``); a run recording more is not looked for beyond it.

_HEADER_BYTES = 3 * 4096
"""The DuckDB file's headers before its first block (the main and two database headers)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _duckdb_problem(path: Path, exc: duckdb.Error) -> str:
    """One line for a DuckDB error met reading or writing a store: what is wrong with the file,
    not DuckDB's own message (which repeats the path and byte offsets) when it is known."""
    text = str(exc)
    low = text.lower()
    if "not a valid duckdb database file" in low:
        return f"{path}: not a planner store (not a DuckDB database file)"
    if "could not read enough bytes" in low:
        return f"{path}: damaged store: the file is cut short (truncated)"
    if "checksum" in low:
        return f"{path}: damaged store: a block of the file fails its checksum (corrupted)"
    if "permission denied" in low:
        return f"{path}: cannot be read or written (permission denied)"
    if "lock" in low and isinstance(exc, duckdb.IOException):
        return f"{path}: in use by another process (a sweep still running?)"
    first = (text.splitlines() or [type(exc).__name__])[0]
    return f"{path}: damaged store ({first[:200]})"


P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """A Store method whose DuckDB errors (a block cut short or corrupted, a column of another
    type) become a one-line StoreError. A broken constraint stays what it is: a bug, not
    damage."""

    @functools.wraps(method)
    def guarded(self: Store, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except duckdb.ConstraintException:
            raise
        except duckdb.Error as exc:
            raise StoreError(_duckdb_problem(self.path, exc)) from None

    return guarded


@functools.cache
def _reference() -> tuple[dict[str, list[tuple[str, str]]], set[tuple[str, str, str]]]:
    """The columns (name, type, in order) of every table of this schema, and its constraints
    (table, kind, columns): as DuckDB reports them for a store made here and now."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(_SCHEMA)
        return _layout(con)
    finally:
        con.close()


def _layout(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, list[tuple[str, str]]], set[tuple[str, str, str]]]:
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, name, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append((name, kind))
    constraints = {
        (t, kind, ", ".join(cols))
        for t, kind, cols in con.execute(
            "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
    return columns, constraints


_CALL_KEYS = {
    "hash": ("VARCHAR",),
    "seed": ("UBIGINT",),
    "replication": ("BIGINT", "INTEGER"),
    "call": ("BIGINT", "INTEGER"),
}
"""The columns of the call log's table that reading it needs, and the types they may have."""


def _layout_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What differs between a store's tables and this schema's: a table, column or key
    missing, a column of another type or out of place. The call log's table (made from the
    first log stored) needs only its key columns."""
    want_columns, want_constraints = _reference()
    have_columns, have_constraints = _layout(con)
    problems = []
    for table, want in want_columns.items():
        have = have_columns.get(table)
        if have is None:
            problems.append(f"no table {table}")
            continue
        types = dict(have)
        for name, kind in want:
            if name not in types:
                problems.append(f"table {table} has no column {name}")
            elif types[name] != kind:
                problems.append(f"column {table}.{name} is {types[name]}, not {kind}")
        if not problems and have != want:
            extra = [n for n, _ in have if n not in dict(want)]
            problems.append(
                f"table {table} has a column {extra[0]} it should not"
                if extra
                else f"the columns of table {table} are out of order"
            )
    lost = sorted(want_constraints - have_constraints, key=lambda c: (c[1] != "PRIMARY KEY", c))
    for table, kind, cols in lost[:1] if not problems else []:
        problems.append(
            f"table {table} has no primary key ({cols})"
            if kind == "PRIMARY KEY"
            else f"column {table}.{cols} may be NULL"
        )
    calls = dict(have_columns.get("calls", []))
    if calls:
        for name, kinds in _CALL_KEYS.items():
            if name not in calls:
                problems.append(f"table calls has no column {name}")
            elif calls[name] not in kinds:
                problems.append(f"column calls.{name} is {calls[name]}, not {kinds[0]}")
    if not con.execute(
        "SELECT 1 FROM duckdb_sequences() WHERE database_name = current_database() "
        "AND sequence_name = 'run_ids'"
    ).fetchall():
        problems.append("no sequence run_ids")
    return problems


def _look_at_path(p: Path, read_only: bool) -> bool:
    """Refuse, in one line, a path that cannot be a store; True if a store file is there."""
    try:
        info = p.stat()
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as exc:  # too long, a NUL character, a parent not a folder
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StoreError(f"{p}: cannot be used as a store ({why})") from None
    if info is None and p.is_symlink():
        raise StoreError(f"{p}: is a link to nothing ({os.readlink(p)} does not exist)")
    if info is None:
        if read_only:
            raise StoreError(f"{p}: no such store (run `planner sweep SWEEP.toml` first)")
        if not p.parent.is_dir():
            raise StoreError(f"{p}: folder {p.parent} does not exist")
        return False
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{p}: is a folder, not a store file")
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise StoreError(f"{p}: is not a regular file ({kind})")
    if info.st_size == 0:
        raise StoreError(f"{p}: not a planner store (an empty file)")
    return True


class Store:
    """One open store. ``Store.open(path, read_only=True)`` for reading (the dashboard, report)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.upgraded_from: int | None = None  # the schema version opening upgraded, if any

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path = DEFAULT_PATH, read_only: bool = False, create: bool = True
    ) -> Store:
        """Open (or, for writing, create unless not ``create``) a store; StoreError says in one
        line why it can't.

        A store that exists is looked at read-only first, so a damaged or foreign file is
        refused as it was, even by a command that would write to it."""
        p = Path(path)
        version: int | None = None
        if _look_at_path(p, read_only or not create):
            look = cls._connect(p, read_only=True)
            try:
                version = look._inspect()
                if read_only:
                    look._readable(version)
                    return look
            except BaseException:
                look.close()
                raise
            look.close()
        store = cls._connect(p, read_only=False)
        try:
            if version is None:
                store._create()
            elif version != SCHEMA_VERSION:
                store._upgrade(version)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _connect(cls, p: Path, read_only: bool) -> Store:
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(_duckdb_problem(p, exc)) from None
        return cls(con, p, read_only)

    def _tables(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

    @_guarded
    def _inspect(self) -> int | None:
        """Check a store without changing it: its schema version (None for a DuckDB file with
        no tables yet, which writing makes a store), or StoreError saying what is wrong."""
        self._check_size()
        tables = self._tables()
        if "meta" not in tables:
            if not tables:
                return None
            raise StoreError(f"{self.path}: a DuckDB file, but not a planner store (no meta table)")
        row = self._one("SELECT value FROM meta WHERE key = 'schema'")
        found = str(row[0]) if row else "?"
        if found == str(SCHEMA_VERSION):
            if problems := _layout_problems(self.con):
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise StoreError(f"{self.path}: damaged store: {problems[0]}{more}")
            return SCHEMA_VERSION
        if not (found.isdigit() and int(found) in _MIGRATIONS):
            raise StoreError(
                f"{self.path}: store schema {found}, this planner reads {SCHEMA_VERSION}"
            )
        return int(found)

    def _readable(self, version: int | None) -> None:
        """Refuse to read a store that is not at this planner's schema."""
        if version is None:
            raise StoreError(f"{self.path}: a DuckDB file, but not a planner store (no tables)")
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema {version} is older than this planner's "
                f"{SCHEMA_VERSION}; run `planner store upgrade --store {self.path}` once"
            )

    def _check_size(self) -> None:
        """A file too short to hold the blocks in use is cut short: say so now, not at the
        first block read. (Free blocks at its end may be cut off by DuckDB itself; with a
        write-ahead log beside it, blocks may be yet to come: not checked.)"""
        if Path(f"{self.path}.wal").exists():
            return
        row = self._one(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        )
        if row is None:
            return
        need = _HEADER_BYTES + int(row[0]) * int(row[1])
        have = os.path.getsize(self.path)
        if have < need:
            raise StoreError(
                f"{self.path}: damaged store: the file is cut short ({have:,} bytes, its "
                f"blocks in use need {need:,})"
            )

    @_guarded
    def _create(self) -> None:
        with self._transaction():
            self.con.execute(_SCHEMA)
            self.con.execute("INSERT INTO meta VALUES ('schema', ?)", [str(SCHEMA_VERSION)])

    @_guarded
    def _upgrade(self, version: int) -> None:
        """Take the store to SCHEMA_VERSION in one transaction: all of it, or nothing (an
        older store whose tables are not what its version had is refused unchanged)."""
        with self._transaction():
            for v in range(version, SCHEMA_VERSION):
                _MIGRATIONS[v](self.con, self._tables())
            self.con.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema'", [str(SCHEMA_VERSION)]
            )
            if problems := _layout_problems(self.con):
                raise StoreError(f"{self.path}: damaged store: {problems[0]}")
        self.upgraded_from = version

    def close(self) -> None:
        # a connection DuckDB invalidated (a fatal error) has nothing left to close
        with contextlib.suppress(duckdb.Error):
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (one sweep at a time) --------------------------------------------------------

    @_guarded
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
            self._repair_texts(scenarios)
        return int(run_id)

    def _repair_texts(self, scenarios: Sequence[StoredScenario]) -> None:
        """Put back this sweep's text for a stored scenario whose TOML is not valid (tampered
        or corrupted): the hash names the scenario, so the sweep's text describes it."""
        ours = {s.hash: s for s in scenarios}
        for h, toml in self.con.execute(
            "SELECT hash, toml FROM scenarios WHERE list_contains(?, hash)", [list(ours)]
        ).fetchall():
            if toml_problem(toml, "") is not None:
                self.con.execute("UPDATE scenarios SET toml = ? WHERE hash = ?", [ours[h].toml, h])

    @_guarded
    def set_counts(self, run_id: int, planned: int, skipped: int) -> None:
        self.con.execute(
            "UPDATE runs SET planned = ?, skipped = ? WHERE run_id = ?", [planned, skipped, run_id]
        )

    @_guarded
    def finish_run(self, run_id: int, status: str) -> None:
        self.con.execute(
            "UPDATE runs SET status = ?, finished = ?, done = (SELECT count(*) FROM replications "
            "WHERE run_id = ?) WHERE run_id = ?",
            [status, _now(), run_id, run_id],
        )

    @_guarded
    def stored(self, hashes: Iterable[str], seed: int) -> dict[tuple[str, int, int], bool]:
        """The (hash, seed, replication) of these scenarios with a row in the store (whole or
        not: see ``damaged``), each with whether its call log is stored too."""
        wanted = pd.DataFrame({"hash": list(hashes)})
        self.con.register("wanted", wanted)
        rows = self.con.execute(
            "SELECT r.hash, r.seed, r.replication, r.has_log FROM replications r "
            "JOIN wanted w USING (hash) WHERE r.seed = ?",
            [seed],
        ).fetchall()
        self.con.unregister("wanted")
        return {(h, int(s), int(r)): bool(log) for h, s, r, log in rows}

    @_guarded
    def done(
        self, hashes: Iterable[str], seed: int, with_logs: bool = False
    ) -> set[tuple[str, int, int]]:
        """Which (hash, seed, replication) of these scenarios need not run again: those stored
        whole (``with_logs``: stored with their call log)."""
        hashes = list(hashes)
        broken = {(d.hash, d.seed, d.replication) for d in self.damaged(hashes, seed)}
        return {
            i
            for i, logged in self.stored(hashes, seed).items()
            if (logged or not with_logs) and i not in broken
        }

    @_guarded
    def damaged(
        self, hashes: Iterable[str] | None = None, seed: int | None = None, calls: bool = False
    ) -> list[Damage]:
        """The replications of these scenarios (default all) under this seed (default any) that
        the store does not hold whole, by a count check: a replication with fewer KPI rows
        than it recorded (``kpis``), KPI rows (with ``calls``, also calls) without their
        replication (``stray``), or a replication that a run which finished had stored and
        that is gone (``absent``). In order of hash, seed, replication."""
        where, params = self._filter(hashes, seed)
        counted = f"SELECT hash, seed, replication, count(*) AS n FROM kpis {where} GROUP BY ALL"
        strays = ["SELECT hash, seed, replication FROM counted"]
        if calls and "calls" in self._tables():
            strays.append(f"SELECT DISTINCT hash, seed, replication FROM calls {where}")
        sql = f"""
            WITH counted AS ({counted}),
            recorded AS (
                SELECT DISTINCT l.hash, u.seed,
                    unnest(range(least(coalesce(u.replications, 0), {MAX_REPLICATIONS})))
                    AS replication
                FROM runs u JOIN run_scenarios l USING (run_id) WHERE u.status = 'done')
            SELECT r.hash, r.seed, r.replication, 'kpis' AS why FROM replications r
                LEFT JOIN counted c USING (hash, seed, replication)
                WHERE (coalesce(c.n, 0) = 0 OR c.n IS DISTINCT FROM r.kpi_count)
                AND {where.removeprefix("WHERE ") or "TRUE"}
            UNION ALL
            SELECT hash, seed, replication, 'stray' FROM (
                {" UNION ".join(strays)}
                EXCEPT SELECT hash, seed, replication FROM replications)
            UNION ALL
            SELECT hash, seed, replication, 'absent' FROM (
                SELECT hash, seed, replication FROM recorded {where}
                EXCEPT SELECT hash, seed, replication FROM replications
                EXCEPT SELECT hash, seed, replication FROM counted)
            ORDER BY hash, seed, replication, why
        """
        rows = self.con.execute(sql, params * (3 + len(strays) - 1)).fetchall()
        return [Damage(h, int(s), int(r), why) for h, s, r, why in rows]

    def _filter(self, hashes: Iterable[str] | None, seed: int | None) -> tuple[str, list[Any]]:
        """A WHERE clause on hash and seed (either may be None: any), and its parameters."""
        terms: list[str] = []
        params: list[Any] = []
        if hashes is not None:
            terms.append("list_contains(?, hash)")
            params.append(list(hashes))
        if seed is not None:
            terms.append("seed = ?")
            params.append(seed)
        return ("WHERE " + " AND ".join(terms) if terms else ""), params

    def require_whole(self, hashes: Iterable[str], seed: int) -> None:
        """StoreError, in one line, unless every replication stored of these scenarios under
        this seed is whole (see ``damaged``)."""
        if lines := self.damage_lines(hashes, seed):
            raise StoreError(lines[0])

    def damage_lines(
        self, hashes: Iterable[str] | None = None, seed: int | None = None
    ) -> list[str]:
        """``damaged``, said: one line per scenario and seed with replications not whole."""
        found = self.damaged(hashes, seed)
        return damage_lines(self.path, found, self._sweep_files({d.hash for d in found}))

    @_guarded
    def _sweep_files(self, hashes: Iterable[str]) -> dict[str, str]:
        """The sweep file of the latest run that asked for each of these scenarios."""
        rows = self.con.execute(
            "SELECT l.hash, arg_max(u.sweep_file, u.run_id) FROM run_scenarios l "
            "JOIN runs u USING (run_id) WHERE list_contains(?, l.hash) GROUP BY l.hash",
            [list(hashes)],
        ).fetchall()
        return {h: f for h, f in rows if f}

    @_guarded
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
        replication whole). ``replace`` also clears rows a damaged store left without their
        replication (see ``damaged``)."""
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
                "seconds, finished, has_log, planner_version, kpi_count) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*key, *row, len(kpis)],
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

    @_guarded
    def runs(self) -> pd.DataFrame:
        """One row per sweep run, newest first: run_id, sweep_name, sweep_file, seed,
        replications, executor, planned, skipped, done, started, finished, status."""
        return self.con.execute(
            "SELECT run_id, sweep_name, sweep_file, sweep_hash, seed, replications, executor, "
            "keep_logs, planned, skipped, done, started, finished, status, planner_version "
            "FROM runs ORDER BY run_id DESC"
        ).df()

    @_guarded
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

    @_guarded
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

    @_guarded
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

    @_guarded
    def per_replication(
        self, hash: str, seed: int | None = None, checked: bool = False
    ) -> pd.DataFrame:
        """Shaped as ``Results.per_replication``: column "replication", then one column per KPI
        in the order the simulation returned them; one row per stored replication. StoreError
        if any of them is not whole (``checked``: the caller has called ``require_whole``)."""
        seed = self.seed_of(hash, seed)
        if not checked:
            self.require_whole([hash], seed)
        long = self.con.execute(
            "SELECT k.replication, k.kpi, k.value, k.position FROM kpis k "
            "JOIN replications r USING (hash, seed, replication) "
            "WHERE k.hash = ? AND k.seed = ? ORDER BY k.replication, k.position",
            [hash, seed],
        ).df()
        order = long.drop_duplicates("kpi").sort_values("position")["kpi"].tolist()
        wide = long.pivot(index="replication", columns="kpi", values="value")
        wide = wide[order].reset_index()
        wide.columns.name = None
        wide["replication"] = wide["replication"].astype("int64")
        return wide

    @_guarded
    def summary(self, hash: str, seed: int | None = None) -> pd.DataFrame:
        """The KPI table with 95 % intervals (``planner.sim.kpis.summarise``), as `planner run`."""
        return summarise(self.per_replication(hash, seed))

    @_guarded
    def logged(self, hash: str, seed: int) -> tuple[set[int], set[int]]:
        """(replications stored, those of them stored with their call log)."""
        rows = self.con.execute(
            "SELECT replication, has_log FROM replications WHERE hash = ? AND seed = ?",
            [hash, seed],
        ).fetchall()
        return {int(r) for r, _ in rows}, {int(r) for r, log in rows if log}

    @_guarded
    def has_calls(self, hash: str, seed: int, replications: Iterable[int] | None = None) -> bool:
        """Is the call log of every one of these replications (default: all stored) stored?"""
        stored, logged = self.logged(hash, seed)
        wanted = stored if replications is None else set(replications)
        return bool(wanted) and wanted <= logged

    @_guarded
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

    @_guarded
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
            return
        # DuckDB may have invalidated the connection (a fatal error): nothing was committed
        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")


def toml_problem(toml: object, origin: str) -> str | None:
    """Why a scenario's stored TOML cannot be read (one line starting with ``origin``)."""
    from planner.scenario.loading import ScenarioError, parse_toml

    if not isinstance(toml, str):
        return f"{origin}: no TOML stored"
    try:
        parse_toml(toml.encode("utf-8", "surrogatepass"), origin)
    except ScenarioError as exc:
        return exc.problems[0]
    return None


def _numbers(values: Sequence[int]) -> str:
    shown = ", ".join(str(v) for v in values[:5])
    return shown if len(values) <= 5 else f"{shown}, … ({len(values)} in all)"


def damage_lines(
    path: Path, damages: Iterable[Damage], sweep_files: dict[str, str] | None = None
) -> list[str]:
    """One line per scenario and seed with replications not whole, naming the store file and,
    if known, the sweep file that runs them again."""
    groups: dict[tuple[str, int], dict[Why, list[int]]] = {}
    for d in damages:
        groups.setdefault((d.hash, d.seed), {}).setdefault(d.why, []).append(d.replication)
    lines = []
    for (h, seed), kinds in groups.items():
        said = "; ".join(
            f"replication{'s' if len(reps) > 1 else ''} {_numbers(reps)}: {_SAYS[why]}"
            for why, reps in kinds.items()
        )
        sweep = (sweep_files or {}).get(h)
        command = f"`planner sweep {sweep}`" if sweep else "`planner sweep` of its sweep file"
        lines.append(f"{path}: scenario {h[:12]}, seed {seed}: {said} ({command} runs them again)")
    return lines
