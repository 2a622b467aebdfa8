"""A call log's files that planner writes: the rows a check rejected (CSV), the calls it
accepted (Parquet, in the schema), and a log made by the model. Each is written whole under a
temporary name and renamed into place, and only over a file planner wrote before: a rejects
file by its first line, a Parquet file by the mark in its metadata."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner.calllog.check import REJECTS_HEADER
from planner.calllog.schema import SCHEMA_VERSION
from planner.store.files import file_target, write_atomically

if TYPE_CHECKING:
    import pandas as pd

MARK = b"planner"
"""The key of the Parquet metadata that says planner wrote the file (its value: what wrote it
and the schema version)."""


def begins_with(path: Path, mark: str) -> bool:
    """Whether a text file's first line begins with ``mark`` (how planner knows its own)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(mark)
    except OSError:
        return False


def is_our_rejects(path: Path) -> bool:
    return begins_with(path, REJECTS_HEADER)


def is_our_parquet(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # any file pyarrow cannot read as Parquet is not ours
        return False
    return MARK in metadata


def check_targets(*targets: tuple[Path | None, str]) -> None:
    """Refuse, before any work, a target that may not be written (``FolderError``): a file
    planner did not write, a folder, another user's file."""
    for path, option in targets:
        if path is None:
            continue
        parquet = path.suffix.lower() in (".parquet", ".pq")
        file_target(path, option, is_our_parquet if parquet else is_our_rejects)


def write_rejects(path: Path, rejects: pd.DataFrame) -> None:
    write_atomically(path, lambda tmp: rejects.to_csv(tmp, index=False, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame, what: str) -> None:
    """``frame`` as Parquet, marked as planner's (``what`` wrote it, in schema version 1)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    mark = f"{what}; call-log schema {SCHEMA_VERSION}".encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), MARK: mark})
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def write_log_csv(path: Path, frame: pd.DataFrame, delimiter: str, encoding: str) -> None:
    write_atomically(
        path, lambda tmp: frame.to_csv(tmp, index=False, sep=delimiter, encoding=encoding)
    )
