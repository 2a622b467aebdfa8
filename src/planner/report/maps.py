"""Maps of a region drawn from the project's own geodata, with no tile server and no network.

The base map is made of what ``geodata/<region>/`` holds: the zones are land polygons clipped to
the coastline, so the sea is what lies between them (the part of their convex hull that is not
land and is bounded mostly by coast: the Oslofjord, not a neighbouring county); the main roads
are the road graph's edges; place names are the zones' names (kommuner, and bydeler where a
city has them). The dashboard's Map page (deck.gl) and the report's map (matplotlib, here) take
the same pieces from this module, so both show the same water, roads, names and symbols.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox, ScaledTranslation
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from planner.geo.region import Region
from planner.store.files import write_atomically

METRIC_CRS = "EPSG:25833"  # UTM 33: metres, as the zones' areas and the maps' axes need
# colours shared by the dashboard's map and the report's
WATER = "#c9def0"
OUTSIDE = "#ecebe6"  # land beyond the region, or sea beyond its coast: not in our data
ROAD = "#707070"
EDGE = "#555555"
NO_DATA = "#dddddd"
BASE = "#1f3f8f"  # a base with units
CANDIDATE = "#ffffff"  # a candidate base without units (grey edge)
CANDIDATE_EDGE = "#5a5a5a"
RECEIVING = "#c0392b"
POLICE = "#222222"
# line widths by road class: points in the report, pixels on the dashboard
ROAD_POINTS = {"motorway": 1.3, "trunk": 1.0, "primary": 0.8, "secondary": 0.6, "urban": 0.45}
ROAD_PIXELS = {"motorway": 3.0, "trunk": 2.5, "primary": 2.0, "secondary": 1.5, "urban": 1.0}
# the kommuner that the zones split into bydeler, by number (a bydel zone knows only its number)
KOMMUNE_NAMES = {"0301": "Oslo", "4601": "Bergen"}
_HALO = [pe.withStroke(linewidth=2.2, foreground="white")]


def hex_rgb(colour: str, alpha: int = 255) -> list[int]:
    """'#1f3f8f' -> [31, 63, 143, alpha], as deck.gl takes colours."""
    r, g, b = (round(255 * c) for c in matplotlib.colors.to_rgb(colour))
    return [r, g, b, alpha]


# -- the base map's pieces, in longitude and latitude ------------------------------------------

_WATER: dict[tuple[str, int], BaseGeometry] = {}


def water(region: Region) -> BaseGeometry:
    """The sea inside the region's convex hull (EPSG:4326): the pieces of the hull that are not
    land, bigger than half a km², whose edge is mostly the zones' coastline, at most 15 % of it
    on the hull. The Oslofjord (6 %: 20 km of mouth, 314 km of coast) counts; the notches where
    a neighbouring county's land meets the region (24–40 %: smooth borders) do not."""
    key = (region.name, id(region.zones))
    if key not in _WATER:
        land = region.zones.to_crs(METRIC_CRS).geometry.union_all()
        hull = land.convex_hull
        rim = hull.boundary.buffer(5.0)
        rest = hull.difference(land)
        parts = [
            p
            for p in getattr(rest, "geoms", [rest])
            if p.area > 0.5e6 and p.boundary.intersection(rim).length <= 0.15 * p.boundary.length
        ]
        sea = gpd.GeoSeries([shapely.union_all(parts)], crs=METRIC_CRS).to_crs("EPSG:4326")
        _WATER[key] = shapely.set_precision(sea.iloc[0], 1e-5)
    return _WATER[key]


def road_segments(region: Region) -> pd.DataFrame:
    """One row per edge of the road graph, its two ends as lon/lat and its road class."""
    pos = region.nodes.set_index("id")[["lon", "lat"]].astype(float)
    a = pos.loc[region.edges["a"]].to_numpy()
    b = pos.loc[region.edges["b"]].to_numpy()
    return pd.DataFrame(
        {
            "road": region.edges["road"].astype(str).to_numpy(),
            "road_class": region.edges["road_class"].astype(str).to_numpy(),
            "from": [[float(x), float(y)] for x, y in a],
            "to": [[float(x), float(y)] for x, y in b],
        }
    )


def _label_point(geom: BaseGeometry) -> BaseGeometry:
    """Where a name reads best: the pole of inaccessibility of the largest part."""
    part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    return polylabel(part, tolerance=50.0)


def zone_labels(region: Region) -> pd.DataFrame:
    """Every zone's name at a point well inside it: zone_code, name, kind, kommune, lon, lat."""
    zones = region.zones.to_crs(METRIC_CRS)
    points = gpd.GeoSeries([_label_point(g) for g in zones.geometry], crs=METRIC_CRS)
    points = points.to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "zone_code": zones["zone_code"].to_numpy(),
            "name": zones["zone_name"].astype(str).to_numpy(),
            "kind": zones["kind"].astype(str).to_numpy(),
            "kommune": zones["kommune"].astype(str).to_numpy(),
            "lon": points.x.round(5).to_numpy(),
            "lat": points.y.round(5).to_numpy(),
        }
    )


def cities(region: Region) -> dict[str, list[str]]:
    """Kommuner split into bydeler: kommune number -> its zones' codes (Oslo: 0301 -> 030101…)."""
    z = region.zones
    out: dict[str, list[str]] = {}
    for code, kommune in zip(z["zone_code"], z["kommune"], strict=True):
        if str(code) != str(kommune) and str(code).startswith(str(kommune)):
            out.setdefault(str(kommune), []).append(str(code))
    return out


def kommune_labels(region: Region) -> pd.DataFrame:
    """A name per kommune: a kommune zone's own, and a city's (Oslo) well inside its bydeler."""
    labels = zone_labels(region)
    rows = labels[labels["kind"] != "bydel"]
    extra = []
    zones = region.zones.to_crs(METRIC_CRS)
    for kommune, codes in cities(region).items():
        whole = zones[zones["zone_code"].isin(codes)].geometry.union_all()
        p = gpd.GeoSeries([_label_point(whole)], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
        extra.append(
            {
                "zone_code": kommune,
                "name": KOMMUNE_NAMES.get(kommune, kommune),
                "kind": "kommune",
                "kommune": kommune,
                "lon": round(float(p.x), 5),
                "lat": round(float(p.y), 5),
            }
        )
    return pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)


def short_name(name: object, fallback: str | None = None, limit: int | None = None) -> str:
    """A facility's name as a map label: what comes before a bracket, comma, colon or second
    name ('Follo legevakt, Ski sykehus (Ahus Ski)' -> 'Follo legevakt'); ``fallback`` for a
    missing name (default: the name as text); cut at a word to ``limit`` characters with an
    ellipsis."""
    if fallback is not None and (not isinstance(name, str) or not name.strip()):
        return fallback
    s = str(name)
    for cut in (" (", ", ", " / ", ": ", " and ", " og ", " - "):
        s = s.split(cut)[0]
    s = s.strip() or (fallback if fallback is not None else str(name))
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rsplit(" ", 1)[0].rstrip() + "…"
    return s


def settled(region: Region, codes: Sequence[str], density: float = 100.0) -> list[str]:
    """The zones among ``codes`` where people live: ``density`` or more inhabitants per km² (of
    Oslo's bydeler all but Marka, the forest, with 1 681 people on 170 km²); all if none is."""
    z = region.zones[region.zones["zone_code"].isin(codes)].to_crs(METRIC_CRS)
    dense = z[z["population"] / (z.geometry.area / 1e6) >= density]
    return list((dense if len(dense) else z)["zone_code"])


def bounds(region: Region, codes: Sequence[str] | None = None) -> tuple[float, ...]:
    """(west, south, east, north) in degrees of the zones (all, or the given codes)."""
    z = region.zones if codes is None else region.zones[region.zones["zone_code"].isin(codes)]
    return tuple(float(v) for v in z.total_bounds)


# -- the static map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shading:
    """What colours the zones: a value per zone code, its colour scale and its titled bar."""

    values: pd.Series  # by zone_code; NaN: no data
    cmap: str
    norm: Normalize
    title: str  # the metric's name and unit
    ticks: Sequence[float]
    tick_label: Callable[[float], str]


def _words(lang: str) -> dict[str, Any]:
    from planner.report.document import text

    return text(lang)


def _axes_map(
    ax: Any,
    region: Region,
    shading: Shading,
    units: pd.Series,
    kinds: Sequence[str],
    extent: tuple[float, ...],
    names: str,
    label_inside: Callable[[float, float], bool],
) -> None:
    """One panel: water under the land, zones shaded, roads, facilities, names.

    ``extent`` is (x0, y0, x1, y1) in metres; ``names`` "kommuner" or "bydeler"; facilities get a
    name where ``label_inside(x, y)`` holds (so the region panel leaves Oslo's to its own panel).
    """
    ax.set_facecolor(OUTSIDE)
    sea = gpd.GeoSeries([water(region)], crs="EPSG:4326").to_crs(METRIC_CRS)
    sea.plot(ax=ax, color=WATER, linewidth=0, zorder=0)
    zones = region.zones.to_crs(METRIC_CRS)
    v = shading.values.reindex(zones["zone_code"]).to_numpy(dtype=float)
    cm = matplotlib.colormaps[shading.cmap]
    face = [
        cm(shading.norm(x)) if np.isfinite(x) else matplotlib.colors.to_rgba(NO_DATA) for x in v
    ]
    zones.plot(ax=ax, color=face, edgecolor=EDGE, linewidth=0.35, zorder=1)
    # kommune borders a little stronger than bydel borders
    kommuner = zones.dissolve(by="kommune")
    kommuner.boundary.plot(ax=ax, color="#444444", linewidth=0.6, zorder=1.5)
    seg = road_segments(region)
    ends = gpd.GeoSeries(
        gpd.points_from_xy(
            [p[0] for p in seg["from"]] + [p[0] for p in seg["to"]],
            [p[1] for p in seg["from"]] + [p[1] for p in seg["to"]],
        ),
        crs="EPSG:4326",
    ).to_crs(METRIC_CRS)
    n = len(seg)
    xy = np.column_stack([ends.x, ends.y])
    lines = np.stack([xy[:n], xy[n:]], axis=1)
    widths = [ROAD_POINTS.get(c, 0.5) for c in seg["road_class"]]
    ax.add_collection(
        LineCollection(
            list(lines), colors=ROAD, linewidths=widths, alpha=0.75, zorder=2, capstyle="round"
        )
    )
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_edgecolor("#999999")
        side.set_linewidth(0.6)
    placed, marks, bases_named = _facilities(ax, region, units, kinds, label_inside)
    if names == "bydeler":
        # a name where its zone shows in this frame (Marka's forest is mostly cut off)
        box = shapely.box(*extent)
        labels = zone_labels(region)
        pts = gpd.GeoSeries(
            [
                _label_point(g.intersection(box)) if g.intersects(box) else g.centroid
                for g in zones.geometry
            ],
            crs=METRIC_CRS,
        )
    else:
        labels = kommune_labels(region)
        pts = gpd.GeoSeries(gpd.points_from_xy(labels["lon"], labels["lat"]), crs="EPSG:4326")
        pts = pts.to_crs(METRIC_CRS)
    mx, my = 0.07 * (extent[2] - extent[0]), 0.03 * (extent[3] - extent[1])
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in placed]
    for x, y, size in marks:  # a symbol's box, in display pixels
        cx, cy = ax.transData.transform((x, y))
        half = np.sqrt(size) / 2 * ax.figure.dpi / 72
        taken.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))
    if names == "bydeler":  # a city's bases are named first, the bydeler around them
        for p, text in bases_named:
            taken.append(_name_base(ax, renderer, taken, p, text))
    shapes = zones.set_index("zone_code").geometry
    for code, name, kind, p in zip(
        labels["zone_code"], labels["name"], labels["kind"], pts, strict=True
    ):
        small = names == "bydeler" and kind == "bydel"
        inside = extent[0] + mx < p.x < extent[2] - mx and extent[1] + my < p.y < extent[3] - my
        if not small and not inside:
            continue  # a neighbour's name that the frame would cut
        zone = shapes[code] if code in shapes.index else zones[zones["kommune"] == code].union_all()
        zone = zone.intersection(shapely.box(*extent))
        taken.append(
            _place(ax, renderer, taken, zone, p.x, p.y, name, 5.8 if small else 6.4, small)
        )
    if names != "bydeler":  # the region's kommuner are named first, its bases where room is
        for p, text in bases_named:
            taken.append(_name_base(ax, renderer, taken, p, text))


def _name_base(ax: Any, renderer: Any, taken: list[Bbox], p: Any, text: str) -> Bbox:
    """A base's name beside its circle (below or above, right, left or centred, a little
    further out last): the first place where it covers no other name or symbol and stays in
    the panel, else the least covered."""
    best: tuple[float, Any, Bbox] | None = None
    frame = ax.get_window_extent(renderer)
    for dx, dy in ((8, -5.5), (8, 5.5), (-8, -5.5), (-8, 5.5), (0, -9), (0, 9), (8, -12), (8, 12)):
        label = _name(ax, p, text, BASE, dx, dy)
        label.set_horizontalalignment("right" if dx < 0 else "left" if dx > 0 else "center")
        box = label.get_window_extent(renderer)
        outside = box.width * box.height - _overlap(box, frame)  # cut off by the panel's edge
        cover = sum(_overlap(box, other) for other in taken) + 10 * outside
        if best is None or cover < best[0]:
            if best is not None:
                best[1].remove()
            best = (cover, label, box)
        else:
            label.remove()
        if cover == 0:
            break
    assert best is not None
    return best[2]


def _place(
    ax: Any,
    renderer: Any,
    taken: list[Bbox],
    zone: BaseGeometry,
    x: float,
    y: float,
    name: str,
    size: float,
    thin: bool,
) -> Bbox:
    """A zone's name at its point or, where a facility's symbol or name or another zone's name
    takes that place, at the nearest free place still inside the zone; else the least covered."""
    best: tuple[float, Any, Bbox] | None = None
    to_data = ax.transData.inverted()
    cx, cy = ax.transData.transform((x, y))
    em = size * ax.figure.dpi / 72  # the font size in display pixels
    for dx, dy in _SHIFTS:
        if (dx, dy) != (0.0, 0.0):
            px, py = to_data.transform((cx + dx * em, cy + dy * em))
            if not zone.contains(shapely.Point(px, py)):
                continue
        text = ax.text(
            x,
            y,
            name,
            fontsize=size,
            fontweight="normal" if thin else "bold",
            color="#333333",
            ha="center",
            va="center",
            zorder=5,
            clip_on=True,
            path_effects=_HALO,
            transform=ax.transData
            + ScaledTranslation(dx * size / 72, dy * size / 72, ax.figure.dpi_scale_trans),
        )
        box = text.get_window_extent(renderer)
        cover = sum(_overlap(box, other) for other in taken)
        if best is None or cover < best[0]:
            if best is not None:
                best[1].remove()
            best = (cover, text, box)
        else:
            text.remove()
        if cover == 0:
            break
    assert best is not None
    return best[2]


# where a name may move from its zone's point, in multiples of its font size, nearest first
_SHIFTS = sorted(
    ((dx, dy) for dx in np.arange(-6.0, 6.5, 1.5) for dy in np.arange(-3.45, 3.5, 1.15)),
    key=lambda d: (d[0] / 2) ** 2 + d[1] ** 2,
)


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def _facilities(
    ax: Any,
    region: Region,
    units: pd.Series,
    kinds: Sequence[str],
    label_inside: Callable[[float, float], bool],
) -> tuple[list[Any], list[tuple[float, float, float]], list[tuple[Any, str]]]:
    """Draw the facilities; return the numbers drawn, the symbols (x, y, size in points²) that
    names should keep clear of, and the bases with units to name (point, name)."""
    fac = facility_points(region.facilities)
    names: list[Any] = []
    marks: list[tuple[float, float, float]] = []
    bases_named: list[tuple[Any, str]] = []
    if "police" in kinds:
        sub = fac[fac["kind"] == "police"]
        ax.scatter(sub.geometry.x, sub.geometry.y, marker="s", s=14, c=POLICE, zorder=3)
    bases = fac[fac["kind"] == "base"]
    n = bases["id"].map(units).fillna(0).to_numpy(int)
    if "base" in kinds:
        idle = bases[n == 0]
        ax.scatter(
            idle.geometry.x,
            idle.geometry.y,
            s=16,
            c=CANDIDATE,
            edgecolors=CANDIDATE_EDGE,
            linewidths=0.7,
            zorder=3,
        )
    used = bases[n > 0]
    counts = n[n > 0]
    sizes = base_size(counts)
    ax.scatter(
        used.geometry.x,
        used.geometry.y,
        s=sizes,
        c=BASE,
        edgecolors="white",
        linewidths=0.8,
        zorder=6,
    )
    for name, p, k, size in zip(used["name"], used.geometry, counts, sizes, strict=True):
        ax.text(
            p.x,
            p.y,
            str(k),
            color="white",
            ha="center",
            va="center",
            fontsize=5.5,
            zorder=6.1,
            clip_on=True,
        )
        marks.append((p.x, p.y, float(size)))
        if label_inside(p.x, p.y):
            bases_named.append((p, short_name(name)))
    if "receiving" in kinds:
        # a red ring around the site (a hospital's site often holds a base too), its number
        # beside it; the legend lists the numbers' names
        rec = fac[fac["kind"] == "receiving"]
        ring = float(base_size(np.array([max(counts, default=0)]))[0] + 60)
        # where another panel numbers them, the rings would only crowd this one
        own = np.array([label_inside(p.x, p.y) for p in rec.geometry], dtype=bool)
        ax.scatter(
            rec.geometry.x[own],
            rec.geometry.y[own],
            s=ring,
            facecolors="none",
            edgecolors=RECEIVING,
            linewidths=1.4,
            zorder=6.2,
        )
        for (number, _, _), p in zip(receiving_list(region), rec.geometry, strict=True):
            if not label_inside(p.x, p.y):
                continue  # drawn and numbered in the other panel
            marks.append((p.x, p.y, ring))
            names.append(
                ax.annotate(
                    str(number),
                    (p.x, p.y),
                    xytext=(5.5, 4.5),
                    textcoords="offset points",
                    fontsize=6,
                    fontweight="bold",
                    color=RECEIVING,
                    ha="center",
                    va="center",
                    zorder=7,
                    annotation_clip=True,
                    path_effects=_HALO,
                )
            )
    return names, marks, bases_named


def base_size(units: np.ndarray) -> np.ndarray:
    """A base's circle in the report (points²): bigger with more units."""
    return np.asarray(50 + 30 * units, dtype=float)


def receiving_list(region: Region) -> list[tuple[int, str, str]]:
    """The receiving facilities numbered as the maps number them: (number, id, name)."""
    rec = region.facilities[region.facilities["kind"] == "receiving"]
    return [
        (i, str(f), str(name).split(" (")[0].split(" - ")[0].strip())
        for i, (f, name) in enumerate(zip(rec["id"], rec["name"], strict=True), start=1)
    ]


def _name(ax: Any, p: Any, text: str, colour: str, dx: float, dy: float) -> Any:
    return ax.annotate(
        text,
        (p.x, p.y),
        xytext=(dx, dy),
        textcoords="offset points",
        fontsize=5.4,
        color=colour,
        ha="left",
        va="center",
        zorder=7,
        annotation_clip=True,
        path_effects=_HALO,
    )


def _padded(b: Sequence[float], pad: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = b
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def city_extent(region: Region, codes: Sequence[str], aspect: float) -> tuple[float, ...]:
    """The city panel's frame in metres: its settled bydeler (``settled``: Marka's forest is cut,
    not the city), padded, widened to ``aspect`` (width / height)."""
    zones = region.zones.to_crs(METRIC_CRS)
    x0, y0, x1, y1 = _padded(
        zones[zones["zone_code"].isin(settled(region, codes))].total_bounds, 0.04
    )
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    w, h = max(w, h * aspect), max(h, w / aspect)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def region_figure(
    region: Region,
    shading: Shading,
    lang: str = "nb",
    units: Sequence[str] = (),
    kinds: Sequence[str] = ("receiving",),
    title: str = "",
) -> Figure:
    """The region beside its city's bydeler (Oslo), zones shaded, on the base map; a titled
    colour bar, a legend of the symbols drawn, a title and a source line in ``lang``."""
    t = _words(lang)
    counts = pd.Series(list(units), dtype=object).value_counts()
    zones = region.zones.to_crs(METRIC_CRS)
    # the zones, and the receiving facilities just beyond them (Drammen, Reinsvoll)
    rec = facility_points(region.facilities[region.facilities["kind"] == "receiving"])
    x0, y0, x1, y1 = zones.total_bounds
    if "receiving" in kinds and len(rec):
        x0, y0 = min(x0, rec.geometry.x.min() - 3000), min(y0, rec.geometry.y.min() - 3000)
        x1, y1 = max(x1, rec.geometry.x.max() + 3000), max(y1, rec.geometry.y.max() + 3000)
    region_extent = _padded((x0, y0, x1, y1), 0.02)
    city = max(cities(region).items(), key=lambda kv: len(kv[1]), default=None)
    fig_w, fig_h = 7.2, 6.5
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=130)
    top, bottom = 0.915, 0.215  # the panels' band, in figure fractions
    band = (top - bottom) * fig_h
    w0, h0 = region_extent[2] - region_extent[0], region_extent[3] - region_extent[1]
    left_w = min(band * w0 / h0 / fig_w, 0.98 if city is None else 0.6)
    ax = fig.add_axes((0.01, bottom, left_w, top - bottom))
    frame: tuple[float, ...] | None = None
    if city is not None:
        right = 0.01 + left_w + 0.015
        frame = city_extent(region, city[1], (0.99 - right) * fig_w / band)

    def in_city(x: float, y: float) -> bool:
        return frame is not None and frame[0] <= x <= frame[2] and frame[1] <= y <= frame[3]

    _axes_map(
        ax,
        region,
        shading,
        counts,
        kinds,
        region_extent,
        "kommuner",
        lambda x, y: not in_city(x, y),
    )
    ax.set_title(t["map_region_panel"], fontsize=7.5, loc="left")
    if city is not None and frame is not None:
        x0, y0, x1, y1 = frame
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#222222", lw=0.7, zorder=6)
        )
        inset = fig.add_axes((right, bottom, 0.99 - right, top - bottom))
        _axes_map(inset, region, shading, counts, kinds, frame, "bydeler", in_city)
        inset.set_title(
            t["map_city_panel"].format(city=KOMMUNE_NAMES.get(city[0], city[0])),
            fontsize=7.5,
            loc="left",
        )
    fig.suptitle(title, fontsize=10, x=0.01, y=0.985, ha="left")
    # the colour bar, titled with the metric and its unit, ticks as the reader writes numbers
    cax = fig.add_axes((0.03, 0.115, 0.40, 0.022))
    bar = fig.colorbar(
        plt.cm.ScalarMappable(norm=shading.norm, cmap=shading.cmap),
        cax=cax,
        orientation="horizontal",
    )
    bar.set_ticks(list(shading.ticks))
    bar.set_ticklabels([shading.tick_label(v) for v in shading.ticks])
    bar.minorticks_off()
    cax.tick_params(labelsize=6.5)
    cax.set_title(shading.title, fontsize=7.5, loc="left")
    fig.legend(
        handles=_legend_handles(t, counts, kinds, shading),
        loc="upper left",
        bbox_to_anchor=(0.47, 0.18),
        fontsize=6.3,
        frameon=False,
        ncol=2,
        handlelength=1.5,
        columnspacing=1.0,
        labelspacing=0.6,
    )
    if "receiving" in kinds:
        listing = " · ".join(f"{i} {name}" for i, _, name in receiving_list(region))
        fig.text(
            0.01,
            0.048,
            f"{t['map_receiving_list']}: {listing}",
            fontsize=5.8,
            color=RECEIVING,
            ha="left",
            va="bottom",
            wrap=True,
        )
    fig.text(0.01, 0.012, t["map_source"], fontsize=5.5, color="#555555", ha="left", wrap=True)
    return fig


def _legend_handles(
    t: dict[str, Any], counts: pd.Series, kinds: Sequence[str], shading: Shading
) -> list[Any]:
    h: list[Any] = []
    if len(counts):
        h.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=8,
                markerfacecolor=BASE,
                markeredgecolor="white",
                label=t["map_bases"],
            )
        )
    if "base" in kinds:
        h.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=4.5,
                markerfacecolor=CANDIDATE,
                markeredgecolor=CANDIDATE_EDGE,
                label=t["map_candidates"],
            )
        )
    if "receiving" in kinds:
        h.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=8,
                markerfacecolor="none",
                markeredgecolor=RECEIVING,
                markeredgewidth=1.4,
                label=t["map_receiving"],
            )
        )
    if "police" in kinds:
        h.append(
            Line2D([], [], marker="s", ls="", markersize=4, color=POLICE, label=t["map_police"])
        )
    h.append(Line2D([], [], color=ROAD, lw=1.2, label=t["map_roads"]))
    h.append(Patch(facecolor=WATER, edgecolor="none", label=t["map_water"]))
    h.append(Patch(facecolor=OUTSIDE, edgecolor="#999999", lw=0.4, label=t["map_outside"]))
    if shading.values.isna().any():
        h.append(Patch(facecolor=NO_DATA, edgecolor=EDGE, lw=0.4, label=t["map_no_data"]))
    return h


def facility_points(facilities: pd.DataFrame) -> gpd.GeoDataFrame:
    """Facilities (with lat, lon) as points in the maps' metric projection (UTM 33)."""
    return gpd.GeoDataFrame(
        facilities,
        geometry=gpd.points_from_xy(facilities["lon"], facilities["lat"]),
        crs="EPSG:4326",
    ).to_crs(METRIC_CRS)


def share_map(
    region: Region, zone_shares: pd.DataFrame, units: Sequence[str], lang: str = "nb"
) -> Figure:
    """The report's map: each zone's share of eligible calls met health-first (0–100 %), the
    bases with their units, the receiving facilities."""
    from planner.words import number

    t = _words(lang)
    values = zone_shares.set_index("zone")["share_health_first"].astype(float)
    shading = Shading(
        values=values,
        cmap="RdYlGn",
        norm=Normalize(0.0, 1.0),
        title=t["map_scale_share"],
        ticks=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        tick_label=lambda v: f"{number(v * 100, lang)} %",
    )
    return region_figure(region, shading, lang, units, ("receiving",), t["map_title"])


def density_shading(region: Region, lang: str = "nb") -> Shading:
    """Inhabitants per km², on a log scale from 1 (or the least dense zone) to the densest."""
    from planner.words import number

    t = _words(lang)
    zones = region.zones.to_crs(METRIC_CRS)
    density = pd.Series(
        zones["population"].to_numpy(float) / (zones.geometry.area.to_numpy() / 1e6),
        index=zones["zone_code"].to_numpy(),
    )
    lo, hi = max(float(density.min()), 1.0), float(density.max())
    ticks = [10.0**k for k in range(0, 7) if lo <= 10.0**k <= hi]
    return Shading(
        values=density,
        cmap="YlOrBr",
        norm=LogNorm(vmin=lo, vmax=hi),
        title=t["map_scale_density"],
        ticks=ticks,
        tick_label=lambda v: number(v, lang),
    )


def draw_region(region: Region, out: Path, title: str | None = None, lang: str = "nb") -> None:
    """The region's zones shaded by population density with every facility (``planner geodata
    map``), written whole or not at all."""
    from planner.words import number

    t = _words(lang)
    heading = title or t["map_density_title"].format(
        zones=number(len(region.zones), lang), people=number(region.population, lang)
    )
    fig = region_figure(
        region, density_shading(region, lang), lang, (), ("receiving", "base", "police"), heading
    )
    try:
        write_atomically(out, lambda p: fig.savefig(p, format=out.suffix.lstrip(".") or "png"))
    finally:
        plt.close(fig)
