"""Road travel times: the reference table, the Oslofjord, rush hours, emergency driving, OSM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.geo.drive_times import TOLERANCE, compare_reference, reference_table
from planner.geo.geodata import load_region
from planner.geo.travel import Places, TrafficRules, travel_model

SHARED_SOURCES = Path(__file__).resolve().parent.parent.parent / "shared" / "geodata-sources"


def test_reference_table_has_sources_and_enough_pairs() -> None:
    ref = reference_table()
    assert len(ref) >= 15
    assert ref["source"].fillna("").str.len().gt(0).all()


def test_every_reference_drive_time_within_25_percent() -> None:
    cmp = compare_reference()
    bad = cmp[~cmp["within"]][["origin", "destination", "minutes", "model", "error"]]
    assert bad.empty, f"outside ±{TOLERANCE:.0%}:\n{bad.to_string()}"


OSLO_S = (59.9111, 10.7528, "0301")
NESODDTANGEN = (59.8595, 10.6580, "3212")


def test_nesodden_is_near_by_water_but_far_by_road() -> None:
    travel = travel_model(load_region("oslo_akershus"))
    minutes = travel.matrix(Places.of(*OSLO_S), Places.of(*NESODDTANGEN))[0, 0]
    # ~7.5 km in a straight line; by road around Bunnefjorden it is ~50 km
    assert minutes > 35


def test_rush_hour_slows_and_emergency_speeds_up() -> None:
    travel = travel_model(load_region("oslo_akershus"), TrafficRules())
    o, d = Places.of(59.9111, 10.7528, "0301"), Places.of(59.9333, 10.9960, "3222")  # to Ahus
    off = travel.matrix(o, d)[0, 0]
    peak = travel.matrix(o, d, peak=True)[0, 0]
    blue = travel.matrix(o, d, mode="emergency")[0, 0]
    blue_peak = travel.matrix(o, d, peak=True, mode="emergency")[0, 0]
    assert peak > off * 1.1
    assert blue < off * 0.9
    assert blue < blue_peak < peak


def test_rush_hours_are_weekday_only() -> None:
    rules = TrafficRules(rush_hours=(7, 8))
    assert rules.is_peak(7) and rules.is_peak(4 * 24 + 8)  # Monday 07, Friday 08
    assert not rules.is_peak(5 * 24 + 7)  # Saturday 07
    assert not rules.is_peak(12)


def test_travel_times_are_symmetric_enough_and_zero_on_the_spot() -> None:
    r = load_region("oslo_akershus")
    travel = travel_model(r)
    cells = r.cells.sample(40, random_state=1)
    p = Places.of(cells["lat"], cells["lon"], cells["kommune"])
    m = travel.matrix(p, p)
    assert np.allclose(np.diag(m), 0.0, atol=1e-9)
    assert np.allclose(m, m.T, rtol=1e-9)  # the road graph is undirected
    assert np.isfinite(m).all()


# pairs inside the OSM extract of central Oslo (10.72-10.78 E, 59.90-59.94 N)
OSM_PAIRS = [
    ((59.9111, 10.7528), (59.9295, 10.7150)),  # Oslo S - Majorstuen
    ((59.9111, 10.7528), (59.9370, 10.7372)),  # Oslo S - Ullevål sykehus
    ((59.9290, 10.7500), (59.9200, 10.7060)),  # Lovisenberg - Frogner
    ((59.9140, 10.7350), (59.9350, 10.7700)),  # Nationaltheatret - Torshov
    ((59.9060, 10.7740), (59.9300, 10.7250)),  # Grønland (Tøyen side) - Bislett/Adamstuen
]


@pytest.fixture(scope="module")
def osm_network():  # type: ignore[no-untyped-def]
    pbf = SHARED_SOURCES / "oslo-center.osm.pbf"
    if not pbf.is_file():
        pytest.skip("the OSM extract (../shared/geodata-sources/oslo-center.osm.pbf) is absent")
    from planner.geo.osm import import_osm

    return import_osm(pbf)


def test_osm_importer_reads_the_real_extract(osm_network) -> None:  # type: ignore[no-untyped-def]
    assert len(osm_network.nodes) > 5_000
    assert len(osm_network.edges) > 10_000
    assert (osm_network.edges["speed_kmh"] > 0).all()


def test_regional_graph_agrees_with_osm_within_30_percent(osm_network) -> None:  # type: ignore[no-untyped-def]
    travel = travel_model(load_region("oslo_akershus"))
    for (la, loa), (lb, lob) in OSM_PAIRS:
        osm = osm_network.minutes(np.array([la]), np.array([loa]), np.array([lb]), np.array([lob]))[
            0, 0
        ]
        model = travel.matrix(Places.of(la, loa, "0301"), Places.of(lb, lob, "0301"))[0, 0]
        assert abs(model / osm - 1) <= 0.30, ((la, loa), (lb, lob), model, osm)


def test_import_osm_command_writes_csv(cli, osm_network, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("geodata", "import-osm", SHARED_SOURCES / "oslo-center.osm.pbf", "--out", tmp_path)
    assert r.code == 0, r.err
    assert (tmp_path / "osm_edges.csv").stat().st_size > 100_000


def test_import_osm_rejects_a_damaged_file(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"this is not a pbf file at all" * 10)
    r = cli("geodata", "import-osm", bad, "--out", tmp_path)
    assert r.code == 2
    assert "Traceback" not in r.err and "bad.osm.pbf" in r.err
