"""The playback of a simulated day: a hand-made log read into legs and calls with the times and
positions worked out by hand, the busiest day chosen, and the page it makes: no address of any
other server, its data parseable, its words in the reader's language, user text kept inert.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import planner
from planner.dashboard import playback
from planner.dashboard.playback import (
    Place,
    Point,
    Projection,
    busiest_day,
    day_counts,
    day_of,
    full_days,
    page_data,
    playback_html,
    script_json,
)
from planner.dashboard.text import Words, ui_keys
from planner.geo.geodata import load_region
from planner.scenario.model import Shift, Unit
from planner.sim.run import Results
from planner.sim.world import build_world

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "oslo_akershus.toml"
DAY = 8  # a Tuesday: day 0 is a Monday
START = DAY * 1440.0
NAN = math.nan

REGION = load_region("oslo_akershus")


def facility(fid: str) -> Point:
    row = REGION.facilities.set_index("id").loc[fid]
    return Point(float(row["lon"]), float(row["lat"]))


def cell(i: int) -> Point:
    return Point(float(REGION.cells["lon"].iloc[i]), float(REGION.cells["lat"].iloc[i]))


LEGEVAKT = facility("oslo_legevakt")  # the base of units 0 and 1
LOVISENBERG = facility("lovisenberg")  # receiving facility of Gamle Oslo (030101)
GRONLAND = facility("politi_gronland")  # the station nearest to cell 6
MAJORSTUEN = facility("politi_majorstuen")  # the station nearest to cell 75
CELL_A = cell(2)  # Gamle Oslo, (10.777, 59.901)
CELL_B = cell(6)  # Gamle Oslo, (10.787, 59.907): 1 km from Grønland, 4 from Sentrum
CELL_C = cell(75)  # Vestre Aker, (10.641, 59.964): 5 km from Majorstuen, 9 from Bærum
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(scope="module")
def scenario() -> planner.Scenario:
    """The default scenario with its fleet, shifts and waiting rule stated here, so that the
    times worked out below do not move when the shipped files do."""
    s = planner.load_scenario(SCENARIO)
    shifts = {
        "evening": Shift(start_hour=14, hours=12, days=EVERY_DAY),
        "day": Shift(start_hour=7, hours=12, days=EVERY_DAY),
        "late": Shift(start_hour=17, hours=10, days=EVERY_DAY),
    }
    units = [
        Unit(name="PA Oslo evening", base="oslo_legevakt", shift="evening"),
        Unit(name="PA Oslo day", base="oslo_legevakt", shift="day"),
        Unit(name="PA Romerike evening", base="ahus", shift="evening"),
        Unit(name="PA Vest late", base="baerum_sykehus", shift="late"),
    ]
    return s.model_copy(
        update={
            "fleet": s.fleet.model_copy(update={"shifts": shifts, "units": units}),
            "dispatch": s.dispatch.model_copy(
                update={"policy": "health-first", "max_wait_minutes": 20.0}
            ),
            "run": s.run.model_copy(update={"warmup_days": 7.0, "horizon_days": 365.0}),
        }
    )


@pytest.fixture(scope="module")
def region() -> Any:
    return REGION


def row(**kw: Any) -> dict[str, Any]:
    """A log row with nothing happening but what is given; times relative to day 8's midnight."""
    base: dict[str, Any] = {
        "replication": 0,
        "call": 0,
        "zone": "030101",
        "cell": 2,
        "kind": "suicidal",
        "unit": -1,
        "reason": "",
        "t_police_alerted": NAN,
        "t_dispatch": NAN,
        "t_first_on_scene": NAN,
        "t_unit_on_scene": NAN,
        "t_police_on_scene": NAN,
        "t_scene_end": NAN,
        "transport_mode": "none",
        "t_handover_end": NAN,
        "t_unit_free": NAN,
        "patrol_minutes": 0.0,
        "police_involved": False,
        "police_needed": False,
        "flagged": False,
    }
    for k, v in kw.items():
        base[k] = START + v if k.startswith("t_") else v
    return base


def results_of(scenario: planner.Scenario, rows: list[dict[str, Any]]) -> Results:
    log = pd.DataFrame(rows)
    log["hour_of_week"] = (log["t_arrival"] // 60).astype(int) % 168
    empty = pd.DataFrame()
    return Results(scenario, empty, empty, log, np.full(168, np.nan), empty, empty, empty)


def hand_made(scenario: planner.Scenario) -> Results:
    return results_of(
        scenario,
        [
            # A: unit 1 drives from Oslo legevakt, takes the patient to Lovisenberg, drives back
            row(
                call=1,
                t_arrival=600,
                t_health_alerted=604,
                t_dispatch=604,
                t_unit_on_scene=624,
                t_first_on_scene=624,
                t_scene_end=684,
                transport_mode="psych_ambulance",
                t_handover_end=724,
                t_unit_free=744,
                unit=1,
            ),
            # B: waits its 20 minutes for a unit, then police come and drive the patient in
            row(
                call=2,
                cell=6,
                t_arrival=700,
                t_health_alerted=703,
                reason="waited_too_long",
                t_police_alerted=723,
                t_dispatch=723,
                t_police_on_scene=740,
                t_first_on_scene=740,
                t_scene_end=780,
                transport_mode="police_car",
                t_handover_end=840,
                patrol_minutes=117,
                police_involved=True,
            ),
            # C: came at 23:00 the evening before, waited 18 minutes for unit 0, police flagged
            # at triage and not needed: still on scene after midnight
            row(
                call=3,
                zone="030107",
                cell=75,
                t_arrival=-60,
                t_health_alerted=-58,
                t_dispatch=-40,
                t_unit_on_scene=-20,
                t_first_on_scene=-30,
                t_police_alerted=-30.5,
                t_police_on_scene=-30,
                t_scene_end=10,
                t_unit_free=30,
                unit=0,
                patrol_minutes=35,
                police_involved=True,
                flagged=True,
            ),
            # D: the next day; E: the day before, over by midnight; F: another replication
            row(call=4, t_arrival=1500, t_health_alerted=1502, t_scene_end=1560),
            row(call=5, t_arrival=-300, t_health_alerted=-298, t_scene_end=-200),
            row(replication=1, call=6, t_arrival=100, t_health_alerted=101, t_scene_end=200),
        ],
    )


def close(p: Point, q: Point) -> bool:
    return math.isclose(p.lon, q.lon, abs_tol=1e-9) and math.isclose(p.lat, q.lat, abs_tol=1e-9)


def mid(p: Point, q: Point) -> Point:
    return Point((p.lon + q.lon) / 2, (p.lat + q.lat) / 2)


# -- reading the day ----------------------------------------------------------------------------


def test_the_hand_made_day_has_its_calls(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    assert (day.day, day.weekday, day.start) == (8, 1, 11520.0)
    assert [c.call for c in day.calls] == [3, 1, 2]  # by arrival; D, E and F are not of it
    assert day.calls_today == 2
    c, a, b = day.calls
    assert (c.arrival, c.first_on_scene, c.done, c.queue) == (-60, -30, 10, (-58, -40))
    assert (a.arrival, a.first_on_scene, a.done, a.queue) == (600, 624, 684, None)
    assert (b.arrival, b.first_on_scene, b.done, b.queue) == (700, 740, 780, (703, 723))
    assert (a.by_unit, a.police, b.by_unit, b.police) == (True, False, False, True)
    assert close(a.at, CELL_A) and close(b.at, CELL_B) and close(c.at, CELL_C)


def test_a_unit_drives_base_call_facility_base(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    unit = day.units[1]
    assert unit.name == "PA Oslo day" and close(unit.base.at, LEGEVAKT)
    legs = [(leg.activity, leg.start, leg.end) for leg in unit.legs]
    assert legs == [
        ("to_call", 604, 624),
        ("on_scene", 624, 684),
        ("to_facility", 684, 724),
        ("to_base", 724, 744),
    ]
    to_call, _, to_facility, to_base = unit.legs
    assert close(to_call.origin, LEGEVAKT) and close(to_call.destination, CELL_A)
    assert close(to_facility.destination, LOVISENBERG) and close(to_base.destination, LEGEVAKT)
    # half way in time is half way on the line
    assert close(unit.position(614), mid(LEGEVAKT, CELL_A))
    assert close(unit.position(704), mid(CELL_A, LOVISENBERG))
    assert close(unit.position(734), mid(LOVISENBERG, LEGEVAKT))
    assert close(
        unit.position(609),
        Point(10.7961 * 0.75 + 10.77743 * 0.25, 59.9394 * 0.75 + 59.90061 * 0.25),
    )
    assert close(unit.position(650), CELL_A) and close(unit.position(800), LEGEVAKT)
    # on its day shift 07-19: off duty at 03:00, free at base at 13:00
    statuses = [unit.status(m) for m in (180, 614, 650, 704, 734, 780, 1150)]
    assert statuses == [
        "off_duty",
        "to_call",
        "on_scene",
        "to_facility",
        "to_base",
        "at_base",
        "off_duty",
    ]


def test_a_call_from_the_evening_before_goes_on_after_midnight(
    scenario: planner.Scenario, region: Any
) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    unit = day.units[0]  # the evening shift, 14-02: on duty from Monday's shift until 02:00
    assert unit.on_duty == tuple(h < 2 or h >= 14 for h in range(24))
    assert [(leg.activity, leg.start, leg.end) for leg in unit.legs] == [
        ("to_call", -40, -20),
        ("on_scene", -20, 10),
        ("to_base", 10, 30),  # no transport: straight back
    ]
    assert close(unit.position(0), CELL_C)
    assert close(unit.position(20), mid(CELL_C, LEGEVAKT))
    assert unit.status(20) == "to_base" and unit.status(60) == "at_base"
    assert unit.status(150) == "off_duty"
    assert [u.legs for u in day.units[2:]] == [(), ()]


def test_police_come_from_the_nearest_station_of_the_district(
    scenario: planner.Scenario, region: Any
) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    by_call = {v.call: v for v in day.police}
    assert set(by_call) == {2, 3}
    b = by_call[2]
    assert b.station.id == "politi_gronland" and close(b.station.at, GRONLAND)
    # they leave the station the simulated emergency drive before they are there, never before
    # they were alerted (00:00 + 723 min is off-peak on a Tuesday: profile 0)
    drive = float(build_world(scenario).police_to_cell[0, 6])
    assert drive > 0
    depart = max(740 - drive, 723)
    assert [(leg.activity, leg.start, leg.end) for leg in b.legs] == [
        ("to_call", pytest.approx(depart), 740),
        ("on_scene", 740, 780),
        ("to_facility", 780, 840),  # the patient in the police car to Lovisenberg
    ]
    assert close(b.legs[2].destination, LOVISENBERG)
    assert close(b.position((depart + 740) / 2) or Point(0, 0), mid(GRONLAND, CELL_B))
    assert b.position(700) is None and b.position(850) is None
    c = by_call[3]
    # alerted half a minute before they were there: no drive is that short, so they left
    # when alerted; flagged and not needed, they left the scene after their 35 patrol minutes
    # less their normal drive back to the station (Sunday 23:00: off-peak)
    assert c.station.id == "politi_majorstuen" and close(c.station.at, MAJORSTUEN)
    world = build_world(scenario)
    back = float(world.cell_to_station[0, 75, world.nearest_station[0, 75]])
    assert 0 < back < 34.5
    assert [(leg.activity, leg.start, leg.end) for leg in c.legs] == [
        ("to_call", -30.5, -30),
        ("on_scene", -30, pytest.approx(-30.5 + 35 - back)),
    ]


def test_the_queue_counts_calls_waiting_for_a_unit(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    assert [day.queue_length(m) for m in (-59, -50, -40, 0, 702.9, 703, 710, 722.9, 723)] == [
        0,
        1,
        0,
        0,
        0,
        1,
        1,
        1,
        0,
    ]
    assert [day.calls_so_far(m) for m in (0, 599, 600, 1439)] == [0, 0, 1, 2]


def test_the_busiest_full_day_after_warm_up(scenario: planner.Scenario) -> None:
    arrivals = [3] * 10 + [7] * 2 + [9] * 3 + [10] * 3 + [364] * 1 + [365] * 9
    rows = [
        row(call=i, t_arrival=d * 1440.0 + 60 * (i % 20) - START, t_health_alerted=0.0)
        for i, d in enumerate(arrivals)
    ]
    res = results_of(scenario, rows)
    assert full_days(scenario) == range(7, 365)  # warm-up 7 days, horizon 365
    counts = day_counts(res.log, scenario)
    assert (counts[7], counts[8], counts[9], counts[10], counts[364]) == (2, 0, 3, 3, 1)
    assert 3 not in counts.index and 365 not in counts.index
    assert busiest_day(res.log, scenario) == 9  # the first of the two busiest; warm-up ignored
    assert day_of(res, load_region("oslo_akershus")).day == 9
    half = scenario.model_copy(update={"run": scenario.run.model_copy(update={"warmup_days": 7.5})})
    assert full_days(half)[0] == 8


def test_an_empty_log_and_an_abstract_region_are_refused(scenario: planner.Scenario) -> None:
    region = load_region("oslo_akershus")
    empty = results_of(scenario, [row(t_arrival=0.0, t_health_alerted=0.0)])
    empty = dataclasses.replace(empty, log=empty.log.iloc[:0])
    with pytest.raises(ValueError, match="no call log"):
        day_of(empty, region)


# -- the page -----------------------------------------------------------------------------------


def data_of(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="playback-data">(.*?)</script>', page, re.S)
    assert m, "the page carries its data"
    return dict(json.loads(m.group(1)))


def test_the_page_holds_no_address_of_any_server(scenario: planner.Scenario, region: Any) -> None:
    page = playback_html(day_of(hand_made(scenario), region, DAY), region, Words("en"))
    assert "http://" not in page and "https://" not in page
    assert "//" not in re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # no src="//…"
    assert not re.search(r"\b(src|href)\s*=", page) and "@import" not in page and "url(" not in page
    assert len(page.encode()) < 1_500_000


def test_the_data_in_the_page_is_the_day(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    data = data_of(playback_html(day, region, Words("en")))
    proj = Projection.around(region)
    assert [c["id"] for c in data["calls"]] == [3, 1, 2]
    a = data["calls"][1]
    x, y = proj.xy(CELL_A)
    assert (a["a"], a["s"], a["e"], a["q"], a["u"]) == (600, 624, 684, None, True)
    assert (a["x"], a["y"]) == (pytest.approx(x, abs=0.01), pytest.approx(y, abs=0.01))
    assert data["calls"][2]["q"] == [703, 723]
    legs = data["units"][1]["legs"]
    assert [leg[6] for leg in legs] == ["to_call", "on_scene", "to_facility", "to_base"]
    bx, by = proj.xy(LEGEVAKT)
    assert legs[0][:6] == [
        604,
        624,
        pytest.approx(bx, abs=0.01),
        pytest.approx(by, abs=0.01),
        pytest.approx(x, abs=0.01),
        pytest.approx(y, abs=0.01),
    ]
    assert data["units"][1]["duty"] == [7 <= h < 19 for h in range(24)]
    assert data["weekday"] == 1 and data["day"] == 8
    assert len(data["zones"]) == len(region.zones)
    assert {p["kind"] for p in data["places"]} == {"base", "receiving", "police"}
    assert data["speeds"] == [1, 2, 5, 10, 20] and data["msPerMinute"] == 50


def test_the_projection_is_kilometres_east_and_north(region: Any) -> None:
    proj = Projection(10.0, 60.0)
    assert proj.xy(Point(10.0, 60.0)) == (0.0, 0.0)
    x, y = proj.xy(Point(11.0, 61.0))
    assert x == pytest.approx(111.195 * 0.5) and y == pytest.approx(111.195)
    lon0, lat0, lon1, lat1 = region.zones.total_bounds
    centre = Projection.around(region)
    assert (centre.lon0, centre.lat0) == ((lon0 + lon1) / 2, (lat0 + lat1) / 2)


def test_bokmaal_words_when_lang_is_nb(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    nb = playback_html(day, region, Words("nb"))
    en = playback_html(day, region, Words("en"))
    for text in (
        "Tegnforklaring",
        "Spill av",
        "Venter på ledig enhet",
        "Politipatrulje",
        "tirsdag",
        "Simulert dag 9",
        'lang="nb"',
    ):
        assert text in nb, text
        assert text not in en, text
    for text in ("Legend", "▶ Play", "Waiting for a free unit", "Tuesday", "Simulated day 9"):
        assert text in en, text
    words = data_of(nb)["words"]
    assert [words[f"playback_weekday_{i}"] for i in range(7)] == [
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    ]
    assert data_of(nb)["lang"] == "nb"


def test_every_word_is_in_both_languages() -> None:
    source = Path(playback.__file__).read_text("utf-8")
    used = set(re.findall(r'"(playback_[a-z0-9_]*[a-z0-9])"', source)) - {"playback_html"}
    used |= {f"playback_weekday_{i}" for i in range(7)}
    used |= {
        f"playback_status_{s}"
        for s in ("to_call", "on_scene", "to_facility", "to_base", "at_base", "off_duty")
    }
    used |= {"playback_service_scenario", "playback_service_baseline"}
    for lang in ("en", "nb"):
        assert used <= ui_keys(lang), used - ui_keys(lang)
    mine = {k for k in ui_keys("en") if k.startswith("playback_")}
    assert mine == {k for k in ui_keys("nb") if k.startswith("playback_")}


def test_a_name_cannot_close_the_script(scenario: planner.Scenario, region: Any) -> None:
    day = day_of(hand_made(scenario), region, DAY)
    evil = "</script><script>alert(1)</script><!--"
    base = dataclasses.replace(day.bases[0], name=evil)
    unit = dataclasses.replace(day.units[0], name=evil)
    day = dataclasses.replace(day, bases=(base,), units=(unit, *day.units[1:]))
    page = playback_html(day, region, Words("en"))
    assert "</script><script>alert" not in page
    data = data_of(page)
    assert data["units"][0]["name"] == evil
    assert evil in [p["name"] for p in data["places"]]
    assert json.loads(script_json({"s": "a</b\u2028"})) == {"s": "a</b\u2028"}
    assert "</" not in script_json({"s": "</script>"})


def test_facility_names_are_short_on_the_map() -> None:
    short = playback._short_name
    assert short("Oslo legevakt, Aker (candidate base)", "x") == "Oslo legevakt"
    assert short("Jessheim: OUS ambulansestasjon Ullensaker (Tjernlia)", "x") == "Jessheim"
    assert short("Vestre Viken Bærum sykehus and Bærum legevakt (Gjettum)", "x") == (
        "Vestre Viken Bærum sykehus"
    )
    assert short(float("nan"), "amb_x") == "amb_x"
    long = short("Aaaaaaaaaa Bbbbbbbbbb Cccccccccc Dddddddddd", "x")
    assert long == "Aaaaaaaaaa Bbbbbbbbbb…" and len(long) <= playback.LABEL_CHARACTERS


def test_the_default_scenario_plays_its_busiest_day(region: Any) -> None:
    """A real run: the day chosen is the busiest, every call of it is on the map, the units'
    legs follow one another and the page stays small."""
    scenario = planner.load_scenario(SCENARIO)  # as shipped
    res = planner.simulate(scenario, replications=1)
    day = day_of(res, region)
    log = res.log
    per_day = (log["t_arrival"] // 1440).astype(int)
    first, stop = math.ceil(scenario.run.warmup_days), int(scenario.run.horizon_days)
    counted = per_day[(per_day >= first) & (per_day < stop)].value_counts()
    assert day.day == int(counted[counted == counted.max()].index.min())
    assert day.calls_today == counted.max()
    assert region.cells["zone_code"].iloc[log["cell"]].tolist() == log["zone"].tolist()
    for u in day.units:
        for a, b in zip(u.legs, u.legs[1:], strict=False):
            assert a.end <= b.start + 1e-9 and a.start <= a.end
    page = playback_html(day, region, Words("nb"))
    assert len(page.encode()) < 1_500_000
    data = page_data(day, region, Words("nb"))
    assert len(data["calls"]) == len(day.calls)
    places: list[Place] = [*day.bases, *day.receiving, *day.stations]
    assert [p["name"] for p in data["places"]] == [p.name for p in places]


def _dashboard_part() -> None:
    """The playback as the dashboard draws it, for a run of one replication (AppTest runs the
    function's body alone: it imports all it needs)."""
    import planner
    from planner.dashboard.model import Run, simulations_dir
    from planner.dashboard.playback import render
    from planner.dashboard.text import Words
    from planner.sim.compare import baseline_of

    s = planner.load_scenario(simulations_dir() / "oslo_akershus.toml")
    s = s.model_copy(update={"run": s.run.model_copy(update={"replications": 1})})
    render(Run(s, planner.simulate(s), planner.simulate(baseline_of(s)), 0.0), Words("nb"))


def test_the_dashboard_part_picks_the_busiest_day_and_shows_today_too() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_dashboard_part, default_timeout=120)
    at.run()
    assert not at.exception
    scenario = planner.load_scenario(SCENARIO)
    res = planner.simulate(scenario, replications=1)
    busiest = busiest_day(res.log, scenario)
    picker = at.selectbox[0]
    assert picker.value == busiest
    d0 = math.ceil(scenario.run.warmup_days)  # the first full day after the warm-up
    count = int(((res.log["t_arrival"] // 1440) == d0).sum())
    weekday = ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"][d0 % 7]
    assert picker.options[0] == f"{weekday}, dag {d0 + 1} · {count} henvendelser"
    assert any(o.endswith("· det travleste") for o in picker.options)

    def page() -> str:
        frames = [e for e in at.main if type(e).__name__ == "UnknownElement"]
        return str(frames[-1].proto.srcdoc)

    data = data_of(page())
    assert data["day"] == busiest and len(data["units"]) == len(scenario.fleet.units)
    at.radio[0].set_value("baseline").run()
    data = data_of(page())
    assert data["day"] == busiest and data["units"] == []
    assert "Ingen psykiatriske ambulanseenheter" in page()
    picker = at.selectbox[0]
    picker.set_value(20).run()
    assert data_of(page())["day"] == 20


def test_police_called_as_backup_stay_until_the_scene_ends(
    scenario: planner.Scenario, region: Any
) -> None:
    res = results_of(
        scenario,
        [
            row(
                call=7,
                zone="3222",
                cell=int(region.cells.index[region.cells["zone_code"] == "3222"][0]),
                t_arrival=900,
                t_health_alerted=903,
                t_dispatch=903,
                t_unit_on_scene=930,
                t_first_on_scene=930,
                t_police_alerted=930,
                t_police_on_scene=931,
                t_scene_end=1000,
                t_unit_free=1030,
                unit=2,
                patrol_minutes=999,  # not read: the scene's end says when they left
                police_involved=True,
                police_needed=True,
                backup=True,
            )
        ],
    )
    day = day_of(res, region, DAY)
    (visit,) = day.police
    assert [(leg.activity, leg.start, leg.end) for leg in visit.legs] == [
        ("to_call", 930, 931),
        ("on_scene", 931, 1000),
    ]
    # Lørenskog (3222) is in the Øst district: Lillestrøm, not the nearer Oslo øst station
    assert visit.station.id == "politi_lillestrom"
    assert day.units[2].base.id == "ahus" and len(day.units[2].legs) == 3
