"""The built geodata of a region: zones, demand cells, facilities, police districts, roads and
the road model's parameters.

A ``Region`` is data only; ``planner.geo.geodata`` reads one from the project's files and the
scenario loader gives it to the scenario that names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from planner.geo.roads import RoadModel


@dataclass(frozen=True, eq=False)
class Region:
    """One region's geography. Tables are shared; treat them as read-only.

    A region is known by its name: two regions of one name are equal and hash alike (in a
    process, every region of a name is read from the same folder, ``planner.geo.geodata``), so
    a copy sent to a worker process finds the travel tables built there for the first one."""

    name: str
    zones: gpd.GeoDataFrame  # zone_code, zone_name, kind, kommune, population, facility, ...
    cells: pd.DataFrame  # cell_id, zone_code, x, y, lon, lat, population
    facilities: pd.DataFrame  # id, name, kind, lat, lon, zone_code, ...
    districts: pd.DataFrame  # police_district, name, patrols, source
    nodes: pd.DataFrame  # id, name, lat, lon, kommune
    edges: pd.DataFrame  # a, b, road, road_class, speed_kmh, length_km
    road_model: RoadModel  # detours, access speeds, congestion (the region's road_model.toml)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Region) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Region", self.name))

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
