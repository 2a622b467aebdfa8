"""Sweeps: a grid or list of scenario variations × replications, expanded to work items.

The core of ``planner sweep`` and nothing else: a sweep file in, concrete validated scenarios
and their work items out, and the function a worker runs for one item. No files are written
and nothing is stored here (that is ``store.py``); ``cli.py`` drives executors and progress.

Every scenario of a sweep runs with the sweep's one seed, so replication r of every scenario
meets the same calls (common random numbers) and differences between scenarios are paired.
A work item is (scenario, seed, replication); its result depends on nothing else — not on the
worker, the executor or the order — so a sweep can be resumed or spread over machines.

A scenario is named by a hash of everything its results depend on (``scenario_hash``): the
merged, validated scenario (the defaults included, not only the file's overrides) and the model
it runs on (planner version, the region's built geodata, the demand profiles). After an upgrade
that changes any of them the same sweep file gives new hashes, so a resume never mixes results
of two models under one name.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from planner.limits import MAX_REPLICATIONS, MAX_SEED
from planner.scenario.loading import (
    ScenarioError,
    bind_region,
    describe_errors,
    parse_toml,
    read_bytes,
    replaced,
    scenario_from_mapping,
)
from planner.scenario.model import Run, Scenario
from planner.scenario.parameters import deep_merge, default_values
from planner.sim.compare import baseline_data
from planner.version import model_digest, planner_version

# Limits that keep a mistyped grid from asking for years of work or exhausting memory before a
# single replication runs; each is reported as a one-line error naming the field.
MAX_GRID_VALUES = 1_000
"""Most values one grid axis may list."""
MAX_VARIANTS = 1_000
"""Most [[variants]] a sweep may list."""
MAX_SCENARIOS = 2_000
"""Most scenarios a sweep may expand to (variants × grid, baselines included)."""
MAX_WORK_ITEMS = 1_000_000
"""Most (scenario, replication) work items in one sweep."""
WORLDS_PER_WORKER = 8
"""Scenarios whose prepared World a worker keeps, so consecutive items skip rebuilding it."""

SHORTCUTS = {
    "units": "the first N units of the base fleet",
    "policy": "dispatch.policy",
    "year": "demand.year",
    "shift": "the shift of every unit",
}
"""High-level keys a grid or variant may use besides dotted scenario paths."""

_RESERVED = {
    "run.seed": "set seed in [sweep]: one seed for all scenarios keeps them paired",
    "run.replications": "set replications in [sweep]",
    "scenario.name": "the sweep names its scenarios (variant name and grid values)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SweepInfo(_Strict):
    """The ``[sweep]`` section."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(
        "sweep", description="names the sweep's scenarios: '<name>: <variant and grid values>'"
    )
    base: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        None, description="scenario file the variations start from, relative to the sweep file"
    )
    replications: int | None = Field(
        None,
        strict=True,
        ge=1,
        le=MAX_REPLICATIONS,
        description="replications per scenario; default the base's run.replications, as "
        "`planner run` reads it (the scenario default if the base does not set it)",
    )
    seed: int | None = Field(
        None,
        strict=True,
        ge=0,
        lt=MAX_SEED + 1,
        description="one seed for every scenario; default the base's run.seed, as `planner run` "
        "reads it",
    )
    baselines: bool = Field(
        True,
        strict=True,
        description="add today's service (police respond) on the same calls for every service "
        "scenario, as `planner run` does: needed for police hours freed and the report",
    )


class SweepSpec(_Strict):
    """A sweep file: ``[sweep]``, an optional inline ``[base]``, ``[grid]`` and ``[[variants]]``."""

    sweep: SweepInfo
    base: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, Annotated[list[Any], Field(min_length=1, max_length=MAX_GRID_VALUES)]] = Field(
        default_factory=dict
    )
    variants: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_VARIANTS)


@dataclass(frozen=True)
class SweepScenario:
    """One concrete scenario of a sweep: its TOML (what the sweep file sets; stored for people to
    read), the hash that names it and the merged scenario a worker runs."""

    label: str
    toml: str
    hash: str  # scenario_hash(scenario)
    scenario: Scenario  # validated, with the sweep's seed and replications
    baseline_hash: str | None  # today's service on the same calls, if the sweep has it
    model: str  # the whole validated scenario as JSON: what a worker simulates

    @property
    def is_baseline(self) -> bool:
        return self.scenario.dispatch.policy == "baseline"


@dataclass(frozen=True)
class Sweep:
    name: str
    seed: int
    replications: int
    scenarios: tuple[SweepScenario, ...]

    def work_items(self) -> list[tuple[str, int, int]]:
        """Every (scenario hash, seed, replication), replication-major so early results span
        every scenario (a partial sweep is then a smaller sweep, not a few finished scenarios)."""
        return [(s.hash, self.seed, r) for r in range(self.replications) for s in self.scenarios]

    def by_hash(self) -> dict[str, SweepScenario]:
        return {s.hash: s for s in self.scenarios}


def _fail(origin: str, problems: list[str]) -> None:
    raise ScenarioError([p if p.startswith(origin) else f"{origin}: {p}" for p in problems])


def canonical_toml(data: dict[str, Any]) -> str:
    """TOML with keys sorted at every level: the same scenario always has the same text."""

    def order(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: order(node[k]) for k in sorted(node)}
        if isinstance(node, list):
            return [order(v) for v in node]
        return node

    return tomli_w.dumps(order(data))


@cache
def _folder_digest(folder: str) -> str:
    """sha256 over the names and contents of a folder's files (a region's built geodata)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if path.is_file():
            digest.update(
                f"{path.name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\0".encode()
            )
    return digest.hexdigest()


def model_fingerprint(scenario: Scenario) -> dict[str, str]:
    """What a scenario's results depend on besides its own values: the planner version, the
    digest of the model's code and data files and, for a geodata region, its built files."""
    from planner.geo import geodata

    out = {"planner": planner_version(), "model": model_digest()}
    if scenario.region.kind == "geodata":
        out["geodata"] = _folder_digest(str(geodata.geodata_dir() / scenario.region.name))
    return out


def model_json(scenario: Scenario) -> str:
    """The whole validated scenario (defaults included) as JSON, in the model's own order: keys
    are not sorted, as the order of a table (situations, say) can change what is simulated."""
    return json.dumps(scenario.model_dump(by_alias=True), separators=(",", ":"))


def scenario_hash(scenario: Scenario) -> str:
    """sha256 naming a scenario by everything a replication's result depends on: the merged,
    validated scenario except its seed and replication count (those are the work item's) and
    ``model_fingerprint``. Stable across runs and machines on the same planner and data."""
    return scenario.content_hash(
        leave_out=("run.seed", "run.replications"), also={"model": model_fingerprint(scenario)}
    )


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path; a table given for a table is merged into it, as a scenario file is."""
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueError(f"{'.'.join(parts[: i + 1])} is a value, not a table")
        node = child
    last = parts[-1]
    if isinstance(value, dict) and isinstance(node.get(last), dict):
        node[last] = deep_merge(node[last], value)
    else:
        node[last] = copy.deepcopy(value)


def _paths(key: str, value: Any) -> list[str]:
    """Every dotted path a key and its value set (a table sets each of its leaves)."""
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _paths(f"{key}.{k}", v)]
    return [key]


def _check_key(key: str, values: list[Any]) -> str | None:
    """Why a grid or variant key cannot be used, or None."""
    if key in SHORTCUTS:
        return None
    if any(not p for p in key.split(".")):
        return "not a scenario path like 'dispatch.policy' nor one of " + ", ".join(SHORTCUTS)
    for value in values:
        for path in _paths(key, value):
            for reserved, why in _RESERVED.items():
                if path == reserved or path.startswith(reserved + "."):
                    return why
    return None


def _table(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    node = data.get(key)
    return node if isinstance(node, dict) else None


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A scenario's data with dotted-path values set, then the shortcuts applied."""
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        if key not in SHORTCUTS:
            _set_path(out, key, value)
    if "units" in overrides:
        n = overrides["units"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"units: must be a whole number of units >= 0 (got {n!r})")
        fleet = _table(out, "fleet")
        units = default_values()["fleet"]["units"] if fleet is None else fleet.get("units", [])
        have = len(units) if isinstance(units, list) else 0
        if n > have:
            raise ValueError(f"units: {n} units asked for, but the base fleet has {have}")
        _set_path(out, "fleet.units", units[:n])
    if "shift" in overrides:
        fleet = _table(out, "fleet") or {}
        units = fleet.get("units", [])
        if isinstance(units, list):
            shift = overrides["shift"]
            fleet["units"] = [{**u, "shift": shift} if isinstance(u, dict) else u for u in units]
    if "policy" in overrides:
        _set_path(out, "dispatch.policy", overrides["policy"])
    if "year" in overrides:
        _set_path(out, "demand.year", overrides["year"])
    return out


def _policy(data: dict[str, Any]) -> Any:
    dispatch = _table(data, "dispatch")
    return dispatch.get("policy") if dispatch is not None else None


def _fleet_only(key: str) -> bool:
    """Does a grid or variant key change only what today's service does not have?"""
    return key in ("units", "shift", "policy", "fleet", "dispatch.policy") or key.startswith(
        "fleet."
    )


def _describe_value(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= 40 else text[:37] + "..."


def load_spec(raw: bytes, origin: str) -> SweepSpec:
    data = parse_toml(raw, origin)
    if "sweep" not in data:
        _fail(origin, ["(top level): a sweep file needs a [sweep] section"])
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        _fail(origin, describe_errors(exc))
        raise  # unreachable


def _base_data(spec: SweepSpec, folder: Path, origin: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if spec.sweep.base is not None:
        path = folder / spec.sweep.base
        try:
            data = parse_toml(read_bytes(path), str(path))
        except ScenarioError as exc:
            _fail(origin, [f"sweep.base: {exc.problems[0]}"])
    return deep_merge(data, spec.base) if spec.base else data


def _key_problems(spec: SweepSpec) -> list[str]:
    problems = []
    for key, values in spec.grid.items():
        why = _check_key(key, values)
        if why:
            problems.append(f"grid.{_describe_value(key)}: {why}")
    for i, variant in enumerate(spec.variants):
        name = variant.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 80:
            problems.append(f"variants[{i}].name: every variant needs a name of 1-80 characters")
        for key, value in variant.items():
            why = None if key == "name" else _check_key(key, [value])
            if why:
                problems.append(f"variants[{i}].{_describe_value(key)}: {why}")
    return problems


def _seed_and_replications(spec: SweepSpec, base: dict[str, Any], origin: str) -> tuple[int, int]:
    """[sweep]'s seed and replications, else the base's [run] ones read as `planner run` reads
    them (a whole number written as "7" or 7.0 is 7; true, 2.5 or "ten" are errors), else the
    scenario defaults: one line naming the field if a value cannot be used."""
    run = _table(base, "run") or {}
    given = {"seed": spec.sweep.seed, "replications": spec.sweep.replications}
    chosen = {k: run[k] for k in given if k in run} | {
        k: v for k, v in given.items() if v is not None
    }
    try:
        checked = Run.model_validate(default_values()["run"] | chosen)
    except ValidationError as exc:
        _fail(origin, [f"base: run.{p}" for p in describe_errors(exc)])
        raise  # unreachable
    return checked.seed, checked.replications


def expand(raw: bytes, origin: str, folder: Path) -> Sweep:
    """Validate a sweep file and every scenario it asks for, before anything runs.

    Raises ScenarioError with one line per problem, each naming the file and the scenario or
    field; an invalid combination is caught here, not in the middle of a night's run.
    """
    spec = load_spec(raw, origin)
    if problems := _key_problems(spec):
        _fail(origin, problems)
    variants = spec.variants or [{}]
    combos = math.prod(len(v) for v in spec.grid.values()) * len(variants)
    if combos * (2 if spec.sweep.baselines else 1) > MAX_SCENARIOS:
        _fail(origin, [f"grid: asks for {combos:,} scenarios; at most {MAX_SCENARIOS:,}"])
    base = _base_data(spec, folder, origin)
    seed, reps = _seed_and_replications(spec, base, origin)
    if combos * reps > MAX_WORK_ITEMS:
        _fail(
            origin,
            [
                f"sweep: {combos:,} scenarios × {reps:,} replications is more than "
                f"{MAX_WORK_ITEMS:,} work items"
            ],
        )

    problems = []
    scenarios: dict[str, SweepScenario] = {}

    def add(label: str, data: dict[str, Any], baseline_hash: str | None) -> str | None:
        info = _table(data, "scenario")
        if info is not None:
            data["scenario"] = {**info, "name": f"{spec.sweep.name}: {label}"[:200]}
        elif "scenario" not in data:
            data["scenario"] = {"name": f"{spec.sweep.name}: {label}"[:200]}
        run = _table(data, "run")
        checked = copy.deepcopy(data)
        if run is not None or "run" not in data:
            checked["run"] = {**(run or {}), "seed": seed, "replications": reps}
            kept = {k: v for k, v in (run or {}).items() if k not in ("seed", "replications")}
            data = {k: v for k, v in data.items() if k != "run"} | ({"run": kept} if kept else {})
        try:
            scenario = scenario_from_mapping(checked, f"scenario {label!r}")
        except ScenarioError as exc:
            problems.extend(
                p if p.startswith("scenario ") else f"scenario {label!r}: {p}" for p in exc.problems
            )
            return None
        h = scenario_hash(scenario)
        if h not in scenarios:
            scenarios[h] = SweepScenario(
                label, canonical_toml(data), h, scenario, baseline_hash, model_json(scenario)
            )
        return h

    baselines: dict[str, str | None] = {}  # content without the name -> hash
    for variant in variants:
        vname = variant.get("name", "")
        for values in itertools.product(*spec.grid.values()):
            point = dict(zip(spec.grid, values, strict=True))
            shown = {k: f"{k}={_describe_value(v)}" for k, v in point.items()}
            label = ", ".join(([vname] if vname else []) + list(shown.values())) or "base"
            overrides = {k: v for k, v in variant.items() if k != "name"} | point
            try:
                data = apply_overrides(base, overrides)
            except ValueError as exc:
                problems.append(f"scenario {label!r}: {exc}")
                continue
            base_hash = None
            if spec.sweep.baselines and _policy(data) == "health-first":
                today = baseline_data(data)
                content = canonical_toml({k: v for k, v in today.items() if k != "scenario"})
                if content not in baselines:
                    # named by what it shares with its scenarios: not their fleet or policy
                    kept = [p for k, p in shown.items() if not _fleet_only(k)]
                    if vname and not all(_fleet_only(k) for k in variant if k != "name"):
                        kept.insert(0, vname)
                    baselines[content] = add(", ".join(["today's service", *kept]), today, None)
                base_hash = baselines[content]
            add(label, data, base_hash)
    if problems:
        _fail(origin, list(dict.fromkeys(problems)))
    # the scenarios asked for, in order; the baselines they brought after them
    generated = set(baselines.values())
    ordered = [s for h, s in scenarios.items() if h not in generated]
    ordered += [s for h, s in scenarios.items() if h in generated]
    return Sweep(spec.sweep.name, seed, reps, tuple(ordered))


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file; ScenarioError names every problem."""
    p = Path(path)
    return expand(read_bytes(p), str(p), p.parent)


# -- the worker's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """What one work item sends back: plain data, the same from any executor."""

    hash: str
    seed: int
    replication: int
    kpis: dict[str, float]
    seconds: float
    worker: str
    log: Any  # pandas DataFrame of the calls, or None


@lru_cache(maxsize=WORLDS_PER_WORKER)
def _prepared(model: str, seed: int) -> tuple[Scenario, Any]:
    from planner.sim.world import build_world

    scenario = bind_region(Scenario.model_validate(json.loads(model)))
    scenario = replaced(scenario, {"run.seed": seed})
    return scenario, build_world(scenario)


def run_item(model: str, hash: str, seed: int, replication: int, keep_log: bool) -> ItemResult:
    """Simulate one replication of one scenario (the unit of work sent to a worker).

    The whole merged scenario (``SweepScenario.model``), seed and replication number go in, so
    the result depends neither on which worker ran it nor on that worker's defaults; ``hash``
    only labels the result. The worker keeps recent Worlds so consecutive items reuse them.
    """
    from planner.sim.run import run_replication

    started = time.perf_counter()
    scenario, world = _prepared(model, seed)
    frame, kpis, _ = run_replication(scenario, replication, world)
    return ItemResult(
        hash=hash,
        seed=seed,
        replication=replication,
        kpis=kpis,
        seconds=time.perf_counter() - started,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        log=frame if keep_log else None,
    )
