"""A static map of a region: zones shaded by population density, facilities on top."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd

from planner.files import write_atomically
from planner.region import Region

_MARKERS = {
    "receiving": ("P", "#c0392b", "Receiving facility (acute psychiatry)"),
    "base": ("o", "#1f6fb2", "Candidate base"),
    "police": ("s", "#222222", "Police station"),
}


def facility_points(facilities: pd.DataFrame) -> gpd.GeoDataFrame:
    """Facilities (with lat, lon) as points in the maps' metric projection (UTM 33)."""
    return gpd.GeoDataFrame(
        facilities,
        geometry=gpd.points_from_xy(facilities["lon"], facilities["lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:25833")


def draw_region(region: Region, out: Path, title: str | None = None) -> None:
    zones = region.zones.to_crs("EPSG:25833")
    zones["density"] = zones["population"] / (zones.geometry.area / 1e6)
    fig, ax = plt.subplots(figsize=(10, 11), dpi=110)
    zones.plot(
        ax=ax,
        column="density",
        cmap="YlOrBr",
        scheme=None,
        legend=True,
        edgecolor="#555555",
        linewidth=0.4,
        norm=matplotlib.colors.LogNorm(
            vmin=max(zones["density"].min(), 1), vmax=zones["density"].max()
        ),
        legend_kwds={"label": "inhabitants per km² (log scale)", "shrink": 0.5},
    )
    for z in zones.itertuples():
        p = z.geometry.representative_point()
        ax.annotate(z.zone_name, (p.x, p.y), fontsize=5.5, ha="center", color="#333333")
    fac = facility_points(region.facilities)
    for kind, (marker, colour, label) in _MARKERS.items():
        sub = fac[fac["kind"] == kind]
        if not sub.empty:
            sub.plot(
                ax=ax,
                marker=marker,
                color=colour,
                markersize=28 if kind != "base" else 18,
                label=f"{label} ({len(sub)})",
                zorder=3,
                edgecolor="white",
                linewidth=0.5,
            )
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title(title or f"{region.name}: {len(zones)} zones, {region.population:,} inhabitants")
    ax.set_axis_off()
    ax.annotate(
        "Zones © Kartverket, SSB (CC BY 4.0); population SSB; facilities: geodata/SOURCES.md",
        (0.01, 0.01),
        xycoords="figure fraction",
        fontsize=6,
        color="#666666",
    )
    fig.tight_layout()
    write_atomically(out, lambda p: fig.savefig(p, format=out.suffix.lstrip(".") or "png"))
    plt.close(fig)
