"""Shared fixtures: running the CLI in-process, and locating the raw sources in ../shared."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SOURCES = ROOT.parent / "shared" / "geodata-sources"


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
