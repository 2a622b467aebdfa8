"""A call log made by the model: a simulation's event log written as a trust's log would be, in
the schema or in a source's own columns and codes (its mapping read backwards), with dirt on
request — so the way in (check, and the fitting after it) can be tested on a log whose truth
is known, here, without anyone's real data.

Pure: an event log and the region's places in, the log's text out (with, for each row, the
problem its dirt should be found as).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.calllog.mapping import Mapping
from planner.calllog.schema import FIELDS, TIMEZONE, FieldType, Problem

if TYPE_CHECKING:
    from planner.scenario.model import Scenario

BERGEN = (60.3913, 5.3221)
"""Where an out-of-region row of dirt is put (lat, lon): Bergen's centre, in no zone of Oslo
and Akershus."""


@dataclass(frozen=True)
class Dirt:
    """Shares of a log's rows made dirty, each kind in rows of its own. Only ``missing_times``
    leaves rows a check accepts (an optional time left empty); each other kind is a problem."""

    duplicates: float = 0.0  # the row again, just after it
    missing_times: float = 0.0  # on scene, scene end and handover times left empty
    missing_call_time: float = 0.0
    outside_region: float = 0.0  # no zone, a point in Bergen
    unknown_codes: float = 0.0  # a kind the mapping does not know
    out_of_order: float = 0.0  # on scene 5 minutes before dispatch

    @classmethod
    def evenly(cls, share: float) -> Dirt:
        """``share`` of the rows dirty, split evenly among the kinds."""
        each = share / 6
        return cls(each, each, each, each, each, each)


_FOUND_AS: dict[str, Problem | None] = {
    "duplicates": Problem.DUPLICATE,
    "missing_times": None,
    "missing_call_time": Problem.MISSING_CALL_TIME,
    "outside_region": Problem.OUTSIDE_REGION,
    "unknown_codes": Problem.UNKNOWN_CODE,
    "out_of_order": Problem.TIMES_OUT_OF_ORDER,
}
UNKNOWN_KIND = "UKJENT-99"
"""The kind written by ``unknown_codes`` dirt: no schema's code, nor in a mapping's."""


@dataclass(frozen=True)
class SynthLog:
    """The log's text (``text``, the source's columns) and, for each of its rows, the dirt made
    in it (``dirt``: '' for none) and the problem a check should find (``expected``: '' for
    an accepted row)."""

    text: pd.DataFrame
    dirt: pd.Series
    expected: pd.Series


@dataclass(frozen=True)
class ScenarioFacts:
    """What writing a scenario's calls as a log needs besides its event log: each demand
    cell's centre (lon, lat), each zone's receiving facility, each kind's urgency, and how many
    officers a patrol has."""

    cell_lonlat: np.ndarray
    zone_facility: dict[str, str]
    urgency: dict[str, str]
    officers_per_patrol: int

    @classmethod
    def of(cls, scenario: Scenario) -> ScenarioFacts:
        region = scenario.geodata
        zones = region.zones
        return cls(
            region.cells[["lon", "lat"]].to_numpy(float),
            dict(zip(zones["zone_code"].astype(str), zones["facility"].astype(str), strict=True)),
            {k: v.urgency for k, v in scenario.situations.items()},
            scenario.police.officers_per_patrol,
        )


def synth_log(
    log: pd.DataFrame,
    facts: ScenarioFacts,
    start: pd.Timestamp,
    rng: np.random.Generator,
    dirt: Dirt | None = None,
    mapping: Mapping | None = None,
) -> SynthLog:
    """The log of one replication's calls (``log``: ``simulate``'s event log) as a source
    writes it (``mapping``), with ``dirt``; the calls as ``calls_of`` says."""
    frame = calls_of(log, facts, start)
    frame, made = _dirty(frame, dirt or Dirt(), rng)
    expected = made.map(lambda k: str(_FOUND_AS[k] or "") if k else "")
    return SynthLog(_as_source(frame, mapping or Mapping.identity()), made, expected)


def calls_of(log: pd.DataFrame, facts: ScenarioFacts, start: pd.Timestamp) -> pd.DataFrame:
    """The calls of an event log in the schema's fields and types, the run's minute 0 at
    ``start`` (a Monday 00:00, local time; a minute of the run is one of the local clock);
    each call placed at its demand cell's centre (``cell_lonlat[cell]``) and by its zone,
    transported patients to its zone's facility."""
    when = start.tz_localize(None) if start.tzinfo is not None else start

    def at(minutes: pd.Series) -> pd.Series:
        # the model's minutes are the local clock's (its hour of the week is the clock's): a
        # minute the clocks skip in March is the first after the gap, and one they pass twice
        # in October the first of the two (summer time), so the times of a call stay in order
        clock = when + pd.to_timedelta(minutes.to_numpy(float), unit="min")
        clock = pd.Series(clock, index=minutes.index).dt.round("s")
        return clock.dt.tz_localize(
            TIMEZONE, ambiguous=np.ones(len(clock), dtype=bool), nonexistent="shift_forward"
        )

    unit = log["unit"].to_numpy()
    mode = log["transport_mode"].astype(str)
    transported = (mode != "none").to_numpy()
    handed = mode.isin(["psych_ambulance", "police_car"]).to_numpy()
    police = log["police_involved"].to_numpy(bool)
    responder = np.where(unit >= 0, "psych_unit", "police")  # police alone met it first
    lonlat = facts.cell_lonlat[log["cell"].to_numpy()]
    zone = log["zone"].astype(str)
    values: dict[str, pd.Series] = {
        "call_id": pd.Series([f"S{i:07d}" for i in range(len(log))]),
        "call_time": at(log["t_arrival"]),
        "lat": pd.Series(np.round(lonlat[:, 1], 5)),
        "lon": pd.Series(np.round(lonlat[:, 0], 5)),
        "zone_code": zone.reset_index(drop=True),
        "grunnkrets": pd.Series(pd.NA, index=range(len(log)), dtype=object),
        "channel": log["channel"].astype(str).reset_index(drop=True),
        "kind": log["kind"].astype(str).reset_index(drop=True),
        "urgency": log["kind"].astype(str).map(facts.urgency).reset_index(drop=True),
        # the first responder sent: police alerted at triage may be sent before the unit
        "t_dispatch": at(np.fmin(log["t_dispatch"], log["t_police_alerted"])),
        "t_police_alerted": at(log["t_police_alerted"].where(log["police_involved"])),
        "t_on_scene": at(log["t_first_on_scene"]),
        "t_scene_end": at(log["t_scene_end"]),
        "t_handover_end": at(log["t_handover_end"].where(handed)),
        "responder": pd.Series(responder),
        "transport_mode": mode.reset_index(drop=True),
        "destination": pd.Series(np.where(transported, zone.map(facts.zone_facility), None)),
        "police_involved": pd.Series(police),
        "police_officers": pd.Series(np.where(police, facts.officers_per_patrol, 0)),
        "police_minutes": pd.Series(np.round(log["patrol_minutes"].to_numpy(float), 1)),
        "person_key": _person_keys(log),
    }
    return pd.DataFrame({k: v.reset_index(drop=True) for k, v in values.items()})


def _person_keys(log: pd.DataFrame) -> pd.Series:
    """A pseudonymous key for each call's caller, as a trust would give (a hash): one per person
    of the cohort of frequent callers, and one of its own for every other call."""
    if "caller" not in log:
        return pd.Series(pd.NA, index=range(len(log)), dtype=object)
    who = np.where(
        log["caller"].to_numpy() >= 0,
        "frequent:" + log["caller"].astype(str).to_numpy(),
        "once:" + log["call"].astype(str).to_numpy(),
    )
    rep = log["replication"].astype(str).to_numpy()
    keys = [
        hashlib.sha256(f"{r}:{w}".encode()).hexdigest()[:16] for r, w in zip(rep, who, strict=True)
    ]
    return pd.Series(keys, dtype=object)


def _dirty(
    frame: pd.DataFrame, dirt: Dirt, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    """The frame with dirt in disjoint rows (duplicates inserted after their row), and the
    dirt of each row."""
    n = len(frame)
    kinds = list(_FOUND_AS)
    counts = [round(getattr(dirt, k) * n) for k in kinds]
    if sum(counts) > n:
        raise ValueError(f"dirt: shares add up to more than every row ({sum(counts)} of {n})")
    rows = rng.permutation(n)
    made = np.full(n, "", dtype=object)
    at = 0
    for kind, count in zip(kinds, counts, strict=True):
        made[rows[at : at + count]] = kind
        at += count
    frame = frame.copy()
    frame = frame.astype({c: object for c in ("t_on_scene", "t_scene_end", "t_handover_end")})
    for kind in kinds:
        r = np.flatnonzero(made == kind)
        if kind == "missing_times":
            frame.loc[r, ["t_on_scene", "t_scene_end", "t_handover_end"]] = pd.NaT
        elif kind == "missing_call_time":
            frame["call_time"] = frame["call_time"].astype(object)
            frame.loc[r, "call_time"] = pd.NaT
        elif kind == "outside_region":
            frame.loc[r, "zone_code"] = None
            frame.loc[r, ["lat", "lon"]] = BERGEN
        elif kind == "unknown_codes":
            frame.loc[r, "kind"] = UNKNOWN_KIND
        elif kind == "out_of_order":
            five = pd.Timedelta(minutes=5)
            frame.loc[r, "t_on_scene"] = [t - five for t in frame.loc[r, "t_dispatch"]]
    twice = np.flatnonzero(made == "duplicates")
    order = np.sort(np.concatenate([np.arange(n), twice]), kind="stable")
    out = frame.iloc[order].reset_index(drop=True)
    labels = pd.Series(made[order], dtype=object)
    # the first of a pair is the call itself; only the copy after it is the dirt
    first = pd.Series(order).duplicated(keep="first")
    labels[(labels == "duplicates") & ~first] = ""
    return out, labels


def _as_source(frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """The schema's values as the source writes them: its column names, its codes (the first
    of the mapping's that translates to ours), its time format and decimal mark."""
    out = {}
    for f in FIELDS:
        s = frame[f.name]
        back: dict[str, str] = {}
        for theirs, ours in mapping.codes.get(f.name, {}).items():
            back.setdefault(ours, theirs)
        if f.type is FieldType.TIME:
            t = pd.to_datetime(s, utc=True).dt.tz_convert(TIMEZONE)
            fmt = mapping.time_format
            text = t.dt.strftime(fmt) if fmt else t.map(_iso, na_action="ignore")
        elif f.type is FieldType.FLAG:
            text = s.map(
                lambda v, b=back: b.get(str(v).lower(), str(v).lower()), na_action="ignore"
            )
        elif f.type in (FieldType.NUMBER, FieldType.COUNT):
            text = s.map(_number, na_action="ignore")
            if mapping.decimal == ",":
                text = text.str.replace(".", ",", regex=False)
        else:
            text = s.map(lambda v, b=back: b.get(str(v), str(v)), na_action="ignore")
        out[mapping.column(f.name)] = text.astype(object).where(s.notna(), None)
    return pd.DataFrame(out)


def _iso(t: pd.Timestamp) -> str:
    return str(t.isoformat())


def _number(v: object) -> str:
    return f"{v:.10g}" if isinstance(v, float) else str(v)
