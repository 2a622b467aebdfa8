"""planner: size, place and appraise a psychiatric ambulance service for Oslo and Akershus.

The public API: ``load_scenario``, ``scenario_from_dict``, ``simulate`` and their types, and
``planner.store.Store``. Each is imported when first used, so ``import planner`` (and the
``planner`` command's help) does not wait for pandas, scipy or pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planner.version import __version__

if TYPE_CHECKING:
    from planner.scenario.loading import ScenarioError, load_scenario, scenario_from_dict
    from planner.scenario.model import Scenario
    from planner.sim.run import Results, simulate

_WHERE = {
    "Results": "planner.sim.run",
    "Scenario": "planner.scenario.model",
    "ScenarioError": "planner.scenario.loading",
    "load_scenario": "planner.scenario.loading",
    "scenario_from_dict": "planner.scenario.loading",
    "simulate": "planner.sim.run",
}

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # asked for once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
