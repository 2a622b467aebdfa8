"""Compare page: two or more scenarios on the same calls, side by side, with paired differences
against the first (common random numbers: replication r of each met the same calls)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from planner.compare import paired_differences
from planner.dashboard import state
from planner.dashboard.model import merged, shipped_scenarios, validate
from planner.dashboard.text import Words
from planner.dashboard.view import fmt, interval
from planner.scenario import Run as RunSection
from planner.scenario import Scenario
from planner.simulation import Results


def choices(w: Words) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every scenario on offer: id -> (label, overrides)."""
    out = {"current": (w("compare_current"), state.raw())}
    for name, raw in shipped_scenarios().items():
        out[f"shipped:{name}"] = (f"{name}.toml", raw)
    for name, raw in st.session_state.kept.items():
        out[f"kept:{name}"] = (name, raw)
    return out


def comparison_table(w: Words, labels: list[str], results: list[Results]) -> pd.DataFrame:
    """Rows of KPIs: each scenario's mean, then each one's paired difference from the first."""
    ref = results[0]
    table = pd.DataFrame({w("kpi"): [w.kpi(k) for k in ref.kpis["kpi"]]})
    units = list(ref.kpis["unit"])
    for label, res in zip(labels, results, strict=True):
        table[label] = [fmt(v, u, w) for v, u in zip(res.kpis["mean"], units, strict=True)]
    for label, res in zip(labels[1:], results[1:], strict=True):
        d = paired_differences(ref, res)
        col = w("difference", a=labels[0], b=label)
        table[col] = [
            f"{fmt(v, u, w)}  ({interval(lo, hi, u, w)})"
            for v, lo, hi, u in zip(d["difference"], d["ci_low"], d["ci_high"], units, strict=True)
        ]
    table[w("unit")] = ["" if u == "share" else w.unit(u) for u in units]
    return table


def render(w: Words) -> None:
    st.header(w("page_compare"))
    offer = choices(w)
    picked = st.multiselect(
        w("compare_pick"),
        list(offer),
        default=[k for k in ("shipped:baseline", "current") if k in offer],
        format_func=lambda k: offer[k][0],
        key="compare_pick",
    )
    m = merged(state.raw())["run"]
    st.caption(
        f"{w('replications')}: {m['replications']} · {w('seed')}: {m['seed']} "
        f"({w('run_header')}, sidebar)"
    )
    go = st.button(w("compare_run"), key="compare_run", type="primary")
    if len(picked) < 2:
        st.info(w("compare_need_two"))
        return
    scenarios: list[Scenario] = []
    for key in picked:
        label, raw = offer[key]
        s, problems = validate(raw)
        if s is None:
            st.error(w("compare_invalid", name=label, problem=problems[0]))
            return
        # one run section for all: the same replications and seed pair every scenario's calls
        scenarios.append(s.model_copy(update={"run": RunSection.model_validate(m)}))
    labels = [offer[k][0] for k in picked]
    stored: dict[str, Any] = st.session_state.get("comparison", {})
    wanted = (tuple(picked), tuple(s.model_dump_json() for s in scenarios))
    if go:
        bar = st.progress(0.0)
        results = []
        for i, (label, s) in enumerate(zip(labels, scenarios, strict=True)):

            def progress(what: str, done: int, total: int, i: int = i) -> None:
                bar.progress(
                    (i + done / total) / len(scenarios),
                    text=w("running", what=what, done=done, total=total),
                )

            results.append(state.simulated(s, label, progress))
        bar.empty()
        stored = {"wanted": wanted, "labels": labels, "results": results}
        st.session_state.comparison = stored
    if stored.get("wanted") != wanted:
        if stored:
            st.warning(w("stale"))
        else:
            return
    labels, results = stored["labels"], stored["results"]
    st.subheader(w("compare_table"))
    st.dataframe(comparison_table(w, labels, results), hide_index=True, width="stretch")
    st.subheader(w("compare_freed"))
    rows = []
    for label, res in zip(labels, results, strict=True):
        k = res.kpis.set_index("kpi").loc["police_officer_hours"]
        rows.append({"scenario": label, "hours": k["mean"], "lo": k["ci_low"], "hi": k["ci_high"]})
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(y=alt.Y("scenario:N", title=None, sort=None))
    st.altair_chart(
        (
            base.mark_bar(color="#4f81bd").encode(
                x=alt.X("hours:Q", title=w.kpi("police_officer_hours"))
            )
            + base.mark_errorbar().encode(x="lo:Q", x2="hi:Q")
        ).properties(height=60 + 40 * len(frame)),
        width="stretch",
    )
