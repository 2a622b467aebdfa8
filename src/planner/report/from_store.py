"""A report on a swept scenario: the report's material read from the results store.

`planner report --store` builds the same report as from a results folder; nothing is simulated
again. Kept apart from ``report.py`` so the report does not depend on the store.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.report.folder import Bundle, ReportError, bundle_of


def load_store_bundle(path: Path, scenario: str, seed: int | None = None) -> Bundle:
    """A swept scenario and its paired baseline, read from a results store (`planner sweep`).

    The same material as a results folder: per-replication KPIs of the scenario and of today's
    service on the same calls (replications both have), and zone shares when the call log of
    every one of those replications is stored (``--keep-logs``); without them all the report
    has no map and says why, rather than draw it from some replications only.
    """
    from planner.scenario.loading import ScenarioError, parse_toml, replaced, scenario_from_mapping
    from planner.sim.kpis import KPIS, summarise
    from planner.sim.run import run_changes
    from planner.sim.summary import Figures, RunSummary
    from planner.store.database import Store, StoreError, toml_problem

    log_columns = ["t_arrival", "zone", "eligible_kind", "health_first"]
    try:
        with Store.open(path, read_only=True) as store:
            found = store.scenario(scenario)
            if found.baseline_hash is None:
                raise ReportError(
                    f"{path}: scenario {found.name!r} has no baseline in the store (today's "
                    "service itself, or swept with baselines = false)"
                )
            seed = store.seed_of(found.hash, seed)
            store.require_whole([found.hash, found.baseline_hash], seed)
            reps = store.per_replication(found.hash, seed, checked=True)
            base = store.per_replication(found.baseline_hash, seed, checked=True)
            paired = sorted(set(reps["replication"]) & set(base["replication"]))
            log = store.calls(found.hash, seed, ["replication", *log_columns], paired)
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    origin = f"{path}: scenario {found.hash[:12]}"
    lacking = [k.key for k in KPIS if k.key not in reps or k.key not in base]
    if lacking:
        raise ReportError(f"{origin}: no stored KPI {', '.join(lacking)} (a tampered store?)")
    if not paired:
        raise ReportError(f"{origin}: no replication stored for it and its baseline alike")
    if why := toml_problem(found.toml, f"{origin}'s stored TOML"):
        raise ReportError(why)
    try:
        s = scenario_from_mapping(parse_toml(found.toml.encode("utf-8"), origin), origin)
    except ScenarioError as exc:
        problem = exc.problems[0].removeprefix(f"{origin}: ")
        raise ReportError(f"{origin}'s stored TOML is not a valid scenario: {problem}") from None
    s = replaced(s, run_changes(len(paired), seed))
    summary = RunSummary(
        scenario=found.name,
        seed=seed,
        figures=Figures(summarise(reps), reps),
        baseline=Figures(summarise(base), base),
    )
    if log is None:
        log = pd.DataFrame({c: pd.Series(dtype=object) for c in log_columns})
    return bundle_of(
        s, summary, log, None, path.parent, f"{path} {found.hash[:12]}", stored=found.hash[:12]
    )
