"""Geodata build time (needs ../shared/geodata-sources) and travel-table build time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from planner.geo.geodata import geodata_dir, load_region
from planner.geo.travel import Places, travel_model

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT.parent / "shared" / "geodata-sources"


def build() -> None:
    from planner.geo.build import build_all

    if not SOURCES.is_dir():
        print("geodata build: ../shared/geodata-sources absent, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        reports = build_all(SOURCES, geodata_dir() / "curated", Path(tmp))
        took = time.perf_counter() - t
    for r in reports:
        print(f"  {r.region}: {r.zones} zones, {r.cells:,} cells, {r.population:,} people")
    print(f"geodata build (both regions): {took:.1f} s")


def travel() -> None:
    r = load_region("oslo_akershus")
    t = time.perf_counter()
    model = travel_model(r)
    cells = Places.of(r.cells["lat"], r.cells["lon"], r.cells["kommune"])
    bases = r.facilities[r.facilities["kind"] == "base"]
    b = Places.of(bases["lat"], bases["lon"], bases["kommune"])
    m = model.matrix(b, cells, mode="emergency")
    print(
        f"travel table {m.shape[0]} bases x {m.shape[1]:,} cells (emergency): "
        f"{time.perf_counter() - t:.2f} s including the road graph's all-pairs paths"
    )


if __name__ == "__main__":
    build()
    travel()
