"""Every path through the engine, checked against a timeline worked out by hand.

Method. The region is abstract: every drive (base to scene, scene to facility, facility to base,
scene to base) takes ``T`` minutes, and a patrol drives to the scene in ``T * POLICE_FACTOR``.
Every duration is a fixed distribution with its own value (handling 3, pass-on 7, unit
mobilisation 2, police mobilisation 5, on scene 41, police alone 53, handovers 17 and 29,
backup check 11), so a parameter used in the wrong place, or dropped, changes the answer. Police
never wait for a free patrol (``other_work_utilisation = 0``). Branches are forced with
probabilities of 0 or 1, one situation kind takes every call, and the channel is chosen.

Arrival times are the only random input: each test reads ``t_arrival`` from the log and works
out every other time from it with the arithmetic written in the test, never by calling the code
under test. A test keeps only the calls it needs (``_log(..., keep=...)`` filters the generated
call stream before the engine sees it), so a call meets an idle fleet unless the test says
otherwise.

Every test runs twice (``police_model``): with police as the M/M/c formula and as simulated
patrols (``police.model = "patrols"``) with no other work, where a patrol is always free; the
timelines are the same.

Two timelines written here first disagreed with the engine and the engine was fixed: police
sent along at triage but not needed left before the crew arrived, and a 112 call with no unit
on duty paid the pass-on to health before police were sent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import simpy

from planner import scenario_from_dict
from planner.scenario.parameters import default_values
from planner.sim import run as simulation
from planner.sim.demand import CallStream
from planner.sim.run import run_replication

NAN = math.nan
T = 24.0  # every drive, minutes
POLICE_FACTOR = 0.5  # a patrol drives to the scene in T * POLICE_FACTOR
BACK = T  # and back to its station, from the scene or the facility, in T (normal driving)
HANDLING = 3.0
PASS_ON = 7.0
UNIT_MOB = 2.0
POLICE_MOB = 5.0
ON_SCENE = 41.0
POLICE_ALONE = 53.0
HANDOVER_AMBULANCE = 17.0
HANDOVER_POLICE = 29.0
BACKUP_CHECK = 11.0
OFFICERS = 3
KIND = "suicidal"
KINDS = tuple(default_values()["situations"])


def fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def channel(name: str) -> dict[str, float]:
    return {c: float(c == name) for c in ("police_112", "amk_113", "health_service")}


def situation(**fields: Any) -> dict[str, Any]:
    """Every call is of kind KIND, with these fields over the test's defaults."""
    own = {
        "share": 1.0,
        "urgency": "acute",
        "health_first_eligible": True,
        "on_scene": fixed(ON_SCENE),
        "police_alone": fixed(POLICE_ALONE),
        "p_transport": 0.0,
        "p_police_needed": 0.0,
        **fields,
    }
    return {k: {"share": 0.0} for k in KINDS} | {KIND: own}


POLICE_MODEL = "erlang"
"""The police model every test runs under: ``police_model`` runs each under both."""


@pytest.fixture(autouse=True, params=["erlang", "patrols"])
def police_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every timeline holds with police as an M/M/c formula and as simulated patrols: with no
    other police work (``other_work_utilisation = 0``) a patrol is always free in both."""
    monkeypatch.setitem(globals(), "POLICE_MODEL", request.param)
    return str(request.param)


def base_scenario() -> dict[str, Any]:
    return {
        "region": {"kind": "abstract", "population": 500_000, "travel_minutes": T},
        "demand": {"hour_of_week_profile": "flat"},
        "situations": situation(),
        "triage": {"screening_sensitivity": 1.0, "screening_false_positive": 0.0},
        "call_handling": {
            "channel_shares": channel("amk_113"),
            "handling": fixed(HANDLING),
            "pass_on": fixed(PASS_ON),
            "pass_on_by_hour": [1.0] * 24,
            "joint_notification": False,
        },
        "fleet": {
            "units": [{"name": "A", "base": "base", "shift": "always"}],
            "mobilisation": fixed(UNIT_MOB),
        },
        "police": {
            "officers_per_patrol": OFFICERS,
            "other_work_utilisation": 0.0,
            "mobilisation": fixed(POLICE_MOB),
            "travel_factor": POLICE_FACTOR,
            "model": POLICE_MODEL,
        },
        "facilities": {
            "handover_ambulance": fixed(HANDOVER_AMBULANCE),
            "handover_police": fixed(HANDOVER_POLICE),
        },
        "dispatch": {
            "policy": "health-first",
            "max_response_minutes": 45.0,
            "max_wait_minutes": 20.0,
            "police_transport_when_force": 0.0,
            "police_car_share_today": 1.0,
            "backup_check": fixed(BACKUP_CHECK),
            "ordinary_ambulance_share": 0.0,
        },
        "run": {"horizon_days": 2.0, "warmup_days": 0.0, "replications": 1, "seed": 7},
    }


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


Keep = Callable[[CallStream], Sequence[int]] | Sequence[int] | None


def _subset(calls: CallStream, keep: Sequence[int]) -> CallStream:
    idx = np.asarray(keep, dtype=int)
    arrays = {
        f.name: getattr(calls, f.name)[idx]
        for f in dataclasses.fields(calls)
        if isinstance(getattr(calls, f.name), np.ndarray)
    }
    return dataclasses.replace(calls, **arrays)


def _log(over: dict[str, Any], keep: Keep = (0,)) -> pd.DataFrame:
    """The event log of one replication, with only the calls ``keep`` names (None: all)."""
    scenario = scenario_from_dict(merge(base_scenario(), over))
    if keep is None:
        return run_replication(scenario, 0)[0]
    real = simulation.generate_calls

    def some_calls(s: Any, rates: Any, replication: int) -> CallStream:
        calls = real(s, rates, replication)
        return _subset(calls, keep(calls) if callable(keep) else keep)

    with mock.patch.object(simulation, "generate_calls", some_calls):
        frame = run_replication(scenario, 0)[0]
    assert callable(keep) or len(frame) == len(keep)  # the filter reached the engine
    return frame


def expected(
    *,
    dispatch: float,
    first: float,
    scene_end: float,
    unit: int = -1,
    reason: str = "",
    mode: str = "none",
    unit_on: float = NAN,
    police_on: float = NAN,
    handover_end: float = NAN,
    unit_free: float = NAN,
    unit_minutes: float = 0.0,
    patrol_minutes: float = 0.0,
    police_alerted: float = NAN,
    queue: float | None = None,
    police_involved: bool = False,
    backup: bool = False,
) -> dict[str, Any]:
    """The whole row; ``queue`` (dispatch less the time health knew) is 0 for a unit by default."""
    if queue is None:
        queue = 0.0 if unit >= 0 else NAN
    return {
        "unit": unit,
        "reason": reason,
        "transport_mode": mode,
        "t_police_alerted": police_alerted,
        "t_dispatch": dispatch,
        "queue_minutes": queue,
        "t_first_on_scene": first,
        "t_unit_on_scene": unit_on,
        "t_police_on_scene": police_on,
        "t_scene_end": scene_end,
        "t_handover_end": handover_end,
        "t_unit_free": unit_free,
        "unit_minutes": unit_minutes,
        "patrol_minutes": patrol_minutes,
        "officer_hours": patrol_minutes / 60.0 * OFFICERS,
        "police_involved": police_involved,
        "backup": backup,
    }


def check(row: pd.Series, want: dict[str, Any]) -> None:
    wrong = []
    for key, value in want.items():
        got = row[key]
        if isinstance(value, float) and math.isnan(value):
            ok = isinstance(got, float) and math.isnan(got)
        elif isinstance(value, (bool, str, int)):
            ok = got == value
        else:
            ok = got == pytest.approx(value, abs=1e-9)
        if not ok:
            wrong.append(f"{key}: got {got!r}, want {value!r}")
    assert not wrong, "\n".join(wrong)


def unit_call(*, unit: int, dispatch: float, queue: float | None = None) -> dict[str, Any]:
    """A unit dispatched at ``dispatch`` to a call with no police and no transport: on scene
    after mobilisation and the drive, back after the scene and the drive home."""
    on = dispatch + UNIT_MOB + T
    return expected(
        unit=unit,
        dispatch=dispatch,
        first=on,
        unit_on=on,
        scene_end=on + ON_SCENE,
        unit_free=_busy(dispatch),
        unit_minutes=_busy(dispatch) - dispatch,
        queue=queue,
    )


def police_alone(
    start: float,
    *,
    reason: str,
    transport: str = "none",
    assigned: float | None = None,
    handover_police: float = HANDOVER_POLICE,
) -> dict[str, Any]:
    """A patrol alerted at ``start`` and assigned at ``assigned`` (default: at once, it never
    waits for a patrol) handles the call alone, waiting ``handover_police`` at the facility."""
    assigned = start if assigned is None else assigned
    on = assigned + POLICE_MOB + T * POLICE_FACTOR
    end = on + POLICE_ALONE
    if transport == "police_car":
        handover = end + T + handover_police
        released = handover + BACK
    else:
        handover = NAN
        released = end + BACK
    return expected(
        reason=reason,
        mode=transport,
        dispatch=start,
        first=on,
        police_on=on,
        scene_end=end,
        handover_end=handover,
        patrol_minutes=released - assigned,
        police_alerted=start,
        police_involved=True,
    )


# --- 1, 2, 6: the unit alone -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "joint", "health_delay"),
    [
        ("amk_113", False, HANDLING),
        ("health_service", False, HANDLING),
        ("police_112", False, HANDLING + PASS_ON),  # police pass the call on to health
        ("police_112", True, HANDLING),  # joint notification: no pass-on
    ],
)
def test_unit_alone_without_transport(name: str, joint: bool, health_delay: float) -> None:
    over = {"call_handling": {"channel_shares": channel(name), "joint_notification": joint}}
    row = _log(over).iloc[0]
    assert row["channel"] == name
    dispatched = row["t_arrival"] + health_delay
    on = dispatched + UNIT_MOB + T
    end = on + ON_SCENE
    free = end + T
    want = expected(
        unit=0,
        dispatch=dispatched,
        first=on,
        unit_on=on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
    )
    check(row, want)


def test_unit_transports_to_the_facility_and_drives_back_from_there() -> None:
    row = _log({"situations": situation(p_transport=1.0)}).iloc[0]
    dispatched = row["t_arrival"] + HANDLING
    on = dispatched + UNIT_MOB + T
    end = on + ON_SCENE
    handover = end + T + HANDOVER_AMBULANCE
    free = handover + T
    want = expected(
        unit=0,
        mode="psych_ambulance",
        dispatch=dispatched,
        first=on,
        unit_on=on,
        scene_end=end,
        handover_end=handover,
        unit_free=free,
        unit_minutes=free - dispatched,
    )
    check(row, want)


def test_ordinary_ambulance_for_medical_need_leaves_the_unit_no_handover() -> None:
    over = {
        "situations": situation(p_transport=1.0),
        "dispatch": {"ordinary_ambulance_share": 1.0},
    }
    row = _log(over).iloc[0]
    dispatched = row["t_arrival"] + HANDLING
    on = dispatched + UNIT_MOB + T
    end = on + ON_SCENE
    free = end + T  # back to base from the scene
    want = expected(
        unit=0,
        mode="ambulance",
        dispatch=dispatched,
        first=on,
        unit_on=on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
    )
    check(row, want)


# --- 3: police flagged at triage ---------------------------------------------------------


def test_flagged_and_needed_police_come_first_and_stay_to_the_end() -> None:
    over = {
        "situations": situation(p_police_needed=1.0),
        "call_handling": {"channel_shares": channel("police_112")},
    }
    row = _log(over).iloc[0]
    a = row["t_arrival"]
    alerted = a + HANDLING  # police took the call
    police_on = alerted + POLICE_MOB + T * POLICE_FACTOR
    dispatched = a + HANDLING + PASS_ON
    unit_on = dispatched + UNIT_MOB + T
    assert police_on < unit_on
    end = max(unit_on + ON_SCENE, police_on + BACKUP_CHECK)
    free = end + T
    want = expected(
        unit=0,
        dispatch=dispatched,
        first=police_on,
        unit_on=unit_on,
        police_on=police_on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
        patrol_minutes=end + BACK - alerted,
        police_alerted=alerted,
        police_involved=True,
    )
    check(row, want)
    assert bool(row["flagged"]) and bool(row["police_needed"])


FALSE_POSITIVE = {
    "situations": situation(p_police_needed=0.0),
    "triage": {"screening_false_positive": 1.0},
}


def test_flagged_but_not_needed_police_check_and_leave_when_the_unit_is_first() -> None:
    # T = 13: the unit (3 + 2 + 13) is on scene before police (3 + 7 + 5 + 6.5)
    travel = 13.0
    row = _log(merge(FALSE_POSITIVE, {"region": {"travel_minutes": travel}})).iloc[0]
    a = row["t_arrival"]
    dispatched = a + HANDLING
    unit_on = dispatched + UNIT_MOB + travel
    alerted = a + HANDLING + PASS_ON  # AMK passes the call on to police
    police_on = alerted + POLICE_MOB + travel * POLICE_FACTOR
    assert unit_on < police_on
    end = unit_on + ON_SCENE
    free = end + travel
    want = expected(
        unit=0,
        dispatch=dispatched,
        first=unit_on,
        unit_on=unit_on,
        police_on=police_on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
        patrol_minutes=police_on + BACKUP_CHECK + travel - alerted,  # and back, in travel
        police_alerted=alerted,
        police_involved=True,
    )
    check(row, want)
    assert bool(row["flagged"]) and not bool(row["police_needed"])


def test_flagged_but_not_needed_police_first_wait_for_the_unit() -> None:
    over = merge(FALSE_POSITIVE, {"call_handling": {"channel_shares": channel("police_112")}})
    row = _log(over).iloc[0]
    a = row["t_arrival"]
    alerted = a + HANDLING
    police_on = alerted + POLICE_MOB + T * POLICE_FACTOR
    dispatched = a + HANDLING + PASS_ON
    unit_on = dispatched + UNIT_MOB + T
    assert police_on + BACKUP_CHECK < unit_on  # the engine lets police go before the unit comes
    end = unit_on + ON_SCENE
    free = end + T
    want = expected(
        unit=0,
        dispatch=dispatched,
        first=police_on,
        unit_on=unit_on,
        police_on=police_on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
        patrol_minutes=max(police_on, unit_on) + BACKUP_CHECK + BACK - alerted,
        police_alerted=alerted,
        police_involved=True,
    )
    check(row, want)


# --- 4, 5: police needed but not flagged (backup), forced transport ------------------------


@pytest.mark.parametrize(
    ("travel", "police_last"),
    [(T, False), (80.0, True)],  # 80: police on scene + check ends after the crew's 41 min
)
def test_backup_is_called_when_the_unit_finds_police_are_needed(
    travel: float, police_last: bool
) -> None:
    over = {
        "region": {"travel_minutes": travel},
        "situations": situation(p_police_needed=1.0),
        "triage": {"screening_sensitivity": 0.0},
        "dispatch": {"max_response_minutes": 200.0},
    }
    row = _log(over).iloc[0]
    dispatched = row["t_arrival"] + HANDLING
    unit_on = dispatched + UNIT_MOB + travel
    alerted = unit_on  # the crew calls police on arrival
    police_on = alerted + POLICE_MOB + travel * POLICE_FACTOR
    end = max(unit_on + ON_SCENE, police_on + BACKUP_CHECK)
    assert bool(police_on + BACKUP_CHECK > unit_on + ON_SCENE) == police_last
    free = end + travel
    want = expected(
        unit=0,
        dispatch=dispatched,
        first=unit_on,
        unit_on=unit_on,
        police_on=police_on,
        scene_end=end,
        unit_free=free,
        unit_minutes=free - dispatched,
        patrol_minutes=end + travel - alerted,  # and back to the station, in travel
        police_alerted=alerted,
        police_involved=True,
        backup=True,
    )
    check(row, want)


def test_forced_transport_goes_in_the_police_car_and_the_unit_drives_home() -> None:
    over = {
        "situations": situation(p_police_needed=1.0, p_transport=1.0),
        "dispatch": {"police_transport_when_force": 1.0},
    }
    row = _log(over).iloc[0]
    a = row["t_arrival"]
    dispatched = a + HANDLING
    unit_on = dispatched + UNIT_MOB + T
    alerted = a + HANDLING + PASS_ON  # flagged at triage, AMK passes it on
    police_on = alerted + POLICE_MOB + T * POLICE_FACTOR
    end = max(unit_on + ON_SCENE, police_on + BACKUP_CHECK)
    handover = end + T + HANDOVER_POLICE
    free = end + T  # scene to base
    want = expected(
        unit=0,
        mode="police_car",
        dispatch=dispatched,
        first=min(unit_on, police_on),
        unit_on=unit_on,
        police_on=police_on,
        scene_end=end,
        handover_end=handover,
        unit_free=free,
        unit_minutes=free - dispatched,
        patrol_minutes=handover + BACK - alerted,
        police_alerted=alerted,
        police_involved=True,
    )
    check(row, want)


# --- 7: police alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "police_delay"),
    [("police_112", HANDLING), ("amk_113", HANDLING + PASS_ON)],
)
@pytest.mark.parametrize(
    ("p_transport", "medical", "car_share", "mode"),
    [
        (0.0, 0.0, 1.0, "none"),
        (1.0, 0.0, 1.0, "police_car"),
        (1.0, 0.0, 0.0, "ambulance"),  # today some go by ordinary ambulance
        (1.0, 1.0, 1.0, "ambulance"),  # medical need
    ],
)
def test_police_alone_in_the_baseline(
    name: str,
    police_delay: float,
    p_transport: float,
    medical: float,
    car_share: float,
    mode: str,
) -> None:
    over = {
        "situations": situation(p_transport=p_transport),
        "call_handling": {"channel_shares": channel(name)},
        "dispatch": {
            "policy": "baseline",
            "ordinary_ambulance_share": medical,
            "police_car_share_today": car_share,
        },
    }
    row = _log(over).iloc[0]
    check(row, police_alone(row["t_arrival"] + police_delay, reason="baseline", transport=mode))


def test_patrol_minutes_count_from_the_patrol_assigned_not_from_the_alert(
    police_model: str,
) -> None:
    if police_model == "patrols":
        pytest.skip("the M/M/1 draw of a wait is the erlang model's (test_patrols has its own)")
    # One patrol, busy half the time with other work (M/M/1): a call waits with chance 0.5, and
    # then for an exponential time of mean other_job / (1 - 0.5) = 120 min, drawn from the
    # call's two uniforms u (a random input, read like the arrival time).
    seen: dict[str, np.ndarray] = {}

    def one_that_waits(calls: CallStream) -> list[int]:
        i = int(np.flatnonzero(calls.police_wait_u[:, 0] < 0.5)[0])
        seen["u"] = calls.police_wait_u[i]
        return [i]

    over = {
        "police": {"patrols": {"abstract": 1}, "other_work_utilisation": 0.5, "other_job": 60.0},
        "situations": situation(p_transport=1.0),
        "call_handling": {"channel_shares": channel("police_112")},
        "dispatch": {"policy": "baseline"},
    }
    row = _log(over, keep=one_that_waits).iloc[0]
    alerted = row["t_arrival"] + HANDLING
    wait = -math.log(seen["u"][1]) * 60.0 / (1.0 - 0.5)
    assert wait > 0
    want = police_alone(alerted, reason="baseline", transport="police_car", assigned=alerted + wait)
    check(row, want)


def test_a_kind_not_eligible_goes_to_police_alone_in_health_first() -> None:
    over = {"situations": situation(health_first_eligible=False, p_transport=1.0)}
    row = _log(over).iloc[0]
    start = row["t_arrival"] + HANDLING + PASS_ON
    check(row, police_alone(start, reason="not_eligible", transport="police_car"))


# --- 8: fallbacks to police ----------------------------------------------------------------

MONDAY_MIDNIGHT = {
    "fleet": {
        "shifts": {"first_hour": {"start_hour": 0, "hours": 1, "days": ["mon"]}},
        "units": [{"name": "A", "base": "base", "shift": "first_hour"}],
    }
}


def _after_first_hour(calls: CallStream) -> list[int]:
    """The first call that reaches the health service after Monday 01:00."""
    return [int(np.flatnonzero(calls.t + HANDLING >= 60.0)[0])]


def test_no_unit_on_duty_sends_police_when_amk_passes_the_call_on() -> None:
    over = merge(MONDAY_MIDNIGHT, {"situations": situation(p_transport=1.0)})
    row = _log(over, keep=_after_first_hour).iloc[0]
    a = row["t_arrival"]
    assert a + HANDLING >= 60.0
    start = a + HANDLING + PASS_ON  # AMK took the call and passes it on to police
    check(row, police_alone(start, reason="no_unit_on_duty", transport="police_car"))


def test_no_unit_on_duty_police_send_a_patrol_at_once_on_a_112_call() -> None:
    over = merge(MONDAY_MIDNIGHT, {"call_handling": {"channel_shares": channel("police_112")}})
    row = _log(over, keep=_after_first_hour).iloc[0]
    a = row["t_arrival"]
    assert a + HANDLING + PASS_ON >= 60.0
    check(row, police_alone(a + HANDLING, reason="no_unit_on_duty"))


@pytest.mark.parametrize(
    ("name", "police_delay"),
    [
        ("amk_113", HANDLING + PASS_ON),  # health sees no unit in reach, passes it on
        ("police_112", HANDLING + PASS_ON),  # police learn it when health hands it back
    ],
)
def test_out_of_reach_goes_to_police(name: str, police_delay: float) -> None:
    over = {
        "call_handling": {"channel_shares": channel(name)},
        "dispatch": {"max_response_minutes": UNIT_MOB + T - 1.0},
    }
    row = _log(over).iloc[0]
    check(row, police_alone(row["t_arrival"] + police_delay, reason="out_of_reach"))


def _busy(dispatched: float) -> float:
    """When a unit dispatched at ``dispatched`` to a call without police or transport is free."""
    return dispatched + UNIT_MOB + T + ON_SCENE + T


def _closest_pair(calls: CallStream) -> list[int]:
    """The two calls closest in time (the stream is not sorted within an hour)."""
    order = np.argsort(calls.t)
    k = int(np.argmin(np.diff(calls.t[order])))
    return [int(order[k]), int(order[k + 1])]


@pytest.mark.parametrize(
    ("max_wait", "police_delay"),
    [
        (13.0, HANDLING + 13.0),  # the deadline: queued at t + 3, waits 13
        (5.0, HANDLING + PASS_ON),  # deadline t + 8 is before police would know, at t + 10
    ],
)
def test_a_call_that_waits_too_long_goes_to_police(max_wait: float, police_delay: float) -> None:
    log = _log({"dispatch": {"max_wait_minutes": max_wait}}, keep=_closest_pair)
    first, second = log.iloc[0], log.iloc[1]
    d1 = first["t_arrival"] + HANDLING
    queued = second["t_arrival"] + HANDLING
    assert d1 <= queued and queued + max_wait < _busy(d1)  # the unit is busy past the deadline
    d1 + UNIT_MOB + T
    want = unit_call(unit=0, dispatch=d1)
    check(first, want)
    start = second["t_arrival"] + police_delay
    check(second, police_alone(start, reason="waited_too_long"))


def test_a_waiting_call_is_taken_when_the_unit_is_free() -> None:
    log = _log({"dispatch": {"max_wait_minutes": 200.0}}, keep=_closest_pair)
    first, second = log.iloc[0], log.iloc[1]
    d1 = first["t_arrival"] + HANDLING
    queued = second["t_arrival"] + HANDLING
    assert d1 <= queued < _busy(d1) < queued + 200.0
    d1 + UNIT_MOB + T
    want = unit_call(unit=0, dispatch=d1)
    check(first, want)
    d2 = _busy(d1)  # the unit takes it on its return to base
    d2 + UNIT_MOB + T
    want = unit_call(unit=0, dispatch=d2, queue=d2 - queued)
    check(second, want)


# --- 9: a waiting call taken by a unit coming on shift ------------------------------------


def test_a_waiting_call_is_taken_by_a_unit_coming_on_shift() -> None:
    over = {"dispatch": {"max_wait_minutes": 90.0}}
    t = _log(over, keep=None)["t_arrival"].to_numpy()  # the calls do not depend on the fleet
    health = t + HANDLING
    # a pair whose second call waits for unit A past the next whole hour
    pairs = [
        (i, j)
        for i in range(len(t))
        for j in range(i + 1, len(t))
        if health[i] <= health[j]
        and (math.floor(health[j] / 60.0) + 1) * 60.0 < min(_busy(health[i]), 2 * 1440.0)
    ]
    assert pairs
    i, j = pairs[0]
    hour = math.floor(health[j] / 60.0) + 1
    over["fleet"] = {
        "shifts": {"next_hour": {"start_hour": hour % 24, "hours": 1, "days": ["mon", "tue"]}},
        "units": [
            {"name": "A", "base": "base", "shift": "always"},
            {"name": "B", "base": "base", "shift": "next_hour"},
        ],
    }
    log = _log(over, keep=[i, j])
    first, second = log.iloc[0], log.iloc[1]
    d1 = first["t_arrival"] + HANDLING
    d1 + UNIT_MOB + T
    check(
        first,
        unit_call(unit=0, dispatch=d1),
    )
    queued = second["t_arrival"] + HANDLING
    start = hour * 60.0  # B comes on duty
    assert queued < start < _busy(d1) and start < queued + 90.0
    start + UNIT_MOB + T
    check(
        second,
        unit_call(unit=1, dispatch=start, queue=start - queued),
    )


# --- boundaries: a limit reached exactly, a deadline met to the minute, the first hour ------


def _log_at(over: dict[str, Any], times: Sequence[float]) -> pd.DataFrame:
    """The event log of calls arriving at exactly ``times`` (minutes), one of the stream's
    calls each (their other draws are fixed distributions, so only the times matter)."""
    scenario = scenario_from_dict(merge(base_scenario(), over))
    real = simulation.generate_calls

    def at_times(s: Any, rates: Any, replication: int) -> CallStream:
        calls = _subset(real(s, rates, replication), list(range(len(times))))
        return dataclasses.replace(calls, t=np.asarray(times, dtype=float))

    with mock.patch.object(simulation, "generate_calls", at_times):
        return run_replication(scenario, 0)[0]


def test_a_unit_exactly_at_the_reach_limit_is_sent_and_takes_a_waiting_call() -> None:
    # ETA = mobilisation 2 + drive 24 = 26 = the limit: in reach (<=), both on arrival and when
    # the unit, back at base, looks at the queue
    limit = UNIT_MOB + T
    log = _log_at({"dispatch": {"max_response_minutes": limit, "max_wait_minutes": 200.0}}, [0, 10])
    first, second = log.iloc[0], log.iloc[1]
    d1 = HANDLING
    d1 + UNIT_MOB + T
    check(
        first,
        unit_call(unit=0, dispatch=d1),
    )
    d2 = _busy(d1)  # 3 + 2 + 24 + 41 + 24 = 94
    assert d2 == 94.0
    d2 + UNIT_MOB + T
    check(
        second,
        unit_call(unit=0, dispatch=d2, queue=d2 - (10 + HANDLING)),
    )


def test_a_call_whose_deadline_is_the_minute_the_unit_is_free_is_taken() -> None:
    # queued at 10 + 3 = 13; the unit is free at 94; a wait of 81 makes the deadline 94: not past
    log = _log_at({"dispatch": {"max_wait_minutes": 81.0}}, [0, 10])
    second = log.iloc[1]
    assert second["unit"] == 0 and second["t_dispatch"] == 94.0
    assert second["queue_minutes"] == 81.0
    # a minute less and the call is past its deadline when the unit is free: police, from 13 + 80
    log = _log_at({"dispatch": {"max_wait_minutes": 80.0}}, [0, 10])
    check(log.iloc[1], police_alone(13.0 + 80.0, reason="waited_too_long"))


def test_a_unit_whose_shift_starts_in_the_first_hour_takes_a_waiting_call_at_once() -> None:
    # 2 days from Monday 00:00; B is on duty Mondays 01:00-02:00. A takes the call at 0 (busy to
    # 94); the call at 10 waits from 13 until B comes on duty at 60
    over = {
        "dispatch": {"max_wait_minutes": 90.0},
        "fleet": {
            "shifts": {"one_am": {"start_hour": 1, "hours": 1, "days": ["mon"]}},
            "units": [
                {"name": "A", "base": "base", "shift": "always"},
                {"name": "B", "base": "base", "shift": "one_am"},
            ],
        },
    }
    second = _log_at(over, [0, 10]).iloc[1]
    60.0 + UNIT_MOB + T
    check(
        second,
        unit_call(unit=1, dispatch=60.0, queue=60.0 - 13.0),
    )


def test_a_call_needing_no_time_to_reach_health_is_taken_at_once() -> None:
    # no call handling: health knows at the call's own minute, a delay of 0 (not negative)
    over = {"call_handling": {"handling": fixed(0.0)}}
    row = _log_at(over, [0.0]).iloc[0]
    check(
        row,
        expected(
            unit=0,
            dispatch=0.0,
            first=UNIT_MOB + T,
            unit_on=UNIT_MOB + T,
            scene_end=UNIT_MOB + T + ON_SCENE,
            unit_free=_busy(0.0),
            unit_minutes=_busy(0.0),
        ),
    )


def test_an_event_in_the_past_is_refused() -> None:
    from planner.sim.engine import Engine

    engine = object.__new__(Engine)  # only the clock is needed
    engine.env = simpy.Environment(initial_time=10.0)
    with pytest.raises(ValueError, match=r"^negative delay -2\.5 at t = 10\.0$"):
        engine._at(10.0, 7.5, lambda: None)


def test_an_event_set_from_a_calls_minute_lands_on_that_minute() -> None:
    # SimPy's clock at its last event, behind the minute of the call that sets the event: past
    # half of the event's minute, the delay from the clock lands on it exactly; early in a run
    # (the clock at 8.67..., the minute 643.58...), within a unit in the last place
    from planner.sim.engine import Engine

    def landed(clock: float, minute: float, busy: float) -> float:
        engine = object.__new__(Engine)
        engine.env = simpy.Environment(initial_time=clock)
        engine._at(minute, minute + busy, lambda: None)
        return engine.env.peek()

    assert landed(10_000.0, 10_500.123456789, 30.0) == 10_500.123456789 + 30.0
    assert landed(9_999.7, 10_000.3, 9_000.0) == 10_000.3 + 9_000.0  # up to twice the clock
    early = 8.674198235869028, 643.5842760025402, 0.0
    assert landed(*early) != early[1]  # the clock cannot land on that minute exactly ...
    assert abs(landed(*early) - early[1]) == math.ulp(early[1])  # ... but an ulp from it


# --- shift starts: every hour looked at, the horizon, a unit still busy when its shift starts --


def _on_shift_at(hour: int) -> dict[str, Any]:
    """A always on duty; B on duty on Mondays from ``hour`` for one hour."""
    return {
        "dispatch": {"max_wait_minutes": 90.0},
        "fleet": {
            "shifts": {"later": {"start_hour": hour, "hours": 1, "days": ["mon"]}},
            "units": [
                {"name": "A", "base": "base", "shift": "always"},
                {"name": "B", "base": "base", "shift": "later"},
            ],
        },
    }


@pytest.mark.parametrize("hour", [2, 3, 5, 23])
def test_a_shift_starting_at_any_hour_takes_the_waiting_call(hour: int) -> None:
    # A takes the call 50 min before B's shift (busy 91 min from 3 min later); the call 40 min
    # before waits from 37 min before until B comes on duty on the hour
    start = hour * 60.0
    second = _log_at(_on_shift_at(hour), [start - 50.0, start - 40.0]).iloc[1]
    start + UNIT_MOB + T
    check(
        second,
        unit_call(unit=1, dispatch=start, queue=37.0),
    )


def test_a_shift_starting_at_the_horizon_is_not_simulated() -> None:
    # one day; B's shift would start on Tuesday 00:00 = the horizon, where the run's hours end:
    # the call waiting then is taken by A, free at 1,380 + 3 + 91 = 1,474
    over = merge(_on_shift_at(0), {"run": {"horizon_days": 1.0}})
    over["fleet"]["shifts"]["later"]["days"] = ["tue"]
    second = _log_at(over, [1380.0, 1400.0]).iloc[1]
    assert _busy(1383.0) == 1474.0
    assert second["unit"] == 0 and second["t_dispatch"] == 1474.0
    assert second["queue_minutes"] == 1474.0 - 1403.0


def test_a_unit_still_busy_when_its_shift_starts_again_takes_nothing_new() -> None:
    # missions of 1,500 min on scene: A takes the call at 0 (free at 3 + 2 + 24 + 1,500 + 24 =
    # 1,553), B (Mondays and Tuesdays 00-01) the one at 5 (free at 1,558); on Tuesday 00:00 B's
    # shift starts while it is still busy, and the call of 1,430 keeps waiting for A
    over = merge(_on_shift_at(0), {"dispatch": {"max_wait_minutes": 200.0}})
    over["fleet"]["shifts"]["later"]["days"] = ["mon", "tue"]
    over["situations"] = situation(on_scene=fixed(1500.0))
    log = _log_at(over, [0.0, 5.0, 1430.0])
    assert log["unit"].tolist() == [0, 1, 0]
    assert log["t_unit_free"].tolist()[:2] == [1553.0, 1558.0]
    assert log["t_dispatch"].iloc[2] == 1553.0


def _only_unit_on(shift: dict[str, Any], wait: float = 90.0) -> dict[str, Any]:
    return {
        "dispatch": {"max_wait_minutes": wait},
        "fleet": {
            "shifts": {"short": shift},
            "units": [{"name": "A", "base": "base", "shift": "short"}],
        },
    }


def test_a_unit_freed_after_its_shift_is_free_on_its_next_shift() -> None:
    # A is on duty Mondays and Tuesdays 00-01. The call at 0 is dispatched at 3 and A is free
    # at 3 + 2 + 24 + 41 + 24 = 94, after its shift, with nothing else happening between; the
    # call at 1,450 (Tuesday 00:10) is dispatched at 1,453 at once: A is free and on duty.
    # (The engine counts the free units on duty as units go busy and free and as hours pass;
    # counted wrongly, the second call would wait and go to police.)
    over = _only_unit_on({"start_hour": 0, "hours": 1, "days": ["mon", "tue"]})
    log = _log_at(over, [0.0, 1450.0])
    assert log["unit"].tolist() == [0, 0]
    assert log["t_unit_free"].tolist() == [94.0, 1450.0 + 94.0]
    assert log["t_dispatch"].tolist() == [3.0, 1453.0]


def test_a_unit_busy_when_its_shift_ends_and_starts_is_free_once_back() -> None:
    # A on duty every day 00-01 and busy 1,500 min on scene from the call at 0 (free at
    # 3 + 2 + 24 + 1,500 + 24 = 1,553, after Tuesday's shift has started and ended): the call at
    # 1,445 waits (A busy), and goes to police at its deadline 1,448 + 90; the call at 2,885
    # (Wednesday 00:05) finds A free and on duty.
    over = _only_unit_on({"start_hour": 0, "hours": 1, "days": ["mon", "tue", "wed"]}, wait=90.0)
    over["situations"] = situation(on_scene=fixed(1500.0))
    log = _log_at(over, [0.0, 1445.0, 2885.0])
    assert log["unit"].tolist() == [0, -1, 0]
    assert log["reason"].tolist()[1] == "waited_too_long"
    assert log["t_dispatch"].tolist()[2] == 2888.0


def test_a_call_with_every_unit_on_duty_busy_waits_and_one_out_of_reach_goes_to_police() -> None:
    # A (always) busy from 3 to 94; the call at 10 (known at 13, waiting up to 100 min) waits
    # for it and is dispatched at 94; with the reach limit below the drive every call goes to
    # police as out of reach, busy unit or not
    log = _log_at({"dispatch": {"max_wait_minutes": 100.0}}, [0.0, 10.0])
    assert log["unit"].tolist() == [0, 0]
    assert log["t_dispatch"].tolist() == [3.0, 94.0]
    far = _log_at({"dispatch": {"max_response_minutes": UNIT_MOB + T - 1}}, [0.0, 10.0])
    assert far["unit"].tolist() == [-1, -1]
    assert far["reason"].tolist() == ["out_of_reach", "out_of_reach"]


# --- the count of free units on duty, a shift's start and a call at the same minute ----------


def test_a_call_in_the_hour_a_unit_comes_on_duty_is_sent_that_unit_at_once() -> None:
    # A takes the call at 0 (busy to 94); B is on duty Mondays 01:00-02:00; the call at 70 is
    # known to health at 73, when B is on duty and free: sent at once, not queued for A
    over = {
        "dispatch": {"max_wait_minutes": 90.0},
        "fleet": {
            "shifts": {"one_am": {"start_hour": 1, "hours": 1, "days": ["mon"]}},
            "units": [
                {"name": "A", "base": "base", "shift": "always"},
                {"name": "B", "base": "base", "shift": "one_am"},
            ],
        },
    }
    check(_log_at(over, [0, 70]).iloc[1], unit_call(unit=1, dispatch=73.0, queue=0.0))


def test_a_shift_that_begins_the_minute_a_call_is_known_serves_the_earlier_waiting_call() -> None:
    # A busy from 3 to 94; the call at 10 waits from 13. B's shift begins at 60, the very minute
    # health learns of the call at 57: the shift's start comes first (events at a call's minute
    # run before it), so B takes the call waiting since 13 and the new one waits for A at 94
    over = _on_shift_at(1)
    log = _log_at(over, [0, 10, 57])
    check(log.iloc[1], unit_call(unit=1, dispatch=60.0, queue=47.0))
    check(log.iloc[2], unit_call(unit=0, dispatch=94.0, queue=34.0))


def test_a_shift_back_after_one_hour_off_takes_the_waiting_call() -> None:
    # B is on duty 01:00-24:00 every day, off one hour a night. On Tuesday A takes the call at
    # 1,445 (busy to 1,539); the call at 1,450 waits from 1,453 until B is back at 1,500
    over = {
        "dispatch": {"max_wait_minutes": 90.0},
        "fleet": {
            "shifts": {
                "long": {
                    "start_hour": 1,
                    "hours": 23,
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                }
            },
            "units": [
                {"name": "A", "base": "base", "shift": "always"},
                {"name": "B", "base": "base", "shift": "long"},
            ],
        },
    }
    log = _log_at(over, [1445, 1450])
    check(log.iloc[0], unit_call(unit=0, dispatch=1448.0))
    check(log.iloc[1], unit_call(unit=1, dispatch=1500.0, queue=47.0))


def test_units_whose_etas_round_to_one_minute_go_by_the_lower_index() -> None:
    # B's drive is the shorter by 1e-14 min, so B is first in order of drive; after the
    # mobilisation of 1,024 min both ETAs round to 1,024.25 exactly: the lower index, A, goes
    from planner.sim.engine import Engine

    scenario = scenario_from_dict(
        merge(
            base_scenario(),
            {"fleet": {"units": [{"name": n, "base": "base", "shift": "always"} for n in "AB"]}},
        )
    )
    world = simulation.build_world(scenario)
    rates = simulation.cell_weights(scenario, world.cell_population, world.cell_zone)
    calls = _subset(simulation.generate_calls(scenario, rates, 0), [0])
    engine = Engine(scenario, world, calls)
    engine.limit = 2000.0
    engine.mob = [1024.0]
    engine.eta_rows = [[[0.25 + 1e-14], [0.25]]] * 2
    engine.nearest = [[[1, 0]]] * 2
    assert 1024.0 + 0.25 + 1e-14 == 1024.0 + 0.25  # the two ETAs are one float
    engine.cell = [0]
    assert engine._quickest_free(0, 0, 0.0) == 0
    engine.eta_rows = [[[0.25 + 1e-9], [0.25]]] * 2  # told apart: the quicker, B
    assert engine._quickest_free(0, 0, 0.0) == 1


def test_the_first_call_s_minute_is_the_engine_s_to_the_last_bit() -> None:
    # the engine counts each call's minute on from the last one's, from 0: a call at 0.1 min,
    # known to health at once, is dispatched at 0.1 exactly (from 1.0 it would be 0.09999...)
    row = _log_at({"call_handling": {"handling": fixed(0.0)}}, [0.1]).iloc[0]
    assert row["t_dispatch"] == 0.1 and row["t_health_alerted"] == 0.1
