"""The engine's quick dispatch (units in order of drive, a running count of free on-duty units,
the quickest on-duty drive per hour) against the plain rule it replaced, call by call.

The plain rule, written here from the model's definition: among the units on duty in the call's
hour, those whose ETA (mobilisation + drive from base in the hour's traffic) is within the reach
limit; none on duty: no unit; none within reach: out of reach; a free one among them: the one
with the least (ETA, index); else the call waits. At every arrival the count of free on-duty
units is also checked against a count made by looking at each unit."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROOT

from planner import load_scenario, scenario_from_dict
from planner.scenario.model import Scenario
from planner.sim.engine import Engine
from planner.sim.run import run_replication


def _plain_rule(e: Engine, i: int, hour: int) -> int | None:
    on_duty = [u for u in e.units if u.on_duty[hour]]
    prof, cell, mob = e.peak[hour], e.cell[i], e.mob[i]
    reach = [(mob + e.eta_rows[prof][u.index][cell], u.index) for u in on_duty]
    reach = [r for r in reach if r[0] <= e.scenario.dispatch.max_response_minutes]
    if not reach:
        return None
    free = [r for r in reach if not e.units[r[1]].busy]
    return min(free)[1] if free else -1


def _checked(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    seen = {"calls": 0, "waits": 0, "out_of_reach": 0, "all_busy": 0, "all_busy_out_of_reach": 0}
    quick = Engine._quickest_free

    def both(e: Engine, i: int, hour: int, now: float) -> int | None:
        free = sum(not u.busy and u.on_duty[hour] for u in e.units)
        e._to_hour(int(now) // 60)
        assert e._free == free, (now, hour)
        want = _plain_rule(e, i, hour)
        got = quick(e, i, hour, now)
        assert got == want, (i, now, got, want)
        seen["calls"] += 1
        seen["waits"] += got == -1
        seen["out_of_reach"] += got is None
        seen["all_busy"] += free == 0
        seen["all_busy_out_of_reach"] += free == 0 and got is None
        return got

    monkeypatch.setattr(Engine, "_quickest_free", both)
    return seen


def _short(path: str, **run: Any) -> Scenario:
    s = load_scenario(ROOT / "simulations" / path)
    data = s.model_dump(mode="json", by_alias=True)
    data["run"].update({"horizon_days": 35, "warmup_days": 0, **run})
    return scenario_from_dict(data)


def _crowded(units: int) -> Scenario:
    """Many units over the region's bases and shifts, twice the calls per unit of the default,
    a short reach: calls that wait, calls out of reach and hours with every unit busy."""
    s = _short("oslo_akershus.toml")
    data = s.model_dump(mode="json", by_alias=True)
    from planner.geo.geodata import load_region

    bases = load_region(s.region.name).base_ids
    shifts = ["day", "evening", "late", "night"]
    data["fleet"]["units"] = [
        {"name": f"u{k}", "base": bases[(3 * k) % len(bases)], "shift": shifts[k % 4]}
        for k in range(units)
    ]
    data["demand"]["rate_per_1000_per_year"] *= units / 2
    data["dispatch"]["max_response_minutes"] = 30.0
    data["run"]["horizon_days"] = 7
    return scenario_from_dict(data)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _short("oslo_akershus.toml"),
        lambda: _short("bergen.toml"),
        lambda: _crowded(12),
    ],
    ids=["default", "bergen", "crowded"],
)
def test_the_quick_dispatch_is_the_plain_rule(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    seen = _checked(monkeypatch)
    run_replication(make(), 0)
    assert seen["calls"] > 200
    assert seen["waits"] > 0 and seen["all_busy"] > 0  # the shortcut was taken


def test_the_crowded_fleet_meets_every_case(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _checked(monkeypatch)
    run_replication(_crowded(12), 0)
    assert min(seen.values()) > 10, seen  # waits, out of reach, every unit busy: all met
