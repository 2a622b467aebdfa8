"""The dashboard's words in bokmål and English, kept in ``data/dashboard_text.toml``.

Words live in a data file, not in the pages, so a translator can check both languages side by
side and a missing word fails a test rather than showing a key to a politician.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from planner.kpis import KPI_BY_KEY

LANGS = ("nb", "en")
LANG_NAMES = {"nb": "Norsk (bokmål)", "en": "English"}


@cache
def _raw() -> dict[str, Any]:
    raw = resources.files("planner.data").joinpath("dashboard_text.toml").read_text("utf-8")
    return tomllib.loads(raw)


@dataclass(frozen=True)
class Words:
    """Every word of the dashboard in one language: ``w("run")``, ``w.param("demand.year")``."""

    lang: str

    def __call__(self, key: str, **fields: Any) -> str:
        text = str(_raw()["ui"][self.lang][key])
        return text.format(**fields) if fields else text

    def section(self, name: str) -> str:
        entry = _raw()["sections"].get(name)
        return str(entry[self.lang]) if entry else name

    def param(self, path: str) -> str:
        """A parameter's name in plain words; per-kind situation fields share one entry."""
        params = _raw()["params"]
        parts = path.split(".")
        key = f"situations.{parts[-1]}" if parts[0] == "situations" else path
        entry = params.get(key)
        return str(entry[self.lang]) if entry else parts[-1].replace("_", " ")

    def kpi(self, key: str) -> str:
        if self.lang == "nb" and key in _raw()["kpis"]:
            return str(_raw()["kpis"][key])
        k = KPI_BY_KEY.get(key)
        return k.label if k else {"police_fte": "Police FTE"}.get(key, key)

    def unit(self, unit: str) -> str:
        if self.lang == "nb":
            return str(_raw()["kpi_units"]["nb"].get(unit, unit))
        return unit


def words(lang: str) -> Words:
    return Words(lang if lang in LANGS else "nb")


def ui_keys(lang: str) -> set[str]:
    return set(_raw()["ui"][lang])
