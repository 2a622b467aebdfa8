"""Compare page: two or more scenarios on the same calls, side by side, with paired differences
against the first (common random numbers: replication r of each met the same calls)."""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from planner.dashboard import state
from planner.dashboard.model import merged, shipped_scenarios, validate
from planner.dashboard.text import Words, plain
from planner.dashboard.view import chart, excel_download, fmt, interval, num
from planner.scenario.model import Scenario
from planner.sim.compare import paired_table
from planner.sim.kpis import KPIS, summarise
from planner.store.database import DEFAULT_PATH, Store, StoreError


def choices(w: Words) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every scenario on offer: id -> (label, overrides)."""
    out = {"current": (w("compare_current"), state.raw())}
    shipped = shipped_scenarios()
    named = [str(merged(raw)["scenario"]["name"]) for raw in shipped.values()]
    for (stem, raw), name in zip(shipped.items(), named, strict=True):
        # by the name it gives itself; the file too where two share a name
        out[f"shipped:{stem}"] = (name if named.count(name) == 1 else f"{name} ({stem})", raw)
    for name, raw in st.session_state.kept.items():
        out[f"kept:{name}"] = (name, raw)
    return out


def distinct(labels: list[str]) -> list[str]:
    """Labels made unique, in order: a second "A" becomes "A (2)" (they name table columns)."""
    out: list[str] = []
    for label in labels:
        n, candidate = 1, label
        while candidate in out:
            n += 1
            candidate = f"{label} ({n})"
        out.append(candidate)
    return out


def _on_common(per_rep: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Each scenario's rows of the replications every one has (stored sweeps may differ)."""
    common = set.intersection(*(set(r["replication"]) for r in per_rep))
    return [r[r["replication"].isin(common)] for r in per_rep]


def comparison_numbers(w: Words, labels: list[str], per_rep: list[pd.DataFrame]) -> pd.DataFrame:
    """The comparison as numbers, for a spreadsheet: each scenario's mean, then each one's
    paired difference from the first with its interval, over the replications all have."""
    per_rep = _on_common(per_rep)
    ref = summarise(per_rep[0])
    out = pd.DataFrame({w("kpi"): [w.kpi(k) for k in ref["kpi"]], "key": ref["kpi"]})
    for label, reps in zip(labels, per_rep, strict=True):
        out[label] = summarise(reps).set_index("kpi")["mean"].reindex(ref["kpi"]).to_numpy()
    for label, reps in zip(labels[1:], per_rep[1:], strict=True):
        d = paired_table(per_rep[0], reps).set_index("kpi").reindex(ref["kpi"])
        col = w("difference", a=labels[0], b=label)
        out[col] = d["difference"].to_numpy()
        out[f"{col}: {w('ci_low')}"] = d["ci_low"].to_numpy()
        out[f"{col}: {w('ci_high')}"] = d["ci_high"].to_numpy()
    out[w("unit")] = [w.unit(u) for u in ref["unit"]]
    return out


def comparison_table(w: Words, labels: list[str], per_rep: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows of KPIs: each scenario's mean, then each one's paired difference from the first,
    all over the replications every scenario has (stored sweeps may hold different numbers)."""
    per_rep = _on_common(per_rep)
    ref = summarise(per_rep[0])
    table = pd.DataFrame({w("kpi"): [w.kpi(k) for k in ref["kpi"]]})
    units = list(ref["unit"])
    for label, reps in zip(labels, per_rep, strict=True):
        means = summarise(reps).set_index("kpi")["mean"]
        table[label] = [fmt(means.get(k), u, w) for k, u in zip(ref["kpi"], units, strict=True)]
    for label, reps in zip(labels[1:], per_rep[1:], strict=True):
        d = paired_table(per_rep[0], reps).set_index("kpi")
        col = w("difference", a=labels[0], b=label)
        table[col] = [
            f"{fmt(d.loc[k, 'difference'], u, w)}  "
            f"({interval(d.loc[k, 'ci_low'], d.loc[k, 'ci_high'], u, w)})"
            if k in d.index and not math.isnan(d.loc[k, "difference"])
            else "–"
            for k, u in zip(ref["kpi"], units, strict=True)
        ]
    table[w("unit")] = ["" if u == "share" else w.unit(u) for u in units]
    return table


def _store_section(w: Words) -> None:
    """Scenarios a sweep stored (``planner sweep``): compared from their stored replications."""
    st.caption(w("store_note"))
    path = st.text_input(w("store_path"), value=str(DEFAULT_PATH), key="store_path")
    try:
        with Store.open(path, read_only=True) as store:
            stored = store.scenarios()
            stored = stored[stored["replications"] > 0]
            names = {
                h: f"{n} · {h[:8]} · {r} rep."
                for h, n, r in zip(
                    stored["hash"], stored["name"], stored["replications"], strict=True
                )
            }
            picked = st.multiselect(
                w("store_pick"), list(names), format_func=lambda h: names[h], key="store_pick"
            )
            if len(picked) < 2:
                st.info(w("compare_need_two"))
                return
            seeds = [store.seed_of(h) for h in picked]
            if len(set(seeds)) > 1:
                st.error(w("store_seeds", seeds=", ".join(map(str, sorted(set(seeds))))))
                return
            per_rep = [store.per_replication(h, seeds[0]) for h in picked]
    except (StoreError, ValueError) as exc:
        st.info(plain(exc))
        return
    labels = [names[h].split(" · ")[0] + f" ({h[:6]})" for h in picked]
    st.dataframe(comparison_table(w, labels, per_rep), hide_index=True, width="stretch")


def render(w: Words) -> None:
    st.header(w("page_compare"))
    here, stored = st.tabs([w("compare_session"), w("store_header")])
    with here:
        _session_section(w)
    with stored:
        _store_section(w)


def _session_section(w: Words) -> None:
    offer = choices(w)
    picked = st.multiselect(
        w("compare_pick"),
        list(offer),
        default=[k for k in ("shipped:baseline", "current") if k in offer],
        format_func=lambda k: offer[k][0],
        key=state.worded("compare_pick"),
    )
    current, problems = validate(state.raw())
    if current is None:  # its [run] section pairs every scenario; it must be valid first
        st.error(w("compare_invalid", name=w("compare_current"), problem=w.problem(problems[0])))
        return
    run = current.run
    st.caption(
        f"{w('replications')}: {run.replications} · {w('seed')}: {run.seed} "
        f"({w('run_header')}, sidebar)"
    )
    go = st.button(w("compare_run"), key="compare_run", type="primary")
    if len(picked) < 2:
        st.info(w("compare_need_two"))
        return
    scenarios: list[Scenario] = []
    for key in picked:
        label, raw = offer[key]
        # one run section for all: the same replications and seed pair every scenario's calls
        # (validated with each: a scenario may expect too many calls for it)
        s, problems = validate({**raw, "run": run.model_dump()})
        if s is None:
            st.error(w("compare_invalid", name=plain(label), problem=w.problem(problems[0])))
            return
        scenarios.append(s)
    labels = distinct([offer[k][0] for k in picked])
    if len({(s.region.kind, s.region.name) for s in scenarios}) > 1:
        st.error(w("compare_regions"))
        return
    stored: dict[str, Any] = st.session_state.get("comparison", {})
    wanted = (tuple(picked), tuple(s.model_dump_json() for s in scenarios))
    ready = [state.cached(s) for s in scenarios]
    if not go and stored.get("wanted") != wanted and all(r is not None for r in ready):
        # every scenario has been simulated with these replications and seed: shown at once
        stored = {"wanted": wanted, "labels": labels, "results": ready}
        st.session_state.comparison = stored
    if go:
        bar = st.progress(0.0)
        results = []
        for i, (label, s) in enumerate(zip(labels, scenarios, strict=True)):

            def progress(what: str, done: int, total: int, i: int = i) -> None:
                bar.progress(
                    (i + done / total) / len(scenarios),
                    text=w("running", what=plain(what), done=done, total=total),
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
    st.dataframe(
        comparison_table(w, labels, [r.per_replication for r in results]),
        hide_index=True,
        width="stretch",
    )
    excel_download(
        w,
        {w("compare_table"): comparison_numbers(w, labels, [r.per_replication for r in results])},
        "compare.xlsx",
        "xlsx_compare",
    )
    st.subheader(w("compare_freed"))
    charts = st.columns(3)
    for col, key in zip(
        charts, ("police_officer_hours", "share_health_first", "response_median"), strict=True
    ):
        with col:
            kpi_chart(w, key, labels, results)


def kpi_chart(w: Words, key: str, labels: list[str], results: list[Any]) -> None:
    """One KPI of each scenario: its mean as a bar, its 95 % interval as a line across it."""
    rows = []
    share = key.startswith("share")
    for label, res in zip(labels, results, strict=True):
        k = res.kpis.set_index("kpi").loc[key]
        scale = 100.0 if share else 1.0
        rows.append(
            {
                "scenario": label,
                "mean": k["mean"] * scale,
                "lo": k["ci_low"] * scale,
                "hi": k["ci_high"] * scale,
            }
        )
    frame = pd.DataFrame(rows)
    unit = next(k.unit for k in KPIS if k.key == key)
    title = f"{w.kpi(key)} ({'%' if share else w.unit(unit)})"
    base = alt.Chart(frame).encode(y=alt.Y("scenario:N", title=None, sort=None))
    axis = alt.Axis(format=",.0f" if not share else ".0f")
    chart(
        w,
        (
            base.mark_bar(color="#4f81bd").encode(x=alt.X("mean:Q", title=title, axis=axis))
            # the interval on the same axis, under the bar's title (not "…, lo")
            + base.mark_errorbar().encode(x=alt.X("lo:Q", title=title), x2="hi:Q")
        ).properties(height=60 + 40 * len(frame)),
        w("alt_compare", kpi=w.kpi(key))
        + "; ".join(
            f"{r['scenario']}: {num(r['mean'], w, 1)} ({num(r['lo'], w, 1)} – {num(r['hi'], w, 1)})"
            for r in rows
        ),
    )
