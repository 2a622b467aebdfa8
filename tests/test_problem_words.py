"""A scenario's problems in the reader's language: ``Problem.text("nb")`` in bokmål, naming the
parameter in plain words with its path in brackets, while ``str(problem)`` stays the English
line ``planner validate`` prints (pinned here against a frozen copy of the old code)."""

from __future__ import annotations

import contextlib
import copy
import math
import pickle
import re
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.scenario import loading as scenario_file
from planner.scenario.loading import (
    MAX_BYTES,
    Problem,
    ScenarioError,
    describe_errors,
    describe_problems,
    nb_number,
    param_name,
    parse_toml,
    scenario_from_dict,
    scenario_from_mapping,
)
from planner.scenario.model import Scenario
from planner.scenario.parameters import deep_merge, default_values

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "src" / "planner" / "scenario"
FUZZ_EXAMPLES = 400
TOML_EXAMPLES = 300
ENGLISH = ("Input should", "String should", "Field required", "Extra inputs", "List should")
REGEX = ("^", "$", "[", "]", "+", "{", "}", "\\")

TEXTS = tomllib.loads(
    resources.files("planner.data").joinpath("problem_text.toml").read_text("utf-8")
)


# -- the English line, as describe_errors wrote it before problems were typed (frozen copy) --

_DIST_TAGS = {"fixed", "exponential", "lognormal", "gamma", "empirical"}
_FIELD_FIRST = re.compile(r"([a-z_][a-z0-9_]*): (.+)", re.DOTALL)
_NAMES_FIELDS = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*|\[)")


def _old_short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _old_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (
            part in _DIST_TAGS
            or str(part).startswith("function-")
            or part in ("list[float]", "literal['evening-weighted','flat']")
            or str(part).startswith("tuple[")  # a scenario's lists are tuples once validated
        ):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _old_describe_errors(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    errors = exc.errors(include_url=False)
    for err in errors:
        loc = tuple(err["loc"])
        # a scenario's lists are tuples once validated, whose length pydantic counts of the items
        # that passed: an item's error stands for the list's, as it did when they were lists
        if err["type"] == "too_short" and any(
            tuple(e["loc"][: len(loc)]) == loc and len(e["loc"]) > len(loc) for e in errors
        ):
            continue
        where = _old_path(loc)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        # the lists of a scenario are tuples once validated; the file (and the message) has lists
        if kind == "tuple_type":
            msg = "Input should be a valid list"
        if kind in ("too_short", "too_long") and msg.startswith("Tuple should"):
            msg = "List should" + msg.removeprefix("Tuple should")
        if kind == "extra_forbidden":
            msg = "unknown field (check the spelling; `planner schema` lists every field)"
        elif kind == "missing":
            msg = "required field is missing"
        whole_table = kind == "value_error" and isinstance(value, dict)
        if whole_table and (m := _FIELD_FIRST.fullmatch(msg)) and m.group(1) in value:
            where, msg = f"{where}.{m.group(1)}" if loc else m.group(1), m.group(2)
        quote = kind not in ("missing", "extra_forbidden") and not whole_table
        got = f" (got {_old_short(value)})" if quote else ""
        named = not loc and _NAMES_FIELDS.match(msg)
        line = f"{msg}{got}" if named else f"{where}: {msg}{got}"
        if line not in lines:
            lines.append(line)
    return lines


def _problems(data: Any) -> list[Problem]:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_mapping(data, "scenario")
    return exc.value.details


def _one(data: Any) -> Problem:
    problems = _problems(data)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _check_said(p: Problem) -> str:
    """The bokmål of a problem, checked: made without falling back to English, with no English
    phrase of pydantic's and no regular expression in it."""
    nb = scenario_file._bokmal(p)  # text("nb") falls back to English on an error: not here
    assert nb == p.text("nb")
    assert str(p) == p.english == p.text("en")
    assert nb and nb != p.english, p
    assert not any(phrase in nb for phrase in ENGLISH), nb
    if p.kind == "string_pattern_mismatch":
        assert str(p.context["pattern"]) not in nb
    if p.kind == "value_error":
        assert p.context.get("id"), f"no bokmål for our own check's message: {p.english}"
    if p.kind not in scenario_file.FILE_KINDS:
        assert p.kind == "value_error" or p.kind in TEXTS["types"], p.kind
    return nb


# -- numbers ---------------------------------------------------------------------------------


def test_numbers_the_norwegian_way() -> None:
    assert nb_number(1000.5) == "1 000,5"
    assert nb_number(-3) == "−3"
    assert nb_number(-1.0) == "−1,0"
    assert nb_number(0.25) == "0,25"
    assert nb_number(5_000_000) == "5 000 000"
    assert nb_number(1234.5678, 1) == "1 234,6"
    assert nb_number(-1234.5, 0) == "−1 234"  # Python rounds half to even
    assert nb_number(1e300) == "1 × 10³⁰⁰"
    assert nb_number(1.5e-7) == "1,5 × 10⁻⁷"
    assert nb_number(math.inf) == "∞"


def test_the_core_imports_neither_the_dashboard_nor_the_report() -> None:
    code = (
        "import sys, planner.scenario.loading as f; f.Problem; "
        "bad = [m for m in sys.modules if m.startswith(('planner.dashboard', 'planner.report', "
        "'streamlit', 'matplotlib'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# -- lines worked by hand --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "english", "bokmal"),
    [
        (
            {"demand": {"rate_per_1000_per_year": -1}},
            "demand.rate_per_1000_per_year: Input should be greater than 0 (got -1)",
            "Krisehenvendelser per 1 000 innbyggere per år (demand.rate_per_1000_per_year): "
            "må være større enn 0 (fikk −1)",
        ),
        (
            {"demand": {"rate_per_1000_per_year": -1.0}},
            "demand.rate_per_1000_per_year: Input should be greater than 0 (got -1.0)",
            "Krisehenvendelser per 1 000 innbyggere per år (demand.rate_per_1000_per_year): "
            "må være større enn 0 (fikk −1,0)",
        ),
        (
            {"demand": {"rate_per_1000_per_yr": 3}},
            "demand.rate_per_1000_per_yr: unknown field (check the spelling; `planner schema` "
            "lists every field)",
            "Etterspørsel (demand.rate_per_1000_per_yr): ukjent felt «rate_per_1000_per_yr» "
            "(sjekk stavemåten; `planner schema` viser alle feltene)",
        ),
        (
            {"demnad": {}},
            "demnad: unknown field (check the spelling; `planner schema` lists every field)",
            "Scenarioet (demnad): ukjent seksjon «demnad» (sjekk stavemåten; `planner schema` "
            "viser alle seksjonene og feltene)",
        ),
        (
            {"region": {"name": "Oslo"}},
            "region.name: String should match pattern '^[a-z][a-z0-9_]{0,39}$' (got 'Oslo')",
            "Region (region.name): kan ha bare små bokstaver a–z, sifre og _, må begynne med en "
            "bokstav og kan ha høyst 40 tegn (fikk «Oslo»)",
        ),
        (
            {"situations": {"suicidal": {"urgency": "whenever"}}},
            "situations.suicidal.urgency: Input should be 'acute', 'urgent' or 'planned' "
            "(got 'whenever')",
            "Hastegrad, situasjon «suicidal» (situations.suicidal.urgency): må være én av "
            "«acute», «urgent» eller «planned» (fikk «whenever»)",
        ),
        (
            {"fleet": {"shifts": {"odd": {"start_hour": 25, "hours": 8, "days": ["mon"]}}}},
            "fleet.shifts.odd.start_hour: Input should be less than or equal to 23 (got 25)",
            "Vakter, «odd», starttime (fleet.shifts.odd.start_hour): må være høyst 23 (fikk 25)",
        ),
        (
            {
                "fleet": {
                    "units": [{"name": "A", "base": "oslo_legevakt", "shift": "day", "crew": 0}]
                }
            },
            "fleet.units[0].crew: Input should be greater than or equal to 1 (got 0)",
            "Enheter, nr. 1, mannskap (fleet.units[0].crew): må være minst 1 (fikk 0)",
        ),
        (
            {"situations": {"suicidal": {"on_scene": {"dist": "lognormal", "mean": 30}}}},
            "situations.suicidal.on_scene.sd: required field is missing",
            "Tid på stedet (enhet), situasjon «suicidal», standardavvik "
            "(situations.suicidal.on_scene.sd): mangler (feltet må fylles ut)",
        ),
        (
            {"situations": {"suicidal": {"on_scene": {"dist": "gamma", "mean": 10, "sd": 200}}}},
            "situations.suicidal.on_scene.sd: at most 10 × mean (100), got 200",
            "Tid på stedet (enhet), situasjon «suicidal», standardavvik "
            "(situations.suicidal.on_scene.sd): kan være høyst 10 × gjennomsnittet (100), "
            "men er 200",
        ),
        (
            {"fleet": {"mobilisation": {"dist": "weibull"}}},
            "fleet.mobilisation: Input tag 'weibull' found using 'dist' does not match any of "
            "the expected tags: 'fixed', 'exponential', 'lognormal', 'gamma', 'empirical' "
            "(got {'dist': 'weibull'})",
            "Tid fra alarm til avreise (fleet.mobilisation): ukjent type fordeling «weibull»; "
            "velg én av «fixed», «exponential», «lognormal», «gamma» eller «empirical»",
        ),
        (
            {"run": {"warmup_days": 200, "horizon_days": 100}},
            "run.warmup_days must be shorter than run.horizon_days",
            "Innkjøringsdager (telles ikke) (run.warmup_days): må være kortere enn Dager som "
            "simuleres (run.horizon_days)",
        ),
        (
            {"run": {"seed": True}},
            "run.seed: must be a whole number, not true or false (got True)",
            "Frø (seed) (run.seed): må være et heltall, ikke true eller false (fikk true)",
        ),
        (
            {"call_handling": {"channel_shares": {"police_112": 0.9}}},
            "call_handling.channel_shares: shares must sum to 1, got 1.3",
            "Hvor henvendelsene kommer inn (call_handling.channel_shares): andelene må til "
            "sammen bli 1, men blir 1,3",
        ),
        (
            {"fleet": {"units": [{"name": "A", "base": "oslo_legevakt", "shift": "brunch"}]}},
            "fleet: units[0].shift 'brunch' is not a defined shift "
            "(always, day, evening, late, night)",
            "Enheter, nr. 1, vakt (fleet.units[0].shift): «brunch» er ikke en av vaktene i "
            "Vakter (fleet.shifts) (de er always, day, evening, late, night)",
        ),
        (
            {"police": {"patrols": {"Oslo": 3}}},
            "police.patrols.Oslo.[key]: String should match pattern '^[a-z][a-z0-9_]{0,39}$' "
            "(got 'Oslo')",
            "Patruljer på vakt per distrikt, «Oslo» (police.patrols.Oslo): navnet kan ha bare "
            "små bokstaver a–z, sifre og _, må begynne med en bokstav og kan ha høyst 40 tegn "
            "(fikk «Oslo»)",
        ),
        (
            {"optimise": {"shift_starts": []}},
            "optimise.shift_starts: List should have at least 1 item after validation, not 0 "
            "(got [])",
            "Timer en vakt kan starte (optimise.shift_starts): kan ikke være tom",
        ),
        (
            {"demand": {"hour_of_week_profile": [1.0, 2.0]}},
            "demand.hour_of_week_profile: needs 168 hourly weights (24 x 7), got 2 "
            "(got [1.0, 2.0])",
            "Henvendelser per time i uka (demand.hour_of_week_profile): må ha 168 vekter, én per "
            "time i uka (24 × 7), men har 2",
        ),
    ],
)
def test_worked_by_hand(data: dict[str, Any], english: str, bokmal: str) -> None:
    p = _one(data)
    assert str(p) == english
    assert p.text("en") == english
    assert p.text("nb") == bokmal
    _check_said(p)


def test_a_pattern_is_said_in_words() -> None:
    for data in (
        {"region": {"name": "Oslo"}},
        {"situations": {"BAD": {"share": 0.0}}},
        {"fleet": {"shifts": {"Natt": {"start_hour": 1, "hours": 8, "days": ["mon"]}}}},
    ):
        p = next(p for p in _problems(data) if p.kind == "string_pattern_mismatch")
        nb = _check_said(p)
        assert not any(c in nb for c in REGEX), nb
        assert "bare små bokstaver a–z, sifre og _" in nb
        assert "[key]" not in p.path  # the key's own path, for the expert


def test_the_field_path_is_the_problem_s_path() -> None:
    assert _one({"demand": {"year": 3000}}).path == "demand.year"
    assert _one({"run": {"warmup_days": 200, "horizon_days": 100}}).path == "run.warmup_days"
    unit = {"name": "A", "base": "oslo_legevakt", "shift": "brunch"}
    assert _one({"fleet": {"units": [unit]}}).path == "fleet.units[0].shift"
    dist = {"dist": "gamma", "mean": 10, "sd": 200}
    assert _one({"police": {"mobilisation": dist}}).path == "police.mobilisation.sd"


def test_names_come_from_the_dashboard_s_words() -> None:
    from planner.dashboard.text import Words

    w = Words("nb")
    for path in ("demand.year", "run.seed", "costs.price_year", "triage.screening_sensitivity"):
        assert param_name(tuple(path.split("."))) == w.param(path)
    assert param_name(("situations", "psychosis", "share")).startswith(
        w.param("situations.psychosis.share")
    )
    assert param_name(("demand",)) == w.section("demand")
    assert param_name(("fleet", "units", 2, "crew")) == "Enheter, nr. 3, mannskap"
    # a shift called "days" is a key, not the shift's field "days"
    assert param_name(("fleet", "shifts", "days", "days")) == "Vakter, «days», dager"


# -- every check of our own has bokmål -------------------------------------------------------

GEO_UNIT = {"name": "A", "base": "oslo_legevakt", "shift": "day"}
OWN_CHECKS: dict[str, dict[str, Any]] = {
    "region_no_geodata": {"region": {"name": "tromso"}},
    "source_not_a_parameter": {"scenario": {"sources": {"demand.grow": "calibrated from x"}}},
    "profile_length": {"demand": {"hour_of_week_profile": [1.0] * 3}},
    "weights_zero": {"demand": {"hour_of_week_profile": [0.0] * 168}},
    "channel_shares_sum": {"call_handling": {"channel_shares": {"police_112": 0.1}}},
    "day_twice": {
        "fleet": {"shifts": {"odd": {"start_hour": 1, "hours": 8, "days": ["mon", "mon"]}}}
    },
    "unit_names_unique": {"fleet": {"units": [GEO_UNIT, GEO_UNIT]}},
    "unit_shift_unknown": {"fleet": {"units": [{**GEO_UNIT, "shift": "brunch"}]}},
    "whole_number_not_bool": {"run": {"replications": False}},
    "situation_shares_sum": {"situations": {"suicidal": {"share": 0.9}}},
    "warmup_too_long": {"run": {"warmup_days": 200, "horizon_days": 100}},
    "unit_base_unknown": {"fleet": {"units": [{**GEO_UNIT, "base": "tromso"}]}},
    "patrol_district_unknown": {"police": {"patrols": {"nordland": 4}}},
    "guarding_facility_unknown": {"facilities": {"guarding_factor": {"nowhere": 2.0}}},
    "hours_all_zero": {"police": {"duty_profile": [0.0] * 24}},
    "zone_unknown": {"facilities": {"catchment_overrides": {"9999": "ahus"}}},
    "facility_unknown": {"facilities": {"catchment_overrides": {"030101": "nowhere"}}},
    "too_many_calls": {
        "region": {"kind": "abstract", "population": 50_000_000},
        "demand": {"rate_per_1000_per_year": 1000},
        "run": {"horizon_days": 3650},
    },
    "sd_too_large": {"fleet": {"mobilisation": {"dist": "lognormal", "mean": 1, "sd": 11}}},
    "sd_too_small": {"fleet": {"mobilisation": {"dist": "gamma", "mean": 10, "sd": 0.001}}},
    "weights_per_value": {
        "fleet": {"mobilisation": {"dist": "empirical", "values": [1, 2], "weights": [1]}}
    },
    "weights_sum_too_large": {
        "fleet": {
            "mobilisation": {"dist": "empirical", "values": [1, 2], "weights": [1e308, 1e308]}
        }
    },
}


@pytest.mark.parametrize("own", sorted(OWN_CHECKS))
def test_every_own_check_is_said_in_bokmal(own: str) -> None:
    problems = [p for p in _problems(OWN_CHECKS[own]) if p.kind == "value_error"]
    assert [p.context.get("id") for p in problems] == [own], [str(p) for p in problems]
    nb = _check_said(problems[0])
    assert "på engelsk" not in nb and not re.search(r"\{[a-z_@]", nb), nb


def test_the_data_file_has_a_case_for_each_own_message() -> None:
    assert set(TEXTS["messages"]) == set(OWN_CHECKS)
    # each `raise ValueError` of a check in the schema has its message here (one id serves the
    # two unknown-zone checks and the two all-zero-weights checks): a new check needs bokmål
    # (the loader's checks against the region are in loading.py, one of them made, not raised)
    raises = sum(
        len(re.findall(r"(?:raise|exc =) ValueError\(", (SCENARIO / name).read_text("utf-8")))
        for name in ("model.py", "distributions.py", "loading.py")
    )
    assert raises == len(OWN_CHECKS) + 2, "a check was added or removed: update problem_text"


def test_the_volume_check_names_its_fields() -> None:
    p = next(p for p in _problems(OWN_CHECKS["too_many_calls"]) if p.kind == "value_error")
    nb = p.text("nb")
    assert nb.startswith("Om lag 602 000 000 henvendelser ventes i én replikasjon, flere enn de ")
    assert "5 000 000" in nb and "over 3 650 dager" in nb and "fra 2023 til 2026" in nb
    assert "Befolkning (abstrakt region) (region.population)" in nb


# -- problems with a file --------------------------------------------------------------------


def test_file_problems_in_bokmal() -> None:
    def said(raw: bytes) -> Problem:
        with pytest.raises(ScenarioError) as exc:
            parse_toml(raw, "opplastet.toml")
        (p,) = exc.value.details
        return p

    p = said(b"[demand\nrate = \n")
    assert str(p) == (
        "opplastet.toml: not valid TOML: Expected ']' at the end of a table declaration "
        "(at line 1, column 8)"
    )
    assert p.kind == "toml_invalid"
    assert p.text("nb") == (
        "opplastet.toml: ikke gyldig TOML: venter «]» på slutten av en tabellseksjon "
        "(linje 1, kolonne 8)"
    )
    p = said(b"x" * (MAX_BYTES + 1))
    assert str(p) == "opplastet.toml: file is larger than 1,000,000 bytes"
    assert p.text("nb") == "opplastet.toml: filen er større enn 1 000 000 byte"
    p = said('[scenario]\nname = "Bærum"\n'.encode("latin-1"))
    assert p.text("nb") == "opplastet.toml: ikke UTF-8-tekst (byte 0xe6 på posisjon 20)"
    p = said(b"[a]\nb = 1\n[a]\n")
    assert p.text("nb") == (
        "opplastet.toml: ikke gyldig TOML: «a» er deklarert to ganger (linje 3, kolonne 3)"
    )
    p = said(b"a = " + b"9" * 5000)
    assert p.text("nb") == "opplastet.toml: ikke gyldig TOML: et heltall har flere enn 4 300 sifre"
    p = said(b"a = " + b"[" * 5000)
    assert p.text("nb") in (
        "opplastet.toml: ikke gyldig TOML: nestet for dypt",
        "opplastet.toml: ikke gyldig TOML: ugyldig verdi (på slutten av filen)",
    )

    p = _one([1, 2])
    assert str(p) == "scenario: a scenario must be a table of sections"
    assert (
        p.text("nb") == "scenario: et scenario må være en tabell av seksjoner ([demand], [run], …)"
    )


def test_files_on_disk_in_bokmal(tmp_path: Path) -> None:
    from planner.scenario.loading import load_scenario

    for path, bokmal in (
        (tmp_path, f"{tmp_path}: er en mappe, ikke en scenariofil"),
        (tmp_path / "nope.toml", f"{tmp_path / 'nope.toml'}: filen finnes ikke"),
        (Path("/dev/null"), "/dev/null: er ikke en vanlig fil (en enhet)"),
    ):
        with pytest.raises(ScenarioError) as exc:
            load_scenario(path)
        (p,) = exc.value.details
        assert p.text("nb") == bokmal
        assert p.kind in scenario_file.FILE_KINDS


def test_scenario_error_keeps_its_english_lines() -> None:
    e = ScenarioError(["sweep.toml: grid.units: must be a list", Problem("", "text", {}, "x: y")])
    assert e.problems == ["sweep.toml: grid.units: must be a list", "x: y"]
    assert str(e) == "sweep.toml: grid.units: must be a list\nx: y"
    assert [p.kind for p in e.details] == ["text", "text"]
    assert e.details[0].text("nb") == "sweep.toml: grid.units: must be a list"  # not ours to say
    with pytest.raises(ScenarioError) as exc:
        scenario_from_mapping({"demand": {"year": 3000, "base_year": 1800}})
    again = pickle.loads(pickle.dumps(exc.value))
    assert again.problems == exc.value.problems and len(again.problems) == 2
    assert [p.text("nb") for p in again.details] == [p.text("nb") for p in exc.value.details]


# -- fuzz ------------------------------------------------------------------------------------


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            out += _leaves(v, (*path, i))
    return out


DEFAULTS = default_values()
LEAVES = _leaves(DEFAULTS)


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


TABLES = [p for p in LEAVES if isinstance(_get(DEFAULTS, p), dict)]
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1, 0, 1, 25, 1e9, -0.0, 2**63, 0.5]),
)
DISTRIBUTIONS = st.fixed_dictionaries(
    {"dist": st.sampled_from([*sorted(_DIST_TAGS), "weibull", 3])},
    optional={
        "mean": NUMBERS,
        "sd": NUMBERS,
        "value": NUMBERS,
        "values": st.lists(NUMBERS, max_size=4),
        "weights": st.lists(NUMBERS, max_size=4),
        "shape": NUMBERS,
    },
)
VALUES = st.one_of(
    NUMBERS,
    st.text(max_size=20),
    st.sampled_from(["", "Oslo", "x" * 300, "mon", "evening", "2.5", "tromso", "fixed"]),
    st.booleans(),
    st.dates(),
    st.lists(st.one_of(NUMBERS, st.sampled_from(["mon", "mon", "funday"])), max_size=12),
    st.lists(st.just(0), min_size=0, max_size=200),
    st.dictionaries(st.text(max_size=8), st.one_of(NUMBERS, st.text(max_size=4)), max_size=3),
    DISTRIBUTIONS,
)
KEYS = st.one_of(st.text(max_size=12), st.sampled_from(["Bad Key", "9999", "0301", "dist", "zz"]))
CHANGE = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(LEAVES), VALUES),
    st.tuples(st.just("merge"), st.just(()), st.sampled_from(list(OWN_CHECKS.values()))),
    st.tuples(st.just("add"), st.sampled_from(TABLES), st.tuples(KEYS, VALUES)),
    st.tuples(st.just("add"), st.just(()), st.tuples(KEYS, VALUES)),
)


def _apply(changes: list[tuple[str, tuple[Any, ...], Any]]) -> dict[str, Any]:
    tree = copy.deepcopy(DEFAULTS)
    for what, path, value in changes:
        if what == "merge":
            tree = deep_merge(tree, value)
        elif what == "set":
            parent = _get(tree, path[:-1])
            if isinstance(parent, dict | list):
                with contextlib.suppress(IndexError):
                    parent[path[-1]] = copy.deepcopy(value)
        else:
            node = _get(tree, path) if path else tree
            if isinstance(node, dict):
                key, v = value
                node[key] = copy.deepcopy(v)
    return tree


def test_fuzz_bokmal_for_every_problem(fuzz: Any) -> None:
    kinds: set[str] = set()

    def check_one(changes: list[tuple[str, tuple[Any, ...], Any]]) -> None:
        data = _apply(changes)
        try:
            scenario_from_dict(data)
        except ValidationError as exc:
            old = _old_describe_errors(exc)
            problems = describe_problems(exc)
            assert [str(p) for p in problems] == old
            assert describe_errors(exc) == old
        else:
            return
        with pytest.raises(ScenarioError) as raised:
            scenario_from_mapping(data, "scenario")
        assert raised.value.problems == old
        for p in raised.value.details:
            kinds.add(p.kind)
            _check_said(p)

    tried = fuzz(st.lists(CHANGE, min_size=1, max_size=3), FUZZ_EXAMPLES, check_one)
    assert tried >= FUZZ_EXAMPLES * 0.9
    # the fuzz meets the common kinds of problem, each said in bokmål by the data file
    assert {"extra_forbidden", "value_error", "float_type"} <= kinds, kinds
    assert kinds - {"value_error"} <= set(TEXTS["types"]), kinds


TOML_TEXT = st.text(alphabet="[]{}=.,\"'\\ \n\tab1-_#:tfe+", max_size=40)


def test_fuzz_toml_problems_in_bokmal(fuzz: Any) -> None:
    def check_one(text: str) -> None:
        try:
            raw = parse_toml(text.encode("utf-8"), "f.toml")
        except ScenarioError as exc:
            (p,) = exc.details
            assert p.kind == "toml_invalid"
            nb = _check_said(p)
            assert nb.startswith("f.toml: ikke gyldig TOML: ")
            assert "på engelsk" not in nb, f"a tomllib message without bokmål: {p.english}"
            return
        try:
            scenario_from_mapping(raw, "f.toml")
        except ScenarioError as exc:
            for p in exc.details:
                _check_said(p)

    tried = fuzz(TOML_TEXT, TOML_EXAMPLES, check_one)
    assert tried >= TOML_EXAMPLES * 0.9


# -- the data file ---------------------------------------------------------------------------

# every error type a scenario can produce (found by fuzzing the schema), and enum for good measure
ERROR_TYPES = [
    *("greater_than", "greater_than_equal", "less_than", "less_than_equal"),
    *("missing", "extra_forbidden", "value_error"),
    *("int_type", "int_parsing", "int_parsing_size", "int_from_float"),
    *("float_type", "float_parsing", "finite_number", "bool_type", "bool_parsing"),
    *("string_type", "string_too_short", "string_too_long", "string_pattern_mismatch"),
    *("too_short", "too_long", "literal_error", "enum"),
    *("dict_type", "model_type", "model_attributes_type", "list_type"),
    *("union_tag_invalid", "union_tag_not_found"),
]


def test_a_template_for_every_error_type() -> None:
    assert set(ERROR_TYPES) <= set(TEXTS["types"])
    for kind, template in TEXTS["types"].items():
        assert not any(phrase in template for phrase in ENGLISH), kind
    assert set(scenario_file.FILE_KINDS) == set(TEXTS["files"])


def test_every_pattern_of_the_schema_is_said_in_words() -> None:
    patterns: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(Scenario.model_json_schema())
    assert patterns and patterns <= set(TEXTS["patterns"]), patterns
    for words in TEXTS["patterns"].values():
        assert not any(c in words for c in "^$[]+*?{}\\"), words


def test_an_unknown_kind_is_still_said_in_bokmal() -> None:
    p = Problem(
        "demand.year", "date_type", {"tokens": ("demand", "year"), "loc": ("demand", "year")}, "x"
    )
    assert (
        p.text("nb") == "År som simuleres (demand.year): har en ugyldig verdi (feiltype date_type)"
    )
    broken = Problem("demand.year", "missing", {"tokens": 3}, "demand.year: gone")
    assert broken.text("nb") == "demand.year: gone"  # cannot be said: English, never an error


def test_the_fuzz_starts_from_a_valid_scenario() -> None:
    Scenario.model_validate(deep_merge(default_values(), {}))
