"""Where a simulation's call log goes, one replication at a time: memory, a Parquet file, nowhere.

``simulate`` hands every replication's log to a sink as soon as its KPIs are taken, so a run
streamed to Parquet holds one replication's log at a time, however many replications it has.
The file is the table ``Results.log.to_parquet(path, index=False)`` would write for the same
run: same columns, types, rows and order (its schema is the first non-empty replication's).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 16_384
"""Rows buffered before a row group is written: a replication of more rows (a year of
Oslo/Akershus, about 18,000 calls) is one row group, shorter ones share one. The buffer holds
the frames' arrays (Arrow shares them), so it is kept small."""


class LogSink(Protocol):
    """Receives each replication's log, in replication order."""

    def write(self, frame: pd.DataFrame) -> None: ...

    def frame(self) -> pd.DataFrame:
        """What ``Results.log`` holds once every replication is written."""
        ...


class MemoryLog:
    """Keeps every replication's log: ``frame()`` is the whole log (today's ``Results.log``)."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []

    def write(self, frame: pd.DataFrame) -> None:
        self._frames.append(frame)

    def frame(self) -> pd.DataFrame:
        return pd.concat(self._frames, ignore_index=True)


class DiscardLog:
    """Keeps no rows: ``frame()`` is an empty log with the columns and types of the first one."""

    def __init__(self) -> None:
        self._empty: pd.DataFrame | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if self._empty is None:
            self._empty = frame.iloc[:0].reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        return self._empty if self._empty is not None else pd.DataFrame()


class ParquetLog(DiscardLog):
    """Streams the logs to one Parquet file, in row groups of about ``row_group_rows`` rows.

    Use as a context manager: leaving it normally finishes the file; leaving it by an exception
    (an error, Ctrl-C) removes the unfinished file, so no half-written log is left behind.
    ``frame()`` is an empty log with the file's columns. The file is written in place: a caller
    that must never show a partial file writes it in a temporary folder and renames (as
    ``planner run`` does with its results folder).
    """

    def __init__(self, path: Path, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        super().__init__()
        self.path = path
        self.row_group_rows = row_group_rows
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def __enter__(self) -> ParquetLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def write(self, frame: pd.DataFrame) -> None:
        super().write(frame)  # the columns, for frame() and a log with no rows
        if frame.empty:  # no rows; its engine columns are float when empty: not for the schema
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._schema is None:
            self._schema = table.schema
        elif not table.schema.equals(self._schema):
            table = table.cast(self._schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        assert self._schema is not None
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self._schema)
        group = pa.concat_tables(self._pending)
        self._pending, self._pending_rows = [], 0
        self._writer.write_table(group, row_group_size=group.num_rows)

    def close(self) -> None:
        """Write what is buffered and finish the file (a log with no rows: an empty table)."""
        self._flush()
        if self._writer is None:
            schema = pa.Schema.from_pandas(self.frame(), preserve_index=False)
            self._writer = pq.ParquetWriter(self.path, schema)
        self._writer.close()

    def abandon(self) -> None:
        """Stop writing and remove the unfinished file."""
        self._pending, self._pending_rows = [], 0
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self.path.unlink(missing_ok=True)


__all__ = ["ROW_GROUP_ROWS", "DiscardLog", "LogSink", "MemoryLog", "ParquetLog"]
