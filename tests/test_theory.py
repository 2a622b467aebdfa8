"""The engine against queueing theory: Erlang C, Little's law, and its own invariants.

A single zone with Poisson arrivals, exponential on-scene time, zero travel and c always-on units
is an M/M/c queue; the simulation's probability of waiting and mean wait must match Erlang C
within the simulation's own 95 % confidence interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner import scenario_from_dict
from planner.sim.kpis import interval
from planner.sim.run import simulate
from planner.sim.world import erlang_c

KINDS = (
    "suicidal",
    "psychosis",
    "intoxication",
    "welfare_check",
    "compulsory_assistance",
    "violence",
    "planned_transport",
)


def mmc_scenario(
    lam_per_hour: float, mean_minutes: float, servers: int, reps: int = 8, days: float = 240.0
) -> dict:
    sits = {
        k: {
            "on_scene": {"dist": "exponential", "mean": mean_minutes},
            "p_transport": 0.0,
            "p_police_needed": 0.0,
            "health_first_eligible": True,
            "urgency": "acute",
        }
        for k in KINDS
    }
    return {
        "region": {"kind": "abstract", "population": 100_000, "travel_minutes": 0.0},
        "demand": {
            "rate_per_1000_per_year": lam_per_hour * 8760 / 100,
            "growth_per_year": 0.0,
            "hour_of_week_profile": "flat",
        },
        "situations": sits,
        "triage": {"screening_false_positive": 0.0},
        "call_handling": {
            "handling": {"dist": "fixed", "value": 0.0},
            "pass_on": {"dist": "fixed", "value": 0.0},
        },
        "fleet": {
            "mobilisation": {"dist": "fixed", "value": 0.0},
            "units": [{"name": f"U{i}", "base": "base", "shift": "always"} for i in range(servers)],
        },
        "dispatch": {
            "policy": "health-first",
            "max_wait_minutes": 1440.0,
            "max_response_minutes": 1440.0,
        },
        "run": {"replications": reps, "horizon_days": days, "warmup_days": 10.0, "seed": 7},
    }


def _per_rep(results, warmup: float) -> pd.DataFrame:
    log = results.log[results.log["t_arrival"] >= warmup]
    return log.groupby("replication").agg(
        p_wait=("queue_minutes", lambda q: float((q > 1e-9).mean())),
        wait=("queue_minutes", "mean"),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lam", "mean", "c"),
    [(2.0, 60.0, 3), (5.0, 30.0, 3), (1.0, 45.0, 1), (6.0, 40.0, 5)],
)
def test_erlang_c_wait_probability_and_mean_wait(lam: float, mean: float, c: int) -> None:
    results = simulate(scenario_from_dict(mmc_scenario(lam, mean, c)))
    per = _per_rep(results, 10 * 1440)
    offered = lam * mean / 60.0
    p_theory = erlang_c(c, offered)
    wq_theory = p_theory / (c / mean - lam / 60.0)
    _, lo, hi = interval(per["p_wait"].to_numpy())
    assert lo <= p_theory <= hi, (p_theory, lo, hi)
    _, lo, hi = interval(per["wait"].to_numpy())
    assert lo <= wq_theory <= hi, (wq_theory, lo, hi)
    # no call should have fallen back to police in a stable queue with a day's patience
    assert results.log["health_first"].mean() > 0.999


def test_erlang_c_matches_the_textbook_value() -> None:
    # M/M/2 with offered load 1 Erlang: C = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)


@pytest.mark.slow
def test_littles_law_for_the_queue() -> None:
    lam, mean, c = 5.0, 30.0, 3
    results = simulate(scenario_from_dict(mmc_scenario(lam, mean, c, reps=4)))
    log = results.log[results.log["replication"] == 0]
    warm, end = 10 * 1440.0, 240 * 1440.0
    # time-average number waiting, from the intervals each call spent in the queue
    arrive = log["t_arrival"].to_numpy()
    leave = log["t_dispatch"].to_numpy()
    grid = np.linspace(warm, end - 1440, 20_000)
    in_queue = np.searchsorted(np.sort(arrive), grid) - np.searchsorted(np.sort(leave), grid)
    lq = in_queue.mean()
    counted = log[(log["t_arrival"] >= warm) & (log["t_arrival"] < end - 1440)]
    lam_obs = len(counted) / (end - 1440 - warm)
    wq = counted["queue_minutes"].mean()
    assert lq == pytest.approx(lam_obs * wq, rel=0.05)


def _check_invariants(log: pd.DataFrame) -> None:
    # every call ends exactly once: one row per call, each with a responder and an end
    assert not log.duplicated(["replication", "call"]).any()
    assert log["t_scene_end"].notna().all()
    assert (log["t_first_on_scene"] >= log["t_arrival"]).all()
    assert (log["t_scene_end"] >= log["t_first_on_scene"]).all()
    unit = log[log["health_first"]]
    assert (unit["t_unit_free"] >= unit["t_scene_end"]).all()
    # no unit serves two calls at once
    for (_, _u), part in unit.groupby(["replication", "unit"]):
        part = part.sort_values("t_dispatch")
        assert (
            part["t_dispatch"].to_numpy()[1:] >= part["t_unit_free"].to_numpy()[:-1] - 1e-9
        ).all()


def test_invariants_on_the_abstract_queue() -> None:
    results = simulate(scenario_from_dict(mmc_scenario(5.0, 30.0, 3, reps=2, days=60)))
    _check_invariants(results.log)


def test_utilisation_and_overtime_against_a_minute_by_minute_count() -> None:
    """Two units with their own shifts; busy minutes counted one by one, on shift and off."""
    from planner.sim.kpis import Period, overtime_minutes, utilisation_by_hour

    rng = np.random.default_rng(3)
    horizon, warm = 3 * 10080.0, 600.0
    on_duty = np.zeros((2, 168), dtype=bool)
    on_duty[0, [h for h in range(168) if 7 <= h % 24 < 19]] = True  # days 07-19
    on_duty[1, [h for h in range(168) if h % 24 >= 17 or h % 24 < 3]] = True  # 17-03
    rows = []
    for u in (0, 1):  # back-to-back missions that never overlap within a unit
        t = 0.0
        while t < horizon:
            t += rng.exponential(120)
            d = rng.exponential(90)
            rows.append((u, t, t + d))
            t += d
    log = pd.DataFrame(rows, columns=["unit", "t_dispatch", "t_unit_free"])
    period = Period(warm, horizon, on_duty, 1650.0, 2)
    got = utilisation_by_hour(log, period)
    busy, duty, extra = np.zeros(168), np.zeros(168), {0: 0, 1: 0}
    for m in range(int(warm), int(horizon)):
        h = (m // 60) % 168
        for u in (0, 1):
            duty[h] += on_duty[u, h]
    for u, a, b in rows:
        for m in range(int(np.ceil(a)), int(np.ceil(b))):
            h = (m // 60) % 168
            if on_duty[u, h] and warm <= m < horizon:
                busy[h] += 1
            if not on_duty[u, h]:
                extra[u] += 1
    expected = np.where(duty > 0, busy / np.where(duty > 0, duty, 1), np.nan)
    seen = duty > 0
    assert np.isnan(got[~seen]).all()
    # the oracle counts whole minutes, so each mission may differ by a minute at either end
    assert np.allclose(got[seen], expected[seen], atol=0.02)
    assert (got[seen] <= 1.0).all()
    over = overtime_minutes(
        on_duty, log["unit"].to_numpy(), log["t_dispatch"].to_numpy(), log["t_unit_free"].to_numpy()
    )
    for u in (0, 1):
        mine = log["unit"].to_numpy() == u
        assert over[mine].sum() == pytest.approx(extra[u], abs=2.0 * mine.sum())
    # a mission wholly on shift has none; one from 18:30 to 20:00 on a 07-19 shift has 60 min
    one = overtime_minutes(on_duty, np.array([0, 0]), np.array([600.0, 1110.0]), [660.0, 1200.0])
    assert one.tolist() == [0.0, 60.0]
