"""Results kept: the DuckDB results store of sweeps (``database``) and results folders on disk,
each one whole run (``files``).

``planner.store.Store`` is imported when first asked for, so that writing a results folder does
not import DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.store.database import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from planner.store.database import Store

        return Store
    raise AttributeError(f"module 'planner.store' has no attribute {name!r}")
