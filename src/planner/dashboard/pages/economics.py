"""Cost-benefit page, for the politician: what the service costs, what it buys, its net
present value under R-109, what moves it most, and the report to take away.

Prices and appraisal settings don't change what is simulated, so the what-if inputs here
recompute the appraisal from the same replications at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import Run, merged, value_at, world_key
from planner.dashboard.pages.scenario import param_input
from planner.dashboard.text import Words, plain
from planner.dashboard.view import current, need_run, num
from planner.economics.appraisal import Appraisal, Headline
from planner.report.document import (
    base_names_of,
    decision_lines,
    glossary,
    png,
    psa_figure,
    report_of,
    summary_text,
    text,
    tornado_figure,
)
from planner.report.folder import bundle_of
from planner.report.render import to_html, write_pdf
from planner.scenario.model import Scenario
from planner.sim.kpis import Estimate

WHAT_IF = ("costs.police_officer_hour", "appraisal.discount_rate", "appraisal.horizon_years")


# the headline, two rows of four: (label key, unit key, the figure, scale, decimals); a figure
# that simulation noise moves is an Estimate and carries its interval
CARDS: tuple[
    tuple[tuple[str, str | None, Callable[[Headline], float | Estimate], float, int], ...], ...
] = (
    (
        ("cost", "nok_m_year", lambda h: h.cost_per_year, 1e6, 1),
        ("police_freed", "h_year", lambda h: h.police_hours_freed, 1, 0),
        ("car_avoided", "per_year_count", lambda h: h.police_car_transports_avoided, 1, 0),
        ("encounters_avoided", "per_year_count", lambda h: h.police_encounters_avoided, 1, 0),
    ),
    (
        ("npv", "nok_m", lambda h: h.npv, 1e6, 1),
        ("net_cost", "nok_m_year", lambda h: h.annual_net_cost, 1e6, 1),
        ("break_even", "nok_h", lambda h: h.break_even_police_hour, 1, 0),
        ("p_npv", None, lambda h: h.probability_npv_positive, 0.01, 1),
    ),
)


def headline_cards(w: Words, h: Headline) -> None:
    """Eight figures a decision turns on, each labelled with its unit and interval."""
    for row in CARDS:
        for col, (label, unit, figure, scale, decimals) in zip(
            st.columns(len(row)), row, strict=True
        ):
            value = figure(h)
            mean = value.mean if isinstance(value, Estimate) else value
            title = w(label, years=h.horizon_years) if label == "npv" else w(label)
            col.metric(f"{title} ({w(unit) if unit else '%'})", num(mean / scale, w, decimals))
            if isinstance(value, Estimate):
                lo, hi = (num(v / scale, w, decimals) for v in (value.low, value.high))
                col.caption(f"{w('interval')}: {lo} – {hi}")


def today_response(run: Run) -> float:
    """Today's median response (police alone) on the same calls: the baseline's."""
    assert run.baseline is not None
    k = run.baseline.kpis.set_index("kpi")
    return float(k.loc["response_median", "mean"])


def decision_box(w: Words, scenario: Scenario, h: Headline, run: Run) -> None:
    """The decision in plain words, first on the page, with a glossary of its three terms."""
    lines = decision_lines(scenario, h, today_response(run), base_names_of(scenario), w.lang)
    with st.container(border=True, key="decision"):
        st.subheader(text(w.lang)["decision_title"])
        st.markdown("\n".join(f"- {plain(line)}" for line in lines))
        with st.expander(text(w.lang)["decision_glossary"]):
            st.markdown("\n".join(f"- {plain(line)}" for line in glossary(w.lang)))


def _downloads(w: Words, run: Run, scenario: Scenario, appraisal: Appraisal) -> None:
    lang = w.lang
    # a frontier belongs in the report only if it was made for this region and demand
    optimised = st.session_state.get("optimised")
    fits = optimised is not None and optimised["world"] == world_key(scenario)
    frontier = optimised["frontier"] if fits and optimised is not None else None

    def compose() -> Any:
        b = bundle_of(scenario, run.summary(), run.results.log, frontier)
        return report_of(b, lang, appraisal)

    def html() -> bytes:
        return to_html(compose()).encode("utf-8")

    def pdf() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.pdf"
            write_pdf(compose(), path)
            return path.read_bytes()

    cols = st.columns(3)
    cols[0].download_button(
        w("download_html"), html, file_name=f"report-{lang}.html", mime="text/html", key="dl_html"
    )
    cols[1].download_button(
        w("download_pdf"), pdf, file_name=f"report-{lang}.pdf", mime="application/pdf", key="dl_pdf"
    )
    cols[2].caption(w("report_lang"))


def _figure(fig: Any, description: str) -> None:
    st.image(png(fig), width="stretch", alt=description)


def render(w: Words) -> None:
    st.header(w("page_economics"))
    run = need_run(w)
    if run is None:
        return
    if run.baseline is None:
        st.info(w("no_baseline"))
        return
    c = current()
    scenario = c.scenario if c.fresh and c.scenario is not None else run.scenario
    appraisal, h = run.economics(scenario)
    decision_box(w, scenario, h, run)
    st.markdown(f"**{summary_text(h, w.lang)}**")
    headline_cards(w, h)
    st.caption(w("econ_intervals"))
    with st.expander(w("what_if"), expanded=True):
        cols = st.columns(len(WHAT_IF))
        m = merged(state.raw())
        for col, path in zip(cols, WHAT_IF, strict=True):
            param_input(w, path, value_at(m, path), col)
    _downloads(w, run, scenario, appraisal)
    left, right = st.columns(2)
    with left:
        st.subheader(w("tornado"))
        guide = text(w.lang)["tornado_guide"]
        _figure(tornado_figure(appraisal, w.lang), guide)
        st.caption(guide)
    with right:
        st.subheader(w("monte_carlo"))
        guide = text(w.lang)["psa_guide"]
        _figure(psa_figure(appraisal, w.lang), guide)
        st.caption(guide)
