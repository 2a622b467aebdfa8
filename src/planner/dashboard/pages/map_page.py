"""Map page: zones shaded by demand, response time or police hours freed; bases, receiving
facilities and catchments; a zone's figures on click. Drawn with deck.gl (pydeck) on a base map
made from the project's own geodata (report/maps.py: the sea from the coastline, the main roads
from the road graph, the names of kommuner and bydeler), with no tile server: the browser asks
nothing of any other server (tests/test_browser.py and tests/test_browser_map.py record every
request), and the text layer draws its letters from the browser's own sans-serif font."""

from __future__ import annotations

import html
import json
import math
from functools import cache
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
import streamlit as st
from matplotlib.ticker import MaxNLocator
from shapely.ops import polylabel

from planner.dashboard import playback, state
from planner.dashboard.model import Run, zone_figures
from planner.dashboard.text import Words, plain
from planner.dashboard.view import current, num, percent
from planner.geo.geodata import load_region
from planner.geo.region import Region
from planner.report import maps

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
CHART_HEIGHT = 620  # px
CHART_WIDTH = 760  # px: the map's column on a laptop; a wider one only adds margin at the sides
TILE = 512  # deck.gl's web-mercator world is 512 px wide at zoom 0
ZONE_ALPHA = 215
NO_DATA = (0.85, 0.85, 0.85, 1.0)
# symbol sizes in screen pixels, so the legend can draw them as the map does
BASE_PX = (6, 2)  # radius = 6 + 2 × units
CANDIDATE_PX = 4
RING_PX = 11
FONT = "sans-serif"  # a font of the browser's own: nothing is fetched for the labels
# pydeck sends a bare string as an expression ("@@=pixels"); a literal must be marked as one
_PX = pdk.types.String("pixels")


def colours(values: pd.Series, cmap: str) -> list[list[int]]:
    """RGBA per zone: categories for text, a scale from the lowest to the highest otherwise."""
    cm = mpl.colormaps[cmap]
    if not pd.api.types.is_numeric_dtype(values):
        cats = {c: i for i, c in enumerate(sorted(values.dropna().unique()))}
        rgba = [cm(cats[v] % cm.N) if v in cats else NO_DATA for v in values]
    else:
        v = values.to_numpy(dtype=float)
        finite = np.isfinite(v)
        lo, hi = (np.nanmin(v), np.nanmax(v)) if finite.any() else (0.0, 1.0)
        spread = hi - lo > 1e-9 * max(1.0, abs(hi))  # a rate the same everywhere: one colour
        t = np.where(finite, (v - lo) / (hi - lo) if spread else 0.5, np.nan)
        rgba = [cm(x) if np.isfinite(x) else NO_DATA for x in t]
    return [[int(255 * c[0]), int(255 * c[1]), int(255 * c[2]), ZONE_ALPHA] for c in rgba]


# -- the view: the whole region, or a city's bydeler, fitted to the chart ---------------------


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web-mercator world coordinates in [0, 1], y growing southwards, as deck.gl uses them."""
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180.0) / 360.0, (1.0 - y / math.pi) / 2.0


def fit_view(
    bounds: tuple[float, ...], width: int = CHART_WIDTH, height: int = CHART_HEIGHT, pad: int = 16
) -> dict[str, float]:
    """The centre and the largest zoom at which ``bounds`` (west, south, east, north) fit inside
    a ``width`` × ``height`` px chart with ``pad`` px to spare on every side."""
    west, south, east, north = bounds
    x0, y1 = _mercator(west, south)
    x1, y0 = _mercator(east, north)
    zoom = math.log2(
        min((width - 2 * pad) / (TILE * (x1 - x0)), (height - 2 * pad) / (TILE * (y1 - y0)))
    )
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lat = math.degrees(2 * math.atan(math.exp(math.pi * (1 - 2 * cy))) - math.pi / 2)
    return {"longitude": cx * 360.0 - 180.0, "latitude": lat, "zoom": zoom}


def view_choices(region: Region) -> dict[str, tuple[float, ...]]:
    """What the map can fit: "region", the bounds of every zone; a city's kommune number
    ("0301"), the bounds of its settled bydeler (all of Oslo's but the forest of Marka, which
    shows in part), so that the inner city's bydeler have room for their names."""
    out = {"region": maps.bounds(region)}
    for kommune, codes in maps.cities(region).items():
        out[kommune] = maps.bounds(region, maps.settled(region, codes))
    return out


# -- the base map, from our own geodata -------------------------------------------------------


def base_layers(region: Region) -> list[pdk.Layer]:
    """What lies under the zones: land beyond the region, the sea (from the coastline)."""
    w, s, e, n = maps.bounds(region)
    frame = [[w - 6, s - 4], [e + 6, s - 4], [e + 6, n + 4], [w - 6, n + 4]]
    sea = shapely.geometry.mapping(maps.water(region))
    return [
        pdk.Layer(
            "PolygonLayer",
            [{"polygon": frame}],
            id="outside",
            get_polygon="polygon",
            get_fill_color=maps.hex_rgb(maps.OUTSIDE),
            stroked=False,
        ),
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": sea}]},
            id="water",
            get_fill_color=maps.hex_rgb(maps.WATER),
            stroked=False,
        ),
    ]


def road_layer(region: Region) -> pdk.Layer:
    """The road graph's edges, one line each, wider for bigger roads."""
    seg = maps.road_segments(region)
    seg["width"] = seg["road_class"].map(maps.ROAD_PIXELS).fillna(1.0)
    return pdk.Layer(
        "LineLayer",
        seg[["road", "road_class", "from", "to", "width"]].to_dict("records"),
        id="roads",
        get_source_position="from",
        get_target_position="to",
        get_color=maps.hex_rgb(maps.ROAD, 170),
        get_width="width",
        width_units=_PX,
    )


@cache
def _border_paths(region_name: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The rings of a region's kommune borders (they change only with its geodata)."""
    whole = load_region(region_name).zones.dissolve(by="kommune")
    return tuple(
        tuple((round(x, 5), round(y, 5)) for x, y in ring.coords)
        for geom in whole.geometry
        for part in getattr(geom, "geoms", [geom])
        for ring in [part.exterior, *part.interiors]
    )


def _borders(region: Region) -> pdk.Layer:
    """Kommune borders, a little stronger than the zones' own outlines."""
    paths = [{"path": [list(p) for p in ring]} for ring in _border_paths(region.name)]
    return pdk.Layer(
        "PathLayer",
        paths,
        id="kommune_borders",
        get_path="path",
        get_color=[60, 60, 60, 220],
        get_width=1.6,
        width_units=_PX,
    )


def place_names(region: Region, view: str) -> list[dict[str, Any]]:
    """The place names a view may show, most important first: for the whole region the kommuner
    (Oslo as one), then the bydeler where there is room; for a city its bydeler, then the
    kommuner around it. ``zone``: the code of the zone the name must stay inside."""
    cities = maps.cities(region)
    kommuner = [
        {
            "text": str(r.name),
            "lon": float(r.lon),
            "lat": float(r.lat),
            "kind": "kommune",
            "zone": str(r.zone_code),
        }
        for r in maps.kommune_labels(region).itertuples()
        if view == "region" or r.zone_code not in cities
    ]
    bydeler = [
        {
            "text": str(r.name),
            "lon": float(r.lon),
            "lat": float(r.lat),
            "kind": "bydel",
            "zone": str(r.zone_code),
        }
        for r in maps.zone_labels(region).itertuples()
        if r.kind == "bydel"
    ]
    return kommuner + bydeler if view == "region" else bydeler + kommuner


_LABEL_STYLE: dict[str, tuple[int, list[int]]] = {  # kind -> (size in px, colour)
    "kommune": (14, [35, 35, 35, 255]),
    "bydel": (12, [60, 60, 60, 255]),
    "base": (12, maps.hex_rgb(maps.BASE)),
    "receiving": (13, maps.hex_rgb(maps.RECEIVING)),
}
CHAR_EM = 0.62  # a sans-serif letter's width in font sizes, a little more than most fonts need
# where a place name may move from its point, in font sizes (x, y), nearest first
_SHIFTS = sorted(
    ((dx, dy) for dx in (-3.0, -1.5, 0.0, 1.5, 3.0) for dy in (-2.3, -1.15, 0.0, 1.15, 2.3)),
    key=lambda d: (d[0] / 2) ** 2 + d[1] ** 2,
)


class _Screen:
    """Where a longitude and latitude land on the chart at a view, in pixels (y down)."""

    def __init__(self, view: dict[str, float], width: int, height: int) -> None:
        self.scale = TILE * 2.0 ** view["zoom"]
        self.cx, self.cy = _mercator(view["longitude"], view["latitude"])
        self.w, self.h = width, height

    def px(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = _mercator(lon, lat)
        return (x - self.cx) * self.scale + self.w / 2, (y - self.cy) * self.scale + self.h / 2

    def lonlat(self, px: float, py: float) -> tuple[float, float]:
        x = (px - self.w / 2) / self.scale + self.cx
        y = (py - self.h / 2) / self.scale + self.cy
        lat = math.degrees(2 * math.atan(math.exp(math.pi * (1 - 2 * y))) - math.pi / 2)
        return x * 360.0 - 180.0, lat


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def text_box(x: float, y: float, text: str, size: int, anchor: str = "middle") -> Box:
    """The pixels a label takes (with its white outline), anchored at (x, y)."""
    w = len(text) * CHAR_EM * size + 4
    h = 1.25 * size
    x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
    return (x0, y - h / 2, x0 + w, y + h / 2)


def _free(box: Box, taken: list[Box], width: float = math.inf, height: float = math.inf) -> bool:
    """The box overlaps none taken and lies within the chart (``width`` × ``height``)."""
    inside = box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
    return inside and not any(
        box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken
    )


def labels(
    region: Region,
    view: str,
    units: list[str],
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> list[dict[str, Any]]:
    """Every label the view draws, none over another at the view's first zoom (as far as room
    allows). In order: the receiving facilities' numbers beside their rings; for the whole
    region the kommuner's names; the names of the bases with units (and how many) beside their
    circles, always; then the other place names (the bydeler for the whole region, the kommuner
    around a city), each at its zone's point or moved a little within its zone, and left out
    where there is no room. In the whole region's view a city's own facilities may give up
    their labels too: the city's view has room for them."""
    screen = _Screen(fit_view(view_choices(region)[view], width, height), width, height)
    f = region.facilities
    counts = {str(k): int(v) for k, v in pd.Series(units, dtype=object).value_counts().items()}
    taken: list[Box] = []
    rows: list[dict[str, Any]] = []

    def add(row: dict[str, Any], kind: str, offset: list[float], anchor: str) -> None:
        size, colour = _LABEL_STYLE[kind]
        rows.append(
            row | {"kind": kind, "size": size, "colour": colour, "offset": offset, "anchor": anchor}
        )

    def radius(units: int) -> float:
        return float(BASE_PX[0] + BASE_PX[1] * units)

    rec = f[f["kind"] == "receiving"].reset_index(drop=True)
    used = f[(f["kind"] == "base") & f["id"].isin(list(counts))]
    for r in [*rec.itertuples(), *used.itertuples()]:  # their symbols: no name goes over them
        x, y = screen.px(float(r.lon), float(r.lat))
        d = RING_PX if r.kind == "receiving" else radius(counts[r.id])
        taken.append((x - d, y - d, x + d, y + d))
    in_city = (
        {c for codes in maps.cities(region).values() for c in codes} if view == "region" else set()
    )
    for i, _, _ in maps.receiving_list(region):
        r = rec.loc[i - 1]
        x, y = screen.px(float(r.lon), float(r.lat))
        off = [RING_PX + 2.0, -RING_PX - 2.0]
        box = text_box(x + off[0], y + off[1], str(i), _LABEL_STYLE["receiving"][0])
        if r.zone_code in in_city:
            continue  # the city's rings sit too close together to number at this zoom
        taken.append(box)
        add({"text": str(i), "lon": float(r.lon), "lat": float(r.lat)}, "receiving", off, "middle")

    def base_names() -> None:
        for r in used.itertuples():
            text = f"{maps.short_name(r.name)} ({counts[r.id]})"
            x, y = screen.px(float(r.lon), float(r.lat))
            gap = radius(counts[r.id]) + 7.0
            size = _LABEL_STYLE["base"][0]
            places = [
                ([gap, 0.0], "start"),
                ([-gap, 0.0], "end"),
                ([0.0, -gap - 4.0], "middle"),
                ([0.0, gap + 4.0], "middle"),
            ]
            boxes = [text_box(x + o[0], y + o[1], text, size, a) for o, a in places]
            k = next((j for j, b in enumerate(boxes) if _free(b, taken, width, height)), None)
            if k is None and r.zone_code in in_city:
                continue
            if k is None:  # beyond the chart, or no free side: the side least in the way
                k = min(range(len(boxes)), key=lambda j: _covered(boxes[j], taken, width, height))
            taken.append(boxes[k])
            add({"text": text, "lon": float(r.lon), "lat": float(r.lat)}, "base", *places[k])

    shapes = dict(zip(region.zones["zone_code"], region.zones.geometry, strict=True))
    for kommune, codes in maps.cities(region).items():
        shapes[kommune] = shapely.union_all([shapes[c] for c in codes])
    west, north = screen.lonlat(0, 0)
    east, south = screen.lonlat(width, height)
    frame = shapely.box(west, south, east, north)

    def place(row: dict[str, Any]) -> None:
        size = _LABEL_STYLE[row["kind"]][0]
        x, y = screen.px(row["lon"], row["lat"])
        if not (0 < x < width and 0 < y < height):
            # a zone whose point lies beyond the chart: its name where its part in view is
            seen = shapes[row["zone"]].intersection(frame)
            if seen.is_empty:
                return
            part = max(getattr(seen, "geoms", [seen]), key=lambda g: g.area)
            point = (
                polylabel(part, tolerance=0.0005) if part.geom_type == "Polygon" else part.centroid
            )
            x, y = screen.px(float(point.x), float(point.y))
        for dx, dy in _SHIFTS:
            px, py = x + dx * size, y + dy * size
            box = text_box(px, py, row["text"], size)
            if not _free(box, taken, width, height):
                continue
            lon, lat = screen.lonlat(px, py)
            if (dx, dy) != (0.0, 0.0) and not shapes[row["zone"]].contains(shapely.Point(lon, lat)):
                continue
            taken.append(box)
            at = {"lon": round(lon, 5), "lat": round(lat, 5)}
            add(row | at, row["kind"], [0.0, 0.0], "middle")
            return

    # the smallest zones first, within each kind: they have the fewest places to go
    names = sorted(
        place_names(region, view),
        key=lambda r: (
            ["kommune", "bydel"].index(r["kind"]) * (1 if view == "region" else -1),
            shapes[r["zone"]].area,
        ),
    )
    first = [r for r in names if r["kind"] == "kommune"] if view == "region" else []
    for row in first:
        place(row)
    base_names()
    for row in names:
        if row not in first:
            place(row)
    return rows


def _covered(box: Box, taken: list[Box], width: float, height: float) -> float:
    """How much of a box lies over taken boxes, or inside the chart (for a label of a symbol
    beyond the chart, which should stay out of sight)."""
    over = sum(
        max(0.0, min(box[2], t[2]) - max(box[0], t[0]))
        * max(0.0, min(box[3], t[3]) - max(box[1], t[1]))
        for t in taken
    )
    seen = max(0.0, min(box[2], width) - max(box[0], 0.0)) * max(
        0.0, min(box[3], height) - max(box[1], 0.0)
    )
    return over + seen


def label_layer(rows: list[dict[str, Any]]) -> pdk.Layer:
    """The labels as one text layer, in the browser's own sans-serif font."""
    return pdk.Layer(
        "TextLayer",
        rows,
        id="labels",
        get_position=["lon", "lat"],
        get_text="text",
        get_size="size",
        size_units=_PX,
        get_color="colour",
        get_pixel_offset="offset",
        get_text_anchor="anchor",
        font_family=pdk.types.String(FONT),
        font_weight=600,
        # every letter the data holds (æ, ø, å, ü …) goes into the atlas, not only ASCII
        character_set=pdk.types.String("auto"),
        font_settings={"sdf": True},
        outline_width=4,
        outline_color=[255, 255, 255, 230],
        billboard=True,
        pickable=False,
    )


def _points(frame: pd.DataFrame, layer: str, radius: object, **style: Any) -> pdk.Layer:
    """Facilities as circles of a fixed size on screen, as the legend draws them."""
    return pdk.Layer(
        "ScatterplotLayer",
        frame.to_dict("records"),
        id=layer,
        get_position=["lon", "lat"],
        get_radius=radius,
        radius_units=_PX,
        line_width_units=_PX,
        pickable=False,
        **style,
    )


def _facility_layers(region: Region, run_units: list[str]) -> list[pdk.Layer]:
    f = region.facilities
    counts = pd.Series(run_units).value_counts() if run_units else pd.Series(dtype=int)
    bases = f[f["kind"] == "base"].assign(units=lambda d: d["id"].map(counts).fillna(0))
    used = bases[bases["units"] > 0].assign(radius=lambda d: BASE_PX[0] + BASE_PX[1] * d["units"])
    cols = ["id", "name", "lat", "lon"]
    return [
        _points(
            bases.loc[bases["units"] == 0, cols],
            "candidate_bases",
            CANDIDATE_PX,
            get_fill_color=maps.hex_rgb(maps.CANDIDATE, 230),
            get_line_color=maps.hex_rgb(maps.CANDIDATE_EDGE),
            stroked=True,
            get_line_width=1.5,
        ),
        _points(
            used[[*cols, "units", "radius"]],
            "bases",
            "radius",
            get_fill_color=maps.hex_rgb(maps.BASE, 240),
            get_line_color=[255, 255, 255, 255],
            stroked=True,
            get_line_width=1.5,
        ),
        _points(
            f.loc[f["kind"] == "receiving", cols],
            "receiving",
            RING_PX,
            filled=False,
            stroked=True,
            get_line_color=maps.hex_rgb(maps.RECEIVING),
            get_line_width=2.5,
        ),
    ]


def _catchment_lines(region: Region, figures: pd.DataFrame) -> pdk.Layer:
    centre = region.zones.to_crs(maps.METRIC_CRS).centroid.to_crs("EPSG:4326")
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


@cache
def _zone_json(region_name: str) -> str:
    """A region's zone outlines as GeoJSON text (they change only with its geodata)."""
    return str(load_region(region_name).zones[["zone_code", "geometry"]].to_json())


def _features(
    region: Region, figures: pd.DataFrame, column: str, cmap: str, shown: Any
) -> dict[str, Any]:
    shape = json.loads(_zone_json(region.name))  # a copy of its own, to fill in
    by_code = figures.set_index("zone_code")
    fill = dict(zip(figures["zone_code"], colours(figures[column], cmap), strict=True))
    for f in shape["features"]:
        code = f["properties"]["zone_code"]
        row = by_code.loc[code]
        value = row[column]
        f["properties"] = {
            "zone_code": code,
            "name": row["zone_name"],
            "value": shown(value),
            "fill": fill[code],
        }
    return shape


def _shown(metric: str, w: Words, names: dict[str, str]) -> Any:
    """A zone's value as the tooltip writes it, in the reader's numbers, with its unit."""

    def show(v: Any) -> str:
        if isinstance(v, str):
            return names.get(v, v)
        if v is None or not np.isfinite(float(v)):
            return "–"
        if metric == "share_health_first":
            return percent(float(v), w.lang)
        decimals = 0 if abs(float(v)) >= 100 else 1
        return f"{num(float(v), w, decimals)} {w(f'map_unit_{metric}')}"

    return show


def render(w: Words) -> None:
    st.header(w("page_map"))
    c = current()
    scenario = c.scenario or (c.run.scenario if c.run else None)
    if scenario is None:
        st.error(w("invalid") + "\n\n" + "\n\n".join(w.problem(p) for p in c.problems))
        return
    if scenario.region.kind != "geodata":
        st.info(w("map_needs_geodata"))
        return
    region = load_region(scenario.region.name)
    run: Run | None = c.run if c.fresh else None
    choices = view_choices(region)
    left, right = st.columns([3, 1])
    with right:
        metric = st.selectbox(
            w("map_metric"),
            list(METRICS),
            key=state.worded("map_metric"),
            format_func=lambda k: w(f"metric_{k}"),
        )
        view = st.radio(
            w("map_view"),
            list(choices),
            key=state.worded("map_view"),
            horizontal=True,
            format_func=lambda k: (
                w("map_view_region")
                if k == "region"
                else w("map_view_city", city=maps.KOMMUNE_NAMES.get(k, k))
            ),
        )
        names_on = st.checkbox(w("map_show_names"), key="map_names", value=True)
        lines = st.checkbox(w("show_catchments"), key="map_lines", value=False)
    column, cmap, needs = METRICS[metric]
    figures = zone_figures(run, scenario, region)
    if needs and (run is None or column not in figures):
        right.info(w("needs_run") if run is None or run.baseline else w("no_baseline"))
        metric = "demand"
        column, cmap = METRICS[metric][:2]
    units = [u.base for u in scenario.fleet.units] if scenario.units_are_active else []
    drawn = labels(region, view, units)
    receiving = {f: name for _, f, name in maps.receiving_list(region)}
    layers = [
        *base_layers(region),
        pdk.Layer(
            "GeoJsonLayer",
            _features(region, figures, column, cmap, _shown(metric, w, receiving)),
            id="zones",
            get_fill_color="properties.fill",
            get_line_color=[90, 90, 90, 200],
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
        ),
        _borders(region),
        road_layer(region),
        *([_catchment_lines(region, figures)] if lines else []),
        *_facility_layers(region, units),
        *([label_layer(drawn)] if names_on else []),
    ]
    # no base map: pydeck's documented way is map_provider=None (map_style=None would make
    # Streamlit fetch CARTO's style for its theme); a text tooltip, never HTML
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(**fit_view(choices[view])),
        map_provider=None,
        tooltip={"text": "{name}\n{value}"},
    )
    view_name = (
        w("map_view_region")
        if view == "region"
        else w("map_view_city", city=maps.KOMMUNE_NAMES.get(view, view))
    )
    alt = w(
        "map_alt",
        view=view_name,
        metric=w(f"metric_{metric}"),
        names=", ".join(r["text"] for r in drawn if r["kind"] in ("kommune", "bydel")),
    )
    with left:
        event = st.pydeck_chart(
            deck, on_select="rerun", key="zone_map", height=CHART_HEIGHT, alt=alt
        )
        st.markdown(
            legend(figures[column], cmap, w, metric, receiving, lines), unsafe_allow_html=True
        )
        st.caption(w("map_source"))
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
        _zone_card(w, figures.set_index("zone_code").loc[zone], region.place_names("receiving"))
    if run is not None:  # the day played back: what these figures mean, call by call
        playback.render(run, w)
    else:
        st.info(w("playback_needs_run"))


def _picked(event: Any) -> str | None:
    try:
        objects = event.selection["objects"].get("zones", [])
    except (AttributeError, KeyError, TypeError):
        return None
    if objects:
        props = objects[0].get("properties", objects[0])
        return str(props.get("zone_code"))
    return None


def _zone_card(w: Words, row: pd.Series, facilities: dict[str, str]) -> None:
    facility = str(row["facility"])
    items = [
        (w("population"), num(row["population"], w)),
        (w("catchment"), plain(facilities.get(facility, facility))),
        (w("metric_demand"), num(row["expected_calls"], w)),
        (w("metric_demand_rate"), num(row["expected_rate"], w, 1)),
    ]
    for key in ("share_health_first", "response_median", "response_p90", "police_hours_freed"):
        if key in row and pd.notna(row[key]):
            v = row[key]
            items.append(
                (
                    w(f"metric_{key}"),
                    percent(v, w.lang) if key.startswith("share") else num(v, w, 1),
                )
            )
    st.markdown(f"**{plain(row['zone_name'])}** ({plain(row.name)})")
    st.markdown("\n".join(f"- {label}: **{value}**" for label, value in items))


# -- the legend: our own words and numbers, as HTML -------------------------------------------


def scale_ticks(lo: float, hi: float, share: bool, w: Words) -> list[tuple[float, str]]:
    """Round values between ``lo`` and ``hi`` with their labels in the reader's numbers, and
    where each lies along the bar (0 to 1). Shares (0–1) are written in per cent."""
    f = 100.0 if share else 1.0
    a, b = lo * f, hi * f
    if not b - a > 1e-9 * max(1.0, abs(b)):  # the same everywhere (up to rounding)
        return [(0.5, _tick(a, 1 if abs(a) < 100 else 0, share, w))]
    values = [v for v in MaxNLocator(nbins=5).tick_values(a, b) if a - 1e-9 <= v <= b + 1e-9]
    decimals = next(
        (
            d
            for d in range(4)
            if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in values)
        ),
        4,
    )
    return [(float((v - a) / (b - a)), _tick(float(v), decimals, share, w)) for v in values]


def _tick(v: float, decimals: int, share: bool, w: Words) -> str:
    return f"{num(v, w, decimals)}\u00a0%" if share else num(v, w, decimals)


def _dot(fill: str, edge: str, radius: float, width: float = 1.5) -> str:
    d = 2 * radius
    return (
        f"<span style='display:inline-block;width:{d}px;height:{d}px;border-radius:50%;"
        f"background:{fill};border:{width}px solid {edge};box-sizing:border-box;"
        f"vertical-align:middle;margin-right:4px'></span>"
    )


def _swatch(fill: str, edge: str = "transparent") -> str:
    return (
        f"<span style='display:inline-block;width:16px;height:11px;background:{fill};"
        f"border:1px solid {edge};vertical-align:middle;margin-right:4px'></span>"
    )


def _line(colour: str, height: int) -> str:
    return (
        f"<span style='display:inline-block;width:20px;height:{height}px;background:{colour};"
        f"vertical-align:middle;margin-right:4px'></span>"
    )


def legend(
    values: pd.Series,
    cmap: str,
    w: Words,
    metric: str = "demand",
    receiving: dict[str, str] | None = None,
    lines: bool = False,
) -> str:
    """The map's key, made only of our own words and numbers (names escaped): a titled colour
    bar (or the categories' colours), then each symbol as the map draws it."""
    e = html.escape
    receiving = receiving or {}
    parts = [
        f"<div style='font-size:0.85em;line-height:1.5' aria-label='{e(w(f'map_scale_{metric}'))}'>"
        f"<div style='font-weight:600;margin-bottom:2px'>{e(w(f'map_scale_{metric}'))}</div>"
    ]
    if not pd.api.types.is_numeric_dtype(values):
        cm = mpl.colormaps[cmap]
        cats = sorted(values.dropna().unique())
        parts.append(
            "<div>"
            + " ".join(
                f"<span style='white-space:nowrap;margin-right:10px'>"
                f"{_swatch(mpl.colors.to_hex(cm(i % cm.N)), '#777')}{e(receiving.get(c, str(c)))}"
                f"</span>"
                for i, c in enumerate(cats)
            )
            + "</div>"
        )
    else:
        v = values.to_numpy(dtype=float)
        if np.isfinite(v).any():
            cm = mpl.colormaps[cmap]
            stops = ", ".join(mpl.colors.to_hex(cm(x)) for x in np.linspace(0, 1, 7))
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
            ticks = scale_ticks(lo, hi, metric == "share_health_first", w)
            marks = "".join(
                f"<span style='position:absolute;left:{100 * x:.2f}%;"
                f"transform:translateX(-50%);white-space:nowrap'>{e(label)}</span>"
                for x, label in ticks
            )
            parts.append(
                f"<div style='margin:0 18px'><div style='height:12px;border-radius:3px;"
                f"background:linear-gradient(to right, {stops})'></div>"
                f"<div style='position:relative;height:1.4em'>{marks}</div></div>"
            )
    symbols = [
        f"{_dot(maps.BASE, '#ffffff', BASE_PX[0] + BASE_PX[1])}{e(w('map_legend_bases'))}",
        f"{_dot(maps.CANDIDATE, maps.CANDIDATE_EDGE, CANDIDATE_PX)}{e(w('map_legend_candidates'))}",
        f"{_dot('transparent', maps.RECEIVING, RING_PX, 2.5)}{e(w('map_legend_receiving'))}",
        f"{_line(maps.ROAD, 3)}{e(w('map_legend_roads'))}",
        f"{_swatch(maps.WATER)}{e(w('map_legend_water'))}",
        f"{_swatch(maps.OUTSIDE, '#999')}{e(w('map_legend_outside'))}",
    ]
    if lines:
        symbols.append(f"{_line('#781e1e', 2)}{e(w('map_legend_lines'))}")
    if values.isna().any():
        symbols.append(f"{_swatch(mpl.colors.to_hex(NO_DATA), '#777')}{e(w('map_legend_no_data'))}")
    parts.append(
        "<div style='margin-top:4px'>"
        + "".join(f"<span style='white-space:nowrap;margin-right:14px'>{s}</span>" for s in symbols)
        + "</div>"
    )
    if receiving:
        listing = " · ".join(f"{i}&nbsp;{e(name)}" for i, name in enumerate(receiving.values(), 1))
        parts.append(
            f"<div style='color:{maps.RECEIVING}'>{e(w('map_receiving_list'))}: {listing}</div>"
        )
    parts.append("</div>")
    return "".join(parts)
