"""A short report a politician can read: headline, map, frontier, sensitivity, assumptions.

Built from a results folder written by ``planner run`` (and, if present, ``planner optimize``):
nothing is simulated again; the appraisal is recomputed from the stored per-replication figures
by the same deterministic function the run used, so the report and ``economics.json`` agree.
Text is in Norwegian (bokmål) by default and English on request (``data/report_text.toml``).
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from planner.economics.appraisal import Appraisal, Headline, appraise, headline, ranges
from planner.report.folder import Bundle, ReportError, load_bundle
from planner.scenario.model import Scenario
from planner.scenario.parameters import registry
from planner.sim.kpis import Estimate
from planner.version import planner_version
from planner.words import millions, number, percent

LANGS = ("nb", "en")


@cache
def text(lang: str) -> dict[str, Any]:
    raw = resources.files("planner.data").joinpath("report_text.toml").read_text("utf-8")
    return dict(tomllib.loads(raw)[lang])


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
        *p1_rows(b, h, lang),
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


def p1_rows(b: Bundle, h: Headline, lang: str) -> list[tuple[str, str, str]]:
    """The urgent police response in each district today and with the service, and the interval
    of the paired change (``police.model = "patrols"``; none otherwise): counted, not priced."""
    t = text(lang)
    names = district_names(b.scenario)
    rows = []
    for district, gained in h.p1_p90_minutes_gained.items():
        key = f"p1_response_p90.{district}"
        if key not in b.baseline_reps or key not in b.scenario_reps:
            continue

        def mins(v: float) -> str:
            return number(v, lang, 1)

        before = float(b.baseline_reps[key].mean())
        after = float(b.scenario_reps[key].mean())
        change = Estimate(-gained.mean, -gained.high, -gained.low)  # minutes added
        label = t["p1_p90"].format(district=names.get(district, district))
        rows.append((label, t["baseline_to"].format(before=mins(before), after=mins(after)),
                     _iv(change, mins)))  # fmt: skip
        share = f"p1_within_target.{district}"
        if share in b.baseline_reps and share in b.scenario_reps:
            won = h.p1_within_target_gained.get(district, Estimate(np.nan, np.nan, np.nan))
            target = b.scenario.police.p1_target_by_district.get(
                district, b.scenario.police.p1_target_minutes
            )
            label = t["p1_target"].format(
                district=names.get(district, district), target=number(target, lang)
            )
            value = t["baseline_to"].format(
                before=percent(float(b.baseline_reps[share].mean()), lang),
                after=percent(float(b.scenario_reps[share].mean()), lang),
            )
            rows.append((label, value, _iv(won, lambda v: percent(v, lang))))
    return rows


def district_names(scenario: Scenario) -> dict[str, str]:
    """Each police district's name (``Oslo politidistrikt``) by its key, where the region's
    geodata names it."""
    if scenario.region.kind != "geodata":
        return {}
    try:
        table = scenario.geodata.districts
    except LookupError:
        return {}
    return {str(k): str(v) for k, v in zip(table["police_district"], table["name"], strict=True)}


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
        obj = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(obj, tuple):  # a scenario's list, written as the file has it
        obj = list(obj)
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


def report(folder: Path, lang: str = "nb") -> Report:
    """Read a results folder and compose its report (no files written)."""
    return report_of(load_bundle(folder), lang)


def report_of(b: Bundle, lang: str = "nb", appraisal: Appraisal | None = None) -> Report:
    """Compose the report of a bundle; an appraisal already made for it is reused."""
    a = appraisal or appraise(b.scenario, b.scenario_reps, b.baseline_reps)
    return compose(b, a, headline(b.scenario, a, b.summary.kpis), lang)
