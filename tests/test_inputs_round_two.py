"""Hard inputs, round two (issue 13): inputs that passed validation and then crashed, hung or
misled, each reproduced through the real CLI (and, for the crashes, through the Python API).

The rule is the CLI's: bad input gets one line naming the file or field and the problem, exit
code 2, no traceback, nothing written. Every case here is small (the Bergen region over two
days, one or two replications) so the whole file runs in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from pydantic import ValidationError

from planner import scenario_from_dict, simulate
from planner.scenario.distributions import MAX_MINUTES
from planner.scenario.loading import ScenarioError, load_scenario
from planner.scenario.model import MAX_CALLS_PER_REPLICATION

ROOT = Path(__file__).resolve().parent.parent
SIMS = ROOT / "simulations"
SMALL: dict[str, Any] = {
    "region": {"name": "bergen"},
    "run": {"horizon_days": 2, "warmup_days": 0, "replications": 1},
}
UNIT = {"name": "A", "base": "hb_sandviken", "shift": "day"}
HOSTILE_NAME = "[/]\x1b[31m[link=https://evil.example]x"
SHOWN_NAME = "[/]\\x1b[31m[link=https://evil.example]x"  # as printed: the escape made visible


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def _with(data: dict[str, Any], **sections: dict[str, Any]) -> dict[str, Any]:
    return {**data, **sections}


def _one_line(r: Any, *fragments: str, start: str | None = None) -> str:
    """The result is exit code 2 and exactly one line on stderr holding every fragment."""
    assert r.code == 2, (r.code, r.out[-500:], r.err[-1500:])
    assert "Traceback" not in r.err and "╭" not in r.err, r.err[-1500:]
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if start is not None:
        assert lines[0].startswith(start), lines[0]
    return lines[0]


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as their content, so a name is never folded across lines."""
    monkeypatch.setenv("COLUMNS", "400")


# -- 1. distributions: extreme parameters are refused, named, before anything runs -------------

EXTREME = [
    ({"dist": "gamma", "mean": 1e-100, "sd": 1e100}, "on_scene.sd: Input should be less than"),
    ({"dist": "lognormal", "mean": 1e-100, "sd": 1e100}, "on_scene.sd: Input should be less"),
    ({"dist": "gamma", "mean": 1e-100, "sd": 1e-90}, "on_scene.sd: at most 10 × mean"),
    ({"dist": "lognormal", "mean": 1e-100, "sd": 1e-90}, "on_scene.sd: at most 10 × mean"),
    ({"dist": "gamma", "mean": 600.0, "sd": 1e-300}, "on_scene.sd: at least mean / 1,000"),
    ({"dist": "exponential", "mean": 1e308}, "on_scene.mean: Input should be less than"),
    ({"dist": "lognormal", "mean": 1e308, "sd": 1.0}, "on_scene.mean: Input should be less"),
    ({"dist": "gamma", "mean": 1e308, "sd": 1.0}, "on_scene.mean: Input should be less"),
    ({"dist": "fixed", "value": 1e308}, "on_scene.value: Input should be less than"),
    ({"dist": "empirical", "values": [1e308]}, "on_scene.values[0]: Input should be less"),
    (
        {"dist": "empirical", "values": [1.0, 2.0], "weights": [1e308, 1e308]},
        "on_scene.weights: their sum is too large",
    ),
]


@pytest.mark.parametrize(("dist", "fragment"), EXTREME, ids=[str(d) for d, _ in EXTREME])
def test_extreme_distribution_is_refused(
    cli, tmp_path: Path, dist: dict[str, Any], fragment: str
) -> None:
    data = _with(SMALL, situations={"suicidal": {"on_scene": dist}})
    with pytest.raises(ValidationError):  # it used to pass and crash inside simulate
        simulate(scenario_from_dict(data))
    f = _write(tmp_path / "extreme.toml", data)
    line = _one_line(cli("validate", f), f"situations.suicidal.{fragment}", start=str(f))
    assert "(got {" not in line  # a table's problem names its field, not the whole table
    out = tmp_path / "out"
    _one_line(cli("run", f, "--out", out), fragment, start=str(f))
    assert not out.exists()


def test_optimize_refuses_an_overflowing_time_that_run_accepted(cli, tmp_path: Path) -> None:
    """`planner run` exited 0 on a fixed time of 1e308 minutes and optimize overflowed."""
    data = _with(SMALL, facilities={"handover_ambulance": {"dist": "fixed", "value": 1e308}})
    f = _write(tmp_path / "huge.toml", data)
    out = tmp_path / "out"
    _one_line(cli("optimize", f, "--out", out), "facilities.handover_ambulance.value")
    assert not out.exists()


def test_distributions_at_their_bounds_simulate() -> None:
    """Every bound is safe: the largest and most skewed laws allowed run and give numbers."""
    m = MAX_MINUTES
    data = _with(
        SMALL,
        dispatch={"policy": "health-first"},
        fleet={"units": [UNIT]},
        situations={
            "suicidal": {"on_scene": {"dist": "gamma", "mean": 1e-300, "sd": 1e-299}},
            "psychosis": {"on_scene": {"dist": "lognormal", "mean": m, "sd": m}},
            "intoxication": {"on_scene": {"dist": "gamma", "mean": m, "sd": m / 1000}},
            "welfare_check": {"police_alone": {"dist": "lognormal", "mean": 1e-300, "sd": 1e-299}},
        },
        call_handling={
            "handling": {"dist": "exponential", "mean": m},
            "pass_on": {"dist": "empirical", "values": [0.0, m], "weights": [1.7e308, 1e-300]},
        },
        facilities={"handover_police": {"dist": "fixed", "value": m}},
    )
    r = simulate(scenario_from_dict(data))
    assert r.kpi("calls_per_year") > 0
    assert r.log["t_arrival"].notna().all()


def test_bounds_are_in_the_schema_and_params(cli, wide: None) -> None:
    import json

    schema = json.loads(cli("schema").out)
    gamma = schema["$defs"]["Gamma"]
    assert gamma["properties"]["mean"]["maximum"] == MAX_MINUTES
    assert "10 × mean" in gamma["properties"]["sd"]["description"]
    assert "7 days" in gamma["limits"]
    fixed = schema["$defs"]["Fixed"]["properties"]["value"]
    assert fixed["maximum"] == MAX_MINUTES and "7 days" in fixed["description"]
    assert schema["$defs"]["Run"]["properties"]["horizon_days"]["minimum"] == 1
    assert schema["max_calls_per_replication"] == MAX_CALLS_PER_REPLICATION
    assert f"{MAX_CALLS_PER_REPLICATION:,} calls" in schema["description"]
    r = cli("params", "--grep", "on_scene")
    assert r.code == 0 and "10,080" in r.out
    r = cli("params", "--grep", "run.horizon_days")
    assert r.code == 0 and ">= 1" in r.out


# -- 2. run length and demand volume --------------------------------------------------------


def test_a_run_shorter_than_a_day_is_refused(cli, tmp_path: Path) -> None:
    data = _with(SMALL, run={"horizon_days": 1e-6, "warmup_days": 0})
    with pytest.raises(ValidationError):  # it used to pass and raise IndexError in simulate
        simulate(scenario_from_dict(data))
    f = _write(tmp_path / "short.toml", data)
    _one_line(cli("run", f, "--out", tmp_path / "out"), "run.horizon_days: Input should be greater")
    assert not (tmp_path / "out").exists()


def test_a_run_without_a_single_call_is_no_crash(cli, tmp_path: Path) -> None:
    """Found with the short run above: a replication that draws no call crashed the log."""
    data = _with(SMALL, demand={"rate_per_1000_per_year": 1e-9}, run={"replications": 2})
    r = simulate(scenario_from_dict(data))
    assert r.kpi("calls_per_year") == 0 and len(r.log) == 0
    f = _write(tmp_path / "quiet.toml", data)
    res = cli("run", f, "--out", tmp_path / "out")
    assert res.code == 0, res.err
    assert (tmp_path / "out" / "summary.json").is_file()


HUGE_DEMAND = {
    "rate_per_1000_per_year": 1000,
    "year": 2100,
    "growth_per_year": 1.0,
    "zone_rate_factors": {"460101": 100},
}


def test_demand_beyond_memory_is_refused_before_it_runs(cli, tmp_path: Path) -> None:
    data = _with(SMALL, demand=HUGE_DEMAND)
    with pytest.raises(ValidationError, match="calls expected in one replication"):
        scenario_from_dict(data)
    f = _write(tmp_path / "huge.toml", data)
    started = time.perf_counter()
    line = _one_line(
        cli("run", f, "--out", tmp_path / "out"),
        "demand.rate_per_1000_per_year",
        "demand.growth_per_year",
        "demand.year",
        "demand.zone_rate_factors",
        "run.horizon_days",
        f"{MAX_CALLS_PER_REPLICATION:,}",
        start=str(f),
    )
    assert time.perf_counter() - started < 10
    assert "(top level)" not in line and "(got" not in line
    assert not (tmp_path / "out").exists()
    # an abstract region names its population instead of zones
    abstract = {"kind": "abstract", "population": 50_000_000}
    f = _write(tmp_path / "abstract.toml", {"region": abstract, "demand": {"year": 2100}})
    _one_line(cli("validate", f), "region.population", "calls expected in one replication")


# -- 3. integers longer than Python will convert ----------------------------------------------


def test_integer_of_more_than_4300_digits_is_one_line(cli, tmp_path: Path) -> None:
    digits = "1" * 4301
    f = tmp_path / "digits.toml"
    f.write_text(f'[scenario]\nname = "x"\n[zz_unknown]\ndeep = {{ n = {digits} }}\n', "utf-8")
    for command in ("validate", "run"):
        _one_line(
            cli(command, f), "not valid TOML: an integer has more than 4,300 digits", start=str(f)
        )
    with pytest.raises(ScenarioError):
        load_scenario(f)
    # in a sweep file, and in the base a sweep names
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[sweep]\nname = "s"\nseed = {digits}\n', "utf-8")
    _one_line(
        cli("sweep", sweep, "--store", tmp_path / "s.duckdb"), "4,300 digits", start=str(sweep)
    )
    sweep.write_text('[sweep]\nname = "s"\nbase = "digits.toml"\n', "utf-8")
    _one_line(cli("sweep", sweep, "--store", tmp_path / "s.duckdb"), f"{f}: not valid TOML")
    assert not (tmp_path / "s.duckdb").exists()


# -- 4. names holding rich markup or terminal escapes ---------------------------------------


def _hostile_files(tmp_path: Path) -> tuple[Path, Path]:
    info = {"name": HOSTILE_NAME, "description": "[bold]not bold[/bold] :smile:"}
    a = _write(tmp_path / "[bold]a.toml", _with(SMALL, scenario=info))
    b = _write(
        tmp_path / "b.toml",
        _with(SMALL, scenario=info, dispatch={"policy": "health-first"}, fleet={"units": [UNIT]}),
    )
    return a, b


def _plain(r: Any) -> None:
    assert r.code == 0, r.err[-1500:]
    assert "\x1b" not in r.out + r.err and "Traceback" not in r.err
    assert SHOWN_NAME in r.out, r.out


def test_markup_in_names_is_printed_as_text(cli, tmp_path: Path, wide: None) -> None:
    a, b = _hostile_files(tmp_path)
    r = cli("validate", a, b)
    _plain(r)
    assert f"✓ {a}: {SHOWN_NAME}" in r.out
    _plain(cli("run", a, "--out", tmp_path / "ra"))
    _plain(cli("compare", a, b, "--replications", "2"))


def test_markup_in_sweep_and_store_names_is_printed_as_text(
    cli, tmp_path: Path, wide: None
) -> None:
    a, _ = _hostile_files(tmp_path)
    sweep = _write(
        tmp_path / "sweep.toml",
        {"sweep": {"name": HOSTILE_NAME, "base": a.name, "replications": 1, "seed": 1}},
    )
    store = tmp_path / "s.duckdb"
    _plain(cli("validate", sweep))
    _plain(cli("sweep", sweep, "--store", store, "--workers", "1"))
    _plain(cli("store", "list", "--store", store))


# -- 5. special files --------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_link_to_a_device_is_refused_without_reading_it(cli, tmp_path: Path, device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    f = tmp_path / "scenario.toml"
    f.symlink_to(device)
    started = time.perf_counter()
    _one_line(cli("validate", f), "is not a regular file (a device)", start=str(f))
    _one_line(cli("run", f), "is not a regular file", start=str(f))
    with pytest.raises(ScenarioError):
        load_scenario(f)
    assert time.perf_counter() - started < 10


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[sweep]\nname = "s"\nbase = "pipe.toml"\n', "utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "planner", "validate", str(fifo), str(sweep)],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        f"{fifo}: is not a regular file (a named pipe)",
        f"{sweep}: sweep.base: {fifo}: is not a regular file (a named pipe)",
    ]


# -- 6. command-line values ----------------------------------------------------------------------

BERGEN = SIMS / "bergen.toml"
CHECK = SIMS / "sweep_check.toml"
BAD_OPTIONS = [
    (["run", BERGEN, "--replications", "0"], "planner run: Invalid value for '--replications'"),
    (["run", BERGEN, "--seed", "-5"], "planner run: Invalid value for '--seed'"),
    (["run", BERGEN, "--seed", "9223372036854775808"], "planner run: Invalid value for '--seed'"),
    (
        ["compare", BERGEN, BERGEN, "--seed", str(2**63)],
        "planner compare: Invalid value for '--seed'",
    ),
    (["sweep", CHECK, "--workers", "abc"], "planner sweep: Invalid value for '--workers'"),
    (["optimize", BERGEN, "--budget", "nan"], "planner optimize: Invalid value for '--budget'"),
    (["optimize", BERGEN, "--budget", "inf"], "planner optimize: Invalid value for '--budget'"),
    (["optimize", BERGEN, "--max-units", "0"], "planner optimize: Invalid value for '--max-units'"),
    (["run"], "planner run: Missing argument"),
    (["run", BERGEN, "--bogus"], "planner run: No such option: --bogus"),
    (["store", "list", "--bogus"], "planner store list: No such option: --bogus"),
    (["frobnicate"], "planner: No such command"),
    (["run", BERGEN / "x.toml"], "cannot be read (Not a directory)"),
]


@pytest.mark.parametrize(
    ("args", "fragment"),
    BAD_OPTIONS,
    ids=[" ".join(x.name if isinstance(x, Path) else x for x in a) for a, _ in BAD_OPTIONS],
)
def test_bad_command_line_value_is_one_line(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[Any], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)  # where results/ would be written
    _one_line(cli(*args), fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_one_line(cli, tmp_path: Path) -> None:
    f = tmp_path / "secret.toml"
    f.write_text("", "utf-8")
    f.chmod(0)
    _one_line(cli("validate", f), "cannot be read (Permission denied)", start=str(f))


def test_help_and_version(cli) -> None:
    for args in (["-h"], ["--help"], ["run", "-h"], ["store", "-h"]):
        r = cli(*args)
        assert r.code == 0 and "Usage: planner" in r.out, (args, r.err)
    r = cli("--version")
    assert r.code == 0 and r.out == f"planner {metadata.version('planner')}\n"


# -- 7. optimize validates first; a scheduler address is checked before any work ---------------


def test_optimize_validates_the_file_before_changing_it(cli, tmp_path: Path) -> None:
    f = tmp_path / "odd.toml"
    f.write_text("optimise = [1]\n", "utf-8")
    for extra in ([], ["--max-units", "3"]):
        _one_line(cli("optimize", f, *extra, "--out", tmp_path / "out"), "optimise", start=str(f))
    assert not (tmp_path / "out").exists()


def test_scheduler_that_is_no_address_is_refused_at_once(cli, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    started = time.perf_counter()
    r = cli("sweep", CHECK, "--store", store, "--scheduler", "not a url")
    _one_line(r, "--scheduler: 'not a url' is not a scheduler address like tcp://HOST:8786")
    assert time.perf_counter() - started < 5
    _one_line(cli("sweep", CHECK, "--store", store, "--scheduler", "http://h:1"), "not a Dask")
    assert not store.exists()


# -- 8. compare only what meets the same calls -------------------------------------------------


def test_compare_across_regions_or_demand_is_refused(cli, tmp_path: Path) -> None:
    r = cli("compare", BERGEN, SIMS / "oslo_akershus.toml")
    _one_line(r, "do not meet the same calls", "region.name 'bergen' in A, 'oslo_akershus' in B")
    assert r.out == ""
    a = _write(tmp_path / "a.toml", SMALL)
    b = _write(tmp_path / "b.toml", _with(SMALL, demand={"year": 2030}))
    _one_line(cli("compare", a, b), "demand.year 2026 in A, 2030 in B")


# -- 9. a problem of the whole scenario names its fields and does not quote the input ---------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"run": {"warmup_days": 20, "horizon_days": 10}},
            "run.warmup_days must be shorter than run.horizon_days",
        ),
        (
            {"dispatch": {"policy": "health-first"}, "fleet": {"units": [{**UNIT, "base": "x"}]}},
            "fleet.units[0].base 'x' is not a candidate base of oslo_akershus "
            "(see `planner geodata list bases`)",
        ),
        ({"fleet": {"units": [UNIT, UNIT]}}, "fleet: unit names must be unique"),
        (
            {"situations": {"suicidal": {"share": 0.9}}},
            "situations: situation shares must sum to 1, got 1.6",
        ),
    ],
)
def test_scenario_level_problem_names_fields_not_the_input(
    cli, tmp_path: Path, data: dict[str, Any], expected: str
) -> None:
    f = _write(tmp_path / "whole.toml", data)
    r = cli("validate", f)
    assert r.code == 2
    assert r.err.splitlines() == [f"{f}: {expected}"]
