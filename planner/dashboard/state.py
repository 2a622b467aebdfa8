"""One user's session: the scenario being edited, the last run, what was kept for comparison.

The scenario's overrides (what a TOML file would state) are the single source of truth; every
widget reads from them and writes back through ``set_raw``. Widget keys carry a generation
number so that opening another scenario re-creates the widgets with its values.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import streamlit as st

from planner.compare import baseline_of
from planner.dashboard.model import Run, merged, shipped_scenarios, simulation_key, value_at
from planner.scenario import Scenario
from planner.simulation import Results, simulate

DEFAULT_SCENARIO = "oslo_akershus"
_CACHE_SIZE = 24  # simulated results kept for all sessions (a default run is about 30 MB)

Progress = Callable[[str, int, int], None]


def init() -> None:
    ss = st.session_state
    if "raw" not in ss:
        ss.raw = shipped_scenarios().get(DEFAULT_SCENARIO, {})
        ss.gen = 0
        ss.fleet_gen = 0
        ss.kept = {}
        ss.bad = {}
        ss.run = None


def raw() -> dict[str, Any]:
    return dict(st.session_state.raw)


def set_raw(new: dict[str, Any], *, fresh_widgets: bool = False, fresh_fleet: bool = False) -> None:
    """Replace the overrides; fresh widgets when the whole scenario changed under them."""
    ss = st.session_state
    ss.raw = new
    if fresh_widgets:
        ss.gen += 1
        ss.bad = {}
    if fresh_widgets or fresh_fleet:
        ss.fleet_gen += 1


def bind(key: str, path: str, show: Callable[[Any], Any]) -> None:
    """Note that widget ``key`` shows parameter ``path`` (as ``show(value)``), so that an edit
    made through another widget — the sidebar and the Scenario page both show replications,
    seed and the fleet — is shown by this one too."""
    st.session_state.setdefault("bound", {})[key] = (path, show)


def edit(new: dict[str, Any], *, fresh_fleet: bool = False) -> None:
    """Replace the overrides from a widget callback, and bring every other widget in line.

    Streamlit keeps a widget's own state while its key lives, whatever ``value=`` it is given
    later; so the widgets that show a changed value are set here, before any is drawn.
    """
    set_raw(new, fresh_fleet=fresh_fleet)
    sync()


def sync() -> None:
    """Set every bound widget that shows a value other than the scenario's to the scenario's.

    Only before widgets are drawn: from a callback, or at the start of a run (``resync``)."""
    m = merged(raw())
    ss = st.session_state
    for key, (path, show) in list(ss.get("bound", {}).items()):
        if key not in ss:
            continue
        try:
            want = show(value_at(m, path))
        except (TypeError, ValueError):
            continue  # a value this widget cannot show: validation names it
        if ss[key] != want:
            ss[key] = want


def gen() -> int:
    return int(st.session_state.gen)


def last_run() -> Run | None:
    run: Run | None = st.session_state.get("run")
    return run


# -- simulated results, shared by every session of this server --------------------------------

_lock = threading.Lock()
_results: OrderedDict[str, Results] = OrderedDict()


def simulated(scenario: Scenario, label: str, progress: Progress | None = None) -> Results:
    """Results for a scenario, from the cache when the same simulation has run before."""
    key = simulation_key(scenario)
    with _lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    res = simulate(
        scenario, progress=(lambda done, total: progress(label, done, total)) if progress else None
    )
    with _lock:
        _results[key] = res
        while len(_results) > _CACHE_SIZE:
            _results.popitem(last=False)
    return res


def execute(scenario: Scenario, progress: Progress | None = None) -> Run:
    """Simulate a scenario and, for a service, today's service on the same calls."""
    started = time.perf_counter()
    res = simulated(scenario, "scenario", progress)
    base = (
        simulated(baseline_of(scenario), "baseline", progress)
        if scenario.units_are_active
        else None
    )
    return Run(scenario, res, base, time.perf_counter() - started)


def clear_cache() -> None:
    with _lock:
        _results.clear()
