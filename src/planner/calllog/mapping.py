"""How a source's export is read as the schema: which of its columns is which field, how its
codes translate, how it writes times and numbers. One TOML file per source, so an export from
AMK's or the police's system is read without a change to the code (docs/call-log.md; examples
in ``examples/mappings/``).

    [source]
    name = "AMK Oslo, export from the dispatch system"
    schema_version = 1
    delimiter = ";"                  # CSV only; default ","
    decimal = ","                    # default "."

    [columns]                        # schema field = the source's column
    call_time = "Mottatt"
    zone_code = "Bydel"

    [times]
    format = "%d.%m.%Y %H:%M"        # default ISO 8601
    ambiguous = "reject"             # the hour the clocks pass twice: reject | first | second

    [codes.kind]                     # the source's code = the schema's
    "SUI" = "suicidal"

    [places]
    grunnkrets_table = "grunnkrets_bydel.csv"   # grunnkrets,zone_code; beside the mapping
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from planner.calllog.schema import FIELD, FIELDS, SCHEMA_VERSION, FieldType

Ambiguous = Literal["reject", "first", "second"]
FLAG_WORDS = {
    "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
    "ja": True, "nei": False, "j": True, "n": False,
}  # fmt: skip
"""Words read as a flag without a translation (any case)."""

_CODED = (FieldType.CODE, FieldType.FLAG)
_SECTIONS = {"source", "columns", "times", "codes", "places"}
_PLACES_KEYS = {"grunnkrets_table"}
_SOURCE_KEYS = {"name", "schema_version", "delimiter", "decimal", "encoding"}
_TIMES_KEYS = {"format", "ambiguous"}


class MappingError(Exception):
    """A mapping file that cannot be used: one line per problem, each naming the key."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Mapping:
    """A source's columns and codes as the schema's (``identity()``: a log already in it)."""

    name: str = "the schema itself"
    columns: AnyMapping[str, str] = field(default_factory=dict)  # field -> the source's column
    codes: AnyMapping[str, AnyMapping[str, str]] = field(default_factory=dict)  # {source: ours}
    time_format: str | None = None  # strptime's; None: ISO 8601
    ambiguous: Ambiguous = "reject"
    decimal: str = "."
    delimiter: str = ","
    encoding: str = "utf-8"
    grunnkrets_zones: AnyMapping[str, str] = field(default_factory=dict)  # grunnkrets -> zone

    @classmethod
    def identity(cls) -> Mapping:
        return cls()

    def column(self, name: str) -> str:
        """The source's column for the schema field ``name`` (the field's own name if the
        mapping does not rename it)."""
        return self.columns.get(name, name)

    def translate(self, name: str, value: str) -> str:
        """The schema's code for a source's ``value`` of field ``name`` (as given if the mapping
        has no translation for it)."""
        return self.codes.get(name, {}).get(value, value)

    @staticmethod
    def grunnkrets_table(data: AnyMapping[str, Any]) -> str | None:
        """The file ``[places] grunnkrets_table`` names (read by the shell), or None."""
        places = data.get("places", {})
        value = places.get("grunnkrets_table") if isinstance(places, dict) else None
        return value if isinstance(value, str) else None

    @classmethod
    def from_dict(
        cls,
        data: AnyMapping[str, Any],
        where: str = "mapping",
        grunnkrets_zones: AnyMapping[str, str] | None = None,
    ) -> Mapping:
        """The mapping a TOML file's tables describe (``grunnkrets_zones``: the table its
        ``[places] grunnkrets_table`` names, read); every problem found, one line each, raised
        together as a ``MappingError``."""
        problems: list[str] = []

        def bad(key: str, problem: str) -> None:
            problems.append(f"{where}: {key}: {problem}")

        for key in sorted(set(data) - _SECTIONS):
            bad(key, f"unknown table (expected one of {', '.join(sorted(_SECTIONS))})")
        source = _table(data, "source", bad)
        columns = _table(data, "columns", bad)
        times = _table(data, "times", bad)
        codes = _table(data, "codes", bad)
        places = _table(data, "places", bad)
        for key in sorted(set(places) - _PLACES_KEYS):
            bad(f"places.{key}", f"unknown key (expected one of {', '.join(sorted(_PLACES_KEYS))})")
        table = places.get("grunnkrets_table")
        if table is not None and (not isinstance(table, str) or not table):
            bad("places.grunnkrets_table", f"must be the name of a CSV file, got {table!r}")
        for key in sorted(set(source) - _SOURCE_KEYS):
            bad(f"source.{key}", f"unknown key (expected one of {', '.join(sorted(_SOURCE_KEYS))})")
        for key in sorted(set(times) - _TIMES_KEYS):
            bad(f"times.{key}", f"unknown key (expected one of {', '.join(sorted(_TIMES_KEYS))})")

        version = source.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            bad("source.schema_version", f"must be {SCHEMA_VERSION}, got {version!r}")
        name = _text(source, "name", "source.name", bad, cls.name)
        delimiter = _text(source, "delimiter", "source.delimiter", bad, ",")
        if len(delimiter) != 1 or delimiter in '"\n\r':
            bad("source.delimiter", f"must be one character other than a quote, got {delimiter!r}")
        decimal = _text(source, "decimal", "source.decimal", bad, ".")
        if decimal not in (".", ","):
            bad("source.decimal", f"must be '.' or ',', got {decimal!r}")
        if decimal == delimiter:
            bad("source.decimal", "is the same character as source.delimiter")
        encoding = _text(source, "encoding", "source.encoding", bad, "utf-8")
        try:
            "".encode(encoding)
        except LookupError:
            bad("source.encoding", f"unknown text encoding {encoding!r}")

        renamed: dict[str, str] = {}
        for key, value in columns.items():
            if key not in FIELD:
                bad(f"columns.{key}", f"not a field of the schema ({_fields()})")
            elif not isinstance(value, str) or not value:
                bad(f"columns.{key}", f"must be the name of a column, got {value!r}")
            else:
                renamed[key] = value
        used: dict[str, str] = {}
        for key, column in renamed.items():
            if column in used:
                bad(f"columns.{key}", f"column {column!r} is already columns.{used[column]}")
            used.setdefault(column, key)

        time_format = times.get("format")
        if time_format is not None:
            if not isinstance(time_format, str) or "%" not in time_format:
                example = "'%d.%m.%Y %H:%M'"
                bad(
                    "times.format",
                    f"must be a strptime format such as {example}, got {time_format!r}",
                )
                time_format = None
            else:
                try:
                    dt.datetime(2024, 1, 2, 3, 4, 5).strftime(time_format)
                except ValueError as exc:
                    bad("times.format", f"not a strptime format: {exc}")
        ambiguous = times.get("ambiguous", "reject")
        if ambiguous not in ("reject", "first", "second"):
            bad("times.ambiguous", f"must be 'reject', 'first' or 'second', got {ambiguous!r}")

        translations: dict[str, dict[str, str]] = {}
        for key, table in codes.items():
            f = FIELD.get(key)
            if f is None or f.type not in _CODED:
                coded = ", ".join(x.name for x in FIELDS if x.type in _CODED)
                bad(f"codes.{key}", f"not a field with codes ({coded})")
                continue
            if not isinstance(table, dict):
                bad(f"codes.{key}", "must be a table of the source's codes")
                continue
            out: dict[str, str] = {}
            for code, target in table.items():
                allowed = ("true", "false") if f.type is FieldType.FLAG else f.codes
                if isinstance(target, bool) and f.type is FieldType.FLAG:
                    target = str(target).lower()
                if not isinstance(target, str) or (allowed and target not in allowed):
                    words = ", ".join(allowed) if allowed else "a code"
                    bad(f"codes.{key}.{code}", f"must be one of {words}, got {target!r}")
                else:
                    out[str(code)] = target
            translations[key] = out

        if problems:
            raise MappingError(problems)
        frozen = {k: MappingProxyType(v) for k, v in translations.items()}
        return cls(
            name,
            MappingProxyType(renamed),
            MappingProxyType(frozen),
            time_format,
            ambiguous,
            decimal,
            delimiter,
            encoding,
            MappingProxyType(dict(grunnkrets_zones or {})),
        )


def _fields() -> str:
    return ", ".join(f.name for f in FIELDS)


def _table(data: AnyMapping[str, Any], key: str, bad: Any) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        bad(key, "must be a table")
        return {}
    return value


def _text(table: dict[str, Any], key: str, where: str, bad: Any, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        bad(where, f"must be text, got {value!r}")
        return default
    return value
