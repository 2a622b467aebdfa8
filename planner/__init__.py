"""planner: size, place and appraise a psychiatric ambulance service for Oslo and Akershus."""

from planner.scenario import Scenario, scenario_from_dict
from planner.scenario_file import ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario", "scenario_from_dict"]
__version__ = "0.1.0"
