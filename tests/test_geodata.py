"""The built geodata: populations add up, cells sit in their zones, the build is reproducible."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.geo.geodata import available_regions, geodata_dir, load_region

CURATED = geodata_dir() / "curated"
REGIONS = ("oslo_akershus", "bergen")


def curated_populations(region: str) -> pd.Series:
    table = pd.read_csv(CURATED / "zone-populations.csv", dtype={"zone_code": str})
    return table[table["region"] == region].set_index("zone_code")["population"]


def test_both_regions_are_built() -> None:
    assert set(REGIONS) <= set(available_regions())


def test_oslo_akershus_has_the_expected_zones() -> None:
    r = load_region("oslo_akershus")
    codes = set(r.zone_codes)
    assert len(codes) == 38  # 15 bydeler + Sentrum + Marka + 21 Akershus kommuner
    assert {f"0301{i:02d}" for i in range(1, 18)} <= codes
    assert sum(c.startswith("32") for c in codes) == 21
    assert {"030116", "030117", "3212", "3226"} <= codes  # Sentrum, Marka, Nesodden, A-Høland


@pytest.mark.parametrize("region", REGIONS)
def test_zone_populations_are_the_stated_ones(region: str) -> None:
    r = load_region(region)
    stated = curated_populations(region)
    got = r.zones.set_index("zone_code")["population"]
    pd.testing.assert_series_equal(
        got.sort_index(), stated.loc[got.index].sort_index(), check_names=False, check_dtype=False
    )


@pytest.mark.parametrize("region", REGIONS)
def test_cells_sum_to_each_zone_population(region: str) -> None:
    r = load_region(region)
    per_zone = r.cells.groupby("zone_code")["population"].sum()
    zones = r.zones.set_index("zone_code")["population"]
    assert (per_zone.reindex(zones.index, fill_value=0) == zones).all()
    assert (r.cells["population"] > 0).all(), "a cell without people must carry no demand"


def test_oslo_akershus_totals_match_ssb_2024() -> None:
    zones = load_region("oslo_akershus").zones
    oslo = zones[zones["kommune"] == "0301"]["population"].sum()
    akershus = zones[zones["kommune"] != "0301"]["population"].sum()
    assert oslo == 717_710
    assert akershus == 728_803


@pytest.mark.parametrize("region", REGIONS)
def test_cells_are_at_most_one_km_and_unique(region: str) -> None:
    cells = load_region(region).cells
    assert cells["cell_id"].is_unique
    # every cell is a piece of one 1 km square: its point lies in that square, except the few
    # shore cells whose people were snapped into the zone from a square over the water; those
    # sit on the zone's edge next to their square.
    ix = cells["cell_id"].str.split(":").str[1].astype(int) * 1000
    iy = cells["cell_id"].str.split(":").str[2].astype(int) * 1000
    dx = np.maximum(np.maximum(ix - cells["x"], cells["x"] - (ix + 1000)), 0)
    dy = np.maximum(np.maximum(iy - cells["y"], cells["y"] - (iy + 1000)), 0)
    off = np.hypot(dx, dy)
    assert (off <= 500).all(), cells.loc[off > 500, "cell_id"].tolist()
    assert (off == 0).mean() > 0.99


@pytest.mark.parametrize("region", REGIONS)
def test_every_cell_lies_in_its_own_zone_on_the_display_map(region: str) -> None:
    r = load_region(region)
    zones = r.zones.to_crs("EPSG:25833")
    zones["geometry"] = zones.buffer(150)  # display polygons are simplified by 60 m
    pts = gpd.GeoDataFrame(
        r.cells, geometry=gpd.points_from_xy(r.cells["x"], r.cells["y"]), crs="EPSG:25833"
    )
    hit = gpd.sjoin(pts, zones[["zone_code", "geometry"]], predicate="within", how="left")
    own = hit[hit["zone_code_left"] == hit["zone_code_right"]]
    assert own.index.nunique() == len(r.cells)


@pytest.mark.parametrize("region", REGIONS)
def test_every_cell_in_exactly_one_source_zone(region: str, shared_sources: Path) -> None:
    from planner.geo.build import build_zones, load_sources

    spec = tomllib.loads((CURATED / "regions.toml").read_text("utf-8"))[region]
    src = load_sources(shared_sources)
    zones = build_zones(src.kommuner, src.bydeler, spec)
    cells = load_region(region).cells
    pts = gpd.GeoDataFrame(
        cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs="EPSG:25833"
    )
    hit = gpd.sjoin(
        pts,
        zones[["zone_code", "geometry"]].rename(columns={"zone_code": "in_zone"}),
        predicate="within",
        how="left",
    )
    assert not hit.index.duplicated().any(), "a cell lies in two zones"
    assert (hit["in_zone"] == hit["zone_code"]).all(), "a cell lies outside its zone"


def test_grid_population_matches_the_sources_readme(shared_sources: Path) -> None:
    # The sources' README: 1,266,390 people (2015) have their cell centre inside the 22 kommuner.
    # We also keep shore cells whose centre is in the water within 300 m; that adds under 1 %.
    cells = load_region("oslo_akershus").cells
    total = int(cells["pop2015"].sum())
    assert 1_266_390 <= total <= 1_266_390 * 1.01


def test_build_is_reproducible_and_matches_the_committed_files(
    shared_sources: Path, tmp_path: Path
) -> None:
    from planner.geo.build import build_all

    build_all(shared_sources, CURATED, tmp_path)
    for region in REGIONS:
        for f in sorted((geodata_dir() / region).iterdir()):
            built = (tmp_path / region / f.name).read_bytes()
            assert built == f.read_bytes(), f"{region}/{f.name} differs from a fresh build"


def test_facilities_cover_the_kinds(cli) -> None:
    r = load_region("oslo_akershus")
    kinds = r.facilities["kind"].value_counts()
    assert kinds["receiving"] >= 6
    assert kinds["base"] >= 15
    assert kinds["police"] >= 6
    assert r.facilities["id"].is_unique
    assert r.facilities["source"].str.len().gt(0).all(), "every facility names a source"
    # every zone's catchment facility is a receiving facility of the region
    assert set(r.zones["facility"]) <= set(r.receiving_ids)


def test_map_is_drawn(cli, tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    res = cli("geodata", "map", "--out", out)
    assert res.code == 0, res.err
    assert out.stat().st_size > 50_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_rejects_unknown_format(cli, tmp_path: Path) -> None:
    res = cli("geodata", "map", "--out", tmp_path / "map.bmp")
    assert res.code == 2
    assert "--out" in res.err and "Traceback" not in res.err
