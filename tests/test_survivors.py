"""Details pinned because a mutant survived: each test here fails on a one-token change to the
model that no other fast test noticed (tests/mutation/README.md tells how they are found)."""

from __future__ import annotations

from typing import Any

import pytest

from planner import load_scenario
from planner.compare import calls_differ
from planner.scenario import Scenario


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
