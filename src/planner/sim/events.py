"""The event log's vocabulary: who met a call, why it went to police, how the patient travelled.

The engine writes these as small integers (their position in the enum) and the log frame reads
them back as names, so a stored log, a KPI and a chart all use the same words.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a call was met as it was; ``UNIT`` (the empty string) when a unit took it."""

    UNIT = ""
    BASELINE = "baseline"  # today's service: police take every crisis call
    NOT_ELIGIBLE = "not_eligible"  # a kind the health-first policy leaves to police
    NO_UNIT_ON_DUTY = "no_unit_on_duty"
    OUT_OF_REACH = "out_of_reach"  # no unit on duty could arrive within max_response_minutes
    WAITED_TOO_LONG = "waited_too_long"  # every unit in reach was busy past max_wait_minutes


class TransportMode(StrEnum):
    """How a transported patient reached the receiving facility."""

    NONE = "none"
    PSYCH_AMBULANCE = "psych_ambulance"
    AMBULANCE = "ambulance"
    POLICE_CAR = "police_car"
    CO_RESPONSE_CAR = "co_response_car"  # the nurse and officer of a co-response unit drive


REASONS: tuple[Reason, ...] = tuple(Reason)
TRANSPORT_MODES: tuple[TransportMode, ...] = tuple(TransportMode)
FALLBACK_REASONS: tuple[Reason, ...] = (
    Reason.NO_UNIT_ON_DUTY,
    Reason.OUT_OF_REACH,
    Reason.WAITED_TOO_LONG,
)
"""Why an eligible call went to police instead of a unit."""


REASON_CODE: dict[Reason, int] = {r: i for i, r in enumerate(Reason)}
MODE_CODE: dict[TransportMode, int] = {m: i for i, m in enumerate(TransportMode)}
"""The small integers the engine writes for each name."""
