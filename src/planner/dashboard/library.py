"""The dashboard's scenario library: what a planner edits survives a reload of the page.

Every version of the scenario being edited is written here under the hash of its content, and
the page's address carries that hash (``?s=…``), so a reload, a bookmark or a link sent to a
colleague on the same machine opens the same scenario. The scenarios a planner keeps for
comparison are listed by name in ``kept.toml``.

The folder is planner's own: ``$PLANNER_LIBRARY`` if set, else
``$XDG_DATA_HOME/planner/library`` (``~/.local/share/planner/library``). Nothing is ever
written outside it, a file is written whole (to a temporary name, then renamed), and a file
named by a content hash is never rewritten with other content. If the folder cannot be written
the dashboard works as before, without surviving a reload, and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from planner.scenario.loading import ScenarioError, parse_toml

_KEY = re.compile(r"[0-9a-f]{16}")
KEPT_FILE = "kept.toml"


def default_folder() -> Path:
    named = os.environ.get("PLANNER_LIBRARY")
    if named:
        return Path(named)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "planner" / "library"


def scenario_key(raw: dict[str, Any]) -> str:
    """The hash of a scenario's overrides (16 hex digits): equal content, equal key."""
    text = json.dumps(raw, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


def is_key(text: str) -> bool:
    return bool(_KEY.fullmatch(text))


@dataclass(frozen=True)
class Library:
    """Scenarios by content hash, and the kept ones by name, in one folder of planner's own."""

    folder: Path

    @classmethod
    def open(cls, folder: Path | None = None) -> Library:
        """The library in ``folder`` (default: ``default_folder()``), created if missing;
        ``OSError`` if it cannot be created or written."""
        lib = cls(folder or default_folder())
        (lib.folder / "scenarios").mkdir(parents=True, exist_ok=True)
        if not os.access(lib.folder / "scenarios", os.W_OK):
            raise PermissionError(f"{lib.folder}: not writable")
        return lib

    def _path(self, key: str) -> Path:
        return self.folder / "scenarios" / f"{key}.toml"

    def save(self, raw: dict[str, Any]) -> str:
        """Write a scenario (if this content is not there yet) and return its key."""
        key = scenario_key(raw)
        path = self._path(key)
        if not path.exists():
            _write_whole(path, tomli_w.dumps(raw))
        return key

    def load(self, key: str) -> dict[str, Any] | None:
        """The scenario saved under ``key``; None if the key is not one, or its file is missing,
        unreadable or not what was saved under that key."""
        if not is_key(key):
            return None
        path = self._path(key)
        try:
            raw = parse_toml(path.read_bytes(), path.name)
        except (OSError, ScenarioError):
            return None
        return raw if scenario_key(raw) == key else None

    def kept(self) -> dict[str, dict[str, Any]]:
        """The kept scenarios by name, in the order they were kept (unreadable ones left out)."""
        try:
            names = tomllib.loads((self.folder / KEPT_FILE).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return {}
        out: dict[str, dict[str, Any]] = {}
        for name, key in names.get("kept", {}).items():
            raw = self.load(key) if isinstance(key, str) else None
            if raw is not None:
                out[name] = raw
        return out

    def keep(self, name: str, raw: dict[str, Any]) -> None:
        """Keep a scenario under a name (replacing what was kept under it before)."""
        kept = {n: scenario_key(r) for n, r in self.kept().items() if n != name}
        kept[name] = self.save(raw)
        _write_whole(self.folder / KEPT_FILE, tomli_w.dumps({"kept": kept}))


def _write_whole(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename: a reader sees all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
