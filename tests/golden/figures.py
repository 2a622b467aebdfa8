"""The figures the golden file pins: the default scenario's KPIs, its baseline's and its
economics (10 replications at the shipped seed), computed as ``planner run`` computes them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("oslo_akershus.json")
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


def figures() -> dict[str, Any]:
    from planner import load_scenario
    from planner.compare import baseline_of
    from planner.economics import appraise
    from planner.simulation import simulate

    scenario = load_scenario(SCENARIO)
    results = simulate(scenario)
    base = simulate(baseline_of(scenario))
    appraisal = appraise(scenario, results.per_replication, base.per_replication)
    return {
        "scenario": "simulations/oslo_akershus.toml",
        "replications": scenario.run.replications,
        "seed": scenario.run.seed,
        "kpis": {r.kpi: _clean(r.mean) for r in results.kpis.itertuples()},
        "baseline_kpis": {r.kpi: _clean(r.mean) for r in base.kpis.itertuples()},
        "economics": {k: _clean(appraisal.point[k]) for k in ECONOMICS},
        "max_hourly_utilisation": _clean(float(max(results.utilisation))),
    }
