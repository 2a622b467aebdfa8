"""Build the project's compact geodata from the raw open sources (a shell: reads and writes files).

Inputs: Kartverket's 2024 kommuner, the 2020 bydel polygons, SSB's 250 m population grid (2015),
and the project's curated tables in ``geodata/curated/`` (populations, facilities, catchments,
police districts, road graph). Outputs per region in ``geodata/<region>/``: zones, demand cells,
facilities, police districts and the road graph, plus ``manifest.json`` with input hashes.
Deterministic: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box
from shapely.ops import nearest_points

from planner.geo.roads import ROAD_CLASSES, RoadNetwork, fill_lengths, road_model

UTM = "EPSG:25833"
WGS84 = "EPSG:4326"
CELL_M = 1000  # demand cells: the 250 m grid aggregated to at most 1 km squares
SNAP_M = 300  # grid cells whose centre lies just outside every zone (shore, border) snap to it
SOURCE_FILES = {
    "kommuner": "kommuner-2024.geojson",
    "bydeler": "oslo-bydeler-2020.gml",
    "grid": "ssb-population-250m-2015.csv",
}


class BuildError(Exception):
    """A source or curated table is missing or inconsistent; the message names it."""


@dataclass(frozen=True)
class RegionReport:
    region: str
    zones: int
    cells: int
    population: int
    grid_population_2015: int
    facilities: dict[str, int]
    road_nodes: int
    road_edges: int


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise BuildError(f"missing curated table {path.name}")
    return pd.read_csv(
        path,
        dtype={"zone_code": str, "kommune": str, "id": str, "a": str, "b": str},
        keep_default_na=False,
        na_values=[""],
    )


def read_grid(path: Path) -> gpd.GeoDataFrame:
    """SSB 250 m grid: the id encodes the lower-left corner in EPSG:25833; we keep the centre."""
    raw = pd.read_csv(path, sep=";", dtype={"ru250m": np.int64, "pop_tot": np.int64})
    x = raw["ru250m"] // 10**7 - 2_000_000 + 125
    y = raw["ru250m"] % 10**7 + 125
    return gpd.GeoDataFrame(
        {"x": x, "y": y, "pop": raw["pop_tot"]}, geometry=gpd.points_from_xy(x, y), crs=UTM
    )


def build_zones(
    kommuner: gpd.GeoDataFrame, bydeler: gpd.GeoDataFrame, spec: dict[str, object]
) -> gpd.GeoDataFrame:
    """Zones in EPSG:25833: the split kommune's bydeler clipped to its polygon, then kommuner."""
    split = str(spec["bydeler_of"])
    listed = spec["kommuner"]
    assert isinstance(listed, list)
    whole = [str(k) for k in listed]
    kommune_poly = kommuner.loc[kommuner["kommunenummer"] == split, "geometry"]
    if kommune_poly.empty:
        raise BuildError(f"kommune {split} not in the kommuner source")
    outline = kommune_poly.union_all()
    parts = bydeler[bydeler["bydelnr"].str.startswith(split)].copy()
    if parts.empty:
        raise BuildError(f"no bydeler for kommune {split} in the bydel source")
    parts["geometry"] = parts.geometry.intersection(outline)
    rows = [
        {
            "zone_code": r.bydelnr,
            "zone_name": r.bydelnavn,
            "kind": "bydel",
            "kommune": split,
            "geometry": r.geometry,
        }
        for r in parts.itertuples()
    ]
    for code in whole:
        match = kommuner[kommuner["kommunenummer"] == code]
        if match.empty:
            raise BuildError(f"kommune {code} not in the kommuner source")
        rows.append(
            {
                "zone_code": code,
                "zone_name": match.iloc[0]["kommunenavn"],
                "kind": "kommune",
                "kommune": code,
                "geometry": match.geometry.union_all(),
            }
        )
    zones = gpd.GeoDataFrame(rows, crs=UTM)
    zones["geometry"] = zones.geometry.make_valid()
    return zones.sort_values("zone_code").reset_index(drop=True)


def assign_grid(
    grid: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, kommuner: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Each populated 250 m cell to exactly one zone, by the kommune and zone its centre is in.

    A centre can miss every zone polygon: on the shore (the polygons follow the coastline) or
    where the 2020 bydel borders and the 2024 kommune border differ. Such a cell goes to the
    nearest zone of its own kommune, or, if it lies in no kommune at all (water), to a zone
    within ``SNAP_M``. A cell in a kommune outside the region is never pulled in.
    """
    xmin, ymin, xmax, ymax = zones.total_bounds
    near = grid.cx[xmin - SNAP_M : xmax + SNAP_M, ymin - SNAP_M : ymax + SNAP_M]
    near = near[near["pop"] > 0]
    in_kommune = gpd.sjoin(
        near, kommuner[["kommunenummer", "geometry"]], predicate="within", how="left"
    )
    in_kommune = in_kommune[~in_kommune.index.duplicated(keep="first")]
    kommune = in_kommune["kommunenummer"]
    ours = set(zones["kommune"])
    near = near[kommune.isin(ours) | kommune.isna()]
    kommune = kommune.loc[near.index]
    polys = zones[["zone_code", "kommune", "geometry"]]
    inside = gpd.sjoin(near, polys, predicate="within", how="inner")
    inside = inside[~inside.index.duplicated(keep="first")]
    rest = near.loc[~near.index.isin(inside.index)]
    parts = [inside]
    on_land = rest[kommune.loc[rest.index].notna()]
    for k, group in on_land.groupby(kommune.loc[on_land.index]):
        parts.append(gpd.sjoin_nearest(group, polys[polys["kommune"] == k], how="inner"))
    in_water = rest[kommune.loc[rest.index].isna()]
    parts.append(gpd.sjoin_nearest(in_water, polys, max_distance=SNAP_M, how="inner"))
    out = pd.concat(parts)
    out = out[~out.index.duplicated(keep="first")].drop(columns=["index_right", "kommune"])
    return gpd.GeoDataFrame(out, crs=UTM).sort_values(["zone_code", "x", "y"])


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    if weights.sum() <= 0:
        raise BuildError("cannot spread a population over cells with no weight")
    exact = weights / weights.sum() * total
    floor = np.floor(exact).astype(np.int64)
    short = total - int(floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:short]] += 1
    floors: np.ndarray = floor
    return floors


def build_cells(assigned: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Aggregate to <= 1 km cells within one zone, scaled to the zone's current population."""
    g = assigned.copy()
    g["ix"], g["iy"] = g["x"] // CELL_M, g["y"] // CELL_M
    g["wx"], g["wy"] = g["x"] * g["pop"], g["y"] * g["pop"]
    agg = g.groupby(["zone_code", "ix", "iy"], sort=True).agg(
        pop2015=("pop", "sum"), wx=("wx", "sum"), wy=("wy", "sum")
    )
    agg = agg.reset_index()
    agg["x"] = (agg["wx"] / agg["pop2015"]).round(0)
    agg["y"] = (agg["wy"] / agg["pop2015"]).round(0)
    # The weighted centre of an L-shaped piece (or of shore cells) can fall outside its zone;
    # then take a point inside the piece of the 1 km square that lies in the zone.
    geom = {z: geom for z, geom in zip(zones["zone_code"], zones.geometry, strict=True)}
    for i, r in agg.iterrows():
        zone = geom[r.zone_code]
        if not zone.contains(Point(r.x, r.y)):
            square = box(r.ix * CELL_M, r.iy * CELL_M, (r.ix + 1) * CELL_M, (r.iy + 1) * CELL_M)
            piece = zone.intersection(square)
            if piece.is_empty:  # shore people snapped in from a square outside the zone
                p = nearest_points(zone.buffer(-25), square.centroid)[0]
            else:
                p = piece.representative_point()
            agg.loc[i, ["x", "y"]] = [round(p.x), round(p.y)]
            if not zone.contains(Point(round(p.x), round(p.y))):
                agg.loc[i, ["x", "y"]] = [p.x, p.y]
    cells = []
    for z in zones.itertuples():
        mine = agg[agg["zone_code"] == z.zone_code].copy()
        if mine.empty:  # a zone with people today but none on the 2015 grid
            p = z.geometry.representative_point()
            mine = pd.DataFrame(
                {
                    "zone_code": [z.zone_code],
                    "ix": [int(p.x // CELL_M)],
                    "iy": [int(p.y // CELL_M)],
                    "pop2015": [0],
                    "x": [round(p.x)],
                    "y": [round(p.y)],
                }
            )
            weights = np.ones(1)
        else:
            weights = mine["pop2015"].to_numpy(float)
        mine["population"] = _largest_remainder(weights, int(z.population))
        cells.append(mine[mine["population"] > 0])
    out = pd.concat(cells, ignore_index=True)
    out["cell_id"] = [
        f"{z}:{ix}:{iy}" for z, ix, iy in zip(out["zone_code"], out["ix"], out["iy"], strict=True)
    ]
    pts = gpd.GeoSeries(gpd.points_from_xy(out["x"], out["y"]), crs=UTM).to_crs(WGS84)
    out["lon"], out["lat"] = pts.x.round(5), pts.y.round(5)
    kommune = dict(zip(zones["zone_code"], zones["kommune"], strict=True))
    out["kommune"] = out["zone_code"].map(kommune)
    cols = ["cell_id", "zone_code", "kommune", "x", "y", "lon", "lat", "population", "pop2015"]
    out["x"], out["y"] = out["x"].round(1), out["y"].round(1)
    return out[cols]


def locate_facilities(
    facilities: pd.DataFrame, zones: gpd.GeoDataFrame, kommuner: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Each facility's zone (blank if outside the region) and kommune (for road access)."""
    pts = gpd.GeoDataFrame(
        facilities, geometry=gpd.points_from_xy(facilities["lon"], facilities["lat"]), crs=WGS84
    ).to_crs(UTM)
    in_zone = gpd.sjoin(pts, zones[["zone_code", "geometry"]], predicate="within", how="left")
    in_zone = in_zone[~in_zone.index.duplicated(keep="first")]
    in_kommune = gpd.sjoin_nearest(
        pts, kommuner[["kommunenummer", "geometry"]], how="left", max_distance=2000
    )
    in_kommune = in_kommune[~in_kommune.index.duplicated(keep="first")]
    out = facilities.copy()
    out["zone_code"] = in_zone["zone_code"].fillna("").to_numpy()
    out["kommune"] = in_kommune["kommunenummer"].fillna("").to_numpy()
    missing = out[out["kommune"] == ""]
    if not missing.empty:
        raise BuildError(f"facilities on no kommune (check coordinates): {list(missing['id'])}")
    return out


def check_roads(nodes: pd.DataFrame, edges: pd.DataFrame, region: str) -> None:
    if nodes["id"].duplicated().any():
        raise BuildError(
            f"{region} road nodes: duplicate ids {list(nodes.loc[nodes['id'].duplicated(), 'id'])}"
        )
    known = set(nodes["id"])
    bad = sorted((set(edges["a"]) | set(edges["b"])) - known)
    if bad:
        raise BuildError(f"{region} road edges name unknown nodes: {bad[:10]}")
    classes = sorted(set(edges["road_class"]) - set(ROAD_CLASSES))
    if classes:
        raise BuildError(f"{region} road edges: unknown road_class {classes}")
    if (pd.to_numeric(edges["speed_kmh"]) <= 0).any():
        raise BuildError(f"{region} road edges: speed_kmh must be positive")


def _write_atomically(folder: Path, files: dict[str, Callable[[Path], None]]) -> None:
    """Write every file into a fresh temp folder, then swap it in: never a half-built region."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, write in files.items():
            write(tmp / name)
        old = folder.with_name(f".{folder.name}-old")
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _display_geojson(zones: gpd.GeoDataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        shown = zones.copy()
        shown["geometry"] = shown.geometry.simplify(60, preserve_topology=True)
        shown = shown.to_crs(WGS84)
        shown.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=5, WRITE_BBOX="NO")

    return write


def _copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)


def _text(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")


def _csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_csv(path, index=False, lineterminator="\n")


def build_region(
    name: str,
    spec: dict[str, object],
    sources: Sources,
    curated: Path,
    out: Path,
) -> RegionReport:
    kommuner = sources.kommuner
    zones = build_zones(kommuner, sources.bydeler, spec)

    pops = _read_csv(curated / "zone-populations.csv")
    pops = pops[pops["region"] == name].set_index("zone_code")
    missing = sorted(set(zones["zone_code"]) - set(pops.index))
    if missing:
        raise BuildError(f"zone-populations.csv lacks {name} zones {missing}")
    zones["population"] = zones["zone_code"].map(pops["population"]).astype(np.int64)
    zones["population_year"] = zones["zone_code"].map(pops["year"]).astype(np.int64)

    catch = _read_csv(curated / "catchments.csv").set_index("zone_code")
    police = _read_csv(curated / "police-districts.csv").set_index("zone_code")
    for table, label in ((catch, "catchments.csv"), (police, "police-districts.csv")):
        gap = sorted(set(zones["zone_code"]) - set(table.index))
        if gap:
            raise BuildError(f"{label} lacks zones {gap}")
    zones["facility"] = zones["zone_code"].map(catch["facility_id"])
    zones["police_district"] = zones["zone_code"].map(police["police_district"])

    assigned = assign_grid(sources.grid, zones, kommuner)
    cells = build_cells(assigned, zones)

    facilities = _read_csv(curated / "facilities.csv")
    facilities = facilities[facilities["region"] == name].drop(columns="region")
    facilities = locate_facilities(facilities.reset_index(drop=True), zones, kommuner)
    unknown = sorted(
        set(zones["facility"]) - set(facilities.loc[facilities["kind"] == "receiving", "id"])
    )
    if unknown:
        raise BuildError(f"catchments.csv names unknown receiving facilities {unknown}")

    district_spec = tomllib.loads((curated / "police-districts.toml").read_text("utf-8"))
    used = sorted(set(zones["police_district"]))
    districts = pd.DataFrame(
        [
            {
                "police_district": d,
                "name": district_spec[d]["name"],
                "patrols": district_spec[d]["patrols"]["value"],
                "source": district_spec[d]["patrols"]["source"],
            }
            for d in used
        ]
    )

    nodes = _read_csv(curated / f"roads-{name}-nodes.csv")
    edges = _read_csv(curated / f"roads-{name}-edges.csv")
    check_roads(nodes, edges, name)
    model = road_model(str(curated / "road-model.toml"))
    edges = fill_lengths(nodes, edges, model)
    network = RoadNetwork.from_tables(nodes, edges, model)
    if network.components() != 1:
        raise BuildError(f"{name} road graph is not connected ({network.components()} parts)")
    zone_kommuner = set(zones["kommune"])
    roadless = sorted(zone_kommuner - set(nodes["kommune"]))
    if roadless:
        raise BuildError(f"{name}: kommuner with no road node: {roadless}")

    zones_out = zones[
        [
            "zone_code",
            "zone_name",
            "kind",
            "kommune",
            "population",
            "population_year",
            "facility",
            "police_district",
            "geometry",
        ]
    ]
    manifest = {
        "region": name,
        "inputs": {
            **{p.name: _sha256(p) for p in sources.paths},
            **{p.name: _sha256(p) for p in sorted(curated.iterdir()) if p.is_file()},
        },
        "zones": len(zones),
        "cells": len(cells),
        "population": int(zones["population"].sum()),
    }
    _write_atomically(
        out / name,
        {
            "zones.geojson": _display_geojson(zones_out),
            "cells.csv": _csv(cells),
            "facilities.csv": _csv(facilities),
            "police_districts.csv": _csv(districts),
            "road_nodes.csv": _csv(nodes),
            "road_edges.csv": _csv(edges),
            "road_model.toml": lambda p: _copy(curated / "road-model.toml", p),
            "manifest.json": lambda p: _text(p, json.dumps(manifest, indent=1) + "\n"),
        },
    )
    return RegionReport(
        region=name,
        zones=len(zones),
        cells=len(cells),
        population=int(cells["population"].sum()),
        grid_population_2015=int(assigned["pop"].sum()),
        facilities={
            str(k): int(v) for k, v in facilities["kind"].value_counts().sort_index().items()
        },
        road_nodes=len(nodes),
        road_edges=len(edges),
    )


@dataclass(frozen=True)
class Sources:
    kommuner: gpd.GeoDataFrame
    bydeler: gpd.GeoDataFrame
    grid: gpd.GeoDataFrame
    paths: tuple[Path, ...]


def load_sources(folder: Path) -> Sources:
    for key, file in SOURCE_FILES.items():
        if not (folder / file).is_file():
            raise BuildError(f"sources folder {folder} lacks {file} ({key})")
    kommuner = gpd.read_file(folder / SOURCE_FILES["kommuner"]).to_crs(UTM)
    kommuner["kommunenummer"] = kommuner["kommunenummer"].astype(str).str.zfill(4)
    bydeler = gpd.read_file(folder / SOURCE_FILES["bydeler"]).to_crs(UTM)
    bydeler["bydelnr"] = bydeler["bydelnr"].astype(str)
    return Sources(
        kommuner=kommuner,
        bydeler=bydeler,
        grid=read_grid(folder / SOURCE_FILES["grid"]),
        paths=tuple(folder / f for f in SOURCE_FILES.values()),
    )


def build_all(
    sources: Path,
    curated: Path,
    out: Path,
    regions: list[str] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[RegionReport]:
    specs = tomllib.loads((curated / "regions.toml").read_text("utf-8"))
    chosen = regions or list(specs)
    unknown = sorted(set(chosen) - set(specs))
    if unknown:
        raise BuildError(f"unknown region(s) {unknown}; regions.toml has {sorted(specs)}")
    progress("reading sources")
    loaded = load_sources(sources)
    reports = []
    for name in chosen:
        progress(f"building {name}")
        reports.append(build_region(name, specs[name], loaded, curated, out))
    return reports
