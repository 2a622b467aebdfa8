"""What a run leaves for the report, the dashboard and ``summary.json``: its figures, typed.

A ``RunSummary`` is a run's KPI table with intervals, its per-replication KPIs, its utilisation by
hour of the week and, when the run had one, the same tables of today's service on the same calls
(``Figures``). ``to_json``/``from_json`` are the one definition of ``summary.json``'s shape::

    {"scenario": str, "replications": int, "seed": int,
     "kpis": [{"kpi", "label", "unit", "mean", "ci_low", "ci_high"}, ...],
     "per_replication": {"replication": [...], "<kpi>": [...], ...},
     "utilisation_by_hour_of_week": [168 numbers or null],
     "baseline": {"kpis": [...], "per_replication": {...}},   # when paired with a baseline
     "scenario_file": str}                                      # when written by `planner run`

A figure that is not defined (the interval of one replication, the utilisation of an hour with
no unit on duty) is NaN here and null in JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.calendar import HOURS_PER_WEEK
from planner.sim.kpis import Estimate

KPI_COLUMNS = ("kpi", "label", "unit", "mean", "ci_low", "ci_high")
"""The columns of a KPI table (``kpis.summarise``), in order."""


def _cell(value: Any) -> Any:
    """A figure as JSON holds it: null for NaN (numpy's floats are floats too)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _number(value: Any) -> Any:
    """A figure as read from JSON: NaN for null; anything else as it is."""
    return math.nan if value is None else value


@dataclass(frozen=True, eq=False)
class Figures:
    """One scenario's figures over a run's replications: the KPI table (``KPI_COLUMNS``, one row
    per KPI, mean and 95 % interval) and the KPIs of each replication (column "replication",
    then one column per KPI)."""

    kpis: pd.DataFrame
    per_replication: pd.DataFrame

    def estimate(self, key: str) -> Estimate:
        """A KPI's mean and interval; KeyError for a KPI the table does not have."""
        rows = self.kpis[self.kpis["kpi"] == key]
        if rows.empty:
            raise KeyError(key)
        return Estimate.of(rows.iloc[0])

    def to_json(self) -> dict[str, Any]:
        rows = [{c: _cell(r[c]) for c in KPI_COLUMNS} for r in self.kpis.to_dict("records")]
        per = {c: [_cell(v) for v in self.per_replication[c]] for c in self.per_replication}
        return {"kpis": rows, "per_replication": per}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Figures:
        """The tables of a ``to_json`` mapping (null read back as NaN). A KPI table may be absent
        (as in the results store, which keeps per-replication figures only): it is then
        summarised from the replications."""
        per = pd.DataFrame(
            {c: [_number(v) for v in vs] for c, vs in raw["per_replication"].items()}
        )
        if "kpis" not in raw:
            from planner.sim.kpis import summarise

            return cls(summarise(per), per)
        rows = [{c: _number(r[c]) for c in KPI_COLUMNS} for r in raw["kpis"]]
        return cls(pd.DataFrame(rows, columns=list(KPI_COLUMNS)), per)


@dataclass(frozen=True, eq=False)
class RunSummary:
    """A run's figures: its own (``figures``), today's service's on the same calls when the run
    was paired with it (``baseline``), its utilisation by hour of the week (NaN where no unit is
    on duty; None when not known, as for a run read from the results store)."""

    scenario: str
    seed: int
    figures: Figures
    utilisation: np.ndarray | None = None
    baseline: Figures | None = None
    scenario_file: str | None = None  # the scenario's file, as `planner run` was given it

    @property
    def replications(self) -> int:
        return len(self.figures.per_replication)

    @property
    def kpis(self) -> pd.DataFrame:
        return self.figures.kpis

    @property
    def per_replication(self) -> pd.DataFrame:
        return self.figures.per_replication

    def estimate(self, key: str) -> Estimate:
        return self.figures.estimate(key)

    def paired(self) -> Figures:
        """Today's service's figures; ValueError when the run had no baseline."""
        if self.baseline is None:
            raise ValueError(f"the run of {self.scenario!r} has no baseline to pair with")
        return self.baseline

    def to_json(self) -> dict[str, Any]:
        """The mapping ``summary.json`` holds (see the module's docstring)."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "replications": self.replications,
            "seed": self.seed,
            **self.figures.to_json(),
        }
        if self.utilisation is not None:
            out["utilisation_by_hour_of_week"] = [_cell(u) for u in self.utilisation]
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_json()
        if self.scenario_file is not None:
            out["scenario_file"] = self.scenario_file
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RunSummary:
        """A summary from the mapping ``to_json`` gives (``summary.json`` read and checked: the
        report's ``read_summary`` checks its shape first, with a one-line error)."""
        util: Sequence[Any] | None = raw.get("utilisation_by_hour_of_week")
        if util is not None and len(util) != HOURS_PER_WEEK:
            raise ValueError(
                f"utilisation_by_hour_of_week: {len(util)} values, not {HOURS_PER_WEEK}"
            )
        return cls(
            scenario=raw["scenario"],
            seed=raw["seed"],
            figures=Figures.from_json(raw),
            utilisation=None if util is None else np.array([_number(u) for u in util], float),
            baseline=Figures.from_json(raw["baseline"]) if "baseline" in raw else None,
            scenario_file=raw.get("scenario_file"),
        )


__all__ = ["KPI_COLUMNS", "Figures", "RunSummary"]
