"""What the dashboard computes, without Streamlit: scenario edits, run keys, figures by zone.

Kept apart from the pages so that every number the dashboard shows can be tested as a plain
function, and so the pages stay thin: read widgets, call these, draw.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from planner.bundled import bundled
from planner.calendar import MINUTES_PER_DAY, years_measured
from planner.economics.appraisal import Appraisal, Headline, appraise, headline
from planner.geo.region import Region
from planner.report.folder import zone_shares
from planner.scenario.loading import Problem, ScenarioError, parse_toml, scenario_from_mapping
from planner.scenario.model import WEEKDAYS, Scenario
from planner.scenario.parameters import deep_merge, default_values, registry
from planner.sim.compare import baseline_of, with_baseline
from planner.sim.events import FALLBACK_REASONS
from planner.sim.run import Results
from planner.sim.summary import RunSummary

# sections that never change what is simulated: editing them needs no new simulation
_NOT_SIMULATED = ("scenario", "appraisal", "optimise")


# -- shipped scenarios ------------------------------------------------------------------------


def simulations_dir() -> Path:
    """The shipped scenarios: inside an installed wheel, else the source checkout."""
    return bundled("simulations")


@cache
def shipped_scenarios() -> dict[str, dict[str, Any]]:
    """Shipped scenario files by name (file stem) as their overrides; sweeps are left out."""
    out: dict[str, dict[str, Any]] = {}
    folder = simulations_dir()
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            raw = parse_toml(path.read_bytes(), path.name)
            scenario_from_mapping(raw, path.name)
        except ScenarioError:
            continue  # a sweep file or another kind of TOML
        out[path.stem] = raw
    return out


# -- editing a scenario -----------------------------------------------------------------------


@cache
def _defaults() -> dict[str, Any]:
    """The defaults tree, read once; only ever read, never handed out to be changed."""
    return default_values()


def default_at(path: str) -> Any:
    """A parameter's default value (only to be read)."""
    return value_at(_defaults(), path)


def merged(raw: dict[str, Any]) -> dict[str, Any]:
    return deep_merge(_defaults(), raw)


def value_at(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_value(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of the overrides with one parameter set; a value equal to its default is dropped,
    so a saved file states only what differs (as the shipped scenarios do)."""
    out = copy.deepcopy(raw)
    parts = path.split(".")
    default = value_at(_defaults(), path)
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value == default and default is not None:
        node.pop(parts[-1], None)
        # drop tables left empty, innermost first
        for depth in range(len(parts) - 1, 0, -1):
            parent = value_at(out, ".".join(parts[: depth - 1])) if depth > 1 else out
            if isinstance(parent, dict) and parent.get(parts[depth - 1]) == {}:
                parent.pop(parts[depth - 1])
    else:
        node[parts[-1]] = copy.deepcopy(value)
    return out


def differs(tree: dict[str, Any], path: str) -> bool:
    """Does a scenario (its merged tree, see ``merged``) set this parameter off its default?"""
    return value_at(tree, path) != value_at(_defaults(), path)


def validate(raw: dict[str, Any]) -> tuple[Scenario | None, list[Problem]]:
    """The scenario, or its problems: ``str(p)`` is the line ``planner validate`` prints,
    ``p.text(lang)`` the same in the reader's language."""
    try:
        return scenario_from_mapping(raw, "scenario"), []
    except ScenarioError as exc:
        return None, exc.details


def read_upload(data: bytes, name: str) -> dict[str, Any]:
    """An uploaded scenario file's overrides; anything that is not a valid scenario is refused
    with one line per problem (size, encoding, TOML, fields) and nothing of it is kept."""
    raw = parse_toml(data, name)
    scenario_from_mapping(raw, name)
    return raw


def to_excel(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An Excel workbook (.xlsx) of tables, a sheet each (names cut to Excel's 31 characters),
    numbers as numbers: a planner takes a table on to their own calculations."""
    import io

    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as book:
        for name, frame in sheets.items():
            safe = "".join(c for c in name if c not in "[]:*?/\\")[:31] or "table"
            frame.to_excel(book, sheet_name=safe, index=False)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_toml(raw: dict[str, Any]) -> str:
    return tomli_w.dumps(raw)


def resize_fleet(raw: dict[str, Any], n: int) -> dict[str, Any]:
    """The fleet made n units long: more units copy the existing ones in turn (base, shift,
    crew), fewer drop the last ones; a fleet of none starts from the defaults' first shift."""
    units = list(merged(raw)["fleet"]["units"])
    if n <= len(units):
        units = units[:n]
    else:
        names = {u["name"] for u in units}
        template = units or [_first_unit(raw)]
        i = 0
        while len(units) < n:
            # a copy gets its own vehicle: two units can't share one at the same hours
            src = {k: v for k, v in template[i % len(template)].items() if k != "vehicle"}
            k, name = 2, src["name"]
            while name in names:
                name, k = f"{src['name']} {k}", k + 1
            names.add(name)
            units.append({**{k2: v for k2, v in src.items() if v is not None}, "name": name})
            i += 1
    out = set_value(raw, "fleet.units", units)
    if n > 0 and merged(out)["dispatch"]["policy"] == "baseline":
        out = set_value(out, "dispatch.policy", "health-first")
    # a name that counts the units ("…: 4 units", "4 enheter") follows the fleet
    before = len(merged(raw)["fleet"]["units"])
    name = str(merged(out)["scenario"]["name"])
    renamed = _UNITS_IN_NAME.sub(
        lambda m: f"{n} {m.group(2)}" if int(m.group(1)) == before else m.group(0), name
    )
    if renamed != name:
        out = set_value(out, "scenario.name", renamed)
    return out


_UNITS_IN_NAME = re.compile(r"\b(\d+) (units?|enheter|enhet)\b")


def _first_unit(raw: dict[str, Any]) -> dict[str, Any]:
    from planner.geo.geodata import load_region

    m = merged(raw)
    shift = "evening" if "evening" in m["fleet"]["shifts"] else next(iter(m["fleet"]["shifts"]))
    if m["region"]["kind"] == "geodata":
        base = load_region(m["region"]["name"]).base_ids[0]
    else:
        base = "base"
    return {"name": "Unit 1", "base": base, "shift": shift}


# -- runs -------------------------------------------------------------------------------------


def simulation_key(scenario: Scenario) -> str:
    """A hash of what the simulation depends on: editing costs or the appraisal keeps it, so
    the economics are recomputed at once from the stored replications without a new run."""
    costs = [f"costs.{k}" for k in type(scenario.costs).model_fields if k != "police_fte_hours"]
    return scenario.content_hash(leave_out=(*_NOT_SIMULATED, *costs))[:16]


def world_key(scenario: Scenario) -> str:
    """What a sizing frontier depends on: everything simulated but the fleet and the policy
    (the frontier chooses those), i.e. the simulation key of today's service."""
    return simulation_key(baseline_of(scenario))


@dataclass(frozen=True)
class Run:
    """One simulated scenario and, for a service, today's service on the same calls."""

    scenario: Scenario
    results: Results
    baseline: Results | None
    seconds: float
    from_cache: bool = False  # every result was simulated before (this session or another)

    @property
    def key(self) -> str:
        return simulation_key(self.scenario)

    def economics(self, scenario: Scenario | None = None) -> tuple[Appraisal, Headline]:
        """The appraisal with the costs of ``scenario`` (default: the run's own)."""
        s = scenario or self.scenario
        if self.baseline is None:
            raise ValueError("a baseline scenario has nothing to appraise")
        a = appraise(s, self.results.per_replication, self.baseline.per_replication)
        return a, headline(s, a, self.results.kpis)

    def summary(self) -> RunSummary:
        if self.baseline is None:
            return self.results.summary()
        return with_baseline(self.results, self.baseline)


# -- figures ----------------------------------------------------------------------------------


def _years(scenario: Scenario) -> float:
    return years_measured(scenario.run.horizon_days, scenario.run.warmup_days)


def _counted(results: Results) -> pd.DataFrame:
    warm = results.scenario.run.warmup_days * MINUTES_PER_DAY
    return results.log[results.log["t_arrival"] >= warm]


def expected_calls_by_zone(scenario: Scenario, region: Region) -> pd.DataFrame:
    """Calls a year each zone can expect, before any simulation (the demand model's rates)."""
    from planner.sim.demand import cell_weights

    cells = region.cells
    rates = cell_weights(
        scenario, cells["population"].to_numpy(dtype=float), cells["zone_code"].to_numpy()
    )
    calls = pd.Series(rates).groupby(cells["zone_code"].to_numpy()).sum()
    return calls.rename("expected_calls").rename_axis("zone").reset_index()


def zone_figures(run: Run | None, scenario: Scenario, region: Region) -> pd.DataFrame:
    """One row per zone: population, catchment, expected calls, and after a run the simulated
    calls, response times, share met health-first and police officer-hours freed a year."""
    z = pd.DataFrame(region.zones.drop(columns="geometry"))
    overrides = scenario.facilities.catchment_overrides
    z["facility"] = [
        overrides.get(c, f) for c, f in zip(z["zone_code"], z["facility"], strict=True)
    ]
    z = z.merge(
        expected_calls_by_zone(scenario, region), left_on="zone_code", right_on="zone", how="left"
    ).drop(columns="zone")
    z["expected_rate"] = z["expected_calls"] / z["population"].clip(lower=1) * 1000
    if run is None:
        return z
    res = run.results
    d = _counted(res)
    years = _years(res.scenario)
    reps = max(len(res.per_replication), 1)
    grouped = d.groupby("zone")
    # response times as the simulation reports them by zone (mean of each replication's
    # median and 90th percentile), and the report's share by zone: one figure, one definition
    by_zone = res.by_zone.set_index("zone")
    shares = zone_shares(res.log, res.scenario.run.warmup_days * MINUTES_PER_DAY).set_index("zone")
    sim = pd.DataFrame(
        {
            "calls": grouped.size() / reps / years,
            "response_median": by_zone["median"],
            "response_p90": by_zone["p90"],
            "share_health_first": shares["share_health_first"],
            "officer_hours": grouped["officer_hours"].sum() / reps / years,
        }
    )
    if run.baseline is not None:
        b = _counted(run.baseline)
        base_hours = b.groupby("zone")["officer_hours"].sum() / reps / years
        sim["police_hours_freed"] = base_hours.reindex(sim.index).fillna(0) - sim["officer_hours"]
    sim = sim.rename_axis("zone_code").reset_index()
    return z.merge(sim, on="zone_code", how="left")


def response_times(results: Results) -> pd.DataFrame:
    """Response minutes of counted calls with who came first (unit or police)."""
    d = _counted(results)
    d = d[np.isfinite(d["response_minutes"])]
    return pd.DataFrame(
        {
            "minutes": d["response_minutes"].to_numpy(),
            "unit": d["health_first"].to_numpy(),
        }
    )


def response_histogram(results: Results, width: float = 5.0, top: float = 120.0) -> pd.DataFrame:
    """Calls a year by response-time bin and first responder; the last bin holds the rest."""
    r = response_times(results)
    edges = np.arange(0.0, top + width, width)
    years = _years(results.scenario) * max(len(results.per_replication), 1)
    rows = []
    for unit, part in r.groupby("unit"):
        m = np.minimum(part["minutes"].to_numpy(), top - 1e-9)
        counts, _ = np.histogram(m, bins=edges)
        rows += [
            {"from": float(a), "to": float(b), "unit": bool(unit), "calls": c / years}
            for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["from", "to", "unit", "calls"])


def fallback_reasons(results: Results) -> pd.DataFrame:
    """Eligible calls a year not met by a unit, by why (no unit on duty, out of reach, waited)."""
    d = _counted(results)
    d = d[d["eligible_kind"] & ~d["health_first"]]
    years = _years(results.scenario) * max(len(results.per_replication), 1)
    counts = d["reason"].value_counts()
    return pd.DataFrame(
        {
            "reason": [str(r) for r in FALLBACK_REASONS],
            "per_year": [counts.get(r, 0) / years for r in FALLBACK_REASONS],
        }
    )


def utilisation_frame(results: Results) -> pd.DataFrame:
    hours = np.arange(168)
    return pd.DataFrame(
        {
            "hour_of_week": hours,
            "label": [f"{WEEKDAYS[h // 24]} {h % 24:02d}" for h in hours],
            "utilisation": results.utilisation,
        }
    )


def parameter_paths() -> dict[str, list[str]]:
    """Every parameter path, grouped by section in the order of defaults.toml."""
    out: dict[str, list[str]] = {}
    for path in registry():
        out.setdefault(path.split(".")[0], []).append(path)
    return out
