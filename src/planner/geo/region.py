"""The built geodata of a region: zones, demand cells, facilities, police districts, roads.

Reads only the project's own committed files (``geodata/<region>/``), so an installed package works
without the raw sources. Loaded once per process and shared: regions are immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.bundled import bundled


def geodata_dir() -> Path:
    """Where the built geodata lives: inside an installed wheel, else the source checkout."""
    return bundled("geodata")


@cache
def available_regions() -> tuple[str, ...]:
    root = geodata_dir()
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if (p / "zones.geojson").is_file()))


@dataclass(frozen=True)
class Region:
    """One region's geography. Tables are shared; treat them as read-only."""

    name: str
    zones: gpd.GeoDataFrame  # zone_code, zone_name, kind, kommune, population, facility, ...
    cells: pd.DataFrame  # cell_id, zone_code, x, y, lon, lat, population
    facilities: pd.DataFrame  # id, name, kind, lat, lon, zone_code, ...
    districts: pd.DataFrame  # police_district, name, patrols, source
    nodes: pd.DataFrame  # id, name, lat, lon, kommune
    edges: pd.DataFrame  # a, b, road, road_class, speed_kmh, length_km

    @property
    def zone_codes(self) -> list[str]:
        return list(self.zones["zone_code"])

    @property
    def base_ids(self) -> list[str]:
        return list(self.facilities.loc[self.facilities["kind"] == "base", "id"])

    @property
    def receiving_ids(self) -> list[str]:
        return list(self.facilities.loc[self.facilities["kind"] == "receiving", "id"])

    @property
    def police_station_ids(self) -> list[str]:
        return list(self.facilities.loc[self.facilities["kind"] == "police", "id"])

    @property
    def police_districts(self) -> list[str]:
        return list(self.districts["police_district"])

    @property
    def population(self) -> int:
        return int(self.zones["population"].sum())

    def place_names(self, kind: str) -> dict[str, str]:
        """Facility id -> its name as people say it, for one kind ("base", "receiving",
        "police"), without a trailing note in brackets such as "(candidate base)"."""
        rows = self.facilities[self.facilities["kind"] == kind]
        return {
            str(i): (str(n).split(" (")[0].strip() or str(i)) if isinstance(n, str) else str(i)
            for i, n in zip(rows["id"], rows["name"], strict=True)
        }


_TEXT = {"zone_code": str, "kommune": str, "cell_id": str, "id": str, "a": str, "b": str}


@cache
def load_region(name: str) -> Region:
    folder = geodata_dir() / name
    if not (folder / "zones.geojson").is_file():
        raise FileNotFoundError(f"no built geodata for region {name!r} in {folder}")

    def table(file: str) -> pd.DataFrame:
        return pd.read_csv(folder / file, dtype=_TEXT, keep_default_na=False, na_values=[""])

    zones = gpd.read_file(folder / "zones.geojson")
    zones["zone_code"] = zones["zone_code"].astype(str)
    return Region(
        name=name,
        zones=zones,
        cells=table("cells.csv"),
        facilities=table("facilities.csv"),
        districts=table("police_districts.csv"),
        nodes=table("road_nodes.csv"),
        edges=table("road_edges.csv"),
    )
