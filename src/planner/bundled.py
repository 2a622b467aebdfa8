"""Folders shipped beside the code: the built geodata and the example scenarios.

An installed wheel carries them inside the package (``planner/_geodata``, ``planner/_simulations``,
see pyproject.toml); a source checkout has them at its top (``geodata/``, ``simulations/``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
"""The top of a source checkout (``src/planner/bundled.py`` is two folders below it)."""


def bundled(name: str) -> Path:
    """The shipped folder ``name`` (``"geodata"`` or ``"simulations"``): inside an installed
    wheel, else in the source checkout."""
    packaged = Path(str(resources.files("planner"))) / f"_{name}"
    if packaged.is_dir():
        return packaged
    return CHECKOUT / name
