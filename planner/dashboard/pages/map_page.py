"""Map page: zones shaded by demand, response time or police hours freed; bases, receiving
facilities and catchments; a zone's figures on click. Drawn with deck.gl (pydeck) on no base
map, so it needs neither a map token nor the network: the browser asks nothing of any other
server (tests/test_browser.py records every request)."""

from __future__ import annotations

import json
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from planner.dashboard.model import Run, zone_figures
from planner.dashboard.text import Words, plain
from planner.dashboard.view import current, num
from planner.region import Region, load_region

# metric -> (column, colour map, needs a run)
METRICS: dict[str, tuple[str, str, bool]] = {
    "demand": ("expected_calls", "YlOrRd", False),
    "demand_rate": ("expected_rate", "YlOrRd", False),
    "catchment": ("facility", "tab20", False),
    "share_health_first": ("share_health_first", "RdYlGn", True),
    "response_median": ("response_median", "YlOrRd", True),
    "response_p90": ("response_p90", "YlOrRd", True),
    "police_hours_freed": ("police_hours_freed", "Greens", True),
}


def colours(values: pd.Series, cmap: str) -> list[list[int]]:
    """RGBA per zone: categories for text, a scale from the lowest to the highest otherwise."""
    cm = mpl.colormaps[cmap]
    if values.dtype == object:
        cats = {c: i for i, c in enumerate(sorted(values.dropna().unique()))}
        rgba = [cm(cats[v] % cm.N) if v in cats else (0.85, 0.85, 0.85, 1) for v in values]
    else:
        v = values.to_numpy(dtype=float)
        finite = np.isfinite(v)
        lo, hi = (np.nanmin(v), np.nanmax(v)) if finite.any() else (0.0, 1.0)
        t = np.where(finite, (v - lo) / (hi - lo) if hi > lo else 0.5, np.nan)
        rgba = [cm(x) if np.isfinite(x) else (0.85, 0.85, 0.85, 1) for x in t]
    return [[int(255 * c[0]), int(255 * c[1]), int(255 * c[2]), 190] for c in rgba]


def _features(region: Region, figures: pd.DataFrame, column: str, cmap: str) -> dict[str, Any]:
    shape = json.loads(region.zones[["zone_code", "geometry"]].to_json())
    by_code = figures.set_index("zone_code")
    fill = dict(zip(figures["zone_code"], colours(figures[column], cmap), strict=True))
    for f in shape["features"]:
        code = f["properties"]["zone_code"]
        row = by_code.loc[code]
        value = row[column]
        f["properties"] = {
            "zone_code": code,
            "name": row["zone_name"],
            "value": value if isinstance(value, str) else _short(value),
            "fill": fill[code],
        }
    return shape


def _short(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.2f}" if abs(v) < 1 else f"{v:,.0f}"


def _points(
    frame: pd.DataFrame, layer: str, radius: object, fill: list[int], edge: list[int]
) -> Any:
    """Facilities as circles in metres, so they grow with the zoom like the zones."""
    return pdk.Layer(
        "ScatterplotLayer",
        frame.to_dict("records"),
        id=layer,
        get_position=["lon", "lat"],
        get_radius=radius,
        get_fill_color=fill,
        get_line_color=edge,
        stroked=bool(edge),
        line_width_min_pixels=1,
        pickable=False,
    )


def _facility_layers(region: Region, run_units: list[str]) -> list[pdk.Layer]:
    f = region.facilities
    counts = pd.Series(run_units).value_counts() if run_units else pd.Series(dtype=int)
    bases = f[f["kind"] == "base"].assign(units=lambda d: d["id"].map(counts).fillna(0))
    used = bases[bases["units"] > 0].assign(radius=lambda d: 900 + 500 * d["units"])
    cols = ["id", "name", "lat", "lon"]
    return [
        _points(
            bases.loc[bases["units"] == 0, cols],
            "candidate_bases",
            600,
            [255, 255, 255, 120],
            [90, 90, 90, 255],
        ),
        _points(
            used[[*cols, "units", "radius"]],
            "bases",
            "radius",
            [31, 63, 143, 230],
            [255, 255, 255, 255],
        ),
        _points(f.loc[f["kind"] == "receiving", cols], "receiving", 700, [192, 57, 43, 240], []),
    ]


def _catchment_lines(region: Region, figures: pd.DataFrame) -> pdk.Layer:
    centre = region.zones.to_crs("EPSG:25833").centroid.to_crs("EPSG:4326")
    fac = region.facilities.set_index("id")
    rows = []
    for code, point, facility in zip(
        region.zones["zone_code"], centre, figures.set_index("zone_code")["facility"], strict=True
    ):
        if facility in fac.index:
            rows.append(
                {
                    "zone": code,
                    "from": [point.x, point.y],
                    "to": [float(fac.loc[facility, "lon"]), float(fac.loc[facility, "lat"])],
                }
            )
    return pdk.Layer(
        "LineLayer",
        rows,
        id="catchments",
        get_source_position="from",
        get_target_position="to",
        get_color=[120, 30, 30, 160],
        get_width=1.5,
    )


def render(w: Words) -> None:
    st.header(w("page_map"))
    c = current()
    scenario = c.scenario or (c.run.scenario if c.run else None)
    if scenario is None:
        st.error(w("invalid") + "\n\n" + "\n\n".join(plain(p) for p in c.problems))
        return
    if scenario.region.kind != "geodata":
        st.info(w("map_needs_geodata"))
        return
    region = load_region(scenario.region.name)
    run: Run | None = c.run if c.fresh else None
    left, right = st.columns([3, 1])
    with right:
        metric = st.selectbox(
            w("map_metric"), list(METRICS), key="map_metric", format_func=lambda k: w(f"metric_{k}")
        )
        lines = st.checkbox(w("show_catchments"), key="map_lines", value=False)
    column, cmap, needs = METRICS[metric]
    figures = zone_figures(run, scenario, region)
    if needs and (run is None or column not in figures):
        right.info(w("needs_run") if run is None or run.baseline else w("no_baseline"))
        column, cmap = METRICS["demand"][:2]
    units = [u.base for u in scenario.fleet.units] if scenario.units_are_active else []
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            _features(region, figures, column, cmap),
            id="zones",
            get_fill_color="properties.fill",
            get_line_color=[70, 70, 70, 200],
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
        ),
        *_facility_layers(region, units),
    ]
    if lines:
        layers.insert(1, _catchment_lines(region, figures))
    cells = region.cells
    view = pdk.ViewState(
        latitude=float(cells["lat"].mean()),
        longitude=float(cells["lon"].mean()),
        zoom=8.4,
    )
    # no base map: pydeck's documented way is map_provider=None (map_style=None would make
    # Streamlit fetch CARTO's style for its theme); a text tooltip, never HTML
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        tooltip={"text": "{name}\n{value}"},
    )
    with left:
        event = st.pydeck_chart(deck, on_select="rerun", key="zone_map", height=620)
        if figures[column].dtype != object:
            st.markdown(legend(figures[column], cmap, w), unsafe_allow_html=True)
        st.caption(w("legend_bases"))
    picked = _picked(event)
    names = dict(zip(figures["zone_code"], figures["zone_name"], strict=True))
    codes = list(names)
    if picked in names:
        st.session_state.map_zone = picked
    with right:
        zone = st.selectbox(
            w("zone_pick"),
            codes,
            key="map_zone",
            format_func=lambda z: f"{names[z]} ({z})",
        )
        _zone_card(w, figures.set_index("zone_code").loc[zone])


def _picked(event: Any) -> str | None:
    try:
        objects = event.selection["objects"].get("zones", [])
    except (AttributeError, KeyError, TypeError):
        return None
    if objects:
        props = objects[0].get("properties", objects[0])
        return str(props.get("zone_code"))
    return None


def _zone_card(w: Words, row: pd.Series) -> None:
    items = [
        (w("population"), num(row["population"], w)),
        (w("catchment"), plain(row["facility"])),
        (w("metric_demand"), num(row["expected_calls"], w)),
        (w("metric_demand_rate"), num(row["expected_rate"], w, 1)),
    ]
    for key in ("share_health_first", "response_median", "response_p90", "police_hours_freed"):
        if key in row and pd.notna(row[key]):
            v = row[key]
            items.append(
                (
                    w(f"metric_{key}"),
                    f"{num(v * 100, w, 1)} %" if key.startswith("share") else num(v, w, 1),
                )
            )
    st.markdown(f"**{plain(row['zone_name'])}** ({plain(row.name)})")
    st.markdown("\n".join(f"- {label}: **{value}**" for label, value in items))


def legend(values: pd.Series, cmap: str, w: Words) -> str:
    """A colour bar for a numeric shading, lowest to highest (HTML made from our own numbers)."""
    v = values.to_numpy(dtype=float)
    if not np.isfinite(v).any():
        return ""
    cm = mpl.colormaps[cmap]
    stops = ", ".join(mpl.colors.to_hex(cm(x)) for x in np.linspace(0, 1, 7))
    lo, hi = np.nanmin(v), np.nanmax(v)
    dec = 2 if hi <= 1 else 0
    return (
        f"<div style='display:flex;align-items:center;gap:8px;font-size:0.85em'>"
        f"<span>{num(lo, w, dec)}</span>"
        f"<div style='flex:1;height:12px;border-radius:3px;"
        f"background:linear-gradient(to right, {stops})'></div>"
        f"<span>{num(hi, w, dec)}</span></div>"
    )
