"""A pytest plugin for mutation runs: run a mutant's tests fastest first.

mutmut runs, for each mutant, the tests that call the mutated function, with ``-x`` (stop at the
first failure), in no particular order. Most mutants are killed by some fast test; run first, it
ends the run in a second where a 30 s queueing test run first would take the whole 30 s. The
durations are those mutmut recorded in its first pass (``mutmut-stats.json`` in ``mutants/``,
the working folder of a mutation run). Outside a mutant's run (``MUTANT_UNDER_TEST`` unset, empty
or ``stats``), or without that file, the order is left alone.

``tests/mutation/run.py`` loads it (``-p mutmut_fastest_first`` in ``[tool.mutmut]``, this
folder on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def _durations() -> dict[str, float]:
    try:
        with open(Path("mutmut-stats.json"), encoding="utf-8") as f:
            return dict(json.load(f)["duration_by_test"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[Any]) -> None:
    if os.environ.get("MUTANT_UNDER_TEST", "") in ("", "stats"):
        return
    durations = _durations()
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
