"""A short report a politician can read: headline, map, frontier, sensitivity, assumptions.

Built from a results folder written by ``planner run`` (and, if present, ``planner optimize``):
nothing is simulated again; the appraisal is recomputed from the stored per-replication figures
by the same deterministic function the run used, so the report and ``economics.json`` agree.
Text is in Norwegian (bokmål) by default and English on request (``data/report_text.toml``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NotRequired

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict from 3.12 only

from planner.calendar import HOURS_PER_WEEK, MINUTES_PER_DAY
from planner.economics.appraisal import Appraisal, Headline, appraise, headline, ranges
from planner.scenario.loading import ScenarioError, load_scenario
from planner.scenario.model import Scenario
from planner.scenario.parameters import registry
from planner.sim.kpis import Estimate
from planner.sim.summary import RunSummary
from planner.version import planner_version
from planner.words import millions, number, percent

LANGS = ("nb", "en")


class ReportError(Exception):
    """A results folder that cannot be reported on; the message is one line for the user."""


@cache
def text(lang: str) -> dict[str, Any]:
    raw = resources.files("planner.data").joinpath("report_text.toml").read_text("utf-8")
    return dict(tomllib.loads(raw)[lang])


# -- numbers as a reader expects them ---------------------------------------------------------


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
    util = summary.get("utilisation_by_hour_of_week")
    if util is not None and len(util) != HOURS_PER_WEEK:
        raise ReportError(
            f"{path}: utilisation_by_hour_of_week: {len(util)} values, not one per hour of the "
            f"week ({HOURS_PER_WEEK})"
        )
    mine, base = summary["per_replication"], summary["baseline"]["per_replication"]
    if mine["replication"] != base["replication"]:
        raise ReportError(f"{path}: per_replication and baseline.per_replication are not paired")
    return RunSummary.from_json(summary)


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


# -- figures ----------------------------------------------------------------------------------


def map_figure(b: Bundle, lang: str) -> Figure:
    from planner.geo.geodata import load_region
    from planner.report.maps import share_map

    region = load_region(b.scenario.region.name)
    return share_map(region, b.zone_shares, [u.base for u in b.scenario.fleet.units], lang)


def tornado_figure(a: Appraisal, lang: str) -> Figure:
    t = text(lang)
    tab = a.tornado[a.tornado["swing"] > 0].iloc[::-1]
    base = a.point["npv"] / 1e6
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * len(tab) + 1.4), dpi=130)
    y = np.arange(len(tab))
    lo, hi = tab["npv_low"] / 1e6 - base, tab["npv_high"] / 1e6 - base
    ax.barh(y, lo, left=base, color="#c0504d", label=t["tornado_low"])
    ax.barh(y, hi, left=base, color="#4f81bd", label=t["tornado_high"])
    ax.axvline(base, color="black", linewidth=0.8)
    ax.axvline(0, color="#888888", linewidth=0.8, linestyle="--")
    names = {r.name: (r.label_nb if lang == "nb" else r.label) for r in ranges()}
    labels = [
        f"{names.get(r.input, r.label)} ({_short(r.low, lang)}–{_short(r.high, lang)})"
        for r in tab.itertuples()
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(t["tornado_axis"])
    ax.set_title(t["tornado_title"], fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _short(v: float, lang: str) -> str:
    if abs(v) >= 1000:
        return number(v, lang)
    return number(v, lang, 3 if abs(v) < 1 else 1).rstrip("0").rstrip(",.") or "0"


def psa_figure(a: Appraisal, lang: str) -> Figure:
    t = text(lang)
    npv = a.monte_carlo["npv"] / 1e6
    fig, ax = plt.subplots(figsize=(7.2, 3.0), dpi=130)
    ax.hist(npv, bins=60, color="#4f81bd")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(t["psa_axis"])
    ax.set_title(t["psa_title"].format(draws=number(len(npv), lang)), fontsize=10)
    fig.tight_layout()
    return fig


def frontier_chart(table: pd.DataFrame, lang: str) -> Figure:
    from planner.report.charts import frontier_figure

    t = text(lang)
    return frontier_figure(table, {k: t[f"frontier_{k}"] for k in _FRONTIER_LABELS})


_FRONTIER_LABELS = (
    "cost_axis",
    "share_axis",
    "share_title",
    "units_axis",
    "hours_axis",
    "hours_title",
)


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# -- the report, in words and pictures --------------------------------------------------------


@dataclass(frozen=True)
class Report:
    lang: str
    title: str
    subtitle: str
    summary: str
    decision: list[str]  # the decision in plain words, a sentence each (decision_lines)
    glossary: list[str]
    headline_rows: list[tuple[str, str, str]]  # label, value, interval
    images: dict[str, bytes]  # map, frontier, tornado, psa (PNG)
    psa_text: str
    assumptions: list[tuple[str, str, str]]  # parameter, value with unit, source
    range_rows: list[tuple[str, str, str]]
    limits: list[str]
    notes: dict[str, str]


def _iv(v: Estimate, fmt: Any) -> str:
    return f"{fmt(v.low)} – {fmt(v.high)}" if v.has_interval else ""


def compose(b: Bundle, appraisal: Appraisal, head: Headline, lang: str) -> Report:
    if lang not in LANGS:
        raise ReportError(f"--lang: must be one of {', '.join(LANGS)}, got {lang!r}")
    t = text(lang)
    s = b.scenario

    def n0(v: float) -> str:
        return number(v, lang)

    def m(v: float) -> str:
        return millions(v, lang)

    def pc(v: float) -> str:
        return percent(v, lang)

    def mins(v: float) -> str:
        return number(v, lang, 1)

    h = head
    rows = [
        (
            t["units"],
            t["units_value"].format(
                vehicles=h.vehicles, bases=h.bases, unit_hours=n0(h.unit_hours_per_week)
            ),
            "",
        ),
        (t["cost"], f"{m(h.cost_per_year)} {t['nok_m']}", ""),
        (
            t["fte"],
            t["fte_value"].format(
                fte=number(h.fte, lang, 1), per_seat=number(h.fte_per_seat, lang, 2)
            ),
            "",
        ),
        (t["police_hours"], n0(h.police_hours_freed.mean), _iv(h.police_hours_freed, n0)),
        (
            t["police_fte"],
            number(h.police_fte_freed.mean, lang, 1),
            _iv(h.police_fte_freed, lambda v: number(v, lang, 1)),
        ),
        (t["patrol_hours"], n0(h.patrol_hours_freed.mean), _iv(h.patrol_hours_freed, n0)),
        (t["health_first"], pc(h.share_health_first.mean), _iv(h.share_health_first, pc)),
        (
            t["police_car"],
            n0(h.police_car_transports_avoided.mean),
            _iv(h.police_car_transports_avoided, n0),
        ),
        (
            t["police_car_share"],
            t["baseline_to"].format(
                before=pc(float(b.baseline_reps["share_police_car"].mean())),
                after=pc(h.share_police_car.mean),
            ),
            _iv(h.share_police_car, pc),
        ),
        (
            t["encounters"],
            n0(h.police_encounters_avoided.mean),
            _iv(h.police_encounters_avoided, n0),
        ),
        (
            t["response"],
            f"{mins(h.response_median.mean)} / {mins(h.response_p90.mean)} {t['minutes']}",
            "",
        ),
        (
            t["npv"].format(horizon=h.horizon_years),
            f"{m(h.npv.mean)} {t['nok_m']}",
            _iv(h.npv, m),
        ),
        (
            t["annual_net"],
            f"{m(h.annual_net_cost.mean)} {t['nok_m']}",
            _iv(h.annual_net_cost, m),
        ),
        (
            t["break_even"],
            f"{n0(h.break_even_police_hour.mean)} {t['per_hour']}",
            _iv(h.break_even_police_hour, n0),
        ),
        (
            t["per_response"],
            f"{n0(h.cost_per_health_first_response.mean)} {t['nok']}",
            _iv(h.cost_per_health_first_response, n0),
        ),
        (t["probability"], pc(h.probability_npv_positive), ""),
    ]
    images = {
        **({} if b.zone_shares.empty else {"map": png(map_figure(b, lang))}),
        "tornado": png(tornado_figure(appraisal, lang)),
        "psa": png(psa_figure(appraisal, lang)),
    }
    if b.frontier is not None:
        images["frontier"] = png(frontier_chart(b.frontier, lang))
    assumptions = assumption_rows(s, lang)
    range_rows = [
        (
            r.label_nb if lang == "nb" else r.label,
            f"{_short(r.low, lang)} – {_short(r.high, lang)} {r.unit}",
            r.source,
        )
        for r in ranges()
    ]
    return Report(
        lang=lang,
        title=t["title"],
        subtitle=t["subtitle"].format(
            scenario=s.scenario.name,
            year=s.demand.year,
            reps=len(b.scenario_reps),
            seed=b.summary.seed,
            price_year=s.costs.price_year,
        ),
        summary=summary_text(h, lang),
        decision=decision_lines(
            s, h, float(b.baseline_reps["response_median"].mean()), base_names_of(s), lang
        ),
        glossary=glossary(lang),
        headline_rows=rows,
        images=images,
        psa_text=t["psa_text"].format(p=pc(h.probability_npv_positive)),
        assumptions=assumptions,
        range_rows=range_rows,
        limits=list(t["limit_list"]),
        notes={
            "footer": t["footer_store" if b.stored else "footer"].format(
                version=planner_version(),
                scenario=b.stored,
                reps=len(b.scenario_reps),
                seed=b.summary.seed,
            ),
            "sources_note": t["sources_note"],
        },
    )


# the built-in shifts by name in each language (the dashboard's tables and the decision box)
SHIFT_WORDS = {
    "nb": {"day": "dag", "evening": "kveld", "late": "sen", "night": "natt", "always": "døgn"},
    "en": {"always": "round the clock"},
}


def _counted(names: Sequence[str], lang: str) -> str:
    """["a", "b", "a"] -> "a (2) and b (1)", in the order first named."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    parts = [f"{n} ({c})" for n, c in counts.items()]
    if not parts:
        return "–"
    joiner = " og " if lang == "nb" else " and "
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + joiner + parts[-1]


def decision_lines(
    scenario: Scenario,
    h: Headline,
    today_response: float,
    base_names: dict[str, str],
    lang: str,
) -> list[str]:
    """The decision in plain words, one sentence a line: how many units, at which named bases, on
    which shifts; its cost a year; what it buys; and what it costs in response time against
    today's police response (median minutes to the first help on scene)."""
    t = text(lang)
    units = scenario.fleet.units
    shifts = SHIFT_WORDS.get(lang, {})
    after = h.response_median.mean
    change = after - today_response
    response = t["decision_response" if change > 0 else "decision_response_better"]
    return [
        t["decision_units"].format(
            units=len(units), bases=_counted([base_names.get(u.base, u.base) for u in units], lang)
        ),
        t["decision_shifts"].format(
            shifts=_counted([shifts.get(u.shift, u.shift) for u in units], lang)
        ),
        t["decision_cost"].format(cost=millions(h.cost_per_year, lang)),
        t["decision_buys"].format(
            hours=number(h.police_hours_freed.mean, lang),
            car=number(h.police_car_transports_avoided.mean, lang),
            enc=number(h.police_encounters_avoided.mean, lang),
        ),
        response.format(
            after=number(after, lang, 1),
            before=number(today_response, lang, 1),
            change=("+" if change > 0 else "−" if change < 0 else "±")
            + number(abs(change), lang, 1),
        ),
    ]


def base_names_of(scenario: Scenario) -> dict[str, str]:
    """Base id -> the name people use, from the region's geodata (ids if it is not there)."""
    if scenario.region.kind != "geodata":
        return {}
    from planner.geo.geodata import load_region

    try:
        return load_region(scenario.region.name).place_names("base")
    except (OSError, ValueError):
        return {}


def glossary(lang: str) -> list[str]:
    t = text(lang)
    return [t["glossary_npv"], t["glossary_break_even"], t["glossary_p_npv"]]


def summary_text(h: Headline, lang: str) -> str:
    """The headline in a few sentences (the report's first paragraph, the dashboard's too)."""
    return " ".join(
        text(lang)["summary"]
        .format(
            cost=millions(h.cost_per_year, lang),
            hours=number(h.police_hours_freed.mean, lang),
            fte=number(h.police_fte_freed.mean, lang, 1),
            value=millions(h.police_value_per_year, lang),
            net=millions(h.annual_net_cost.mean, lang),
            car=number(h.police_car_transports_avoided.mean, lang),
            enc=number(h.police_encounters_avoided.mean, lang),
        )
        .split()
    )


def assumption_rows(s: Scenario, lang: str) -> list[tuple[str, str, str]]:
    """The report's assumptions: each parameter of costs, appraisal, demand and the police by
    its name in the reader's language (its path after it, for the expert), its value with its
    unit, and its source (a leading "estimate" or "user" in bokmål)."""
    from planner.dashboard.text import words

    w = words(lang)
    reg = registry()
    rows = []
    for path in sorted(reg):
        if path.split(".")[0] in ("costs", "appraisal", "demand") or path.startswith("police."):
            p = reg[path]
            value = _value_of(s, path, lang)
            name, unit = f"{w.param(path)} ({path})", w.param_unit(p.unit)
            rows.append((name, f"{value} {unit}", w.param_source(p.source)))
    return rows


def _value_of(s: Scenario, path: str, lang: str) -> str:
    obj: Any = s
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    if isinstance(obj, int | float) and not isinstance(obj, bool) and abs(obj) >= 10_000:
        return number(obj, lang)
    if isinstance(obj, float):
        return _short_value(obj, lang)
    if isinstance(obj, bool):
        return {True: "ja", False: "nei"}[obj] if lang == "nb" else str(obj).lower()
    if hasattr(obj, "model_dump"):  # a distribution: its kind and figures
        obj = obj.model_dump(by_alias=True, exclude_none=True)
    if isinstance(obj, dict) and "dist" in obj:
        names = _FIGURE_WORDS if lang == "nb" else {}
        figures = ", ".join(
            f"{names.get(k, k)} {_short_value(v, lang)}" for k, v in obj.items() if k != "dist"
        )
        return f"{obj['dist']} ({figures})"
    if isinstance(obj, dict | list) and len(str(obj)) > 40:
        return "(tabell)" if lang == "nb" else "(table)"
    return str(obj)


_FIGURE_WORDS = {"mean": "gjennomsnitt", "sd": "standardavvik", "value": "verdi"}


def _short_value(v: Any, lang: str) -> str:
    return f"{v:g}".replace(".", "," if lang == "nb" else ".") if isinstance(v, float) else str(v)


# -- HTML -------------------------------------------------------------------------------------


def to_html(r: Report) -> str:
    """One self-contained HTML file: images inline, no scripts, prints cleanly."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("planner", "data"), autoescape=select_autoescape(["html", "j2"])
    )
    images = {k: base64.b64encode(v).decode("ascii") for k, v in r.images.items()}
    return env.get_template("report.html.j2").render(
        r=r, t=text(r.lang), images=images, generator=generator()
    )


def generator() -> str:
    """What a report says wrote it (HTML generator, PDF Creator): marks the file as planner's,
    so ``planner report`` replaces it and nothing else."""
    from planner.store.files import REPORT_GENERATOR

    return f"{REPORT_GENERATOR} {planner_version()}"


# -- PDF --------------------------------------------------------------------------------------


def _font() -> str:
    """DejaVu Sans from matplotlib's own files: every Norwegian letter and dash prints."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVu", str(fonts / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    return "DejaVu"


def write_pdf(r: Report, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _font()
    t = text(r.lang)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=body, fontName=f"{font}-Bold", fontSize=17, leading=21)
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=f"{font}-Bold", fontSize=12, leading=16, spaceBefore=8
    )
    width = A4[0] - 36 * mm

    def para(s: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(html.escape(s), style)

    def image(key: str, max_h: float) -> Image:
        data = r.images[key]
        img = Image(io.BytesIO(data))
        scale = min(width / img.drawWidth, max_h / img.drawHeight)
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        return img

    def table(
        rows: Sequence[tuple[str, ...]], widths: list[float], header: tuple[str, ...]
    ) -> Table:
        style = small if len(rows) > 20 else body
        data = [[para(c, style) for c in header]] + [[para(c, style) for c in row] for row in rows]
        tab = Table(data, colWidths=widths, repeatRows=1)
        tab.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return tab

    box = Table(
        [[para(t["decision_title"], h2)]]
        + [[para(f"• {line}")] for line in r.decision]
        + [[para(f"{t['decision_glossary']}. " + " ".join(r.glossary), small)]],
        colWidths=[width],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#1f3f8f")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story: list[Any] = [
        para(r.title, h1),
        para(r.subtitle, small),
        Spacer(1, 3 * mm),
        box,
        Spacer(1, 3 * mm),
        para(r.summary),
        Spacer(1, 3 * mm),
        para(t["headline"], h2),
        table(
            r.headline_rows,
            [0.46 * width, 0.32 * width, 0.22 * width],
            (t["figure"], "", t["interval"]),
        ),
        PageBreak(),
        image("map", 150 * mm) if "map" in r.images else para(t["map_none"]),
    ]
    if "frontier" in r.images:  # a section only when there is a frontier to show
        story += [para(t["frontier_title"], h2), image("frontier", 80 * mm)]
    story += [
        PageBreak(),
        image("tornado", 120 * mm),
        para(t["tornado_guide"], small),
        Spacer(1, 3 * mm),
        KeepTogether([image("psa", 60 * mm), para(t["psa_guide"], small), para(r.psa_text)]),
        PageBreak(),
        para(t["assumptions"], h2),
    ]
    if r.notes["sources_note"]:
        story.append(para(r.notes["sources_note"], small))
    story += [
        table(
            r.assumptions,
            [0.3 * width, 0.22 * width, 0.48 * width],
            (t["parameter"], t["value"], t["source"]),
        ),
        para(t["ranges"], h2),
        table(
            r.range_rows,
            [0.3 * width, 0.22 * width, 0.48 * width],
            (t["parameter"], t["value"], t["source"]),
        ),
        para(t["limits"], h2),
        *[para(f"• {lim}") for lim in r.limits],
        Spacer(1, 4 * mm),
        para(r.notes["footer"], small),
    ]

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.setFont(font, 7)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{doc.page}")

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=r.title,
        author="planner",
        creator=generator(),
        lang=r.lang,
    )
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)


def report(folder: Path, lang: str = "nb") -> Report:
    """Read a results folder and compose its report (no files written)."""
    return report_of(load_bundle(folder), lang)


def report_of(b: Bundle, lang: str = "nb", appraisal: Appraisal | None = None) -> Report:
    """Compose the report of a bundle; an appraisal already made for it is reused."""
    a = appraisal or appraise(b.scenario, b.scenario_reps, b.baseline_reps)
    return compose(b, a, headline(b.scenario, a, b.summary.kpis), lang)
