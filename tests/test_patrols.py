"""Police patrols as a finite resource (``police.model = "patrols"``): timelines worked by hand,
the rules of who gets a patrol, and the queue against queueing theory.

The queue's own tests build a district's other work by hand (``work``) and run ``Patrols``
alone; the engine's tests run a replication through ``test_engine_paths``' abstract region, in
which every drive and duration is a fixed number, so every minute of a timeline is written here
as arithmetic on the arrival times the log reports.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import stdtrit
from test_engine_paths import (
    HANDLING,
    POLICE_ALONE,
    POLICE_FACTOR,
    POLICE_MOB,
    T,
    _log,
    channel,
    check,
    fixed,
    police_alone,
    situation,
)

from planner import scenario_from_dict
from planner.scenario.parameters import default_values
from planner.sim.kpis import Period, patrol_kpis
from planner.sim.patrols import (
    District,
    Mission,
    PatrolRecord,
    Patrols,
    PoliceWork,
    Stations,
    duty_by_hour,
    split_duty,
)
from planner.sim.run import simulate
from planner.sim.world import erlang_c

INF = math.inf
FLAT = [1.0] * 24


def work(*rows: tuple[float, int, float]) -> PoliceWork:
    """Other assignments (minute, priority, minutes of work), no drive to them."""
    t, p, w = (np.array(c, dtype=float) for c in zip(*rows, strict=True)) if rows else ([],) * 3
    return PoliceWork(
        np.asarray(t, float), np.asarray(p, int), np.asarray(w, float), np.zeros(len(t))
    )


def district(patrols: int | tuple[int, ...] = 1, preempt_from: int = 3) -> District:
    on = patrols if isinstance(patrols, tuple) else (patrols,) * 168
    return District("d", on, 15.0, preempt_from)


def run(d: District, w: PoliceWork, *missions: Mission, horizon: float = 10_000.0) -> PatrolRecord:
    patrols = Patrols((d,), (w,), horizon)
    for m in missions:
        patrols.request(m)
    while patrols.advance(INF):
        pass
    (record,) = patrols.records()
    return record


def stretches(r: PatrolRecord) -> list[tuple[float, float]]:
    return sorted(zip(r.busy_start.tolist(), r.busy_end.tolist(), strict=True))


def holding(minutes: float, seen: list[float]) -> Mission:
    """A mission that notes the minute it was given a patrol and holds it ``minutes``."""

    def assigned(minute: float) -> float:
        seen.append(minute)
        return minute + minutes

    return assigned  # type: ignore[return-value]


# --- who gets a patrol ------------------------------------------------------------------


def test_p1_takes_the_patrol_from_p3_work_which_resumes_with_its_minutes_left() -> None:
    r = run(district(), work((0.0, 3, 100.0), (10.0, 1, 20.0)))
    assert r.first_start.tolist() == [0.0, 10.0]
    # P3 0-10, P1 10-30, then the 90 minutes P3 had left: 30-120
    assert stretches(r) == [(0.0, 10.0), (10.0, 30.0), (30.0, 120.0)]


def test_work_taken_off_twice_keeps_what_it_had_left_each_time() -> None:
    r = run(district(), work((0.0, 3, 100.0), (10.0, 1, 20.0), (40.0, 1, 10.0)))
    # P3 0-10 (90 left), P1 10-30, P3 30-40 (80 left), P1 40-50, P3 50-130
    assert stretches(r) == [(0.0, 10.0), (10.0, 30.0), (30.0, 40.0), (40.0, 50.0), (50.0, 130.0)]


@pytest.mark.parametrize(
    ("preempt_from", "p1_first"),
    [(3, 100.0), (2, 10.0), (4, 100.0)],  # p3: P2 is kept; p2: P2 gives way; none
)
def test_which_work_p1_may_take_a_patrol_from(preempt_from: int, p1_first: float) -> None:
    r = run(district(preempt_from=preempt_from), work((0.0, 2, 100.0), (10.0, 1, 20.0)))
    assert r.first_start.tolist() == [0.0, p1_first]


def test_no_preemption_leaves_p3_work_alone() -> None:
    r = run(district(preempt_from=4), work((0.0, 3, 100.0), (10.0, 1, 20.0)))
    assert r.first_start.tolist() == [0.0, 100.0]
    assert stretches(r) == [(0.0, 100.0), (100.0, 120.0)]


def test_p1_does_not_take_a_patrol_from_p1_work() -> None:
    r = run(district(preempt_from=2), work((0.0, 1, 100.0), (10.0, 1, 20.0)))
    assert r.first_start.tolist() == [0.0, 100.0]


def test_a_psychiatric_mission_is_never_interrupted() -> None:
    seen: list[float] = []
    mission = Mission(0.0, 0, 2, holding(100.0, seen))  # type: ignore[arg-type]
    r = run(district(preempt_from=2), work((10.0, 1, 20.0)), mission)
    assert seen == [0.0]
    assert r.first_start.tolist() == [100.0]
    assert stretches(r) == [(0.0, 100.0), (100.0, 120.0)]


def test_a_p1_mission_takes_a_patrol_from_p3_work() -> None:
    seen: list[float] = []
    mission = Mission(10.0, 0, 1, holding(30.0, seen))  # type: ignore[arg-type]
    r = run(district(), work((0.0, 3, 100.0)), mission)
    assert seen == [10.0]
    assert stretches(r) == [(0.0, 10.0), (10.0, 40.0), (40.0, 130.0)]


def test_waiting_work_goes_by_priority_then_by_minute_asked() -> None:
    # the patrol is busy 0-50; then P1 (asked 30), the mission (P2, asked 15), P2 (asked 20),
    # P3 (asked 10), ten minutes each
    seen: list[float] = []
    mission = Mission(15.0, 0, 2, holding(10.0, seen))  # type: ignore[arg-type]
    w = work((0.0, 2, 50.0), (10.0, 3, 10.0), (20.0, 2, 10.0), (30.0, 1, 10.0))
    r = run(district(preempt_from=4), w, mission)
    assert r.first_start.tolist() == [0.0, 80.0, 70.0, 50.0]
    assert seen == [60.0]


def test_a_patrol_comes_on_duty_on_the_hour_and_one_going_off_finishes_its_work() -> None:
    # no patrol in hour 0, one in hour 1, none in hour 2, one again from hour 3
    on = (0, 1, 0, *(1,) * 165)
    r = run(district(on), work((10.0, 2, 30.0), (100.0, 2, 30.0), (130.0, 2, 10.0)))
    # waits for 60; 100-130 runs past the rota's end at 120; the next waits for 180
    assert r.first_start.tolist() == [60.0, 100.0, 180.0]


def test_a_mission_asked_for_in_the_patrols_past_is_refused() -> None:
    patrols = Patrols((district(),), (work((50.0, 2, 10.0)),), 1000.0)
    patrols.advance(100.0)
    with pytest.raises(ValueError, match="asked for at minute 20"):
        patrols.request(Mission(20.0, 0, 2, holding(1.0, [])))  # type: ignore[arg-type]


def test_a_mission_whose_story_comes_later_holds_its_patrol_till_then() -> None:
    mission = Mission(0.0, 0, 2, lambda minute: INF)
    patrols = Patrols((district(),), (work((10.0, 2, 5.0)),), 1000.0)
    patrols.request(mission)
    assert patrols.advance(INF)  # stopped at the mission's patrol, at 0
    assert not patrols.advance(40.0)
    patrols.release(mission, 70.0)
    with pytest.raises(ValueError, match="before the patrols' 40"):
        patrols.release(mission, 30.0)
    while patrols.advance(INF):
        pass
    (r,) = patrols.records()
    assert r.first_start.tolist() == [70.0]
    assert stretches(r) == [(0.0, 70.0), (70.0, 75.0)]


def test_patrols_on_duty_follow_the_profile_rounded_half_up() -> None:
    profile = (1.0, 3.0) * 12  # mean 2: factors 0.5 and 1.5
    assert duty_by_hour(5, profile)[:4] == (3, 8, 3, 8)  # 2.5 -> 3, 7.5 -> 8
    assert len(duty_by_hour(5, profile)) == 168
    assert duty_by_hour(0, profile) == (0,) * 168


# --- the patrols' KPIs, from a record made by hand --------------------------------------


def test_patrol_kpis_from_a_record_worked_by_hand() -> None:
    d = District("x", (2,) * 168, 15.0, 3)
    w = PoliceWork(
        t=np.array([0.0, 100.0, 200.0, 300.0, 400.0, 500.0]),
        priority=np.array([1, 1, 1, 2, 2, 1]),
        work=np.zeros(6),
        mobilisation=np.zeros(6),
    )
    first = np.array([0.0, 104.0, 200.0, 330.0, 400.0, np.nan])  # the last never taken
    reach = np.array([10.0, 12.0, 8.0, 5.0, 5.0, np.nan])
    busy = np.array([60.0, 90.0]), np.array([180.0, 150.0])
    record = PatrolRecord(d, w, first, *busy, reach)
    log = pd.DataFrame(
        {
            "t_arrival": [50.0, 70.0, 90.0],
            "district": ["x", "x", "y"],
            "patrol_minutes": [30.0, 90.0, 600.0],
        }
    )
    period = Period(60.0, 240.0, np.zeros((0, 168)), 1650.0, 2)
    k = patrol_kpis([record], log, period)
    # P1 after the warm-up (60): 100 (wait 4 + reach 12 = 16), 200 (0 + 8 = 8); 500 never taken
    assert k["p1_response_median.x"] == pytest.approx(12.0)
    assert k["p1_response_p90.x"] == pytest.approx(8.0 + 0.9 * 8.0)
    assert k["p1_within_target.x"] == pytest.approx(0.5)
    assert k["p1_waited.x"] == pytest.approx(0.5)
    assert k["p2_waited.x"] == pytest.approx(0.5)  # 300 waited 30, 400 did not
    # busy 60-180 and 90-150 within 60-240: 120 + 60 of 2 patrols x 180 minutes
    assert k["patrol_utilisation.x"] == pytest.approx(180.0 / 360.0)
    # by hour of day: 01 (60-120) busy 60 + 30 of 120, 02 (120-180) 60 + 30, 03 (180-240) none
    by_hour = [k[f"patrol_utilisation_h{h:02d}.x"] for h in range(24)]
    assert by_hour[1:4] == pytest.approx([0.75, 0.75, 0.0])
    assert all(math.isnan(v) for v in by_hour[:1] + by_hour[4:])  # not counted: no time on duty
    # the calls of x after the warm-up: 70 (90 min); a year is 180 min long here
    years = 180.0 / (365.0 * 24 * 60)
    assert k["mission_patrol_hours.x"] == pytest.approx(90.0 / 60.0 / years)


# --- the engine: a patrol held through guarding -------------------------------------------

GUARDING = 720.0  # MODEL.md: guarding a patient at a legevakt can take 12 h


def test_a_patrol_held_through_guarding_keeps_the_next_call_waiting() -> None:
    hold = POLICE_MOB + T * POLICE_FACTOR + POLICE_ALONE + T + GUARDING

    def two_close(calls: Any) -> list[int]:
        gap = np.diff(calls.t)
        i = int(np.flatnonzero(gap < hold - 60.0)[0])
        return [i, i + 1]

    over = {
        "police": {"model": "patrols", "patrols": {"abstract": 1}, "duty_profile": FLAT},
        "situations": situation(p_transport=1.0),
        "call_handling": {"channel_shares": channel("police_112")},
        "facilities": {"handover_police": fixed(GUARDING)},
        "dispatch": {"policy": "baseline"},
    }
    log = _log(over, keep=two_close)
    first, second = log.iloc[0], log.iloc[1]

    def alone(alerted: float, assigned: float) -> dict[str, Any]:
        # the patrol guards the patient at the facility
        return police_alone(
            alerted,
            reason="baseline",
            transport="police_car",
            assigned=assigned,
            handover_police=GUARDING,
        )

    a1 = first["t_arrival"] + HANDLING
    want1 = alone(a1, a1)
    check(first, want1)
    released = a1 + want1["patrol_minutes"]
    a2 = second["t_arrival"] + HANDLING
    assert a2 < released  # the one patrol is still guarding the first patient
    check(second, alone(a2, released))


def test_without_other_work_a_patrol_is_always_free_when_there_are_enough() -> None:
    over = {"police": {"model": "patrols"}, "dispatch": {"policy": "baseline"}}
    log = _log(over, keep=None)
    alerted = log["t_police_alerted"]
    on = log["t_police_on_scene"]
    assert np.allclose(on - alerted, POLICE_MOB + T * POLICE_FACTOR)


# --- against queueing theory ---------------------------------------------------------------


def priority_wait(c: int, mu: float, rates: list[float], k: int) -> float:
    """Mean wait of class k (0 most urgent) in a non-pre-emptive priority M/M/c queue with one
    service rate: C(c, a) / (c mu (1 - s_{k-1}) (1 - s_k)), s_k the load of classes 0..k."""
    a = sum(rates) / mu
    loads = np.cumsum(rates) / (c * mu)
    before = loads[k - 1] if k else 0.0
    return erlang_c(c, a) / (c * mu * (1 - before) * (1 - loads[k]))


def t_interval(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values)
    half = stdtrit(len(v) - 1, 0.975) * v.std(ddof=1) / math.sqrt(len(v))
    return v.mean() - half, v.mean() + half


@pytest.mark.slow
def test_a_district_reproduces_the_non_preemptive_priority_mmc_waits() -> None:
    c, mean = 3, 60.0
    mu = 1.0 / mean
    rates = [0.3 * c * mu, 0.4 * c * mu]  # P1 and P2, load 0.7 in all
    horizon, warm = 400_000.0, 20_000.0
    waits: dict[int, list[float]] = {0: [], 1: []}
    for rep in range(8):
        rng = np.random.default_rng([20261204, rep])
        n = rng.poisson(sum(rates) * horizon)
        t = np.sort(rng.random(n) * horizon)
        prio = np.where(rng.random(n) < rates[0] / sum(rates), 1, 2)
        w = PoliceWork(t, prio, rng.exponential(mean, n), np.zeros(n))
        r = run(district(c, preempt_from=4), w, horizon=horizon)
        wait = r.first_start - t
        for k in (0, 1):
            mine = (prio == k + 1) & (t > warm) & ~np.isnan(wait)
            waits[k].append(float(wait[mine].mean()))
    for k in (0, 1):
        low, high = t_interval(waits[k])
        want = priority_wait(c, mu, rates, k)
        assert low <= want <= high, (k, low, want, high)
    # the two waits differ by far more than their intervals: priority is at work
    assert priority_wait(c, mu, rates, 1) > 3 * priority_wait(c, mu, rates, 0)


def _abstract(model: str, **police: Any) -> dict[str, Any]:
    return {
        "region": {"kind": "abstract", "population": 20_000, "travel_minutes": 10.0},
        "demand": {"hour_of_week_profile": "flat"},
        "police": {
            "model": model,
            "patrols": {"abstract": 5},
            "other_work_utilisation": 0.7,
            "other_job": 60.0,
            "mobilisation": fixed(5.0),
            "travel_factor": 1.0,
            "duty_profile": FLAT,
            "work_shares": {"p1": 0.0, "p2": 1.0, "p3": 0.0},
            "mission_priority": {"acute": 2, "urgent": 2, "planned": 2},
            "preempt": "none",
            **police,
        },
        "dispatch": {"policy": "baseline"},
        "run": {"horizon_days": 730.0, "warmup_days": 10.0, "replications": 8, "seed": 11},
    }


@pytest.mark.slow
def test_patrols_and_the_erlang_formula_agree_where_psychiatric_work_is_a_small_share() -> None:
    # five patrols, busy 70 % with other work; psychiatric calls add about 1 % to their load
    c, offered, mean = 5, 3.5, 60.0
    theory = erlang_c(c, offered) * mean / (c - offered)  # FCFS M/M/c mean wait, minutes
    for model in ("erlang", "patrols"):
        results = simulate(scenario_from_dict(_abstract(model)))
        log = results.log[results.log["t_arrival"] >= 10 * 1440.0]
        wait = log["t_police_on_scene"] - log["t_police_alerted"] - 5.0 - 10.0
        per_rep = wait.groupby(log["replication"]).mean().tolist()
        low, high = t_interval(per_rep)
        assert low <= theory <= high, (model, low, theory, high)
        if model == "patrols":
            # other work waits as any arrival of an M/M/c queue offered the other work and the
            # missions' patrol time (read from the log) waits: with chance C(c, a)
            missions = results.log.groupby("replication")["patrol_minutes"].sum().mean()
            a = offered + missions / (730.0 * 1440.0)
            p2 = results.per_replication["p2_waited.abstract"].tolist()
            low, high = t_interval(p2)
            assert low <= erlang_c(c, a) <= high, (low, erlang_c(c, a), high)
            assert not low <= erlang_c(c, offered) <= high  # the missions' share is seen


def test_the_defaults_name_every_priority_and_urgency() -> None:
    police = default_values()["police"]
    assert set(police["work_shares"]) == {"p1", "p2", "p3"}
    assert set(police["mission_priority"]) == {"acute", "urgent", "planned"}
    assert len(police["duty_profile"]) == 24


def test_a_crew_sent_with_police_it_does_not_need_is_free_before_a_late_patrol() -> None:
    # one patrol, held by other work from 0 to 10,000: the flagged call's crew finishes and
    # drives home long before the patrol comes, checks and leaves
    from test_engine_paths import (
        BACKUP_CHECK,
        FALSE_POSITIVE,
        ON_SCENE,
        UNIT_MOB,
        _subset,
        base_scenario,
        merge,
    )

    from planner.sim import run as simulation
    from planner.sim.engine import Engine

    police = {"model": "patrols", "patrols": {"abstract": 1}, "duty_profile": FLAT}
    scenario = scenario_from_dict(merge(merge(base_scenario(), FALSE_POSITIVE), {"police": police}))
    world = simulation.build_world(scenario)
    rates = simulation.cell_weights(scenario, world.cell_population, world.cell_zone)
    calls = simulation.generate_calls(scenario, rates, 0)
    calls = _subset(calls, [int(np.flatnonzero(calls.t < 5000.0)[0])])
    busy = PoliceWork(np.array([0.0]), np.array([2]), np.array([10_000.0]), np.zeros(1))
    cols = Engine(scenario, world, calls, (busy,)).run().columns()
    dispatched = float(calls.t[0]) + HANDLING  # 113: the AMK knows at once
    unit_on = dispatched + UNIT_MOB + T
    assert cols["t_unit_free"][0] == pytest.approx(unit_on + ON_SCENE + T)  # not held back
    police_on = 10_000.0 + POLICE_MOB + T * POLICE_FACTOR
    assert cols["t_police_on_scene"][0] == pytest.approx(police_on)
    back = police_on + BACKUP_CHECK + T  # checks, leaves, and drives back to its station
    assert cols["patrol_minutes"][0] == pytest.approx(back - 10_000.0)


# --- three ways to respond, on the same calls -----------------------------------------------


def _policy(policy: str, **over: Any) -> dict[str, Any]:
    data = _abstract("patrols")
    data["police"] |= {"patrols": {"abstract": 8}, "other_work_utilisation": 0.5}
    data["region"]["population"] = 300_000
    data["dispatch"] = {"policy": policy}
    data["fleet"] = {
        "units": [
            {"name": "A", "base": "a", "shift": "day"},
            {"name": "B", "base": "b", "shift": "evening"},
        ]
    }
    data["run"] = {"horizon_days": 120.0, "warmup_days": 5.0, "replications": 4, "seed": 3}
    return merge_dicts(data, over)


def merge_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = merge_dicts(out[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return out


def _from_the_log(results: Any, car_officers: int = 0) -> pd.DataFrame:
    """Per replication, from the call log alone: officer-hours (the patrols' and, for
    co-response, an officer in each unit for every hour it is on duty), uniformed encounters,
    patients in a marked police car, and the patrol-hours of the district's calls."""
    s = results.scenario
    warm, horizon = s.run.warmup_days * 1440.0, s.run.horizon_days * 1440.0
    years = (horizon - warm) / (365.0 * 1440.0)
    # each unit's shift: hours on duty in the counted days (120 - 5 days, day 12 h, evening 12 h)
    duty_hours = 2 * 12.0 * (s.run.horizon_days - s.run.warmup_days)
    rows = []
    for r, log in results.log.groupby("replication"):
        c = log[log["t_arrival"] >= warm]
        officers = c["patrol_minutes"].sum() / 60.0 * s.police.officers_per_patrol
        uniformed = c["police_involved"] & ~c["civil"]
        car = (c["transport_mode"] == "police_car") & ~c["civil"]
        rows.append(
            {
                "replication": r,
                "police_officer_hours": (officers + car_officers * duty_hours) / years,
                "police_encounters_per_year": uniformed.sum() / years,
                "police_car_transports_per_year": car.sum() / years,
                "mission_patrol_hours.abstract": c["patrol_minutes"].sum() / 60.0 / years,
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_three_ways_to_respond_give_the_paired_differences_of_their_logs() -> None:
    from planner.sim.compare import paired_differences

    runs = {
        "police-first": simulate(scenario_from_dict(_policy("baseline"))),
        "health-first": simulate(scenario_from_dict(_policy("health-first"))),
        "co-response": simulate(scenario_from_dict(_policy("co-response", fleet={"crew": 1}))),
    }
    ours = {
        "police-first": _from_the_log(runs["police-first"]),
        "health-first": _from_the_log(runs["health-first"]),
        "co-response": _from_the_log(runs["co-response"], car_officers=1),
    }
    # the same calls: every policy met the very same call stream
    first = runs["police-first"].log
    for name in ("health-first", "co-response"):
        assert runs[name].log["t_arrival"].equals(first["t_arrival"])
        diff = paired_differences(runs["police-first"], runs[name]).set_index("kpi")
        for key in ours[name].columns.drop("replication"):
            d = (ours[name][key] - ours["police-first"][key]).to_numpy()
            low, high = t_interval(d.tolist())
            assert diff.loc[key, "difference"] == pytest.approx(d.mean(), rel=1e-9), (name, key)
            assert diff.loc[key, "ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-9), (name, key)
            assert diff.loc[key, "ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-9), (name, key)
    # health-first frees police hours; co-response frees fewer (its officers ride all shift)
    # and meets every call with police; the same background work in all three
    freed = {n: -(ours[n] - ours["police-first"])["police_officer_hours"].mean() for n in ours}
    assert freed["health-first"] > freed["co-response"]
    co = runs["co-response"].log
    mine = co[co["unit"] >= 0]
    assert mine["police_involved"].all() and (mine["patrol_minutes"] == 0).all()
    assert (mine["t_police_on_scene"] == mine["t_unit_on_scene"]).all()
    assert set(mine["transport_mode"]) <= {"none", "ambulance", "co_response_car"}
    assert (co["police_involved"]).all()  # police on every call: the cars' or a patrol
    hf = runs["health-first"].log
    alone = hf[(hf["unit"] >= 0) & ~hf["police_involved"]]
    assert (alone["patrol_minutes"] == 0).all()


@pytest.mark.slow
def test_civil_police_take_their_calls_out_of_the_uniformed_counts_on_the_same_calls() -> None:
    plain = simulate(scenario_from_dict(_policy("baseline")))
    civil = simulate(scenario_from_dict(_policy("baseline", police={"civil_share": 0.4})))
    a, b = plain.per_replication, civil.per_replication
    # the same calls and police: every encounter is uniformed or civil, not fewer
    total = b["police_encounters_per_year"] + b["civil_police_encounters_per_year"]
    np.testing.assert_allclose(total, a["police_encounters_per_year"], rtol=1e-12)
    assert (a["civil_police_encounters_per_year"] == 0).all()
    share = b["civil_police_encounters_per_year"] / total
    assert share.mean() == pytest.approx(0.4, abs=0.03)
    assert (b["police_car_transports_per_year"] < a["police_car_transports_per_year"]).all()
    np.testing.assert_allclose(b["police_officer_hours"], a["police_officer_hours"], rtol=1e-12)
    log = civil.log
    assert (log["uniformed"] == (log["police_involved"] & ~log["civil"])).all()


def test_the_pass_on_follows_the_hour_of_day() -> None:
    from planner.sim import run as simulation
    from planner.sim.demand import pass_on_factor

    factors = [2.0] + [1.0] * 23  # mean 25/24
    t = np.array([30.0, 5 * 60.0, 24 * 60.0 + 10.0])
    np.testing.assert_allclose(pass_on_factor(factors, t), [48 / 25, 24 / 25, 48 / 25])
    data = _policy(
        "baseline",
        call_handling={"pass_on": fixed(7.0), "pass_on_by_hour": factors},
    )
    s = scenario_from_dict(data)
    world = simulation.build_world(s)
    rates = simulation.cell_weights(s, world.cell_population, world.cell_zone)
    calls = simulation.generate_calls(s, rates, 0)
    at_midnight = (calls.t // 60 % 24) == 0
    np.testing.assert_allclose(calls.pass_on[at_midnight], 7.0 * 48 / 25)
    np.testing.assert_allclose(calls.pass_on[~at_midnight], 7.0 * 24 / 25)


def test_guarding_at_a_facility_scales_the_police_handover_there() -> None:
    from planner import load_scenario
    from planner.sim import run as simulation
    from planner.sim.engine import CallSheet

    s = load_scenario(Path(__file__).resolve().parent.parent / "simulations" / "oslo_akershus.toml")
    world = simulation.build_world(s)
    rates = simulation.cell_weights(s, world.cell_population, world.cell_zone)
    calls = simulation.generate_calls(s, rates, 0)
    facility = world.facility_ids[0]
    sheet = CallSheet.of(calls, world, {facility: 3.0})
    there = world.cell_facility[calls.cell] == 0
    assert there.any() and (~there).any()
    got = np.array(sheet.handover_police)
    np.testing.assert_allclose(got[there], 3.0 * calls.handover_police[there])
    np.testing.assert_allclose(got[~there], calls.handover_police[~there])


# --- written for mutants that survived ------------------------------------------------------


def test_missions_freed_at_the_same_minute_are_told_apart() -> None:
    a, b = Mission(0.0, 0, 2, lambda minute: INF), Mission(0.0, 0, 2, lambda minute: INF)
    patrols = Patrols((district(2),), (work(),), 1000.0)
    patrols.request(a)
    patrols.request(b)
    while patrols.advance(10.0):
        pass
    patrols.release(a, 70.0)
    patrols.release(b, 70.0)  # the same minute: the heap orders them by their tokens
    while patrols.advance(INF):
        pass
    assert stretches(patrols.records()[0]) == [(0.0, 70.0), (0.0, 70.0)]


def test_patrols_coming_on_duty_take_a_mission_and_the_work_behind_it_at_once() -> None:
    seen: list[float] = []
    on = (0, *(2,) * 167)  # none in hour 0, two from 01:00
    mission = Mission(10.0, 0, 2, holding(100.0, seen))  # type: ignore[arg-type]
    patrols = Patrols((district(on),), (work((20.0, 2, 30.0)),), 10_000.0)
    patrols.request(mission)
    assert patrols.advance(INF)  # stopped at 60, the mission given a patrol
    assert patrols.now == 60.0 and seen == [60.0]
    assert not patrols.advance(INF)  # the rest of 60's dispatch, then to the end
    assert patrols.records()[0].first_start.tolist() == [60.0]


def test_other_work_alone_never_stops_the_patrols_early() -> None:
    patrols = Patrols((district(1),), (work((0.0, 2, 50.0), (10.0, 2, 5.0)),), 1000.0)
    assert patrols.advance(INF) is False  # queued work taken at 50, no mission among it
    assert patrols.records()[0].first_start.tolist() == [0.0, 50.0]


def test_work_taken_off_a_patrol_does_not_finish_at_its_old_end() -> None:
    # token 0: P2 on one patrol; token 1: P3 on the other, taken off at 10 by a long P1; the
    # P3's old end (51) passes while it waits, and it resumes only when the P2 ends at 100
    r = run(district(2), work((0.0, 2, 100.0), (1.0, 3, 50.0), (10.0, 1, 200.0)))
    assert stretches(r) == [(0.0, 100.0), (1.0, 10.0), (10.0, 210.0), (100.0, 141.0)]


def test_a_run_with_patrols_is_budgeted_at_its_own_time_a_call() -> None:
    from planner.sim.budget import (
        PATROL_SECONDS_PER_CALL,
        SECONDS_PER_CALL,
        SECONDS_PER_REPLICATION,
        estimate_run,
        seconds_per_call_of,
    )

    assert seconds_per_call_of(scenario_from_dict(_abstract("patrols"))) == PATROL_SECONDS_PER_CALL
    assert seconds_per_call_of(scenario_from_dict(_abstract("erlang"))) == SECONDS_PER_CALL
    run = estimate_run(18_000, 10_000, 2, seconds_per_call=PATROL_SECONDS_PER_CALL)
    assert run.seconds == pytest.approx((18_000 * 55e-6 + SECONDS_PER_REPLICATION) * 20_000)


def test_a_mission_may_free_its_patrol_the_minute_it_gets_it_but_not_before() -> None:
    seen: list[float] = []
    r = run(district(), work(), Mission(5.0, 0, 2, holding(0.0, seen)))  # type: ignore[arg-type]
    assert seen == [5.0] and stretches(r) == [(5.0, 5.0)]
    patrols = Patrols((district(),), (work(),), 100.0)
    patrols.request(Mission(5.0, 0, 2, lambda minute: minute - 1.0))
    with pytest.raises(
        ValueError, match=r"a mission frees its patrol at 4.0, before it began at 5.0"
    ):
        patrols.advance(INF)


def test_a_record_taken_mid_run_holds_the_mission_still_under_way() -> None:
    seen: list[float] = []
    patrols = Patrols((district(),), (work(),), 1000.0)
    patrols.request(Mission(5.0, 0, 2, holding(50.0, seen)))  # type: ignore[arg-type]
    assert patrols.advance(20.0)  # given its patrol at 5, free at 55
    assert stretches(patrols.records()[0]) == [(5.0, 55.0)]


def test_the_other_work_arrives_at_its_rate_with_its_shares_times_and_reach() -> None:
    from planner.sim import run as simulation
    from planner.sim.patrols import districts_of, police_work

    data = _abstract("patrols")
    data["police"] |= {
        "patrols": {"abstract": 10},
        "other_work_utilisation": 0.6,
        "work_shares": {"p1": 0.1, "p2": 0.5, "p3": 0.4},
        "mobilisation": fixed(5.0),
    }
    data["run"] = {"horizon_days": 365.0, "warmup_days": 0.0, "replications": 1, "seed": 2}
    s = scenario_from_dict(data)
    world = simulation.build_world(s)
    (w,) = police_work(s, world, districts_of(s, world), np.random.default_rng(4))
    horizon = 365.0 * 1440.0
    rate = 0.6 * 10 / 60.0  # assignments a minute: the load over the mean assignment
    expected = rate * horizon
    assert abs(len(w) - expected) < 4 * math.sqrt(expected)
    assert (np.diff(w.t) >= 0).all() and w.t.min() >= 0 and w.t.max() < horizon
    for p, share in ((1, 0.1), (2, 0.5), (3, 0.4)):
        got = float(np.mean(w.priority == p))
        assert abs(got - share) < 4 * math.sqrt(share * (1 - share) / len(w)), p
    assert abs(w.work.mean() - 60.0) < 4 * 60.0 / math.sqrt(len(w))  # exponential, mean 60
    assert abs(w.work.std() - 60.0) < 0.05 * 60.0
    np.testing.assert_allclose(w.mobilisation, 5.0)
    patrols = Patrols(districts_of(s, world), (w,), horizon, Stations.of(world))
    patrols.advance(INF)
    (record,) = patrols.records()
    taken = ~np.isnan(record.first_start)
    assert taken.mean() > 0.99
    # mobilisation + the drive from the one station (abstract: 10 x 1.0); NaN if never taken
    np.testing.assert_allclose(record.reach[taken], 5.0 + 10.0)
    assert np.isnan(record.reach[~taken]).all()


def test_a_district_named_gets_its_own_p1_target() -> None:
    from planner.sim import run as simulation
    from planner.sim.patrols import districts_of

    data = _abstract("patrols", p1_target_by_district={"abstract": 30.0})
    s = scenario_from_dict(data)
    (d,) = districts_of(s, simulation.build_world(s))
    assert d.target == 30.0 and s.police.p1_target_minutes == 15.0


def test_each_mission_a_rota_gives_a_patrol_stops_the_patrols() -> None:
    seen: list[float] = []
    on = (0, *(2,) * 167)
    patrols = Patrols((district(on),), (work(),), 10_000.0)
    for t in (10.0, 20.0):
        patrols.request(Mission(t, 0, 2, holding(100.0, seen)))  # type: ignore[arg-type]
    assert patrols.advance(INF) and seen == [60.0]
    assert patrols.advance(INF) and seen == [60.0, 60.0]  # the second, from the same dispatch
    assert not patrols.advance(INF)
    assert patrols.now == 160.0  # the last event's minute, not the end of time


def test_a_finished_assignment_is_not_taken_off_a_patrol() -> None:
    # token 0: P2 on one patrol till 1000; token 1: P3 on the other, done at 11; token 2: P2 on
    # it from 20; the P1 at 30 finds both patrols on P2 work (p3 may be taken, p2 not): it waits
    r = run(district(2), work((0.0, 2, 1000.0), (1.0, 3, 10.0), (20.0, 2, 1000.0), (30.0, 1, 5.0)))
    assert r.first_start.tolist() == [0.0, 1.0, 20.0, 1000.0]


# --- each patrol with its station ---------------------------------------------------------


def test_a_rota_is_shared_among_stations_by_largest_remainder() -> None:
    # 5 patrols at shares 0.5/0.3/0.2: quotas 2.5, 1.5, 1.0, whole 2 + 1 + 1, the one left to
    # the first of the tied remainders; 3 patrols: 1.5, 0.9, 0.6, whole 1, then 0.9 and 0.6
    assert split_duty((5, 3, 0), (0.5, 0.3, 0.2)) == ((3, 1, 0), (1, 1, 0), (1, 1, 0))
    assert split_duty((2,), (0.0, 0.0)) == ((1,), (1,))  # no people: shared equally


def two_stations(*rows: tuple[float, int, float, int]) -> tuple[Patrols, PoliceWork]:
    """One district, a patrol at each of two stations; cell 0 is 5 min from station 0 and 30
    from station 1, cell 1 20 from station 0 and 4 from station 1 (every hour off-peak)."""
    t, p, w, c = (np.array(col) for col in zip(*rows, strict=True))
    work_ = PoliceWork(t.astype(float), p.astype(int), w.astype(float), np.full(len(t), 2.0), c)
    d = District("d", (2,) * 168, 15.0, 4, (0, 1), ((1,) * 168, (1,) * 168))
    drive = np.array([[[5.0, 20.0], [30.0, 4.0]]] * 2)  # [profile, station, cell]
    stations = Stations([[0, 1], [1, 0]], drive, np.zeros(168, dtype=int), np.zeros(2, int))
    return Patrols((d,), (work_,), 10_000.0, stations), work_


def test_a_patrol_comes_from_the_nearest_station_with_one_free() -> None:
    patrols, _ = two_stations((0.0, 2, 100.0, 0), (10.0, 2, 50.0, 0), (20.0, 2, 10.0, 1))
    seen: list[float] = []
    mission = Mission(30.0, 0, 2, holding(40.0, seen), cell=1)  # type: ignore[arg-type]
    patrols.request(mission)
    while patrols.advance(INF):
        pass
    (r,) = patrols.records()
    # 0: station 0's patrol (reach 2 + 5); 10: station 0 busy, station 1's (2 + 30); 20 waits
    # for the first free, station 1's at 60 (2 + 4); the mission at 30 waits behind it and
    # gets the next free, station 1's again at 70 (station 0's is busy till 100)
    assert r.first_start.tolist() == [0.0, 10.0, 60.0]
    assert r.reach.tolist() == [7.0, 32.0, 6.0]
    assert seen == [70.0] and mission.station == 1
    assert stretches(r) == [(0.0, 100.0), (10.0, 60.0), (60.0, 70.0), (70.0, 110.0)]


def test_the_world_sends_patrols_from_its_own_district_and_shares_them_by_people() -> None:
    from planner.sim import run as simulation

    world = simulation.build_world(scenario_from_dict({}))
    order = world.station_order
    for cell, d in enumerate(world.cell_district.tolist()):
        assert all(world.station_district[s] == d for s in order[cell])
        for p in (0, 1):  # the drive of the erlang model is the nearest station's
            near = world.nearest_station[p, cell]
            assert world.station_district[near] == d
            assert world.police_to_cell[p, cell] == world.station_to_cell[p, near, cell]
            assert (
                world.police_to_cell[p, cell] == world.station_to_cell[p, order[cell], cell].min()
            )
    for d in range(len(world.district_names)):
        shares = world.station_shares(d)
        assert set(shares) == set(np.flatnonzero(world.station_district == d).tolist())
        assert sum(shares.values()) == pytest.approx(1.0)
        # each station's share: the people of the cells it is the nearest of, over the district's
        cells = np.flatnonzero(world.cell_district == d)
        first = np.array([order[c][0] for c in cells])
        people = world.cell_population[cells]
        for s, share in shares.items():
            assert share == pytest.approx(people[first == s].sum() / people.sum())


def test_a_replication_with_patrols_leaves_no_cycles_of_missions_to_collect() -> None:
    # a mission lets go of its story once told: a replication's objects go by their reference
    # counts, not by a pass of the collector over every one of them (a sixth of a year's time)
    import gc

    from test_engine_paths import base_scenario, merge

    from planner.sim import run as simulation
    from planner.sim.engine import Engine

    police = {"model": "patrols", "patrols": {"abstract": 2}, "duty_profile": FLAT}
    scenario = scenario_from_dict(merge(base_scenario(), {"police": police}))
    world = simulation.build_world(scenario)
    rates = simulation.cell_weights(scenario, world.cell_population, world.cell_zone)
    calls = simulation.generate_calls(scenario, rates, 0)
    assert len(calls) > 20
    gc.collect()
    gc.disable()
    try:
        engine = Engine(scenario, world, calls)
        engine.run()
        assert len(engine.patrols._missions) == 0  # type: ignore[union-attr]
        del engine
        freed = gc.collect()
    finally:
        gc.enable()
    assert freed < 10, freed


def test_shares_of_a_rota_need_not_add_up_to_one() -> None:
    # weights of 5, 3 and 2 are shares of 0.5, 0.3 and 0.2
    assert split_duty((5, 3), (5.0, 3.0, 2.0)) == ((3, 1), (1, 1), (1, 1))


def test_other_work_without_cells_is_reached_from_its_station_to_cell_0() -> None:
    d = District("d", (1,) * 168, 15.0, 4, (0,), ((1,) * 168,))
    t = np.array([0.0, 50.0, 70.0])
    w = PoliceWork(t, np.array([2, 2, 2]), np.full(3, 10.0), np.ones(3))
    drive = np.array([[[7.0, 99.0]], [[8.0, 99.0]]])  # [profile, station, cell]
    peak = np.zeros(168, dtype=int)
    peak[0] = 1  # the first hour is a rush hour: profile 1
    patrols = Patrols((d,), (w,), 1_000.0, Stations([[0], [0]], drive, peak, np.zeros(2, int)))
    patrols.advance(INF)
    (r,) = patrols.records()
    # 0 and 50 in the rush hour (the drive 8), 70 after it (7)
    assert r.reach.tolist() == [1.0 + 8.0, 1.0 + 8.0, 1.0 + 7.0]


def test_the_rotas_turn_on_the_hours_they_change_each_district_at_once() -> None:
    from planner.sim.patrols import _rota_turns

    night = (1,) * 6 + (3,) * 162  # 1 patrol 00-06 each Monday, 3 otherwise: Sunday 23 -> 00
    flat = (2,) * 168
    rotas, owner = [night, flat, night], [0, 0, 1]
    # a week and a day: the changes at 06 on each Monday and at 00 of the second (not at 0, the
    # run's start, when the rotas are what they say); never for the flat rota
    turns = _rota_turns(rotas, owner, 168 + 24)
    assert turns == [
        (6 * 60.0, 0, ((0, 3),)),
        (6 * 60.0, 1, ((2, 3),)),
        (168 * 60.0, 0, ((0, 1),)),
        (168 * 60.0, 1, ((2, 1),)),
        (174 * 60.0, 0, ((0, 3),)),
        (174 * 60.0, 1, ((2, 3),)),
    ]
    # rotas compared hour by hour each with itself, not with the rota before it
    assert _rota_turns([(1,) * 168, (2,) * 168], [0, 0], 400) == []
    assert _rota_turns([], [], 400) == []
    assert _rota_turns([night], [0], 7) == [(6 * 60.0, 0, ((0, 3),))]  # hours 0-6: one turn
    assert _rota_turns([(1,) + (2,) * 167], [0], 2) == [(60.0, 0, ((0, 2),))]
    assert _rota_turns([(1,) + (2,) * 167], [0], 1) == []
