"""Reading scenario files: TOML text in, a validated Scenario or a list of one-line problems out."""

from __future__ import annotations

import os
import re
import stat
import sys
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


_FIELD_FIRST = re.compile(r"([a-z_][a-z0-9_]*): (.+)", re.DOTALL)
_NAMES_FIELDS = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*|\[)")


def describe_errors(exc: ValidationError) -> list[str]:
    """pydantic's errors as 'field.path: problem (got value)', one line each, no duplicates.

    A problem found by a check of a whole table (a section, a distribution, the scenario) does
    not quote the table: it names its field, either as 'field: ...' at the start of the message
    (joined to the table's path) or, at the top level, in the message itself."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = _path(loc)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        if kind == "extra_forbidden":
            msg = "unknown field (check the spelling; `planner schema` lists every field)"
        elif kind == "missing":
            msg = "required field is missing"
        whole_table = kind == "value_error" and isinstance(value, dict)
        if whole_table and (m := _FIELD_FIRST.fullmatch(msg)) and m.group(1) in value:
            where, msg = f"{where}.{m.group(1)}" if loc else m.group(1), m.group(2)
        quote = kind not in ("missing", "extra_forbidden") and not whole_table
        got = f" (got {_short(value)})" if quote else ""
        # at the top level, a message names the fields it is about
        named = not loc and _NAMES_FIELDS.match(msg)
        line = f"{msg}{got}" if named else f"{where}: {msg}{got}"
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
    except ValueError as exc:  # e.g. Python's limit on the digits of an integer
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "integer string conversion" in why:
            why = f"an integer has more than {sys.get_int_max_str_digits():,} digits"
        raise ScenarioError([f"{origin}: not valid TOML: {why}"]) from None


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` + 1 of them (enough to tell it is too large).

    The path is looked at before it is opened, so a folder, a device (``/dev/zero``), a FIFO
    or a socket is refused at once, by name, rather than read for ever or waited on."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError([f"{path}: is a folder, not a scenario file"])
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError([f"{path}: is not a regular file ({_file_kind(info.st_mode)})"])
        if info.st_size > limit:
            raise ScenarioError([f"{path}: file is larger than {limit:,} bytes"])
        # O_NONBLOCK: should the path be swapped for a FIFO after the look, do not wait on it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ScenarioError([f"{path}: is not a regular file"])
            return f.read(limit + 1)
    except ScenarioError:
        raise
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such file"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    except ValueError as exc:  # a path holding a NUL character
        raise ScenarioError([f"{path}: cannot be read ({exc})"]) from None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file of bytes"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming every problem."""
    p = Path(path)
    return scenario_from_mapping(parse_toml(read_bytes(p), str(p)), str(p))
