"""A pytest plugin for mutation runs: only the tests of the model, fastest first.

``tests/mutation/run.py`` loads it (``-p mutmut_fastest_first`` in ``[tool.mutmut]``, this
folder on ``PYTHONPATH``); a plain ``pytest`` never does. In every phase of a mutation run it

* leaves out the tests of the shells: those that use the ``cli`` or ``default_results``
  fixtures (they run ``planner`` commands end to end) or carry the ``shell`` marker (other
  processes). They pin the command line, the report and determinism across processes, not a
  core module's arithmetic, and each costs seconds: against every surviving mutant of a module
  they would cost minutes. The core values they print are pinned in process by other tests;
* in a mutant's run, orders the tests fastest first. mutmut runs, for each mutant, the tests
  that call the mutated function with ``-x`` (stop at the first failure) in no particular order;
  most mutants are killed by some fast test, which, run first, ends the run in a second. The
  durations are those mutmut recorded in its first pass (``mutmut-stats.json`` in ``mutants/``,
  the working folder of a mutation run).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SHELL_FIXTURES = frozenset({"cli", "default_results"})


def _durations() -> dict[str, float]:
    try:
        with open(Path("mutmut-stats.json"), encoding="utf-8") as f:
            return dict(json.load(f)["duration_by_test"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _shell(item: Any) -> bool:
    return bool(SHELL_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("shell")
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    shells = [item for item in items if _shell(item)]
    if shells:
        config.hook.pytest_deselected(items=shells)
        items[:] = [item for item in items if not _shell(item)]
    if os.environ.get("MUTANT_UNDER_TEST", "") in ("", "stats"):
        return
    durations = _durations()
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
