"""The architecture holds (pyproject.toml's [tool.importlinter] contracts): the model never
imports a shell, its rooms depend one way, and the simulation reads no files."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.shell  # runs a program, not the model: out of mutation runs
def test_the_import_contracts_are_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is installed with the test extras"
    res = subprocess.run(
        [found, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "3 kept, 0 broken" in res.stdout


# -- the loader gives a scenario its region; the simulation reads no files ---------------------


def test_a_scenario_not_read_by_the_loader_has_no_region_and_says_where_to_get_it() -> None:
    from planner.scenario.model import Scenario
    from planner.scenario.parameters import deep_merge, default_values
    from planner.sim.world import build_world

    bare = Scenario.model_validate(deep_merge(default_values(), {}))
    with pytest.raises(LookupError, match=r"planner\.load_scenario or planner\.scenario_from_dict"):
        build_world(bare)


def test_the_loader_gives_the_scenario_the_region_it_read_once() -> None:
    import pickle

    from planner import load_scenario, scenario_from_dict
    from planner.geo.geodata import load_region

    s = scenario_from_dict({})
    region = load_region("oslo_akershus")
    assert s.geodata is region
    assert load_scenario(ROOT / "simulations" / "oslo_akershus.toml").geodata is region
    # a copy sent to a worker process keeps it, equal by name (the worker's travel tables are
    # cached on it); it is not part of the scenario's JSON or its hash
    copy = pickle.loads(pickle.dumps(s))
    assert copy.geodata == region and hash(copy.geodata) == hash(region)
    assert copy.geodata.cells.equals(region.cells)
    assert set(s.model_dump()) == set(type(s).model_fields)


def test_the_world_is_built_from_the_region_given_without_opening_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins
    import io

    from planner import scenario_from_dict
    from planner.sim.world import _geodata_world, build_world

    s = scenario_from_dict({"fleet": {"units": [{"name": "X", "base": "ahus", "shift": "day"}]}})
    assert s.geodata.road_model.access_speed("default") > 0  # read with the region
    from planner.geo.roads import road_model

    _geodata_world.cache_clear()  # built here, not found cached
    road_model.cache_clear()  # nor a road model read before

    def no_files(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the simulation opened a file: {args[:1]}")

    for module, name in ((builtins, "open"), (io, "open")):
        monkeypatch.setattr(module, name, no_files)
    monkeypatch.setattr("pathlib.Path.read_text", no_files)
    monkeypatch.setattr("pathlib.Path.read_bytes", no_files)
    world = build_world(s)
    assert world.cell_zone.shape == (len(s.geodata.cells),)


def test_the_loader_checks_a_scenario_against_the_region_it_is_given() -> None:
    from dataclasses import replace

    from pydantic import ValidationError

    from planner import load_scenario
    from planner.scenario.loading import bind_region, describe_errors
    from planner.scenario.model import Scenario

    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    region = s.geodata
    base = s.fleet.units[0].base
    without = replace(region, facilities=region.facilities[region.facilities["id"] != base])
    unbound = Scenario.model_validate(s.model_dump(by_alias=True))
    with pytest.raises(ValidationError) as caught:
        bind_region(unbound, without)
    assert describe_errors(caught.value) == [
        f"fleet.units[0].base {base!r} is not a candidate base of oslo_akershus "
        "(see `planner geodata list bases`)"
    ]
    assert bind_region(unbound, region).geodata is region


@pytest.mark.shell  # starts a fresh interpreter
def test_import_planner_and_the_command_help_load_no_numerical_library() -> None:
    """``import planner`` and building ``planner --help`` import neither pandas, scipy, pyarrow
    nor pydantic (benchmarks/bench_startup.py times them)."""
    code = (
        "import sys, planner, planner.cli; "
        "print(' '.join(m for m in ('pandas', 'scipy', 'pyarrow', 'pydantic', 'geopandas', "
        "'simpy', 'duckdb') if m in sys.modules))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert res.stdout.strip() == ""


# -- one definition each -------------------------------------------------------------------------


def test_todays_service_is_the_same_scenario_from_a_scenario_and_from_its_file() -> None:
    """``baseline_of`` (a run's baseline) and ``baseline_data`` (a sweep's, from the file's
    overrides) are one rule: the same scenario, the same hash, whatever the fleet was."""
    import tomllib

    from planner import load_scenario, scenario_from_dict
    from planner.sim.compare import baseline_data, baseline_of
    from planner.sweep.grid import scenario_hash

    path = ROOT / "simulations" / "oslo_akershus.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    today = baseline_of(load_scenario(path))
    from_file = scenario_from_dict(baseline_data(raw))
    assert today == from_file and scenario_hash(today) == scenario_hash(from_file)
    assert today.dispatch.policy == "baseline" and today.fleet.units == ()
    assert today.geodata is from_file.geodata
    # what else [dispatch] says is kept (today's police-car share is one of its fields); the
    # scenario's own data is not changed
    mine = {"dispatch": {"policy": "health-first", "police_car_share_today": 0.5}, "fleet": {}}
    assert baseline_data(mine) == {
        "dispatch": {"policy": "baseline", "police_car_share_today": 0.5},
        "fleet": {"units": []},
    }
    assert mine["dispatch"]["policy"] == "health-first" and mine["fleet"] == {}
    assert baseline_data({"dispatch": "no table"})["dispatch"] == {"policy": "baseline"}
    abstract = baseline_of(load_scenario(ROOT / "simulations" / "mmc_check.toml"))
    assert abstract.region.kind == "abstract" and abstract.dispatch.policy == "baseline"
    other_fleet = {**raw, "fleet": {"units": [], "crew": 3}}
    assert scenario_hash(scenario_from_dict(baseline_data(other_fleet))) == scenario_hash(today)


def test_replaced_validates_again_and_checks_against_the_region() -> None:
    from pydantic import ValidationError

    from planner import load_scenario
    from planner.scenario.loading import describe_errors, replaced

    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    r = replaced(s, {"run.seed": 3, "run.replications": 2})
    assert (r.run.seed, r.run.replications) == (3, 2) and (s.run.seed, s.run.replications) != (3, 2)
    assert r.geodata is s.geodata and r.fleet == s.fleet
    with pytest.raises(ValidationError) as caught:
        replaced(s, {"run.replications": 0})
    assert describe_errors(caught.value) == [
        "run.replications: Input should be greater than or equal to 1 (got 0)"
    ]
    units = [u.model_dump() for u in s.fleet.units]
    units[1]["base"] = "nowhere"
    with pytest.raises(
        ValidationError, match=r"fleet.units\[1\].base 'nowhere' is not a candidate"
    ):
        replaced(s, {"fleet.units": units})
    with pytest.raises(KeyError, match=r"run\.sede: not a field"):
        replaced(s, {"run.sede": 3})


def test_an_unknown_region_stops_the_scenario_wide_checks_as_a_failed_section_does() -> None:
    """Found in review: with the region check moved to the loader, a scenario with no built
    region and a warm-up longer than its run said both; a failed section stops pydantic before
    the scenario-wide checks, and the unknown region is such a failure, as it was before."""
    from planner import ScenarioError
    from planner.scenario.loading import scenario_from_mapping

    data = {"region": {"name": "tromso"}, "run": {"warmup_days": 300, "horizon_days": 200}}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(data)
    assert [str(p) for p in caught.value.details] == [  # the line ba895ac's validator gave
        "region: region.name 'tromso' has no built geodata; choose one of bergen, oslo_akershus "
        "or kind = 'abstract'"
    ]
