"""Which planner made a result: its version (written on reports and stored with every swept
replication) and a digest of the model's own code and data (part of every scenario hash, so a
change to the engine can never leave old replications in use)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

__version__ = "0.1.0"
"""planner's version: the one place it is written (pyproject.toml reads it from here)."""

MODEL = ("scenario", "geo", "sim", "optimise", "economics")
"""The subpackages that are the model: scenario in, results out. The others (``cli``,
``dashboard``, ``report``, ``store``, ``sweep``) present or store results but do not change them."""
SHELLS = frozenset({"__main__.py", "version.py"})
"""Top-level modules that are not part of the model (``__init__.py`` and ``words.py`` are)."""
WORDS = frozenset({"dashboard_text.toml", "report_text.toml", "report.html.j2", "__init__.py"})
"""Files of planner/data that hold words and layout, not figures; the rest are the model's."""


def planner_version() -> str:
    """This planner's version, as written above (installed or not)."""
    return __version__


def model_files(package: Path) -> list[Path]:
    """The model's source and data files in a package folder, in a stable order."""
    sources = [p for p in package.glob("*.py") if p.name not in SHELLS]
    sources += [p for room in MODEL for p in (package / room).rglob("*.py")]
    data = [p for p in (package / "data").iterdir() if p.is_file() and p.name not in WORDS]
    return sorted(sources + data, key=lambda p: p.relative_to(package).as_posix())


def digest_of(package: Path) -> str:
    """sha256 over the names and contents of ``model_files(package)``."""
    h = hashlib.sha256()
    for path in model_files(package):
        name = path.relative_to(package).as_posix()
        h.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\0".encode())
    return h.hexdigest()


@cache
def model_digest() -> str:
    """The digest of the installed model (``digest_of`` the planner package itself)."""
    return digest_of(Path(str(resources.files("planner"))))
