"""One user's session: the scenario being edited, the last run, what was kept for comparison.

The scenario's overrides (what a TOML file would state) are the single source of truth; every
widget reads from them and writes back through ``set_raw``. Widget keys carry a generation
number so that opening another scenario re-creates the widgets with its values.

Every version of the scenario is written to the scenario library (``library.py``) and the page's
address names it (``?s=<hash>&page=<page>&lang=<language>``): a reload, or the link opened in
another tab, finds the scenario, the page and the language as they were.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import streamlit as st

from planner.dashboard.library import Library
from planner.dashboard.model import Run, merged, shipped_scenarios, simulation_key, value_at
from planner.processes import default_workers, process_pool
from planner.scenario.model import Scenario
from planner.sim.compare import baseline_of
from planner.sim.run import Results, prepare, simulate

DEFAULT_SCENARIO = "oslo_akershus"
_CACHE_SIZE = 24  # simulated results kept for all sessions (a default run is about 30 MB)

Progress = Callable[[str, int, int], None]


def init() -> None:
    """A new session opens the scenario its address names (from the library), else the
    shipped default; the kept scenarios are the library's."""
    ss = st.session_state
    if "raw" not in ss:
        lib = library()
        named = st.query_params.get("s")
        opened = lib.load(named) if lib is not None and named else None
        ss.raw = opened if opened is not None else shipped_scenarios().get(DEFAULT_SCENARIO, {})
        ss.opened_missing = bool(named) and opened is None
        ss.gen = 0
        ss.kept = lib.kept() if lib is not None else {}
        ss.bad = {}
        ss.run = None


_library: list[Library | None] = []  # opened once per server: [Library] or [None]
_library_problem: list[str] = []


def library() -> Library | None:
    """The scenario library of this server, or None (with ``library_problem()``) if its folder
    cannot be written."""
    with _lock:
        if not _library:
            try:
                _library.append(Library.open())
            except OSError as exc:
                _library.append(None)
                _library_problem.append(str(exc))
    return _library[0]


def library_problem() -> str | None:
    library()
    return _library_problem[0] if _library_problem else None


def remember(page: str, lang: str) -> None:
    """Save the scenario as it now is and put it, the page and the language in the address."""
    lib = library()
    want = {"page": page, "lang": lang}
    if lib is not None:
        # the address keeps the last version saved if the folder went away, or if a table
        # holds a value no file can (an empty cell, which validation names meanwhile)
        with contextlib.suppress(OSError, TypeError, ValueError):
            want["s"] = lib.save(raw())
    for k, v in want.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


def keep(name: str, scenario: dict[str, Any]) -> None:
    """Keep a scenario for comparison, in this session and in the library."""
    st.session_state.kept[name] = scenario
    lib = library()
    if lib is not None:
        with contextlib.suppress(OSError, TypeError, ValueError):  # else this session only
            lib.keep(name, scenario)


def raw() -> dict[str, Any]:
    return dict(st.session_state.raw)


def set_raw(new: dict[str, Any], *, fresh_widgets: bool = False) -> None:
    """Replace the overrides; fresh widgets when the whole scenario changed under them."""
    ss = st.session_state
    ss.raw = new
    if fresh_widgets:
        ss.gen += 1
        ss.bad = {}


def bind(key: str, path: str, show: Callable[[Any], Any]) -> None:
    """Note that widget ``key`` shows parameter ``path`` (as ``show(value)``), so that an edit
    made through another widget — the sidebar and the Scenario page both show replications,
    seed and the fleet — is shown by this one too."""
    st.session_state.setdefault("bound", {})[key] = (path, show)


def edit(new: dict[str, Any]) -> None:
    """Replace the overrides from a widget callback, and bring every other widget in line.

    Streamlit keeps a widget's own state while its key lives, whatever ``value=`` it is given
    later; so the widgets that show a changed value are set here, before any is drawn. (A table
    follows the scenario by itself: ``pages.scenario.held_table``.)
    """
    set_raw(new)
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


def worded(key: str) -> str:
    """Note that the choice widget under ``key`` (a radio, selectbox or multiselect) names its
    choices in the reader's language, for ``relabel``; returns the key."""
    st.session_state.setdefault("worded", set()).add(key)
    return key


def relabel() -> None:
    """After a language switch (the language radio's callback), set each ``worded`` choice to
    its own value, so that its label in the new language is sent to the browser.

    Streamlit sends the browser a choice's label, not the choice: once every label is in
    another language, a radio would show nothing chosen and a selectbox the old words, though
    the choice itself is unchanged."""
    ss = st.session_state
    for key in sorted(ss.get("worded", ())):
        if key in ss:
            ss[key] = ss[key]


def gen() -> int:
    return int(st.session_state.gen)


def last_run() -> Run | None:
    run: Run | None = st.session_state.get("run")
    return run


# -- simulated results, shared by every session of this server --------------------------------

_lock = threading.Lock()
_results: OrderedDict[str, Results] = OrderedDict()


def cached(scenario: Scenario) -> Results | None:
    """The results of this simulation if it has run before (and is still kept), else None."""
    with _lock:
        return _results.get(simulation_key(scenario))


def simulated(scenario: Scenario, label: str, progress: Progress | None = None) -> Results:
    """Results for a scenario, from the cache when the same simulation has run before; else
    simulated on the server's worker processes (the same figures as here, bit for bit)."""
    key = simulation_key(scenario)
    with _lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    told = (lambda done, total: progress(label, done, total)) if progress else None
    pool = workers()
    try:
        res = simulate(scenario, progress=told, executor=pool)
    except BrokenProcessPool:  # a worker was killed (out of memory?): run here, start anew
        _drop_workers(pool)
        res = simulate(scenario, progress=told)
    with _lock:
        _results[key] = res
        while len(_results) > _CACHE_SIZE:
            _results.popitem(last=False)
    return res


def execute(scenario: Scenario, progress: Progress | None = None) -> Run:
    """Simulate a scenario and, for a service, today's service on the same calls."""
    started = time.perf_counter()
    today = baseline_of(scenario) if scenario.units_are_active else None
    kept = cached(scenario) is not None and (today is None or cached(today) is not None)
    res = simulated(scenario, "scenario", progress)
    base = simulated(today, "baseline", progress) if today is not None else None
    return Run(scenario, res, base, time.perf_counter() - started, from_cache=kept)


# -- the server's worker processes -------------------------------------------------------------

_pool: list[ProcessPoolExecutor] = []
_warming: list[Future[None]] = []  # each worker's ``prepare`` of the first scenario drawn


def workers() -> ProcessPoolExecutor | None:
    """The processes this server simulates on, one per core, started on first use and kept
    (a worker starts in about a second; a default run then takes half as long on 2 cores);
    None on one core, where replications run in the session's own thread."""
    n = default_workers()
    if n < 2:
        return None
    with _lock:
        if not _pool:
            _pool.append(process_pool(n))
        return _pool[0]


def warm(scenario: Scenario) -> None:
    """Start the workers and build the scenario's world in each, without waiting: a first run
    then finds them ready."""
    pool = workers()
    if pool is None:
        return
    with _lock:
        if _warming:
            return
        with contextlib.suppress(RuntimeError):  # shut down meanwhile (the server is stopping)
            _warming.extend(pool.submit(prepare, scenario) for _ in range(default_workers()))


def ready(timeout: float | None = None) -> bool:
    """Wait until the workers ``warm`` started are ready (or ``timeout`` s); are they?"""
    with _lock:
        started = list(_warming)
    done, _ = wait(started, timeout=timeout)
    return bool(started) and len(done) == len(started)


def _drop_workers(pool: ProcessPoolExecutor | None) -> None:
    with _lock:
        if pool is not None and _pool and _pool[0] is pool:
            _pool.clear()
            _warming.clear()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def clear_cache() -> None:
    with _lock:
        _results.clear()
