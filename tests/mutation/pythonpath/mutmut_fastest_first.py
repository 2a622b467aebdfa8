"""A pytest plugin for mutation runs: only the fast tests of the model, cheapest first.

``tests/mutation/run.py`` loads it (``-p mutmut_fastest_first`` in ``[tool.mutmut]``, this
folder on ``PYTHONPATH``); a plain ``pytest`` never does. In every phase of a mutation run it

* leaves out the tests of the shells: those that use the ``cli`` or ``default_results``
  fixtures (they run ``planner`` commands end to end) or carry the ``shell`` marker (other
  processes). They pin the command line, the report and determinism across processes, not a
  core module's arithmetic, and each costs seconds: against every surviving mutant of a module
  they would cost minutes. The core values they print are pinned in process by other tests;
* leaves out the ``slow`` tests: those that check the simulation against queueing theory over
  many replication-years, and the full golden run (tens of seconds each). Against mutants the
  exact timelines of ``test_engine_paths``, the numpy recomputation of ``test_kpis_from_log`` and
  the short golden run pin the same code in seconds; a mutant only a slow test would catch
  shows as a survivor, to be pinned by a fast exact test;
* in mutmut's first pass (``MUTANT_UNDER_TEST=stats``) records what each test costs, setup
  included, in ``test-costs.json``: mutmut itself times only a test's call, so a test whose
  module-scoped fixture simulates a year (``test_golden``) looks free to it;
* in a mutant's run, orders the tests cheapest first. mutmut runs, for each mutant, the tests
  that call the mutated function with ``-x`` (stop at the first failure) in no particular order;
  most mutants are killed by some cheap test, which, run first, ends the run in a second. A
  test's cost is its own time plus the setup time of every test of its file (a module fixture
  is paid by whichever test of the file runs first).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

SHELL_FIXTURES = frozenset({"cli", "default_results"})
COSTS = Path("test-costs.json")  # in mutants/, the working folder of a mutation run

_own: dict[str, float] = defaultdict(float)  # call and teardown, by node id
_setup: dict[str, float] = defaultdict(float)  # setup, by test file


def _phase() -> str:
    value = os.environ.get("MUTANT_UNDER_TEST", "")
    return "stats" if value == "stats" else ("mutant" if value else "")


def _left_out(item: Any) -> bool:
    """A test of the shells, or a slow one (see above)."""
    if SHELL_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    return any(item.get_closest_marker(m) for m in ("shell", "slow"))


def _costs() -> dict[str, float]:
    try:
        with open(COSTS, encoding="utf-8") as f:
            return {str(k): float(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    out = [item for item in items if _left_out(item)]
    if out:
        config.hook.pytest_deselected(items=out)
        items[:] = [item for item in items if not _left_out(item)]
    if _phase() == "mutant" and (costs := _costs()):
        items.sort(key=lambda item: costs.get(item.nodeid, float("inf")))


def pytest_runtest_logreport(report: Any) -> None:
    if _phase() != "stats":
        return
    if report.when == "setup":
        _setup[report.nodeid.split("::", 1)[0]] += report.duration
    else:
        _own[report.nodeid] += report.duration


def pytest_sessionfinish() -> None:
    if _phase() != "stats" or not _own:
        return
    costs = {node: t + _setup[node.split("::", 1)[0]] for node, t in _own.items()}
    COSTS.write_text(json.dumps(costs, indent=0, sort_keys=True), "utf-8")
