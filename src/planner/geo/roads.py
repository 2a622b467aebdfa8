"""The regional road graph: main roads as an undirected graph weighted by driving minutes.

Shortest paths come from ``scipy.sparse.csgraph``. Congestion is modelled per edge: in rush hours
the edges inside the congested kommuner slow down, so a route may switch to a ring road, and a
crossing that exists only by water (Nesodden-Oslo) simply has no edge.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from planner.geo.geodesic import haversine_km

ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "urban", "ferry")


@dataclass(frozen=True)
class RoadModel:
    """Parameters of the road model (``geodata/curated/road-model.toml``)."""

    detour: dict[str, float]
    access_detour: float
    access_speed_kmh: dict[str, float]  # by kommune number; "default" for the rest
    access_nodes: int
    congested_kommuner: frozenset[str]
    congested_classes: frozenset[str]

    @classmethod
    def from_toml(cls, path: Path) -> RoadModel:
        raw = tomllib.loads(path.read_text("utf-8"))

        def val(key: str) -> Any:
            return raw[key]["value"]

        return cls(
            detour={k: float(v) for k, v in val("detour").items()},
            access_detour=float(val("access_detour")),
            access_speed_kmh={str(k): float(v) for k, v in val("access_speed_kmh").items()},
            access_nodes=int(val("access_nodes")),
            congested_kommuner=frozenset(val("congested_kommuner")),
            congested_classes=frozenset(val("congested_classes")),
        )

    def access_speed(self, kommune: str) -> float:
        return self.access_speed_kmh.get(kommune, self.access_speed_kmh["default"])


def fill_lengths(nodes: pd.DataFrame, edges: pd.DataFrame, model: RoadModel) -> pd.DataFrame:
    """Edge lengths where the curated table gives none: straight line times a detour factor."""
    pos = nodes.set_index("id")[["lat", "lon"]]
    a, b = pos.loc[edges["a"]].to_numpy(), pos.loc[edges["b"]].to_numpy()
    straight = haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    detour = edges["road_class"].map(model.detour).to_numpy(dtype=float)
    out = edges.copy()
    given = pd.to_numeric(out.get("length_km"), errors="coerce")
    out["length_km"] = np.where(given.notna(), given, straight * detour).round(3)
    return out


@dataclass(frozen=True)
class RoadNetwork:
    node_ids: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    kommune: np.ndarray
    a: np.ndarray  # edge endpoints as node indices
    b: np.ndarray
    minutes: np.ndarray  # free-flow driving minutes per edge
    congestible: np.ndarray  # edge slows down in rush hours

    @classmethod
    def from_tables(cls, nodes: pd.DataFrame, edges: pd.DataFrame, model: RoadModel) -> RoadNetwork:
        ids = tuple(nodes["id"])
        index = {n: i for i, n in enumerate(ids)}
        edges = fill_lengths(nodes, edges, model)
        a = edges["a"].map(index).to_numpy()
        b = edges["b"].map(index).to_numpy()
        kommune = nodes["kommune"].astype(str).to_numpy()
        congestible = (
            edges["road_class"].isin(model.congested_classes).to_numpy()
            & np.isin(kommune[a], list(model.congested_kommuner))
            & np.isin(kommune[b], list(model.congested_kommuner))
        )
        return cls(
            node_ids=ids,
            lat=nodes["lat"].to_numpy(float),
            lon=nodes["lon"].to_numpy(float),
            kommune=kommune,
            a=a,
            b=b,
            minutes=(edges["length_km"].to_numpy(float) / edges["speed_kmh"].to_numpy(float))
            * 60.0,
            congestible=congestible,
        )

    def all_pairs(self, speed_factor: float = 1.0, congestion: float = 1.0) -> np.ndarray:
        """Node-to-node minutes; ``congestion`` multiplies the congestible edges' times."""
        w = self.minutes / speed_factor
        w = np.where(self.congestible, w * congestion, w)
        n = len(self.node_ids)
        # Parallel edges (two roads between the same junctions) must keep the faster one:
        # a sparse matrix would add their weights up.
        pairs = pd.DataFrame(
            {"i": np.minimum(self.a, self.b), "j": np.maximum(self.a, self.b), "w": w}
        )
        best = pairs.groupby(["i", "j"], sort=False)["w"].min().reset_index()
        i, j, w = best["i"].to_numpy(), best["j"].to_numpy(), best["w"].to_numpy()
        graph = coo_matrix(
            (np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n)
        ).tocsr()
        minutes: np.ndarray = dijkstra(graph, directed=True)
        return minutes

    def components(self) -> int:
        from scipy.sparse.csgraph import connected_components

        n = len(self.node_ids)
        graph = coo_matrix((np.ones(len(self.a)), (self.a, self.b)), shape=(n, n))
        return int(connected_components(graph, directed=False)[0])


@cache
def road_model(path: str) -> RoadModel:
    return RoadModel.from_toml(Path(path))
