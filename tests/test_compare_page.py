"""The Compare page shows a comparison at once when every scenario in it has been simulated
with these replications and seed (the run just made: the scenario and today's service)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from test_dashboard import _app, _run

from planner.dashboard import serve, state


def test_a_cached_comparison_is_shown_without_a_click() -> None:
    at = _run(_app("en"), reps=2)
    run = at.session_state.run
    at.sidebar.radio(key="page").set_value("compare").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.session_state.comparison
    assert shown["results"][1] is run.results  # the run's own results, not simulated again
    table = at.dataframe[0].value
    assert list(table.columns[1:3]) == shown["labels"]


def test_nothing_is_shown_before_a_click_when_a_scenario_is_new() -> None:
    state.clear_cache()
    at = AppTest.from_file(str(serve.APP), default_timeout=600)
    at.run()
    at.sidebar.radio(key="page").set_value("compare").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "comparison" not in at.session_state
