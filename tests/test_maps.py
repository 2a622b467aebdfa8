"""The maps: the dashboard's deck.gl map and the report's static map, drawn from the project's
own geodata with no tile server. Figures are checked against the geodata files read here
independently (csv, pyproj), not against the functions that draw them."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
import shapely.geometry
from PIL import Image
from pyproj import Transformer
from shapely.geometry import Point

from planner.dashboard.pages import map_page
from planner.dashboard.text import words
from planner.geo.geodata import geodata_dir, load_region
from planner.report import maps
from planner.report.document import png

REGION = "oslo_akershus"
SEA = (10.62, 59.62)  # the Oslofjord off Drøbak, between Asker and Frogn: no zone holds it
BUNNEFJORDEN = (10.75, 59.85)  # between Nesodden and Oslo
OSTFOLD = (11.20, 59.55)  # land of Østfold (Indre Østfold), beyond the region and its coast
CHART = (map_page.CHART_WIDTH, map_page.CHART_HEIGHT)
EARTH = 2 * math.pi * 6378137.0  # the web-mercator world's width in metres (EPSG:3857)


@pytest.fixture(scope="module")
def region():
    return load_region(REGION)


def _zone_rows() -> list[dict[str, object]]:
    raw = json.loads((geodata_dir() / REGION / "zones.geojson").read_text("utf-8"))
    return [f["properties"] for f in raw["features"]]


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (geodata_dir() / REGION / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# -- the view: fitted to the region, and to Oslo's bydeler -------------------------------------

_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def _seen(view: dict[str, float], width: int, height: int, pad: float) -> tuple[float, ...]:
    """The web-mercator metres a deck.gl view shows inside ``pad`` px of its edges."""
    cx, cy = _MERC.transform(view["longitude"], view["latitude"])
    per_px = EARTH / (512 * 2 ** view["zoom"])
    return (
        cx - (width / 2 - pad) * per_px,
        cy - (height / 2 - pad) * per_px,
        cx + (width / 2 - pad) * per_px,
        cy + (height / 2 - pad) * per_px,
    )


def _holds(outer: tuple[float, ...], inner: tuple[float, ...]) -> bool:
    eps = 1e-3  # a millimetre
    return (
        outer[0] <= inner[0] + eps
        and outer[1] <= inner[1] + eps
        and outer[2] >= inner[2] - eps
        and outer[3] >= inner[3] - eps
    )


def _metres(bounds: np.ndarray) -> tuple[float, ...]:
    x0, y0 = _MERC.transform(bounds[0], bounds[1])
    x1, y1 = _MERC.transform(bounds[2], bounds[3])
    return (x0, y0, x1, y1)


@pytest.mark.parametrize("size", [CHART, (1200, 500), (400, 900)])
def test_the_region_view_holds_every_zone_at_the_largest_zoom_that_does(region, size) -> None:
    w, h = size
    view = map_page.fit_view(map_page.view_choices(region)["region"], w, h, pad=16)
    zones = region.zones
    for geom in zones.geometry:
        assert _holds(_seen(view, w, h, 16), _metres(np.array(geom.bounds)))
    # a hundredth of a zoom level more and some zone reaches into the margin
    closer = view | {"zoom": view["zoom"] + 0.01}
    assert not _holds(_seen(closer, w, h, 16), _metres(zones.total_bounds))
    assert 6.5 < view["zoom"] < 9.5  # not the old fixed 8.4: Oslo and Akershus at this size


def test_the_oslo_view_holds_every_settled_bydel_and_shows_part_of_every_bydel(region) -> None:
    choices = map_page.view_choices(region)
    assert list(choices) == ["region", "0301"]  # Oslo's bydeler: the zones numbered 0301xx
    view = map_page.fit_view(choices["0301"], *CHART)
    seen = _seen(view, *CHART, 0)
    bydeler = region.zones[region.zones["zone_code"].str.startswith("0301")]
    assert len(bydeler) == 17
    area = bydeler.to_crs("EPSG:25833").geometry.area / 1e6
    for code, geom, people, km2 in zip(
        bydeler["zone_code"], bydeler.geometry, bydeler["population"], area, strict=True
    ):
        b = _metres(np.array(geom.bounds))
        if people / km2 >= 100:  # every bydel where people live is whole in view
            assert _holds(seen, b), code
        else:  # Marka, the forest: 1 681 people on some 170 km², shown in part
            assert code == "030117"
            assert b[0] < seen[2] and b[2] > seen[0] and b[1] < seen[3] and b[3] > seen[1]
    assert view["zoom"] > map_page.fit_view(choices["region"], *CHART)["zoom"] + 1.5


# -- the base map: sea, roads, names ------------------------------------------------------------


def test_the_sea_is_where_the_coast_leaves_it_and_nowhere_else(region) -> None:
    sea = maps.water(region)
    zones = region.zones
    for lon, lat in [SEA, BUNNEFJORDEN, (10.55, 59.80)]:  # off Drøbak, Bunnefjorden, Vestfjorden
        assert sea.contains(Point(lon, lat)) and not zones.contains(Point(lon, lat)).any()
    for p in [OSTFOLD, (10.35, 60.5), (11.5, 59.55)]:  # land beyond the region is not sea
        assert not sea.contains(Point(*p)), p
    # and no sea on land: what it shares with the zones is a sliver of the simplified coast
    land = zones.to_crs("EPSG:25833").geometry.union_all()
    metric = maps.gpd.GeoSeries([sea], crs="EPSG:4326").to_crs("EPSG:25833").iloc[0]
    assert metric.intersection(land).area < 0.01 * metric.area
    assert 200e6 < metric.area < 600e6  # the inner Oslofjord: some 300 km²


def test_the_road_layer_has_one_segment_per_row_of_road_edges(region) -> None:
    edges = _csv_rows("road_edges.csv")
    nodes = {r["id"]: (float(r["lon"]), float(r["lat"])) for r in _csv_rows("road_nodes.csv")}
    layer = map_page.road_layer(region)
    assert len(layer.data) == len(edges) == 250
    for seg, edge in zip(layer.data, edges, strict=True):
        assert tuple(seg["from"]) == nodes[edge["a"]] and tuple(seg["to"]) == nodes[edge["b"]]
        assert seg["width"] == maps.ROAD_PIXELS[edge["road_class"]]
    widths = {e["road_class"]: maps.ROAD_PIXELS[e["road_class"]] for e in edges}
    assert widths["motorway"] > widths["primary"] > widths["urban"]


def test_the_views_name_their_places_none_over_another(region) -> None:
    zones = _zone_rows()
    kommuner = {str(z["zone_name"]) for z in zones if z["kind"] == "kommune"}
    bydeler = {str(z["zone_name"]) for z in zones if z["kind"] == "bydel"}
    assert {"Bærum", "Lillestrøm", "Ås", "Aurskog-Høland"} <= kommuner
    assert {"Grünerløkka", "Søndre Nordstrand"} <= bydeler
    units = ["oslo_legevakt", "oslo_legevakt", "ahus", "baerum_sykehus"]
    region_labels = map_page.labels(region, "region", units)
    names = {r["text"] for r in region_labels if r["kind"] == "kommune"}
    assert names == kommuner | {"Oslo"}  # every kommune, Oslo as one
    oslo = map_page.labels(region, "0301", units)
    assert {r["text"] for r in oslo if r["kind"] == "bydel"} == bydeler  # every bydel
    for rows in (region_labels, oslo):
        screen_boxes = []
        view = map_page.fit_view(
            map_page.view_choices(region)["region" if rows is region_labels else "0301"], *CHART
        )
        for r in rows:
            if r["kind"] in ("kommune", "bydel"):
                x, y = _px(view, r["lon"], r["lat"])
                screen_boxes.append(map_page.text_box(x, y, r["text"], r["size"]))
        for i, a in enumerate(screen_boxes):
            for b in screen_boxes[i + 1 :]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    # the bases with units are named, with how many; each receiving facility has its number
    base_names = [r["text"] for r in oslo if r["kind"] == "base"]
    assert "Oslo legevakt (2)" in base_names and "Ahus Nordbyhagen (1)" in base_names
    assert sorted(r["text"] for r in oslo if r["kind"] == "receiving") == list("1234567")


def _px(view: dict[str, float], lon: float, lat: float) -> tuple[float, float]:
    cx, cy = _MERC.transform(view["longitude"], view["latitude"])
    x, y = _MERC.transform(lon, lat)
    per_px = EARTH / (512 * 2 ** view["zoom"])
    return CHART[0] / 2 + (x - cx) / per_px, CHART[1] / 2 - (y - cy) / per_px


def test_the_text_layer_draws_every_letter_from_a_local_font(region) -> None:
    layer = map_page.label_layer(map_page.labels(region, "0301", ["ahus"]))
    spec = json.loads(pdk.Deck(layers=[layer], map_provider=None).to_json())["layers"][0]
    assert spec["fontFamily"] == "sans-serif"  # the browser's own font: nothing fetched
    assert spec["characterSet"] == "auto"  # æ, ø, å, ü from the data, not only ASCII
    assert spec["sizeUnits"] == "pixels"
    assert "ü" in "".join(d["text"] for d in spec["data"])  # Grünerløkka
    assert "://" not in json.dumps(spec)
    whole = map_page.label_layer(map_page.labels(region, "region", ["ahus"]))
    assert set("æøÅ") <= set("".join(d["text"] for d in whole.data))  # Bærum, Lørenskog, Ås


# -- the legend: the metric's name and unit, the reader's numbers, the symbols drawn ----------


def test_the_colour_bar_is_titled_and_numbered_as_the_reader_writes() -> None:
    nb, en = words("nb"), words("en")
    values = pd.Series([0.0, 1234.0, 3500.0])
    html_nb = map_page.legend(values, "YlOrRd", nb, "demand")
    assert "Forventede krisehenvendelser per år (henvendelser/år)" in html_nb
    assert ">3 200<" in html_nb and ">1 600<" in html_nb and "3,200" not in html_nb
    html_en = map_page.legend(values, "YlOrRd", en, "demand")
    assert "Expected crisis calls a year (calls/year)" in html_en and ">3,200<" in html_en
    ticks = map_page.scale_ticks(0.5, 2.5, False, nb)
    assert [t for _, t in ticks] == ["0,8", "1,2", "1,6", "2,0", "2,4"]
    assert [x for x, _ in ticks] == pytest.approx([0.15, 0.35, 0.55, 0.75, 0.95])
    share = map_page.scale_ticks(0.2, 0.9, True, nb)  # shares in per cent
    assert [t for _, t in share] == [
        "30\u00a0%",
        "45\u00a0%",
        "60\u00a0%",
        "75\u00a0%",
        "90\u00a0%",
    ]
    assert "(%)" in map_page.legend(pd.Series([0.2, 0.9]), "RdYlGn", nb, "share_health_first")
    # 3 500 crisis calls as the tooltip shows them
    assert map_page._shown("demand", nb, {})(3500.0) == "3 500 henvendelser/år"
    assert map_page._shown("share_health_first", nb, {})(0.625) == "62,5 %"


def test_the_legend_draws_the_symbols_as_the_map_does_and_escapes_names() -> None:
    w = words("en")
    html_en = map_page.legend(
        pd.Series([1.0, np.nan]), "YlOrRd", w, "demand", {"x": "<b>Evil</b> & co"}
    )
    r = map_page.BASE_PX[0] + map_page.BASE_PX[1]
    assert f"width:{2 * r}px;height:{2 * r}px;border-radius:50%;background:{maps.BASE}" in html_en
    ring = 2 * map_page.RING_PX
    assert f"width:{ring}px;height:{ring}px;border-radius:50%;background:transparent" in html_en
    assert f"border:2.5px solid {maps.RECEIVING}" in html_en
    assert f"background:{maps.WATER}" in html_en and "No figure" in html_en  # a NaN zone
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in html_en and "<b>Evil" not in html_en
    cats = map_page.legend(pd.Series(["ahus_psyk", "x"], dtype=object), "tab20", w, "catchment")
    assert "Catchment" in cats and "ahus_psyk" in cats


# -- the report's map ----------------------------------------------------------------------------

_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)


def _pixel(
    fig: matplotlib.figure.Figure, ax: object, lon: float, lat: float, around: int = 0
) -> tuple[int, ...]:
    """The colour the saved PNG has where (lon, lat) lies on ``ax``: the most common one within
    ``around`` pixels (a road or a symbol may cross a zone's point)."""
    image = Image.open(io.BytesIO(_save(fig))).convert("RGB")  # drawn: the axes are placed
    x, y = ax.transData.transform(_UTM.transform(lon, lat))  # type: ignore[attr-defined]
    px, py = round(x), image.height - round(y)
    seen = Counter(
        image.getpixel((px + dx, py + dy))
        for dx in range(-around, around + 1)
        for dy in range(-around, around + 1)
    )
    return seen.most_common(1)[0][0]


def _save(fig: matplotlib.figure.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # as report.png does: the figure's own size and dpi
    return buf.getvalue()


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(round(255 * c) for c in matplotlib.colors.to_rgb(colour))


def _shares(region) -> pd.DataFrame:
    codes = list(region.zones["zone_code"])
    return pd.DataFrame({"zone": codes, "share_health_first": np.linspace(0.3, 0.9, len(codes))})


def test_the_report_map_shows_the_sea_and_land_beyond_the_region(region) -> None:
    fig = maps.share_map(region, _shares(region), ["oslo_legevakt", "ahus"], "nb")
    main = fig.axes[0]
    assert _pixel(fig, main, *SEA) == _rgb(maps.WATER)
    assert _pixel(fig, main, *BUNNEFJORDEN) == _rgb(maps.WATER)
    assert _pixel(fig, main, *OSTFOLD) == _rgb(maps.OUTSIDE)
    assert _pixel(fig, fig.axes[1], *BUNNEFJORDEN) == _rgb(maps.WATER)  # Oslo's panel too
    # a populated cell of Aurskog-Høland (cells.csv) 3 km or more inside its border and 10 km
    # or more from its name
    raw = json.loads((geodata_dir() / REGION / "zones.geojson").read_text("utf-8"))
    feature = next(f for f in raw["features"] if f["properties"]["zone_name"] == "Aurskog-Høland")
    code = str(feature["properties"]["zone_code"])
    border = shapely.transform(
        shapely.geometry.shape(feature["geometry"]),
        lambda xy: np.column_stack(_UTM.transform(xy[:, 0], xy[:, 1])),
    )
    label = next(t.get_position() for t in main.texts if t.get_text() == "Aurskog-Høland")
    cells = [c for c in _csv_rows("cells.csv") if c["zone_code"] == code]
    far = next(
        c
        for c in cells
        if border.boundary.distance(Point(_UTM.transform(float(c["lon"]), float(c["lat"])))) > 3000
        and math.dist(_UTM.transform(float(c["lon"]), float(c["lat"])), label) > 10_000
    )
    share = _shares(region).set_index("zone").loc[code, "share_health_first"]
    expected = matplotlib.colormaps["RdYlGn"](share)[:3]
    got = np.array(_pixel(fig, main, float(far["lon"]), float(far["lat"]), around=4)) / 255
    assert np.abs(got - np.array(expected)).max() < 0.02  # the zone's own colour, not the sea's
    matplotlib.pyplot.close(fig)


def test_the_report_map_names_places_and_bases_in_bokmal_with_a_titled_colour_bar(region) -> None:
    units = ["oslo_legevakt", "oslo_legevakt", "ahus"]
    fig = maps.share_map(region, _shares(region), units, "nb")
    main, city, bar = fig.axes[0], fig.axes[1], fig.axes[2]
    zones = _zone_rows()
    on_main = {t.get_text() for t in main.texts}
    assert {str(z["zone_name"]) for z in zones if z["kind"] == "kommune"} | {"Oslo"} <= on_main
    on_city = {t.get_text() for t in city.texts}
    assert {str(z["zone_name"]) for z in zones if z["kind"] == "bydel"} <= on_city
    assert "Oslo legevakt" in on_city and "Ahus Nordbyhagen" in on_main  # named bases
    assert city.get_title(loc="left") == "Oslo: bydeler"
    assert (
        bar.get_title(loc="left") == "Andel aktuelle henvendelser møtt av helsepersonell først (%)"
    )
    assert [t.get_text() for t in bar.get_xticklabels()] == [
        "0 %",
        "20 %",
        "40 %",
        "60 %",
        "80 %",
        "100 %",
    ]
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "Kilder: soner og kystlinje © Kartverket" in texts
    assert "Mottakende institusjoner: 1 Oslo legevakt" in texts
    title = fig._suptitle.get_text()  # type: ignore[union-attr]
    assert title.startswith("Kart: andel aktuelle henvendelser møtt av helsepersonell først")
    matplotlib.pyplot.close(fig)


def test_the_region_map_is_written_whole_with_norwegian_numbers(region, tmp_path: Path) -> None:
    out = tmp_path / "kart.png"
    maps.draw_region(region, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kart.png"]  # no temporary left behind
    image = Image.open(out)
    assert image.size == (936, 845)  # 7.2 × 6.5 in at 130 dpi
    shading = maps.density_shading(region, "nb")
    assert [shading.tick_label(v) for v in shading.ticks] == ["10", "100", "1 000", "10 000"]
    assert maps.density_shading(region, "en").tick_label(1000) == "1,000"


def test_the_report_uses_this_map(region) -> None:
    """report.map_figure draws maps.share_map: the report's map is the one tested here."""
    from planner.report import document as report

    class B:  # the two things map_figure reads from a results bundle
        zone_shares = _shares(region)
        scenario = type(
            "S",
            (),
            {
                "region": type("R", (), {"name": REGION}),
                "fleet": type("F", (), {"units": [type("U", (), {"base": "ahus"})]}),
            },
        )

    data = png(report.map_figure(B(), "en"))  # type: ignore[arg-type]
    image = Image.open(io.BytesIO(data))
    assert image.size == (936, 845)
