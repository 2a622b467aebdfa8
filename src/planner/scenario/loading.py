"""Reading scenario files: TOML text in, a validated Scenario or a list of problems out.

Each problem is a ``Problem``. ``str(problem)`` is the one English line the command line prints
(``demand.rate_per_1000_per_year: Input should be greater than 0 (got -1)``); ``problem.text("nb")``
says the same in bokmål, naming the parameter in plain words, its path in brackets for the
expert: ``Krisehenvendelser per 1 000 innbyggere per år (demand.rate_per_1000_per_year): må være
større enn 0 (fikk −1)``. The bokmål templates are in ``data/problem_text.toml``; the parameters'
names are read from [params] and [sections] of ``data/dashboard_text.toml`` as data (the core
does not import the dashboard).
"""

from __future__ import annotations

import datetime
import math
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from planner.scenario.model import Scenario
from planner.scenario.parameters import deep_merge, default_values, lookup
from planner.words import dashboard_words, number

if TYPE_CHECKING:
    from planner.geo.region import Region

MAX_BYTES = 1_000_000
_DIST_TAGS = {"fixed", "exponential", "lognormal", "gamma", "empirical"}
FILE_KINDS = (
    "not_a_table",
    "file_too_large",
    "not_utf8",
    "toml_invalid",
    "is_folder",
    "not_regular_file",
    "no_such_file",
    "cannot_read",
    "unusable",
    "text",
)
"""The kinds of problem found before a scenario's fields are looked at (``Problem.kind``);
"text" is a line made elsewhere (a sweep's), which has no bokmål of its own."""


@dataclass(frozen=True)
class Problem:
    """One problem with a scenario, in the reader's language.

    ``path``: the field it is about, as a dotted path (``demand.year``, ``fleet.units[0].shift``,
    ``situations.psychosis.on_scene.sd``); "" for a file, or the scenario as a whole.
    ``kind``: pydantic's error type (``greater_than``, ``missing``, ``value_error``, ...) or one
    of ``FILE_KINDS``. ``context``: what the words are made from (pydantic's ``ctx`` values such
    as ``gt`` or ``pattern``; ``input``, the value quoted; ``loc``; for a message of our own
    checks its ``id`` and ``parts``; for a file its ``origin``). ``english``: the line as
    ``planner validate`` prints it, which is also ``str(problem)``.
    """

    path: str
    kind: str
    context: Mapping[str, Any] = field(compare=False, repr=False)
    english: str

    def __str__(self) -> str:
        return self.english

    def text(self, lang: str) -> str:
        """The problem in bokmål ("nb") or English ("en", the line ``str()`` gives)."""
        if lang != "nb":
            return self.english
        try:
            return _bokmal(self)
        except Exception:  # a problem must always be said: in English, rather than not at all
            return self.english


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one English line per problem and
    ``details`` the same problems as ``Problem``s (``p.text("nb")`` says one in bokmål)."""

    def __init__(self, problems: Sequence[str | Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.details: list[Problem] = [
            p if isinstance(p, Problem) else Problem("", "text", {}, str(p)) for p in problems
        ]
        self.problems: list[str] = [str(p) for p in self.details]
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.details,))


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int past Python's limit on the digits it will write out
        return f"an integer of more than {sys.get_int_max_str_digits():,} digits"
    return text if len(text) <= 60 else text[:57] + "..."


# the labels pydantic gives the members of a union ("tuple[constrained-float, ...]"), not fields
_UNION_MEMBER = re.compile(r"(list|tuple|dict|literal)\[.*\]|function-", re.DOTALL)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _DIST_TAGS or _UNION_MEMBER.match(str(part)):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _tokens(loc: tuple[Any, ...]) -> tuple[tuple[str | int, ...], bool]:
    """The parts of a location that are fields, keys or list positions, and whether the last
    is a table's key (pydantic's "[key]": the key itself is wrong, not its value)."""
    out: list[str | int] = []
    key = False
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif part == "[key]":
            key = True
        elif part in _DIST_TAGS or _UNION_MEMBER.match(str(part)):
            continue
        else:
            out.append(str(part))
    return tuple(out), key


def _dotted(tokens: Sequence[str | int]) -> str:
    out = ""
    for part in tokens:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in out)


_FIELD_FIRST = re.compile(r"([a-z_][a-z0-9_]*): (.+)", re.DOTALL)
_NAMES_FIELDS = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*|\[)")


def describe_problems(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as Problems, one each, no duplicates; ``str()`` of each is the line
    ``describe_errors`` gives."""
    out: list[Problem] = []
    seen: set[str] = set()
    errors = exc.errors(include_url=False)
    # a tuple's length is counted after its items are validated, of those that passed: where an
    # item failed, that item is the problem, not the length pydantic then finds too short
    failed_in = {
        tuple(e["loc"][:i]) for e in errors for i, p in enumerate(e["loc"]) if isinstance(p, int)
    }
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and loc in failed_in:
            continue
        where = _path(loc)
        tokens, key = _tokens(loc)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        if kind == "tuple_type":  # a scenario's lists are tuples once read; a file has lists
            kind, msg = "list_type", "Input should be a valid list"
        elif kind in ("too_short", "too_long"):
            msg = msg.replace("Tuple should", "List should", 1)
        if kind == "extra_forbidden":
            msg = "unknown field (check the spelling; `planner schema` lists every field)"
        elif kind == "missing":
            msg = "required field is missing"
        whole_table = kind == "value_error" and isinstance(value, dict)
        if whole_table and (m := _FIELD_FIRST.fullmatch(msg)) and m.group(1) in value:
            where, msg = f"{where}.{m.group(1)}" if loc else m.group(1), m.group(2)
            tokens = (*tokens, m.group(1))
        quote = kind not in ("missing", "extra_forbidden") and not whole_table
        got = f" (got {_short(value)})" if quote else ""
        # at the top level, a message names the fields it is about
        named = not loc and _NAMES_FIELDS.match(msg)
        line = f"{msg}{got}" if named else f"{where}: {msg}{got}"
        if line in seen:
            continue
        seen.add(line)
        ctx = err.get("ctx") or {}
        context: dict[str, Any] = {
            k: v for k, v in ctx.items() if isinstance(v, str | int | float) and k != "error"
        }
        context.update(loc=loc, tokens=tokens, message=msg)
        if kind == "invalid_key" and tokens:  # the last part is a key, not a list position
            key, tokens = True, (*tokens[:-1], str(tokens[-1]))
            context["tokens"] = tokens
        if key:
            context["key"] = True
        if quote:
            context["input"] = value
        path = _dotted(tokens)
        if kind == "value_error" and (own := _own_message(msg)):
            context.update(own)
            path = own.get("field", path)
        out.append(Problem(path, kind, context, line))
    return out


def describe_errors(exc: ValidationError) -> list[str]:
    """pydantic's errors as 'field.path: problem (got value)', one line each, no duplicates.

    A problem found by a check of a whole table (a section, a distribution, the scenario) does
    not quote the table: it names its field, either as 'field: ...' at the start of the message
    (joined to the table's path) or, at the top level, in the message itself."""
    return [str(p) for p in describe_problems(exc)]


# -- the words of a problem in bokmål -------------------------------------------------------

MINUS = "\N{MINUS SIGN}"
_SUPERSCRIPT = str.maketrans("0123456789" + MINUS, "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def nb_number(value: float, decimals: int | None = None) -> str:
    """A number written the Norwegian way: 1000.5 -> '1 000,5', -3 -> '−3' (the minus sign,
    U+2212), 1e300 -> '1 × 10³⁰⁰'; with ``decimals``, rounded to that many (as
    ``planner.report.document.number(value, "nb", decimals)``). Without, a float keeps the digits of
    its shortest form (-1.0 -> '−1,0') and an int has none."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("−∞" if value < 0 else "∞")
    if decimals is not None:
        return number(value, "nb", decimals)
    exponent = ""
    if isinstance(value, int) and _too_long(value):
        power_of_ten = math.floor(math.log10(abs(value)))
        lead = f"{value / 10**power_of_ten:.6g}".replace(".", ",").replace("-", MINUS)
        return f"{lead} × 10{str(power_of_ten).translate(_SUPERSCRIPT)}"
    if isinstance(value, int):
        text = f"{value:,}"
    else:
        mantissa, _, power = repr(float(value)).partition("e")
        sign = "-" if mantissa.startswith("-") else ""
        whole, dot, fraction = mantissa.lstrip("-").partition(".")
        text = f"{sign}{int(whole):,}{dot}{fraction}"
        if power:
            exponent = f" × 10{str(int(power)).replace('-', MINUS).translate(_SUPERSCRIPT)}"
    text = text.replace(",", " ").replace(".", ",").replace("-", MINUS)
    return text + exponent


def _too_long(value: int) -> bool:
    """Is an int past Python's limit on the digits it writes out (``sys.int_info``)?"""
    limit = sys.get_int_max_str_digits()
    return limit > 0 and abs(value) >= 10**limit


@cache
def _texts() -> dict[str, Any]:
    raw = resources.files("planner.data").joinpath("problem_text.toml").read_text("utf-8")
    return tomllib.loads(raw)


@cache
def _own_messages() -> tuple[tuple[str, re.Pattern[str], dict[str, Any]], ...]:
    return tuple(
        (name, re.compile(entry["match"], re.DOTALL), entry)
        for name, entry in _texts()["messages"].items()
    )


def _own_message(msg: str) -> dict[str, Any]:
    """The id and parts of a message of one of the scenario's own checks, and the field it is
    about when that is not where pydantic found it; {} for a message not known here."""
    for name, pattern, entry in _own_messages():
        if m := pattern.fullmatch(msg):
            parts = {k: v for k, v in m.groupdict().items() if v is not None}
            out: dict[str, Any] = {"id": name, "parts": parts}
            if "field" in entry:
                out["field"] = entry["field"].format_map(_Fill(parts))
            return out
    return {}


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """The parameters' and sections' names in bokmål, from the dashboard's words (as data)."""
    data = dashboard_words()
    params = {k: str(v["nb"]) for k, v in data.get("params", {}).items() if "nb" in v}
    sections = {k: str(v["nb"]) for k, v in data.get("sections", {}).items() if "nb" in v}
    return params, sections


class _Fill(dict[str, Any]):
    """Template values; a placeholder without a value is left as it is written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _inner(text: str, limit: int = 60) -> str:
    """A text the reader gave, safe to show: control characters written out, cut at ``limit``."""
    inner = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return inner if len(inner) <= limit else inner[: limit - 1] + "…"


def _quote(text: str) -> str:
    return f"«{_inner(text)}»"


def _unrepr(text: str) -> str:
    """'x' or "x" (a repr in an English message) as x; anything else as it is."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return _inner(text[1:-1])
    return text


def _limit(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return _cut(nb_number(value))


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _english_number(text: str) -> str:
    """A number as an English message writes it ('5,000,000', '1.74e+07') the Norwegian way."""
    plain = text.replace(",", "")
    try:
        return _limit(int(plain))
    except ValueError:
        pass
    try:
        return _limit(float(plain))
    except ValueError:
        return text


def _value(value: Any, inner: bool = False) -> str:
    """A value the reader gave, in bokmål: numbers the Norwegian way, a text «quoted»."""
    words = _texts()["words"]
    if isinstance(value, bool):
        return str(words["true" if value else "false"])
    if isinstance(value, float) and not math.isfinite(value):
        text = str(words["nan" if math.isnan(value) else "inf"])
        return MINUS + text if value < 0 else text
    if isinstance(value, int | float):
        return _cut(nb_number(value))
    if isinstance(value, str):
        return _quote(value) if value else str(words["text_empty"])
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        scalars = all(isinstance(v, str | int | float | bool) for v in value)
        if not inner and scalars and 0 < len(value) <= 10:
            return "[" + "; ".join(_value(v, inner=True) for v in value) + "]"
        if len(value) <= 1:
            return str(words["list_one" if value else "list_empty"])
        return str(words["list"]).format(n=_limit(len(value)))
    if isinstance(value, dict):
        return str(words["table"]).format(n=_limit(len(value))) if value else words["table_empty"]
    return _short(value)


def _is_keyed(path: str) -> bool:
    """Is a parameter a table of the reader's own keys (shifts, districts, zones, channels)?"""
    p = lookup(path)
    return p is not None and isinstance(p.value, dict) and "dist" not in p.value


def param_name(tokens: Sequence[str | int]) -> str:
    """A field's plain name in bokmål from its path's parts: the parameter's name, then the
    situation, key, list position and sub-field it is in (``("fleet", "units", 0, "crew")`` ->
    'Enheter, nr. 1, mannskap')."""
    words, fields = _texts()["words"], _texts()["fields"]
    params, sections = _names()
    if not tokens:
        return str(words["top"])
    first, rest = str(tokens[0]), list(tokens[1:])
    head = ""
    if (
        first == "situations"
        and len(rest) >= 2
        and isinstance(rest[0], str | int)  # a key (an int only from a mapping, not TOML)
        and f"situations.{rest[1]}" in params
    ):
        head = f"situations.{rest[1]}"
        parts = [params[head], str(words["situation"]).format(key=_inner(str(rest[0])))]
        rest = rest[2:]
    elif rest and isinstance(rest[0], str) and f"{first}.{rest[0]}" in params:
        head = f"{first}.{rest[0]}"
        parts = [params[head]]
        rest = rest[1:]
    else:
        parts = [sections.get(first) or params.get(first) or _quote(first)]
    keyed = _is_keyed(head) if head else first == "situations"
    for i, part in enumerate(rest):
        if isinstance(part, int) and not (i == 0 and keyed):
            parts.append(str(words["item"]).format(n=part + 1))
        elif part in fields and not (i == 0 and keyed):
            parts.append(str(fields[part]))
        else:
            parts.append(_quote(str(part)))
    return ", ".join(parts)


def _named(path: str) -> str:
    """'Name (path)' for a path written out, e.g. in a template's {@run.horizon_days}."""
    tokens = tuple(
        int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)
    )
    return f"{param_name(tokens)} ({path})"


def _template(text: str, values: Mapping[str, Any]) -> str:
    text = re.sub(r"\{@([^{}]+)\}", lambda m: _named(m.group(1)), text)
    return text.format_map(_Fill(values))


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as '«a», «b» eller «c»' (or 'én av …' for several)."""
    items = re.findall(r"'([^']*)'", expected)
    if not items:
        return expected
    quoted = [_quote(x) for x in items]
    if len(quoted) == 1:
        return quoted[0]
    words = _texts()["words"]
    return f"{words['one_of']} {', '.join(quoted[:-1])} {words['or']} {quoted[-1]}"


def _message(p: Problem, tokens: Sequence[str | int]) -> str:
    """What is wrong with the field, in bokmål, without its name."""
    c, texts = p.context, _texts()
    types = texts["types"]
    if p.kind == "value_error":
        own = c.get("id")
        if not own:
            return _template(types["value_error"], {"message": c.get("message", p.english)})
        entry = texts["messages"][own]
        parts = dict(c.get("parts", {}))
        for k in entry.get("numbers", []):
            if k in parts:
                parts[k] = _english_number(parts[k])
        for k in entry.get("quoted", []):
            if k in parts:
                parts[k] = _unrepr(parts[k])
        for k in entry.get("paths", []):
            if k in parts:
                parts[k] = ", ".join(_named(x) for x in parts[k].split(", "))
        return _template(entry["nb"], parts)
    values = {k: _limit(v) for k, v in c.items() if isinstance(v, int | float)}
    if p.kind == "extra_forbidden":
        template = types["extra_forbidden_top" if len(tokens) <= 1 else "extra_forbidden"]
        values["field"] = _inner(str(tokens[-1]) if tokens else "")
    elif p.kind == "string_pattern_mismatch":
        patterns = texts["patterns"]
        values["allowed"] = patterns.get(str(c.get("pattern")), patterns["unknown"])
        template = types[p.kind]
    elif p.kind in ("literal_error", "enum", "union_tag_invalid"):
        values["expected"] = _choices(str(c.get("expected", "")))
        values["expected_tags"] = _choices(str(c.get("expected_tags", "")))
        values["tag"] = _inner(str(c.get("tag", "")))
        template = types[p.kind]
    elif c.get("min_length") == 1 and f"{p.kind}_one" in types:
        template = types[f"{p.kind}_one"]
    else:
        template = types.get(p.kind, types["unknown"])
        values["kind"] = p.kind
    text = _template(template, values)
    return f"{texts['words']['key']} {text}" if c.get("key") else text


# kinds whose bokmål says what was given (the tag, the number of items): no "(fikk …)"
_SAYS_WHAT_IT_GOT = ("union_tag_invalid", "too_long", "too_short")


def _bokmal(p: Problem) -> str:
    c, texts = p.context, _texts()
    if p.kind in FILE_KINDS:
        return _file_text(p)
    tokens: tuple[str | int, ...] = tuple(c.get("tokens", ()))
    message = _message(p, tokens)
    entry = texts["messages"].get(c.get("id", ""), {}) if p.kind == "value_error" else {}
    says = p.kind in _SAYS_WHAT_IT_GOT or (
        p.kind == "string_too_short" and c.get("min_length") == 1
    )
    show = "input" in c and entry.get("got", True) and not says
    got = str(texts["words"]["got"]).format(value=_value(c["input"])) if show else ""
    if "field" in c:
        return f"{_named(p.path)}: {message}{got}"
    if not p.path and not c.get("loc") and entry:  # a check of the whole scenario, by name
        return message[:1].upper() + message[1:] + got
    name = param_name(tokens[:-1] if p.kind == "extra_forbidden" else tokens)
    return f"{name} ({p.path}): {message}{got}" if p.path else f"{name}: {message}{got}"


def _file_text(p: Problem) -> str:
    c, texts = p.context, _texts()
    values: dict[str, Any] = {"origin": c.get("origin", ""), "detail": c.get("detail", "")}
    if p.kind == "file_too_large":
        values["limit"] = _limit(c.get("limit", MAX_BYTES))
    elif p.kind == "not_utf8":
        values.update(byte=c.get("byte", ""), position=_limit(c.get("position", 0)))
    elif p.kind == "toml_invalid":
        values["detail"] = _toml_text(c)
    elif p.kind == "not_regular_file":
        what = c.get("what")
        values["what"] = f" ({texts['file_kinds'].get(what, what)})" if what else ""
    elif p.kind == "text":
        values["detail"] = p.english
    return _template(texts["files"][p.kind], values)


_TOML_WHERE = re.compile(
    r"(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)",
    re.DOTALL,
)


def _toml_text(c: Mapping[str, Any]) -> str:
    """What tomllib says is wrong, in bokmål: its message (each one tomllib has), then where."""
    words = _texts()["toml"]
    if c.get("reason") == "nested":
        return str(words["nested"])
    if c.get("reason") == "digits":
        return _template(words["digits"], {"digits": _limit(c.get("digits", 0))})
    detail = str(c.get("detail", ""))
    m = _TOML_WHERE.fullmatch(detail)
    msg = m.group("msg") if m else detail
    for entry in _texts()["toml_messages"]:
        if hit := re.fullmatch(entry["match"], msg, re.DOTALL):
            quoted = {k: _quote(_toml_key(v)) for k, v in hit.groupdict().items()}
            said = _template(entry["nb"], quoted)
            break
    else:
        return _template(words["unknown"], {"detail": detail})
    if not m:
        return said
    if m.group("line"):
        where = _template(words["at_line"], {"line": m.group("line"), "column": m.group("column")})
    else:
        where = str(words["at_end"])
    return f"{said} ({where})"


def _toml_key(text: str) -> str:
    """A key as tomllib's message has it, a repr of a str or of a tuple ("('a', 'b')"), as
    the reader writes it: a.b."""
    if text.startswith("(") and text.endswith(")"):
        parts = re.findall(r"'([^']*)'|\"([^\"]*)\"", text)
        if parts:
            return _inner(".".join(a or b for a, b in parts))
    return _unrepr(text)


def _file_problem(kind: str, origin: object, english: str, **context: Any) -> Problem:
    return Problem("", kind, {"origin": str(origin), **context}, english)


# -- a scenario and its region ------------------------------------------------------------------


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Merge a scenario's overrides onto the defaults, validate the whole, and give it its
    region's geodata (checked against it: ``bind_region``). Raises pydantic's ValidationError."""
    merged = deep_merge(default_values(), data)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        unknown = _unknown_region(merged, exc.errors())
        if unknown is None:
            raise
        # a section that fails keeps pydantic from the scenario-wide checks (loc ()), as the
        # unknown region did when it was a validator of [region]
        fields = [e for e in exc.errors() if e["loc"]]
        errors = [e for e in fields if e["loc"][:1] == ("scenario",)]
        errors += [unknown, *(e for e in fields if e["loc"][:1] != ("scenario",))]
        raise _invalid(errors) from None
    unknown = _unknown_region(merged, [])
    if unknown is not None:
        raise _invalid([unknown])
    return bind_region(scenario)


def bind_region(scenario: Scenario, region: Region | None = None) -> Scenario:
    """The scenario with its region's geodata (read here unless given), once the scenario is
    checked against it: its units' bases, its police districts, its zones and catchments exist
    there, and its people do not make more calls than one replication may hold. A scenario on
    an abstract region is returned as it is."""
    if scenario.region.kind != "geodata":
        return scenario
    if region is None:
        from planner.geo.geodata import load_region  # geopandas: imported when first needed

        region = load_region(scenario.region.name)
    try:
        scenario.check_volume(_zone_populations(region))
        _check_against(scenario, region)
    except ValueError as exc:
        raise _invalid([_value_error((), exc, scenario.model_dump())]) from None
    bound = scenario.model_copy()
    bound._geodata = region
    return bound


def replaced(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with the dotted paths in ``changes`` set (``{"run.seed": 3}``,
    ``{"run": {...}}`` for a whole section), validated again as a whole and checked against its
    region as the loader checks a file. Raises pydantic's ValidationError, or KeyError for a
    path the scenario does not have. (``model_copy(update=...)`` would validate nothing.)"""
    data = scenario.model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        if last not in node:
            raise KeyError(f"{path}: not a field of a scenario")
        node[last] = value
    changed = Scenario.model_validate(data)
    same_region = changed.region == scenario.region and scenario._geodata is not None
    return bind_region(changed, scenario.geodata if same_region else None)


def _check_against(s: Scenario, region: Region) -> None:
    name = s.region.name
    bases = set(region.base_ids)
    for i, u in enumerate(s.fleet.units):
        if u.base not in bases:
            raise ValueError(
                f"fleet.units[{i}].base {u.base!r} is not a candidate base of "
                f"{name} (see `planner geodata list bases`)"
            )
    districts = set(region.police_districts)
    by_district = {
        "patrols": s.police.patrols,
        "p1_target_by_district": s.police.p1_target_by_district,
    }
    for table, keys in by_district.items():
        for d in keys:
            if d not in districts:
                raise ValueError(
                    f"police.{table} has {d!r}, not a police district of {name} "
                    f"({', '.join(sorted(districts))})"
                )
    receiving = set(region.receiving_ids)
    zones = set(region.zone_codes)
    for zone in s.demand.zone_rate_factors:
        if zone not in zones:
            raise ValueError(f"demand.zone_rate_factors: unknown zone {zone!r}")
    for fac in s.facilities.guarding_factor:
        if fac not in receiving:
            raise ValueError(
                f"facilities.guarding_factor has {fac!r}, not a receiving facility of {name} "
                f"({', '.join(sorted(receiving))})"
            )
    for zone, fac in s.facilities.catchment_overrides.items():
        if zone not in zones:
            raise ValueError(f"facilities.catchment_overrides: unknown zone {zone!r}")
        if fac not in receiving:
            raise ValueError(
                f"facilities.catchment_overrides[{zone!r}]: {fac!r} is not a receiving "
                f"facility ({', '.join(sorted(receiving))})"
            )


@cache
def _zone_populations(region: Region) -> dict[str, float]:
    """Each zone's population in a region's demand cells (the people the calls come from)."""
    cells = region.cells
    totals = cells.groupby(cells["zone_code"].astype(str))["population"].sum()
    return {str(z): float(p) for z, p in totals.items()}


def _unknown_region(data: dict[str, Any], errors: list[Any]) -> Any:
    """The error for a [region] whose fields are valid but whose name has no built geodata
    (None if there is none), as pydantic would report it at ``region``."""
    if any(e["loc"][:1] == ("region",) for e in errors):
        return None
    section = data.get("region")
    if not isinstance(section, dict) or section.get("kind", "geodata") != "geodata":
        return None
    from planner.geo.geodata import available_regions

    name = section.get("name")
    known = available_regions()
    if not isinstance(name, str) or name in known:
        return None
    exc = ValueError(
        f"region.name {name!r} has no built geodata; choose one of "
        f"{', '.join(known)} or kind = 'abstract'"
    )
    return _value_error(("region",), exc, section)


def _value_error(loc: tuple[str | int, ...], exc: ValueError, value: Any) -> Any:
    return {"type": "value_error", "loc": loc, "input": value, "ctx": {"error": exc}}


def _invalid(errors: list[Any]) -> ValidationError:
    return ValidationError.from_exception_data("Scenario", errors)


def scenario_from_mapping(data: Any, origin: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        english = f"{origin}: a scenario must be a table of sections"
        raise ScenarioError([_file_problem("not_a_table", origin, english)])
    try:
        return scenario_from_dict(data)
    except ValidationError as exc:
        raise ScenarioError(describe_problems(exc)) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise ScenarioError(
            [_file_problem("unusable", origin, f"{origin}: {exc}", detail=str(exc))]
        ) from None


def parse_toml(raw: bytes, origin: str) -> dict[str, Any]:
    if len(raw) > MAX_BYTES:
        english = f"{origin}: file is larger than {MAX_BYTES:,} bytes"
        raise ScenarioError([_file_problem("file_too_large", origin, english, limit=MAX_BYTES)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte, at = f"{raw[exc.start]:#04x}", exc.start
        english = f"{origin}: not UTF-8 text (byte {byte} at position {at})"
        raise ScenarioError(
            [_file_problem("not_utf8", origin, english, byte=byte, position=at)]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        english = f"{origin}: not valid TOML: {exc}"
        raise ScenarioError(
            [_file_problem("toml_invalid", origin, english, detail=str(exc))]
        ) from None
    except RecursionError:
        english = f"{origin}: not valid TOML: nested too deeply"
        raise ScenarioError(
            [_file_problem("toml_invalid", origin, english, reason="nested")]
        ) from None
    except ValueError as exc:  # e.g. Python's limit on the digits of an integer
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        context: dict[str, Any] = {"detail": why}
        if "integer string conversion" in why:
            digits = sys.get_int_max_str_digits()
            why = f"an integer has more than {digits:,} digits"
            context = {"reason": "digits", "digits": digits, "detail": why}
        english = f"{origin}: not valid TOML: {why}"
        raise ScenarioError([_file_problem("toml_invalid", origin, english, **context)]) from None


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` + 1 of them (enough to tell it is too large).

    The path is looked at before it is opened, so a folder, a device (``/dev/zero``), a FIFO
    or a socket is refused at once, by name, rather than read for ever or waited on."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            english = f"{path}: is a folder, not a scenario file"
            raise ScenarioError([_file_problem("is_folder", path, english)])
        if not stat.S_ISREG(info.st_mode):
            what = _file_kind(info.st_mode)
            english = f"{path}: is not a regular file ({what})"
            raise ScenarioError([_file_problem("not_regular_file", path, english, what=what)])
        if info.st_size > limit:
            english = f"{path}: file is larger than {limit:,} bytes"
            raise ScenarioError([_file_problem("file_too_large", path, english, limit=limit)])
        # O_NONBLOCK: should the path be swapped for a FIFO after the look, do not wait on it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                english = f"{path}: is not a regular file"
                raise ScenarioError([_file_problem("not_regular_file", path, english)])
            return f.read(limit + 1)
    except ScenarioError:
        raise
    except FileNotFoundError:
        english = f"{path}: no such file"
        raise ScenarioError([_file_problem("no_such_file", path, english)]) from None
    except OSError as exc:
        why = str(exc.strerror or exc)
        english = f"{path}: cannot be read ({why})"
        raise ScenarioError([_file_problem("cannot_read", path, english, detail=why)]) from None
    except ValueError as exc:  # a path holding a NUL character
        english = f"{path}: cannot be read ({exc})"
        problem = _file_problem("cannot_read", path, english, detail=str(exc))
        raise ScenarioError([problem]) from None


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
