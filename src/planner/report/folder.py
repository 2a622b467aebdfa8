"""A results folder, read: what ``planner run`` (and ``planner optimize``) wrote, each file checked
against the shape the report reads, into a ``Bundle``; anything else is a one-line ReportError
naming the file. Nothing is simulated again."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NotRequired

import pandas as pd
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict from 3.12 only

from planner.calendar import MINUTES_PER_DAY
from planner.scenario.loading import ScenarioError, load_scenario
from planner.scenario.model import Scenario
from planner.sim.summary import RunSummary


class ReportError(Exception):
    """A results folder that cannot be reported on; the message is one line for the user."""


# -- what the report is made of ---------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A results folder, read."""

    folder: Path
    scenario_file: str
    scenario: Scenario
    summary: RunSummary  # with its baseline
    zone_shares: pd.DataFrame  # zone, share_health_first
    frontier: pd.DataFrame | None
    stored: str | None = None  # the scenario's hash, when read from the results store

    @property
    def scenario_reps(self) -> pd.DataFrame:
        return self.summary.per_replication

    @property
    def baseline_reps(self) -> pd.DataFrame:
        return self.summary.paired().per_replication


def zone_shares(log: pd.DataFrame, warmup_minutes: float) -> pd.DataFrame:
    """Share of eligible calls met health-first in each zone (all replications pooled)."""
    d = log[(log["t_arrival"] >= warmup_minutes) & log["eligible_kind"]]
    share = d.groupby("zone")["health_first"].mean()
    return share.rename("share_health_first").reset_index()


def load_bundle(folder: Path) -> Bundle:
    """Read what ``planner run`` wrote: one whole run (its ``run.json`` verified), every file of
    the shape the report reads; anything else is a one-line ReportError naming the file. A
    sizing frontier is read only when the folder's optimisation is of the same scenario and
    region as its run (``planner optimize --out`` into the run's folder)."""
    from planner.store.files import FolderError, whole_run

    try:
        manifest = whole_run(folder)
    except FolderError as exc:
        raise ReportError(str(exc)) from None
    run = manifest.run
    if run is None:
        raise ReportError(
            f"{folder}: holds an optimisation and no run (run `planner run SCENARIO --out "
            f"{folder}` first)"
        )
    listed = {f.name for f in run.files}
    for name in ("summary.json", "scenario.toml", "events.parquet"):
        if name not in listed:
            raise ReportError(f"{folder / name}: not in its run.json; not a `planner run` folder")
    summary = read_summary(folder / "summary.json")
    try:
        scenario = load_scenario(folder / "scenario.toml")
    except ScenarioError as exc:
        raise ReportError(exc.problems[0]) from None
    if scenario.region.kind != "geodata":
        raise ReportError(
            f"{folder / 'scenario.toml'}: region.kind: the report maps a geodata region; this "
            "run is of an abstract one"
        )
    if not run.same_place(scenario.scenario.name, region_of(scenario)):
        raise ReportError(
            f"{folder / 'scenario.toml'}: not the scenario its run.json names "
            f"({run.scenario!r} in {run.region})"
        )
    log = read_event_log(folder / "events.parquet")
    frontier = None
    o = manifest.optimise
    if (
        o is not None
        and o.same_place(run.scenario, run.region)
        and "frontier.csv" in {f.name for f in o.files}
    ):
        frontier = read_frontier(folder / "frontier.csv")
    return bundle_of(
        scenario,
        summary,
        log,
        frontier,
        folder,
        summary.scenario_file or "scenario.toml",
    )


def region_of(scenario: Scenario) -> str:
    """The region a results folder's manifest names: region.name, or "abstract"."""
    return scenario.region.name if scenario.region.kind == "geodata" else "abstract"


# -- the shape of what a results folder holds -------------------------------------------------

Cell = float | None  # a figure; null where it is not defined (an interval of one replication)


class _KpiRow(TypedDict):
    kpi: str
    label: str
    unit: str
    mean: Cell
    ci_low: Cell
    ci_high: Cell


class _Paired(TypedDict):
    kpis: list[_KpiRow]
    per_replication: dict[str, list[Cell]]


class _Summary(_Paired):
    scenario: str
    replications: int
    seed: int
    baseline: _Paired
    utilisation_by_hour_of_week: NotRequired[list[Cell]]
    scenario_file: NotRequired[str]


_MAX_SUMMARY = 256 << 20
_MAX_FRONTIER = 16 << 20
EVENT_COLUMNS = {
    "t_arrival": "number",
    "zone": "any",
    "eligible_kind": "bool",
    "health_first": "bool",
}
"""The event-log columns the report reads, and their kind."""
FRONTIER_COLUMNS = (
    "units",
    "cost_per_year",
    "share_health_first",
    "share_health_first_low",
    "share_health_first_high",
    "police_hours_freed",
    "police_hours_freed_low",
    "police_hours_freed_high",
)
"""The sizing-frontier columns the report draws (``planner optimize`` writes them)."""


@cache
def _summary_adapter() -> TypeAdapter[_Summary]:
    return TypeAdapter(_Summary)


def _bounded(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise ReportError(f"{path}: {size:,} bytes, more than any planner run writes")
    return path.read_bytes()


def read_summary(path: Path) -> RunSummary:
    """``summary.json``, checked against the shape the report reads: tables of figures, every
    per-replication list as long as the others and the baseline's, every KPI present."""
    from planner.sim.kpis import KPI_BY_KEY
    from planner.store.files import first_problem

    try:
        raw = json.loads(_bounded(path, _MAX_SUMMARY).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, and too-long integers
        raise ReportError(f"{path}: not valid JSON ({' '.join(str(exc).split())})") from None
    if isinstance(raw, dict) and "baseline" not in raw and "per_replication" in raw:
        raise ReportError(
            f"{path}: has no baseline to compare against "
            "(a baseline-only scenario, or written by an older planner; run it again)"
        )
    try:
        summary = _summary_adapter().validate_python(raw, strict=True)
    except ValidationError as exc:
        raise ReportError(f"{path}: not a run's summary ({first_problem(exc)})") from None
    need = ["replication", *KPI_BY_KEY]
    for where, table in (("", summary), ("baseline.", summary["baseline"])):
        columns = table["per_replication"]
        missing = [c for c in need if c not in columns]
        if missing:
            raise ReportError(f"{path}: {where}per_replication has no {missing[0]!r}")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1 or 0 in lengths:
            raise ReportError(
                f"{path}: {where}per_replication: lists of {sorted(lengths)} values, not one "
                "length of at least one"
            )
        kpis = {r["kpi"] for r in table["kpis"]}
        if missing := [k for k in KPI_BY_KEY if k not in kpis]:
            raise ReportError(f"{path}: {where}kpis has no row for {missing[0]!r}")
    mine, base = summary["per_replication"], summary["baseline"]["per_replication"]
    if mine["replication"] != base["replication"]:
        raise ReportError(f"{path}: per_replication and baseline.per_replication are not paired")
    try:
        return RunSummary.from_json(summary)
    except ValueError as exc:  # what the shape cannot say: 168 hours of the week
        raise ReportError(f"{path}: {exc}") from None


def read_event_log(path: Path) -> pd.DataFrame:
    """The columns of ``events.parquet`` the report reads, checked to be of their kind."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReportError(f"{path}: not a Parquet event log ({_brief(exc)})") from None
    for name, kind in EVENT_COLUMNS.items():
        if name not in schema.names:
            raise ReportError(f"{path}: has no column {name!r}")
        t = schema.field(name).type
        ok = {
            "number": pa.types.is_floating(t) or pa.types.is_integer(t),
            "bool": pa.types.is_boolean(t),
            "any": True,
        }[kind]
        if not ok:
            raise ReportError(f"{path}: column {name!r} is {t}, not {kind}")
    try:
        return pd.read_parquet(path, columns=list(EVENT_COLUMNS))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReportError(f"{path}: not a readable Parquet event log ({_brief(exc)})") from None


def read_frontier(path: Path) -> pd.DataFrame:
    """``frontier.csv``: a table of numbers with the columns the frontier chart draws."""
    data = _bounded(path, _MAX_FRONTIER)
    if b"\0" in data:
        raise ReportError(f"{path}: binary data, not a CSV table")
    try:
        table = pd.read_csv(io.BytesIO(data))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ReportError(f"{path}: not a CSV table ({_brief(exc)})") from None
    missing = [c for c in FRONTIER_COLUMNS if c not in table.columns]
    if missing:
        raise ReportError(f"{path}: has no column {missing[0]!r}")
    if table.empty:
        raise ReportError(f"{path}: has no rows")
    for c in FRONTIER_COLUMNS:
        if not pd.api.types.is_numeric_dtype(table[c]) or pd.api.types.is_bool_dtype(table[c]):
            raise ReportError(f"{path}: column {c!r} holds something other than numbers")
    return table


def _brief(exc: BaseException) -> str:
    """An exception's message on one line, at most 120 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def bundle_of(
    scenario: Scenario,
    summary: RunSummary,
    log: pd.DataFrame,
    frontier: pd.DataFrame | None = None,
    folder: Path = Path("."),
    scenario_file: str = "scenario.toml",
    stored: str | None = None,
) -> Bundle:
    """A report's material from a run's summary (with its paired baseline) and event log.

    Shared by the results folder and the dashboard, which holds the same figures in memory.
    """
    return Bundle(
        folder=folder,
        scenario_file=scenario_file,
        scenario=scenario,
        summary=summary,
        zone_shares=zone_shares(log, scenario.run.warmup_days * MINUTES_PER_DAY),
        frontier=frontier,
        stored=stored,
    )
