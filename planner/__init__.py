"""planner: size, place and appraise a psychiatric ambulance service for Oslo and Akershus."""

from planner.scenario import Scenario, scenario_from_dict
from planner.scenario_file import ScenarioError, load_scenario
from planner.simulation import Results, simulate

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
]
__version__ = "0.1.0"
