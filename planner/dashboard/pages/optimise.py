"""Optimise page: the smallest service that meets a target, checked in the simulation; the
sizing frontier; any point opened as the scenario to edit and run."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import world_key
from planner.dashboard.text import Words, plain
from planner.dashboard.view import current, excel_download, num
from planner.kpis import KPIS
from planner.optimise import Target, frontier, optimise, scenario_overrides
from planner.report import frontier_chart


def _open(raw: dict[str, Any], name: str) -> None:
    state.set_raw(raw, fresh_widgets=True)
    st.session_state.opened_note = name


def render(w: Words) -> None:
    st.header(w("page_optimise"))
    note = st.session_state.pop("opened_note", None)
    if note:
        st.success(w("opened", name=plain(note)))
    c = current()
    if c.scenario is None:
        st.error(w("invalid") + "\n\n" + "\n\n".join(plain(p) for p in c.problems))
        return
    if c.scenario.region.kind != "geodata":
        st.info(w("needs_geodata"))
        return
    targets = [k for k in KPIS if k.better in ("higher", "lower")]
    cols = st.columns([3, 1, 2, 2])
    keys = [k.key for k in targets]
    kpi = cols[0].selectbox(
        w("target_kpi"),
        keys,
        index=keys.index("share_health_first"),
        key="opt_kpi",
        format_func=w.kpi,
    )
    better = {k.key: k.better for k in targets}[kpi]
    op = cols[1].selectbox(
        w("target_op"), [">=", "<="], index=0 if better == "higher" else 1, key=f"opt_op:{kpi}"
    )
    share = {k.key: k.unit for k in targets}[kpi] == "share"
    # a share is entered in per cent, as planners say it ("90 %"); money in millions a year
    value = cols[2].number_input(
        f"{w('target_value')} ({'%' if share else w.unit({k.key: k.unit for k in targets}[kpi])})",
        min_value=0.0,
        max_value=100.0 if share else None,
        value=90.0 if share else 30.0,
        step=1.0,
        format="%.1f",
        key=f"opt_value:{kpi}",
    )
    budget_m = cols[3].number_input(
        w("budget"), min_value=0.0, value=0.0, step=1.0, format="%.1f", key="opt_budget"
    )
    budget = budget_m * 1e6
    row = st.columns(3)
    reps = row[0].number_input(w("opt_reps"), 1, 100, 5, key="opt_reps")
    top = row[1].number_input(
        w("max_units"), 1, 60, c.scenario.optimise.max_units, key="opt_max_units"
    )
    with_frontier = row[2].checkbox(w("with_frontier"), value=True, key="opt_frontier")
    if st.button(w("optimise_run"), key="optimise_run", type="primary"):
        target = Target(kpi, op, float(value) / 100.0 if share else float(value))
        raw = state.raw()
        log = st.status(w("optimise_run"), expanded=True)

        def say(message: str) -> None:
            log.write(plain(message))

        outcome = optimise(raw, target, budget or None, int(reps), None, progress=say)
        table, proposals = (
            frontier(raw, int(top), int(reps), None, progress=say) if with_frontier else (None, [])
        )
        log.update(label=plain(outcome.stopped), state="complete", expanded=False)
        st.session_state.optimised = {
            "world": world_key(c.scenario),
            "raw": raw,
            "target": str(target),
            "outcome": outcome,
            "frontier": table,
            "proposals": proposals,
        }
    done: dict[str, Any] | None = st.session_state.get("optimised")
    if done is None:
        return
    if done["world"] != world_key(c.scenario):
        st.warning(w("optimise_stale"))
    _show(w, done)


def _formats() -> dict[str, Any]:
    """Figures as a reader takes them in: shares in %, NOK in millions, whole hours."""
    cc = st.column_config
    out: dict[str, Any] = {
        "cost_per_year": cc.NumberColumn(format="compact"),
        "response_p90": cc.NumberColumn(format="%.1f"),
        "police_fte_freed": cc.NumberColumn(format="%.1f"),
    }
    for share in ("share_health_first", "covered_share"):
        for end in ("", "_low", "_high"):
            out[share + end] = cc.NumberColumn(format="percent")
    for end in ("", "_low", "_high"):
        out["police_hours_freed" + end] = cc.NumberColumn(format="%d")
    return out


def _show(w: Words, done: dict[str, Any]) -> None:
    outcome = done["outcome"]
    best = outcome.best
    p = best.proposal
    st.subheader(plain(outcome.stopped))
    st.write(
        w(
            "proposal",
            vehicles=len(p.vehicles),
            bases=plain(", ".join(f"{b} × {n}" for b, n in p.bases.items())),
            hours=num(p.roster.unit_hours_per_week, w),
            cost=num(p.cost_per_year / 1e6, w, 1),
        )
    )
    name = f"optimised: {done['target']}"
    if st.button(w("open_best"), key="open_best"):
        _open(scenario_overrides(done["raw"], p, name, outcome.stopped), name)
        st.rerun()
    st.caption(w("rounds"))
    st.dataframe(
        pd.DataFrame([r.row(None) | {"met": r.met} for r in outcome.rounds]),
        hide_index=True,
        width="stretch",
        column_config=_formats(),
    )
    table: pd.DataFrame | None = done["frontier"]
    if table is None:
        return
    st.subheader(w("frontier"))
    st.pyplot(frontier_chart(table, w.lang))
    st.dataframe(table, hide_index=True, width="stretch", column_config=_formats())
    excel_download(w, {w("frontier"): table}, "frontier.xlsx", "xlsx_frontier")
    units = list(table["units"])
    cols = st.columns([2, 1])
    n = cols[0].selectbox(w("frontier_pick"), units, key="frontier_pick")
    if cols[1].button(w("open_point"), key="open_point"):
        proposal = done["proposals"][units.index(n)]
        point = f"frontier: {n} units"
        _open(scenario_overrides(done["raw"], proposal, point, point), point)
        st.rerun()
