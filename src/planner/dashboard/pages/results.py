"""Results page: KPIs with intervals, response-time distribution, utilisation by hour of week,
police hours freed and why calls fell back to police."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from planner.dashboard.model import (
    Run,
    fallback_reasons,
    response_histogram,
    utilisation_frame,
)
from planner.dashboard.text import Words, plain
from planner.dashboard.view import (
    chart,
    cohort_frame,
    day_axis,
    district_frame,
    excel_download,
    fmt,
    interval,
    kpi_frame,
    kpi_numbers,
    need_run,
    num,
    percent,
)
from planner.report.document import district_names
from planner.sim.compare import police_hours_freed


def headline_metrics(w: Words, run: Run) -> None:
    k = run.results.kpis.set_index("kpi")

    def value(key: str) -> tuple[str, str]:
        r = k.loc[key]
        return fmt(r["mean"], r["unit"], w), interval(r["ci_low"], r["ci_high"], r["unit"], w)

    cols = st.columns(5)
    # each KPI under its one name (as in the KPI table, the report and the command line)
    for col, key in zip(
        cols,
        ("share_health_first", "response_median", "response_p90", "unit_missions_per_year"),
        strict=False,
    ):
        label = w.kpi(key)
        v, iv = value(key)
        unit = "" if key.startswith("share") or "missions" in key else " min"
        col.metric(label, v + unit, help=f"{w('interval')}: {iv}")
        col.caption(f"{w('interval')}: {iv}")
    if run.baseline is not None:
        freed, lo, hi = police_hours_freed(run.baseline, run.results)
        cols[4].metric(w("police_freed"), f"{num(freed, w)} h", help=w("police_freed_help"))
        cols[4].caption(f"{w('interval')}: {num(lo, w)} – {num(hi, w)}")
    else:
        cols[4].metric(w("police_freed"), "–", help=w("no_baseline"))


def render(w: Words) -> None:
    st.header(w("page_results"))
    run = need_run(w)
    if run is None:
        return
    headline_metrics(w, run)
    left, right = st.columns(2)
    with left:
        st.subheader(w("response_dist"))
        hist = response_histogram(run.results)
        hist["responder"] = hist["unit"].map(
            {True: w("responder_unit"), False: w("responder_police")}
        )
        bars = (
            alt.Chart(hist)
            .mark_bar()
            .encode(
                x=alt.X("from:Q", bin="binned", title=w("minutes")),
                x2="to:Q",
                y=alt.Y("calls:Q", stack=True, title=f"{w('calls')} ({w('per_year')})"),
                color=alt.Color(
                    "responder:N",
                    title=w("responder"),
                    scale=alt.Scale(range=["#1f3f8f", "#9b9b9b"]),
                ),
                tooltip=[
                    alt.Tooltip("responder:N", title=w("responder")),
                    alt.Tooltip("from:Q", title=w("from_minute")),
                    alt.Tooltip("to:Q", title=w("to_minute")),
                    alt.Tooltip("calls:Q", format=",.0f", title=f"{w('calls')} ({w('per_year')})"),
                ],
            )
            .properties(height=300)
        )
        k = run.results.kpis.set_index("kpi")["mean"]
        chart(
            w,
            bars,
            w(
                "alt_response",
                median=num(k["response_median"], w, 1),
                p90=num(k["response_p90"], w, 1),
            ),
        )
    with right:
        st.subheader(w("utilisation"))
        util = utilisation_frame(run.results)
        line = (
            alt.Chart(util.dropna())
            .mark_area(line=True, opacity=0.3)
            .encode(
                x=alt.X(
                    "hour_of_week:Q",
                    axis=day_axis(w, w("day_of_week")),
                    scale=alt.Scale(domain=[0, 167]),
                ),
                y=alt.Y("utilisation:Q", axis=alt.Axis(format="%"), title=None),
                tooltip=[
                    alt.Tooltip("label:N", title=w("hour_of_week")),
                    alt.Tooltip("utilisation:Q", format=".0%", title=w("utilisation_short")),
                ],
            )
            .properties(height=300)
        )
        busy = util["utilisation"].dropna()
        chart(
            w,
            line,
            w(
                "alt_utilisation",
                low=percent(float(busy.min()), w.lang) if len(busy) else "–",
                high=percent(float(busy.max()), w.lang) if len(busy) else "–",
            ),
        )
        st.caption(w("utilisation_note"))
    left, right = st.columns(2)
    with left:
        st.subheader(w("fallbacks"))
        fb = fallback_reasons(run.results)
        fb[w("reason")] = [w(f"reason_{r}") for r in fb["reason"]]
        bars = (
            alt.Chart(fb)
            .mark_bar(color="#c0504d")
            .encode(
                y=alt.Y(f"{w('reason')}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
                x=alt.X("per_year:Q", title=w("per_year")),
                tooltip=[
                    alt.Tooltip(f"{w('reason')}:N"),
                    alt.Tooltip("per_year:Q", format=",.0f", title=w("per_year")),
                ],
            )
            .properties(height=160)
        )
        chart(
            w,
            bars,
            w("alt_fallbacks")
            + "; ".join(
                f"{r}: {num(v, w)}" for r, v in zip(fb[w("reason")], fb["per_year"], strict=True)
            ),
        )
    with right:
        st.subheader(w("by_hour_of_day"))
        by_hour = run.results.by_hour
        bh = by_hour[["hour", "median", "p90"]].rename(
            columns={"median": w("stat_median"), "p90": w("stat_p90")}
        )
        bh = bh.melt("hour", var_name="stat")
        slowest = by_hour.loc[by_hour["median"].idxmax()] if len(by_hour) else None
        chart(
            w,
            alt.Chart(bh)
            .mark_line(point=True)
            .encode(
                x=alt.X("hour:O", title=w("hour_of_day")),
                y=alt.Y("value:Q", title=w("minutes")),
                color=alt.Color("stat:N", title=None),
                tooltip=[
                    alt.Tooltip("hour:O", title=w("hour_of_day")),
                    alt.Tooltip("stat:N", title=" "),
                    alt.Tooltip("value:Q", format=",.1f", title=w("minutes")),
                ],
            )
            .properties(height=160),
            w(
                "alt_by_hour",
                hour=int(slowest["hour"]) if slowest is not None else "–",
                median=num(float(slowest["median"]), w, 1) if slowest is not None else "–",
            ),
        )
    st.subheader(w("kpi_table"))
    st.dataframe(kpi_frame(run.results.kpis, w), hide_index=True, width="stretch")
    excel_download(w, {w("kpi_table"): kpi_numbers(run.results.kpis, w)}, "kpis.xlsx", "xlsx_kpis")
    districts = district_frame(run.results.kpis, w, district_names(run.results.scenario))
    if len(districts):
        st.subheader(w("by_district"))
        st.dataframe(districts, hide_index=True, width="stretch")
        _patrols_by_hour(run, w)
    if run.results.scenario.callers.frequent_share > 0 and len(run.results.by_cohort):
        st.subheader(w("by_cohort"))
        st.dataframe(cohort_frame(run.results.by_cohort, w), hide_index=True, width="stretch")


def _patrols_by_hour(run: Run, w: Words) -> None:
    """Each district's patrols' busy share by hour of day (``police.model = "patrols"``)."""
    from planner.sim.kpis import by_hour_of

    names = district_names(run.results.scenario)
    rows = []
    for key, mean in zip(run.results.kpis["kpi"], run.results.kpis["mean"], strict=True):
        base, _, district = str(key).partition(".")
        if (hour := by_hour_of(base)) is not None:
            rows.append({"hour": hour, "district": names.get(district, district), "share": mean})
    if not rows:
        return
    frame = pd.DataFrame(rows)
    top = frame.loc[frame["share"].idxmax()]
    st.subheader(w("patrols_by_hour"))
    chart(
        w,
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("hour:O", title=w("hour_of_day")),
            y=alt.Y("share:Q", title=w("busy_share"), axis=alt.Axis(format="%")),
            color=alt.Color("district:N", title=w("district")),
            tooltip=[
                alt.Tooltip("district:N", title=w("district")),
                alt.Tooltip("hour:O", title=w("hour_of_day")),
                alt.Tooltip("share:Q", format=".1%", title=w("busy_share")),
            ],
        )
        .properties(height=180),
        w(
            "alt_patrols_by_hour",
            share=percent(float(top["share"]), w.lang),
            hour=int(top["hour"]),
            district=plain(str(top["district"])),
        ),
    )
