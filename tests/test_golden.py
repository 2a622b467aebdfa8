"""Golden values: the default scenario's KPIs, its baseline's and its economics, pinned.

A model change that moves any of them fails here until the files are regenerated on purpose
(``python tests/golden/regenerate.py``) and committed with the reason the numbers moved. The
full run is the shipped default; the short one (5 weeks, 2 replications, with the zone and hour
tables) costs seconds and is the one mutation runs use.
"""

from __future__ import annotations

import json
import math

import pytest
from golden.figures import GOLDEN, RELATIVE_TOLERANCE, SHORT_DAYS, SHORT_REPLICATIONS, figures

RUNS = [pytest.param("full", marks=pytest.mark.slow), "short"]
SECTIONS = {
    "full": ["kpis", "baseline_kpis", "economics", "by_cohort"],
    "short": ["kpis", "baseline_kpis", "economics", "by_zone", "by_hour", "utilisation",
              "kpi_intervals", "by_cohort"],
}  # fmt: skip


@pytest.fixture(scope="module", params=RUNS)
def run(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def now(run: str) -> dict:
    return figures(run)


@pytest.fixture(scope="module")
def pinned(run: str) -> dict:
    return json.loads(GOLDEN[run].read_text("utf-8"))


def test_figures_equal_the_golden_file(run: str, now: dict, pinned: dict) -> None:
    for section in SECTIONS[run]:
        assert set(now[section]) == set(pinned[section]), f"the set of {section} changed"
        moved = {}
        for key, want in pinned[section].items():
            got = now[section][key]
            if want is None or got is None:
                if want is not got:
                    moved[key] = (want, got)
            elif not math.isclose(got, want, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12):
                moved[key] = (want, got)
        assert not moved, f"{section} moved (pinned, now): {moved}"


def test_the_golden_run_is_the_shipped_default(run: str, now: dict, pinned: dict) -> None:
    assert (now["replications"], now["seed"]) == (pinned["replications"], pinned["seed"])
    if run == "short":
        assert (pinned["replications"], pinned["horizon_days"]) == (SHORT_REPLICATIONS, SHORT_DAYS)
    assert now["max_hourly_utilisation"] == pytest.approx(pinned["max_hourly_utilisation"])
    assert pinned["max_hourly_utilisation"] <= 1.0
