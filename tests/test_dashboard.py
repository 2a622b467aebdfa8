"""The dashboard: every page driven through Streamlit's AppTest, and the functions behind it.

Each page test changes a parameter, runs, and checks that the figures shown are the ones the
core computes for the same scenario — not merely that something was drawn.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import planner
from planner.dashboard import model, serve, state
from planner.dashboard.pages.scenario import inline, parse_inline
from planner.dashboard.text import JOINER, _raw, plain, ui_keys, words
from planner.economics.appraisal import appraise, headline
from planner.geo.geodata import load_region
from planner.optimise.loop import Target
from planner.scenario.loading import ScenarioError
from planner.scenario.parameters import registry
from planner.sim.compare import baseline_of, paired_differences, paired_table, police_hours_freed
from planner.sim.kpis import KPIS

ROOT = Path(__file__).resolve().parent.parent
REPS = 3  # enough for intervals; keeps each page test to seconds
APP = str(serve.APP)  # the script `planner dashboard` serves, as installed


def shown(markdown: str) -> str:
    """What a reader sees of markdown with escaped punctuation (user text, see ``plain``)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(JOINER, "")


# -- the functions behind the pages ------------------------------------------------------------


def test_both_languages_have_every_word() -> None:
    assert ui_keys("en") == ui_keys("nb")
    for path in registry():
        key = f"situations.{path.split('.')[-1]}" if path.startswith("situations.") else path
        assert key in _raw()["params"], f"no plain-words name for {path}"
        assert {"en", "nb"} <= set(_raw()["params"][key])
    for section in {p.split(".")[0] for p in registry()}:
        assert words("nb").section(section) != section or section in ("region", "scenario")


@pytest.mark.parametrize("path", sorted(registry()))
def test_every_default_survives_the_text_field(path: str) -> None:
    """What the scenario page shows in a text field parses back to the same value."""
    value = registry()[path].value
    assert parse_inline(inline(value)) == value


@pytest.mark.parametrize("text", ["1\nw = 2", "{ dist = ", "'a' 'b'", "[1, 2", "__import__('os')"])
def test_typed_values_are_data_never_code(text: str) -> None:
    with pytest.raises(Exception) as exc:
        parse_inline(text)
    assert isinstance(exc.value, ValueError)


def test_set_value_keeps_only_what_differs() -> None:
    raw = model.set_value({}, "demand.year", 2030)
    assert raw == {"demand": {"year": 2030}}
    assert model.set_value(raw, "demand.year", 2026) == {}  # back to the default: gone
    assert model.to_toml(raw).strip() == "[demand]\nyear = 2030"


def test_resize_fleet_copies_units_in_turn_and_turns_on_dispatch() -> None:
    raw = model.shipped_scenarios()["oslo_akershus"]
    six = model.merged(model.resize_fleet(raw, 6))["fleet"]["units"]
    assert [u["base"] for u in six] == [
        "oslo_legevakt",
        "oslo_legevakt",
        "ahus",
        "baerum_sykehus",
        "oslo_legevakt",
        "oslo_legevakt",
    ]
    assert len({u["name"] for u in six}) == 6
    assert len(model.merged(model.resize_fleet(raw, 1))["fleet"]["units"]) == 1
    one = model.resize_fleet(model.shipped_scenarios()["baseline"], 1)
    scenario, problems = model.validate(one)
    assert problems == [] and scenario is not None
    assert scenario.dispatch.policy == "health-first" and len(scenario.fleet.units) == 1


def test_a_name_that_counts_the_units_follows_the_fleet() -> None:
    raw = model.shipped_scenarios()["oslo_akershus"]
    assert model.merged(raw)["scenario"]["name"] == "Psykiatrisk ambulanse: 4 enheter"
    eight = model.resize_fleet(raw, 8)
    assert model.merged(eight)["scenario"]["name"] == "Psykiatrisk ambulanse: 8 enheter"
    one = model.set_value(raw, "scenario.name", "Plan B, 4 enheter, 2 baser")
    assert (
        model.merged(model.resize_fleet(one, 5))["scenario"]["name"] == "Plan B, 5 enheter, 2 baser"
    )
    other = model.set_value(raw, "scenario.name", "Plan C: 3 units in the east")  # not its count
    assert (
        model.merged(model.resize_fleet(other, 6))["scenario"]["name"]
        == "Plan C: 3 units in the east"
    )


def test_simulation_key_ignores_prices_but_not_the_fleet() -> None:
    raw = model.shipped_scenarios()["oslo_akershus"]
    s = model.validate(raw)[0]
    dearer = model.validate(model.set_value(raw, "costs.police_officer_hour", 1500.0))[0]
    bigger = model.validate(model.resize_fleet(raw, 5))[0]
    assert s and dearer and bigger
    assert model.simulation_key(s) == model.simulation_key(dearer)
    assert model.simulation_key(s) != model.simulation_key(bigger)


def test_uploads_are_validated_like_the_cli() -> None:
    good = (ROOT / "simulations" / "bergen.toml").read_bytes()
    assert model.read_upload(good, "bergen.toml")["region"]["name"] == "bergen"
    for data, fragment in (
        (b"\xff\xfe", "not UTF-8"),
        (b"[demand\n", "not valid TOML"),
        (b"[demand]\nrate_per_1000_per_year = -1\n", "demand.rate_per_1000_per_year"),
        (b"x" * 1_000_001, "larger than"),
    ):
        with pytest.raises(ScenarioError) as exc:
            model.read_upload(data, "up.toml")
        assert fragment in exc.value.problems[0]


@pytest.mark.parametrize(
    "text",
    [
        "![x](https://evil.example/x.png)",
        "[click](javascript:alert(1)) <img src=x onerror=alert(1)> &lt;b&gt;",
        "# head\n- item\n1. one\r\n> quote | a | b |",
        "**bold** _it_ ~~s~~ `code` $x^2$ :red[colour] :material/home: :smile: www.evil.example",
        "Bærum sykehus · «planlagt» \\ back\tslash",
        "mail a.b+c@evil.example or HTTPS://evil.example, WWW.evil.example, http:x",
    ],
)
def test_user_text_is_shown_as_typed_never_as_markdown(text: str) -> None:
    out = plain(text)
    # every ASCII punctuation mark is escaped, so none of them starts markdown or HTML
    unescaped = re.sub(r"\\.", "", out)
    assert not any(c in unescaped for c in "!<>[]()&*_`$:#|~-\\")
    assert "\n" not in out and "\r" not in out and "\t" not in out  # one line, always
    # no address GitHub-flavoured markdown would link (it looks past the escapes)
    seen = re.sub(r"\\(.)", r"\1", out)
    assert not re.search(r"(?i)https?://|www\.|[\w.+-]@", seen)
    # and a reader sees exactly the characters typed (control characters written out)
    assert shown(out) == "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def test_only_this_servers_loopback_name_and_port_are_answered() -> None:
    ok = serve.host_allowed
    assert ok([(b"host", b"127.0.0.1:8501")], 8501)
    assert ok([(b"Host", b"LOCALHOST:8501")], 8501)
    for headers in (
        [(b"host", b"evil.example")],
        [(b"host", b"evil.example:8501")],
        [(b"host", b"127.0.0.1:8502")],
        [(b"host", b"127.0.0.1")],
        [(b"host", b"127.0.0.1.evil.example:8501")],
        [(b"host", b"127.0.0.1:8501"), (b"host", b"evil.example")],
        [(b"host", b"\xff")],
        [],
    ):
        assert not ok(headers, 8501), headers
    # the settings the server starts with, wherever it is started from
    assert serve.SETTINGS["server.address"] == "127.0.0.1"
    assert serve.SETTINGS["server.maxUploadSize"] == 1
    assert serve.SETTINGS["browser.gatherUsageStats"] is False
    assert serve.SETTINGS["client.showErrorDetails"] == "none"
    assert serve.SETTINGS["server.headless"] is True
    assert serve.APP.is_file() and serve.APP.parent.name == "entry"
    assert not (serve.APP.parent / "pages").exists()  # Streamlit would make its files pages


def test_planner_dashboard_refuses_a_taken_or_impossible_port(cli) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("dashboard", "--port", port)
    assert done.code == 2 and done.err.strip().count("\n") == 0
    assert f"127.0.0.1:{port} is in use" in done.err
    done = cli("dashboard", "--port", 70000)
    assert done.code == 2 and "--port" in done.err


@pytest.fixture(scope="module")
def small_run() -> model.Run:
    raw = model.set_value(model.shipped_scenarios()["oslo_akershus"], "run.replications", REPS)
    s = model.validate(raw)[0]
    assert s is not None
    res = planner.simulate(s)
    return model.Run(s, res, planner.simulate(baseline_of(s)), 0.0)


def test_zone_figures_add_up_to_the_region(small_run: model.Run) -> None:
    s = small_run.scenario
    z = model.zone_figures(small_run, s, load_region("oslo_akershus"))
    assert len(z) == 38
    expected = z["expected_calls"].sum()
    people = load_region("oslo_akershus").cells["population"].sum()
    assert expected == pytest.approx(
        people * s.demand.rate_per_1000_per_year / 1000 * s.demand.growth_factor
    )
    assert z["calls"].sum() == pytest.approx(small_run.results.kpi("calls_per_year"))
    freed = police_hours_freed(small_run.baseline, small_run.results)[0]  # type: ignore[arg-type]
    assert z["police_hours_freed"].sum() == pytest.approx(freed)


def test_histogram_and_fallbacks_count_every_call(small_run: model.Run) -> None:
    res = small_run.results
    hist = model.response_histogram(res)
    assert hist["calls"].sum() == pytest.approx(res.kpi("calls_per_year"), rel=1e-9)
    unit_calls = hist.loc[hist["unit"], "calls"].sum()
    assert unit_calls == pytest.approx(res.kpi("unit_missions_per_year"))
    fb = model.fallback_reasons(res)
    assert fb["per_year"].sum() == pytest.approx(res.kpi("fallbacks_per_year"))


# -- the pages, through AppTest ----------------------------------------------------------------


def _app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.sidebar.radio(key="lang").set_value(lang).run()
    assert not at.exception
    return at


def _page(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sidebar_number(at: AppTest, prefix: str) -> Any:
    return next(n for n in at.sidebar.number_input if str(n.key).startswith(prefix))


def _run(at: AppTest, units: int | None = None, reps: int = REPS) -> AppTest:
    _sidebar_number(at, "replications:").set_value(reps).run()
    if units is not None:
        _sidebar_number(at, "units:").set_value(units).run()
    at.sidebar.button(key="run_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def _core(units: int | None = None, **changes: Any) -> planner.Scenario:
    raw = model.set_value(model.shipped_scenarios()["oslo_akershus"], "run.replications", REPS)
    if units is not None:
        raw = model.resize_fleet(raw, units)
    for path, value in changes.items():
        raw = model.set_value(raw, path, value)
    s = model.validate(raw)[0]
    assert s is not None
    return s


def test_scenario_page_validates_edits_and_opens_shipped_files() -> None:
    at = _page(_app(), "scenario")
    rate = at.number_input(key="p0:demand.rate_per_1000_per_year")
    rate.set_value(-1.0).run()
    assert any("demand.rate_per_1000_per_year" in shown(e.value) for e in at.error)
    assert at.sidebar.button(key="run_button").disabled
    at.number_input(key="p0:demand.rate_per_1000_per_year").set_value(12.5).run()
    assert not at.error and not at.sidebar.button(key="run_button").disabled
    assert at.session_state.raw["demand"]["rate_per_1000_per_year"] == 12.5
    # a structured value typed wrong is named; typed right it is kept
    field = at.text_input(key="p0:police.patrols")
    field.set_value("{ oslo = }").run()
    assert any("police.patrols" in shown(e.value) for e in at.error)
    at.text_input(key="p0:police.patrols").set_value("{ oslo = 9, ost = 4 }").run()
    assert at.session_state.raw["police"]["patrols"] == {"oslo": 9, "ost": 4}
    # a time is edited in its own fields (tests/test_distribution_fields.py has the rest)
    at.number_input(key="p0:fleet.mobilisation:value").set_value(4.0).run()
    assert at.session_state.raw["fleet"]["mobilisation"] == {"dist": "fixed", "value": 4.0}
    # open a shipped scenario: every widget shows its values
    at.selectbox(key="shipped_pick").set_value("bergen").run()
    at.button(key="open_shipped").click().run()
    assert (
        at.text_input(key="p1:scenario.name").value
        == planner.load_scenario(ROOT / "simulations" / "bergen.toml").scenario.name
    )
    assert at.selectbox(key="p1:region.name").value == "bergen"


def test_results_page_shows_the_cores_figures_after_a_run() -> None:
    at = _page(_app(), "results")
    assert any("Run simulation" in i.value for i in at.info)  # nothing run yet
    _run(at, units=6)
    core = planner.simulate(_core(units=6))
    assert _metric(at, "Eligible calls met health-first") == (
        f"{core.kpi('share_health_first') * 100:.1f} %"
    )
    assert (
        _metric(at, "Psychiatric ambulance missions")
        == f"{core.kpi('unit_missions_per_year'):,.0f}"
    )
    freed = police_hours_freed(planner.simulate(baseline_of(_core(units=6))), core)[0]
    assert _metric(at, "Police officer-hours freed") == f"{freed:,.0f} h"
    table = at.dataframe[0].value
    own = ~core.kpis["kpi"].str.contains(".", regex=False)  # the districts' have their table
    assert len(table) == int(own.sum())
    districts = at.dataframe[1].value  # the patrols' KPIs, a column per district
    assert list(districts.columns) == [
        "KPI",
        "Oslo politidistrikt",
        "Øst politidistrikt (Akershus part)",
        "Unit",
    ]
    p90 = core.kpis.set_index("kpi").loc["p1_response_p90.oslo", "mean"]
    assert districts.iloc[1, 1].startswith(f"{p90:.1f} (")


def test_map_page_shows_a_zones_figures() -> None:
    at = _page(_app(), "map")
    at.selectbox(key="map_metric").set_value("police_hours_freed").run()
    assert any("Run the simulation" in i.value for i in at.info)
    _run(at)
    at.selectbox(key="map_metric").set_value("police_hours_freed").run()
    at.selectbox(key="map_zone").set_value("030101").run()
    assert not at.exception
    s = _core()
    res, base = planner.simulate(s), planner.simulate(baseline_of(s))
    # independent of the dashboard: the core's zone table and the two event logs
    median = res.by_zone.set_index("zone").loc["030101", "median"]
    warm = s.run.warmup_days * 1440

    def hours(r: planner.Results) -> float:
        d = r.log[(r.log["t_arrival"] >= warm) & (r.log["zone"] == "030101")]
        return (
            float(d["officer_hours"].sum())
            / REPS
            / ((s.run.horizon_days - s.run.warmup_days) / 365)
        )

    text = "\n".join(m.value for m in at.markdown)
    assert f"{hours(base) - hours(res):,.1f}" in text
    assert f"{median:,.1f}" in text
    assert "Gamle Oslo" in text


def test_compare_page_gives_paired_differences() -> None:
    at = _page(_app(), "compare")
    _sidebar_number(at, "replications:").set_value(REPS).run()
    at.multiselect(key="compare_pick").set_value(["shipped:baseline", "current"]).run()
    at.button(key="compare_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    base = planner.simulate(
        planner.load_scenario(ROOT / "simulations" / "baseline.toml"), replications=REPS
    )
    core = planner.simulate(_core())
    diff = paired_differences(base, core).set_index("kpi")
    row = table[table["KPI"] == "Police officer-hours"].iloc[0]
    column = next(c for c in table.columns if "−" in c)
    expected = f"{diff.loc['police_officer_hours', 'difference']:,.0f}".replace(
        "-", "\N{MINUS SIGN}"
    )
    assert row[column].startswith(expected)


def test_optimise_page_finds_a_service_and_opens_a_frontier_point() -> None:
    at = _app()
    _page(at, "scenario")
    at.selectbox(key="shipped_pick").set_value("bergen").run()
    at.button(key="open_shipped").click().run()
    _page(at, "optimise")
    at.number_input(key="opt_reps").set_value(2).run()
    at.number_input(key="opt_max_units").set_value(2).run()
    field = at.number_input(key="opt_value:share_health_first")
    assert field.label.endswith("(%)") and field.value == 90.0  # a share in per cent
    field.set_value(50.0).run()
    at.button(key="optimise_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state.optimised["target"] == str(Target("share_health_first", ">=", 0.5))
    frontier = at.session_state.optimised["frontier"]
    assert list(frontier["units"]) == [1, 2]
    assert frontier["cost_per_year"].is_monotonic_increasing
    seen = at.dataframe[-1].value  # as a reader takes it in: words, NOK million, per cent
    assert list(seen["Units at the busiest hour"]) == ["1", "2"]
    costs = [f"{c / 1e6:,.1f}" for c in frontier["cost_per_year"]]
    assert list(seen["Cost (NOK million a year)"]) == costs
    assert all(v.endswith(" %") for v in seen["Eligible calls met health-first"])
    rounds = at.session_state.optimised["outcome"].rounds
    log = [m.value for m in at.markdown]
    for r in rounds:  # the log has a line per round, in the reader's words
        assert any(
            m.startswith(f"Round {r.number}: {len(r.proposal.vehicles)} vehicles") for m in log
        )
    at.selectbox(key="frontier_pick").set_value(2).run()
    at.button(key="open_point").click().run()
    raw = at.session_state.raw
    units = raw["fleet"]["units"]
    assert raw["scenario"]["name"] == "frontier: 2 units" and units
    assert model.validate(raw)[0] is not None
    assert any("frontier: 2 units" in shown(s.value) for s in at.success)


def test_cost_benefit_page_recomputes_without_simulating() -> None:
    at = _page(_app(), "economics")
    _run(at)
    s = _core()
    res, base = planner.simulate(s), planner.simulate(baseline_of(s))
    h = headline(s, appraise(s, res.per_replication, base.per_replication), res.kpis)
    assert _metric(at, "Net present value") == f"{h.npv.mean / 1e6:,.1f}".replace(
        "-", "\N{MINUS SIGN}"
    )
    seconds = at.session_state.run.seconds
    at.number_input(key="p0:costs.police_officer_hour").set_value(1580.0).run()
    dear = _core(**{"costs.police_officer_hour": 1580.0})
    h2 = headline(dear, appraise(dear, res.per_replication, base.per_replication), res.kpis)
    assert _metric(at, "Net present value") == f"{h2.npv.mean / 1e6:,.1f}".replace(
        "-", "\N{MINUS SIGN}"
    )
    assert h2.npv.mean > h.npv.mean
    assert at.session_state.run.seconds == seconds  # the same run: nothing re-simulated
    assert not any("earlier version" in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_decision_box_gives_the_economics_figures_in_plain_words(lang: str) -> None:
    """Units, named bases and shifts of the default fleet (4 units, worked out from
    simulations/oslo_akershus.toml), and every figure as the core computes it."""
    at = _page(_app(lang), "economics")
    _run(at)
    s = _core()
    res, base = planner.simulate(s), planner.simulate(baseline_of(s))
    h = headline(s, appraise(s, res.per_replication, base.per_replication), res.kpis)
    seen = shown(" ".join(m.value for m in at.markdown))
    today = float(base.kpis.set_index("kpi").loc["response_median", "mean"])
    after = h.response_median.mean

    def n(v: float, d: int = 0) -> str:
        text = f"{v:,.{d}f}"
        return text.replace(",", " ").replace(".", ",") if lang == "nb" else text

    if lang == "nb":
        assert "4 psykiatriske ambulanser, stasjonert ved Oslo legevakt, Aker (2)" in seen
        assert "Ahus Nordbyhagen (1) og Vestre Viken Bærum sykehus" in seen
        assert "Vakter: kveld (2), dag (1) og sen (1)" in seen
        assert f"Kostnad: {n(h.cost_per_year / 1e6, 1)} mill. kr i året" in seen
        assert f"{n(h.police_hours_freed.mean)} polititimer frigjort" in seen
        assert f"{n(h.police_car_transports_avoided.mean)} færre pasienter" in seen
        assert f"{n(h.police_encounters_avoided.mean)} færre møter" in seen
        assert f"median {n(after, 1)} min til første hjelp" in seen
        assert f"mot {n(today, 1)} min med politiet i dag" in seen
    else:
        assert "4 psychiatric ambulances, based at Oslo legevakt, Aker (2)" in seen
        assert "Shifts: evening (2), day (1) and late (1)" in seen
        assert f"Cost: NOK {n(h.cost_per_year / 1e6, 1)} million a year" in seen
        assert f"{n(h.police_hours_freed.mean)} police hours freed" in seen
        assert f"against {n(today, 1)} min with today's police" in seen
    sign = "+" if after > today else "−"
    assert f"{sign}{n(abs(after - today), 1)} min" in seen
    assert not at.exception


def test_bokmaal_is_the_default_and_numbers_read_the_norwegian_way() -> None:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert at.sidebar.button(key="run_button").label == "Kjør simulering"
    _page(at, "results")
    _run(at)
    core = planner.simulate(_core())
    missions = core.kpi("unit_missions_per_year")
    assert _metric(at, "Oppdrag for psykiatrisk ambulanse") == f"{missions:,.0f}".replace(",", " ")
    assert math.isfinite(missions)


def test_results_go_stale_when_the_scenario_changes() -> None:
    at = _page(_app(), "results")
    _run(at)
    assert not at.warning
    _sidebar_number(at, "units:").set_value(2).run()
    assert any("earlier version" in w.value for w in at.warning)


def test_the_dashboard_opens_the_shipped_default_unchanged() -> None:
    import tomllib

    at = _app()
    with open(ROOT / "simulations" / "oslo_akershus.toml", "rb") as f:
        assert at.session_state.raw == tomllib.load(f)
    assert _sidebar_number(at, "units:").value == 4


def test_one_setting_shown_twice_stays_the_same_in_both_places() -> None:
    at = _page(_app(), "scenario")
    at.number_input(key="p0:run.replications").set_value(7).run()
    assert _sidebar_number(at, "replications:").value == 7
    seed = next(t for t in at.sidebar.text_input if str(t.key).startswith("seed:"))
    seed.set_value("99").run()
    assert at.text_input(key="p0:run.seed").value == "99"
    assert at.session_state.raw["run"]["seed"] == 99
    # growing a baseline's fleet turns on health-first dispatch, and the policy field says so
    at.selectbox(key="shipped_pick").set_value("baseline").run()
    at.button(key="open_shipped").click().run()
    assert at.selectbox(key="p1:dispatch.policy").value == "baseline"
    _sidebar_number(at, "units:").set_value(1).run()
    assert at.selectbox(key="p1:dispatch.policy").value == "health-first"
    assert not at.exception


def test_the_largest_valid_run_settings_do_not_break_the_page() -> None:
    at = _page(_app(), "scenario")
    at.text_input(key="p0:run.seed").set_value(str(2**62)).run()
    at.number_input(key="p0:run.replications").set_value(2000).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state.raw["run"] == {"seed": 2**62, "replications": 2000}
    assert _sidebar_number(at, "replications:").value == 2000
    at.sidebar.text_input(key="seed:0").set_value("not a number").run()
    assert any("run.seed" in shown(e.value) for e in at.sidebar.error)
    assert at.session_state.raw["run"]["seed"] == 2**62


def test_compare_names_an_invalid_scenario_and_refuses_two_regions() -> None:
    at = _page(_app(), "scenario")
    at.number_input(key="p0:run.horizon_days").set_value(-5.0).run()
    _page(at, "compare")
    assert any("run.horizon_days" in shown(e.value) for e in at.error)

    _page(at, "scenario")
    at.number_input(key="p0:run.horizon_days").set_value(60.0).run()
    _page(at, "compare")
    at.multiselect(key="compare_pick").set_value(["shipped:bergen", "current"]).run()
    assert any("different regions" in e.value for e in at.error)
    assert not at.exception


def test_stored_replications_are_compared_on_the_ones_both_have() -> None:
    a = pd.DataFrame({"replication": [0, 1, 2, 3], "calls_per_year": [10.0, 12.0, 30.0, 40.0]})
    b = pd.DataFrame({"replication": [0, 1], "calls_per_year": [11.0, 15.0]})
    row = paired_table(a, b).set_index("kpi").loc["calls_per_year"]
    assert row["a"] == 11.0 and row["b"] == 13.0 and row["difference"] == 2.0


def test_compare_page_reads_a_sweeps_store(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from planner.store.database import Store

    store = tmp_path / "sweep.duckdb"
    done = cli(
        "sweep", ROOT / "simulations" / "sweep_check.toml", "--store", store, "--workers", "1"
    )
    assert done.code == 0, done.err
    with Store.open(store, read_only=True) as s:
        frame = s.scenarios()
        first, second = frame["hash"].iloc[0], frame["hash"].iloc[1]
        toml = [s.scenario(h).toml for h in (first, second)]
        seed = s.seed_of(first)
        reps = int(frame["replications"].iloc[0])
    at = _page(_app(), "compare")
    at.text_input(key="store_path").set_value(str(store)).run()
    at.multiselect(key="store_pick").set_value([first, second]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    # the stored figures are the simulation's: re-simulate both stored scenarios directly
    runs = []
    for text in toml:
        path = tmp_path / "s.toml"
        path.write_text(text, "utf-8")
        sc = planner.load_scenario(path)
        runs.append(planner.simulate(sc, replications=reps, seed=seed))
    diff = paired_differences(runs[0], runs[1]).set_index("kpi")
    row = table[table["KPI"] == "Crisis calls"].iloc[0]
    column = next(c for c in table.columns if "−" in c)
    assert row[column].startswith(f"{diff.loc['calls_per_year', 'difference']:.1f}")
    row = table[table["KPI"] == "Psychiatric ambulance missions"].iloc[0]
    assert row[column].startswith(f"{diff.loc['unit_missions_per_year', 'difference']:,.0f}")


EVIL = "![x](https://evil.example/x.png)"


def _markdown_texts(at: AppTest) -> list[str]:
    """Every string on the page that Streamlit draws as markdown: the bodies of markdown,
    captions, headings and alerts, and the labels and help of widgets, expanders and tabs."""
    found: list[str] = []

    def proto_strings(message: Any) -> None:
        for field, value in message.ListFields():
            if field.message_type is not None:
                for m in [value] if hasattr(value, "ListFields") else value:
                    proto_strings(m)
            elif field.name in ("body", "label", "help", "text") and isinstance(value, str):
                found.append(value)

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", "") not in ("text", "code"):
            proto_strings(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return found


def test_a_scenario_name_is_shown_as_text_never_as_markdown() -> None:
    """A markdown image in a scenario's name (or a situation's label, or a value a problem
    quotes) is shown as typed: nothing on the page is markdown that would fetch it."""
    at = _page(_app(), "scenario")
    at.text_input(key="p0:scenario.name").set_value(EVIL).run()
    at.text_input(key="p0:situations.suicidal.label").set_value(EVIL).run()
    bad = '{ oslo = "![y](https://evil.example/y.png)" }'
    at.text_input(key="p0:police.patrols").set_value(bad).run()
    assert any("evil.example/y.png" in shown(e.value) for e in at.error)  # the problem quotes it
    at.button(key="keep").click().run()  # kept as it is, invalid, for the Compare page
    assert any(shown(s.value) == f"Kept “{EVIL}” for the Compare page." for s in at.success)
    assert any(shown(x.label).startswith(EVIL) for x in at.expander)
    texts = _markdown_texts(at)
    assert not [t for t in texts if "![" in t]
    at.text_input(key="p0:police.patrols").set_value("{ oslo = 9, ost = 4 }").run()
    _page(at, "results")
    _run(at)
    caption = next(c.value for c in at.caption if "Results of" in c.value)
    assert shown(caption).startswith(f"Results of “{EVIL}”")
    _page(at, "compare")
    at.multiselect(key="compare_pick").set_value([f"kept:{EVIL}", "current"]).run()
    assert any(shown(e.value).startswith(f"“{EVIL}” is not a valid scenario") for e in at.error)
    for page in ("results", "compare", "scenario", "map", "economics"):
        _page(at, page)
        texts = _markdown_texts(at)
        assert texts and not [t for t in texts if "![" in t or "](" in t], page


def test_the_map_asks_for_no_base_map() -> None:
    """pydeck's map_style=None would let Streamlit's frontend fetch CARTO's base map style;
    map_provider=None sends pydeck's "no style" marker, which the frontend leaves without one."""
    at = _page(_app(), "map")
    deck = at.get("deck_gl_json_chart")[0].proto.json
    assert "://" not in deck  # no URL of any kind: style, tiles, fonts or data
    assert json.loads(deck).get("mapStyle") == "__MAP_STYLE__"
    assert "mapProvider" not in json.loads(deck)


def test_compare_names_scenarios_by_their_own_names_and_never_twice_alike() -> None:
    from planner.dashboard.pages.compare import distinct

    assert distinct(["A", "B", "A", "A", "A (2)"]) == ["A", "B", "A (2)", "A (3)", "A (2) (2)"]
    at = _page(_app(), "compare")
    options = at.multiselect(key="compare_pick").options
    assert "I dag: politiet rykker ut" in options and "M/M/3 check" in options
    assert not any(o.endswith(".toml") for o in options)


def test_compare_charts_three_kpis_with_their_own_axis_titles() -> None:
    at = _page(_app(), "compare")
    _sidebar_number(at, "replications:").set_value(REPS).run()
    at.multiselect(key="compare_pick").set_value(["shipped:baseline", "current"]).run()
    at.button(key="compare_run").click().run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = {
        e["x"].get("title")
        for spec in specs
        for layer in spec.get("layer", [])
        for e in [layer.get("encoding", {})]
        if "x" in e
    }
    assert titles == {
        "Police officer-hours (h per year)",
        "Eligible calls met health-first (%)",
        "Response time, median (min)",
    }
    assert not any(str(t).endswith(", lo") for t in titles)


def test_excel_downloads_hold_the_tables_numbers_as_numbers() -> None:
    import io

    from planner.dashboard.pages.compare import comparison_numbers
    from planner.dashboard.view import kpi_numbers

    w = words("nb")
    core = planner.simulate(_core())
    base = planner.simulate(baseline_of(_core()))
    kpis = kpi_numbers(core.kpis, w)
    table = comparison_numbers(
        w, ["I dag", "Forslag"], [base.per_replication, core.per_replication]
    )
    book = model.to_excel({"Nøkkeltall: med [95 %]?": kpis, "Sammenligning": table})
    sheets = pd.read_excel(io.BytesIO(book), sheet_name=None)
    assert list(sheets) == ["Nøkkeltall med 95 %", "Sammenligning"]  # Excel's forbidden characters
    back = sheets["Nøkkeltall med 95 %"].set_index("key")
    mean = core.kpis.set_index("kpi")["mean"]
    assert back["Gjennomsnitt"].to_numpy() == pytest.approx(mean.to_numpy(), nan_ok=True)
    diff = paired_differences(base, core).set_index("kpi")
    got = sheets["Sammenligning"].set_index("key")
    col = w("difference", a="I dag", b="Forslag")
    hours = "police_officer_hours"
    assert got.loc[hours, col] == pytest.approx(diff.loc[hours, "difference"])
    assert got.loc[hours, f"{col}: {w('ci_low')}"] == pytest.approx(diff.loc[hours, "ci_low"])
    assert got.loc[hours, "I dag"] == pytest.approx(base.kpi(hours))


def test_parameter_units_read_in_bokmaal_and_every_shown_unit_has_a_word() -> None:
    from planner.dashboard.text import _raw

    nb, en = words("nb"), words("en")
    assert nb.param_unit("NOK / officer-hour") == "kr per tjenestepersontime"
    assert en.param_unit("NOK / officer-hour") == "NOK / officer-hour"
    # every unit short enough to be shown beside a field's name has its bokmål word
    shown = {
        p.unit
        for p in registry().values()
        if 0 < len(p.unit) <= 28 and p.unit not in ("text", "bool") and "|" not in p.unit
    }
    missing = shown - set(_raw()["param_units"]["nb"])
    assert not missing, sorted(missing)
    at = _page(_app("nb"), "economics")
    _run(at)
    field = at.text_input(key="p0:costs.police_officer_hour")  # a bokmål number: "790"
    assert field.label == "Verdi av en polititime (kr per tjenestepersontime)", field.label


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_health_first_share_has_one_name_in_the_dashboard_and_the_report(lang: str) -> None:
    from planner.report.document import text as report_text

    w = words(lang)
    names = {
        w("health_first"),  # the Results page's card
        w("metric_share_health_first"),  # the map's measure
        w.kpi("share_health_first"),  # the KPI and compare tables
        report_text(lang)["health_first"],  # the report's headline table
    }
    assert len(names) == 1, names
    if lang == "en":  # the command line prints the KPI's own label
        assert names == {next(k.label for k in KPIS if k.key == "share_health_first")}


@pytest.mark.parametrize(
    ("lang", "simulated", "before"),
    [
        ("en", "Simulated in ", "Simulated before with the same settings"),
        ("nb", "Simulert på ", "Simulert før med de samme innstillingene"),
    ],
)
def test_a_run_found_simulated_before_says_so(lang: str, simulated: str, before: str) -> None:
    """Not "Simulated in 0.0 s": a run whose results were all in the cache says it found them."""
    state.clear_cache()
    at = _run(_app(lang), reps=2)
    said = [c.value for c in at.sidebar.caption]
    assert any(c.startswith(simulated) and c.endswith(" s.") for c in said), said
    assert at.session_state.run.from_cache is False
    again = _run(_app(lang), reps=2)  # another session, the same scenario
    assert again.session_state.run.from_cache is True
    assert any(c.startswith(before) for c in (x.value for x in again.sidebar.caption))
    assert not any(c.startswith(simulated) for c in (x.value for x in again.sidebar.caption))
