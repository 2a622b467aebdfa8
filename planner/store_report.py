"""A report on a swept scenario: the report's material read from the results store.

`planner report --store` builds the same report as from a results folder; nothing is simulated
again. Kept apart from ``report.py`` so the report does not depend on the store.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.report import Bundle, ReportError, bundle_of


def load_store_bundle(path: Path, scenario: str, seed: int | None = None) -> Bundle:
    """A swept scenario and its paired baseline, read from a results store (`planner sweep`).

    The same material as a results folder: per-replication KPIs of the scenario and of today's
    service on the same calls (replications both have), and zone shares when the call log of
    every one of those replications is stored (``--keep-logs``); without them all the report
    has no map and says why, rather than draw it from some replications only.
    """
    import tomllib

    from planner.kpis import summarise
    from planner.scenario_file import scenario_from_mapping
    from planner.simulation import replace_run
    from planner.store import Store, StoreError

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
            reps = store.per_replication(found.hash, seed)
            base = store.per_replication(found.baseline_hash, seed)
            paired = sorted(set(reps["replication"]) & set(base["replication"]))
            log = store.calls(found.hash, seed, ["replication", *log_columns], paired)
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    reps = reps[reps["replication"].isin(paired)].reset_index(drop=True)
    base = base[base["replication"].isin(paired)].reset_index(drop=True)
    s = scenario_from_mapping(tomllib.loads(found.toml), found.name)
    s = s.model_copy(update={"run": replace_run(s, len(paired), seed)})
    summary = {
        "seed": seed,
        "kpis": summarise(reps).to_dict(orient="records"),
        "per_replication": reps.to_dict(orient="list"),
        "baseline": {"per_replication": base.to_dict(orient="list")},
    }
    if log is None:
        log = pd.DataFrame({c: pd.Series(dtype=object) for c in log_columns})
    return bundle_of(s, summary, log, None, path.parent, f"{path} {found.hash[:12]}")
