"""The optimiser: exact against enumeration and spopt, rosters that cover, the CLI loop."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from planner import load_scenario
from planner.optimise.coverage import CoverageModel, InfeasiblePlacement
from planner.optimise.loop import Target, instance
from planner.optimise.staffing import (
    InfeasibleRoster,
    RosterModel,
    ShiftPattern,
    assign_to_vehicles,
    units_needed,
)
from planner.sim.world import erlang_c

ROOT = Path(__file__).resolve().parent.parent


def _random_model(seed: int, cells: int = 120, bases: int = 6) -> CoverageModel:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 60, (cells, bases))
    weights = rng.integers(0, 100, cells).astype(float)
    return CoverageModel.from_cost_matrix(cost, weights, 25.0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("units", "busy", "cap"), [(1, 0.0, None), (3, 0.0, 1), (3, 0.3, None), (4, 0.6, 2)]
)
def test_solver_equals_brute_force(seed: int, units: int, busy: float, cap: int | None) -> None:
    m = _random_model(seed)
    got = m.solve(units, busy, max_per_base=cap)
    best = m.brute_force(units, busy, max_per_base=cap)
    assert got.optimal
    assert got.objective == pytest.approx(best, rel=1e-9)
    assert got.units == units
    assert cap is None or max(got.counts.values()) <= cap


def test_merging_cells_with_the_same_cover_keeps_the_objective() -> None:
    rng = np.random.default_rng(5)
    cost = rng.uniform(0, 60, (300, 5))
    w = rng.uniform(0, 10, 300)
    m = CoverageModel.from_cost_matrix(cost, w, 20.0)
    assert len(m.weights) < 300
    counts = np.array([2, 0, 1, 0, 1])
    covered = (cost <= 20.0).astype(int) @ counts
    assert m.expected_coverage(counts, 0.4) == pytest.approx(float((w * (1 - 0.4**covered)).sum()))


def test_too_many_units_for_the_bases_is_an_error() -> None:
    with pytest.raises(InfeasiblePlacement):
        _random_model(0, bases=3).solve(4, max_per_base=1)


def _spopt_objective(cost: np.ndarray, weights: np.ndarray, radius: float, p: int) -> float:
    spopt = pytest.importorskip("spopt.locate", reason="spopt (test dependency) not installed")
    pulp = pytest.importorskip("pulp")
    model = spopt.MCLP.from_cost_matrix(cost, weights, radius, p_facilities=p)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    return float(model.problem.objective.value())


@pytest.mark.parametrize("seed", range(3))
def test_mclp_equals_spopt_on_random_instances(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    cost = rng.uniform(0, 50, (150, 8))
    weights = rng.integers(1, 50, 150).astype(float)
    ours = CoverageModel.from_cost_matrix(cost, weights, 18.0).solve(3, max_per_base=1)
    assert ours.objective == _spopt_objective(cost, weights, 18.0, 3)


def _region():  # type: ignore[no-untyped-def]
    return instance(load_scenario(ROOT / "simulations" / "oslo_akershus.toml"))


def test_mclp_equals_spopt_on_the_region() -> None:
    inst = _region()
    # integer demand (calls a year, rounded) so both solvers optimise the same numbers exactly
    weights = np.round(inst.calls_per_cell * 100)
    ours = CoverageModel.from_cost_matrix(inst.response, weights, 20.0, inst.bases).solve(
        5, max_per_base=1
    )
    assert ours.optimal
    assert ours.objective == _spopt_objective(inst.response, weights, 20.0, 5)


def test_full_region_with_ten_units_is_proven_optimal() -> None:
    inst = _region()
    placement = inst.coverage().solve(10, busy=0.4)
    assert placement.optimal and placement.units == 10
    # the expected coverage can only grow with more units
    assert placement.objective > inst.coverage().solve(9, busy=0.4).objective


def test_units_needed_is_the_smallest_erlang_c_staffing() -> None:
    lam = np.array([0.0, 0.5, 1.0, 2.5, 4.0])
    need = units_needed(lam, 90.0, 0.2)
    assert need[0] == 0
    for c, rate in zip(need[1:], lam[1:], strict=True):
        offered = rate * 1.5
        assert erlang_c(int(c), offered) <= 0.2
        assert c == 1 or offered >= c - 1 or erlang_c(int(c) - 1, offered) > 0.2


def test_roster_covers_every_hour_at_least_cost() -> None:
    rng = np.random.default_rng(2)
    required = np.clip(
        np.round(2 + 1.5 * np.sin(np.arange(168) / 24 * 2 * np.pi) + rng.normal(0, 0.5, 168)),
        0,
        None,
    ).astype(int)
    roster = RosterModel.from_requirement(required, unit_hour_cost=1000.0).solve()
    assert roster.optimal
    assert (roster.on_duty >= required).all()
    # a lower bound: at least the required unit-hours must be paid for
    assert roster.cost_per_week >= 1000.0 * required.sum() - 1e-6
    assert roster.cost_per_week == pytest.approx(1000.0 * roster.unit_hours_per_week)


def test_constant_need_is_met_without_waste() -> None:
    roster = RosterModel.from_requirement(
        np.ones(168, dtype=int), lengths=(8,), unit_hour_cost=1.0
    ).solve()
    assert roster.unit_hours_per_week == 168
    vehicles = assign_to_vehicles(roster)
    assert len(vehicles) == 1


def test_night_limit_can_make_a_roster_impossible() -> None:
    with pytest.raises(InfeasibleRoster):
        RosterModel.from_requirement(np.full(168, 2), max_night_shifts_per_day=0).solve()


def test_vehicles_never_run_two_shifts_at_once() -> None:
    required = np.zeros(168, dtype=int)
    required[14:26] = 3
    required[60:80] = 2
    plans = assign_to_vehicles(RosterModel.from_requirement(required).solve())
    for plan in plans:
        hours = [h for p in plan for h in p.covers()]
        assert len(hours) == len(set(hours))
    assert len(plans) == 3


def test_shift_wraps_past_sunday_midnight() -> None:
    assert ShiftPattern(6, 20, 8).covers() == [164, 165, 166, 167, 0, 1, 2, 3]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("share_health_first=>0.9", "write KPI>=VALUE"),
        ("health>=0.9", "unknown KPI 'health'"),
        ("response_p90<=1e999", "finite"),
    ],
)
def test_bad_targets_are_named(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Target.parse(text)


def test_optimize_command_writes_a_runnable_scenario(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "opt"
    r = cli(
        "optimize",
        ROOT / "simulations" / "bergen.toml",
        "--target",
        "share_health_first>=0.6",
        "--replications",
        "2",
        "--no-frontier",
        "--out",
        out,
    )
    assert r.code == 0, r.err
    assert "target share_health_first>=0.6" in r.out
    proposal = load_scenario(out / "optimised.toml")
    assert proposal.dispatch.policy == "health-first" and proposal.fleet.units
    rounds = (out / "rounds.csv").read_text().splitlines()
    assert len(rounds) >= 2
    data = tomllib.loads((out / "optimised.toml").read_text())
    assert data["region"]["name"] == "bergen"


def test_optimize_rejects_a_bad_target_without_writing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "opt"
    r = cli("optimize", ROOT / "simulations" / "bergen.toml", "--target", "nonsense", "--out", out)
    assert r.code == 2
    assert len([ln for ln in r.err.splitlines() if ln.strip()]) == 1
    assert "--target" in r.err and "Traceback" not in r.err
    assert not out.exists()
