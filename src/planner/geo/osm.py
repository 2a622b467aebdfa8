"""Import a drivable road network from an OpenStreetMap extract, and route on it.

The regional graph holds only main roads; this importer gives the street-level network for an
area (read with pyrosm), so the regional model can be checked against real streets and a user
with a regional extract can route on real roads. Speeds: the signed limit (or a default by road
type) times a realisation factor for junctions and lights, from ``road-model.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree


class OsmError(Exception):
    pass


@dataclass(frozen=True)
class OsmNetwork:
    nodes: pd.DataFrame  # id, lat, lon (largest strongly connected part only)
    edges: pd.DataFrame  # u, v, length_km, highway, speed_kmh, minutes (directed)

    def _graph(self) -> tuple[object, dict[int, int]]:
        index = {n: i for i, n in enumerate(self.nodes["id"])}
        u = self.edges["u"].map(index).to_numpy()
        v = self.edges["v"].map(index).to_numpy()
        n = len(index)
        best = (
            pd.DataFrame({"u": u, "v": v, "w": self.edges["minutes"].to_numpy()})
            .groupby(["u", "v"])["w"]
            .min()
            .reset_index()
        )
        g = coo_matrix((best["w"], (best["u"], best["v"])), shape=(n, n)).tocsr()
        return g, index

    def minutes(
        self, lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray
    ) -> np.ndarray:
        """Driving minutes from each point a to each point b, snapping to the nearest node."""
        graph, _ = self._graph()
        xy = _local_xy(self.nodes["lat"].to_numpy(), self.nodes["lon"].to_numpy())
        tree = cKDTree(xy)
        _, ia = tree.query(_local_xy(np.asarray(lat_a), np.asarray(lon_a)))
        _, ib = tree.query(_local_xy(np.asarray(lat_b), np.asarray(lon_b)))
        dist = dijkstra(graph, directed=True, indices=np.atleast_1d(ia))
        picked: np.ndarray = dist[:, np.atleast_1d(ib)]
        return picked


def _local_xy(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular km around Oslo's latitude: fine for snapping within a city."""
    lat0 = 59.9
    return np.column_stack(
        [np.asarray(lon) * 111.32 * np.cos(np.radians(lat0)), np.asarray(lat) * 110.57]
    )


def _speeds(edges: pd.DataFrame, settings: dict[str, dict[str, object]]) -> np.ndarray:
    defaults = settings["osm_default_maxspeed"]["value"]
    real = settings["osm_speed_realisation"]["value"]
    assert isinstance(defaults, dict) and isinstance(real, dict)

    def limit(raw: object, highway: str) -> float:
        if isinstance(raw, str):
            m = re.match(r"\s*(\d+)", raw)
            if m:
                return float(m.group(1))
        return float(defaults.get(highway, 30))

    limits = np.array(
        [limit(m, h) for m, h in zip(edges["maxspeed"], edges["highway"], strict=True)]
    )
    limits = np.maximum(limits, 5.0)
    factor = np.where(limits >= 60, float(real["from_60"]), float(real["below_60"]))
    speeds: np.ndarray = limits * factor
    return speeds


def import_osm(pbf: Path, road_model_toml: Path | None = None) -> OsmNetwork:
    """Read the drivable ways of an extract into a directed graph with driving minutes."""
    from pyrosm import OSM

    from planner.geo.geodata import geodata_dir

    settings = tomllib.loads(
        (road_model_toml or geodata_dir() / "curated" / "road-model.toml").read_text("utf-8")
    )
    try:
        nodes, edges = OSM(str(pbf)).get_network(network_type="driving", nodes=True)
    except Exception as exc:  # pyrosm raises many kinds on a damaged file
        raise OsmError(f"not a readable OpenStreetMap extract ({type(exc).__name__})") from None
    if edges is None or len(edges) == 0:
        raise OsmError("no drivable roads in the extract")
    e = pd.DataFrame(
        {
            "u": edges["u"].astype(np.int64),
            "v": edges["v"].astype(np.int64),
            "length_km": edges["length"].astype(float) / 1000.0,
            "highway": edges["highway"].astype(str),
            "maxspeed": edges["maxspeed"],
            "oneway": edges["oneway"].fillna("no").astype(str),
        }
    )
    e["speed_kmh"] = _speeds(e, settings)
    forward = e[e["oneway"] != "-1"]
    backward = e[e["oneway"].isin(["-1", "no", "false", "0"]) | (e["oneway"] == "nan")]
    backward = backward.rename(columns={"u": "v", "v": "u"})
    both = pd.concat([forward, backward], ignore_index=True)
    both["minutes"] = both["length_km"] / both["speed_kmh"] * 60.0
    n = pd.DataFrame({"id": nodes["id"].astype(np.int64), "lat": nodes["lat"], "lon": nodes["lon"]})
    n = n.drop_duplicates("id")
    n = n[n["id"].isin(set(both["u"]) | set(both["v"]))].reset_index(drop=True)
    # keep the largest strongly connected part: a point must be able to drive out and back
    index = {k: i for i, k in enumerate(n["id"])}
    g = coo_matrix(
        (np.ones(len(both)), (both["u"].map(index), both["v"].map(index))), shape=(len(n), len(n))
    )
    _, labels = connected_components(g, directed=True, connection="strong")
    main = np.bincount(labels).argmax()
    keep = set(n["id"][labels == main])
    n = n[n["id"].isin(keep)].reset_index(drop=True)
    both = both[both["u"].isin(keep) & both["v"].isin(keep)].reset_index(drop=True)
    cols = ["u", "v", "length_km", "highway", "speed_kmh", "minutes"]
    return OsmNetwork(nodes=n, edges=both[cols])
