"""Read a call log's file (CSV or Parquet) and a mapping's (TOML) as they are, for the check:
every cell as text, an empty one as missing. The only I/O of ``calllog`` besides the
shells' writing of what the check found."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from planner.calllog.check import LogRefused
from planner.calllog.mapping import Mapping, MappingError


def read_mapping(path: Path | None) -> Mapping:
    """The mapping a TOML file describes (``None``: a log already in the schema)."""
    if path is None:
        return Mapping.identity()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise MappingError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError([f"{path}: cannot be read ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError([f"{path}: not TOML ({exc})"]) from None
    table = Mapping.grunnkrets_table(data)
    zones = read_grunnkrets_table(path.parent / table) if table else None
    return Mapping.from_dict(data, where=str(path), grunnkrets_zones=zones)


def read_grunnkrets_table(path: Path) -> dict[str, str]:
    """A table of grunnkrets codes and the zone each is in (CSV, columns ``grunnkrets`` and
    ``zone_code``, as text: leading zeros kept), such as SSB's grunnkrets-to-bydel list."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise MappingError([f"{path}: no such file (places.grunnkrets_table)"]) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MappingError([f"{path}: cannot be read as CSV ({_first_line(exc)})"]) from None
    except pd.errors.EmptyDataError:
        raise MappingError([f"{path}: empty, no columns grunnkrets and zone_code"]) from None
    missing = [c for c in ("grunnkrets", "zone_code") if c not in frame.columns]
    if missing:
        has = ", ".join(map(repr, frame.columns[:8]))
        raise MappingError([f"{path}: no column {', '.join(missing)} (it has {has})"])
    problems = []
    seen: dict[str, str] = {}
    rows = zip(frame["grunnkrets"].str.strip(), frame["zone_code"].str.strip(), strict=True)
    for i, (gk, zone) in enumerate(rows, start=2):  # line 1 is the header
        if not gk.isdigit() or len(gk) != 8:
            problems.append(f"{path}: line {i}: grunnkrets {gk!r} is not 8 digits")
        elif not zone:
            problems.append(f"{path}: line {i}: grunnkrets {gk} has no zone_code")
        elif gk in seen and seen[gk] != zone:
            problems.append(f"{path}: line {i}: grunnkrets {gk} is in zone {seen[gk]} already")
        else:
            seen[gk] = zone
        if len(problems) >= 10:
            break
    if problems:
        raise MappingError(problems)
    return seen


def read_log(path: Path, mapping: Mapping) -> pd.DataFrame:
    """The file's rows, every cell as text (``NA`` when empty), its columns as named there."""
    if not path.is_file():
        raise LogRefused(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return _as_text(pd.read_parquet(path))
        frame = pd.read_csv(
            path,
            sep=mapping.delimiter,
            encoding=mapping.encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=False,
        )
    except UnicodeDecodeError as exc:
        raise LogRefused(
            f"{path}: not {mapping.encoding} text at byte {exc.start} (set source.encoding "
            "in the mapping, e.g. 'cp1252')"
        ) from None
    except pd.errors.ParserError as exc:
        raise LogRefused(f"{path}: not CSV as the mapping says ({_first_line(exc)})") from None
    except pd.errors.EmptyDataError:
        raise LogRefused(f"{path}: empty, not even a header") from None
    except (OSError, ValueError) as exc:
        raise LogRefused(f"{path}: cannot be read ({_first_line(exc)})") from None
    return _as_text(frame)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for column in frame.columns:
        s = frame[column]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s):
            text = s.map(lambda t: t.isoformat(), na_action="ignore")
        else:
            text = s.map(str, na_action="ignore")
        out[str(column)] = text.astype("str")
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
