"""Pieces every page draws the same way: numbers in the reader's language, the KPI table,
and the guard that says whether there are results to show and whether they are current."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import XLSX, Run, simulation_key, to_excel, validate
from planner.dashboard.text import Words, plain
from planner.scenario.loading import Problem
from planner.scenario.model import Scenario
from planner.words import number, percent


def num(value: float | None, w: Words, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return number(value, w.lang, decimals)


def fmt(value: float | None, unit: str, w: Words) -> str:
    """A KPI value as a reader expects it: shares in %, big counts without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "share":
        return percent(value, w.lang)
    return num(value, w, 0 if abs(value) >= 100 else 1)


def interval(lo: float, hi: float, unit: str, w: Words) -> str:
    if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
        return "–"
    return f"{fmt(lo, unit, w)} – {fmt(hi, unit, w)}"


def kpi_frame(kpis: pd.DataFrame, w: Words) -> pd.DataFrame:
    """The run's KPIs (the police districts' are ``district_frame``'s)."""
    kpis = kpis[~kpis["kpi"].str.contains(".", regex=False)]
    return pd.DataFrame(
        {
            w("kpi"): [w.kpi(k) for k in kpis["kpi"]],
            w("mean"): [fmt(v, u, w) for v, u in zip(kpis["mean"], kpis["unit"], strict=True)],
            w("interval"): [
                interval(lo, hi, u, w)
                for lo, hi, u in zip(kpis["ci_low"], kpis["ci_high"], kpis["unit"], strict=True)
            ],
            w("unit"): ["" if u == "share" else w.unit(u) for u in kpis["unit"]],
        }
    )


def cohort_frame(by_cohort: pd.DataFrame, w: Words) -> pd.DataFrame:
    """The KPIs of the frequent callers' calls beside those of everyone else's."""
    frequent = by_cohort[by_cohort["cohort"] == "frequent"].set_index("kpi")
    once = by_cohort[by_cohort["cohort"] == "once"].set_index("kpi")

    def shown(table: pd.DataFrame) -> list[str]:
        return [fmt(table.loc[k, "mean"], table.loc[k, "unit"], w) for k in frequent.index]

    return pd.DataFrame(
        {
            w("kpi"): [w.kpi(k) for k in frequent.index],
            w("cohort_frequent"): shown(frequent),
            w("cohort_once"): shown(once),
            w("unit"): ["" if u == "share" else w.unit(u) for u in frequent["unit"]],
        }
    )


def district_frame(kpis: pd.DataFrame, w: Words, names: dict[str, str]) -> pd.DataFrame:
    """The police districts' KPIs (``police.model = "patrols"``), a column per district (named
    as ``names`` has it), each figure with its 95 % interval; empty for a run without them."""
    from planner.sim.kpis import PATROL_KPIS

    keyed = kpis[kpis["kpi"].str.contains(".", regex=False)].set_index("kpi")
    parts = keyed.index.str.partition(".")
    districts = list(dict.fromkeys(d for base, _, d in parts if base in PATROL_KPIS))
    if not districts:
        return pd.DataFrame()
    columns: dict[str, list[str]] = {w("kpi"): [w.patrol_kpi(b) for b in PATROL_KPIS]}
    for d in districts:
        cells = []
        for base, (_label, unit, _better) in PATROL_KPIS.items():
            key = f"{base}.{d}"
            if key not in keyed.index:
                cells.append("–")
                continue
            r = keyed.loc[key]
            cells.append(
                f"{fmt(r['mean'], unit, w)} ({interval(r['ci_low'], r['ci_high'], unit, w)})"
            )
        columns[names.get(d, d)] = cells
    columns[w("unit")] = ["" if u == "share" else w.unit(u) for _l, u, _b in PATROL_KPIS.values()]
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class Current:
    """The scenario being edited (if valid), the last run, and whether it is of this scenario."""

    scenario: Scenario | None
    problems: list[Problem]
    run: Run | None

    @property
    def fresh(self) -> bool:
        return (
            self.run is not None
            and self.scenario is not None
            and simulation_key(self.scenario) == self.run.key
        )


def current() -> Current:
    s, problems = validate(state.raw())
    return Current(s, problems, state.last_run())


def need_run(w: Words) -> Run | None:
    """The last run for a page to show, with a note when it is missing or out of date."""
    c = current()
    if c.run is None:
        st.info(w("no_run"))
        return None
    if not c.fresh:
        st.warning(w("stale"))
    r = c.run
    st.caption(
        w(
            "results_of",
            name=plain(r.scenario.scenario.name),
            units=len(r.scenario.fleet.units) if r.scenario.units_are_active else 0,
            reps=r.scenario.run.replications,
            seed=r.scenario.run.seed,
        )
    )
    return r


def excel_download(w: Words, sheets: dict[str, pd.DataFrame], file_name: str, key: str) -> None:
    """A button that downloads these tables as an Excel workbook, numbers as numbers."""
    st.download_button(
        w("download_excel"), lambda: to_excel(sheets), file_name=file_name, mime=XLSX, key=key
    )


def kpi_numbers(kpis: pd.DataFrame, w: Words) -> pd.DataFrame:
    """The KPI table as numbers, for a spreadsheet: name, mean, interval and unit."""
    return pd.DataFrame(
        {
            w("kpi"): [w.kpi(k) for k in kpis["kpi"]],
            w("mean"): kpis["mean"],
            w("ci_low"): kpis["ci_low"],
            w("ci_high"): kpis["ci_high"],
            w("unit"): [w.unit(u) for u in kpis["unit"]],
            "key": kpis["kpi"],
        }
    )


NORWEGIAN_NUMBERS = {
    "decimal": ",",
    "thousands": "\N{NO-BREAK SPACE}",
    "grouping": [3],
    "currency": ["", "\N{NO-BREAK SPACE}kr"],
    "percent": "\N{NO-BREAK SPACE}%",
    "minus": "\N{MINUS SIGN}",
}
"""How a chart writes numbers in bokmål (d3-format's locale): "3 500", "0,8", "80 %", "−3"."""

DAY_NAMES = {
    "nb": ["man", "tir", "ons", "tor", "fre", "lør", "søn"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}


def day_axis(w: Words, title: str) -> alt.Axis:
    """An hour-of-week axis labelled by day (a tick at each midnight, Monday first)."""
    days = DAY_NAMES.get(w.lang, DAY_NAMES["en"])
    return alt.Axis(
        values=list(range(0, 168, 24)),
        labelExpr=f"{days!r}[floor(datum.value / 24)]",
        title=title,
    )


def chart(w: Words, figure: Any, description: str) -> None:
    """Draw a chart with its numbers written the reader's way and ``description`` as its text
    alternative for screen readers."""
    if w.lang == "nb":
        figure = figure.configure(locale={"number": NORWEGIAN_NUMBERS})
    st.altair_chart(figure, width="stretch", alt=description)


_NUMBER = re.compile(r"[+\-\N{MINUS SIGN}]?\d+(?:[.,]\d+)?(?:e[+\-]?\d+)?", re.IGNORECASE)


def parse_number(text: str) -> float:
    """A number as a Norwegian or an English reader types it: "0,8", "0.8", "1 580", "1 580,5",
    "−3", "80 %" (a per cent sign divides by 100). Raises ValueError for anything else."""
    t = (
        str(text)
        .strip()
        .replace("\N{NO-BREAK SPACE}", " ")
        .replace("\N{NARROW NO-BREAK SPACE}", " ")
    )
    percent_sign = t.endswith("%")
    t = t.removesuffix("%").strip()
    if re.fullmatch(r"[+\-\N{MINUS SIGN}]?\d{1,3}( \d{3})+([.,]\d+)?", t):
        t = t.replace(" ", "")  # thousands written with spaces
    if not _NUMBER.fullmatch(t):
        raise ValueError(text)
    value = float(t.replace("\N{MINUS SIGN}", "-").replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value / 100.0 if percent_sign else value


def decimal_input(
    container: Any,
    w: Words,
    label: str,
    value: float,
    key: str,
    decimals: int,
    **options: Any,
) -> Any:
    """A field for a number with decimals, written the reader's way: in bokmål a text field
    showing "0,80" or "1 580,5" (Streamlit's number field only writes "0.80"), which reads what
    ``parse_number`` reads; in English Streamlit's number field. ``entered(key)`` is its value.

    ``options``: number_input's (min_value, max_value, step, on_change, args, help, ...); the
    bokmål field takes on_change, args and help, and its callback checks the limits."""
    if w.lang != "nb":
        return container.number_input(
            label, value=value, key=key, format=f"%.{decimals}f", **options
        )
    allowed = {k: v for k, v in options.items() if k in ("on_change", "args", "help", "disabled")}
    return container.text_input(
        label, value=decimal_text(value, "nb", decimals), key=key, **allowed
    )


def decimal_text(value: float, lang: str, decimals: int) -> float | str:
    """What a ``decimal_input`` shows of a value: its text in bokmål, the number otherwise."""
    return number(float(value), "nb", decimals) if lang == "nb" else float(value)


def entered(key: str) -> float:
    """The number a ``decimal_input`` holds (ValueError: not a number)."""
    value = st.session_state[key]
    return float(value) if isinstance(value, int | float) else parse_number(value)
