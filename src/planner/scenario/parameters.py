"""The parameter registry: defaults, units and sources of every scenario parameter.

Defaults live in ``data/defaults.toml`` rather than in code so that a planner can read, cite and
challenge each figure, and so the CLI and dashboard can show the unit and source beside each value.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_LEAF_KEYS = {"value", "unit", "source"}


@dataclass(frozen=True)
class Parameter:
    path: str
    value: Any
    unit: str
    source: str
    doc: str = ""


def _is_leaf(node: Any) -> bool:
    return isinstance(node, dict) and node.keys() >= _LEAF_KEYS


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("planner.data").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def registry() -> dict[str, Parameter]:
    """Every parameter by dotted path, e.g. ``demand.growth_per_year``."""
    out: dict[str, Parameter] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, child in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if _is_leaf(child):
                out[path] = Parameter(
                    path, child["value"], child["unit"], child["source"], child.get("doc", "")
                )
            elif isinstance(child, dict):
                walk(child, path)

    walk(_raw(), "")
    return out


def default_values() -> dict[str, Any]:
    """The defaults as a plain nested dict, the shape of a scenario file."""

    def strip(node: dict[str, Any]) -> dict[str, Any]:
        return {
            k: copy.deepcopy(v["value"]) if _is_leaf(v) else strip(v)
            for k, v in node.items()
            if isinstance(v, dict)
        }

    return strip(_raw())


def lookup(path: str) -> Parameter | None:
    """The registry entry for a dotted path; per-kind situation fields fall back to any kind's."""
    reg = registry()
    if path in reg:
        return reg[path]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "situations":
        for p in reg.values():
            if p.path.startswith("situations.") and p.path.endswith("." + parts[2]):
                return Parameter(path, None, p.unit, "scenario", p.doc)
    return None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; lists, scalars and distributions in ``override`` replace.

    A distribution is replaced whole: a scenario giving ``{dist = "fixed", value = 3}`` must not
    inherit ``mean`` and ``sd`` from a lognormal default.
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
