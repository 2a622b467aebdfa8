"""Check a call log against the schema and the region: every row accepted as the schema's
typed values, or rejected with the named reasons it has (``schema.Problem``). Nothing is
dropped or changed silently: a row is in exactly one of the two tables, under its number in the
file, and an accepted row's values are the source's own, translated only as its mapping says
(and stripped of spaces around them).

A whole file is refused, with one line (``LogRefused``), when it cannot be read as the mapping
says (a mapped column missing) or when it holds what must never be here: a column that looks
like Norwegian national identity numbers, or a person key that looks like a name.

Pure: a table of the file's text in, the two tables out; ``calllog.reading`` reads the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.calllog.mapping import FLAG_WORDS, Mapping
from planner.calllog.schema import (
    AFTER_THE_CALL,
    FIELD,
    FIELDS,
    PROBLEMS,
    TIMES,
    TIMEZONE,
    FieldType,
    Problem,
)

if TYPE_CHECKING:
    from planner.geo.region import Region

FNR_SHARE = 0.5
"""A column is taken for national identity numbers when at least this share of its values are
11 digits with valid check digits (a random 11-digit number has them about once in 120)."""
_FNR_WEIGHTS = (
    np.array([3, 7, 6, 1, 8, 9, 4, 5, 2]),
    np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]),
)
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


class LogRefused(Exception):
    """A log that is not read at all: one line, naming the file's column and the problem."""


@dataclass(frozen=True, eq=False)
class RegionIndex:
    """What the check asks of a region: its zones (and each one's shape, to place a point),
    the kommuner that are one zone each (to place a grunnkrets), and its facilities."""

    zone_codes: tuple[str, ...]
    shapes: Sequence[object]  # shapely geometries, one per zone, lon/lat
    single_zone_kommuner: frozenset[str]
    split_kommuner: frozenset[str]  # kommuner of several zones (Oslo's bydeler)
    facilities: frozenset[str]

    @classmethod
    def of(cls, region: Region) -> RegionIndex:
        zones = region.zones.to_crs(4326) if region.zones.crs else region.zones
        per = Counter(str(k) for k in zones["kommune"])
        codes = tuple(str(z) for z in zones["zone_code"])
        return cls(
            codes,
            tuple(zones.geometry),
            frozenset(k for k, n in per.items() if n == 1 and k in codes),
            frozenset(k for k, n in per.items() if n > 1),
            frozenset(str(i) for i in region.facilities["id"]),
        )

    @cached_property
    def _tree(self) -> object:
        import shapely

        return shapely.STRtree(list(self.shapes))

    def zone_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The zone code of each point (``None`` outside every zone; on a border, the first)."""
        import shapely

        out = np.full(len(lon), None, dtype=object)
        if not len(lon):
            return out
        points = shapely.points(lon, lat)
        hit_point, hit_zone = self._tree.query(points, predicate="intersects")  # type: ignore[attr-defined]
        first = pd.Series(hit_zone).groupby(hit_point).min()
        out[first.index.to_numpy()] = np.array(self.zone_codes, dtype=object)[first.to_numpy()]
        return out


@dataclass(frozen=True)
class CheckedLog:
    """A log checked: ``calls`` the accepted rows in the schema's fields and types (and
    ``row``, the row's number in the file, 1 for the first after the header, and
    ``zone_from``: which field placed it); ``rejects`` every other row, with ``row``,
    ``reason`` (the first problem), ``reasons`` (all, ``;``-separated), ``detail`` and the
    row's text as the file had it."""

    calls: pd.DataFrame
    rejects: pd.DataFrame
    read: int

    @property
    def accepted(self) -> int:
        return len(self.calls)

    @property
    def rejected_for_data(self) -> int:
        """Rows rejected for their data, not as duplicates: calls all the same."""
        return int((self.rejects["reason"] != str(Problem.DUPLICATE)).sum())

    def rejected_by(self) -> dict[Problem, int]:
        """Rows rejected under each problem (their first), every problem listed, in order."""
        counts = Counter(self.rejects["reason"])
        return {p: int(counts.get(str(p), 0)) for p in PROBLEMS}


class _Findings:
    """The problems found per row, and a detail for each row's first."""

    def __init__(self, n: int) -> None:
        self.has = {p: np.zeros(n, dtype=bool) for p in PROBLEMS}
        self.detail: dict[tuple[Problem, int], str] = {}

    def add(self, problem: Problem, rows: object, detail: str | Callable[[int], str]) -> None:
        """``problem`` in the rows flagged by ``rows``; ``detail`` says what, for row ``i``
        (asked only of the rows flagged)."""
        flagged = np.asarray(rows, dtype=bool)
        self.has[problem] |= flagged
        for i in np.flatnonzero(flagged).tolist():
            if (problem, i) not in self.detail:
                self.detail[problem, i] = detail if isinstance(detail, str) else detail(i)


def check_log(raw: pd.DataFrame, mapping: Mapping, region: RegionIndex) -> CheckedLog:
    """Every row of ``raw`` (the file's text, one column per source column, ``NA`` for an empty
    cell) accepted or rejected; raises ``LogRefused`` for a file that is not read at all."""
    _refuse_personal_data(raw, mapping)
    missing = [
        f"{mapping.column(f.name)!r} ({f.name})"
        for f in FIELDS
        if f.name in mapping.columns and mapping.column(f.name) not in raw.columns
    ]
    if missing:
        raise LogRefused(
            f"no column {', '.join(missing)} as the mapping {mapping.name!r} says; the file "
            f"has {', '.join(map(repr, raw.columns[:12]))}{' …' if len(raw.columns) > 12 else ''}"
        )
    n = len(raw)
    found = _Findings(n)
    text = {f.name: _text(raw, mapping.column(f.name)) for f in FIELDS}
    out: dict[str, object] = {"row": np.arange(1, n + 1)}

    _duplicates(raw, mapping, text, found)
    times = {name: _times(text[name], name, mapping, found) for name in TIMES + AFTER_THE_CALL}
    found.add(Problem.MISSING_CALL_TIME, text["call_time"].isna().to_numpy(), "no call_time")
    _order(times, found)
    out.update(times)
    numbers = {
        f.name: _number(text[f.name], f.name, mapping, found)
        for f in FIELDS
        if f.type in (FieldType.NUMBER, FieldType.COUNT)
    }
    out.update(numbers)
    for f in FIELDS:
        if f.type is FieldType.CODE and f.name not in ("zone_code", "grunnkrets", "destination"):
            out[f.name] = _code(text[f.name], f.name, f.codes, mapping, found)
        elif f.type is FieldType.FLAG:
            out[f.name] = _flag(text[f.name], f.name, mapping, found)
        elif f.type is FieldType.TEXT:
            out[f.name] = text[f.name].astype("str")
    out["destination"] = _code(
        text["destination"], "destination", tuple(sorted(region.facilities)), mapping, found
    )
    zone, zone_from = _place(text, numbers, mapping, region, found)
    out["zone_code"], out["zone_from"] = zone, zone_from
    out["grunnkrets"] = text["grunnkrets"].astype("str")

    rejected = np.zeros(n, dtype=bool)
    for p in PROBLEMS:
        rejected |= found.has[p]
    calls = pd.DataFrame(out)
    order = ["row", *[f.name for f in FIELDS], "zone_from"]
    calls = calls.loc[~rejected, order].reset_index(drop=True)
    return CheckedLog(calls, _rejects(raw, rejected, found), n)


# --- what is never read -----------------------------------------------------------------------
def _refuse_personal_data(raw: pd.DataFrame, mapping: Mapping) -> None:
    for column in raw.columns:
        values = raw[column].dropna().astype(str).str.replace(r"\s", "", regex=True)
        if len(values) and fnr_share(values.to_numpy()) >= FNR_SHARE:
            raise LogRefused(
                f"column {column!r} looks like national identity numbers (fødselsnummer): "
                "remove it before the log comes here, or replace it by a salted hash as "
                "person_key (docs/call-log.md); nothing was read or written"
            )
    key = mapping.column("person_key")
    if key in raw.columns:
        values = raw[key].dropna().astype(str)
        spaced = values.str.contains(r"\s", regex=True)
        named = spaced & values.str.contains(r"[^\W\d_]", regex=True)  # a letter too
        if named.any():
            row = int(np.flatnonzero(named.reindex(raw.index, fill_value=False))[0]) + 1
            raise LogRefused(
                f"column {key!r} (person_key) holds words with spaces, as a name has (row "
                f"{row}): a person key must be pseudonymous, such as a salted hash; nothing "
                "was read or written"
            )


def fnr_share(values: np.ndarray) -> float:
    """The share of ``values`` (text) that are 11 digits whose two check digits are right, as
    a Norwegian national identity number's (or a D-number's) are."""
    digits = np.array([v for v in values if len(v) == 11 and v.isdigit()], dtype="U11")
    if not len(values) or not len(digits):
        return 0.0
    d = digits.view("U1").reshape(-1, 11).astype(int)
    k1 = (11 - (d[:, :9] @ _FNR_WEIGHTS[0]) % 11) % 11
    k2 = (11 - (d[:, :10] @ _FNR_WEIGHTS[1]) % 11) % 11
    valid = (k1 == d[:, 9]) & (k2 == d[:, 10])
    return float(valid.sum() / len(values))


# --- the fields -------------------------------------------------------------------------------
def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    if column not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    s = raw[column].astype("str").str.strip()
    return s.mask(s == "")


def _duplicates(
    raw: pd.DataFrame, mapping: Mapping, text: dict[str, pd.Series], found: _Findings
) -> None:
    ids = text["call_id"]
    if "call_id" in mapping.columns or "call_id" in raw.columns:
        key = ids.where(ids.notna(), pd.Series(np.arange(len(ids)).astype(str)).radd("\0"))
        what = "the same call_id as row"
    else:
        key = raw.astype("str").fillna("\0").agg("\x1f".join, axis=1)
        what = "the same as row"
    first = pd.Series(np.arange(1, len(key) + 1)).groupby(key.to_numpy()).transform("min")
    dup = key.duplicated(keep="first").to_numpy()
    found.add(Problem.DUPLICATE, dup, lambda i: f"{what} {first.iloc[i]}")


def _times(values: pd.Series, name: str, mapping: Mapping, found: _Findings) -> pd.Series:
    given = values.notna().to_numpy()
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {TIMEZONE}]")
    aware = values.str.contains(_OFFSET, na=False).to_numpy()
    fmt = mapping.time_format or "ISO8601"
    if aware.any():
        t = pd.to_datetime(values[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = t.dt.tz_convert(TIMEZONE)
    naive = given & ~aware
    if naive.any():
        t = pd.to_datetime(values[naive], format=fmt, errors="coerce")
        if getattr(t.dt, "tz", None) is not None:  # a format with %z
            local = t.dt.tz_convert(TIMEZONE)
        else:
            first = np.full(len(t), mapping.ambiguous != "second")
            local = t.dt.tz_localize(TIMEZONE, ambiguous=first, nonexistent="NaT")
            if mapping.ambiguous == "reject":
                other = t.dt.tz_localize(TIMEZONE, ambiguous=~first, nonexistent="NaT")
                twice = (local != other) & local.notna()
                rows = np.zeros(len(values), dtype=bool)
                rows[np.flatnonzero(naive)[twice.to_numpy()]] = True
                found.add(
                    Problem.AMBIGUOUS_TIME,
                    rows,
                    lambda i: (
                        f"{name} {values.iloc[i]!r} is in the hour the clocks pass twice "
                        "(set times.ambiguous to first or second)"
                    ),
                )
                local = local.mask(twice)
            skipped = t.notna() & local.isna()
            skipped &= ~pd.Series(found.has[Problem.AMBIGUOUS_TIME][naive], index=t.index)
            rows = np.zeros(len(values), dtype=bool)
            rows[np.flatnonzero(naive)[skipped.to_numpy()]] = True
            found.add(
                Problem.BAD_TIME,
                rows,
                lambda i: f"{name} {values.iloc[i]!r} is in the hour the clocks skip in {TIMEZONE}",
            )
        out[naive] = local
    bad = given & out.isna().to_numpy() & ~found.has[Problem.AMBIGUOUS_TIME]
    shown = mapping.time_format or "ISO 8601"
    found.add(Problem.BAD_TIME, bad, lambda i: f"{name} {values.iloc[i]!r} is not a time ({shown})")
    return out


def _order(times: dict[str, pd.Series], found: _Findings) -> None:
    for a_i, a in enumerate(TIMES):
        for b in TIMES[a_i + 1 :]:
            x, y = times[a], times[b]
            found.add(Problem.TIMES_OUT_OF_ORDER, (y < x).to_numpy(), _before(a, x, b, y))
    x = times["call_time"]
    for b in AFTER_THE_CALL:
        y = times[b]
        found.add(Problem.TIMES_OUT_OF_ORDER, (y < x).to_numpy(), _before("call_time", x, b, y))


def _before(a: str, x: pd.Series, b: str, y: pd.Series) -> Callable[[int], str]:
    def detail(i: int) -> str:
        return f"{b} {y.iloc[i]:%Y-%m-%d %H:%M} is before {a} {x.iloc[i]:%Y-%m-%d %H:%M}"

    return detail


_RANGE = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}


def _number(values: pd.Series, name: str, mapping: Mapping, found: _Findings) -> pd.Series:
    text = values.str.replace(",", ".", regex=False) if mapping.decimal == "," else values
    x = pd.to_numeric(text, errors="coerce").astype(float)
    low, high = _RANGE.get(name, (0.0, np.inf))
    whole = FIELD[name].type is FieldType.COUNT
    bad = values.notna() & ~(x.between(low, high) & np.isfinite(x))
    if whole:
        bad |= values.notna() & (x % 1 != 0)
    unit = " (a whole number, 0 or more)" if whole else f" ({low:g} to {high:g})"
    found.add(
        Problem.BAD_NUMBER,
        bad.to_numpy(),
        lambda i: f"{name} {values.iloc[i]!r} is not a number in range{unit}",
    )
    return x.astype("Int64") if whole and not bad.any() else x


def _code(
    values: pd.Series, name: str, codes: Sequence[str], mapping: Mapping, found: _Findings
) -> pd.Series:
    ours = values.map(lambda v: mapping.translate(name, v), na_action="ignore")
    bad = (values.notna() & ~ours.isin(codes)).to_numpy()
    found.add(
        Problem.UNKNOWN_CODE,
        bad,
        lambda i: (
            f"{name} {values.iloc[i]!r} is not one of the schema's codes, nor translated "
            "to one by the mapping"
        ),
    )
    return ours.astype("str")


def _flag(values: pd.Series, name: str, mapping: Mapping, found: _Findings) -> pd.Series:
    word = values.map(lambda v: mapping.translate(name, v).lower(), na_action="ignore")
    flag = word.map(FLAG_WORDS.get, na_action="ignore")
    bad = (values.notna() & flag.isna()).to_numpy()
    found.add(
        Problem.UNKNOWN_CODE,
        bad,
        lambda i: (
            f"{name} {values.iloc[i]!r} is not true or false, nor translated to one by the mapping"
        ),
    )
    return flag.astype("boolean")


def _place(
    text: dict[str, pd.Series],
    numbers: dict[str, pd.Series],
    mapping: Mapping,
    region: RegionIndex,
    found: _Findings,
) -> tuple[pd.Series, pd.Series]:
    """Each row's zone, from its zone_code, else its grunnkrets, else its point."""
    n = len(text["call_time"])
    zone = pd.Series(pd.NA, index=range(n), dtype=object)
    source = pd.Series(pd.NA, index=range(n), dtype=object)
    codes = set(region.zone_codes)

    given = text["zone_code"].map(lambda v: mapping.translate("zone_code", v), na_action="ignore")
    has = given.notna()
    known = given.isin(codes)
    zone[has & known], source[has & known] = given[has & known], "zone_code"
    found.add(
        Problem.UNKNOWN_ZONE,
        (has & ~known).to_numpy(),
        lambda i: (
            f"zone_code {given.iloc[i]!r} is not a zone of the region" + _hint(given.iloc[i], codes)
        ),
    )

    gk = text["grunnkrets"]
    use = gk.notna() & ~has
    kommune = gk.str[:4]
    well = gk.str.fullmatch(r"\d{8}", na=False)
    table = mapping.grunnkrets_zones
    listed = gk.map(lambda v: table.get(v), na_action="ignore")
    by_table = use & listed.notna() & listed.isin(codes)
    zone[by_table], source[by_table] = listed[by_table], "grunnkrets"
    placed = by_table | (use & listed.isna() & well & kommune.isin(region.single_zone_kommuner))
    by_kommune = placed & ~by_table
    zone[by_kommune], source[by_kommune] = kommune[by_kommune], "grunnkrets"

    def why(i: int) -> str:
        v = str(gk.iloc[i])
        if pd.notna(listed.iloc[i]):
            return (
                f"grunnkrets {v} is in zone {listed.iloc[i]} by the mapping's grunnkrets table, "
                "which is not a zone of the region"
            )
        if not re.fullmatch(r"\d{8}", v):
            return f"grunnkrets {v!r} is not 8 digits"
        if v[:4] in region.split_kommuner:
            return (
                f"grunnkrets {v!r} is in kommune {v[:4]}, which is several zones: give its "
                "zone_code, lat and lon, or a table of grunnkrets in the mapping "
                "(places.grunnkrets_table)"
            )
        return f"grunnkrets {v!r} is in kommune {v[:4]}, not in the region"

    found.add(Problem.UNKNOWN_ZONE, (use & ~placed).to_numpy(), why)

    lat, lon = numbers["lat"], numbers["lon"]
    point = ~has & ~use & lat.notna() & lon.notna()
    at = region.zone_at(lon[point].to_numpy(), lat[point].to_numpy())
    inside = pd.Series(at, index=lat.index[point]).notna()
    zone[inside[inside].index] = at[inside.to_numpy()]
    source[inside[inside].index] = "point"
    outside = np.zeros(n, dtype=bool)
    outside[inside[~inside].index] = True
    found.add(
        Problem.OUTSIDE_REGION,
        outside,
        lambda i: (
            f"the point {lat.iloc[i]:.5f}, {lon.iloc[i]:.5f} is in none of the region's zones"
        ),
    )
    half = ~has & ~use & (lat.notna() ^ lon.notna()) & ~found.has[Problem.BAD_NUMBER]
    none = ~has & ~use & ~(lat.notna() | lon.notna()) & ~found.has[Problem.BAD_NUMBER]
    found.add(Problem.NO_LOCATION, half.to_numpy(), "a latitude or a longitude, not both")
    found.add(Problem.NO_LOCATION, none.to_numpy(), "no zone_code, grunnkrets, or lat and lon")
    return zone.astype("str"), source.astype("str")


def _hint(code: object, codes: set[str]) -> str:
    """A note for a code that lost its leading zero (as a spreadsheet drops it)."""
    padded = "0" + str(code)
    return f" (a leading zero lost? {padded} is one)" if padded in codes else ""


def _rejects(raw: pd.DataFrame, rejected: np.ndarray, found: _Findings) -> pd.DataFrame:
    rows = np.flatnonzero(rejected)
    reasons, first, detail = [], [], []
    for i in rows:
        mine = [p for p in PROBLEMS if found.has[p][i]]
        reasons.append(";".join(mine))
        first.append(str(mine[0]))
        detail.append(found.detail.get((mine[0], int(i)), ""))
    head = pd.DataFrame({"row": rows + 1, "reason": first, "reasons": reasons, "detail": detail})
    body = raw.iloc[rows].reset_index(drop=True)
    body.columns = [c if c not in head.columns else f"{c} (in the file)" for c in body.columns]
    return pd.concat([head, body], axis=1)


REJECTS_HEADER = "row,reason,reasons,detail"
"""How a rejects file begins: the file is ours (and may be replaced) when its first line does."""
