"""RosterModel and ShiftPattern.night_hours on rosters small enough to work out by hand.

Each case restricts the allowed lengths and start hours so the cheapest roster is unique; the
shifts, their cost and the returned requirement are then exact.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from ortools.linear_solver import pywraplp

from planner.optimise.staffing import InfeasibleRoster, RosterModel, ShiftPattern

MON, SUN = 0, 6


def need(*hours: int, units: int = 1) -> np.ndarray:
    """``units`` in each of ``hours`` (hours of the week), none elsewhere."""
    out = np.zeros(168, dtype=int)
    out[list(hours)] = units
    return out


@pytest.mark.parametrize(
    ("pattern", "night"),
    [
        (ShiftPattern(MON, 8, 8), 0),  # 08-16
        (ShiftPattern(MON, 18, 8), 4),  # 18-02 past midnight: 22, 23, 00, 01
        (ShiftPattern(SUN, 20, 8), 6),  # Sunday 20-04, wrapping to Monday: 22, 23, 00-03
        (ShiftPattern(2, 5, 2), 1),  # Wednesday 05-07: 05 only
        (ShiftPattern(3, 0, 24), 8),  # all of Thursday: 00-05, 22, 23
    ],
)
def test_night_hours_by_hand(pattern: ShiftPattern, night: int) -> None:
    assert pattern.night_hours() == night


def test_one_shift_covers_the_need_at_unit_cost() -> None:
    # 1 unit Monday 09-17. Hour 16 is covered only by Mon 09+8 (cost 8) or Mon 12+8, and
    # Mon 12+8 needs a second shift for 09-11 (at least 12 in all): Mon 09+8 alone is cheapest.
    required = need(*range(9, 17))
    roster = RosterModel.from_requirement(
        required, lengths=(4, 8), start_hours=(12, 9, 8, 9)
    ).solve()
    assert roster.shifts == {ShiftPattern(MON, 9, 8): 1}
    assert roster.cost_per_week == 8.0  # default unit_hour_cost = 1
    assert roster.optimal
    np.testing.assert_array_equal(roster.required, required)
    priced = RosterModel.from_requirement(
        required, lengths=(4, 8), start_hours=(8, 9, 12), unit_hour_cost=25.0
    ).solve()
    assert priced.shifts == {ShiftPattern(MON, 9, 8): 1}
    assert priced.cost_per_week == 200.0


def test_two_units_run_the_same_shift_twice() -> None:
    roster = RosterModel.from_requirement(
        need(*range(9, 17), units=2), lengths=(8,), start_hours=(9,)
    ).solve()
    assert roster.shifts == {ShiftPattern(MON, 9, 8): 2}
    assert roster.cost_per_week == 16.0


def test_a_repeated_length_is_one_pattern() -> None:
    # Mon 09+8 (cost 8) beats Mon 09+12 (cost 12); counted twice, 8 would weigh 16
    roster = RosterModel.from_requirement(
        need(*range(9, 17)), lengths=(8, 12, 8), start_hours=(9,)
    ).solve()
    assert roster.shifts == {ShiftPattern(MON, 9, 8): 1}
    assert roster.cost_per_week == 8.0


def test_required_comes_back_as_integer_counts() -> None:
    required = need(*range(9, 17)).astype(float)
    roster = RosterModel.from_requirement(required, lengths=(8,), start_hours=(9,)).solve()
    assert roster.required.dtype == np.dtype(int)
    np.testing.assert_array_equal(roster.required, need(*range(9, 17)))


@pytest.mark.parametrize(
    "required",
    [np.ones(167, dtype=int), np.ones((168, 1), dtype=int), need(5) - need(30)],
    ids=["167 hours", "168x1", "negative count"],
)
def test_bad_requirement_is_refused(required: np.ndarray) -> None:
    message = "required must be 168 non-negative unit counts"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        RosterModel.from_requirement(required).solve()


def test_night_premium_moves_the_shift_off_the_night() -> None:
    # 1 unit Monday 20-24. Mon 18+8 (4 night hours) or Mon 12+12 (2 night hours: 22, 23);
    # Mon 18+12 has 8 night hours. Sunday's shifts end before Monday 20.
    required = need(20, 21, 22, 23)
    plain = RosterModel.from_requirement(required, lengths=(8, 12), start_hours=(12, 18)).solve()
    assert plain.shifts == {ShiftPattern(MON, 18, 8): 1}
    assert plain.cost_per_week == 8.0
    # premium 3: 18+8 costs 8 + 3*4 = 20, 12+12 costs 12 + 3*2 = 18, 18+12 costs 12 + 3*8 = 36
    night = RosterModel.from_requirement(
        required, lengths=(8, 12), start_hours=(12, 18), night_premium=3.0
    ).solve()
    assert night.shifts == {ShiftPattern(MON, 12, 12): 1}
    assert night.cost_per_week == 18.0
    paid = RosterModel.from_requirement(
        required, lengths=(8, 12), start_hours=(12, 18), night_premium=3.0, unit_hour_cost=2.0
    ).solve()
    assert paid.shifts == {ShiftPattern(MON, 12, 12): 1}
    assert paid.cost_per_week == 36.0


def test_night_limit_moves_a_shift_to_sunday() -> None:
    # 1 unit Monday 00-02, 10-12 and 22-24, shifts of 2 or 8 hours starting at 00, 10, 16, 22.
    # Unlimited: Mon 00+2, 10+2, 22+2 (cost 6), two of them Monday night shifts. At most one
    # night shift a day: Monday 00-02 must come from Sunday 22+8 (cost 8), so the cost is 12.
    required = need(0, 1, 10, 11, 22, 23)
    free = RosterModel.from_requirement(
        required, lengths=(2, 8), start_hours=(0, 10, 16, 22)
    ).solve()
    assert free.shifts == {
        ShiftPattern(MON, 0, 2): 1,
        ShiftPattern(MON, 10, 2): 1,
        ShiftPattern(MON, 22, 2): 1,
    }
    assert free.cost_per_week == 6.0
    limited = RosterModel.from_requirement(
        required, lengths=(2, 8), start_hours=(0, 10, 16, 22), max_night_shifts_per_day=1
    ).solve()
    assert limited.shifts == {
        ShiftPattern(SUN, 22, 8): 1,
        ShiftPattern(MON, 10, 2): 1,
        ShiftPattern(MON, 22, 2): 1,
    }
    assert limited.cost_per_week == 12.0
    assert limited.optimal


def test_night_limit_counts_a_shift_with_one_night_hour() -> None:
    # 1 unit Monday 05 and 22: only Mon 05+2 (05, 06) and Mon 21+2 (21, 22) cover them, each a
    # night shift by one hour.
    required = need(5, 22)
    two = RosterModel.from_requirement(
        required, lengths=(2,), start_hours=(5, 21), max_night_shifts_per_day=2
    ).solve()
    assert two.shifts == {ShiftPattern(MON, 5, 2): 1, ShiftPattern(MON, 21, 2): 1}
    assert two.cost_per_week == 4.0
    message = "no roster of the allowed shifts covers every hour within the night-shift limit"
    with pytest.raises(InfeasibleRoster, match=f"^{re.escape(message)}$"):
        RosterModel.from_requirement(
            required, lengths=(2,), start_hours=(5, 21), max_night_shifts_per_day=1
        ).solve()


def test_time_limit_reaches_the_solver_in_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    limits: list[int] = []
    set_time_limit = pywraplp.Solver.SetTimeLimit

    def spy(solver: pywraplp.Solver, ms: int) -> None:
        limits.append(ms)
        set_time_limit(solver, ms)

    monkeypatch.setattr(pywraplp.Solver, "SetTimeLimit", spy)
    RosterModel.from_requirement(need(9), lengths=(8,), start_hours=(9,)).solve()
    RosterModel.from_requirement(need(9), lengths=(8,), start_hours=(9,)).solve(2.5)
    assert limits == [30_000, 2_500]
