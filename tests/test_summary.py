"""RunSummary: summary.json's shape, written and read back (planner.sim.summary)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from planner.sim.kpis import Estimate, summarise
from planner.sim.summary import KPI_COLUMNS, Figures, RunSummary

NAN = math.nan


def _figures(calls: list[float], median: list[float]) -> Figures:
    per = pd.DataFrame(
        {"replication": range(len(calls)), "calls_per_year": calls, "response_median": median}
    )
    return Figures(summarise(per), per)


@pytest.fixture
def summary() -> RunSummary:
    util = np.full(168, NAN)
    util[8:20] = np.linspace(0.1, 0.9, 12)
    return RunSummary(
        scenario="Test",
        seed=7,
        figures=_figures([100.0, 110.0, 120.0], [30.0, NAN, 34.0]),
        utilisation=util,
        baseline=_figures([100.0, 110.0, 120.0], [15.0, 16.0, 17.0]),
        scenario_file="simulations/test.toml",
    )


def test_summary_json_is_the_shape_a_run_has_always_written(summary: RunSummary) -> None:
    out = summary.to_json()
    # what `planner run` wrote before the summary was typed: pandas' records and lists with NaN
    # as null, the hours as a list, the baseline's two tables, the scenario's file last
    f, b = summary.figures, summary.paired()
    old = {
        "scenario": "Test",
        "replications": 3,
        "seed": 7,
        "kpis": f.kpis.replace({np.nan: None}).to_dict(orient="records"),
        "per_replication": f.per_replication.replace({np.nan: None}).to_dict(orient="list"),
        "utilisation_by_hour_of_week": [None if np.isnan(u) else u for u in summary.utilisation],
        "baseline": {
            "kpis": b.kpis.replace({np.nan: None}).to_dict(orient="records"),
            "per_replication": b.per_replication.to_dict(orient="list"),
        },
        "scenario_file": "simulations/test.toml",
    }
    assert json.dumps(out, allow_nan=False) == json.dumps(old, allow_nan=False)
    assert list(out["kpis"][0]) == list(KPI_COLUMNS)
    # the median of replication 1 is not defined: null in its list; its mean is over two
    assert out["per_replication"]["response_median"] == [30.0, None, 34.0]
    row = out["kpis"][1]
    assert (row["kpi"], row["label"], row["unit"]) == (
        "response_median",
        "Response time, median",
        "min",
    )
    assert row["mean"] == 32.0
    # two values 30 and 34: sd 2*sqrt(2), half-width t(0.975, 1) * 2 = 12.706 * 2
    assert row["ci_high"] - row["mean"] == pytest.approx(12.7062047 * 2, rel=1e-7)
    assert out["utilisation_by_hour_of_week"][:9] == [None] * 8 + [pytest.approx(0.1)]


def test_a_summary_read_back_gives_the_same_figures_and_json(summary: RunSummary) -> None:
    text = json.dumps(summary.to_json(), allow_nan=False)
    back = RunSummary.from_json(json.loads(text))
    assert json.dumps(back.to_json(), allow_nan=False) == text
    pd.testing.assert_frame_equal(back.kpis, summary.kpis)
    pd.testing.assert_frame_equal(back.per_replication, summary.per_replication)
    pd.testing.assert_frame_equal(back.paired().per_replication, summary.paired().per_replication)
    assert back.utilisation is not None and summary.utilisation is not None
    assert np.array_equal(back.utilisation, summary.utilisation, equal_nan=True)
    assert (back.scenario, back.seed, back.replications, back.scenario_file) == (
        "Test",
        7,
        3,
        "simulations/test.toml",
    )


def test_an_estimate_is_the_kpi_tables_row(summary: RunSummary) -> None:
    e = summary.estimate("calls_per_year")
    # 100, 110, 120: mean 110, sd 10, half-width t(0.975, 2) * 10 / sqrt(3) = 4.302653 * 5.7735
    assert e.mean == 110.0
    assert e.high - e.mean == pytest.approx(4.30265273 * 10 / math.sqrt(3), rel=1e-7)
    assert e.low == pytest.approx(2 * 110.0 - e.high, rel=1e-12)
    assert isinstance(e, Estimate) and e.has_interval
    with pytest.raises(KeyError, match="police_officer_hours"):
        summary.estimate("police_officer_hours")


def test_only_what_a_run_had_is_written() -> None:
    bare = RunSummary("Alone", 1, _figures([5.0], [9.0]))
    out = bare.to_json()
    assert list(out) == ["scenario", "replications", "seed", "kpis", "per_replication"]
    assert out["kpis"][0]["ci_low"] is None  # one replication: no interval
    with pytest.raises(ValueError, match="'Alone' has no baseline"):
        bare.paired()
    back = RunSummary.from_json(out)
    assert back.utilisation is None and back.baseline is None and back.scenario_file is None


def test_figures_without_a_kpi_table_are_summarised_from_their_replications() -> None:
    got = Figures.from_json({"per_replication": {"replication": [0, 1], "calls_per_year": [1, 3]}})
    assert got.per_replication["replication"].tolist() == [0, 1]
    assert got.estimate("calls_per_year").mean == 2.0
    assert got.kpis.columns.tolist() == list(KPI_COLUMNS)


def test_nulls_read_back_as_nan_in_a_float_column() -> None:
    out = RunSummary("Alone", 1, _figures([5.0], [9.0])).to_json()
    back = RunSummary.from_json(out)
    # every interval null: a column of NaN floats, not of None
    assert back.kpis["ci_low"].dtype == np.float64 and back.kpis["ci_low"].isna().all()
    e = back.estimate("response_median")
    assert e.mean == 9.0 and math.isnan(e.low) and math.isnan(e.high) and not e.has_interval
    per = Figures.from_json({"per_replication": {"replication": [0], "x": [None]}})
    assert per.per_replication["x"].dtype == np.float64


def test_a_stored_kpi_table_is_read_as_stored_not_summarised_again() -> None:
    row = {"kpi": "calls_per_year", "label": "Calls", "unit": "per year"}
    raw = {
        "kpis": [row | {"mean": 99.0, "ci_low": 1.0, "ci_high": 2.0}],
        "per_replication": {"replication": [0, 1], "calls_per_year": [1.0, 3.0]},
    }
    got = Figures.from_json(raw)
    assert got.estimate("calls_per_year") == (99.0, 1.0, 2.0)
    assert got.kpis.loc[0, "label"] == "Calls"
    empty = Figures.from_json({"kpis": [], "per_replication": {"replication": []}})
    assert empty.kpis.columns.tolist() == list(KPI_COLUMNS) and empty.kpis.empty


def test_the_hours_are_168_floats() -> None:
    out = RunSummary("A", 1, _figures([5.0], [9.0]), utilisation=np.zeros(168)).to_json()
    whole = RunSummary.from_json(out | {"utilisation_by_hour_of_week": [0] * 168})
    assert whole.utilisation is not None and whole.utilisation.dtype == np.float64
    back = RunSummary.from_json(out | {"utilisation_by_hour_of_week": [0] * 167 + [None]})
    assert back.utilisation is not None and back.utilisation.shape == (168,)
    assert math.isnan(back.utilisation[167])
    with pytest.raises(ValueError, match="utilisation_by_hour_of_week: 167 values, not 168"):
        RunSummary.from_json(out | {"utilisation_by_hour_of_week": [0.5] * 167})
