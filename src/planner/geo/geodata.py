"""The built geodata on disk: where it is, which regions it holds, and reading one.

The one place the model's geography is read from files (``geodata/<region>/``, the project's own
committed files, so an installed package works without the raw sources). A region is read once
per process and shared: regions are immutable. The scenario loader (``planner.scenario.loading``)
and the shells call it; the simulation is given the ``Region``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from planner.bundled import bundled
from planner.geo.region import Region

if TYPE_CHECKING:
    import pandas as pd


def geodata_dir() -> Path:
    """Where the built geodata lives: inside an installed wheel, else the source checkout."""
    return bundled("geodata")


@cache
def available_regions() -> tuple[str, ...]:
    root = geodata_dir()
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if (p / "zones.geojson").is_file()))


_TEXT = {"zone_code": str, "kommune": str, "cell_id": str, "id": str, "a": str, "b": str}


@cache
def load_region(name: str) -> Region:
    folder = geodata_dir() / name
    if not (folder / "zones.geojson").is_file():
        raise FileNotFoundError(f"no built geodata for region {name!r} in {folder}")

    import geopandas as gpd  # a second or so to import: not for a command that reads no region
    import pandas as pd

    def table(file: str) -> pd.DataFrame:
        return pd.read_csv(folder / file, dtype=_TEXT, keep_default_na=False, na_values=[""])

    from planner.geo.roads import RoadModel

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
        road_model=RoadModel.from_toml(folder / "road_model.toml"),
    )
