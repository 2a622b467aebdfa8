"""The road model checked against published drive times (curated/reference-drive-times.csv)."""

from __future__ import annotations

import pandas as pd

from planner.geo.geodata import geodata_dir, load_region
from planner.geo.travel import Places, travel_model

TOLERANCE = 0.25


def reference_table() -> pd.DataFrame:
    return pd.read_csv(
        geodata_dir() / "curated" / "reference-drive-times.csv",
        dtype={"origin_kommune": str, "dest_kommune": str},
    )


def region_of(kommune: str) -> str:
    return "bergen" if kommune.startswith("46") else "oslo_akershus"


def compare_reference() -> pd.DataFrame:
    """Model minutes (normal driving, off-peak) beside each reference time."""
    ref = reference_table()
    rows = []
    for region_name, part in ref.groupby(ref["origin_kommune"].map(region_of), sort=True):
        travel = travel_model(load_region(str(region_name)))
        for r in part.itertuples():
            o = Places.of(r.origin_lat, r.origin_lon, r.origin_kommune)
            d = Places.of(r.dest_lat, r.dest_lon, r.dest_kommune)
            rows.append({"id": r.id, "model": float(travel.matrix(o, d)[0, 0])})
    model = pd.DataFrame(rows)
    out = ref.merge(model, on="id")
    out["error"] = out["model"] / out["minutes"] - 1.0
    out["within"] = out["error"].abs() <= TOLERANCE
    return out
