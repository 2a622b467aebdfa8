"""Scenario page: every parameter in plain words with its unit and source, validated as the
command line validates; open a shipped scenario, load or save a TOML file."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from planner.dashboard import distribution_fields, state
from planner.dashboard.model import (
    differs,
    merged,
    parameter_paths,
    read_upload,
    set_value,
    shipped_scenarios,
    to_toml,
    validate,
    value_at,
)
from planner.dashboard.text import Words, plain, words
from planner.dashboard.view import DAY_NAMES, decimal_input, decimal_text, entered
from planner.geo.geodata import available_regions, load_region
from planner.report.document import SHIFT_WORDS
from planner.scenario.loading import ScenarioError
from planner.scenario.model import WEEKDAYS
from planner.scenario.parameters import Parameter, lookup

# parameters with a table editor of their own, or chosen from a list
_OWN_EDITOR = {"fleet.units", "fleet.shifts", "scenario.sources"}  # sources: shown, not typed
# a number field holds integers up to 2**53; seeds go to 2**63, so they are typed as text
_BIGGEST_FIELD_INT = 2**53
_AS_TEXT = {"run.seed"}


# -- inline TOML for structured values (distributions, tables, lists) --------------------------


def inline(value: Any) -> str:
    """A value as one line of TOML, the way a scenario file would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {inline(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return repr(value)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else inline(k)


def parse_inline(text: str) -> Any:
    """One TOML value typed by the user; it is parsed as data, never run."""
    if "\n" in text or "\r" in text:
        raise ValueError("one line only")
    data = tomllib.loads(f"v = {text}")
    if set(data) != {"v"}:
        raise ValueError("one value only")
    return data["v"]


# -- widget callbacks -------------------------------------------------------------------------


def _changed(path: str, key: str, how: str) -> None:
    value = st.session_state[key]
    bad: dict[str, str] = st.session_state.bad
    if how == "toml":
        try:
            value = parse_inline(str(value))
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            bad[path] = str(exc).splitlines()[0]
            return
    elif how == "int":
        value = int(value)
    elif how == "decimal":  # a bokmål number field: "0,8", "1 580,5"
        try:
            value = entered(key)
        except ValueError:
            bad[path] = words(st.session_state.get("lang", "nb"))("not_a_number", text=value)
            return
    bad.pop(path, None)
    state.edit(set_value(state.raw(), path, value))


def _decimals(value: float) -> int:
    if value == 0 or abs(value) >= 100:
        return 1 if value != int(value) else 0
    return min(max(2, -math.floor(math.log10(abs(value))) + 2), 6)


def param_input(w: Words, path: str, value: Any, container: Any = st) -> None:
    """The widget for one parameter, chosen by the kind of its value."""
    p = lookup(path) or Parameter(path, None, "", "scenario")
    key = f"p{state.gen()}:{path}"
    label = w.param(path)
    unit = w.param_unit(p.unit)
    if 0 < len(p.unit) <= 28 and p.unit not in ("text", "bool") and "|" not in p.unit:
        label = f"{label} ({unit})"
    helptext = w("unit_source", unit=unit, source=p.source) + (f"\n\n{p.doc}" if p.doc else "")
    if distribution_fields.is_distribution_path(path) and distribution_fields.editable(value):
        # fields and a preview, not TOML text (a value they cannot show keeps its text field)
        distribution_fields.distribution_input(
            w, path, value, label, helptext, held_table, container
        )
        return
    common: dict[str, Any] = {"key": key, "help": helptext}
    show: Any = str
    if path == "region.name":
        regions = list(available_regions())
        container.selectbox(
            label,
            regions,
            index=regions.index(value) if value in regions else 0,
            on_change=_changed,
            args=(path, key, "plain"),
            **common,
        )
    elif isinstance(value, bool):
        show = bool
        container.checkbox(
            label, value=value, on_change=_changed, args=(path, key, "plain"), **common
        )
    elif isinstance(value, int) and abs(value) < _BIGGEST_FIELD_INT and path not in _AS_TEXT:
        show = int
        container.number_input(
            label, value=value, step=1, on_change=_changed, args=(path, key, "int"), **common
        )
    elif isinstance(value, float):
        d = _decimals(value)
        show = lambda v, d=d: decimal_text(v, w.lang, d)  # noqa: E731  (bound below)
        decimal_input(
            container,
            w,
            label,
            value,
            key,
            d,
            step=10.0 ** -min(d, 3) if d else 1.0,
            on_change=_changed,
            args=(path, key, "decimal"),
            help=helptext,
        )
    elif isinstance(value, str) and " | " in p.unit:
        choices = [c.strip() for c in p.unit.split("|")]
        container.selectbox(
            label,
            choices,
            index=choices.index(value) if value in choices else 0,
            on_change=_changed,
            args=(path, key, "plain"),
            **common,
        )
    elif isinstance(value, str) and path == "scenario.description":
        container.text_area(
            label, value=value, on_change=_changed, args=(path, key, "plain"), **common
        )
    elif isinstance(value, str):
        container.text_input(
            label, value=value, on_change=_changed, args=(path, key, "plain"), **common
        )
    else:
        show = inline
        container.text_input(
            label, value=inline(value), on_change=_changed, args=(path, key, "toml"), **common
        )
    state.bind(key, path, show)
    bad = st.session_state.bad.get(path)
    if bad:
        container.error(w("bad_value", path=plain(path), problem=plain(bad)))


# -- the fleet's tables -----------------------------------------------------------------------


@dataclass
class _Held:
    """A table editor's input, held while the only changes to its value are the editor's own."""

    gen: int
    serial: int
    settings: str  # the editor's columns and options, part of its identity as its data is
    frame: pd.DataFrame
    value: Any  # the value the table shows now: its input with the editor's edits applied


def held_table(
    name: str,
    value: Any,
    to_frame: Callable[[Any], pd.DataFrame],
    from_frame: Callable[[pd.DataFrame], Any],
    blank: str,
    **editor: Any,
) -> Any:
    """A ``st.data_editor`` of ``value`` that loses no edit; returns the value it now shows.
    Rows can be added and removed; an empty cell shows ``blank``.

    A dynamic editor's identity includes its input data, so a table rebuilt on every rerun from
    the scenario (which the last edit changed) is a new widget each time, and an edit made while
    the rerun runs is lost (Streamlit issue #7749). The input frame is therefore held in Session
    State, and the editor's own edits, which it keeps, are the only change, until the value is
    changed elsewhere (the sidebar's unit count, another scenario opened) or the editor's
    settings change (a shift's hours shown in the units' shift options): Streamlit then makes a
    new editor, without the old one's edits, so the table starts again from the scenario, which
    holds them.
    """
    ss = st.session_state
    tables: dict[str, _Held] = ss.setdefault("tables", {})
    held = tables.get(name)
    editor |= {"num_rows": "dynamic", "width": "stretch", "placeholder": blank}
    settings = repr(sorted(editor.items()))
    if held is None or held.gen != state.gen() or held.settings != settings or held.value != value:
        serial = held.serial + 1 if held is not None else 0
        held = _Held(state.gen(), serial, settings, to_frame(value), value)
        tables[name] = held
    edited = st.data_editor(held.frame, key=f"{name}_editor{held.gen}.{held.serial}", **editor)
    held.value = from_frame(edited)
    return held.value


def _units_frame(units: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(units, columns=["name", "base", "shift", "crew", "vehicle"]).astype(
        {
            "name": "string",
            "base": "string",
            "shift": "string",
            "crew": "Int64",
            "vehicle": "string",
        }
    )


def _units_of(edited: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (int(v) if k == "crew" else v) for k, v in row.items() if not pd.isna(v) and v != ""}
        for row in edited.to_dict(orient="records")
    ]


def _units_editor(w: Words, m: dict[str, Any]) -> None:
    fleet = m["fleet"]
    if m["region"]["kind"] == "geodata":
        names = load_region(m["region"]["name"]).place_names("base")
    else:
        names = {"base": "base"}
    # a shift by its name in the reader's language; not its hours, which would make every edit
    # of a shift's hours a new units table (its settings are part of its identity)
    shift_names = SHIFT_WORDS.get(w.lang, {})
    shifts = fleet["shifts"]
    st.caption(w("fleet_units"))
    units = held_table(
        "units",
        fleet["units"],
        _units_frame,
        _units_of,
        w("blank"),
        column_config={
            "name": st.column_config.TextColumn(w("col_name"), required=True),
            "base": st.column_config.SelectboxColumn(
                w("col_base"),
                options=list(names),
                format_func=lambda b: names.get(str(b), str(b)),
                required=True,
            ),
            "shift": st.column_config.SelectboxColumn(
                w("col_shift"),
                options=list(shifts),
                format_func=lambda k: shift_names.get(str(k), str(k)),
                required=True,
            ),
            "crew": st.column_config.NumberColumn(w("col_crew"), min_value=1, max_value=6, step=1),
            "vehicle": st.column_config.TextColumn(w("col_vehicle")),
        },
    )
    if units != fleet["units"]:
        state.set_raw(set_value(state.raw(), "fleet.units", units))
        if len(units) != len(fleet["units"]):  # the sidebar's count, drawn already, shows the
            st.session_state.resync = True  # new number on the next run (the table is kept)
            st.rerun()


def _shifts_frame(shifts: dict[str, Any], lang: str) -> pd.DataFrame:
    """The shifts as the reader names them: a built-in shift and the days in their language
    ("kveld", "man,tir,ons"); ``_shifts_of`` reads either language back."""
    names = SHIFT_WORDS.get(lang, {})
    days = dict(zip(WEEKDAYS, DAY_NAMES["nb"], strict=True)) if lang == "nb" else {}
    return pd.DataFrame(
        [
            {
                "shift": names.get(k, k),
                "start_hour": v["start_hour"],
                "hours": v["hours"],
                "days": ",".join(days.get(d, d) for d in v["days"]),
            }
            for k, v in shifts.items()
        ],
        columns=["shift", "start_hour", "hours", "days"],
    )


def _shifts_of(edited: pd.DataFrame, lang: str) -> dict[str, Any]:
    shift_ids = {v: k for k, v in SHIFT_WORDS.get(lang, {}).items()}
    day_ids = {name: d for d, name in zip(WEEKDAYS, DAY_NAMES["nb"], strict=True)}
    new: dict[str, Any] = {}
    for row in edited.to_dict(orient="records"):
        if pd.isna(row.get("shift")) or not str(row["shift"]).strip():
            continue
        days = [d.strip() for d in str(row.get("days") or "").split(",") if d.strip()]
        days = [day_ids.get(d.lower(), d) for d in days]
        start = row.get("start_hour")
        name = str(row["shift"]).strip()
        new[shift_ids.get(name, name)] = {
            # out-of-range and unknown values are passed on so validation names them
            "start_hour": int(start) if not pd.isna(start) and float(start).is_integer() else start,
            "hours": float(row["hours"]) if not pd.isna(row.get("hours")) else None,
            "days": days,
        }
    return new


def _shifts_editor(w: Words, m: dict[str, Any]) -> None:
    shifts = m["fleet"]["shifts"]
    st.caption(w("fleet_shifts"))
    new = held_table(
        "shifts",
        shifts,
        lambda value: _shifts_frame(value, w.lang),
        lambda edited: _shifts_of(edited, w.lang),
        w("blank"),
        column_config={
            "shift": st.column_config.TextColumn(w("col_shift"), required=True),
            "start_hour": st.column_config.NumberColumn(w("col_start"), step=1, required=True),
            "hours": st.column_config.NumberColumn(w("col_hours"), required=True),
            "days": st.column_config.TextColumn(w("col_days"), help=w("days_help"), required=True),
        },
    )
    if new != shifts:
        state.set_raw(set_value(state.raw(), "fleet.shifts", new))


# -- open, load, save, keep -------------------------------------------------------------------


def _open_shipped(key: str) -> None:
    name = st.session_state[key]
    state.set_raw(dict(shipped_scenarios()[name]), fresh_widgets=True)


def _files_row(w: Words) -> None:
    left, mid, right = st.columns([2, 3, 2])
    shipped = list(shipped_scenarios())
    with left:
        st.selectbox(
            w("start_from"),
            shipped,
            index=shipped.index(state.DEFAULT_SCENARIO) if state.DEFAULT_SCENARIO in shipped else 0,
            key="shipped_pick",
        )
        st.button(
            w("start_button"), key="open_shipped", on_click=_open_shipped, args=("shipped_pick",)
        )
    with mid:
        upload = st.file_uploader(w("load_toml"), type=["toml"], key=f"upload{state.gen()}")
        if upload is not None:
            data = upload.getvalue()
            try:
                new = read_upload(data, upload.name)  # its size is checked first
            except ScenarioError as exc:
                problems = "\n\n".join(w.problem(p) for p in exc.details[:10])
                st.error(w("upload_failed") + "\n\n" + problems)
            else:
                state.set_raw(new, fresh_widgets=True)
                st.session_state.loaded_note = w("loaded", name=plain(upload.name))
                st.rerun()
        note = st.session_state.pop("loaded_note", None)
        if note:
            st.success(note)
    with right:
        raw = state.raw()
        name = str(merged(raw)["scenario"]["name"])
        stem = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")[:40]
        try:
            data = to_toml(raw).encode("utf-8")
        except (TypeError, ValueError):  # an emptied table cell: no file can hold it yet
            data = b""
        st.download_button(
            w("save_toml"),
            data,
            file_name=f"{stem or 'scenario'}.toml",
            mime="application/toml",
            key="save_toml",
            disabled=not data,
            help=None if data else w("save_blocked"),
        )
        if st.button(w("keep"), key="keep"):
            state.keep(name, raw)
            st.success(w("kept", name=plain(name)))


def render(w: Words) -> None:
    st.header(w("page_scenario"))
    # the files row and the banner are drawn last, into these places at the top, so that "save"
    # and "keep" act on the scenario as the tables below have just changed it
    files_row, banner = st.container(), st.empty()
    only_changed = st.toggle(w("changed_only"), key="only_changed")
    m = merged(state.raw())
    sections = parameter_paths()
    names = list(sections)
    tabs = st.tabs([w.section(n) for n in names])
    for tab, section in zip(tabs, names, strict=True):
        with tab:
            if section == "situations":
                _situations(w, m, only_changed)
                continue
            if section == "fleet":
                _units_editor(w, m)
                _shifts_editor(w, m)
            paths = [p for p in sections[section] if p not in _OWN_EDITOR]
            _inputs(w, paths, m, only_changed)
            _sources(w, sections[section], m)
    with files_row:
        _files_row(w)
        _from_log(w, m)
    s, problems = validate(state.raw())
    # a field whose text could not be read holds no value yet: the scenario is not what it shows
    unread = [
        w("bad_value", path=plain(path), problem=plain(why))
        for path, why in st.session_state.bad.items()
    ]
    if s is None or unread:
        banner.error(
            w("invalid") + "\n\n" + "\n\n".join([*unread, *(w.problem(p) for p in problems)])
        )
    else:
        banner.success(w("valid"))


def _from_log(w: Words, m: dict[str, Any]) -> None:
    """Which values came from a call log (``planner calibrate``), named in the reader's words."""
    fitted = {
        path: text
        for path, text in (m["scenario"].get("sources") or {}).items()
        if str(text).startswith("calibrated from ")
    }
    if not fitted:
        return
    logs = sorted({str(t).removeprefix("calibrated from ").split(" (")[0] for t in fitted.values()})
    kinds: dict[str, list[str]] = {}  # a parameter's name -> the kinds it was fitted for
    for path in fitted:
        kind = path.split(".")[1] if path.startswith("situations.") else ""
        kinds.setdefault(w.param(path), []).extend([plain(kind)] if kind else [])
    names = [f"{n} ({', '.join(k)})" if k else n for n, k in kinds.items()]
    st.info(
        w("from_log", count=len(fitted), log=plain(", ".join(logs))) + "\n\n" + " · ".join(names)
    )


def _inputs(w: Words, paths: list[str], m: dict[str, Any], only_changed: bool) -> None:
    """A widget per parameter in two columns (only those off their default, if asked); time
    distributions below them, each across the page, its fields beside its preview."""
    shown = [p for p in paths if not only_changed or differs(m, p)]
    times = [p for p in shown if distribution_fields.is_distribution_path(p)]
    cols = st.columns(2)
    for i, path in enumerate(p for p in shown if p not in times):
        param_input(w, path, value_at(m, path), cols[i % 2])
    for path in times:
        param_input(w, path, value_at(m, path))


def _sources(w: Words, paths: list[str], m: dict[str, Any]) -> None:
    """Every parameter of a section with its value, unit and source, to read and to cite: the
    scenario's own source for a value it gives one (``[scenario.sources]``, as ``planner
    calibrate`` writes), else the default's."""
    own = m["scenario"].get("sources") or {}
    rows = []
    for path in paths:
        p = lookup(path)
        if p is None:
            continue
        value = inline(value_at(m, path))
        rows.append(
            {
                w("headline_table"): w.param(path),
                w("value"): value if len(value) <= 60 else value[:57] + "...",
                w("unit"): w.param_unit(p.unit),
                w("source"): own.get(path, p.source),
                "": "✎" if differs(m, path) else "",
            }
        )
    with st.expander(w("sources")):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _situations(w: Words, m: dict[str, Any], only_changed: bool) -> None:
    for kind, fields in m["situations"].items():
        with st.expander(f"{plain(fields.get('label', kind))} · {plain(kind)}", expanded=False):
            _inputs(w, [f"situations.{kind}.{field}" for field in fields], m, only_changed)
    _sources(w, parameter_paths()["situations"], m)
