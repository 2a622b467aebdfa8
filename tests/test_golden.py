"""Golden values: the default scenario's KPIs, its baseline's and its economics, pinned.

A model change that moves any of them fails here until the file is regenerated on purpose
(``python tests/golden/regenerate.py``) and committed with the reason the numbers moved.
"""

from __future__ import annotations

import json
import math

import pytest
from golden.figures import GOLDEN, RELATIVE_TOLERANCE, figures


@pytest.fixture(scope="module")
def now() -> dict:
    return figures()


@pytest.fixture(scope="module")
def pinned() -> dict:
    return json.loads(GOLDEN.read_text("utf-8"))


@pytest.mark.parametrize("section", ["kpis", "baseline_kpis", "economics"])
def test_figures_equal_the_golden_file(now: dict, pinned: dict, section: str) -> None:
    assert set(now[section]) == set(pinned[section]), "the set of figures changed"
    moved = {}
    for key, want in pinned[section].items():
        got = now[section][key]
        if want is None or got is None:
            if want is not got:
                moved[key] = (want, got)
        elif not math.isclose(got, want, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12):
            moved[key] = (want, got)
    assert not moved, f"{section} moved (pinned, now): {moved}"


def test_the_golden_run_is_the_shipped_default(now: dict, pinned: dict) -> None:
    assert (now["replications"], now["seed"]) == (pinned["replications"], pinned["seed"])
    assert now["max_hourly_utilisation"] == pytest.approx(pinned["max_hourly_utilisation"])
    assert pinned["max_hourly_utilisation"] <= 1.0
