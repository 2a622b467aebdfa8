"""The Optimise page in the reader's language: why the optimiser stopped, its log, its tables,
and a spread service when the optimum stacks every unit at one base; and what a Stop keeps."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import ROOT, shown

from planner.dashboard import serve
from planner.dashboard.pages.optimise import readable, stop_words
from planner.dashboard.text import words
from planner.optimise.loop import Outcome, Stop, Target, instance, propose
from planner.scenario.loading import load_scenario, scenario_from_dict
from planner.scenario.parameters import deep_merge

TARGET = Target("share_health_first", ">=", 0.9)


@pytest.mark.parametrize(
    ("stop", "nb", "en"),
    [
        (
            Stop("budget", TARGET, 3, cost=12_345_678.0, budget=10e6),
            "Budsjettet er brukt opp: runde 3 ville koste 12,3 millioner kroner per år, "
            "over budsjettet på 10,0 millioner.",
            "budget spent: round 3 would cost NOK 12,345,678 a year, above the budget of "
            "NOK 10,000,000",
        ),
        (
            Stop("met", TARGET, 2),
            "Målet ble nådd i runde 2.",
            "target share_health_first>=0.9 met in round 2",
        ),
        (
            Stop("max_units", TARGET, 4, limit=10),
            "Målet ble ikke nådd med 10 enheter samtidig (den største flåten som er tillatt).",
            "target share_health_first>=0.9 not met with 10 units (optimise.max_units)",
        ),
        (
            Stop("met_then_missed", TARGET, 3),
            "Målet ble nådd; runde 3 prøvde en mindre tjeneste og bommet.",
            "target share_health_first>=0.9 met; round 3 tried a smaller service and missed it",
        ),
        (
            Stop("no_shortfall", TARGET, 2),
            "Målet ble ikke nådd, og ingen aktuell henvendelse manglet en enhet: flere enheter "
            "ville ikke hjelpe.",
            "target share_health_first>=0.9 not met, and no eligible call missed a unit",
        ),
        (
            Stop("rounds_met", TARGET, 6, limit=6),
            "Målet ble nådd; stoppet etter 6 runder.",
            "target share_health_first>=0.9 met; stopped after 6 rounds",
        ),
        (
            Stop("rounds", TARGET, 6, limit=6),
            "Målet ble ikke nådd etter 6 runder (flest runder som er tillatt).",
            "target share_health_first>=0.9 not met after 6 rounds (optimise.max_rounds)",
        ),
    ],
)
def test_why_it_stopped_in_bokmal_and_as_the_files_say_it(stop: Stop, nb: str, en: str) -> None:
    assert stop_words(stop, words("nb")) == nb
    assert str(stop) == en  # the command line's and optimised.toml's words are unchanged
    assert Outcome(stop=stop).stopped == en


def test_tables_are_in_words_with_norwegian_numbers() -> None:
    import pandas as pd

    table = pd.DataFrame(
        {
            "units": [1, 12],
            "bases": ["amb_ryen×2", "amb_ryen amb_sandvika"],
            "cost_per_year": [23_456_789.0, 1_234_567_890.0],
            "share_health_first": [0.5, 0.875],
            "share_health_first_low": [0.25, 0.8],
            "police_hours_freed": [3500.0, -12.0],
            "met": [True, False],
        }
    )
    seen = readable(table, words("nb"), {"amb_ryen": "Ryen", "amb_sandvika": "Sandvika"})
    assert list(seen.columns) == [
        "Enheter i travleste time",
        "Baser",
        "Kostnad (mill. kr per år)",
        "Andel aktuelle henvendelser møtt av helsepersonell først",
        "Andel aktuelle henvendelser møtt av helsepersonell først, nedre",
        "Frigjorte polititimer (per år)",
        "Målet nådd",
    ]
    assert list(seen.iloc[:, 1]) == ["Ryen × 2", "Ryen, Sandvika"]
    assert list(seen.iloc[:, 2]) == [
        "23,5",
        "1\N{NO-BREAK SPACE}234,6".replace("\N{NO-BREAK SPACE}", " "),
    ]
    assert list(seen.iloc[:, 3]) == ["50,0 %", "87,5 %"]
    assert list(seen.iloc[:, 5]) == ["3 500", "\N{MINUS SIGN}12"]
    assert list(seen.iloc[:, 6]) == ["nådd", "ikke nådd"]


def test_a_spread_limit_keeps_every_base_to_that_many_vehicles() -> None:
    """Three units at every hour with at most one a base: three bases, one vehicle each."""
    raw = {"region": {"kind": "geodata", "name": "bergen"}}
    spread = scenario_from_dict(deep_merge(raw, {"optimise": {"max_units_per_base": 1}}))
    required = np.full(168, 3)
    p = propose(instance(spread), deep_merge(raw, {}), required)
    assert len(p.vehicles) >= 3
    assert max(p.bases.values()) == 1
    assert sorted(p.vehicles) == sorted(set(p.vehicles))


def _bergen_on_the_optimise_page(lang: str) -> AppTest:
    """The Bergen scenario opened, on the Optimise page: 2 replications, no frontier."""
    at = AppTest.from_file(str(serve.APP), default_timeout=300)
    at.run()
    at.sidebar.radio(key="lang").set_value(lang).run()
    at.sidebar.radio(key="page").set_value("scenario").run()
    at.selectbox(key="shipped_pick").set_value("bergen").run()
    at.button(key="open_shipped").click().run()
    at.sidebar.radio(key="page").set_value("optimise").run()
    at.number_input(key="opt_reps").set_value(2).run()
    at.checkbox(key="opt_frontier").set_value(False).run()
    return at


def test_optimise_page_speaks_bokmal_and_explains_a_stacked_service() -> None:
    at = _bergen_on_the_optimise_page("nb")
    field = at.text_input(key="opt_value:share_health_first")  # a bokmål number: "90,0"
    assert field.value == "90,0"
    field.set_value("femti").run()
    assert any("«femti» er ikke et tall" in shown(e.value) for e in at.error)
    assert at.button(key="optimise_run").disabled
    at.text_input(key="opt_value:share_health_first").set_value("50,0").run()
    at.button(key="optimise_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    done = at.session_state.optimised
    assert done["target"] == "share_health_first>=0.5"
    outcome = done["outcome"]
    assert outcome.stop is not None and "optimising" not in at.session_state
    texts = [shown(m.value) for m in at.markdown]
    first = outcome.rounds[0]
    assert any(t.startswith(f"Runde 1: {len(first.proposal.vehicles)} kjøretøy") for t in texts)
    assert any(stop_words(outcome.stop, words("nb")) in shown(h.value) for h in at.subheader)
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["Runde", "Kjøretøy", "Enhetstimer per uke"]
    best = outcome.best.proposal
    stacked = [shown(i.value) for i in at.info if "står på én base" in shown(i.value)]
    assert bool(stacked) == (len(best.bases) == 1 and len(best.vehicles) > 1)


def test_a_stopped_run_keeps_the_rounds_done() -> None:
    """What a Stop click leaves (the session's record of the rounds so far) is shown on the
    next run, with a note, and nothing is lost; Optimise again starts afresh."""
    at = _bergen_on_the_optimise_page("en")
    at.number_input(key="opt_value:share_health_first").set_value(50.0).run()
    at.button(key="optimise_run").click().run()
    done = at.session_state.optimised
    partial = {**done, "outcome": Outcome(rounds=done["outcome"].rounds[:1])}
    at.session_state.optimising = partial  # as a Stop during round 2 leaves it
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    note = [shown(x.value) for x in at.warning]
    assert any(n.startswith("Stopped after 1 round(s) and 0 frontier point(s)") for n in note)
    assert len(at.dataframe[0].value) == 1
    assert at.session_state.optimised.get("interrupted") is True


def test_default_scenario_has_no_spread_limit() -> None:
    s = load_scenario(ROOT / "simulations" / "oslo_akershus.toml")
    assert s.optimise.max_units_per_base == 0


def test_progress_lines_say_what_was_simulated_as_the_command_line_prints_it() -> None:
    """The progress events' English lines (what `planner optimize` prints), worked by hand."""
    from types import SimpleNamespace

    from planner.optimise.loop import PointDone, RoundDone

    results = SimpleNamespace(kpi=lambda key: {"share_health_first": 0.87654}[key])
    proposal = SimpleNamespace(
        vehicles=["a", "b", "c"],
        roster=SimpleNamespace(unit_hours_per_week=504),
        cost_per_year=31_250_000.0,
    )
    done = SimpleNamespace(number=2, proposal=proposal, results=results, met=False)
    line = str(RoundDone(done, TARGET, 6))  # type: ignore[arg-type]
    assert line == (
        "round 2: 3 vehicles, 504 unit-hours a week, NOK 31.2 M a year; "
        "share_health_first = 0.877 (not met)"
    )
    met = SimpleNamespace(number=4, proposal=proposal, results=results, met=True)
    assert str(RoundDone(met, TARGET, 6)).endswith("(met)")  # type: ignore[arg-type]
    row = {"unit_hours_per_week": 336, "share_health_first": 0.456, "police_hours_freed": 12345.6}
    point = PointDone(2, 5, row, proposal)  # type: ignore[arg-type]
    assert str(point) == (
        "2 unit(s): 336 unit-hours a week, health-first 46%, police hours freed 12,346"
    )
    assert Outcome().stopped == ""  # no stop yet: no words
