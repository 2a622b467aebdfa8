"""How long the dashboard makes a planner wait: a run of the default scenario, and each page.

Drives the real app through Streamlit's AppTest (no browser), so it measures the Python side:
simulating 10 replications of the scenario and of today's service, then drawing each page. The
first page starts the server's worker processes (one per core); a run clicked at once finds
them still starting, a run clicked a few seconds later finds them ready: both are timed.
Run from the project root: ``python benchmarks/bench_dashboard.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from planner.dashboard import state
from planner.processes import default_workers

ROOT = Path(__file__).resolve().parent.parent
RUN_LIMIT = 5.0  # s: a cold default run with results shown (the promise to planners)
PAGE_LIMIT = 1.0  # s: a page switch
PAGES = ("scenario", "map", "results", "compare", "optimise", "economics")


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    first = timed(at.run)
    print(f"first page (geodata loaded, scenario validated): {first:.2f} s")
    at.sidebar.radio(key="page").set_value("results").run()
    missed: list[str] = []
    for label in (
        "cold: default scenario, 10 replications + baseline, at once after the first page",
        "cold, the workers ready (the planner read the page for a few seconds)",
        "again, from the cache",
    ):
        if label.startswith("cold"):
            state.clear_cache()
        if label.startswith("cold, the workers"):
            ready = state.ready(timeout=60)
            print(f"the server's {default_workers()} worker processes ready: {ready}")
        seconds = timed(lambda: at.sidebar.button(key="run_button").click().run())
        assert not at.exception, at.exception
        print(f"run → results shown ({label}): {seconds:.2f} s (limit {RUN_LIMIT:g} s)")
        if seconds > RUN_LIMIT:
            missed.append(f"run ({label}) {seconds:.1f} s > {RUN_LIMIT:g} s")
    for page in PAGES:
        seconds = timed(lambda page=page: at.sidebar.radio(key="page").set_value(page).run())
        print(f"page {page}: {seconds:.2f} s (limit {PAGE_LIMIT:g} s)")
        if seconds > PAGE_LIMIT:
            missed.append(f"page {page} {seconds:.1f} s > {PAGE_LIMIT:g} s")
    # in bokmål (the default) a decimal field is a text field that takes "1 200"
    fields = [*at.number_input, *at.text_input]
    price = next(n for n in fields if n.key and n.key.endswith("police_officer_hour"))
    typed: object = "1 200" if price.type == "text_input" else 1200.0
    seconds = timed(lambda: price.set_value(typed).run())
    print(f"cost-benefit after a new police-hour price (no simulation): {seconds:.2f} s")
    if missed:
        raise SystemExit("slower than promised: " + "; ".join(missed))


if __name__ == "__main__":
    main()
