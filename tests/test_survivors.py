"""Details pinned because a mutant survived: each test here fails on a one-token change to the
model that no other fast test noticed (tests/mutation/README.md tells how they are found)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from planner import load_scenario
from planner.economics.appraisal import appraise, evaluate, headline, inputs, service_cost
from planner.geo.travel import TrafficRules
from planner.optimise.coverage import CoverageModel, Placement
from planner.optimise.staffing import Roster, ShiftPattern, assign_to_vehicles, units_needed
from planner.scenario.loading import replaced
from planner.scenario.model import Scenario
from planner.sim.compare import (
    baseline_of,
    calls_differ,
    paired_differences,
    police_hours_freed,
    with_baseline,
)
from planner.sim.compare import (
    paired_table as paired_differences_table,
)
from planner.sim.kpis import KPIS, on_duty_minutes, summarise
from planner.sim.run import simulate
from planner.sim.world import PoliceDistrict, erlang_c, police_waits


def _with(s: Scenario, section: str, **fields: Any) -> Scenario:
    part = getattr(s, section).model_copy(update=fields)
    return s.model_copy(update={section: part})


@pytest.fixture(scope="module")
def oslo() -> Scenario:
    return load_scenario("simulations/oslo_akershus.toml")


@pytest.fixture(scope="module")
def abstract() -> Scenario:
    return load_scenario("simulations/mmc_check.toml")


def test_two_geodata_scenarios_differ_in_calls_by_region_name_not_population(
    oslo: Scenario,
) -> None:
    # a geodata region's population is its own: a different number in the file changes nothing
    assert calls_differ(oslo, _with(oslo, "region", population=1)) == []
    assert calls_differ(oslo, _with(oslo, "region", name="bergen")) == [
        ("region.name", "oslo_akershus", "bergen")
    ]


def test_two_abstract_scenarios_differ_in_calls_by_population_not_name(abstract: Scenario) -> None:
    pop = abstract.region.population
    assert calls_differ(abstract, _with(abstract, "region", name="elsewhere")) == []
    assert calls_differ(abstract, _with(abstract, "region", population=pop + 1)) == [
        ("region.population", pop, pop + 1)
    ]


def test_a_geodata_and_an_abstract_region_differ_in_kind_name_and_population(
    oslo: Scenario, abstract: Scenario
) -> None:
    # neither rule applies across kinds: every region field counts
    pop = oslo.region.population
    b = _with(abstract, "region", name="elsewhere", population=pop + 1)
    assert calls_differ(oslo, b)[:3] == [
        ("region.kind", "geodata", "abstract"),
        ("region.name", "oslo_akershus", "elsewhere"),
        ("region.population", pop, pop + 1),
    ]


def test_demand_and_horizon_are_call_fields_in_file_order(oslo: Scenario) -> None:
    b = _with(_with(oslo, "demand", year=oslo.demand.year + 1), "run", horizon_days=7.0)
    assert calls_differ(oslo, b) == [
        ("run.horizon_days", oslo.run.horizon_days, 7.0),
        ("demand.year", oslo.demand.year, oslo.demand.year + 1),
    ]


# --- staffing: Erlang C sizing and the roster table ---------------------------------------------


@pytest.mark.parametrize("p_wait", [0.0, 1.0, 1.5, -0.1])
def test_units_needed_refuses_a_wait_probability_outside_zero_to_one(p_wait: float) -> None:
    with pytest.raises(ValueError, match=r"^p_wait must be in \(0, 1\)$"):
        units_needed(np.array([1.0]), 60.0, p_wait)


def test_units_needed_by_hand_for_one_and_two_servers() -> None:
    # M/M/1: P(wait) = the offered load a. One call an hour of 30 min: a = 0.5, one unit at
    # p_wait 0.5 (the bound met exactly, not exceeded). No calls: no unit. Three calls an hour:
    # a = 1.5 needs more than one unit; Erlang C gives P(wait) 0.643 with two (over 0.5) and
    # 0.237 with three.
    out = units_needed(np.array([1.0, 1.0, 0.0, 3.0, 3.0]), 30.0, 0.5)
    assert out.tolist() == [1, 1, 0, 3, 3]
    assert out.dtype.kind == "i"
    assert units_needed(np.array([0.2]), 30.0, 0.2).tolist() == [1]  # a = 0.1
    assert erlang_c(1, 0.5) == 0.5  # the bound is met exactly, not exceeded: one unit
    assert erlang_c(2, 1.5) == pytest.approx(0.6428571428571429)
    assert erlang_c(3, 1.5) == pytest.approx(0.23684210526315788)


def test_roster_table_rows_in_time_order() -> None:
    roster = Roster(
        {ShiftPattern(2, 19, 12): 1, ShiftPattern(0, 7, 12): 2},
        np.zeros(168, dtype=int),
        0.0,
        True,
    )
    assert roster.table() == [
        {"day": "mon", "start": "07:00", "hours": 12, "units": 2},
        {"day": "wed", "start": "19:00", "hours": 12, "units": 1},
    ]


# --- coverage: enumeration and the order of a placement's units --------------------------------

# four cells of demand 10, 6, 5, 1; bases A, B, C reach them within 10 minutes as follows:
# A reaches cells 0 and 3 (11), B reaches cell 1 (6), C reaches cells 1 and 2 (11)
COST = np.array([[5.0, 50.0, 50.0], [50.0, 5.0, 5.0], [50.0, 50.0, 5.0], [5.0, 50.0, 50.0]])
DEMAND = np.array([10.0, 6.0, 5.0, 1.0])


def _model() -> CoverageModel:
    return CoverageModel.from_cost_matrix(COST, DEMAND, 10.0, ["A", "B", "C"])


def test_brute_force_by_hand_with_and_without_busy_units() -> None:
    m = _model()
    assert m.brute_force(1) == 11.0  # A (or C): 11 of 22
    assert m.brute_force(2) == 22.0  # A and C cover everything
    # busy q = 0.5: a cell covered k times is worth 1 - 0.5^k of its demand. Two units at A and C
    # give 0.5 * 22 = 11; A twice 0.75 * 11 = 8.25: A and C it is
    assert m.brute_force(2, busy=0.5) == 11.0
    # three units, at most one per base: A, B, C: 0.5 * (10 + 1 + 5) + 0.75 * 6 = 12.5
    assert m.brute_force(3, busy=0.5, max_per_base=1) == 12.5
    # without the cap, a third unit at A is worth 0.25 * 11 = 2.75 more than 11; at C: cells 1
    # and 2 from 0.5 to 0.75 of their 11: also 2.75; at B only cell 1: 0.25 * 6 = 1.5
    assert m.brute_force(3, busy=0.5) == 13.75
    # four units cannot go one to a base over three bases: no placement, -1
    assert m.brute_force(4, max_per_base=1) == -1.0


def test_order_puts_the_most_valuable_units_first() -> None:
    m = _model()
    placement = Placement({"A": 1, "B": 1, "C": 2}, 0.0, 0.0, True, 0.0)
    # busy 0.5, greedy on the placement's own units. First: A or C gain 5.5 each, the tie goes
    # to the lower index (A). Second: C, 5.5. Third: C again (cells 1, 2: +0.25 * 11 = 2.75)
    # against B (cell 1: +0.25 * 6 = 1.5). Last: B
    assert m.order(placement, busy=0.5) == ["A", "C", "C", "B"]
    # with no busy units, a second cover is worth nothing: after A and C, B and C tie at 0 and
    # the lower index (B) goes first
    assert m.order(placement) == ["A", "C", "B", "C"]


# --- economics.headline and compare.with_baseline: what economics.json and summary.json hold ----


@pytest.fixture(scope="module")
def small_run() -> tuple[Scenario, Any, Any]:
    """Oslo/Akershus over 21 days (a week of warm-up), 3 replications, and today's service."""
    s = load_scenario("simulations/oslo_akershus.toml")
    s = s.model_copy(update={"run": s.run.model_copy(update={"horizon_days": 21.0})})
    return s, simulate(s, 3), simulate(baseline_of(s), 3)


def _t_interval(v: np.ndarray) -> list[float]:
    m, sd = float(np.mean(v)), float(np.std(v, ddof=1))
    half = float(stats.t.ppf(0.975, len(v) - 1)) * sd / np.sqrt(len(v))
    return [m, m - half, m + half]


def test_headline_holds_each_figure_with_its_own_interval(
    small_run: tuple[Scenario, Any, Any],
) -> None:
    s, res, base = small_run
    a = appraise(s, res.per_replication, base.per_replication, draws=200)
    h = headline(s, a, res.kpis)
    per, bper = res.per_replication, base.per_replication
    # KPIs of the scenario: mean and t-interval over its 3 replications, in that order
    for key in ("share_health_first", "share_police_car", "response_median", "response_p90"):
        assert getattr(h, key) == pytest.approx(_t_interval(per[key].to_numpy()), rel=1e-12), key
    # effects: the baseline's yearly figure less the scenario's, replication by replication
    freed = {
        "police_hours_freed": "police_officer_hours",
        "patrol_hours_freed": "police_patrol_hours",
        "police_car_transports_avoided": "police_car_transports_per_year",
        "police_encounters_avoided": "police_encounters_per_year",
    }
    for key, kpi in freed.items():
        d = bper[kpi].to_numpy() - per[kpi].to_numpy()
        assert getattr(h, key) == pytest.approx(_t_interval(d), rel=1e-9, abs=1e-9), key
    fte = (bper["police_officer_hours"] - per["police_officer_hours"]).to_numpy()
    fte = fte / s.costs.police_fte_hours
    assert h.police_fte_freed == pytest.approx(_t_interval(fte), rel=1e-9)
    # the appraisal's results by replication, with their intervals
    for key in ("npv", "annual_net_cost", "break_even_police_hour"):
        assert getattr(h, key) == pytest.approx(
            _t_interval(a.by_replication[key].to_numpy()), rel=1e-9
        )
    assert h.cost_per_health_first_response == pytest.approx(
        _t_interval(a.by_replication["cost_per_health_first_response"].to_numpy()), rel=1e-9
    )
    # the service: 4 vehicles at 3 bases, 16,790 unit-hours a year
    assert (h.vehicles, h.bases) == (4, 3)
    assert h.unit_hours_per_week == pytest.approx(16_790.0 / (365.0 / 7.0))
    for key in ("fte", "fte_per_seat", "cost_per_year", "police_value_per_year"):
        assert getattr(h, key) == a.point[key], key
    assert h.cost_per_year > service_cost(s)  # overtime comes on top of the roster's cost
    assert h.probability_npv_positive == a.probability_positive
    assert 0.0 <= h.probability_npv_positive <= 1.0
    assert h.horizon_years == s.appraisal.horizon_years == 10
    doc = h.to_json()
    assert len(doc) == 24  # with the P1 response gained by district (none here: erlang)
    # economics.json holds an estimate as [mean, low, high], and reads back to the same headline
    assert doc["npv"] == [h.npv.mean, h.npv.low, h.npv.high] and doc["vehicles"] == 4
    assert type(h).from_json(json.loads(json.dumps(doc))) == h


def test_service_cost_is_the_roster_staff_vehicles_and_bases(oslo: Scenario) -> None:
    # the appraisal's cost without simulated overtime (its arithmetic is pinned, line by line,
    # in test_economics_values)
    assert service_cost(oslo) == evaluate(inputs(oslo))["cost_per_year"]
    assert service_cost(oslo) == pytest.approx(39_886_954.61, abs=0.01)


def test_a_summary_with_its_baseline_carries_the_baselines_kpis_and_replications(
    small_run: tuple[Scenario, Any, Any],
) -> None:
    _, res, base = small_run
    out = with_baseline(res, base).to_json()
    mine, today = res.summary().to_json(), base.summary().to_json()
    assert list(out) == [*mine, "baseline"]
    assert {k: v for k, v in out.items() if k != "baseline"} == mine
    assert out["baseline"] == {"kpis": today["kpis"], "per_replication": today["per_replication"]}
    assert out["baseline"]["per_replication"]["replication"] == [0, 1, 2]


def test_order_follows_the_marginal_value_of_each_next_unit() -> None:
    # X reaches a cell of demand 8, Y one of 3, Z none. With busy 0.5 the k-th unit at a base
    # adds demand x 0.5^k: X 4, 2, 1; Y 1.5. Greedy: X 4, X 2, Y 1.5, X 1 (a unit miscounted at
    # X would put Y second or last). Z has no unit in the placement and never appears
    cost = np.array([[5.0, 50.0, 50.0], [50.0, 5.0, 50.0]])
    m = CoverageModel.from_cost_matrix(cost, np.array([8.0, 3.0]), 10.0, ["X", "Y", "Z"])
    placement = Placement({"X": 3, "Y": 1}, 0.0, 0.0, True, 0.0)
    assert m.order(placement, busy=0.5) == ["X", "X", "Y", "X"]


def test_vehicles_take_the_longest_shift_first_and_the_busiest_vehicle_leads() -> None:
    mon = {"day": 0}
    long, short, later = (
        ShiftPattern(**mon, start_hour=8, hours=12),
        ShiftPattern(**mon, start_hour=8, hours=4),
        ShiftPattern(**mon, start_hour=12, hours=8),
    )
    roster = Roster({short: 1, later: 1, long: 1}, np.zeros(168, dtype=int), 0.0, True)
    # first fit in order of start, the longer of two at the same hour first: 08-20 on vehicle
    # 0, 08-12 on vehicle 1, 12-20 fits vehicle 1 after it
    assert assign_to_vehicles(roster) == [[long], [short, later]]
    # the vehicle on duty most hours comes first, whatever the order first fit made them in
    early, overlapping = ShiftPattern(0, 0, 4), ShiftPattern(0, 2, 12)
    roster = Roster({early: 1, overlapping: 1}, np.zeros(168, dtype=int), 0.0, True)
    assert assign_to_vehicles(roster) == [[overlapping], [early]]


def test_todays_service_is_the_scenario_with_baseline_dispatch_and_no_units(
    oslo: Scenario,
) -> None:
    b = baseline_of(oslo)
    assert b.dispatch.policy == "baseline" and oslo.dispatch.policy == "health-first"
    assert b.dispatch.model_dump() == oslo.dispatch.model_dump() | {"policy": "baseline"}
    assert b.fleet.units == () and len(oslo.fleet.units) == 4
    assert b.fleet.model_dump() == oslo.fleet.model_dump() | {"units": ()}
    rest = set(type(oslo).model_fields) - {"dispatch", "fleet"}
    assert {k: getattr(b, k) for k in rest} == {k: getattr(oslo, k) for k in rest}
    assert not b.units_are_active


# --- world: the police districts' M/M/c ---------------------------------------------------------


def test_erlang_c_is_one_when_the_load_reaches_the_servers() -> None:
    # a = c: rho = 1 and every arrival waits (the formula gives b / b = 1 too); a > c: unstable
    assert erlang_c(2, 2.0) == 1.0
    assert erlang_c(2, 3.5) == 1.0
    assert erlang_c(1, 0.0) == 0.0


def test_a_police_district_by_hand() -> None:
    # 2 patrols at 50 % other work: a = 1 Erlang; P(wait) = Erlang C(2, 1) = 1/3; the wait, given
    # all are busy, is one other job's 30 min over the free capacity c - a = 1: 30 min
    d = PoliceDistrict.erlang(2, 0.5, 30.0)
    assert (d.patrols, d.mean_wait) == (2, 30.0)
    assert d.p_wait == pytest.approx(1 / 3, rel=1e-12)
    # 4 patrols always busy: every call waits, for ever; no patrol at all: the same
    assert PoliceDistrict.erlang(4, 1.0, 30.0) == PoliceDistrict(4, 1.0, math.inf)
    assert PoliceDistrict.erlang(0, 0.5, 30.0) == PoliceDistrict(0, 1.0, math.inf)


# --- simulation: what summary.json holds; kpis: the shift clock of no mission -------------------


def test_the_summary_of_a_run_is_its_name_size_seed_tables_and_hours(
    small_run: tuple[Scenario, Any, Any],
) -> None:
    s, res, _ = small_run
    out = res.summary().to_json()
    assert list(out) == [
        "scenario",
        "replications",
        "seed",
        "kpis",
        "per_replication",
        "utilisation_by_hour_of_week",
    ]
    assert (out["scenario"], out["replications"], out["seed"]) == (
        "Psykiatrisk ambulanse: 4 enheter",
        3,
        s.run.seed,
    )
    json.dumps(out, allow_nan=False)  # NaN written as null, never as NaN
    kpis = res.kpis
    assert [r["kpi"] for r in out["kpis"]] == list(kpis["kpi"])
    for r, mean in zip(out["kpis"], kpis["mean"], strict=True):
        assert r["mean"] is None if math.isnan(mean) else r["mean"] == mean
    assert out["per_replication"]["replication"] == [0, 1, 2]
    assert out["per_replication"]["calls_per_year"] == list(res.per_replication["calls_per_year"])
    util = out["utilisation_by_hour_of_week"]
    assert len(util) == 168
    assert [u is None for u in util] == list(np.isnan(res.utilisation))
    assert None in util  # no unit is on duty in some hours of the default fleet
    assert [u for u in util if u is not None] == list(res.utilisation[~np.isnan(res.utilisation)])


def test_on_duty_minutes_of_no_mission_is_an_empty_array() -> None:
    got = on_duty_minutes(np.ones((1, 168), dtype=bool), np.array([], dtype=int), np.array([]))
    assert got.shape == (0,)


def test_the_traffic_rules_are_the_scenarios(oslo: Scenario) -> None:
    from planner.sim.world import _rules

    travel = oslo.travel.model_copy(
        update={
            "emergency_speed_factor": 1.1,
            "rush_hour_factor": 1.7,
            "rush_hours": [6, 17],
            "emergency_rush_damping": 0.3,
        }
    )
    rules = _rules(oslo.model_copy(update={"travel": travel}))
    assert rules == TrafficRules(1.1, 1.7, (6, 17), 0.3)


# --- compare: pairing and the police hours freed --------------------------------------------------


def test_police_hours_freed_is_the_paired_difference_by_hand(
    small_run: tuple[Scenario, Any, Any],
) -> None:
    _, res, base = small_run
    d = base.per_replication["police_officer_hours"] - res.per_replication["police_officer_hours"]
    want = _t_interval(d.to_numpy())
    assert police_hours_freed(base, res) == pytest.approx(want, rel=1e-12)
    assert want[0] > 0  # the service frees police hours


def test_runs_of_other_replications_or_seeds_are_not_paired(
    small_run: tuple[Scenario, Any, Any],
) -> None:
    _, res, base = small_run
    fewer = dataclasses.replace(res, per_replication=res.per_replication.iloc[:2])
    with pytest.raises(
        ValueError, match=r"^scenarios must be run with the same replications to be paired$"
    ):
        paired_differences(base, fewer)
    other = res.scenario.model_copy(
        update={"run": res.scenario.run.model_copy(update={"seed": res.scenario.run.seed + 1})}
    )
    with pytest.raises(
        ValueError, match=r"^scenarios must be run with the same seed to be paired$"
    ):
        paired_differences(base, dataclasses.replace(res, scenario=other))


def test_the_kpi_table_names_each_kpi_with_its_label_and_unit() -> None:
    per_rep = pd.DataFrame(
        {"replication": [0, 1], "response_median": [20.0, 22.0], "a_figure_of_its_own": [1.0, 3.0]}
    )
    table = summarise(per_rep)
    assert list(table.columns) == ["kpi", "label", "unit", "mean", "ci_low", "ci_high"]
    first, second = table.to_dict(orient="records")
    kpi = next(k for k in KPIS if k.key == "response_median")
    half = float(stats.t.ppf(0.975, 1)) * np.std([20.0, 22.0], ddof=1) / np.sqrt(2)
    assert first == {
        "kpi": "response_median",
        "label": kpi.label,
        "unit": kpi.unit,
        "mean": 21.0,
        "ci_low": pytest.approx(21.0 - half),
        "ci_high": pytest.approx(21.0 + half),
    }
    # a column that is no KPI of this planner (a store written by another version, say) is
    # summarised under its own name, without a unit
    assert (second["kpi"], second["label"], second["unit"], second["mean"]) == (
        "a_figure_of_its_own",
        "a_figure_of_its_own",
        "",
        2.0,
    )


def test_a_patrol_is_free_at_once_when_the_draw_is_at_the_wait_probability() -> None:
    d = PoliceDistrict.erlang(2, 0.5, 30.0)  # P(wait) = 1/3, mean wait 30 min
    none = PoliceDistrict.erlang(0, 0.5, 30.0)  # no patrol: every call waits for ever
    below = float(np.nextafter(d.p_wait, 0.0))
    u = np.array([[d.p_wait, 0.5], [below, 0.5], [0.9, 0.5], [0.0, 0.0], [0.1, 1.0]])
    waits = police_waits([d, none], np.array([0, 0, 1, 0, 1]), u)
    assert waits[0] == 0.0  # u >= P(wait): no wait
    assert waits[1] == -math.log(0.5) * 30.0  # just below: exponential, by inversion
    assert waits[2] == math.inf
    assert waits[3] == -math.log(1e-300) * 30.0  # a zero uniform is taken as 1e-300
    assert waits[4] == math.inf  # -log(1) * inf would be NaN: no patrol is for ever


# --- simulation: overrides, progress, the log streamed ------------------------------------------


def _mmc(days: float) -> Scenario:
    # a short run is given a warm-up shorter than it (a scenario is validated whole again)
    s = load_scenario("simulations/mmc_check.toml")
    return replaced(s, {"run.horizon_days": days, "run.warmup_days": days / 4})


def test_a_seed_or_replications_given_override_the_scenarios_run() -> None:
    s = _mmc(4.0)
    seeded = replaced(s, {"run.seed": 99})
    by_arg = simulate(s, seed=99)  # replications from the file: 10
    assert (by_arg.scenario.run.seed, len(by_arg.per_replication)) == (99, s.run.replications)
    pd.testing.assert_frame_equal(by_arg.per_replication, simulate(seeded).per_replication)
    two = simulate(s, 2)
    assert (two.scenario.run.seed, len(two.per_replication)) == (s.run.seed, 2)
    assert two.scenario.run.horizon_days == 4.0


def test_progress_is_told_each_replication_and_the_log_streams_to_a_file(tmp_path: Any) -> None:
    s = _mmc(4.0)
    told: list[tuple[int, int]] = []
    path = tmp_path / "events.parquet"
    streamed = simulate(s, 3, progress=lambda done, n: told.append((done, n)), log_to=path)
    assert told == [(1, 3), (2, 3), (3, 3)]
    kept = simulate(s, 3)
    assert len(streamed.log) == 0 and len(kept.log) > 0
    pd.testing.assert_frame_equal(pd.read_parquet(path), kept.log)
    pd.testing.assert_frame_equal(streamed.kpis, kept.kpis)


def test_a_paired_table_by_hand() -> None:
    a = pd.DataFrame({"replication": [0, 1, 2], "response_median": [20.0, 24.0, 22.0]})
    b = pd.DataFrame({"replication": [1, 2, 3], "response_median": [18.0, 21.0, 5.0]})
    table = paired_differences_table(a, b)
    # only replications 1 and 2 are in both: B - A = -6 and -1
    assert list(table.columns) == [
        "kpi",
        "label",
        "unit",
        "a",
        "b",
        "difference",
        "ci_low",
        "ci_high",
    ]
    row = table.iloc[0].to_dict()
    half = float(stats.t.ppf(0.975, 1)) * np.std([-6.0, -1.0], ddof=1) / np.sqrt(2)
    assert (row["kpi"], row["a"], row["b"], row["difference"]) == (
        "response_median",
        23.0,
        19.5,
        -3.5,
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-3.5 - half, -3.5 + half))
    with pytest.raises(
        ValueError, match=r"^the two scenarios have no replication in common to pair$"
    ):
        paired_differences_table(a, b.assign(replication=[7, 8, 9]))


# -- what simulation keeps of each replication (Replications, _Rows) ---------------------------


def _replication_frame(replication: int, arrivals: list[float], zone: str) -> pd.DataFrame:
    n = len(arrivals)
    return pd.DataFrame(
        {
            "replication": [replication] * n,
            "t_arrival": arrivals,
            "response_minutes": [10.0 + i for i in range(n)],
            "zone": [zone] * n,
            "hour_of_week": [int(t // 60) % 168 for t in arrivals],
            # what the KPIs by cohort of callers read
            "caller": [-1] * n,
            "health_first": [True] * n,
            "eligible_kind": [True] * n,
            "police_involved": [False] * n,
            "transport_mode": ["none"] * n,
            "officer_hours": [0.0] * n,
        }
    )


def test_replications_keep_the_ones_added_so_far_with_whole_numbered_replications() -> None:
    from planner.sim.run import Replications

    util = np.full(168, 0.5)
    parts = Replications(_period(0.0, 525_600.0, list(range(168))), total=3)
    empty = parts.per_replication()
    assert list(empty.columns) == ["replication"] and len(empty) == 0
    parts.add(5, _replication_frame(5, [1.0], "a"), {"x": 1.5, "y": 2.0}, util)
    parts.add(7, _replication_frame(7, [2.0], "a"), {"x": 3.5, "y": 4.0}, util)
    per = parts.per_replication()  # two of the three: a run stopped early
    assert per["replication"].tolist() == [5, 7]
    assert per["replication"].dtype == np.int64
    assert per["x"].tolist() == [1.5, 3.5] and per["y"].tolist() == [2.0, 4.0]


def test_utilisation_leaves_hours_no_unit_is_on_duty_empty_without_a_warning() -> None:
    import warnings

    from planner.sim.run import Replications

    parts = Replications(_period(0.0, 525_600.0, list(range(168))), total=2)
    a, b = np.full(168, np.nan), np.full(168, np.nan)
    a[:10], b[:10] = 0.2, 0.6  # on duty in the first ten hours of the week only
    a[10], b[11] = 0.9, 0.3  # one replication each sees an hour the other does not
    parts.add(0, _replication_frame(0, [1.0], "a"), {"x": 1.0}, a)
    parts.add(1, _replication_frame(1, [1.0], "a"), {"x": 1.0}, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nanmean of an all-empty hour would warn
        util = parts.utilisation()
    assert util[:10] == pytest.approx([0.4] * 10)
    assert util[10] == pytest.approx(0.9) and util[11] == pytest.approx(0.3)
    assert np.isnan(util[12:]).all()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_rows_gives_every_row_in_the_order_added_numbered_from_zero(count: int) -> None:
    from planner.sim.run import _Rows

    rows = _Rows()
    rows.add(pd.DataFrame({"v": pd.Series([], dtype=float)}))  # no rows: only its columns
    frames = [
        pd.DataFrame({"v": [float(i), i + 0.5]}, index=[10 * i, 10 * i + 1]) for i in range(count)
    ]
    for f in frames:
        rows.add(f)
    out = rows.frame()
    assert out["v"].tolist() == [v for f in frames for v in f["v"]]
    assert out.index.tolist() == list(range(2 * count))
    assert _Rows().frame().empty  # nothing added at all: an empty frame, not None
    none = _Rows()
    none.add(pd.DataFrame({"v": pd.Series([], dtype=float)}))
    assert list(none.frame().columns) == ["v"] and none.frame().empty


# -- kpis: the edges of a replication's counting ------------------------------------------------


def test_busy_minutes_by_a_time_worked_by_hand() -> None:
    from planner.sim.kpis import _busy_until

    start, end = np.array([30.0, 10.0]), np.array([50.0, 20.0])  # given out of order
    t = np.array([0.0, 10.0, 15.0, 25.0, 30.0, 40.0, 60.0])
    assert _busy_until(start, end, t).tolist() == [0.0, 0.0, 5.0, 10.0, 10.0, 20.0, 30.0]


def _period(warmup: float, horizon: float, hours_on: list[int]) -> Any:
    from planner.sim.kpis import Period

    on = np.zeros((1, 168))
    on[0, hours_on] = 1
    return Period(warmup, horizon, on, 1600.0, 2)


def test_half_a_minute_on_shift_busy_throughout_is_all_busy() -> None:
    import warnings

    from planner.sim.kpis import on_shift_utilisation

    log = pd.DataFrame({"unit": [0], "t_dispatch": [0.0], "t_unit_free": [60.0]})
    period = _period(59.5, 60.0, [0])  # counting starts 30 s before the shift's hour ends
    assert on_shift_utilisation(log, period) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0 / 0 would warn
        assert math.isnan(on_shift_utilisation(log, _period(0.0, 60.0, [5])))  # never on shift


def test_a_share_among_no_calls_is_empty_without_a_warning() -> None:
    import warnings

    from planner.sim.kpis import _share

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(_share(pd.Series([True, True]), pd.Series([False, False])))
        assert _share(pd.Series([True, False, True]), pd.Series([True, True, False])) == 0.5


def test_a_call_at_the_end_of_the_warm_up_is_counted() -> None:
    from planner.sim.kpis import replication_kpis
    from planner.sim.run import period_of, run_replication

    s = load_scenario("simulations/mmc_check.toml")
    s = s.model_copy(update={"run": s.run.model_copy(update={"horizon_days": 3, "warmup_days": 0})})
    log, _, _ = run_replication(s, 0)
    period = period_of(s)
    at = float(log["t_arrival"].iloc[len(log) // 2])
    warm = dataclasses.replace(period, warmup=at)
    counted = replication_kpis(log, warm)["calls_per_year"]
    after = int((log["t_arrival"] >= at).sum())  # the call arriving at the warm-up's end too
    assert counted * warm.years == pytest.approx(after, rel=1e-12)


def test_unit_mobilisation_is_drawn_from_its_own_stream() -> None:
    """A random unit mobilisation (the default is fixed) is drawn from the call stream's own
    generator for it: reproducible, varying, with the mean asked for, and nothing else moves."""
    from planner import scenario_from_dict
    from planner.sim.demand import cell_weights, generate_calls
    from planner.sim.world import build_world

    run = {"run": {"horizon_days": 30.0, "warmup_days": 0.0, "seed": 11}}
    varying = {"fleet": {"mobilisation": {"dist": "lognormal", "mean": 4.0, "sd": 2.0}}}
    a = scenario_from_dict(run)
    b = scenario_from_dict(run | varying)
    world = build_world(a)
    rates = cell_weights(a, world.cell_population, world.cell_zone)
    fixed, drawn = generate_calls(a, rates, 0), generate_calls(b, rates, 0)
    assert (fixed.unit_mobilisation == 2.0).all()
    assert np.array_equal(drawn.unit_mobilisation, generate_calls(b, rates, 0).unit_mobilisation)
    assert drawn.unit_mobilisation.std() > 1.0
    assert drawn.unit_mobilisation.mean() == pytest.approx(4.0, rel=0.05)
    assert np.array_equal(fixed.t, drawn.t) and np.array_equal(fixed.on_scene, drawn.on_scene)


def test_hourly_utilisation_counts_only_between_the_warm_up_and_the_horizon() -> None:
    import warnings

    from planner.sim.kpis import on_shift_utilisation, utilisation_by_hour

    # busy 0-30; counting from 59.5 to 60: half a minute on shift, none of it busy
    log = pd.DataFrame({"unit": [0], "t_dispatch": [0.0], "t_unit_free": [30.0]})
    period = _period(59.5, 60.0, [0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the hours off shift are 0 / 0: NaN without a warning
        util = utilisation_by_hour(log, period)
    assert util[0] == 0.0 and np.isnan(util[1:]).all()
    assert on_shift_utilisation(log, period) == 0.0
    # busy 80-120, the run ends at 90: hour 1 counts 60-90, 10 of its 30 minutes busy
    log = pd.DataFrame({"unit": [0], "t_dispatch": [80.0], "t_unit_free": [120.0]})
    util = utilisation_by_hour(log, _period(0.0, 90.0, [0, 1]))
    assert util[0] == 0.0 and util[1] == pytest.approx(1 / 3)


def test_an_abstract_region_has_ten_patrols_unless_told() -> None:
    from planner import scenario_from_dict
    from planner.sim.world import build_world

    police = {"other_work_utilisation": 0.6, "other_job": 45.0}
    s = scenario_from_dict({"region": {"kind": "abstract"}, "police": police})
    assert build_world(s).districts == (PoliceDistrict.erlang(10, 0.6, 45.0),)
    told = scenario_from_dict(
        {"region": {"kind": "abstract"}, "police": police | {"patrols": {"abstract": 4}}}
    )
    assert build_world(told).districts == (PoliceDistrict.erlang(4, 0.6, 45.0),)


def test_the_log_names_each_calls_demand_cell() -> None:
    from planner.sim.run import run_replication

    s = load_scenario("simulations/oslo_akershus.toml")
    s = s.model_copy(update={"run": s.run.model_copy(update={"horizon_days": 2, "warmup_days": 0})})
    log, _, _ = run_replication(s, 0)
    from planner.geo.geodata import load_region

    cells = load_region("oslo_akershus").cells
    assert log["cell"].between(0, len(cells) - 1).all()
    # a call's cell lies in the call's zone
    assert (cells["zone_code"].to_numpy()[log["cell"].to_numpy()] == log["zone"].to_numpy()).all()


# -- economics.evaluate: inputs left out, and a police-car share simulated as nil --------------


def test_evaluate_reads_missing_effects_as_none_and_a_nil_simulated_share_as_no_scaling() -> None:
    import warnings

    s = load_scenario("simulations/oslo_akershus.toml")
    price = s.costs.police_officer_hour
    x = inputs(s)  # no simulated effects at all: nothing freed, nothing to scale
    for key in ("sim.police_car_share_simulated", "dispatch.police_car_share_today"):
        x.pop(key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no hours freed: the break-even price is inf, unwarned
        out = evaluate(x)
    assert out["police_hours_freed"] == 0.0 and out["police_value_per_year"] == 0.0
    assert out["break_even_police_hour"] == math.inf
    assert math.isnan(out["cost_per_health_first_response"])
    # 1,000 h freed of which 400 on police-car transports; today's share 0.5 where the run had
    # 0.8: the 400 scale by 0.5 / 0.8 -> 1,000 + (0.625 - 1) * 400 = 850 h
    x |= {"sim.officer_hours_freed": 1000.0, "sim.police_car_officer_hours_freed": 400.0}
    share = {"sim.police_car_share_simulated": 0.8, "dispatch.police_car_share_today": 0.5}
    assert evaluate(x | share)["police_hours_freed"] == pytest.approx(850.0)
    # no share given: the simulated one, so no scaling; none simulated either: taken as 1
    assert evaluate(x | {"sim.police_car_share_simulated": 0.8})["police_hours_freed"] == 1000.0
    assert evaluate(x | {"dispatch.police_car_share_today": 0.5})["police_hours_freed"] == 800.0
    # a run with no police car at all (share 0) gives no scale: the hours stay as simulated
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no 0 / 0
        nil = evaluate(
            x | {"sim.police_car_share_simulated": 0.0, "dispatch.police_car_share_today": 0.5}
        )
    assert nil["police_hours_freed"] == 1000.0
    assert nil["police_value_per_year"] == pytest.approx(1000.0 * price)
    # no hours on police-car transports given: nothing to scale
    alone = {k: v for k, v in x.items() if k != "sim.police_car_officer_hours_freed"}
    assert evaluate(alone | share)["police_hours_freed"] == 1000.0
    # no service at all costs nothing and frees nothing: a break-even price of 0 / 0, unwarned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        none = evaluate(inputs(load_scenario("simulations/baseline.toml")))
    assert none["cost_per_year"] == 0.0 and math.isnan(none["break_even_police_hour"])


def test_annuities_for_several_horizons_at_one_rate() -> None:
    from planner.economics.appraisal import annuity_factor

    # sum of 1.04^-t for t = 1..n is (1 - 1.04^-n) / 0.04: 8.1109 for 10 years, 13.5903 for 20
    got = annuity_factor(0.04, np.array([10.0, 20.0]))
    assert got == pytest.approx([(1 - 1.04**-10) / 0.04, (1 - 1.04**-20) / 0.04], rel=1e-12)
    assert got == pytest.approx([8.1109, 13.5903], abs=1e-4)


def test_prepare_builds_the_world_the_replications_then_find(abstract: Scenario) -> None:
    from planner.sim.run import prepare
    from planner.sim.world import _abstract_world, build_world

    _abstract_world.cache_clear()
    prepare(abstract)
    assert _abstract_world.cache_info().currsize == 1  # built
    world = build_world(abstract)
    assert _abstract_world.cache_info().hits == 1  # found, not built again
    assert build_world(abstract) is world


def test_the_kpis_of_a_log_out_of_order_are_those_of_the_log_in_order(abstract: Scenario) -> None:
    """A replication writes its log in order of arrival, and its counted calls are taken as a
    slice; a log in any other order (the first call still the earliest) gives the same KPIs,
    and a call at the very minute the warm-up ends counts."""
    from planner.sim.kpis import replication_kpis
    from planner.sim.run import period_of, run_replication

    s = replaced(abstract, {"run.horizon_days": 20.0, "run.warmup_days": 5.0})
    log = run_replication(s, 0)[0]
    period = period_of(s)
    i = int(np.searchsorted(log["t_arrival"].to_numpy(), period.warmup))
    log.loc[i, "t_arrival"] = period.warmup  # exactly at the end of the warm-up: counted
    ordered = replication_kpis(log, period)
    rng = np.random.default_rng(0)
    rest = rng.permutation(np.arange(1, len(log)))
    shuffled = log.iloc[np.concatenate([[0], rest])].reset_index(drop=True)
    assert shuffled["t_arrival"].iloc[0] == shuffled["t_arrival"].min()
    assert not shuffled["t_arrival"].is_monotonic_increasing
    again = replication_kpis(shuffled, period)
    assert again.keys() == ordered.keys()
    for key, value in ordered.items():
        assert again[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key
    counted = len(log) - i  # the call at the warm-up's end and every one after it
    assert ordered["calls_per_year"] == pytest.approx(counted / (15 / 365.0), rel=1e-12)
