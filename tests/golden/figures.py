"""The figures the golden files pin: the default scenario's KPIs, its baseline's and its
economics, computed as ``planner run`` computes them, at the shipped seed.

Two runs: ``full`` is the shipped default (its replications and year); ``short`` is the same
scenario over 5 weeks (one of warm-up), 2 replications, with its zone and hour tables too: a
tripwire on every figure that costs seconds, which mutation runs use (the full one is ``slow``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = {
    "full": Path(__file__).with_name("oslo_akershus.json"),
    "short": Path(__file__).with_name("oslo_akershus_short.json"),
}
SHORT_DAYS, SHORT_REPLICATIONS = 35.0, 2
SCENARIO = ROOT / "simulations" / "oslo_akershus.toml"
RELATIVE_TOLERANCE = 1e-9
"""Same code, data and seed give the same numbers to rounding: anything more is a change."""

ECONOMICS = (
    "cost_per_year",
    "overtime_cost",
    "fte",
    "police_hours_freed",
    "police_value_per_year",
    "npv",
    "annual_net_cost",
    "break_even_police_hour",
    "cost_per_health_first_response",
)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def figures(run: str = "full") -> dict[str, Any]:
    from planner import load_scenario
    from planner.economics.appraisal import appraise
    from planner.sim.compare import baseline_of
    from planner.sim.run import simulate

    scenario = load_scenario(SCENARIO)
    if run == "short":
        short = scenario.run.model_copy(
            update={"horizon_days": SHORT_DAYS, "replications": SHORT_REPLICATIONS}
        )
        scenario = scenario.model_copy(update={"run": short})
    results = simulate(scenario)
    base = simulate(baseline_of(scenario))
    appraisal = appraise(scenario, results.per_replication, base.per_replication)
    out = {
        "scenario": "simulations/oslo_akershus.toml",
        "replications": scenario.run.replications,
        "seed": scenario.run.seed,
        "kpis": {r.kpi: _clean(r.mean) for r in results.kpis.itertuples()},
        "baseline_kpis": {r.kpi: _clean(r.mean) for r in base.kpis.itertuples()},
        "economics": {k: _clean(appraisal.point[k]) for k in ECONOMICS},
        "max_hourly_utilisation": _clean(float(max(results.utilisation))),
        "by_cohort": {
            f"{r.cohort} {r.kpi}": _clean(r.mean) for r in results.by_cohort.itertuples()
        },
    }
    if run == "short":
        out["horizon_days"] = scenario.run.horizon_days
        out["by_zone"] = _table(results.by_zone, "zone")
        out["by_hour"] = _table(results.by_hour, "hour")
        out["utilisation"] = {str(h): _clean(float(u)) for h, u in enumerate(results.utilisation)}
        out["kpi_intervals"] = {
            f"{r.kpi} {end}": _clean(getattr(r, end))
            for r in results.kpis.itertuples()
            for end in ("ci_low", "ci_high")
        }
    return out


def _table(frame: Any, key: str) -> dict[str, float | None]:
    """A by-zone or by-hour table as flat figures: "<key value> <column>" -> value."""
    return {
        f"{row[key]} {col}": _clean(float(row[col]))
        for row in frame.to_dict(orient="records")
        for col in frame.columns
        if col != key
    }
