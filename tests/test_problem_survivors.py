"""Exact values for the scenario loader's problems (planner/scenario/loading.py), each worked out
by hand from the code and data/problem_text.toml: the files ``read_bytes`` refuses, the limits
of ``parse_toml``, pydantic's errors as ``describe_problems`` types them, numbers and values
the Norwegian way, the names ``param_name`` gives and the fallbacks of a problem said in
bokmål. Fast (no simulation, no dashboard): they pin what mutation testing found unpinned."""

from __future__ import annotations

import datetime
import errno
import math
import os
import signal
import socket
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path, PosixPath
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from planner.scenario import loading as scenario_file
from planner.scenario.loading import (
    MAX_BYTES,
    Problem,
    ScenarioError,
    describe_problems,
    load_scenario,
    nb_number,
    param_name,
    parse_toml,
    read_bytes,
    scenario_from_mapping,
)

TEXTS = tomllib.loads(
    resources.files("planner.data").joinpath("problem_text.toml").read_text("utf-8")
)
MINUS = "\N{MINUS SIGN}"


def _raised(call: Any, *args: Any, **kwargs: Any) -> Problem:
    with pytest.raises(ScenarioError) as exc:
        call(*args, **kwargs)
    (p,) = exc.value.details
    assert exc.value.problems == [p.english]
    return p


def _said(p: Problem, english: str, bokmal: str) -> None:
    assert str(p) == english
    assert p.text("en") == english
    assert p.text("nb") == bokmal


# -- read_bytes: what a path may be -----------------------------------------------------------


def test_a_folder_is_refused_by_name(tmp_path: Path) -> None:
    p = _raised(read_bytes, tmp_path, limit=10)
    assert (p.path, p.kind, dict(p.context)) == ("", "is_folder", {"origin": str(tmp_path)})
    _said(
        p,
        f"{tmp_path}: is a folder, not a scenario file",
        f"{tmp_path}: er en mappe, ikke en scenariofil",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with _no_waiting():
        p = _raised(read_bytes, fifo, limit=10)
    assert (p.path, p.kind) == ("", "not_regular_file")
    assert dict(p.context) == {"origin": str(fifo), "what": "a named pipe"}
    _said(
        p,
        f"{fifo}: is not a regular file (a named pipe)",
        f"{fifo}: er ikke en vanlig fil (en navngitt pipe, FIFO)",
    )


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_a_device_is_refused() -> None:
    p = _raised(read_bytes, Path("/dev/null"), limit=10)
    assert (p.path, p.kind) == ("", "not_regular_file")
    assert dict(p.context) == {"origin": "/dev/null", "what": "a device"}
    _said(
        p,
        "/dev/null: is not a regular file (a device)",
        "/dev/null: er ikke en vanlig fil (en enhet)",
    )


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no unix sockets here")
def test_a_socket_is_refused(tmp_path: Path) -> None:
    where = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(where))
        p = _raised(read_bytes, where, limit=10)
    assert (p.path, p.kind) == ("", "not_regular_file")
    assert dict(p.context) == {"origin": str(where), "what": "a socket"}
    _said(
        p,
        f"{where}: is not a regular file (a socket)",
        f"{where}: er ikke en vanlig fil (en socket)",
    )


def test_the_kinds_of_file_named() -> None:
    import stat

    assert scenario_file._file_kind(stat.S_IFIFO) == "a named pipe"
    assert scenario_file._file_kind(stat.S_IFCHR) == "a device"
    assert scenario_file._file_kind(stat.S_IFBLK) == "a device"
    assert scenario_file._file_kind(stat.S_IFSOCK) == "a socket"
    assert scenario_file._file_kind(stat.S_IFLNK) == "not a file of bytes"
    assert scenario_file._file_kind(0) == "not a file of bytes"


def test_a_file_larger_than_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "f.toml"
    f.write_bytes(b"x" * 10)
    assert read_bytes(f, limit=10) == b"x" * 10  # exactly the limit is accepted, all of it
    f.write_bytes(b"x" * 11)
    p = _raised(read_bytes, f, limit=10)
    assert (p.path, p.kind, dict(p.context)) == (
        "",
        "file_too_large",
        {"origin": str(f), "limit": 10},
    )
    _said(p, f"{f}: file is larger than 10 bytes", f"{f}: filen er større enn 10 byte")
    f.write_bytes(b"x" * 1001)
    p = _raised(read_bytes, f, limit=1000)
    assert p.context["limit"] == 1000
    _said(p, f"{f}: file is larger than 1,000 bytes", f"{f}: filen er større enn 1 000 byte")


def test_a_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "nope.toml"
    p = _raised(read_bytes, f, limit=10)
    assert (p.path, p.kind, dict(p.context)) == ("", "no_such_file", {"origin": str(f)})
    _said(p, f"{f}: no such file", f"{f}: filen finnes ikke")


def test_a_path_under_a_regular_file(tmp_path: Path) -> None:
    f = tmp_path / "f.toml"
    f.write_bytes(b"")
    under = f / "x.toml"
    why = os.strerror(errno.ENOTDIR)  # "Not a directory"
    p = _raised(read_bytes, under, limit=10)
    assert (p.path, p.kind) == ("", "cannot_read")
    assert dict(p.context) == {"origin": str(under), "detail": why}
    _said(p, f"{under}: cannot be read ({why})", f"{under}: kan ikke leses (på engelsk: {why})")


def test_a_path_with_a_nul_character() -> None:
    path = Path("/tmp/a\0b.toml")
    p = _raised(read_bytes, path, limit=10)
    assert (p.path, p.kind) == ("", "cannot_read")
    assert dict(p.context) == {"origin": "/tmp/a\0b.toml", "detail": "embedded null byte"}
    _said(
        p,
        "/tmp/a\0b.toml: cannot be read (embedded null byte)",
        "/tmp/a\0b.toml: kan ikke leses (på engelsk: embedded null byte)",
    )


@contextmanager
def _no_waiting(seconds: float = 5.0) -> Iterator[None]:
    """Fail, rather than hang, should the code wait on a FIFO."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def fail(signum: int, frame: Any) -> None:
        pytest.fail("read_bytes waited on a named pipe")

    before = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def _looked_at_as(real: Path, seen: Path) -> Path:
    """``real``, whose ``stat()`` tells of ``seen``: the path swapped between look and open."""

    class Swapped(PosixPath):
        def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
            return os.stat(seen)

    return Swapped(real)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_path_swapped_for_a_pipe_after_the_look(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    plain = tmp_path / "plain.toml"
    plain.write_bytes(b"a = 1\n")
    with _no_waiting():  # opened without waiting for a writer, then refused
        p = _raised(read_bytes, _looked_at_as(fifo, plain), limit=10)
    assert (p.path, p.kind, dict(p.context)) == ("", "not_regular_file", {"origin": str(fifo)})
    _said(p, f"{fifo}: is not a regular file", f"{fifo}: er ikke en vanlig fil")


def test_at_most_limit_plus_one_bytes_are_read(tmp_path: Path) -> None:
    grown = tmp_path / "grown.toml"
    grown.write_bytes(b"0123456789abcdefghij")
    empty = tmp_path / "empty.toml"
    empty.write_bytes(b"")
    # the look saw 0 bytes; the file has 20 by the time it is read: enough to tell it is large
    assert read_bytes(_looked_at_as(grown, empty), limit=10) == b"0123456789a"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc here")
def test_a_file_that_says_it_is_empty_is_read_up_to_the_limit() -> None:
    assert len(read_bytes(Path("/proc/self/status"), limit=10)) == 11  # its st_size is 0


# -- parse_toml and load_scenario -------------------------------------------------------------


def test_parse_toml_takes_exactly_max_bytes() -> None:
    assert parse_toml(b"#" * MAX_BYTES, "f.toml") == {}
    p = _raised(parse_toml, b"#" * (MAX_BYTES + 1), "f.toml")
    assert (p.path, p.kind, dict(p.context)) == (
        "",
        "file_too_large",
        {"origin": "f.toml", "limit": 1_000_000},
    )
    _said(
        p,
        "f.toml: file is larger than 1,000,000 bytes",
        "f.toml: filen er større enn 1 000 000 byte",
    )


def test_not_utf8() -> None:
    p = _raised(parse_toml, b'[scenario]\nname = "B\xe6rum"\n', "f.toml")
    assert (p.path, p.kind) == ("", "not_utf8")
    assert dict(p.context) == {"origin": "f.toml", "byte": "0xe6", "position": 20}
    _said(
        p,
        "f.toml: not UTF-8 text (byte 0xe6 at position 20)",
        "f.toml: ikke UTF-8-tekst (byte 0xe6 på posisjon 20)",
    )
    p = _raised(parse_toml, b"#" * 1500 + b"\xff", "f.toml")
    _said(
        p,
        "f.toml: not UTF-8 text (byte 0xff at position 1500)",
        "f.toml: ikke UTF-8-tekst (byte 0xff på posisjon 1 500)",
    )


@pytest.mark.parametrize(
    ("raw", "detail", "bokmal"),
    [
        (
            b"[a.b]\nx = 1\n[a.b]\n",
            "Cannot declare ('a', 'b') twice (at line 3, column 5)",
            "«a.b» er deklarert to ganger (linje 3, kolonne 5)",
        ),
        (
            b"[[a]]\n[a]\n",
            "Cannot declare ('a',) twice (at line 2, column 3)",
            "«a» er deklarert to ganger (linje 2, kolonne 3)",
        ),
        (
            b"a = {b = 1}\na.c = 2\n",
            "Cannot mutate immutable namespace ('a',) (at line 2, column 8)",
            "«a» kan ikke endres her (den er allerede definert) (linje 2, kolonne 8)",
        ),
        (
            b"x = {k = 1, k = 2}",
            "Duplicate inline table key 'k' (at line 1, column 18)",
            "nøkkelen «k» står to ganger i en tabell på én linje (linje 1, kolonne 18)",
        ),
        (
            b'a = "\x01"',
            "Illegal character '\\x01' (at line 1, column 6)",
            "ulovlig tegn «\\x01» (linje 1, kolonne 6)",
        ),
        (b"a = ", "Invalid value (at end of document)", "ugyldig verdi (på slutten av filen)"),
        (
            b"a = [1, 2\n",
            "Unclosed array (at end of document)",
            "en liste er ikke lukket (mangler «]») (på slutten av filen)",
        ),
        (
            b"a.b = 1\na.b.c = 2\n",
            "Cannot overwrite a value (at line 2, column 10)",
            "en verdi kan ikke skrives over (linje 2, kolonne 10)",
        ),
        (b"= 1", "Invalid statement (at line 1, column 1)", "ugyldig linje (linje 1, kolonne 1)"),
        (
            b"a 1",
            "Expected '=' after a key in a key/value pair (at line 1, column 3)",
            "venter «=» etter en nøkkel (linje 1, kolonne 3)",
        ),
        (
            b'a = "x',
            "Unterminated string (at end of document)",
            "en tekst er ikke avsluttet (mangler anførselstegn) (på slutten av filen)",
        ),
        (
            b'a = "\\q"',
            "Unescaped '\\' in a string (at line 1, column 8)",
            "en «\\» i en tekst er ikke escapet (linje 1, kolonne 8)",
        ),
        (
            b"[[a]\n",
            "Expected ']]' at the end of an array declaration (at line 1, column 4)",
            "venter «]]» på slutten av en tabelliste (linje 1, kolonne 4)",
        ),
    ],
)
def test_toml_errors(raw: bytes, detail: str, bokmal: str) -> None:
    p = _raised(parse_toml, raw, "f.toml")
    assert (p.path, p.kind, dict(p.context)) == (
        "",
        "toml_invalid",
        {"origin": "f.toml", "detail": detail},
    )
    _said(p, f"f.toml: not valid TOML: {detail}", f"f.toml: ikke gyldig TOML: {bokmal}")


def test_an_integer_past_python_s_limit() -> None:
    digits = sys.get_int_max_str_digits()
    p = _raised(parse_toml, b"a = " + b"9" * (digits + 1), "f.toml")
    why = f"an integer has more than {digits:,} digits"
    assert dict(p.context) == {
        "origin": "f.toml",
        "reason": "digits",
        "digits": digits,
        "detail": why,
    }
    assert str(p) == f"f.toml: not valid TOML: {why}"
    if digits == 4300:  # Python's default
        assert str(p) == "f.toml: not valid TOML: an integer has more than 4,300 digits"
        assert p.text("nb") == "f.toml: ikke gyldig TOML: et heltall har flere enn 4 300 sifre"


@pytest.mark.parametrize(
    ("error", "why"),
    [(ValueError("first line\nsecond line"), "first line"), (ValueError(), "ValueError")],
)
def test_another_value_error_of_the_toml_reader(
    monkeypatch: pytest.MonkeyPatch, error: ValueError, why: str
) -> None:
    real = tomllib.loads

    def loads(text: str, **kwargs: Any) -> Any:
        if text == "a = 1":
            raise error
        return real(text, **kwargs)

    monkeypatch.setattr(scenario_file.tomllib, "loads", loads)
    p = _raised(parse_toml, b"a = 1", "f.toml")
    assert (p.kind, dict(p.context)) == ("toml_invalid", {"origin": "f.toml", "detail": why})
    _said(
        p,
        f"f.toml: not valid TOML: {why}",
        f"f.toml: ikke gyldig TOML: feil i TOML (på engelsk: {why})",
    )


def test_load_scenario_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "s.toml"
    f.write_bytes(b"a = ")
    p = _raised(load_scenario, f)
    assert p.context["origin"] == str(f)
    assert str(p) == f"{f}: not valid TOML: Invalid value (at end of document)"
    f.write_bytes(b"")

    def unusable(data: Any) -> Any:
        raise TypeError("no good")

    monkeypatch.setattr(scenario_file, "scenario_from_dict", unusable)
    p = _raised(load_scenario, str(f))
    assert (p.kind, dict(p.context)) == ("unusable", {"origin": str(f), "detail": "no good"})
    _said(p, f"{f}: no good", f"{f}: scenarioet kan ikke brukes (på engelsk: no good)")


def test_a_scenario_that_cannot_be_used() -> None:
    p = _raised(scenario_from_mapping, {"demand": {"year": threading.Lock()}}, "s.toml")
    why = "cannot pickle '_thread.lock' object"  # deep_merge copies the value
    assert (p.path, p.kind, dict(p.context)) == (
        "",
        "unusable",
        {"origin": "s.toml", "detail": why},
    )
    _said(p, f"s.toml: {why}", f"s.toml: scenarioet kan ikke brukes (på engelsk: {why})")


def test_the_default_origin_is_scenario() -> None:
    p = _raised(scenario_from_mapping, [1, 2])
    assert (p.kind, dict(p.context)) == ("not_a_table", {"origin": "scenario"})
    assert str(p) == "scenario: a scenario must be a table of sections"
    p = _raised(scenario_from_mapping, {"demand": {"year": threading.Lock()}})
    assert p.context["origin"] == "scenario"
    assert str(p) == "scenario: cannot pickle '_thread.lock' object"


# -- ScenarioError ----------------------------------------------------------------------------


def test_scenario_error_of_one_line() -> None:
    e = ScenarioError("sweep.toml: grid: must be a table")
    assert e.problems == ["sweep.toml: grid: must be a table"]
    assert str(e) == "sweep.toml: grid: must be a table"
    (p,) = e.details
    assert (p.path, p.kind, dict(p.context), p.english) == (
        "",
        "text",
        {},
        "sweep.toml: grid: must be a table",
    )
    assert p.text("nb") == "sweep.toml: grid: must be a table"


# -- describe_problems: pydantic's errors, typed ----------------------------------------------


def _bad(v: Any) -> Any:
    raise ValueError("bad")


def _also_bad(v: Any) -> Any:
    raise ValueError("bad")


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: Annotated[int, AfterValidator(_bad)] | Annotated[str, AfterValidator(_also_bad)] = 0
    y: int = 0
    profile: list[float] | Literal["evening-weighted", "flat"] = "flat"
    code: str = Field("ab", min_length=2)
    pair: list[int] = Field(default_factory=lambda: [1, 2], min_length=2)


class _Whole(BaseModel):
    a: int = 0

    @model_validator(mode="after")
    def _check(self) -> _Whole:
        if self.a == 1:
            raise ValueError("a: must not be one")
        return self


class _Custom(BaseModel):
    @model_validator(mode="after")
    def _check(self) -> _Custom:
        ctx = {"n": 3, "word": "w", "items": [1, 2], "error": "boom"}
        raise PydanticCustomError("my_kind", "custom {n}", ctx)


def _described(model: type[BaseModel], data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    return describe_problems(exc.value)


def test_the_same_line_twice_is_said_once() -> None:
    # both members of x's union say "bad": one line; y's problem after it is still said
    problems = _described(_Fields, {"x": "1", "y": "q"})
    assert [str(p) for p in problems] == [
        "x: bad (got '1')",
        "y: Input should be a valid integer, unable to parse string as an integer (got 'q')",
    ]
    x = problems[0]
    assert (x.path, x.kind) == ("x", "value_error")
    assert dict(x.context) == {
        "loc": ("x", "function-after[_bad(), int]"),
        "tokens": ("x",),
        "message": "bad",
        "input": "1",
    }
    assert x.text("nb") == "«x» (x): har en ugyldig verdi (på engelsk: bad) (fikk «1»)"


def test_the_members_of_a_union_are_not_fields() -> None:
    item, literal = _described(_Fields, {"profile": [1, "x"]})
    assert str(item) == (
        "profile[1]: Input should be a valid number, unable to parse string as a number (got 'x')"
    )
    assert (item.path, item.kind) == ("profile[1]", "float_parsing")
    assert item.context["loc"] == ("profile", "list[float]", 1)
    assert item.context["tokens"] == ("profile", 1)
    assert item.text("nb") == "«profile», nr. 2 (profile[1]): må være et tall (fikk «x»)"
    assert str(literal) == "profile: Input should be 'evening-weighted' or 'flat' (got [1, 'x'])"
    assert (literal.path, literal.kind) == ("profile", "literal_error")
    assert literal.context["tokens"] == ("profile",)
    assert literal.text("nb") == (
        "«profile» (profile): må være én av «evening-weighted» eller «flat» (fikk [1; «x»])"
    )


def test_the_shortest_text_and_list() -> None:
    code, pair = _described(_Fields, {"code": "a", "pair": [1]})
    assert (code.kind, code.context["min_length"]) == ("string_too_short", 2)
    assert str(code) == "code: String should have at least 2 characters (got 'a')"
    assert code.text("nb") == "«code» (code): må ha minst 2 tegn (fikk «a»)"
    assert (pair.kind, pair.context["min_length"], pair.context["actual_length"]) == (
        "too_short",
        2,
        1,
    )
    assert pair.text("nb") == "«pair» (pair): må ha minst 2 verdier, men har 1"


def test_an_empty_name() -> None:
    unit = {"name": "", "base": "oslo_legevakt", "shift": "day"}
    p = _raised(scenario_from_mapping, {"fleet": {"units": [unit]}})
    assert (p.path, p.kind, p.context["min_length"]) == (
        "fleet.units[0].name",
        "string_too_short",
        1,
    )
    _said(
        p,
        "fleet.units[0].name: String should have at least 1 character (got '')",
        "Enheter, nr. 1, navn (fleet.units[0].name): kan ikke være tom",
    )


def test_a_check_of_the_whole_naming_its_field() -> None:
    (p,) = _described(_Whole, {"a": 1})
    assert str(p) == "a: must not be one"
    assert (p.path, p.kind) == ("a", "value_error")
    assert dict(p.context) == {"loc": (), "tokens": ("a",), "message": "must not be one"}
    assert p.text("nb") == "«a» (a): har en ugyldig verdi (på engelsk: must not be one)"


def test_the_context_keeps_plain_values_only() -> None:
    (p,) = _described(_Custom, {})
    assert (p.path, p.kind) == ("", "my_kind")
    assert dict(p.context) == {
        "n": 3,
        "word": "w",
        "loc": (),
        "tokens": (),
        "message": "custom 3",
        "input": {},
    }
    assert str(p) == "(top level): custom 3 (got {})"
    assert (
        p.text("nb") == "Scenarioet: har en ugyldig verdi (feiltype my_kind) (fikk en tom tabell)"
    )


def test_a_situation_that_is_not_a_table() -> None:
    p = _raised(scenario_from_mapping, {"situations": {"mean": 3}})
    assert (p.path, p.kind, p.context["tokens"]) == (
        "situations.mean",
        "model_type",
        ("situations", "mean"),
    )
    _said(
        p,
        "situations.mean: Input should be a valid dictionary or instance of Situation (got 3)",
        "Typer situasjoner, «mean» (situations.mean): må være en tabell (fikk 3)",
    )


def test_a_key_with_control_characters() -> None:
    p = _raised(scenario_from_mapping, {"demand": {"a\nb\\c": 1}})
    assert p.kind == "extra_forbidden"
    assert p.context["tokens"] == ("demand", "a\nb\\c")
    assert p.path == "demand.a\\nb\\c"  # written out, the backslash kept as it is
    assert p.text("nb") == (
        "Etterspørsel (demand.a\\nb\\c): ukjent felt «a\\nb\\c» (sjekk stavemåten; "
        "`planner schema` viser alle feltene)"
    )


def test_the_volume_check_in_full() -> None:
    data = {
        "region": {"kind": "abstract", "population": 50_000_000},
        "demand": {"rate_per_1000_per_year": 1000},
        "run": {"horizon_days": 3650},
    }
    p = _raised(scenario_from_mapping, data)
    assert (p.path, p.kind, p.context["id"]) == ("", "value_error", "too_many_calls")
    assert p.text("nb") == (
        "Om lag 602 000 000 henvendelser ventes i én replikasjon, flere enn de 5 000 000 én "
        "replikasjon kan romme (rate 1 000 per 1 000 innbyggere per år, vekst × 1,2 fra 2023 "
        "til 2026, over 3 650 dager); sett ned en av disse: Krisehenvendelser per 1 000 "
        "innbyggere per år (demand.rate_per_1000_per_year), Årlig vekst i henvendelser "
        "(demand.growth_per_year), År som simuleres (demand.year), Befolkning (abstrakt region) "
        "(region.population), Dager som simuleres (run.horizon_days)"
    )


def test_tokens_and_key() -> None:
    assert scenario_file._tokens(("demand", "year")) == (("demand", "year"), False)
    assert scenario_file._tokens(("police", "patrols", "Oslo", "[key]")) == (
        ("police", "patrols", "Oslo"),
        True,
    )


# -- problems said in bokmål: the fallbacks ---------------------------------------------------


def _nb(path: str, kind: str, context: dict[str, Any], english: str = "the English line") -> str:
    return Problem(path, kind, context, english).text("nb")


def test_a_problem_of_the_whole_scenario_without_a_check_of_its_own() -> None:
    assert _nb("", "missing", {"tokens": ()}) == "Scenarioet: mangler (feltet må fylles ut)"
    # no tokens: named as the scenario, its path in brackets
    assert _nb("demand.year", "missing", {}) == (
        "Scenarioet (demand.year): mangler (feltet må fylles ut)"
    )
    # an id counts only for a value_error: a greater_than is not the volume check
    context = {"id": "too_many_calls", "tokens": (), "gt": 0, "input": 5}
    assert _nb("", "greater_than", context) == "Scenarioet: må være større enn 0 (fikk 5)"


def test_a_check_of_its_own_found_inside_a_table() -> None:
    # found at a location but about no field: named, not said as a sentence of its own
    context = {"id": "weights_zero", "parts": {}, "loc": ("demand",), "tokens": ()}
    assert _nb("", "value_error", context) == "Scenarioet: vektene kan ikke alle være null"
    context = {"id": "weights_zero", "tokens": ("demand", "hour_of_week_profile")}  # no parts
    assert _nb("demand.hour_of_week_profile", "value_error", context) == (
        "Henvendelser per time i uka (demand.hour_of_week_profile): vektene kan ikke alle være null"
    )


def test_a_value_error_not_known_here() -> None:
    context = {"tokens": ("demand", "year"), "message": "odd", "input": 5}
    assert _nb("demand.year", "value_error", context, "demand.year: odd (got 5)") == (
        "År som simuleres (demand.year): har en ugyldig verdi (på engelsk: odd) (fikk 5)"
    )
    # without its message, the English line stands in for it
    assert _nb(
        "demand.year", "value_error", {"tokens": ("demand", "year")}, "demand.year: odd"
    ) == ("År som simuleres (demand.year): har en ugyldig verdi (på engelsk: demand.year: odd)")


def test_choices() -> None:
    context = {"tokens": ("region", "kind"), "expected": "'abstract'", "input": "x"}
    assert _nb("region.kind", "literal_error", context) == (
        "Type region (region.kind): må være «abstract» (fikk «x»)"
    )
    context = {"tokens": ("dispatch", "policy"), "expected": "'a' or 'b'", "input": "c"}
    assert _nb("dispatch.policy", "enum", context) == (
        "Utalarmeringspolicy (dispatch.policy): må være én av «a» eller «b» (fikk «c»)"
    )
    assert scenario_file._choices("'a', 'b' or 'c'") == "én av «a», «b» eller «c»"
    assert scenario_file._choices("anything") == "anything"


def test_choices_missing_from_the_context() -> None:
    # pydantic always gives them; without, the words are left empty, never "None"
    context = {"tokens": ("region", "kind"), "input": "x"}
    assert _nb("region.kind", "literal_error", context) == (
        "Type region (region.kind): må være  (fikk «x»)"
    )
    assert _nb(
        "fleet.mobilisation", "union_tag_invalid", {"tokens": ("fleet", "mobilisation")}
    ) == ("Tid fra alarm til avreise (fleet.mobilisation): ukjent type fordeling «»; velg ")


def test_an_unknown_field_without_a_path() -> None:
    assert _nb("", "extra_forbidden", {"tokens": ()}) == (
        "Scenarioet: ukjent seksjon «» (sjekk stavemåten; `planner schema` viser alle "
        "seksjonene og feltene)"
    )


def test_an_unknown_pattern_falls_back_to_the_unknown_words() -> None:
    context = {"tokens": ("region", "name"), "pattern": "^x$", "input": "Oslo"}
    nb = _nb("region.name", "string_pattern_mismatch", context)
    assert nb.startswith("Region (region.name): ")
    assert TEXTS["patterns"]["unknown"] in nb
    assert nb.endswith(" (fikk «Oslo»)")
    assert "^x$" not in nb


def test_a_placeholder_without_a_value_is_left_as_written() -> None:
    context = {"tokens": ("demand", "year"), "input": 5}
    assert _nb("demand.year", "greater_than", context) == (
        "År som simuleres (demand.year): må være større enn {gt} (fikk 5)"
    )


# -- file problems with parts of their context missing ----------------------------------------


@pytest.mark.parametrize(
    ("kind", "context", "bokmal"),
    [
        ("is_folder", {}, ": er en mappe, ikke en scenariofil"),
        ("cannot_read", {"origin": "f"}, "f: kan ikke leses (på engelsk: )"),
        ("cannot_read", {"origin": "f", "detail": "why"}, "f: kan ikke leses (på engelsk: why)"),
        ("file_too_large", {"origin": "f"}, "f: filen er større enn 1 000 000 byte"),
        ("file_too_large", {"origin": "f", "limit": 1e6}, "f: filen er større enn 1 000 000 byte"),
        ("not_utf8", {"origin": "f"}, "f: ikke UTF-8-tekst (byte  på posisjon 0)"),
        ("not_regular_file", {"origin": "f"}, "f: er ikke en vanlig fil"),
        (
            "not_regular_file",
            {"origin": "f", "what": "a door"},
            "f: er ikke en vanlig fil (a door)",
        ),
        (
            "not_regular_file",
            {"origin": "f", "what": "not a file of bytes"},
            "f: er ikke en vanlig fil (ikke en fil med bytes)",
        ),
        (
            "toml_invalid",
            {"origin": "f", "reason": "digits"},
            "f: ikke gyldig TOML: et heltall har flere enn 0 sifre",
        ),
        (
            "toml_invalid",
            {"origin": "f", "reason": "nested"},
            "f: ikke gyldig TOML: nestet for dypt",
        ),
        ("toml_invalid", {"origin": "f"}, "f: ikke gyldig TOML: feil i TOML (på engelsk: )"),
        (
            "toml_invalid",
            {"origin": "f", "detail": "Invalid value"},
            "f: ikke gyldig TOML: ugyldig verdi",
        ),
        (
            "toml_invalid",
            {"origin": "f", "detail": "Something odd (at line 2, column 3)"},
            "f: ikke gyldig TOML: feil i TOML (på engelsk: Something odd (at line 2, column 3))",
        ),
        (
            "toml_invalid",
            {"origin": "f", "detail": "Expected x\ny"},
            "f: ikke gyldig TOML: venter «x\\ny»",
        ),
        ("text", {}, "the English line"),
    ],
)
def test_file_problems_with_little_context(kind: str, context: dict[str, Any], bokmal: str) -> None:
    assert _nb("", kind, context) == bokmal


def test_toml_keys() -> None:
    assert scenario_file._toml_key("('a', 'b')") == "a.b"
    assert scenario_file._toml_key("('a', \"b c\")") == "a.b c"
    assert scenario_file._toml_key("'a'") == "a"
    assert scenario_file._toml_key("'a')") == "'a')"
    assert scenario_file._toml_key("('a'") == "('a'"


# -- numbers, values and texts the Norwegian way ----------------------------------------------


def test_nb_number() -> None:
    assert nb_number(math.nan) == "NaN"
    assert nb_number(math.inf) == "∞"
    assert nb_number(-math.inf) == "−∞"
    assert nb_number(0) == "0"
    assert nb_number(-1_234_567) == "−1 234 567"
    assert nb_number(123456.0) == "123 456,0"
    assert nb_number(-0.125) == "−0,125"
    assert nb_number(1e16) == "1 × 10¹⁶"
    assert nb_number(-2.5e-10) == "−2,5 × 10⁻¹⁰"
    assert nb_number(1.25e300) == "1,25 × 10³⁰⁰"
    assert nb_number(1234.5678, 2) == "1 234,57"
    assert nb_number(-1234567.891, 1) == "−1 234 567,9"
    assert nb_number(2, 2) == "2,00"


def test_limit() -> None:
    assert scenario_file._limit(True) == "True"
    assert scenario_file._limit("abc") == "abc"
    assert scenario_file._limit(None) == "None"
    assert scenario_file._limit(2.0) == "2"
    assert scenario_file._limit(2.5) == "2,5"
    assert scenario_file._limit(999_999_999_999_999.0) == "999 999 999 999 999"
    assert scenario_file._limit(1e15) == "1 000 000 000 000 000,0"  # no longer made an int
    assert scenario_file._limit(10**70) == "10" + " 000" * 14 + " …"


def test_cut_and_inner_at_sixty() -> None:
    for cut in (scenario_file._cut, scenario_file._inner):
        assert cut("x" * 59) == "x" * 59
        assert cut("x" * 60) == "x" * 60
        assert cut("x" * 61) == "x" * 59 + "…"
        assert cut("x" * 200) == "x" * 59 + "…"
        assert cut("abcdef", 4) == "abc…"
    assert scenario_file._inner("a\nb\tc\x00d\\e") == "a\\nb\\tc\\x00d\\e"
    assert scenario_file._inner("\n" * 31) == "\\n" * 29 + "\\…"  # cut after writing out
    assert scenario_file._cut("\n" * 61) == "\n" * 59 + "…"


def test_short() -> None:
    assert scenario_file._short("x" * 58) == "'" + "x" * 58 + "'"  # 60 characters
    assert scenario_file._short("x" * 59) == "'" + "x" * 56 + "..."  # 61: cut to 60
    assert scenario_file._short([1, 2]) == "[1, 2]"


def test_unrepr() -> None:
    assert scenario_file._unrepr("'Oslo'") == "Oslo"
    assert scenario_file._unrepr('"Oslo"') == "Oslo"
    assert scenario_file._unrepr("''") == ""
    assert scenario_file._unrepr("'") == "'"
    assert scenario_file._unrepr("") == ""
    assert scenario_file._unrepr("ab") == "ab"
    assert scenario_file._unrepr("'abc") == "'abc"
    assert scenario_file._unrepr("XabX") == "XabX"
    assert scenario_file._unrepr("'a\\nb'") == "a\\nb"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (True, "true"),
        (False, "false"),
        (math.nan, "nan"),
        (math.inf, "uendelig"),
        (-math.inf, "−uendelig"),
        (0, "0"),
        (-1.5, "−1,5"),
        (10**70, "10" + " 000" * 14 + " …"),
        ("", "en tom tekst"),
        ("Oslo", "«Oslo»"),
        ("a\tb", "«a\\tb»"),
        (datetime.date(2024, 1, 2), "2024-01-02"),
        (datetime.time(7, 30), "07:30:00"),
        ([], "en tom liste"),
        ([5], "[5]"),
        ((1, 2), "[1; 2]"),
        ([1, "a", True, 2.5], "[1; «a»; true; 2,5]"),
        (list(range(10)), "[0; 1; 2; 3; 4; 5; 6; 7; 8; 9]"),
        (list(range(11)), "en liste med 11 verdier"),
        (list(range(2000)), "en liste med 2 000 verdier"),
        ([[1]], "en liste med 1 verdi"),
        ([[1, 2]], "en liste med 1 verdi"),
        ([[1], [2]], "en liste med 2 verdier"),
        ([None], "en liste med 1 verdi"),
        ({}, "en tom tabell"),
        ({"a": 1}, "en tabell med 1 felt"),
        ({"a": 1, "b": 2}, "en tabell med 2 felt"),
        ({1}, "{1}"),
        (None, "None"),
    ],
)
def test_a_value_in_bokmal(value: Any, said: str) -> None:
    assert scenario_file._value(value) == said


# -- param_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "name"),
    [
        ((), "Scenarioet"),
        (("demand",), "Etterspørsel"),
        (("demand", "year"), "År som simuleres"),
        (("demand.year",), "År som simuleres"),  # a parameter by its whole path
        (("bogus",), "«bogus»"),
        (("bogus", "x"), "«bogus», «x»"),
        (("demand", "mean"), "Etterspørsel, gjennomsnitt"),
        (("situations", "mean"), "Typer situasjoner, «mean»"),  # a situation's key
        (("situations", "psychosis", "share"), "Andel av henvendelsene, situasjon «psychosis»"),
        (
            ("situations", "psychosis", "on_scene", "sd"),
            "Tid på stedet (enhet), situasjon «psychosis», standardavvik",
        ),
        (("situations", "a\nb", "share"), "Andel av henvendelsene, situasjon «a\\nb»"),
        (("fleet", "units", 0, "crew"), "Enheter, nr. 1, mannskap"),
        (("fleet", "units", 11), "Enheter, nr. 12"),
        (("fleet", "shifts", "days", "days"), "Vakter, «days», dager"),  # keyed: a shift's key
        (("fleet", "mobilisation", "mean"), "Tid fra alarm til avreise, gjennomsnitt"),
        (("police", "patrols", "oslo"), "Patruljer på vakt per distrikt, «oslo»"),
    ],
)
def test_param_name(tokens: tuple[str | int, ...], name: str) -> None:
    assert param_name(tokens) == name


# -- what a second reading found: each said wrongly, or in English, before ---------------------


def _templates(node: Any) -> Iterator[str]:
    """Every text of problem_text.toml that is a template (the `match` patterns are not)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            if k != "match" and k not in ("numbers", "quoted", "paths"):
                yield from _templates(v)
    elif isinstance(node, list):
        for v in node:
            yield from _templates(v)


def test_every_template_can_be_filled() -> None:
    """A brace the template does not mean as a placeholder must be doubled: a bare «}» made
    str.format raise, and the problem fell back to English (Unclosed inline table)."""
    import string

    texts = [t for section, v in TEXTS.items() if section != "patterns" for t in _templates(v)]
    assert len(texts) > 100
    for text in texts:
        list(string.Formatter().parse(text))  # raises ValueError on a single brace


@pytest.mark.parametrize(
    ("raw", "detail", "bokmal"),
    [
        (
            b"a = {b = 1",
            "Unclosed inline table (at end of document)",
            "en tabell på én linje er ikke lukket (mangler «}») (på slutten av filen)",
        ),
        (
            b"a = 1 b = 2",
            "Expected newline or end of document after a statement (at line 1, column 7)",
            "venter linjeskift eller slutten av filen etter en verdi (linje 1, kolonne 7)",
        ),
    ],
)
def test_toml_errors_that_fell_back_to_english(raw: bytes, detail: str, bokmal: str) -> None:
    p = _raised(parse_toml, raw, "f.toml")
    _said(p, f"f.toml: not valid TOML: {detail}", f"f.toml: ikke gyldig TOML: {bokmal}")


@pytest.mark.skipif(sys.get_int_max_str_digits() != 4300, reason="Python's default limit only")
def test_an_integer_past_python_s_limit_from_a_mapping() -> None:
    """From a mapping (a TOML file stops at the reader), an int too long to write out: once a
    bare ValueError from repr, now named in both languages."""
    p = _raised(scenario_from_mapping, {"demand": {"year": 10**5000}})
    _said(
        p,
        "demand.year: Input should be less than or equal to 2100 "
        "(got an integer of more than 4,300 digits)",
        "År som simuleres (demand.year): må være høyst 2 100 (fikk 1 × 10⁵⁰⁰⁰)",
    )


@pytest.mark.skipif(sys.get_int_max_str_digits() != 4300, reason="Python's default limit only")
def test_ints_past_the_limit_the_norwegian_way() -> None:
    assert nb_number(10**4300) == "1 × 10⁴³⁰⁰"  # 4,301 digits: one past the limit
    assert nb_number(-3 * 10**4400 + 7) == f"{MINUS}3 × 10⁴⁴⁰⁰"
    assert nb_number(25 * 10**5000) == "2,5 × 10⁵⁰⁰¹"
    assert nb_number(10**4300 - 1) == " ".join(["9" * 1] + ["999"] * 1433)  # 4,300 digits: all


def test_a_name_of_the_wrong_form_in_a_plain_sentence() -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_mapping({"fleet": {"shifts": {"Day X": {"start_hour": 8}}}})
    p = exc.value.details[0]
    assert p.text("nb").startswith(
        "Vakter, «Day X» (fleet.shifts.Day X): navnet kan ha bare små bokstaver a–z, sifre og _"
    )
    unknown = _nb(
        "region.name", "string_pattern_mismatch", {"tokens": ("region", "name"), "pattern": "^x$"}
    )
    assert unknown == (
        "Region (region.name): har ikke en tillatt form: se `planner schema` for hva som er tillatt"
    )


def test_a_union_member_s_label_is_not_part_of_the_path() -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_mapping({"demand": {"hour_of_week_profile": ["a"] + [1] * 167}})
    assert str(exc.value.details[1]) == (
        "demand.hour_of_week_profile[0]: Input should be a valid number, unable to parse string "
        "as a number (got 'a')"
    )  # once "demand.hour_of_week_profile.list[constrained-float][0]"


def test_an_int_key_is_a_key_not_a_list_position() -> None:
    """Only from a mapping (TOML keys are texts): said as the key «1», not as «nr. 2»."""
    with pytest.raises(ScenarioError) as exc:
        scenario_from_mapping({"situations": {1: {"label": "x"}}})
    said = [p.text("nb") for p in exc.value.details]
    assert said[0] == "Typer situasjoner, «1» (situations[1]): navnet må være en tekst (fikk 1)"
    assert (
        "Andel av henvendelsene, situasjon «1» (situations[1].share): mangler (feltet må "
        "fylles ut)" in said
    )
    p = _raised(scenario_from_mapping, {"region": {1: 2}})
    assert (p.kind, p.path) == ("invalid_key", "region.1")
    _said(
        p,
        "region[1]: Keys should be strings (got 1)",
        "Region, «1» (region.1): navnet må være en tekst (fikk 1)",
    )


def test_with_python_s_digit_limit_lifted_every_int_is_written_out() -> None:
    """A limit of 0 is no limit (sys.set_int_max_str_digits): no int is then "too long"."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert nb_number(7) == "7"
        assert nb_number(12345) == "12 345"
        assert nb_number(10**5000) == "100" + " 000" * 1666  # 5,001 digits, in groups of 3
    finally:
        sys.set_int_max_str_digits(before)
