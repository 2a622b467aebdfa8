"""planner: size, place and appraise a psychiatric ambulance service for Oslo and Akershus."""

from planner.scenario.loading import ScenarioError, load_scenario, scenario_from_dict
from planner.scenario.model import Scenario
from planner.sim.run import Results, simulate
from planner.version import __version__

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
]
