"""Reading scenario files: TOML text in, a validated Scenario or a list of one-line problems out."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.scenario import Scenario, scenario_from_dict

MAX_BYTES = 1_000_000
_DIST_TAGS = {"fixed", "exponential", "lognormal", "gamma", "empirical"}


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (
            part in _DIST_TAGS
            or str(part).startswith("function-")
            or part in ("list[float]", "literal['evening-weighted','flat']")
        ):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def describe_errors(exc: ValidationError) -> list[str]:
    """pydantic's errors as 'field.path: problem (got value)', one line each, no duplicates."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        where = _path(tuple(err["loc"]))
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            msg = "unknown field (check the spelling; `planner schema` lists every field)"
        elif kind == "missing":
            msg = "required field is missing"
        got = "" if kind in ("missing", "extra_forbidden") else f" (got {_short(err.get('input'))})"
        line = f"{where}: {msg}{got}"
        if line not in lines:
            lines.append(line)
    return lines


def scenario_from_mapping(data: Any, origin: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError([f"{origin}: a scenario must be a table of sections"])
    try:
        return scenario_from_dict(data)
    except ValidationError as exc:
        raise ScenarioError(describe_errors(exc)) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise ScenarioError([f"{origin}: {exc}"]) from None


def parse_toml(raw: bytes, origin: str) -> dict[str, Any]:
    if len(raw) > MAX_BYTES:
        raise ScenarioError([f"{origin}: file is larger than {MAX_BYTES:,} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [f"{origin}: not UTF-8 text (byte {raw[exc.start]:#04x} at position {exc.start})"]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{origin}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError([f"{origin}: not valid TOML: nested too deeply"]) from None


def read_bytes(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise ScenarioError([f"{path}: is a folder, not a scenario file"])
        return path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such file"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read ({exc.strerror})"]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming every problem."""
    p = Path(path)
    return scenario_from_mapping(parse_toml(read_bytes(p), str(p)), str(p))
