"""CoverageModel by hand: grouping, validation, the exact solve, the greedy start, the objective."""

from __future__ import annotations

import numpy as np
import pytest

from planner.optimise.coverage import CoverageModel, InfeasiblePlacement, _integral

FAR = 50.0


def _two_bases() -> CoverageModel:
    # A alone reaches a cell of demand 10, B alone one of demand 1
    cost = np.array([[5.0, FAR], [FAR, 5.0]])
    return CoverageModel.from_cost_matrix(cost, np.array([10.0, 1.0]), 10.0, ["A", "B"])


def _greedy_trap(scale: float = 1.0) -> CoverageModel:
    # A reaches L1 (3) and L2 (2), C reaches R1 (3) and R2 (2), B reaches L1 and R1 (6 in all)
    cost = np.array(
        [[5.0, 5.0, FAR], [5.0, FAR, FAR], [FAR, 5.0, 5.0], [FAR, FAR, 5.0]],
    )
    demand = np.array([3.0, 2.0, 3.0, 2.0]) * scale
    return CoverageModel.from_cost_matrix(cost, demand, 10.0, ["A", "B", "C"])


def _rounding_trap(scale: float) -> CoverageModel:
    # groups {A}: 1.4, {A, C}: 1.4, {B}: 2.6 (times scale). One unit: A covers 2.8, B 2.6, C 1.4;
    # rounded to integers A would be worth 1 + 1 = 2 and B 3
    cost = np.array([[5.0, FAR, FAR], [5.0, FAR, 5.0], [FAR, 5.0, FAR]])
    demand = np.array([1.4, 1.4, 2.6]) * scale
    return CoverageModel.from_cost_matrix(cost, demand, 10.0, ["A", "B", "C"])


# --- from_cost_matrix ---------------------------------------------------------------------------


def test_cells_are_grouped_by_their_covering_bases_and_the_unreachable_dropped() -> None:
    cost = np.array(
        [
            [10.0, FAR],  # exactly at the threshold: A reaches it
            [FAR, 3.0],  # B
            [4.0, 7.0],  # both, but no demand: dropped
            [60.0, 11.0],  # out of reach of both: dropped
            [9.0, 10.0],  # both
            [1.0, 80.0],  # A
        ]
    )
    demand = np.array([2.0, 1.0, 0.0, 5.0, 0.5, 3.0])
    m = CoverageModel.from_cost_matrix(cost, demand, 10.0, ["A", "B"])
    # rows sorted as np.unique sorts them: B only, A only, both
    assert m.covers.tolist() == [[False, True], [True, False], [True, True]]
    assert m.weights.tolist() == [1.0, 5.0, 0.5]
    assert m.base_ids == ("A", "B")
    assert m.total == 11.5  # the dropped cells still count
    one = m.solve(1)
    assert (one.counts, one.objective, one.covered_share) == ({"A": 1}, 5.5, 5.5 / 11.5)
    two = m.solve(2)
    assert (two.counts, two.objective, two.covered_share) == ({"A": 1, "B": 1}, 6.5, 6.5 / 11.5)
    assert two.units == 2 and two.optimal


def test_base_ids_default_to_the_column_numbers() -> None:
    m = CoverageModel.from_cost_matrix(np.array([[FAR, 5.0, FAR]]), np.array([1.0]), 10.0)
    assert m.base_ids == ("0", "1", "2")
    assert m.solve(1).counts == {"1": 1}


def test_a_missing_cost_is_out_of_reach_and_a_missing_weight_is_refused() -> None:
    cost = [[None, 5.0], [5.0, None]]
    m = CoverageModel.from_cost_matrix(cost, [4.0, 1.0], 10.0, ["A", "B"])  # type: ignore[arg-type]
    assert m.covers.tolist() == [[False, True], [True, False]]
    assert m.weights.tolist() == [4.0, 1.0]
    with pytest.raises(ValueError, match=r"^weights must be finite and non-negative$"):
        CoverageModel.from_cost_matrix(np.ones((2, 2)), [1.0, None], 10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cost", "weights"),
    [
        (np.array([5.0, 5.0]), np.array([1.0, 1.0])),  # 1-D, one weight per entry
        (np.ones((2, 2, 1)), np.array([1.0, 1.0])),
        (np.ones((2, 2)), np.array([1.0, 1.0, 1.0])),  # a weight too many
        (np.ones((3, 2)), np.array([1.0, 1.0])),  # a weight too few
    ],
)
def test_a_cost_matrix_of_the_wrong_shape_is_refused(cost: np.ndarray, weights: np.ndarray) -> None:
    with pytest.raises(
        ValueError, match=r"^cost must be \[cells, bases\] with one weight per cell$"
    ):
        CoverageModel.from_cost_matrix(cost, weights, 10.0)


@pytest.mark.parametrize("bad", [-1.0, np.inf, -np.inf, np.nan])
def test_a_negative_or_infinite_weight_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^weights must be finite and non-negative$"):
        CoverageModel.from_cost_matrix(np.ones((2, 2)), np.array([1.0, bad]), 10.0)


@pytest.mark.parametrize("ids", [["A"], ["A", "B", "C"], []])
def test_one_base_id_per_column(ids: list[str]) -> None:
    with pytest.raises(ValueError, match=r"^one base id per column of cost$"):
        CoverageModel.from_cost_matrix(np.ones((2, 2)), np.ones(2), 10.0, ids)


# --- solve: refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -1])
def test_solve_refuses_fewer_than_one_unit(units: int) -> None:
    with pytest.raises(ValueError, match=r"^units must be at least 1$"):
        _two_bases().solve(units)


@pytest.mark.parametrize("busy", [-0.1, 1.0, 1.5, 2.0])
def test_solve_refuses_a_busy_share_outside_zero_to_one(busy: float) -> None:
    with pytest.raises(ValueError, match=r"^busy must be in \[0, 1\)$"):
        _two_bases().solve(1, busy=busy)


def test_units_must_fit_the_bases_and_exactly_filling_them_is_fine() -> None:
    m = _greedy_trap()
    with pytest.raises(InfeasiblePlacement, match=r"^4 units do not fit 3 bases of 1 each$"):
        m.solve(4, max_per_base=1)
    with pytest.raises(InfeasiblePlacement, match=r"^7 units do not fit 3 bases of 2 each$"):
        m.solve(7, max_per_base=2)
    full = m.solve(3, max_per_base=1)  # 1 x 3 == 3: one unit at each base
    assert (full.counts, full.objective, full.covered_share) == (
        {"A": 1, "B": 1, "C": 1},
        10.0,
        1.0,
    )


def test_no_placement_within_the_time_limit_is_infeasible() -> None:
    with pytest.raises(InfeasiblePlacement, match=r"^no placement found \(UNKNOWN\)$"):
        _two_bases().solve(1, time_limit=0.0)


# --- solve: optima by hand ----------------------------------------------------------------------


def test_the_optimum_is_not_the_greedy_placement() -> None:
    p = _greedy_trap().solve(2)
    # greedy would take B (6) and then A (+2): 8; A and C cover everything: 10
    assert (p.counts, p.objective, p.covered_share, p.optimal) == (
        {"A": 1, "C": 1},
        10.0,
        1.0,
        True,
    )
    assert 0.0 <= p.seconds < 5.0


def test_mexclp_stacks_units_where_a_second_cover_is_worth_more() -> None:
    m = _two_bases()
    # busy 0.5: the k-th cover of a cell adds (1 - q) q^(k-1) = 0.5, 0.25, 0.125 of its demand.
    # A twice: 10 x 0.75 = 7.5; A and B: 0.5 x 11 = 5.5
    two = m.solve(2, busy=0.5)
    assert (two.counts, two.objective, two.covered_share) == ({"A": 2}, 7.5, 7.5 / 11.0)
    # a third at A adds 10 x 0.125 = 1.25, at B 0.5: A three times, 8.75 (needs depth 3)
    three = m.solve(3, busy=0.5)
    assert (three.counts, three.objective) == ({"A": 3}, 8.75)
    # capped at 2 a base: A twice and B once, 7.5 + 0.5
    capped = m.solve(3, busy=0.5, max_per_base=2)
    assert (capped.counts, capped.objective) == ({"A": 2, "B": 1}, 8.0)
    # without busy units a second cover is worth nothing: A and B
    assert m.solve(2).counts == {"A": 1, "B": 1}
    # when the other cell is big enough, spreading wins: B's demand 8, A and B 0.5 x 18 = 9, A twice
    # 7.5 (a later cover worth more than the first would stack them)
    cost = np.array([[5.0, FAR], [FAR, 5.0]])
    spread = CoverageModel.from_cost_matrix(cost, np.array([10.0, 8.0]), 10.0, ["A", "B"])
    p = spread.solve(2, busy=0.5)
    assert (p.counts, p.objective) == ({"A": 1, "B": 1}, 9.0)


def test_mexclp_with_integral_coefficients() -> None:
    # demand 16 and 4, q = 0.5: coefficients 8, 4 and 2, 1 are integers. A twice: 16 x 0.75 = 12;
    # A and B: 8 + 2 = 10
    cost = np.array([[5.0, FAR], [FAR, 5.0]])
    m = CoverageModel.from_cost_matrix(cost, np.array([16.0, 4.0]), 10.0, ["A", "B"])
    p = m.solve(2, busy=0.5)
    assert (p.counts, p.objective, p.covered_share) == ({"A": 2}, 12.0, 12.0 / 20.0)


@pytest.mark.parametrize(
    "scale", [1.0, 1e-9, 123_456_789.1]
)  # scaled up, CP-SAT would refuse the last
def test_fractional_demand_is_scaled_not_rounded(scale: float) -> None:
    p = _rounding_trap(scale).solve(1)
    assert p.counts == {"A": 1}
    assert p.objective == pytest.approx(2.8 * scale, rel=1e-9)
    assert p.covered_share == pytest.approx(2.8 / 5.4, rel=1e-9)  # below 1 even if total is tiny


def test_a_model_without_demand_covers_a_share_of_zero() -> None:
    m = CoverageModel(np.array([0.0]), np.array([[True, False]]), ("A", "B"), 0.0)
    p = m.solve(1)
    assert (p.units, p.objective, p.covered_share) == (1, 0.0, 0.0)


# --- the greedy start ---------------------------------------------------------------------------


def test_greedy_by_hand() -> None:
    # B first (6 against 5 and 5), then A and C tie at +2 and the lower index wins
    g = _greedy_trap()._greedy(2, 0.0, 2)
    assert g.tolist() == [1, 1, 0] and g.dtype.kind == "i"
    # the same with every value below 1
    assert _greedy_trap(0.1)._greedy(2, 0.0, 2).tolist() == [1, 1, 0]
    m = _two_bases()
    # busy 0.5: A gains 5, then 2.5, then 1.25, always more than B's 0.5
    assert m._greedy(3, 0.5, 3).tolist() == [3, 0]
    # the cap binds: two at A, the third at B
    assert m._greedy(3, 0.5, 2).tolist() == [2, 1]
    # without busy units: A, then B (+1 against 0), then the tie at 0 goes to A
    assert m._greedy(3, 0.0, 3).tolist() == [2, 1]


# --- expected_coverage and _integral ------------------------------------------------------------


def test_expected_coverage_by_hand() -> None:
    m = _two_bases()
    assert m.expected_coverage([1, 1]) == 11.0  # type: ignore[arg-type]  # busy 0 by default
    assert m.expected_coverage([0, 3]) == 1.0  # type: ignore[arg-type]
    assert m.expected_coverage([0, 0]) == 0.0  # type: ignore[arg-type]
    assert m.expected_coverage([2, 1], 0.5) == 10.0 * 0.75 + 0.5  # type: ignore[arg-type]
    # units always busy cover nothing
    assert m.expected_coverage(np.array([2, 1]), 1.0) == 0.0


def test_integral() -> None:
    assert _integral(np.array([0.0, 1.0, 3.0, 1000.0, 2.0**50 - 1]))
    assert not _integral(np.array([0.5]))
    assert not _integral(np.array([3.0, 1e-9]))  # off by exactly the tolerance
    assert _integral(np.array([3.0, 0.5e-9]))
    assert not _integral(np.array([2.0**50]))  # too big for exact integer coefficients
    assert not _integral(np.array([1.0, 2.0**60]))


def test_a_model_with_no_demand_in_reach_places_its_units_and_covers_nothing() -> None:
    # found while pinning _integral: max() of no coefficients used to crash solve()
    model = CoverageModel.from_cost_matrix(np.array([[30.0, 40.0]]), np.array([5.0]), 10.0)
    assert len(model.weights) == 0 and model.total == 5.0
    placement = model.solve(2)
    assert placement.units == 2 and placement.objective == 0.0 and placement.covered_share == 0.0
