"""The appraisal's values against arithmetic done by hand, never by the function under test.

Discounted flows are summed year by year in plain loops; the defaults' staffing and cost are
worked through from the numbers written in ``planner/data/defaults.toml``; every range in
``planner/data/uncertainty.toml`` must move the net present value in its direction by an amount
derived for that input alone. The Monte Carlo draws are checked against numpy seeded as
documented (the seed and the input's name). No simulation runs: the simulated effects are a
hand-made frame.
"""

from __future__ import annotations

import tomllib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from planner import scenario_from_dict
from planner.economics.appraisal import (
    Range,
    Service,
    annuity_factor,
    appraise,
    discount_factor,
    draw,
    effects,
    evaluate,
    inputs,
    monte_carlo,
    probability_positive,
    ranges,
    service,
    tornado,
)
from planner.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent

# -- the defaults (planner/data/defaults.toml) and a four-unit design, by hand ----------------

NURSE, PARAMEDIC = 53_360.0, 53_280.0  # NOK a month
SHIFT, SOCIAL, OVERHEAD, ABSENCE = 0.15, 0.30, 0.15, 0.07
OVERTIME = 0.50  # overtime supplement on the ordinary hourly wage
WEEKLY, LEAVE, HOLIDAYS = 35.5, 5.0, 10.0  # h a week, weeks a year, weekdays a year
VEHICLE, BASE = 450_000.0, 300_000.0  # NOK a year each
PRICE, POLICE_FTE = 790.0, 1_650.0  # NOK an officer-hour, h a police FTE
RATE, TAX, YEARS = 0.04, 0.20, 10
CAR_SHARE = 0.89  # dispatch.police_car_share_today, as simulated

# the default scenario's fleet: two 14-02 units, one 07-19 and one 17-03, every day,
# crews of 3 (2 psychiatric nurses + 1 paramedic), 4 vehicles at 3 bases
UNITS = [
    {"name": "Oslo evening", "base": "oslo_legevakt", "shift": "evening"},
    {"name": "Oslo day", "base": "oslo_legevakt", "shift": "day"},
    {"name": "Romerike evening", "base": "ahus", "shift": "evening"},
    {"name": "Vest late", "base": "baerum_sykehus", "shift": "late"},
]
UNIT_HOURS = (12 + 12 + 12 + 10) * 365.0  # 16,790 h: 46 h a day, 7 days a week, 365/7 weeks
NURSES, PARAMEDICS, VEHICLES, BASES = 2, 1, 4, 3

# two replications' simulated effects; their means are what the point estimate uses
HOURS_FREED = 23_950.0  # mean of 23,900 and 24,000 officer-hours a year
CAR_HOURS = 5_050.0  # of which on police-car transports by police alone: 5,000 and 5,100
OVERTIME_HOURS = 410.0  # unit-hours past the end of a shift: 400 and 420
RESPONSES = 7_628.0  # mean of 7,600 and 7,656 health-first responses a year

# 35.5 h x (365/7 - 5 weeks of leave - 10/5 weeks of public holidays) = 1,602.571 h a year,
# of which 93 % staff a seat: 1,490.391 h
HOURS_PER_FTE = WEEKLY * (365.0 / 7.0 - LEAVE - HOLIDAYS / 5.0)
PRODUCTIVE = HOURS_PER_FTE * (1.0 - ABSENCE)
# one post a year: pay x 12 x 1.15 x 1.30 = NOK 957,278.40 (nurse), 955,843.20 (paramedic)
NURSE_YEAR = NURSE * 12 * (1 + SHIFT) * (1 + SOCIAL)
PARAMEDIC_YEAR = PARAMEDIC * 12 * (1 + SHIFT) * (1 + SOCIAL)
CREW_YEAR = NURSES * NURSE_YEAR + PARAMEDICS * PARAMEDIC_YEAR  # NOK 2,870,400 a seat-set
STAFF = UNIT_HOURS * CREW_YEAR / PRODUCTIVE  # NOK 32,336,482
# an overtime unit-hour: the crew's monthly pay (2 x 53,360 + 53,280 = 160,000) x 12 over
# 35.5 h x 365/7 contracted hours = NOK 1,037.24, plus 50 % and social costs: NOK 2,022.61;
# no shift supplement, no absence cover, no overhead
OVERTIME_HOUR = (
    (NURSES * NURSE + PARAMEDICS * PARAMEDIC) * 12 / (WEEKLY * 365 / 7) * (1 + OVERTIME)
) * (1 + SOCIAL)
OVERTIME_COST = OVERTIME_HOURS * OVERTIME_HOUR  # NOK 829,271 a year
COST = (
    STAFF * (1 + OVERHEAD) + VEHICLES * VEHICLE + BASES * BASE + OVERTIME_COST
)  # NOK 40,716,226 a year
BENEFIT = HOURS_FREED * PRICE  # NOK 18,920,500 a year


def _effects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "replication": [0, 1],
            "officer_hours_freed": [23_900.0, 24_000.0],
            "police_car_officer_hours_freed": [5_000.0, 5_100.0],
            "overtime_unit_hours": [400.0, 420.0],
            "patrol_hours_freed": [11_000.0, 11_200.0],
            "police_car_transports_avoided": [3_500.0, 3_542.0],
            "police_encounters_avoided": [6_000.0, 6_096.0],
            "health_first_responses": [7_600.0, 7_656.0],
            "calls": [30_000.0, 30_100.0],
        }
    )


@pytest.fixture(scope="module")
def x() -> dict[str, float]:
    """The inputs of the default costs and appraisal with the four-unit design and its effects."""
    scenario = scenario_from_dict(
        {"dispatch": {"policy": "health-first"}, "fleet": {"units": UNITS}}
    )
    return inputs(scenario, _effects())


def _pv(flow: Callable[[int], float], rate: float, years: int) -> float:
    """Sum of flow(t) / (1 + rate)^t over the ends of years 1..years, one year at a time."""
    total = 0.0
    for t in range(1, years + 1):
        total += flow(t) / (1.0 + rate) ** t
    return total


def _level(rate: float = RATE, years: int = YEARS) -> float:
    return _pv(lambda t: 1.0, rate, years)


def _grown(rate: float = RATE, years: int = YEARS, growth: float = 0.0) -> float:
    return _pv(lambda t: (1.0 + growth) ** (t - 1), rate, years)


def _npv_by_year(
    cost: float, benefit: float, rate: float, years: int, growth: float, tax: float
) -> float:
    """Each year: the benefit (grown from year 1) less the cost and its tax-financing cost."""
    npv = 0.0
    for t in range(1, years + 1):
        benefit_t = benefit * (1.0 + growth) ** (t - 1)
        public_spending_t = cost
        npv += (benefit_t - public_spending_t - tax * public_spending_t) / (1.0 + rate) ** t
    return npv


# -- what the module is fed -------------------------------------------------------------------


def test_the_hand_figures_rest_on_the_current_defaults(x: dict[str, float]) -> None:
    """If a default or the set of cost inputs changes, the hand figures below must be redone."""
    expected = {
        "costs.nurse_monthly_wage": NURSE,
        "costs.paramedic_monthly_wage": PARAMEDIC,
        "costs.crew_paramedics": float(PARAMEDICS),
        "costs.shift_supplement": SHIFT,
        "costs.social_cost_rate": SOCIAL,
        "costs.weekly_hours": WEEKLY,
        "costs.leave_weeks": LEAVE,
        "costs.public_holidays": HOLIDAYS,
        "costs.absence_rate": ABSENCE,
        "costs.vehicle_per_year": VEHICLE,
        "costs.base_per_year": BASE,
        "costs.overhead_rate": OVERHEAD,
        "costs.overtime_supplement": OVERTIME,
        "costs.police_officer_hour": PRICE,
        "costs.police_fte_hours": POLICE_FTE,
        "appraisal.discount_rate": RATE,
        "appraisal.tax_financing_cost": TAX,
        "appraisal.horizon_years": float(YEARS),
        "appraisal.benefit_growth_per_year": 0.0,
        "service.unit_hours": UNIT_HOURS,
        "service.crew": float(NURSES + PARAMEDICS),
        "service.vehicles": float(VEHICLES),
        "service.bases": float(BASES),
        "dispatch.police_car_share_today": CAR_SHARE,
        "sim.police_car_share_simulated": CAR_SHARE,
        "sim.police_hours_factor": 1.0,
        "sim.officer_hours_freed": HOURS_FREED,
        "sim.police_car_officer_hours_freed": CAR_HOURS,
        "sim.overtime_unit_hours": OVERTIME_HOURS,
        "sim.health_first_responses": RESPONSES,
    }
    priced = {k for k in x if not k.startswith("sim.")}
    assert priced == {k for k in expected if not k.startswith("sim.")}, (
        "cost, appraisal or service inputs changed: extend the hand figures in this file"
    )
    assert {k: x[k] for k in expected} == pytest.approx(expected, rel=1e-12)


# -- (1) the net present value, discounted year by year ---------------------------------------


@pytest.mark.parametrize(
    ("tax", "growth", "rate", "years"),
    [
        (0.20, 0.0, 0.04, 10),  # R-109 defaults
        (0.0, 0.0, 0.04, 10),  # without the tax-financing cost
        (0.20, 0.03, 0.04, 10),  # growing benefits: the two annuities differ
        (0.0, 0.03, 0.04, 10),
        (0.20, 0.064, 0.025, 15),
        (0.20, 0.0, 0.04, 1),  # one year: one flow, discounted once
    ],
)
def test_npv_is_the_sum_of_each_years_discounted_net_flow(
    x: dict[str, float], tax: float, growth: float, rate: float, years: int
) -> None:
    over = {
        "appraisal.tax_financing_cost": tax,
        "appraisal.benefit_growth_per_year": growth,
        "appraisal.discount_rate": rate,
        "appraisal.horizon_years": years,
    }
    out = evaluate({**x, **over})
    npv = _npv_by_year(COST, BENEFIT, rate, years, growth, tax)
    pv_cost = _pv(lambda t: COST, rate, years)
    pv_benefit = _pv(lambda t: BENEFIT * (1 + growth) ** (t - 1), rate, years)
    assert out["pv_cost"] == pytest.approx(pv_cost, rel=1e-12)
    assert out["tax_financing_cost"] == pytest.approx(tax * pv_cost, rel=1e-12, abs=1e-6)
    assert out["pv_benefit"] == pytest.approx(pv_benefit, rel=1e-12)
    assert out["npv"] == pytest.approx(npv, rel=1e-12)
    # the net cost a year: the level annuity that has the same present value as -NPV
    assert out["annual_net_cost"] == pytest.approx(-npv / _level(rate, years), rel=1e-12)


def test_the_tax_financing_cost_at_the_defaults_by_hand(x: dict[str, float]) -> None:
    # 20 % of the service's NOK 40.716 M a year, discounted: NOK 66.05 M over 10 years
    with_tax = evaluate(x)
    without = evaluate({**x, "appraisal.tax_financing_cost": 0.0})
    af = 8.110895779355  # (1 - 1.04^-10) / 0.04
    assert with_tax["npv"] == pytest.approx((BENEFIT - 1.2 * COST) * af, rel=1e-11)
    assert without["npv"] == pytest.approx((BENEFIT - COST) * af, rel=1e-11)
    assert with_tax["npv"] == pytest.approx(-242_831_872.1, abs=1.0)
    assert without["npv"] == pytest.approx(-176_782_859.5, abs=1.0)


# -- (2) the annuity factors against the explicit sum -----------------------------------------


@pytest.mark.parametrize(
    ("rate", "years"), [(0.04, 3), (0.04, 40), (0.025, 25), (0.10, 5), (0.0, 12), (0.2, 40)]
)
def test_level_annuity_is_the_explicit_sum(rate: float, years: int) -> None:
    """Up to 40 years R-109 discounts at one rate (test_r109_... covers the steps after)."""
    assert annuity_factor(rate, years) == pytest.approx(_level(rate, years), rel=1e-12)
    if rate:
        assert annuity_factor(rate, years) == pytest.approx((1 - (1 + rate) ** -years) / rate)


def test_level_annuity_broadcasts_over_rates_and_horizons() -> None:
    rates, years = np.array([0.04, 0.04, 0.02, 0.0]), np.array([1, 10, 40, 6])
    expected = [_level(r, int(n)) for r, n in zip(rates, years, strict=True)]
    np.testing.assert_allclose(annuity_factor(rates, years), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("rate", "growth", "years"),
    [
        (0.04, 0.03, 10),
        (0.04, 0.064, 10),  # growth above the rate
        (0.04, -0.02, 10),  # shrinking benefits
        (0.025, 0.01, 30),
        (0.0, 0.03, 5),  # no discounting
        (0.05, 0.05, 12),  # rate = growth: each year worth 1 / (1 + r)
        (0.064, 0.064, 10),
        (0.0, 0.0, 7),
        (0.04, 0.04, 1),
    ],
)
def test_growing_annuity_is_the_explicit_sum(
    x: dict[str, float], rate: float, growth: float, years: int
) -> None:
    over = {
        "appraisal.discount_rate": rate,
        "appraisal.benefit_growth_per_year": growth,
        "appraisal.horizon_years": years,
    }
    out = evaluate({**x, **over})
    grown = sum((1 + growth) ** (t - 1) / (1 + rate) ** t for t in range(1, years + 1))
    if rate == growth:
        closed = years / (1 + rate)
    else:
        closed = (1 - ((1 + growth) / (1 + rate)) ** years) / (rate - growth)
    assert grown == pytest.approx(closed, rel=1e-12)  # the hand sum against the textbook form
    assert out["pv_benefit"] == pytest.approx(BENEFIT * grown, rel=1e-12)
    assert out["pv_benefit"] / out["benefit_per_year"] == pytest.approx(grown, rel=1e-12)
    # costs stay level whatever the growth of benefits
    assert out["annuity_factor"] == pytest.approx(_level(rate, years), rel=1e-12)
    assert out["pv_cost"] == pytest.approx(COST * _level(rate, years), rel=1e-12)


def test_growing_annuity_broadcasts_over_drawn_growth_and_rates(x: dict[str, float]) -> None:
    """The Monte Carlo analysis evaluates arrays: each element must be its own explicit sum."""
    growth = np.array([0.0, 0.01, 0.03, 0.064, 0.04])
    rate = np.array([0.04, 0.04, 0.02, 0.04, 0.04])
    out = evaluate(
        {**x, "appraisal.benefit_growth_per_year": growth, "appraisal.discount_rate": rate}
    )
    grown = [_grown(r, YEARS, g) for r, g in zip(rate, growth, strict=True)]
    level = [_level(r, YEARS) for r in rate]
    np.testing.assert_allclose(out["pv_benefit"], BENEFIT * np.array(grown), rtol=1e-12)
    np.testing.assert_allclose(
        out["npv"], BENEFIT * np.array(grown) - (1 + TAX) * COST * np.array(level), rtol=1e-12
    )


def test_r109_discount_rate_steps_down_after_40_years(x: dict[str, float]) -> None:
    years = 50

    def factor(t: int) -> float:  # discount factor of the end of year t under R-109's steps
        return 1.04 ** -min(t, 40) * 1.03 ** -max(0, min(t, 75) - 40) * 1.02 ** -max(0, t - 75)

    npv = sum((BENEFIT - (1 + TAX) * COST) * factor(t) for t in range(1, years + 1))
    out = evaluate({**x, "appraisal.horizon_years": years})
    assert out["npv"] == pytest.approx(npv, rel=1e-9)


# -- (3) the headline figures of the defaults, by hand ----------------------------------------


def test_staffing_and_cost_of_the_defaults(x: dict[str, float]) -> None:
    out = evaluate(x)
    # 8,760 h / (35.5 h x (52.14 - 5 - 10/5) x (1 - 0.07)) = 5.8777 FTE per 24/7 seat
    assert out["fte_per_seat"] == pytest.approx(8760 / (35.5 * (365 / 7 - 5 - 2) * 0.93))
    assert out["fte_per_seat"] == pytest.approx(5.877651, abs=1e-6)
    # 16,790 unit-hours x 3 persons / 1,490.39 h = 33.80 FTE
    assert out["fte"] == pytest.approx(16_790 * 3 / PRODUCTIVE)
    assert out["fte"] == pytest.approx(33.796491, abs=1e-6)
    assert out["staff_cost"] == pytest.approx(32_336_482.27, abs=0.01)
    assert out["overhead_cost"] == pytest.approx(0.15 * 32_336_482.27, abs=0.01)
    assert out["vehicle_cost"] == pytest.approx(1_800_000.0)
    assert out["base_cost"] == pytest.approx(900_000.0)
    # 410 unit-hours past the end of shifts at NOK 2,022.61: NOK 829,271 a year
    assert out["overtime_cost"] == pytest.approx(410 * 1_920_000 / (35.5 * 365 / 7) * 1.5 * 1.3)
    assert out["overtime_cost"] == pytest.approx(829_271.08, abs=0.01)
    assert out["cost_per_year"] == pytest.approx(40_716_225.68, abs=0.01)
    assert out["cost_per_year"] == pytest.approx(COST, rel=1e-12)


def test_decision_figures_of_the_defaults(x: dict[str, float]) -> None:
    out = evaluate(x)
    assert out["police_hours_freed"] == pytest.approx(HOURS_FREED)
    assert out["police_fte_freed"] == pytest.approx(23_950 / 1_650)  # 14.5 police FTE
    assert out["police_value_per_year"] == pytest.approx(18_920_500.0)
    # break-even: the price at which 23,950 h a year pay for the cost and its 20 % tax cost
    assert out["break_even_police_hour"] == pytest.approx(1.2 * COST / 23_950, rel=1e-12)
    assert out["break_even_police_hour"] == pytest.approx(2_040.061, abs=1e-3)
    assert out["break_even_police_hours"] == pytest.approx(1.2 * COST / 790, rel=1e-12)
    assert out["cost_per_health_first_response"] == pytest.approx(COST / 7_628, rel=1e-12)
    assert out["cost_per_health_first_response"] == pytest.approx(5_337.733, abs=1e-3)
    # net cost a year: 1.2 x 40.716 M - 18.92 M = 29.94 M
    assert out["annual_net_cost"] == pytest.approx(1.2 * COST - 18_920_500, rel=1e-12)
    assert out["annual_net_cost"] == pytest.approx(29_938_970.82, abs=0.01)
    assert out["npv"] == pytest.approx(-29_938_970.8219 * 8.110895779355, rel=1e-11)
    assert out["npv"] == pytest.approx(-242_831_872.08, abs=0.01)


@pytest.mark.parametrize(
    ("share", "hours"),
    [
        (0.89, 23_950.0),  # as simulated: the hours freed are the simulation's
        (1.00, 23_950.0 + (1.00 / 0.89 - 1) * 5_050.0),  # 24,574.16 h
        (0.67, 23_950.0 + (0.67 / 0.89 - 1) * 5_050.0),  # 22,701.69 h
        (0.0, 23_950.0 - 5_050.0),  # no patient in a police car: none of those hours freed
    ],
)
def test_police_car_share_moves_only_the_police_car_hours(
    x: dict[str, float], share: float, hours: float
) -> None:
    out = evaluate({**x, "dispatch.police_car_share_today": share})
    assert out["police_hours_freed"] == pytest.approx(hours, rel=1e-12)
    assert out["police_value_per_year"] == pytest.approx(hours * 790, rel=1e-12)
    assert out["police_fte_freed"] == pytest.approx(hours / 1_650, rel=1e-12)
    assert out["cost_per_year"] == pytest.approx(COST, rel=1e-12)  # the service is unchanged
    assert out["npv"] == pytest.approx(
        _npv_by_year(COST, hours * 790, RATE, YEARS, 0.0, TAX), rel=1e-12
    )
    # the police-time factor applies to all hours freed, those in police cars included
    scaled = evaluate(
        {**x, "dispatch.police_car_share_today": share, "sim.police_hours_factor": 1.3}
    )
    assert scaled["police_hours_freed"] == pytest.approx(1.3 * hours, rel=1e-12)


def test_a_scenario_sending_no_patient_in_a_police_car_is_appraised() -> None:
    scenario = scenario_from_dict(
        {
            "dispatch": {"policy": "health-first", "police_car_share_today": 0.0},
            "fleet": {"units": UNITS},
        }
    )
    effects = _effects().assign(police_car_officer_hours_freed=0.0)
    out = evaluate(inputs(scenario, effects))
    # nothing to scale: the hours freed are the simulation's
    assert out["police_hours_freed"] == pytest.approx(HOURS_FREED)
    assert out["npv"] == pytest.approx(
        _npv_by_year(COST, BENEFIT, RATE, YEARS, 0.0, TAX), rel=1e-12
    )


def test_break_even_price_with_growing_benefits(x: dict[str, float]) -> None:
    growth = 0.03
    over = {**x, "appraisal.benefit_growth_per_year": growth}
    out = evaluate(over)
    level, grown = _level(), _grown(growth=growth)
    # the price p at which p x 23,950 h x grown annuity = 1.2 x cost x level annuity
    price = 1.2 * COST * level / (HOURS_FREED * grown)
    assert out["break_even_police_hour"] == pytest.approx(price, rel=1e-12)
    assert out["break_even_police_hours"] == pytest.approx(
        1.2 * COST * level / (PRICE * grown), rel=1e-12
    )
    # and at that price the hand NPV is nil
    assert _npv_by_year(COST, HOURS_FREED * price, RATE, YEARS, growth, TAX) == pytest.approx(
        0.0, abs=1e-3
    )
    # the net cost a year is still a level annuity: 1.2 x cost less the benefits' level equivalent
    assert out["annual_net_cost"] == pytest.approx(1.2 * COST - BENEFIT * grown / level, rel=1e-12)


# -- (4) the tornado: each stated range moves the NPV by its own hand-computed amount ---------

# Per input: the change in NPV when it alone takes value v, from the base case's hand figures.
# ``k`` is what one NOK of yearly service cost takes off the NPV: (1 + tax) x level annuity.


def _deltas(growth: float) -> dict[str, Callable[[float], float]]:
    k = (1 + TAX) * _level()  # NPV lost per NOK a year of service cost, tax cost included
    grown = _grown(growth=growth)  # PV of NOK 1 of benefit in year 1, grown after
    payroll = NURSES * NURSE + PARAMEDICS * PARAMEDIC  # NOK 160,000 a month for one crew
    contracted = WEEKLY * 365 / 7  # 1,851.07 h: the divisor of the ordinary hourly wage
    # yearly cost per NOK of one post's monthly pay: on duty (supplements, social costs,
    # absence cover, overhead) and past the shift's end (overtime supplement, social costs)
    on_duty = UNIT_HOURS * 12 * (1 + SHIFT) * (1 + SOCIAL) * (1 + OVERHEAD) / PRODUCTIVE
    overtime = OVERTIME_HOURS * 12 * (1 + OVERTIME) * (1 + SOCIAL) / contracted
    return {
        "costs.police_officer_hour": lambda v: (v - PRICE) * HOURS_FREED * grown,
        "sim.police_hours_factor": lambda v: PRICE * HOURS_FREED * (v - 1.0) * grown,
        "costs.nurse_monthly_wage": lambda v: -k * NURSES * (on_duty + overtime) * (v - NURSE),
        "costs.paramedic_monthly_wage": lambda v: (
            -k * PARAMEDICS * (on_duty + overtime) * (v - PARAMEDIC)
        ),
        # overtime hours carry the overtime supplement, not the shift supplement
        "costs.shift_supplement": lambda v: -k * payroll * on_duty / (1 + SHIFT) * (v - SHIFT),
        "costs.social_cost_rate": lambda v: (
            -k * payroll * (on_duty + overtime) / (1 + SOCIAL) * (v - SOCIAL)
        ),
        # absence is covered by extra posts: staff cost on duty scales by (1 - a) / (1 - v)
        "costs.absence_rate": lambda v: -k * (1 + OVERHEAD) * STAFF * ((1 - ABSENCE) / (1 - v) - 1),
        "costs.overhead_rate": lambda v: -k * STAFF * (v - OVERHEAD),
        "costs.vehicle_per_year": lambda v: -k * VEHICLES * (v - VEHICLE),
        "costs.base_per_year": lambda v: -k * BASES * (v - BASE),
        "costs.overtime_supplement": lambda v: (
            -k * OVERTIME_HOURS * payroll * 12 / contracted * (1 + SOCIAL) * (v - OVERTIME)
        ),
        "appraisal.benefit_growth_per_year": lambda v: BENEFIT * (_grown(growth=v) - grown),
        # police-car hours of calls police handle alone scale with the share sent in a car:
        # in the baseline and in the scenario alike, so the hours freed on them too
        "dispatch.police_car_share_today": lambda v: (
            PRICE * CAR_HOURS * (v / CAR_SHARE - 1) * grown
        ),
    }


# +1: the high end raises the NPV; -1: it lowers it
DIRECTION = {
    "costs.police_officer_hour": +1,
    "sim.police_hours_factor": +1,
    "costs.nurse_monthly_wage": -1,
    "costs.paramedic_monthly_wage": -1,
    "costs.shift_supplement": -1,
    "costs.social_cost_rate": -1,
    "costs.absence_rate": -1,
    "costs.overhead_rate": -1,
    "costs.vehicle_per_year": -1,
    "costs.base_per_year": -1,
    "costs.overtime_supplement": -1,
    "appraisal.benefit_growth_per_year": +1,
    "dispatch.police_car_share_today": +1,
}


def _stated_ranges() -> dict[str, dict[str, Any]]:
    text = (ROOT / "src" / "planner" / "data" / "uncertainty.toml").read_text("utf-8")
    return tomllib.loads(text)["ranges"]


def test_every_stated_range_has_a_hand_expectation() -> None:
    stated = _stated_ranges()
    assert set(stated) == set(_deltas(0.0)) == set(DIRECTION), (
        "a range was added to or dropped from uncertainty.toml: derive its NPV change here"
    )
    assert [r.name for r in ranges()] == list(stated)
    assert {r.name: (r.low, r.high) for r in ranges()} == {
        k: (float(v["low"]), float(v["high"])) for k, v in stated.items()
    }


@pytest.mark.parametrize("growth", [0.0, 0.03], ids=["level benefits", "benefits grow 3 %"])
def test_tornado_moves_npv_by_the_hand_amount_for_every_range(
    x: dict[str, float], growth: float
) -> None:
    base = {**x, "appraisal.benefit_growth_per_year": growth}
    npv = _npv_by_year(COST, BENEFIT, RATE, YEARS, growth, TAX)
    table = tornado(base).set_index("input")
    deltas = _deltas(growth)
    stated = _stated_ranges()
    assert set(table.index) == set(stated)
    for name, spec in stated.items():
        row = table.loc[name]
        low, high = float(spec["low"]), float(spec["high"])
        assert (row["low"], row["high"]) == (low, high), name
        assert row["value"] == pytest.approx(base[name]), name
        assert row["npv_base"] == pytest.approx(npv, rel=1e-12), name
        want_low, want_high = deltas[name](low), deltas[name](high)
        assert row["npv_low"] - npv == pytest.approx(want_low, rel=1e-9, abs=1e-3), name
        assert row["npv_high"] - npv == pytest.approx(want_high, rel=1e-9, abs=1e-3), name
        assert np.sign(row["npv_high"] - row["npv_low"]) == DIRECTION[name], name
        assert row["swing"] == pytest.approx(abs(want_high - want_low), rel=1e-9), name
    swings = tornado(base)["swing"].to_numpy()
    assert (np.diff(swings) <= 0).all()  # widest first


def test_tornado_hand_amounts_at_the_defaults_in_figures(x: dict[str, float]) -> None:
    """A few rows in plain numbers, so a reader can check the derivation itself."""
    table = tornado(x).set_index("input")
    base = table["npv_base"].iloc[0]
    af = 8.110895779355
    # police hour at NOK 1,170: 380 NOK more on 23,950 h a year for 10 years, no tax on it
    assert table.loc["costs.police_officer_hour", "npv_high"] - base == pytest.approx(
        380 * 23_950 * af, rel=1e-11
    )
    # 30 % more police time per mission: 0.3 x 23,950 h x NOK 790 a year
    assert table.loc["sim.police_hours_factor", "npv_high"] - base == pytest.approx(
        0.3 * 23_950 * 790 * af, rel=1e-11
    )
    # a vehicle at NOK 700,000 instead of 450,000: 4 x 250,000 a year plus 20 % tax cost
    assert table.loc["costs.vehicle_per_year", "npv_high"] - base == pytest.approx(
        -1.2 * 4 * 250_000 * af, rel=1e-11
    )
    # no base cost (sharing a station): 3 x 300,000 a year and its tax cost saved
    assert table.loc["costs.base_per_year", "npv_low"] - base == pytest.approx(
        1.2 * 3 * 300_000 * af, rel=1e-11
    )
    # benefits growing 6.4 % a year: sum of 1.064^(t-1) / 1.04^t = 10.6779 instead of 8.1109
    grown = sum(1.064 ** (t - 1) / 1.04**t for t in range(1, 11))
    assert grown == pytest.approx(10.67790, abs=1e-5)
    assert table.loc["appraisal.benefit_growth_per_year", "npv_high"] - base == pytest.approx(
        18_920_500 * (grown - af), rel=1e-11
    )


def test_tornado_rows_carry_their_labels_and_a_fresh_index(x: dict[str, float]) -> None:
    table = tornado(x)
    stated = _stated_ranges()
    assert dict(zip(table["input"], table["label"], strict=True)) == {
        k: v["label"] for k, v in stated.items()
    }
    # sorted widest first, which is not the file's order, and numbered afresh from 0
    assert list(table["input"]) != list(stated)
    assert list(table.index) == list(range(len(stated)))
    deltas = _deltas(0.0)
    swings = {k: abs(deltas[k](v["high"]) - deltas[k](v["low"])) for k, v in stated.items()}
    assert table.loc[0, "input"] == max(swings, key=lambda k: swings[k])


# -- (5) the draws of the Monte Carlo analysis, against numpy on the same seeds ---------------


def _rng(seed: int, name: str) -> np.random.Generator:
    """The documented stream of one input: numpy seeded with the seed and the name's CRC-32."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


SPAN = Range("costs.overhead_rate", "overhead", "overhead", 2.0, 6.0, "share", "test")


def test_a_value_strictly_inside_its_range_peaks_a_triangular_draw() -> None:
    got = draw(SPAN, 3.0, 20_000, 7)
    np.testing.assert_array_equal(got, _rng(7, SPAN.name).triangular(2.0, 3.0, 6.0, 20_000))
    assert got.min() >= 2.0 and got.max() <= 6.0
    assert got.mean() == pytest.approx((2.0 + 3.0 + 6.0) / 3, abs=0.05)  # 3.667


@pytest.mark.parametrize("mode", [2.0, 6.0, 1.0, 9.0], ids=["at low", "at high", "below", "above"])
def test_a_value_at_or_outside_a_bound_draws_uniformly(mode: float) -> None:
    got = draw(SPAN, mode, 20_000, 7)
    np.testing.assert_array_equal(got, _rng(7, SPAN.name).uniform(2.0, 6.0, 20_000))
    assert got.shape == (20_000,)
    assert got.min() >= 2.0 and got.max() <= 6.0
    # uniform: mean 4; a triangle peaking at a bound would have 3.333 or 4.667
    assert got.mean() == pytest.approx(4.0, abs=0.05)


PRICE_RANGE = Range("costs.police_officer_hour", "price", "pris", 600.0, 3000.0, "NOK/h", "t")


def _toy(**over: float) -> dict[str, float]:
    """One unit 24/7, crew of 3 at NOK 50,000 a month, no supplements: cost by hand."""
    x = {f"costs.{k}": 0.0 for k in ("shift_supplement", "social_cost_rate", "absence_rate")}
    x |= {f"costs.{k}": 0.0 for k in ("leave_weeks", "public_holidays", "overhead_rate")}
    x |= {
        "costs.nurse_monthly_wage": 50_000.0,
        "costs.paramedic_monthly_wage": 50_000.0,
        "costs.crew_paramedics": 1.0,
        "costs.weekly_hours": 40.0,
        "costs.vehicle_per_year": 100_000.0,
        "costs.base_per_year": 0.0,
        "costs.overtime_supplement": 0.5,
        "costs.police_officer_hour": 800.0,
        "costs.police_fte_hours": 1_600.0,
        "appraisal.discount_rate": 0.04,
        "appraisal.tax_financing_cost": 0.20,
        "appraisal.horizon_years": 10.0,
        "appraisal.benefit_growth_per_year": 0.0,
        "service.unit_hours": 8_760.0,
        "service.crew": 3.0,
        "service.vehicles": 1.0,
        "service.bases": 1.0,
        "sim.police_hours_factor": 1.0,
        "sim.officer_hours_freed": 5_000.0,
    }
    return x | over


def test_monte_carlo_defaults_to_10000_draws_on_the_documented_seed() -> None:
    mc = monte_carlo(_toy(), over=(PRICE_RANGE,))
    assert len(mc) == 10_000
    price = _rng(20261122, PRICE_RANGE.name).triangular(600.0, 800.0, 3000.0, 10_000)
    np.testing.assert_allclose(mc["benefit_per_year"], 5_000.0 * price, rtol=1e-12)


def test_monte_carlo_draws_whole_replications() -> None:
    """Each draw takes one replication's effects together: its hours freed and its overtime."""
    reps = pd.DataFrame(
        {
            "replication": [0, 1],
            "officer_hours_freed": [4_000.0, 6_000.0],
            "overtime_unit_hours": [0.0, 100.0],
        }
    )
    x = _toy(**{"sim.officer_hours_freed": 5_000.0, "sim.overtime_unit_hours": 50.0})
    mc = monte_carlo(x, reps, draws=400, seed=3, over=(PRICE_RANGE,))
    pick = _rng(3, "sim.replication").integers(0, 2, 400)
    assert 0 < pick.sum() < 400  # both replications drawn
    price = _rng(3, PRICE_RANGE.name).triangular(600.0, 800.0, 3000.0, 400)
    hours = np.where(pick == 1, 6_000.0, 4_000.0)
    np.testing.assert_allclose(mc["benefit_per_year"], price * hours, rtol=1e-12)
    # 8,760 h x 3 persons / (40 h x 365/7) = 12.6 posts at NOK 600,000, and the vehicle;
    # an overtime hour pays the crew's NOK 1,800,000 a year over 2,085.7 h, plus 50 %
    staff = 12.6 * 600_000.0 + 100_000.0  # NOK 7,660,000 a year
    overtime = 100.0 * 3 * 600_000.0 / (40 * 365 / 7) * 1.5
    np.testing.assert_allclose(
        mc["cost_per_year"], np.where(pick == 1, staff + overtime, staff), rtol=1e-12
    )


def test_npv_of_exactly_nil_is_not_counted_positive() -> None:
    mc = pd.DataFrame({"npv": [-1.0, 0.0, 0.5, 2.0]})
    assert probability_positive(mc) == 0.5  # 0.5 and 2.0; 0.0 is no gain


# -- (6) the whole appraisal from per-replication KPIs ----------------------------------------

# replication 0 frees nothing; replication 1 frees 24,000 officer-hours, 5,000 of them on
# police-car transports
BASELINE_REPS = pd.DataFrame(
    {
        "replication": [0, 1],
        "police_officer_hours": [30_000.0, 30_000.0],
        "police_patrol_hours": [15_000.0, 15_000.0],
        "police_car_transports_per_year": [4_000.0, 4_000.0],
        "police_encounters_per_year": [7_000.0, 7_000.0],
        "police_car_officer_hours": [6_000.0, 6_000.0],
        "unit_missions_per_year": [0.0, 0.0],
        "calls_per_year": [30_000.0, 30_100.0],
        "overtime_unit_hours": [0.0, 0.0],
    }
)
SCENARIO_REPS = BASELINE_REPS.assign(
    police_officer_hours=[30_000.0, 6_000.0],
    police_patrol_hours=[15_000.0, 4_000.0],
    police_car_transports_per_year=[4_000.0, 500.0],
    police_encounters_per_year=[7_000.0, 1_000.0],
    police_car_officer_hours=[6_000.0, 1_000.0],
    unit_missions_per_year=[7_600.0, 7_656.0],
    overtime_unit_hours=[400.0, 420.0],
)
SEED = 11  # run.seed of the scenario below; not the Monte Carlo's default


@pytest.fixture(scope="module")
def seeded() -> Scenario:
    return scenario_from_dict(
        {"dispatch": {"policy": "health-first"}, "fleet": {"units": UNITS}, "run": {"seed": SEED}}
    )


def test_effects_refuse_unpaired_replications_in_one_sentence() -> None:
    with pytest.raises(ValueError) as err:
        effects(SCENARIO_REPS, BASELINE_REPS.assign(replication=[0, 2]))
    assert str(err.value) == "scenario and baseline must share replications to be paired"


def _nothing_freed(mc: pd.DataFrame) -> np.ndarray:
    """Draws that took replication 0: the only ones with no police time freed, so no benefit."""
    return mc["benefit_per_year"].to_numpy() == 0.0


def test_appraise_carries_the_effects_inputs_and_tornado(seeded: Scenario) -> None:
    a = appraise(seeded, SCENARIO_REPS, BASELINE_REPS, draws=500, seed=5)
    want = pd.DataFrame(
        {
            "replication": [0, 1],
            "officer_hours_freed": [0.0, 24_000.0],
            "patrol_hours_freed": [0.0, 11_000.0],
            "police_car_transports_avoided": [0.0, 3_500.0],
            "police_encounters_avoided": [0.0, 6_000.0],
            "police_car_officer_hours_freed": [0.0, 5_000.0],
            "health_first_responses": [7_600.0, 7_656.0],
            "calls": [30_000.0, 30_100.0],
            "overtime_unit_hours": [400.0, 420.0],
        }
    )
    pd.testing.assert_frame_equal(a.per_rep, want)
    assert a.inputs["sim.officer_hours_freed"] == 12_000.0
    assert a.inputs["sim.overtime_unit_hours"] == 410.0
    assert a.inputs["service.unit_hours"] == pytest.approx(UNIT_HOURS)
    table = a.tornado.set_index("input")
    assert set(table.index) == set(_stated_ranges())
    # the police hour at NOK 1,170 instead of 790 on the mean 12,000 h freed, for 10 years
    price = table.loc["costs.police_officer_hour"]
    assert price["npv_high"] - price["npv_base"] == pytest.approx(380 * 12_000 * _level())
    # the Monte Carlo analysis: the draws asked for, on the seed given, over the replications
    assert len(a.monte_carlo) == 500
    pick = _rng(5, "sim.replication").integers(0, 2, 500)
    np.testing.assert_array_equal(_nothing_freed(a.monte_carlo), pick == 0)


def test_appraise_defaults_to_10000_draws_on_the_scenarios_seed(seeded: Scenario) -> None:
    a = appraise(seeded, SCENARIO_REPS, BASELINE_REPS)
    assert len(a.monte_carlo) == 10_000
    pick = _rng(SEED, "sim.replication").integers(0, 2, 10_000)
    np.testing.assert_array_equal(_nothing_freed(a.monte_carlo), pick == 0)


# -- (7) the design's quantities ---------------------------------------------------------------


def test_service_weights_the_crew_by_hours_on_duty() -> None:
    units = [
        {"name": "A", "base": "oslo_legevakt", "shift": "day", "crew": 2},  # 12 h a day
        {"name": "B", "base": "ahus", "shift": "late"},  # 10 h a day, fleet.crew = 3
    ]
    s = service(
        scenario_from_dict({"dispatch": {"policy": "health-first"}, "fleet": {"units": units}})
    )
    assert s.unit_hours == pytest.approx(22 * 365)  # 8,030 h
    assert s.crew_hours == pytest.approx((12 * 2 + 10 * 3) * 365)  # 19,710 person-hours
    assert s.crew == pytest.approx(54 / 22)  # 2.4545 persons
    assert (s.vehicles, s.bases) == (2, 2)


def test_service_without_units_keeps_the_fleets_crew() -> None:
    s = service(scenario_from_dict({"fleet": {"units": [], "crew": 2}}))
    assert s == Service(unit_hours=0.0, crew_hours=0.0, vehicles=0, bases=0, crew=2.0)


def test_discount_factor_steps_down_after_40_and_75_years_by_hand() -> None:
    # 4 % for years 1-40, 3 % for 41-75, 2 % after; at a 1.5 % rate the steps floor at 0
    assert discount_factor(0.04, 40) == pytest.approx(1.04**-40, rel=1e-12)
    assert discount_factor(0.04, 60) == pytest.approx(1.04**-40 * 1.03**-20, rel=1e-12)
    assert discount_factor(0.04, 100) == pytest.approx(1.04**-40 * 1.03**-35 * 1.02**-25, rel=1e-12)
    assert discount_factor(0.015, 100) == pytest.approx(1.015**-40 * 1.005**-35, rel=1e-12)
    assert discount_factor(0.005, 80) == pytest.approx(1.005**-40, rel=1e-12)
    assert discount_factor(0.04, [10, 76]).tolist() == pytest.approx(
        [1.04**-10, 1.04**-40 * 1.03**-35 * 1.02**-1], rel=1e-12
    )
