"""Optimise page: the smallest service that meets a target, checked in the simulation; the
sizing frontier; any point opened as the scenario to edit and run."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import world_key
from planner.dashboard.text import Words, plain
from planner.dashboard.view import (
    current,
    decimal_input,
    entered,
    excel_download,
    fmt,
    num,
    percent,
)
from planner.optimise.loop import (
    Outcome,
    PointDone,
    RoundDone,
    Stop,
    Target,
    frontier,
    optimise,
    scenario_overrides,
)
from planner.report.document import base_names_of, frontier_chart
from planner.scenario.loading import scenario_from_dict
from planner.sim.kpis import KPI_BY_KEY, KPIS


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
        st.error(w("invalid") + "\n\n" + "\n\n".join(w.problem(p) for p in c.problems))
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
        key=state.worded("opt_kpi"),
        format_func=w.kpi,
    )
    better = KPI_BY_KEY[kpi].better
    op = cols[1].selectbox(
        w("target_op"), [">=", "<="], index=0 if better == "higher" else 1, key=f"opt_op:{kpi}"
    )
    share = KPI_BY_KEY[kpi].unit == "share"
    # a share is entered in per cent, as planners say it ("90 %"); money in millions a year
    unit_label = "%" if share else w.unit(KPI_BY_KEY[kpi].unit)
    value = _number(
        cols[2],
        w,
        f"{w('target_value')} ({unit_label})",
        90.0 if share else 30.0,
        f"opt_value:{kpi}",
        (0.0, 100.0 if share else None),
    )
    budget_m = _number(cols[3], w, w("budget"), 0.0, "opt_budget", (0.0, None))
    budget = (budget_m or 0.0) * 1e6
    row = st.columns(4)
    reps = row[0].number_input(w("opt_reps"), 1, 100, 5, key="opt_reps")
    top = row[1].number_input(
        w("max_units"), 1, 60, c.scenario.optimise.max_units, key="opt_max_units"
    )
    spread = row[2].number_input(
        w("opt_spread"), 0, 60, c.scenario.optimise.max_units_per_base, key="opt_spread"
    )
    with_frontier = row[3].checkbox(w("with_frontier"), value=True, key="opt_frontier")
    interrupted = st.session_state.pop("optimising", None)
    if interrupted is not None:  # a run the Stop button (or any other click) ended midway
        st.session_state.optimised = interrupted | {"interrupted": True}
    if st.button(w("optimise_run"), key="optimise_run", type="primary", disabled=value is None):
        assert value is not None
        target = Target(kpi, op, value / 100.0 if share else value)
        raw = state.raw()
        if spread:
            raw = {**raw, "optimise": {**raw.get("optimise", {}), "max_units_per_base": spread}}
        st.session_state.pop("optimised", None)
        _optimise(w, raw, target, budget or None, int(reps), int(top) if with_frontier else 0)
    done: dict[str, Any] | None = st.session_state.get("optimised")
    if done is None:
        return
    if done["world"] != world_key(c.scenario):
        st.warning(w("optimise_stale"))
    _show(w, done)


def _number(
    container: Any,
    w: Words,
    label: str,
    default: float,
    key: str,
    limits: tuple[float, float | None],
) -> float | None:
    """A target or budget typed the reader's way ("90", "12,5"); None, with the reason shown
    under the field, when it is not a number within ``limits``."""
    low, high = limits
    decimal_input(container, w, label, default, key, 1, min_value=low, max_value=high, step=1.0)
    try:
        value = entered(key)
    except ValueError:
        container.error(w("not_a_number", text=plain(st.session_state[key])))
        return None
    if value < low or (high is not None and value > high):
        container.error(w("out_of_range", low=num(low, w), high=num(high, w) if high else "–"))
        return None
    return value


def _optimise(
    w: Words, raw: dict[str, Any], target: Target, budget: float | None, reps: int, top: int
) -> None:
    """Optimise (and size the frontier when ``top``), with a progress bar, the time left and a
    Stop button; every simulated round and point is kept in the session as it comes, so a
    Stop, or any other click that ends the run, keeps what was done (shown on the next run)."""
    scenario = scenario_from_dict(raw)
    steps = scenario.optimise.max_rounds + top  # at most: the loop may stop early
    st.button(w("opt_stop"), key="opt_stop")  # a click ends this run; what is kept stays
    bar = st.progress(0.0, text=w("opt_starting"))
    log = st.status(w("optimise_run"), expanded=True)
    partial: dict[str, Any] = {
        "world": world_key(scenario),
        "raw": raw,
        "target": str(target),
        "outcome": Outcome(),
        "frontier": None,
        "proposals": [],
        "names": base_names_of(scenario),  # base id -> the name people use
    }
    points: list[dict[str, Any]] = []  # the frontier's rows so far
    st.session_state.optimising = partial
    started = time.perf_counter()
    done = 0

    def tell(event: RoundDone | PointDone) -> None:
        nonlocal done, steps
        done += 1
        if isinstance(event, RoundDone):
            partial["outcome"].rounds.append(event.round)
            step = w("opt_progress_round", n=event.round.number)
        else:
            points.append(event.row)
            partial["frontier"] = pd.DataFrame(points)
            partial["proposals"].append(event.proposal)
            steps = len(partial["outcome"].rounds) + event.of  # the loop has ended: exact
            step = w("opt_progress_point", n=event.units, of=event.of)
        left = (time.perf_counter() - started) / done * max(steps - done, 0)
        bar.progress(
            min(done / steps, 1.0),
            text=w("opt_progress", step=step, done=done, of=steps, left=_duration(left, w)),
        )
        log.write(event_line(event, w))

    outcome = optimise(raw, target, budget, reps, None, progress=tell)
    partial["outcome"] = outcome
    if top:
        table, proposals = frontier(raw, top, reps, None, progress=tell)
        partial["frontier"], partial["proposals"] = table, proposals
    bar.progress(1.0, text=stop_words(outcome.stop, w))
    log.update(label=stop_words(outcome.stop, w), state="complete", expanded=False)
    st.session_state.optimised = st.session_state.pop("optimising")


def _duration(seconds: float, w: Words) -> str:
    if seconds < 90:
        return w("opt_seconds", n=round(seconds))
    return w("opt_minutes", n=round(seconds / 60))


def event_line(event: RoundDone | PointDone, w: Words) -> str:
    """A line of the optimiser's log in the reader's language."""
    if isinstance(event, RoundDone):
        r, p, kpi = event.round, event.round.proposal, event.target.kpi
        unit = KPI_BY_KEY[kpi].unit
        return w(
            "opt_round_line",
            n=r.number,
            vehicles=len(p.vehicles),
            hours=num(p.roster.unit_hours_per_week, w),
            cost=num(p.cost_per_year / 1e6, w, 1),
            kpi=w.kpi(kpi),
            value=fmt(r.results.kpi(kpi), unit, w),
            met=w("opt_met" if r.met else "opt_not_met"),
        )
    row = event.row
    return w(
        "opt_point_line",
        n=event.units,
        hours=num(row["unit_hours_per_week"], w),
        kpi=w.kpi("share_health_first"),
        share=percent(row["share_health_first"], w.lang),
        freed=num(row["police_hours_freed"], w),
    )


def stop_words(stop: Stop | None, w: Words) -> str:
    """Why the optimiser stopped, in the reader's language."""
    if stop is None:
        return ""
    return w(
        f"stop_{stop.why}",
        round=stop.round,
        limit=stop.limit,
        cost=num(stop.cost / 1e6, w, 1),
        budget=num(stop.budget / 1e6, w, 1),
    )


def readable(table: pd.DataFrame, w: Words, names: dict[str, str]) -> pd.DataFrame:
    """A table as a reader takes it in: headers in the reader's language with each KPI under its
    one name, shares in %, costs in NOK million, numbers written the reader's way ("3 500",
    "0,8" in bokmål), bases by name (the Excel download keeps the plain numbers)."""
    kpi_names = {
        "share_health_first": w.kpi("share_health_first"),
        "response_p90": w.kpi("response_p90"),
        "police_hours_freed": f"{w('metric_police_hours_freed')} ({w('per_year')})",
    }
    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        base, end = col, ""
        for tail in ("_low", "_high"):
            if col.endswith(tail):
                base, end = col.removesuffix(tail), tail[1:]
        name = kpi_names.get(base) or w(f"col_{base}")
        label = w(f"col_{end}", name=name) if end else name
        values = table[col]
        if base in ("share_health_first", "covered_share"):
            shown = values.map(lambda v: percent(v, w.lang))
        elif base == "cost_per_year":
            shown = values.map(lambda v: num(v / 1e6, w, 1))
        elif base in ("response_p90", "police_fte_freed"):
            shown = values.map(lambda v: num(v, w, 1))
        elif base == "met":
            shown = values.map(lambda v: w("opt_met" if v else "opt_not_met"))
        elif base == "bases":
            shown = values.map(
                lambda text: ", ".join(_base_words(part, names) for part in str(text).split())
            )
        else:
            shown = values.map(lambda v: num(v, w))
        out[label] = shown
    return out


def _base_words(part: str, names: dict[str, str]) -> str:
    base, times, count = part.partition("×")
    return f"{names.get(base, base)}{' × ' + count if times else ''}"


def _show(w: Words, done: dict[str, Any]) -> None:
    outcome: Outcome = done["outcome"]
    names: dict[str, str] = done["names"]
    if done.get("interrupted"):
        st.warning(
            w(
                "opt_interrupted",
                rounds=len(outcome.rounds),
                points=0 if done["frontier"] is None else len(done["frontier"]),
            )
        )
    if outcome.rounds:
        best = outcome.best
        p = best.proposal
        if outcome.stop is not None:
            st.subheader(stop_words(outcome.stop, w))
        st.write(
            w(
                "proposal",
                vehicles=len(p.vehicles),
                bases=plain(", ".join(f"{names.get(b, b)} × {n}" for b, n in p.bases.items())),
                hours=num(p.roster.unit_hours_per_week, w),
                cost=num(p.cost_per_year / 1e6, w, 1),
            )
        )
        if len(p.bases) == 1 and len(p.vehicles) > 1:
            base = next(iter(p.bases))
            st.info(
                w(
                    "opt_stacked",
                    n=len(p.vehicles),
                    base=plain(names.get(base, base)),
                    minutes=num(p.scenario.optimise.threshold_minutes, w),
                )
            )
        name = f"optimised: {done['target']}"
        if st.button(w("open_best"), key="open_best"):
            _open(scenario_overrides(done["raw"], p, name, outcome.stopped), name)
            st.rerun()
        st.caption(w("rounds"))
        rounds = pd.DataFrame([r.row(None) | {"met": r.met} for r in outcome.rounds])
        st.dataframe(readable(rounds, w, names), hide_index=True, width="stretch")
    table: pd.DataFrame | None = done["frontier"]
    if table is None or table.empty:
        return
    st.subheader(w("frontier"))
    st.pyplot(
        frontier_chart(table, w.lang),
        alt=w(
            "alt_frontier",
            first=num(table["units"].min(), w),
            last=num(table["units"].max(), w),
        )
        + "; ".join(
            f"{num(n, w)}: {percent(v, w.lang)}"
            for n, v in zip(table["units"], table["share_health_first"], strict=True)
        ),
    )
    st.dataframe(readable(table, w, names), hide_index=True, width="stretch")
    excel_download(w, {w("frontier"): table}, "frontier.xlsx", "xlsx_frontier")
    units = list(table["units"])
    cols = st.columns([2, 1])
    n = cols[0].selectbox(w("frontier_pick"), units, key="frontier_pick")
    if cols[1].button(w("open_point"), key="open_point"):
        proposal = done["proposals"][units.index(n)]
        point = f"frontier: {n} units"
        _open(scenario_overrides(done["raw"], proposal, point, point), point)
        st.rerun()
