"""A validated scenario cannot be changed, all the way down; ``replaced`` makes a changed one."""

from __future__ import annotations

import copy
import pickle

import pytest

from planner.scenario.loading import load_scenario, replaced
from planner.scenario.model import FrozenDict, Scenario
from planner.sim.compare import baseline_of


@pytest.fixture(scope="module")
def oslo() -> Scenario:
    return load_scenario("simulations/oslo_akershus.toml")


def test_its_lists_are_tuples_and_its_tables_refuse_every_change(oslo: Scenario) -> None:
    assert isinstance(oslo.fleet.units, tuple)
    assert isinstance(oslo.optimise.shift_lengths, tuple)
    assert isinstance(oslo.travel.rush_hours, tuple)
    assert all(isinstance(s.days, tuple) for s in oslo.fleet.shifts.values())
    with pytest.raises(AttributeError):
        oslo.fleet.units.append(oslo.fleet.units[0])  # type: ignore[attr-defined]
    tables = [
        oslo.situations,
        oslo.fleet.shifts,
        oslo.police.patrols,
        oslo.call_handling.channel_shares,
        oslo.demand.zone_rate_factors,
        oslo.facilities.catchment_overrides,
    ]
    for table in tables:
        assert isinstance(table, FrozenDict)
        before = dict(table)
        for change in (
            lambda t: t.__setitem__("x", 1),
            lambda t: t.__delitem__(next(iter(t), "x")),
            lambda t: t.pop(next(iter(t), "x")),
            lambda t: t.popitem(),
            lambda t: t.clear(),
            lambda t: t.update({"x": 1}),
            lambda t: t.setdefault("x", 1),
        ):
            with pytest.raises(TypeError, match="replaced"):
                change(table)
        with pytest.raises(TypeError, match="replaced"):
            table |= {"x": 1}  # type: ignore[operator]
        assert dict(table) == before
    with pytest.raises(Exception, match="frozen"):
        oslo.fleet.crew = 3  # type: ignore[misc]


def test_a_frozen_scenario_pickles_copies_and_compares_as_before(oslo: Scenario) -> None:
    back = pickle.loads(pickle.dumps(oslo))  # as a worker process receives it
    assert back == oslo and isinstance(back.fleet.shifts, FrozenDict)
    assert copy.deepcopy(oslo) == oslo and copy.copy(oslo) == oslo
    assert oslo.situations == dict(oslo.situations)  # a table equals the dict of its items
    # what a table or list holds is written as the file has it: a table and a list
    dumped = oslo.model_dump()
    assert type(dumped["fleet"]["shifts"]) is dict
    assert type(oslo.content()["fleet"]["units"]) is list


def test_the_content_hash_is_what_it_was_before_scenarios_were_frozen(oslo: Scenario) -> None:
    # computed by the code before this change: stored results keep their names. Moved on
    # purpose when scenarios gained [callers] (frequent callers), and again when they gained the
    # police patrols and the ways to respond (issue 16: police.model and its fields, co-response,
    # civil police, the pass-on by hour, guarding by facility), and when the police's time on
    # scene was scaled down for their drive back to the station: a run of the model before
    # either is not a run of this scenario
    assert oslo.content_hash() == (
        "adbda8f9fd2c594e67217808484e36fa6fbf89ea8f80b419a88b5e2954c0a304"
    )
    assert baseline_of(oslo).content_hash() == (
        "d1041e0d8fe0cc13d3b62c99a87fa4f39e4e48b278bb6e3d770f638c7ea59a77"
    )


def test_replaced_makes_a_changed_scenario_validated_again(oslo: Scenario) -> None:
    fewer = replaced(oslo, {"fleet.units": [u.model_dump() for u in oslo.fleet.units[:2]]})
    assert [u.name for u in fewer.fleet.units] == [u.name for u in oslo.fleet.units[:2]]
    assert isinstance(fewer.fleet.units, tuple) and len(oslo.fleet.units) == 4
    with pytest.raises(ValueError, match=r"fleet\.crew"):
        replaced(oslo, {"fleet.crew": 0})
