"""Travel times between places, by road, by hour of week and by driving mode.

A place joins the road graph at its nearest junctions in its own kommune (so a Nesodden address
cannot hop onto an Oslo road across the fjord), drives the shortest path, and leaves the graph near
its destination. Rush hours slow the congested edges; emergency driving is faster and feels
only part of the rush.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from planner.calendar import HOURS_PER_DAY, HOURS_PER_WEEK
from planner.geo.geodesic import haversine_km
from planner.geo.roads import RoadModel, RoadNetwork

Mode = Literal["normal", "emergency"]


@dataclass(frozen=True)
class Places:
    """Points with the kommune each lies in (the kommune decides which junctions it may use)."""

    lat: np.ndarray
    lon: np.ndarray
    kommune: np.ndarray

    def __len__(self) -> int:
        return len(self.lat)

    @classmethod
    def of(cls, lat: object, lon: object, kommune: object) -> Places:
        return cls(
            np.atleast_1d(np.asarray(lat, dtype=float)),
            np.atleast_1d(np.asarray(lon, dtype=float)),
            np.atleast_1d(np.asarray(kommune, dtype=str)),
        )


@dataclass(frozen=True)
class TrafficRules:
    """Scenario levers for time of day and mode (scenario ``[travel]``)."""

    emergency_speed_factor: float = 1.25
    rush_hour_factor: float = 1.35
    rush_hours: tuple[int, ...] = (7, 8, 15, 16)
    emergency_rush_damping: float = 0.5

    def is_peak(self, hour_of_week: int) -> bool:
        """Rush hours apply Monday to Friday."""
        day, hour = divmod(hour_of_week % HOURS_PER_WEEK, HOURS_PER_DAY)
        return day < 5 and hour in self.rush_hours

    def factors(self, peak: bool, mode: Mode) -> tuple[float, float]:
        """(speed factor, congestion multiplier on congestible edges)."""
        rush = self.rush_hour_factor if peak else 1.0
        if mode == "emergency":
            return self.emergency_speed_factor, 1.0 + (rush - 1.0) * self.emergency_rush_damping
        return 1.0, rush


@dataclass
class TravelModel:
    network: RoadNetwork
    model: RoadModel
    rules: TrafficRules = field(default_factory=TrafficRules)
    _node_minutes: dict[tuple[bool, Mode], np.ndarray] = field(default_factory=dict, repr=False)

    def node_minutes(self, peak: bool, mode: Mode) -> np.ndarray:
        key = (peak, mode)
        if key not in self._node_minutes:
            speed, congestion = self.rules.factors(peak, mode)
            self._node_minutes[key] = self.network.all_pairs(speed, congestion)
        return self._node_minutes[key]

    def _access(self, places: Places, speed_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """Each place's nearest junctions in its own kommune, and the minutes to reach them."""
        net, k = self.network, self.model.access_nodes
        idx = np.zeros((len(places), k), dtype=int)
        minutes = np.full((len(places), k), np.inf)
        for kommune in np.unique(places.kommune):
            rows = np.flatnonzero(places.kommune == kommune)
            cand = np.flatnonzero(net.kommune == kommune)
            if cand.size == 0:  # a place outside every kommune with roads: use any junction
                cand = np.arange(len(net.node_ids))
            d = haversine_km(
                places.lat[rows, None], places.lon[rows, None], net.lat[cand], net.lon[cand]
            )
            take = min(k, cand.size)
            order = np.argsort(d, axis=1)[:, :take]
            speed = self.model.access_speed(str(kommune)) * speed_factor
            idx[rows, :take] = cand[order]
            minutes[rows, :take] = (
                np.take_along_axis(d, order, axis=1) * self.model.access_detour / speed * 60.0
            )
            if take < k:  # pad with the nearest one so shapes stay rectangular
                idx[rows, take:] = idx[rows, :1]
                minutes[rows, take:] = minutes[rows, :1]
        return idx, minutes

    def matrix(
        self, origins: Places, destinations: Places, *, peak: bool = False, mode: Mode = "normal"
    ) -> np.ndarray:
        """Minutes from every origin to every destination (origins x destinations)."""
        speed, _ = self.rules.factors(peak, mode)
        dist = self.node_minutes(peak, mode)
        oi, om = self._access(origins, speed)
        di, dm = self._access(destinations, speed)
        # best time from each origin to every junction, then into each destination
        via = np.min(om[:, :, None] + dist[oi], axis=1)  # origins x nodes
        out = np.min(via[:, di] + dm[None, :, :], axis=2)
        same = origins.kommune[:, None] == destinations.kommune[None, :]
        if same.any():
            straight = haversine_km(
                origins.lat[:, None], origins.lon[:, None], destinations.lat, destinations.lon
            )
            speeds = np.vectorize(self.model.access_speed, otypes=[float])(origins.kommune)
            direct = straight * self.model.access_detour / (speeds[:, None] * speed) * 60.0
            out = np.where(same, np.minimum(out, direct), out)
        result: np.ndarray = out
        return result

    def by_hour_of_week(
        self, origins: Places, destinations: Places, mode: Mode = "normal"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(matrices stacked as [off-peak, peak], profile index for each of the 168 hours)."""
        stack = np.stack(
            [self.matrix(origins, destinations, peak=p, mode=mode) for p in (False, True)]
        )
        profile = np.array([int(self.rules.is_peak(h)) for h in range(168)])
        return stack, profile


def travel_model(region: object, rules: TrafficRules | None = None) -> TravelModel:
    """The road travel model of a built region: its graph and its road model, read with it."""
    from planner.geo.region import Region

    assert isinstance(region, Region)
    network = RoadNetwork.from_tables(region.nodes, region.edges, region.road_model)
    return TravelModel(network, region.road_model, rules or TrafficRules())
