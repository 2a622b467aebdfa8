"""The dashboard's words in bokmål and English, kept in ``data/dashboard_text.toml``.

Words live in a data file, not in the pages, so a translator can check both languages side by
side and a missing word fails a test rather than showing a key to a politician.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.sim.kpis import KPI_BY_KEY, PATROL_KPIS
from planner.words import dashboard_words

if TYPE_CHECKING:
    from planner.scenario.loading import Problem

LANGS = ("nb", "en")
LANG_NAMES = {"nb": "Norsk (bokmål)", "en": "English"}

_ESCAPED = frozenset(string.punctuation)
# where GitHub-flavoured markdown would make a link of plain text (https://…, www.…, a@b.c):
# it finds them after escapes are undone, so an invisible WORD JOINER is put in their way
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=[wW]{3})(?=\.)|(?=@)")
JOINER = "\u2060"


def plain(value: object) -> str:
    """User text (a scenario's name, a file's name, a problem quoting a value) made safe to put
    in anything Streamlit draws as markdown: shown as the characters typed, never as a link, an
    image, HTML, a heading, emphasis, colour, maths or an icon.

    Every ASCII punctuation character gets a backslash, which CommonMark allows for all of them,
    so ``<``, ``&``, ``!``, ``[``, ``:``, ``$`` and the rest are drawn as themselves; a line break
    or other control character is written out (``\\n``), as the command line shows it, so the
    text stays on its line and cannot start a block of its own; and a web or mail address gets a
    zero-width word joiner (after ``:``, before ``.`` of ``www.``, before ``@``) so that it is not
    turned into a link.
    """
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    text = _AUTOLINK.sub(JOINER, text)
    return "".join("\\" + c if c in _ESCAPED else c for c in text)


def _raw() -> dict[str, Any]:
    return dashboard_words()


_SOURCE_WORDS = {"estimate": "anslag", "user": "brukervalg", "modelling choice": "modellvalg"}
"""How a source begins in the defaults, in bokmål."""


@dataclass(frozen=True)
class Words:
    """Every word of the dashboard in one language: ``w("run")``, ``w.param("demand.year")``."""

    lang: str

    def __call__(self, key: str, **fields: Any) -> str:
        text = str(_raw()["ui"][self.lang][key])
        return text.format(**fields) if fields else text

    def problem(self, p: Problem) -> str:
        """A scenario's problem in this language, safe for markdown (``plain``)."""
        return plain(p.text(self.lang))

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

    def patrol_kpi(self, base: str) -> str:
        """A police district's KPI (``kpis.PATROL_KPIS``) in this language."""
        if self.lang == "nb" and base in _raw()["patrol_kpis"]:
            return str(_raw()["patrol_kpis"][base])
        label = PATROL_KPIS[base][0] if base in PATROL_KPIS else base
        return label[:1].upper() + label[1:]

    def kpi(self, key: str) -> str:
        if self.lang == "nb" and key in _raw()["kpis"]:
            return str(_raw()["kpis"][key])
        k = KPI_BY_KEY.get(key)
        return k.label if k else {"police_fte": "Police FTE"}.get(key, key)

    def unit(self, unit: str) -> str:
        if self.lang == "nb":
            return str(_raw()["kpi_units"]["nb"].get(unit, unit))
        return unit

    def param_source(self, source: str) -> str:
        """A parameter's source in the reader's language: a leading "estimate", "user" or
        "modelling choice" in bokmål; the rest is a citation, kept as written."""
        if self.lang == "nb":
            for en, nb in _SOURCE_WORDS.items():
                if source == en or source.startswith((f"{en}:", f"{en};", f"{en} ")):
                    return nb + source[len(en) :]
        return source

    def param_unit(self, unit: str) -> str:
        """A parameter's unit in the reader's language (as the defaults give it if unknown)."""
        if self.lang == "nb":
            return str(_raw()["param_units"]["nb"].get(unit, unit))
        return unit


def words(lang: str) -> Words:
    return Words(lang if lang in LANGS else "nb")


def ui_keys(lang: str) -> set[str]:
    return set(_raw()["ui"][lang])
