"""Repeat callers: the cohort of frequent callers against theory and the published anchor (PAM
Stockholm's first year), the case-management lever on common random numbers, the KPIs split
by cohort against numpy on the log, and the fit of the cohort against scipy's own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import planner
from planner.calllog.repeat import MIN_REPEATERS, fit_repeat_callers
from planner.scenario.parameters import registry
from planner.sim.demand import CallStream, generate_calls
from planner.sim.kpis import COHORT_KPIS

# Bouveng et al. 2017 (MODEL.md): PAM's first year
PAM_CASES, PAM_PEOPLE, PAM_SEEN_AGAIN = 1_254, 1_036, 96


def _defaults() -> tuple[float, float, float]:
    reg = registry()
    return (
        reg["callers.frequent_share"].value,
        reg["callers.frequent_calls_per_year"].value,
        reg["callers.frequent_rate_shape"].value,
    )


def test_the_defaults_give_pams_first_year() -> None:
    """In a year of PAM's 1,254 calls the defaults' cohort has 96 people who call twice or more
    and, with the people who call once, 1,036 people in all (worked with scipy's negative
    binomial, not the model's code)."""
    share, mu, k = _defaults()
    people = share * PAM_CASES / mu
    law = stats.nbinom(k, k / (k + mu))  # a person's calls in a year
    seen_again = people * law.sf(1)
    seen = (PAM_CASES - people * mu) + people * law.sf(0)
    assert seen_again == pytest.approx(PAM_SEEN_AGAIN, abs=1.0)
    assert seen == pytest.approx(PAM_PEOPLE, abs=2.0)


def _scenario(**callers: Any) -> planner.Scenario:
    return planner.scenario_from_dict(
        {
            "region": {"kind": "abstract", "population": 500_000},
            "demand": {"rate_per_1000_per_year": 10.0, "growth_per_year": 0.0},
            "callers": callers,
            "run": {"horizon_days": 365.0, "warmup_days": 0.0, "seed": 3},
        }
    )


RATES = np.arange(1.0, 41.0) * 125.0  # 40 cells making 102,500 calls a year


def _calls(s: planner.Scenario, replication: int = 0, rates: np.ndarray = RATES) -> CallStream:
    return generate_calls(s, rates * (5000.0 / rates.sum()), replication)


def test_a_cohort_person_s_calls_are_negative_binomial() -> None:
    """Each of the cohort's people calls a gamma-mixed Poisson number of times: the counts of
    twenty years of the cohort (people who never call included) against the negative binomial
    of mean mu x 1 year and shape k (chi-square), and their mean against share x calls / N."""
    share, mu, k = 0.5, 2.0, 0.8
    s = _scenario(frequent_share=share, frequent_calls_per_year=mu, frequent_rate_shape=k)
    people = round(share * 5000.0 / mu)
    counts = []
    for r in range(20):
        c = _calls(s, r)
        counts.append(np.bincount(c.caller[c.caller >= 0], minlength=people))
    pooled = np.concatenate(counts)
    assert len(pooled) == 20 * people  # the cohort's size: share x calls / mu
    assert pooled.mean() == pytest.approx(share * 5000.0 / people, rel=0.03)
    law = stats.nbinom(k, k / (k + mu))
    top = 9
    observed = np.array([(pooled == c).sum() for c in range(top)] + [(pooled >= top).sum()])
    expected = len(pooled) * np.append(law.pmf(np.arange(top)), law.sf(top - 1))
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_the_cohort_makes_its_share_and_calls_from_home() -> None:
    s = _scenario(frequent_share=0.3)
    c = _calls(s)
    frequent = c.caller >= 0
    n = len(c)
    assert frequent.sum() == pytest.approx(0.3 * n, abs=4 * math.sqrt(n * 0.3 * 0.7))
    cells = pd.Series(c.cell[frequent]).groupby(c.caller[frequent]).nunique()
    assert (cells == 1).all()  # every call of a person from one cell
    assert (c.caller[~frequent] == -1).all()


def test_no_cohort_makes_every_caller_one_who_calls_once() -> None:
    c = _calls(_scenario(frequent_share=0.0))
    assert (c.caller == -1).all() and len(c) > 4000


def test_case_management_cuts_the_cohort_s_calls_and_leaves_every_other_call() -> None:
    """Common random numbers: a cut of X removes about X of the cohort's calls and nothing
    else, and the calls a larger cut keeps are among those a smaller one keeps."""
    kept = {}
    for cut in (0.0, 0.3, 0.6):
        c = _calls(_scenario(frequent_share=0.4, case_management_cut=cut))
        kept[cut] = c
    base = kept[0.0]
    f0 = int((base.caller >= 0).sum())
    for cut in (0.3, 0.6):
        c = kept[cut]
        f = int((c.caller >= 0).sum())
        assert f == pytest.approx((1 - cut) * f0, abs=4 * math.sqrt(f0 * cut * (1 - cut)))
        for name in ("t", "cell", "kind", "on_scene", "police_needed", "channel"):
            np.testing.assert_array_equal(
                getattr(c, name)[c.caller < 0], getattr(base, name)[base.caller < 0], name
            )
    small = set(kept[0.3].t[kept[0.3].caller >= 0])
    large = set(kept[0.6].t[kept[0.6].caller >= 0])
    assert large < small < set(base.t[base.caller >= 0])


def test_kpis_by_cohort_are_each_cohort_s_calls_counted() -> None:
    s = planner.scenario_from_dict(
        {
            "run": {"horizon_days": 60.0, "warmup_days": 5.0, "seed": 4, "replications": 3},
            "callers": {"frequent_share": 0.4},
        }
    )
    res = planner.simulate(s)
    log = res.log[res.log["t_arrival"] >= 5 * 1440.0]
    years = 55 / 365
    table = res.by_cohort.set_index(["cohort", "kpi"])
    assert set(table.index.get_level_values("kpi")) == set(COHORT_KPIS)
    for cohort, rows in (("frequent", log["caller"] >= 0), ("once", log["caller"] < 0)):
        part = log[rows]
        per = part.groupby("replication")
        calls = per.size() / years
        median = per["response_minutes"].median()
        police = per["police_involved"].sum() / years
        assert table.loc[(cohort, "calls_per_year"), "mean"] == pytest.approx(calls.mean())
        assert table.loc[(cohort, "response_median"), "mean"] == pytest.approx(median.mean())
        assert table.loc[(cohort, "police_encounters_per_year"), "mean"] == pytest.approx(
            police.mean()
        )
    both = table.xs("calls_per_year", level="kpi")["mean"].sum()
    assert both == pytest.approx(res.kpi("calls_per_year"))


def _cohort_counts(
    rng: np.random.Generator, people: int, mu: float, k: float, once: int
) -> np.ndarray:
    c = rng.poisson(rng.gamma(k, mu / k, people))
    return np.concatenate([c[c > 0], np.ones(once, dtype=np.int64)])


def _scipy_fit(per_person: np.ndarray) -> tuple[float, float]:
    """(k, m): the negative binomial given two or more, fitted by scipy's own law."""
    c = per_person[per_person >= 2]

    def loss(theta: np.ndarray) -> float:
        k, m = np.exp(theta)
        law = stats.nbinom(k, k / (k + m))
        return float(-(law.logpmf(c) - np.log(law.sf(1))).sum())

    r = optimize.minimize(loss, np.log([1.0, c.mean()]), method="Nelder-Mead",
                          options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})  # fmt: skip
    return float(np.exp(r.x[0])), float(np.exp(r.x[1]))


def test_the_fit_is_the_maximum_of_scipy_s_likelihood_and_recovers_the_cohort() -> None:
    rng = np.random.default_rng(8)
    people, mu, k, once, years = 3000, 2.0, 0.7, 20_000, 2.0
    per_person = _cohort_counts(rng, people, mu * years, k, once)
    fit = fit_repeat_callers(per_person, years)
    assert fit is not None
    k_ref, m_ref = _scipy_fit(per_person)
    assert fit.shape.mean == pytest.approx(k_ref, rel=1e-3)
    assert fit.calls_per_year.mean * years == pytest.approx(m_ref, rel=1e-3)
    # the truth within the intervals, and the share of the calls near the cohort's
    assert fit.shape.low < k < fit.shape.high
    assert fit.calls_per_year.low < mu < fit.calls_per_year.high
    true_share = people * mu * years / per_person.sum()
    assert fit.share.mean == pytest.approx(true_share, abs=0.02)
    assert fit.cohort == pytest.approx(people, rel=0.1)
    # each interval its own figure's, and tight on three thousand people
    for figure in (fit.share, fit.calls_per_year, fit.shape):
        assert figure.low < figure.mean < figure.high < 1.7 * figure.low
    assert fit.years == years
    assert fit.repeaters == int((per_person >= 2).sum())
    assert fit.repeat_calls == int(per_person[per_person >= 2].sum())
    assert fit.people == len(per_person) and fit.calls == int(per_person.sum())


def test_the_bootstrap_gives_the_same_intervals_twice() -> None:
    per_person = _cohort_counts(np.random.default_rng(2), 800, 3.0, 1.5, 4000)
    a, b = fit_repeat_callers(per_person, 1.0), fit_repeat_callers(per_person, 1.0)
    assert a == b


def test_too_few_repeaters_are_not_fitted_and_bad_counts_are_refused() -> None:
    few = np.array([2] * (MIN_REPEATERS - 1) + [1] * 500)
    assert fit_repeat_callers(few, 1.0) is None
    assert fit_repeat_callers(np.array([2] * MIN_REPEATERS + [1] * 500), 1.0) is not None
    with pytest.raises(ValueError, match=r"^a fit of repeat callers needs a log of some length and counts >= 1$"):  # fmt: skip
        fit_repeat_callers(np.array([0, 2, 3]), 1.0)
    with pytest.raises(ValueError, match="length"):
        fit_repeat_callers(np.array([2, 3]), 0.0)


def test_the_law_written_out_is_scipy_s_negative_binomial() -> None:
    from planner.calllog.repeat import _log_law

    c = np.arange(0, 40)
    for k, m in ((0.3, 2.0), (1.0, 1.27), (7.5, 12.0)):
        law = stats.nbinom(k, k / (k + m))
        log_pmf, tail = _log_law(c, k, m)
        np.testing.assert_allclose(log_pmf, law.logpmf(c), rtol=1e-10)
        assert tail == pytest.approx(law.sf(1), rel=1e-12)


def test_a_call_goes_to_a_person_by_the_cumulative_rates() -> None:
    """Worked by hand: rates 1 and 3 (cumulative 1, 4); a call is the cohort's when its first
    uniform is under the share, and then the person whose cumulative rate first exceeds its
    second uniform times 4 (0.8: the first; 1.0, at the boundary, and 1.2: the second; the
    uniform 1.0 itself: the last)."""
    from planner.sim.demand import Cohort

    cohort = Cohort(np.array([1.0, 3.0]), np.array([5, 9]))
    u = np.array([[0.1, 0.2], [0.1, 0.25], [0.1, 0.3], [0.1, 1.0], [0.4, 0.2], [0.5, 0.2]])
    caller = cohort.callers_of(u, 0.4)
    assert caller.tolist() == [0, 1, 1, 1, -1, -1]  # 0.4 itself is not under the share
    assert caller.dtype == np.int64
    # rates all drawn as 0 (a tiny shape): each person alike
    flat = Cohort(np.zeros(3), np.array([0, 1, 2]))
    u = np.array([[0.0, 0.0], [0.0, 0.34], [0.0, 0.5], [0.0, 0.999], [0.0, 1.0]])
    assert flat.callers_of(u, 0.5).tolist() == [0, 1, 1, 2, 2]
    assert Cohort(np.zeros(0), np.zeros(0, dtype=np.int64)).callers_of(u, 0.5).tolist() == [-1] * 5
    assert Cohort(np.array([0.7]), np.array([3])).callers_of(u, 0.5).tolist() == [0] * 5
    # rates under 1 in all are rates still: cumulative 0.2, 0.5; 0.45 x 0.5 = 0.225, the second
    assert Cohort(np.array([0.2, 0.3]), np.array([0, 1])).callers_of(np.array([[0.0, 0.45]]), 0.5).tolist() == [1]  # fmt: skip


def test_the_cohort_has_its_people_and_none_without_a_share() -> None:
    from planner.sim.demand import frequent_callers

    callers = planner.scenario_from_dict({}).callers
    rates = np.ones(4)
    rng = np.random.default_rng(1)
    none = callers.model_copy(update={"frequent_share": 0.0})
    assert len(frequent_callers(none, 1000.0, rates, rng)) == 0
    assert len(frequent_callers(callers, 0.0, rates, rng)) == 0
    few = callers.model_copy(update={"frequent_share": 0.01, "frequent_calls_per_year": 5.0})
    assert len(frequent_callers(few, 10.0, rates, rng)) == 1  # 0.02 people: at least one
    assert len(frequent_callers(callers, 0.5, rates, rng)) == 1  # half a call a year: one
    many = callers.model_copy(update={"frequent_share": 0.5, "frequent_calls_per_year": 2.0})
    assert len(frequent_callers(many, 1001.0, rates, rng)) == 250  # round(250.25)
    # the rates in calls a year: gamma of mean 2 and shape 0.5, variance 2² / 0.5 = 8
    spread = many.model_copy(update={"frequent_rate_shape": 0.5})
    rate = frequent_callers(spread, 2_000_000.0, rates, rng).rate
    assert rate.mean() == pytest.approx(2.0, rel=0.01) and rate.var() == pytest.approx(
        8.0, rel=0.03
    )


def test_the_cohorts_table_is_each_figure_s_mean_and_interval() -> None:
    """Worked: three replications of 1, 2 and 3 calls a year: mean 2, interval 2 ± t(0.975, 2)
    × 1 / sqrt(3) = 2 ± 2.484; a calls-a-year figure keeps its label and unit."""
    from planner.sim.kpis import COHORTS, KPI_BY_KEY, summarise_cohorts

    per_rep = [{(c, k): float(i) for c in COHORTS for k in COHORT_KPIS} for i in (1, 2, 3)]
    table = summarise_cohorts(per_rep)
    assert list(table.columns) == ["cohort", "kpi", "label", "unit", "mean", "ci_low", "ci_high"]
    assert len(table) == len(COHORTS) * len(COHORT_KPIS)
    row = table.set_index(["cohort", "kpi"]).loc[("frequent", "calls_per_year")]
    assert row["label"] == KPI_BY_KEY["calls_per_year"].label and row["unit"] == "per year"
    assert row["mean"] == pytest.approx(2.0)
    half = stats.t.ppf(0.975, 2) / math.sqrt(3)
    assert row["ci_low"] == pytest.approx(2 - half) and row["ci_high"] == pytest.approx(2 + half)


def test_a_call_at_the_end_of_the_warm_up_is_counted_in_its_cohort() -> None:
    from planner.sim.kpis import Period, cohort_kpis

    log = pd.DataFrame(
        {
            "t_arrival": [10.0, 60.0, 70.0],  # the warm-up ends at 60
            "caller": [3, 3, -1],
            "response_minutes": [5.0, 7.0, 9.0],
            "health_first": [True, True, False],
            "eligible_kind": [True, True, True],
            "police_involved": [False, False, True],
            "transport_mode": ["none", "none", "police_car"],
            "officer_hours": [0.0, 0.0, 2.0],
        }
    )
    period = Period(60.0, 60.0 + 525_600.0, np.ones((1, 168)), 1650.0, 2)  # a year counted
    k = cohort_kpis(log, period)
    assert k["frequent", "calls_per_year"] == pytest.approx(1.0)  # the call at 60, not at 10
    assert k["frequent", "response_median"] == pytest.approx(7.0)
    assert k["once", "police_car_transports_per_year"] == pytest.approx(1.0)
    assert k["once", "police_officer_hours"] == pytest.approx(2.0)


def test_a_rate_of_almost_no_calls_a_year_draws_no_more_people_than_there_are() -> None:
    # found by the fuzz test: 5e-324 calls a person a year asked for infinitely many people
    from planner.scenario.model import Callers
    from planner.sim.demand import MOST_FREQUENT_CALLERS, frequent_callers

    callers = Callers(
        frequent_share=0.3,
        frequent_calls_per_year=5e-324,
        frequent_rate_shape=1.0,
        case_management_cut=0.0,
    )
    cohort = frequent_callers(callers, 1000.0, np.ones(3), np.random.default_rng(1))
    assert len(cohort) == MOST_FREQUENT_CALLERS
