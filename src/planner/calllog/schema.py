"""The call-log schema, version 1: one row per call, the fields a trust's log may give, and the
named reasons a row is rejected for.

Written out for people in docs/call-log.md; this module is its one definition (a test checks
the two agree). A source's own columns and codes are mapped to these by a mapping file
(``calllog.mapping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SCHEMA_VERSION = 1

TIMEZONE = "Europe/Oslo"
"""The time zone of a log's local times (a time with an offset, ``+01:00``, is taken as given)."""

KINDS = (
    "suicidal",
    "psychosis",
    "intoxication",
    "welfare_check",
    "compulsory_assistance",
    "violence",
    "planned_transport",
)
"""The seven kinds of situation of MODEL.md, as the model names them (``[situations]``)."""
CHANNELS = ("police_112", "amk_113", "health_service")
"""Where the call came in: police 112, the medical emergency centre 113 (AMK), or a request from
the legevakt or a specialist service."""
URGENCIES = ("acute", "urgent", "planned")
RESPONDERS = ("police", "ambulance", "psych_unit")
"""Who met the call first: police, an ordinary ambulance, or a psychiatric unit."""
TRANSPORT_MODES = ("none", "psych_ambulance", "ambulance", "police_car")
"""How the patient reached a receiving facility (``none``: not transported); the event log's
words (``sim.events.TransportMode``)."""


class FieldType(StrEnum):
    TIME = "time"  # a local date and time (ISO 8601 unless the mapping gives a format)
    NUMBER = "number"  # a finite number (a decimal comma if the mapping says so)
    COUNT = "count"  # a whole number, 0 or more
    CODE = "code"  # one of a fixed set of words, after the mapping's translation
    FLAG = "flag"  # true or false, after the mapping's translation
    TEXT = "text"  # kept as given


@dataclass(frozen=True)
class Field:
    """One field of the schema: its name, type, unit and meaning; ``codes`` the words a code may
    be (empty for a code the region defines: a zone, a facility)."""

    name: str
    type: FieldType
    meaning: str
    unit: str = ""
    codes: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("call_id", FieldType.TEXT, "the source's own id of the call (finds duplicates)"),
    Field("call_time", FieldType.TIME, "when the call was received; required", "local time"),
    Field("lat", FieldType.NUMBER, "where the patient was: latitude", "degrees, WGS 84"),
    Field("lon", FieldType.NUMBER, "where the patient was: longitude", "degrees, WGS 84"),
    Field("zone_code", FieldType.CODE, "the bydel (6 digits) or kommune (4 digits) of the call"),
    Field("grunnkrets", FieldType.CODE, "the basic statistical unit (8 digits) of the call"),
    Field("channel", FieldType.CODE, "where the call came in", codes=CHANNELS),
    Field("kind", FieldType.CODE, "the kind of situation", codes=KINDS),
    Field("urgency", FieldType.CODE, "the urgency given at triage", codes=URGENCIES),
    Field("t_dispatch", FieldType.TIME, "the first responder was sent", "local time"),
    Field(
        "t_police_alerted",
        FieldType.TIME,
        "police were alerted (at triage, or called to the scene)",
        "local time",
    ),
    Field("t_on_scene", FieldType.TIME, "the first responder was on scene", "local time"),
    Field("t_scene_end", FieldType.TIME, "the work on scene ended", "local time"),
    Field("t_handover_end", FieldType.TIME, "the patient was handed over", "local time"),
    Field("responder", FieldType.CODE, "who met the call first", codes=RESPONDERS),
    Field("transport_mode", FieldType.CODE, "how the patient travelled", codes=TRANSPORT_MODES),
    Field("destination", FieldType.CODE, "the receiving facility (the region's facility id)"),
    Field("police_involved", FieldType.FLAG, "police took part in the call"),
    Field("police_officers", FieldType.COUNT, "officers who took part", "officers"),
    Field("police_minutes", FieldType.NUMBER, "minutes police spent on the call", "min"),
    Field("person_key", FieldType.TEXT, "a pseudonymous key of the patient (a salted hash)"),
)
FIELD = {f.name: f for f in FIELDS}

TIMES = ("call_time", "t_dispatch", "t_on_scene", "t_scene_end", "t_handover_end")
"""The times of a call, in the order they must come (a later one never before an earlier)."""
AFTER_THE_CALL = ("t_police_alerted",)
"""Times that come after ``call_time`` but in no order with the others (police are alerted at
triage, before the first responder is sent, or from the scene, after it)."""


class Problem(StrEnum):
    """Why a row of a log is rejected: each a name of its own, in the order they are looked for
    (a row is reported under the first it has, with all of them listed)."""

    DUPLICATE = "duplicate"  # the same call id as an earlier row, or the same row again
    MISSING_CALL_TIME = "missing_call_time"
    BAD_TIME = "bad_time"  # not a time, or a local time the clocks skipped (spring forward)
    AMBIGUOUS_TIME = "ambiguous_time"  # a local time the clocks passed twice (autumn back)
    TIMES_OUT_OF_ORDER = "times_out_of_order"
    BAD_NUMBER = "bad_number"  # not a number, out of range, or a count that is not whole
    NO_LOCATION = "no_location"  # none of zone_code, grunnkrets, or lat and lon
    UNKNOWN_ZONE = "unknown_zone"  # a zone or grunnkrets code the region does not have
    OUTSIDE_REGION = "outside_region"  # a point in none of the region's zones
    UNKNOWN_CODE = "unknown_code"  # a code the mapping does not translate to the schema's


PROBLEMS: tuple[Problem, ...] = tuple(Problem)
