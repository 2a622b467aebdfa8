"""Shared fixtures: running the CLI in-process, fuzzing it (with a tally printed at the end of
the run), and locating the raw sources in ../shared."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SOURCES = ROOT.parent / "shared" / "geodata-sources"


@pytest.fixture(scope="session", autouse=True)
def _scenario_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The dashboard's scenario library in a folder of the test run's, never the user's own."""
    import os

    folder = tmp_path_factory.mktemp("scenario-library")
    before = os.environ.get("PLANNER_LIBRARY")
    os.environ["PLANNER_LIBRARY"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("PLANNER_LIBRARY", None)
    else:
        os.environ["PLANNER_LIBRARY"] = before


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Run ``planner ARGS`` through the real entry point (error handling included)."""
    from planner.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["planner", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shared_sources() -> Path:
    if not (SHARED_SOURCES / "kommuner-2024.geojson").is_file():
        pytest.skip("raw geodata sources (../shared/geodata-sources) are not beside this checkout")
    return SHARED_SOURCES


# -- fuzzing -----------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass
class FuzzTally:
    """Generated cases run by the fuzz tests of this session, and tracebacks seen among them."""

    cases: int = 0
    tracebacks: int = 0
    by_test: dict[str, int] = field(default_factory=dict)


FUZZ = FuzzTally()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FUZZ.cases:
        terminalreporter.write_line(
            f"fuzzing: {FUZZ.cases:,} generated cases, {FUZZ.tracebacks:,} tracebacks "
            f"({', '.join(f'{n:,} {t}' for t, n in FUZZ.by_test.items())})"
        )


@pytest.fixture
def fuzz(request: pytest.FixtureRequest) -> Callable[..., int]:
    """Run ``check_one`` on ``examples`` cases drawn from ``cases`` by hypothesis (derandomized,
    so CI is reproducible; no deadline: a case may simulate), counting them in the session's
    tally.

    A case whose check raises anything but an AssertionError (an exception escaping the CLI),
    or an AssertionError saying "Traceback", counts as a traceback."""
    from hypothesis import HealthCheck, given, settings

    def run(cases: Any, examples: int, check_one: Callable[[T], None]) -> int:
        """``cases`` a hypothesis strategy, or a list: every one of its cases, in order."""
        tried = 0
        name = request.node.name.removeprefix("test_")

        def counted(case: T) -> None:
            nonlocal tried
            tried += 1
            FUZZ.cases += 1
            FUZZ.by_test[name] = FUZZ.by_test.get(name, 0) + 1
            try:
                check_one(case)
            except AssertionError as exc:
                FUZZ.tracebacks += "Traceback" in str(exc)
                raise
            except BaseException:
                FUZZ.tracebacks += 1
                raise

        if isinstance(cases, list):
            for case in cases[:examples]:
                counted(case)
            return tried

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(cases)
        def one(case: T) -> None:
            counted(case)

        one()
        return tried

    return run


@pytest.fixture
def fast_cli(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """``cli``, with the click command Typer builds from the app on every call (some 30 ms)
    built once: the same entry point and error handling, for the thousands of fuzz cases."""
    import typer.main

    built: dict[int, Any] = {}
    original = typer.main.get_command

    def get_command(typer_instance: Any) -> Any:
        key = id(typer_instance)
        if key not in built:
            built[key] = original(typer_instance)
        return built[key]

    monkeypatch.setattr(typer.main, "get_command", get_command)
    return cli
