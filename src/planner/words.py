"""Words and numbers the shells and the scenario loader share, with nothing heavy to import.

``number`` (and ``millions``, ``percent``) writes a number the reader's way: the one definition
of it for the report, the dashboard and the loader's bokmål. ``dashboard_words`` is the one read
of ``data/dashboard_text.toml`` (the dashboard's words, the parameters' plain names), which the
dashboard shows and the loader uses to name a field in a problem."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


def number(value: float, lang: str, decimals: int = 0) -> str:
    """1234.5 -> '1,234.5' (en) or '1 234,5' (nb); -3 -> '−3' with the minus sign (U+2212,
    which DejaVu Sans, the report's font, has), as Norwegian typesetting wants it."""
    s = f"{value:,.{decimals}f}"
    if lang == "nb":
        s = s.replace(",", " ").replace(".", ",")
    return s.replace("-", "\N{MINUS SIGN}")


def millions(value: float, lang: str) -> str:
    """NOK 42,400,000 -> '42.4' (en) or '42,4' (nb): millions with one decimal."""
    return number(value / 1e6, lang, 1)


def percent(value: float, lang: str) -> str:
    """0.458 -> '45.8 %' (en) or '45,8 %' (nb): a share in per cent, one decimal."""
    return f"{number(value * 100, lang, 1)} %"


@cache
def dashboard_words() -> dict[str, Any]:
    """The contents of ``data/dashboard_text.toml``, read once."""
    raw = resources.files("planner.data").joinpath("dashboard_text.toml").read_text("utf-8")
    return tomllib.loads(raw)
