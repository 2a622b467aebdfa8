"""Hostile input: well over 1,000 generated broken scenario and sweep files through the real CLI.

Each file is made by corrupting a valid one in a way that is invalid by construction (a value
out of range, a wrong type, an unknown key or zone, bytes that are not UTF-8 or not TOML, …),
so every one must end the same way: exit code 2, no traceback, nothing written. `planner run`
and `planner sweep` print exactly one line (the first problem, and how many more there are);
`planner validate` prints one line per problem, each starting with the file's name.

A sweep's seed and replications may come from its base's [run] section, which is read exactly
as `planner run` reads a scenario file: a whole number written as "7" or 7.0 is 7, and anything
else (true, 2.5, "ten", ...) is exit code 2 and one line naming the field. Values of every type
are tried there against what `planner run`'s loader makes of the same base.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

from planner.scenario.loading import load_scenario
from planner.scenario.parameters import deep_merge
from planner.sweep.grid import load_sweep

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_EXAMPLES = 700
SWEEP_EXAMPLES = 500
BASE_RUN_EXAMPLES = 300

VALID_SCENARIO: dict[str, Any] = tomllib.loads(
    (ROOT / "simulations" / "oslo_akershus.toml").read_text("utf-8")
)
VALID_SWEEP: dict[str, Any] = {
    "sweep": {"name": "fuzz", "base": "base.toml", "replications": 2, "seed": 3},
    "grid": {"units": [1, 2]},
    "variants": [{"name": "health-first", "policy": "health-first"}],
}
# the same without [sweep] seed and replications: those of the base's [run] are used
SWEEP_FROM_BASE_RUN: dict[str, Any] = {
    **VALID_SWEEP,
    "sweep": {"name": "fuzz", "base": "base.toml"},
}
# the base the sweep file names, written beside it: a valid two-unit Bergen scenario
SWEEP_BASE = {
    "region": {"name": "bergen"},
    "dispatch": {"policy": "health-first"},
    "run": {"horizon_days": 10, "warmup_days": 1},
    "fleet": {
        "units": [
            {"name": "A", "base": "hb_sandviken", "shift": "day"},
            {"name": "B", "base": "bergen_legevakt", "shift": "evening"},
        ]
    },
}

# (dotted path, values that field can never take)
NUMBERS_OUT_OF_RANGE: list[tuple[str, list[Any]]] = [
    ("demand.rate_per_1000_per_year", [0, -1, -1e-9, 1001, 1e300, math.inf, math.nan]),
    ("demand.year", [1999, 2101, -5, 10**30]),
    ("demand.growth_per_year", [-0.51, 1.01, math.nan, -math.inf]),
    ("run.replications", [0, -3, 100_001, 10**18]),
    ("run.seed", [-1, 2**63, 2**64 + 5]),
    ("run.horizon_days", [0, -1, 3651, math.inf]),
    ("run.warmup_days", [-1, 366]),
    ("police.officers_per_patrol", [0, 9, -2]),
    ("police.patrols.oslo", [0, -4, 2001]),
    ("dispatch.max_wait_minutes", [-1, 1441, math.nan]),
    ("costs.police_officer_hour", [-1, 1e13, math.inf]),
    ("appraisal.discount_rate", [-0.1, 0.21]),
    ("fleet.crew", [0, 7, -1]),
    ("situations.suicidal.p_transport", [-0.01, 1.5, math.nan]),
    ("fleet.shifts.day.start_hour", [-1, 24, 25, 1000]),
    ("fleet.shifts.day.hours", [0, -8, 24.5, 48, math.inf]),
]
NUMBER_FIELDS = [p for p, _ in NUMBERS_OUT_OF_RANGE]


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = tomllib.loads(tomli_w.dumps(data))  # a deep copy through TOML itself
    if path.startswith("grid."):  # a grid's keys are dotted paths themselves
        out["grid"][path.removeprefix("grid.")] = value
        return out
    node = out
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


def _dump(data: dict[str, Any]) -> bytes:
    return tomli_w.dumps(data).encode("utf-8")


word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
not_a_number = st.one_of(
    word.map(lambda w: f"x{w}"),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(word, st.integers(), min_size=1, max_size=2),
)


def _deep(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return "{a = " * depth + "1" + "}" * depth


def _generic(valid: bytes) -> st.SearchStrategy[bytes]:
    """Corruptions any TOML file can suffer: bytes, syntax, size, nesting."""
    return st.one_of(
        # a byte that can never be UTF-8, somewhere in the file
        st.integers(0, len(valid)).map(lambda i: valid[:i] + b"\xff" + valid[i:]),
        st.binary(min_size=1, max_size=200).map(lambda b: b"\xfe\xff" + b),
        # broken TOML: a key without a value, an unclosed table header, a duplicate key
        st.integers(0, len(valid)).map(
            lambda i: valid[: valid.rfind(b"\n", 0, i) + 1] + b"= 3\n" + valid[i:]
        ),
        st.just(valid + b"\n[demand\n"),
        st.just(b"a = 1\na = 2\n" + valid),
        # deeply nested junk, as a value of an unknown key and of a known field
        st.tuples(st.integers(50, 3000), st.sampled_from(["array", "table"])).map(
            lambda t: b"zz_junk = " + _deep(*t).encode() + b"\n" + valid
        ),
        # more than the 1 MB a scenario may have
        st.just(b"# " + b"x" * 1_000_001 + b"\n" + valid),
    )


def _scenario_cases() -> st.SearchStrategy[bytes]:
    v = VALID_SCENARIO
    out_of_range = st.sampled_from(NUMBERS_OUT_OF_RANGE).flatmap(
        lambda pv: st.sampled_from(pv[1]).map(lambda x: _dump(_set(v, pv[0], x)))
    )
    wrong_type = st.tuples(st.sampled_from(NUMBER_FIELDS), not_a_number).map(
        lambda t: _dump(_set(v, *t))
    )
    sections = [k for k in ("demand", "dispatch", "run", "police", "fleet", "costs")]
    unknown_key = st.tuples(st.sampled_from(sections), word).map(
        lambda t: _dump(_set(v, f"{t[0]}.zz_{t[1]}", 1))
    )
    # any characters at all in a key: line breaks, control and line-separator characters
    odd_key = st.tuples(
        st.sampled_from(sections), st.text(min_size=1, max_size=8).filter(lambda k: "." not in k)
    ).map(lambda t: _dump(_set(v, f"{t[0]}.zz{t[1]}", 1)))
    odd_zone = st.text(min_size=1, max_size=8).map(
        lambda z: _dump(_set(v, "demand.zone_rate_factors", {f"zz{z}": 1.0}))
    )
    unknown_zone = st.integers(9000, 9999).map(
        lambda z: _dump(_set(v, "demand.zone_rate_factors", {str(z): 1.5}))
    )
    empty_units = st.sampled_from([[{}], [{"name": "A"}], "none", 4]).map(
        lambda u: _dump(_set(v, "fleet.units", u))
    )
    unknown_shift = word.map(
        lambda w: _dump(
            _set(v, "fleet.units", [{"name": "A", "base": "oslo_legevakt", "shift": f"zz{w}"}])
        )
    )
    bad_days = st.sampled_from([[], ["funday"], ["mon", "mon"], "mon"]).map(
        lambda d: _dump(_set(v, "fleet.shifts.day.days", d))
    )
    huge_array = st.integers(169, 20_000).map(
        lambda n: _dump(_set(v, "demand.hour_of_week_profile", [1.0] * n))
    )
    not_a_table = st.sampled_from(["demand", "fleet", "run", "situations"]).map(
        lambda s: _dump({**v, s: 3})
    )
    return st.one_of(
        out_of_range,
        wrong_type,
        unknown_key,
        odd_key,
        odd_zone,
        unknown_zone,
        empty_units,
        unknown_shift,
        bad_days,
        huge_array,
        not_a_table,
        _generic(_dump(v)),
    )


def _sweep_cases() -> st.SearchStrategy[bytes]:
    v = VALID_SWEEP
    bad_sweep = st.sampled_from(
        [
            ("sweep.replications", [0, -1, 100_001, "ten", 2.5]),
            ("sweep.seed", [-1, 2**63, "x"]),
            ("sweep.name", ["", "x" * 81, 3]),
            ("sweep.base", ["missing.toml", "", "."]),
            ("sweep.baselines", ["yes", 2]),
            ("sweep.zz_unknown", [1]),
            ("grid.units", [[], [-1], [3], [99], ["two"], [True]]),
            ("grid.policy", [["police-first"], [1]]),
            ("grid.year", [[1800], [2200], ["2030x"]]),
            ("grid.run.seed", [[1, 2]]),
            ("grid.run.replications", [[3]]),
            ("grid.scenario.name", [["x"]]),
            ("grid.demand.rate_per_1000_per_year", [[-1], [0, 3], [math.nan]]),
            ("grid.fleet.shifts.day.start_hour", [[24], [-1]]),
            ("grid.demand.zone_rate_factors", [[{"9999": 2.0}]]),
            ("grid.demand.zz_unknown", [[1]]),
            ("grid.demand..year", [[2030]]),
            ("grid.units", [list(range(1_001))]),
        ]
    ).flatmap(lambda pv: st.sampled_from(pv[1]).map(lambda x: _dump(_set(v, pv[0], x))))
    bad_variant = st.sampled_from(
        [
            [{"policy": "health-first"}],
            [{"name": ""}],
            [{"name": "a", "fleet.unitz": 1}],
            [{"name": "a", "dispatch": {"policy": "sometimes"}}],
            [{"name": "a", "run": {"seed": 4}}],
            [{"name": "a", "units": 5}],
            [{"name": "a", "shift": "brunch"}],
            [{"name": "a", "year": 1066}],
            [{"name": f"v{i}"} for i in range(1_001)],
        ]
    ).map(lambda variants: _dump({**v, "grid": {}, "variants": variants}))
    # [base.run] seed and replications that are no whole number, of every TOML type
    bad_base_run = st.sampled_from(
        [
            (
                "base.run.replications",
                ["ten", "", "2.5", "1e3", "true", 2.5, 0.0, -2.0, 1e300, math.nan, math.inf],
            ),
            ("base.run.replications", [True, False, [2], {"n": 2}]),
            ("base.run.seed", ["x", "-1", "7.5", 7.5, -1.0, 2.0**64, math.nan, -math.inf, True]),
        ]
    ).flatmap(
        lambda pv: st.sampled_from(pv[1]).map(lambda x: _dump(_set(SWEEP_FROM_BASE_RUN, pv[0], x)))
    )
    too_big = st.just(
        _dump(_set(_set(v, "grid.year", list(range(2000, 2100))), "grid.units", [1, 2] * 20))
    )
    missing_section = st.just(_dump({k: x for k, x in v.items() if k != "sweep"}))
    return st.one_of(
        bad_sweep,
        bad_base_run,
        bad_variant,
        too_big,
        missing_section,
        st.just(b""),
        not_a_number.map(lambda x: _dump({**v, "grid": x})),
        _generic(_dump(v)),
    )


def _check(r: Any, f: Path, one_line: bool) -> None:
    assert r.code == 2, (f.read_bytes()[:300], r.code, r.out[-500:], r.err[-500:])
    assert "Traceback" not in r.err, r.err[-2000:]
    lines = r.err.splitlines()
    assert lines and all(ln.strip() for ln in lines), r.err
    if one_line:
        assert len(lines) == 1, r.err
    else:
        assert all(ln.startswith(str(f)) for ln in lines), r.err


def test_hostile_scenario_files(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    cli = fast_cli
    f = tmp_path / "scenario.toml"
    out = tmp_path / "results"

    def check_one(raw: bytes) -> None:
        f.write_bytes(raw)
        _check(cli("validate", f), f, one_line=False)
        _check(cli("run", f, "--replications", "1", "--out", out), f, one_line=True)
        assert not out.exists()

    tried = fuzz(_scenario_cases(), SCENARIO_EXAMPLES, check_one)
    with capsys.disabled():
        print(f"\n{tried} hostile scenario files: each exit code 2, one line, nothing written")
    assert tried >= SCENARIO_EXAMPLES * 0.9


def test_hostile_sweep_files(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    cli = fast_cli
    (tmp_path / "base.toml").write_bytes(_dump(SWEEP_BASE))
    f = tmp_path / "sweep.toml"
    store = tmp_path / "store.duckdb"
    f.write_bytes(_dump(VALID_SWEEP))
    assert cli("validate", f).code == 0  # the base the corruptions start from is valid

    def check_one(raw: bytes) -> None:
        f.write_bytes(raw)
        if raw:  # an empty file is a valid scenario (all defaults), though not a sweep
            _check(cli("validate", f), f, one_line=False)
        _check(cli("sweep", f, "--store", store, "--workers", "1"), f, one_line=True)
        assert not store.exists()

    tried = fuzz(_sweep_cases(), SWEEP_EXAMPLES, check_one)
    with capsys.disabled():
        print(f"\n{tried} hostile sweep files: each exit code 2, one line, no store created")
    assert tried >= SWEEP_EXAMPLES * 0.9


any_value = st.one_of(
    st.text(max_size=8),
    st.integers(-3, 200_000).map(str),
    st.sampled_from([" 3 ", "+4", "2.0", "1_0", "0x10", "1e3", "٣", "true"]),
    st.floats(),
    st.integers(-3, 200_000).map(float),
    st.booleans(),
    st.lists(st.integers(1, 3), max_size=2),
)


def test_base_run_seed_and_replications_of_any_type(fast_cli, fuzz, tmp_path: Path, capsys) -> None:
    """Found in review: [base.run] seed and replications went into the sweep unvalidated, so
    2.0 or "2" was a traceback and "7" stored work a re-run did not recognise. Each value is
    read as `planner run` reads the same base: the same numbers, or exit 2 and one line."""
    cli = fast_cli
    (tmp_path / "base.toml").write_bytes(_dump(SWEEP_BASE))
    f, scenario = tmp_path / "sweep.toml", tmp_path / "scenario.toml"
    store = tmp_path / "store.duckdb"
    read = 0

    def check_one(case: tuple[str, Any]) -> None:
        nonlocal read
        field, value = case
        f.write_bytes(_dump(_set(SWEEP_FROM_BASE_RUN, f"base.run.{field}", value)))
        scenario.write_bytes(_dump(deep_merge(SWEEP_BASE, {"run": {field: value}})))
        as_planner_run = cli("validate", scenario)
        r = cli("validate", f)
        assert "Traceback" not in r.err, r.err
        if as_planner_run.code == 0:
            run = load_scenario(scenario).run
            said = " ".join(r.out.split())
            assert r.code == 0, (value, r.err)
            assert f"× {run.replications} replications" in said and f"seed {run.seed}" in said
            # the same work as with the number written as one: a re-run recognises it
            plain = tmp_path / "plain.toml"
            number = run.seed if field == "seed" else run.replications
            plain.write_bytes(_dump(_set(SWEEP_FROM_BASE_RUN, f"base.run.{field}", number)))
            assert load_sweep(f).work_items() == load_sweep(plain).work_items()
            read += 1
            return
        assert r.code == 2 and r.err.startswith(f"{f}: base: run.{field}: "), (value, r.err)
        _check(r, f, one_line=False)
        _check(cli("sweep", f, "--store", store, "--workers", "1"), f, one_line=True)
        assert not store.exists()

    cases = st.tuples(st.sampled_from(["seed", "replications"]), any_value)
    tried = fuzz(cases, BASE_RUN_EXAMPLES, check_one)
    with capsys.disabled():
        print(
            f"\n{tried} [base.run] seeds and counts, each as `planner run` reads it: {read} "
            f"read as numbers, {tried - read} refused in one line"
        )
    assert tried >= BASE_RUN_EXAMPLES * 0.9 and 0.1 * tried < read < 0.9 * tried


def test_key_with_a_line_break_stays_one_line(cli, tmp_path: Path) -> None:
    """Found by the fuzzing above: a quoted key holding \\x1e or a newline split the error."""
    f = tmp_path / "odd.toml"
    f.write_text('[demand]\n"zz\\u001e\\nx" = 1\n', "utf-8")
    r = cli("run", f, "--out", tmp_path / "out")
    assert r.code == 2
    assert len(r.err.splitlines()) == 1, r.err
    assert r.err.startswith(f"{f}: demand.zz\\x1e\\nx: unknown field")
    assert not (tmp_path / "out").exists()
